"""AbstractNeuroAPI: the game side of the Neuro API over two abstract coroutines.

A subclass supplies :meth:`AbstractNeuroAPI.write_to_websocket` and
:meth:`AbstractNeuroAPI.read_from_websocket`; this class supplies everything else:
the ``send_*`` methods for every game -> Neuro command, :meth:`read_message`
dispatching every Neuro -> game command to a ``handle_*`` hook, the registry of
the actions Neuro currently holds, and the one-force-in-flight rule with the
forces queued behind it (:mod:`neuro_bridge.forces`).

State kept here mirrors what Neuro knows about the game, so it can be restored; it
lives in a :class:`~neuro_bridge.ledger.SessionLedger` (:attr:`AbstractNeuroAPI.ledger`),
the same rules the stand-in Neuro applies from its side.  ``startup`` makes Neuro
forget every action, so :meth:`send_startup_command` always follows it with the
registration of every current action (and the pending force, if any).  Nothing the
game registered is ever silently lost.
"""

from __future__ import annotations

import abc
import collections
import functools
import logging
from typing import TYPE_CHECKING, Any, Union

import attrs
import trio

from neuro_bridge.forces import ForceQueue, Overdue
from neuro_bridge.ledger import SessionLedger
from neuro_bridge.protocol import (
    Action,
    ActionRequested,
    ActionsForced,
    ForcePriority,
    GameCommandKind,
    GameCommands,
    GracefulShutdownRequested,
    ImmediateShutdownRequested,
    InvalidActionMessage,
    LocalProtocolError,
    NeuroEvent,
    RemoteProtocolError,
    ReregisterAllRequested,
    SpeechFinished,
    StartupAcknowledged,
    UnknownCommand,
    check_action_names,
    check_actions,
    check_force,
    parse_neuro_message,
    result_message,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = [
    "AbstractNeuroAPI",
    "ActionMessageError",
    "ActionMessageTypeError",
    "ForceInFlightError",
    "ForceRequest",
    "WebsocketMessage",
]

logger = logging.getLogger(__name__)

#: What a websocket read may return.
WebsocketMessage = Union[bytes, bytearray, memoryview, str]


class ForceInFlightError(LocalProtocolError):
    """An ``actions/force`` was asked for while another one is still in flight.

    Only one force may be in flight: the first ends when the game sends a
    successful ``action/result`` for one of its actions, or when all of its actions
    are unregistered, or when :meth:`AbstractNeuroAPI.clear_pending_force` is called.
    """


class _InvalidActionMessageError(RemoteProtocolError):
    """An ``action`` from Neuro that cannot be handled as sent.

    Raised after :meth:`AbstractNeuroAPI.handle_invalid_action` has answered it:
    the exception reports, it does not ask for an answer.

    Attributes:
        action_id: The id the frame carried, or ``None`` when none could be read.
        reason: What was wrong.
    """

    def __init__(self, reason: str, action_id: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.action_id = action_id


class ActionMessageError(_InvalidActionMessageError, ValueError):
    """An ``action`` from Neuro with missing keys in its data.

    Unknown *extra* keys are no error (the published page says otherwise): they are
    logged and the action is handled, as the specification asks.
    """


class ActionMessageTypeError(_InvalidActionMessageError, TypeError):
    """An ``action`` from Neuro with a field of the wrong type."""


@attrs.frozen(kw_only=True)
class ForceRequest:
    """An ``actions/force``, queued or in flight, kept so it can be sent (again).

    Attributes:
        owner: Who asked for it (see :meth:`AbstractNeuroAPI.withdraw_forces`);
            not part of equality.
    """

    query: str
    action_names: tuple[str, ...]
    state: str | None
    ephemeral_context: bool
    priority: ForcePriority
    frame: str
    owner: object = attrs.field(default=None, eq=False, repr=False)


def _force_request(commands: GameCommands, forced: ActionsForced, owner: object) -> ForceRequest:
    return ForceRequest(
        query=forced.query,
        action_names=forced.action_names,
        state=forced.state,
        ephemeral_context=forced.ephemeral_context,
        priority=forced.priority,
        frame=commands.force(forced),
        owner=owner,
    )


def _trimmed_force(
    commands: GameCommands, force: ForceRequest, names: tuple[str, ...]
) -> ForceRequest:
    forced = ActionsForced(
        query=force.query,
        action_names=names,
        state=force.state,
        ephemeral_context=force.ephemeral_context,
        priority=force.priority,
    )
    return _force_request(commands, forced, force.owner)


class _WriteTurn:
    """One writer at a time, in the order they asked: a ``trio.StrictFIFOLock``.

    The same first-come, first-served hand-over, without the lock's per-call
    owner bookkeeping (every action's result passes through here).  Usable as
    ``async with``.
    """

    __slots__ = ("_waiting", "busy")

    def __init__(self) -> None:
        #: Whether someone has the turn (take it without waiting by setting it).
        self.busy = False
        self._waiting = trio.lowlevel.ParkingLot()

    async def take(self) -> None:
        """Wait for the turn (first come, first served)."""
        if not self.busy:
            self.busy = True
            await trio.lowlevel.cancel_shielded_checkpoint()
            return
        await self._waiting.park()  # the releaser hands the turn over

    def release(self) -> None:
        """Give the turn to the longest waiter, or free it."""
        if self._waiting:
            self._waiting.unpark(count=1)  # the turn passes on: still busy
        else:
            self.busy = False

    async def __aenter__(self) -> None:
        await self.take()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()


class AbstractNeuroAPI(abc.ABC):
    """The game side of the Neuro API, independent of any websocket library.

    Every ``send_*`` call checks its arguments, commits what it changes to the
    session's :attr:`ledger` at once (so :attr:`registered_actions` and
    :attr:`pending_force` answer for it as soon as the call is made), then writes
    its frame.  Frames go to the socket in the order their calls were made, one
    writer at a time, first come first served (as under a
    ``trio.StrictFIFOLock``); a call cancelled while it waits for its turn still
    has its frame written by the call before it.

    Args:
        game_title: The game's display name, sent in every message.

    Raises:
        LocalProtocolError: If *game_title* is not a non-empty string.
    """

    def __init__(self, game_title: str) -> None:
        self._commands = GameCommands(game_title)
        self._ledger: SessionLedger[Action, ForceRequest] = SessionLedger()
        # Live read-only views of the ledger, for the hot paths of subclasses.
        self._actions: Mapping[str, Action] = self._ledger.actions
        self._unanswered: Mapping[str, str] = self._ledger.unanswered
        # Committed frames not yet written, in commit order, and their one writer.
        self._outgoing: collections.deque[tuple[str, GameCommandKind]] = collections.deque()
        self._write_lock = _WriteTurn()
        self._forces: ForceQueue[ForceRequest] = ForceQueue(
            # Bound to the builder, not to self: no reference cycle keeps a
            # closed connection's API object (and its socket) alive.
            functools.partial(_trimmed_force, self._commands)
        )

    # ------------------------------------------------------------ transport

    @abc.abstractmethod
    async def write_to_websocket(self, data: str) -> None:
        """Send *data* as one text frame."""

    @abc.abstractmethod
    async def read_from_websocket(self) -> WebsocketMessage:
        """Return the next frame from Neuro."""

    async def _send_frame(self, frame: str, kind: GameCommandKind) -> None:
        """Write a committed frame after every frame committed before it."""
        self._outgoing.append((frame, kind))
        await self._flush()

    async def _flush(self) -> None:
        turn = self._write_lock
        # Taken without a checkpoint when free, so a cancelled caller still writes
        # the frame it committed.  When busy, the writer ahead writes every queued
        # frame, this one included, before it hands over: a cancel while waiting
        # loses nothing.
        if turn.busy:
            await turn.take()
        else:
            turn.busy = True
        try:
            while self._outgoing:
                frame, kind = self._outgoing.popleft()
                await self._deliver(frame, kind)
        finally:
            turn.release()

    async def _deliver(self, frame: str, kind: GameCommandKind) -> None:
        """Write one frame, in order, in the write turn.  Subclasses may hold it."""
        await self.write_to_websocket(frame)

    def _restoration_frames(self) -> list[tuple[str, GameCommandKind]]:
        """Return ``startup`` and what makes a fresh Neuro hold the ledger's state.

        The one place that decides what a new connection (or a ``startup``) must
        re-send: every current action in one ``actions/register``, then the force
        in flight (see :meth:`~neuro_bridge.ledger.SessionLedger.restoration`).
        """
        return [(self._commands.startup(), GameCommandKind.STARTUP), *self._reregistration()]

    def _reregistration(self, *, force: bool = True) -> list[tuple[str, GameCommandKind]]:
        """Every current action in one ``actions/register``, then the force in flight."""
        restoration = self._ledger.restoration()
        frames = []
        if restoration.actions:
            frames.append(
                (self._commands.register_actions(restoration.actions), GameCommandKind.REGISTER)
            )
        if force and restoration.force is not None:
            frames.append((restoration.force.frame, GameCommandKind.FORCE))
            self._forces.sent(trio.current_time())  # Neuro's clock starts again
        return frames

    # ------------------------------------------------------------ state

    @property
    def game_title(self) -> str:
        """The game's display name."""
        return self._commands.game

    @property
    def ledger(self) -> SessionLedger[Action, ForceRequest]:
        """The session's state as this game has committed it (see :mod:`neuro_bridge.ledger`)."""
        return self._ledger

    def get_registered(self) -> tuple[str, ...]:
        """Return the names of the currently registered actions, oldest first."""
        return tuple(self._ledger.actions)

    @property
    def registered_actions(self) -> Mapping[str, Action]:
        """The currently registered actions by name (a copy, oldest first)."""
        return dict(self._ledger.actions)

    @property
    def pending_force(self) -> ForceRequest | None:
        """The ``actions/force`` in flight, or ``None``."""
        return self._ledger.force

    @property
    def force_queue(self) -> ForceQueue[ForceRequest]:
        """The forces waiting behind the one in flight (see :meth:`queue_force`)."""
        return self._forces

    def clear_pending_force(self) -> None:
        """Forget the force in flight, e.g. when the game moved on without it.

        A queued force takes its turn at the next frame the game sends, or at the
        next :meth:`check_forces`.
        """
        self._ledger.end_force()

    # ------------------------------------------------------------ game -> Neuro

    async def send_startup_command(self) -> None:
        """Send ``startup``, then restore what it erased on Neuro's side.

        ``startup`` clears every action Neuro holds for the game, so every current
        action is registered again right after it, and a force still in flight is
        sent again after that.
        """
        self._outgoing.extend(self._restoration_frames())
        await self._flush()

    async def send_context(self, message: str, silent: bool = True) -> None:
        """Send ``context``: tell Neuro what is happening.

        Args:
            message: Plain text.
            silent: ``False`` lets Neuro answer out loud if she is not busy.
        """
        await self._send_frame(self._commands.context(message, silent), GameCommandKind.CONTEXT)

    async def register_actions(self, actions: Sequence[Action]) -> None:
        """Register *actions* with Neuro.

        The whole batch is checked before any of it is recorded or sent.  An action
        identical to one already registered is skipped (Neuro ignores
        re-registrations anyway); a *different* action under a registered name is
        refused, because Neuro would keep the old one.

        Raises:
            LocalProtocolError: For an empty batch, a non-``Action`` item, a name twice
                in the batch, or a name registered with another definition.
        """
        await self._register_actions(actions, None)

    async def _register_actions(
        self, actions: Sequence[Action], on_commit: Callable[[], None] | None
    ) -> None:
        fresh = self._check_new_actions(actions)
        if on_commit is not None:
            on_commit()  # may raise to refuse the batch: nothing is recorded then
        self._ledger.register(fresh)
        if fresh:
            frame = self._commands.register_actions(fresh)
            await self._send_frame(frame, GameCommandKind.REGISTER)

    def _check_new_actions(self, actions: Sequence[Action]) -> list[Action]:
        """Return the actions of *actions* not yet registered; raise for a conflict."""
        if isinstance(actions, Action):
            raise LocalProtocolError("register_actions takes a sequence of actions")
        batch = check_actions(actions)  # types and duplicate names within the batch
        plan = self._ledger.plan_registration(batch)
        if plan.conflicts:
            raise LocalProtocolError(
                f"action {plan.conflicts[0]!r} is already registered with another"
                " definition; unregister it first"
            )
        return list(plan.fresh)

    async def unregister_actions(self, action_names: Iterable[str]) -> None:
        """Unregister the actions named; unknown names are harmless.

        *action_names* may be a single name (a str), as for
        :meth:`send_force_action`.  A force in flight whose actions are all gone
        ends with them.
        """
        if isinstance(action_names, str):  # one name, not its letters
            action_names = (action_names,)
        names = check_action_names(action_names)
        frame = self._commands.unregister_actions(names)
        self._ledger.unregister(names)
        self._actions_unregistered(names)
        self._outgoing.append((frame, GameCommandKind.UNREGISTER))
        self._commit_force_turn()
        await self._flush()

    def _actions_unregistered(self, names: Sequence[str]) -> None:  # noqa: B027 - optional hook
        """React to *names* leaving the registry (called in commit order).  No-op here."""

    async def send_force_action(
        self,
        state: str | None,
        query: str,
        action_names: Iterable[str],
        ephemeral_context: bool = False,
        priority: ForcePriority | str = ForcePriority.LOW,
    ) -> None:
        """Send ``actions/force``: make Neuro choose one of *action_names* now.

        Args:
            state: The game state as text, or ``None``.
            query: What Neuro should do.
            action_names: Registered actions she may choose from.
            ephemeral_context: Forget *state* and *query* after answering.
            priority: How urgent, see :class:`~neuro_bridge.protocol.ForcePriority`.

        Raises:
            ForceInFlightError: If a force is already in flight (see
                :attr:`pending_force`).
            LocalProtocolError: If a name is not registered or an argument is invalid.
        """
        forced = self._checked_force(state, query, action_names, ephemeral_context, priority)
        pending = self._ledger.force
        if pending is not None:
            raise ForceInFlightError(
                f"a force is already in flight for {list(pending.action_names)}; wait"
                " for its result or call clear_pending_force()"
            )
        force = _force_request(self._commands, forced, None)
        self._ledger.start_force(force)
        self._forces.sent(trio.current_time())
        await self._send_frame(force.frame, GameCommandKind.FORCE)

    async def queue_force(
        self,
        state: str | None,
        query: str,
        action_names: Iterable[str],
        ephemeral_context: bool = False,
        priority: ForcePriority | str = ForcePriority.LOW,
        *,
        owner: object = None,
    ) -> None:
        """Send ``actions/force`` when its turn comes: at once, or after the forces ahead.

        The forgiving form of :meth:`send_force_action`, by the rule of
        :mod:`neuro_bridge.forces`: while a force is in flight (or an action awaits
        its result) this one waits in :attr:`force_queue`; at its turn it is
        trimmed to the actions still registered, or dropped if none is.

        Args:
            state: The game state as text, or ``None``.
            query: What Neuro should do.
            action_names: Registered actions she may choose from.
            ephemeral_context: Forget *state* and *query* after answering.
            priority: How urgent, see :class:`~neuro_bridge.protocol.ForcePriority`.
            owner: Who asks (a window, a menu...), for :meth:`withdraw_forces`.

        Raises:
            LocalProtocolError: If a name is not registered now or an argument is
                invalid.
        """
        forced = self._checked_force(state, query, action_names, ephemeral_context, priority)
        evicted = self._forces.push(_force_request(self._commands, forced, owner))
        if evicted is not None:
            logger.warning(
                "dropping the force %r: %d forces are queued already",
                evicted.query,
                self._forces.max_queued,
            )
        if self._commit_force_turn():
            await self._flush()

    async def withdraw_forces(self, owner: object) -> None:
        """Withdraw every force *owner* asked for: the queued ones and the one in flight.

        The next queued force then takes its turn.  Unknown owners are harmless.
        """
        if owner is None:
            raise LocalProtocolError("withdraw_forces needs the owner given to queue_force")
        self._forces.withdraw(lambda force: force.owner is owner)
        in_flight = self._ledger.force
        if in_flight is not None and in_flight.owner is owner:
            self._ledger.end_force()
        if self._commit_force_turn():
            await self._flush()

    async def check_forces(self, now: float | None = None) -> None:
        """Re-send or give up an overdue force, and send a queued force whose turn came.

        See :meth:`~neuro_bridge.forces.ForceQueue.overdue`.  Call it now and then
        (the trio component does, about once a second while connected).

        Args:
            now: The time on trio's clock; by default :func:`trio.current_time`.
        """
        now = trio.current_time() if now is None else now
        overdue = self._forces.overdue(now, self._ledger)
        force = self._ledger.force
        if force is not None and overdue is Overdue.RESEND:
            logger.info("Neuro has not acted on the force %r; sending it again", force.query)
            self._outgoing.append((force.frame, GameCommandKind.FORCE))
        elif force is not None and overdue is Overdue.GIVE_UP:
            logger.warning(
                "giving up the force %r: Neuro did not act on it, even when sent again",
                force.query,
            )
            self._ledger.end_force()
        self._commit_force_turn(now)
        if self._outgoing:
            await self._flush()

    def _checked_force(
        self,
        state: str | None,
        query: str,
        action_names: Iterable[str],
        ephemeral_context: bool,
        priority: ForcePriority | str,
    ) -> ActionsForced:
        """Check a force's arguments and that it names only registered actions."""
        names = tuple(action_names) if not isinstance(action_names, str) else (action_names,)
        forced = check_force(
            query=query,
            action_names=names,
            state=state,
            ephemeral_context=ephemeral_context,
            priority=priority,
        )
        unknown = self._ledger.unknown_names(names)
        if unknown:
            raise LocalProtocolError(f"cannot force unregistered actions {unknown}")
        return forced

    def _commit_force_turn(self, now: float | None = None) -> bool:
        """Commit the next queued force if its turn has come; return whether one was.

        Its frame goes into the outgoing queue behind every frame committed before
        (the result or unregistration that ended the previous force): flush after.
        """
        if not self._forces:
            return False
        turn = self._forces.take_turn(self._ledger)
        for dropped in turn.dropped:
            logger.info("dropping the force %r: none of its actions is registered", dropped.query)
        force = turn.send
        if force is None:
            return False
        self._ledger.start_force(force)
        self._forces.sent(trio.current_time() if now is None else now)
        self._outgoing.append((force.frame, GameCommandKind.FORCE))
        return True

    async def send_action_result(
        self,
        id: str,  # noqa: A002 - the published name
        success: bool,
        message: str | None = None,
    ) -> None:
        """Send ``action/result``: the one answer to Neuro's action *id*.

        Send it as soon as the data is validated, before the effect runs.
        ``success=False`` during a force makes Neuro retry the force; to report an
        error without a retry, send ``success=True`` with the error as *message*.
        Every answer passes here, and says what
        :func:`~neuro_bridge.protocol.result_message` decides: a failure without a
        message (or with a blank one) tells Neuro the game could not perform the
        action right now.

        Raises:
            LocalProtocolError: If *id* is not a str, *success* not a bool, or
                *message* neither a str nor ``None``.
        """
        if message is not None or not success:
            message = result_message(success, message, self._unanswered.get(id))
        frame = self._commands.action_result(id, success, message)
        self._ledger.answer(id, success)
        self._outgoing.append((frame, GameCommandKind.RESULT))
        self._commit_force_turn()
        await self._flush()

    async def send_shutdown_ready(self) -> None:
        """Send ``shutdown/ready``: progress is saved, the game may be closed."""
        await self._send_frame(self._commands.shutdown_ready(), GameCommandKind.SHUTDOWN_READY)

    # ------------------------------------------------------------ Neuro -> game

    async def read_message(self) -> None:
        """Read one message from Neuro and dispatch it to its ``handle_*`` hook.

        Unknown commands go to :meth:`handle_unknown_command`; malformed messages
        that cannot be answered are logged and dropped.

        Raises:
            ActionMessageError: An ``action`` with missing keys (a ``ValueError``;
                unknown extra keys are logged and ignored, unlike the page says),
                after :meth:`handle_invalid_action` has answered it.
            ActionMessageTypeError: An ``action`` with a field of the wrong type (a
                ``TypeError``), likewise.
        """
        await self.dispatch_event(parse_neuro_message(await self.read_from_websocket()))

    async def dispatch_event(self, event: NeuroEvent) -> None:
        """Run the ``handle_*`` hook for one parsed event (see :meth:`read_message`)."""
        if isinstance(event, ActionRequested):
            if not self._ledger.action_sent(event.id, event.name):
                logger.warning(
                    "ignoring action %r: id %r is already being handled", event.name, event.id
                )
                return
            force = self._ledger.force
            if force is not None and event.name in force.action_names:
                self._forces.acted(trio.current_time())
            await self._take_action(event)
        elif isinstance(event, InvalidActionMessage):
            # Answered by the hook; the exception only reports it (the seed's
            # read_message raises for such frames).
            await self.handle_invalid_action(event)
            if event.wrong_type:
                raise ActionMessageTypeError(event.reason, event.action_id)
            raise ActionMessageError(event.reason, event.action_id)
        elif isinstance(event, ReregisterAllRequested):
            await self.handle_reregister_all()
        elif isinstance(event, GracefulShutdownRequested):
            await self.handle_graceful_shutdown_request(event.wants_shutdown)
        elif isinstance(event, ImmediateShutdownRequested):
            await self.handle_immediate_shutdown()
        elif isinstance(event, StartupAcknowledged):
            await self.handle_startup_acknowledgement(event)
        elif isinstance(event, SpeechFinished):
            await self.handle_speech_finished(event)
        elif isinstance(event, UnknownCommand):
            await self.handle_unknown_command(event.command, event.data)
        else:
            logger.warning("dropping malformed message from Neuro: %s", event.reason)
            logger.debug("malformed frame: %.200r", event.frame)

    def forget_unanswered(self) -> list[str]:
        """Forget every unanswered action id (their connection is gone); return them."""
        stale = self._ledger.forget_unanswered()
        self._commit_force_turn()  # goes out with the next connection's restoration
        return stale

    def is_unanswered(self, action_id: str) -> bool:
        """Return whether Neuro's action *action_id* still awaits its result."""
        return action_id in self._unanswered

    async def _take_action(self, action: ActionRequested) -> None:
        """Pass an ``action`` just read on to :meth:`handle_action`.

        A subclass may queue it instead, to keep reading while handlers run.
        """
        await self.handle_action(action)

    async def handle_action(self, action: ActionRequested) -> None:
        """Handle an ``action`` from Neuro.  Override this.

        The default answers ``success=False``: this class binds no handlers.
        """
        await self.send_action_result(
            action.id, False, f"This game has no handler for the action {action.name!r}."
        )

    async def handle_invalid_action(self, event: InvalidActionMessage) -> None:
        """Handle an ``action`` that cannot be handled as sent: log it, answer it.

        The answer is a failure naming what was wrong, sent when the id could be
        read and does not belong to an action still being handled (that one gets
        its handler's answer, so this frame gets none).  Override to answer
        otherwise; :meth:`read_message` then raises
        :class:`ActionMessageError` or :class:`ActionMessageTypeError` to report it.
        """
        action_id = event.action_id
        if action_id is not None and action_id in self._unanswered:
            logger.warning(
                "invalid action message from Neuro: %s (id %r is already being handled)",
                event.reason,
                action_id,
            )
            return
        logger.warning("invalid action message from Neuro: %s", event.reason)
        if action_id is not None:
            self._ledger.action_sent(action_id, "")
            await self.send_action_result(
                action_id, False, f"Invalid action message: {event.reason}."
            )

    async def handle_reregister_all(self) -> None:
        """Handle ``actions/reregister_all``: Neuro lost her state; restore it.

        Every current action is registered again in one ``actions/register``, then
        the force in flight is sent again: Neuro forgot it with the actions (the
        restoration a reconnect sends, without ``startup``) -- unless her pick for
        it still awaits its answer: she has that force, and a force sent now would
        reach her while she waits for a result (a ``reregister_all`` crossing the
        restoration of a reconnect does that).
        """
        pending = self._ledger.force
        acting = pending is not None and any(
            name in pending.action_names for name in self._unanswered.values()
        )
        self._outgoing.extend(self._reregistration(force=not acting))
        await self._flush()

    async def handle_graceful_shutdown_request(self, wants_shutdown: bool) -> None:
        """Handle ``shutdown/graceful``.  The default logs it; override to save and leave.

        When *wants_shutdown* is true, save at the next safe point, go to the main
        menu and call :meth:`send_shutdown_ready`; false cancels the request.
        """
        logger.info("Neuro asked for a graceful shutdown (wants_shutdown=%s)", wants_shutdown)

    async def handle_immediate_shutdown(self) -> None:
        """Handle ``shutdown/immediate``.  The default logs it; override to save.

        Save within a few seconds, then call :meth:`send_shutdown_ready`.
        """
        logger.info("Neuro asked for an immediate shutdown")

    async def handle_startup_acknowledgement(self, ack: StartupAcknowledged) -> None:
        """Handle Neuro's ``startup`` acknowledgement.  The default logs it."""
        logger.info(
            # %r: the text is Neuro's, and a newline in it must not forge log lines.
            "joined session %r of %r (%r)",
            ack.session_id,
            ack.display_name,
            ack.character_id,
        )

    async def handle_speech_finished(self, event: SpeechFinished) -> None:
        """Handle ``speech_finished``.  The default logs it at debug level."""
        logger.debug("Neuro finished speaking: %s", event)

    async def handle_unknown_command(self, command: str, data: Any) -> None:
        """Handle a command this version does not know.  The default logs it."""
        logger.warning("ignoring unknown command %r from Neuro", command)
