"""The three usage examples of the published ``trio_ws`` API page, as written there.

Only the import differs: ``neuro_api.trio_ws`` is ``neuro_bridge.trio_ws`` here.
``tests/test_trio_ws_examples.py`` runs each against a real local server.
"""
# mypy: disable-error-code="no-untyped-def,no-untyped-call"

from __future__ import annotations

import trio
import trio_websocket
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.trio_ws import TrioNeuroAPI, TrioNeuroAPIComponent

# --- Basic Usage with Component Manager


async def main():
    async with trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game_manager", nursery)

        component = TrioNeuroAPIComponent("neuro_api", "My Game")
        manager.add_component(component)

        # Connect to websocket
        await manager.raise_event(Event("connect", "ws://localhost:8000"))

        # Wait for connection and setup
        await component.wait_for_websocket()

        if not component.not_connected:
            # Game logic here
            await trio.sleep(10)
            await component.stop()


# --- Custom Connection Handling


class CustomGameComponent(TrioNeuroAPIComponent):
    def __init__(self, name, title):
        super().__init__(name, title)
        self.connection_ready = trio.Event()

    def websocket_connect_failed(self):
        print("Connection failed - retrying...")
        self.connection_ready.set()

    async def websocket_connect_successful(self):
        print("Successfully connected to Neuro!")
        await self.send_startup_command()
        await self.send_context("Game is ready!")
        self.connection_ready.set()

    async def wait_for_connection(self):
        await self.connection_ready.wait()


# --- Direct API Usage


async def direct_usage():
    async with trio_websocket.open_websocket_url("ws://localhost:8000") as ws:
        api = TrioNeuroAPI("My Game", ws)

        await api.send_startup_command()
        await api.send_context("Hello from my game!")

        # Read messages manually
        while True:
            try:
                await api.read_message()
            except trio_websocket.ConnectionClosed:
                break
