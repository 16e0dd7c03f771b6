"""The game side: the frames a game sends, and what it makes of Neuro's.

:class:`GameCommands` builds every game frame (checked with the Neuro side's
``check_*`` functions, so a game never sends what Neuro refuses), and
:func:`parse_neuro_message` turns each of Neuro's frames into one event.  Import
the public names from :mod:`neuro_bridge.protocol`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Union

import attrs

from neuro_bridge.protocol._neuro import (
    ActionsForced,
    check_action_names,
    check_actions,
    check_context,
    check_force,
    check_result,
)
from neuro_bridge.protocol._wire import (
    NEURO_COMMANDS,
    NEURO_ENVELOPE_KEYS,
    NEURO_KINDS,
    Action,
    ForcePriority,
    GameCommandKind,
    NeuroCommandKind,
    check_game_title,
    check_str,
    dumps,
    dumps_str,
    is_blank,
    loads,
    logger,
    wrong_type,
)

if TYPE_CHECKING:
    from collections.abc import Iterable


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
        self.game = check_game_title(game)
        game_json = dumps(game)
        self._prefixes = {
            command: f'{{"command":{dumps(command.value)},"game":{game_json}'
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
            f'{self._context_prefix},"data":{{"message":{dumps_str(message)},'
            f'"silent":{"true" if silent else "false"}}}}}'
        )

    def register_actions(self, actions: Iterable[Action]) -> str:
        """``actions/register`` for *actions* (non-empty, unique names)."""
        payload = {"actions": [action.to_json_object() for action in check_actions(actions)]}
        return self._frame(GameCommandKind.REGISTER, dumps(payload))

    def unregister_actions(self, action_names: Iterable[str]) -> str:
        """``actions/unregister`` for *action_names* (non-empty)."""
        names = check_action_names(action_names)
        return self._frame(GameCommandKind.UNREGISTER, dumps({"action_names": names}))

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
        # Optional fields are left out at their default (no state, a blank one,
        # false, low): one frame per meaning, and servers older than a field
        # accept the frame.
        payload: dict[str, Any] = {}
        if not is_blank(forced.state):
            payload["state"] = forced.state
        payload["query"] = forced.query
        if forced.ephemeral_context:
            payload["ephemeral_context"] = True
        if forced.priority is not ForcePriority.LOW:
            payload["priority"] = forced.priority.value
        payload["action_names"] = list(forced.action_names)
        return self._frame(GameCommandKind.FORCE, dumps(payload))

    def action_result(self, action_id: str, success: bool, message: str | None = None) -> str:
        """``action/result``: the one answer to the ``action`` with *action_id*.

        A failure needs a *message* that is not blank: Neuro retries a failed
        forced action and should know why it failed.
        """
        # The hot path of every action: built by hand, no dict, no json.dumps call.
        if type(action_id) is not str:
            check_str(action_id, "action id")
        if success is True:
            success_json = "true"
        elif success is False:
            success_json = "false"
        else:
            raise wrong_type(success, "success", "bool")
        id_json = dumps_str(action_id)
        prefix = self._result_prefix
        if message is None:
            if not success:
                check_result(action_id, success, message)  # raises: a failure needs a message
            return f'{prefix},"data":{{"id":{id_json},"success":true}}}}'
        if not success:
            check_result(action_id, success, message)
        else:
            check_str(message, "result message")
        return (
            f'{prefix},"data":{{"id":{id_json},'
            f'"success":{success_json},"message":{dumps_str(message)}}}}}'
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
        message = loads(frame)
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
    kind = NEURO_KINDS.get(command)
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
