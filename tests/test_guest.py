"""Tests for neuro_bridge.guest: the trio guest-mode runner, without an engine.

The host here is a deterministic stand-in for an engine loop: it records which
thread each wake comes from, can be told to fail its wakes, and lets the test
(the "engine") decide when to pump.  An instrument checks that every trio task
step runs on the host thread.  Guest runs must start on a thread with no trio
run active, so these are plain sync tests; every loop is bounded by a deadline
and every run is shut down at teardown, so no "abandoned run" warning escapes.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Callable, NoReturn

import pytest
import trio
import trio.testing
from outcome import Error, Value

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

from neuro_bridge.guest import (
    GuestRunner,
    GuestShutdownTimeoutError,
    ThreadingEventHost,
    plain_interrupt,
    run_blocking,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Upper bound for any wait in these tests; a healthy run needs milliseconds.
LIMIT = 5.0


class RecordingHost:
    """A fake engine loop: records wakes, can fail them, lets the test wait."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.wake_threads: list[int] = []
        self.fail_wakes = False
        self._event = threading.Event()

    @property
    def wakes(self) -> int:
        return len(self.wake_threads)

    def wake(self) -> None:
        self.wake_threads.append(threading.get_ident())
        if self.fail_wakes:
            raise RuntimeError("engine event queue is full")
        self._event.set()

    def wait(self, timeout: float) -> bool:
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class HostThreadCheck(trio.abc.Instrument):
    """Record any trio task step that does not run on the host thread."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.steps = 0
        self.off_thread: list[str] = []

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps += 1
        if threading.get_ident() != self.thread:
            self.off_thread.append(task.name)


@pytest.fixture
def host() -> RecordingHost:
    return RecordingHost()


@pytest.fixture
def check() -> HostThreadCheck:
    return HostThreadCheck()


@pytest.fixture
def runner(host: RecordingHost, check: HostThreadCheck) -> Iterator[GuestRunner]:
    runner = GuestRunner(host, instruments=[check])
    yield runner
    if runner.running:  # a failed test must not abandon its run
        runner.shutdown(LIMIT)
    assert check.off_thread == []


def drive(runner: GuestRunner, host: RecordingHost, budget: float = 0.01) -> int:
    """Act as the engine loop: sleep until woken, pump, until the run is done."""
    deadline = time.perf_counter() + LIMIT
    pumps = 0
    while runner.running:
        assert time.perf_counter() < deadline, "guest run did not finish in time"
        host.wait(0.1)
        runner.pump(budget)
        pumps += 1
    return pumps


def pump_until(runner: GuestRunner, host: RecordingHost, cond: Callable[[], bool]) -> None:
    deadline = time.perf_counter() + LIMIT
    while not cond():
        assert time.perf_counter() < deadline, "condition not reached in time"
        host.wait(0.1)
        runner.pump()


def noop() -> None:
    pass


# ------------------------------------------------------------------ hand-off


def test_many_callbacks_one_wake(runner: GuestRunner, host: RecordingHost) -> None:
    ran: list[int] = []

    def producer(base: int) -> None:
        for i in range(50):
            runner.run_sync_soon_threadsafe(functools.partial(ran.append, base + i))

    threads = [threading.Thread(target=producer, args=(k * 100,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LIMIT)

    assert host.wakes == 1
    assert runner.pending() == 200
    assert runner.pump(LIMIT) == 200
    assert sorted(ran) == sorted(k * 100 + i for k in range(4) for i in range(50))
    # The pump answered the wake: the next callback wakes the host again.
    runner.run_sync_soon_threadsafe(noop)
    assert host.wakes == 2


def test_pump_drains_callbacks_queued_during_drain(
    runner: GuestRunner, host: RecordingHost
) -> None:
    ran: list[int] = []

    def chain(n: int) -> None:
        ran.append(n)
        if n < 10:
            runner.run_sync_soon_threadsafe(lambda: chain(n + 1))

    runner.run_sync_soon_threadsafe(lambda: chain(0))
    assert runner.pump(LIMIT) == 11
    assert ran == list(range(11))
    assert runner.pending() == 0
    assert host.wakes == 1  # nothing queued during a pump needs a wake
    assert runner.pump() == 0


def test_pump_respects_budget_and_rearms_wake(runner: GuestRunner, host: RecordingHost) -> None:
    for _ in range(10):
        runner.run_sync_soon_threadsafe(lambda: time.sleep(0.005))
    assert host.wait(0)

    ran = runner.pump(0.012)
    assert 1 <= ran <= 3
    assert runner.pending() == 10 - ran
    assert host.wakes == 2  # re-armed so the host comes back
    assert host.wait(0)

    assert runner.pump(0) == 1  # a zero budget still makes progress
    assert host.wakes == 3
    assert runner.pump(LIMIT) == 9 - ran
    assert runner.pending() == 0
    assert host.wakes == 3  # drained: nothing to come back for


def test_wake_raising_keeps_callbacks(
    runner: GuestRunner, host: RecordingHost, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []
    host.fail_wakes = True
    with caplog.at_level(logging.DEBUG, logger="neuro_bridge.guest"):
        runner.run_sync_soon_threadsafe(lambda: ran.append("a"))  # must not raise
        runner.run_sync_soon_threadsafe(lambda: ran.append("b"))
    assert host.wakes == 2  # the failed wake is retried, not considered posted
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # logged with a traceback once, then quietly
    assert errors[0].exc_info is not None
    assert runner.pending() == 2

    host.fail_wakes = False
    assert runner.pump() == 2
    assert ran == ["a", "b"]
    runner.run_sync_soon_threadsafe(noop)
    assert host.wakes == 3


def test_run_survives_failing_wakes_when_host_polls(
    runner: GuestRunner, host: RecordingHost, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> str:
        await trio.sleep(0.01)
        return "ok"

    host.fail_wakes = True
    with caplog.at_level(logging.CRITICAL, logger="neuro_bridge.guest"):
        runner.start(main)
        deadline = time.perf_counter() + LIMIT
        while runner.running:  # an engine that pumps every frame anyway
            assert time.perf_counter() < deadline
            time.sleep(0.001)
            runner.pump()
    assert runner.outcome == Value("ok")


def test_callbacks_run_on_host_thread(runner: GuestRunner, host: RecordingHost) -> None:
    ran_on: list[int] = []
    thread = threading.Thread(
        target=runner.run_sync_soon_threadsafe,
        args=(lambda: ran_on.append(threading.get_ident()),),
    )
    thread.start()
    thread.join(LIMIT)
    assert host.wake_threads == [thread.ident]
    assert runner.pump() == 1
    assert ran_on == [host.thread]


# ------------------------------------------------------------------- running


def test_run_returns_value_on_host_thread(
    runner: GuestRunner, host: RecordingHost, check: HostThreadCheck
) -> None:
    async def main(a: int, b: int) -> int:
        assert threading.get_ident() == host.thread
        await trio.sleep(0.01)
        return a + b

    assert (runner.running, runner.done, runner.outcome) == (False, False, None)
    runner.start(main, 2, 3)
    assert runner.running
    assert host.wake_threads == [host.thread]  # start() queued the first tick
    drive(runner, host)
    assert runner.done
    assert runner.outcome == Value(5)
    assert check.steps > 0
    # trio's I/O thread woke the host after the sleep.
    assert any(t != host.thread for t in host.wake_threads)


def test_trio_io_in_guest_mode(runner: GuestRunner, host: RecordingHost) -> None:
    async def main() -> bytes:
        a, b = trio.socket.socketpair()
        with a, b:
            with trio.fail_after(LIMIT):
                async with trio.open_nursery() as nursery:
                    received: list[bytes] = []

                    async def receive() -> None:
                        received.append(await a.recv(10))

                    nursery.start_soon(receive)
                    await trio.sleep(0.01)  # the receiver is parked on the socket
                    await b.send(b"ping")
                thread_result = await trio.to_thread.run_sync(lambda: b"!")
        return received[0] + thread_result

    runner.start(main)
    drive(runner, host)
    assert runner.outcome == Value(b"ping!")


def test_busy_run_is_drained_in_one_pump(runner: GuestRunner, host: RecordingHost) -> None:
    async def main() -> int:
        for _ in range(200):
            await trio.lowlevel.checkpoint()
        return 200

    runner.start(main)
    assert host.wait(0)
    runner.pump(LIMIT)  # every tick trio queues meanwhile runs in this call
    assert runner.done
    assert runner.outcome == Value(200)
    assert host.wakes == 1


def test_busy_run_yields_to_the_host_after_budget(runner: GuestRunner, host: RecordingHost) -> None:
    async def spin() -> None:
        while True:
            await trio.lowlevel.checkpoint()

    runner.start(spin)
    assert host.wait(0)
    started = time.perf_counter()
    assert runner.pump(0.01) > 1
    assert time.perf_counter() - started < 1.0
    assert runner.running
    assert host.wait(0)  # more work: the wake was re-armed
    runner.shutdown(LIMIT)
    assert runner.outcome == Value(None)


# ------------------------------------------------------------------ shutdown


def test_cancel_from_host_wakes_sleeping_trio(runner: GuestRunner, host: RecordingHost) -> None:
    entered: list[bool] = []

    async def main() -> None:
        entered.append(True)
        await trio.sleep_forever()

    runner.start(main)
    pump_until(runner, host, lambda: bool(entered) and runner.pending() == 0)
    while host.wait(0.05):  # let trio settle into its I/O wait
        runner.pump()
    wakes = host.wakes

    runner.cancel()
    assert runner.cancel_called
    assert host.wait(LIMIT), "trio did not wake the host after cancel()"
    assert host.wakes > wakes
    assert host.wake_threads[-1] != host.thread  # from trio's I/O thread
    drive(runner, host)
    assert runner.outcome == Value(None)


def test_cancel_from_another_thread(runner: GuestRunner, host: RecordingHost) -> None:
    runner.start(trio.sleep_forever)
    runner.pump()
    thread = threading.Thread(target=runner.cancel)
    thread.start()
    thread.join(LIMIT)
    drive(runner, host)
    assert runner.outcome == Value(None)
    assert runner.cancel_called


def test_shutdown_without_engine_loop(runner: GuestRunner, host: RecordingHost) -> None:
    unwound: list[str] = []

    async def main() -> None:
        try:
            await trio.sleep_forever()
        finally:
            # Cleanup that needs trio's I/O thread while the engine is gone.
            with trio.CancelScope(shield=True):
                await trio.sleep(0.02)
            unwound.append("clean")

    runner.start(main)
    runner.pump()
    host.fail_wakes = True  # the engine's loop has stopped (Ren'Py quit callback)
    wakes = host.wakes

    runner.shutdown(LIMIT)
    assert not runner.running
    assert runner.done
    assert runner.outcome == Value(None)
    assert unwound == ["clean"]
    assert host.wakes == wakes  # shutdown waits on its own queue
    runner.shutdown(LIMIT)  # a no-op once done


def test_shutdown_timeout_keeps_run_alive(runner: GuestRunner, host: RecordingHost) -> None:
    async def stubborn() -> str:
        with trio.CancelScope(shield=True):
            await trio.sleep(0.3)
        return "finished"

    runner.start(stubborn)
    runner.pump()
    with pytest.raises(GuestShutdownTimeoutError):
        runner.shutdown(0.05)
    assert runner.running  # not abandoned
    runner.shutdown(LIMIT)
    assert runner.outcome == Value("finished")


def test_shutdown_before_first_pump(runner: GuestRunner) -> None:
    entered: list[bool] = []

    async def main() -> None:
        entered.append(True)
        await trio.sleep_forever()

    runner.start(main)
    runner.shutdown(LIMIT)  # the root scope is cancelled before main runs
    assert runner.outcome == Value(None)
    assert entered == [True]  # main still runs, up to its first checkpoint


def test_shutdown_grace_lets_the_run_finish_on_its_own(
    runner: GuestRunner, host: RecordingHost
) -> None:
    async def flush_then_close() -> str:
        await trio.sleep(0.02)  # needs trio's I/O thread, not the engine loop
        return "flushed"

    runner.start(flush_then_close)
    runner.pump()
    wakes = host.wakes
    runner.shutdown(LIMIT, grace=LIMIT)
    assert runner.outcome == Value("flushed")
    assert not runner.cancel_called
    assert host.wakes == wakes  # a host needs nothing but wake()


def test_shutdown_cancels_once_the_grace_is_over(runner: GuestRunner) -> None:
    async def main() -> None:
        await trio.sleep_forever()

    runner.start(main)
    runner.pump()
    runner.shutdown(LIMIT, grace=0.02)
    assert runner.cancel_called
    assert runner.outcome == Value(None)


# -------------------------------------------------------------------- errors


def test_error_reraised_from_pump_once(runner: GuestRunner, host: RecordingHost) -> None:
    async def fail() -> NoReturn:
        await trio.sleep(0.01)
        raise ValueError("handler exploded")

    runner.start(fail)
    with pytest.raises(ValueError, match="handler exploded"):
        drive(runner, host)
    assert runner.done
    assert isinstance(runner.outcome, Error)
    assert isinstance(runner.outcome.error, ValueError)
    assert runner.pump() == 0  # reported once, not on every frame


def test_error_while_unwinding_reraised_from_shutdown(
    runner: GuestRunner, host: RecordingHost
) -> None:
    async def main() -> None:
        try:
            await trio.sleep_forever()
        finally:
            raise ValueError("cleanup failed")

    runner.start(main)
    runner.pump()
    with pytest.raises(ValueError, match="cleanup failed"):
        runner.shutdown(LIMIT)
    assert runner.done


def test_keyboard_interrupt_from_trio_reaches_host(
    runner: GuestRunner, host: RecordingHost
) -> None:
    async def interrupted() -> NoReturn:
        await trio.sleep(0.01)
        raise KeyboardInterrupt

    runner.start(interrupted)
    with pytest.raises(KeyboardInterrupt):
        drive(runner, host)
    assert runner.done


@pytest.mark.parametrize("kind", ["ki", "exit"])
def test_interrupt_inside_a_nursery_is_reraised_plain(
    runner: GuestRunner, host: RecordingHost, kind: str
) -> None:
    # A nursery wraps what leaves it in a BaseExceptionGroup; a game's
    # ``except KeyboardInterrupt:`` must still see Ctrl-C.
    async def interrupted() -> NoReturn:
        await trio.sleep(0.01)
        if kind == "ki":
            raise KeyboardInterrupt
        raise SystemExit(3)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.sleep_forever)
            nursery.start_soon(interrupted)

    runner.start(main)
    expected = KeyboardInterrupt if kind == "ki" else SystemExit
    with pytest.raises(expected) as caught:
        drive(runner, host)
    assert type(caught.value) is expected
    if isinstance(caught.value, SystemExit):
        assert caught.value.code == 3
    assert isinstance(runner.outcome, Error)
    assert type(runner.outcome.error) is expected


def test_plain_interrupt_prefers_ctrl_c_and_logs_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ki = KeyboardInterrupt()
    group = BaseExceptionGroup(
        "run", [ValueError("boom"), BaseExceptionGroup("inner", [SystemExit(1), ki])]
    )
    with caplog.at_level(logging.ERROR, logger="neuro_bridge.guest"):
        assert plain_interrupt(group) is ki
    assert "boom" in caplog.text
    plain = ValueError("x")
    assert plain_interrupt(plain) is plain
    only_errors = ExceptionGroup("run", [ValueError("a")])
    assert plain_interrupt(only_errors) is only_errors


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="trio only handles SIGINT on the main thread with the default handler",
)
def test_sigint_inside_trio_reaches_host(runner: GuestRunner, host: RecordingHost) -> None:
    @trio.lowlevel.enable_ki_protection
    def ctrl_c_in_protected_code() -> None:
        signal.raise_signal(signal.SIGINT)

    async def main() -> None:
        await trio.sleep(0.01)
        ctrl_c_in_protected_code()  # trio defers it to the main task
        await trio.sleep_forever()

    runner.start(main)
    with pytest.raises(KeyboardInterrupt):
        drive(runner, host)
    assert runner.done
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ------------------------------------------------------------------ lifecycle


def test_restart_after_finish(runner: GuestRunner, host: RecordingHost) -> None:
    async def answer(x: int) -> int:
        await trio.lowlevel.checkpoint()
        return x

    async def fail() -> NoReturn:
        await trio.lowlevel.checkpoint()
        raise RuntimeError("second run fails")

    runner.start(answer, 1)
    with pytest.raises(RuntimeError, match="already in progress"):
        runner.start(answer, 2)
    drive(runner, host)
    assert runner.outcome == Value(1)

    runner.start(fail)
    with pytest.raises(RuntimeError, match="second run fails"):
        drive(runner, host)

    runner.start(answer, 3)
    assert not runner.cancel_called  # each run gets a fresh root scope
    drive(runner, host)
    assert runner.outcome == Value(3)

    # Trio is clean on this thread: no run is active and a new one can start.
    with pytest.raises(RuntimeError):
        trio.lowlevel.current_trio_token()
    assert trio.run(answer, 4) == 4


def test_misuse_is_refused(runner: GuestRunner, host: RecordingHost) -> None:
    nested: list[int] = []
    refused: list[str] = []

    async def main() -> None:
        nested.append(runner.pump())  # re-entrant pump is a no-op
        try:
            runner.shutdown(LIMIT)
        except RuntimeError as exc:
            refused.append(str(exc))
        await trio.lowlevel.checkpoint()

    runner.start(main)
    errors: list[BaseException] = []

    def pump_elsewhere() -> None:
        try:
            runner.pump()
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=pump_elsewhere)
    thread.start()
    thread.join(LIMIT)
    assert len(errors) == 1

    drive(runner, host)
    assert nested == [0]
    assert len(refused) == 1
    assert runner.outcome == Value(None)


# ---------------------------------------------------------- headless helpers


def test_threading_event_host() -> None:
    host = ThreadingEventHost()
    assert not host.wait(0)
    threading.Thread(target=host.wake).start()
    assert host.wait(LIMIT)
    assert not host.wait(0)  # the wake was consumed
    assert host.wakes == 1


def test_run_blocking() -> None:
    async def main(delay: float) -> str:
        await trio.sleep(delay)
        return "done"

    async def fail() -> NoReturn:
        raise KeyError("missing")

    assert run_blocking(main, 0.01) == "done"
    with pytest.raises(KeyError, match="missing"):
        run_blocking(fail)
