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

from typing import TYPE_CHECKING, Callable, Final, Literal, Protocol

import attrs
import trio

if TYPE_CHECKING:
    from collections.abc import Mapping

    from typing_extensions import TypeAlias

    from neuro_bridge.conformance import Finding, ForceRecord, GameMessage, RegisteredAction
    from neuro_bridge.mock.chaos import ChaosOutcome

__all__ = [
    "RECORDING_FORMAT",
    "RECORDING_VERSION",
    "EventKind",
    "ObservedSession",
    "SessionEvent",
    "SessionObserver",
]

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


class ObservedSession(Protocol):
    """What the recorder and the web console read of a connection.

    A :class:`~neuro_bridge.mock.session.MockSession` is one; so is the proxy's
    :class:`~neuro_bridge.mock.watch.WatchedGame`.
    """

    number: int
    peer: str
    started_at: float
    observers: list[SessionObserver]
    auto_play: bool
    force_delay: float

    @property
    def messages(self) -> list[GameMessage]:
        """Every frame the game sent, decoded."""

    @property
    def connected(self) -> bool:
        """Whether the game is still connected."""

    @property
    def game(self) -> str | None:
        """The game's title, once known."""

    @property
    def registered_actions(self) -> Mapping[str, RegisteredAction]:
        """The actions the game has registered, by name."""

    @property
    def pending_force(self) -> ForceRecord | None:
        """The force in flight, or ``None``."""

    @property
    def findings(self) -> list[Finding]:
        """Every rule the connection broke so far."""
