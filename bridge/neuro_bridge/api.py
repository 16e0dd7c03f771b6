"""AbstractNeuroAPI: the game side of the Neuro API over two abstract coroutines.

A subclass supplies :meth:`AbstractNeuroAPI.write_to_websocket` and
:meth:`AbstractNeuroAPI.read_from_websocket`; this class supplies everything else:
the ``send_*`` methods for every game -> Neuro command, :meth:`read_message`
dispatching every Neuro -> game command to a ``handle_*`` hook, the registry of
the actions Neuro currently holds, and the one-force-in-flight rule.

State kept here mirrors what Neuro knows about the game, so it can be restored:
``startup`` makes Neuro forget every action, so :meth:`send_startup_command`
always follows it with the registration of every current action (and the pending
force, if any).  Nothing the game registered is ever silently lost.
"""

from __future__ import annotations

import abc
import logging
from typing import TYPE_CHECKING, Any, Union

import attrs

from neuro_bridge.protocol import (
    Action,
    ActionRequested,
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
    parse_neuro_message,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = [
    "AbstractNeuroAPI",
    "ActionMessageError",
    "ActionMessageTypeError",
    "ForceInFlightError",
    "ForceRequest",
    "OutgoingKind",
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

    Attributes:
        action_id: The id to answer, or ``None`` when none could be recovered
            (or when the id belongs to an action still being handled).
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


#: The kinds of frame a game sends (see ``_send_frame``): the protocol's
#: :class:`~neuro_bridge.protocol.GameCommandKind`, under its older name.
OutgoingKind = GameCommandKind


@attrs.frozen(kw_only=True)
class ForceRequest:
    """The ``actions/force`` in flight, kept so it can be sent again after a reconnect."""

    query: str
    action_names: tuple[str, ...]
    state: str | None
    ephemeral_context: bool
    priority: ForcePriority
    frame: str


class AbstractNeuroAPI(abc.ABC):
    """The game side of the Neuro API, independent of any websocket library.

    Args:
        game_title: The game's display name, sent in every message.

    Raises:
        LocalProtocolError: If *game_title* is not a non-empty string.
    """

    def __init__(self, game_title: str) -> None:
        self._commands = GameCommands(game_title)
        self._actions: dict[str, Action] = {}
        self._pending_force: ForceRequest | None = None
        # id -> name of every action Neuro sent that is not answered yet.
        self._unanswered: dict[str, str] = {}

    # ------------------------------------------------------------ transport

    @abc.abstractmethod
    async def write_to_websocket(self, data: str) -> None:
        """Send *data* as one text frame."""

    @abc.abstractmethod
    async def read_from_websocket(self) -> WebsocketMessage:
        """Return the next frame from Neuro."""

    async def _send_frame(
        self, frame: str, kind: str, commit: Callable[[], str | None] | None = None
    ) -> None:
        """Deliver one frame of *kind* (an :class:`OutgoingKind` value).

        *commit*, when given, records the state change the frame announces and
        returns the frame to send -- rebuilt against the state it found, or ``None``
        when there is nothing left to send.  It runs right before the write, so a
        subclass that serialises writes (or re-sends state after a reconnect) sees
        state and frames in one order.  The default commits and writes at once.
        """
        if commit is not None:
            committed = commit()
            if committed is None:
                return
            frame = committed
        await self.write_to_websocket(frame)

    # ------------------------------------------------------------ state

    @property
    def game_title(self) -> str:
        """The game's display name."""
        return self._commands.game

    def get_registered(self) -> tuple[str, ...]:
        """Return the names of the currently registered actions, oldest first."""
        return tuple(self._actions)

    @property
    def registered_actions(self) -> Mapping[str, Action]:
        """The currently registered actions by name (a copy, oldest first)."""
        return self._actions.copy()

    @property
    def pending_force(self) -> ForceRequest | None:
        """The ``actions/force`` in flight, or ``None``."""
        return self._pending_force

    def clear_pending_force(self) -> None:
        """Forget the force in flight, e.g. when the game moved on without it."""
        self._pending_force = None

    # ------------------------------------------------------------ game -> Neuro

    async def send_startup_command(self) -> None:
        """Send ``startup``, then restore what it erased on Neuro's side.

        ``startup`` clears every action Neuro holds for the game, so every current
        action is registered again right after it, and a force still in flight is
        sent again after that.
        """
        await self._send_frame(self._commands.startup(), OutgoingKind.STARTUP)
        await self._restore_registrations()

    def _registration_frame(self) -> str | None:
        """Return ``actions/register`` for every current action, or ``None`` if none."""
        if not self._actions:
            return None
        return self._commands.register_actions(list(self._actions.values()))

    async def _restore_registrations(self) -> None:
        frame = self._registration_frame()
        if frame is not None:
            await self._send_frame(frame, OutgoingKind.REGISTER)
        if self._pending_force is not None:
            await self._send_frame(self._pending_force.frame, OutgoingKind.FORCE)

    async def send_context(self, message: str, silent: bool = True) -> None:
        """Send ``context``: tell Neuro what is happening.

        Args:
            message: Plain text.
            silent: ``False`` lets Neuro answer out loud if she is not busy.
        """
        await self._send_frame(self._commands.context(message, silent), OutgoingKind.CONTEXT)

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
        batch = list(actions) if not isinstance(actions, Action) else actions
        fresh = self._check_new_actions(batch)
        frame = self._commands.register_actions(fresh) if fresh else ""

        def commit() -> str | None:
            # The registry may have changed while this frame waited for its turn
            # (e.g. an unregistration of the same name was queued before it).
            now_fresh = self._check_new_actions(batch)
            if on_commit is not None:
                on_commit()  # may raise to refuse the batch: nothing is recorded then
            for action in now_fresh:
                self._actions[action.name] = action
            if now_fresh == fresh:
                return frame or None
            return self._commands.register_actions(now_fresh) if now_fresh else None

        await self._send_frame(frame, OutgoingKind.REGISTER, commit)

    def _check_new_actions(self, actions: Sequence[Action]) -> list[Action]:
        if isinstance(actions, Action):
            raise LocalProtocolError("register_actions takes a sequence of actions")
        batch = list(actions)
        if not batch:
            raise LocalProtocolError("register_actions needs at least one action")
        check_actions(batch)  # types and duplicate names within the batch
        fresh = []
        for action in batch:
            current = self._actions.get(action.name)
            if current is None:
                fresh.append(action)
            elif current != action:
                raise LocalProtocolError(
                    f"action {action.name!r} is already registered with another"
                    " definition; unregister it first"
                )
        return fresh

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

        def commit() -> str:
            for name in names:
                self._actions.pop(name, None)
            self._actions_unregistered(names)
            force = self._pending_force
            if force is not None and not any(n in self._actions for n in force.action_names):
                self._pending_force = None
            return frame

        await self._send_frame(frame, OutgoingKind.UNREGISTER, commit)

    def _actions_unregistered(self, names: Sequence[str]) -> None:  # noqa: B027 - optional hook
        """React to *names* leaving the registry (called in send order).  No-op here."""

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
        names = tuple(action_names) if not isinstance(action_names, str) else (action_names,)
        frame = self._commands.force_actions(
            query=query,
            action_names=names,
            state=state,
            ephemeral_context=ephemeral_context,
            priority=priority,
        )
        unknown = [name for name in names if name not in self._actions]
        if unknown:
            raise LocalProtocolError(f"cannot force unregistered actions {unknown}")
        if self._pending_force is not None:
            raise ForceInFlightError(
                "a force is already in flight for "
                f"{list(self._pending_force.action_names)}; wait for its result or"
                " call clear_pending_force()"
            )
        force = ForceRequest(
            query=query,
            action_names=names,
            state=state,
            ephemeral_context=ephemeral_context,
            priority=ForcePriority(priority),
            frame=frame,
        )

        def commit() -> str:
            if self._pending_force is not None:  # another task forced meanwhile
                raise ForceInFlightError("a force was sent while this one waited")
            self._pending_force = force
            return frame

        await self._send_frame(frame, OutgoingKind.FORCE, commit)

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

        Raises:
            LocalProtocolError: If *success* is false and there is no message.
        """
        frame = self._commands.action_result(id, success, message)

        def commit() -> str:
            name = self._unanswered.pop(id, None)
            force = self._pending_force
            if success and force is not None and name in force.action_names:
                self._pending_force = None
            return frame

        await self._send_frame(frame, OutgoingKind.RESULT, commit)

    async def send_shutdown_ready(self) -> None:
        """Send ``shutdown/ready``: progress is saved, the game may be closed."""
        await self._send_frame(self._commands.shutdown_ready(), OutgoingKind.SHUTDOWN_READY)

    # ------------------------------------------------------------ Neuro -> game

    async def read_message(self) -> None:
        """Read one message from Neuro and dispatch it to its ``handle_*`` hook.

        Unknown commands go to :meth:`handle_unknown_command`; malformed messages
        that cannot be answered are logged and dropped.

        Raises:
            ActionMessageError: An ``action`` with missing keys (a ``ValueError``;
                unknown extra keys are logged and ignored, unlike the page says).
                ``action_id`` says whom to answer.
            ActionMessageTypeError: An ``action`` with a field of the wrong type (a
                ``TypeError``).
        """
        await self.dispatch_event(parse_neuro_message(await self.read_from_websocket()))

    async def dispatch_event(self, event: NeuroEvent) -> None:
        """Run the ``handle_*`` hook for one parsed event (see :meth:`read_message`)."""
        if isinstance(event, ActionRequested):
            if event.id in self._unanswered:
                logger.warning(
                    "ignoring action %r: id %r is already being handled", event.name, event.id
                )
                return
            self._unanswered[event.id] = event.name
            await self.handle_action(event)
        elif isinstance(event, InvalidActionMessage):
            action_id = event.action_id
            reason = event.reason
            if action_id is not None and action_id in self._unanswered:
                # That id belongs to an action still being handled: its answer is
                # the handler's, so this frame gets none.
                reason = f"{reason} (id {action_id!r} is already being handled)"
                action_id = None
            elif action_id is not None:
                self._unanswered[action_id] = ""
            if event.wrong_type:
                raise ActionMessageTypeError(reason, action_id)
            raise ActionMessageError(reason, action_id)
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
            logger.debug("malformed frame: %.200s", event.frame)

    def forget_unanswered(self) -> list[str]:
        """Forget every unanswered action id (their connection is gone); return them."""
        stale = list(self._unanswered)
        self._unanswered.clear()
        return stale

    def is_unanswered(self, action_id: str) -> bool:
        """Return whether Neuro's action *action_id* still awaits its result."""
        return action_id in self._unanswered

    async def handle_action(self, action: ActionRequested) -> None:
        """Handle an ``action`` from Neuro.  Override this.

        The default answers ``success=False``: this class binds no handlers.
        """
        await self.send_action_result(
            action.id, False, f"This game has no handler for the action {action.name!r}."
        )

    async def handle_reregister_all(self) -> None:
        """Handle ``actions/reregister_all``: register every current action again.

        Only the actions: a force in flight is still Neuro's, and sending it again
        would put a second force in flight.
        """
        frame = self._registration_frame()
        if frame is not None:
            await self._send_frame(frame, OutgoingKind.REGISTER)

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
            "joined session %s of %s (%s)", ack.session_id, ack.display_name, ack.character_id
        )

    async def handle_speech_finished(self, event: SpeechFinished) -> None:
        """Handle ``speech_finished``.  The default logs it at debug level."""
        logger.debug("Neuro finished speaking: %s", event)

    async def handle_unknown_command(self, command: str, data: Any) -> None:
        """Handle a command this version does not know.  The default logs it."""
        logger.warning("ignoring unknown command %r from Neuro", command)
