"""The plugin in a big game not written for it: Ren'Py's own tutorial, unedited.

The tutorial (Debian's ``renpy-demo``, for Ren'Py 8.0.3; the same scripts run on
8.3.4) gets the plugin dropped into a copy, nothing else of it changes -- but for
two fonts Debian leaves out of it: its "Character Objects" chapter shows Eileen
in Roboto, and without ``Roboto-Regular.ttf`` that chapter stops with an error
(with or without the plugin).  Debian's ``renpy`` package depends on the Roboto
fonts (``fonts-roboto-hinted`` in bookworm, ``fonts-roboto`` in trixie) and links
them into its launcher's ``fonts`` folder; each test copy takes them from there,
from the engine it runs on (:func:`tutorial_copy`).

The test of the tutorial's first menus plays Neuro's part itself: it clicks
"Start" on the main menu and picks tutorials with menus from the tutorial's own
screen (``call screen tutorials``), and Neuro answers the menus inside them.  The
random playthroughs leave the playing to a seeded stand-in: see
:func:`test_random_playthrough_of_three_chapters`.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import trio

from neuro_bridge.mock import GameDisconnectedError, MockSession
from tests.engines.renpy_harness import FAST, copy_game, explained, running_game, stand_in

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


#: The fonts Debian's ``renpy-demo`` lacks (see the module's docstring).
FONTS = ("Roboto-Regular.ttf", "Roboto-Light.ttf")


def tutorial_copy(
    engine: Engine, tutorial: Path, destination: Path, bundle: Path, *, extra: str = FAST
) -> Path:
    """Copy the tutorial for *engine*, as :func:`copy_game` does, with :data:`FONTS`.

    The fonts come from the engine's own launcher (Debian's ``renpy`` links them
    there from its Roboto package).
    """
    game = copy_game(engine, tutorial, destination, bundle, extra=extra)
    fonts = Path(engine.base) / "launcher" / "game" / "fonts"
    for font in FONTS:
        assert (fonts / font).is_file(), (
            f"{fonts / font} is missing: Debian's renpy package brings it"
            " (provision the engine again: python3 tools/engines/provision.py --force)"
        )
        shutil.copyfile(fonts / font, game / "game" / font)
    return game


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


# --- from the main menu to the ending, the stand-in picking at random ---

#: Seeds of the random playthroughs (on each Ren'Py).
SEEDS = range(10)
#: Distinct chapters every run plays through before it asks for the ending.
CHAPTERS_PER_RUN = 3
#: The chapter menu's last button: it plays the tutorial's ending.
ENOUGH = "That's enough for now."
#: Chapters the stand-in never picks, and why: what they wait for is nothing the
#: plugin can offer, so a run that picked them would sit there for good.
AVOIDED = {
    # Pong: "Click to Begin" is a click anywhere on a creator-defined
    # displayable, no button; then Eileen's paddle plays against the mouse's.
    "Minigames and CDDs",
    # "Screen properties." shows a modal screen with a "Close This Screen"
    # button above a line of dialogue: the line cannot be dismissed until it
    # is clicked, and the plugin offers buttons of screens the game waits on
    # (call screen, the main menu), not of a screen shown over dialogue.
    "Screen Basics",
    # Ren'Py itself crashes here (SIGSEGV in its software renderer, the only
    # one headless: renpy.display.module.transform, drawing the transition
    # after the chapter's third line) when its lines are dismissed as soon as
    # they are shown: every run with the plugin advancing, and without the
    # plugin too, a periodic callback queuing "dismiss" while a line waits
    # (1 run of 2 on 8.0.3, 2 of 7 on 8.3.4).  Lines that end themselves
    # ({nw}) never crashed it (11 runs).
    "Transform Properties",
}
#: No run may sit this long with Neuro connected and nothing offered or advanced.
LONGEST_STALL = 30.0
#: A run's bound, launch to exit (one takes 15-60 s on a quiet machine).
RUN_TIMEOUT = 300.0
#: Every label the game reaches goes to ``labels.txt`` (the copy's folder).  After
#: the ending the game goes back to its main menu (it restarts): the first label
#: of that restart quits instead, as a person closing the window would.  (On
#: Ren'Py 8.3.4 that restart would stop with an error the tutorial of 8.0.3
#: brings: its ``01director_support.rpy`` gives ``director.enable`` a default
#: that 8.3.4 counts twice when the game restarts.)
LABEL_LOG = """\
init python:
    import os as _neuro_test_os

    def _neuro_test_label(name, abnormal, _seen=[], _next=config.label_callback):
        with open(_neuro_test_os.path.join(config.basedir, "labels.txt"), "a") as labels:
            labels.write(name + "\\n")
        if "end" in _seen:
            renpy.quit()
        _seen.append(name)
        if _next is not None:
            _next(name, abnormal)

    config.label_callback = _neuro_test_label
"""


def chapters(tutorial: Path) -> dict[str, str]:
    """The tutorial's chapters, ``{label: title}``, read from its ``script.rpy``."""
    script = (tutorial / "game" / "script.rpy").read_text(encoding="utf-8-sig")
    found = dict(re.findall(r'Tutorial\("(\w+)", _\("([^"]+)"\)', script))
    assert len(found) > 20, found
    return found


def played_through(labels: list[str], chapter_labels: set[str]) -> list[str]:
    """The chapters (labels) entered from the chapter menu that returned to it.

    The menu is label ``tutorials``; it calls the chapter's label, whose return
    reaches ``_call_expression`` (the call's return point), then jumps back.
    """
    played = []
    for index, label in enumerate(labels[:-1]):
        entered = labels[index + 1]
        if label != "tutorials" or entered not in chapter_labels:
            continue
        rest = labels[index + 2 :]
        back = rest.index("tutorials") if "tutorials" in rest else len(rest)
        if "_call_expression" in rest[:back] and back < len(rest):
            played.append(entered)
    return played


async def play_at_random(
    session: MockSession, seed: int, avoided: set[str], picked: list[str]
) -> None:
    """Answer every force at random (seeded): any of its actions, any valid data.

    On the chapter menu, a chapter not in *avoided* until
    :data:`CHAPTERS_PER_RUN` distinct ones were picked (*picked* gets each),
    then :data:`ENOUGH`.  Returns when the game disconnects.
    """
    rng = random.Random(seed)
    try:
        while True:
            force = await session.wait_for_force()
            names = sorted(n for n in force.action_names if n in session.registered_actions)
            if not names:
                await trio.sleep(0.05)  # its actions are being withdrawn
                continue
            name = rng.choice(names)
            schema = session.registered_actions[name].schema
            offered = choices(schema) if "choice" in (schema or {}).get("properties", {}) else []
            chapter = None
            if ENOUGH in offered and len(set(picked)) >= CHAPTERS_PER_RUN:
                data: Any = {"choice": ENOUGH}
            elif ENOUGH in offered:
                chapter = rng.choice([c for c in offered if c != ENOUGH and c not in avoided])
                data = {"choice": chapter}
            elif offered:
                data = {"choice": rng.choice(offered)}
            else:
                data = MockSession.generate_data_for(schema, rng, session.config)
            result = await session.expect_result(await session.force(name, data))
            if chapter is not None and result.success:
                picked.append(chapter)
    except GameDisconnectedError:
        return


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_playthrough_of_three_chapters(
    renpy: Engine, tutorial: Path, renpy_bundle: Path, tmp_path: Path, seed: int
) -> None:
    """From the main menu to the ending, three chapters or more played through.

    The stand-in answers everything at random (seeded), the menus and screens
    inside the chapters too; on the chapter menu it picks chapters at random
    among those that play through with the plugin (all but :data:`AVOIDED`)
    until it has had three different ones, then "That's enough for now.", which
    plays the tutorial's ending (then the game quits: see :data:`LABEL_LOG`).
    The game reports every label it reaches, so the test sees each chapter
    entered and returned from.
    """
    titles = chapters(tutorial)
    assert set(titles.values()) >= AVOIDED
    picked: list[str] = []
    async with stand_in(auto_play=False) as (mock, transcript):
        game = tutorial_copy(
            renpy, tutorial, tmp_path / "tutorial", renpy_bundle, extra=FAST + LABEL_LOG
        )
        launched = time.monotonic()
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(RUN_TIMEOUT + 30):
                async with trio.open_nursery() as nursery:
                    session = await mock.wait_for_game()
                    nursery.start_soon(play_at_random, session, seed, AVOIDED, picked)
                    status = await run.wait(RUN_TIMEOUT)
                    nursery.cancel_scope.cancel()
                assert status == 0, run.describe()
        print(f"seed {seed}: {time.monotonic() - launched:.1f} s, {picked}")
        labels = (game / "labels.txt").read_text().split()
    label_of = {title: label for label, title in titles.items()}
    played = played_through(labels, set(titles))
    assert len(set(played)) >= CHAPTERS_PER_RUN, (picked, labels)
    assert played == [label_of[title] for title in picked], (picked, labels)
    assert "end" in labels, labels  # the ending, after the last chapter
    assert transcript.longest_stall() < LONGEST_STALL, transcript.text()
    mock.assert_conforms()
