"""A raw game client for the stand-in Neuro's tests: sends exactly what it is told.

It owns its TCP stream and closes it itself (trio-websocket 0.12 leaves a client's
socket open when the server closes first).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio
import trio_websocket

from neuro_bridge.protocol import Action, GameCommands

WAIT = 10.0


@attrs.define(eq=False)
class RawGame:
    """A websocket client that records what Neuro sends."""

    websocket: trio_websocket.WebSocketConnection
    commands: GameCommands = attrs.Factory(lambda: GameCommands("Raw Game"))
    received: list[dict[str, Any]] = attrs.Factory(list)
    closed: bool = False
    _changed: trio.Event = attrs.Factory(trio.Event)

    async def _reader(self) -> None:
        try:
            while True:
                message = await self.websocket.get_message()
                try:
                    decoded = json.loads(message)
                except ValueError:
                    decoded = {"command": "<not json>", "raw": message}
                self.received.append(decoded)
                self._poke()
        except trio_websocket.ConnectionClosed:
            self.closed = True
            self._poke()

    def _poke(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def send(self, frame: str | bytes | dict[str, Any]) -> None:
        if isinstance(frame, dict):
            frame = json.dumps(frame)
        await self.websocket.send_message(frame)

    async def start(self, *actions: Action) -> None:
        """Send startup and register *actions* (if any)."""
        await self.send(self.commands.startup())
        if actions:
            await self.send(self.commands.register_actions(list(actions)))

    async def force(self, *names: str, query: str = "Go.") -> None:
        await self.send(self.commands.force_actions(query=query, action_names=names))

    async def answer(
        self, action_id: str, success: bool = True, message: str | None = None
    ) -> None:
        await self.send(self.commands.action_result(action_id, success, message))

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], *, start: int = 0
    ) -> dict[str, Any]:
        with trio.fail_after(WAIT):
            while True:
                for message in self.received[start:]:
                    if predicate(message):
                        return message
                if self.closed:
                    raise AssertionError("connection closed")
                await self._changed.wait()

    async def next_action(self, start: int = 0) -> dict[str, Any]:
        """Wait for an ``action`` at index *start* or later; return its data."""
        message = await self.wait_for(lambda m: m["command"] == "action", start=start)
        data: dict[str, Any] = message["data"]
        return data

    def actions(self) -> list[dict[str, Any]]:
        return [m["data"] for m in self.received if m["command"] == "action"]

    async def wait_closed(self) -> None:
        with trio.fail_after(WAIT):
            while not self.closed:
                await self._changed.wait()


@asynccontextmanager
async def raw_game(url: str, resource: str = "/") -> AsyncIterator[RawGame]:
    """Connect a :class:`RawGame` to *url* (``ws://127.0.0.1:PORT``), asking for *resource*."""
    port = int(url.rsplit(":", 1)[1])
    async with trio.open_nursery() as nursery:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        try:
            websocket = await trio_websocket.wrap_client_stream(
                nursery, stream, f"127.0.0.1:{port}", resource
            )
            game = RawGame(websocket)
            nursery.start_soon(game._reader)
            yield game
            with trio.move_on_after(1) as cleanup:
                cleanup.shield = True
                await websocket.aclose()
        finally:
            await trio.aclose_forcefully(stream)
            nursery.cancel_scope.cancel()
