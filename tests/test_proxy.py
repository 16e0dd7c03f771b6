"""The validating proxy on its own: real sockets on 127.0.0.1, no Godot.

Upstream is the stand-in Neuro (:class:`~neuro_bridge.mock.MockNeuro`) for a game on
our runtime, and :class:`~tests.helpers.ScriptedNeuro` where the test must choose
exactly what Neuro sends.  The sloppy game is a raw websocket client.
"""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
import trio_websocket
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge import cli, conformance
from neuro_bridge.mock import MockConfig, MockNeuro
from neuro_bridge.protocol import Action
from neuro_bridge.proxy import GAME_LEFT_MESSAGE, NeuroProxy, process_is_running
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests import mock_support
from tests.helpers import ScriptedNeuro, ServerConnection, action_frame, scripted_neuro
from tests.mock_support import RawGame

WAIT = 10.0
FAST_RECONNECT = {"reconnect_initial_delay": 0.05, "reconnect_max_delay": 0.1}

MOVE = Action(
    "move",
    "Move to a column.",
    {
        "type": "object",
        "properties": {"x": {"type": "integer", "minimum": 0, "maximum": 6}},
        "required": ["x"],
    },
)
WAVE = Action("wave", "Wave at chat.")


@asynccontextmanager
async def running(proxy: NeuroProxy) -> AsyncIterator[NeuroProxy]:
    """Serve *proxy* for the block."""
    async with trio.open_nursery() as nursery:
        await nursery.start(proxy.serve)
        try:
            yield proxy
        finally:
            proxy.stop()


def raw_game(proxy: NeuroProxy) -> AbstractAsyncContextManager[RawGame]:
    """A raw websocket game connected to *proxy* with its token."""
    return mock_support.raw_game(f"ws://127.0.0.1:{proxy.port}", f"/?token={proxy.token}")


async def upgrade_status(port: int, target: str) -> int:
    """Ask for a websocket upgrade of *target* by hand; return the HTTP status."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(
            (
                f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n" not in head:
            chunk = await stream.receive_some()
            if not chunk:
                break
            head += chunk
    return int(head.split(b" ", 2)[1])


def results(upstream: ServerConnection, action_id: str) -> list[dict[str, Any]]:
    """Every ``action/result`` Neuro received for *action_id*."""
    return [
        m["data"]
        for m in upstream.messages()
        if m["command"] == "action/result" and m["data"]["id"] == action_id
    ]


async def test_game_on_our_runtime_plays_through_the_proxy_without_violations() -> None:
    mock = MockNeuro(MockConfig(port=0, force_delay=0.01, seed=3, reregister_on_connect=False))
    played: list[dict[str, Any]] = []
    with trio.fail_after(WAIT * 3):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            async with running(NeuroProxy(mock.url)) as proxy:
                manager = ExternalRaiseManager("game", nursery)
                game = TrioNeuroAPIComponent("neuro", "Proxy Game")
                manager.add_component(game)
                await manager.raise_event(Event("connect", proxy.url))
                await game.wait_for_websocket()
                await game.register_action(MOVE, played.append)
                for turn in range(3):
                    await game.send_force_action("Your turn.", "Pick a column.", ["move"])
                    while len(played) <= turn or game.pending_force is not None:
                        await trio.sleep(0.01)
                await game.stop()
            mock.stop()
    assert [sorted(data) for data in played] == [["x"]] * 3
    assert all(0 <= data["x"] <= 6 for data in played)
    assert proxy.findings == []
    mock.assert_conforms()


async def test_sloppy_game_every_action_answered_once_and_bad_data_never_forwarded() -> None:
    with trio.fail_after(WAIT * 2):
        async with (
            scripted_neuro() as neuro,
            running(NeuroProxy(neuro.url)) as proxy,
            raw_game(proxy) as game,
        ):
            await game.start(MOVE, WAVE)
            upstream = await neuro.wait_connection()
            await upstream.wait_for(
                lambda m: (
                    m["command"] == "actions/register"
                    and {a["name"] for a in m["data"]["actions"]} == {"move", "wave"}
                )
            )
            # Invalid data and an unknown name: answered upstream, never forwarded.
            await upstream.send(action_frame("bad-1", "move", {"x": 99}))
            await upstream.send(action_frame("bad-2", "move", "{not json"))
            await upstream.send(action_frame("bad-3", "jump", {}))
            for action_id in ("bad-1", "bad-2", "bad-3"):
                result = await upstream.wait_for_result(action_id)
                assert result["success"] is False
                assert result["message"]
            # A failure without a message: the proxy supplies one.
            await upstream.send(action_frame("quiet", "wave"))
            assert (await game.next_action())["id"] == "quiet"
            await game.send(
                {
                    "command": "action/result",
                    "game": "Raw Game",
                    "data": {"id": "quiet", "success": False},
                }
            )
            assert (await upstream.wait_for_result("quiet"))["message"]
            # A good action reaches the game with Neuro's data, untouched; a second
            # answer to it and an answer to an id never sent go nowhere.
            await upstream.send(action_frame("good", "move", {"x": 2}))
            good = await game.next_action(1)
            assert good == {"id": "good", "name": "move", "data": '{"x": 2}'}
            await game.answer("good", True)
            await game.answer("good", True)
            await game.answer("made-up", True)
            assert (await upstream.wait_for_result("good"))["success"] is True
            await upstream.send(action_frame("probe", "nothing"))
            await upstream.wait_for_result("probe")
            assert [a["id"] for a in game.actions()] == ["quiet", "good"]
            for action_id in ("bad-1", "bad-2", "bad-3", "quiet", "good", "probe"):
                assert len(results(upstream, action_id)) == 1, action_id
            assert not results(upstream, "made-up")
    broken = {finding.rule for finding in proxy.findings}
    assert {
        conformance.RESULT_NO_MESSAGE,
        conformance.RESULT_DUPLICATE,
        conformance.RESULT_UNKNOWN_ID,
    } <= broken


async def test_an_action_the_game_never_answers_is_answered_once() -> None:
    with trio.fail_after(WAIT):
        async with (
            scripted_neuro() as neuro,
            running(NeuroProxy(neuro.url, result_timeout=0.2)) as proxy,
            raw_game(proxy) as game,
        ):
            await game.start(MOVE)
            upstream = await neuro.wait_connection()
            await upstream.wait_for_command("actions/register")
            await upstream.send(action_frame("never", "move", {"x": 1}))
            assert (await game.next_action())["id"] == "never"
            timed_out = await upstream.wait_for_result("never")
            assert timed_out["success"] is False
            assert "0.2 s" in timed_out["message"]
            # Answered late (after the timeout): dropped, not a second answer.
            await game.answer("never", True, "done")
            await upstream.send(action_frame("probe", "nothing"))
            await upstream.wait_for_result("probe")
            assert len(results(upstream, "never")) == 1
    broken = {finding.rule for finding in proxy.findings}
    assert {conformance.RESULT_MISSING, conformance.RESULT_LATE} <= broken


async def test_second_force_and_violations_reported_and_one_force_forwarded() -> None:
    with trio.fail_after(WAIT):
        async with scripted_neuro() as neuro, running(NeuroProxy(neuro.url)) as proxy:
            async with raw_game(proxy) as game:
                await game.start(MOVE)
                await game.force("move")
                await game.force("move", query="Again.")
                await game.send({"command": "actions/shout", "game": "Raw Game"})
                await game.send({"command": "context", "game": "Raw Game", "data": {}})
                await game.send(game.commands.context("ok", True))
                upstream = await neuro.wait_connection()
                await upstream.wait_for(
                    lambda m: m["command"] == "context" and m["data"]["message"] == "ok"
                )
    assert upstream.commands() == ["startup", "actions/register", "actions/force", "context"]
    broken = [finding.rule for finding in proxy.findings]
    assert conformance.FORCE_IN_FLIGHT in broken
    assert conformance.UNKNOWN_COMMAND in broken
    assert conformance.COMMAND_DATA in broken


async def test_strict_refuses_violations() -> None:
    with trio.fail_after(WAIT):
        async with scripted_neuro() as neuro, running(NeuroProxy(neuro.url, strict=True)) as proxy:
            async with raw_game(proxy) as game:
                await game.start(MOVE)
                bad_name = Action("wave", "Wave.")
                frame = game.commands.register_actions([bad_name]).replace('"wave"', '"Wave!"')
                await game.send(frame)
                await game.force("move", "ghost")
                await game.send(game.commands.context("after", True))
                upstream = await neuro.wait_connection()
                await upstream.wait_for_command("context")
    assert upstream.commands() == ["startup", "actions/register", "context"]
    assert [a["name"] for a in upstream.messages()[1]["data"]["actions"]] == ["move"]
    broken = {finding.rule for finding in proxy.findings}
    assert {conformance.ACTION_NAME, conformance.FORCE_UNREGISTERED} <= broken


async def test_upstream_restart_resends_registrations_and_the_force() -> None:
    with trio.fail_after(WAIT * 2):
        async with trio.open_nursery() as nursery:
            first = ScriptedNeuro()
            await nursery.start(first.serve)
            port = first.port
            async with running(NeuroProxy(first.url, upstream_options=FAST_RECONNECT)) as proxy:
                async with raw_game(proxy) as game:
                    await game.start(MOVE, WAVE)
                    await game.force("move")
                    upstream = await first.wait_connection()
                    await upstream.wait_for_command("actions/force")
                    first.stop()
                    second = ScriptedNeuro(port=port)
                    await nursery.start(second.serve)
                    again = await second.wait_connection()
                    await again.wait_for_command("actions/force")
                    assert again.commands() == ["startup", "actions/register", "actions/force"]
                    names = [a["name"] for a in again.messages()[1]["data"]["actions"]]
                    assert names == ["move", "wave"]
                    # The session goes on: an action still reaches the game.
                    await again.send(action_frame("after", "move", {"x": 0}))
                    assert (await game.next_action())["id"] == "after"
                    await game.answer("after", True)
                    assert (await again.wait_for_result("after"))["success"] is True
                    second.stop()
            nursery.cancel_scope.cancel()


async def test_game_reconnect_replaces_the_session_and_fails_open_actions() -> None:
    with trio.fail_after(WAIT):
        async with scripted_neuro() as neuro, running(NeuroProxy(neuro.url)) as proxy:
            async with raw_game(proxy) as old:
                await old.start(WAVE)
                upstream = await neuro.wait_connection()
                await upstream.wait_for_command("actions/register")
                await upstream.send(action_frame("open", "wave"))
                await old.next_action()
            assert (await upstream.wait_for_result("open"))["message"] == GAME_LEFT_MESSAGE
            start = len(upstream.received)
            async with raw_game(proxy) as new:
                await new.start(MOVE)
                await upstream.wait_for(
                    lambda m: (
                        m["command"] == "actions/register"
                        and m["data"]["actions"][0]["name"] == "move"
                    ),
                    start=start,
                )
                assert [m["command"] for m in upstream.messages()[start:]] == [
                    "actions/unregister",
                    "startup",
                    "actions/register",
                ]
                component = proxy.upstream_component
                assert component is not None
                assert list(component.registered_actions) == ["move"]
    assert proxy.findings == []


@pytest.mark.parametrize("token", ["", "wrong"])
async def test_wrong_or_missing_token_is_refused(token: str) -> None:
    with trio.fail_after(WAIT):
        async with scripted_neuro() as neuro, running(NeuroProxy(neuro.url)) as proxy:
            target = "/" + (f"?token={token}" if token else "")
            assert await upgrade_status(proxy.port, target) == 403
            assert await upgrade_status(proxy.port, f"/?token={proxy.token}") == 101
            assert not neuro.connections


async def test_exit_with_game_stops_when_the_game_goes_away() -> None:
    with trio.fail_after(WAIT):
        async with scripted_neuro() as neuro:
            proxy = NeuroProxy(neuro.url, exit_with_game=True, game_gone_grace=0.05)
            async with trio.open_nursery() as nursery:
                await nursery.start(proxy.serve)
                async with raw_game(proxy) as game:
                    await game.start(WAVE)
                    await neuro.wait_connection()
            # The nursery ends only because serve() returned by itself.


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--upstream", "http://x"], "ws://"),
        (["--upstream", "ws://127.0.0.1:1", "--host", "0.0.0.0"], "loopback"),  # noqa: S104
        (["--upstream", "ws://127.0.0.1:1", "--token", "a b"], "token"),
    ],
)
def test_cli_usage_errors(args: list[str], error: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["proxy", "--port", "0", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neuro-bridge proxy: ")
    assert error in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("--game-pid", "0", "argument --game-pid: must be 1 or more, not 0"),
        ("--ready-file", "/no/such/folder/url", "argument --ready-file: folder /no/such/folder"),
        ("--port", "70000", "argument --port: must be a port from 0 to 65535"),
    ],
)
def test_cli_sidecar_option_errors(
    option: str, value: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["proxy", "--port", "0", "--upstream", "ws://127.0.0.1:1", option, value]
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    assert exited.value.code == 2
    assert error in capsys.readouterr().err


def test_cli_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = cli.main(["proxy", "--port", str(port), "--upstream", "ws://127.0.0.1:1"])
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith(f"neuro-bridge proxy: cannot listen on 127.0.0.1:{port}")
    assert err.count("\n") == 1


async def test_cli_prints_the_url_and_exits_with_its_game() -> None:
    """The launch contract: --port 0, the printed line, --exit-with-game."""
    with trio.fail_after(WAIT * 3):
        async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
            command = [sys.executable, "-m", "neuro_bridge", "proxy", "--port", "0"]
            command += ["--upstream", neuro.url, "--token", "launch-token", "--exit-with-game"]
            process = await nursery.start(
                partial(trio.run_process, command, stdout=subprocess.PIPE, check=False)
            )
            assert process.stdout is not None
            line = b""
            while not line.endswith(b"\n"):
                line += await process.stdout.receive_some(1)
            match = re.fullmatch(
                r"neuro-bridge proxy listening on ws://127\.0\.0\.1:(\d+)/\?token=launch-token\n",
                line.decode(),
            )
            assert match is not None, line
            url = f"ws://127.0.0.1:{match[1]}/?token=launch-token"
            async with trio_websocket.open_websocket_url(url) as websocket:
                await websocket.send_message('{"command": "startup", "game": "CLI Game"}')
                upstream = await neuro.wait_connection()
                await upstream.wait_for_command("startup")
            assert await process.wait() == 0


async def test_cli_as_a_sidecar_writes_the_ready_file_and_exits_with_its_game_process(
    tmp_path: Path,
) -> None:
    """--ready-file and --game-pid: what the Godot addon starts its sidecar with."""
    ready_file = tmp_path / "sidecar.url"
    with trio.fail_after(WAIT * 3):
        async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
            # The "game": a process that runs until its stdin closes (never connects).
            game = await nursery.start(
                partial(
                    trio.run_process,
                    [sys.executable, "-c", "import sys; sys.stdin.read()"],
                    stdin=subprocess.PIPE,
                )
            )
            command = [sys.executable, "-m", "neuro_bridge", "proxy", "--port", "0"]
            command += ["--upstream", neuro.url, "--game-pid", str(game.pid)]
            command += ["--ready-file", str(ready_file)]
            proxy = await nursery.start(
                partial(trio.run_process, command, stdout=subprocess.PIPE, check=False)
            )
            while not ready_file.exists():
                await trio.sleep(0.02)
            url = ready_file.read_text(encoding="utf-8")
            assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]+\n", url), url
            assert ready_file.stat().st_mode & 0o777 == 0o600
            assert not ready_file.with_name("sidecar.url.partial").exists()
            async with trio_websocket.open_websocket_url(url.strip()) as websocket:
                await websocket.send_message('{"command": "startup", "game": "Sidecar Game"}')
                await (await neuro.wait_connection()).wait_for_command("startup")
            assert proxy.returncode is None  # the game left, but its process still runs
            assert game.stdin is not None
            await game.stdin.aclose()  # the game's process ends ...
            assert await proxy.wait() == 0  # ... and the proxy with it


def test_process_is_running_sees_an_ended_unreaped_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + WAIT
        while process_is_running(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not process_is_running(child.pid)  # ended, still a zombie: not running
        assert process_is_running(os.getpid())
    finally:
        child.wait()


def test_importing_the_proxy_loads_no_stand_in_module() -> None:
    # The Godot sidecar imports the proxy: the stand-in Neuro (data generator, hostile
    # input, server...) stays out of it; the rules come from neuro_bridge.conformance.
    code = (
        "import sys, neuro_bridge.proxy;"
        "loaded = sorted(m for m in sys.modules if m.split('.')[:2] == ['neuro_bridge', 'mock']);"
        "assert 'neuro_bridge.conformance' in sys.modules;"
        "sys.exit(f'stand-in modules imported: {loaded}' if loaded else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
