"""Replaying a recorded session: Neuro's side again, and where the game now differs.

A recording (:mod:`.recording`) holds both sides of one connection.  A replay
sends Neuro's frames again, unchanged (the same actions with the same ids and
data, the same chaos probes, ``actions/reregister_all``...), each **at the same
point of the conversation**, not at the same clock time: a frame is sent once the
game has sent as many registrations, unregistrations, forces, ``startup`` and
``shutdown/ready`` frames as it had before that frame in the recording, and the
results of every action that had been answered by then.

Meanwhile the game's frames are compared with the recorded ones:

* the *structure* -- ``startup``, ``actions/register`` (names and schemas),
  ``actions/unregister`` (names), ``actions/force`` (action names and query),
  ``shutdown/ready`` -- frame by frame, in order;
* each ``action/result`` by action id: its ``success``;
* ``context`` frames, in order: their ``silent`` flag (not the text);
* the end: a game that closed the connection in the recording must close it again.

A frame the game no longer sends within ``frame_timeout`` seconds stops the replay (the
conversation cannot go on as recorded): the report lists what was missing.  The
report's :attr:`ReplayReport.ok` is true when nothing differed.

:func:`load_recording` and :class:`ReplayComparer` are sans-IO;
:func:`replay_session` drives a :class:`~neuro_bridge.mock.session.MockSession`.
Use it through ``neuro-bridge mock --replay FILE`` or
:meth:`MockNeuro.replay <neuro_bridge.mock.MockNeuro.replay>` (the ``mock_neuro``
fixture).
"""

from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs
import trio

from neuro_bridge.mock.session import GameDisconnectedError
from neuro_bridge.mock.transcript import command_and_data, describe_neuro_frame
from neuro_bridge.protocol import ActionRequested, GameCommandKind, parse_neuro_message
from neuro_bridge.session_events import RECORDING_FORMAT as FORMAT

if TYPE_CHECKING:
    from os import PathLike

    from neuro_bridge.mock.session import MockSession
    from neuro_bridge.session_events import SessionEvent

__all__ = [
    "DEFAULT_REPLAY_TIMEOUT",
    "Difference",
    "RecordedStep",
    "Recording",
    "RecordingError",
    "ReplayComparer",
    "ReplayDifferenceError",
    "ReplayReport",
    "load_recording",
    "replay_session",
]

#: Seconds a replay waits for each frame the game sent in the recording.
DEFAULT_REPLAY_TIMEOUT: Final = 5.0

#: Game commands compared frame by frame, in order.
_STRUCTURAL: Final = frozenset(
    {
        GameCommandKind.STARTUP.value,
        GameCommandKind.REGISTER.value,
        GameCommandKind.UNREGISTER.value,
        GameCommandKind.FORCE.value,
        GameCommandKind.SHUTDOWN_READY.value,
    }
)


class RecordingError(ValueError):
    """A file is not a readable session recording (the message says where)."""


class ReplayDifferenceError(AssertionError):
    """The game answered a replay differently from the recording.

    Attributes:
        report: The :class:`ReplayReport`.
    """

    def __init__(self, report: ReplayReport) -> None:
        super().__init__(report.format())
        self.report = report


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def structure_key(command: str, data: dict[str, Any]) -> tuple[Any, ...]:
    """Return what is compared of a structural game frame."""
    if command == GameCommandKind.REGISTER.value:
        actions = data.get("actions")
        return (
            command,
            tuple(
                (str(a.get("name")), json.dumps(a.get("schema"), sort_keys=True))
                for a in (actions if isinstance(actions, list) else [])
                if isinstance(a, dict)
            ),
        )
    if command == GameCommandKind.UNREGISTER.value:
        names = data.get("action_names")
        return (command, tuple(map(str, names)) if isinstance(names, list) else ())
    if command == GameCommandKind.FORCE.value:
        names = data.get("action_names")
        return (
            command,
            tuple(map(str, names)) if isinstance(names, list) else (),
            data.get("query"),
        )
    return (command,)


def describe_structure(command: str, data: dict[str, Any]) -> str:
    """Return a short description of a structural frame for a report."""
    if command == GameCommandKind.REGISTER.value:
        actions = data.get("actions")
        parts = []
        for action in actions if isinstance(actions, list) else []:
            if isinstance(action, dict):
                schema = action.get("schema")
                shown = f" {_short(json.dumps(schema), 60)}" if schema is not None else ""
                parts.append(f"{action.get('name')}{shown}")
        return f"actions/register {', '.join(parts)}"
    if command == GameCommandKind.UNREGISTER.value:
        names = data.get("action_names")
        return f"actions/unregister {', '.join(map(str, names or []))}"
    if command == GameCommandKind.FORCE.value:
        names = data.get("action_names")
        query = _short(str(data.get("query")), 60)
        return f"actions/force [{', '.join(map(str, names or []))}] {query!r}"
    return command


@attrs.frozen(kw_only=True)
class RecordedGameFrame:
    """A structural frame the game sent in the recording."""

    t: float
    key: tuple[Any, ...]
    description: str


@attrs.frozen(kw_only=True)
class RecordedResult:
    """An ``action/result`` the game sent in the recording."""

    t: float
    success: bool
    message: str | None


@attrs.frozen(kw_only=True)
class RecordedStep:
    """A frame Neuro sent in the recording, and the point at which she sent it.

    Attributes:
        t: Seconds since the connection opened.
        frame: The frame's text.
        binary: Whether it went as a binary frame.
        cause: Why she sent it (see :class:`~neuro_bridge.session_events.SessionEvent`).
        after_structure: How many structural frames the game had sent before.
        after_results: The action ids answered before.
        action_id: The action's id, for an ``action`` frame.
        description: One line describing the frame.
    """

    t: float
    frame: str
    binary: bool = False
    cause: str | None = None
    after_structure: int = 0
    after_results: frozenset[str] = frozenset()
    action_id: str | None = None
    description: str = ""


@attrs.frozen(kw_only=True)
class Recording:
    """A recorded session, read by :func:`load_recording`.

    Attributes:
        path: The file.
        header: Its first line.
        steps: Neuro's frames, in order.
        structure: The game's structural frames, in order.
        results: The game's first result for each action id.
        contexts: The ``silent`` flag of each ``context``, in order.
        ended_by: ``"game"`` or ``"neuro"`` when the recording saw the end, else ``None``.
        duration: Seconds from the first to the last line.
    """

    path: Path
    header: dict[str, Any]
    steps: tuple[RecordedStep, ...]
    structure: tuple[RecordedGameFrame, ...]
    results: dict[str, RecordedResult]
    contexts: tuple[bool, ...]
    ended_by: str | None
    duration: float


def load_recording(path: str | PathLike[str]) -> Recording:
    """Read a recording written by ``--record``.

    Raises:
        RecordingError: If the file cannot be read or is not a recording.
    """
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{file}: cannot read it: {exc}") from exc
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise RecordingError(f"{file}:{number}: not JSON: {exc}") from None
        if not isinstance(row, dict):
            raise RecordingError(f"{file}:{number}: not a JSON object")
        rows.append(row)
    if not rows or rows[0].get("format") != FORMAT:
        raise RecordingError(f"{file}: not a session recording (no {FORMAT!r} first line)")
    steps: list[RecordedStep] = []
    structure: list[RecordedGameFrame] = []
    results: dict[str, RecordedResult] = {}
    answered: set[str] = set()
    contexts: list[bool] = []
    ended_by: str | None = None
    last_t = 0.0
    for row in rows[1:]:
        kind = row.get("type")
        t = float(row.get("t") or 0.0)
        last_t = max(last_t, t)
        frame = row.get("frame")
        if kind == "game" and isinstance(frame, str):
            command, data = command_and_data(frame)
            if command in _STRUCTURAL:
                structure.append(
                    RecordedGameFrame(
                        t=t,
                        key=structure_key(command, data),
                        description=describe_structure(command, data),
                    )
                )
            elif command == GameCommandKind.RESULT.value and isinstance(data.get("id"), str):
                action_id = data["id"]
                if action_id not in results:
                    message = data.get("message")
                    results[action_id] = RecordedResult(
                        t=t,
                        success=data.get("success") is True,
                        message=message if isinstance(message, str) else None,
                    )
                answered.add(action_id)
            elif command == GameCommandKind.CONTEXT.value:
                contexts.append(bool(data.get("silent")))
        elif kind == "neuro" and isinstance(frame, str):
            event = parse_neuro_message(frame)
            cause = row.get("cause")
            steps.append(
                RecordedStep(
                    t=t,
                    frame=frame,
                    binary=row.get("binary") is True,
                    cause=cause if isinstance(cause, str) else None,
                    after_structure=len(structure),
                    after_results=frozenset(answered),
                    action_id=event.id if isinstance(event, ActionRequested) else None,
                    description=_short(describe_neuro_frame(frame)),
                )
            )
        elif kind == "end":
            by = row.get("by")
            ended_by = by if by in ("game", "neuro") else None
    return Recording(
        path=file,
        header=rows[0],
        steps=tuple(steps),
        structure=tuple(structure),
        results=results,
        contexts=tuple(contexts),
        ended_by=ended_by,
        duration=last_t,
    )


@attrs.frozen(kw_only=True)
class Difference:
    """One place where the game answered differently from the recording.

    Attributes:
        kind: ``"structure"``, ``"result"``, ``"context"``, ``"missing"``,
            ``"extra"`` or ``"end"``.
        message: What differs, with both values.
        t: When it happened in the recording (seconds), if it did.
    """

    kind: str
    message: str
    t: float | None = None

    def __str__(self) -> str:
        at = f" (recorded at {self.t:.3f} s)" if self.t is not None else ""
        return f"{self.kind}: {self.message}{at}"


@attrs.frozen(kw_only=True)
class ReplayReport:
    """How a replay went.

    Attributes:
        path: The recording.
        differences: Every difference found, in the order found.
        sent: How many of Neuro's recorded frames were sent.
        total: How many there are.
    """

    path: Path
    differences: tuple[Difference, ...]
    sent: int
    total: int

    @property
    def ok(self) -> bool:
        """Whether the game answered as recorded."""
        return not self.differences

    def format(self) -> str:
        """Return the report as text (a line per difference)."""
        head = f"replay of {self.path.name}: {self.sent}/{self.total} of Neuro's frames sent, "
        if self.ok:
            return head + "no difference"
        lines = [head + f"{len(self.differences)} difference(s):"]
        lines.extend(f"  {difference}" for difference in self.differences)
        return "\n".join(lines)

    def check(self) -> None:
        """Raise :class:`ReplayDifferenceError` unless :attr:`ok`."""
        if not self.ok:
            raise ReplayDifferenceError(self)


class ReplayComparer:
    """Compares the game's frames during a replay with the recording (sans-IO).

    Feed it every frame the game sends (:meth:`game_frame`); ask it whether a
    step's point of the conversation is reached (:meth:`reached`).
    """

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.differences: list[Difference] = []
        self.structure_seen = 0
        self.answered: set[str] = set()
        self.contexts_seen = 0
        self._descriptions = {
            step.action_id: step.description for step in recording.steps if step.action_id
        }

    def add_difference(self, kind: str, message: str, t: float | None = None) -> None:
        """Add a :class:`Difference`."""
        self.differences.append(Difference(kind=kind, message=message, t=t))

    def observe(self, event: SessionEvent) -> None:
        """Take a session event (a :data:`~neuro_bridge.session_events.SessionObserver`)."""
        if event.kind == "game" and event.frame is not None:
            self.game_frame(event.frame)

    def game_frame(self, frame: str) -> None:
        """Compare one frame the game sent now."""
        command, data = command_and_data(frame)
        recording = self.recording
        if command in _STRUCTURAL:
            index = self.structure_seen
            self.structure_seen += 1
            now = describe_structure(command, data)
            if index >= len(recording.structure):
                self.add_difference("extra", f"the game sent {now}, not in the recording")
                return
            recorded = recording.structure[index]
            if structure_key(command, data) != recorded.key:
                self.add_difference(
                    "structure",
                    f"frame {index + 1} of registrations and forces: recorded"
                    f" {recorded.description}, now {now}",
                    recorded.t,
                )
        elif command == GameCommandKind.RESULT.value and isinstance(data.get("id"), str):
            action_id = data["id"]
            if action_id in self.answered:
                return
            self.answered.add(action_id)
            success = data.get("success") is True
            message = data.get("message")
            said = f" ({_short(message, 70)!r})" if isinstance(message, str) and message else ""
            what = self._descriptions.get(action_id, f"#{action_id}")
            expected = recording.results.get(action_id)
            if expected is None:
                verdict = "success" if success else "failure"
                self.add_difference("extra", f"{what}: a result ({verdict}) not in the recording")
            elif expected.success != success:
                before = "success" if expected.success else "failure"
                after = "success" if success else "failure"
                message_text = f"{what}: recorded {before}, now {after}{said}"
                self.add_difference("result", message_text, expected.t)
        elif command == GameCommandKind.CONTEXT.value:
            index = self.contexts_seen
            self.contexts_seen += 1
            silent = bool(data.get("silent"))
            if index >= len(recording.contexts):
                self.add_difference("extra", f"context {index + 1}, not in the recording")
            elif recording.contexts[index] != silent:
                before = "silent" if recording.contexts[index] else "not silent"
                after = "silent" if silent else "not silent"
                text = f"context {index + 1}: recorded {before}, now {after}"
                self.add_difference("context", text)

    def reached(self, step: RecordedStep) -> bool:
        """Whether the game has come to the point where *step* was sent."""
        return self.structure_seen >= step.after_structure and step.after_results <= self.answered

    def complete(self) -> bool:
        """Whether the game has sent everything it sent in the recording."""
        recording = self.recording
        return (
            self.structure_seen >= len(recording.structure)
            and set(recording.results) <= self.answered
            and self.contexts_seen >= len(recording.contexts)
        )

    def report_missing(self, before: RecordedStep | None = None) -> None:
        """Add a ``missing`` difference for what the game has not sent (yet).

        Args:
            before: The step that could not be sent (only what it waited for
                counts); ``None``: everything the recording has.
        """
        recording = self.recording
        wanted = len(recording.structure) if before is None else before.after_structure
        missing = list(recording.structure[self.structure_seen : wanted])
        ids = set(recording.results) if before is None else set(before.after_results)
        unanswered = sorted(ids - self.answered)
        lost = recording.contexts[self.contexts_seen :] if before is None else ()
        where = f" before Neuro's {before.description}" if before is not None else ""
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            self.add_difference(
                "missing",
                f"the game did not send {missing[0].description}{more}{where}",
                missing[0].t,
            )
        for action_id in unanswered:
            what = self._descriptions.get(action_id, f"#{action_id}")
            self.add_difference(
                "missing",
                f"no result for {what}{where}",
                recording.results[action_id].t if action_id in recording.results else None,
            )
        if lost:
            self.add_difference("missing", f"{len(lost)} context message(s) not sent")


async def replay_session(
    session: MockSession, recording: Recording, *, frame_timeout: float = DEFAULT_REPLAY_TIMEOUT
) -> ReplayReport:
    """Replay Neuro's side of *recording* on *session*; return the report.

    The session should play nothing by itself (see
    :attr:`MockSession.scripted <neuro_bridge.mock.MockSession.scripted>`).  When
    the recording ended with Neuro closing the connection, the replay closes it
    too; when the game closed it, the replay waits (up to *frame_timeout*) for the game
    to close it again.
    """
    comparer = ReplayComparer(recording)
    for message in session.messages:  # frames that came before the replay began
        comparer.game_frame(message.frame)
    session.observers.append(comparer.observe)
    sent = 0
    stopped = False
    try:
        for step in recording.steps:
            try:
                with trio.fail_after(frame_timeout):
                    await session.wait_until(functools.partial(comparer.reached, step))
                await session.send(
                    step.frame.encode("utf-8") if step.binary else step.frame,
                    cause=f"replay:{step.cause}" if step.cause else "replay",
                )
            except trio.TooSlowError:
                comparer.report_missing(step)
                stopped = True
                break
            except GameDisconnectedError:
                comparer.report_missing(step)
                comparer.add_difference(
                    "end",
                    f"the game disconnected ({session.close_reason}) before Neuro's"
                    f" {step.description}",
                    step.t,
                )
                stopped = True
                break
            sent += 1
        if not stopped:
            with trio.move_on_after(frame_timeout):
                with contextlib.suppress(GameDisconnectedError):
                    await session.wait_until(comparer.complete)
            if not comparer.complete():
                comparer.report_missing()
            if recording.ended_by == "game":
                with trio.move_on_after(frame_timeout):
                    await session.wait_closed()
                if session.connected:
                    comparer.add_difference(
                        "end",
                        f"the game did not close the connection within {frame_timeout:g} s"
                        " (it did in the recording)",
                        recording.duration,
                    )
    finally:
        session.observers.remove(comparer.observe)
        if session.connected and (stopped or recording.ended_by != "game"):
            await session.close()
    return ReplayReport(
        path=recording.path,
        differences=tuple(comparer.differences),
        sent=sent,
        total=len(recording.steps),
    )
