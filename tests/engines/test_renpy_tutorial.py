"""The plugin in a big game not written for it: Ren'Py's own tutorial, unedited.

The tutorial (Debian's ``renpy-demo``, for Ren'Py 8.0.3) gets the plugin dropped
into a copy, nothing else of it changes.  The test plays Neuro's part through the
stand-in: it clicks "Start" on the main menu and picks tutorials with menus from
the tutorial's own screen (``call screen tutorials``), and Neuro answers the
menus inside them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import trio

from tests.engines.renpy_harness import copy_game, running_game, stand_in

if TYPE_CHECKING:
    from tests.engines.engines import Engine

pytestmark = pytest.mark.slow

TUTORIAL = Path("/usr/share/games/renpy/demo")
#: Tutorials (their buttons' captions) that hold menus, in the order to visit them.
WITH_MENUS = ("Choices and Python", "Player Experience")


@pytest.fixture
def tutorial() -> Path:
    if not (TUTORIAL / "game" / "script.rpy").exists():
        reason = "Ren'Py's tutorial is not installed (apt-get install renpy-demo)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return TUTORIAL


def choices(schema: Any) -> list[str]:
    return list(schema["properties"]["choice"]["enum"])


async def test_tutorial_menus_answered(
    renpy80: Engine, tutorial: Path, renpy_bundle: Path, tmp_path: Path
) -> None:
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy80, tutorial, tmp_path / "tutorial", renpy_bundle)
        async with running_game(renpy80, game, mock.url) as run:
            menus = 0
            visits = list(WITH_MENUS)
            try:
                with trio.fail_after(240):
                    session = await mock.wait_for_game()
                    while menus < 3:
                        force = await session.wait_for_force()
                        [name] = force.action_names
                        offered = choices(session.registered_actions[name].schema)
                        if name == "click" and "Start" in offered:
                            pick = "Start"
                        elif name == "click":
                            pick = visits.pop(0)
                            assert pick in offered, offered
                        else:
                            assert name == "choose", name
                            pick = offered[0]
                        result = await session.expect_result(
                            await session.force(name, {"choice": pick})
                        )
                        assert result.success, result
                        menus += name == "choose"
            except BaseException:
                print(transcript.text()[-6000:], run.describe())
                raise
    assert menus >= 3
    mock.assert_conforms()
