"""Action latency of a 60 FPS pygame game, idle cost per frame, and a long soak.

Run with ``python bench/action_latency.py`` (``--quick`` for a short run).  Not a
test: it prints figures.

A local server (trio-websocket on 127.0.0.1, port 0, in a process of its own so
the game's rendering cannot hold its GIL) sends ``action`` frames one at a time,
with a random gap so they land at every phase of the game's frame, and
timestamps the matching ``action/result``.  Measured in one run, each as
p50/p99 of that round trip and as a ratio to (d):

(a) the pygame game at 60 FPS with a rendering workload, waiting with
    ``PygameNeuro.wait_frame(60)``;
(b) the same game with ``clock.tick(60)`` and ``PygameNeuro.pump()`` once a frame;
(c) the same component (``TrioNeuroAPIComponent``) under plain ``trio.run``;
(d) raw echo: a trio-websocket client sending each frame straight back.

The modes take turns: each round runs a short batch of every mode, in a rotated
order, so a machine whose speed drifts during the run (shared cores, frequency
scaling) slows every mode alike and the ratios compare like with like.  A busier
machine still lengthens the tails, most in the modes that cross more threads and
processes per round trip: the load average is printed with the figures.  For (a) and (b) each
round trip is also sorted by where the action landed in the game's frame: while
the game waited (in ``wait_frame`` / ``clock.tick``), or while it was rendering or
collecting garbage -- work no single-threaded game loop can interrupt.

Also: the runner's cost per idle frame (connected, no traffic): the time spent in
``pump()`` per frame of loop (b), and the time ``wait_frame`` spends besides
sleeping per frame of loop (a); and a soak of 100,000 actions through loop (a)
(32 in flight): RSS growth of the game process after a warm-up tenth, and results
lost.

Targets (issue 4): (a) p50 <= 1.5x raw echo and p99 < 3 ms; idle frame <= 20 us;
soak RSS growth < 5 MB, 0 lost.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import math
import multiprocessing
import os
import random
import resource
import statistics
import sys
import time
from typing import TYPE_CHECKING, Any

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame
import trio
import trio_websocket
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.engines.pygame import PygameHost, PygameNeuro
from neuro_bridge.protocol import Action, NeuroCommands
from neuro_bridge.trio_ws import TrioNeuroAPIComponent

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection

GAME = "Latency Bench"
FPS = 60
ACT = Action(
    "bench_act",
    "Benchmark action.",
    {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 0}},
        "required": ["n"],
    },
)
DONE = Action("bench_done", "End of the benchmark phase.")
RESULT_TIMEOUT = 5.0
#: Seconds after connecting before per-frame costs are counted (start-up excluded).
SETTLE = 0.5
#: Seconds per loop variant and round of the idle-cost measurement.
IDLE_ROUND = 1.0
#: Latency samples per mode and round (the modes take turns), and the warm-up
#: samples before each batch that are not counted (a fresh connection runs cold).
BATCH = 30
WARMUP = 5


# ---------------------------------------------------------------- the server process


class Job:
    """What the server does with the next connection (sent through a pipe)."""

    def __init__(
        self,
        kind: str,
        count: int = 0,
        *,
        wait_register: bool = True,
        window: int = 1,
        idle: float = 0.0,
    ) -> None:
        self.kind = kind
        self.count = count
        self.wait_register = wait_register
        self.window = window
        self.idle = idle


def serve(pipe: Connection) -> None:
    """Entry point of the server process."""
    trio.run(_serve, pipe)


async def _serve(pipe: Connection) -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    send, receive = trio.open_memory_channel[trio_websocket.WebSocketConnection](0)

    async def handler(request: trio_websocket.WebSocketRequest) -> None:
        websocket = await request.accept()
        await send.send(websocket)
        # Keep the connection open until the job closed it.
        while not websocket.closed:  # noqa: ASYNC110 - a bench, polling is fine
            await trio.sleep(0.05)

    server = trio_websocket.WebSocketServer(handler, listeners)
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        pipe.send(port)
        while True:
            job: Job | None = await trio.to_thread.run_sync(pipe.recv)
            if job is None:
                break
            websocket = await receive.receive()
            outcome = await _run_job(job, websocket)
            pipe.send(outcome)
        nursery.cancel_scope.cancel()


async def _run_job(job: Job, websocket: trio_websocket.WebSocketConnection) -> dict[str, Any]:
    sent_at: dict[str, float] = {}
    answered: dict[str, float] = {}
    registered = trio.Event()
    changed = trio.Event()

    async def reader() -> None:
        nonlocal changed
        try:
            while True:
                frame = json.loads(await websocket.get_message())
                now = time.perf_counter()
                command, data = frame.get("command"), frame.get("data") or {}
                if command == "actions/register":
                    registered.set()
                elif command in ("action/result", "action") and data.get("id") in sent_at:
                    answered.setdefault(data["id"], now)
                    changed.set()
                    changed = trio.Event()
        except trio_websocket.ConnectionClosed:
            pass

    outcome: dict[str, Any] = {}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        if job.wait_register:
            await registered.wait()
            await trio.sleep(0.2)
        rng = random.Random(1)
        if job.kind == "latency":
            rtts = []
            sent = []
            numbers = []
            lost = 0
            for i in range(job.count):
                action_id = f"l{i}"
                frame = NeuroCommands.action(action_id, ACT.name, f'{{"n": {i}}}')
                sent_at[action_id] = time.perf_counter()
                await websocket.send_message(frame)
                with trio.move_on_after(RESULT_TIMEOUT):
                    while action_id not in answered:
                        await changed.wait()
                if action_id in answered:
                    rtts.append(answered[action_id] - sent_at[action_id])
                    sent.append(sent_at[action_id])
                    numbers.append(i)
                else:
                    lost += 1
                # A random gap: actions land at every phase of the game's frame.
                await trio.sleep(rng.uniform(0.002, 0.022))
            outcome = {"rtts": rtts, "sent": sent, "numbers": numbers, "lost": lost}
        elif job.kind == "soak":
            started = time.perf_counter()
            for i in range(job.count):
                while len(sent_at) - len(answered) >= job.window:
                    with trio.move_on_after(RESULT_TIMEOUT) as waiting:
                        await changed.wait()
                    if waiting.cancelled_caught:
                        break
                action_id = f"s{i}"
                sent_at[action_id] = time.perf_counter()
                await websocket.send_message(
                    NeuroCommands.action(action_id, ACT.name, f'{{"n": {i}}}')
                )
            with trio.move_on_after(RESULT_TIMEOUT):
                while len(answered) < len(sent_at):
                    await changed.wait()
            outcome = {
                "sent": len(sent_at),
                "lost": len(sent_at) - len(answered),
                "seconds": time.perf_counter() - started,
            }
        elif job.kind == "idle":
            await trio.sleep(job.idle)
        if job.wait_register:
            await websocket.send_message(NeuroCommands.action("done", DONE.name))
        else:
            await websocket.send_message("done")
        with trio.move_on_after(RESULT_TIMEOUT):
            while not websocket.closed:  # noqa: ASYNC110
                await trio.sleep(0.01)
        await websocket.aclose()
        nursery.cancel_scope.cancel()
    return outcome


# ---------------------------------------------------------------- the game side


class TimedHost(PygameHost):
    """A PygameHost that adds up the time spent sleeping in :meth:`wait`."""

    def __init__(self) -> None:
        super().__init__()
        self.slept = 0.0

    def wait(self, timeout: float) -> bool:
        """Sleep as PygameHost does, adding up the time."""
        begun = time.perf_counter()
        try:
            return super().wait(timeout)
        finally:
            self.slept += time.perf_counter() - begun


def render(screen: pygame.Surface, frame: int, rng: random.Random) -> None:
    """Draw a frame of a few milliseconds' work, like a small game's."""
    screen.fill((20 + frame % 60, 20, 40))
    width, height = screen.get_size()
    for _ in range(400):
        pygame.draw.circle(
            screen,
            (rng.randrange(256), rng.randrange(256), 128),
            (rng.randrange(width), rng.randrange(height)),
            rng.randrange(4, 30),
        )
    pygame.display.flip()


def rss_mb() -> float:
    """Resident set size of this process now, in MB."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: peak instead of current
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_game(
    url: str,
    *,
    frame_wait: bool,
    soak_count: int = 0,
    busy: list[tuple[float, float]] | None = None,
    handled: dict[int, float] | None = None,
) -> dict[str, float]:
    """Run the pygame game until the server ends the phase; return measurements.

    If *busy* is given, the ``(start, end)`` ``perf_counter`` times of every
    rendering and every garbage collection are appended to it (``perf_counter``
    is the system's monotonic clock, so the server process's times compare).  If
    *handled* is given, it maps each action's ``n`` to when its handler ran.
    """
    pygame.display.init()
    screen = pygame.display.set_mode((640, 480))
    host = TimedHost()
    neuro = PygameNeuro(GAME, url, host=host)
    done = [False]
    seen = [0]
    rss: dict[str, float] = {}

    def act(data: dict[str, Any]) -> None:
        if handled is not None:
            handled[data["n"]] = time.perf_counter()
        seen[0] += 1
        if soak_count and seen[0] == soak_count // 10:
            gc.collect()
            rss["warm"] = rss_mb()

    def finish(data: dict[str, Any]) -> None:
        done[0] = True

    collecting = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting[0] = time.perf_counter()
        elif busy is not None:
            busy.append((collecting[0], time.perf_counter()))

    neuro.add_action(ACT, act)
    neuro.add_action(DONE, finish)
    neuro.start()
    clock = pygame.time.Clock()
    rng = random.Random(2)
    gc.callbacks.append(on_gc)
    frames = 0
    measured = 0  # frames counted for the per-frame costs: connected and settled
    in_pump = 0.0
    in_wait_frame = 0.0
    slept = 0.0
    render_time = 0.0
    settled_at: float | None = None
    try:
        while not done[0]:
            pygame.event.get()
            begun = time.perf_counter()
            render(screen, frames, rng)
            rendered = time.perf_counter()
            render_time += rendered - begun
            if busy is not None:
                busy.append((begun, rendered))
            if settled_at is None and neuro.connected:
                settled_at = begun + SETTLE
            counting = settled_at is not None and begun >= settled_at
            if frame_wait:
                sleeping = host.slept
                begun = time.perf_counter()
                neuro.wait_frame(FPS)
                if counting:
                    in_wait_frame += time.perf_counter() - begun
                    slept += host.slept - sleeping
            else:
                begun = time.perf_counter()
                neuro.pump()
                if counting:
                    in_pump += time.perf_counter() - begun
                clock.tick(FPS)
            frames += 1
            measured += counting
    finally:
        gc.callbacks.remove(on_gc)
        neuro.shutdown()
        pygame.display.quit()
    gc.collect()
    rss["end"] = rss_mb()
    return {
        "frames": frames,
        "render_ms": render_time / max(frames, 1) * 1e3,
        "measured_frames": measured,
        "pump_us": in_pump / max(measured, 1) * 1e6,
        "wait_overhead_us": (in_wait_frame - slept) / max(measured, 1) * 1e6,
        "rss_growth_mb": rss["end"] - rss.get("warm", rss["end"]),
        "handled": seen[0],
    }


def run_idle(url: str, *, rounds: int, seconds: float) -> dict[str, float]:
    """Runner cost per idle frame: CPU per frame with and without the bridge.

    One connected :class:`PygameNeuro`, no traffic.  Rounds interleave three loops
    of *seconds* each at 60 FPS with a light frame (fill + flip): ``clock.tick``
    alone (the guest run alive but not pumped), ``pump()`` + ``clock.tick``, and
    ``wait_frame()``.  The process's CPU time per frame (main thread and trio's
    I/O thread) is compared; the medians over rounds are returned in microseconds,
    with the hot cost of an empty ``pump()`` for reference.
    """
    pygame.display.init()
    screen = pygame.display.set_mode((640, 480))
    neuro = PygameNeuro(GAME, url, host=TimedHost())
    done = [False]
    neuro.add_action(DONE, lambda data: done.__setitem__(0, True))
    neuro.start()
    clock = pygame.time.Clock()
    costs: dict[str, list[float]] = {"none": [], "pump": [], "wait": []}
    direct: dict[str, list[float]] = {"pump": [], "wait": []}
    host = neuro.host
    assert isinstance(host, TimedHost)
    try:
        while not neuro.connected:
            neuro.wait_frame(FPS)
        deadline = time.perf_counter() + SETTLE
        while time.perf_counter() < deadline:
            neuro.wait_frame(FPS)
        variants = list(costs)
        for round_number in range(rounds):
            # Rotate the order: no variant always follows the same one.
            shift = round_number % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                frames = 0
                cpu = time.process_time()
                end = time.perf_counter() + seconds
                while time.perf_counter() < end:
                    pygame.event.get()
                    screen.fill((frames % 256, 30, 60))
                    pygame.display.flip()
                    if variant == "wait":
                        host.slept = 0.0
                        begun = time.perf_counter()
                        neuro.wait_frame(FPS)
                        direct["wait"].append(time.perf_counter() - begun - host.slept)
                    else:
                        if variant == "pump":
                            begun = time.perf_counter()
                            neuro.pump()
                            direct["pump"].append(time.perf_counter() - begun)
                        clock.tick(FPS)
                    frames += 1
                costs[variant].append((time.process_time() - cpu) / frames * 1e6)
        begun = time.perf_counter()
        for _ in range(10_000):
            neuro.pump()
        hot = (time.perf_counter() - begun) / 10_000 * 1e6
        while not done[0]:
            neuro.wait_frame(FPS)
    finally:
        neuro.shutdown()
        pygame.display.quit()
    base = statistics.median(costs["none"])
    return {
        "base_us": base,
        "pump_us": statistics.median(costs["pump"]) - base,
        "wait_us": statistics.median(costs["wait"]) - base,
        "hot_pump_us": hot,
        "direct_pump_us": statistics.median(direct["pump"]) * 1e6,
        "direct_pump_mean_us": statistics.fmean(direct["pump"]) * 1e6,
        "direct_wait_us": statistics.median(direct["wait"]) * 1e6,
        "direct_wait_mean_us": statistics.fmean(direct["wait"]) * 1e6,
    }


def run_plain_trio(url: str) -> None:
    """(c): the same component under plain ``trio.run``."""

    async def main() -> None:
        done = trio.Event()
        async with trio.open_nursery() as nursery:
            manager = ExternalRaiseManager("bench", nursery)
            component = TrioNeuroAPIComponent("neuro", GAME)
            manager.add_component(component)
            await component.register_action(ACT, lambda data: None)
            await component.register_action(DONE, lambda data: done.set())
            await manager.raise_event(Event("connect", url))
            await done.wait()
            await trio.sleep(0.1)  # let the result of "done" go out first
            await component.stop()
            nursery.cancel_scope.cancel()

    trio.run(main)


def run_echo(url: str) -> None:
    """(d): a raw trio-websocket client echoing every frame."""

    async def main() -> None:
        async with trio_websocket.open_websocket_url(url) as websocket:
            while True:
                message = await websocket.get_message()
                if message == "done":
                    break
                await websocket.send_message(message)

    trio.run(main)


# ---------------------------------------------------------------- the report


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def landed_busy(sent: list[float], busy: list[tuple[float, float]]) -> list[float | None]:
    """For each send time, when the rendering or collection under way then ended.

    ``None`` where the game was not busy (it was waiting for the next frame).
    """
    merged: list[list[float]] = []
    for begin, end in sorted(busy):
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    starts = [begin for begin, _ in merged]
    until: list[float | None] = []
    for moment in sent:
        index = bisect.bisect_right(starts, moment) - 1
        until.append(merged[index][1] if index >= 0 and merged[index][1] > moment else None)
    return until


def describe(values: list[float]) -> str:
    """``n, p50, p99`` of round trips, in milliseconds."""
    if not values:
        return "   0 samples"
    return (
        f"{len(values):4d} samples, p50 {statistics.median(values) * 1e3:6.3f}ms,"
        f" p99 {percentile(values, 0.99) * 1e3:6.3f}ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (fewer samples)")
    parser.add_argument("--actions", type=int, default=None, help="latency samples per mode")
    parser.add_argument("--soak", type=int, default=None, help="actions in the soak")
    args = parser.parse_args(argv)
    samples = args.actions or (150 if args.quick else 600)
    soak = args.soak or (10_000 if args.quick else 100_000)
    rounds = max(1, math.ceil(samples / BATCH))
    load = os.getloadavg()

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child,), daemon=True)
    server.start()
    try:
        port = parent.recv()
        url = f"ws://127.0.0.1:{port}"
        keys = "abcd"
        rtts: dict[str, list[float]] = {key: [] for key in keys}
        sent: dict[str, list[float]] = {key: [] for key in keys}
        round_p50: dict[str, list[float]] = {key: [] for key in keys}
        lost = dict.fromkeys(keys, 0)
        busy: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
        handled: dict[str, dict[int, float]] = {"a": {}, "b": {}}
        #: For (a) and (b): each round trip's part until the handler ran.
        inbound: dict[str, list[float]] = {"a": [], "b": []}
        render_ms: list[float] = []
        modes: list[tuple[str, str, Callable[[], object], bool]] = [
            ("d", "raw trio-websocket echo", lambda: run_echo(url), False),
            (
                "a",
                "pygame 60 FPS, wait_frame()",
                lambda: run_game(url, frame_wait=True, busy=busy["a"], handled=handled["a"]),
                True,
            ),
            (
                "b",
                "pygame 60 FPS, clock.tick + pump()",
                lambda: run_game(url, frame_wait=False, busy=busy["b"], handled=handled["b"]),
                True,
            ),
            ("c", "same component, plain trio.run", lambda: run_plain_trio(url), True),
        ]
        for round_number in range(rounds):
            # Rotate the order: no mode always runs first or after the same one.
            shift = round_number % len(modes)
            for key, _, client, registers in modes[shift:] + modes[:shift]:
                parent.send(Job("latency", BATCH + WARMUP, wait_register=registers))
                if key in handled:
                    handled[key].clear()
                measured = client()
                if isinstance(measured, dict):
                    render_ms.append(measured["render_ms"])
                outcome = parent.recv()
                rtts[key] += outcome["rtts"][WARMUP:]
                sent[key] += outcome["sent"][WARMUP:]
                lost[key] += outcome["lost"]
                if key in handled:
                    inbound[key] += [
                        handled[key][n] - at
                        for n, at in zip(outcome["numbers"][WARMUP:], outcome["sent"][WARMUP:])
                    ]
                if outcome["rtts"][WARMUP:]:
                    round_p50[key].append(statistics.median(outcome["rtts"][WARMUP:]))

        idle_rounds = 3 if args.quick else 7
        parent.send(Job("idle", idle=idle_rounds * 3 * IDLE_ROUND + 3))
        idle = run_idle(url, rounds=idle_rounds, seconds=IDLE_ROUND)
        parent.recv()

        parent.send(Job("soak", soak, window=32))
        soaked = run_game(url, frame_wait=True, soak_count=soak)
        soak_outcome = parent.recv()
        parent.send(None)
    finally:
        server.join(5)
        if server.is_alive():
            server.kill()

    echo_p50 = statistics.median(rtts["d"])
    print(
        f"action -> action/result round trip, {rounds} rounds of {BATCH} samples per mode"
        f" (after {WARMUP} warm-up each), modes interleaved"
    )
    print(
        f"load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
        f" ({os.cpu_count()} CPUs): compare runs made at a similar load"
    )
    print(f"{'mode':44} {'p50':>9} {'p99':>9} {'p50/echo':>9} {'p99/echo':>9} lost")
    echo_p99 = percentile(rtts["d"], 0.99)
    for key, label, _, _ in sorted(modes):
        p50 = statistics.median(rtts[key])
        p99 = percentile(rtts[key], 0.99)
        print(
            f"({key}) {label:40} {p50 * 1e3:7.3f}ms {p99 * 1e3:7.3f}ms"
            f" {p50 / echo_p50:8.2f}x {p99 / echo_p99:8.2f}x {lost[key]}"
        )
    ratios = sorted(a / d for a, d in zip(round_p50["a"], round_p50["d"]))
    if ratios:
        print(
            f"(a) p50/echo round by round: median {statistics.median(ratios):.2f}x,"
            f" middle half {percentile(ratios, 0.25):.2f}-{percentile(ratios, 0.75):.2f}x"
        )
    print(f"rendering workload: {statistics.fmean(render_ms):.2f} ms per frame")
    for key in "ab":
        until = landed_busy(sent[key], busy[key])
        waiting = [rtt for rtt, end in zip(rtts[key], until) if end is None]
        working = [rtt for rtt, end in zip(rtts[key], until) if end is not None]
        rest = [end - at for at, end in zip(sent[key], until) if end is not None]
        arriving = [part for part, end in zip(inbound[key], until) if end is None]
        leaving = [
            rtt - part for rtt, part, end in zip(rtts[key], inbound[key], until) if end is None
        ]
        print(f"({key}) landed while the game waited:     {describe(waiting)}")
        print(f"      of which frame in -> handler ran: {describe(arriving)}")
        print(f"           and handler -> result out:   {describe(leaving)}")
        print(f"    landed while it rendered or ran GC: {describe(working)}")
        print(f"      of which that work's remainder:   {describe(rest)}")
    a50, a99 = statistics.median(rtts["a"]), percentile(rtts["a"], 0.99)
    print(
        f"target (a): p50 <= 1.5x echo -> {a50 / echo_p50:.2f}x"
        f" [{'ok' if a50 <= 1.5 * echo_p50 else 'MISSED'}];"
        f" p99 < 3 ms -> {a99 * 1e3:.2f} ms [{'ok' if a99 < 0.003 else 'MISSED'}]"
    )
    print()
    print(
        f"runner cost per idle frame (connected, no traffic, {idle_rounds} x {IDLE_ROUND:g} s"
        " per loop):"
    )
    print(
        f"  time inside pump() per frame (clock.tick loop): median"
        f" {idle['direct_pump_us']:.1f} us, mean {idle['direct_pump_mean_us']:.1f} us"
    )
    print(
        f"  time inside wait_frame() besides sleeping: median"
        f" {idle['direct_wait_us']:.1f} us, mean {idle['direct_wait_mean_us']:.1f} us"
    )
    print(
        f"  process CPU per frame: clock.tick alone {idle['base_us']:.1f} us;"
        f" + pump() {idle['pump_us']:+.1f} us; wait_frame() instead {idle['wait_us']:+.1f} us"
        " (differences of medians: noisy on shared cores)"
    )
    print(f"  an empty pump() on a hot CPU: {idle['hot_pump_us']:.2f} us")
    worst = max(idle["direct_pump_us"], idle["direct_wait_us"])
    print(
        f"target: <= 20 us (median, direct) -> {worst:.1f} us [{'ok' if worst <= 20 else 'MISSED'}]"
    )
    print()
    print(
        f"soak: {soak_outcome['sent']} actions in {soak_outcome['seconds']:.1f} s"
        f" ({soak_outcome['sent'] / soak_outcome['seconds']:.0f}/s, 32 in flight,"
        f" 60 FPS loop with wait_frame)"
    )
    growth = soaked["rss_growth_mb"]
    print(
        f"  RSS growth after the first tenth: {growth:.2f} MB"
        f" [{'ok' if growth < 5 else 'MISSED'}]; lost results: {soak_outcome['lost']}"
        f" [{'ok' if soak_outcome['lost'] == 0 else 'MISSED'}];"
        f" handled by the game: {soaked['handled']:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
