"""Servers and clients that misbehave during the upgrade or freeze mid-session.

The game side: every HTTP answer a server can give instead of a websocket upgrade
(503 with an empty body, 404, 200 with a body, a ``101`` with a wrong
``Sec-WebSocket-Accept`` or without ``Upgrade``) is a failed attempt, logged and
retried -- never an exception out of the game.  The stand-in side: a client that
leaves during the upgrade, or stops reading mid-session, never ends the server.

Every server here is a real socket server on 127.0.0.1, port 0.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import logging
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
import trio_websocket
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge import trio_ws
from neuro_bridge.mock import MockConfig, MockNeuro
from neuro_bridge.mock.session import GameDisconnectedError
from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests.helpers import WAIT, action_frame, scripted_neuro

FAST: dict[str, Any] = {
    "reconnect_initial_delay": 0.02,
    "reconnect_max_delay": 0.05,
    "connect_timeout": 2.0,
}

_WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _accept_token(request: bytes) -> bytes:
    for line in request.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            digest = hashlib.sha1(value.strip() + _WEBSOCKET_GUID).digest()  # noqa: S324
            return base64.b64encode(digest)
    raise AssertionError("no Sec-WebSocket-Key in the request")


#: What the refusing server answers, by name; ``{accept}`` is the right token.
REFUSALS: dict[str, bytes] = {
    "503-empty": b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
    "404": b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n",
    "200-body": (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<p>hello</p>\n"
    ),
    "101-wrong-accept": (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: bm9wZQ==\r\n\r\n"
    ),
    "101-no-upgrade": (
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ),
}


class RefusingServer:
    """Answers every websocket upgrade with one fixed HTTP answer, then closes."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.attempts = 0
        self.port = 0
        self._changed = trio.Event()

    async def _handle(self, stream: trio.SocketStream) -> None:
        async with stream:
            request = b""
            with trio.move_on_after(WAIT):
                while b"\r\n\r\n" not in request:
                    data = await stream.receive_some(4096)
                    if not data:
                        return
                    request += data
            self.attempts += 1
            self._changed.set()
            self._changed = trio.Event()
            with contextlib.suppress(trio.BrokenResourceError):
                await stream.send_all(self.answer.replace(b"{accept}", _accept_token(request)))

    async def wait_attempts(self, count: int) -> None:
        with trio.fail_after(WAIT):
            while self.attempts < count:
                await self._changed.wait()


@asynccontextmanager
async def connected_component(url: str, **options: Any) -> AsyncIterator[TrioNeuroAPIComponent]:
    """A component added to a manager and told to connect; stopped afterwards."""
    async with trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = TrioNeuroAPIComponent("neuro", "Game", **{**FAST, **options})
        manager.add_component(component)
        await manager.raise_event(Event("connect", url))
        try:
            yield component
        finally:
            with trio.fail_after(WAIT):
                await component.stop()


@asynccontextmanager
async def refusing_server(answer: bytes) -> AsyncIterator[RefusingServer]:
    server = RefusingServer(answer)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, server._handle, 0, host="127.0.0.1")
        )
        server.port = listeners[0].socket.getsockname()[1]
        yield server
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("answer", list(REFUSALS), ids=list(REFUSALS))
async def test_refused_upgrade_is_a_failed_attempt_and_retried(
    answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "neuro_bridge")
    failures = 0

    class Counting(TrioNeuroAPIComponent):
        def websocket_connect_failed(self) -> None:
            nonlocal failures
            failures += 1
            super().websocket_connect_failed()

    async with refusing_server(REFUSALS[answer]) as server, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = Counting("neuro", "Game", **FAST)
        manager.add_component(component)
        url = f"ws://127.0.0.1:{server.port}"
        await manager.raise_event(Event("connect", url))
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        assert component.not_connected
        await server.wait_attempts(3)  # retried, and the game is still alive
        with trio.fail_after(WAIT):
            await component.stop()
    assert failures >= 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"could not connect to Neuro at {url}" in m and "retrying in" in m for m in warnings)
    if answer[0].isdigit() and not answer.startswith("101"):
        status = answer.split("-")[0]
        assert any(f"HTTP {status}" in m for m in warnings)


# ---------------------------------------------------------------- the stand-in survives


async def _upgrade_then_vanish(port: int, *, reset: bool) -> None:
    """Send a websocket upgrade request and close the socket at once."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    if reset:  # close with RST instead of FIN
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await stream.send_all(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await stream.aclose()


async def test_stand_in_survives_clients_leaving_during_the_upgrade() -> None:
    mock = MockNeuro(MockConfig(port=0, reregister_on_connect=True))
    async with trio.open_nursery() as nursery:
        await nursery.start(mock.serve)
        for number in range(20):
            await _upgrade_then_vanish(mock.port, reset=number % 2 == 0)
        # Give the server time to trip over them, then check it still serves.
        await trio.sleep(0.2)
        with trio.fail_after(WAIT):
            async with trio_websocket.open_websocket_url(mock.url) as websocket:
                await websocket.send_message('{"command":"startup","game":"Survivor"}')
                reply = await websocket.get_message()
        assert "reregister_all" in str(reply)
        mock.stop()
    assert any(s.game == "Survivor" for s in mock.sessions)


async def test_stand_in_survives_a_client_that_stops_reading() -> None:
    mock = MockNeuro(MockConfig(port=0, reregister_on_connect=False, close_timeout=0.2))
    async with trio.open_nursery() as nursery:
        await nursery.start(mock.serve)
        # A client whose reader stops after one queued message: it never reads again.
        frozen_stream = await trio.open_tcp_stream("127.0.0.1", mock.port)
        frozen = await trio_websocket.wrap_client_stream(
            nursery, frozen_stream, "127.0.0.1", "/", message_queue_size=1
        )
        await frozen.send_message('{"command":"startup","game":"Frozen"}')
        session = await mock.wait_for_game()

        async def flood() -> None:
            # Fills the socket buffers; the last send blocks until the server stops.
            with contextlib.suppress(GameDisconnectedError):
                for _ in range(64):
                    await session.send('{"command":"probe","data":"' + "x" * 2**18 + '"}')
            blocked.append(session.connected)

        blocked: list[bool] = []
        nursery.start_soon(flood)
        await trio.sleep(0.2)
        assert not blocked  # the frozen client holds the flood up
        # Another game is served meanwhile.
        with trio.fail_after(WAIT):
            async with trio_websocket.open_websocket_url(mock.url) as websocket:
                await websocket.send_message('{"command":"startup","game":"Lively"}')
                other = await mock.wait_for_game()
                await other.wait_for_command("startup")
        # And the server stops in bounded time with the frozen client still there.
        mock.stop()
        with trio.fail_after(WAIT):
            while any(s.connected for s in mock.sessions):
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    await trio.aclose_forcefully(frozen_stream)


# ---------------------------------------------------------------- in memory, on a mock clock
#
# Backoff and keepalive are about time, so these run on trio's MockClock: the
# game's component talks to a real trio-websocket server over an in-memory stream
# (the socket is not what is under test), and the clock jumps whenever every task
# waits.


class InMemoryComponent(TrioNeuroAPIComponent):
    """The component, connecting to *serve* over an in-memory stream each time."""

    def __init__(self, serve: Any, nursery: trio.Nursery, **options: Any) -> None:
        super().__init__("neuro", "Game", **options)
        self._serve_memory = serve
        self._server_nursery = nursery
        self.attempts = 0

    async def _open_stream(self, url: str) -> trio.abc.Stream:
        self.attempts += 1
        client, server = trio.testing.memory_stream_pair()
        self._server_nursery.start_soon(self._serve_memory, server)
        await trio.lowlevel.checkpoint()
        return client


async def _accept(
    nursery: trio.Nursery, stream: trio.abc.Stream
) -> trio_websocket.WebSocketConnection:
    request = await trio_websocket.wrap_server_stream(nursery, stream)
    return await request.accept()


@asynccontextmanager
async def in_memory_game(serve: Any, **options: Any) -> AsyncIterator[InMemoryComponent]:
    async with trio.open_nursery() as servers, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = InMemoryComponent(serve, servers, **options)
        manager.add_component(component)
        await manager.raise_event(Event("connect", "ws://neuro.invalid:8000"))
        try:
            yield component
        finally:
            await component.stop()
            servers.cancel_scope.cancel()


async def test_accept_then_close_backs_off(autojump_clock: trio.testing.MockClock) -> None:
    async def accept_then_close(stream: trio.abc.Stream) -> None:
        async with trio.open_nursery() as nursery:
            websocket = await _accept(nursery, stream)
            await websocket.aclose()
            nursery.cancel_scope.cancel()

    async with in_memory_game(accept_then_close) as component:
        await trio.sleep(60)
    # Without backoff: one attempt every 0.25-0.5 s, 120+ in a minute.  With it the
    # delays grow to the 10 s cap: at most 0.25 + 0.5 + 1 + 2 + 4 + 5 + 5 + ... s.
    assert 5 <= component.attempts <= 16


async def test_oversized_message_each_time_backs_off(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def send_too_much(stream: trio.abc.Stream) -> None:
        async with trio.open_nursery() as nursery:
            websocket = await _accept(nursery, stream)
            with contextlib.suppress(trio_websocket.ConnectionClosed):
                await websocket.send_message("x" * 4096)
                await websocket.get_message()
            nursery.cancel_scope.cancel()

    async with in_memory_game(send_too_much, max_message_size=1024) as component:
        await trio.sleep(60)
    assert 5 <= component.attempts <= 16


async def test_stable_connection_resets_the_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def stay_a_while(stream: trio.abc.Stream) -> None:
        async with trio.open_nursery() as nursery:
            websocket = await _accept(nursery, stream)
            with trio.move_on_after(trio_ws.STABLE_CONNECTION_TIME + 1):
                with contextlib.suppress(trio_websocket.ConnectionClosed):
                    while True:
                        await websocket.get_message()
            await websocket.aclose()
            nursery.cancel_scope.cancel()

    delays: list[float] = []

    class Recording(InMemoryComponent):
        def _reconnect_delay(self, failures: int) -> float:
            delays.append(super()._reconnect_delay(failures))
            return delays[-1]

    async with trio.open_nursery() as servers, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = Recording(stay_a_while, servers)
        manager.add_component(component)
        await manager.raise_event(Event("connect", "ws://neuro.invalid:8000"))
        await trio.sleep(5 * (trio_ws.STABLE_CONNECTION_TIME + 2))
        await component.stop()
        servers.cancel_scope.cancel()
    assert len(delays) >= 3
    assert all(delay <= trio_ws.RECONNECT_INITIAL_DELAY for delay in delays)


def _flooding_server(count: int, results: list[str], connections: list[int]) -> Any:
    """A server that sends *count* actions at once and records every result's id."""

    async def serve(stream: trio.abc.Stream) -> None:
        connections.append(1)
        async with trio.open_nursery() as nursery:
            websocket = await _accept(nursery, stream)
            with contextlib.suppress(trio_websocket.ConnectionClosed):
                for number in range(count):
                    await websocket.send_message(
                        json.dumps(
                            {"command": "action", "data": {"id": f"a{number}", "name": "wait"}}
                        )
                    )
                while True:
                    message = json.loads(await websocket.get_message())
                    if message["command"] == "action/result":
                        results.append(message["data"]["id"])
            nursery.cancel_scope.cancel()

    return serve


@pytest.mark.parametrize(
    "slowness",
    [
        pytest.param([0.05] * 600, id="every-message-slow"),
        pytest.param([30.0] + [0.0] * 599, id="one-message-very-slow"),
    ],
)
async def test_keepalive_never_drops_a_connection_busy_with_a_backlog(
    autojump_clock: trio.testing.MockClock, slowness: list[float]
) -> None:
    # The read loop is slower than the flood: trio-websocket's queue fills, it stops
    # reading, and the pong waits behind the backlog for far longer than the
    # keepalive's 4 + 4 s.  That is the game's own backlog, not a dead Neuro.
    results: list[str] = []
    connections: list[int] = []
    delays = iter(slowness)

    class Slow(InMemoryComponent):
        async def handle_action(self, action: Any) -> None:
            await trio.sleep(next(delays, 0.0))
            await super().handle_action(action)

    async with trio.open_nursery() as servers, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = Slow(_flooding_server(len(slowness), results, connections), servers)
        manager.add_component(component)
        await component.register_action(Action("wait", "Wait"), lambda data: None)
        await manager.raise_event(Event("connect", "ws://neuro.invalid:8000"))
        with trio.fail_after(sum(slowness) + 60):
            while len(results) < len(slowness):
                await trio.sleep(1)
        await trio.sleep(20)  # quiet: pings are answered, the connection stays
        assert not component.not_connected
        await component.stop()
        servers.cancel_scope.cancel()
    assert len(connections) == 1
    assert sorted(results) == sorted(f"a{n}" for n in range(len(slowness)))  # each once


async def test_silent_neuro_is_still_detected(autojump_clock: trio.testing.MockClock) -> None:
    connections: list[int] = []

    async def silent(stream: trio.abc.Stream) -> None:
        connections.append(1)
        async with trio.open_nursery() as nursery:
            await _accept(nursery, stream)
            nursery.cancel_scope.cancel()  # its reader stops: pings go unanswered
        await trio.sleep_forever()

    async with in_memory_game(silent) as component:
        await trio.sleep(trio_ws.KEEPALIVE_INTERVAL + trio_ws.KEEPALIVE_TIMEOUT + 2)
    assert component.attempts >= 2


# ---------------------------------------------------------------- message size in bytes


async def test_message_size_limit_counts_bytes_not_characters(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "neuro_bridge")
    mib = 2**20
    async with scripted_neuro() as neuro:
        async with connected_component(neuro.url, max_message_size=mib) as component:
            first = await neuro.wait_connection(0)
            await first.wait_for_command("startup")
            # 0.8 MiB in UTF-8: within the limit, the connection stays.
            await first.send(
                json.dumps({"command": "ahoy", "data": "😀" * (mib // 5)}, ensure_ascii=False)
            )
            await first.send(action_frame("probe", "nothing"))
            await first.wait_for_result("probe")
            assert len(neuro.connections) == 1
            # 1.2 MiB in UTF-8 but only 0.3 M characters: refused, reconnected.
            with contextlib.suppress(trio_websocket.ConnectionClosed):
                await first.send(
                    json.dumps(
                        {"command": "ahoy", "data": "😀" * (3 * mib // 10)}, ensure_ascii=False
                    )
                )
            second = await neuro.wait_connection(1)
            await second.wait_for_command("startup")
            assert not component.not_connected
    assert any("over the limit of 1,048,576" in r.getMessage() for r in caplog.records)


async def test_actions_past_the_pending_limit_are_answered_busy_at_once() -> None:
    release = trio.Event()

    async def slow(data: dict[str, Any]) -> None:
        await release.wait()

    async with scripted_neuro() as neuro:
        async with connected_component(neuro.url, max_pending_actions=3) as component:
            await component.register_action(Action("wait", "Wait a while"), slow)
            connection = await neuro.wait_connection()
            await connection.wait_for_command("actions/register")
            for number in range(6):
                await connection.send(action_frame(f"a{number}", "wait"))
            for number in range(3, 6):
                result = await connection.wait_for_result(f"a{number}")
                assert (result["success"], result["message"]) == (False, trio_ws.BUSY_MESSAGE)
            release.set()
            for number in range(3):
                assert (await connection.wait_for_result(f"a{number}"))["success"] is True
            ids = [
                m["data"]["id"] for m in connection.messages() if m["command"] == "action/result"
            ]
            assert sorted(ids) == [f"a{number}" for number in range(6)]  # each exactly once
