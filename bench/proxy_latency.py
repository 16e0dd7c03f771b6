"""The proxy's added latency: a game on our runtime, direct vs through ``neuro-bridge proxy``.

Run with ``python bench/proxy_latency.py`` (``--actions N`` per mode).  Not a test:
it prints figures.

One local Neuro stand-in (trio-websocket on 127.0.0.1, port 0) serves two games,
each a :class:`~neuro_bridge.trio_ws.TrioNeuroAPIComponent` with the same action:
one connected directly, one through a :class:`~neuro_bridge.proxy.NeuroProxy`.
The server sends ``action`` frames one at a time and times each ``action`` ->
``action/result`` round trip.  The two modes take turns action by action in one
run, so a machine whose speed drifts slows both alike.  Everything shares one
process and one trio loop (the proxy's own CPU time counts, as it would on one
core).

Target (issue 11): added latency (proxy p50 - direct p50) <= 0.5 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import trio
import trio_websocket
from libcomponent.component import Event

from neuro_bridge.protocol import Action
from neuro_bridge.proxy import NeuroProxy
from neuro_bridge.trio_ws import TrioNeuroAPIComponent

ACT = Action(
    "bench_act",
    "Benchmark action.",
    {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}, "required": ["n"]},
)
TARGET_MS = 0.5
WARMUP = 20


class Server:
    """The stand-in: records each game's connection once it registered the action."""

    def __init__(self) -> None:
        self.port = 0
        self.games: dict[str, trio_websocket.WebSocketConnection] = {}
        self.changed = trio.Event()
        # Where each game's result ids go (set up before the first action).
        self.results: dict[str, trio.MemorySendChannel[str]] = {}

    async def serve(
        self,
        *,
        task_status: trio.TaskStatus[trio_websocket.WebSocketServer] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen on a free port of 127.0.0.1 and serve until cancelled."""
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        server = trio_websocket.WebSocketServer(self._handle, listeners)
        await server.run(task_status=task_status)

    async def _handle(self, request: trio_websocket.WebSocketRequest) -> None:
        websocket = await request.accept()
        try:
            while True:
                message = json.loads(await websocket.get_message())
                if message["command"] == "actions/register":
                    self.games[message["game"]] = websocket
                    self.changed.set()
                elif message["command"] == "action/result":
                    self.results[message["game"]].send_nowait(message["data"]["id"])
        except trio_websocket.ConnectionClosed:
            return


async def round_trip(
    server: Server, title: str, receive: trio.MemoryReceiveChannel[str], number: int
) -> float:
    """Send one action to *title*'s connection; return the seconds until its result."""
    action_id = f"{title}-{number}"
    frame = json.dumps(
        {
            "command": "action",
            "data": {"id": action_id, "name": ACT.name, "data": json.dumps({"n": number})},
        }
    )
    started = time.perf_counter()
    await server.games[title].send_message(frame)
    while await receive.receive() != action_id:
        pass
    return time.perf_counter() - started


async def main(actions: int) -> dict[str, list[float]]:
    server = Server()
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)
        url = f"ws://127.0.0.1:{server.port}"
        proxy = NeuroProxy(url)
        await nursery.start(proxy.serve)
        games = []
        for title, target in (("direct", url), ("proxied", proxy.url)):
            game = TrioNeuroAPIComponent(title, title)
            nursery.start_soon(game.handle_connect, Event("connect", target))
            await game.wait_for_websocket()
            await game.register_action(ACT, lambda data: None)
            games.append(game)
        while len(server.games) < 2:
            await server.changed.wait()
            server.changed = trio.Event()
        receivers: dict[str, trio.MemoryReceiveChannel[str]] = {}
        for title in ("direct", "proxied"):
            send, receive = trio.open_memory_channel[str](100)
            server.results[title] = send
            receivers[title] = receive
        times: dict[str, list[float]] = {"direct": [], "proxied": []}
        for number in range(WARMUP + actions):
            for title in ("direct", "proxied") if number % 2 else ("proxied", "direct"):
                elapsed = await round_trip(server, title, receivers[title], number)
                if number >= WARMUP:
                    times[title].append(elapsed)
        for game in games:
            await game.stop()
        proxy.stop()
        nursery.cancel_scope.cancel()
    return times


def _ms(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--actions", type=int, default=1000, help="actions per mode")
    args = parser.parse_args()
    times = trio.run(main, args.actions)
    print(f"{args.actions} actions per mode, interleaved, one process")
    print(f"{'mode':<10}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for title, values in times.items():
        mean = statistics.fmean(values) * 1000
        print(f"{title:<10}{_ms(values, 0.5):>10.3f}{_ms(values, 0.99):>10.3f}{mean:>10.3f}")
    added = _ms(times["proxied"], 0.5) - _ms(times["direct"], 0.5)
    verdict = "meets" if added <= TARGET_MS else "misses"
    print(f"added latency p50: {added:.3f} ms ({verdict} the target <= {TARGET_MS} ms)")


if __name__ == "__main__":
    run()
