"""Run trio in guest mode on top of a game engine's own loop.

A game engine owns the main thread and runs its own loop (pygame's frame loop,
Ren'Py's interaction loop, ...).  :func:`trio.lowlevel.start_guest_run` lets
trio live inside that loop: trio asks the host to run small callbacks on the
main thread, and waits for I/O on a thread of its own between them.  This module
is the engine-agnostic half of that arrangement:

* :class:`Host` is all an engine has to provide: a :meth:`Host.wake` that makes
  its loop come round soon, callable from any thread, never blocking.
* :class:`GuestRunner` keeps trio's callbacks in its own unbounded queue, posts
  at most one coalesced wake to the host, and runs the queue when the engine
  calls :meth:`GuestRunner.pump` (once per frame, or when woken) under a time
  budget.  It starts the run inside one root :class:`trio.CancelScope`, cancels
  it on request and shuts it down without ever abandoning it.
* :class:`ThreadingEventHost` and :func:`run_blocking` host a run with a plain
  :class:`threading.Event`, for tests and headless use.

Thread rules, in short: :meth:`GuestRunner.run_sync_soon_threadsafe` and
:meth:`Host.wake` may be called from any thread; everything else on
:class:`GuestRunner` belongs to the *host thread*, the thread that called
:meth:`GuestRunner.start`.  Trio code, and therefore every action handler, runs
on the host thread inside :meth:`GuestRunner.pump`.

A typical engine integration::

    runner = GuestRunner(host)
    runner.start(main)
    while game_running:
        handle_engine_events()      # a wake event just means "pump soon"
        runner.pump(0.005)          # raises if the trio run crashed
        draw_frame()
    runner.shutdown(5.0)            # cancel, then pump until trio is done
"""

from __future__ import annotations

import collections
import logging
import sys
import threading
import time
from typing import TYPE_CHECKING, Callable, Protocol, TypeVar, cast

import trio
from outcome import Error

if sys.version_info < (3, 11):  # pragma: no cover - the backport trio depends on
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from collections.abc import Awaitable, Sequence

    from outcome import Outcome
    from trio.abc import Clock, Instrument

__all__ = [
    "DEFAULT_PUMP_BUDGET",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "GuestRunner",
    "GuestShutdownTimeoutError",
    "Host",
    "ThreadingEventHost",
    "plain_interrupt",
    "run_blocking",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds :meth:`GuestRunner.pump` may spend per call by default: a third of a
#: 60 fps frame, so trio cannot starve the game's drawing.
DEFAULT_PUMP_BUDGET = 0.005

#: Seconds a shutdown waits in all for the guest run to finish -- its graceful part
#: included -- before it raises :class:`GuestShutdownTimeoutError`: the default of
#: :meth:`GuestRunner.shutdown`, :func:`run_blocking` and
#: :meth:`NeuroGame.shutdown <neuro_bridge.game.NeuroGame.shutdown>` (which
#: :mod:`neuro_bridge.game` and the engines re-export).
DEFAULT_SHUTDOWN_TIMEOUT = 2.0


class Host(Protocol):
    """What an engine provides to host a trio guest run.

    One method: :meth:`wake`.  Everything else (the callback queue, coalescing,
    time budgets, shutdown) lives in :class:`GuestRunner`, so each engine's host
    stays a few lines long.
    """

    def wake(self) -> None:
        """Make the host loop call :meth:`GuestRunner.pump` soon.

        Called from **any thread** (most often trio's I/O thread), so it must be
        thread-safe and must never block: post an event to the engine's queue,
        set a flag, write to a pipe.  The runner keeps at most one wake
        outstanding, so a host never sees a flood of them.  If it raises, the
        runner logs the error and keeps the callback queued for the next
        :meth:`GuestRunner.pump`; it is not fatal, but the host should then
        pump on its own (every frame, say) or the run stalls.
        """


def plain_interrupt(error: BaseException) -> BaseException:
    """Return the :exc:`KeyboardInterrupt` or :exc:`SystemExit` inside *error*, else *error*.

    Trio delivers Ctrl-C to the run's main task, and a nursery wraps what
    leaves it in a :exc:`BaseExceptionGroup`; a game's ``except
    KeyboardInterrupt:`` would never see it.  So a group holding a
    :exc:`KeyboardInterrupt` (first choice) or a :exc:`SystemExit` gives way to
    that exception, raised plain with its own traceback; anything else in the
    group is logged.  Any other exception is returned unchanged.
    """
    if not isinstance(error, BaseExceptionGroup):
        return error
    for kind in (KeyboardInterrupt, SystemExit):
        matched, rest = error.split(kind)
        if matched is None:
            continue
        leaf: BaseException = matched
        while isinstance(leaf, BaseExceptionGroup):
            leaf = leaf.exceptions[0]
        if rest is not None:
            logger.error("the guest run raised more than %s", kind.__name__, exc_info=rest)
        return leaf
    return error


class GuestShutdownTimeoutError(RuntimeError):
    """:meth:`GuestRunner.shutdown` ran out of time before the trio run finished.

    The run is cancelled but still alive, not abandoned: call
    :meth:`GuestRunner.shutdown` again, or keep calling
    :meth:`GuestRunner.pump`, to let it finish.  Something in the run is
    ignoring cancellation (a shielded scope, or blocking code in a handler).
    """


class GuestRunner:
    """Host a :func:`trio.lowlevel.start_guest_run` on an engine's loop.

    Trio hands its callbacks to :meth:`run_sync_soon_threadsafe`, which puts them
    in an unbounded queue and asks the *host* to wake; the host's thread runs
    them in :meth:`pump`.  One run at a time; a new one may be started once the
    previous has finished (:attr:`done`), in the same process and thread.

    A run ends in one of three ways, all reported on the host thread:

    * *async_fn* returns: :attr:`outcome` holds its value.
    * :meth:`cancel` / :meth:`shutdown`: the root cancel scope catches the
      cancellation and :attr:`outcome` is ``Value(None)``.
    * *async_fn* raises (including :exc:`KeyboardInterrupt`, which trio delivers
      to the main task): the exception is re-raised, once, from the
      :meth:`pump` or :meth:`shutdown` call that saw the run finish, and kept
      in :attr:`outcome`.  A :exc:`KeyboardInterrupt` or :exc:`SystemExit`
      inside an exception group is raised plain (:func:`plain_interrupt`), so
      the engine's ``except KeyboardInterrupt:`` works.

    Args:
        host: The engine's :class:`Host`.
        host_uses_signal_set_wakeup_fd: Pass :data:`True` if the engine uses
            :func:`signal.set_wakeup_fd` itself (see
            :func:`trio.lowlevel.start_guest_run`).
        restrict_keyboard_interrupt_to_checkpoints: As for :func:`trio.run`.
        clock: As for :func:`trio.run`; mostly for tests.
        instruments: As for :func:`trio.run`.

    """

    def __init__(
        self,
        host: Host,
        *,
        host_uses_signal_set_wakeup_fd: bool = False,
        restrict_keyboard_interrupt_to_checkpoints: bool = False,
        clock: Clock | None = None,
        instruments: Sequence[Instrument] = (),
    ) -> None:
        self._host = host
        self._host_uses_signal_set_wakeup_fd = host_uses_signal_set_wakeup_fd
        self._restrict_ki = restrict_keyboard_interrupt_to_checkpoints
        self._clock = clock
        self._instruments = tuple(instruments)

        # The hand-off.  deque.append/popleft are atomic; the lock only makes
        # "queue empty -> no wake needed" one step against concurrent appends.
        self._queue: collections.deque[Callable[[], object]] = collections.deque()
        self._lock = threading.Lock()
        # True while a wake is posted and not yet answered by a pump, or while a
        # pump is running (it will see anything appended): no wake needed then.
        self._wake_pending = False
        # Set on every append, so shutdown() can wait on the queue itself.
        self._queued = threading.Event()
        # During shutdown() the engine loop may be gone: do not wake it.
        self._quiet = False
        # Log the first failing wake with its traceback, repeats more quietly.
        self._wake_failing = False

        self._host_thread: int | None = None
        self._pumping = False
        self._running = False
        self._cancel_scope = trio.CancelScope()
        self._outcome: Outcome[object] | None = None
        self._unreported_error: BaseException | None = None

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        """Whether a run has started and trio has not yet reported it finished."""
        return self._running

    @property
    def done(self) -> bool:
        """Whether the most recent run has finished (False before any run)."""
        return not self._running and self._outcome is not None

    @property
    def outcome(self) -> Outcome[object] | None:
        """How the most recent run ended, or :data:`None` until it has.

        ``Value(None)`` after a cancellation.  Unwrapping an
        :class:`outcome.Error` re-raises the exception again; :meth:`pump` has
        already raised it once.
        """
        return self._outcome

    @property
    def cancel_called(self) -> bool:
        """Whether :meth:`cancel` was called for the current (or last) run."""
        return self._cancel_scope.cancel_called

    def pending(self) -> int:
        """Return how many callbacks are queued for the next :meth:`pump`."""
        return len(self._queue)

    # -------------------------------------------------------------- hand-off

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        """Queue *fn* to run on the host thread in the next :meth:`pump`.

        This is the callable trio is given.  Safe from **any thread**; never
        blocks (beyond a lock held for a few bytecodes) and never raises.  The
        first callback queued while no wake is outstanding calls
        :meth:`Host.wake`; later ones ride on that wake until a pump answers it.
        If the wake raises, the error is logged, *fn* stays queued and the next
        callback tries to wake again.

        Engine code may use it too, to run something on the host thread
        between frames; *fn* should not raise (an exception propagates out of
        that :meth:`pump`).
        """
        with self._lock:
            self._queue.append(fn)
            post = not self._wake_pending and not self._quiet
            if post:
                self._wake_pending = True
        self._queued.set()
        if post:
            self._post_wake()

    def _post_wake(self) -> None:
        """Call the host's wake; on failure log it and allow a retry."""
        try:
            self._host.wake()
        except Exception:
            with self._lock:
                self._wake_pending = False
            if self._wake_failing:
                logger.debug("host wake failed again; callbacks stay queued")
            else:
                self._wake_failing = True
                logger.exception("host wake failed; callbacks stay queued until the next pump")
        else:
            self._wake_failing = False

    def _done_callback(self, run_outcome: Outcome[object]) -> None:
        """Record the end of the run (trio calls this inside :meth:`pump`)."""
        logger.debug("trio guest run finished: %r", run_outcome)
        if isinstance(run_outcome, Error):
            error = plain_interrupt(run_outcome.error)
            run_outcome = Error(error)
            self._unreported_error = error
        self._outcome = run_outcome
        self._running = False

    # ----------------------------------------------------------------- start

    def start(self, async_fn: Callable[..., Awaitable[object]], *args: object) -> None:
        """Start ``async_fn(*args)`` as a trio guest run on this thread.

        Call on the host thread, with no trio run active in it.  *async_fn*
        runs inside a root :class:`trio.CancelScope` that :meth:`cancel`
        cancels.  When this returns, trio is set up (sync trio functions such
        as :func:`trio.lowlevel.current_trio_token` work on this thread) and
        its first callback is queued with a wake posted; *async_fn* itself
        first runs in the next :meth:`pump`.

        Raises:
            RuntimeError: A run is already in progress (on this runner, or
                another trio run on this thread).
            trio.TrioInternalError: Trio failed to set up the run.

        """
        if self._running:
            raise RuntimeError("a guest run is already in progress")
        if self._pumping:
            raise RuntimeError("cannot start a guest run from inside pump()")
        if self._queue:
            logger.debug("dropping %d stale callbacks", len(self._queue))
            self._queue.clear()
        self._host_thread = threading.get_ident()
        self._cancel_scope = trio.CancelScope()
        self._outcome = None
        self._unreported_error = None
        self._quiet = False
        self._running = True
        try:
            trio.lowlevel.start_guest_run(
                self._root,
                async_fn,
                args,
                run_sync_soon_threadsafe=self.run_sync_soon_threadsafe,
                done_callback=self._done_callback,
                host_uses_signal_set_wakeup_fd=self._host_uses_signal_set_wakeup_fd,
                clock=self._clock,
                instruments=self._instruments,
                restrict_keyboard_interrupt_to_checkpoints=self._restrict_ki,
            )
        except BaseException:
            self._running = False
            self._queue.clear()
            raise

    async def _root(
        self,
        async_fn: Callable[..., Awaitable[object]],
        args: tuple[object, ...],
    ) -> object:
        """Run the user's function inside the runner's root cancel scope."""
        with self._cancel_scope:
            return await async_fn(*args)
        return None  # cancelled by cancel() / shutdown()

    # ------------------------------------------------------------------ pump

    def pump(self, budget: float = DEFAULT_PUMP_BUDGET) -> int:
        """Run queued callbacks on the host thread; return how many ran.

        Drains the queue, including callbacks queued meanwhile, until it is
        empty or *budget* seconds are spent.  At least one queued callback runs
        even with a budget of 0, so every call makes progress.  If callbacks
        remain when the budget runs out, a wake is posted so the host comes
        back.  Cheap when there is nothing to do, so calling it every frame is
        fine.

        Call on the host thread.  A call nested in another (trio code, such as
        an action handler, that makes the engine pump again) returns 0 at once:
        trio cannot re-enter itself.

        Raises:
            BaseException: The exception the trio run ended with (an error
                from *async_fn*, :exc:`KeyboardInterrupt`, ...), raised once,
                by the call that saw the run finish; the runner is then free to
                :meth:`start` again.  An exception from a callback itself
                (a trio bug, or engine code given to
                :meth:`run_sync_soon_threadsafe`) also propagates; the rest of
                the queue is kept.
            RuntimeError: Called from a thread other than the host thread.

        """
        self._check_host_thread("pump")
        if self._pumping:
            return 0
        self._pumping = True
        with self._lock:
            # A pump is running: appends need no wake until it ends.
            self._wake_pending = True
        ran = 0
        try:
            deadline = time.perf_counter() + budget
            while self._unreported_error is None:
                if ran and time.perf_counter() >= deadline:
                    break
                try:
                    fn = self._queue.popleft()
                except IndexError:
                    break
                fn()
                ran += 1
        finally:
            self._pumping = False
            self._end_pump()
        error = self._unreported_error
        if error is not None:
            self._unreported_error = None
            raise error
        return ran

    def _end_pump(self) -> None:
        """Clear the wake flag, or re-arm the wake if callbacks are left."""
        with self._lock:
            rearm = bool(self._queue) and not self._quiet
            self._wake_pending = rearm
        if rearm:
            self._post_wake()

    def _check_host_thread(self, what: str) -> None:
        host_thread = self._host_thread
        if host_thread is not None and host_thread != threading.get_ident():
            raise RuntimeError(
                f"{what}() must be called from the thread that started the guest run"
            )

    # -------------------------------------------------------------- shutdown

    def cancel(self) -> None:
        """Cancel the run's root scope; never blocks.

        On the host thread the cancellation happens at once and trio wakes
        itself (through :meth:`run_sync_soon_threadsafe`) to deliver it; from
        another thread it is queued for the next :meth:`pump`.  The run then
        finishes over the next pumps with ``Value(None)``, unless *async_fn*
        shields itself or raises while unwinding.  A no-op when no run is in
        progress.
        """
        if not self._running:
            return
        if threading.get_ident() == self._host_thread:
            self._cancel_scope.cancel()
        else:
            self.run_sync_soon_threadsafe(self._cancel_scope.cancel)

    def shutdown(self, timeout: float = DEFAULT_SHUTDOWN_TIMEOUT, *, grace: float = 0.0) -> None:
        """Pump the run until trio reports it finished, cancelling it if need be.

        For *grace* seconds the run may finish on its own (a game API that has
        told its main task to flush and close pumps it here); then, or at once
        when *grace* is 0, the root scope is cancelled and the run is pumped
        until it has unwound -- never abandoned.

        Call on the host thread, outside trio (from the engine's quit path; not
        from an action handler).  Does not need the engine loop: it waits on the
        runner's own queue, so it works after the loop has stopped (Ren'Py runs
        its quit callbacks then), and it stops waking the host -- a host needs
        nothing but :meth:`Host.wake`.  A no-op when no run is in progress.

        Args:
            timeout: Seconds to wait for the run to finish, *grace* included.
            grace: Seconds to let the run finish before cancelling it (capped
                at *timeout*).

        Raises:
            GuestShutdownTimeoutError: The run did not finish in time; it is still
                alive (see :exc:`GuestShutdownTimeoutError`).
            BaseException: The exception the run ended with, as for
                :meth:`pump`.
            RuntimeError: Called from another thread or from inside
                :meth:`pump`.

        """
        self._check_host_thread("shutdown")
        if self._pumping:
            raise RuntimeError("shutdown() cannot be called from inside the guest run")
        if not self.running:
            return
        started = time.perf_counter()
        deadline = started + timeout
        self._quiet = True
        try:
            if grace > 0 and self._drain(started + min(grace, timeout)):
                return
            self.cancel()
            if not self._drain(deadline):
                raise GuestShutdownTimeoutError(
                    f"the trio guest run did not finish within {timeout} s of shutdown()"
                )
        finally:
            self._quiet = False
            if self._running:
                # Left alive (timeout, interrupt): let the engine loop resume.
                self._end_pump()

    def _drain(self, until: float) -> bool:
        """Pump (waiting on the queue, not the host) until *until*; return whether done."""
        while True:
            self._queued.clear()
            self.pump(max(until - time.perf_counter(), 0.0))
            if not self._running:
                return True
            remaining = until - time.perf_counter()
            if remaining <= 0:
                return False
            if not self._queue:
                self._queued.wait(remaining)


class ThreadingEventHost:
    """A :class:`Host` backed by a :class:`threading.Event`, for headless loops.

    The host thread sleeps in :meth:`wait` until trio has work, then pumps::

        host = ThreadingEventHost()
        runner = GuestRunner(host)
        runner.start(main)
        while runner.running:
            host.wait()
            runner.pump()

    Attributes:
        wakes: How many times :meth:`wake` has been called.

    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.wakes = 0

    def wake(self) -> None:
        """Wake :meth:`wait`; safe from any thread, never blocks for long."""
        self.wakes += 1
        self._event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until woken or *timeout* seconds pass; return whether woken.

        Consumes the wake, so the next call sleeps again.
        """
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


def run_blocking(
    async_fn: Callable[..., Awaitable[T]],
    *args: object,
    budget: float = DEFAULT_PUMP_BUDGET,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
) -> T:
    """Run ``async_fn(*args)`` in guest mode on a :class:`ThreadingEventHost`.

    Like :func:`trio.run`, but through :class:`GuestRunner`: for headless use
    and for testing code that will later run inside an engine.  If the host
    thread is interrupted while waiting (a :exc:`KeyboardInterrupt` outside
    trio), the run is shut down before the exception propagates.

    Returns:
        What *async_fn* returned.

    Raises:
        BaseException: What *async_fn* raised.

    """
    host = ThreadingEventHost()
    runner = GuestRunner(host)
    runner.start(async_fn, *args)
    try:
        while runner.running:
            host.wait()
            runner.pump(budget)
    except BaseException:
        runner.shutdown(shutdown_timeout)
        raise
    run_outcome = runner.outcome
    if run_outcome is None:  # pragma: no cover - running is False only when done
        raise RuntimeError("the guest run ended without an outcome")
    return cast("T", run_outcome.unwrap())
