"""MockNeuro: the stand-in Neuro's websocket server.

:class:`MockNeuro` accepts game connections with trio-websocket and gives each its
own :class:`~neuro_bridge.mock.session.MockSession`; games never see each other's
traffic (its configuration, :class:`~neuro_bridge.mock.config.MockConfig`, is
re-exported here).  Findings and chaos outcomes of every connection are collected in order
on the server.  Usage::

    mock = MockNeuro(MockConfig(port=0, force_delay=0.2))
    async with trio.open_nursery() as nursery:
        await nursery.start(mock.serve)      # listening: mock.port, mock.url are set
        session = await mock.wait_for_game()
        ...
        mock.stop()                          # closes every connection; serve() returns
    assert not mock.findings
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any, Callable

import trio
import trio_websocket

from neuro_bridge.mock.config import ALL_CHAOS, DEFAULT_HOST, DEFAULT_PORT, MockConfig
from neuro_bridge.mock.session import MockSession
from neuro_bridge.mock.transcript import build_report, format_summary

if TYPE_CHECKING:
    from os import PathLike

    from neuro_bridge.conformance import Finding
    from neuro_bridge.mock.chaos import ChaosOutcome
    from neuro_bridge.mock.replay import ReplayReport
    from neuro_bridge.mock.transcript import Transcript

__all__ = ["ALL_CHAOS", "DEFAULT_HOST", "DEFAULT_PORT", "MockConfig", "MockNeuro"]

logger = logging.getLogger(__name__)


def _warn_if_exposed(listeners: list[trio.SocketListener]) -> None:
    """Warn when the stand-in listens where other machines can reach it."""
    exposed = sorted(
        {
            address
            for address in (listener.socket.getsockname()[0] for listener in listeners)
            if not ipaddress.ip_address(address.partition("%")[0]).is_loopback
        }
    )
    if exposed:
        logger.warning(
            "the stand-in Neuro listens on %s: any machine that can reach this one can"
            " connect (listen on 127.0.0.1 unless that is what you want)",
            ", ".join(exposed),
        )


class MockNeuro:
    """The stand-in Neuro server.

    Args:
        config: Its behaviour (default: :class:`MockConfig` defaults).
        transcript: Where to write the conversation, if anywhere.

    Attributes:
        config: The configuration.
        sessions: Every connection so far, oldest first (closed ones included).
        on_session: Called with each new session before it starts (the recorder
            and the web console add their observers here).
    """

    def __init__(
        self, config: MockConfig | None = None, *, transcript: Transcript | None = None
    ) -> None:
        self.config = config if config is not None else MockConfig()
        self.transcript = transcript
        self.sessions: list[MockSession] = []
        self.on_session: list[Callable[[MockSession], None]] = []
        #: While true, new sessions play nothing by themselves (see :meth:`replay`).
        self.scripted = False
        self._findings: list[Finding] = []
        self._chaos: list[ChaosOutcome] = []
        self._port: int | None = None
        self._stop = trio.Event()
        self._changed = trio.Event()
        self._handed_out = 0

    # ------------------------------------------------------------ state

    @property
    def port(self) -> int:
        """The port it listens on.

        Raises:
            RuntimeError: Before :meth:`serve` has started listening.
        """
        if self._port is None:
            raise RuntimeError("the stand-in Neuro is not listening yet")
        return self._port

    @property
    def url(self) -> str:
        """The URL games connect to, e.g. ``ws://127.0.0.1:8000``."""
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"ws://{host}:{self.port}"

    @property
    def findings(self) -> list[Finding]:
        """Every rule broken on any connection so far, in order (a copy)."""
        return list(self._findings)

    @property
    def chaos_outcomes(self) -> list[ChaosOutcome]:
        """Every chaos probe's outcome on any connection so far (a copy)."""
        return list(self._chaos)

    def summary(self) -> str:
        """Return the human-readable summary of findings and chaos outcomes."""
        return format_summary(self._findings, self._chaos)

    def report(self) -> dict[str, Any]:
        """Return the JSON-ready report (see :func:`~neuro_bridge.mock.transcript.build_report`)."""
        return build_report(self._findings, self._chaos)

    def assert_conforms(self) -> None:
        """Raise :class:`AssertionError` with the summary if any rule was broken.

        Advice (:attr:`~neuro_bridge.mock.Finding.advice`) does not count.
        """
        if any(not finding.advice for finding in self._findings):
            raise AssertionError(self.summary())

    # ------------------------------------------------------------ serving

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen and serve games until :meth:`stop` (use with ``nursery.start``).

        Returns once stopped, after closing every connection (within
        ``close_timeout``).  When cancelled, connections are dropped without a
        closing handshake.

        Raises:
            OSError: If the address cannot be bound (e.g. the port is taken).
        """
        listeners = await trio.open_tcp_listeners(self.config.port, host=self.config.host)
        try:
            self._port = listeners[0].socket.getsockname()[1]
            _warn_if_exposed(listeners)
            server = trio_websocket.WebSocketServer(
                self._handle,
                listeners,
                max_message_size=self.config.max_message_size,
                disconnect_timeout=self.config.close_timeout,
            )
            async with trio.open_nursery() as nursery:
                await nursery.start(server.run)
                logger.info("stand-in Neuro listening on %s", self.url)
                if self.transcript is not None:
                    self.transcript.listening(self.url)
                task_status.started()
                await self._stop.wait()
                async with trio.open_nursery() as closers:
                    for session in self.sessions:
                        if session.connected:
                            closers.start_soon(session.close)
                nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True):
                for listener in listeners:
                    await listener.aclose()

    def stop(self) -> None:
        """Stop listening and close every connection; :meth:`serve` then returns.

        Safe to call at any time, more than once, and before :meth:`serve`.
        """
        self._stop.set()

    async def _handle(self, request: trio_websocket.WebSocketRequest) -> None:
        # A client may vanish at any point of the upgrade; that must never end the
        # server (trio-websocket lets a handler's exception stop serve()).
        try:
            if self._stop.is_set():
                await request.reject(503)
                return
            websocket = await request.accept()
        except (trio_websocket.ConnectionClosed, trio.BrokenResourceError, OSError) as exc:
            logger.info("a game left during the websocket upgrade: %r", exc)
            return
        session = MockSession(
            websocket,
            self.config,
            len(self.sessions) + 1,
            transcript=self.transcript,
            on_finding=self._record_finding,
            on_chaos=self._chaos.append,
        )
        if self.scripted:
            session.scripted = True
            session.auto_play = False
        self.sessions.append(session)
        for hook in list(self.on_session):
            try:
                hook(session)
            except Exception:
                logger.exception("a new-session hook failed for game #%d", session.number)
        if self.transcript is not None:
            self.transcript.connected(session.number, session.peer)
        logger.info("game #%d connected from %s", session.number, session.peer)
        self._poke()
        try:
            await session.run()
        finally:
            self._poke()

    def _record_finding(self, finding: Finding) -> None:
        self._findings.append(finding)

    def _poke(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    # ------------------------------------------------------------ waiting

    async def wait_for_game(self) -> MockSession:
        """Return the next connection not returned before, waiting for it if needed.

        Bound the wait with :func:`trio.fail_after`.
        """
        while len(self.sessions) <= self._handed_out:
            await self._changed.wait()
        self._handed_out += 1
        return self.sessions[self._handed_out - 1]

    async def replay(
        self, path: str | PathLike[str], *, frame_timeout: float = 5.0, check: bool = True
    ) -> ReplayReport:
        """Play Neuro's side of a recorded session against the next game that connects.

        Call it before the game connects (e.g. start the game in a nursery, then
        await this): from now on new connections play nothing by themselves.  The
        recording's frames are sent at the same points of the conversation (see
        :mod:`neuro_bridge.mock.replay`) and the game's answers are compared with
        the recorded ones.

        Args:
            path: A ``.jsonl`` file written by ``--record`` (one connection).
            frame_timeout: Seconds to wait for each expected frame of the game.
            check: Raise :class:`~neuro_bridge.mock.replay.ReplayDifferenceError`
                when the game answered differently (else only return the report).

        Returns:
            The report (:attr:`~neuro_bridge.mock.replay.ReplayReport.ok` when the
            game answered as recorded).

        Raises:
            ReplayDifferenceError: With *check*, when there is a difference.
            RecordingError: If the file is not a readable recording.
            RuntimeError: If a game connected before (it has been played already).
        """
        from neuro_bridge.mock import replay as _replay

        if len(self.sessions) > self._handed_out:
            raise RuntimeError(
                "a game connected before replay() was called: start the game after it"
            )
        recording = _replay.load_recording(path)
        self.scripted = True
        session = await self.wait_for_game()
        report = await _replay.replay_session(session, recording, frame_timeout=frame_timeout)
        if check:
            report.check()
        return report

    async def wait_all_disconnected(self) -> None:
        """Wait until at least one game connected and every game has disconnected."""
        while not self.sessions or any(s.connected for s in self.sessions):
            await self._changed.wait()
