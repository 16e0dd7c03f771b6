"""Run a copy of a Ren'Py game, with the plugin dropped in, against the stand-in Neuro.

A test serves :class:`~neuro_bridge.mock.MockNeuro` (the ``mock_neuro`` fixture)
and starts Ren'Py as a child process with :func:`start_game` (headless, software
renderer); the game finds the stand-in through ``NEURO_SDK_WS_URL``.  Both run in
the test's trio run, so the test can wait on the stand-in's sessions while the game
plays.  Every game is a fresh copy in the test's temporary folder, with its own
``HOME`` (Ren'Py keeps persistent data and saves there).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import signal
import subprocess
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from neuro_bridge.mock import MockConfig, MockNeuro, Transcript
from tests.engines.engines import renpy_game_copy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping, Sequence

    from neuro_bridge.mock import GameMessage
    from tests.engines.engines import Engine

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_games" / "renpy_tea_party"
HOOKS = Path(__file__).with_name("renpy_test_hooks.rpy")

#: Settings every test copy gets: no reading delay.
FAST = """\
define neuro.advance_delay = 0.0
define neuro.advance_per_character = 0.0
"""


def install_bundle(game: Path, bundle: Path) -> Path:
    """Copy the drop-in folder *bundle* into the project *game*, as a person would."""
    return shutil.copytree(bundle, game / "game" / bundle.name)


def copy_game(
    engine: Engine,
    source: Path,
    destination: Path,
    bundle: Path,
    *,
    extra: str = FAST,
    hooks: bool = False,
) -> Path:
    """Copy the project *source* to *destination*, with the drop-in *bundle*; return it.

    With *hooks*, the copy also gets ``renpy_test_hooks.rpy`` (see
    :meth:`GameRun.command`).
    """
    renpy_game_copy(engine, source, destination)
    install_bundle(destination, bundle)
    if hooks:
        shutil.copyfile(HOOKS, destination / "game" / HOOKS.name)
    if extra:
        (destination / "game" / "zz_neuro_test.rpy").write_text(extra)
    return destination


@attrs.define
class GameRun:
    """A Ren'Py child process playing a game copy."""

    engine: Engine
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

    async def command(self, text: str, *, timeout: float = 20.0) -> str:
        """Have the game's test hooks run *text*; return what they report.

        Raises:
            AssertionError: The hooks did not take the command within *timeout* s.

        """
        done = self.game / "neuro_test_done.txt"
        before = done.read_text().splitlines() if done.exists() else []
        pending = self.game / "neuro_test_command.txt.new"
        pending.write_text(text)
        pending.replace(self.game / "neuro_test_command.txt")
        with trio.move_on_after(timeout):
            while True:
                lines = done.read_text().splitlines() if done.exists() else []
                if len(lines) > len(before):
                    return lines[len(before)]
                if self.process.returncode is not None or self.crashed():
                    break
                await trio.sleep(0.05)
        raise AssertionError(f"the game did not run {text!r}\n{self.describe()}")

    def crashed(self) -> bool:
        """Whether Ren'Py reported an error (it then waits on its error screen)."""
        game = self.game
        return (game / "traceback.txt").exists() or (game / "errors.txt").exists()

    async def wait(self, timeout: float = 60.0) -> int:
        """Wait for Ren'Py to exit; return its status.

        Raises:
            AssertionError: It did not exit within *timeout* seconds, or it
                showed an error (it is killed then).

        """
        with trio.move_on_after(timeout):
            while self.process.returncode is None and not self.crashed():
                with trio.move_on_after(0.2):
                    await self.process.wait()
            if self.process.returncode is not None:
                return self.process.returncode
        await self.stop()
        raise AssertionError(f"Ren'Py crashed or hung ({timeout} s)\n{self.describe()}")

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
    engine: Engine,
    game: Path,
    url: str,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[GameRun]:
    """Run Ren'Py headless on *game*, connecting to *url*; stop it on exit if needed."""
    home = game.parent / f"{game.name}-home"
    home.mkdir(exist_ok=True)
    environ = engine.environ(
        {
            "HOME": str(home),
            "NEURO_SDK_WS_URL": url,
            "NEURO_BRIDGE_LOG_LEVEL": "DEBUG",
            **(env or {}),
        }
    )
    stdout = game.parent / f"{game.name}-stdout.txt"
    with stdout.open("wb") as out:
        process = await trio.lowlevel.open_process(
            engine.command(str(game), *args),
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


class RecordingTranscript(Transcript):
    """The stand-in's transcript, kept as text and as decoded frames in order.

    Attributes:
        frames: ``(connection, sender, frame)`` for every frame, ``sender``
            being ``"game"`` or ``"neuro"`` and ``frame`` the decoded JSON.

    """

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.frames: list[tuple[int, str, dict[str, Any]]] = []
        #: ``time.monotonic()`` when each of :attr:`frames` was seen.
        self.times: list[float] = []

    def text(self) -> str:
        """The transcript as the stand-in prints it."""
        stream = self.stream
        assert isinstance(stream, io.StringIO)
        return stream.getvalue()

    def game_message(self, connection: int, message: GameMessage) -> None:
        super().game_message(connection, message)
        with contextlib.suppress(ValueError):
            self.frames.append((connection, "game", json.loads(message.frame)))
            self.times.append(time.monotonic())

    def neuro_frame(self, connection: int, frame: str) -> None:
        super().neuro_frame(connection, frame)
        with contextlib.suppress(ValueError):
            self.frames.append((connection, "neuro", json.loads(frame)))
            self.times.append(time.monotonic())

    def longest_stall(self) -> float:
        """The longest time, in seconds, between two frames of the game.

        With Neuro connected and ``neuro.advance = "auto"`` every line is a
        context and every menu or screen a force: a long gap means the game sat
        with nothing offered or advanced.
        """
        times = [t for t, (_, sender, _) in zip(self.times, self.frames) if sender == "game"]
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)

    def actions(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        """Neuro's ``action`` frames for *name* that the game performed.

        Returns ``(index in frames, decoded data)`` for each action whose first
        result was a success (chaos probes and late answers are left out).
        """
        first_result: dict[str, bool] = {}
        for _, sender, frame in self.frames:
            data = frame.get("data") or {}
            if sender == "game" and frame.get("command") == "action/result":
                first_result.setdefault(str(data.get("id")), data.get("success") is True)
        found = []
        seen: set[str] = set()
        for index, (_, sender, frame) in enumerate(self.frames):
            data = frame.get("data") or {}
            if sender == "neuro" and frame.get("command") == "action" and data.get("name") == name:
                action_id = str(data.get("id"))
                if first_result.get(action_id) and action_id not in seen:
                    seen.add(action_id)
                    found.append((index, json.loads(data.get("data") or "null")))
        return found

    def contexts(self, start: int = 0) -> list[str]:
        """The game's context messages from frame *start* on."""
        return [
            frame["data"]["message"]
            for _, sender, frame in self.frames[start:]
            if sender == "game" and frame.get("command") == "context"
        ]

    def commands(self, sender: str = "game") -> list[str]:
        """The commands *sender* sent, in order."""
        return [str(frame.get("command")) for _, who, frame in self.frames if who == sender]


@contextlib.contextmanager
def explained(transcript: RecordingTranscript, run: GameRun | None = None) -> Iterator[None]:
    """On failure, print the transcript (and the game's output and logs) for pytest."""
    try:
        yield
    except BaseException:
        print(transcript.text()[-8000:])
        if run is not None:
            print(run.describe())
        raise


@asynccontextmanager
async def stand_in(**fields: Any) -> AsyncIterator[tuple[MockNeuro, RecordingTranscript]]:
    """Serve a stand-in Neuro on 127.0.0.1 (port 0) with a recording transcript."""
    transcript = RecordingTranscript()
    options: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "force_delay": 0.05, "seed": 1}
    options.update(fields)
    mock = MockNeuro(MockConfig(**options), transcript=transcript)
    async with trio.open_nursery() as nursery:
        await nursery.start(mock.serve)
        try:
            yield mock, transcript
        finally:
            mock.stop()


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


#: ``$ mark("NAME")`` in a test VN creates ``game/../NAME`` (the test waits on it).
MARK = """\
init python:
    import os as _os

    def mark(name, text=""):
        with open(_os.path.join(config.basedir, name), "w") as marked:
            marked.write(text)
"""


def write_long_vn(folder: Path, lines: int, *, menu_at: int | None = None) -> Path:
    """Write a Ren'Py project of *lines* lines of narration that end the story.

    The lines end themselves (``{nw}``), so it plays to its ending with nobody
    at the keyboard.  With *menu_at*, a menu follows that line (after ``mark
    at_menu``); each choice is answered by a line saying which one it was.
    It quits with status 0 after ``"The end."``.
    """
    script = [
        'define config.name = "A Long Story"',
        'define config.save_directory = "neuro-bridge-long-story"',
        "label main_menu:",
        "    return",
        "label start:",
    ]
    for number in range(1, lines + 1):
        script.append(f'    "Line {number} of the long story.{{nw}}"')
        if number == menu_at:
            script += [
                '    $ mark("at_menu")',
                "    menu:",
                '        "Keep reading.":',
                '            "You keep reading.{nw}"',
                '        "Skip a page.":',
                '            "You skip a page.{nw}"',
            ]
    script += ['    "The end.{nw}"', "    $ renpy.quit()"]
    game = folder / "game"
    game.mkdir(parents=True)
    (game / "script.rpy").write_text("\n".join(script) + "\n")
    (game / "mark.rpy").write_text(MARK)
    shutil.copyfile(SAMPLE / "game" / "screens.rpy", game / "screens.rpy")
    return folder


#: A main menu for test copies of the sample (which has none of its own): a button
#: for each kind the plugin must tell apart, and an About screen with a Return.
MAIN_MENU = """\
# Ren'Py's layouts, as gui.init() sets them up: the main menu is this screen.
init python:
    layout.defaults()

screen main_menu():
    tag menu
    vbox:
        align (0.5, 0.5)
        spacing 12
        textbutton "Start" action Start()
        textbutton "Continue" action FileLoad("1", confirm=False)
        textbutton "Extras" action Notify("Nothing here yet.")
        textbutton "Load" action ShowMenu("load")
        textbutton "About" action ShowMenu("about")
        textbutton "Website" action OpenURL("https://example.com/")
        textbutton "Quit" action Quit(confirm=False)

screen about():
    tag menu
    vbox:
        align (0.5, 0.5)
        text "The Tea Party: a sample."
        textbutton "Return" action Return()
"""


def with_main_menu(game: Path) -> Path:
    """Give the copy *game* of the sample a main menu (:data:`MAIN_MENU`)."""
    options = game / "game" / "options.rpy"
    text = options.read_text()
    skip = "label main_menu:\n    return\n"
    assert skip in text
    options.write_text(text.replace(skip, ""))
    (game / "game" / "main_menu.rpy").write_text(MAIN_MENU)
    return game


#: An NVL screen for the small test VNs (the sample's screens have none).
NVL_SCREEN = """\
screen nvl(dialogue, items=None):
    window:
        background Solid("#000c")
        vbox:
            spacing 8
            for d in dialogue:
                hbox:
                    spacing 12
                    if d.who is not None:
                        text d.who id d.who_id
                    text d.what id d.what_id
            if items:
                for i in items:
                    textbutton i.caption action i.action
"""


def write_vn(folder: Path, script: str) -> Path:
    """Write a small Ren'Py project: *script* plus the sample's screens, an NVL
    screen and ``mark`` (see :data:`MARK`); no main menu.  Returns *folder*."""
    game = folder / "game"
    game.mkdir(parents=True)
    (game / "script.rpy").write_text(
        'define config.name = "A Small Test"\nlabel main_menu:\n    return\n' + script
    )
    (game / "mark.rpy").write_text(MARK)
    (game / "nvl_screen.rpy").write_text(NVL_SCREEN)
    shutil.copyfile(SAMPLE / "game" / "screens.rpy", game / "screens.rpy")
    return folder
