"""Test helpers: a scripted Neuro server on 127.0.0.1 (real sockets, trio-websocket),
a connected component session on it, and the actions the tests share.

Rules for every network test (after trio-websocket's own test suite): listen on
127.0.0.1 port 0, guard every wait with a timeout, stop every server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
import trio
import trio_websocket
from libcomponent.component import Component, Event, ExternalRaiseManager

from neuro_bridge import cli
from neuro_bridge.component import (
    GRACEFUL_SHUTDOWN_EVENT,
    IMMEDIATE_SHUTDOWN_EVENT,
    SPEECH_FINISHED_EVENT,
    STARTUP_ACKNOWLEDGED_EVENT,
    UNKNOWN_COMMAND_EVENT,
)
from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import TrioNeuroAPIComponent

#: Seconds any single wait in a test may take before the test fails.
WAIT = 10.0

#: The schema of the tests' board-game move: a column from 0 to 6.
COLUMN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"column": {"type": "integer", "minimum": 0, "maximum": 6}},
    "required": ["column"],
}


def column_action(name: str = "play", description: str = "Drop a piece") -> Action:
    """Return an action taking :data:`COLUMN_SCHEMA` (``{"column": 0..6}``)."""
    return Action(name, description, COLUMN_SCHEMA)


#: The shared actions: a move with a parameter and two without.
PLAY = column_action()
WAVE = Action("wave", "Wave at chat")
JUMP = Action("jump", "Jump")


@attrs.define(eq=False)
class ServerConnection:
    """One game connected to :class:`ScriptedNeuro`: what it sent, and a way to answer."""

    websocket: trio_websocket.WebSocketConnection
    received: list[str | bytes] = attrs.Factory(list)
    closed: trio.Event = attrs.Factory(trio.Event)
    _changed: trio.Event = attrs.Factory(trio.Event)

    def _record(self, message: str | bytes) -> None:
        self.received.append(message)
        self._changed.set()
        self._changed = trio.Event()

    def messages(self) -> list[dict[str, Any]]:
        """Every text frame received so far, decoded."""
        return [json.loads(m) for m in self.received if isinstance(m, str)]

    def commands(self) -> list[str]:
        """The ``command`` of every frame received so far."""
        return [m["command"] for m in self.messages()]

    async def send(self, frame: str | bytes) -> None:
        """Send one frame to the game."""
        await self.websocket.send_message(frame)

    async def wait_for(
        self, predicate: Any, *, timeout: float = WAIT, start: int = 0
    ) -> dict[str, Any]:
        """Wait until a received message (index ≥ *start*) satisfies *predicate*."""
        with trio.fail_after(timeout):
            while True:
                for message in self.messages()[start:]:
                    if predicate(message):
                        return message
                await self._changed.wait()

    async def wait_for_command(
        self, command: str, *, timeout: float = WAIT, start: int = 0
    ) -> dict[str, Any]:
        """Wait for a frame with this command."""
        return await self.wait_for(lambda m: m["command"] == command, timeout=timeout, start=start)

    async def wait_for_result(self, action_id: str, *, timeout: float = WAIT) -> dict[str, Any]:
        """Wait for the ``action/result`` answering *action_id*; return its data."""
        message = await self.wait_for(
            lambda m: m["command"] == "action/result" and m["data"]["id"] == action_id,
            timeout=timeout,
        )
        data: dict[str, Any] = message["data"]
        return data

    async def wait_count(self, count: int, *, timeout: float = WAIT) -> None:
        """Wait until at least *count* frames arrived."""
        with trio.fail_after(timeout):
            while len(self.received) < count:
                await self._changed.wait()


@attrs.define(eq=False)
class ScriptedNeuro:
    """A websocket server standing in for Neuro, driven by the test.

    Every connection is recorded; ``reregister_on_connect`` sends
    ``actions/reregister_all`` to each new game as test servers do.
    """

    port: int = 0
    reregister_on_connect: bool = False
    connections: list[ServerConnection] = attrs.Factory(list)
    _new_connection: trio.Event = attrs.Factory(trio.Event)
    _scope: trio.CancelScope | None = None

    @property
    def url(self) -> str:
        """The URL games connect to."""
        return f"ws://127.0.0.1:{self.port}"

    async def _handler(self, request: trio_websocket.WebSocketRequest) -> None:
        websocket = await request.accept()
        connection = ServerConnection(websocket)
        self.connections.append(connection)
        self._new_connection.set()
        self._new_connection = trio.Event()
        if self.reregister_on_connect:
            await websocket.send_message('{"command":"actions/reregister_all"}')
        try:
            while True:
                connection._record(await websocket.get_message())
        except trio_websocket.ConnectionClosed:
            pass
        finally:
            connection.closed.set()
            connection._changed.set()

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled (use with ``nursery.start``)."""
        with trio.CancelScope() as self._scope:
            listeners = await trio.open_tcp_listeners(self.port, host="127.0.0.1")
            self.port = listeners[0].socket.getsockname()[1]
            server = trio_websocket.WebSocketServer(
                self._handler, listeners, max_message_size=64 * 2**20
            )
            async with trio.open_nursery() as nursery:
                await nursery.start(server.run)
                task_status.started()

    def stop(self) -> None:
        """Stop serving: closes the listener and drops every connection."""
        if self._scope is not None:
            self._scope.cancel()

    async def wait_connection(self, index: int = 0, *, timeout: float = WAIT) -> ServerConnection:
        """Wait until connection number *index* (0-based) has arrived."""
        with trio.fail_after(timeout):
            while len(self.connections) <= index:
                await self._new_connection.wait()
        return self.connections[index]


@asynccontextmanager
async def scripted_neuro(
    *, port: int = 0, reregister_on_connect: bool = False
) -> AsyncIterator[ScriptedNeuro]:
    """Run a :class:`ScriptedNeuro` for the duration of the block."""
    neuro = ScriptedNeuro(port=port, reregister_on_connect=reregister_on_connect)
    async with trio.open_nursery() as nursery:
        await nursery.start(neuro.serve)
        try:
            yield neuro
        finally:
            neuro.stop()
            nursery.cancel_scope.cancel()


def action_frame(action_id: str, name: str, data: object = None) -> str:
    """Build an ``action`` frame; *data* (any JSON value) is encoded to a string."""
    payload: dict[str, Any] = {"id": action_id, "name": name}
    if data is not None:
        payload["data"] = data if isinstance(data, str) else json.dumps(data)
    return json.dumps({"command": "action", "data": payload})


# ---------------------------------------------------------------- a connected component

GAME = "Component Game"

#: The events a component raises for Neuro's commands.
RAISED_EVENTS = (
    STARTUP_ACKNOWLEDGED_EVENT,
    GRACEFUL_SHUTDOWN_EVENT,
    IMMEDIATE_SHUTDOWN_EVENT,
    SPEECH_FINISHED_EVENT,
    UNKNOWN_COMMAND_EVENT,
)


class Listener(Component):
    """Collects the events the component raises to the manager."""

    def __init__(self) -> None:
        super().__init__("listener")
        self.events: list[tuple[str, Any]] = []
        self._changed = trio.Event()

    def bind_handlers(self) -> None:
        for name in RAISED_EVENTS:
            self.register_handler(name, self._record)

    async def _record(self, event: Event[Any]) -> None:
        self.events.append((event.name, event.data))
        self._changed.set()
        self._changed = trio.Event()

    async def wait_count(self, count: int) -> None:
        with trio.fail_after(WAIT):
            while len(self.events) < count:
                await self._changed.wait()


@attrs.define
class Session:
    """A connected component, the server's side of its connection, and a listener."""

    component: TrioNeuroAPIComponent
    server: ServerConnection
    listener: Listener
    neuro: ScriptedNeuro
    _next_id: int = 0

    def new_id(self) -> str:
        self._next_id += 1
        return f"act-{self._next_id}"

    async def act(self, name: str, data: object = None) -> dict[str, Any]:
        """Send an ``action`` and return the data of its ``action/result``."""
        action_id = self.new_id()
        await self.server.send(action_frame(action_id, name, data))
        return await self.server.wait_for_result(action_id)

    def results(self, action_id: str) -> list[dict[str, Any]]:
        return [
            m["data"]
            for m in self.server.messages()
            if m["command"] == "action/result" and m["data"]["id"] == action_id
        ]

    async def settle(self) -> None:
        """Round-trip a probe action so everything sent before it has been handled."""
        probe = self.new_id()
        await self.server.send(action_frame(probe, "zz-probe-never-registered"))
        await self.server.wait_for_result(probe)


@asynccontextmanager
async def session(**options: Any) -> AsyncIterator[Session]:
    """A :class:`TrioNeuroAPIComponent` connected to a :class:`ScriptedNeuro`."""
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        listener = Listener()
        manager.add_component(listener)
        component = TrioNeuroAPIComponent("neuro", GAME, **options)
        manager.add_component(component)
        await manager.raise_event(Event("connect", neuro.url))
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        assert not component.not_connected
        server = await neuro.wait_connection()
        await server.wait_for_command("startup")
        try:
            yield Session(component, server, listener, neuro)
        finally:
            with trio.fail_after(WAIT):
                await component.stop()


def assert_refused_before_running(
    capsys: pytest.CaptureFixture[str], argv: list[str], option: str, complaint: str
) -> None:
    """Run ``neuro-bridge *argv*``: it must stop with one usage error about *option*.

    Exit status 2, nothing on standard output (nothing ran), and the last line of
    standard error names the option and says *complaint*.
    """
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith(f"neuro-bridge {argv[0]}: error: argument")
    assert option in last
    assert complaint in last
