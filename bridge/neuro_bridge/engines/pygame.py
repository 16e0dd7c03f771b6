"""Neuro in a pygame-ce game: the guest-mode host, the frame wait, event handling.

:class:`PygameNeuro` is the engine-agnostic :class:`~neuro_bridge.game.NeuroGame`
(actions, context, forces, action windows; see :mod:`neuro_bridge.game`) on a
pygame loop: :class:`PygameHost` wakes the loop, :meth:`PygameNeuro.wait_frame`
replaces ``clock.tick`` and serves trio while it waits, and
:meth:`PygameNeuro.handle_event` swallows the host's wake events::

    neuro = PygameNeuro("My Game")             # URL: $NEURO_SDK_WS_URL or ws://localhost:8000

    @neuro.action("my_game_jump", "Jump.", {"type": "object", "properties": {...}})
    def jump(data):                            # runs on the main thread
        player.jump()

    neuro.start()
    while running:
        for event in pygame.event.get():
            ...                                # our wake events may be ignored
        draw()
        neuro.wait_frame(60)                   # instead of clock.tick(60)
    neuro.shutdown()

**Threads.**  Every method of :class:`PygameNeuro` belongs to the main thread (the
one that called :meth:`~neuro_bridge.game.NeuroGame.start`); handlers and event
callbacks run on it, inside :meth:`~neuro_bridge.game.NeuroGame.pump` /
:meth:`PygameNeuro.wait_frame`.  Only :meth:`PygameHost.wake` is called from
trio's I/O thread.

**Latency.**  :meth:`PygameNeuro.wait_frame` sleeps for what is left of the frame
but wakes as soon as trio has work, runs it, and sleeps again, so an action is
handled within a fraction of a millisecond of its arrival.  A game that keeps
``clock.tick(fps)`` and calls :meth:`~neuro_bridge.game.NeuroGame.pump` once per
frame works too, but then every message waits for the next frame: up to a whole
frame per hop (16.7 ms at 60 fps, about 8 ms on average), and a handler that
awaits several round trips pays that on each.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Final

try:
    import pygame
except ModuleNotFoundError as _missing:
    if _missing.name != "pygame":
        raise
    raise ModuleNotFoundError(
        "neuro_bridge.engines.pygame needs pygame-ce; install it with the pygame extra:"
        " pip install 'neuro-bridge[pygame]'",
        name="pygame",
    ) from _missing

from neuro_bridge.game import (
    COMMAND_QUEUE_SIZE,
    CONNECTED_EVENT,
    DEFAULT_SHUTDOWN_TIMEOUT,
    GRACEFUL_STOP_TIMEOUT,
    CommandQueueFullError,
    NeuroGame,
)
from neuro_bridge.guest import DEFAULT_PUMP_BUDGET

if TYPE_CHECKING:
    from collections.abc import Awaitable

    import trio

__all__ = [
    "COMMAND_QUEUE_SIZE",
    "CONNECTED_EVENT",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "GRACEFUL_STOP_TIMEOUT",
    "WAKE_REPOST_AFTER",
    "CommandQueueFullError",
    "PygameHost",
    "PygameNeuro",
]

logger = logging.getLogger(__name__)

_perf_counter: Final = time.perf_counter

#: Seconds after which :meth:`PygameHost.wake` posts again although its last wake
#: event was never reported consumed (the game swallowed it without
#: :meth:`PygameNeuro.handle_event`).
WAKE_REPOST_AFTER: Final = 0.25


class PygameHost:
    """The :class:`~neuro_bridge.guest.Host` for pygame-ce: wakes the game's loop.

    :meth:`wake` does two cheap things, from any thread:

    * sets a :class:`threading.Event` that :meth:`wait` sleeps on (what
      :meth:`PygameNeuro.wait_frame` uses), and
    * unless the main thread is sleeping in :meth:`wait` right now, posts one
      event of :attr:`event_type` to pygame's queue, for loops that block in
      :func:`pygame.event.wait` themselves.  Coalesced: while a posted
      wake event has not been reported consumed (:meth:`consumed`), no other is
      posted (unless it is older than *repost_after* seconds), so the SDL queue
      holds at most one of ours.  The post is guarded: a full SDL queue, a closed
      display or a blocked event type is logged (once) and counted in
      :attr:`post_failures`, never raised -- the threading event still wakes
      :meth:`wait`, and the game pumps every frame anyway.

    Args:
        event_type: The pygame event type to post; a fresh
            :func:`pygame.event.custom_type` by default.
        repost_after: See :data:`WAKE_REPOST_AFTER`.

    Attributes:
        event_type: The wake event type; :meth:`PygameNeuro.handle_event` swallows it.
        posted: Wake events posted so far.
        post_failures: Posts that failed.

    """

    def __init__(
        self, event_type: int | None = None, *, repost_after: float = WAKE_REPOST_AFTER
    ) -> None:
        self.event_type = pygame.event.custom_type() if event_type is None else event_type
        self.repost_after = repost_after
        self.posted = 0
        self.post_failures = 0
        self._lock = threading.Lock()
        self._posted_at: float | None = None
        # A binary semaphore: released = a wake is pending.  A raw lock (not a
        # threading.Event) because its timed acquire is one cheap call.
        self._woken = threading.Lock()
        self._woken.acquire()
        self._waiting = False  # the main thread is inside wait()
        self._failure_logged = False

    def wake(self) -> None:
        """Wake the game loop; any thread, never blocks, never raises."""
        with contextlib.suppress(RuntimeError):  # already released: a wake is pending
            self._woken.release()
        if self._waiting:
            # The main thread sleeps in wait() and pumps when it wakes: posting
            # would only hold the GIL it needs (and leave a stale event behind).
            return
        now = time.monotonic()
        with self._lock:
            if self._posted_at is not None and now - self._posted_at < self.repost_after:
                return
            self._posted_at = now
        try:
            posted = pygame.event.post(pygame.event.Event(self.event_type))
            problem = "the event type is blocked"
        except pygame.error as exc:  # full queue, or no display
            posted = False
            problem = str(exc)
        if posted:
            self.posted += 1
            self._failure_logged = False
            return
        with self._lock:
            self._posted_at = None
        self.post_failures += 1
        if not self._failure_logged:
            self._failure_logged = True
            logger.debug("could not post a pygame wake event: %s", problem)

    def consumed(self) -> None:
        """Report that the game took our wake event off the queue (main thread)."""
        with self._lock:
            self._posted_at = None

    def is_wake_event(self, event: pygame.event.Event) -> bool:
        """Return whether *event* is one of our wake events."""
        return bool(event.type == self.event_type)

    def wait(self, timeout: float) -> bool:
        """Sleep until :meth:`wake` or *timeout* seconds; return whether woken.

        Consumes the wake.  Call on the main thread, and pump after it returns.
        """
        self._waiting = True
        try:
            return self._woken.acquire(True, timeout if timeout > 0 else 0.0)
        finally:
            self._waiting = False


class PygameNeuro(NeuroGame):
    """Neuro for a pygame-ce game: :class:`~neuro_bridge.game.NeuroGame` on a pygame loop.

    Create it, declare actions, :meth:`~neuro_bridge.game.NeuroGame.start`, then
    call :meth:`wait_frame` (or :meth:`~neuro_bridge.game.NeuroGame.pump`) once
    per frame and :meth:`shutdown` on quit.  See the module docstring for the
    thread rules and the latency trade-off, and :class:`~neuro_bridge.game.NeuroGame`
    for everything else it offers.

    The arguments and errors are :class:`~neuro_bridge.game.NeuroGame`'s, except
    that *host* is a :class:`PygameHost`, a new one by default.
    """

    def __init__(
        self,
        game_title: str,
        url: str | None = None,
        *,
        host: PygameHost | None = None,
        pump_budget: float = DEFAULT_PUMP_BUDGET,
        **component_options: Any,
    ) -> None:
        self.host = host if host is not None else PygameHost()
        super().__init__(
            game_title, url, host=self.host, pump_budget=pump_budget, **component_options
        )
        self._last_frame: float | None = None
        # wait_frame was called since the last wake event reached handle_event.
        self._paced = False

    def start(
        self,
        *,
        before_connect: Callable[[trio.Nursery], Awaitable[str | None]] | None = None,
    ) -> None:
        """As :meth:`NeuroGame.start <neuro_bridge.game.NeuroGame.start>`; frames count afresh."""
        self._last_frame = None
        super().start(before_connect=before_connect)

    def wait_frame(self, fps: float) -> int:
        """Wait for the rest of the frame like ``clock.tick(fps)``, serving trio meanwhile.

        Sleeps until ``1/fps`` seconds after the previous frame's deadline, but
        wakes whenever trio has work and runs it at once (handlers included), so
        Neuro's actions are answered within a fraction of a millisecond instead
        of at the next frame.  Each pump gets no more than what is left of the
        frame (nor more than :attr:`pump_budget`), so a flood of messages cannot
        make the frame late; what is left over runs in the next frame.  Input
        events stay in pygame's queue for the next frame, as with ``clock.tick``.
        A game that falls behind is not made to catch up.  ``fps <= 0`` only pumps.

        Returns:
            Milliseconds since the previous call, like :meth:`pygame.time.Clock.tick`.

        Raises:
            KeyboardInterrupt: Ctrl-C, raised plain (never inside an exception
                group), so ``except KeyboardInterrupt:`` around the game loop
                works; likewise :exc:`SystemExit`.
            BaseException: What the guest run crashed with, as for
                :meth:`~neuro_bridge.game.NeuroGame.pump`.

        """
        # An idle frame is the common case: it does as little as it can, because
        # code run right after drawing or sleeping is slow (cold caches).  So no
        # pump before sleeping unless the frame is already over or a window needs
        # its clocks checked: trio's work wakes the sleep below at once anyway.
        now = _perf_counter()
        previous = self._last_frame
        self._paced = True
        if fps > 0:
            period = 1.0 / fps
            if previous is None:
                target = now + period
            else:
                target = previous + period
                if target < now - period:  # far behind: start afresh
                    target = now
        else:
            target = now
        self._last_frame = target
        full_frame = 0 if previous is None else int((target - previous) * 1000)
        remaining = target - now
        if remaining <= 0 or self._windows:
            budget = self.pump_budget
            # Raises what the guest run ended with (once), as pump() does.
            self.pump(min(budget, remaining) if fps > 0 else budget)
            remaining = target - _perf_counter()
        host = self.host
        while remaining > 0:
            if not host.wait(remaining):
                return full_frame  # slept to the deadline: the frame is over
            self.pump(min(self.pump_budget, target - _perf_counter()))
            remaining = target - _perf_counter()
        return 0 if previous is None else int((_perf_counter() - previous) * 1000)

    def handle_event(self, event: pygame.event.Event) -> bool:
        """Swallow our wake events: return ``True`` if *event* is one.

        Call it on each event from :func:`pygame.event.get` / :func:`pygame.event.wait`
        (skip the event if it returns true).  In a loop that blocks in
        :func:`pygame.event.wait` it pumps, so Neuro is served.  In a loop paced by
        :meth:`wait_frame` it leaves the work to the frame wait, which comes
        before the next frame anyway: pumping here too could run a second
        blocking handler between two frames.  Games that ignore unknown event
        types may skip this; then a loop that blocks in :func:`pygame.event.wait`
        is woken only every :data:`WAKE_REPOST_AFTER` seconds.
        """
        if not self.host.is_wake_event(event):
            return False
        self.host.consumed()
        if self._paced:
            self._paced = False
            if self.runner.pending():
                # In case the loop no longer calls wait_frame: come back here.
                self.host.wake()
        else:
            self.pump()
        return True

    def shutdown(self, timeout: float = DEFAULT_SHUTDOWN_TIMEOUT) -> None:
        """Send what is queued, close the connection and end the guest run.

        As :meth:`NeuroGame.shutdown <neuro_bridge.game.NeuroGame.shutdown>`, then
        drops wake events left in pygame's queue.  Call it before or after
        ``pygame.quit()``.
        """
        super().shutdown(timeout)
        if pygame.display.get_init():
            with contextlib.suppress(pygame.error):  # the display closed meanwhile
                pygame.event.clear(self.host.event_type)
        self.host.consumed()
