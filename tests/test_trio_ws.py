"""TrioNeuroAPIComponent's connection lifecycle over real sockets.

Reconnects after the server dies, restoration of state on every connection, the
outbox, half-open detection through a freezable TCP proxy, and ``stop()`` in every
state.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
import trio_websocket
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge import trio_ws
from neuro_bridge.api import ForceInFlightError
from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import OutboxFullError, TrioNeuroAPIComponent, check_url, default_url
from tests.helpers import WAIT, action_frame, scripted_neuro

FAST: dict[str, Any] = {
    "reconnect_initial_delay": 0.05,
    "reconnect_max_delay": 0.2,
    "connect_timeout": 2.0,
}

MOVE = Action(
    "move",
    "Move one square",
    {
        "type": "object",
        "properties": {"direction": {"enum": ["up", "down"]}},
        "required": ["direction"],
    },
)


@asynccontextmanager
async def connected_component(
    url: str, **options: Any
) -> AsyncIterator[tuple[TrioNeuroAPIComponent, trio.Nursery]]:
    """A component added to a manager and told to connect; stopped afterwards."""
    async with trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = TrioNeuroAPIComponent("neuro", "Test Game", **{**FAST, **options})
        manager.add_component(component)
        await manager.raise_event(Event("connect", url))
        try:
            yield component, nursery
        finally:
            with trio.fail_after(WAIT):
                await component.stop()


class FreezableProxy:
    """A TCP proxy on 127.0.0.1 that can stop forwarding without closing (half-open)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.frozen = False
        self._thaw = trio.Event()

    def is_frozen(self) -> bool:
        return self.frozen

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            task_status.started()
            await trio.serve_listeners(self._handle, listeners, handler_nursery=nursery)

    async def _handle(self, client: trio.SocketStream) -> None:
        async with client, await trio.open_tcp_stream("127.0.0.1", self.target_port) as upstream:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._pipe, client, upstream, nursery.cancel_scope)
                nursery.start_soon(self._pipe, upstream, client, nursery.cancel_scope)

    async def _pipe(
        self, source: trio.SocketStream, sink: trio.SocketStream, scope: trio.CancelScope
    ) -> None:
        try:
            while True:
                if self.is_frozen():
                    await trio.sleep_forever()
                data = await source.receive_some(65536)
                if not data:
                    break
                if self.is_frozen():
                    await trio.sleep_forever()
                await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        scope.cancel()


def is_connected(component: TrioNeuroAPIComponent) -> bool:
    """Read the connection state afresh (mypy would narrow the property)."""
    return not component.not_connected


# ---------------------------------------------------------------- URLs


def test_default_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEURO_SDK_WS_URL", raising=False)
    assert default_url() == "ws://localhost:8000"
    monkeypatch.setenv("NEURO_SDK_WS_URL", "ws://127.0.0.1:9999/neuro")
    assert default_url() == "ws://127.0.0.1:9999/neuro"
    monkeypatch.setenv("NEURO_SDK_WS_URL", "")
    assert default_url() == "ws://localhost:8000"


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000",
        "localhost:8000",
        "ws://",
        8000,
        "ws://host:99999",
        # Host names the resolver cannot encode (an empty or over-long label): they
        # made trio raise UnicodeError out of handle_connect instead of failing here.
        "ws://my..host:8000",
        "ws://" + "a" * 64 + ".example:8000",
    ],
)
def test_check_url_rejects(url: object) -> None:
    with pytest.raises(ValueError, match="Neuro URL"):
        check_url(url)


@pytest.mark.parametrize(
    "options",
    [{"connect_timeout": 0}, {"keepalive_timeout": -1}, {"outbox_size": 0}, {"action_timeout": 0}],
)
def test_component_rejects_bad_options(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must be (a )?positive"):
        TrioNeuroAPIComponent("neuro", "Game", **options)


async def test_connect_event_without_url_uses_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    async with scripted_neuro() as neuro:
        monkeypatch.setenv("NEURO_SDK_WS_URL", neuro.url)
        async with connected_component("") as (component, _):
            await component.wait_for_websocket()
            assert not component.not_connected
            connection = await neuro.wait_connection()
            await connection.wait_for_command("startup")


async def test_bad_url_fails_once_without_retrying(caplog: pytest.LogCaptureFixture) -> None:
    async with connected_component("http://nope") as (component, _):
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        assert component.not_connected
    assert "cannot connect to Neuro" in caplog.text


async def test_unencodable_host_fails_once_without_crashing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with connected_component("ws://my..host:8000") as (component, _):
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        assert component.not_connected
    assert "cannot connect to Neuro" in caplog.text


async def test_connection_cleared_by_a_handler_ends_the_read_loop() -> None:
    # With the connection cleared, every read raised RuntimeError at once, and the
    # read loop logged it and tried again forever, without a checkpoint: a hang.
    async with scripted_neuro() as neuro, connected_component(neuro.url) as (component, _):
        await component.register_action(MOVE, lambda data: component.connect(None))
        first = await neuro.wait_connection()
        await first.wait_for_command("actions/register")
        await first.send(action_frame("a1", "move", {"direction": "up"}))
        with trio.fail_after(WAIT):
            second = await neuro.wait_connection()
            await second.wait_for_command("actions/register")


# ---------------------------------------------------------------- connecting


async def test_connect_sends_startup_then_actions_then_pending_force() -> None:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = TrioNeuroAPIComponent("neuro", "Test Game", **FAST)
        manager.add_component(component)
        # Everything before the connection only changes local state...
        await component.register_action(MOVE, lambda data: None)
        await component.send_force_action("board", "Your move", ["move"])
        await component.send_context("queued while offline")
        assert component.queued_messages == 1
        await manager.raise_event(Event("connect", neuro.url))
        await component.wait_for_websocket()
        connection = await neuro.wait_connection()
        await connection.wait_count(4)
        # ... and is restored in order, before anything else.
        assert connection.commands() == [
            "startup",
            "actions/register",
            "actions/force",
            "context",
        ]
        assert connection.messages()[3]["data"]["message"] == "queued while offline"
        assert component.queued_messages == 0
        await component.stop()


async def test_first_attempt_failure_then_retry_succeeds() -> None:
    # Reserve a port, close it, connect (fails), then start the server there.
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await listeners[0].aclose()
    failures = 0

    class Counting(TrioNeuroAPIComponent):
        def websocket_connect_failed(self) -> None:
            nonlocal failures
            failures += 1

    async with trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = Counting("neuro", "Test Game", **FAST)
        manager.add_component(component)
        await manager.raise_event(Event("connect", f"ws://127.0.0.1:{port}"))
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        assert component.not_connected
        assert failures >= 1
        async with scripted_neuro(port=port) as neuro:
            connection = await neuro.wait_connection()
            await connection.wait_for_command("startup")
            assert is_connected(component)
            await component.stop()


async def test_second_connect_event_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    async with scripted_neuro() as neuro:
        async with connected_component(neuro.url) as (component, _):
            await component.wait_for_websocket()
            await component.handle_connect(Event("connect", neuro.url))
            assert "already connecting" in caplog.text
        assert len(neuro.connections) == 1


# ---------------------------------------------------------------- reconnecting


async def test_server_killed_and_restarted_mid_session() -> None:
    handled: list[str] = []
    async with scripted_neuro() as first:
        port = first.port
        async with connected_component(first.url) as (component, _):
            await component.register_action(MOVE, lambda data: handled.append(data["direction"]))
            old = await first.wait_connection()
            await old.wait_for_command("actions/register")
            await old.send(action_frame("a1", "move", {"direction": "up"}))
            assert (await old.wait_for_result("a1"))["success"] is True
            await component.send_force_action(None, "Move again", ["move"])
            await old.wait_for_command("actions/force")

            first.stop()  # the server dies with the force in flight
            with trio.fail_after(WAIT):
                await old.closed.wait()
                while not component.not_connected:
                    await trio.sleep(0.01)
            await component.send_context("said while Neuro was away")

            async with scripted_neuro(port=port) as second:
                new = await second.wait_connection()
                await new.wait_count(4)
                assert new.commands()[:4] == [
                    "startup",
                    "actions/register",
                    "actions/force",
                    "context",
                ]
                assert [a["name"] for a in new.messages()[1]["data"]["actions"]] == ["move"]
                # Every action that arrives on the new connection is answered.
                for number in range(5):
                    await new.send(action_frame(f"b{number}", "move", {"direction": "down"}))
                for number in range(5):
                    assert (await new.wait_for_result(f"b{number}"))["success"] is True
                # Nothing from the old connection was answered on the new one.
                results = [m for m in new.messages() if m["command"] == "action/result"]
                assert {r["data"]["id"] for r in results} == {f"b{n}" for n in range(5)}
    assert handled == ["up"] + ["down"] * 5


async def test_stale_result_of_dead_connection_is_never_sent() -> None:
    started = trio.Event()
    release = trio.Event()

    async def slow(data: dict[str, Any]) -> None:
        started.set()
        await release.wait()

    async with scripted_neuro() as first:
        port = first.port
        async with connected_component(first.url) as (component, _):
            await component.register_action(Action("wait", "Wait a while"), slow)
            old = await first.wait_connection()
            await old.wait_for_command("actions/register")
            await old.send(action_frame("old-1", "wait"))
            with trio.fail_after(WAIT):
                await started.wait()
            first.stop()
            async with scripted_neuro(port=port) as second:
                new = await second.wait_connection()
                await new.wait_for_command("actions/register")
                release.set()
                await new.send(action_frame("new-1", "wait"))
                assert (await new.wait_for_result("new-1"))["success"] is True
                ids = [m["data"]["id"] for m in new.messages() if m["command"] == "action/result"]
                assert ids == ["new-1"]


async def test_server_closing_the_connection_triggers_reconnect() -> None:
    async with scripted_neuro() as neuro:
        async with connected_component(neuro.url) as (component, _):
            first = await neuro.wait_connection(0)
            await first.wait_for_command("startup")
            await first.websocket.aclose(1001, "going away")
            second = await neuro.wait_connection(1)
            await second.wait_for_command("startup")
            assert not component.not_connected


async def test_reconnect_delays_grow_with_jitter_and_are_capped() -> None:
    component = TrioNeuroAPIComponent(
        "neuro", "Game", reconnect_initial_delay=0.5, reconnect_max_delay=10.0
    )
    component._random.seed(0)  # the same draws every run
    first = [component._reconnect_delay(0) for _ in range(200)]
    assert all(0.25 <= d <= 0.5 for d in first)
    assert len(set(first)) > 100  # jittered
    assert all(d <= 10.0 for d in (component._reconnect_delay(n) for n in range(30)))
    assert max(component._reconnect_delay(30) for _ in range(50)) > 5.0


# ---------------------------------------------------------------- disconnected sends


async def test_outbox_delivered_in_order_and_bounded() -> None:
    component = TrioNeuroAPIComponent("neuro", "Game", outbox_size=3)
    for number in range(3):
        await component.send_context(f"message {number}")
    with pytest.raises(OutboxFullError):
        await component.send_context("one too many")
    assert component.queued_messages == 3
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        manager.add_component(component)
        await manager.raise_event(Event("connect", neuro.url))
        connection = await neuro.wait_connection()
        await connection.wait_count(4)
        assert [m["data"]["message"] for m in connection.messages()[1:]] == [
            "message 0",
            "message 1",
            "message 2",
        ]
        await component.stop()


async def test_force_rules_hold_while_disconnected() -> None:
    component = TrioNeuroAPIComponent("neuro", "Game")
    await component.register_action(MOVE, lambda data: None)
    await component.send_force_action(None, "Go", ["move"])
    with pytest.raises(ForceInFlightError):
        await component.send_force_action(None, "Go again", ["move"])
    await component.unregister_actions(["move"])
    assert component.pending_force is None


# ---------------------------------------------------------------- half-open


async def test_half_open_connection_detected_and_replaced() -> None:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        proxy = FreezableProxy(neuro.port)
        await nursery.start(proxy.serve)
        url = f"ws://127.0.0.1:{proxy.port}"
        async with connected_component(url, keepalive_interval=0.2, keepalive_timeout=0.3) as (
            component,
            _,
        ):
            first = await neuro.wait_connection(0)
            await first.wait_for_command("startup")
            proxy.frozen = True  # nothing passes, nothing closes
            with trio.fail_after(5):
                while not component.not_connected:
                    await trio.sleep(0.05)
            proxy.frozen = False
            second = await neuro.wait_connection(1)
            await second.wait_for_command("startup")
        nursery.cancel_scope.cancel()


async def test_default_keepalive_detects_half_open_within_ten_seconds() -> None:
    assert trio_ws.KEEPALIVE_INTERVAL + trio_ws.KEEPALIVE_TIMEOUT < 10.0


# ---------------------------------------------------------------- stop


async def test_stop_twice_and_before_connecting() -> None:
    component = TrioNeuroAPIComponent("neuro", "Game")
    await component.stop()
    await component.stop()
    async with scripted_neuro() as neuro:
        async with connected_component(neuro.url) as (component, _):
            await component.wait_for_websocket()
            with trio.fail_after(2):
                await component.stop()
            assert component.not_connected
            with trio.fail_after(2):
                await component.stop()
        connection = neuro.connections[0]
        with trio.fail_after(WAIT):
            await connection.closed.wait()
        assert connection.websocket.closed is not None
        assert connection.websocket.closed.code == 1000
        assert len(neuro.connections) == 1  # no reconnect after stop


async def test_stop_passes_code_and_reason() -> None:
    async with scripted_neuro() as neuro:
        async with connected_component(neuro.url) as (component, _):
            await component.wait_for_websocket()
            await component.stop(code=1001, reason="Game ended")
        connection = neuro.connections[0]
        with trio.fail_after(WAIT):
            await connection.closed.wait()
        assert connection.websocket.closed is not None
        assert (connection.websocket.closed.code, connection.websocket.closed.reason) == (
            1001,
            "Game ended",
        )


async def test_stop_while_connecting() -> None:
    # A server that accepts TCP but never answers the websocket handshake.
    accepted: list[trio.SocketStream] = []

    async def silent(stream: trio.SocketStream) -> None:
        accepted.append(stream)
        await trio.sleep_forever()

    async with trio.open_nursery() as servers:
        listeners = await servers.start(trio.serve_tcp, silent, 0)
        port = listeners[0].socket.getsockname()[1]
        async with connected_component(f"ws://127.0.0.1:{port}", connect_timeout=30) as (
            component,
            _,
        ):
            with trio.fail_after(WAIT):
                while not accepted:
                    await trio.sleep(0.01)
            with trio.fail_after(2):
                await component.stop()
            assert component.not_connected
        servers.cancel_scope.cancel()
    for stream in accepted:
        await stream.aclose()


async def test_stop_while_reading_returns_within_two_seconds_without_close_reply() -> None:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        proxy = FreezableProxy(neuro.port)
        await nursery.start(proxy.serve)
        async with connected_component(f"ws://127.0.0.1:{proxy.port}") as (component, _):
            connection = await neuro.wait_connection()
            await connection.wait_for_command("startup")
            proxy.frozen = True  # the close frame will never be answered
            with trio.fail_after(2):
                await component.stop()
            assert component.not_connected
        nursery.cancel_scope.cancel()


async def test_stop_from_an_action_handler_ends_the_session() -> None:
    async with scripted_neuro() as neuro:
        async with connected_component(neuro.url) as (component, _):

            async def quit_game(data: dict[str, Any]) -> None:
                await component.stop()

            await component.register_action(Action("quit", "Quit the game"), quit_game)
            connection = await neuro.wait_connection()
            await connection.wait_for_command("actions/register")
            await connection.send(action_frame("q", "quit"))
            with trio.fail_after(WAIT):
                await connection.closed.wait()
        assert len(neuro.connections) == 1


# ---------------------------------------------------------------- reading


async def test_invalid_action_message_answered_and_loop_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with scripted_neuro() as neuro:
        async with connected_component(neuro.url) as (component, _):
            await component.register_action(MOVE, lambda data: None)
            connection = await neuro.wait_connection()
            await connection.wait_for_command("actions/register")
            await connection.send(
                json.dumps({"command": "action", "data": {"id": "x1", "nmae": "move"}})
            )
            result = await connection.wait_for_result("x1")
            assert result["success"] is False
            assert "name" in result["message"]
            await connection.send(
                json.dumps({"command": "action", "data": {"id": "x2", "name": 5}})
            )
            assert (await connection.wait_for_result("x2"))["success"] is False
            await connection.send(action_frame("x3", "move", {"direction": "up"}))
            assert (await connection.wait_for_result("x3"))["success"] is True
    assert "invalid action message" in caplog.text


async def test_hook_exceptions_do_not_end_the_session(caplog: pytest.LogCaptureFixture) -> None:
    class Fragile(TrioNeuroAPIComponent):
        async def handle_graceful_shutdown_request(self, wants_shutdown: bool) -> None:
            raise RuntimeError("boom")

    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = Fragile("neuro", "Game", **FAST)
        manager.add_component(component)
        await component.register_action(MOVE, lambda data: None)
        await manager.raise_event(Event("connect", neuro.url))
        connection = await neuro.wait_connection()
        await connection.wait_for_command("actions/register")
        await connection.send('{"command":"shutdown/graceful","data":{"wants_shutdown":true}}')
        await connection.send(action_frame("after", "move", {"direction": "up"}))
        assert (await connection.wait_for_result("after"))["success"] is True
        assert len(neuro.connections) == 1
        await component.stop()
    assert "boom" in caplog.text


async def test_direct_trio_neuro_api_without_connection_raises() -> None:
    api = trio_ws.TrioNeuroAPI("Game")
    assert api.not_connected
    with pytest.raises(RuntimeError, match="not connected"):
        _ = api.connection
    with pytest.raises(RuntimeError):
        await api.send_context("hello")


async def test_write_after_close_raises_connection_closed() -> None:
    async with scripted_neuro() as neuro:
        async with trio_websocket.open_websocket_url(neuro.url) as websocket:
            api = trio_ws.TrioNeuroAPI("Game", websocket)
            await api.send_startup_command()
            await websocket.aclose()
            with pytest.raises(trio_websocket.ConnectionClosed):
                await api.write_to_websocket("{}")
            with pytest.raises(trio_websocket.ConnectionClosed):
                await api.read_from_websocket()


# ---------------------------------------------------------------- ordering


async def test_offline_context_and_force_restored_in_the_order_asked() -> None:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = TrioNeuroAPIComponent("neuro", "Test Game", **FAST)
        manager.add_component(component)
        await component.register_action(MOVE, lambda data: None)
        await component.send_context("before the force")
        await component.send_force_action(None, "Your move", ["move"])
        await component.send_context("after the force")
        await manager.raise_event(Event("connect", neuro.url))
        connection = await neuro.wait_connection()
        await connection.wait_count(5)
        assert connection.commands() == [
            "startup",
            "actions/register",
            "context",
            "actions/force",
            "context",
        ]
        assert connection.messages()[2]["data"]["message"] == "before the force"
        await component.stop()


async def test_reregistering_behind_a_queued_unregistration_keeps_action_and_handler() -> None:
    calls: list[str] = []
    async with scripted_neuro() as neuro:
        async with connected_component(neuro.url) as (component, nursery):
            await component.register_action(MOVE, lambda data: calls.append("old"))
            connection = await neuro.wait_connection()
            await connection.wait_for_command("actions/register")
            # Hold the send order so both calls queue up behind it, in this order.
            async with component._write_lock:
                nursery.start_soon(component.unregister_actions, ["move"])
                await trio.testing.wait_all_tasks_blocked()
                nursery.start_soon(
                    component.register_action, MOVE, lambda data: calls.append("new")
                )
                await trio.testing.wait_all_tasks_blocked()
            await connection.wait_for(lambda m: m["command"] == "actions/register", start=2)
            assert component.get_registered() == ("move",)
            await connection.send(action_frame("m", "move", {"direction": "up"}))
            assert (await connection.wait_for_result("m"))["success"] is True
    assert calls == ["new"]
    assert connection.commands()[:4] == [
        "startup",
        "actions/register",
        "actions/unregister",
        "actions/register",
    ]


async def test_wait_for_websocket_waits_anew_after_stop_and_reconnect() -> None:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = TrioNeuroAPIComponent("neuro", "Game", **FAST)
        manager.add_component(component)
        await manager.raise_event(Event("connect", neuro.url))
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        await component.stop()
        assert component.not_connected
        await manager.raise_event(Event("connect", neuro.url))
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        assert is_connected(component)
        await component.stop()
    assert len(neuro.connections) == 2
