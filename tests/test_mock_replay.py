"""Recording sessions (``--record``) and replaying them (``--replay``, ``mock_neuro.replay``).

The Connect Four sample (headless, its person's side played by the computer with
a fixed seed) is recorded against the stand-in once per module, then replayed
against the unchanged game (no difference) and against a copy whose drop handler
refuses one of Neuro's moves (the difference is reported, exit status 1), both
through ``neuro-bridge mock --replay`` and through the ``mock_neuro`` fixture.
Real sockets, real processes.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from neuro_bridge.mock import MockConfig, MockNeuro
from neuro_bridge.mock.recording import FORMAT, Recorder
from neuro_bridge.mock.replay import (
    RecordingError,
    ReplayComparer,
    ReplayDifferenceError,
    load_recording,
)
from neuro_bridge.protocol import Action
from tests.mock_support import WAIT, raw_game

GAME = Path(__file__).with_name("connect_four_game.py")
#: Seconds for one whole CLI run (a game of Connect Four at 8x speed takes ~2 s).
RUN_LIMIT = 60.0
MOVE = Action("move", "Move.", {"type": "object", "properties": {"x": {"type": "integer"}}})


def game_command(url: str, *extra: str) -> list[str]:
    return [sys.executable, str(GAME), url, "--seed", "7", *extra]


def run_cli_with_game(cli_args: list[str], *game_args: str) -> tuple[int, str]:
    """Run ``neuro-bridge mock`` with *cli_args*, play the sample against it, return its
    exit status and output."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "neuro_bridge.mock.cli", "--port", "0", "--no-console", *cli_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert cli.stdout is not None
        first = cli.stdout.readline()
        assert "listening on" in first, first
        url = first.split()[-1]
        game = subprocess.Popen(game_command(url, *game_args))
        try:
            rest, _ = cli.communicate(timeout=RUN_LIMIT)
        finally:
            game.kill()
            game.wait()
        return cli.returncode, first + rest
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()


@pytest.fixture(scope="module")
def connect_four_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recorded session: the stand-in (seeded, taunting now and then) plays one game."""
    folder = tmp_path_factory.mktemp("recorded")
    status, output = run_cli_with_game(
        [
            *("--record", str(folder), "--once", "--seed", "3"),
            *("--force-delay", "0.05", "--unforced", "1", "--strict"),
            "--reregister-on-connect",  # a step caused by the connection, as Randy sends
        ]
    )
    assert status == 0, output
    (path,) = folder.glob("session-*.jsonl")
    return path


def test_a_recording_has_both_sides_timestamps_and_decisions(connect_four_session: Path) -> None:
    rows = [json.loads(line) for line in connect_four_session.read_text().splitlines()]
    head = rows[0]
    assert head["format"] == FORMAT
    assert head["version"] == 1
    assert head["source"] == "mock"
    assert head["connection"] == 1
    kinds = [row["type"] for row in rows[1:]]
    assert {"game", "neuro"} <= set(kinds)
    assert kinds[-1] == "end"
    assert rows[-1]["by"] == "game"
    times = [row["t"] for row in rows[1:]]
    assert times == sorted(times)
    causes = {row.get("cause") for row in rows if row["type"] == "neuro"}
    assert {"connect", "force"} <= causes
    commands = [json.loads(row["frame"]).get("command") for row in rows if row["type"] == "game"]
    assert commands[0] == "startup"
    assert "actions/force" in commands
    assert "action/result" in commands
    recording = load_recording(connect_four_session)
    assert recording.ended_by == "game"
    assert recording.steps[0].cause == "connect"
    assert any(step.cause == "force" for step in recording.steps)


def test_cli_replay_of_the_unchanged_game_finds_no_difference(connect_four_session: Path) -> None:
    status, output = run_cli_with_game(["--replay", str(connect_four_session), "--quiet"])
    assert status == 0, output
    assert "no difference" in output
    total = len(load_recording(connect_four_session).steps)
    assert f"{total}/{total} of Neuro's frames sent" in output


def test_cli_replay_reports_a_refused_move_and_fails(connect_four_session: Path) -> None:
    status, output = run_cli_with_game(
        ["--replay", str(connect_four_session), "--quiet", "--replay-timeout", "1"],
        "--refuse",
        "2",
    )
    assert status == 1, output
    assert "connect_four_drop" in output
    assert "recorded success, now failure ('This copy of the game refuses this move.')" in output
    assert "missing: the game did not send actions/unregister connect_four_drop" in output


def test_cli_replay_of_a_file_that_is_not_a_recording(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"hello": 1}\n')
    done = subprocess.run(
        [sys.executable, "-m", "neuro_bridge.mock.cli", "--port", "0", "--replay", str(bad)],
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    assert done.returncode == 2
    assert "not a session recording" in done.stdout


async def test_fixture_replay_of_the_unchanged_game(
    mock_neuro: MockNeuro, connect_four_session: Path
) -> None:
    with trio.fail_after(RUN_LIMIT):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.run_process, game_command(mock_neuro.url))
            report = await mock_neuro.replay(connect_four_session)
    assert report.ok, report.format()
    assert report.sent == report.total > 3
    mock_neuro.assert_conforms()


async def test_fixture_replay_raises_on_a_refused_move(
    mock_neuro: MockNeuro, connect_four_session: Path
) -> None:
    with trio.fail_after(RUN_LIMIT):
        async with trio.open_nursery() as nursery:
            command = game_command(mock_neuro.url, "--refuse", "1")
            nursery.start_soon(functools.partial(trio.run_process, command, check=False))
            with pytest.raises(ReplayDifferenceError) as raised:
                await mock_neuro.replay(connect_four_session, frame_timeout=1.0)
            nursery.cancel_scope.cancel()
    report = raised.value.report
    assert not report.ok
    assert [d.kind for d in report.differences][:2] == ["result", "missing"]
    assert "recorded success, now failure" in str(raised.value)


# -- a raw game: registrations, forces and the end compared -------------------------


async def record_raw(folder: Path) -> Path:
    """Record a raw game: register, force, answer Neuro's action, leave."""
    mock = MockNeuro(MockConfig(port=0, force_delay=0.0, seed=1, reregister_on_connect=False))
    Recorder(folder).attach(mock)
    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            async with raw_game(mock.url) as game:
                await game.start(MOVE)
                await game.force("move", query="Move.")
                await game.answer((await game.next_action())["id"], True)
                session = await mock.wait_for_game()
                await session.wait_until(lambda: bool(session.results))
            await mock.wait_all_disconnected()
            mock.stop()
    (path,) = await trio.Path(folder).glob("*.jsonl")
    return Path(path)


async def test_a_changed_registration_and_a_game_that_stays_are_differences(
    tmp_path: Path,
) -> None:
    path = await record_raw(tmp_path)
    recording = load_recording(path)
    assert [step.cause for step in recording.steps] == ["force"]
    mock = MockNeuro(MockConfig(port=0))
    done = trio.Event()

    async def play() -> None:
        async with raw_game(mock.url) as game:
            await game.start(Action("move", "Move.", {"type": "object"}))
            await game.force("move", query="Move.")
            await game.answer((await game.next_action())["id"], True)
            await done.wait()

    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            nursery.start_soon(play)
            report = await mock.replay(path, frame_timeout=0.5, check=False)
            done.set()
            await mock.wait_all_disconnected()
            mock.stop()
    assert [d.kind for d in report.differences] == ["structure", "end"], report.format()
    assert "recorded actions/register move" in report.differences[0].message
    assert "did not close the connection" in report.differences[1].message
    assert report.sent == report.total == 1


async def test_replay_refuses_a_game_that_connected_first(mock_neuro: MockNeuro) -> None:
    with trio.fail_after(WAIT):
        async with raw_game(mock_neuro.url):
            while not mock_neuro.sessions:
                await trio.sleep(0.01)
            with pytest.raises(RuntimeError, match="connected before"):
                await mock_neuro.replay(Path("unused.jsonl"))


def test_comparer_counts_extra_frames_and_contexts() -> None:
    folder_recording = [
        {"type": "session", "format": FORMAT, "version": 1},
        {"t": 0.1, "type": "game", "frame": json.dumps({"command": "startup", "game": "G"})},
        {
            "t": 0.2,
            "type": "game",
            "frame": json.dumps(
                {"command": "context", "game": "G", "data": {"message": "hi", "silent": True}}
            ),
        },
        {"t": 0.3, "type": "end", "reason": "closed", "by": "neuro"},
    ]
    text = "\n".join(json.dumps(row) for row in folder_recording)
    comparer = _comparer_for(text)
    comparer.game_frame(json.dumps({"command": "startup", "game": "G"}))
    comparer.game_frame(
        json.dumps({"command": "context", "game": "G", "data": {"message": "x", "silent": False}})
    )
    comparer.game_frame(json.dumps({"command": "shutdown/ready", "game": "G"}))
    assert comparer.complete()
    assert [d.kind for d in comparer.differences] == ["context", "extra"]
    assert "recorded silent, now not silent" in comparer.differences[0].message


def _comparer_for(text: str) -> ReplayComparer:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.jsonl"
        path.write_text(text)
        return ReplayComparer(load_recording(path))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "not a session recording"),
        ("not json\n", "not JSON"),
        ("[1]\n", "not a JSON object"),
    ],
)
def test_unreadable_recordings_are_refused(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(text)
    with pytest.raises(RecordingError, match=error):
        load_recording(path)
    with pytest.raises(RecordingError, match="cannot read"):
        load_recording(tmp_path / "missing.jsonl")
