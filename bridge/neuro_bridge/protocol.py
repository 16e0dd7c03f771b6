"""The Neuro game API as data: message builders and parsers, with no I/O.

This module is the sans-IO core of neuro-bridge (in the manner of h11 and
wsproto).  It knows the shape of every message both ways and nothing about
sockets, trio or engines:

* :class:`Action` describes an action a game registers.
* :class:`GameCommands` builds every game -> Neuro frame for one game title,
  refusing anything the specification does not allow (:class:`LocalProtocolError`).
* :func:`parse_neuro_message` turns a frame from Neuro into one event object.  It
  never raises on bad input: garbage becomes :class:`MalformedMessage` (or
  :class:`InvalidActionMessage` when the frame was an ``action`` whose id can be
  answered), unknown commands become :class:`UnknownCommand`, unknown keys are
  logged and ignored.
* :class:`NeuroCommands` builds the Neuro -> game frames; the stand-in Neuro server
  and the tests use it.

Every frame is one JSON object in one websocket text frame.
"""

from __future__ import annotations

import enum
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, Union

import attrs

from neuro_bridge import schema as _schema

__all__ = [
    "Action",
    "ActionRequested",
    "ForcePriority",
    "GameCommands",
    "GracefulShutdownRequested",
    "ImmediateShutdownRequested",
    "InvalidActionMessage",
    "LocalProtocolError",
    "MalformedMessage",
    "NeuroCommands",
    "NeuroEvent",
    "ProtocolError",
    "RemoteProtocolError",
    "ReregisterAllRequested",
    "SpeechFinished",
    "StartupAcknowledged",
    "UnknownCommand",
    "check_action_name",
    "parse_neuro_message",
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
            or ``None`` when the action takes none.  Keywords Neuro does not support
            well are logged as a warning when the action is created.  The schema
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


def _check_names(names: object, what: str) -> list[str]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise LocalProtocolError(f"{what} must be a sequence of action names, not {names!r}")
    checked = [check_action_name(name) for name in names]
    if not checked:
        raise LocalProtocolError(f"{what} must name at least one action")
    return checked


class GameCommands:
    """Builds the frames a game sends, each a JSON text ready for the websocket.

    Every method validates its arguments and raises :class:`LocalProtocolError`
    rather than produce a frame the specification does not allow.  Frames are
    compact JSON; ``data`` is omitted where a command has none.

    Args:
        game: The game's display name, sent unchanged in every frame.
    """

    __slots__ = ("_prefixes", "game")

    def __init__(self, game: str) -> None:
        if not isinstance(game, str) or not game.strip():
            raise LocalProtocolError(f"the game title must be a non-empty str, not {game!r}")
        self.game = game
        game_json = _dumps(game)
        self._prefixes = {
            command: f'{{"command":{_dumps(command)},"game":{game_json}'
            for command in (
                "startup",
                "context",
                "actions/register",
                "actions/unregister",
                "actions/force",
                "action/result",
                "shutdown/ready",
            )
        }

    def _frame(self, command: str, data: str | None = None) -> str:
        if data is None:
            return self._prefixes[command] + "}"
        return f'{self._prefixes[command]},"data":{data}}}'

    def startup(self) -> str:
        """``startup``: first frame on every connection; clears the game's actions."""
        return self._frame("startup")

    def context(self, message: str, silent: bool = True) -> str:
        """``context``: tell Neuro what is happening.

        Args:
            message: Plain text for Neuro.
            silent: ``False`` lets her answer out loud if she is not busy.
        """
        _check_str(message, "context message")
        _check_bool(silent, "silent")
        # Built by hand (no dict, one encoder call): the most frequent frame a game sends.
        return (
            f'{self._prefixes["context"]},"data":{{"message":{_dumps_str(message)},'
            f'"silent":{"true" if silent else "false"}}}}}'
        )

    def register_actions(self, actions: Iterable[Action]) -> str:
        """``actions/register`` for *actions* (non-empty, unique names)."""
        if isinstance(actions, Action) or not isinstance(actions, Iterable):
            raise LocalProtocolError(
                f"actions/register needs a sequence of actions, not {actions!r}"
            )
        actions = list(actions)  # an iterator would be used up by the checks below
        if not actions:
            raise LocalProtocolError("actions/register needs at least one action")
        seen: set[str] = set()
        for action in actions:
            if not isinstance(action, Action):
                raise LocalProtocolError(f"expected an Action, got {action!r}")
            if action.name in seen:
                raise LocalProtocolError(f"action {action.name!r} appears twice in one batch")
            seen.add(action.name)
        payload = {"actions": [action.to_json_object() for action in actions]}
        return self._frame("actions/register", _dumps(payload))

    def unregister_actions(self, action_names: Iterable[str]) -> str:
        """``actions/unregister`` for *action_names* (non-empty)."""
        names = _check_names(action_names, "action_names")
        return self._frame("actions/unregister", _dumps({"action_names": names}))

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
        _check_str(query, "query")
        names = _check_names(action_names, "action_names")
        _check_bool(ephemeral_context, "ephemeral_context")
        try:
            priority = ForcePriority(priority)
        except ValueError:
            raise LocalProtocolError(
                f"priority must be one of {[p.value for p in ForcePriority]}, not {priority!r}"
            ) from None
        payload: dict[str, Any] = {}
        if state is not None:
            payload["state"] = _check_str(state, "state")
        payload["query"] = query
        payload["ephemeral_context"] = ephemeral_context
        if priority is not ForcePriority.LOW:
            # Omitted at its default so servers older than the field accept the frame.
            payload["priority"] = priority.value
        payload["action_names"] = names
        return self._frame("actions/force", _dumps(payload))

    def action_result(self, action_id: str, success: bool, message: str | None = None) -> str:
        """``action/result``: the one answer to the ``action`` with *action_id*.

        A failure needs a *message*: Neuro retries a failed forced action and
        should know why it failed.
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
        if message is None:
            if not success:
                raise LocalProtocolError("a failed action result needs a message for Neuro")
            return f'{self._prefixes["action/result"]},"data":{{"id":{id_json},"success":true}}}}'
        _check_str(message, "result message")
        return (
            f'{self._prefixes["action/result"]},"data":{{"id":{id_json},'
            f'"success":{success_json},"message":{_dumps_str(message)}}}}}'
        )

    def shutdown_ready(self) -> str:
        """``shutdown/ready``: the game has saved and may be closed."""
        return self._frame("shutdown/ready")


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
            page's terms), ``False`` when keys are missing or extra (``ValueError``).
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

_ACTION_KEYS = frozenset({"id", "name", "data"})
_ENVELOPE_KEYS = frozenset({"command", "data"})


def parse_neuro_message(frame: str | bytes | bytearray | memoryview) -> NeuroEvent:
    """Turn one frame from Neuro into an event.

    Never raises for bad input: whatever arrives becomes exactly one event.  Binary
    frames are accepted when they hold UTF-8 text (test servers send them; the real
    Neuro does not).  Unknown top-level keys and unknown keys inside known commands
    are logged and ignored, except in ``action`` data, whose keys the published API
    fixes (extra keys make an :class:`InvalidActionMessage`).
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
        extra = sorted(set(message) - _ENVELOPE_KEYS)
        if extra:
            logger.warning("ignoring unknown keys %s in %r message", extra, command)
    data = message.get("data")
    if command == "action":
        return _parse_action(data, frame)
    if command == "actions/reregister_all":
        return ReregisterAllRequested()
    if command == "shutdown/immediate":
        return ImmediateShutdownRequested()
    if command == "shutdown/graceful":
        wants = data.get("wants_shutdown") if isinstance(data, dict) else None
        if not isinstance(wants, bool):
            return MalformedMessage(
                reason='shutdown/graceful needs a bool "wants_shutdown" in its data',
                frame=frame,
            )
        return GracefulShutdownRequested(wants_shutdown=wants)
    if command == "startup":
        return _parse_startup(data, frame)
    if command == "speech_finished":
        return _parse_speech_finished(data, frame)
    return UnknownCommand(command=command, data=data)


def _parse_action(data: object, frame: str) -> NeuroEvent:
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
        problems = []
        missing = sorted({"id", "name"} - keys)
        extra = sorted(keys - _ACTION_KEYS)
        if missing:
            problems.append(f"missing keys {missing}")
        if extra:
            problems.append(f"unexpected keys {extra}")
        return InvalidActionMessage(
            reason="action data has " + " and ".join(problems),
            action_id=recoverable_id,
            wrong_type=False,
        )
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


# ---------------------------------------------------------------- Neuro side


class NeuroCommands:
    """Builds the frames Neuro sends.  Used by the stand-in Neuro and in tests."""

    @staticmethod
    def action(action_id: str, name: str, data: str | None = None) -> str:
        """Build ``action``; *data* is the JSON-encoded string Neuro sends (or none)."""
        payload: dict[str, Any] = {"id": action_id, "name": name}
        if data is not None:
            payload["data"] = data
        return _dumps({"command": "action", "data": payload})

    @staticmethod
    def reregister_all() -> str:
        """``actions/reregister_all``."""
        return '{"command":"actions/reregister_all"}'

    @staticmethod
    def shutdown_graceful(wants_shutdown: bool) -> str:
        """``shutdown/graceful``."""
        return _dumps({"command": "shutdown/graceful", "data": {"wants_shutdown": wants_shutdown}})

    @staticmethod
    def shutdown_immediate() -> str:
        """``shutdown/immediate``."""
        return '{"command":"shutdown/immediate"}'

    @staticmethod
    def startup_acknowledgement(session_id: str, character_id: str, display_name: str) -> str:
        """``startup`` sent by Neuro after the game's own ``startup``."""
        session = {
            "sessionId": session_id,
            "characterId": character_id,
            "displayName": display_name,
        }
        return _dumps({"command": "startup", "data": {"session": session}})

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
        return _dumps({"command": "speech_finished", "data": data})
