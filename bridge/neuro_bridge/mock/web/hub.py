"""The web console's state, without the web: what the page shows and what it may ask.

:class:`ConsoleHub` listens to every session of a
:class:`~neuro_bridge.mock.MockNeuro` (or the proxy's game, see
:meth:`ConsoleHub.add_session`) and turns each
:class:`~neuro_bridge.session_events.SessionEvent` into a JSON-ready dict with a
sequence number, kept in a bounded window (:data:`EVENT_WINDOW`).  A page's
connection asks for the events after the last one it has
(:meth:`ConsoleHub.events_after`) and waits for more (:meth:`ConsoleHub.wait_for_event`):
however fast the game talks, each page gets them in batches and never holds up a
session (a page that falls behind the window is told so and gets the state anew).

:meth:`ConsoleHub.execute` runs what the page asks: an action sent as Neuro (its
data checked against the action's schema first: data that breaks it is sent only
when asked on purpose, and marked), a console command line (the buttons:
``actions/reregister_all``, shutdowns, ``speech_finished``, the startup
acknowledgement, chaos probes, answering a force at random), and the mode switch.
No web package is imported here.
"""

from __future__ import annotations

import collections
import io
import itertools
import json
import logging
from typing import TYPE_CHECKING, Any, Final

import trio

from neuro_bridge.mock.chaos import ChaosKind
from neuro_bridge.mock.console import Console
from neuro_bridge.mock.recording import SessionWriter
from neuro_bridge.mock.session import GameDisconnectedError, MockSession
from neuro_bridge.mock.transcript import (
    command_and_data,
    describe_game_message,
    describe_neuro_frame,
)
from neuro_bridge.protocol import ActionRequested, GameCommandKind, parse_neuro_message
from neuro_bridge.schema import InvalidSchemaError, SchemaValidationError, compile_validator

if TYPE_CHECKING:
    from neuro_bridge.conformance import GameMessage
    from neuro_bridge.mock.server import MockNeuro
    from neuro_bridge.session_events import ObservedSession, SessionEvent

__all__ = [
    "EVENT_WINDOW",
    "FRAME_SHOWN",
    "MODES",
    "RECORDING_LIMIT",
    "ConsoleHub",
]

logger = logging.getLogger(__name__)

#: How many events the hub keeps for pages (older ones are dropped).
EVENT_WINDOW: Final = 5000
#: Characters of a frame sent to the page (the rest is cut).
FRAME_SHOWN: Final = 4000
#: Characters of a session kept in memory for the download button.
RECORDING_LIMIT: Final = 64 * 2**20
#: The mode switch: who answers forces.
MODES: Final = ("auto", "random", "hand")
#: The default delay of the ``random`` mode (Randy's), in seconds.
RANDOM_DELAY: Final = 2.0


class _MemoryStream(io.StringIO):
    """A StringIO the recording writer may 'close' without losing it; stops at a limit."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.full = False

    def write(self, text: str) -> int:
        if self.full:
            return 0
        if self.tell() + len(text) > self.limit:
            self.full = True
            return 0
        return super().write(text)

    def close(self) -> None:
        """Keep the text (the writer closes its stream at the end of the session)."""


def _frame_shown(frame: str) -> str:
    return frame if len(frame) <= FRAME_SHOWN else frame[:FRAME_SHOWN] + "..."


class _View:
    """What the hub keeps about one session."""

    def __init__(self, session: ObservedSession, memory: _MemoryStream) -> None:
        self.session = session
        self.memory = memory
        self.mode = "auto" if session.auto_play else "hand"
        self.sent_at: dict[str, float] = {}
        self.last_game_seq: int | None = None
        self.force_at: float | None = None


class ConsoleHub:
    """The web console's model of the stand-in's sessions.

    Args:
        nursery: Where console commands that wait (chaos probes) run.
        window: How many events to keep (:data:`EVENT_WINDOW`).
        source: ``"mock"`` (the page may act as Neuro) or ``"proxy"`` (it only
            watches the game behind the proxy).

    Attributes:
        seq: The number of the last event (0: none yet).
        mock: The server whose sessions it shows, once :meth:`attach`-ed.
    """

    def __init__(
        self, nursery: trio.Nursery, *, window: int = EVENT_WINDOW, source: str = "mock"
    ) -> None:
        self.nursery = nursery
        self.source = source
        self.seq = 0
        self.mock: MockNeuro | None = None
        self._events: collections.deque[dict[str, Any]] = collections.deque(maxlen=window)
        self._views: dict[int, _View] = {}
        self._changed = trio.Event()
        self._console: Console | None = None

    # ------------------------------------------------------------ wiring

    def attach(self, mock: MockNeuro) -> None:
        """Show every session of *mock*, those already there and those to come."""
        self.mock = mock
        self._console = Console(mock, self.nursery, cause="web")
        for session in mock.sessions:
            self.add_session(session)
        mock.on_session.append(self.add_session)

    def add_session(self, session: ObservedSession) -> None:
        """Show *session* (a ``MockNeuro.on_session`` or ``NeuroProxy.on_game`` hook)."""
        if session.number in self._views:
            return
        memory = _MemoryStream(RECORDING_LIMIT)
        writer = SessionWriter(
            memory,
            source=self.source,
            connection=session.number,
            peer=session.peer,
            started=session.started_at,
        )
        view = _View(session, memory)
        self._views[session.number] = view
        session.observers.append(writer)
        session.observers.append(lambda event: self._observe(view, event))
        self._push(view, {"kind": "connect", "t": 0.0, "desc": f"connected from {session.peer}"})

    # ------------------------------------------------------------ events

    def _push(self, view: _View, event: dict[str, Any]) -> int:
        self.seq += 1
        event["seq"] = self.seq
        event["session"] = view.session.number
        self._events.append(event)
        self._changed.set()
        self._changed = trio.Event()
        return self.seq

    def _observe(self, view: _View, event: SessionEvent) -> None:
        session = view.session
        t = round(event.time - session.started_at, 6)
        item: dict[str, Any] = {"kind": event.kind, "t": t}
        if event.kind == "game" and event.frame is not None:
            item.update(self._game_item(view, event, t))
            self._push(view, item)
            view.last_game_seq = self.seq
            return
        if event.kind == "neuro" and event.frame is not None:
            item["frame"] = _frame_shown(event.frame)
            item["cause"] = event.cause
            item["desc"] = describe_neuro_frame(event.frame)
            parsed = parse_neuro_message(event.frame)
            if isinstance(parsed, ActionRequested):
                item.update(action_id=parsed.id, name=parsed.name, data=parsed.data)
                view.sent_at[parsed.id] = t
                if len(view.sent_at) > 10_000:  # never answered: forget the oldest
                    view.sent_at.pop(next(iter(view.sent_at)))
        elif event.kind == "finding" and event.finding is not None:
            item.update(event.finding.to_json_object())
            item["desc"] = f"{event.finding.rule}: {event.finding.message}"
            item["frame_seq"] = view.last_game_seq
            if view.last_game_seq is not None:
                linked = self._event(view.last_game_seq)
                if linked is not None:
                    item["frame"] = linked.get("frame")
        elif event.kind == "chaos" and event.chaos is not None:
            item.update(event.chaos.to_json_object())
            item["desc"] = f"chaos {event.chaos.kind.value}: {event.chaos.detail}"
        elif event.kind == "note":
            item["desc"] = event.text
        elif event.kind == "end":
            item["desc"] = f"disconnected ({event.text})"
            item["by"] = event.cause
        self._push(view, item)

    def _game_item(self, view: _View, event: SessionEvent, t: float) -> dict[str, Any]:
        frame = event.frame or ""
        command, data = command_and_data(frame)
        messages = view.session.messages
        message: GameMessage | None = messages[-1] if messages else None
        desc = describe_game_message(message) if message is not None else frame
        item: dict[str, Any] = {
            "frame": _frame_shown(frame),
            "command": command,
            "desc": desc,
        }
        if event.binary:
            item["binary"] = True
        if command == GameCommandKind.RESULT.value and isinstance(data.get("id"), str):
            action_id = data["id"]
            item.update(action_id=action_id, success=data.get("success") is True)
            item["message"] = data.get("message")
            sent = view.sent_at.pop(action_id, None)
            if sent is not None:
                item["latency"] = round(t - sent, 6)
        elif command == GameCommandKind.CONTEXT.value:
            item["silent"] = bool(data.get("silent"))
            item["message"] = data.get("message")
        elif command == GameCommandKind.FORCE.value:
            view.force_at = trio.current_time()
        return item

    def _event(self, seq: int) -> dict[str, Any] | None:
        if not self._events:
            return None
        index = seq - self._events[0]["seq"]
        if 0 <= index < len(self._events):
            return self._events[index]
        return None

    def events_after(self, seq: int, limit: int = 2000) -> tuple[list[dict[str, Any]], bool]:
        """Return up to *limit* events after number *seq*, and whether some were lost.

        Events older than the window are gone: the second value is then true (the
        page should take the :meth:`state` anew).
        """
        if not self._events or seq >= self.seq:
            return [], False
        first = self._events[0]["seq"]
        lost = seq + 1 < first
        start = max(seq + 1, first) - first
        return list(itertools.islice(self._events, start, start + limit)), lost

    async def wait_for_event(self, seq: int) -> None:
        """Wait until there is an event after number *seq*."""
        while self.seq <= seq:
            await self._changed.wait()

    # ------------------------------------------------------------ state

    def state(self) -> dict[str, Any]:
        """Return what the page shows besides the feed: every session's state now."""
        now = trio.current_time()
        return {
            "source": self.source,
            "seq": self.seq,
            "modes": list(MODES),
            "chaos_kinds": [kind.value for kind in ChaosKind],
            "sessions": [self._session_state(view, now) for view in self._views.values()],
        }

    def _session_state(self, view: _View, now: float) -> dict[str, Any]:
        session = view.session
        force = session.pending_force
        force_state: dict[str, Any] | None = None
        if force is not None:
            due = None
            if session.auto_play and view.force_at is not None and self.source == "mock":
                due = round(max(0.0, view.force_at + session.force_delay - now), 3)
            force_state = {
                "query": force.query,
                "state": force.state,
                "ephemeral_context": force.ephemeral_context,
                "priority": force.priority,
                "action_names": list(force.action_names),
                "number": force.number,
                "due_in": due,
            }
        return {
            "number": session.number,
            "game": session.game,
            "peer": session.peer,
            "connected": session.connected,
            "mode": view.mode,
            "delay": session.force_delay,
            "actions": [
                {"name": a.name, "description": a.description, "schema": a.schema}
                for a in session.registered_actions.values()
            ],
            "force": force_state,
            "findings": len(session.findings),
            "recording_full": view.memory.full,
        }

    def recording(self, number: int) -> str | None:
        """Return the JSONL recording of session *number* so far (``None``: no such)."""
        view = self._views.get(number)
        return None if view is None else view.memory.getvalue()

    # ------------------------------------------------------------ commands

    async def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one request of the page; return the reply (never raises for bad input).

        Requests (JSON objects, by ``op``):

        * ``{"op": "action", "session": N, "name": ..., "data": TEXT|null,
          "on_purpose": bool}`` -- send an action as Neuro (it answers the force in
          flight when it is one of the force's actions);
        * ``{"op": "line", "line": "@N reregister"}`` -- a console command;
        * ``{"op": "mode", "session": N, "mode": "auto"|"random"|"hand",
          "delay": SECONDS}``.
        """
        op = request.get("op")
        try:
            if self.source != "mock":
                raise ValueError("the console only watches the game behind the proxy")
            if op == "action":
                return await self._send_action(request)
            if op == "line":
                if self._console is None:
                    raise ValueError("no stand-in attached")
                text = await self._console.execute(str(request.get("line", "")))
                return {"ok": not text.split(" ", 1)[-1].startswith("error"), "text": text}
            if op == "mode":
                return self._set_mode(request)
            raise ValueError(f"unknown op {op!r}")
        except GameDisconnectedError:
            return {"ok": False, "text": "the game is not connected"}
        except (ValueError, RuntimeError, TypeError) as exc:
            return {"ok": False, "text": str(exc)}

    def _session(self, request: dict[str, Any]) -> tuple[_View, MockSession]:
        view = self._view(request)
        session = view.session
        if not isinstance(session, MockSession):
            raise TypeError("only the stand-in's own games take commands")
        return view, session

    def _view(self, request: dict[str, Any]) -> _View:
        number = request.get("session")
        view = self._views.get(number) if isinstance(number, int) else None
        if view is None:
            raise ValueError(f"no game #{number}")
        return view

    async def _send_action(self, request: dict[str, Any]) -> dict[str, Any]:
        _, session = self._session(request)
        name = request.get("name")
        data = request.get("data")
        if not isinstance(name, str) or not (data is None or isinstance(data, str)):
            raise TypeError("an action needs a name and data text (or null)")
        breaks = self._breaks_schema(session, name, data)
        if breaks is not None and not request.get("on_purpose"):
            return {"ok": False, "text": f"not sent: {breaks}", "breaks_schema": breaks}
        cause = "web" if breaks is None else "web:breaks-schema"
        force = session.pending_force
        if force is not None and name in force.action_names:
            action_id = await session.force(name, data, cause=cause)
        else:
            action_id = await session.send_action(name, data, cause=cause)
        text = f"sent action #{action_id}" + ("" if breaks is None else f" (breaks: {breaks})")
        return {"ok": True, "text": text, "action_id": action_id, "breaks_schema": breaks}

    @staticmethod
    def _breaks_schema(session: MockSession, name: str, data: str | None) -> str | None:
        """Return why *data* breaks action *name*'s schema, or ``None`` if it does not."""
        action = session.registered_actions.get(name)
        if action is None:
            return f"{name!r} is not registered"
        schema = action.schema
        if schema is None or schema == {}:
            return None if data is None else "the action takes no data"
        if data is None:
            return "the action needs data"
        try:
            value = json.loads(data)
        except ValueError as exc:
            return f"not JSON: {exc}"
        try:
            compile_validator(schema)(value)
        except SchemaValidationError as exc:
            return str(exc.message)
        except InvalidSchemaError as exc:
            return f"the action's schema cannot be checked: {exc}"
        return None

    def _set_mode(self, request: dict[str, Any]) -> dict[str, Any]:
        view, session = self._session(request)
        mode = request.get("mode")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        delay = request.get("delay")
        if mode == "hand":
            session.set_auto_play(False)
        elif mode == "auto":
            session.set_auto_play(True, delay=session.config.force_delay)
        else:
            if delay is None:
                delay = RANDOM_DELAY
            if not isinstance(delay, (int, float)) or delay < 0:
                raise ValueError("the delay must be a number of seconds >= 0")
            session.set_auto_play(True, delay=float(delay))
        view.mode = mode
        t = round(trio.current_time() - session.started_at, 6)
        self._push(view, {"kind": "mode", "t": t, "desc": f"mode: {mode}", "mode": mode})
        return {"ok": True, "text": f"#{session.number} mode {mode}"}
