"""The stand-in with its web console open: action round trip, and a page at 1,000 frames/s.

Run with ``python bench/web_console.py`` (``--quick`` for a short run).  Not a
test: it prints figures, side by side, from one run.  Needs the ``web`` extra,
Playwright and Debian's Chromium (``make engines``).

Two stand-ins run in one trio run, as ``neuro-bridge mock`` would: one plain, one
with the web console (``--web``), a headless Chromium page open on it and
following the feed.  A raw game in a process of its own connects to each and
answers every ``action`` at once.

(1) Round trip: the stand-in sends an action (:meth:`MockSession.send_action`)
    and waits for its result (:meth:`MockSession.expect_result`), one at a time,
    alternating between the two stand-ins so a drifting machine slows both alike;
    p50 and p99 of each, and their ratio (target: <= 1.2x without the console).
(2) A page at 1,000 frames a second: a game sends ``context`` frames at that rate
    for a few seconds to the console's stand-in, the page showing that game's feed.
    Every 50 ms the page is asked for the last event it has and the hub for its
    last: how far behind the page was (events, and so milliseconds at 1,000/s), how
    long after the last frame the page had it, and the longest the page's main
    thread was busy during the flood (a 50 ms timer's worst lateness).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
import trio_websocket

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the clone: tests.browser
from tests.browser import CHROMIUM, CHROMIUM_ARGS

from neuro_bridge.mock import MockConfig, MockNeuro
from neuro_bridge.mock.web.app import serve_console
from neuro_bridge.mock.web.hub import ConsoleHub

if TYPE_CHECKING:
    from neuro_bridge.mock import MockSession

WARMUP = 50
RATE = 1000  # frames a second in (2)
POLL = 0.05
#: Records in the page the worst lateness of a 50 ms timer (its main thread busy).
STALL_PROBE = """() => {
  const m = window.neuroConsole; m.stall = 0; let last = performance.now();
  setInterval(() => {
    const now = performance.now(); m.stall = Math.max(m.stall, now - last - 50); last = now;
  }, 50);
}"""


def frame(command: str, data: dict[str, Any] | None = None, game: str = "Bench Game") -> str:
    message: dict[str, Any] = {"command": command, "game": game}
    if data is not None:
        message["data"] = data
    return json.dumps(message)


async def answering_game(url: str) -> None:
    """Register ``ping`` and answer every action at once."""
    async with trio_websocket.open_websocket_url(url) as websocket:
        await websocket.send_message(frame("startup"))
        ping = {"name": "ping", "description": "Ping."}
        await websocket.send_message(frame("actions/register", {"actions": [ping]}))
        try:
            while True:
                message = json.loads(await websocket.get_message())
                if message.get("command") == "action":
                    result = {"id": message["data"]["id"], "success": True}
                    await websocket.send_message(frame("action/result", result))
        except trio_websocket.ConnectionClosed:
            return


async def flooding_game(url: str, seconds: float) -> None:
    """Send ``context`` frames at :data:`RATE` a second for *seconds*, then leave."""
    async with trio_websocket.open_websocket_url(url) as websocket:
        await websocket.send_message(frame("startup", game="Flood"))
        started = trio.current_time()
        sent = 0
        total = int(RATE * seconds)
        while sent < total:
            due = int((trio.current_time() - started) * RATE) + 1
            while sent < min(due, total):
                sent += 1
                text = {"message": f"tick {sent}", "silent": True}
                await websocket.send_message(frame("context", text, game="Flood"))
            await trio.sleep(0.002)
        await trio.sleep(0.5)


def run_game(kind: str, url: str, seconds: float = 0.0) -> None:
    if kind == "answer":
        trio.run(answering_game, url)
    else:
        trio.run(flooding_game, url, seconds)


class Page:
    """Headless Chromium on the console page, in a thread (Playwright's sync API)."""

    def __init__(self, url: str, hub: ConsoleHub) -> None:
        self.url = url
        self.hub = hub
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.sampling = threading.Event()
        self.samples: list[tuple[float, int, int]] = []  # (time, hub seq, page seq)
        self.stall_ms = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        """Open the page, then sample it until :attr:`stop` is set."""
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(self.url)
                page.wait_for_function("window.neuroConsole && window.neuroConsole.lastSeq > 0")
                page.evaluate(STALL_PROBE)
                self.ready.set()
                flooding = False
                while not self.stop.is_set():
                    if self.sampling.is_set() and not flooding:
                        flooding = True  # the page follows the flooding game's feed
                        page.locator("#games button", has_text="Flood").click()
                        page.evaluate("window.neuroConsole.stall = 0")
                    if flooding:
                        hub_seq = self.hub.seq
                        page_seq = page.evaluate("window.neuroConsole.lastSeq")
                        self.samples.append((time.perf_counter(), hub_seq, page_seq))
                    time.sleep(POLL)
                self.stall_ms = page.evaluate("window.neuroConsole.stall")
                browser.close()
        except BaseException as exc:
            self.error = exc
            self.ready.set()


async def round_trips(session: MockSession, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        await session.expect_result(await session.send_action("ping"))
        times.append(time.perf_counter() - started)
    return times


def spawn(kind: str, url: str, seconds: float = 0.0) -> multiprocessing.process.BaseProcess:
    context = multiprocessing.get_context("spawn")  # not forked from inside trio.run
    process = context.Process(target=run_game, args=(kind, url, seconds), daemon=True)
    process.start()
    return process


async def main(actions: int, flood_seconds: float) -> dict[str, Any]:
    config = MockConfig(host="127.0.0.1", port=0, auto_play=False, reregister_on_connect=False)
    plain, web = MockNeuro(config), MockNeuro(config)
    results: dict[str, Any] = {}
    async with trio.open_nursery() as nursery:
        await nursery.start(plain.serve)
        await nursery.start(web.serve)
        hub = ConsoleHub(nursery)
        hub.attach(web)
        url = await nursery.start(lambda task_status: serve_console(hub, task_status=task_status))
        games = [spawn("answer", plain.url), spawn("answer", web.url)]
        sessions = {"plain": await plain.wait_for_game(), "web": await web.wait_for_game()}
        for session in sessions.values():
            await session.wait_for_actions("ping")
        page = Page(url, hub)
        thread = threading.Thread(target=page.run, daemon=True)
        thread.start()
        await trio.to_thread.run_sync(page.ready.wait)
        if page.error is not None:
            raise page.error
        times: dict[str, list[float]] = {"plain": [], "web": []}
        batch = 50
        for number in range((WARMUP + actions) // batch):
            order = ("plain", "web") if number % 2 else ("web", "plain")
            for name in order:
                measured = await round_trips(sessions[name], batch)
                if number * batch >= WARMUP:
                    times[name] += measured
        results["times"] = times
        # (2) the flood
        flood = spawn("flood", web.url, flood_seconds)
        flood_session = await web.wait_for_game()
        await flood_session.wait_until(lambda: flood_session.game is not None)
        page.sampling.set()
        total = int(RATE * flood_seconds)
        await flood_session.wait_until(lambda: len(flood_session.messages) >= total + 1)
        last_frame_at = time.perf_counter()
        last_seq = hub.seq
        with trio.move_on_after(10):
            while not page.samples or page.samples[-1][2] < last_seq:  # noqa: ASYNC110
                await trio.sleep(POLL)  # the page is sampled by its thread
        caught_up = (page.samples[-1][0] - last_frame_at) if page.samples else float("nan")
        page.stop.set()
        await trio.to_thread.run_sync(thread.join)
        results["flood"] = {
            "frames": total,
            "duration": flood_session.messages[-1].time - flood_session.messages[1].time,
            "behind": max((hub_seq - page_seq for _, hub_seq, page_seq in page.samples), default=0),
            "caught_up": caught_up,
            "page_seq": page.samples[-1][2] if page.samples else 0,
            "last_seq": last_seq,
            "stall_ms": page.stall_ms,
        }
        flood.join(5)
        for process in games:
            process.terminate()
        plain.stop()
        web.stop()
        nursery.cancel_scope.cancel()
    return results


def _ms(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def run() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--actions", type=int, default=2000, help="round trips per mode")
    parser.add_argument("--flood", type=float, default=5.0, help="seconds of 1,000 frames/s")
    parser.add_argument("--quick", action="store_true", help="500 round trips, 2 s of flood")
    args = parser.parse_args()
    if args.quick:
        args.actions, args.flood = 500, 2.0
    results = trio.run(main, args.actions, args.flood)
    times = results["times"]
    flood = results["flood"]
    load = os.getloadavg()[0]
    print(
        f"stand-in round trip, {len(times['plain'])} actions per mode, interleaved"
        f" (load average {load:.1f})"
    )
    print(f"  {'':28} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, label in (("plain", "without --web"), ("web", "--web, page open, following")):
        values = times[name]
        print(
            f"  {label:28} {_ms(values, 0.5):8.3f} {_ms(values, 0.99):8.3f}"
            f" {statistics.fmean(values) * 1000:8.3f}"
        )
    ratio50 = _ms(times["web"], 0.5) / _ms(times["plain"], 0.5)
    ratio99 = _ms(times["web"], 0.99) / _ms(times["plain"], 0.99)
    print(f"  ratio --web / without: p50 {ratio50:.2f}x, p99 {ratio99:.2f}x (target p50 <= 1.2x)")
    rate = flood["frames"] / flood["duration"] if flood["duration"] else float("nan")
    print(
        f"page following a game at {RATE} frames/s: {flood['frames']} frames in"
        f" {flood['duration']:.2f} s ({rate:.0f}/s)"
    )
    print(
        f"  most events behind the hub (sampled every {POLL * 1000:.0f} ms):"
        f" {flood['behind']} (= {flood['behind'] * 1000 / RATE:.0f} ms of frames)"
    )
    print(
        f"  the page had the last frame {flood['caught_up'] * 1000:.0f} ms after it arrived"
        f" (page at event {flood['page_seq']} of {flood['last_seq']})"
    )
    print(f"  longest main-thread stall of the page: {flood['stall_ms']:.0f} ms")


if __name__ == "__main__":
    run()
