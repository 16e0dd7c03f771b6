"""``neuro-bridge mock``: its options, a real run against our runtime (subprocess),
``--strict``/``--report``, and the console commands.
"""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.mock import MockNeuro, cli
from neuro_bridge.mock.console import HELP, Console
from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests.helpers import assert_refused_before_running
from tests.mock_support import WAIT, raw_game

MOVE = Action(
    "move",
    "Move.",
    {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
)
WAVE = Action("wave", "Wave.")


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(prog="neuro-bridge mock")
    cli.configure_parser(result)
    return result


def test_help_documents_every_option() -> None:
    p = parser()
    text = p.format_help()
    for action in p._actions:
        assert action.help, action.option_strings
        for option in action.option_strings:
            assert option in text
    args = p.parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    config = cli.config_from_args(args)
    assert config.chaos == frozenset()
    assert config.result_timeout == 20.0


def test_options_become_config() -> None:
    args = parser().parse_args(
        ["--port", "0", "--chaos-kinds", "invalid_json,speech_finished", "--unforced", "0.5",
         "--no-play", "--character", "evil", "--result-timeout", "2", "--seed", "4"]
    )  # fmt: skip
    config = cli.config_from_args(args)
    assert {k.value for k in config.chaos} == {"invalid_json", "speech_finished"}
    assert (config.unforced_rate, config.auto_play, config.character) == (0.5, False, "evil")
    assert (config.result_timeout, config.seed) == (2.0, 4)
    assert config.reregister_on_connect is False  # the real Neuro does not ask on connect
    assert cli.config_from_args(
        parser().parse_args(["--reregister-on-connect"])
    ).reregister_on_connect
    assert len(cli.config_from_args(parser().parse_args(["--chaos"])).chaos) == 13
    with pytest.raises(SystemExit):
        parser().parse_args(["--chaos-kinds", "meteor"])


def test_port_in_use_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = parser().parse_args(["--port", str(port), "--no-console", "--quiet"])
        assert cli.run(args) == 2
    assert "cannot listen" in capsys.readouterr().out


class Process:
    """``python -m neuro_bridge.mock.cli`` with its output collected."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.output = ""
        self._changed = trio.Event()

    async def read(self) -> None:
        assert self.process.stdout is not None
        async for chunk in self.process.stdout:
            self.output += chunk.decode()
            self._changed.set()
            self._changed = trio.Event()

    async def wait_output(self, text: str) -> None:
        while text not in self.output:
            await self._changed.wait()

    async def type(self, line: str) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send_all(line.encode() + b"\n")


async def run_cli(nursery: trio.Nursery, *args: str) -> Process:
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "neuro_bridge.mock.cli", "--port", "0", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    runner = Process(process)
    nursery.start_soon(runner.read)
    return runner


def url_of(output: str) -> str:
    line = next(line for line in output.splitlines() if "listening on" in line)
    return line.rsplit(" ", 1)[1]


async def test_cli_plays_our_runtime_strictly(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    calls: list[tuple[str, dict[str, Any]]] = []
    with trio.fail_after(3 * WAIT):
        async with trio.open_nursery() as nursery:
            mock = await run_cli(
                nursery,
                "--once",
                "--strict",
                "--report",
                str(report),
                "--force-delay",
                "0.05",
                "--reregister-on-connect",
            )
            await mock.wait_output("listening on")
            manager = ExternalRaiseManager("game", nursery)
            game = TrioNeuroAPIComponent("neuro", "CLI Game")
            manager.add_component(game)
            await game.register_neuro_actions(
                [
                    (MOVE, lambda data: calls.append(("move", data))),
                    (WAVE, lambda data: calls.append(("wave", data))),
                ]
            )
            await manager.raise_event(Event("connect", url_of(mock.output)))
            # The restoration, then the answer to the request Randy sends on connect.
            while mock.output.count("register: move(...), wave") < 2:
                await trio.sleep(0.01)
            await game.send_force_action("state", "Move now.", ["move"])
            while not calls:
                await trio.sleep(0.01)
            await mock.type("@1 action wave")
            await mock.type("games")
            while len(calls) < 2:
                await trio.sleep(0.01)
            await mock.wait_output("#1 CLI Game [connected]")
            await game.stop()
            status = await mock.process.wait()
    assert status == 0, mock.output
    assert [name for name, _ in calls] == ["move", "wave"]
    assert isinstance(calls[0][1]["x"], int)
    assert "game  -> force [move]: 'Move now.'" in mock.output
    assert "neuro -> action #1-1 move" in mock.output
    assert "no protocol violations" in mock.output
    assert json.loads(report.read_text()) == {"ok": True, "counts": {}, "findings": [], "chaos": []}


async def test_cli_strict_fails_for_a_broken_game(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    with trio.fail_after(3 * WAIT):
        async with trio.open_nursery() as nursery:
            mock = await run_cli(
                nursery, "--once", "--strict", "--no-console", "--quiet", "--report", str(report)
            )
            await mock.wait_output("listening on")
            async with raw_game(url_of(mock.output)) as game:
                await game.send({"command": "startup", "game": "Bad", "data": {}})
                await game.send(b'{"command":"context","game":"Bad"}')
            assert await mock.process.wait() == 1
    written = json.loads(report.read_text())
    assert written["ok"] is False
    assert set(written["counts"]) == {"unexpected-data", "binary-frame", "command-data"}
    assert "3 protocol violation(s)" in mock.output
    assert "hint:" in mock.output


async def test_cli_strict_passes_a_game_that_only_gets_advice(tmp_path: Path) -> None:
    # Keywords Neuro "probably does not support well" are advice (issue 8, item 14).
    report = tmp_path / "report.json"
    advised = Action(
        "pick",
        "Pick one.",
        {"type": "object", "properties": {"x": {"type": "integer"}}, "additionalProperties": False},
    )
    with trio.fail_after(3 * WAIT):
        async with trio.open_nursery() as nursery:
            mock = await run_cli(
                nursery, "--once", "--strict", "--no-console", "--quiet", "--report", str(report)
            )
            await mock.wait_output("listening on")
            async with raw_game(url_of(mock.output)) as game:
                await game.start(advised, Action("wave", "Wave.", {}))
            assert await mock.process.wait() == 0, mock.output
    written = json.loads(report.read_text())
    assert written["ok"] is True
    assert written["counts"] == {"schema-unsupported-keyword": 1}
    assert written["findings"][0]["advice"] is True
    assert "no protocol violations" in mock.output
    assert "1 piece(s) of advice" in mock.output


@pytest.mark.mock_neuro(auto_play=False)
async def test_console_commands(mock_neuro: MockNeuro) -> None:
    async with trio.open_nursery() as nursery:
        console = Console(mock_neuro, nursery)
        assert await console.execute("games") == "no games have connected"
        assert await console.execute("reregister") == "error: no game is connected"
        nursery.cancel_scope.cancel()
    async with raw_game(mock_neuro.url) as game, trio.open_nursery() as nursery:
        console = Console(mock_neuro, nursery)
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(MOVE, WAVE)
            await session.wait_for_actions("move", "wave")
            replies = [
                await console.execute(line)
                for line in (
                    "",
                    "help",
                    '{"command": "actions/reregister_all"}',
                    "@1 raw not json",
                    "action move",
                    'action wave {"too": "much"}',
                    "force",
                    "ack evil",
                    "graceful false",
                    "immediate",
                    "speech partial",
                    "chaos speech_finished",
                    "chaos meteor",
                    "@9 reregister",
                    "@x reregister",
                    "{broken",
                    "dance",
                    "findings",
                )
            ]
            while not mock_neuro.chaos_outcomes:
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert replies[0] == ""
    assert replies[1] == HELP
    assert replies[2:4] == ["#1 sent", "#1 sent"]
    assert replies[4] == "#1 sent action #1-1"
    assert replies[5] == "#1 sent action #1-2"
    assert replies[6] == "#1 error: the game has no force in flight"
    assert replies[7:11] == ["#1 sent"] * 4
    assert replies[11] == "#1 probing speech_finished"
    assert replies[12].startswith("#1 error: 'meteor' is not a valid ChaosKind")
    assert replies[13:15] == ["error: no game #9", "error: bad target '@x'; use @N"]
    assert replies[15].startswith("#1 error: ")
    assert replies[16] == "#1 error: unknown command 'dance' (try help)"
    assert replies[17].startswith("no protocol violations")
    commands = [m["command"] for m in game.received]
    assert commands[:2] == ["actions/reregister_all", "<not json>"]  # none on connect
    assert commands.count("action") == 2
    assert game.actions()[1]["data"] == '{"too": "much"}'
    assert {"startup", "shutdown/graceful", "shutdown/immediate", "speech_finished"} <= set(
        commands
    )


async def test_console_quit_stops_the_server() -> None:
    mock = MockNeuro(cli.config_from_args(parser().parse_args(["--port", "0"])))
    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            assert await Console(mock, nursery).execute("quit") == "stopping"


@pytest.mark.parametrize(
    ("option", "value", "complaint"),
    [
        ("--port", "99999", "from 0 to 65535"),
        ("--port", "-1", "from 0 to 65535"),
        ("--port", "http", "not a whole number"),
        ("--report", "/nonexistent/dir/r.json", "does not exist"),
        ("--max-retries", "-2", "must be 0 or more"),
        ("--extra-keys", "1.5", "between 0 and 1"),
        ("--force-delay", "nan", "finite"),
    ],
)
def test_bad_options_are_refused_before_serving(
    option: str, value: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_refused_before_running(
        capsys, ["mock", "--no-console", option, value], option, complaint
    )
