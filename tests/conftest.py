"""Shared pytest configuration.

The Connect Four sample game is its own project (``sample_games/pygame_connect_four``,
installed by ``make test``); where it is not installed -- an unpacked sdist, say --
the tests that play it are not collected, and the header says so.

Hypothesis: no per-example deadline (timing on shared machines is noisy; tests
assert behaviour, not milliseconds), and a fixed seed sequence in CI so a run
there is reproducible.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from neuro_bridge.installers.renpy_bundle import build_bundle, download_wheels

settings.register_profile(
    "neuro_bridge",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("neuro_bridge")


@pytest.fixture(scope="session")
def renpy_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with every wheel a Ren'Py bundle is built from (downloaded once)."""
    folder = tmp_path_factory.mktemp("renpy-wheels")
    download_wheels(folder)
    return folder


@pytest.fixture(scope="session")
def renpy_bundle(tmp_path_factory: pytest.TempPathFactory, renpy_wheels: Path) -> Path:
    """A Ren'Py drop-in folder built offline from ``renpy_wheels`` (read-only: copy it)."""
    return build_bundle(tmp_path_factory.mktemp("renpy-bundle"), wheel_dir=renpy_wheels)


#: Test files that play the sample game, relative to this folder.
SAMPLE_TESTS = ["test_sample_connect_four.py", "engines/test_connect_four_neuro.py"]
SAMPLE_INSTALLED = importlib.util.find_spec("neuro_connect_four") is not None
collect_ignore = [] if SAMPLE_INSTALLED else SAMPLE_TESTS


def pytest_report_header() -> list[str]:
    if SAMPLE_INSTALLED:
        return []
    return [
        "the sample game (neuro-connect-four) is not installed: not collecting "
        + ", ".join(SAMPLE_TESTS)
        + " (pip install ./sample_games/pygame_connect_four to run them)"
    ]
