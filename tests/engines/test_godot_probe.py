"""The Godot addon in ordinary game code, on real Godot 4 headless, against the stand-in.

``tests/engines/godot/probe/probe.gd`` is a small game written from ``docs/godot.rst``
alone (the public API only): each run plays one scenario (``-- --scenario NAME``)
while the test plays Neuro with the stand-in's conformance checks on -- every test
ends with ``findings == []``.  The scenarios are the ways issue 17 found the addon
breaking: windows replaced while forced, a force Neuro lost, windows outliving their
scene, a paused game with ``Engine.time_scale = 0``, big frames, threads, quitting.
Without Godot these tests fail in CI and skip elsewhere (see ``engines.py``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pytest
import trio

from neuro_bridge.installers.godot_addon import install
from neuro_bridge.mock import MockConfig, MockNeuro
from neuro_bridge.protocol import NeuroCommands
from tests.engines.test_godot import import_project, script_failures
from tests.engines.test_godot_sidecar import GodotRun

if TYPE_CHECKING:
    from neuro_bridge.conformance import ForceRecord
    from neuro_bridge.mock.session import MockSession
    from tests.engines.engines import Engine

PROBE = Path(__file__).with_name("godot") / "probe"

#: Seconds a whole scenario may take on a loaded machine.
SCENARIO = 120.0

PROJECT = """config_version=5

[application]

config/name="Probe"
run/main_scene="res://probe.tscn"

[debug]

gdscript/warnings/untyped_declaration=2
gdscript/warnings/unsafe_method_access=2
gdscript/warnings/unsafe_call_argument=2

[neuro_bridge]

game/name="Probe"
connection/reconnect_seconds=0.2
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path]:
    """The probe game with the addon installed, imported once for the module."""
    from tests.engines.engines import require

    godot = require("godot")
    project = tmp_path_factory.mktemp("probe")
    (project / "project.godot").write_text(PROJECT, encoding="utf-8")
    for item in PROBE.iterdir():
        shutil.copyfile(item, project / item.name)
    install(project)
    import_project(godot, project)
    return godot, project


def config(**overrides: object) -> MockConfig:
    """The stand-in waiting to be told what to play (no automatic play, no probes)."""
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "auto_play": False,
        "reregister_on_connect": False,
        "seed": 17,
    }
    settings.update(overrides)
    return MockConfig(**settings)  # type: ignore[arg-type]


async def start_probe(
    nursery: trio.Nursery, probe: tuple[Engine, Path], url: str, scenario: str
) -> GodotRun:
    godot, project = probe
    process = await trio.lowlevel.open_process(
        godot.command("--path", str(project), "--", "--scenario", scenario),
        env=godot.environ({"NEURO_SDK_WS_URL": url}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    run = GodotRun(process)
    nursery.start_soon(run.collect)
    return run


async def until(predicate: Callable[[], bool]) -> None:
    """Wait (bounded by the caller) until *predicate* holds."""
    while not predicate():
        await trio.sleep(0.01)


async def force_in_flight(session: MockSession, query: str) -> ForceRecord:
    """Wait until the force in flight is the one with *query*; return it."""
    await until(lambda: session.checker.force is not None and session.checker.force.query == query)
    force = session.checker.force
    assert force is not None
    return force


def forces_sent(session: MockSession) -> list[str]:
    return [str(m.data["query"]) for m in session.messages if m.command == "actions/force"]


async def finish(run: GodotRun, mock: MockNeuro) -> str:
    """Wait for the probe to quit by itself; check it quit cleanly and unregistered."""
    assert await run.wait() == 0, run.output
    with trio.fail_after(10):
        await mock.wait_all_disconnected()
    mock.stop()
    assert "[probe] done" in run.output, run.output
    assert not script_failures(run.output), run.output
    session = mock.sessions[-1]
    assert dict(session.registered_actions) == {}, session.commands()  # unregistered on quit
    return run.output


async def test_replaced_windows_leave_nothing_behind_and_later_forces_go_out(
    probe: tuple[Engine, Path],
) -> None:
    """Window A (a_pick, a_other) forced, replaced by B (a_pick): A is gone whole, B's
    force, a plain force and a later window's force all go out, each after the answer
    that ended the one before."""
    mock = MockNeuro(config())
    with trio.fail_after(SCENARIO):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            run = await start_probe(nursery, probe, mock.url, "windows")
            session = await mock.wait_for_game()
            await force_in_flight(session, "B")
            assert "a_other" not in session.registered_actions
            assert forces_sent(session) == ["A", "B"]
            pick = await session.force("a_pick")
            await force_in_flight(session, "Plain")
            await session.force("plain")
            await force_in_flight(session, "C")
            await session.force("c")
            await finish(run, mock)
    assert mock.findings == [], mock.summary()
    assert forces_sent(session) == ["A", "B", "Plain", "C"]
    commands = session.commands()
    answer = next(
        i
        for i, m in enumerate(session.messages)
        if m.command == "action/result" and m.data["id"] == pick
    )
    # The pick's window is unregistered before its answer; the next force comes after.
    assert commands[answer - 1] == "actions/unregister"
    assert commands.index("actions/force", answer) > answer
    # On quit, the action still registered ("plain") is unregistered before the close.
    assert session.messages[-1].command == "actions/unregister"
    assert session.messages[-1].data["action_names"] == ["plain"]


async def test_a_force_neuro_lost_is_sent_again_then_given_up(
    probe: tuple[Engine, Path],
) -> None:
    """Neuro loses the force twice: it is re-sent once, then given up with a warning,
    and the next force goes out; actions/reregister_all re-sends the force in flight."""
    mock = MockNeuro(config())
    with trio.fail_after(SCENARIO):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            run = await start_probe(nursery, probe, mock.url, "lost")
            session = await mock.wait_for_game()
            await force_in_flight(session, "Lost")
            session.checker.end_force()  # Neuro lost it
            await until(lambda: forces_sent(session) == ["Lost", "Lost"])
            session.checker.end_force()  # and lost it again
            await force_in_flight(session, "Next")
            await run.wait_for(r"\[probe\] given up: Lost")
            await session.send(NeuroCommands.reregister_all())
            await until(lambda: forces_sent(session) == ["Lost", "Lost", "Next", "Next"])
            await session.force("next_pick")
            output = await finish(run, mock)
    assert mock.findings == [], mock.summary()
    assert "did not act on the force" in output, output
    # reregister_all: the actions, then the force in flight; then the pick and the quit.
    after = session.commands()[-4:]
    assert after == ["actions/register", "actions/force", "action/result", "actions/unregister"]


async def test_a_window_ends_with_its_owner_and_freed_handlers_are_unregistered(
    probe: tuple[Engine, Path],
) -> None:
    """The level node owning a forced window is freed: the window ends, its actions and
    the action handled by the level's method are unregistered, nothing is answered for
    them, and the next window's force goes out."""
    mock = MockNeuro(config())
    with trio.fail_after(SCENARIO):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            run = await start_probe(nursery, probe, mock.url, "owner")
            session = await mock.wait_for_game()
            await force_in_flight(session, "After")
            await until(lambda: "level_say" not in session.registered_actions)
            await session.force("after_pick")
            output = await finish(run, mock)
    assert mock.findings == [], mock.summary()
    assert "[probe] level window ended: 2" in output, output  # EndReason.CLOSED
    assert forces_sent(session) == ["Level", "After"]
    assert [r.success for r in session.results] == [True]


async def test_a_window_ends_with_its_owners_scene(probe: tuple[Engine, Path]) -> None:
    """The scene that owns a forced window is changed for another: the window ends with
    it (its action unregistered, its force given up), and the new scene's force goes
    out."""
    mock = MockNeuro(config())
    with trio.fail_after(SCENARIO):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            run = await start_probe(nursery, probe, mock.url, "scene")
            session = await mock.wait_for_game()
            await force_in_flight(session, "Next")
            assert "scene_pick" not in session.registered_actions
            await session.force("next_pick")
            output = await finish(run, mock)
    assert mock.findings == [], mock.summary()
    assert "[probe] next scene" in output, output
    assert forces_sent(session) == ["Scene", "Next"]
    unregistered = [m.data for m in session.messages if m.command == "actions/unregister"]
    assert unregistered[0] == {"action_names": ["scene_pick"]}


async def test_a_paused_game_with_time_scale_zero_reconnects(
    probe: tuple[Engine, Path],
) -> None:
    """Engine.time_scale = 0 and a paused tree: when Neuro restarts, the game reconnects
    and a window's timed force goes out (the timers count real time)."""
    first = MockNeuro(config())
    with trio.fail_after(SCENARIO):
        async with trio.open_nursery() as nursery:
            first_gone = trio.Event()

            async def serve_first(*, task_status: trio.TaskStatus[None]) -> None:
                await first.serve(task_status=task_status)
                first_gone.set()

            await nursery.start(serve_first)
            run = await start_probe(nursery, probe, first.url, "pause")
            await first.wait_for_game()
            await run.wait_for(r"\[probe\] paused")
            first.stop()
            await first_gone.wait()
            second = MockNeuro(config(port=first.port))
            await nursery.start(second.serve)
            session = await second.wait_for_game()
            await force_in_flight(session, "Resume")
            await session.force("resume")
            await finish(run, second)
    assert first.findings == [], first.summary()
    assert second.findings == [], second.summary()


async def test_big_frames_threads_blank_data_and_the_reconnect_order(
    probe: tuple[Engine, Path],
) -> None:
    """A registration and a force state both over Godot's 64 KiB buffer arrive whole; a
    context sent from a thread arrives; after a restart the game sends startup, its
    actions, what happened meanwhile, then the force; data "" and whitespace mean no
    parameters; the startup acknowledgement is kept."""
    first = MockNeuro(config(character="neuro"))
    with trio.fail_after(SCENARIO):
        async with trio.open_nursery() as nursery:
            first_gone = trio.Event()

            async def serve_first(*, task_status: trio.TaskStatus[None]) -> None:
                await first.serve(task_status=task_status)
                first_gone.set()

            await nursery.start(serve_first)
            run = await start_probe(nursery, probe, first.url, "wire")
            session = await first.wait_for_game()
            force = await force_in_flight(session, "Big")
            assert len(force.state or "") == 200_000
            assert len(session.registered_actions) == 201
            await until(lambda: "From a thread." in session.contexts)
            first.stop()
            await first_gone.wait()
            second = MockNeuro(config(port=first.port, character="evil"))
            await nursery.start(second.serve)
            restored = await second.wait_for_game()
            await force_in_flight(restored, "Big")
            assert restored.commands()[:4] == [
                "startup",
                "actions/register",
                "context",
                "actions/force",
            ]
            assert "While you were away" in str(restored.messages[2].data["message"])
            for data in (" \n", ""):
                result = await restored.expect_result(await restored.send_action("wave", data))
                assert result.success, result
            output = await finish(run, second)
    assert first.findings == [], first.summary()
    assert second.findings == [], second.summary()
    assert "[probe] character neuro (Neuro-sama)" in output, output
    assert "[probe] character evil (Evil Neuro)" in output, output
    assert "[probe] wave 2 {}, character evil" in output, output
