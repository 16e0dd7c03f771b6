"""A game connection watched from outside the stand-in: the proxy's game, as events.

:class:`WatchedGame` gives a connection that is not a
:class:`~neuro_bridge.mock.session.MockSession` (the proxy's game, whose Neuro is
upstream) the same read-only face -- ``number``, ``peer``, ``started_at``,
``messages``, ``registered_actions``, ``pending_force``, ``findings``, ``observers``
-- so the recorder (:mod:`.recording`) and the web console show it the same way.
The proxy calls :meth:`WatchedGame.game_frame`, :meth:`WatchedGame.neuro_frame`,
:meth:`WatchedGame.findings_found` and :meth:`WatchedGame.ended`; each turns into a
:class:`~neuro_bridge.mock.events.SessionEvent` for the observers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from neuro_bridge.mock.events import SessionEvent

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from neuro_bridge.conformance import (
        ConformanceChecker,
        Finding,
        ForceRecord,
        GameMessage,
        RegisteredAction,
    )
    from neuro_bridge.mock.events import SessionObserver

__all__ = ["WatchedGame"]

logger = logging.getLogger(__name__)


class WatchedGame:
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
