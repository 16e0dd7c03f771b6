"""The published page's three usage examples, each against a real local server.

The examples hard-code ``ws://localhost:8000``, so the server listens on
127.0.0.1:8000 for these tests.
"""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests import page_examples
from tests.helpers import WAIT, ScriptedNeuro, scripted_neuro

EXAMPLE_PORT = 8000


@pytest.fixture(autouse=True)
def example_port_lock() -> Iterator[None]:
    """Hold a machine-wide lock on the examples' port for the whole test.

    Two test runs on one machine (two checkouts, say) would otherwise race for
    127.0.0.1:8000; the second waits here instead of failing.
    """
    lock_path = Path(tempfile.gettempdir()) / f"neuro-bridge-port-{EXAMPLE_PORT}.lock"
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


@asynccontextmanager
async def example_server() -> AsyncIterator[ScriptedNeuro]:
    """The scripted Neuro on the port the examples hard-code, or a clear failure."""
    try:
        probe = await trio.open_tcp_listeners(EXAMPLE_PORT, host="127.0.0.1")
    except OSError as exc:
        pytest.fail(
            f"cannot listen on 127.0.0.1:{EXAMPLE_PORT} ({exc}): the page's examples"
            " hard-code ws://localhost:8000; stop what listens there (a running"
            " `neuro-bridge mock`, another test run) and try again"
        )
    for listener in probe:
        await listener.aclose()
    async with scripted_neuro(port=EXAMPLE_PORT) as neuro:
        yield neuro


async def test_basic_usage_with_component_manager() -> None:
    async with example_server() as neuro:
        with trio.fail_after(10 + WAIT):
            await page_examples.main()
        connection = neuro.connections[0]
        with trio.fail_after(WAIT):
            await connection.closed.wait()
    assert connection.messages() == [{"command": "startup", "game": "My Game"}]
    assert connection.websocket.closed is not None
    assert connection.websocket.closed.code == 1000


async def test_basic_usage_without_server_skips_game_logic() -> None:
    # Nothing listens on the port: the first attempt fails, not_connected is true
    # and main() returns at once -- but only after the component stops retrying,
    # which main() never asks for, so we bound it and stop it ourselves.
    async with trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game_manager", nursery)
        component = TrioNeuroAPIComponent("neuro_api", "My Game")
        manager.add_component(component)
        await manager.raise_event(Event("connect", "ws://127.0.0.1:1"))
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        assert component.not_connected
        with trio.fail_after(WAIT):
            await component.stop()


async def test_custom_connection_handling() -> None:
    async with example_server() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game_manager", nursery)
        component = page_examples.CustomGameComponent("neuro_api", "My Game")
        manager.add_component(component)
        await component.register_action(Action("wave", "Wave at chat"), lambda data: None)
        await manager.raise_event(Event("connect", neuro.url))
        with trio.fail_after(WAIT):
            await component.wait_for_connection()
        connection = await neuro.wait_connection()
        await connection.wait_count(5)
        assert connection.commands() == [
            "startup",
            "actions/register",
            # The example sends startup itself: the component re-registers at once.
            "startup",
            "actions/register",
            "context",
        ]
        assert connection.messages()[4]["data"] == {"message": "Game is ready!", "silent": True}
        with trio.fail_after(WAIT):
            await component.stop()


async def test_custom_connection_handling_failure_sets_ready() -> None:
    async with trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game_manager", nursery)
        component = page_examples.CustomGameComponent("neuro_api", "My Game")
        manager.add_component(component)
        await manager.raise_event(Event("connect", "ws://127.0.0.1:1"))
        with trio.fail_after(WAIT):
            await component.wait_for_connection()
        assert component.not_connected
        await component.stop()


# trio-websocket 0.12's open_websocket_url() leaves the client socket open when the
# server closes first (its reader stops at EOF without closing the stream); the
# example uses it as written, so the resulting ResourceWarning is expected here.
# Our component opens and closes its own TCP stream (test_trio_ws.py checks that).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_direct_api_usage() -> None:
    async with example_server() as neuro, trio.open_nursery() as nursery:
        nursery.start_soon(page_examples.direct_usage)
        connection = await neuro.wait_connection()
        await connection.wait_count(2)
        # The loop reads what Neuro sends; an action gets the default answer.
        await connection.send('{"command":"action","data":{"id":"1","name":"jump"}}')
        result = await connection.wait_for_result("1")
        assert result["success"] is False
        await connection.websocket.aclose()
        # direct_usage() leaves its loop on ConnectionClosed and returns.
    assert connection.messages()[:2] == [
        {"command": "startup", "game": "My Game"},
        {
            "command": "context",
            "game": "My Game",
            "data": {"message": "Hello from my game!", "silent": True},
        },
    ]
