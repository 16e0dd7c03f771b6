"""The wire vocabulary: commands, keys, envelopes, errors, and the rule for each field.

Both sides of :mod:`neuro_bridge.protocol` build on this module: the game side
(:mod:`neuro_bridge.protocol._game`) and the Neuro side
(:mod:`neuro_bridge.protocol._neuro`).  A rule a field follows (an action name, a
str, a bool, a priority, a text that must not be blank) is written here once; the
``check_*`` functions raise its text as :class:`LocalProtocolError` and the
game-frame parser records it as a problem.  Import the public names from
:mod:`neuro_bridge.protocol`.
"""

from __future__ import annotations

import enum
import json
import logging
import re
from typing import TYPE_CHECKING, Any, Final

import attrs

from neuro_bridge import schema as _schema

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sized

#: The protocol's one logger (both sides log under the package's name).
logger = logging.getLogger("neuro_bridge.protocol")

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


def dumps(value: object) -> str:
    """Compact JSON for *value*, sendable in a text frame."""
    return _utf8_safe(_ENCODE(value), value)


# json's C string encoders: what JSONEncoder.encode calls for a str, minus the call.
_encode_str = json.encoder.encode_basestring
_encode_str_ascii = json.encoder.encode_basestring_ascii


def dumps_str(text: str) -> str:
    """JSON for one str, escaped to ASCII only if it holds a lone surrogate."""
    encoded = _encode_str(text)
    if encoded.isascii():
        return encoded
    try:
        encoded.encode("utf-8")
    except UnicodeEncodeError:
        return _encode_str_ascii(text)
    return encoded


def loads(text: str) -> Any:
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


# The constants below are documented in docs/protocol.rst (autodata cannot read
# the comments of a re-exported name): keep the two in step.
# Game -> Neuro: every command and the keys of its ``data``.
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

# Neuro -> game: every command and the keys of its ``data``.
NEURO_COMMANDS: Mapping[NeuroCommandKind, CommandSpec] = _by_kind(
    _spec(NeuroCommandKind.ACTION, ["id", "name"], ["data"]),
    _spec(NeuroCommandKind.STARTUP, ["session"]),
    _spec(NeuroCommandKind.REREGISTER_ALL, has_data=False),
    _spec(NeuroCommandKind.SHUTDOWN_GRACEFUL, ["wants_shutdown"]),
    _spec(NeuroCommandKind.SHUTDOWN_IMMEDIATE, has_data=False),
    _spec(NeuroCommandKind.SPEECH_FINISHED, ["isFinal"], ["cancelled", "reason"]),
)

# Top-level keys of a game's frame (``data`` only where the command has data).
GAME_ENVELOPE_KEYS: Final = frozenset({"command", "game", "data"})
# Top-level keys of Neuro's frame.
NEURO_ENVELOPE_KEYS: Final = frozenset({"command", "data"})
# Keys one action in ``actions/register`` must have (see :class:`Action`).
ACTION_REQUIRED_KEYS: Final = frozenset({"name", "description"})
# Every key one action in ``actions/register`` may have.
ACTION_KEYS: Final = ACTION_REQUIRED_KEYS | {"schema"}
# Keys of ``session`` in Neuro's ``startup`` acknowledgement.
SESSION_KEYS: Final = frozenset({"sessionId", "characterId", "displayName"})

GAME_KINDS: Final = {kind.value: kind for kind in GameCommandKind}
NEURO_KINDS: Final = {kind.value: kind for kind in NeuroCommandKind}


# ---------------------------------------------------------------- priorities


class ForcePriority(str, enum.Enum):
    """How urgently Neuro should act on an ``actions/force``.

    Only matters while she is speaking: ``CRITICAL`` interrupts her.
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


# ---------------------------------------------------------------- field rules
# Each rule once.  A rule raises LocalProtocolError with its text: the check_*
# functions let it through, the game-frame parser records it as a problem.


def is_blank(text: str | None) -> bool:
    """Whether *text* is missing, empty or only white space."""
    return text is None or not text.strip()


def wrong_type(value: object, what: str, expected: str) -> LocalProtocolError:
    """Return the error for a *value* (called *what*) that is not of the *expected* type."""
    return LocalProtocolError(f"{what} must be a {expected}, not {type(value).__name__}")


def check_str(value: object, what: str) -> str:
    """Return *value* if it is a str; *what* names it in the error."""
    if not isinstance(value, str):
        raise wrong_type(value, what, "str")
    return value


def check_bool(value: object, what: str) -> bool:
    """Return *value* if it is a bool; *what* names it in the error."""
    if not isinstance(value, bool):
        raise wrong_type(value, what, "bool")
    return value


def check_not_blank(text: str, what: str) -> str:
    """Return *text* unless it is blank: a text Neuro reads must say something."""
    if is_blank(text):
        raise LocalProtocolError(f"{what} must not be blank, not {text!r}")
    return text


def check_text(value: object, what: str) -> str:
    """Return *value* if it is a str that is not blank (see :func:`check_not_blank`)."""
    return check_not_blank(check_str(value, what), what)


def check_game_title(game: object) -> str:
    """Return *game* if it is a str that is not blank."""
    if not isinstance(game, str) or is_blank(game):
        raise LocalProtocolError(f"the game title must be a non-empty str, not {game!r}")
    return game


def check_action_name(name: object) -> str:
    """Return *name* if it is a valid action name, else raise LocalProtocolError.

    Names are non-empty and use only lowercase letters, digits, ``_`` and ``-``.
    """
    if not isinstance(name, str):
        raise wrong_type(name, "an action name", "str")
    if _ACTION_NAME.fullmatch(name) is None:
        raise LocalProtocolError(
            f"invalid action name {name!r}: use lowercase letters, digits, '_' and '-'"
            " (at least one character)"
        )
    return name


def check_names_given(names: Sized, what: str) -> None:
    """Refuse an empty list of action names (*what* names it in the error)."""
    if not names:
        raise LocalProtocolError(f"{what} must name at least one action")


def check_priority(priority: object, what: str = "priority") -> ForcePriority:
    """Return *priority* (a :class:`ForcePriority` or its value) as a ForcePriority."""
    try:
        return ForcePriority(priority)
    except ValueError:
        raise LocalProtocolError(
            f"{what} must be one of {[p.value for p in ForcePriority]}, not {priority!r}"
        ) from None


def needs_failure_message(success: bool, message: str | None) -> bool:
    """Whether a result lacks the message a failure must carry (Neuro retries, and asks why)."""
    return not success and is_blank(message)


def result_message(
    success: bool, message: str | None, action_name: str | None = None
) -> str | None:
    """Return what an ``action/result`` says: the one rule for every answer a game sends.

    A failure must tell Neuro why (she retries a failed force): without a
    message, or with a blank one, it says that the game could not perform
    *action_name* right now.  A success's blank message is left out.  Anything
    else is sent as it is.

    Raises:
        LocalProtocolError: *message* is neither a str nor ``None``.
    """
    if message is not None and not isinstance(message, str):
        raise wrong_type(message, "result message", "str")
    if not is_blank(message):
        return message
    if success:
        return None
    if action_name:
        return f"The game could not perform {action_name!r} right now."
    return "The game could not perform that action right now."


# ---------------------------------------------------------------- actions


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
    check_text(value, f"action {instance.name!r}: description")


@attrs.frozen(eq=True)
class Action:
    """An action the game offers Neuro.

    Args:
        name: Lowercase identifier, ``[a-z0-9_-]+``.  Names are shared by every
            integration connected to the same character: pick one unlikely to
            collide.
        description: Plain text Neuro reads directly (not blank).
        schema: A JSON schema with ``"type": "object"`` describing the parameters,
            or ``None`` (or ``{}``, left out of the frame like ``None``) when the
            action takes none.
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
        """Return the action as it appears in ``actions/register``.

        An empty (or ``None``) schema is left out: both mean "no parameters".
        """
        obj: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.schema:
            obj["schema"] = self.schema
        return obj
