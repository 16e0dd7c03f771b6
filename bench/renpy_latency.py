"""Latency of the Ren'Py plugin inside real Ren'Py (software renderer), one run.

Run with ``python bench/renpy_latency.py`` (``--engine renpy83`` for 8.3.4,
``--quick`` for a short run; the engines come from ``make engines``, the plugin is
built with ``neuro-bridge renpy bundle``).  Not a test: it prints figures.

A small VN made for the benchmark (written to a temporary folder, with the
plugin dropped in) runs headless against the stand-in Neuro, which the bench
drives itself.  Clocks: both processes read ``time.monotonic()``, the same
system-wide clock on Linux.  Measured:

(a) action round trip (Neuro sends ``action``, receives ``action/result``) while
    the game waits on a line of dialogue, p50/p99, with the plugin's wake
    (``PERIODIC`` posted to Ren'Py's event queue) and (b) with the wake turned
    off, so trio only runs when Ren'Py's own periodic timer (every 50 ms) or a
    new interaction comes round.
(c) menu shown -> ``actions/force`` received by Neuro, and whether it arrived
    while the menu's interaction was still on (it must: the menu waits for her).
(d) Neuro's ``action`` sent -> the menu statement returned her pick.
(e) frames the game sent per line of dialogue and per menu.

Targets (issue 10): (a) p50 <= 3 ms, p99 <= 50 ms; (c) within the menu's own
interaction; (d) p50 <= 3 ms; (e) only what the protocol needs: one ``context``
per line; per menu ``actions/register``, ``actions/force``, ``actions/unregister``
and ``action/result``.

``--playthrough`` measures whole playthroughs instead (issue 16), reading delay
0: (f) the sample, given a main menu, played by the stand-in picking at random
(seed 1) from launch to its ending, and (g) Ren'Py's tutorial from its main menu
through three chapters (Start, then "Player Experience", "Writing Dialogue" and
"Choices and Python"; the first choice of each menu).  For each: seconds from
launch to the first answered offer, and the longest stall (two frames of the
game further apart than that, with Neuro connected: nothing offered or
advanced).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.engines

from tests.engines.engines import EngineUnavailableError, locate, renpy_game_copy
from tests.engines.renpy_harness import install_bundle, running_game

from neuro_bridge.installers.renpy_bundle import build_bundle
from neuro_bridge.mock import MockConfig, MockNeuro

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tests.engines.renpy_harness import RecordingTranscript

    from neuro_bridge.mock import MockSession

#: The benchmark's VN: lines and menus to measure, then a hard pause while Neuro
#: pings, with the wake on and then off.  Marks go to marks.txt.
SCRIPT = """\
define neuro.advance_delay = 0.0
define neuro.advance_per_character = 0.0

init python:
    import time

    def mark(*what):
        with open(config.basedir + "/marks.txt", "a") as marks:
            marks.write(" ".join(str(w) for w in what) + " %.6f\\n" % time.monotonic())

    def ping(data):
        return None

    def stop(data):
        renpy.end_interaction(True)

    def wake(data):
        import neuro_bridge.engines.renpy as plugin
        host = plugin.current().host
        if data["on"]:
            host.__dict__.pop("wake", None)
        else:
            host.wake = lambda: None

label main_menu:
    return

label start:
    $ i = 0
    while i < MENUS:
        "Line [i] of the benchmark."
        $ mark("menu", i)
        menu:
            "Left":
                $ mark("returned", i)
            "Right":
                $ mark("returned", i)
        $ i += 1
    python:
        schema = {"type": "object", "properties": {"on": {"type": "boolean"}}, "required": ["on"]}
        neuro.register_action("ping", "Measure a round trip.", ping)
        neuro.register_action("wake", "Turn the wake on or off.", wake, schema)
        neuro.register_action("stop", "End the benchmark.", stop)
        mark("pinging")
        renpy.pause(600.0, hard=True)
        renpy.quit()
"""


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe(values: Sequence[float]) -> str:
    milliseconds = [v * 1000 for v in values]
    return (
        f"p50 {statistics.median(milliseconds):7.2f} ms"
        f"  p99 {percentile(milliseconds, 0.99):7.2f} ms  (n={len(milliseconds)})"
    )


async def round_trips(session: MockSession, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.monotonic()
        await session.expect_result(await session.send_action("ping", None))
        times.append(time.monotonic() - started)
        await trio.sleep(0.01)  # the game goes back to waiting
    return times


async def bench(engine_name: str, menus: int, pings: int, wheel_dir: Path | None) -> None:
    try:
        engine = locate(engine_name)
    except EngineUnavailableError as exc:
        raise SystemExit(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="renpy-latency-") as scratch:
        root = Path(scratch)
        source = root / "source"
        (source / "game").mkdir(parents=True)
        (source / "game" / "script.rpy").write_text(SCRIPT.replace("MENUS", str(menus)))
        game = renpy_game_copy(engine, source, root / "bench")
        install_bundle(game, build_bundle(root / "bundle", wheel_dir=wheel_dir, windows=False))
        mock = MockNeuro(MockConfig(host="127.0.0.1", port=0, auto_play=False))
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            async with running_game(engine, game, mock.url) as run:
                with trio.fail_after(300):
                    # The stand-in stamps frames with trio's clock; both it and
                    # time.monotonic() count CLOCK_MONOTONIC on Linux.
                    offset = time.monotonic() - trio.current_time()
                    session = await mock.wait_for_game()
                    forced_at, sent_at = [], []
                    for _ in range(menus):
                        await session.wait_for_force()
                        forced_at.append(force_time(session) + offset)
                        # She answers once the menu is on screen: the force goes
                        # out before the interaction's first frame is drawn, and
                        # drawing it (software renderer) takes tens of ms.
                        await trio.sleep(0.2)
                        sent_at.append(time.monotonic())
                        await session.expect_result(
                            await session.force("choose", {"choice": "Left"})
                        )
                    await session.wait_for_actions("ping", "wake", "stop")
                    await trio.sleep(0.5)
                    woken = await round_trips(session, pings)
                    await session.expect_result(await session.send_action("wake", {"on": False}))
                    periodic = await round_trips(session, max(pings // 4, 20))
                    await session.expect_result(await session.send_action("wake", {"on": True}))
                    await session.send_action("stop", None)
                    await run.wait(60)
            mock.stop()
        marks = (game / "marks.txt").read_text().split("\n")
    shown = [float(m.split()[-1]) for m in marks if m.startswith("menu ")]
    returned = [float(m.split()[-1]) for m in marks if m.startswith("returned ")]
    to_force = [f - s for f, s in zip(forced_at, shown)]
    to_return = [r - s for r, s in zip(returned, sent_at)]
    in_interaction = all(f < r for f, r in zip(forced_at, returned))
    # Frames of the menu phase: from the first line to the bench's own registrations.
    messages = session.messages
    first = next(i for i, m in enumerate(messages) if m.command == "context")
    last = next(
        i
        for i, m in enumerate(messages)
        if m.command == "actions/register"
        and any(a.get("name") == "ping" for a in m.data.get("actions", []))
    )
    counts = collections.Counter(m.command for m in messages[first:last])

    print(f"Ren'Py {engine.version} ({engine_name}), software renderer; {menus} menus")
    print(f"(a) action round trip, our wake:         {describe(woken)}")
    print(f"(b) action round trip, periodic only:    {describe(periodic)}")
    print(
        f"    ratio of p50s (b)/(a): {statistics.median(periodic) / statistics.median(woken):.1f}x"
    )
    print(f"(c) menu shown -> actions/force at Neuro: {describe(to_force)}")
    print(f"    every force arrived during its menu's interaction: {in_interaction}")
    print(f"(d) Neuro's action -> menu returned:      {describe(to_return)}")
    per_menu = {
        command: counts[command] / menus
        for command in ("actions/register", "actions/force", "actions/unregister", "action/result")
    }
    print(f"(e) frames per line of dialogue: context {counts['context'] / menus:.2f}")
    print("    frames per menu: " + ", ".join(f"{k} {v:.2f}" for k, v in per_menu.items()))
    others = sorted(str(command) for command in set(counts) - set(per_menu) - {"context"})
    print(f"    anything else: {others or 'nothing'}")


def force_time(session: MockSession) -> float:
    """When the force now in flight arrived (trio's clock)."""
    for message in reversed(session.messages):
        if message.command == "actions/force":
            return message.time
    raise AssertionError("no force")


TUTORIAL = Path("/usr/share/games/renpy/demo")
CHAPTERS = ["Player Experience", "Writing Dialogue", "Choices and Python"]
AGAIN = "Eileen: Is there anything else you'd like to see?"


async def playthroughs(engine_name: str, wheel_dir: Path | None) -> None:
    from tests.engines.renpy_harness import FAST, SAMPLE, copy_game, stand_in, with_main_menu

    try:
        engine = locate(engine_name)
    except EngineUnavailableError as exc:
        raise SystemExit(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="renpy-playthrough-") as scratch:
        root = Path(scratch)
        bundle = build_bundle(root / "bundle", wheel_dir=wheel_dir, windows=False)
        print(f"Ren'Py {engine.version} ({engine_name}), software renderer, reading delay 0")
        async with stand_in(seed=1) as (mock, transcript):
            game = with_main_menu(copy_game(engine, SAMPLE, root / "sample", bundle, extra=FAST))
            launched = time.monotonic()
            async with running_game(engine, game, mock.url) as run:
                await run.wait(300)
            report("(f) the sample, random picks", launched, transcript)
        if not (TUTORIAL / "game" / "script.rpy").exists():
            print("(g) skipped: Ren'Py's tutorial is not installed (renpy-demo)")
            return
        async with stand_in(auto_play=False) as (mock, transcript):
            game = copy_game(engine, TUTORIAL, root / "tutorial", bundle)
            launched = time.monotonic()
            async with running_game(engine, game, mock.url):
                session = await mock.wait_for_game()
                visits = list(CHAPTERS)
                with trio.fail_after(900):
                    while True:
                        lines = [t for c in transcript.contexts() for t in c.splitlines()]
                        if lines.count(AGAIN) >= len(CHAPTERS):
                            break
                        force = await session.wait_for_force()
                        [name] = force.action_names
                        schema = session.registered_actions[name].schema
                        offered = schema["properties"]["choice"]["enum"]
                        pick = "Start" if "Start" in offered else offered[0]
                        if name == "click" and "Start" not in offered:
                            pick = visits.pop(0) if visits else "That's enough for now."
                        await session.expect_result(await session.force(name, {"choice": pick}))
            report("(g) the tutorial, three chapters", launched, transcript)


def report(title: str, launched: float, transcript: RecordingTranscript) -> None:
    first = next(
        when
        for when, (_, sender, frame) in zip(transcript.times, transcript.frames)
        if sender == "game"
        and frame.get("command") == "action/result"
        and frame["data"].get("success")
    )
    print(f"{title}:")
    print(f"    launch -> first answered offer: {first - launched:6.2f} s")
    print(f"    longest stall:                  {transcript.longest_stall():6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", default="renpy80", choices=("renpy80", "renpy83"))
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument(
        "--wheel-dir", type=Path, help="build the plugin from these wheels (default: pip)"
    )
    parser.add_argument(
        "--playthrough", action="store_true", help="whole playthroughs (f, g) instead"
    )
    args = parser.parse_args()
    if args.playthrough:
        trio.run(playthroughs, args.engine, args.wheel_dir)
        return
    menus, pings = (10, 50) if args.quick else (40, 300)
    trio.run(bench, args.engine, menus, pings, args.wheel_dir)


if __name__ == "__main__":
    main()
