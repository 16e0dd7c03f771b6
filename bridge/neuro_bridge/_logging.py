"""Logging helpers: repeated warnings aggregated, network text kept on one line.

**Aggregation.**  A hostile or broken server can send thousands of bad frames a
second, each worth a WARNING.  While a connection is open
(:func:`aggregating_repeats`), a WARNING without a traceback from the runtime's
loggers (:data:`AGGREGATED_LOGGERS`) is logged the first time its kind is seen --
the kind is the logger and the message template -- and the same kind again within
:data:`REPEAT_WINDOW` seconds is only counted.  The first one after the window
is logged with "(and N more like this in the last 10 s)" appended; counts still
held when the connection ends are logged then.

**One line.**  Anything a server supplies (a display name, an error text, a close
reason) may hold newlines that would forge log lines: log it with ``%r``, or
escape it with :func:`one_line`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from typing import TYPE_CHECKING, Final

import attrs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "AGGREGATED_LOGGERS",
    "REPEAT_WINDOW",
    "RepeatedWarnings",
    "aggregating_repeats",
    "one_line",
]

#: Seconds over which repeats of one kind of warning are counted, not logged.
REPEAT_WINDOW: Final = 10.0
#: The loggers whose warnings are aggregated while a connection is open.
AGGREGATED_LOGGERS: Final = (
    "neuro_bridge.api",
    "neuro_bridge.component",
    "neuro_bridge.protocol",
    "neuro_bridge.schema",
    "neuro_bridge.trio_ws",
)
# Kinds of warning with their counts, for the connection of the current task.
_CURRENT: contextvars.ContextVar[RepeatedWarnings | None] = contextvars.ContextVar(
    "neuro_bridge_repeated_warnings", default=None
)
# Distinct kinds kept at most; expired ones are dropped beyond this.
_MAX_KINDS: Final = 256


def one_line(text: str, limit: int = 200) -> str:
    """Return *text* with control characters escaped, cut to about *limit* characters."""
    if text.isprintable():
        escaped = text
    else:
        escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return escaped if len(escaped) <= limit else escaped[:limit] + "..."


@attrs.define
class _Kind:
    since: float
    level: int
    repeats: int = 0


class RepeatedWarnings:
    """The counts of one connection's repeated warnings (see the module docstring).

    Args:
        window: Seconds over which repeats are counted (:data:`REPEAT_WINDOW`).
        clock: Where the time comes from, in seconds.
    """

    def __init__(
        self, window: float = REPEAT_WINDOW, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self._clock = clock
        self._kinds: dict[tuple[str, str], _Kind] = {}

    def admit(self, record: logging.LogRecord) -> bool:
        """Return whether *record* is logged; a repeat is counted and dropped."""
        key = (record.name, str(record.msg))
        now = self._clock()
        kind = self._kinds.get(key)
        if kind is not None and now - kind.since < self.window:
            kind.repeats += 1
            return False
        if kind is not None and kind.repeats and isinstance(record.args, tuple):
            record.msg = f"{record.msg} (and %d more like this in the last %.0f s)"
            record.args = (*record.args, kind.repeats, now - kind.since)
        if len(self._kinds) >= _MAX_KINDS:
            self._kinds = {k: v for k, v in self._kinds.items() if now - v.since < self.window}
        self._kinds[key] = _Kind(now, record.levelno)
        return True

    def flush(self) -> None:
        """Log the repeats counted but not reported yet, and forget every kind."""
        now = self._clock()
        kinds, self._kinds = self._kinds, {}
        for (name, template), kind in kinds.items():
            if kind.repeats:
                logging.getLogger(name).log(
                    kind.level,
                    "%d more like this in the last %.0f s: %s",
                    kind.repeats,
                    now - kind.since,
                    one_line(template),
                )


class _RepeatFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        repeats = _CURRENT.get()
        if repeats is None or record.levelno != logging.WARNING or record.exc_info:
            return True  # errors (a handler's bug, with its traceback) are never aggregated
        return repeats.admit(record)


_FILTER: Final = _RepeatFilter()
for _name in AGGREGATED_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


@contextlib.contextmanager
def aggregating_repeats(window: float = REPEAT_WINDOW) -> Iterator[RepeatedWarnings]:
    """Aggregate repeated warnings in this task and the tasks it starts, until the end.

    Counts still held at the end are logged then.
    """
    repeats = RepeatedWarnings(window)
    token = _CURRENT.set(repeats)
    try:
        yield repeats
    finally:
        _CURRENT.reset(token)
        repeats.flush()
