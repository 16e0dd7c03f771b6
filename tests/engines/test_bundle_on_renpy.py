"""The Ren'Py drop-in folder inside real Ren'Py (8.0.3 on Python 3.11, 8.3.4 on 3.13).

First a bare game with only the bundle's path script and libraries (the rest of the
plugin left out) plays one forced action from a ``python`` block; then the sample
VN, with the whole bundle installed by ``install``, is played to an ending.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import trio

from neuro_bridge.installers.renpy_bundle import BUNDLE_NAME, install
from tests.engines.engines import renpy_game_copy

if TYPE_CHECKING:
    from neuro_bridge.mock import MockNeuro
    from tests.engines.engines import Engine

pytestmark = pytest.mark.slow

GAME_SCRIPT = Path(__file__).parent.parent / "renpy_bundle_game.py"

MAIN_MENU = """\
label main_menu:
    python hide:
        import json, os, sys, traceback
        try:
            import renpy_bundle_game
            report = renpy_bundle_game.main(os.environ["NEURO_SDK_WS_URL"])
            status = 0
        except Exception:
            report = {"error": traceback.format_exc()}
            status = 3
        report["sys_path_0"] = sys.path[0]
        with open(os.environ["NEURO_BRIDGE_TEST_REPORT"], "w") as stream:
            json.dump(report, stream)
        renpy.quit(status=status)
"""


async def test_bundle_plays_a_round_trip_inside_renpy(
    renpy: Engine, renpy_bundle: Path, mock_neuro: MockNeuro, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    (source / "game").mkdir(parents=True)
    (source / "game" / "script.rpy").write_text(MAIN_MENU, encoding="utf-8")
    shutil.copyfile(GAME_SCRIPT, source / "game" / GAME_SCRIPT.name)
    bundle = shutil.copytree(renpy_bundle, source / "game" / BUNDLE_NAME)
    for script in bundle.glob("*.rpy"):
        if script.name != "00neuro_bridge_path.rpy":
            script.unlink()
    game = renpy_game_copy(renpy, source, tmp_path / "copy")
    report_file = tmp_path / "report.json"
    env = renpy.environ(
        {
            "HOME": str(tmp_path),
            "NEURO_SDK_WS_URL": mock_neuro.url,
            "NEURO_BRIDGE_TEST_REPORT": str(report_file),
        }
    )
    with trio.fail_after(180):
        done = await trio.run_process(
            renpy.command(str(game)), env=env, capture_stdout=True, capture_stderr=True, check=False
        )
    output = done.stdout.decode() + done.stderr.decode()
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert done.returncode == 0, report.get("error", output)
    lib = game / "game" / BUNDLE_NAME / "lib"
    assert report["sys_path_0"] == str(lib)
    assert report["trio_file"].startswith(str(lib))
    [result] = (await mock_neuro.wait_for_game()).results
    assert result.success
    assert result.message == f"You picked {report['picked'][0]}."
    mock_neuro.assert_conforms()


SAMPLE = Path(__file__).resolve().parents[2] / "sample_games" / "renpy_tea_party"


@pytest.mark.mock_neuro(force_delay=0.1)
async def test_sample_with_the_installed_bundle_plays_to_an_ending(
    renpy: Engine, renpy_wheels: Path, mock_neuro: MockNeuro, tmp_path: Path
) -> None:
    """The whole plugin, installed as a person would (``neuro-bridge renpy install``)."""
    game = renpy_game_copy(renpy, SAMPLE, tmp_path / "tea_party")
    install(game, wheel_dir=renpy_wheels, windows=False)
    (game / "game" / "zz_no_reading_delay.rpy").write_text(
        "define neuro.advance_delay = 0.0\ndefine neuro.advance_per_character = 0.0\n",
        encoding="utf-8",
    )
    env = renpy.environ({"HOME": str(tmp_path), "NEURO_SDK_WS_URL": mock_neuro.url})
    with trio.fail_after(240):
        done = await trio.run_process(
            renpy.command(str(game)), env=env, capture_stdout=True, capture_stderr=True, check=False
        )
    log = game / "log.txt"
    assert done.returncode == 0, done.stderr.decode() + log.read_text(encoding="utf-8")
    session = await mock_neuro.wait_for_game()
    assert session.results
    assert all(result.success for result in session.results)
    assert any(context.startswith("Ending:") for context in session.contexts), session.contexts
    mock_neuro.assert_conforms()
