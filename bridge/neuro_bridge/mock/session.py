"""One game's connection to the stand-in Neuro: the player, and the driving API.

A :class:`MockSession` is created by :class:`~neuro_bridge.mock.server.MockNeuro`
for each websocket connection; nothing is shared between sessions.  It

* feeds every frame both ways to its own
  :class:`~neuro_bridge.conformance.ConformanceChecker` and reports each finding as it
  happens (transcript, log, the server's list);
* **plays** each ``actions/force`` (when ``auto_play`` is on): after
  ``force_delay`` it picks one of the listed actions that is still registered and
  sends it with data generated from its schema; ``success: false`` makes it retry
  after the same delay, at most ``max_retries`` times; a result that does not come
  within ``result_timeout`` makes it give up the force (as the real Neuro does);
  a second force replaces the first;
* sends **unforced** actions at random times (``unforced_rate`` per second) and
  **chaos** probes (every ``chaos_interval`` seconds, plus an ``unregistered_action``
  probe right after the game unregisters something);
* offers tests a driving API: :meth:`~MockSession.send_action`,
  :meth:`~MockSession.force`, :meth:`~MockSession.expect_result`,
  :meth:`~MockSession.probe`, :meth:`~MockSession.wait_for_actions`, ...

All methods must be called from the trio run that serves the session.  Waiting
methods raise :class:`trio.TooSlowError` on timeout and :class:`GameDisconnectedError`
when the game is gone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
from typing import TYPE_CHECKING, Any, Callable, Final

import trio
import trio_websocket

from neuro_bridge.conformance import CHAOS_MISHANDLED, ConformanceChecker
from neuro_bridge.mock.chaos import ChaosKind, ChaosOutcome, ChaosProbe, build_probe, judge
from neuro_bridge.mock.datagen import action_data
from neuro_bridge.protocol import GameCommandKind, NeuroCommands
from neuro_bridge.session_events import CheckedConnection, SessionEvent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from neuro_bridge.conformance import (
        Finding,
        ForceRecord,
        GameMessage,
        RegisteredAction,
        ResultRecord,
    )
    from neuro_bridge.mock.config import MockConfig
    from neuro_bridge.mock.transcript import Transcript
    from neuro_bridge.session_events import SessionObserver

__all__ = ["GENERATE", "GameDisconnectedError", "MockSession", "describe"]

logger = logging.getLogger(__name__)


class _Generate:
    def __repr__(self) -> str:
        return "GENERATE"


#: Default for ``data`` in :meth:`MockSession.send_action`: generate valid data.
GENERATE: Final[Any] = _Generate()

#: Seconds before a game's own normal close (code 1000) within which a probe's
#: missing answer is not judged: the probe and the game's close crossed.
CLOSE_CROSSING: Final = 0.5


def _peer_address(websocket: trio_websocket.WebSocketConnection) -> str:
    """Return the game's address as ``host:port``, or ``"gone"`` if it already left."""
    try:
        remote = websocket.remote
    except OSError:  # ENOTCONN: the game left during the upgrade
        return "gone"
    return str(remote) if isinstance(remote, str) else f"{remote.address}:{remote.port}"


class GameDisconnectedError(Exception):
    """The game's connection closed while the session was waiting or sending."""


class MockSession(CheckedConnection):
    """Neuro's side of one game connection.  Created by the server, not by you.

    Attributes:
        number: 1 for the first connection the server accepted, 2 for the next...
        peer: The game's address as ``host:port``.
        checker: The connection's conformance checker (its state is Neuro's view).
        messages: Every frame the game sent, decoded, in order.
        chaos_outcomes: The outcome of every chaos probe, in order.
        unforced_ids: Ids of the unforced actions sent automatically.
    """

    def __init__(
        self,
        websocket: trio_websocket.WebSocketConnection,
        config: MockConfig,
        number: int,
        *,
        transcript: Transcript | None = None,
        on_finding: Callable[[Finding], None] | None = None,
        on_chaos: Callable[[ChaosOutcome], None] | None = None,
    ) -> None:
        self._websocket = websocket
        self.config = config
        self.number = number
        self.peer = _peer_address(websocket)
        self.checker = ConformanceChecker(config.result_timeout, number)
        self.messages: list[GameMessage] = []
        self.chaos_outcomes: list[ChaosOutcome] = []
        self.unforced_ids: list[str] = []
        #: Called with every :class:`~neuro_bridge.session_events.SessionEvent`, in order
        #: (the recorder and the web console listen here).
        self.observers: list[SessionObserver] = []
        #: Whether forces are played automatically (starts as ``config.auto_play``;
        #: the web console's mode switch changes it).
        self.auto_play = config.auto_play
        #: Seconds before a force is played (starts as ``config.force_delay``).
        self.force_delay = config.force_delay
        #: Whether the automatic unforced actions and chaos probes are held back
        #: (a replay plays only what was recorded).
        self.scripted = False
        self._transcript = transcript
        self._on_finding = on_finding
        self._on_chaos = on_chaos
        seed = config.seed
        self.rng = random.Random(None if seed is None else f"{seed}/{number}")  # noqa: S311
        self._ids = 0
        self._send_lock = trio.Lock()
        self._wake = trio.Event()
        self._connected = True
        self.close_reason: str | None = None
        self._nursery: trio.Nursery | None = None
        self._known: dict[str, RegisteredAction] = {}
        self._just_unregistered: list[RegisteredAction] = []
        self._unregistered_probe_running = False
        self._shutdown_ready = 0
        self._play_scope: trio.CancelScope | None = None
        self._closed_by_neuro = False
        # trio time at which the game closed the connection normally, if it did.
        self._game_quit_at: float | None = None
        self.started_at = trio.current_time()

    # ------------------------------------------------------------ state

    @property
    def connected(self) -> bool:
        """Whether the game is still connected."""
        return self._connected

    @property
    def results(self) -> list[ResultRecord]:
        """Every well-formed ``action/result`` so far."""
        return list(self.checker.results)

    @property
    def contexts(self) -> list[str]:
        """The text of every ``context`` message so far."""
        return [
            m.data["message"]
            for m in self.messages
            if m.command == GameCommandKind.CONTEXT
            and isinstance(m.data, dict)
            and isinstance(m.data.get("message"), str)
        ]

    def commands(self) -> list[str | None]:
        """Return the ``command`` of every game frame so far."""
        return [m.command for m in self.messages]

    # ------------------------------------------------------------ running

    async def run(self) -> None:
        """Serve the connection until it closes.  Called by the server."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._deadline_loop)
            try:
                if self.config.reregister_on_connect and not self.scripted:
                    await self.send(NeuroCommands.reregister_all(), cause="connect")
                if self.config.unforced_rate > 0 and not self.scripted:
                    nursery.start_soon(self._unforced_loop)
                if self._chaos_rotation() and not self.scripted:
                    nursery.start_soon(self._chaos_loop)
                await self._read_loop()
            except GameDisconnectedError:
                pass
            finally:
                self._set_disconnected(self.close_reason or "closed")
                nursery.cancel_scope.cancel()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection (Neuro hangs up); waits at most ``close_timeout``.

        Chaos probes still waiting for an answer are dropped, not judged.
        """
        self._closed_by_neuro = True
        with trio.move_on_after(self.config.close_timeout):
            await self._websocket.aclose(code, reason)
        self._set_disconnected(self.close_reason or "closed by Neuro")

    def _set_disconnected(self, reason: str) -> None:
        if self._connected:
            self._connected = False
            self.close_reason = reason
            if self._transcript is not None:
                self._transcript.disconnected(self.number, reason)
            logger.info("game #%d disconnected: %s", self.number, reason)
            by = "neuro" if self._closed_by_neuro else "game"
            self._emit(SessionEvent(kind="end", text=reason, cause=by))
        self._poke()

    def _poke(self) -> None:
        self._wake.set()
        self._wake = trio.Event()

    async def _read_loop(self) -> None:
        while True:
            try:
                frame = await self._websocket.get_message()
            except trio_websocket.ConnectionClosed as exc:
                reason = exc.reason
                self.close_reason = (
                    "connection closed"
                    if reason is None
                    else f"code {reason.code}{' ' + reason.reason if reason.reason else ''}"
                )
                if reason is not None and reason.code == 1000 and not self._closed_by_neuro:
                    self._game_quit_at = trio.current_time()
                return
            self._receive(frame)

    def _receive(self, frame: str | bytes) -> None:
        received = self.checker.receive(frame, trio.current_time())
        message = received.message
        self.messages.append(message)
        self._emit(SessionEvent(kind="game", frame=message.frame, binary=message.binary))
        self._known.update(self.checker.registered)
        if self._transcript is not None:
            self._transcript.game_message(self.number, message)
        logger.debug("game #%d sent %.200s", self.number, message.frame)
        for finding in received.findings:
            self._report(finding)
        nursery = self._nursery
        if (
            message.command == GameCommandKind.STARTUP
            and self.config.character
            and not self.scripted
            and nursery is not None
        ):
            nursery.start_soon(self._acknowledge_startup)
        if message.command == GameCommandKind.SHUTDOWN_READY:
            self._shutdown_ready += 1
        if received.force is not None and self.auto_play and nursery is not None:
            nursery.start_soon(self._play_force, received.force)
        if received.unregistered:
            self._just_unregistered.extend(self._known[n] for n in received.unregistered)
            del self._just_unregistered[:-8]
            if (
                ChaosKind.UNREGISTERED_ACTION in self.config.chaos
                and not self.scripted
                and not self._unregistered_probe_running
                and nursery is not None
            ):
                self._unregistered_probe_running = True
                nursery.start_soon(self._probe_unregistered)
        self._poke()

    def _report(self, finding: Finding) -> None:
        logger.info("game #%d broke %s: %s", self.number, finding.rule, finding.message)
        if self._transcript is not None:
            self._transcript.finding(finding)
        if self._on_finding is not None:
            self._on_finding(finding)
        self._emit(SessionEvent(kind="finding", finding=finding))

    def _note(self, text: str) -> None:
        logger.info("game #%d: %s", self.number, text)
        if self._transcript is not None:
            self._transcript.note(self.number, text)
        self._emit(SessionEvent(kind="note", text=text))

    def _emit(self, event: SessionEvent) -> None:
        for observer in list(self.observers):
            try:
                observer(event)
            except Exception:
                logger.exception("game #%d: an observer failed on %s", self.number, event.kind)

    async def _deadline_loop(self) -> None:
        while True:
            wake = self._wake
            deadline = self.checker.next_deadline()
            with trio.move_on_at(math.inf if deadline is None else deadline):
                await wake.wait()
            for finding in self.checker.expire(trio.current_time()):
                self._report(finding)
                self._poke()

    async def _acknowledge_startup(self) -> None:
        character = self.config.character or "neuro"
        display = "Evil Neuro" if character == "evil" else "Neuro-sama"
        frame = NeuroCommands.startup_acknowledgement(
            f"mock-session-{self.number}", character, display
        )
        with contextlib.suppress(GameDisconnectedError):
            await self.send(frame, cause="startup")

    # ------------------------------------------------------------ sending

    def new_action_id(self) -> str:
        """Return a fresh action id, unique on this connection."""
        self._ids += 1
        return f"{self.number}-{self._ids}"

    async def send(self, frame: str | bytes, *, cause: str | None = None) -> None:
        """Send one raw frame to the game (recorded and checked like any other).

        Args:
            frame: The frame, as sent (bytes go as a binary frame).
            cause: Why Neuro sends it, kept in recordings: ``"force"``,
                ``"unforced"``, ``"chaos:KIND"``, ``"console"``... (default: the
                test code or a script drove it).

        Raises:
            GameDisconnectedError: If the connection is closed.
        """
        async with self._send_lock:
            if not self._connected:
                raise GameDisconnectedError("the game is not connected")
            self.checker.neuro_sent(frame, trio.current_time())
            if self._transcript is not None:
                self._transcript.neuro_frame(
                    self.number, frame if isinstance(frame, str) else repr(frame)
                )
            self._emit(
                SessionEvent(
                    kind="neuro",
                    frame=frame if isinstance(frame, str) else frame.decode("utf-8", "replace"),
                    binary=not isinstance(frame, str),
                    cause=cause,
                )
            )
            self._poke()
            try:
                await self._websocket.send_message(frame)
            except trio_websocket.ConnectionClosed as exc:
                raise GameDisconnectedError("the game is not connected") from exc

    def generate_data(self, name: str) -> str | None:
        """Return valid ``data`` text for action *name* (``None`` without a schema)."""
        action = self.checker.registered.get(name) or self._known.get(name)
        if action is None:
            return None
        return self.generate_data_for(action.schema, self.rng, self.config)

    @staticmethod
    def generate_data_for(schema: Any, rng: random.Random, config: MockConfig) -> str | None:
        """Return the ``data`` text Neuro sends for an action with *schema*.

        :func:`~neuro_bridge.mock.datagen.action_data` with *config*'s options:
        ``None`` for an action without parameters (no schema, or ``{}``);
        ``"{}"`` when no valid value can be generated (logged).
        """
        return action_data(
            schema,
            rng,
            omit_optional_probability=config.omit_optional_probability,
            extra_key_probability=config.extra_key_probability,
        )

    async def send_action(
        self,
        name: str,
        data: Any = GENERATE,
        *,
        action_id: str | None = None,
        cause: str | None = None,
    ) -> str:
        """Send an ``action`` for *name*; return its id.

        Args:
            name: Any name, registered or not.
            data: :data:`GENERATE` (default) for valid data generated from the
                action's schema (none without one); ``None`` to send no data; a
                ``str`` to send as the data text unchanged (it may be invalid JSON);
                any other value is JSON-encoded.
            action_id: The id to use (default: a fresh one).
            cause: As for :meth:`send`.

        Raises:
            GameDisconnectedError: If the game is not connected.
        """
        if data is GENERATE:
            text = self.generate_data(name)
        elif data is None or isinstance(data, str):
            text = data
        else:
            text = json.dumps(data)
        action_id = self.new_action_id() if action_id is None else action_id
        await self.send(NeuroCommands.action(action_id, name, text), cause=cause)
        return action_id

    async def force(
        self, name: str | None = None, data: Any = GENERATE, *, cause: str | None = None
    ) -> str:
        """Answer the force in flight now, instead of after ``force_delay``.

        Stops the automatic play of that force (retries included) and sends one
        action for it; return its id.

        Args:
            name: One of the force's actions (default: a random registered one).
            data: As for :meth:`send_action`.
            cause: As for :meth:`send`.

        Raises:
            RuntimeError: If no force is in flight.
            ValueError: If *name* is not one of the force's actions.
        """
        force = self.checker.force
        if force is None:
            raise RuntimeError("the game has no force in flight")
        if self._play_scope is not None:
            self._play_scope.cancel()
        if name is None:
            choices = [n for n in force.action_names if n in self.checker.registered]
            name = self.rng.choice(choices or list(force.action_names))
        elif name not in force.action_names:
            raise ValueError(f"{name!r} is not one of {list(force.action_names)}")
        return await self.send_action(name, data, cause=cause)

    def set_auto_play(self, on: bool, *, delay: float | None = None) -> None:
        """Turn the automatic play of forces on or off (the web console's mode switch).

        Turning it off stops the play of the force in flight; turning it on plays
        the force in flight, if any, after the delay.

        Args:
            on: Play forces automatically.
            delay: The new :attr:`force_delay` (default: unchanged).
        """
        if delay is not None:
            if delay < 0:
                raise ValueError(f"delay must be >= 0, not {delay!r}")
            self.force_delay = delay
        self.auto_play = on
        if not on:
            if self._play_scope is not None:
                self._play_scope.cancel()
        elif (
            self.checker.force is not None
            and self._play_scope is None
            and self._nursery is not None
            and self._connected
        ):
            self._nursery.start_soon(self._play_force, self.checker.force)
        self._poke()

    # ------------------------------------------------------------ waiting

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until *predicate* (checked after each event of the session) is true.

        Raises:
            GameDisconnectedError: If the game disconnects first.
        """
        await self._wait_until(predicate)

    async def _wait_until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            if not self._connected:
                raise GameDisconnectedError(
                    f"game #{self.number} disconnected ({self.close_reason})"
                )
            await self._wake.wait()

    async def expect_result(self, action_id: str) -> ResultRecord:
        """Wait for the game's first ``action/result`` for *action_id*; return it.

        Bound the wait with :func:`trio.fail_after` if you want it shorter than
        the config's ``result_timeout``.

        Args:
            action_id: The id returned by :meth:`send_action` or :meth:`force`.

        Raises:
            trio.TooSlowError: If ``result_timeout`` passed without a result (Neuro
                gave up on it; a ``result-missing`` finding was reported).
            GameDisconnectedError: If the game disconnected first.
        """
        result = await self._await_answer(action_id)
        if result is None:
            raise trio.TooSlowError(
                f"no result for action {action_id!r} within {self.config.result_timeout:g} s"
            )
        return result

    async def wait_for_actions(self, *names: str) -> None:
        """Wait until every action in *names* is registered (any action if none)."""
        registered = self.checker.registered
        await self._wait_until(
            lambda: all(n in registered for n in names) if names else bool(registered)
        )

    async def wait_for_force(self) -> ForceRecord:
        """Wait until a force is in flight; return it."""
        await self._wait_until(lambda: self.checker.force is not None)
        force = self.checker.force
        assert force is not None  # noqa: S101 - checked by the wait
        return force

    async def wait_for_command(self, command: str, *, start: int = 0) -> GameMessage:
        """Wait for a game frame with *command* at index *start* or later; return it."""
        found: list[GameMessage] = []

        def seen() -> bool:
            found[:] = [m for m in self.messages[start:] if m.command == command][:1]
            return bool(found)

        await self._wait_until(seen)
        return found[0]

    async def wait_closed(self) -> None:
        """Wait until the connection has closed."""
        while self._connected:
            await self._wake.wait()

    # ------------------------------------------------------------ playing

    async def _play_force(self, force: ForceRecord) -> None:
        retries = 0
        with trio.CancelScope() as scope:
            self._play_scope = scope
            try:
                while True:
                    await trio.sleep(self.force_delay)
                    if self.checker.force is not force:
                        return
                    names = [n for n in force.action_names if n in self.checker.registered]
                    if not names:
                        return
                    action_id = await self.send_action(self.rng.choice(names), cause="force")
                    answered = await self._await_answer(action_id)
                    if self.checker.force is not force:
                        return
                    if answered is None:
                        self._note(f"no result for #{action_id}: Neuro gives up the force")
                        self.checker.end_force()
                        return
                    if answered.success:
                        self.checker.end_force()
                        return
                    retries += 1
                    if retries > self.config.max_retries:
                        self._note(
                            f"force failed {retries} times: Neuro gives up"
                            f" (max_retries={self.config.max_retries})"
                        )
                        self.checker.end_force()
                        return
                    self._note(f"retrying the force ({retries}/{self.config.max_retries})")
            except GameDisconnectedError:
                return
            finally:
                if self._play_scope is scope:
                    self._play_scope = None

    async def _await_answer(self, action_id: str) -> ResultRecord | None:
        """Wait for the result of *action_id*; ``None`` once Neuro gave up on it."""

        def done() -> bool:
            return bool(self.checker.results_for(action_id)) or (
                action_id not in self.checker.unanswered()
            )

        await self._wait_until(done)
        results = self.checker.results_for(action_id)
        return results[0] if results else None

    async def _unforced_loop(self) -> None:
        rate = self.config.unforced_rate
        while True:
            await trio.sleep(self.rng.expovariate(rate))
            names = list(self.checker.registered)
            if not names:
                continue
            name = self.rng.choice(names)
            try:
                action_id = await self.send_action(name, cause="unforced")
            except GameDisconnectedError:
                return
            self.unforced_ids.append(action_id)
            self._note(f"unforced action #{action_id} {name}")

    # ------------------------------------------------------------ chaos

    def _chaos_rotation(self) -> list[ChaosKind]:
        return [
            kind
            for kind in ChaosKind
            if kind in self.config.chaos and kind is not ChaosKind.UNREGISTERED_ACTION
        ]

    async def _chaos_loop(self) -> None:
        kinds = self._chaos_rotation()
        index = 0
        try:
            await self.wait_for_actions()
            while True:
                await trio.sleep(self.config.chaos_interval)
                for _ in range(len(kinds)):
                    kind = kinds[index % len(kinds)]
                    index += 1
                    if await self.probe(kind) is not None:
                        break
        except GameDisconnectedError:
            return

    async def _probe_unregistered(self) -> None:
        try:
            await self.probe(ChaosKind.UNREGISTERED_ACTION)
            await trio.sleep(self.config.chaos_interval)
        except GameDisconnectedError:
            pass
        finally:
            self._unregistered_probe_running = False

    async def probe(self, kind: ChaosKind | str) -> ChaosOutcome | None:
        """Send one chaos probe of *kind* and wait for the game's answer; judge it.

        Waits for the probe's result (up to ``result_timeout``) or, for probes that
        expect none, ``chaos_grace`` seconds.  A mishandled probe is also reported
        as a ``chaos-mishandled`` finding.

        Returns:
            The outcome, or ``None`` when the probe cannot apply now (e.g. no
            registered action has a schema with a required key) or Neuro closed
            the connection before it could be judged, or the game's own normal
            close came within :data:`CLOSE_CROSSING` seconds of the probe (they
            crossed).  A game that disconnects otherwise before answering has
            mishandled it.

        Raises:
            GameDisconnectedError: If the game is not connected when sending.
        """
        probe = build_probe(
            kind,
            self.checker.registered,
            self.rng,
            self.new_action_id,
            self._just_unregistered,
        )
        if probe is None:
            logger.debug("chaos %s does not apply to game #%d now", kind, self.number)
            return None
        ready_before = self._shutdown_ready
        sent_at = trio.current_time()
        sent_index = len(self.messages)
        for frame in probe.frames:
            await self.send(frame, cause=f"chaos:{probe.kind.value}")
        await self._await_probe(probe)
        if self._closed_by_neuro:
            return None
        quit_at = self._game_quit_at
        if (
            probe.action_id is not None
            and quit_at is not None
            and quit_at - sent_at < CLOSE_CROSSING
            and not self.checker.results_for(probe.action_id)
        ):
            logger.debug("chaos %s crossed game #%d's close; not judged", kind, self.number)
            return None
        outcome = judge(
            probe,
            self.checker.results_for(probe.action_id) if probe.action_id else (),
            connected=self._connected,
            shutdown_ready=self._shutdown_ready > ready_before,
            registered_again=self._registered_before_answer(probe, sent_index),
            connection=self.number,
        )
        self.chaos_outcomes.append(outcome)
        self._emit(SessionEvent(kind="chaos", chaos=outcome))
        if self._transcript is not None:
            self._transcript.chaos(outcome)
        if self._on_chaos is not None:
            self._on_chaos(outcome)
        if not outcome.ok:
            self._report(
                self.checker.add_finding(
                    CHAOS_MISHANDLED,
                    f"{probe.kind.value} ({probe.description}): {outcome.detail}",
                )
            )
        self._poke()
        return outcome

    def _registered_before_answer(self, probe: ChaosProbe, since: int) -> bool:
        """Whether the game registered *probe*'s action between message *since* and its answer."""
        for message in self.messages[since:]:
            data = message.data if isinstance(message.data, dict) else {}
            if message.command == GameCommandKind.RESULT and data.get("id") == probe.action_id:
                return False
            if message.command == GameCommandKind.REGISTER and any(
                isinstance(a, dict) and a.get("name") == probe.action_name
                for a in data.get("actions") or ()
            ):
                return True
        return False

    async def _await_probe(self, probe: ChaosProbe) -> None:
        action_id = probe.action_id
        if action_id is None:
            with trio.move_on_after(self.config.chaos_grace):
                await self.wait_closed()
            return
        try:
            await self._await_answer(action_id)
        except GameDisconnectedError:
            return
        if probe.kind is ChaosKind.DUPLICATE_ID:
            # Give a second answer time to arrive.
            with trio.move_on_after(self.config.chaos_grace):
                with contextlib.suppress(GameDisconnectedError):
                    await self._wait_until(lambda: len(self.checker.results_for(action_id)) > 1)


def describe(sessions: Sequence[MockSession]) -> str:
    """Return one line per session (number, game, state) for the console."""
    lines = []
    for s in sessions:
        state = "connected" if s.connected else f"gone ({s.close_reason})"
        actions = ", ".join(s.registered_actions) or "no actions"
        force = " force in flight" if s.pending_force is not None else ""
        lines.append(f"#{s.number} {s.game or '?'} [{state}] {actions}{force}")
    return "\n".join(lines) or "no games have connected"
