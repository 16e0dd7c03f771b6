"""What happens on one game connection, as a stream of :class:`SessionEvent` values.

A :class:`~neuro_bridge.mock.session.MockSession` (the stand-in Neuro) and a
:class:`WatchedGame` (the proxy's game, whose Neuro is upstream) call each of their
``observers`` with every event, in order, from the trio run that serves them: a
frame from the game, a frame Neuro sent (with why she sent it), a note about a
decision (a retry, a force given up), a broken rule, a chaos probe's outcome, and
the end of the connection.  The recorder (:mod:`neuro_bridge.mock.recording`)
writes them to a file and the web console shows them; an observer must not block
(it is a plain function) and an exception it raises is logged and ignored.

Outside :mod:`neuro_bridge.mock` because the proxy uses it too: the Godot sidecar
loads no stand-in module.

:class:`WatchedGame` gives a connection that is not a ``MockSession`` the same
read-only face -- ``number``, ``peer``, ``started_at``, ``messages``,
``registered_actions``, ``pending_force``, ``findings``, ``observers`` -- so the
recorder and the web console show it the same way.  The proxy calls
:meth:`WatchedGame.game_frame`, :meth:`WatchedGame.neuro_frame`,
:meth:`WatchedGame.findings_found` and :meth:`WatchedGame.ended`; each turns into
a :class:`SessionEvent` for the observers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Final, Literal, Protocol

import attrs
import trio

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from typing_extensions import TypeAlias

    from neuro_bridge.conformance import (
        ConformanceChecker,
        Finding,
        ForceRecord,
        GameMessage,
        RegisteredAction,
    )
    from neuro_bridge.mock.chaos import ChaosOutcome

__all__ = [
    "RECORDING_FORMAT",
    "RECORDING_VERSION",
    "CheckedConnection",
    "EventKind",
    "ObservedSession",
    "SessionEvent",
    "SessionObserver",
    "WatchedGame",
]

logger = logging.getLogger(__name__)

#: The ``format`` of a session recording's first line (see :mod:`neuro_bridge.mock.recording`).
RECORDING_FORMAT: Final = "neuro-bridge-session"
#: The session recording format's version.
RECORDING_VERSION: Final = 1

#: ``"game"`` (a frame from the game), ``"neuro"`` (a frame Neuro sent),
#: ``"note"`` (a decision), ``"finding"``, ``"chaos"`` and ``"end"``.
EventKind = Literal["game", "neuro", "note", "finding", "chaos", "end"]


@attrs.frozen(kw_only=True)
class SessionEvent:
    """One thing that happened on a connection.

    Attributes:
        kind: What happened (:data:`EventKind`).
        time: ``trio.current_time()`` when it happened.
        frame: The frame's text for ``"game"`` and ``"neuro"`` (binary frames
            decoded as UTF-8 with replacement).
        binary: Whether that frame went as a binary frame.
        cause: Why Neuro sent a ``"neuro"`` frame (``"force"``, ``"unforced"``,
            ``"chaos:KIND"``, ``"console"``, ``None`` for test code); who closed
            the connection for ``"end"`` (``"game"`` or ``"neuro"``).
        text: A ``"note"``'s text; the reason for ``"end"``.
        finding: The broken rule, for ``"finding"``.
        chaos: The probe's outcome, for ``"chaos"``.
    """

    kind: EventKind
    time: float = attrs.field(factory=trio.current_time)
    frame: str | None = None
    binary: bool = False
    cause: str | None = None
    text: str | None = None
    finding: Finding | None = None
    chaos: ChaosOutcome | None = None


#: What a session calls with each event.
SessionObserver: TypeAlias = Callable[[SessionEvent], None]


class ObservedSession(Protocol):
    """What the recorder and the web console read of a connection.

    A :class:`~neuro_bridge.mock.session.MockSession` is one; so is the proxy's
    :class:`WatchedGame`.
    """

    number: int
    peer: str
    started_at: float
    observers: list[SessionObserver]
    auto_play: bool
    force_delay: float

    @property
    def messages(self) -> list[GameMessage]:
        """Every frame the game sent, decoded."""

    @property
    def connected(self) -> bool:
        """Whether the game is still connected."""

    @property
    def game(self) -> str | None:
        """The game's title, once known."""

    @property
    def registered_actions(self) -> Mapping[str, RegisteredAction]:
        """The actions the game has registered, by name."""

    @property
    def pending_force(self) -> ForceRecord | None:
        """The force in flight, or ``None``."""

    @property
    def findings(self) -> list[Finding]:
        """Every rule the connection broke so far."""


class CheckedConnection:
    """What a connection's conformance checker tells of it, as Neuro holds it.

    The stand-in's :class:`~neuro_bridge.mock.session.MockSession` and the
    proxy's :class:`WatchedGame` both read their state this way.
    """

    checker: ConformanceChecker

    @property
    def game(self) -> str | None:
        """The game's title, once it sent a message with one."""
        return self.checker.game

    @property
    def registered_actions(self) -> Mapping[str, RegisteredAction]:
        """The actions the game has registered, by name."""
        return dict(self.checker.registered)

    @property
    def pending_force(self) -> ForceRecord | None:
        """The force in flight, or ``None``."""
        return self.checker.force

    @property
    def findings(self) -> list[Finding]:
        """Every rule this connection broke so far."""
        return list(self.checker.findings)


class WatchedGame(CheckedConnection):
    """One game connection seen by the proxy.

    Args:
        number: The connection's number.
        peer: The game's address.
        checker: The connection's conformance checker (its state is shown).

    Attributes:
        observers: Called with each event, in order.
        messages: Every frame the game sent, decoded.
        connected: Whether the game is still connected.
        auto_play: Always false: forces are answered by Neuro upstream.
        force_delay: 0 (nothing is played here).
    """

    def __init__(self, number: int, peer: str, checker: ConformanceChecker) -> None:
        self.number = number
        self.peer = peer
        self.checker = checker
        self.started_at = trio.current_time()
        self.observers: list[SessionObserver] = []
        self.messages: list[GameMessage] = []
        self.connected = True
        self.auto_play = False
        self.force_delay = 0.0

    def _emit(self, event: SessionEvent) -> None:
        for observer in list(self.observers):
            try:
                observer(event)
            except Exception:
                logger.exception("game #%d: an observer failed on %s", self.number, event.kind)

    def game_frame(self, message: GameMessage) -> None:
        """Report that the game sent *message* (already fed to the checker)."""
        self.messages.append(message)
        self._emit(SessionEvent(kind="game", frame=message.frame, binary=message.binary))

    def neuro_frame(self, frame: str, cause: str = "upstream") -> None:
        """Report that Neuro's *frame* went to the game (already fed to the checker)."""
        self._emit(SessionEvent(kind="neuro", frame=frame, cause=cause))

    def findings_found(self, findings: Iterable[Finding]) -> None:
        """Report the checker's *findings*."""
        for finding in findings:
            self._emit(SessionEvent(kind="finding", finding=finding))

    def ended(self, reason: str, by: str) -> None:
        """Report the end of the connection (*by* ``"game"`` or ``"neuro"``), once."""
        if self.connected:
            self.connected = False
            self._emit(SessionEvent(kind="end", text=reason, cause=by))
