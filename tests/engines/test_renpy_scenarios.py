"""The Ren'Py plugin when things happen around Neuro: clicks, rollback, reloads, ...

The sample VN runs on Ren'Py 8.0.3 and 8.3.4 with test hooks (see
``renpy_test_hooks.rpy``) that play the person at the keyboard: a real mouse click,
rollback, Shift+R's reload, save/load, quit.  The stand-in Neuro does not play by
itself here; :class:`Neuro` answers forces when the test says so.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

import pytest
import trio

from neuro_bridge.mock import ALL_CHAOS, GameDisconnectedError, MockConfig, MockNeuro
from tests.engines.renpy_harness import (
    SAMPLE,
    copy_game,
    explained,
    running_game,
    stand_in,
)
from tests.engines.test_renpy import ENDINGS, check_played

if TYPE_CHECKING:
    from pathlib import Path

    from neuro_bridge.conformance import ForceRecord
    from neuro_bridge.mock import MockSession
    from tests.engines.engines import Engine
    from tests.engines.renpy_harness import GameRun, RecordingTranscript

pytestmark = pytest.mark.slow

#: Seconds a whole scenario may take.
SCENARIO_TIMEOUT = 180


def answer_for(session: MockSession, force: ForceRecord, pick: str | None = None) -> Any:
    """Data for the force's action: *pick*, or the first choice / a fixed answer."""
    [name] = force.action_names
    if name == "enter_text":
        return {"text": "Neuro"}
    if name == "add_sugar":
        return {"cubes": 2}
    offered = session.registered_actions[name].schema["properties"]["choice"]["enum"]
    assert pick is None or pick in offered, offered
    return {"choice": pick or offered[0]}


async def answer(session: MockSession, pick: str | None = None) -> tuple[str, Any]:
    """Wait for the next force and answer it successfully; return (name, data)."""
    force = await session.wait_for_force()
    data = answer_for(session, force, pick)
    result = await session.expect_result(await session.force(force.action_names[0], data))
    assert result.success, result
    return force.action_names[0], data


async def play_to_the_end(session: MockSession, run: GameRun) -> int:
    """Answer every force until the game exits; return its status."""
    async with trio.open_nursery() as nursery:

        async def keep_answering() -> None:
            with contextlib.suppress(GameDisconnectedError):  # the game has ended
                while True:
                    await answer(session)

        nursery.start_soon(keep_answering)
        status = await run.wait(SCENARIO_TIMEOUT)
        nursery.cancel_scope.cancel()
    return status


def balance(transcript: RecordingTranscript, name: str) -> list[int]:
    """How many definitions of *name* Neuro holds after each frame (never above 1).

    Registering the identical definition again (what ``actions/reregister_all``
    asks for, and what the stand-in sends on connect) holds nothing more.
    """
    held: set[str] = set()
    trace = []
    for _, sender, frame in transcript.frames:
        if sender != "game":
            continue
        data = frame.get("data") or {}
        if frame.get("command") == "actions/register":
            for action in data.get("actions", []):
                if action.get("name") == name:
                    held.add(json.dumps(action, sort_keys=True))
        elif frame.get("command") == "actions/unregister":
            if name in data.get("action_names", []):
                held.clear()
        elif frame.get("command") == "startup":
            held.clear()
        trace.append(len(held))
    return trace


def check_nothing_stale(mock: MockNeuro, transcript: RecordingTranscript) -> None:
    """The game ended with nothing registered, and never held two menus at once."""
    for session in mock.sessions:
        assert not session.registered_actions, transcript.text()
    assert max(balance(transcript, "choose"), default=0) <= 1, transcript.text()
    mock.assert_conforms()


async def go_back_to_the_menu(
    session: MockSession, run: GameRun, command: str, second_pick: str
) -> int:
    """Pick green tea at the tea menu; once the next question (the cat's name) is
    forced, send the hook *command*, which must take the game back to the menu (its
    actions unregistered); pick *second_pick* there and play to the end.  Returns the
    game's exit status."""
    await answer(session, "Green tea, please.")
    force = await session.wait_for_force()
    assert force.action_names == ("enter_text",)
    seen = len(session.messages)
    assert await run.command(command) == command
    await session.wait_for_command("actions/unregister", start=seen)
    name, _ = await answer(session, second_pick)
    assert name == "choose"
    return await play_to_the_end(session, run)


def check_second_pick_counted(mock: MockNeuro, transcript: RecordingTranscript, reply: str) -> None:
    """Marigold's *reply* to the second pick came after her reply to green tea, the game
    reached an ending, and nothing stale was left (see :func:`go_back_to_the_menu`)."""
    contexts = transcript.contexts()
    assert contexts.index(reply) > contexts.index(
        "Marigold: A classic. It smells like cut grass and rain."
    )
    assert contexts[-1] in ENDINGS
    check_nothing_stale(mock, transcript)


async def test_a_click_beats_neuro(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, hooks=True)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(SCENARIO_TIMEOUT):
                session = await mock.wait_for_game()
                force = await session.wait_for_force()
                assert force.action_names == ("choose",)
                seen = len(session.messages)
                assert await run.command("click Black tea with milk.") == (
                    "click Black tea with milk."
                )
                await session.wait_for_command("actions/unregister", start=seen)
                late = await session.send_action("choose", {"choice": "Green tea, please."})
                result = await session.expect_result(late)
                assert not result.success
                status = await play_to_the_end(session, run)
        assert status == 0, run.describe()
    contexts = transcript.contexts()
    assert "Marigold: Strong and cosy. The cat approves." in contexts, transcript.text()
    assert not any(line.startswith("Marigold: A classic.") for line in contexts)
    assert contexts[-1] in ENDINGS
    check_nothing_stale(mock, transcript)


async def test_rollback_past_a_menu(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, hooks=True)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(SCENARIO_TIMEOUT):
                session = await mock.wait_for_game()
                # Rolled back while the menu waits for Neuro: the menu goes away.
                await session.wait_for_force()
                seen = len(session.messages)
                assert await run.command("rollback") == "rollback"
                await session.wait_for_command("actions/unregister", start=seen)
                # It comes back; Neuro picks; from the next question (the cat's
                # name) the game rolls back past her pick to the menu.
                status = await go_back_to_the_menu(
                    session, run, "rollback 2", "Just hot water, thanks."
                )
        assert status == 0, run.describe()
    check_second_pick_counted(mock, transcript, "Marigold: Very minimalist of you.")


async def test_shift_r_reload(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(
            renpy,
            SAMPLE,
            tmp_path / "tea_party",
            renpy_bundle,
            hooks=True,
            extra="define config.developer = True\ndefine neuro.advance_delay = 0.0\n",
        )
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(SCENARIO_TIMEOUT):
                first = await mock.wait_for_game()
                await answer(first, "Green tea, please.")
                await first.wait_for_force()  # the name to type
                assert await run.command("reload") == "reload"
                second = await mock.wait_for_game()
                assert not first.connected  # closed before the new connection
                assert first.close_reason is not None
                status = await play_to_the_end(second, run)
        assert status == 0, run.describe()
    assert len(mock.sessions) == 2
    assert "run() from inside a run()" not in run.log() + run.output()
    assert transcript.contexts()[-1] in ENDINGS
    check_nothing_stale(mock, transcript)


async def test_stand_in_restarted_mid_game(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    first = MockNeuro(MockConfig(host="127.0.0.1", port=0, auto_play=False))
    game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle)
    with trio.fail_after(SCENARIO_TIMEOUT):
        async with contextlib.AsyncExitStack() as stack:  # the game outlives the first server
            async with trio.open_nursery() as nursery:
                await nursery.start(first.serve)
                run = await stack.enter_async_context(running_game(renpy, game, first.url))
                session = await first.wait_for_game()
                await answer(session, "Green tea, please.")
                force = await session.wait_for_force()
                assert force.action_names == ("enter_text",)
                first.stop()  # Neuro goes away while the game waits for her
            # The same port: the game reconnects to the URL it was given.
            async with stand_in(port=first.port, auto_play=False) as (second, transcript):
                again = await second.wait_for_game()
                force = await again.wait_for_force()  # restored on reconnect
                assert force.action_names == ("enter_text",)
                assert "enter_text" in again.registered_actions
                status = await play_to_the_end(again, run)
    assert status == 0, run.describe()
    assert transcript.contexts()[-1] in ENDINGS
    assert "Marigold: Neuro? What a lovely name." in transcript.contexts()
    check_nothing_stale(second, transcript)
    first.assert_conforms()


async def test_quit_during_a_force(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, hooks=True)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(SCENARIO_TIMEOUT):
                session = await mock.wait_for_game()
                await session.wait_for_force()
                assert await run.command("quit") == "quit"
                assert await run.wait(30) == 0, run.describe()
                await session.wait_closed()
    assert session.close_reason is not None
    assert "1000" in session.close_reason, session.close_reason  # a clean close
    mock.assert_conforms()


async def test_save_loaded_mid_game(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, hooks=True)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(SCENARIO_TIMEOUT):
                session = await mock.wait_for_game()
                await session.wait_for_force()
                assert await run.command("save 1") == "save 1"
                status = await go_back_to_the_menu(session, run, "load 1", "Black tea with milk.")
        assert status == 0, run.describe()
    check_second_pick_counted(mock, transcript, "Marigold: Strong and cosy. The cat approves.")


@pytest.mark.parametrize("seed", [3])
async def test_chaos_answered(renpy: Engine, renpy_bundle: Path, tmp_path: Path, seed: int) -> None:
    async with stand_in(chaos=ALL_CHAOS, chaos_interval=0.3, seed=seed) as (mock, transcript):
        game = copy_game(
            renpy,
            SAMPLE,
            tmp_path / "tea_party",
            renpy_bundle,
            extra="define neuro.advance_delay = 0.4\ndefine neuro.advance_per_character = 0.0\n",
        )
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run):
                status = await run.wait(SCENARIO_TIMEOUT)
        assert status == 0, run.describe()
    # A probe still waiting when the game ends (status 0, a clean close) could
    # not be answered; it is the last one, judged "disconnected".  Leave it out.
    outcomes = mock.chaos_outcomes
    findings = mock.findings
    if outcomes and not outcomes[-1].ok and outcomes[-1].detail == "disconnected":
        last = outcomes.pop()
        findings = [f for f in findings if not f.message.startswith(last.kind.value)]
        assert "1000" in str(mock.sessions[0].close_reason)
    assert len(outcomes) >= 5, transcript.text()
    assert all(outcome.ok for outcome in outcomes), mock.summary()
    assert not findings, mock.summary()
    check_played(transcript)


async def test_neuro_advances_dialogue(renpy: Engine, renpy_bundle: Path, tmp_path: Path) -> None:
    extra = 'define neuro.advance = "neuro"\n'
    async with stand_in(auto_play=False) as (mock, transcript):
        game = copy_game(renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, extra=extra)
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(SCENARIO_TIMEOUT):
                session = await mock.wait_for_game()
                await session.wait_for_actions("advance")
                advanced = 0
                with contextlib.suppress(GameDisconnectedError):  # the game has ended
                    while run.process.returncode is None:
                        if session.pending_force is not None:
                            await answer(session)
                            continue
                        action_id = await session.send_action("advance", None)
                        advanced += (await session.expect_result(action_id)).success
                        await trio.sleep(0.05)
                status = await run.wait(60)
        assert status == 0, run.describe()
    assert advanced >= 10, transcript.text()
    assert transcript.contexts()[-1] in ENDINGS
    mock.assert_conforms()


async def test_skipping_leaves_nothing_stale(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    extra = 'define neuro.advance = "player"\n'
    async with stand_in() as (mock, transcript):
        game = copy_game(
            renpy, SAMPLE, tmp_path / "tea_party", renpy_bundle, hooks=True, extra=extra
        )
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run), trio.fail_after(SCENARIO_TIMEOUT):
                await mock.wait_for_game()
                # The person skips whenever the game waits on a line; menus stop it.
                while run.process.returncode is None and not run.crashed():
                    with contextlib.suppress(AssertionError):  # the game ended meanwhile
                        await run.command("skip", timeout=5.0)
                    await trio.sleep(0.3)
                status = await run.wait(30)
        assert status == 0, run.describe()
    # Skipped lines go to Neuro as one context (the last few), when the skipping
    # stops or the game quits: the ending is the last line of the last context.
    assert transcript.contexts()[-1].splitlines()[-1] in ENDINGS
    check_nothing_stale(mock, transcript)
