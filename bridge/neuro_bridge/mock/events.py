"""What happens on one stand-in connection, as a stream of :class:`SessionEvent` values.

A :class:`~neuro_bridge.mock.session.MockSession` calls each of its
``observers`` with every event, in order, from the trio run that serves it: a frame
from the game, a frame Neuro sent (with why she sent it), a note about a decision
(a retry, a force given up), a broken rule, a chaos probe's outcome, and the end
of the connection.  The recorder (:mod:`.recording`) writes them to a file and the
web console shows them; an observer must not block (it is a plain function) and
an exception it raises is logged and ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Final, Literal

import attrs
import trio

if TYPE_CHECKING:
    from typing_extensions import TypeAlias

    from neuro_bridge.mock.chaos import ChaosOutcome
    from neuro_bridge.mock.records import Finding

__all__ = ["RECORDING_FORMAT", "RECORDING_VERSION", "EventKind", "SessionEvent", "SessionObserver"]

#: The ``format`` of a session recording's first line (see :mod:`.recording`).
RECORDING_FORMAT: Final = "neuro-bridge-session"
#: The session recording format's version.
RECORDING_VERSION: Final = 1

#: ``"game"`` (a frame from the game), ``"neuro"`` (a frame Neuro sent),
#: ``"note"`` (a decision), ``"finding"``, ``"chaos"`` and ``"end"``.
EventKind = Literal["game", "neuro", "note", "finding", "chaos", "end"]


@attrs.frozen(kw_only=True)
class SessionEvent:
    """One thing that happened on a connection.

    Attributes:
        kind: What happened (:data:`EventKind`).
        time: ``trio.current_time()`` when it happened.
        frame: The frame's text for ``"game"`` and ``"neuro"`` (binary frames
            decoded as UTF-8 with replacement).
        binary: Whether that frame went as a binary frame.
        cause: Why Neuro sent a ``"neuro"`` frame (``"force"``, ``"unforced"``,
            ``"chaos:KIND"``, ``"console"``, ``None`` for test code); who closed
            the connection for ``"end"`` (``"game"`` or ``"neuro"``).
        text: A ``"note"``'s text; the reason for ``"end"``.
        finding: The broken rule, for ``"finding"``.
        chaos: The probe's outcome, for ``"chaos"``.
    """

    kind: EventKind
    time: float = attrs.field(factory=trio.current_time)
    frame: str | None = None
    binary: bool = False
    cause: str | None = None
    text: str | None = None
    finding: Finding | None = None
    chaos: ChaosOutcome | None = None


#: What a session calls with each event.
SessionObserver: TypeAlias = Callable[[SessionEvent], None]
