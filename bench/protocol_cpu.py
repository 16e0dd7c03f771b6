"""CPU per incoming ``action``, ours vs neuro-api 4.0.0, and send_context throughput.

Run with ``python bench/protocol_cpu.py`` (``--quick`` for a short run).  Not a test.

Part 1 -- CPU per action.  Both libraries read the same ``action`` frames from an
in-memory stand-in for the websocket (no I/O, no scheduler waits) and write their
``action/result`` frame to a list.  Per action that covers: JSON parse, envelope
validation, schema check (ours only: neuro-api does none), dispatch to a no-op
handler, building the result frame.  neuro-api runs its ``AbstractNeuroAPI``
``read_message`` with ``handle_action`` overridden to call the same no-op handler
and send its result (its libcomponent layer would only add cost).  Rounds of the two
are interleaved and the median round is reported.

Part 2 -- outgoing ``send_context`` throughput over a real loopback websocket
(trio-websocket server on 127.0.0.1, port 0): ``TrioNeuroAPI.send_context`` vs raw
``WebSocketConnection.send_message`` of an equally long prebuilt frame; each round
ends when the server has received every frame.  Interleaved, median reported.

Targets (issue 2): ours >= 10x faster per action; send_context >= 0.9x raw.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from typing import TYPE_CHECKING, Any, cast

import trio
import trio_websocket

from neuro_bridge.component import AbstractNeuroAPIComponent
from neuro_bridge.protocol import Action, NeuroCommands
from neuro_bridge.trio_ws import TrioNeuroAPI

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

GAME = "Bench Game"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "column": {"type": "integer", "minimum": 0, "maximum": 6},
        "comment": {"type": "string", "maxLength": 200},
    },
    "required": ["column"],
}


def make_frames(count: int) -> list[str]:
    """Return *count* distinct, valid ``action`` frames for the ``play`` action."""
    return [
        NeuroCommands.action(
            f"id-{i}", "play", f'{{"column": {i % 7}, "comment": "move number {i}"}}'
        )
        for i in range(count)
    ]


def noop_handler(data: dict[str, Any]) -> None:
    """Do nothing and succeed: the handler both libraries call."""


# ---------------------------------------------------------------- ours


class OursInMemory(AbstractNeuroAPIComponent):
    """Our component reading from a list of frames and writing into a list."""

    def __init__(self) -> None:
        super().__init__("bench", GAME)
        self.inbox: list[str] = []
        self.position = 0
        self.sent: list[str] = []

    async def write_to_websocket(self, data: str) -> None:
        """Record the frame."""
        self.sent.append(data)

    async def read_from_websocket(self) -> str:
        """Return the next frame of the inbox."""
        frame = self.inbox[self.position]
        self.position += 1
        return frame


async def make_ours() -> OursInMemory:
    api = OursInMemory()
    await api.register_action(Action("play", "Drop a piece", SCHEMA), noop_handler)
    return api


async def run_ours(api: OursInMemory, frames: list[str]) -> float:
    api.inbox = frames
    api.position = 0
    api.sent.clear()
    read = api.read_message
    started = time.perf_counter()
    for _ in range(len(frames)):
        await read()
    elapsed = time.perf_counter() - started
    assert len(api.sent) == len(frames), "every action answered"
    assert '"success":true' in api.sent[-1], api.sent[-1]
    return elapsed


# ---------------------------------------------------------------- neuro-api


def make_theirs_factory() -> Callable[[], Awaitable[Any]] | None:
    """Return a coroutine function building neuro-api's in-memory client, if installed."""
    try:
        from neuro_api.api import AbstractNeuroAPI as TheirAPI
        from neuro_api.command import Action as TheirAction
    except ImportError:
        return None

    class TheirsInMemory(TheirAPI):  # type: ignore[misc,unused-ignore]  # Any if absent
        def __init__(self) -> None:
            super().__init__(GAME)
            self.inbox: list[str] = []
            self.position = 0
            self.sent: list[str] = []

        async def write_to_websocket(self, data: str) -> None:
            self.sent.append(data)

        async def read_from_websocket(self) -> str:
            frame = self.inbox[self.position]
            self.position += 1
            return frame

        async def handle_startup_acknowledgement(self, ack: Any) -> None:
            pass

        async def handle_action(self, action: Any) -> None:
            noop_handler({})
            await self.send_action_result(action.id_, True, None)

    async def make() -> Any:
        api = TheirsInMemory()
        await api.register_actions([TheirAction("play", "Drop a piece", cast("Any", SCHEMA))])
        api.sent.clear()
        return api

    return make


async def run_theirs(api: Any, frames: list[str]) -> float:
    api.inbox = frames
    api.position = 0
    api.sent.clear()
    read = api.read_message
    started = time.perf_counter()
    for _ in range(len(frames)):
        await read()
    elapsed = time.perf_counter() - started
    assert len(api.sent) == len(frames), "every action answered"
    return elapsed


async def bench_cpu(rounds: int, per_round: int) -> None:
    frames = make_frames(per_round)
    ours = await make_ours()
    theirs_factory = make_theirs_factory()
    theirs = await theirs_factory() if theirs_factory is not None else None
    # Warm up both (caches, compiled validators, code paths).
    await run_ours(ours, frames[:200])
    if theirs is not None:
        await run_theirs(theirs, frames[:200])
    ours_us: list[float] = []
    theirs_us: list[float] = []
    gc.collect()
    for _ in range(rounds):
        ours_us.append(await run_ours(ours, frames) / per_round * 1e6)
        if theirs is not None:
            theirs_us.append(await run_theirs(theirs, frames) / per_round * 1e6)
    ours_median = statistics.median(ours_us)
    print(f"CPU per incoming action ({rounds} rounds x {per_round} actions, median round)")
    print(f"  neuro-bridge: {ours_median:8.2f} us/action  (min {min(ours_us):.2f})")
    if theirs is None:
        print("  neuro-api:    not installed (pip install 'neuro-bridge[bench]', Python >= 3.10)")
        return
    theirs_median = statistics.median(theirs_us)
    print(f"  neuro-api:    {theirs_median:8.2f} us/action  (min {min(theirs_us):.2f})")
    # Median of the per-round ratios: neighbours share the machine's load of the moment.
    ratio = statistics.median(t / o for o, t in zip(ours_us, theirs_us))
    verdict = "meets" if ratio >= 10 else "MISSES"
    print(
        f"  ratio neuro-api/neuro-bridge (median of rounds): {ratio:.1f}x"
        f"  ({verdict} the >= 10x target)"
    )


# ---------------------------------------------------------------- loopback


class _Sink:
    """Server side: counts received frames, wakes the client at a target count."""

    def __init__(self) -> None:
        self.count = 0
        self.target = -1
        self.reached = trio.Event()

    def expect(self, total: int) -> trio.Event:
        self.target = total
        self.reached = trio.Event()
        if self.count >= total:
            self.reached.set()
        return self.reached

    async def handler(self, request: trio_websocket.WebSocketRequest) -> None:
        websocket = await request.accept()
        try:
            while True:
                await websocket.get_message()
                self.count += 1
                if self.count == self.target:
                    self.reached.set()
        except trio_websocket.ConnectionClosed:
            pass


async def bench_loopback(rounds: int, per_round: int) -> None:
    sink = _Sink()
    message = "The opponent dropped a piece in column 3. " * 2
    async with trio.open_nursery() as nursery:
        server = await nursery.start(
            trio_websocket.serve_websocket, sink.handler, "127.0.0.1", 0, None
        )
        port = server.port
        async with trio_websocket.open_websocket_url(f"ws://127.0.0.1:{port}") as websocket:
            api = TrioNeuroAPI(GAME, websocket)
            raw_frame = api._commands.context(message, True)  # same bytes on the wire
            sent = 0

            async def ours() -> float:
                nonlocal sent
                send = api.send_context
                reached = sink.expect(sent + per_round)
                started = time.perf_counter()
                for _ in range(per_round):
                    await send(message, True)
                await reached.wait()
                sent += per_round
                return time.perf_counter() - started

            async def raw() -> float:
                nonlocal sent
                send = websocket.send_message
                reached = sink.expect(sent + per_round)
                started = time.perf_counter()
                for _ in range(per_round):
                    await send(raw_frame)
                await reached.wait()
                sent += per_round
                return time.perf_counter() - started

            await ours()
            await raw()
            ours_rate: list[float] = []
            raw_rate: list[float] = []
            for index in range(rounds):
                # Alternate which goes first, so drift favours neither.
                pair = (ours, raw) if index % 2 == 0 else (raw, ours)
                for which in pair:
                    elapsed = await which()
                    (ours_rate if which is ours else raw_rate).append(per_round / elapsed)
        nursery.cancel_scope.cancel()
    ours_median = statistics.median(ours_rate)
    raw_median = statistics.median(raw_rate)
    # Median of the per-round ratios: neighbours share the machine's load of the moment.
    ratio = statistics.median(o / r for o, r in zip(ours_rate, raw_rate))
    verdict = "meets" if ratio >= 0.9 else "MISSES"
    print(f"Outgoing context over loopback ({rounds} rounds x {per_round} frames, median round)")
    print(f"  neuro-bridge send_context:      {ours_median:10.0f} frames/s")
    print(f"  raw trio-websocket send_message: {raw_median:10.0f} frames/s")
    print(f"  ratio ours/raw (median of rounds): {ratio:.2f}x  ({verdict} the >= 0.9x target)")


async def main(quick: bool) -> None:
    print(f"Python {sys.version.split()[0]}, trio {trio.__version__}")
    await bench_cpu(rounds=5 if quick else 15, per_round=2000 if quick else 5000)
    await bench_loopback(rounds=8 if quick else 31, per_round=500 if quick else 1000)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    trio.run(main, parser.parse_args().quick)
