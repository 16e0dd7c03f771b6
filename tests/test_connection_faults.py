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
import logging
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio_websocket
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.mock import MockConfig, MockNeuro
from neuro_bridge.mock.session import GameDisconnectedError
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests.helpers import WAIT

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
    mock = MockNeuro(MockConfig(port=0))
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
