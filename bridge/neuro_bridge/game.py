"""The game-facing API, engine-agnostic: what a game calls from its own loop.

:class:`NeuroGame` runs the runtime's
:class:`~neuro_bridge.trio_ws.TrioNeuroAPIComponent` in trio's guest mode
(:class:`~neuro_bridge.guest.GuestRunner`) on the engine's main thread, between
frames, so action handlers are plain functions that touch game state directly.
It knows nothing of any engine: an engine module gives it a
:class:`~neuro_bridge.guest.Host` and calls :meth:`NeuroGame.pump` from its loop.

**A new engine** plugs in with two small pieces:

1. A :class:`~neuro_bridge.guest.Host`: one method, ``wake()``, callable from any
   thread and never blocking, that makes the engine's loop come round soon (post
   an event to its queue, set a flag).  Nothing else: the callback queue,
   coalescing, budgets and the graceful drain at shutdown live in
   :class:`~neuro_bridge.guest.GuestRunner`.
2. A subclass of :class:`NeuroGame` that passes its host to ``__init__`` and
   calls :meth:`NeuroGame.pump` from the engine's loop (every frame, or when a
   wake arrives); it may add a frame-pacing wait, event filtering, or cleanup
   after :meth:`NeuroGame.shutdown`.  :class:`~neuro_bridge.engines.pygame.PygameNeuro`
   is one: its host, a frame wait and event filtering, some 300 lines.

**Threads.**  Every method of :class:`NeuroGame` belongs to the host thread (the
one that calls :meth:`NeuroGame.start`); handlers and event callbacks run on it,
inside :meth:`NeuroGame.pump`.  Only ``Host.wake`` is called from trio's I/O
thread.

**Game -> Neuro calls never block.**  :meth:`NeuroGame.send_context`,
:meth:`NeuroGame.force`, :meth:`NeuroGame.add_action` and friends check their
arguments at once (raising :class:`~neuro_bridge.protocol.LocalProtocolError` at
the call site), then queue the command on a trio memory channel with
``send_nowait``; a task inside the guest run sends them, in order, through the
component.  They work before :meth:`NeuroGame.start` and while disconnected: the
component restores registrations and forces after each (re)connect and holds
context until then (see :mod:`neuro_bridge.trio_ws`).

**Action windows** (:class:`ActionWindow`, from :meth:`NeuroGame.action_window`)
group context, actions and a force (now, after a delay, or when a condition
first holds) into one moment that ends on the first successful action, a timed
end, or :meth:`ActionWindow.close`, unregistering its actions together.

**Handlers** return what :data:`~neuro_bridge.component.HandlerReturn` allows;
:func:`~neuro_bridge.component.to_action_result` turns it into the result.  An
exception's text is logged, never sent to Neuro; raise
:exc:`~neuro_bridge.component.ActionFailedError` to tell her why an action failed.
"""

from __future__ import annotations

import collections
import contextlib
import enum
import inspect
import logging
import math
import time
from typing import TYPE_CHECKING, Any, Callable, Final, TypeVar, cast

import attrs
import trio
from libcomponent.component import Component, Event, ExternalRaiseManager

from neuro_bridge.component import (
    SEND_CONTEXT_EVENT,
    ActionFailedError,
    ActionResult,
    is_async_callable,
    to_action_result,
)
from neuro_bridge.guest import DEFAULT_PUMP_BUDGET, DEFAULT_SHUTDOWN_TIMEOUT, GuestRunner
from neuro_bridge.protocol import (
    Action,
    ForcePriority,
    GameCommands,
    LocalProtocolError,
    check_action_name,
    check_context,
    check_force,
)
from neuro_bridge.trio_ws import (
    OutboxFullError,
    TrioNeuroAPIComponent,
    check_url,
    default_url,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Iterable, Mapping, Sequence

    from neuro_bridge.component import ActionHandler, HandlerReturn
    from neuro_bridge.guest import Host
    from neuro_bridge.protocol import ActionRequested

__all__ = [
    "COMMAND_QUEUE_SIZE",
    "CONNECTED_EVENT",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "GRACEFUL_STOP_TIMEOUT",
    "ActionFailedError",
    "ActionResult",
    "ActionWindow",
    "CommandQueueFullError",
    "NeuroGame",
    "OutboxFullError",
    "WindowEnd",
    "WindowState",
]

logger = logging.getLogger(__name__)

H = TypeVar("H", bound="ActionHandler")

#: Commands (context, force, registration, ...) the game may queue before trio has
#: sent them; more raise :class:`CommandQueueFullError`.
COMMAND_QUEUE_SIZE: Final = 4096
#: Seconds :meth:`NeuroGame.shutdown` gives queued commands and the websocket's
#: closing handshake before it cancels the run.
GRACEFUL_STOP_TIMEOUT: Final = 0.5
#: Seconds a command queued by a handler waits for that handler's result.
_HANDLER_RESULT_TIMEOUT: Final = 5.0
#: Event raised (data ``None``) each time a connection is open and restored.
CONNECTED_EVENT: Final = "neuro_connected"


class CommandQueueFullError(RuntimeError):
    """:data:`COMMAND_QUEUE_SIZE` commands are waiting for trio; nothing was queued.

    The game sends faster than trio runs: call :meth:`NeuroGame.pump` (or the
    engine's frame wait) every frame.
    """


class _GameComponent(TrioNeuroAPIComponent):
    """The component, plus a connected event and "which action is being answered"."""

    def __init__(self, component_name: str, game_title: str, **options: Any) -> None:
        super().__init__(component_name, game_title, **options)
        self._result_sent = trio.Event()
        #: The action whose (sync) handler is running or whose result is being sent.
        self.current_action: ActionRequested | None = None
        #: Called with the names each unregistration commits.
        self.on_unregistered: Callable[[Sequence[str]], None] | None = None

    def _actions_unregistered(self, names: Sequence[str]) -> None:
        super()._actions_unregistered(names)
        if self.on_unregistered is not None:
            self.on_unregistered(names)

    async def handle_action(self, action: ActionRequested) -> None:
        self.current_action = action
        try:
            await super().handle_action(action)
        finally:
            self.current_action = None

    def forget_unanswered(self) -> list[str]:
        try:
            return super().forget_unanswered()
        finally:
            self._pulse()

    def _pulse(self) -> None:
        self._result_sent.set()
        self._result_sent = trio.Event()

    async def websocket_connect_successful(self) -> None:
        await super().websocket_connect_successful()
        if self.manager_exists:
            await self.raise_event(Event(CONNECTED_EVENT, None))

    async def send_action_result(
        self,
        id: str,  # noqa: A002 - the published name
        success: bool,
        message: str | None = None,
    ) -> None:
        try:
            await super().send_action_result(id, success, message)
        finally:
            self._pulse()

    async def wait_answered(self, action_id: str) -> None:
        """Wait until *action_id* is answered or forgotten (or a few seconds pass)."""
        with trio.move_on_after(_HANDLER_RESULT_TIMEOUT):
            while self.is_unanswered(action_id):
                await self._result_sent.wait()
        await trio.lowlevel.checkpoint()

    async def wait_all_answered(self) -> None:
        """Wait until every action read so far is answered (or forgotten)."""
        while self._unanswered:
            await self._result_sent.wait()
        await trio.lowlevel.checkpoint()


class _Callbacks(Component):
    """Runs the game's event callbacks (:meth:`NeuroGame.on`) on the host thread."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.callbacks: dict[str, list[Callable[[Any], object]]] = {}
        self._bound: set[str] = set()

    def bind_handlers(self) -> None:
        self._bound.clear()
        for name in self.callbacks:
            self.subscribe(name)

    def subscribe(self, name: str) -> None:
        if self.manager_exists and name not in self._bound:
            self._bound.add(name)
            self.register_handler(name, self._dispatch)

    async def _dispatch(self, event: Event[Any]) -> None:
        for callback in list(self.callbacks.get(event.name, ())):
            try:
                callback(event.data)
            except Exception:
                logger.exception("callback %r for %r raised", callback, event.name)
        await trio.lowlevel.checkpoint()


class _Tracked:
    """A game's handler as registered: one-shot removals and a result listener.

    Two wrappers of the same handler for the same action are equal, so the
    component can tell "the same handler again" from "another handler".
    """

    __slots__ = ("game", "handler", "leaves", "listener", "name")

    def __init__(
        self,
        game: NeuroGame,
        name: str,
        handler: ActionHandler,
        leaves: tuple[str, ...] = (),
        listener: Callable[[ActionResult], None] | None = None,
    ) -> None:
        self.game = game
        self.name = name
        self.handler = handler
        #: Names unregistered when this action succeeds (one-shot, group).
        self.leaves = leaves
        self.listener = listener

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Tracked):
            return NotImplemented
        return self.name == other.name and bool(self.handler == other.handler)

    def __hash__(self) -> int:
        return hash(self.name)  # handlers need not be hashable

    def __repr__(self) -> str:
        return f"<{self.name!r} handler {self.handler!r}>"

    def _answered(self, value: object) -> ActionResult:
        result = to_action_result(value, self.name)
        if result.success and self.leaves:
            # Unregistered before the result: from now on, registering them
            # again (the next turn) is a fresh registration.
            self.game._leaving.update(self.leaves)
        if self.listener is not None:
            self.listener(result)
        return result

    async def _noted(self, awaitable: Awaitable[Any]) -> ActionResult:
        return self._answered(await awaitable)


class _TrackedSync(_Tracked):
    __slots__ = ()

    def __call__(self, data: dict[str, Any]) -> HandlerReturn | Awaitable[HandlerReturn]:
        value = self.handler(data)
        if inspect.isawaitable(value):  # a sync callable that returned a coroutine
            return self._noted(value)
        return self._answered(value)


class _TrackedAsync(_Tracked):
    __slots__ = ()

    async def __call__(self, data: dict[str, Any]) -> HandlerReturn:
        return await self._noted(cast("Awaitable[HandlerReturn]", self.handler(data)))


def _original(handler: object) -> object:
    return handler.handler if isinstance(handler, _Tracked) else handler


_Command = Callable[[], "Awaitable[None]"]


class NeuroGame:
    """Neuro for a game on any engine: actions, context, forces, one pump per frame.

    Create it (through an engine's subclass), declare actions, :meth:`start`,
    then :meth:`pump` from the engine's loop and :meth:`shutdown` on quit.  See
    the module docstring for the thread rules and how an engine plugs in.

    Args:
        game_title: The game's display name, sent with every message.
        url: Neuro's websocket URL; by default ``$NEURO_SDK_WS_URL`` or
            ``ws://localhost:8000``, read by :meth:`start`.
        host: The engine's :class:`~neuro_bridge.guest.Host`.
        pump_budget: Seconds trio may run per :meth:`pump` call.
        **component_options: Passed on to
            :class:`~neuro_bridge.trio_ws.TrioNeuroAPIComponent` (for example
            ``action_timeout``, ``reconnect_max_delay``).

    Raises:
        LocalProtocolError: *game_title* is empty or not a str.
        ValueError: *url* (or, without one, ``$NEURO_SDK_WS_URL``) is not a
            ``ws://`` / ``wss://`` URL.

    """

    def __init__(
        self,
        game_title: str,
        url: str | None = None,
        *,
        host: Host,
        pump_budget: float = DEFAULT_PUMP_BUDGET,
        **component_options: Any,
    ) -> None:
        self._commands = GameCommands(game_title)  # validates the title
        if url is None:
            default_url()  # a malformed $NEURO_SDK_WS_URL is an error here, not a retry loop
        self._url = None if url is None else check_url(url)
        self.runner = GuestRunner(host)
        self.pump_budget = pump_budget
        self._component = _GameComponent("neuro_api", game_title, **component_options)
        self._callbacks = _Callbacks("neuro_bridge_game_callbacks")
        self._manager: ExternalRaiseManager | None = None
        # Commands queued before start() (or after shutdown()), and the channel.
        self._early: collections.deque[_Command] = collections.deque()
        self._send: trio.MemorySendChannel[_Command] | None = None
        # What queued-but-unsent commands will do, for eager checks: name ->
        # queued registrations (action, handler) and removals (None), oldest first.
        self._queued_ops: dict[str, collections.deque[tuple[Action, object] | None]] = {}
        # Forces handed to the command task but not yet to the component's queue.
        self._queued_forces = 0
        # Set when the command task has drained the closed channel (shutdown).
        self._commands_done = trio.Event()
        # Open action windows, polled on every pump.
        self._windows: list[ActionWindow] = []
        # context / shutdown-ready commands queued but not yet handed to the component.
        self._queued_held = 0
        # Names a successful one-shot or group action is about to unregister.
        self._leaving: set[str] = set()
        self._component.on_unregistered = self._leaving.difference_update

    # ------------------------------------------------------------ state

    @property
    def game_title(self) -> str:
        """The game's display name."""
        return self._commands.game

    @property
    def component(self) -> TrioNeuroAPIComponent:
        """The component doing the work; read its state between frames only."""
        return self._component

    @property
    def running(self) -> bool:
        """Whether the guest run is alive (:meth:`start` called, not yet shut down)."""
        return self.runner.running

    @property
    def connected(self) -> bool:
        """Whether a connection to Neuro is open right now."""
        return not self._component.not_connected

    @property
    def force_pending(self) -> bool:
        """Whether a force is in flight (waiting for Neuro's successful action) or queued."""
        component = self._component
        return (
            self._queued_forces > 0
            or component.pending_force is not None
            or len(component.force_queue) > 0
        )

    # ------------------------------------------------------------ actions

    def action(
        self,
        name: str,
        description: str,
        schema: dict[str, Any] | None = None,
        *,
        one_shot: bool = False,
    ) -> Callable[[H], H]:
        """Decorate a handler to register it as action *name* (see :meth:`add_action`).

        The handler gets the validated data (a dict) and returns what
        :data:`~neuro_bridge.component.HandlerReturn` allows: ``None``
        (success), an :class:`~neuro_bridge.component.ActionResult`, a bool, a
        message string or ``(success, message)``.

        Raises:
            LocalProtocolError: The name, description or schema breaks the rules.

        """
        action = Action(name, description, schema)

        def decorator(handler: H) -> H:
            self.add_action(action, handler, one_shot=one_shot)
            return handler

        return decorator

    def add_action(self, action: Action, handler: ActionHandler, *, one_shot: bool = False) -> None:
        """Register *action*; Neuro's performances of it call *handler*.

        The handler (a function, or a coroutine function) runs on the host thread
        inside :meth:`pump`.  With *one_shot* the action is unregistered after its
        first success, before the result is sent.  Registering the same action
        with the same handler again is harmless.

        Raises:
            LocalProtocolError: *action* is not an :class:`~neuro_bridge.protocol.Action`,
                or its name is registered (or queued) with another definition or
                another handler.
            TypeError: *handler* is not callable.
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """
        self._register([(action, handler)], one_shot=one_shot, group=False)

    def add_action_group(self, actions: Sequence[tuple[Action, ActionHandler]]) -> None:
        """Register alternatives: the first success unregisters the whole group.

        Raises:
            LocalProtocolError, TypeError, CommandQueueFullError: As for
                :meth:`add_action`.

        """
        self._register(actions, one_shot=True, group=True)

    def _register(
        self,
        actions: Sequence[tuple[Action, ActionHandler]],
        *,
        one_shot: bool,
        group: bool,
        listener: Callable[[ActionResult], None] | None = None,
    ) -> None:
        pairs = list(actions)
        self._check_new(pairs)
        names = tuple(action.name for action, _ in pairs)
        wrapped = [
            (
                action,
                self._track(
                    action.name,
                    handler,
                    names if group else (action.name,) if one_shot else (),
                    listener,
                ),
            )
            for action, handler in pairs
        ]
        batch = {action.name: (action, handler) for action, handler in pairs}
        component = self._component

        async def register() -> None:
            try:
                if group:
                    await component.register_action_group(wrapped)
                else:
                    await component.register_neuro_actions(wrapped, one_shot=one_shot)
            finally:
                self._unqueue(batch)

        self._submit(register, lambda: self._queue(batch))

    def remove_action(self, *names: str) -> None:
        """Unregister the actions named; unknown names are harmless.

        Raises:
            LocalProtocolError: A name is not a valid action name, or none is given.
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """
        checked = [check_action_name(name) for name in names]
        if not checked:
            raise LocalProtocolError("remove_action needs at least one action name")

        async def unregister() -> None:
            try:
                await self._component.unregister_actions(checked)
            finally:
                self._unqueue(checked)

        self._submit(unregister, lambda: self._queue(dict.fromkeys(checked)))

    def is_registered(self, name: str) -> bool:
        """Return whether *name* is registered, counting commands still queued."""
        return self._registered_after_queue(name) is not None

    def _registered_after_queue(self, name: str) -> tuple[Action, object] | None:
        """Return ``(action, handler)`` bound to *name* once the queue has been sent."""
        queued = self._queued_ops.get(name)
        if queued:
            return queued[-1]
        if name in self._leaving:
            return None
        action = self._component.registered_actions.get(name)
        if action is None:
            return None
        try:
            return action, _original(self._component.handler_for(name))
        except KeyError:
            return action, None

    def _check_new(self, pairs: Sequence[tuple[Action, ActionHandler]]) -> None:
        if not pairs:
            raise LocalProtocolError("at least one action is needed")
        seen: set[str] = set()
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(f"expected (Action, handler) pairs, got {pair!r}")
            action, handler = pair
            if not isinstance(action, Action):
                raise LocalProtocolError(f"expected an Action, got {action!r}")
            if not callable(handler):
                raise TypeError(f"the handler for {action.name!r} is not callable: {handler!r}")
            if action.name in seen:
                raise LocalProtocolError(f"action {action.name!r} appears twice")
            seen.add(action.name)
            current = self._registered_after_queue(action.name)
            if current is None:
                continue
            if current[0] != action:
                raise LocalProtocolError(
                    f"action {action.name!r} is already registered with another"
                    " definition; remove_action() it first"
                )
            if current[1] != handler:
                raise LocalProtocolError(
                    f"action {action.name!r} is already registered with another"
                    " handler; remove_action() it first"
                )

    def _queue(self, ops: Mapping[str, tuple[Action, object] | None]) -> None:
        for name, op in ops.items():
            self._queued_ops.setdefault(name, collections.deque()).append(op)

    def _unqueue(self, names: Iterable[str]) -> None:
        for name in names:
            queued = self._queued_ops.get(name)
            if queued:
                queued.popleft()
                if not queued:
                    del self._queued_ops[name]

    def _track(
        self,
        name: str,
        handler: ActionHandler,
        leaves: tuple[str, ...],
        listener: Callable[[ActionResult], None] | None,
    ) -> ActionHandler:
        """Wrap *handler* for one-shot removals and a result listener."""
        if is_async_callable(handler):
            return _TrackedAsync(self, name, handler, leaves, listener)
        return _TrackedSync(self, name, handler, leaves, listener)

    def action_window(self, *, on_end: Callable[[WindowEnd], object] | None = None) -> ActionWindow:
        """Return a new :class:`ActionWindow` of this game, to build and open.

        Args:
            on_end: Called with the :class:`WindowEnd` once the window has ended.

        """
        return ActionWindow(self, on_end=on_end)

    # ------------------------------------------------------------ messages

    def send_context(self, message: str, silent: bool = True) -> None:
        """Tell Neuro what is happening; *silent* ``False`` lets her answer aloud.

        While disconnected, context waits in the component's outbox for the next
        connection; when the outbox (``outbox_size``, see
        :data:`~neuro_bridge.trio_ws.OUTBOX_SIZE`) would overflow, this raises
        at once and nothing is queued -- never a context lost later.

        Raises:
            LocalProtocolError: *message* is not a str or is blank, or *silent* not a bool.
            OutboxFullError: Disconnected, with the outbox full.
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """
        check_context(message, silent)

        async def send() -> None:
            # Through the component's event, awaited, so contexts keep their order.
            manager = self._manager
            if manager is None:
                await self._component.send_context(message, silent)
            else:
                await manager.raise_event_internal(Event(SEND_CONTEXT_EVENT, (message, silent)))

        self._submit_held(send)

    def force(
        self,
        query: str,
        action_names: str | Sequence[str],
        *,
        state: str | None = None,
        ephemeral_context: bool = False,
        priority: ForcePriority | str = ForcePriority.LOW,
        owner: object = None,
    ) -> None:
        """Make Neuro pick one of *action_names*: now, or when the forces ahead have ended.

        The actions must be registered (or queued by :meth:`add_action` before this
        call).  Only one force is in flight at a time; it ends with a successful
        result for one of its actions, when they are all removed, or when Neuro
        ignores it (sent again once, then given up: see
        :mod:`neuro_bridge.forces`).  Later forces wait in a queue and go out in
        turn, each after the answer that ended the one before, trimmed to the
        actions still registered then (or dropped if none is).  A handler may
        force the next turn: it goes out after the handler's result.

        Args:
            query: What Neuro should do now.
            action_names: The action(s) she may choose from.
            state: The game state as text (e.g. the board).
            ephemeral_context: Forget *state* and *query* after answering.
            priority: How urgent, see :class:`~neuro_bridge.protocol.ForcePriority`.
            owner: Who asks (a window, a screen...), to take it back with
                :meth:`withdraw_force`.

        Raises:
            LocalProtocolError: An argument is invalid or an action is not registered.
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """
        names = (action_names,) if isinstance(action_names, str) else tuple(action_names)
        check_force(
            query=query,
            action_names=names,
            state=state,
            ephemeral_context=ephemeral_context,
            priority=priority,
        )
        unknown = [name for name in names if self._registered_after_queue(name) is None]
        if unknown:
            raise LocalProtocolError(f"cannot force unregistered actions {unknown}")
        component = self._component

        async def send() -> None:
            try:
                # Checked again at the turn: actions removed meanwhile are trimmed.
                still = tuple(name for name in names if name in component.ledger.actions)
                if still:
                    await component.queue_force(
                        state, query, still, ephemeral_context, priority, owner=owner
                    )
                else:
                    logger.info("dropping the force %r: its actions were removed", query)
            finally:
                self._queued_forces -= 1

        def queued() -> None:
            self._queued_forces += 1

        self._submit(send, queued)

    def withdraw_force(self, owner: object) -> None:
        """Take back every force *owner* asked for: queued, or in flight.

        A force in flight is given up (Neuro may still act on it: its actions stay
        registered until the game removes them); the next queued force takes its
        turn.  Unknown owners are harmless.

        Raises:
            ValueError: *owner* is ``None``.
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """
        if owner is None:
            raise ValueError("withdraw_force needs the owner given to force()")

        async def withdraw() -> None:
            await self._component.withdraw_forces(owner)

        self._submit(withdraw)

    def send_shutdown_ready(self) -> None:
        """Tell Neuro the game has saved and may be closed (``shutdown/ready``).

        Raises:
            OutboxFullError: Disconnected, with the outbox full (see :meth:`send_context`).
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """

        async def send() -> None:
            await self._component.send_shutdown_ready()

        self._submit_held(send)

    def _submit_held(self, command: _Command) -> None:
        """Queue a frame the component holds while offline; refuse it if it cannot."""
        component = self._component
        waiting = component.queued_messages + self._queued_held
        if component.not_connected and waiting >= component.outbox_size:
            raise OutboxFullError(
                f"{waiting} messages are waiting for Neuro to reconnect; not queueing more"
            )

        async def counted() -> None:
            self._queued_held -= 1
            await command()

        def queued() -> None:
            self._queued_held += 1

        self._submit(counted, queued)

    def on(self, event_name: str, callback: Callable[[Any], object]) -> None:
        """Call ``callback(data)`` on the host thread when the component raises *event_name*.

        Useful names: :data:`~neuro_bridge.component.GRACEFUL_SHUTDOWN_EVENT` (data:
        ``wants_shutdown``), :data:`~neuro_bridge.component.IMMEDIATE_SHUTDOWN_EVENT`,
        :data:`~neuro_bridge.component.STARTUP_ACKNOWLEDGED_EVENT`,
        :data:`~neuro_bridge.component.SPEECH_FINISHED_EVENT` and
        :data:`CONNECTED_EVENT`.  An exception from *callback* is logged.
        """
        self._callbacks.callbacks.setdefault(event_name, []).append(callback)
        self._callbacks.subscribe(event_name)

    def _submit(self, command: _Command, on_queued: Callable[[], None] | None = None) -> None:
        """Queue *command* for the command task (host thread, never blocks).

        A command queued while an action is being answered (from its handler, or
        while its result is on the way) is sent after that result: a handler
        that registers a one-shot action again, or forces the next turn, does so
        after the one-shot unregistration and the result.
        """
        barrier = self._component.current_action
        if barrier is not None:
            component = self._component
            action_id = barrier.id
            inner = command

            async def after_result() -> None:
                await component.wait_answered(action_id)
                await inner()

            command = after_result
        if self._send is None:
            if len(self._early) >= COMMAND_QUEUE_SIZE:
                raise CommandQueueFullError(f"{len(self._early)} commands are waiting")
            self._early.append(command)
        else:
            try:
                self._send.send_nowait(command)
            except trio.WouldBlock:
                raise CommandQueueFullError(
                    f"{COMMAND_QUEUE_SIZE} commands are waiting for trio; pump every frame"
                ) from None
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                # The run ended on its own (it crashed): keep it for the next start().
                self._send = None
                self._early.append(command)
        if on_queued is not None:
            on_queued()

    # ------------------------------------------------------------ running

    def start(
        self,
        *,
        before_connect: Callable[[trio.Nursery], Awaitable[str | None]] | None = None,
    ) -> None:
        """Start the guest run and connect to Neuro; returns at once.

        Call on the host thread, once the engine is initialised.  Connection
        attempts, reconnects and restoring state all happen in the background;
        commands queued before this call are sent first.

        Args:
            before_connect: An async function run inside the guest run before
                connecting, with a nursery that lives as long as the run (it is
                cancelled after the websocket has closed, in :meth:`shutdown`).
                It may return the URL to connect to.  The demo uses it to start
                the stand-in Neuro in the same run.

        Raises:
            RuntimeError: Already running.

        """
        if self.runner.running:
            raise RuntimeError(f"{type(self).__name__} is already running")
        send, receive = trio.open_memory_channel[_Command](COMMAND_QUEUE_SIZE)
        while self._early:
            send.send_nowait(self._early.popleft())
        self._send = send
        self._commands_done = trio.Event()
        try:
            self.runner.start(self._main, receive, before_connect)
        except BaseException:
            self._send = None
            raise

    async def _main(
        self,
        receive: trio.MemoryReceiveChannel[_Command],
        before_connect: Callable[[trio.Nursery], Awaitable[str | None]] | None,
    ) -> None:
        async with trio.open_nursery() as nursery:
            manager = ExternalRaiseManager("neuro_bridge_game", nursery)
            self._manager = manager
            try:
                manager.add_component(self._component)
                manager.add_component(self._callbacks)
                url = self._url
                if before_connect is not None:
                    url = await before_connect(nursery) or url
                nursery.start_soon(self._run_commands, receive)
                await manager.raise_event(Event("connect", url or default_url()))
                # Returns once shutdown() has closed the channel and it is drained.
                await self._commands_done.wait()
                # Actions already read get their results out before the close.
                with trio.move_on_after(GRACEFUL_STOP_TIMEOUT / 2):
                    await self._component.wait_all_answered()
                await self._component.stop()
            finally:
                nursery.cancel_scope.cancel()
                manager.unbind_components()
                self._manager = None

    async def _run_commands(self, receive: trio.MemoryReceiveChannel[_Command]) -> None:
        try:
            # Commands queued before start() go out in order on the first connection
            # (when it fails, they are kept by the component for the next one).
            with trio.move_on_after(self._component.connect_timeout):
                await self._component.wait_for_websocket()
            async with receive:
                async for command in receive:
                    try:
                        await command()
                    except Exception:
                        logger.exception("sending a queued command to Neuro failed")
        finally:
            self._commands_done.set()

    def pump(self, budget: float | None = None) -> int:
        """Run trio's pending work on this (host) thread; return how many steps ran.

        Cheap when idle; call once per frame (or when the host's wake arrives).
        Handlers and callbacks run in here, and each open :class:`ActionWindow`
        checks its clocks and force condition.

        Args:
            budget: Seconds trio may run; :attr:`pump_budget` by default.

        Raises:
            KeyboardInterrupt: Ctrl-C reached the guest run (a plain one, never
                inside an exception group; see
                :func:`~neuro_bridge.guest.plain_interrupt`); likewise
                :exc:`SystemExit`.
            BaseException: What the guest run crashed with (see
                :meth:`~neuro_bridge.guest.GuestRunner.pump`).
            RuntimeError: Called from another thread.

        """
        if self._windows:
            now = time.monotonic()
            for window in list(self._windows):
                window._poll(now)
        runner = self.runner
        if not runner.pending():
            # The idle fast path (most frames): nothing queued means nothing to
            # run, and no error to report (trio reports it from a callback).
            return 0
        return runner.pump(self.pump_budget if budget is None else budget)

    def shutdown(self, timeout: float = DEFAULT_SHUTDOWN_TIMEOUT) -> None:
        """Send what is queued, close the connection and end the guest run.

        Call on the host thread when the game quits, not from a handler.  Queued
        commands and the websocket's closing handshake get up to
        :data:`GRACEFUL_STOP_TIMEOUT` seconds; then the run is cancelled and
        pumped until trio has finished -- never abandoned.  A no-op when not
        running.  Commands queued afterwards wait for the next :meth:`start`.

        Raises:
            GuestShutdownTimeoutError: The run did not finish within *timeout*
                seconds (something ignores cancellation); call again to keep trying.
            KeyboardInterrupt: As for :meth:`pump`; likewise :exc:`SystemExit`.
            BaseException: What the guest run crashed with.

        """
        send, self._send = self._send, None
        if send is not None:
            send.close()  # the command task drains the queue, then stops the component
        if not self.runner.running:
            return
        self.runner.shutdown(timeout, grace=min(GRACEFUL_STOP_TIMEOUT, timeout / 2))
        self._queued_forces = 0
        self._queued_held = 0
        self._queued_ops.clear()
        self._leaving.clear()


class WindowState(enum.Enum):
    """Where an :class:`ActionWindow` is in its life."""

    #: Being built: context, actions, force and end may still be set.
    BUILDING = "building"
    #: Open: its actions are registered; its force (if any) is not sent yet.
    OPEN = "open"
    #: Open, and its force has been sent.
    FORCED = "forced"
    #: Over: its actions are unregistered (see :class:`WindowEnd` for why).
    ENDED = "ended"


class WindowEnd(enum.Enum):
    """Why an :class:`ActionWindow` ended."""

    #: One of its actions succeeded.
    SUCCESS = "success"
    #: Its end time (:meth:`ActionWindow.set_end`) came first.
    TIMEOUT = "timeout"
    #: The game called :meth:`ActionWindow.close`.
    CLOSED = "closed"


@attrs.frozen(kw_only=True)
class _WindowForce:
    query: str
    state: str | None
    ephemeral_context: bool
    priority: ForcePriority
    after: float
    when: Callable[[], object] | None


class ActionWindow:
    """A moment when Neuro may act: context, a set of actions, an optional force, one end.

    Build it (:meth:`add_action` / :meth:`action`, :meth:`set_context`,
    :meth:`set_force`, :meth:`set_end`), then :meth:`open` it: the context is
    sent and the actions are registered together.  The window ends -- once --
    on the first of:

    * a **successful action** of the window (its actions are unregistered
      before that result is sent, so Neuro cannot pick a second one),
    * its **end time** (:meth:`set_end`), or
    * :meth:`close` from the game;

    and then every action of the window still registered is unregistered in one
    message, which also ends the window's force if it is in flight.  A failed
    action (bad data, a handler returning failure) leaves the window open, and a
    forced one is retried by Neuro.

    **The force** (:meth:`set_force`) is due at :meth:`open`, after a delay, or
    the first time a condition holds -- checked on every
    :meth:`NeuroGame.pump`, so on every frame.  Then it joins the game's force
    queue (:meth:`NeuroGame.force`, the window as its owner): when another force
    is in flight it waits its turn, and it goes out naming the window's actions
    still registered then.  When the window ends, its force ends with it,
    queued or in flight.  Times are measured on the host thread at each pump
    (``time.monotonic``), so they are as precise as the game's frame rate.

    **Reconnects** change nothing: the registrations and the force in flight
    are restored by the component on every connection, and the window's clock
    and state live in the game.  The context is a message: it is sent once, at
    :meth:`open` (held while offline and delivered on the next connection).

    All methods belong to the host thread; handlers run inside
    :meth:`NeuroGame.pump`.  Create windows with :meth:`NeuroGame.action_window`.

    Args:
        game: The :class:`NeuroGame` the window belongs to.
        on_end: Called with the :class:`WindowEnd` once the window has ended (an
            exception from it is logged).

    """

    def __init__(
        self, game: NeuroGame, *, on_end: Callable[[WindowEnd], object] | None = None
    ) -> None:
        self.game = game
        self.on_end = on_end
        self._state = WindowState.BUILDING
        self._end_reason: WindowEnd | None = None
        self._pairs: list[tuple[Action, ActionHandler]] = []
        self._context: tuple[str, bool] | None = None
        self._force: _WindowForce | None = None
        self._force_due = False
        self._end_after: float | None = None
        self._opened_at = 0.0

    # ------------------------------------------------------------ building

    @property
    def state(self) -> WindowState:
        """Where the window is in its life."""
        return self._state

    @property
    def end_reason(self) -> WindowEnd | None:
        """Why the window ended, or ``None`` while it has not."""
        return self._end_reason

    @property
    def action_names(self) -> tuple[str, ...]:
        """The names of the window's actions, in the order they were added."""
        return tuple(action.name for action, _ in self._pairs)

    def _check_building(self, what: str) -> None:
        if self._state is not WindowState.BUILDING:
            raise RuntimeError(f"cannot {what}: the window is {self._state.value}")

    def add_action(self, action: Action, handler: ActionHandler) -> None:
        """Add *action*, performed by *handler* (as for :meth:`NeuroGame.add_action`).

        Raises:
            RuntimeError: The window is already open or over.
            LocalProtocolError: *action* is not an Action, or its name is in the
                window already.
            TypeError: *handler* is not callable.

        """
        self._check_building("add an action")
        if not isinstance(action, Action):
            raise LocalProtocolError(f"expected an Action, got {action!r}")
        if not callable(handler):
            raise TypeError(f"the handler for {action.name!r} is not callable: {handler!r}")
        if action.name in self.action_names:
            raise LocalProtocolError(f"action {action.name!r} is in the window already")
        self._pairs.append((action, handler))

    def action(
        self, name: str, description: str, schema: dict[str, Any] | None = None
    ) -> Callable[[H], H]:
        """Decorate a handler to add it as action *name* (see :meth:`add_action`)."""
        action = Action(name, description, schema)

        def decorator(handler: H) -> H:
            self.add_action(action, handler)
            return handler

        return decorator

    def set_context(self, message: str, silent: bool = True) -> None:
        """Send *message* as context when the window opens (see :meth:`NeuroGame.send_context`).

        Raises:
            RuntimeError: The window is already open or over.
            LocalProtocolError: *message* is not a str or is blank, or *silent* not a bool.

        """
        self._check_building("set the context")
        check_context(message, silent)
        self._context = (message, silent)

    def set_force(
        self,
        query: str,
        *,
        state: str | None = None,
        ephemeral_context: bool = False,
        priority: ForcePriority | str = ForcePriority.LOW,
        after: float = 0.0,
        when: Callable[[], object] | None = None,
    ) -> None:
        """Force Neuro to pick one of the window's actions once the window is open.

        The force is due *after* seconds from :meth:`open` (at once by default)
        and, with *when*, the first time ``when()`` is true from then on
        (checked on every pump; an exception from it is logged and counts as
        false).  A due force waits its turn behind other forces (see the class
        docstring).

        Args:
            query: What Neuro should do now.
            state: The game state as text.
            ephemeral_context: Forget *state* and *query* after answering.
            priority: How urgent, see :class:`~neuro_bridge.protocol.ForcePriority`.
            after: Seconds from :meth:`open` before the force may go out.
            when: A condition that must also hold once.

        Raises:
            RuntimeError: The window is already open or over.
            LocalProtocolError: An argument is invalid.
            ValueError: *after* is negative or not a number.
            TypeError: *when* is not callable.

        """
        self._check_building("set the force")
        check_force(  # the action names come at open()
            query=query,
            action_names=("x",),
            state=state,
            ephemeral_context=ephemeral_context,
            priority=priority,
        )
        _check_seconds("after", after, allow_zero=True)
        if when is not None and not callable(when):
            raise TypeError(f"when must be callable, not {when!r}")
        self._force = _WindowForce(
            query=query,
            state=state,
            ephemeral_context=ephemeral_context,
            priority=ForcePriority(priority),
            after=float(after),
            when=when,
        )

    def set_end(self, after: float) -> None:
        """End the window *after* seconds from :meth:`open`, if nothing ended it first.

        Raises:
            RuntimeError: The window is already open or over.
            ValueError: *after* is not a positive number.

        """
        self._check_building("set the end")
        _check_seconds("after", after, allow_zero=False)
        self._end_after = float(after)

    # ------------------------------------------------------------ running

    def open(self) -> None:
        """Send the context, register the actions, and start the clocks.

        An immediate force is queued at once.

        Raises:
            RuntimeError: The window is already open or over, or has no action.
            LocalProtocolError: An action's name is registered with another
                definition or handler.
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """
        self._check_building("open the window")
        if not self._pairs:
            raise RuntimeError("an action window needs at least one action")
        game = self.game
        game._register(self._pairs, one_shot=True, group=True, listener=self._answered)
        if self._context is not None:
            game.send_context(*self._context)
        self._state = WindowState.OPEN
        self._opened_at = time.monotonic()
        game._windows.append(self)
        self._poll(self._opened_at)

    def close(self) -> None:
        """End the window now (:attr:`WindowEnd.CLOSED`); a no-op once it has ended.

        A window closed before :meth:`open` never registers anything.
        """
        if self._state is WindowState.ENDED:
            return
        self._end(WindowEnd.CLOSED, unregister=self._state is not WindowState.BUILDING)

    def _answered(self, result: ActionResult) -> None:
        """End the window if one of its handlers succeeded (called inside pump)."""
        if result.success and self._state in (WindowState.OPEN, WindowState.FORCED):
            # The group's registration unregisters every action before the result.
            self._end(WindowEnd.SUCCESS, unregister=False)

    def _poll(self, now: float) -> None:
        """Check the clocks and the condition (the game calls this on every pump)."""
        elapsed = now - self._opened_at
        if self._end_after is not None and elapsed >= self._end_after:
            self._end(WindowEnd.TIMEOUT, unregister=True)
            return
        force = self._force
        if force is None or self._state is not WindowState.OPEN or elapsed < force.after:
            return
        if not self._force_due:
            if force.when is not None:
                try:
                    if not force.when():
                        return
                except Exception:
                    logger.exception("the force condition of an action window raised")
                    return
            self._force_due = True
        game = self.game
        self._state = WindowState.FORCED
        names = [name for name in self.action_names if game.is_registered(name)]
        if not names:
            logger.info("not forcing %r: the window's actions were all removed", force.query)
            return
        game.force(
            force.query,
            names,
            state=force.state,
            ephemeral_context=force.ephemeral_context,
            priority=force.priority,
            owner=self,
        )

    def _end(self, reason: WindowEnd, *, unregister: bool) -> None:
        forced = self._state is WindowState.FORCED
        self._state = WindowState.ENDED
        self._end_reason = reason
        game = self.game
        with contextlib.suppress(ValueError):
            game._windows.remove(self)
        if unregister:
            still = [name for name in self.action_names if game.is_registered(name)]
            if still:
                game.remove_action(*still)
        if forced:
            game.withdraw_force(self)
        logger.debug("action window %s ended: %s", self.action_names, reason.value)
        if self.on_end is not None:
            try:
                self.on_end(reason)
            except Exception:
                logger.exception("on_end callback of an action window raised")


def _check_seconds(name: str, value: object, *, allow_zero: bool) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {kind} number of seconds, not {value!r}")
