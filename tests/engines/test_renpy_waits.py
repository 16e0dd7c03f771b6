"""Every way a VN waits is advanced while Neuro is connected (``neuro.advance = "auto"``).

Small VNs of their own, on Ren'Py 8.0.3 and 8.3.4, played by the stand-in.  A wait
the plugin did not advance would hold the game until the test's timeout: the
untimed pause forever, the timed one for ten minutes.
"""

from __future__ import annotations

import contextlib
import math
import struct
import wave
from typing import TYPE_CHECKING

import pytest
import trio

from neuro_bridge.mock import GameDisconnectedError
from neuro_bridge.protocol import NeuroCommands
from tests.engines.renpy_harness import (
    FAST,
    copy_game,
    explained,
    running_game,
    stand_in,
    write_vn,
)
from tests.engines.test_renpy_scenarios import answer, play_to_the_end

if TYPE_CHECKING:
    from pathlib import Path

    from neuro_bridge.conformance import ResultRecord
    from neuro_bridge.mock import MockSession
    from tests.engines.engines import Engine
    from tests.engines.renpy_harness import GameRun

pytestmark = pytest.mark.slow

WAITS = """\
define e = Character("Eve")
define n = Character("Nora", kind=nvl)

label start:
    e "An ADV line."
    e "One part,"
    extend " and its extension."
    n "An NVL line."
    n "Another NVL line."
    menu (nvl=True):
        "NVL choice A":
            n "Picked A."
        "NVL choice B":
            n "Picked B."
    nvl clear
    e "Now a pause without a time."
    pause
    e "Now a pause of ten minutes."
    pause 600.0
    e "Now a hard pause of half a second."
    $ renpy.pause(0.5, hard=True)
    e "Now a replay."
    $ renpy.call_replay("memory")
    e "The end."
    $ renpy.quit()

label memory:
    e "A line in the replay."
    e "Another line in the replay."
    $ renpy.end_replay()
    return
"""


async def test_every_wait_is_advanced(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    source = write_vn(tmp_path / "source", WAITS)
    async with stand_in() as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "waits", renpy_bundle)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run):
                status = await run.wait(120)
                assert status == 0, run.describe()
    # A line shown before the connection was up comes in "The story so far".
    contexts = [line for text in transcript.contexts() for line in text.splitlines()]
    for line in (
        "Eve: An ADV line.",
        "Nora: An NVL line.",
        "Nora: Another NVL line.",
        "Eve: Now a pause without a time.",
        "Eve: A line in the replay.",
        "Eve: Another line in the replay.",
        "Eve: The end.",
    ):
        assert line in contexts, transcript.text()
    [(_, pick)] = transcript.actions("choose")
    reply = {"NVL choice A": "Nora: Picked A.", "NVL choice B": "Nora: Picked B."}
    assert reply[pick["choice"]] in contexts, transcript.text()
    assert transcript.longest_stall() < 30, transcript.text()
    mock.assert_conforms()


HARD = """\
define e = Character("Eve")

init python:
    import time as hard_time

    # Each "dismiss" (a click, or the plugin advancing) that falls through to the
    # bottom of the screen during the hard pause, which only takes dismiss_hard_pause.
    hard_pause = {"on": False, "dismissed": 0}

    def count_dismiss():
        if hard_pause["on"]:
            hard_pause["dismissed"] += 1

    config.underlay.append(renpy.Keymap(dismiss=count_dismiss))

label start:
    e "Before the hard pause."
    # Whatever was sent to end the line above and came too late lands here.
    $ renpy.pause(0.5, hard=True)
    $ hard_pause["on"] = True
    $ hard_started = hard_time.monotonic()
    $ renpy.pause(2.0, hard=True)
    $ hard_pause["on"] = False
    $ hard_waited = hard_time.monotonic() - hard_started
    $ mark("hard_pause", "%d %.3f" % (hard_pause["dismissed"], hard_waited))
    e "After the hard pause."
    $ renpy.quit()
"""


async def test_a_hard_pause_is_left_alone(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """``renpy.pause(2.0, hard=True)`` with auto-advance: nothing is sent to end it
    (no ``dismiss`` reaches the screen), and the game waits its full two seconds."""
    source = write_vn(tmp_path / "source", HARD)
    async with stand_in() as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "hard", renpy_bundle)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run):
                status = await run.wait(60)
                assert status == 0, run.describe()
    dismissed, waited = (game / "hard_pause").read_text().split()
    assert int(dismissed) == 0, run.describe()
    assert float(waited) >= 2.0
    lines = [line for text in transcript.contexts() for line in text.splitlines()]
    assert lines[-2:] == ["Eve: Before the hard pause.", "Eve: After the hard pause."], lines
    mock.assert_conforms()


HARD_UNTIL = """\
define e = Character("Eve")

init python:
    import os as hard_os

    def pause_over():
        return hard_os.path.exists(hard_os.path.join(config.basedir, "pause_over"))

label start:
    e "Before the hard pause."
    $ mark("in_hard_pause")
    while not pause_over():
        $ renpy.pause(0.1, hard=True)
    e "After the hard pause."
    $ renpy.quit()
"""


async def test_a_hard_pause_is_not_hers_to_advance(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """With ``neuro.advance = "neuro"``, her ``advance`` during a hard pause (hard
    pauses until the test says so) is refused with a reason; lines before and after
    it are hers to advance."""
    source = write_vn(tmp_path / "source", HARD_UNTIL)
    extra = FAST + 'define neuro.advance = "neuro"\n'
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "hard", renpy_bundle, extra=extra)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(60):
                session = await mock.wait_for_game()
                await session.wait_for_actions("advance")
                while not (game / "in_hard_pause").exists():
                    await advance(session)
                    await trio.sleep(0.1)
                result = await advance(session)
                assert not result.success
                assert "pause" in (result.message or ""), result
                (game / "pause_over").write_text("")
                with contextlib.suppress(GameDisconnectedError):  # the game has ended
                    while not ended(run):
                        await advance(session)
                        await trio.sleep(0.1)
                status = await run.wait(30)
        assert status == 0, run.describe()
    lines = [line for text in transcript.contexts() for line in text.splitlines()]
    assert lines[-2:] == ["Eve: Before the hard pause.", "Eve: After the hard pause."], lines
    mock.assert_conforms()


async def advance(session: MockSession) -> ResultRecord:
    """Send Neuro's ``advance``; return the game's result."""
    return await session.expect_result(await session.send_action("advance", None))


SLOW = """\
define e = Character("Eve")

label start:
    e "Ready."
    e "{cps=20}Thirty characters of slow text.{/cps}"
    e "{cps=20}Thirty more characters, slowly.{/cps}"
    e "{cps=20}And thirty to end with, slowly.{/cps}"
    $ renpy.quit()
"""


async def test_reading_delay_counts_from_fully_shown(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """Each line takes 1.5 s to appear (20 characters a second) and is read for
    0.5 s after that: about 2 s a line, never less, and not much more."""
    source = write_vn(tmp_path / "source", SLOW)
    extra = "define neuro.advance_delay = 0.5\ndefine neuro.advance_per_character = 0.0\n"
    async with stand_in() as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "slow", renpy_bundle, extra=extra)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run):
                status = await run.wait(120)
                assert status == 0, run.describe()
    times = [
        when
        for when, (_, sender, frame) in zip(transcript.times, transcript.frames)
        if sender == "game"
        and frame.get("command") == "context"
        and "slow" in frame["data"]["message"]
    ]
    assert len(times) == 3, transcript.text()
    for before, after in zip(times, times[1:]):
        assert 1.9 <= after - before <= 5.0, (times, transcript.text())


PHONE = """\
define e = Character("Eve")

screen phone_button():
    textbutton "Phone" action Function(renpy.call_in_new_context, "phone") align (1.0, 0.0)

label start:
    show screen phone_button
    e "Pick a drink."
    menu:
        "Tea.":
            e "Tea it is."
        "Coffee.":
            e "Coffee it is."
    e "The end."
    $ renpy.quit()

label phone:
    e "The phone rings."
    menu:
        "Answer it.":
            e "Hello?"
        "Let it ring.":
            e "It stops ringing."
    return
"""


async def test_a_phone_during_a_menu_suspends_it(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """The person opens a phone (a new context) while the story's menu waits: the menu
    is withdrawn while the phone asks its own question, and offered again after."""
    source = write_vn(tmp_path / "source", PHONE)
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "phone", renpy_bundle, hooks=True)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(120):
                session = await mock.wait_for_game()
                await session.wait_for_force()
                assert choices(session) == ["Tea.", "Coffee."]
                seen = len(session.messages)
                assert await run.command("click Phone") == "click Phone"
                await session.wait_for_command("actions/unregister", start=seen)
                await session.wait_for_force()
                assert choices(session) == ["Answer it.", "Let it ring."]
                await answer(session, "Answer it.")
                await session.wait_for_force()  # the story's menu, again
                assert choices(session) == ["Tea.", "Coffee."]
                await answer(session, "Coffee.")
                status = await play_to_the_end(session, run)
        assert status == 0, run.describe()
    contexts = transcript.contexts()
    assert contexts.index("Eve: Hello?") < contexts.index("Eve: Coffee it is."), contexts
    assert contexts[-1] == "Eve: The end."
    mock.assert_conforms()


def choices(session: MockSession) -> list[str]:
    return list(session.registered_actions["choose"].schema["properties"]["choice"]["enum"])


NAME_ENTRY = """\
default player_name = ""

screen name_entry():
    vbox:
        align (0.5, 0.5)
        text "What is your name?"
        input value VariableInputValue("player_name") length 12
        textbutton "OK" action Return(True)
        textbutton "Quit" action Quit(confirm=False)
        textbutton "Website" action OpenURL("https://example.com/")

label start:
    "A form to fill in."
    call screen name_entry
    "Hello, [player_name]!"
    $ renpy.quit()
"""


async def test_a_name_entry_screen(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    """An ``input`` inside a called screen: she types first, then gets its buttons
    (never Quit or a web page)."""
    source = write_vn(tmp_path / "source", NAME_ENTRY)
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "name", renpy_bundle)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(120):
                session = await mock.wait_for_game()
                force = await session.wait_for_force()
                assert force.action_names == ("enter_text",)
                schema = session.registered_actions["enter_text"].schema
                assert schema["properties"]["text"]["maxLength"] == 12
                result = await session.expect_result(
                    await session.force("enter_text", {"text": "Neuro{sama}"})
                )
                assert result.success, result
                force = await session.wait_for_force()
                assert force.action_names == ("click",)
                offered = session.registered_actions["click"].schema["properties"]["choice"]
                assert offered["enum"] == ["OK"]
                await answer(session, "OK")
                status = await run.wait(60)
        assert status == 0, run.describe()
    assert "Hello, Neurosama!" in transcript.contexts(), transcript.text()
    mock.assert_conforms()


CONFIRM = """\
screen confirm(message, yes_action, no_action):
    modal True
    zorder 200
    vbox:
        align (0.5, 0.5)
        text message
        textbutton "Yes" action yes_action
        textbutton "No" action no_action

screen door():
    vbox:
        align (0.5, 0.5)
        textbutton "Stay" action Return("stayed")
        textbutton "Leave" action Confirm("Really leave?", yes=Return("left"))

label start:
    "A door."
    call screen door
    "You [_return]."
    $ renpy.quit()
"""


async def test_a_confirm_overlay_is_offered(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """A modal confirmation above the called screen: its buttons are offered, not
    the ones beneath it."""
    source = write_vn(tmp_path / "source", CONFIRM)
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "door", renpy_bundle)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(120):
                session = await mock.wait_for_game()
                await session.wait_for_force()
                assert clicks(session) == ["Stay", "Leave"]
                await answer(session, "Leave")
                await session.wait_for_force()
                assert clicks(session) == ["Yes", "No"]
                await answer(session, "Yes")
                status = await run.wait(60)
        assert status == 0, run.describe()
    assert "You left." in transcript.contexts(), transcript.text()
    mock.assert_conforms()


def clicks(session: MockSession) -> list[str]:
    return list(session.registered_actions["click"].schema["properties"]["choice"]["enum"])


MAP = """\
screen map():
    hbox:
        align (0.5, 0.5)
        spacing 20
        imagebutton idle Solid("#a00", xysize=(80, 80)):
            action Return("the kitchen")
            tooltip "The kitchen"
        imagebutton idle Solid("#0a0", xysize=(80, 80)) action Jump("garden")
        imagebutton idle Solid("#00a", xysize=(80, 80)) action Jump("garden")
        imagebutton idle Solid("#aa0", xysize=(80, 80)) action NullAction()

label start:
    "A map."
    call screen map
    "You go to [_return]."
    $ renpy.quit()

label garden:
    "The garden."
    $ renpy.quit()
"""


async def test_buttons_without_text(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    """Image buttons read as their tooltip, else what they do, else their place; never
    two alike."""
    source = write_vn(tmp_path / "source", MAP)
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "map", renpy_bundle)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(120):
                session = await mock.wait_for_game()
                await session.wait_for_force()
                assert clicks(session) == [
                    "The kitchen",
                    "Go to garden",
                    "Go to garden (2)",
                    "Button 4",
                ]
                await answer(session, "The kitchen")
                status = await run.wait(60)
        assert status == 0, run.describe()
    assert "You go to the kitchen." in transcript.contexts(), transcript.text()


SPOKEN = """\
define e = Character("Eve")

label start:
    e "One."
    e "Two."
    e "Three."
    $ renpy.quit()
"""


async def test_waits_for_her_speech(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    """Lines she reads aloud wait for her ``speech_finished`` (capped at 30 s here)."""
    source = write_vn(tmp_path / "source", SPOKEN)
    extra = FAST + "define neuro.dialogue_silent = False\ndefine neuro.wait_for_speech = 30.0\n"
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "spoken", renpy_bundle, extra=extra)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(90):
                session = await mock.wait_for_game()
                await session.wait_for_command("context")
                await trio.sleep(2.0)
                held = transcript.contexts()
                assert len(held) == 1, held  # the game waits for her
                while not ended(run):
                    count = len(transcript.contexts())
                    with contextlib.suppress(GameDisconnectedError):  # the game has ended
                        await session.send(NeuroCommands.speech_finished(True))
                    with trio.move_on_after(5):
                        while len(transcript.contexts()) == count and not ended(run):
                            await trio.sleep(0.05)
                status = await run.wait(30)
        assert status == 0, run.describe()
    # On 8.3 the first line may be shown before she is connected: "The story so far".
    lines = [text.splitlines()[-1] for text in transcript.contexts()]
    assert lines == ["Eve: One.", "Eve: Two.", "Eve: Three."], transcript.text()


def ended(run: GameRun) -> bool:
    return run.process.returncode is not None


VOICED = """\
define e = Character("Eve")

label start:
    e "Ready."
    voice "spoken.wav"
    e "A spoken line."
    e "After the voice."
    $ renpy.quit()
"""


def write_voice(path: Path, seconds: float) -> None:
    """Write a WAV file of *seconds* of a quiet tone (a stand-in for a voice line)."""
    rate = 22050
    samples = (int(3000 * math.sin(n * 0.05)) for n in range(int(rate * seconds)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))


async def test_waits_for_the_voice(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    """A voiced line (a 3 s voice) is auto-advanced once its voice is done, or after
    ``neuro.wait_for_voice`` (2 s here), whichever comes first: never sooner, never
    for good.  (Headless, with SDL's dummy audio, the voice never reports its end.)"""
    source = write_vn(tmp_path / "source", VOICED)
    write_voice(source / "game" / "spoken.wav", 3.0)
    extra = FAST + "define neuro.wait_for_voice = 2.0\n"
    async with stand_in() as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "voiced", renpy_bundle, extra=extra)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run):
                status = await run.wait(60)
                assert status == 0, run.describe()
    # 8.0 reports a line when it is dismissed, 8.3 when it is shown: either way the
    # spoken line's whole wait lies between the lines before and after it.
    sent = {
        line: when
        for when, (_, sender, frame) in zip(transcript.times, transcript.frames)
        if sender == "game" and frame.get("command") == "context"
        for line in frame["data"]["message"].splitlines()
    }
    assert sent["Eve: After the voice."] - sent["Eve: Ready."] >= 2.0, transcript.text()
    assert "Eve: A spoken line." in sent
    mock.assert_conforms()


TIMED = """\
screen countdown():
    timer 30.0 action Jump("too_late")

label start:
    "Quick!"
    show screen countdown
    menu:
        "Duck.":
            hide screen countdown
            "You duck."
        "Jump.":
            hide screen countdown
            "You jump."
    $ renpy.quit()

label too_late:
    "Too late."
    $ renpy.quit()
"""


async def test_a_timed_choice_says_how_long(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """A menu shown with a countdown screen (a one-shot ``timer``): the force that
    counts says how long she has."""
    source = write_vn(tmp_path / "source", TIMED)
    query = "Quick! (You have 30 seconds to choose.)"
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, source, tmp_path / "timed", renpy_bundle)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(60):
                session = await mock.wait_for_game()
                while (await session.wait_for_force()).query != query:
                    await trio.sleep(0.05)
                await answer(session, "Duck.")
                status = await run.wait(30)
        assert status == 0, run.describe()
    assert "You duck." in transcript.contexts(), transcript.text()
    mock.assert_conforms()
