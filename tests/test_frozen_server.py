"""A stand-in Neuro process frozen (SIGSTOP) and thawed (SIGCONT) under a live game.

The stand-in runs as ``python -m neuro_bridge.mock.cli`` in its own process on
127.0.0.1 (port 0) and records every connection (``--record``).  The game, our
runtime, notices the frozen server through its keepalive, reconnects once the
server is thawed, and restores its state on the new connection.  Every recorded
connection must then hold each action registered once: an action Neuro already
holds is registered again only in answer to an ``actions/reregister_all`` she sent
after she got it (issue 15, defect 9: the same actions were registered twice on
one connection after a thaw).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests.helpers import WAIT

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP/SIGCONT")

#: A silent server is noticed within about a second.
QUICK: dict[str, Any] = {
    "keepalive_interval": 0.5,
    "keepalive_timeout": 0.5,
    "connect_timeout": 1.0,
    "close_timeout": 0.5,
    "reconnect_initial_delay": 0.05,
    "reconnect_max_delay": 0.2,
}
MOVE = Action("move", "Move one square.")
WAVE = Action("wave", "Wave.")


def sessions(directory: Path) -> list[list[dict[str, Any]]]:
    """Every recorded connection, oldest first: its lines, decoded."""
    files = sorted(directory.glob("*.jsonl"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    # Lines are flushed whole; a last line without its newline is still being written.
    return [[json.loads(line) for line in p.read_text().split("\n")[:-1]] for p in files]


def frames(session: list[dict[str, Any]], sender: str) -> list[dict[str, Any]]:
    return [json.loads(line["frame"]) for line in session if line["type"] == sender]


def registered_twice(session: list[dict[str, Any]]) -> list[str]:
    """Names registered while Neuro held them, unasked, in one recorded connection.

    Asked means: Neuro sent ``actions/reregister_all`` after she last got the name.
    ``startup`` and ``actions/unregister`` take names away.
    """
    held: dict[str, int] = {}  # name -> requests Neuro had sent when she got it
    requests = 0
    twice = []
    for line in session:
        if line["type"] not in ("game", "neuro"):
            continue
        message = json.loads(line["frame"])
        command, data = message.get("command"), message.get("data") or {}
        if line["type"] == "neuro":
            requests += command == "actions/reregister_all"
        elif command == "startup":
            held.clear()
        elif command == "actions/register":
            for action in data["actions"]:
                if held.get(action["name"]) == requests:
                    twice.append(action["name"])
                held[action["name"]] = requests
        elif command == "actions/unregister":
            for name in data["action_names"]:
                held.pop(name, None)
    return twice


def answered_request(session: list[dict[str, Any]]) -> bool:
    """Whether Neuro sent ``actions/reregister_all`` and the game registered after it."""
    asked = answered = False
    for line in session:
        if line["type"] not in ("game", "neuro"):
            continue
        command = json.loads(line["frame"]).get("command")
        if line["type"] == "neuro" and command == "actions/reregister_all":
            asked, answered = True, False
        elif line["type"] == "game" and command == "actions/register":
            answered = asked
    return answered


def restored(session: list[dict[str, Any]]) -> bool:
    """Whether the game restored its state on this connection."""
    commands = [m.get("command") for m in frames(session, "game")]
    return commands[:3] == ["startup", "actions/register", "actions/force"]


async def test_no_action_is_registered_twice_on_one_connection_after_a_thaw(
    tmp_path: Path,
) -> None:
    record = tmp_path / "sessions"
    # The stand-in as it comes (like the real Neuro), forces left to the test.
    options = ("--port", "0", "--record", str(record), "--no-play", "--quiet")
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "neuro_bridge.mock.cli", *options],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    output = bytearray()

    async def read_output() -> None:
        assert process.stdout is not None
        async for chunk in process.stdout:
            output.extend(chunk)

    async def console(line: str) -> None:
        assert process.stdin is not None
        await process.stdin.send_all(line.encode() + b"\n")

    def latest_restored() -> list[dict[str, Any]]:
        return [s for s in sessions(record) if restored(s)][-1]

    async def wait_until(condition: Any) -> None:
        while not condition():
            await trio.sleep(0.02)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(read_output)
            with trio.fail_after(4 * WAIT):
                await wait_until(lambda: b"listening on" in output)
                url = next(
                    line.rsplit(" ", 1)[1]
                    for line in output.decode().splitlines()
                    if "listening on" in line
                )
                manager = ExternalRaiseManager("game", nursery)
                game = TrioNeuroAPIComponent("neuro", "Thawed Game", **QUICK)
                manager.add_component(game)
                await game.register_action(MOVE, lambda data: None)
                await game.register_action(WAVE, lambda data: None)
                await game.send_force_action("a board", "Your move.", ["move", "wave"])
                await manager.raise_event(Event("connect", url))
                await wait_until(lambda: any(restored(s) for s in sessions(record)))
                await game.send_context("before the freeze")
                os.kill(process.pid, signal.SIGSTOP)
                try:
                    await wait_until(lambda: game.not_connected)  # the keepalive noticed
                    # Frames committed while Neuro is unreachable: held, or restored.
                    await game.send_context("while frozen")
                    await game.unregister_actions(["wave"])
                    await game.register_action(WAVE, lambda data: None)
                finally:
                    os.kill(process.pid, signal.SIGCONT)
                await wait_until(lambda: sum(map(restored, sessions(record))) >= 2)
                await wait_until(lambda: not game.not_connected)
                # Neuro lost the actions: she asks, and they are registered again
                # (asked again should a busy machine have dropped the connection).
                for _ in range(10):
                    await console("reregister")
                    with trio.move_on_after(3.0):
                        await wait_until(lambda: answered_request(latest_restored()))
                        break
                await game.stop()
                await console("quit")
                await process.wait()
    finally:
        if process.returncode is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
            with trio.move_on_after(WAIT):
                await process.wait()
    recorded = sessions(record)
    assert sum(map(restored, recorded)) >= 2, output.decode()  # the thaw reconnected
    assert any(map(answered_request, recorded))
    assert [registered_twice(s) for s in recorded] == [[] for _ in recorded], output.decode()
    findings = [line for s in recorded for line in s if line["type"] == "finding"]
    assert findings == []
