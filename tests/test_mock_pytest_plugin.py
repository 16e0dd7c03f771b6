"""The ``mock_neuro`` pytest plugin loads through its entry point, with no set-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

GAME_TEST = """
import pytest
import trio


@pytest.mark.trio
async def test_the_fixture_is_there(mock_neuro):
    assert mock_neuro.url.startswith("ws://127.0.0.1:")
    with trio.fail_after(10):
        assert mock_neuro.sessions == []
"""


def test_a_games_suite_gets_the_fixture_without_any_setup(tmp_path: Path) -> None:
    (tmp_path / "test_game.py").write_text(GAME_TEST, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_game.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_no_documentation_tells_people_to_load_it_again() -> None:
    # With the entry point installed, `pytest_plugins = [...]` crashes pytest.
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst"))]
    texts += sorted((ROOT / "bridge").rglob("*.py"))
    for path in texts:
        for line in path.read_text(encoding="utf-8").splitlines():
            assert not ("pytest_plugins" in line and "neuro_bridge" in line), f"{path}: {line}"
