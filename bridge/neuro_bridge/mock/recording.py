"""Recording sessions: every connection the stand-in (or the proxy) sees, as JSONL.

``neuro-bridge mock --record DIR`` (and ``neuro-bridge proxy --record DIR``) writes
one file per game connection, ``DIR/session-<UTC time>-<n>.jsonl``, one JSON object
a line, flushed line by line:

* the first line describes the file::

      {"type": "session", "format": "neuro-bridge-session", "version": 1,
       "source": "mock", "connection": 1, "peer": "127.0.0.1:51234",
       "started": "2026-12-07T06:00:00Z"}

* then one line per :class:`~neuro_bridge.session_events.SessionEvent`, with ``t``,
  the seconds since the connection opened:

  - ``{"t": 0.012, "type": "game", "frame": "..."}`` -- a frame from the game
    (``"binary": true`` when it came as a binary frame);
  - ``{"t": 0.013, "type": "neuro", "frame": "...", "cause": "force"}`` -- a frame
    Neuro sent, and why (:attr:`~neuro_bridge.session_events.SessionEvent.cause`);
  - ``{"type": "note", "text": "retrying the force (1/3)"}`` -- a decision;
  - ``{"type": "finding", "rule": ..., "message": ..., "hint": ..., "advice": ...}``;
  - ``{"type": "chaos", "kind": ..., "ok": ..., "detail": ...}``;
  - ``{"type": "end", "reason": "code 1000", "by": "game"}`` -- the last line.

:mod:`neuro_bridge.mock.replay` reads these files back.  Lines of a ``type`` it
does not know are skipped, so later versions may add some.
"""

from __future__ import annotations

import datetime
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from neuro_bridge.session_events import RECORDING_FORMAT, RECORDING_VERSION

if TYPE_CHECKING:
    from neuro_bridge.mock.server import MockNeuro
    from neuro_bridge.session_events import ObservedSession, SessionEvent

__all__ = ["FORMAT", "VERSION", "Recorder", "SessionWriter", "event_to_json"]

logger = logging.getLogger(__name__)

#: The ``format`` of a recording's first line.
FORMAT: Final = RECORDING_FORMAT
#: The recording format's version.
VERSION: Final = RECORDING_VERSION


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def event_to_json(event: SessionEvent, started: float) -> dict[str, Any]:
    """Return the JSON object of one recording line for *event*.

    Args:
        event: The event.
        started: ``trio.current_time()`` when the connection opened (``t`` is
            relative to it).
    """
    line: dict[str, Any] = {"t": round(event.time - started, 6), "type": event.kind}
    if event.kind in ("game", "neuro"):
        line["frame"] = event.frame
        if event.binary:
            line["binary"] = True
        if event.kind == "neuro" and event.cause is not None:
            line["cause"] = event.cause
    elif event.kind == "note":
        line["text"] = event.text
    elif event.kind == "finding" and event.finding is not None:
        finding = event.finding.to_json_object()
        line.update({key: finding[key] for key in ("rule", "message", "hint", "advice")})
    elif event.kind == "chaos" and event.chaos is not None:
        outcome = event.chaos.to_json_object()
        outcome.pop("connection", None)
        line.update(outcome)
    elif event.kind == "end":
        line["reason"] = event.text
        line["by"] = event.cause
    return line


class SessionWriter:
    """Writes one connection's recording to an open text stream.

    Args:
        stream: Where lines go (flushed after each).
        source: ``"mock"`` or ``"proxy"``.
        connection: The connection's number.
        peer: The game's address.
        started: ``trio.current_time()`` when the connection opened.
    """

    def __init__(
        self, stream: TextIO, *, source: str, connection: int, peer: str, started: float
    ) -> None:
        self.stream = stream
        self.started = started
        self.closed = False
        self._write(
            {
                "type": "session",
                "format": FORMAT,
                "version": VERSION,
                "source": source,
                "connection": connection,
                "peer": peer,
                "started": _utc_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
        )

    def _write(self, line: dict[str, Any]) -> None:
        self.stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.stream.flush()

    def __call__(self, event: SessionEvent) -> None:
        """Write *event* (a :data:`~neuro_bridge.session_events.SessionObserver`)."""
        if self.closed:
            return
        try:
            self._write(event_to_json(event, self.started))
        except OSError as exc:  # a full disk must not stop the stand-in
            logger.warning("cannot write the recording: %s; recording stops", exc)
            self.close()
            return
        if event.kind == "end":
            self.close()

    def close(self) -> None:
        """Close the stream (once)."""
        if not self.closed:
            self.closed = True
            try:
                self.stream.close()
            except OSError as exc:
                logger.warning("cannot close the recording: %s", exc)


class Recorder:
    """Records every connection of a :class:`~neuro_bridge.mock.MockNeuro` into *folder*.

    Usage: ``Recorder(folder).attach(mock)`` before the games connect.  The folder is
    created if needed; each connection gets ``session-<UTC time>-<n>.jsonl``.

    Attributes:
        folder: Where the files go.
        paths: The file of each connection recorded so far, in order.
    """

    def __init__(self, folder: str | Path, *, source: str = "mock") -> None:
        self.folder = Path(folder)
        self.source = source
        self.paths: list[Path] = []
        self._stamp = _utc_now().strftime("%Y%m%dT%H%M%SZ")

    def attach(self, mock: MockNeuro) -> None:
        """Record every session *mock* accepts from now on."""
        mock.on_session.append(self.record_session)

    def path_for(self, connection: int) -> Path:
        """Return the file connection number *connection* is recorded into."""
        return self.folder / f"session-{self._stamp}-{connection}.jsonl"

    def open_writer(self, connection: int, peer: str, started: float) -> SessionWriter | None:
        """Open the file for a new connection; ``None`` (logged) if it cannot be created."""
        path = self.path_for(connection)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stream = path.open("w", encoding="utf-8")
        except OSError as exc:
            logger.warning("cannot record connection #%d to %s: %s", connection, path, exc)
            return None
        self.paths.append(path)
        logger.info("recording connection #%d to %s", connection, path)
        return SessionWriter(
            stream, source=self.source, connection=connection, peer=peer, started=started
        )

    def record_session(self, session: ObservedSession) -> None:
        """Start recording *session* (a ``MockNeuro.on_session`` or ``NeuroProxy.on_game`` hook)."""
        writer = self.open_writer(session.number, session.peer, session.started_at)
        if writer is not None:
            session.observers.append(writer)
