"""From launch to an ending: the main menu, the deny-list, screens offered again.

The sample gets a main menu of its own in these copies (:func:`with_main_menu`):
Start, a Continue without a save, Extras, Load, About, a website and Quit.  The
stand-in Neuro picks at random among what she is offered (seeded), as the official
test server does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import trio

from tests.engines.renpy_harness import (
    FAST,
    SAMPLE,
    copy_game,
    explained,
    running_game,
    stand_in,
    with_main_menu,
)
from tests.engines.test_renpy import ENDINGS
from tests.engines.test_renpy_scenarios import answer, check_nothing_stale, play_to_the_end

if TYPE_CHECKING:
    from pathlib import Path

    from neuro_bridge.mock import MockNeuro
    from tests.engines.engines import Engine
    from tests.engines.renpy_harness import RecordingTranscript

pytestmark = pytest.mark.slow

#: Seeds of the random playthroughs.
SEEDS = range(10)
#: No run may sit this long with Neuro connected and nothing offered or advanced.
LONGEST_STALL = 30.0
#: Buttons Neuro must never be offered by default.
NEVER = {"Quit", "Website", "About", "Load"}


def offers(transcript: RecordingTranscript, name: str = "click") -> list[list[str]]:
    """The captions of every registration of *name*, in order."""
    found = []
    for _, sender, frame in transcript.frames:
        if sender == "game" and frame.get("command") == "actions/register":
            for action in frame["data"]["actions"]:
                if action["name"] == name:
                    found.append(list(action["schema"]["properties"]["choice"]["enum"]))
    return found


def check_ending(mock: MockNeuro, transcript: RecordingTranscript) -> None:
    assert transcript.contexts()[-1] in ENDINGS, transcript.text()
    assert transcript.longest_stall() < LONGEST_STALL, transcript.text()
    mock.assert_conforms()


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_playthrough_from_the_main_menu(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path, seed: int
) -> None:
    """Neuro picks at random among what she is offered: every run reaches an ending."""
    async with stand_in(seed=seed) as (mock, transcript):
        game = with_main_menu(copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle))
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run):
                status = await run.wait(120)
                assert status == 0, run.describe()
    assert offers(transcript)[0] == ["Start"], transcript.text()
    check_ending(mock, transcript)


async def test_main_menu_all_offers_what_the_deny_list_allows(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    extra = FAST + 'define neuro.main_menu = "all"\n'
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, extra=extra)
        async with running_game(renpy, with_main_menu(game), mock.url) as run:
            with explained(transcript, run), trio.fail_after(120):
                session = await mock.wait_for_game()
                await answer(session, "Extras")  # the menu stays: offered again
                await answer(session, "Start")
                status = await play_to_the_end(session, run)
        assert status == 0, run.describe()
    shown = offers(transcript)
    assert shown[0] == ["Start", "Extras"], shown  # no Continue: there is no save
    assert shown[1] == ["Start", "Extras"], shown
    check_ending(mock, transcript)


async def test_main_menu_left_to_the_player(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    extra = FAST + 'define neuro.main_menu = "player"\n'
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(
            renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, extra=extra, hooks=True
        )
        async with running_game(renpy, with_main_menu(game), mock.url) as run:
            with explained(transcript, run), trio.fail_after(120):
                session = await mock.wait_for_game()
                await trio.sleep(1.0)
                assert "click" not in session.registered_actions
                while await run.command("click Start") != "click Start":
                    await trio.sleep(0.2)
                status = await play_to_the_end(session, run)
        assert status == 0, run.describe()
    assert offers(transcript) == []
    check_ending(mock, transcript)


async def test_offered_again_when_a_screen_the_person_opened_closes(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, hooks=True)
        async with running_game(renpy, with_main_menu(game), mock.url) as run:
            with explained(transcript, run), trio.fail_after(120):
                session = await mock.wait_for_game()
                await session.wait_for_force()
                assert list(session.registered_actions) == ["click"]
                seen = len(session.messages)
                assert await run.command("click About") == "click About"
                # The main menu is covered: her offer is withdrawn ...
                await session.wait_for_command("actions/unregister", start=seen)
                seen = len(session.messages)
                assert await run.command("click Return") == "click Return"
                # ... and made again once it is back.
                await session.wait_for_command("actions/force", start=seen)
                await answer(session, "Start")
                status = await play_to_the_end(session, run)
        assert status == 0, run.describe()
    assert offers(transcript)[:2] == [["Start"], ["Start"]]
    check_ending(mock, transcript)


def never_offered(transcript: RecordingTranscript) -> set[Any]:
    return {caption for captions in offers(transcript) for caption in captions} & NEVER


async def test_denied_buttons_never_offered(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """Quit, a web page, the game menu: on no screen, in no main-menu mode."""
    for mode in ("story", "all"):
        extra = FAST + f'define neuro.main_menu = "{mode}"\n'
        async with stand_in(seed=3) as (mock, transcript):
            game = copy_game(
                renpy, SAMPLE, tmp_path / f"tea_party_{mode}", renpy_bundle, extra=extra
            )
            async with running_game(renpy, with_main_menu(game), mock.url) as run:
                with explained(transcript, run):
                    assert await run.wait(120) == 0, run.describe()
        assert not never_offered(transcript), transcript.text()
        check_ending(mock, transcript)


#: Marigold's reply to black tea: proof that the menu after a load was answered.
BLACK_TEA = "Marigold: Strong and cosy. The cat approves."
#: How long the story's menu may take to be forced after a load from the main menu.
#: It takes well under a second; a click force left in flight by the main menu
#: would hold it back until the runtime gives that force up (twice 30 s).
AFTER_LOAD = 20.0


async def save_at_the_tea_menu(engine: Engine, game: Path) -> None:
    """Launch *game*, start the story, save at its first menu in the slot the main
    menu's Continue loads (``FileLoad("1")``: slot 1 of page 1), quit."""
    async with stand_in(auto_play=False) as (mock, transcript):
        async with running_game(engine, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(120):
                session = await mock.wait_for_game()
                await answer(session, "Start")
                force = await session.wait_for_force()
                assert force.action_names == ("choose",)
                assert await run.command("save 1-1") == "save 1-1"
                assert await run.command("quit") == "quit"
                assert await run.wait(60) == 0, run.describe()


@pytest.mark.parametrize("who", ["person", "neuro"])
async def test_a_save_loaded_from_the_main_menu(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path, who: str
) -> None:
    """A second launch: the main menu offers Start and Continue (the save).  Whether
    the person clicks Continue while Neuro holds the main menu's force, or she picks
    it herself, the story's menu after the load is forced and answered as usual."""
    game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, hooks=True)
    game = with_main_menu(game)
    await save_at_the_tea_menu(renpy, game)
    async with stand_in(auto_play=False) as (mock, transcript):
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(120):
                session = await mock.wait_for_game()
                force = await session.wait_for_force()
                assert force.action_names == ("click",)
                offered = session.registered_actions["click"].schema["properties"]["choice"]
                # What a screen reader says: "Load slot 1: Continue" (FileLoad's alt).
                [load] = [caption for caption in offered["enum"] if caption.endswith("Continue")]
                assert offered["enum"] == ["Start", load]
                seen = len(session.messages)
                if who == "person":
                    assert await run.command(f"click {load}") == f"click {load}"
                else:
                    await answer(session, load)
                with trio.fail_after(AFTER_LOAD):
                    forced = await session.wait_for_command("actions/force", start=seen)
                assert forced.data["action_names"] == ["choose"], transcript.text()
                assert "click" not in session.registered_actions
                await answer(session, "Black tea with milk.")
                status = await play_to_the_end(session, run)
        assert status == 0, run.describe()
    contexts = transcript.contexts()
    assert BLACK_TEA in contexts, transcript.text()
    assert contexts[-1] in ENDINGS, transcript.text()
    assert transcript.longest_stall() < LONGEST_STALL, transcript.text()
    check_nothing_stale(mock, transcript)
