"""Each sample's ``--help`` shows its description as written: one line per line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_games"

#: (command after the Python, working folder, lines its --help must show whole)
COMMANDS = [
    (
        ["-m", "neuro_connect_four", "--help"],
        SAMPLES / "pygame_connect_four",
        [
            "    python -m neuro_connect_four            # against Neuro at $NEURO_SDK_WS_URL",
            "    python -m neuro_connect_four --local    # against a random local opponent",
        ],
    ),
    (
        [str(SAMPLES / "godot_tic_tac_toe" / "play.py"), "--help"],
        REPO,
        ["    .venv/bin/python sample_games/godot_tic_tac_toe/play.py", "``--no-sidecar``"],
    ),
    (
        [str(SAMPLES / "renpy_tea_party" / "play.py"), "--help"],
        REPO,
        ["    .venv/bin/python sample_games/renpy_tea_party/play.py", "``--player``"],
    ),
]


@pytest.mark.parametrize(
    ("command", "folder", "lines"), COMMANDS, ids=["connect4", "godot", "renpy"]
)
def test_help_keeps_the_descriptions_lines(
    command: list[str], folder: Path, lines: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, *command], cwd=folder, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shown = done.stdout.splitlines()
    for line in lines:
        assert line in shown, done.stdout
