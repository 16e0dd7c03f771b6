"""The Neuro game API as data: message builders and parsers, with no I/O.

This module is the sans-IO core of neuro-bridge (in the manner of h11 and
wsproto).  It knows the shape of every message both ways and nothing about
sockets, trio or engines:

* The wire vocabulary, once: :class:`GameCommandKind` and :class:`NeuroCommandKind`
  name every command, and :data:`GAME_COMMANDS` / :data:`NEURO_COMMANDS` give each
  its required and optional ``data`` keys (:class:`CommandSpec`).  Nothing else in
  neuro-bridge lists commands or keys.
* :class:`Action` describes an action a game registers.
* ``check_*`` functions (:func:`check_context`, :func:`check_actions`,
  :func:`check_action_names`, :func:`check_force`, :func:`check_result`) validate
  the values of a game -> Neuro request without building a frame.
* :class:`GameCommands` builds every game -> Neuro frame for one game title,
  refusing anything the specification does not allow (:class:`LocalProtocolError`).
* :func:`parse_neuro_message` turns a frame from Neuro into one event object.  It
  never raises on bad input: garbage becomes :class:`MalformedMessage` (or
  :class:`InvalidActionMessage` when the frame was an ``action`` whose id can be
  answered), unknown commands become :class:`UnknownCommand`, unknown keys are
  logged and ignored.
* :func:`parse_game_message` does the same for a frame from a game (what Neuro, the
  stand-in Neuro or a proxy receives): one :data:`GameEvent` per frame, never an
  exception, and every rule the frame breaks on its own listed as a
  :class:`Problem` on the event.
* :class:`NeuroCommands` builds the Neuro -> game frames; the stand-in Neuro server
  and the tests use it.

Every frame is one JSON object in one websocket text frame.
"""

from __future__ import annotations

import enum
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Union

import attrs

from neuro_bridge import schema as _schema

__all__ = [
    "ACTION_KEYS",
    "ACTION_REQUIRED_KEYS",
    "GAME_COMMANDS",
    "GAME_ENVELOPE_KEYS",
    "NEURO_COMMANDS",
    "NEURO_ENVELOPE_KEYS",
    "SESSION_KEYS",
    "Action",
    "ActionDefinition",
    "ActionRequested",
    "ActionResultSent",
    "ActionsForced",
    "ActionsRegistered",
    "ActionsUnregistered",
    "CommandSpec",
    "ContextSent",
    "ForcePriority",
    "GameCommandKind",
    "GameCommands",
    "GameEvent",
    "GameFrame",
    "GameStarted",
    "GracefulShutdownRequested",
    "ImmediateShutdownRequested",
    "InvalidActionMessage",
    "LocalProtocolError",
    "MalformedGameMessage",
    "MalformedMessage",
    "NeuroCommandKind",
    "NeuroCommands",
    "NeuroEvent",
    "Problem",
    "ProblemKind",
    "ProtocolError",
    "RemoteProtocolError",
    "ReregisterAllRequested",
    "ShutdownReadySent",
    "SpeechFinished",
    "StartupAcknowledged",
    "UnknownCommand",
    "UnknownGameCommand",
    "check_action_name",
    "check_action_names",
    "check_actions",
    "check_context",
    "check_force",
    "check_result",
    "parse_game_message",
    "parse_neuro_message",
    "read_game_frame",
]

logger = logging.getLogger(__name__)

_ACTION_NAME = re.compile(r"[a-z0-9_-]+")


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_ENCODE_ASCII = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode
_DECODER = json.JSONDecoder()


def _utf8_safe(text: str, value: object) -> str:
    # A lone surrogate (e.g. an id Neuro sent as "\ud800") cannot be sent in a text
    # frame; escaping everything keeps the same JSON value and makes it sendable.
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _ENCODE_ASCII(value)
    return text


def _dumps(value: object) -> str:
    return _utf8_safe(_ENCODE(value), value)


# json's C string encoders: what JSONEncoder.encode calls for a str, minus the call.
_encode_str = json.encoder.encode_basestring
_encode_str_ascii = json.encoder.encode_basestring_ascii


def _dumps_str(text: str) -> str:
    """JSON for one str, escaped to ASCII only if it holds a lone surrogate."""
    encoded = _encode_str(text)
    if encoded.isascii():
        return encoded
    try:
        encoded.encode("utf-8")
    except UnicodeEncodeError:
        return _encode_str_ascii(text)
    return encoded


def _loads(text: str) -> Any:
    """``json.loads`` for a str, faster on the common case (no surrounding whitespace)."""
    try:
        value, end = _DECODER.raw_decode(text)
    except ValueError:
        return _DECODER.decode(text)  # leading whitespace, or raise the precise error
    if end != len(text):
        return _DECODER.decode(text)  # trailing whitespace, or raise "Extra data"
    return value


# ---------------------------------------------------------------- errors


class ProtocolError(Exception):
    """Something broke the Neuro API's rules.

    Never raised itself: :class:`LocalProtocolError` means this program is at fault,
    :class:`RemoteProtocolError` means the other side is.
    """

    def __init__(self, *args: object) -> None:
        if type(self) is ProtocolError:
            raise TypeError("raise LocalProtocolError or RemoteProtocolError instead")
        super().__init__(*args)


class LocalProtocolError(ProtocolError, ValueError):
    """Raised when this program asks to send what the specification does not allow."""


class RemoteProtocolError(ProtocolError):
    """Neuro (or a server standing in for her) sent something wrong."""


# ---------------------------------------------------------------- vocabulary


class GameCommandKind(str, enum.Enum):
    """Every command a game sends to Neuro.

    Members are ``str``: ``GameCommandKind.CONTEXT == "context"``.
    """

    #: First frame on every connection; Neuro forgets the game's actions.
    STARTUP = "startup"
    #: Tell Neuro what is happening.
    CONTEXT = "context"
    #: Register actions.
    REGISTER = "actions/register"
    #: Unregister actions by name.
    UNREGISTER = "actions/unregister"
    #: Make Neuro pick one of some registered actions now.
    FORCE = "actions/force"
    #: The one answer to an ``action``.
    RESULT = "action/result"
    #: The game has saved and may be closed.
    SHUTDOWN_READY = "shutdown/ready"


class NeuroCommandKind(str, enum.Enum):
    """Every command Neuro sends to a game.

    Members are ``str``: ``NeuroCommandKind.ACTION == "action"``.
    """

    #: Neuro performs an action.
    ACTION = "action"
    #: Neuro acknowledges the game's ``startup`` (optional).
    STARTUP = "startup"
    #: Register every current action again.
    REREGISTER_ALL = "actions/reregister_all"
    #: Save and leave at the next safe point, or cancel that.
    SHUTDOWN_GRACEFUL = "shutdown/graceful"
    #: Save within seconds.
    SHUTDOWN_IMMEDIATE = "shutdown/immediate"
    #: Neuro finished, or was cut off in, her current speech.
    SPEECH_FINISHED = "speech_finished"


@attrs.frozen(kw_only=True)
class CommandSpec:
    """The keys one command carries in its ``data``.

    Attributes:
        kind: The command.
        required: Keys its ``data`` must have.
        optional: Keys its ``data`` may have.
        has_data: Whether the command carries ``data`` at all (``startup``,
            ``shutdown/ready`` and a few of Neuro's do not).
    """

    kind: GameCommandKind | NeuroCommandKind
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    has_data: bool = True

    @property
    def keys(self) -> frozenset[str]:
        """Every key the specification defines for this command's ``data``."""
        return self.required | self.optional


def _spec(
    kind: GameCommandKind | NeuroCommandKind,
    required: Iterable[str] = (),
    optional: Iterable[str] = (),
    *,
    has_data: bool = True,
) -> CommandSpec:
    return CommandSpec(
        kind=kind, required=frozenset(required), optional=frozenset(optional), has_data=has_data
    )


def _by_kind(*specs: CommandSpec) -> dict[Any, CommandSpec]:
    return {spec.kind: spec for spec in specs}


#: Game -> Neuro: every command and the keys of its ``data``.
GAME_COMMANDS: Mapping[GameCommandKind, CommandSpec] = _by_kind(
    _spec(GameCommandKind.STARTUP, has_data=False),
    _spec(GameCommandKind.CONTEXT, ["message", "silent"]),
    _spec(GameCommandKind.REGISTER, ["actions"]),
    _spec(GameCommandKind.UNREGISTER, ["action_names"]),
    _spec(
        GameCommandKind.FORCE,
        ["query", "action_names"],
        ["state", "ephemeral_context", "priority"],
    ),
    _spec(GameCommandKind.RESULT, ["id", "success"], ["message"]),
    _spec(GameCommandKind.SHUTDOWN_READY, has_data=False),
)

#: Neuro -> game: every command and the keys of its ``data``.
NEURO_COMMANDS: Mapping[NeuroCommandKind, CommandSpec] = _by_kind(
    _spec(NeuroCommandKind.ACTION, ["id", "name"], ["data"]),
    _spec(NeuroCommandKind.STARTUP, ["session"]),
    _spec(NeuroCommandKind.REREGISTER_ALL, has_data=False),
    _spec(NeuroCommandKind.SHUTDOWN_GRACEFUL, ["wants_shutdown"]),
    _spec(NeuroCommandKind.SHUTDOWN_IMMEDIATE, has_data=False),
    _spec(NeuroCommandKind.SPEECH_FINISHED, ["isFinal"], ["cancelled", "reason"]),
)

#: Top-level keys of a game's frame (``data`` only where the command has data).
GAME_ENVELOPE_KEYS: Final = frozenset({"command", "game", "data"})
#: Top-level keys of Neuro's frame.
NEURO_ENVELOPE_KEYS: Final = frozenset({"command", "data"})
#: Keys one action in ``actions/register`` must have (see :class:`Action`).
ACTION_REQUIRED_KEYS: Final = frozenset({"name", "description"})
#: Every key one action in ``actions/register`` may have.
ACTION_KEYS: Final = ACTION_REQUIRED_KEYS | {"schema"}
#: Keys of ``session`` in Neuro's ``startup`` acknowledgement.
SESSION_KEYS: Final = frozenset({"sessionId", "characterId", "displayName"})

_GAME_KINDS: Final = {kind.value: kind for kind in GameCommandKind}
_NEURO_KINDS: Final = {kind.value: kind for kind in NeuroCommandKind}


# ---------------------------------------------------------------- actions


class ForcePriority(str, enum.Enum):
    """How urgently Neuro should act on an ``actions/force``.

    Only matters while she is speaking: ``CRITICAL`` interrupts her.
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


def check_action_name(name: object) -> str:
    """Return *name* if it is a valid action name, else raise LocalProtocolError.

    Names are non-empty and use only lowercase letters, digits, ``_`` and ``-``.
    """
    if not isinstance(name, str):
        raise LocalProtocolError(f"an action name must be a str, not {type(name).__name__}")
    if _ACTION_NAME.fullmatch(name) is None:
        raise LocalProtocolError(
            f"invalid action name {name!r}: use lowercase letters, digits, '_' and '-'"
            " (at least one character)"
        )
    return name


def _check_schema(instance: Action, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    try:
        unsupported = _schema.check_action_schema(value)
    except _schema.InvalidSchemaError as exc:
        raise LocalProtocolError(f"action {instance.name!r}: {exc}") from exc
    if unsupported:
        logger.warning(
            "action %r uses schema keywords Neuro does not support well: %s",
            instance.name,
            ", ".join(unsupported),
        )


def _check_name(instance: Action, attribute: attrs.Attribute[Any], value: object) -> None:
    check_action_name(value)


def _check_description(instance: Action, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise LocalProtocolError(
            f"action {instance.name!r}: description must be a str, not {type(value).__name__}"
        )


@attrs.frozen(eq=True)
class Action:
    """An action the game offers Neuro.

    Args:
        name: Lowercase identifier, ``[a-z0-9_-]+``.  Names are shared by every
            integration connected to the same character: pick one unlikely to
            collide.
        description: Plain text Neuro reads directly.
        schema: A JSON schema with ``"type": "object"`` describing the parameters,
            or ``None`` (or ``{}``, sent as is) when the action takes none.
            Keywords Neuro does not support well are logged as a warning when the
            action is created.  The schema
            is checked here, once: treat it as read-only afterwards (make a new
            ``Action`` to change it).

    Raises:
        LocalProtocolError: If any field breaks the rules above.
    """

    name: str = attrs.field(validator=_check_name)
    description: str = attrs.field(validator=_check_description)
    # Compared, but left out of the hash (a dict is not hashable): equal actions
    # still hash alike, and actions can live in sets and dict keys.
    schema: Mapping[str, Any] | None = attrs.field(
        default=None, validator=_check_schema, hash=False
    )

    def to_json_object(self) -> dict[str, Any]:
        """Return the action as it appears in ``actions/register`` (no null schema)."""
        obj: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.schema is not None:
            obj["schema"] = self.schema
        return obj


# ---------------------------------------------------------------- game -> Neuro


def _check_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise LocalProtocolError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _check_bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise LocalProtocolError(f"{what} must be a bool, not {type(value).__name__}")
    return value


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
    if not checked:
        raise LocalProtocolError(f"{what} must name at least one action")
    return checked


def check_context(message: object, silent: object) -> None:
    """Check the values of a ``context``: a str *message*, a bool *silent*.

    Raises:
        LocalProtocolError: If either has the wrong type.
    """
    _check_str(message, "context message")
    _check_bool(silent, "silent")


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
        LocalProtocolError: For any value the specification does not allow.
    """
    checked_query = _check_str(query, "query")
    names = check_action_names(action_names)
    ephemeral = _check_bool(ephemeral_context, "ephemeral_context")
    checked_state = None if state is None else _check_str(state, "state")
    try:
        level = ForcePriority(priority)
    except ValueError:
        raise LocalProtocolError(
            f"priority must be one of {[p.value for p in ForcePriority]}, not {priority!r}"
        ) from None
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
    _check_str(action_id, "action id")
    _check_bool(success, "success")
    text = None if message is None else _check_str(message, "result message")
    if not success and not (text and text.strip()):
        raise LocalProtocolError("a failed action result needs a message for Neuro")


class GameCommands:
    """Builds the frames a game sends, each a JSON text ready for the websocket.

    Every method validates its arguments and raises :class:`LocalProtocolError`
    rather than produce a frame the specification does not allow.  Frames are
    compact JSON; ``data`` is omitted where a command has none.

    Args:
        game: The game's display name, sent unchanged in every frame.
    """

    __slots__ = ("_context_prefix", "_prefixes", "_result_prefix", "game")

    def __init__(self, game: str) -> None:
        if not isinstance(game, str) or not game.strip():
            raise LocalProtocolError(f"the game title must be a non-empty str, not {game!r}")
        self.game = game
        game_json = _dumps(game)
        self._prefixes = {
            command: f'{{"command":{_dumps(command.value)},"game":{game_json}'
            for command in GameCommandKind
        }
        # The two frames a game sends most, without a dict lookup on an enum key.
        self._context_prefix = self._prefixes[GameCommandKind.CONTEXT]
        self._result_prefix = self._prefixes[GameCommandKind.RESULT]

    def _frame(self, command: GameCommandKind, data: str | None = None) -> str:
        if data is None:
            return self._prefixes[command] + "}"
        return f'{self._prefixes[command]},"data":{data}}}'

    def startup(self) -> str:
        """``startup``: first frame on every connection; clears the game's actions."""
        return self._frame(GameCommandKind.STARTUP)

    def context(self, message: str, silent: bool = True) -> str:
        """``context``: tell Neuro what is happening.

        Args:
            message: Plain text for Neuro.
            silent: ``False`` lets her answer out loud if she is not busy.
        """
        check_context(message, silent)
        # Built by hand (no dict, one encoder call): the most frequent frame a game sends.
        return (
            f'{self._context_prefix},"data":{{"message":{_dumps_str(message)},'
            f'"silent":{"true" if silent else "false"}}}}}'
        )

    def register_actions(self, actions: Iterable[Action]) -> str:
        """``actions/register`` for *actions* (non-empty, unique names)."""
        payload = {"actions": [action.to_json_object() for action in check_actions(actions)]}
        return self._frame(GameCommandKind.REGISTER, _dumps(payload))

    def unregister_actions(self, action_names: Iterable[str]) -> str:
        """``actions/unregister`` for *action_names* (non-empty)."""
        names = check_action_names(action_names)
        return self._frame(GameCommandKind.UNREGISTER, _dumps({"action_names": names}))

    def force_actions(
        self,
        *,
        query: str,
        action_names: Iterable[str],
        state: str | None = None,
        ephemeral_context: bool = False,
        priority: ForcePriority | str = ForcePriority.LOW,
    ) -> str:
        """``actions/force``: make Neuro pick one of *action_names* now.

        Args:
            query: What Neuro should do, e.g. "It is your turn. Pick a column."
            action_names: The registered actions she may choose from.
            state: The game state, in any text format (omitted when ``None``).
            ephemeral_context: If true, Neuro forgets *state* and *query* after
                answering.
            priority: A :class:`ForcePriority` or its string value.
        """
        return self.force(
            check_force(
                query=query,
                action_names=action_names,
                state=state,
                ephemeral_context=ephemeral_context,
                priority=priority,
            )
        )

    def force(self, forced: ActionsForced) -> str:
        """``actions/force`` from values already checked by :func:`check_force`.

        The values are not checked again: pass only what :func:`check_force`
        returned (an event from :func:`parse_game_message` may break the rules).
        """
        payload: dict[str, Any] = {}
        if forced.state is not None:
            payload["state"] = forced.state
        payload["query"] = forced.query
        payload["ephemeral_context"] = forced.ephemeral_context
        if forced.priority is not ForcePriority.LOW:
            # Omitted at its default so servers older than the field accept the frame.
            payload["priority"] = forced.priority.value
        payload["action_names"] = list(forced.action_names)
        return self._frame(GameCommandKind.FORCE, _dumps(payload))

    def action_result(self, action_id: str, success: bool, message: str | None = None) -> str:
        """``action/result``: the one answer to the ``action`` with *action_id*.

        A failure needs a *message* that is not blank: Neuro retries a failed
        forced action and should know why it failed.
        """
        # The hot path of every action: built by hand, no dict, no json.dumps call.
        if type(action_id) is not str:
            _check_str(action_id, "action id")
        if success is True:
            success_json = "true"
        elif success is False:
            success_json = "false"
        else:
            raise LocalProtocolError(f"success must be a bool, not {type(success).__name__}")
        id_json = _dumps_str(action_id)
        prefix = self._result_prefix
        if message is None:
            if not success:
                raise LocalProtocolError("a failed action result needs a message for Neuro")
            return f'{prefix},"data":{{"id":{id_json},"success":true}}}}'
        if not success:
            check_result(action_id, success, message)
        else:
            _check_str(message, "result message")
        return (
            f'{prefix},"data":{{"id":{id_json},'
            f'"success":{success_json},"message":{_dumps_str(message)}}}}}'
        )

    def shutdown_ready(self) -> str:
        """``shutdown/ready``: the game has saved and may be closed."""
        return self._frame(GameCommandKind.SHUTDOWN_READY)


# ---------------------------------------------------------------- Neuro -> game events


@attrs.frozen(kw_only=True)
class ActionRequested:
    """``action``: Neuro performs an action.

    Attributes:
        id: The id to answer with ``action/result``.
        name: The action's name (possibly one the game never registered).
        data: The JSON-encoded parameters, unparsed, or ``None`` when absent.
    """

    id: str
    name: str
    data: str | None = None


@attrs.frozen(kw_only=True)
class StartupAcknowledged:
    """``startup`` from Neuro: the session the game joined."""

    session_id: str
    character_id: str
    display_name: str


@attrs.frozen(kw_only=True)
class ReregisterAllRequested:
    """``actions/reregister_all``: register every current action again."""


@attrs.frozen(kw_only=True)
class GracefulShutdownRequested:
    """``shutdown/graceful``: save and leave at the next safe point (or cancel that)."""

    wants_shutdown: bool


@attrs.frozen(kw_only=True)
class ImmediateShutdownRequested:
    """``shutdown/immediate``: save within seconds and answer ``shutdown/ready``."""


@attrs.frozen(kw_only=True)
class SpeechFinished:
    """``speech_finished``: Neuro finished, or was cut off in, her current speech."""

    is_final: bool
    cancelled: bool | None = None
    reason: str | None = None


@attrs.frozen(kw_only=True)
class UnknownCommand:
    """A command this version does not know.  Log it; never fail on it."""

    command: str
    data: Any = None


@attrs.frozen(kw_only=True)
class MalformedMessage:
    """A frame that breaks the rules and cannot be answered (no action id)."""

    reason: str
    frame: str


@attrs.frozen(kw_only=True)
class InvalidActionMessage:
    """An ``action`` frame with bad fields.

    Attributes:
        reason: What is wrong, in words fit for a log and for Neuro.
        action_id: The id to answer, when one could be recovered.
        wrong_type: ``True`` when a field has the wrong type (a ``TypeError`` in the
            page's terms), ``False`` when keys are missing (``ValueError``).  Extra
            keys are no reason: they are logged and the action is handled.
    """

    reason: str
    action_id: str | None
    wrong_type: bool


NeuroEvent = Union[
    ActionRequested,
    StartupAcknowledged,
    ReregisterAllRequested,
    GracefulShutdownRequested,
    ImmediateShutdownRequested,
    SpeechFinished,
    UnknownCommand,
    MalformedMessage,
    InvalidActionMessage,
]

_ACTION_KEYS = NEURO_COMMANDS[NeuroCommandKind.ACTION].keys
_ACTION_COMMAND: Final = NeuroCommandKind.ACTION.value

# (command, keys) already warned about: a server that adds a field sends it in every
# frame, and one warning says it.  Bounded, in case every frame brings new keys.
_warned_keys: set[tuple[str, tuple[str, ...]]] = set()
_WARNED_KEYS_MAX = 256


def _log_unknown_keys(where: str, keys: list[str]) -> None:
    key = (where, tuple(keys))
    if key in _warned_keys:
        logger.debug("ignoring unknown keys %s in %s", keys, where)
        return
    if len(_warned_keys) < _WARNED_KEYS_MAX:
        _warned_keys.add(key)
    logger.warning("ignoring unknown keys %s in %s (a newer API version?)", keys, where)


def parse_neuro_message(frame: str | bytes | bytearray | memoryview) -> NeuroEvent:
    """Turn one frame from Neuro into an event.

    Never raises for bad input: whatever arrives becomes exactly one event.  Binary
    frames are accepted when they hold UTF-8 text (test servers send them; the real
    Neuro does not).  Unknown top-level keys and unknown keys inside known commands
    -- ``action`` data included -- are logged (a warning the first time) and
    ignored: the specification grows new fields, and a game that refused them
    would stop working the day one arrives.
    """
    if not isinstance(frame, str):
        try:
            frame = bytes(frame).decode("utf-8")
        except UnicodeDecodeError:
            return MalformedMessage(reason="binary frame is not UTF-8 text", frame=repr(frame[:80]))
    try:
        message = _loads(frame)
    except ValueError as exc:
        return MalformedMessage(reason=f"not valid JSON: {exc}", frame=frame)
    except RecursionError:  # json raises it for deeply nested arrays/objects
        return MalformedMessage(reason="not valid JSON: nested too deeply", frame=frame)
    if not isinstance(message, dict):
        return MalformedMessage(
            reason=f"a message must be a JSON object, not {type(message).__name__}", frame=frame
        )
    command = message.get("command")
    if not isinstance(command, str):
        return MalformedMessage(reason='missing or non-string "command"', frame=frame)
    if len(message) > 2 or (len(message) == 2 and "data" not in message):
        extra = sorted(set(message) - NEURO_ENVELOPE_KEYS)
        if extra:
            _log_unknown_keys(f"{command!r} message", extra)
    data = message.get("data")
    if command == _ACTION_COMMAND:  # the frame that matters most, first
        return _parse_action(data)
    kind = _NEURO_KINDS.get(command)
    if kind is None:
        return UnknownCommand(command=command, data=data)
    if isinstance(data, dict):
        extra = sorted(data.keys() - NEURO_COMMANDS[kind].keys)
        if extra:
            _log_unknown_keys(f"{command} data", extra)
    if kind is NeuroCommandKind.REREGISTER_ALL:
        return ReregisterAllRequested()
    if kind is NeuroCommandKind.SHUTDOWN_IMMEDIATE:
        return ImmediateShutdownRequested()
    if kind is NeuroCommandKind.SHUTDOWN_GRACEFUL:
        wants = data.get("wants_shutdown") if isinstance(data, dict) else None
        if not isinstance(wants, bool):
            return MalformedMessage(
                reason='shutdown/graceful needs a bool "wants_shutdown" in its data',
                frame=frame,
            )
        return GracefulShutdownRequested(wants_shutdown=wants)
    if kind is NeuroCommandKind.STARTUP:
        return _parse_startup(data, frame)
    return _parse_speech_finished(data, frame)


def _parse_action(data: object) -> NeuroEvent:
    if not isinstance(data, dict):
        return InvalidActionMessage(
            reason='an action message needs a JSON object "data"',
            action_id=None,
            wrong_type=data is not None,
        )
    action_id = data.get("id")
    recoverable_id = action_id if isinstance(action_id, str) else None
    size = len(data)
    if size > 3 or "id" not in data or "name" not in data or (size == 3 and "data" not in data):
        keys = data.keys()
        missing = sorted({"id", "name"} - keys)
        if missing:
            return InvalidActionMessage(
                reason=f"action data has missing keys {missing}",
                action_id=recoverable_id,
                wrong_type=False,
            )
        _log_unknown_keys("action data", sorted(keys - _ACTION_KEYS))
    name = data["name"]
    action_data = data.get("data")
    if recoverable_id is None or not isinstance(name, str):
        return InvalidActionMessage(
            reason='action "id" and "name" must be strings',
            action_id=recoverable_id,
            wrong_type=True,
        )
    if action_data is not None and not isinstance(action_data, str):
        return InvalidActionMessage(
            reason='action "data" must be a JSON-encoded string',
            action_id=recoverable_id,
            wrong_type=True,
        )
    return ActionRequested(id=recoverable_id, name=name, data=action_data)


def _parse_startup(data: object, frame: str) -> NeuroEvent:
    session = data.get("session") if isinstance(data, dict) else None
    if isinstance(session, dict):
        session_id = session.get("sessionId")
        character_id = session.get("characterId")
        display_name = session.get("displayName")
        if (
            isinstance(session_id, str)
            and isinstance(character_id, str)
            and isinstance(display_name, str)
        ):
            return StartupAcknowledged(
                session_id=session_id, character_id=character_id, display_name=display_name
            )
    return MalformedMessage(
        reason="startup acknowledgement needs session.sessionId, characterId and"
        " displayName strings",
        frame=frame,
    )


def _parse_speech_finished(data: object, frame: str) -> NeuroEvent:
    if isinstance(data, dict):
        is_final = data.get("isFinal")
        cancelled = data.get("cancelled")
        reason = data.get("reason")
        if (
            isinstance(is_final, bool)
            and (cancelled is None or isinstance(cancelled, bool))
            and (reason is None or isinstance(reason, str))
        ):
            return SpeechFinished(is_final=is_final, cancelled=cancelled, reason=reason)
    return MalformedMessage(
        reason='speech_finished needs a bool "isFinal" (optional bool "cancelled", str "reason")',
        frame=frame,
    )


# ---------------------------------------------------------------- game -> Neuro events


class ProblemKind(str, enum.Enum):
    """A rule one game frame breaks on its own (no session state needed).

    The values are the rule ids the stand-in Neuro reports
    (:mod:`neuro_bridge.mock.rules`).  Rules that need the session's state -- the
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
        message = _loads(text)
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
    if not isinstance(game, str) or not game.strip():
        problems.append(
            Problem(
                kind=ProblemKind.ENVELOPE,
                message=f'missing or empty "game" in {command!r}: {game!r}',
            )
        )
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

    kind = _GAME_KINDS.get(command)
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
        context = data.get("message")
        silent = data.get("silent")
        if not isinstance(context, str):
            problem(ProblemKind.COMMAND_DATA, f'context needs a string "message", got {context!r}')
        if not isinstance(silent, bool):
            problem(ProblemKind.COMMAND_DATA, f'context needs a bool "silent", got {silent!r}')
        if not isinstance(context, str) or not isinstance(silent, bool):
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


def _read_action_definition(
    item: object, problem: Callable[[ProblemKind, str], None]
) -> ActionDefinition | None:
    if not isinstance(item, dict):
        problem(ProblemKind.COMMAND_DATA, f"an action must be an object, not {item!r}")
        return None
    name = item.get("name")
    if not isinstance(name, str) or _ACTION_NAME.fullmatch(name) is None:
        try:
            check_action_name(name)
        except LocalProtocolError as exc:
            problem(ProblemKind.ACTION_NAME, str(exc))
        if not isinstance(name, str):
            return None
    description = item.get("description")
    if not isinstance(description, str):
        problem(ProblemKind.COMMAND_DATA, f"action {name!r} needs a string description")
        description = ""
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
        if _ACTION_NAME.fullmatch(name) is None:
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
    start = len(problems)
    names = _read_names(data, "actions/force", problem)
    ok = names is not None
    if names is not None and not names:
        problem(ProblemKind.COMMAND_DATA, "actions/force names no actions")
        ok = False
    query = data.get("query")
    if not isinstance(query, str):
        problem(ProblemKind.COMMAND_DATA, f'actions/force needs a string "query", got {query!r}')
        ok = False
    state = data.get("state")
    if state is not None and not isinstance(state, str):
        problem(ProblemKind.COMMAND_DATA, f'actions/force "state" must be a string, got {state!r}')
        state = None
    ephemeral = data.get("ephemeral_context", False)
    if not isinstance(ephemeral, bool):
        problem(ProblemKind.COMMAND_DATA, f'"ephemeral_context" must be a bool, got {ephemeral!r}')
        ephemeral = False
    raw_priority = data.get("priority", ForcePriority.LOW.value)
    try:
        priority = ForcePriority(raw_priority)
    except ValueError:
        problem(
            ProblemKind.COMMAND_DATA,
            f'"priority" must be one of {[p.value for p in ForcePriority]}: {raw_priority!r}',
        )
        priority = ForcePriority.LOW
    if not ok or names is None or not isinstance(query, str):
        return malformed(problems[start].message)
    return ActionsForced(
        query=query,
        action_names=names,
        state=state,
        ephemeral_context=ephemeral,
        priority=priority,
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
    start = len(problems)
    action_id = data.get("id")
    success = data.get("success")
    message = data.get("message")
    if not isinstance(action_id, str):
        problem(ProblemKind.COMMAND_DATA, f'action/result needs a string "id", got {action_id!r}')
    if not isinstance(success, bool):
        problem(ProblemKind.COMMAND_DATA, f'action/result needs a bool "success", got {success!r}')
    if message is not None and not isinstance(message, str):
        problem(ProblemKind.COMMAND_DATA, f'action/result "message" must be a string: {message!r}')
        message = None
    if not isinstance(action_id, str) or not isinstance(success, bool):
        return malformed(problems[start].message)
    if not success and not (message and message.strip()):
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
        return _dumps({"command": NeuroCommandKind.ACTION.value, "data": payload})

    @staticmethod
    def reregister_all() -> str:
        """``actions/reregister_all``."""
        return _dumps({"command": NeuroCommandKind.REREGISTER_ALL.value})

    @staticmethod
    def shutdown_graceful(wants_shutdown: bool) -> str:
        """``shutdown/graceful``."""
        return _dumps(
            {
                "command": NeuroCommandKind.SHUTDOWN_GRACEFUL.value,
                "data": {"wants_shutdown": wants_shutdown},
            }
        )

    @staticmethod
    def shutdown_immediate() -> str:
        """``shutdown/immediate``."""
        return _dumps({"command": NeuroCommandKind.SHUTDOWN_IMMEDIATE.value})

    @staticmethod
    def startup_acknowledgement(session_id: str, character_id: str, display_name: str) -> str:
        """``startup`` sent by Neuro after the game's own ``startup``."""
        session = {
            "sessionId": session_id,
            "characterId": character_id,
            "displayName": display_name,
        }
        return _dumps({"command": NeuroCommandKind.STARTUP.value, "data": {"session": session}})

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
        return _dumps({"command": NeuroCommandKind.SPEECH_FINISHED.value, "data": data})
