"""Load and faults: a 60 FPS pygame game against a hostile server on loopback.

Run with ``python bench/load.py`` (``--duration``, ``--only NAME ...``), or
``python bench/load.py --rates 3000 5000 8000`` for the rate sweep.  Not a test:
it prints a table.  ``tests/engines/test_load.py`` runs a short version of every
scenario and asserts behaviour (no crash, every action answered exactly once while
its connection is up), never timings.

The server runs in a process of its own (so its floods cannot hold the game's
GIL), on 127.0.0.1 port 0.  The game is a pygame-ce loop with SDL's dummy drivers
that draws a little every frame and waits with ``PygameNeuro.wait_frame(60)``; a
thread posts an input event every 20 ms, stamped, and the loop notes how late it
sees each one.  It uses only :class:`~neuro_bridge.engines.pygame.PygameNeuro`'s
public API: the game side is the real runtime, nothing in it is bypassed.

Two servers.  Most scenarios use trio-websocket, one ``send_message`` (and one
wake-up) per action, which falls behind its schedule at a few thousand actions/s
on a busy machine.  The lean server (``flood-lean`` and the rate sweep) is what
offers more: wsproto does the opening handshake and reads the game's masked
frames; the action frames
(server to client, so unmasked) are encoded before the connection opens, and
every millisecond or so all the actions that fell due are written to the socket
in one go.  Each action counts as sent when it was due, so a lagging sender shows
as later answers, never as quicker ones; ``sent/s`` (the rate achieved), ``lag
ms`` (how far behind its schedule the sender got at worst) and ``srv CPU`` (the
server process's share of a core) show whether it kept up.  ``--sender-only
--rates ...`` runs it against a client that only reads, the game left out: on
the 2-core machine of these notes it offered 20,000 actions/s at under 10 % of a
core, 10 ms behind its schedule at worst.

Scenarios (the server's part; the game's handlers are instant unless named):

=====================  ==========================================================
flood-valid            valid actions at a fixed rate
flood-invalid          actions with bad data, unknown names, missing keys
flood-mixed            both, alternating
flood-lean             valid actions at 5,000/s from the lean server
frames-1mib            actions just under 1 MiB, the default limit (a big string)
frames-15mib           15 MiB actions (over the 1 MiB limit: refused, 1009, each time)
oversized              one answered action, then a 17 MiB frame, every connection
accept-then-close      the upgrade accepted, the connection closed at once
refused-503 ...        the upgrade answered with HTTP 503 (empty body), 404, 200
                       with a body, a 101 with a wrong accept token or without
                       ``Upgrade``
silent                 accepted, then nothing: no reading, no pongs
frozen-thawed          valid actions; the server process is stopped (SIGSTOP)
                       past the keepalive's limit, then continued
slow-handlers          valid actions; the handler is async and takes 200 ms
blocking-handlers      valid actions; the handler blocks the frame for 50 ms
blocking-overload      20 actions/s; the handler blocks for 200 ms (4 times too slow):
                       those that wait past ``max_action_wait`` are answered busy
=====================  ==========================================================

Printed per scenario: frames on time (within 1.25 x 1/60 s), frame p99, input
delay p99, the game process's CPU (share of a core, all its threads, while its
handler ran), the rate
asked for and achieved, actions sent / answered once / never (connection up) /
twice / busy / later than 1 s, the answers' delay p99 and max, lost with a dropped
connection, reconnects, the game's RSS growth, crashes.

The rate sweep (``--rates``) floods from the lean server at each rate and names
the highest rate *sustained*: every action answered within 1 s (none never, none
twice) with frame p99 within 1.25 x 1/60 s -- and, stricter, the highest at which
moreover no action was answered busy (every one was run).  Figures depend on how
busy the machine is: note ``uptime``'s load average beside them.  What it measured,
and what happens past the sustained rate: ``docs/trio_ws.rst``, "How much load".

Targets (issue 9): 0 crashes; 0 never answered while the connection is up; 0
answered twice; frame p99 <= 1.25 x the frame interval under any flood with
default settings; RSS growth < 20 MB per scenario; the server survives.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from multiprocessing.connection import Connection

    import trio
    import trio_websocket

FPS = 60.0
FRAME = 1.0 / FPS
ON_TIME = 1.25 * FRAME
#: Seconds the lean sender sleeps at least between two writes (then it writes
#: every action that fell due meanwhile, in one go).
LEAN_TICK = 0.001
#: An answer later than this (seconds after the action was sent) is late.
LATE = 1.0
MIB = 2**20
ACTION = "load_poke"
SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer"}, "note": {"type": "string"}},
    "required": ["n"],
}
REFUSALS = {
    "refused-503": b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
    "refused-404": b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n",
    "refused-200": b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n",
    "refused-101-accept": (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: bm9wZQ==\r\n\r\n"
    ),
    "refused-101-upgrade": (
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ),
}


@attrs.frozen
class Scenario:
    """One scenario: what the server does and how the game's handler behaves."""

    name: str
    server: str  # flood | lean | oversized | accept-close | refuse | silent
    rate: float = 0.0  # actions per second
    kind: str = "valid"  # valid | invalid | mixed
    size: int = 0  # bytes of padding per action
    handler: str = "instant"  # instant | slow | blocking
    block: float = 0.05  # seconds a blocking handler blocks
    freeze: bool = False  # stop the server process mid-run
    drops: bool = False  # the connection is expected to drop (answers may be lost)


SCENARIOS = [
    Scenario("flood-valid", "flood", rate=400),
    Scenario("flood-invalid", "flood", rate=400, kind="invalid"),
    Scenario("flood-mixed", "flood", rate=400, kind="mixed"),
    Scenario("flood-lean", "lean", rate=5000),
    Scenario("frames-1mib", "flood", rate=4, size=MIB - 1024),
    Scenario("frames-15mib", "flood", rate=0.5, size=15 * MIB, drops=True),
    Scenario("oversized", "oversized", drops=True),
    Scenario("accept-then-close", "accept-close", drops=True),
    *(Scenario(name, "refuse", drops=True) for name in REFUSALS),
    Scenario("silent", "silent", drops=True),
    Scenario("frozen-thawed", "flood", rate=20, freeze=True, drops=True),
    Scenario("slow-handlers", "flood", rate=20, handler="slow"),
    Scenario("blocking-handlers", "flood", rate=10, handler="blocking"),
    Scenario("blocking-overload", "flood", rate=20, handler="blocking", block=0.2),
]
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


# ---------------------------------------------------------------- the server (own process)


@attrs.define
class _Link:
    """What the server saw on one connection."""

    sent: list[str] = attrs.Factory(list)
    answers: dict[str, int] = attrs.Factory(dict)
    #: When each action was sent (trio time), and how long its first answer took.
    sent_at: dict[str, float] = attrs.Factory(dict)
    delays: list[float] = attrs.Factory(list)
    busy: int = 0
    #: The close code the game sent, if it closed the connection.
    close_code: int | None = None
    dropped_by_game: bool = False
    #: Names registered on this connection more than once without a startup between.
    registered_twice: list[str] = attrs.Factory(list)
    #: The flood's first and last write (server time), and how far behind its
    #: schedule the sender got at worst (seconds).
    first_write: float | None = None
    last_write: float | None = None
    sender_lag: float = 0.0
    #: CPU seconds the server process used between those writes.
    sender_cpu: float = 0.0


def _ws_frame(payload: bytes) -> bytes:
    """Return *payload* as one whole text frame from a server: FIN set, not masked."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 2**16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def _action_frame(action_id: str, number: int, kind: str, size: int) -> str:
    if kind == "mixed":
        kind = "valid" if number % 2 else "invalid"
    if kind == "valid":
        data: dict[str, Any] = {"n": number}
        if size:
            data["note"] = "x" * size
        payload: dict[str, Any] = {"id": action_id, "name": ACTION, "data": json.dumps(data)}
    else:  # a rotation of broken actions, each with an id to answer
        broken: list[dict[str, Any]] = [
            {"id": action_id, "name": ACTION, "data": "{not json"},
            {"id": action_id, "name": ACTION, "data": json.dumps({"n": "seven"})},
            {"id": action_id, "name": "load_no_such_action"},
            {"id": action_id, "data": "{}"},
            {"id": action_id, "name": 42},
        ]
        payload = broken[number % len(broken)]
    return json.dumps({"command": "action", "data": payload})


async def _serve(scenario: Scenario, duration: float, pipe: Connection) -> None:
    import trio
    import trio_websocket
    import wsproto
    import wsproto.connection
    import wsproto.events

    from neuro_bridge.trio_ws import BUSY_MESSAGE as BUSY

    links: list[_Link] = []
    attempts = 0
    stop_at = trio.current_time() + duration
    answered = [trio.Event()]  # set (and replaced) whenever a result arrives

    def waiting() -> bool:
        return any(len(k.answers) < len(k.sent) and not k.dropped_by_game for k in links)

    async def wait_answers(limit: float) -> None:
        with trio.move_on_after(limit):
            while waiting():
                await answered[0].wait()

    def note(link: _Link, text: str | bytes, registered: set[str], now: float) -> None:
        """Take in one message from the game."""
        message = json.loads(text)
        command = message.get("command")
        if command == "action/result":
            action_id = message["data"]["id"]
            count = link.answers.get(action_id, 0) + 1
            link.answers[action_id] = count
            if count == 1 and action_id in link.sent_at:
                link.delays.append(now - link.sent_at[action_id])
            if message["data"].get("message") == BUSY:
                link.busy += 1
            answered[0].set()
            answered[0] = trio.Event()
        elif command == "startup":
            registered.clear()
        elif command == "actions/register":
            for action in message["data"]["actions"]:
                if action["name"] in registered:
                    link.registered_twice.append(action["name"])
                registered.add(action["name"])
        elif command == "actions/unregister":
            registered.difference_update(message["data"]["action_names"])

    async def reader(websocket: trio_websocket.WebSocketConnection, link: _Link) -> None:
        registered: set[str] = set()
        with contextlib.suppress(trio_websocket.ConnectionClosed):
            while True:
                note(link, await websocket.get_message(), registered, trio.current_time())
        if websocket.closed is not None:
            link.close_code = websocket.closed.code
        link.dropped_by_game = True
        answered[0].set()

    async def flood(websocket: trio_websocket.WebSocketConnection, link: _Link) -> None:
        number = 0
        started = trio.current_time()
        while trio.current_time() < stop_at:
            due = started + number / scenario.rate
            await trio.sleep_until(due)
            action_id = f"{len(links)}-{number}"
            frame = _action_frame(action_id, number, scenario.kind, scenario.size)
            link.sent_at[action_id] = trio.current_time()
            link.sent.append(action_id)
            await websocket.send_message(frame)
            number += 1
        await wait_answers(10)  # time to answer what is in flight, then hang up

    async def handle(request: trio_websocket.WebSocketRequest) -> None:
        nonlocal attempts
        attempts += 1
        try:
            websocket = await request.accept()
        except (trio_websocket.ConnectionClosed, OSError):
            return
        link = _Link()
        links.append(link)
        if scenario.server == "accept-close":
            await websocket.aclose()
            return
        async with trio.open_nursery() as nursery:
            if scenario.server == "silent":
                await trio.sleep_forever()  # no reader: no pongs, nothing read
            nursery.start_soon(reader, websocket, link)
            with contextlib.suppress(trio_websocket.ConnectionClosed):
                await trio.sleep(0.3)  # registration first
                if scenario.server == "oversized":
                    link.sent.append(f"{len(links)}-0")
                    await websocket.send_message(_action_frame(link.sent[0], 0, "valid", 0))
                    await trio.sleep(0.2)
                    await websocket.send_message("x" * (17 * MIB))
                    await trio.sleep_forever()
                await flood(websocket, link)
                await trio.sleep_forever()  # open until the server ends: no reconnect
            # Only the game closes a connection here (the server just stops).
            link.dropped_by_game = True
            answered[0].set()
            nursery.cancel_scope.cancel()

    async def refuse(stream: trio.SocketStream) -> None:
        nonlocal attempts
        attempts += 1
        async with stream:
            request = b""
            with trio.move_on_after(5):
                while b"\r\n\r\n" not in request:
                    data = await stream.receive_some(4096)
                    if not data:
                        return
                    request += data
            key = next(
                line.split(b":", 1)[1].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            accept = base64.b64encode(
                hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()  # noqa: S324
            )
            with contextlib.suppress(trio.BrokenResourceError):
                await stream.send_all(REFUSALS[scenario.name].replace(b"{accept}", accept))

    # The lean server: wsproto for the handshake and for reading the game's
    # (masked) frames; the actions are encoded before the connection opens and
    # written straight to the socket, every action due in one write.
    lean_frames: list[tuple[str, bytes]] = []
    flood_done = trio.Event()

    async def lean_flood(link: _Link, write: Callable[[bytes], Awaitable[None]]) -> None:
        rate = scenario.rate
        total = len(lean_frames)
        sent = 0
        cpu = time.process_time()
        start = link.first_write = trio.current_time()
        while sent < total:
            now = trio.current_time()
            due = min(total, int((now - start) * rate) + 1)
            if due > sent:
                # Each action counts as sent when it was due, so an answer's
                # delay includes any lag of the sender's.
                link.sender_lag = max(link.sender_lag, now - (start + sent / rate))
                batch = lean_frames[sent:due]
                for number, (action_id, _) in enumerate(batch, sent):
                    link.sent.append(action_id)
                    link.sent_at[action_id] = start + number / rate
                await write(b"".join([frame for _, frame in batch]))
                sent = due
                link.last_write = trio.current_time()
            await trio.sleep_until(max(start + sent / rate, trio.current_time() + LEAN_TICK))
        link.sender_cpu = time.process_time() - cpu

    async def lean(stream: trio.SocketStream) -> None:
        nonlocal attempts
        attempts += 1
        link = _Link()
        links.append(link)
        floods = len(links) == 1  # a reconnection is served, not flooded again
        connection = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        write_lock = trio.StrictFIFOLock()  # the flood and the pongs share the stream

        async def write(data: bytes) -> None:
            async with write_lock:
                await stream.send_all(data)

        async def read_answers(scope: trio.CancelScope) -> None:
            registered: set[str] = set()
            parts: list[str] = []
            try:
                while data := await stream.receive_some(1 << 18):
                    connection.receive_data(data)
                    now = trio.current_time()
                    for event in connection.events():
                        if isinstance(event, wsproto.events.TextMessage):
                            parts.append(event.data)
                            if event.message_finished:
                                note(link, "".join(parts), registered, now)
                                parts.clear()
                        elif isinstance(event, wsproto.events.Ping):
                            await write(connection.send(event.response()))
                        elif isinstance(event, wsproto.events.CloseConnection):
                            link.close_code = event.code
                            await write(connection.send(event.response()))
                            return
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            finally:
                link.dropped_by_game = True
                answered[0].set()
                scope.cancel()

        async with stream:
            with trio.move_on_after(5):
                while not any(
                    isinstance(event, wsproto.events.Request) for event in connection.events()
                ):
                    data = await stream.receive_some(4096)
                    if not data:
                        return
                    connection.receive_data(data)
            if connection.state is not wsproto.connection.ConnectionState.CONNECTING:
                return
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await write(connection.send(wsproto.events.AcceptConnection()))
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(read_answers, nursery.cancel_scope)
                    await trio.sleep(0.3)  # registration first
                    if floods:
                        await lean_flood(link, write)
                        flood_done.set()
                    await trio.sleep_forever()
            flood_done.set()

    if scenario.server == "lean":
        for number in range(max(1, int(scenario.rate * duration))):
            action_id = f"1-{number}"
            frame = _action_frame(action_id, number, scenario.kind, scenario.size)
            lean_frames.append((action_id, _ws_frame(frame.encode())))

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    pipe.send(listeners[0].socket.getsockname()[1])
    async with trio.open_nursery() as nursery:
        if scenario.server == "refuse":
            nursery.start_soon(trio.serve_listeners, refuse, listeners)
        elif scenario.server == "lean":
            nursery.start_soon(trio.serve_listeners, lean, listeners)
        else:
            server = trio_websocket.WebSocketServer(
                handle, listeners, max_message_size=64 * MIB, disconnect_timeout=1.0
            )
            nursery.start_soon(server.run)
        if scenario.server == "lean":
            # Its flood lasts `duration` from its first action, however late that is.
            with trio.move_on_after(duration + 30):
                await flood_done.wait()
            await wait_answers(10.5)
        else:
            await trio.sleep_until(stop_at + 0.5)
            if scenario.server == "flood":
                await wait_answers(10.5)  # floods stop sending at stop_at
        nursery.cancel_scope.cancel()
    pipe.send(
        {
            "attempts": attempts,
            "links": [attrs.asdict(link) for link in links],
        }
    )


def _server_main(scenario: Scenario, duration: float, pipe: Connection) -> None:
    import trio

    trio.run(_serve, scenario, duration, pipe)


# ---------------------------------------------------------------- the game (this process)


def _rss() -> int:
    with open("/proc/self/statm") as statm:  # Linux only
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


@attrs.define
class Outcome:
    """What one scenario measured."""

    name: str
    rate: float = 0.0
    #: The rate the server's flood achieved (actions/s), its worst lag behind its
    #: schedule, and the share of a core the server used meanwhile (lean floods).
    achieved: float = 0.0
    sender_lag_ms: float = 0.0
    sender_cpu: float = 0.0
    frames: int = 0
    #: The game process's CPU time over the wall time (all its threads), from the
    #: first action its handler ran to the last (the whole run if none ran).
    game_cpu: float = 0.0
    frames_on_time: float = 0.0
    frame_p99_ms: float = 0.0
    input_p99_ms: float = 0.0
    sent: int = 0
    once: int = 0
    never: int = 0
    twice: int = 0
    lost_on_drop: int = 0
    unexpected: int = 0
    registered_twice: int = 0
    busy: int = 0
    #: Answers (first ones) that took longer than a second, and the delays' p99 / max.
    late: int = 0
    answer_p99_ms: float = 0.0
    answer_max_ms: float = 0.0
    close_codes: str = ""
    connections: int = 0
    attempts: int = 0
    rss_growth_mb: float = 0.0
    crashes: int = 0
    crash: str = ""
    server_alive: bool = True


def run_scenario(
    scenario: Scenario, duration: float, *, component_options: dict[str, Any] | None = None
) -> Outcome:
    """Run one scenario: the server in its own process, the game here."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame
    import trio

    from neuro_bridge.engines.pygame import PygameNeuro

    # A frozen server is stopped for longer than the keepalive's limit (4 + 4 s by
    # default), then floods on for the rest of its time.
    freeze_for = (10.0 if duration >= 10 else max(1.5, duration / 2)) if scenario.freeze else 0.0
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(
        target=_server_main, args=(scenario, duration + freeze_for, child), daemon=True
    )
    server.start()
    outcome = Outcome(scenario.name, scenario.rate)
    try:
        port = parent.recv() if parent.poll(30) else None
        if port is None:
            raise RuntimeError("the load server did not start")
        pygame.init()
        screen = pygame.display.set_mode((320, 240))
        options = dict(component_options or {})
        neuro = PygameNeuro("Load Game", url=f"ws://127.0.0.1:{port}", **options)

        # When the handler first and last ran: the game's CPU counts between them.
        handled: list[float] = []

        def poke(data: dict[str, Any]) -> None:
            if handled:
                handled[1:] = [time.perf_counter()]
            else:
                handled.append(time.perf_counter())
            if scenario.handler == "blocking":
                time.sleep(scenario.block)

        async def slow_poke(data: dict[str, Any]) -> None:
            await trio.sleep(0.2)

        neuro.add_action(_action(), slow_poke if scenario.handler == "slow" else poke)
        input_event = pygame.event.custom_type()
        delays: list[float] = []
        frame_times: list[float] = []
        posting = threading.Event()

        def post_inputs() -> None:
            while not posting.wait(0.02):
                with contextlib.suppress(pygame.error):
                    pygame.event.post(pygame.event.Event(input_event, at=time.perf_counter()))

        neuro.start()
        poster = threading.Thread(target=post_inputs, daemon=True)
        poster.start()
        rss_start = _rss()
        rss_peak = rss_start
        cpu_times: list[tuple[float, float]] = []  # (wall, CPU) after each frame
        started = time.perf_counter()
        # The server process is stopped for longer than the keepalive's limit.
        freeze_at = started + duration / 3 if scenario.freeze else None
        thaw_at: float | None = None
        last = time.perf_counter()
        try:
            while server.is_alive() and time.perf_counter() - started < duration + freeze_for + 25:
                for event in pygame.event.get():
                    if neuro.handle_event(event):
                        continue
                    if event.type == input_event:
                        delays.append(time.perf_counter() - event.at)
                screen.fill((20, 20, 30))
                for number in range(40):
                    pygame.draw.rect(screen, (200, 80, 80), (number * 7, number * 5, 20, 20))
                pygame.display.flip()
                neuro.wait_frame(FPS)
                now = time.perf_counter()
                frame_times.append(now - last)
                cpu_times.append((now, time.process_time()))
                last = now
                if len(frame_times) % 30 == 0:
                    rss_peak = max(rss_peak, _rss())
                if freeze_at is not None and now >= freeze_at:
                    os.kill(server.pid, signal.SIGSTOP)  # type: ignore[arg-type]
                    freeze_at = None
                    thaw_at = now + freeze_for
                if thaw_at is not None and now >= thaw_at:
                    os.kill(server.pid, signal.SIGCONT)  # type: ignore[arg-type]
                    thaw_at = None
        except Exception as exc:  # a crash is what this bench looks for
            outcome.crashes = 1
            outcome.crash = f"{type(exc).__name__}: {exc}"
        finally:
            if thaw_at is not None:
                os.kill(server.pid, signal.SIGCONT)  # type: ignore[arg-type]
            posting.set()
            poster.join()
            with contextlib.suppress(Exception):
                neuro.shutdown()
            pygame.quit()
        outcome.game_cpu = _cpu_share(cpu_times, handled)
        outcome.frames = len(frame_times)
        measured = frame_times[1:]
        if measured:
            outcome.frames_on_time = sum(t <= ON_TIME for t in measured) / len(measured)
        outcome.frame_p99_ms = _p99(measured) * 1000
        outcome.input_p99_ms = _p99(delays) * 1000
        outcome.rss_growth_mb = (rss_peak - rss_start) / MIB
        report = parent.recv() if parent.poll(30) else None
    finally:
        server.join(5)
        outcome.server_alive = server.exitcode == 0
        if server.is_alive():
            server.kill()
            outcome.server_alive = False
    if report is not None:
        _count(outcome, report, scenario)
    else:
        outcome.server_alive = False
    return outcome


def _cpu_share(samples: list[tuple[float, float]], window: list[float]) -> float:
    """Return the CPU used over the wall time passed between the frames in *window*."""
    if len(window) == 2:
        samples = [sample for sample in samples if window[0] <= sample[0] <= window[1]]
    if len(samples) < 2:
        return 0.0
    (wall_start, cpu_start), (wall_end, cpu_end) = samples[0], samples[-1]
    return (cpu_end - cpu_start) / (wall_end - wall_start) if wall_end > wall_start else 0.0


def sender_only(rate: float, duration: float) -> Outcome:
    """Run the lean server against a client that only reads (and answers nothing).

    What the sender can offer by itself, the game left out: ``sent/s``, ``lag ms``
    and ``srv CPU`` of the outcome say.
    """
    import socket

    scenario = attrs.evolve(BY_NAME["flood-lean"], rate=rate)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_server_main, args=(scenario, duration, child), daemon=True)
    server.start()
    outcome = Outcome("sender only", rate)
    try:
        port = parent.recv() if parent.poll(30) else None
        if port is None:
            raise RuntimeError("the load server did not start")
        key = base64.b64encode(os.urandom(16))
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            client.settimeout(1.0)  # the flood is over once a second passes in silence
            with contextlib.suppress(TimeoutError):
                while client.recv(1 << 20):
                    pass
        report = parent.recv() if parent.poll(30) else None
    finally:
        server.join(15)
        if server.is_alive():
            server.kill()
    if report is not None:
        _count(outcome, report, attrs.evolve(scenario, drops=True))
    return outcome


def _action() -> Any:
    from neuro_bridge.protocol import Action

    return Action(ACTION, "Poke the load game.", SCHEMA)


def _count(outcome: Outcome, report: dict[str, Any], scenario: Scenario) -> None:
    outcome.attempts = report["attempts"]
    outcome.connections = len(report["links"])
    delays: list[float] = []
    codes: set[int] = set()
    for link in report["links"]:
        sent = set(link["sent"])
        outcome.sent += len(sent)
        outcome.unexpected += sum(1 for key in link["answers"] if key not in sent)
        outcome.registered_twice += len(link["registered_twice"])
        outcome.busy += link["busy"]
        delays += link["delays"]
        if link["first_write"] is not None and link["last_write"] is not None:
            # n actions due over (n - 1) / rate seconds, the last written at last_write.
            span = link["last_write"] - link["first_write"]
            count = len(link["sent"])
            if count > 1 and span > 0:
                outcome.achieved = (count - 1) / span
                outcome.sender_cpu = link["sender_cpu"] / span
            outcome.sender_lag_ms = link["sender_lag"] * 1000
        if link["close_code"] is not None:
            codes.add(link["close_code"])
        for action_id in sent:
            count = link["answers"].get(action_id, 0)
            if count == 1:
                outcome.once += 1
            elif count > 1:
                outcome.twice += 1
            elif link["dropped_by_game"] and scenario.drops:
                outcome.lost_on_drop += 1
            else:
                outcome.never += 1
    outcome.late = sum(1 for delay in delays if delay > LATE) + outcome.never
    outcome.answer_p99_ms = _p99(delays) * 1000
    outcome.answer_max_ms = max(delays, default=0.0) * 1000
    outcome.close_codes = ",".join(str(code) for code in sorted(codes))


COLUMNS = [
    ("scenario", "name", "{}"),
    ("on time", "frames_on_time", "{:.1%}"),
    ("frame p99 ms", "frame_p99_ms", "{:.1f}"),
    ("input p99 ms", "input_p99_ms", "{:.1f}"),
    ("game CPU", "game_cpu", "{:.0%}"),
    ("rate/s", "rate", "{:g}"),
    ("sent/s", "achieved", "{:.0f}"),
    ("lag ms", "sender_lag_ms", "{:.1f}"),
    ("srv CPU", "sender_cpu", "{:.0%}"),
    ("sent", "sent", "{}"),
    ("once", "once", "{}"),
    ("never", "never", "{}"),
    ("twice", "twice", "{}"),
    ("busy", "busy", "{}"),
    ("late >1s", "late", "{}"),
    ("answer p99 ms", "answer_p99_ms", "{:.0f}"),
    ("answer max ms", "answer_max_ms", "{:.0f}"),
    ("reg twice", "registered_twice", "{}"),
    ("closed", "close_codes", "{}"),
    ("lost w/ drop", "lost_on_drop", "{}"),
    ("conns", "connections", "{}"),
    ("attempts", "attempts", "{}"),
    ("RSS +MB", "rss_growth_mb", "{:.1f}"),
    ("crashes", "crashes", "{}"),
]


#: The columns that say what the sender alone achieved.
SENDER_COLUMNS = [
    column for column in COLUMNS if column[0] in ("rate/s", "sent/s", "lag ms", "srv CPU", "sent")
]


def format_table(outcomes: list[Outcome], columns: list[tuple[str, str, str]] = COLUMNS) -> str:
    """Return the outcomes as a plain-text table."""
    rows = [[title for title, _, _ in columns]]
    rows += [[fmt.format(getattr(o, field)) for _, field, fmt in columns] for o in outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.ERROR)  # the scenarios make the runtime warn a lot
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--only", nargs="+", choices=sorted(BY_NAME), help="these scenarios")
    parser.add_argument(
        "--rates",
        nargs="+",
        type=float,
        help="instead: flood-valid at each of these rates (actions/s), and the highest"
        " rate at which every action was answered within 1 s with frames on time",
    )
    parser.add_argument(
        "--max-pending-actions",
        type=int,
        help="the game's max_pending_actions (default: the runtime's, 64)",
    )
    parser.add_argument(
        "--sender-only",
        action="store_true",
        help="with --rates: the lean server against a client that only reads (no game)",
    )
    args = parser.parse_args(argv)
    if args.duration <= 0:
        parser.error("--duration must be positive")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    outcomes = []
    if args.sender_only:
        if not args.rates:
            parser.error("--sender-only needs --rates")
        for rate in args.rates:
            outcomes.append(sender_only(rate, args.duration))
            print(format_table(outcomes[-1:], SENDER_COLUMNS).splitlines()[-1], flush=True)
        print()
        print(f"{args.duration:g} s per rate; the lean server against a client that only reads")
        print(format_table(outcomes, SENDER_COLUMNS))
        _print_load()
        return 0
    if args.rates:
        scenarios = [attrs.evolve(BY_NAME["flood-lean"], rate=rate) for rate in args.rates]
    elif args.only:
        scenarios = [BY_NAME[name] for name in args.only]
    else:
        scenarios = SCENARIOS
    options = {}
    if args.max_pending_actions is not None:
        options["max_pending_actions"] = args.max_pending_actions
    for scenario in scenarios:
        outcome = run_scenario(scenario, args.duration, component_options=options)
        outcomes.append(outcome)
        print(format_table([outcome]).splitlines()[-1], flush=True)
    print()
    print(
        f"{args.duration:g} s per scenario, {FPS:g} FPS; on time = within {ON_TIME * 1000:.1f} ms"
        + "".join(f"; {key}={value}" for key, value in options.items())
    )
    print(format_table(outcomes))
    failed = [o.name for o in outcomes if o.crashes or o.never or o.twice or not o.server_alive]
    if failed:
        print("targets missed by:", ", ".join(failed))
    if args.rates:
        sustained = [o.rate for o in outcomes if sustains(o)]
        all_run = [o.rate for o in outcomes if sustains(o) and not o.busy]
        print(
            "highest rate with every action answered within"
            f" {LATE:g} s and frame p99 <= {ON_TIME * 1000:.1f} ms:",
            f"{max(sustained):g}/s" if sustained else "none",
        )
        print("  ... and none answered busy:", f"{max(all_run):g}/s" if all_run else "none")
    _print_load()
    return 0


def _print_load() -> None:
    with open("/proc/loadavg") as loadavg:
        print("load average (1, 5, 15 min):", " ".join(loadavg.read().split()[:3]))


def sustains(outcome: Outcome) -> bool:
    """Whether every action was answered within :data:`LATE` with frames on time."""
    return (
        outcome.sent > 0
        and outcome.late == 0
        and outcome.twice == 0
        and not outcome.crashes
        and outcome.frame_p99_ms <= ON_TIME * 1000
    )


if __name__ == "__main__":
    sys.exit(main())
