"""Run a copy of a Ren'Py game, with the plugin dropped in, against the stand-in Neuro.

A test serves :class:`~neuro_bridge.mock.MockNeuro` (the ``mock_neuro`` fixture)
and starts Ren'Py as a child process with :func:`start_game` (headless, software
renderer); the game finds the stand-in through ``NEURO_SDK_WS_URL``.  Both run in
the test's trio run, so the test can wait on the stand-in's sessions while the game
plays.  Every game is a fresh copy in the test's temporary folder, with its own
``HOME`` (Ren'Py keeps persistent data and saves there).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import signal
import subprocess
import textwrap
from pathlib import Path
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import attrs
import pytest
import trio

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plugins" / "renpy"
SAMPLE = REPO / "sample_games" / "renpy_tea_party"
PY311_FIX = Path("/work/shared/engines/00_py311_fix.rpy")  # FIXME: renpy-bundle's

#: The distributions the runtime needs inside Ren'Py (pure Python).
RUNTIME_DISTRIBUTIONS = (
    "trio",
    "trio-websocket",
    "wsproto",
    "h11",
    "outcome",
    "sniffio",
    "sortedcontainers",
    "idna",
    "attrs",
    "exceptiongroup",
    "libcomponent",
    "fastjsonschema",
    "typing_extensions",
    "mypy_extensions",
)

#: Settings every test copy gets: no reading delay.
FAST = """\
define neuro.advance_delay = 0.0
define neuro.advance_per_character = 0.0
"""


@attrs.frozen
class RenpyEngine:
    """A Ren'Py to run games with."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = attrs.field(factory=dict)
    needs_py311_fix: bool = False


def locate_renpy(name: str) -> RenpyEngine:
    """Return Ren'Py *name* (``renpy80``), or fail in CI / skip elsewhere."""
    if name == "renpy80" and Path("/usr/games/renpy").exists():
        return RenpyEngine(name, ("/usr/bin/python3", "/usr/games/renpy"), needs_py311_fix=True)
    reason = f"{name} is not installed (apt-get install renpy renpy-thequestion)"
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the real engine: {reason}")
    pytest.skip(reason)


def _copy_distribution(name: str, target: Path) -> None:
    distribution = importlib.metadata.distribution(name)
    for file in distribution.files or ():
        if file.suffix in (".pyc",) or "__pycache__" in file.parts:
            continue
        if file.parts[0].endswith((".pth",)) or file.parts[0] in ("..", "bin"):
            continue
        source = Path(str(distribution.locate_file(file)))
        if not source.is_file():
            continue
        destination = target / file
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def build_library(target: Path) -> Path:
    """Vendor the runtime's dependencies and ``neuro_bridge`` into *target*."""
    if (target / "neuro_bridge").is_dir():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_DISTRIBUTIONS:
        _copy_distribution(name, target)
    shutil.copytree(
        REPO / "bridge" / "neuro_bridge",
        target / "neuro_bridge",
        ignore=shutil.ignore_patterns("__pycache__", "mock"),
    )
    return target


def install_plugin(game: Path, library: Path) -> None:
    """Drop the plugin into *game* (a project folder): the ``.rpy`` and the library."""
    folder = game / "game" / "neuro_plugin"
    folder.mkdir()
    for rpy in PLUGIN.glob("*.rpy"):
        shutil.copyfile(rpy, folder / rpy.name)
    shutil.copytree(library, folder / "lib")
    (folder / "00neuro_syspath.rpy").write_text(
        textwrap.dedent(
            """\
            python early hide:
                import os
                import sys
                path = os.path.join(config.gamedir, "neuro_plugin", "lib")
                if path not in sys.path:
                    sys.path.insert(0, path)
            """
        )
    )


def copy_game(
    engine: RenpyEngine,
    source: Path,
    destination: Path,
    library: Path,
    *,
    extra: str = FAST,
) -> Path:
    """Copy the project *source* to *destination*, plugin installed; return it."""
    shutil.copytree(
        source,
        destination,
        ignore=shutil.ignore_patterns("*.rpyc", "*.rpymc", "cache", "saves", "log.txt"),
    )
    if engine.needs_py311_fix:
        shutil.copyfile(PY311_FIX, destination / "game" / "00neuro_test_py311_fix.rpy")
    install_plugin(destination, library)
    if extra:
        (destination / "game" / "zz_neuro_test.rpy").write_text(extra)
    return destination


@attrs.define
class GameRun:
    """A Ren'Py child process playing a game copy."""

    engine: RenpyEngine
    game: Path
    process: trio.Process
    stdout: Path

    def log(self) -> str:
        """Ren'Py's ``log.txt``, the plugin's log lines included."""
        path = self.game / "log.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def traceback(self) -> str:
        """Ren'Py's ``traceback.txt``, if it crashed."""
        path = self.game / "traceback.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def output(self) -> str:
        """What Ren'Py printed."""
        return self.stdout.read_text(errors="replace")

    def describe(self) -> str:
        """Everything useful when a test fails."""
        return (
            f"--- output\n{self.output()[-3000:]}\n--- log.txt\n{self.log()[-4000:]}\n"
            f"--- traceback.txt\n{self.traceback()}"
        )

    async def wait(self, timeout: float = 60.0) -> int:
        """Wait for Ren'Py to exit; return its status (kill it after *timeout* s)."""
        with trio.move_on_after(timeout):
            return await self.process.wait()
        self.process.kill()
        await self.process.wait()
        raise AssertionError(f"Ren'Py did not exit within {timeout} s\n{self.describe()}")

    async def stop(self) -> None:
        """Terminate Ren'Py if it still runs (SIGTERM, then SIGKILL)."""
        if self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        with trio.move_on_after(10):
            await self.process.wait()
            return
        self.process.kill()
        await self.process.wait()


@asynccontextmanager
async def running_game(
    engine: RenpyEngine,
    game: Path,
    url: str,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[GameRun]:
    """Run Ren'Py headless on *game*, connecting to *url*; stop it on exit if needed."""
    home = game.parent / f"{game.name}-home"
    home.mkdir(exist_ok=True)
    environ: dict[str, Any] = {
        **os.environ,
        **engine.env,
        "HOME": str(home),
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
        "PYGAME_SDL2_AVOID_GL": "1",
        "RENPY_RENDERER": "sw",
        "RENPY_PERFORMANCE_TEST": "0",
        "NEURO_SDK_WS_URL": url,
        "NEURO_BRIDGE_LOG_LEVEL": "DEBUG",
        **(env or {}),
    }
    stdout = game.parent / f"{game.name}-stdout.txt"
    with stdout.open("wb") as out:
        process = await trio.lowlevel.open_process(
            [*engine.argv, str(game), *args],
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    run = GameRun(engine, game, process, stdout)
    try:
        yield run
    finally:
        with trio.CancelScope(shield=True):
            await run.stop()
