"""The state of one session, sans-IO: what Neuro holds for one game.

A :class:`SessionLedger` records what the two sides of one connection agree on:

* the **registered actions** (by name, oldest first),
* the **force in flight** (at most one),
* the **unanswered action ids** (each with the name Neuro sent),

and it holds every rule that changes them, once.  It is role-blind (in the manner of
h11's ``_state.py``): the game side (:class:`~neuro_bridge.api.AbstractNeuroAPI`)
applies a transition when it *commits* a call -- before the frame is written, so the
state and the frames agree in order -- and the Neuro side (the stand-in's
:class:`~neuro_bridge.conformance.ConformanceChecker`, a proxy) applies the same
transition when it *reads* the game's frame (:func:`apply_game_event`).  Both sides
then hold the same state; ``tests/test_ledger.py`` pairs them without a socket.

The force lifecycle is a table, :data:`FORCE_TRANSITIONS`:

==============  ========================  ==============
state           trigger                   next state
==============  ========================  ==============
``IDLE``        ``FORCE``                 ``IN_FLIGHT``
``IN_FLIGHT``   ``SUCCESS``               ``IDLE``
``IN_FLIGHT``   ``ALL_UNREGISTERED``      ``IDLE``
``IN_FLIGHT``   ``STARTUP``               ``IDLE``
``IN_FLIGHT``   ``GIVE_UP``               ``IDLE``
==============  ========================  ==============

Any other pair leaves the state as it is, except ``IN_FLIGHT`` + ``FORCE``: a second
force in flight, which breaks the rules.  The game side refuses it; the Neuro side
reports it and takes the new force (as Neuro would).

**After a reconnect** Neuro has forgotten everything; :meth:`SessionLedger.restoration`
says what to send so that a fresh Neuro holds the ledger's state again: ``startup``,
one ``actions/register`` with every action, then the force in flight.  Applying those
to a ledger leaves it as it was, so the game side needs no change of state to
restore; the Neuro side that reads them ends in the same state.

No I/O, no clock, no trio.  Not thread-safe.
"""

from __future__ import annotations

import enum
import types
from typing import TYPE_CHECKING, Final, Generic, Protocol, TypeVar

import attrs

from neuro_bridge.protocol import (
    ActionDefinition,
    ActionResultSent,
    ActionsForced,
    ActionsRegistered,
    ActionsUnregistered,
    GameStarted,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from neuro_bridge.protocol import GameEvent

__all__ = [
    "FORCE_TRANSITIONS",
    "ForceState",
    "ForceTrigger",
    "Registration",
    "Restoration",
    "SessionLedger",
    "Transition",
    "apply_game_event",
]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Forcing(Protocol):
    @property
    def action_names(self) -> tuple[str, ...]: ...


A = TypeVar("A", bound=_Named)
F = TypeVar("F", bound=_Forcing)


class ForceState(enum.Enum):
    """Whether a force is in flight."""

    #: No force in flight: the game may send one.
    IDLE = "idle"
    #: A force is in flight: Neuro must pick one of its actions.
    IN_FLIGHT = "in_flight"


class ForceTrigger(enum.Enum):
    """What happens to the force (see :data:`FORCE_TRANSITIONS`)."""

    #: The game sent ``actions/force``.
    FORCE = "force"
    #: The game answered one of the force's actions with ``success: true``.
    SUCCESS = "success"
    #: Every action of the force was unregistered.
    ALL_UNREGISTERED = "all_unregistered"
    #: The game sent ``startup`` (Neuro forgets the force).
    STARTUP = "startup"
    #: A side gave up on the force (the game moved on; Neuro stopped retrying).
    GIVE_UP = "give_up"


#: (state, trigger) -> next state.  Pairs not listed change nothing, except
#: ``(IN_FLIGHT, FORCE)``: a second force in flight, a broken rule.
FORCE_TRANSITIONS: Final[Mapping[tuple[ForceState, ForceTrigger], ForceState]] = {
    (ForceState.IDLE, ForceTrigger.FORCE): ForceState.IN_FLIGHT,
    (ForceState.IN_FLIGHT, ForceTrigger.SUCCESS): ForceState.IDLE,
    (ForceState.IN_FLIGHT, ForceTrigger.ALL_UNREGISTERED): ForceState.IDLE,
    (ForceState.IN_FLIGHT, ForceTrigger.STARTUP): ForceState.IDLE,
    (ForceState.IN_FLIGHT, ForceTrigger.GIVE_UP): ForceState.IDLE,
}


@attrs.frozen(kw_only=True)
class Registration(Generic[A]):
    """What registering a batch does.

    Attributes:
        fresh: Actions not registered before, in batch order (the ones to send).
        same: Names already registered with the identical definition (harmless:
            Neuro ignores them).
        conflicts: Names already registered with *another* definition (Neuro would
            keep the old one).
    """

    fresh: tuple[A, ...] = ()
    same: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Restoration(Generic[A, F]):
    """What a fresh Neuro needs to hold a ledger's state: the actions, then the force."""

    actions: tuple[A, ...] = ()
    force: F | None = None


@attrs.frozen(kw_only=True)
class Transition(Generic[F]):
    """What one game frame did to a ledger (see :func:`apply_game_event`).

    Attributes:
        registered: Names newly registered.
        conflicts: Names registered again with another definition (unchanged).
        unregistered: Names removed that were registered.
        force_started: The force it put in flight.
        force_ended: The force it ended (success, unregistration or ``startup``).
        force_replaced: The force that was still in flight when another came.
        unknown_force_names: Names in a force that are not registered.
        answered: The name of the action a result answered; ``None`` for an id
            that was not awaiting a result.
    """

    registered: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    unregistered: tuple[str, ...] = ()
    force_started: F | None = None
    force_ended: F | None = None
    force_replaced: F | None = None
    unknown_force_names: tuple[str, ...] = ()
    answered: str | None = None


class SessionLedger(Generic[A, F]):
    """The registered actions, the force in flight and the unanswered ids of a session.

    Type parameters: ``A`` is what an action is on this side (the game keeps
    :class:`~neuro_bridge.protocol.Action`, Neuro keeps
    :class:`~neuro_bridge.protocol.ActionDefinition`); ``F`` is what a force is
    (anything with ``action_names``).  Every method is synchronous: apply it in the
    order the frames go (or came) over the wire.
    """

    def __init__(self) -> None:
        self._actions: dict[str, A] = {}
        self._force: F | None = None
        self._state = ForceState.IDLE
        # id -> name of every action Neuro sent that is not answered yet.
        self._unanswered: dict[str, str] = {}
        # Read-only views, made once (lookups through them cost no Python call).
        self._actions_view = types.MappingProxyType(self._actions)
        self._unanswered_view = types.MappingProxyType(self._unanswered)

    def __repr__(self) -> str:
        return (
            f"<SessionLedger {len(self._actions)} actions, force {self._state.value},"
            f" {len(self._unanswered)} unanswered>"
        )

    # ------------------------------------------------------------ reading

    @property
    def actions(self) -> Mapping[str, A]:
        """The registered actions by name, oldest first (a live, read-only view)."""
        return self._actions_view

    @property
    def force(self) -> F | None:
        """The force in flight, or ``None``."""
        return self._force

    @property
    def force_state(self) -> ForceState:
        """:attr:`ForceState.IN_FLIGHT` while a force is in flight."""
        return self._state

    @property
    def unanswered(self) -> Mapping[str, str]:
        """Unanswered action id -> the name Neuro sent (a live, read-only view)."""
        return self._unanswered_view

    def unknown_names(self, names: Iterable[str]) -> list[str]:
        """Return the names in *names* that are not registered, in order."""
        return [name for name in names if name not in self._actions]

    def restoration(self) -> Restoration[A, F]:
        """Return what to send after ``startup`` so a fresh Neuro holds this state again."""
        return Restoration(actions=tuple(self._actions.values()), force=self._force)

    # ------------------------------------------------------------ game -> Neuro

    def startup(self) -> F | None:
        """``startup``: Neuro forgets every action and the force; return that force."""
        self._actions.clear()
        return self._fire(ForceTrigger.STARTUP)

    def plan_registration(self, actions: Iterable[A]) -> Registration[A]:
        """Sort a batch into fresh, identical and conflicting actions; change nothing."""
        fresh: list[A] = []
        same: list[str] = []
        conflicts: list[str] = []
        for action in actions:
            current = self._actions.get(action.name)
            if current is None:
                fresh.append(action)
            elif current == action:
                same.append(action.name)
            else:
                conflicts.append(action.name)
        return Registration(fresh=tuple(fresh), same=tuple(same), conflicts=tuple(conflicts))

    def register(self, actions: Iterable[A]) -> Registration[A]:
        """``actions/register``: add the fresh actions; conflicts keep the old definition."""
        plan = self.plan_registration(actions)
        for action in plan.fresh:
            self._actions[action.name] = action
        return plan

    def unregister(self, names: Iterable[str]) -> tuple[tuple[str, ...], F | None]:
        """``actions/unregister``: return the names removed and the force it ended.

        Unknown names are harmless.  A force whose actions are all gone ends.
        """
        removed = tuple(name for name in names if self._actions.pop(name, None) is not None)
        force = self._force
        if force is not None and not any(name in self._actions for name in force.action_names):
            return removed, self._fire(ForceTrigger.ALL_UNREGISTERED)
        return removed, None

    def start_force(self, force: F) -> F | None:
        """``actions/force``: put *force* in flight; return the force it replaced.

        A replaced force means the rules were broken (one force at a time): the game
        side checks :attr:`force_state` first and refuses; the Neuro side reports it.
        """
        replaced = self._force if self._state is ForceState.IN_FLIGHT else None
        if replaced is not None:
            self._fire(ForceTrigger.GIVE_UP)
        self._fire(ForceTrigger.FORCE)
        self._force = force
        return replaced

    def end_force(self) -> F | None:
        """Give up on the force in flight (no frame says so); return it."""
        return self._fire(ForceTrigger.GIVE_UP)

    def answer(self, action_id: str, success: bool) -> tuple[str | None, F | None]:
        """``action/result``: return the answered action's name and the force it ended.

        The name is ``None`` when *action_id* was not awaiting a result.  A success
        for one of the force's actions ends the force.
        """
        name = self._unanswered.pop(action_id, None)
        force = self._force
        if success and force is not None and name in force.action_names:
            return name, self._fire(ForceTrigger.SUCCESS)
        return name, None

    # ------------------------------------------------------------ Neuro -> game

    def action_sent(self, action_id: str, name: str) -> bool:
        """Neuro sent ``action`` *action_id*; return ``False`` if it already awaits a result."""
        if action_id in self._unanswered:
            return False
        self._unanswered[action_id] = name
        return True

    def forget_unanswered(self) -> list[str]:
        """Forget every unanswered id (their connection is gone); return them."""
        stale = list(self._unanswered)
        self._unanswered.clear()
        return stale

    # ------------------------------------------------------------ internals

    def _fire(self, trigger: ForceTrigger) -> F | None:
        """Apply *trigger* per :data:`FORCE_TRANSITIONS`; return the force it ended."""
        state = FORCE_TRANSITIONS.get((self._state, trigger), self._state)
        ended = None
        if state is ForceState.IDLE and self._state is ForceState.IN_FLIGHT:
            ended, self._force = self._force, None
        self._state = state
        return ended


def apply_game_event(
    ledger: SessionLedger[ActionDefinition, F],
    event: GameEvent,
    force: F | None = None,
) -> Transition[F]:
    """Apply a game frame, read on the Neuro side, to *ledger*; say what it did.

    What the stand-in Neuro and a proxy call for every event from
    :func:`~neuro_bridge.protocol.parse_game_message`.  Events that change no state
    (context, shutdown/ready, unknown or malformed frames) return an empty
    :class:`Transition`.

    Args:
        ledger: Neuro's ledger for the game's connection.
        event: The event.
        force: For an :class:`~neuro_bridge.protocol.ActionsForced` event, what to
            keep as the force (the event itself, or a richer record of it).
            Required for those events.

    A force naming only unregistered actions is not put in flight (Neuro cannot
    pick any of them); one naming some is.

    Raises:
        ValueError: For an ``ActionsForced`` event without *force*.
    """
    if isinstance(event, GameStarted):
        return Transition(force_ended=ledger.startup())
    if isinstance(event, ActionsRegistered):
        plan = ledger.register(event.actions)
        return Transition(
            registered=tuple(action.name for action in plan.fresh), conflicts=plan.conflicts
        )
    if isinstance(event, ActionsUnregistered):
        removed, ended = ledger.unregister(event.action_names)
        return Transition(unregistered=removed, force_ended=ended)
    if isinstance(event, ActionsForced):
        if force is None:
            raise ValueError("apply_game_event needs force= for an ActionsForced event")
        unknown = tuple(ledger.unknown_names(event.action_names))
        if unknown and len(unknown) == len(event.action_names):
            return Transition(unknown_force_names=unknown)
        replaced = ledger.start_force(force)
        return Transition(force_started=force, force_replaced=replaced, unknown_force_names=unknown)
    if isinstance(event, ActionResultSent):
        name, ended = ledger.answer(event.id, event.success)
        return Transition(answered=name, force_ended=ended)
    return Transition()
