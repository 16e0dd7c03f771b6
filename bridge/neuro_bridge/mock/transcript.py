"""The human-readable transcript and the end-of-run summary and report.

:class:`Transcript` turns what happens on each connection into one line of text
and hands it to a writer (any ``TextIO``, e.g. ``sys.stdout``); the library never
writes anywhere unless given one.  :func:`format_summary` and :func:`build_report`
summarise findings and chaos outcomes for the end of a run (``--report`` writes the
latter as JSON).
"""

from __future__ import annotations

import collections
import json
from typing import TYPE_CHECKING, Any, TextIO

from neuro_bridge.protocol import (
    GAME_COMMANDS,
    ActionRequested,
    GameCommandKind,
    GracefulShutdownRequested,
    NeuroCommandKind,
    ReregisterAllRequested,
    SpeechFinished,
    StartupAcknowledged,
    UnknownCommand,
    parse_neuro_message,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from neuro_bridge.conformance import Finding, GameMessage
    from neuro_bridge.mock.chaos import ChaosOutcome

__all__ = [
    "Transcript",
    "build_report",
    "command_and_data",
    "describe_game_message",
    "describe_neuro_frame",
    "dumps_report",
    "format_summary",
]

_WIDTH = 100
# Game commands without data (startup, shutdown/ready), by value.
_NO_DATA = {kind.value: kind for kind, spec in GAME_COMMANDS.items() if not spec.has_data}


def _short(text: str, width: int = _WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def describe_game_message(message: GameMessage) -> str:
    """Return one line describing a frame from the game."""
    data = message.data if isinstance(message.data, dict) else {}
    command = message.command
    prefix = "(binary) " if message.binary else ""
    if command == GameCommandKind.CONTEXT and isinstance(data.get("message"), str):
        silent = "silent" if data.get("silent") else "may answer"
        return f"{prefix}context ({silent}): {_short(data['message'])}"
    if command == GameCommandKind.REGISTER and isinstance(data.get("actions"), list):
        names: list[str] = [
            str(a.get("name")) + ("(...)" if "schema" in a else "")
            for a in data["actions"]
            if isinstance(a, dict)
        ]
        return f"{prefix}register: {', '.join(names)}"
    if command == GameCommandKind.UNREGISTER and isinstance(data.get("action_names"), list):
        return f"{prefix}unregister: {', '.join(map(str, data['action_names']))}"
    if command == GameCommandKind.FORCE and isinstance(data.get("action_names"), list):
        extra = ""
        if data.get("priority"):
            extra += f" priority={data['priority']}"
        if data.get("state"):
            extra += f" state={_short(str(data['state']), 40)!r}"
        listed = ", ".join(map(str, data["action_names"]))
        return f"{prefix}force [{listed}]: {_short(str(data.get('query')), 60)!r}{extra}"
    if command == GameCommandKind.RESULT and "id" in data:
        verdict = "success" if data.get("success") is True else "FAILURE"
        text = f" -- {_short(str(data['message']), 70)}" if data.get("message") else ""
        return f"{prefix}result #{data['id']}: {verdict}{text}"
    if command is not None and message.data is None and _NO_DATA.get(command) is not None:
        return prefix + command
    return f"{prefix}{_short(message.frame)}"


def command_and_data(frame: str) -> tuple[str | None, dict[str, Any]]:
    """Return a game frame's command and ``data`` object, leniently (``None``, ``{}``)."""
    try:
        value = json.loads(frame)
    except ValueError:
        return None, {}
    if not isinstance(value, dict):
        return None, {}
    command = value.get("command")
    data = value.get("data")
    return (command if isinstance(command, str) else None), (data if isinstance(data, dict) else {})


def describe_neuro_frame(frame: str) -> str:
    """Return one line describing a frame Neuro sent."""
    event = parse_neuro_message(frame)
    if isinstance(event, ActionRequested):
        data = "" if event.data is None else " " + _short(event.data, 70)
        return f"action #{event.id} {event.name}{data}"
    if isinstance(event, ReregisterAllRequested):
        return NeuroCommandKind.REREGISTER_ALL.value
    if isinstance(event, StartupAcknowledged):
        return f"startup acknowledgement ({event.character_id})"
    if isinstance(event, GracefulShutdownRequested):
        return f"shutdown/graceful wants_shutdown={str(event.wants_shutdown).lower()}"
    if isinstance(event, SpeechFinished):
        return f"speech_finished isFinal={str(event.is_final).lower()}"
    if isinstance(event, UnknownCommand):
        return f"{event.command} (unknown command) {_short(frame, 60)}"
    return _short(frame)


class Transcript:
    """Writes one line per event of the conversation to *stream*.

    Args:
        stream: Where lines go (flushed after each line).
        show_frames: Also show each raw frame below its description.
    """

    def __init__(self, stream: TextIO, *, show_frames: bool = False) -> None:
        self.stream = stream
        self.show_frames = show_frames

    def line(self, text: str) -> None:
        """Write one line."""
        self.stream.write(text + "\n")
        self.stream.flush()

    def listening(self, url: str) -> None:
        """Note that the server listens at *url*."""
        self.line(f"stand-in Neuro listening on {url}")

    def connected(self, connection: int, peer: str) -> None:
        """Note that a game connected."""
        self.line(f"#{connection} game connected from {peer}")

    def disconnected(self, connection: int, reason: str) -> None:
        """Note that a game's connection ended."""
        self.line(f"#{connection} disconnected ({reason})")

    def game_message(self, connection: int, message: GameMessage) -> None:
        """Show a message the game sent."""
        self.line(f"#{connection} game  -> {describe_game_message(message)}")
        if self.show_frames:
            self.line(f"#{connection}          {message.frame}")

    def neuro_frame(self, connection: int, frame: str) -> None:
        """Show a frame Neuro sent."""
        self.line(f"#{connection} neuro -> {describe_neuro_frame(frame)}")
        if self.show_frames:
            self.line(f"#{connection}          {frame}")

    def note(self, connection: int, text: str) -> None:
        """Note something Neuro decided (a retry, giving up on a force ...)."""
        self.line(f"#{connection} ({text})")

    def finding(self, finding: Finding) -> None:
        """Show a broken rule with its hint."""
        self.line(
            f"#{finding.connection} !! {finding.rule}: {finding.message}\n"
            f"#{finding.connection}    hint: {finding.hint}"
        )

    def chaos(self, outcome: ChaosOutcome) -> None:
        """Show how the game answered a chaos probe."""
        mark = "chaos" if outcome.ok else "!! chaos"
        self.line(f"#{outcome.connection} {mark} {outcome.kind.value}: {outcome.detail}")


def format_summary(findings: Sequence[Finding], outcomes: Iterable[ChaosOutcome] = ()) -> str:
    """Return a multi-line summary: findings per rule, chaos results per kind."""
    lines = []
    violations = [f for f in findings if not f.advice]
    advice = [f for f in findings if f.advice]
    for group, title in ((violations, "protocol violation(s)"), (advice, "piece(s) of advice")):
        if not group:
            continue
        counts = collections.Counter(f.rule for f in group)
        lines.append(f"{len(group)} {title}:")
        for rule, count in sorted(counts.items()):
            example = next(f for f in group if f.rule == rule)
            lines.append(f"  {rule} x{count}: {example.message}")
            lines.append(f"      hint: {example.hint}")
    if not violations:
        lines.insert(0, "no protocol violations")
    per_kind: dict[str, list[int]] = {}
    for outcome in outcomes:
        ok_bad = per_kind.setdefault(outcome.kind.value, [0, 0])
        ok_bad[0 if outcome.ok else 1] += 1
    if per_kind:
        lines.append("chaos probes:")
        for kind, (ok, bad) in sorted(per_kind.items()):
            verdict = "ok" if not bad else f"{bad} MISHANDLED"
            lines.append(f"  {kind}: {ok + bad} sent, {verdict}")
    return "\n".join(lines)


def build_report(
    findings: Sequence[Finding], outcomes: Sequence[ChaosOutcome] = ()
) -> dict[str, Any]:
    """Return the JSON-ready report written by ``--report``.

    Keys: ``findings`` (list of :meth:`~neuro_bridge.mock.Finding.to_json_object` dicts),
    ``counts`` (rule -> count), ``chaos`` (list of outcome dicts) and ``ok``
    (true when every finding is advice, see :attr:`~neuro_bridge.mock.Finding.advice`).
    """
    counts = collections.Counter(f.rule for f in findings)
    return {
        "ok": all(f.advice for f in findings),
        "counts": dict(sorted(counts.items())),
        "findings": [f.to_json_object() for f in findings],
        "chaos": [o.to_json_object() for o in outcomes],
    }


def dumps_report(report: dict[str, Any]) -> str:
    """Return *report* as indented JSON text."""
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
