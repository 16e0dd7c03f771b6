"""The Ren'Py plugin on real Ren'Py: the sample VN played by the stand-in Neuro.

Each test copies ``sample_games/renpy_tea_party`` with the plugin dropped in, runs
it headless on Ren'Py 8.0.3 and 8.3.4 and reads the stand-in's transcript.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import pytest
import trio

from tests.engines.renpy_harness import (
    SAMPLE,
    RecordingTranscript,
    copy_game,
    running_game,
    stand_in,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tests.engines.engines import Engine

pytestmark = pytest.mark.slow

#: What Marigold says right after each menu choice: proof that the pick took effect.
REACTIONS = {
    "Green tea, please.": "Marigold: A classic.",
    "Black tea with milk.": "Marigold: Strong and cosy.",
    "Just hot water, thanks.": "Marigold: Very minimalist",
    "Yes, show me!": "Marigold: Ta-da!",
    "Maybe later. This garden is nice.": "Marigold: Then let us sit",
    "It's adorable!": "Marigold: Thank you!",
    "Is it safe to eat?": "Marigold: Of course it is!",
}
ENDINGS = ("Ending: The Cake.", "Ending: The Garden.")


def check_played(transcript: RecordingTranscript) -> None:
    """Every pick, typed name and sugar count shows in what the game said next."""
    picks = transcript.actions("choose") + transcript.actions("answer")
    assert len(picks) >= 2, transcript.text()
    for index, data in picks:
        following = transcript.contexts(index)
        assert following, transcript.text()
        assert following[0].startswith(REACTIONS[data["choice"]]), transcript.text()
    [(index, data)] = transcript.actions("enter_text")
    name = "".join(c for c in data["text"] if c not in "{}[]").strip()[:12].strip() or "Oolong"
    assert f"Marigold: {name}? What a lovely name." in transcript.contexts(index), transcript.text()
    [(index, data)] = transcript.actions("add_sugar")
    assert transcript.contexts(index)[0].startswith(f"Marigold: {data['cubes']} sugar cubes.")
    assert transcript.contexts()[-1] in ENDINGS, transcript.text()
    contexts = transcript.contexts()
    repeated = [a for a, b in zip(contexts, contexts[1:]) if a == b]
    assert not repeated, transcript.text()  # each line once (8.3 reports lines twice)


async def test_sample_played_to_an_ending(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    async with stand_in() as (mock, transcript):
        game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle)
        async with running_game(renpy, game, mock.url) as run:
            status = await run.wait(120)
        assert status == 0, run.describe()
        with trio.fail_after(10):
            await mock.wait_all_disconnected()
    check_played(transcript)
    assert len(mock.sessions) == 1
    mock.assert_conforms()
    results = mock.sessions[0].results
    assert results
    assert all(result.success for result in results), transcript.text()


async def test_play_script(renpy80: Engine, renpy_wheels: Path, tmp_path: Path) -> None:
    """``play.py``, the sample's one command, plays it with the stand-in to an ending."""
    command = [sys.executable, str(SAMPLE / "play.py"), "--headless", "--reading-delay", "0"]
    command += ["--wheel-dir", str(renpy_wheels), "--renpy", renpy80.argv[0]]
    with trio.fail_after(180):
        done = await trio.run_process(
            command,
            env={**os.environ, "HOME": str(tmp_path)},
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    assert "context (silent): Ending: The" in output, output
    assert "no protocol violations" in output, output
