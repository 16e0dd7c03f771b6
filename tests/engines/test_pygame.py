"""neuro_bridge.engines.pygame: a real pygame-ce loop (dummy video driver), real sockets.

The game runs on the main thread with its trio guest run; the stand-in Neuro runs
in a thread of its own (:mod:`tests.engines.server_thread`).
"""

from __future__ import annotations

import gc
import importlib
import json
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import pygame
import pytest
import trio

from neuro_bridge.component import (
    GRACEFUL_SHUTDOWN_EVENT,
    IMMEDIATE_SHUTDOWN_EVENT,
    ActionResult,
)
from neuro_bridge.engines.pygame import CONNECTED_EVENT, PygameHost, PygameNeuro
from neuro_bridge.protocol import Action, LocalProtocolError
from neuro_bridge.trio_ws import OutboxFullError
from tests.engines.server_thread import ServerThread, first_connection, run_frames
from tests.helpers import COLUMN_SCHEMA, action_frame

if TYPE_CHECKING:
    from tests.helpers import ServerConnection


def wait_connected(
    neuro: PygameNeuro, server: ServerThread, screen: pygame.Surface
) -> ServerConnection:
    poll = first_connection(server)
    run_frames(neuro, lambda: neuro.connected and poll() is not None, screen=screen)
    connection = poll()
    assert connection is not None
    return connection


def commands(connection: ServerConnection) -> list[str]:
    return connection.commands()


def results(connection: ServerConnection) -> dict[str, dict[str, Any]]:
    return {
        m["data"]["id"]: m["data"] for m in connection.messages() if m["command"] == "action/result"
    }


# ---------------------------------------------------------------- the game loop


def test_forced_action_runs_handler_on_main_thread(screen: pygame.Surface) -> None:
    main_thread = threading.get_ident()
    handled: list[tuple[int, int]] = []
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)

        @neuro.action("test_drop", "Drop a disc.", COLUMN_SCHEMA, one_shot=True)
        def drop(data: dict[str, Any]) -> str:
            handled.append((threading.get_ident(), data["column"]))
            return f"Dropped in {data['column']}."

        connected: list[object] = []
        neuro.on(CONNECTED_EVENT, connected.append)
        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            neuro.send_context("Your turn is coming.", silent=False)
            neuro.force("Drop a disc.", ["test_drop"], state="|. . .|")
            force_pending = [neuro.force_pending]
            run_frames(neuro, lambda: "actions/force" in commands(connection), screen=screen)
            server.send(connection, action_frame("a1", "test_drop", {"column": 4}))
            sent = time.perf_counter()
            run_frames(neuro, lambda: "a1" in results(connection), screen=screen)
            elapsed = time.perf_counter() - sent
            force_pending.append(neuro.force_pending)
        finally:
            neuro.shutdown()
    assert handled == [(main_thread, 4)]
    assert force_pending == [True, False]
    assert connected == [None]
    assert results(connection)["a1"] == {"id": "a1", "success": True, "message": "Dropped in 4."}
    messages = connection.messages()
    names = [m["command"] for m in messages]
    assert names[:2] == ["startup", "actions/register"]
    force = next(m for m in messages if m["command"] == "actions/force")
    assert force["data"]["state"] == "|. . .|"
    assert force["data"]["action_names"] == ["test_drop"]
    context = next(m for m in messages if m["command"] == "context")
    assert context["data"] == {"message": "Your turn is coming.", "silent": False}
    # One-shot: unregistered before the result.
    assert names.index("actions/unregister") < names.index("action/result")
    # Generous bound (two shared cores): the answer is not frame-bound.
    assert elapsed < 0.5


def test_invalid_action_answered_and_retry_gets_new_force(screen: pygame.Surface) -> None:
    board = [0] * 7

    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)

        @neuro.action("test_drop", "Drop a disc.", COLUMN_SCHEMA, one_shot=True)
        def drop(data: dict[str, Any]) -> ActionResult:
            column = data["column"]
            if board[column - 1] >= 1:
                return ActionResult(False, f"column {column} is full")
            board[column - 1] += 1
            # A successful handler may queue the next force at once.
            neuro.add_action(Action("test_drop", "Drop a disc.", COLUMN_SCHEMA), drop)
            neuro.force("Again.", ["test_drop"])
            return ActionResult(True, "ok")

        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            neuro.force("Drop a disc.", ["test_drop"])
            run_frames(neuro, lambda: commands(connection).count("actions/force") == 1)
            server.send(connection, action_frame("a1", "test_drop", {"column": 2}))
            run_frames(neuro, lambda: commands(connection).count("actions/force") == 2)
            server.send(connection, action_frame("a2", "test_drop", {"column": 2}))
            server.send(connection, action_frame("a3", "test_drop", "{not json"))
            server.send(connection, action_frame("a4", "nope"))
            run_frames(neuro, lambda: {"a2", "a3", "a4"} <= set(results(connection)))
        finally:
            neuro.shutdown()
    answers = results(connection)
    assert answers["a1"]["success"] is True
    assert answers["a2"] == {"id": "a2", "success": False, "message": "column 2 is full"}
    assert answers["a3"]["success"] is False
    assert "not valid JSON" in answers["a3"]["message"]
    assert answers["a4"]["success"] is False
    names = commands(connection)
    # The second force went out only after the first force's result.
    first_result = names.index("action/result")
    second_force = [i for i, n in enumerate(names) if n == "actions/force"][1]
    assert first_result < second_force


def test_failed_async_handler_keeps_the_force_in_flight(screen: pygame.Surface) -> None:
    # An async handler that raised (or timed out) used to leave the force marked
    # "being answered", so force() queued a second force instead of refusing it.
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)

        @neuro.action("test_drop", "Drop a disc.", COLUMN_SCHEMA)
        async def drop(data: dict[str, Any]) -> None:
            await trio.lowlevel.checkpoint()
            raise RuntimeError("the board is on fire")

        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            neuro.force("Drop a disc.", ["test_drop"])
            run_frames(neuro, lambda: "actions/force" in commands(connection), screen=screen)
            server.send(connection, action_frame("a1", "test_drop", {"column": 4}))
            run_frames(neuro, lambda: "a1" in results(connection), screen=screen)
            assert neuro.force_pending
            neuro.force("Drop a disc again.", ["test_drop"])  # queued behind it
            run_frames(neuro, lambda: len(neuro.component.force_queue) == 1, screen=screen)
            for _ in range(5):
                neuro.wait_frame(120)
        finally:
            neuro.shutdown()
    assert results(connection)["a1"]["success"] is False
    assert commands(connection).count("actions/force") == 1


def test_sync_handler_returning_a_coroutine_resolves_the_force(screen: pygame.Surface) -> None:
    # A lambda around a coroutine function: its answer comes when the coroutine ends.
    async def drop_later(data: dict[str, Any]) -> str:
        await trio.lowlevel.checkpoint()
        return f"dropped in {data['column']}"

    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)
        neuro.add_action(
            Action("test_drop", "Drop a disc.", COLUMN_SCHEMA), lambda data: drop_later(data)
        )
        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            neuro.force("Drop a disc.", ["test_drop"])
            run_frames(neuro, lambda: "actions/force" in commands(connection), screen=screen)
            server.send(connection, action_frame("a1", "test_drop", {"column": 4}))
            run_frames(neuro, lambda: "a1" in results(connection), screen=screen)
            run_frames(neuro, lambda: not neuro.force_pending, screen=screen)
            neuro.force("Drop another disc.", ["test_drop"])  # no ForceInFlightError
            run_frames(
                neuro, lambda: commands(connection).count("actions/force") == 2, screen=screen
            )
        finally:
            neuro.shutdown()
    assert results(connection)["a1"] == {"id": "a1", "success": True, "message": "dropped in 4"}


def test_loop_blocking_in_event_wait_is_woken(screen: pygame.Surface) -> None:
    """A turn-based loop that sleeps in pygame.event.wait() is woken by our event."""
    handled: list[int] = []
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)
        neuro.add_action(Action("test_wave", "Wave."), lambda data: handled.append(1))
        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            run_frames(neuro, lambda: "actions/register" in commands(connection))
            server.send(connection, action_frame("w1", "test_wave"))
            deadline = time.monotonic() + 10
            while "w1" not in results(connection):
                assert time.monotonic() < deadline
                event = pygame.event.wait(1000)  # no pump() call at all
                neuro.handle_event(event)
        finally:
            neuro.shutdown()
    assert handled == [1]
    assert neuro.host.posted >= 1


def test_clock_tick_loop_with_pump(screen: pygame.Surface) -> None:
    """The frame-bound alternative: keep clock.tick and pump once per frame."""
    handled: list[int] = []
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)
        neuro.add_action(Action("test_wave", "Wave."), lambda data: handled.append(1))
        neuro.start()
        clock = pygame.time.Clock()
        try:
            connection = None
            deadline = time.monotonic() + 10
            while connection is None or "w1" not in results(connection):
                assert time.monotonic() < deadline
                pygame.event.get()
                neuro.pump()
                clock.tick(120)
                if (
                    connection is None
                    and neuro.connected
                    and server.neuro.connections
                    # An action sent before the registration arrives is unknown.
                    and "actions/register" in commands(server.neuro.connections[0])
                ):
                    connection = server.neuro.connections[0]
                    server.send(connection, action_frame("w1", "test_wave"))
        finally:
            neuro.shutdown()
    assert handled == [1]


def test_shutdown_events_reach_callbacks(screen: pygame.Surface) -> None:
    seen: list[tuple[str, object, int]] = []
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)
        neuro.on(
            GRACEFUL_SHUTDOWN_EVENT,
            lambda data: seen.append(("graceful", data, threading.get_ident())),
        )
        neuro.on(
            IMMEDIATE_SHUTDOWN_EVENT,
            lambda data: seen.append(("immediate", data, threading.get_ident())),
        )
        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            server.send(
                connection,
                json.dumps({"command": "shutdown/graceful", "data": {"wants_shutdown": True}}),
            )
            server.send(connection, json.dumps({"command": "shutdown/immediate"}))
            run_frames(neuro, lambda: len(seen) == 2)
            neuro.send_shutdown_ready()
            run_frames(neuro, lambda: "shutdown/ready" in commands(connection))
        finally:
            neuro.shutdown()
    main = threading.get_ident()
    assert sorted(seen, key=str) == [("graceful", True, main), ("immediate", None, main)]


# ---------------------------------------------------------------- quitting


@pytest.mark.parametrize("async_handler", [False, True])
def test_quit_mid_action_shuts_down_quickly(screen: pygame.Surface, async_handler: bool) -> None:
    started = threading.Event()
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)
        if async_handler:

            async def slow(data: dict[str, Any]) -> None:
                started.set()
                await trio.sleep_forever()

            neuro.add_action(Action("test_slow", "Think hard."), slow)
        else:

            def quick(data: dict[str, Any]) -> None:
                started.set()

            neuro.add_action(Action("test_slow", "Think hard."), quick)
        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            neuro.force("Think.", ["test_slow"])
            run_frames(neuro, lambda: "actions/force" in commands(connection))
            server.send(connection, action_frame("s1", "test_slow"))
            if async_handler:
                run_frames(neuro, started.is_set)
            else:
                # Quit while the action is in flight, before the loop pumped it.
                time.sleep(0.05)
        finally:
            begun = time.perf_counter()
            neuro.shutdown()
            took = time.perf_counter() - begun
        run_closed = time.monotonic() + 5
        while not connection.closed.is_set():
            assert time.monotonic() < run_closed
            time.sleep(0.01)
    assert took < 2.0
    assert neuro.runner.done
    gc.collect()  # an abandoned guest run would warn here (warnings are errors)


def test_quit_while_connected_closes_cleanly(screen: pygame.Surface) -> None:
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)
        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            neuro.send_context("Goodbye.")
        finally:
            begun = time.perf_counter()
            neuro.shutdown()
            took = time.perf_counter() - begun
            pygame.display.quit()
        deadline = time.monotonic() + 5
        while not connection.closed.is_set():
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert took < 2.0
    assert neuro.runner.done
    assert "context" in commands(connection)  # queued commands are flushed first
    assert connection.websocket.closed is not None
    assert connection.websocket.closed.code == 1000
    gc.collect()


def test_quit_while_connecting_and_restart(screen: pygame.Surface) -> None:
    neuro = PygameNeuro("Test Game", "ws://127.0.0.1:1")  # nothing listens there
    neuro.start()
    run_frames(neuro, lambda: True)
    begun = time.perf_counter()
    neuro.shutdown()
    assert time.perf_counter() - begun < 2.0
    assert neuro.runner.done
    # The same object can start again (a new game session).
    neuro.start()
    run_frames(neuro, lambda: True)
    neuro.shutdown()
    assert neuro.runner.done
    gc.collect()


# ---------------------------------------------------------------- eager checks


def test_invalid_calls_raise_at_the_call_site() -> None:
    neuro = PygameNeuro("Test Game", "ws://127.0.0.1:1")
    with pytest.raises(LocalProtocolError):
        neuro.action("Bad Name", "Spaces are not allowed.")
    with pytest.raises(LocalProtocolError):
        neuro.action("test_bad", "Not an object schema.", {"type": "array"})
    with pytest.raises(LocalProtocolError):
        neuro.send_context(42)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="unregistered"):
        neuro.force("Pick.", ["test_missing"])
    with pytest.raises(TypeError):
        neuro.add_action(Action("test_x", "X."), "not callable")  # type: ignore[arg-type]

    def handler(data: dict[str, Any]) -> None:
        pass

    neuro.add_action(Action("test_x", "X."), handler)
    neuro.add_action(Action("test_x", "X."), handler)  # same again: fine
    with pytest.raises(LocalProtocolError, match="another definition"):
        neuro.add_action(Action("test_x", "Something else."), handler)
    with pytest.raises(LocalProtocolError, match="another handler"):
        neuro.add_action(Action("test_x", "X."), lambda data: None)
    neuro.force("Pick.", ["test_x"])  # queued registration counts
    neuro.force("Pick again.", ["test_x"])  # waits its turn behind the first
    with pytest.raises(LocalProtocolError):
        neuro.force("Pick.", ["test_x"], priority="urgent")
    with pytest.raises(LocalProtocolError):
        neuro.remove_action()
    neuro.remove_action("test_x")
    with pytest.raises(LocalProtocolError, match="unregistered"):
        neuro.force("Pick.", ["test_x"])
    with pytest.raises(ValueError, match="ws://"):
        PygameNeuro("Test Game", "http://localhost:8000")
    with pytest.raises(LocalProtocolError):
        PygameNeuro("")


# ---------------------------------------------------------------- the host


def test_wake_events_are_coalesced(screen: pygame.Surface) -> None:
    host = PygameHost()

    def wake_often() -> None:
        for _ in range(200):
            host.wake()

    threads = [threading.Thread(target=wake_often) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert host.posted == 1
    assert len(pygame.event.get(host.event_type)) == 1
    assert host.wait(0) is True
    assert host.wait(0) is False  # consumed
    host.wake()
    assert host.posted == 1  # not reported consumed yet: no second event
    host.consumed()
    host.wake()
    assert host.posted == 2
    assert len(pygame.event.get(host.event_type)) == 1


def test_wake_reposts_after_a_swallowed_event(screen: pygame.Surface) -> None:
    host = PygameHost(repost_after=0.0)
    host.wake()
    pygame.event.get()  # the game took it without telling us
    host.wake()
    assert host.posted == 2


def test_wake_survives_a_full_sdl_queue(screen: pygame.Surface) -> None:
    host = PygameHost()
    filler = pygame.event.custom_type()
    posted = 0
    try:
        for _ in range(70_000):
            pygame.event.post(pygame.event.Event(filler))
            posted += 1
    except pygame.error:
        pass
    assert posted == 65_535  # SDL's queue is full
    host.wake()  # must not raise
    assert host.post_failures == 1
    assert host.posted == 0
    assert host.wait(0) is True  # wait_frame is still woken
    pygame.event.clear()
    host.wake()  # the failed post did not leave it "pending"
    assert host.posted == 1


def test_wake_survives_a_closed_display_and_blocked_type(screen: pygame.Surface) -> None:
    host = PygameHost()
    pygame.event.set_blocked(host.event_type)
    host.wake()
    assert host.post_failures == 1
    pygame.event.set_allowed(host.event_type)
    pygame.display.quit()
    host.wake()
    assert host.post_failures == 2
    assert host.wait(0) is True


def test_wait_frame_paces_like_clock_tick(screen: pygame.Surface) -> None:
    neuro = PygameNeuro("Test Game", "ws://127.0.0.1:1")
    begun = time.perf_counter()
    for _ in range(12):
        neuro.wait_frame(120)
    took = time.perf_counter() - begun
    assert 11 / 120 <= took < 0.5


# ---------------------------------------------------------------- errors a person sees


def test_without_pygame_the_import_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pygame", None)  # as if pygame-ce were not installed
    monkeypatch.delitem(sys.modules, "neuro_bridge.engines.pygame")
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'neuro-bridge\[pygame\]'"):
        importlib.import_module("neuro_bridge.engines.pygame")


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="trio only handles SIGINT on the main thread with the default handler",
)
def test_ctrl_c_in_a_handler_reaches_the_game_as_a_plain_keyboard_interrupt(
    screen: pygame.Surface,
) -> None:
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)

        @neuro.action("test_wave", "Wave.")
        def wave(data: dict[str, Any]) -> None:
            signal.raise_signal(signal.SIGINT)  # the player presses Ctrl-C

        neuro.start()
        caught: list[BaseException] = []
        try:
            connection = wait_connected(neuro, server, screen)
            run_frames(neuro, lambda: "actions/register" in commands(connection), screen=screen)
            server.send(connection, action_frame("w1", "test_wave"))
            try:
                run_frames(neuro, lambda: False, screen=screen)
            except KeyboardInterrupt as exc:  # what a game writes
                caught.append(exc)
        finally:
            neuro.shutdown()
    assert [type(exc) for exc in caught] == [KeyboardInterrupt]
    assert neuro.runner.done


# ---------------------------------------------------------------- under load


def test_send_context_with_the_outbox_full_raises_at_the_call(screen: pygame.Surface) -> None:
    neuro = PygameNeuro("Test Game", "ws://127.0.0.1:1", outbox_size=3)  # never connects
    for number in range(3):
        neuro.send_context(f"Context {number}.")
    with pytest.raises(OutboxFullError):
        neuro.send_context("One too many.")
    with pytest.raises(OutboxFullError):
        neuro.send_shutdown_ready()
    neuro.start()
    try:
        run_frames(neuro, lambda: neuro.component.queued_messages == 3)
        with pytest.raises(OutboxFullError):
            neuro.send_context("Still full.")
    finally:
        neuro.shutdown()
    assert neuro.component.queued_messages == 3  # all kept, none lost


def test_a_late_frame_gives_pump_no_full_budget() -> None:
    neuro = PygameNeuro("Test Game", "ws://127.0.0.1:1")
    budgets: list[float] = []
    runner_pump = neuro.runner.pump

    def recording_pump(budget: float = 1.0) -> int:
        budgets.append(budget)
        return runner_pump(budget)

    neuro.start()
    try:
        neuro.runner.pump = recording_pump  # type: ignore[method-assign]
        neuro.wait_frame(20)
        time.sleep(0.06)  # the game's own work overran its 50 ms frame
        budgets.clear()
        neuro.runner.run_sync_soon_threadsafe(lambda: None)  # trio has work
        neuro.wait_frame(20)
    finally:
        neuro.runner.pump = runner_pump  # type: ignore[method-assign]
        neuro.shutdown()
    # One pump, with nothing left of the frame: it runs one step, not 5 ms of them.
    assert len(budgets) == 1
    assert budgets[0] <= 0


def test_blocking_handlers_run_one_per_frame(screen: pygame.Surface) -> None:
    ran_in: list[int] = []
    frame = [0]
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)

        @neuro.action("test_think", "Think hard.")
        def think(data: dict[str, Any]) -> None:
            ran_in.append(frame[0])
            time.sleep(0.03)  # longer than a 60 fps frame

        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            run_frames(neuro, lambda: "actions/register" in commands(connection))
            for number in range(4):
                server.send(connection, action_frame(f"t{number}", "test_think"))
            deadline = time.monotonic() + 10
            while len(ran_in) < 4:  # the loop of the issue: handle_event and wait_frame
                assert time.monotonic() < deadline
                frame[0] += 1
                for event in pygame.event.get():
                    neuro.handle_event(event)
                screen.fill((0, 0, 0))
                pygame.display.flip()
                neuro.wait_frame(60)
        finally:
            neuro.shutdown()
    assert len(set(ran_in)) == len(ran_in) == 4, ran_in


def test_a_handler_holding_the_frame_is_logged(
    screen: pygame.Surface, caplog: pytest.LogCaptureFixture
) -> None:
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)
        neuro.component.slow_handler_warning = 0.01

        @neuro.action("test_think", "Think hard.")
        def think(data: dict[str, Any]) -> None:
            time.sleep(0.03)

        neuro.start()
        try:
            connection = wait_connected(neuro, server, screen)
            run_frames(neuro, lambda: "actions/register" in commands(connection))
            server.send(connection, action_frame("t1", "test_think"))
            run_frames(neuro, lambda: "t1" in results(connection))
        finally:
            neuro.shutdown()
    assert "handler for 'test_think' blocked the game's loop" in caplog.text
