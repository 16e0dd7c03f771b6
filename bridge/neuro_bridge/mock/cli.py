"""``neuro-bridge mock``: run the stand-in Neuro from the command line.

Serves on 127.0.0.1:8000 (``--host``/``--port``), prints a transcript of every
conversation on standard output, reads console commands from standard input (see
:mod:`neuro_bridge.mock.console`; ``--no-console`` to ignore stdin), and at the end
prints a summary of the findings.  It runs until Ctrl-C, ``quit`` on the console,
``--duration`` seconds, or -- with ``--once`` -- until the games that connected
have all disconnected.

Exit status: 0; 1 with ``--strict`` when any rule was broken; 2 for a bad option
(reported in one line before anything runs), when the address could not be bound,
or when the report could not be written.  Advice (a schema keyword Neuro does not
support well) is reported but never fails ``--strict``.  ``--report FILE`` writes
the findings and chaos outcomes as JSON (see
:func:`~neuro_bridge.mock.transcript.build_report`).

``--web`` also serves the web console (the ``web`` extra: ``pip install
'neuro-bridge[web]'``) on 127.0.0.1 and prints its URL, with a per-launch token:
a live page to watch the games and act as Neuro (:mod:`neuro_bridge.mock.web`).

``--record DIR`` saves every connection as a JSONL file in DIR
(:mod:`neuro_bridge.mock.recording`).  ``--replay FILE`` plays Neuro's side of a
recorded session against the first game that connects, instead of playing by
itself, and stops when that session is over (:mod:`neuro_bridge.mock.replay`): the
exit status is then 1 when the game answered differently, and 2 when FILE is not a
recording.

Also runnable as ``python -m neuro_bridge.mock.cli``.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from neuro_bridge.argtypes import (
    non_negative,
    non_negative_int,
    port,
    positive,
    probability,
    writable_file,
)
from neuro_bridge.conformance import RESULT_TIMEOUT
from neuro_bridge.mock.chaos import ChaosKind
from neuro_bridge.mock.config import ALL_CHAOS, DEFAULT_HOST, DEFAULT_PORT, MockConfig
from neuro_bridge.mock.console import Console
from neuro_bridge.mock.recording import Recorder
from neuro_bridge.mock.replay import (
    DEFAULT_REPLAY_TIMEOUT,
    RecordingError,
    load_recording,
    replay_session,
)
from neuro_bridge.mock.server import MockNeuro
from neuro_bridge.mock.transcript import Transcript, dumps_report

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from neuro_bridge.mock.replay import Recording, ReplayReport

__all__ = ["config_from_args", "configure_parser", "main", "run"]

logger = logging.getLogger(__name__)


def _chaos_kinds(text: str) -> frozenset[ChaosKind]:
    try:
        return frozenset(ChaosKind(part.strip()) for part in text.split(",") if part.strip())
    except ValueError:
        choices = ", ".join(k.value for k in ChaosKind)
        raise argparse.ArgumentTypeError(f"chaos kinds are: {choices}") from None


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``mock`` options to *parser*."""
    parser.epilog = (
        "Console (stdin): type 'help' for commands, e.g. '@1 action move {\"column\": 3}',"
        " 'reregister', 'chaos invalid_json', 'quit'. Chaos kinds: "
        + ", ".join(k.value for k in ChaosKind)
        + "."
    )
    net = parser.add_argument_group("network")
    net.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default %(default)s; 0.0.0.0 exposes it to the network)",
    )
    net.add_argument(
        "--port", type=port, default=DEFAULT_PORT, help="port (default %(default)s; 0: any free)"
    )
    play = parser.add_argument_group("playing")
    play.add_argument(
        "--character",
        choices=("neuro", "evil"),
        help="send a startup acknowledgement as this character (default: none, like"
        " the test servers)",
    )
    play.add_argument(
        "--force-delay",
        type=non_negative,
        default=0.5,
        metavar="SECONDS",
        help="wait before answering a force or retrying it (default %(default)s)",
    )
    play.add_argument(
        "--max-retries",
        type=non_negative_int,
        default=3,
        metavar="N",
        help="retries of a force after success=false before giving up (default %(default)s)",
    )
    play.add_argument(
        "--result-timeout",
        type=positive,
        default=RESULT_TIMEOUT,
        metavar="SECONDS",
        help="how long Neuro waits for an action/result (default %(default)s)",
    )
    play.add_argument(
        "--no-play",
        action="store_true",
        help="do not answer forces automatically (use the console's 'force')",
    )
    play.add_argument(
        "--unforced",
        type=non_negative,
        default=0.0,
        metavar="RATE",
        help="send unforced actions at random times, RATE per second on average"
        " (e.g. 0.2: one every 5 s), also during forces",
    )
    play.add_argument(
        "--extra-keys",
        type=probability,
        default=0.0,
        metavar="PROBABILITY",
        help="chance that generated data gets an unknown key where the schema allows"
        " one, as Neuro's test server does (default %(default)s)",
    )
    play.add_argument(
        "--reregister-on-connect",
        action="store_true",
        help="send actions/reregister_all as each game connects, as the test server Randy"
        " does (the real Neuro sends it only when she lost the actions)",
    )
    play.add_argument("--seed", type=int, help="seed all random choices (reproducible runs)")
    chaos = parser.add_argument_group("chaos")
    chaos.add_argument("--chaos", action="store_true", help="send every kind of hostile input")
    chaos.add_argument(
        "--chaos-kinds",
        type=_chaos_kinds,
        metavar="KIND[,KIND...]",
        help="send only these kinds of hostile input (implies --chaos)",
    )
    chaos.add_argument(
        "--chaos-interval",
        type=non_negative,
        default=2.0,
        metavar="SECONDS",
        help="time between chaos probes (default %(default)s)",
    )
    checks = parser.add_argument_group("checks and output")
    checks.add_argument(
        "--strict", action="store_true", help="exit with status 1 if any rule was broken"
    )
    checks.add_argument(
        "--report", type=writable_file, metavar="FILE", help="write the findings as JSON to FILE"
    )
    checks.add_argument("--quiet", action="store_true", help="no transcript, only the summary")
    checks.add_argument("--frames", action="store_true", help="show raw frames in the transcript")
    run_group = parser.add_argument_group("running")
    run_group.add_argument(
        "--once",
        action="store_true",
        help="stop when the games that connected have all disconnected",
    )
    run_group.add_argument(
        "--duration", type=positive, metavar="SECONDS", help="stop after this many seconds"
    )
    run_group.add_argument(
        "--no-console", action="store_true", help="do not read commands from stdin"
    )
    web = parser.add_argument_group("web console")
    web.add_argument(
        "--web",
        action="store_true",
        help="serve the web console too and print its URL (needs neuro-bridge[web])",
    )
    web.add_argument(
        "--web-host",
        default=DEFAULT_HOST,
        help="address the console listens on (default %(default)s)",
    )
    web.add_argument(
        "--web-port", type=port, default=0, help="the console's port (default: any free one)"
    )
    sessions = parser.add_argument_group("recording and replaying")
    sessions.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="save every connection as a JSONL file in DIR (created if needed)",
    )
    sessions.add_argument(
        "--replay",
        type=Path,
        metavar="SESSION.jsonl",
        help="play Neuro's side of a recorded session against the first game that"
        " connects, report where it answers differently (exit status 1), then stop",
    )
    sessions.add_argument(
        "--replay-timeout",
        type=positive,
        default=DEFAULT_REPLAY_TIMEOUT,
        metavar="SECONDS",
        help="how long a replay waits for each frame the game sent in the recording"
        " (default %(default)s)",
    )


def config_from_args(args: argparse.Namespace) -> MockConfig:
    """Build the :class:`MockConfig` the parsed options describe.

    Raises:
        ValueError: For out-of-range values.
    """
    chaos: frozenset[ChaosKind] = frozenset()
    if args.chaos_kinds:
        chaos = args.chaos_kinds
    elif args.chaos:
        chaos = ALL_CHAOS
    return MockConfig(
        host=args.host,
        port=args.port,
        force_delay=args.force_delay,
        max_retries=args.max_retries,
        result_timeout=args.result_timeout,
        auto_play=not args.no_play,
        unforced_rate=args.unforced,
        chaos=chaos,
        chaos_interval=args.chaos_interval,
        character=args.character,
        extra_key_probability=args.extra_keys,
        reregister_on_connect=args.reregister_on_connect,
        seed=args.seed,
    )


def run(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the stand-in until it is stopped; return the exit status."""
    out = sys.stdout if stdout is None else stdout
    try:
        config = config_from_args(args)
    except ValueError as exc:
        out.write(f"neuro-bridge mock: {exc}\n")
        return 2
    if args.web and (missing := web_extra_missing()) is not None:
        out.write(f"neuro-bridge mock: {missing}\n")
        return 2
    recording: Recording | None = None
    if args.replay is not None:
        try:
            recording = load_recording(args.replay)
        except RecordingError as exc:
            out.write(f"neuro-bridge mock: {exc}\n")
            return 2
    transcript = Transcript(out, show_frames=args.frames)
    mock = MockNeuro(config, transcript=None if args.quiet else transcript)
    if args.record is not None:
        Recorder(args.record).attach(mock)
    console_in = None if args.no_console else (sys.stdin if stdin is None else stdin)
    replayed: list[ReplayReport] = []
    error = trio.run(_main, mock, args, console_in, transcript, recording, replayed)
    if error is not None:
        out.write(f"neuro-bridge mock: cannot listen on {config.host}:{config.port}: {error}\n")
        return 2
    transcript.line(mock.summary())
    for report in replayed:
        transcript.line(report.format())
    if args.report is not None:
        try:
            args.report.write_text(dumps_report(mock.report()), encoding="utf-8")
        except OSError as exc:  # checked at start; the folder may have gone since
            out.write(f"neuro-bridge mock: cannot write the report: {exc}\n")
            return 2
    if any(not report.ok for report in replayed):
        return 1
    return 1 if args.strict and any(not f.advice for f in mock.findings) else 0


async def _main(
    mock: MockNeuro,
    args: argparse.Namespace,
    stdin: TextIO | None,
    transcript: Transcript,
    recording: Recording | None = None,
    replayed: list[ReplayReport] | None = None,
) -> OSError | None:
    if recording is not None:
        mock.scripted = True
    async with trio.open_nursery() as nursery:

        async def serve(*, task_status: trio.TaskStatus[None]) -> None:
            await mock.serve(task_status=task_status)
            nursery.cancel_scope.cancel()

        try:
            await nursery.start(serve)
        except OSError as exc:
            return exc
        if args.quiet:
            transcript.line(f"stand-in Neuro listening on {mock.url}")
        if args.web:
            try:
                url = await nursery.start(_web_console, mock, args.web_host, args.web_port)
            except OSError as exc:
                mock.stop()
                return OSError(f"the web console on {args.web_host}:{args.web_port}: {exc}")
            transcript.line(f"web console at {url}")
        if args.duration is not None:
            nursery.start_soon(_stop_after, mock, args.duration)
        if args.once:
            nursery.start_soon(_stop_when_games_left, mock)
        if recording is not None:
            nursery.start_soon(
                _replay, mock, recording, args.replay_timeout, [] if replayed is None else replayed
            )
        if stdin is not None:
            nursery.start_soon(_console, Console(mock, nursery), stdin, transcript)
        nursery.start_soon(_stop_on_interrupt, mock)
    return None


async def _web_console(
    mock: MockNeuro, host: str, port: int, *, task_status: trio.TaskStatus[str]
) -> None:
    from neuro_bridge.mock.web.app import serve_console  # the web extra, only when asked
    from neuro_bridge.mock.web.hub import ConsoleHub

    async with trio.open_nursery() as nursery:
        hub = ConsoleHub(nursery)
        hub.attach(mock)
        await serve_console(hub, host=host, port=port, task_status=task_status)


def web_extra_missing() -> str | None:
    """Return what to install for ``--web`` when the ``web`` extra is missing, else ``None``."""
    missing = [
        name for name in ("hypercorn", "starlette") if importlib.util.find_spec(name) is None
    ]
    if not missing:
        return None
    return f"--web needs {' and '.join(missing)}: pip install 'neuro-bridge[web]'"


async def _replay(
    mock: MockNeuro, recording: Recording, frame_timeout: float, reports: list[ReplayReport]
) -> None:
    session = await mock.wait_for_game()
    reports.append(await replay_session(session, recording, frame_timeout=frame_timeout))
    mock.stop()


async def _stop_after(mock: MockNeuro, seconds: float) -> None:
    await trio.sleep(seconds)
    mock.stop()


async def _stop_when_games_left(mock: MockNeuro) -> None:
    await mock.wait_all_disconnected()
    mock.stop()


async def _stop_on_interrupt(mock: MockNeuro) -> None:
    if not hasattr(signal, "SIGINT"):  # pragma: no cover
        return
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        async for _ in signals:
            mock.stop()


async def _console(console: Console, stdin: TextIO, transcript: Transcript) -> None:
    while True:
        line = await trio.to_thread.run_sync(stdin.readline, abandon_on_cancel=True)
        if not line:
            return
        reply = await console.execute(line)
        if reply:
            transcript.line(reply)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``neuro-bridge mock`` with *argv*; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="neuro-bridge mock",
        description="Run the stand-in Neuro server: plays games, attacks them, checks conformance.",
    )
    configure_parser(parser)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
