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

The package is split by role, and every public name is imported from here:
``_wire`` holds the vocabulary, the errors and the rule for each field (written
once, shared by the ``check_*`` functions and the parsers); ``_game`` the game
side (:class:`GameCommands`, :func:`parse_neuro_message`); ``_neuro`` the Neuro
side (:func:`parse_game_message`, the ``check_*`` functions, :class:`NeuroCommands`).
"""

from __future__ import annotations

from neuro_bridge.protocol._game import (
    ActionRequested,
    GameCommands,
    GracefulShutdownRequested,
    ImmediateShutdownRequested,
    InvalidActionMessage,
    MalformedMessage,
    NeuroEvent,
    ReregisterAllRequested,
    SpeechFinished,
    StartupAcknowledged,
    UnknownCommand,
    parse_neuro_message,
)
from neuro_bridge.protocol._neuro import (
    ActionDefinition,
    ActionResultSent,
    ActionsForced,
    ActionsRegistered,
    ActionsUnregistered,
    ContextSent,
    GameEvent,
    GameFrame,
    GameStarted,
    MalformedGameMessage,
    NeuroCommands,
    Problem,
    ProblemKind,
    ShutdownReadySent,
    UnknownGameCommand,
    check_action_names,
    check_actions,
    check_context,
    check_force,
    check_result,
    parse_game_message,
    read_game_frame,
)
from neuro_bridge.protocol._wire import (
    ACTION_KEYS,
    ACTION_REQUIRED_KEYS,
    GAME_COMMANDS,
    GAME_ENVELOPE_KEYS,
    NEURO_COMMANDS,
    NEURO_ENVELOPE_KEYS,
    SESSION_KEYS,
    Action,
    CommandSpec,
    ForcePriority,
    GameCommandKind,
    LocalProtocolError,
    NeuroCommandKind,
    ProtocolError,
    RemoteProtocolError,
    check_action_name,
    result_message,
)

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
    "result_message",
]

# Shown as neuro_bridge.protocol.X in tracebacks, reprs and the documentation.
for _name in __all__:
    _value = globals()[_name]
    if getattr(_value, "__module__", "").startswith(__name__ + "."):
        _value.__module__ = __name__
del _name, _value
