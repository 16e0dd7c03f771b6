"""The plugin never breaks the game it is in: no Neuro, a runtime that cannot load, a bug.

Each test runs a copy of a generated VN (:func:`write_long_vn`: lines that end
themselves, so it reaches its ending with nobody at the keyboard) on Ren'Py 8.0.3
and 8.3.4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import trio

from tests.engines.renpy_harness import (
    FAST,
    copy_game,
    explained,
    free_port,
    running_game,
    stand_in,
    write_long_vn,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tests.engines.engines import Engine

pytestmark = pytest.mark.slow

#: The dialogue kept while Neuro is away (the ``offline_lines`` default).
OFFLINE_LINES = 20


async def test_a_thousand_lines_with_nobody_listening(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """More lines than the outbox holds (256): the story still reaches its ending."""
    source = write_long_vn(tmp_path / "source", 1100)
    game = copy_game(renpy, source, tmp_path / "long", renpy_bundle)
    url = f"ws://127.0.0.1:{free_port()}"
    async with running_game(renpy, game, url) as run:
        status = await run.wait(300)
    assert status == 0, run.describe()
    log = run.log()
    assert "OutboxFullError" not in log + run.output(), run.describe()
    assert "the Neuro plugin failed" not in log, run.describe()


async def test_neuro_arrives_midway_and_gets_the_last_lines(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """600 lines offline, then she connects at a menu: one context with the last 20
    lines, the menu forced, and the story goes on to its ending."""
    source = write_long_vn(tmp_path / "source", 700, menu_at=600)
    game = copy_game(renpy, source, tmp_path / "long", renpy_bundle)
    port = free_port()
    async with running_game(renpy, game, f"ws://127.0.0.1:{port}") as run:
        with trio.fail_after(240):
            while not (game / "at_menu").exists():
                assert not run.crashed(), run.describe()
                assert run.process.returncode is None, run.describe()
                await trio.sleep(0.2)
        async with stand_in(port=port) as (mock, transcript):
            with explained(transcript, run):
                status = await run.wait(240)
                assert status == 0, run.describe()
                with trio.fail_after(10):
                    await mock.wait_all_disconnected()
    contexts = transcript.contexts()
    story = [text for text in contexts if text.startswith("The story so far")]
    assert len(story) == 1, transcript.text()
    kept = story[0].splitlines()[1:]
    assert kept == [f"Line {n} of the long story." for n in range(581, 601)], story[0]
    assert len(kept) == OFFLINE_LINES
    # Nothing from before she came was sent any other way; what follows was, one by one.
    lines_after = [text for text in contexts if text.startswith("Line ")]
    assert lines_after == [f"Line {n} of the long story." for n in range(601, 701)]
    [(_, pick)] = transcript.actions("choose")
    reply = {"Keep reading.": "You keep reading.", "Skip a page.": "You skip a page."}
    assert reply[pick["choice"]] in contexts, transcript.text()
    assert contexts[-1] == "The end."
    mock.assert_conforms()


async def test_a_runtime_that_cannot_load(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """trio does not import here: the game runs, ``neuro.*`` does nothing, log.txt says why once."""
    source = write_long_vn(tmp_path / "source", 30)
    calls = """\
init 999 python:
    def neuro_calls():
        neuro.send_context("hello")
        neuro.register_action("wave", "Wave.", lambda data: None)
        neuro.force("Wave!", "wave")
        neuro.unregister_action("wave")
        answer = neuro.ask("Tea?", ["Yes", "No"], timeout=5.0, fallback="no answer")
        mark("neuro_calls", "%s %s" % (neuro.connected(), answer))
    config.start_callbacks.append(neuro_calls)
"""
    (source / "game" / "calls.rpy").write_text(calls)
    game = copy_game(renpy, source, tmp_path / "broken", renpy_bundle)
    trio_init = next((game / "game").glob("*/lib/trio/__init__.py"))
    trio_init.write_text('raise ImportError("trio cannot load on this platform (a test)")\n')
    url = f"ws://127.0.0.1:{free_port()}"
    async with running_game(renpy, game, url) as run:
        status = await run.wait(120)
    assert status == 0, run.describe()
    assert (game / "neuro_calls").read_text() == "False no answer", run.describe()
    log = run.log()
    assert log.count("the runtime could not be loaded") == 1, run.describe()
    assert log.count("ImportError: trio cannot load on this platform") == 1, run.describe()


async def test_an_exception_in_a_callback(
    renpy: Engine, renpy_bundle: Path, tmp_path: Path
) -> None:
    """The history callback raises: logged once with its traceback, the plugin turns
    itself off (Neuro's connection closes), the game reaches its ending."""
    source = write_long_vn(tmp_path / "source", 200)
    inject = """\
init 600 python:
    import neuro_bridge.engines.renpy as neuro_engine

    def broken_history(entry):
        if "Line 50 " in entry.what:
            raise RuntimeError("an injected failure")

    neuro_engine.current().history = broken_history
"""
    game = copy_game(renpy, source, tmp_path / "buggy", renpy_bundle, extra=FAST + inject)
    async with stand_in() as (mock, transcript):
        async with running_game(renpy, game, mock.url) as run:
            with explained(transcript, run):
                status = await run.wait(120)
                assert status == 0, run.describe()
                with trio.fail_after(10):
                    await mock.wait_all_disconnected()
    log = run.log()
    assert log.count("the Neuro plugin failed in reading a line of dialogue") == 1, log
    assert log.count("RuntimeError: an injected failure") == 1, log
    assert "Traceback" in log
    assert len(mock.sessions) == 1  # off for the session: no reconnect
