"""Action windows (neuro_bridge.game.ActionWindow) in a real pygame-ce loop.

The game loop runs on the main thread (dummy video driver) with its trio guest
run; the scripted Neuro runs in a thread of its own
(:mod:`tests.engines.server_thread`), over real loopback sockets.  Times are
checked as orderings ("not before the delay"), never as durations.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

import pygame
import pytest

from neuro_bridge.component import ActionResult
from neuro_bridge.engines.pygame import PygameNeuro
from neuro_bridge.game import ActionWindow, WindowEnd, WindowState
from neuro_bridge.protocol import Action, LocalProtocolError
from tests.engines.server_thread import ServerThread, run_frames
from tests.helpers import COLUMN_SCHEMA, WAVE, action_frame, column_action

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.helpers import ServerConnection

DROP = column_action("test_drop", "Drop a disc.")


def connect(neuro: PygameNeuro, server: ServerThread, index: int = 0) -> ServerConnection:
    def poll() -> ServerConnection | None:
        connections = server.neuro.connections
        return connections[index] if len(connections) > index else None

    run_frames(neuro, lambda: neuro.connected and poll() is not None)
    connection = poll()
    assert connection is not None
    return connection


def state(window: ActionWindow) -> WindowState:
    """Read the state afresh (mypy would narrow the property)."""
    return window.state


def end_reason(window: ActionWindow) -> WindowEnd | None:
    return window.end_reason


@contextlib.contextmanager
def playing(server: ServerThread) -> Iterator[tuple[PygameNeuro, ServerConnection]]:
    """A started game connected to *server*; shut down at the end of the block."""
    neuro = PygameNeuro("Test Game", server.url)
    neuro.start()
    try:
        yield neuro, connect(neuro, server)
    finally:
        neuro.shutdown()


def commands(connection: ServerConnection) -> list[str]:
    return connection.commands()


def results(connection: ServerConnection) -> dict[str, dict[str, Any]]:
    return {
        m["data"]["id"]: m["data"] for m in connection.messages() if m["command"] == "action/result"
    }


def received(connection: ServerConnection, command: str) -> list[dict[str, Any]]:
    return [m for m in connection.messages() if m["command"] == command]


class Turn:
    """A window's handlers and what they saw."""

    def __init__(self) -> None:
        self.drops: list[int] = []
        self.ends: list[WindowEnd] = []

    def drop(self, data: dict[str, Any]) -> ActionResult:
        if data["column"] == 6:
            return ActionResult(False, "Column 6 is full.")
        self.drops.append(data["column"])
        return ActionResult(True, f"Dropped in {data['column']}.")

    def wave(self, data: dict[str, Any]) -> None:
        pass

    def window(self, neuro: PygameNeuro) -> ActionWindow:
        window = neuro.action_window(on_end=self.ends.append)
        window.add_action(DROP, self.drop)
        window.add_action(WAVE, self.wave)
        return window


def test_delayed_force_and_the_first_success_ends_the_window(screen: pygame.Surface) -> None:
    turn = Turn()
    with ServerThread() as server, playing(server) as (neuro, connection):
        window = turn.window(neuro)
        window.set_context("Your turn.")
        window.set_force("Drop a disc.", state="|. . .|", after=0.3)
        window.open()
        opened = time.monotonic()
        assert state(window) is WindowState.OPEN
        run_frames(neuro, lambda: "actions/force" in commands(connection))
        forced = time.monotonic()
        assert state(window) is WindowState.FORCED
        server.send(connection, action_frame("a1", "test_drop", {"column": 6}))
        run_frames(neuro, lambda: "a1" in results(connection))
        assert state(window) is WindowState.FORCED  # a failure keeps it open
        server.send(connection, action_frame("a2", "test_drop", {"column": 2}))
        run_frames(neuro, lambda: "a2" in results(connection))
        assert not neuro.force_pending
    assert forced - opened >= 0.3
    assert state(window) is WindowState.ENDED
    assert end_reason(window) is WindowEnd.SUCCESS
    assert turn.ends == [WindowEnd.SUCCESS]
    assert turn.drops == [2]
    names = commands(connection)
    register = received(connection, "actions/register")[-1]
    assert [a["name"] for a in register["data"]["actions"]] == ["test_drop", "wave"]
    assert names.index("context") < names.index("actions/force")
    force = received(connection, "actions/force")[0]["data"]
    assert force["action_names"] == ["test_drop", "wave"]
    assert force["state"] == "|. . .|"
    # The whole window is unregistered before the successful result.
    unregister = received(connection, "actions/unregister")
    assert [m["data"]["action_names"] for m in unregister] == [["test_drop", "wave"]]
    assert names.index("actions/unregister") < len(names) - 1
    assert names[-1] == "action/result"
    assert results(connection)["a2"]["success"] is True


def test_force_when_a_condition_first_holds(screen: pygame.Surface) -> None:
    turn = Turn()
    ready = [False]
    checks: list[int] = []

    def condition() -> bool:
        checks.append(1)
        return ready[0]

    with ServerThread() as server, playing(server) as (neuro, connection):
        window = turn.window(neuro)
        window.set_force("Now.", when=condition)
        window.open()
        run_frames(neuro, lambda: len(checks) >= 10)  # polled on every pump
        assert "actions/force" not in commands(connection)
        assert state(window) is WindowState.OPEN
        ready[0] = True
        run_frames(neuro, lambda: "actions/force" in commands(connection))
        polled = len(checks)
        ready[0] = False  # the force is sent once; the condition is not asked again
        server.send(connection, action_frame("a1", "wave"))
        run_frames(neuro, lambda: "a1" in results(connection))
    assert len(checks) == polled
    assert turn.ends == [WindowEnd.SUCCESS]
    assert commands(connection).count("actions/force") == 1


def test_timed_end_unregisters_the_window_and_ends_its_force(screen: pygame.Surface) -> None:
    turn = Turn()
    with ServerThread() as server, playing(server) as (neuro, connection):
        window = turn.window(neuro)
        window.set_force("Quick!")
        window.set_end(0.3)
        window.open()
        opened = time.monotonic()
        pending = [neuro.force_pending]  # an immediate force is queued at open()
        run_frames(neuro, lambda: "actions/unregister" in commands(connection))
        ended = time.monotonic()
        pending.append(neuro.force_pending)
        # Neuro's late answer finds no action.
        server.send(connection, action_frame("late", "test_drop", {"column": 1}))
        run_frames(neuro, lambda: "late" in results(connection))
    assert ended - opened >= 0.3
    assert pending == [True, False]
    assert end_reason(window) is WindowEnd.TIMEOUT
    assert turn.ends == [WindowEnd.TIMEOUT]
    assert turn.drops == []
    unregister = received(connection, "actions/unregister")
    assert [m["data"]["action_names"] for m in unregister] == [["test_drop", "wave"]]
    assert results(connection)["late"]["success"] is False


def test_close_by_the_game_and_close_before_open(screen: pygame.Surface) -> None:
    turn = Turn()
    with ServerThread() as server, playing(server) as (neuro, connection):
        never = turn.window(neuro)
        never.close()  # nothing was registered
        window = turn.window(neuro)
        window.set_force("Later.", after=60)
        window.open()
        run_frames(neuro, lambda: "actions/register" in commands(connection))
        window.close()
        window.close()  # once
        run_frames(neuro, lambda: "actions/unregister" in commands(connection))
    assert end_reason(never) is WindowEnd.CLOSED
    assert turn.ends == [WindowEnd.CLOSED, WindowEnd.CLOSED]
    assert commands(connection).count("actions/register") == 1
    assert "actions/force" not in commands(connection)
    assert not neuro.is_registered("test_drop")


def test_reconnect_during_a_window_restores_it(screen: pygame.Surface) -> None:
    turn = Turn()
    with ServerThread() as server:
        neuro = PygameNeuro(
            "Test Game", server.url, reconnect_initial_delay=0.05, reconnect_max_delay=0.1
        )
        neuro.start()
        try:
            first = connect(neuro, server)
            window = turn.window(neuro)
            window.set_force("Drop a disc.")
            window.open()
            run_frames(neuro, lambda: "actions/force" in commands(first))
            server.spawn(first.websocket.aclose)  # Neuro drops the connection
            second = connect(neuro, server, index=1)
            run_frames(neuro, lambda: "actions/force" in commands(second))
            assert state(window) is WindowState.FORCED
            server.send(second, action_frame("a1", "test_drop", {"column": 3}))
            run_frames(neuro, lambda: "a1" in results(second))
        finally:
            neuro.shutdown()
    assert commands(second)[:3] == ["startup", "actions/register", "actions/force"]
    register = received(second, "actions/register")[0]
    assert [a["name"] for a in register["data"]["actions"]] == ["test_drop", "wave"]
    assert turn.ends == [WindowEnd.SUCCESS]
    assert turn.drops == [3]


def test_a_window_never_puts_a_second_force_in_flight(screen: pygame.Surface) -> None:
    turn = Turn()
    with ServerThread() as server:
        neuro = PygameNeuro("Test Game", server.url)
        neuro.add_action(Action("test_other", "Something else."), lambda data: None)
        neuro.start()
        try:
            connection = connect(neuro, server)
            neuro.force("Do the other thing.", ["test_other"])
            window = turn.window(neuro)
            window.set_force("Drop a disc.")
            window.open()  # due at once, but a force is pending: it waits
            run_frames(neuro, lambda: "actions/register" in commands(connection), fps=120)
            run_frames(neuro, lambda: commands(connection).count("actions/force") == 1)
            for _ in range(10):
                neuro.wait_frame(120)
            assert commands(connection).count("actions/force") == 1
            assert state(window) is WindowState.FORCED  # queued behind the game's force
            assert neuro.force_pending
            server.send(connection, action_frame("o1", "test_other"))
            run_frames(neuro, lambda: commands(connection).count("actions/force") == 2)
        finally:
            neuro.shutdown()
    names = commands(connection)
    assert (
        names.index("action/result") < [i for i, n in enumerate(names) if n == "actions/force"][1]
    )
    assert state(window) is WindowState.FORCED


def test_window_misuse_raises_at_the_call() -> None:
    neuro = PygameNeuro("Test Game", "ws://127.0.0.1:1")
    window = neuro.action_window()
    with pytest.raises(RuntimeError, match="at least one action"):
        window.open()
    with pytest.raises(ValueError, match="after"):
        window.set_end(0)
    with pytest.raises(ValueError, match="after"):
        window.set_force("Go.", after=-1)
    with pytest.raises(TypeError):
        window.set_force("Go.", when=True)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        window.set_force("Go.", priority="urgent")
    with pytest.raises(LocalProtocolError):
        window.set_context(3)  # type: ignore[arg-type]
    window.add_action(DROP, lambda data: None)
    with pytest.raises(LocalProtocolError, match="already"):
        window.add_action(DROP, lambda data: None)
    window.open()
    with pytest.raises(RuntimeError, match="open"):
        window.add_action(WAVE, lambda data: None)
    with pytest.raises(RuntimeError, match="open"):
        window.open()
    assert neuro.is_registered("test_drop")
    assert DROP.schema == COLUMN_SCHEMA


def test_a_window_whose_action_was_removed_forces_the_rest(screen: pygame.Surface) -> None:
    # The force used to name every action of the window: NeuroGame.force raised
    # "cannot force unregistered actions" from pump(), on every frame after.
    turn = Turn()
    due = [False]
    with ServerThread() as server, playing(server) as (neuro, connection):
        window = turn.window(neuro)
        window.set_force("Drop a disc.", when=lambda: due[0])
        window.open()
        run_frames(neuro, lambda: "actions/register" in commands(connection))
        neuro.remove_action("wave")
        due[0] = True
        run_frames(neuro, lambda: "actions/force" in commands(connection))
        for _ in range(5):
            neuro.wait_frame(120)  # pumps that used to raise
        assert state(window) is WindowState.FORCED
    force = received(connection, "actions/force")[0]
    assert force["data"]["action_names"] == ["test_drop"]


def test_a_replaced_window_leaves_nothing_behind(screen: pygame.Surface) -> None:
    # Window A is forced and closed; window B, opened at once with a force of its
    # own, gets its force out, and a plain force after it waits its turn.
    first, second = Turn(), Turn()
    with ServerThread() as server, playing(server) as (neuro, connection):
        a = first.window(neuro)
        a.set_force("Drop a disc (A).")
        a.open()
        run_frames(neuro, lambda: "actions/force" in commands(connection))
        a.close()
        b = second.window(neuro)
        b.set_force("Drop a disc (B).")
        b.open()
        neuro.add_action(Action("test_other", "Something else."), lambda data: None)
        neuro.force("Do something else (plain).", ["test_other", "test_drop"])
        run_frames(neuro, lambda: commands(connection).count("actions/force") == 2)
        server.send(connection, action_frame("b1", "test_drop", {"column": 1}))
        run_frames(neuro, lambda: commands(connection).count("actions/force") == 3)
    forces = [m["data"] for m in received(connection, "actions/force")]
    assert [f["query"] for f in forces] == [
        "Drop a disc (A).",
        "Drop a disc (B).",
        "Do something else (plain).",
    ]
    # B's success removed test_drop: the plain force was trimmed to what was left.
    assert forces[2]["action_names"] == ["test_other"]
    assert second.ends == [WindowEnd.SUCCESS]
    names = commands(connection)
    forced_b = [i for i, n in enumerate(names) if n == "actions/force"][1]
    # A's actions were unregistered before B's force went out.
    assert names.index("actions/unregister") < forced_b
