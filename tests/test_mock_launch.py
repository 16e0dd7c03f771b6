"""``play_game``: a real game process against the stand-in on a free port."""

from __future__ import annotations

import sys

import pytest
import trio

from neuro_bridge.mock import MockConfig, play_game

#: A tiny game on our runtime: it connects to $NEURO_SDK_WS_URL, says startup and
#: some context, and exits with status 3.
GAME = """
import os, sys, trio
from libcomponent.component import Event
from neuro_bridge.trio_ws import TrioNeuroAPIComponent

async def main():
    game = TrioNeuroAPIComponent("neuro", "Launched Game")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(game.handle_connect, Event("connect", os.environ["NEURO_SDK_WS_URL"]))
        await game.wait_for_websocket()
        await game.send_context("hello from a process")
        await game.stop()
        nursery.cancel_scope.cancel()

trio.run(main)
sys.exit(3)
"""


async def test_the_game_plays_against_the_stand_in_and_its_status_is_returned() -> None:
    config = MockConfig(host="127.0.0.1", port=0, seed=1)
    with trio.fail_after(60):
        played = await play_game([sys.executable, "-c", GAME], config=config)
    assert played.returncode == 3
    (session,) = played.mock.sessions
    assert session.game == "Launched Game"
    assert session.commands()[:2] == ["startup", "context"]
    assert played.mock.findings == []


async def test_a_command_that_cannot_start_stops_the_stand_in() -> None:
    with trio.fail_after(60), pytest.raises(FileNotFoundError):
        await play_game(["/no/such/game"])


async def test_an_empty_command_is_refused() -> None:
    with pytest.raises(ValueError, match="command must name"):
        await play_game([])
