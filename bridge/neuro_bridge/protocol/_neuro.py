"""The Neuro side: what Neuro (the stand-in, a proxy) does with a game's frames.

The events one game frame becomes, the parser that reads them
(:func:`parse_game_message`, :func:`read_game_frame`), the ``check_*`` functions
that say whether a game's request is one Neuro accepts (the game side checks its
own requests with them before it sends), and :class:`NeuroCommands`, which builds
Neuro's frames.  Import the public names from :mod:`neuro_bridge.protocol`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, Union

import attrs

from neuro_bridge import schema as _schema
from neuro_bridge.protocol._wire import (
    ACTION_KEYS,
    GAME_COMMANDS,
    GAME_ENVELOPE_KEYS,
    GAME_KINDS,
    Action,
    ForcePriority,
    GameCommandKind,
    LocalProtocolError,
    NeuroCommandKind,
    check_action_name,
    check_bool,
    check_game_title,
    check_names_given,
    check_not_blank,
    check_priority,
    check_str,
    check_text,
    dumps,
    loads,
    needs_failure_message,
)

# ---------------------------------------------------------------- game -> Neuro events


class ProblemKind(str, enum.Enum):
    """A rule one game frame breaks on its own (no session state needed).

    The values are the rule ids the stand-in Neuro reports
    (:mod:`neuro_bridge.conformance`).  Rules that need the session's state -- the
    force in flight, who registered what, which ids await a result -- are checked
    by whoever keeps that state.
    """

    #: A binary frame (the real Neuro takes text frames only).
    BINARY_FRAME = "binary-frame"
    #: Not JSON.
    INVALID_JSON = "invalid-json"
    #: Not an object, or no string ``command``, or no non-empty ``game``.
    ENVELOPE = "envelope"
    #: A command the specification does not define.
    UNKNOWN_COMMAND = "unknown-command"
    #: A key the specification does not define.
    UNKNOWN_KEY = "unknown-key"
    #: ``data`` on a command that has none.
    UNEXPECTED_DATA = "unexpected-data"
    #: ``data`` without a required field, or a field of the wrong type.
    COMMAND_DATA = "command-data"
    #: An action name outside ``[a-z0-9_-]+``.
    ACTION_NAME = "action-name"
    #: An action schema that is not a JSON object schema.
    SCHEMA_NOT_OBJECT = "schema-not-object"
    #: ``"schema": null``.
    SCHEMA_NULL = "schema-null"
    #: A schema keyword Neuro does not support well.  Advice, not a violation.
    SCHEMA_UNSUPPORTED_KEYWORD = "schema-unsupported-keyword"
    #: One name twice in one ``actions/register``.
    DUPLICATE_REGISTRATION = "duplicate-registration"
    #: ``success: false`` without a message.
    RESULT_NO_MESSAGE = "result-no-message"

    @property
    def advice(self) -> bool:
        """Whether this is advice (worth reporting) rather than a broken rule."""
        return self is ProblemKind.SCHEMA_UNSUPPORTED_KEYWORD


@attrs.frozen(kw_only=True)
class Problem:
    """One rule a game frame broke, with the values involved."""

    kind: ProblemKind
    message: str


@attrs.frozen
class ActionDefinition:
    """An action as a game registered it, even when it breaks the rules.

    Unlike :class:`~neuro_bridge.protocol.Action` it checks nothing:
    :func:`~neuro_bridge.protocol.parse_game_message` records what arrived (a name
    with capitals, a schema that is not an object) and lists what is wrong as
    :class:`~neuro_bridge.protocol.Problem` objects.  ``schema`` is ``None`` when
    absent (or null).
    """

    name: str
    description: str
    schema: Any = None


@attrs.frozen(kw_only=True)
class GameStarted:
    """``startup`` from a game: Neuro forgets its actions (and the force in flight)."""

    game: str | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class ContextSent:
    """``context``: the game tells Neuro what is happening."""

    message: str
    silent: bool
    game: str | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class ActionsRegistered:
    """``actions/register``: the definitions that could be read, in order."""

    actions: tuple[ActionDefinition, ...]
    game: str | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class ActionsUnregistered:
    """``actions/unregister``."""

    action_names: tuple[str, ...]
    game: str | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class ActionsForced:
    """``actions/force``; also what :func:`check_force` returns.

    Attributes:
        query: What Neuro should do.
        action_names: The actions she may choose from, in the game's order.
        state: The state text, or ``None``.
        ephemeral_context: Whether Neuro forgets *state* and *query* afterwards.
        priority: The priority (``LOW`` when omitted, or when it was invalid).
    """

    query: str
    action_names: tuple[str, ...]
    state: str | None = None
    ephemeral_context: bool = False
    priority: ForcePriority = ForcePriority.LOW
    game: str | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class ActionResultSent:
    """``action/result``: the game's answer to the action with this id."""

    id: str
    success: bool
    message: str | None = None
    game: str | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class ShutdownReadySent:
    """``shutdown/ready``: the game has saved and may be closed."""

    game: str | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class UnknownGameCommand:
    """A command the specification does not define (one ``UNKNOWN_COMMAND`` problem)."""

    command: str
    data: Any = None
    game: str | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class MalformedGameMessage:
    """A game frame too broken to act on; *problems* say why.

    Attributes:
        reason: The first decisive problem, in words.
        frame: The frame's text.
        command: The ``command`` field, when it was a str.
    """

    reason: str
    frame: str
    command: str | None = None
    game: str | None = None
    problems: tuple[Problem, ...] = ()


#: What :func:`parse_game_message` returns: one event per game frame.
GameEvent = Union[
    GameStarted,
    ContextSent,
    ActionsRegistered,
    ActionsUnregistered,
    ActionsForced,
    ActionResultSent,
    ShutdownReadySent,
    UnknownGameCommand,
    MalformedGameMessage,
]


@attrs.frozen(kw_only=True)
class GameFrame:
    """One game frame, decoded as far as it could be, and its event.

    Attributes:
        event: What the frame means (see :func:`parse_game_message`).
        text: The frame's text (a binary frame decoded as UTF-8, with replacement).
        binary: Whether it came as a binary frame.
        command: The ``command`` field when it was a str, else ``None``.
        data: The ``data`` field as sent (``None`` when absent or unreadable).
    """

    event: GameEvent
    text: str
    binary: bool = False
    command: str | None = None
    data: Any = None


# ---------------------------------------------------------------- checks of a game's requests

_FAILURE_NEEDS_MESSAGE = "a failed action result needs a message for Neuro"


def check_action_names(names: object, what: str = "action_names") -> list[str]:
    """Return *names* as a list if it is a non-empty sequence of valid action names.

    Args:
        names: Any iterable of names (not a single str).
        what: How the error message calls the argument.

    Raises:
        LocalProtocolError: For a str, a non-iterable, an empty sequence or an
            invalid name.
    """
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise LocalProtocolError(f"{what} must be a sequence of action names, not {names!r}")
    checked = [check_action_name(name) for name in names]
    check_names_given(checked, what)
    return checked


def check_context(message: object, silent: object) -> None:
    """Check the values of a ``context``: a str *message* (not blank), a bool *silent*.

    Raises:
        LocalProtocolError: If either has the wrong type, or *message* is blank.
    """
    check_text(message, "context message")
    check_bool(silent, "silent")


def check_actions(actions: object) -> list[Action]:
    """Return *actions* as a list if they may go in one ``actions/register``.

    Raises:
        LocalProtocolError: For a single :class:`Action` or a non-iterable, an
            empty batch, an item that is not an :class:`Action`, or a name twice.
    """
    if isinstance(actions, Action) or not isinstance(actions, Iterable):
        raise LocalProtocolError(f"actions/register needs a sequence of actions, not {actions!r}")
    batch = list(actions)  # an iterator would be used up by the checks below
    if not batch:
        raise LocalProtocolError("actions/register needs at least one action")
    seen: set[str] = set()
    for action in batch:
        if not isinstance(action, Action):
            raise LocalProtocolError(f"expected an Action, got {action!r}")
        if action.name in seen:
            raise LocalProtocolError(f"action {action.name!r} appears twice in one batch")
        seen.add(action.name)
    return batch


def check_force(
    *,
    query: object,
    action_names: object,
    state: object = None,
    ephemeral_context: object = False,
    priority: object = ForcePriority.LOW,
) -> ActionsForced:
    """Check the values of an ``actions/force``; return them as one event.

    The arguments are those of :meth:`GameCommands.force_actions`; *priority*
    may be a :class:`ForcePriority` or its string value.

    Raises:
        LocalProtocolError: For any value the specification does not allow, and
            for a blank *query*.
    """
    checked_query = check_text(query, "query")
    names = check_action_names(action_names)
    ephemeral = check_bool(ephemeral_context, "ephemeral_context")
    checked_state = None if state is None else check_str(state, "state")
    level = check_priority(priority)
    return ActionsForced(
        query=checked_query,
        action_names=tuple(names),
        state=checked_state,
        ephemeral_context=ephemeral,
        priority=level,
    )


def check_result(action_id: object, success: object, message: object = None) -> None:
    """Check the values of an ``action/result``.

    Raises:
        LocalProtocolError: For a non-str id or message, a non-bool *success*, or
            a failure without a message, or with a blank one (Neuro retries a
            failed force and should know why).
    """
    check_str(action_id, "action id")
    succeeded = check_bool(success, "success")
    text = None if message is None else check_str(message, "result message")
    if needs_failure_message(succeeded, text):
        raise LocalProtocolError(_FAILURE_NEEDS_MESSAGE)


# ---------------------------------------------------------------- reading game frames


def parse_game_message(frame: str | bytes | bytearray | memoryview) -> GameEvent:
    """Turn one frame from a game into an event; what Neuro, or a proxy, reads.

    Never raises for bad input, and returns exactly one event.  Everything the
    frame breaks on its own is listed in the event's ``problems`` (see
    :class:`ProblemKind`); a frame that still means something (a registration with
    one bad action, a force with an unknown priority) gives its event, one that
    does not gives :class:`MalformedGameMessage`.  Rules that need the session's
    state (a second force in flight, a result for an unknown id) are not checked
    here.
    """
    return read_game_frame(frame).event


def read_game_frame(frame: str | bytes | bytearray | memoryview) -> GameFrame:
    """Like :func:`parse_game_message`, also returning the frame's decoded fields."""
    problems: list[Problem] = []
    binary = not isinstance(frame, str)
    if isinstance(frame, str):
        text = frame
    else:
        text = bytes(frame).decode("utf-8", errors="replace")
        problems.append(
            Problem(kind=ProblemKind.BINARY_FRAME, message=f"binary frame of {len(frame)} bytes")
        )

    def malformed(
        kind: ProblemKind, reason: str, command: str | None = None, game: str | None = None
    ) -> MalformedGameMessage:
        problems.append(Problem(kind=kind, message=reason))
        return MalformedGameMessage(
            reason=reason, frame=text, command=command, game=game, problems=tuple(problems)
        )

    try:
        message = loads(text)
    except ValueError as exc:
        bad = malformed(ProblemKind.INVALID_JSON, f"frame is not JSON ({exc}): {text[:80]!r}")
        return GameFrame(event=bad, text=text, binary=binary)
    except RecursionError:
        bad = malformed(ProblemKind.INVALID_JSON, "frame is not JSON: nested too deeply")
        return GameFrame(event=bad, text=text, binary=binary)
    if not isinstance(message, dict):
        bad = malformed(
            ProblemKind.ENVELOPE, f"a message must be a JSON object, not {type(message).__name__}"
        )
        return GameFrame(event=bad, text=text, binary=binary)
    command = message.get("command")
    game = message.get("game")
    data = message.get("data")
    if not isinstance(command, str):
        problems.append(
            Problem(
                kind=ProblemKind.ENVELOPE, message=f'missing or non-string "command": {command!r}'
            )
        )
        command = None
    try:
        game = check_game_title(game)
    except LocalProtocolError as exc:
        problems.append(Problem(kind=ProblemKind.ENVELOPE, message=f"{command!r}: {exc}"))
        game = None
    extra = sorted(message.keys() - GAME_ENVELOPE_KEYS)
    if extra:
        problems.append(
            Problem(
                kind=ProblemKind.UNKNOWN_KEY,
                message=f"unknown top-level keys {extra} in {command!r}",
            )
        )
    if command is None:
        event: GameEvent = MalformedGameMessage(
            reason='missing or non-string "command"',
            frame=text,
            game=game,
            problems=tuple(problems),
        )
    else:
        event = _parse_game_command(command, game, message, data, text, problems)
    return GameFrame(event=event, text=text, binary=binary, command=command, data=data)


def _parse_game_command(
    command: str,
    game: str | None,
    message: dict[str, Any],
    data: Any,
    text: str,
    problems: list[Problem],
) -> GameEvent:
    def problem(kind: ProblemKind, text: str) -> None:
        problems.append(Problem(kind=kind, message=text))

    def malformed(reason: str) -> MalformedGameMessage:
        return MalformedGameMessage(
            reason=reason, frame=text, command=command, game=game, problems=tuple(problems)
        )

    kind = GAME_KINDS.get(command)
    if kind is None:
        problem(ProblemKind.UNKNOWN_COMMAND, f"unknown command {command!r}")
        return UnknownGameCommand(command=command, data=data, game=game, problems=tuple(problems))
    spec = GAME_COMMANDS[kind]
    if not spec.has_data:
        if "data" in message:
            problem(ProblemKind.UNEXPECTED_DATA, f'{command} carries "data": {data!r}')
        if kind is GameCommandKind.STARTUP:
            return GameStarted(game=game, problems=tuple(problems))
        return ShutdownReadySent(game=game, problems=tuple(problems))
    if not isinstance(data, dict):
        reason = f'{command} needs an object "data", got {data!r}'
        problem(ProblemKind.COMMAND_DATA, reason)
        return malformed(reason)
    extra = sorted(data.keys() - spec.keys)
    if extra:
        problem(ProblemKind.UNKNOWN_KEY, f"unknown keys {extra} in {command} data")
    start = len(problems)
    if kind is GameCommandKind.CONTEXT:
        context = _field(problem, command, check_str, data.get("message"), "context message")
        _not_blank(problem, command, context, "context message")
        silent = _field(problem, command, check_bool, data.get("silent"), "silent")
        if context is None or silent is None:
            return malformed(problems[start].message)
        return ContextSent(message=context, silent=silent, game=game, problems=tuple(problems))
    if kind is GameCommandKind.REGISTER:
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions:
            reason = f'actions/register needs a non-empty "actions" list: {actions!r}'
            problem(ProblemKind.COMMAND_DATA, reason)
            return malformed(reason)
        definitions: list[ActionDefinition] = []
        seen: set[str] = set()
        for item in actions:
            definition = _read_action_definition(item, problem)
            if definition is None:
                continue
            if definition.name in seen:
                problem(
                    ProblemKind.DUPLICATE_REGISTRATION,
                    f"action {definition.name!r} appears twice in one batch",
                )
                continue
            seen.add(definition.name)
            definitions.append(definition)
        return ActionsRegistered(actions=tuple(definitions), game=game, problems=tuple(problems))
    if kind is GameCommandKind.UNREGISTER:
        names = _read_names(data, command, problem)
        if names is None:
            return malformed(problems[start].message)
        return ActionsUnregistered(action_names=names, game=game, problems=tuple(problems))
    if kind is GameCommandKind.FORCE:
        return _read_force(data, game, problem, problems, malformed)
    return _read_result(data, game, problem, problems, malformed)


_T = TypeVar("_T")


def _field(
    problem: Callable[[ProblemKind, str], None],
    where: str,
    rule: Callable[[object, str], _T],
    value: object,
    what: str,
) -> _T | None:
    """Apply the field *rule* to *value*; if it breaks it, record the problem, give None."""
    try:
        return rule(value, what)
    except LocalProtocolError as exc:
        problem(ProblemKind.COMMAND_DATA, f"{where}: {exc}")
        return None


def _not_blank(
    problem: Callable[[ProblemKind, str], None], where: str, text: str | None, what: str
) -> None:
    """Record a blank *text* as a problem; the frame still means something."""
    if text is not None:
        try:
            check_not_blank(text, what)
        except LocalProtocolError as exc:
            problem(ProblemKind.COMMAND_DATA, f"{where}: {exc}")


def _read_action_definition(
    item: object, problem: Callable[[ProblemKind, str], None]
) -> ActionDefinition | None:
    if not isinstance(item, dict):
        problem(ProblemKind.COMMAND_DATA, f"an action must be an object, not {item!r}")
        return None
    name = item.get("name")
    try:
        check_action_name(name)
    except LocalProtocolError as exc:
        problem(ProblemKind.ACTION_NAME, str(exc))
    if not isinstance(name, str):
        return None
    description = _field(
        problem, f"action {name!r}", check_str, item.get("description"), "description"
    )
    if description is None:
        description = ""
    else:
        _not_blank(problem, f"action {name!r}", description, "description")
    extra = sorted(item.keys() - ACTION_KEYS)
    if extra:
        problem(ProblemKind.UNKNOWN_KEY, f"unknown keys {extra} in action {name!r}")
    schema = item.get("schema")
    if "schema" in item and schema is None:
        problem(ProblemKind.SCHEMA_NULL, f'action {name!r} has "schema": null')
    elif schema is not None:
        try:
            unsupported = _schema.check_action_schema(schema)
        except _schema.InvalidSchemaError as exc:
            problem(ProblemKind.SCHEMA_NOT_OBJECT, f"action {name!r}: {exc}")
        else:
            if unsupported:
                problem(
                    ProblemKind.SCHEMA_UNSUPPORTED_KEYWORD,
                    f"action {name!r} uses {', '.join(unsupported)}",
                )
    return ActionDefinition(name, description, schema)


def _read_names(
    data: dict[str, Any], command: str, problem: Callable[[ProblemKind, str], None]
) -> tuple[str, ...] | None:
    names = data.get("action_names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        problem(
            ProblemKind.COMMAND_DATA,
            f'{command} needs an "action_names" list of strings: {names!r}',
        )
        return None
    for name in names:
        try:
            check_action_name(name)
        except LocalProtocolError as exc:
            problem(ProblemKind.ACTION_NAME, f"{command}: {exc}")
    return tuple(names)


def _read_force(
    data: dict[str, Any],
    game: str | None,
    problem: Callable[[ProblemKind, str], None],
    problems: list[Problem],
    malformed: Callable[[str], MalformedGameMessage],
) -> GameEvent:
    command = GameCommandKind.FORCE.value
    start = len(problems)
    names = _read_names(data, command, problem)
    if names is not None:
        try:
            check_names_given(names, "action_names")
        except LocalProtocolError as exc:
            problem(ProblemKind.COMMAND_DATA, f"{command}: {exc}")
            names = None
    query = _field(problem, command, check_str, data.get("query"), "query")
    _not_blank(problem, command, query, "query")
    state = data.get("state")
    if state is not None:
        state = _field(problem, command, check_str, state, "state")
    ephemeral = _field(
        problem, command, check_bool, data.get("ephemeral_context", False), "ephemeral_context"
    )
    priority = _field(
        problem, command, check_priority, data.get("priority", ForcePriority.LOW), "priority"
    )
    if names is None or query is None:
        return malformed(problems[start].message)
    return ActionsForced(
        query=query,
        action_names=names,
        state=state,
        ephemeral_context=bool(ephemeral),
        priority=priority or ForcePriority.LOW,
        game=game,
        problems=tuple(problems),
    )


def _read_result(
    data: dict[str, Any],
    game: str | None,
    problem: Callable[[ProblemKind, str], None],
    problems: list[Problem],
    malformed: Callable[[str], MalformedGameMessage],
) -> GameEvent:
    command = GameCommandKind.RESULT.value
    start = len(problems)
    action_id = _field(problem, command, check_str, data.get("id"), "action id")
    success = _field(problem, command, check_bool, data.get("success"), "success")
    message = data.get("message")
    if message is not None:
        message = _field(problem, command, check_str, message, "result message")
    if action_id is None or success is None:
        return malformed(problems[start].message)
    if needs_failure_message(success, message):
        problem(ProblemKind.RESULT_NO_MESSAGE, f"result for {action_id!r} failed without a message")
    return ActionResultSent(
        id=action_id, success=success, message=message, game=game, problems=tuple(problems)
    )


# ---------------------------------------------------------------- Neuro side


class NeuroCommands:
    """Builds the frames Neuro sends.  Used by the stand-in Neuro and in tests."""

    @staticmethod
    def action(action_id: str, name: str, data: str | None = None) -> str:
        """Build ``action``; *data* is the JSON-encoded string Neuro sends (or none)."""
        payload: dict[str, Any] = {"id": action_id, "name": name}
        if data is not None:
            payload["data"] = data
        return dumps({"command": NeuroCommandKind.ACTION.value, "data": payload})

    @staticmethod
    def reregister_all() -> str:
        """``actions/reregister_all``."""
        return dumps({"command": NeuroCommandKind.REREGISTER_ALL.value})

    @staticmethod
    def shutdown_graceful(wants_shutdown: bool) -> str:
        """``shutdown/graceful``."""
        return dumps(
            {
                "command": NeuroCommandKind.SHUTDOWN_GRACEFUL.value,
                "data": {"wants_shutdown": wants_shutdown},
            }
        )

    @staticmethod
    def shutdown_immediate() -> str:
        """``shutdown/immediate``."""
        return dumps({"command": NeuroCommandKind.SHUTDOWN_IMMEDIATE.value})

    @staticmethod
    def startup_acknowledgement(session_id: str, character_id: str, display_name: str) -> str:
        """``startup`` sent by Neuro after the game's own ``startup``."""
        session = {
            "sessionId": session_id,
            "characterId": character_id,
            "displayName": display_name,
        }
        return dumps({"command": NeuroCommandKind.STARTUP.value, "data": {"session": session}})

    @staticmethod
    def speech_finished(
        is_final: bool, cancelled: bool | None = None, reason: str | None = None
    ) -> str:
        """``speech_finished``."""
        data: dict[str, Any] = {"isFinal": is_final}
        if cancelled is not None:
            data["cancelled"] = cancelled
        if reason is not None:
            data["reason"] = reason
        return dumps({"command": NeuroCommandKind.SPEECH_FINISHED.value, "data": data})
