"""Handlers are typed: ``mypy --strict`` refuses one whose return Neuro cannot be told.

A small game module is written to a temporary folder and checked with mypy's own
API, so what a game developer's type checker says is pinned down here.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parent.parent

GAME = """
from __future__ import annotations

from typing import Any

from neuro_bridge.component import ActionResult
from neuro_bridge.game import NeuroGame
from neuro_bridge.protocol import Action


def declare(game: NeuroGame) -> None:
    @game.action("fine", "Returns a message.")
    def fine(data: dict[str, Any]) -> str:
        return "ok"

    @game.action("later", "Answers later.")
    async def later(data: dict[str, Any]) -> ActionResult:
        return ActionResult(True)

    @game.action("pair", "Returns success and a message.")
    def pair(data: dict[str, Any]) -> tuple[bool, str]:
        return False, "Not now."

    game.add_action(Action("quiet", "Returns nothing."), lambda data: None)

    @game.action("count", "Returns a number.")  # line 25: rejected
    def count(data: dict[str, Any]) -> int:
        return 3

    game.add_action(Action("count2", "Returns a number."), count)  # line 29: rejected
"""


@pytest.mark.slow
def test_mypy_strict_rejects_a_handler_returning_int(tmp_path: Path) -> None:
    module = tmp_path / "typed_game.py"
    module.write_text(textwrap.dedent(GAME).lstrip())
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--python-version",
            "3.10",
            str(module),
        ]
    )
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    lines = sorted(int(line.split(":")[1]) for line in errors)
    assert status == 1, stdout + stderr
    assert lines == [25, 29], stdout
