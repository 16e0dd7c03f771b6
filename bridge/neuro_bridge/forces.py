"""Forces waiting for their turn, sans-IO: one in flight, the rest queued.

Neuro handles one ``actions/force`` at a time.  A game often wants another one
before the first has ended (the next turn, a second window), so every engine
queues them here, by one rule:

* The force **in flight** is the :class:`~neuro_bridge.ledger.SessionLedger`'s;
  this queue holds the forces **behind** it, oldest first, at most
  :attr:`ForceQueue.max_queued` (pushing onto a full queue drops the oldest).
* A force in flight **ends** (in the ledger) on a successful result for one of its
  actions, when all of its actions are unregistered, or when it is given up.
* The next force **takes its turn** (:meth:`ForceQueue.take_turn`) only when no
  force is in flight *and* no action awaits its result: the answer to an action
  always goes out before the force that follows it (Neuro's reference server
  reports a force received while it waits for a result).  At its turn a force is
  **trimmed** to the names registered at that moment; a force with no name left is
  **dropped** and the next one considered.
* A force Neuro does not act on (no ``action`` naming one of its actions) for
  :attr:`ForceQueue.resend_after` seconds is **re-sent** once, then, after as long
  again, **given up** (:meth:`ForceQueue.overdue`): a force Neuro lost must not
  block every later one.

The Godot addon's ``internal/force_queue.gd`` follows the same rule; both are
checked against ``tests/vectors/force_queue.json``.

No I/O, no clock (times are passed in), no trio.  Not thread-safe.
"""

from __future__ import annotations

import collections
import enum
from typing import TYPE_CHECKING, Any, Callable, Final, Generic, Protocol, TypeVar

import attrs

if TYPE_CHECKING:
    from collections.abc import Iterator

    from neuro_bridge.ledger import SessionLedger

__all__ = [
    "DEFAULT_MAX_QUEUED_FORCES",
    "DEFAULT_RESEND_AFTER",
    "ForceQueue",
    "Overdue",
    "Turn",
]

#: Forces that may wait behind the one in flight.
DEFAULT_MAX_QUEUED_FORCES: Final = 16
#: Seconds without an action from Neuro before a force is re-sent, then given up.
DEFAULT_RESEND_AFTER: Final = 30.0


class _Forcing(Protocol):
    @property
    def action_names(self) -> tuple[str, ...]: ...


F = TypeVar("F", bound=_Forcing)


class Overdue(enum.Enum):
    """What to do about the force in flight (see :meth:`ForceQueue.overdue`)."""

    #: Nothing: Neuro acted on it recently, or nothing is in flight.
    NONE = "none"
    #: Send the same force again: Neuro may have lost it.
    RESEND = "resend"
    #: Give it up (the caller ends it in the ledger) and let the next one go.
    GIVE_UP = "give_up"


@attrs.frozen(kw_only=True)
class Turn(Generic[F]):
    """What :meth:`ForceQueue.take_turn` decided.

    Attributes:
        send: The force to send now (already trimmed), or ``None``.
        dropped: Queued forces dropped because none of their actions is registered.
    """

    send: F | None = None
    dropped: tuple[F, ...] = ()


class ForceQueue(Generic[F]):
    """The forces waiting behind the one in flight (see the module docstring).

    Args:
        trim: Returns a copy of a force naming only the given names (in order); the
            queue calls it when a force loses some of its actions before its turn.
        max_queued: How many forces may wait.
        resend_after: Seconds without an action before the force in flight is
            re-sent once, then given up; ``None`` never does either.

    Raises:
        ValueError: *max_queued* is not a positive int, or *resend_after* not a
            positive number.
    """

    def __init__(
        self,
        trim: Callable[[F, tuple[str, ...]], F],
        *,
        max_queued: int = DEFAULT_MAX_QUEUED_FORCES,
        resend_after: float | None = DEFAULT_RESEND_AFTER,
    ) -> None:
        if isinstance(max_queued, bool) or not isinstance(max_queued, int) or max_queued < 1:
            raise ValueError(f"max_queued must be a positive int, not {max_queued!r}")
        if resend_after is not None and (
            isinstance(resend_after, bool)
            or not isinstance(resend_after, (int, float))
            or not resend_after > 0
        ):
            raise ValueError(
                f"resend_after must be a positive number or None, not {resend_after!r}"
            )
        self._trim = trim
        self.max_queued = max_queued
        self.resend_after = None if resend_after is None else float(resend_after)
        self._queue: collections.deque[F] = collections.deque()
        # When Neuro last had a reason to act on the force in flight (sent,
        # re-sent or acted on), and whether it was re-sent since she last acted.
        self._since: float | None = None
        self._resent = False

    def __len__(self) -> int:
        return len(self._queue)

    def __iter__(self) -> Iterator[F]:
        return iter(self._queue)

    def __repr__(self) -> str:
        return f"<ForceQueue {len(self._queue)} queued>"

    def push(self, force: F) -> F | None:
        """Queue *force* behind the others; return the oldest one, dropped if it was full."""
        evicted = self._queue.popleft() if len(self._queue) >= self.max_queued else None
        self._queue.append(force)
        return evicted

    def withdraw(self, which: Callable[[F], object]) -> tuple[F, ...]:
        """Remove the queued forces for which ``which(force)`` is true; return them."""
        gone = tuple(force for force in self._queue if which(force))
        if gone:
            self._queue = collections.deque(force for force in self._queue if not which(force))
        return gone

    def clear(self) -> tuple[F, ...]:
        """Remove every queued force; return them."""
        gone = tuple(self._queue)
        self._queue.clear()
        return gone

    def take_turn(self, ledger: SessionLedger[Any, F]) -> Turn[F]:
        """Return the force to send now, if its turn has come (see the module docstring).

        The caller sends :attr:`Turn.send` (putting it in flight in *ledger*) and
        then calls :meth:`sent`.
        """
        if ledger.force is not None or ledger.unanswered or not self._queue:
            return Turn()
        registered = ledger.actions
        dropped: list[F] = []
        while self._queue:
            force = self._queue.popleft()
            names = tuple(name for name in force.action_names if name in registered)
            if not names:
                dropped.append(force)
                continue
            if names != force.action_names:
                force = self._trim(force, names)
            return Turn(send=force, dropped=tuple(dropped))
        return Turn(dropped=tuple(dropped))

    # ------------------------------------------------------------ the clock

    def sent(self, now: float) -> None:
        """Start the clock: the force in flight was sent (or re-sent) at *now*."""
        self._since = now
        self._resent = False

    def acted(self, now: float) -> None:
        """Restart the clock: Neuro sent an action for one of the force's actions at *now*."""
        if self._since is not None:
            self._since = now
            self._resent = False

    def overdue(self, now: float, ledger: SessionLedger[Any, F]) -> Overdue:
        """Say whether the force in flight is overdue at *now*, and what to do.

        :attr:`Overdue.RESEND` once, then :attr:`Overdue.GIVE_UP`, each after
        :attr:`resend_after` seconds without an action.  While an action awaits
        its result (Neuro acted) the clock starts again at every call.
        """
        if ledger.force is None:
            self._since = None
            return Overdue.NONE
        if self._since is None or ledger.unanswered:
            # In flight before the clock started, or Neuro acted and awaits the
            # game's answer: the clock starts again from now.
            self._since = now
            return Overdue.NONE
        if self.resend_after is None:
            return Overdue.NONE
        if now - self._since < self.resend_after:
            return Overdue.NONE
        if self._resent:
            self._since = None
            return Overdue.GIVE_UP
        self._since = now
        self._resent = True
        return Overdue.RESEND
