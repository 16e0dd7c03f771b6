"""The Godot addon with its sidecar (``neuro-bridge proxy``), on real Godot 4 headless.

The sample's ``neuro_bridge/sidecar/python`` setting names this test run's Python, so
the addon starts ``python -m neuro_bridge proxy`` itself and plays through it against
the stand-in Neuro.  Godot's output is read while it runs (:class:`GodotRun`), so a
test can act on what the sample prints, e.g. the sidecar's process id.  Without Godot
these tests fail in CI and skip elsewhere (see ``engines.py``).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import trio

from neuro_bridge.installers.godot_addon import install
from neuro_bridge.mock import MockConfig, MockNeuro
from neuro_bridge.proxy import NeuroProxy, process_is_running
from tests.engines.test_godot import (
    SAMPLE,
    assert_only_successes_reached_the_game,
    chaos_config,
    play_through_a_neuro_restart,
    sample_copy,
    script_failures,
)

if TYPE_CHECKING:
    from tests.engines.engines import Engine

#: Seconds any one step may take on a loaded machine.
STEP = 60.0


def use_sidecar(project: Path, *, strict: bool = True, reconnect_seconds: float = 0.2) -> None:
    """Make the sample start its sidecar with this Python (``[neuro_bridge]`` is last)."""
    install(project, sidecar_python=sys.executable)
    with (project / "project.godot").open("a", encoding="utf-8") as file:
        file.write(f"sidecar/strict={'true' if strict else 'false'}\n")
        file.write(f"connection/reconnect_seconds={reconnect_seconds}\n")


class GodotRun:
    """Godot running the sample, its output collected line by line as it comes."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = trio.Event()
        self.returncode: int | None = None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def collect(self) -> None:
        assert self.process.stdout is not None
        pending = b""
        async for chunk in self.process.stdout:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            self.lines.extend(line.decode(errors="replace") for line in complete)
            self._changed.set()
            self._changed = trio.Event()
        if pending:
            self.lines.append(pending.decode(errors="replace"))
        self.returncode = await self.process.wait()
        self._changed.set()

    async def wait_for(self, pattern: str, count: int = 1) -> list[re.Match[str]]:
        """Wait until *count* lines match *pattern*; return the matches."""
        with trio.fail_after(STEP):
            while True:
                found = [m for m in map(re.compile(pattern).search, self.lines) if m]
                if len(found) >= count:
                    return found
                if self.returncode is not None:
                    raise AssertionError(f"Godot ended before {pattern!r}:\n{self.output}")
                await self._changed.wait()

    async def wait(self) -> int:
        with trio.fail_after(STEP * 3):
            while self.returncode is None:
                await self._changed.wait()
        return self.returncode


async def start_sample(
    nursery: trio.Nursery, engine: Engine, project: Path, url: str, *args: str
) -> GodotRun:
    """Start the sample on *engine* with ``--autoplay`` and *args*, Neuro at *url*."""
    command = engine.command("--path", str(project), "--", "--autoplay", *args)
    process = await trio.lowlevel.open_process(
        command,
        env=engine.environ({"NEURO_SDK_WS_URL": url}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    run = GodotRun(process)
    nursery.start_soon(run.collect)
    return run


async def sidecar_pids(run: GodotRun, count: int = 1) -> list[int]:
    found = await run.wait_for(r"\[tic-tac-toe\] sidecar started: pid (\d+)", count)
    return [int(m[1]) for m in found]


async def wait_until_ended(pid: int) -> None:
    with trio.fail_after(STEP):
        while process_is_running(pid):
            await trio.sleep(0.05)


async def serving(nursery: trio.Nursery, config: MockConfig) -> MockNeuro:
    mock = MockNeuro(config)
    await nursery.start(mock.serve)
    return mock


async def test_stand_in_plays_the_sample_through_the_sidecar_strictly(
    godot: Engine, tmp_path: Path
) -> None:
    project = sample_copy(godot, tmp_path / "sample")
    use_sidecar(project)
    with trio.fail_after(STEP * 4):
        async with trio.open_nursery() as nursery:
            mock = await serving(nursery, chaos_config())
            run = await start_sample(nursery, godot, project, mock.url, "--games", "3")
            (pid,) = await sidecar_pids(run)
            assert await run.wait() == 0, run.output
            await wait_until_ended(pid)  # Godot quit: its sidecar ended with it
            with trio.fail_after(STEP):
                await mock.wait_all_disconnected()
            mock.stop()
    output = run.output
    assert not script_failures(output), output
    assert "[tic-tac-toe] done: 3 games" in output, output
    assert " broke " not in output, output  # the sidecar's own conformance log
    assert mock.findings == [], mock.summary()
    (session,) = mock.sessions
    assert session.game == "Tic Tac Toe"
    assert session.commands()[0] == "startup"
    assert mock.chaos_outcomes
    assert all(outcome.ok for outcome in mock.chaos_outcomes)
    assert_only_successes_reached_the_game(output, session)


async def test_a_killed_sidecar_is_started_again_and_the_game_goes_on(
    godot: Engine, tmp_path: Path
) -> None:
    project = sample_copy(godot, tmp_path / "sample")
    use_sidecar(project)
    config = MockConfig(host="127.0.0.1", port=0, force_delay=0.3, seed=5)
    with trio.fail_after(STEP * 4):
        async with trio.open_nursery() as nursery:
            mock = await serving(nursery, config)
            run = await start_sample(nursery, godot, project, mock.url, "--games", "2")
            (first,) = await sidecar_pids(run)
            session = await mock.wait_for_game()
            force = await session.wait_for_force()
            os.kill(first, signal.SIGKILL)  # mid-game, with a force in flight
            await run.wait_for(r"\[tic-tac-toe\] sidecar ended: exit code")
            second = (await sidecar_pids(run, 2))[1]
            assert await run.wait() == 0, run.output
            await wait_until_ended(second)
            mock.stop()
    output = run.output
    assert second != first
    assert "[tic-tac-toe] done: 2 games" in output, output
    assert "the sidecar ended" in output, output  # the addon's warning
    first_session, restored = mock.sessions
    assert not first_session.connected
    # The new sidecar's session got startup, the actions and the force in flight again.
    commands = [m.command for m in restored.messages[:3]]
    assert commands == ["startup", "actions/register", "actions/force"], output
    assert restored.messages[2].data["query"] == force.query
    assert restored.findings == [], mock.summary()


async def test_the_sidecar_restores_the_game_after_neuro_restarts(
    godot: Engine, tmp_path: Path
) -> None:
    project = sample_copy(godot, tmp_path / "sample")
    use_sidecar(project)
    await play_through_a_neuro_restart(godot, project)


async def test_godot_killed_ends_its_sidecar(godot: Engine, tmp_path: Path) -> None:
    project = sample_copy(godot, tmp_path / "sample")
    use_sidecar(project)
    with trio.fail_after(STEP * 3):
        async with trio.open_nursery() as nursery:
            mock = await serving(nursery, MockConfig(host="127.0.0.1", port=0, seed=9))
            run = await start_sample(nursery, godot, project, mock.url, "--games", "0")
            (pid,) = await sidecar_pids(run)
            session = await mock.wait_for_game()
            await session.wait_for_force()
            run.process.send_signal(signal.SIGKILL)  # no chance to close anything
            await run.wait()
            await wait_until_ended(pid)
            with trio.fail_after(STEP):
                await mock.wait_all_disconnected()
            mock.stop()


@pytest.mark.parametrize("presented", ["right", "wrong", "missing"])
async def test_the_addon_attaches_to_a_running_proxy_only_with_its_token(
    godot: Engine, tmp_path: Path, presented: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No sidecar setting: the addon connects to a proxy started by hand, by its URL."""
    project = sample_copy(godot, tmp_path / "sample")
    with (project / "project.godot").open("a", encoding="utf-8") as file:
        file.write("connection/reconnect_seconds=0.2\n")
    caplog.set_level(logging.WARNING, logger="neuro_bridge.proxy")
    with trio.fail_after(STEP * 3):
        async with trio.open_nursery() as nursery:
            mock = await serving(nursery, MockConfig(host="127.0.0.1", port=0, seed=4))
            proxy = NeuroProxy(mock.url)
            await nursery.start(proxy.serve)
            url = {
                "right": proxy.url,
                "wrong": proxy.url.replace(proxy.token, "not-the-token"),
                "missing": f"ws://127.0.0.1:{proxy.port}/",
            }[presented]
            run = await start_sample(nursery, godot, project, url, "--games", "1")
            if presented != "right":
                await run.wait_for(r"\[tic-tac-toe\] could not connect", 2)
                run.process.terminate()
            await run.wait()
            proxy.stop()
            mock.stop()
    output = run.output
    assert not script_failures(output), output
    refusals = [r.getMessage() for r in caplog.records if "refused a game" in r.getMessage()]
    if presented == "right":
        assert "[tic-tac-toe] done: 1 games" in output, output
        assert refusals == []
        assert mock.findings == [], mock.summary()
        assert proxy.findings == []
    else:
        assert len(refusals) >= 2
        assert all(f"{presented} token" in message for message in refusals), refusals
        assert mock.sessions == []  # nothing reached Neuro


async def test_a_missing_sidecar_python_falls_back_to_a_direct_connection(
    godot: Engine, tmp_path: Path
) -> None:
    """What an exported build of a project installed with --sidecar meets on a player's
    machine: the Python is not there.  One warning naming the setting, then the game
    plays through a direct connection."""
    project = sample_copy(godot, tmp_path / "sample")
    with (project / "project.godot").open("a", encoding="utf-8") as file:
        file.write('sidecar/python="/no/such/python"\nconnection/reconnect_seconds=0.05\n')
    with trio.fail_after(STEP * 2):
        async with trio.open_nursery() as nursery:
            mock = await serving(nursery, MockConfig(host="127.0.0.1", port=0, seed=5))
            run = await start_sample(nursery, godot, project, mock.url, "--games", "1")
            assert await run.wait() == 0, run.output
            mock.stop()
    output = run.output
    assert "[tic-tac-toe] done: 1 games" in output, output
    assert output.count("connecting to Neuro directly instead") == 1, output
    assert '"/no/such/python"' in output, output
    assert "neuro_bridge/sidecar/python" in output, output
    assert "sidecar started" not in output, output
    assert output.count("sidecar ended: exit code") == 1, output
    assert mock.findings == [], mock.summary()


def path_without_godot(path: str) -> str:
    """Return *path* without the folders that hold a ``godot``."""
    return os.pathsep.join(d for d in path.split(os.pathsep) if not Path(d, "godot").exists())


async def test_play_script(godot: Engine, tmp_path: Path) -> None:
    """``play.py``, the sample's one command: the stand-in plays it through the sidecar.
    Without ``--godot``, ``$GODOT`` or ``godot`` on ``PATH`` it finds the Godot that
    ``make engines`` provisioned."""
    command = [sys.executable, str(SAMPLE / "play.py"), "--headless", "--games", "2"]
    environ = {k: v for k, v in godot.environ().items() if k != "GODOT"}
    environ["PATH"] = path_without_godot(environ.get("PATH", ""))
    with trio.fail_after(STEP * 4):
        done = await trio.run_process(
            command,
            env=environ,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    assert "[tic-tac-toe] sidecar started: pid" in output, output
    assert "[tic-tac-toe] done: 2 games" in output, output
    assert "no protocol violations" in output, output
