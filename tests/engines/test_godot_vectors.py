"""The protocol test vectors (``tests/vectors/*.json``) against the Godot addon.

``tests/test_vectors.py`` runs the same files against the Python runtime; this runs
``tests/engines/godot/vector_tests.gd`` on real Godot 4 (headless), in a project
with the addon installed and every GDScript warning an error, with the vector files
copied to ``res://vectors/``.  Without Godot this fails in CI and skips elsewhere
(see ``engines.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from neuro_bridge.installers.godot_addon import install
from tests.engines.test_godot import STRICT_WARNINGS, import_project, script_failures

if TYPE_CHECKING:
    from tests.engines.engines import Engine

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"
RUNNER = Path(__file__).with_name("godot") / "vector_tests.gd"

#: The vector files the addon has a side of (game_frames.json is the Neuro side's).
GODOT_FILES = ("neuro_frames.json", "game_calls.json")


def test_the_runner_passes_gdtoolkit() -> None:
    for tool in ("gdtoolkit.parser", "gdtoolkit.linter"):
        done = subprocess.run(
            [sys.executable, "-m", tool, str(RUNNER)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def vector_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path]:
    from tests.engines.engines import require

    godot = require("godot")
    project = tmp_path_factory.mktemp("vectors")
    (project / "project.godot").write_text(
        'config_version=5\n\n[application]\n\nconfig/name="Vectors"\n'
        + STRICT_WARNINGS
        + "\n[neuro_bridge]\n\nconnection/connect_on_start=false\n",
        encoding="utf-8",
    )
    install(project)
    shutil.copyfile(RUNNER, project / RUNNER.name)
    shutil.copytree(VECTORS, project / "vectors")
    import_project(godot, project)
    return godot, project


def expected_count() -> int:
    """How many vectors the runner must report: all but those pending for Godot."""
    count = 0
    for name in GODOT_FILES:
        suite = json.loads((VECTORS / name).read_text(encoding="utf-8"))
        count += sum(1 for v in suite["vectors"] if "godot" not in v.get("pending", {}))
    return count


def test_every_vector_passes_on_the_addon(vector_project: tuple[Engine, Path]) -> None:
    godot, project = vector_project
    done = godot.run(["--path", str(project), "--script", "res://" + RUNNER.name])
    output = done.stdout + done.stderr
    assert not script_failures(output), output
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAIL ")]
    assert not failed, "\n".join(failed)
    assert done.returncode == 0, output
    passed = [line for line in done.stdout.splitlines() if line.startswith("ok ")]
    assert len(passed) == expected_count(), output
