"""Neuro in a pygame-ce game: the guest-mode host and the API the game calls.

A pygame game owns its main loop.  :class:`PygameNeuro` runs the runtime's
:class:`~neuro_bridge.trio_ws.TrioNeuroAPIComponent` in trio's guest mode
(:class:`~neuro_bridge.guest.GuestRunner`) on the game's main thread, between
frames, so action handlers are plain functions that touch game state directly::

    neuro = PygameNeuro("My Game")             # URL: $NEURO_SDK_WS_URL or ws://localhost:8000

    @neuro.action("my_game_jump", "Jump.", {"type": "object", "properties": {...}})
    def jump(data):                            # runs on the main thread
        player.jump()

    neuro.start()
    while running:
        for event in pygame.event.get():
            ...                                # our wake events may be ignored
        draw()
        neuro.wait_frame(60)                   # instead of clock.tick(60)
    neuro.shutdown()

**Threads.**  Every method of :class:`PygameNeuro` belongs to the main thread (the
one that called :meth:`PygameNeuro.start`); handlers and event callbacks run on it,
inside :meth:`PygameNeuro.pump` / :meth:`PygameNeuro.wait_frame`.  Only
:meth:`PygameHost.wake` is called from trio's I/O thread.

**Game -> Neuro calls never block.**  :meth:`PygameNeuro.send_context`,
:meth:`PygameNeuro.force`, :meth:`PygameNeuro.add_action` and friends check their
arguments at once (raising :class:`~neuro_bridge.protocol.LocalProtocolError` at
the call site), then queue the command on a trio memory channel with
``send_nowait``; a task inside the guest run sends them, in order, through the
component.  They work before :meth:`PygameNeuro.start` and while disconnected:
the component restores registrations and forces after each (re)connect and holds
context until then (see :mod:`neuro_bridge.trio_ws`).

**Latency.**  :meth:`PygameNeuro.wait_frame` sleeps for what is left of the frame
but wakes as soon as trio has work, runs it, and sleeps again, so an action is
handled within a fraction of a millisecond of its arrival.  A game that keeps
``clock.tick(fps)`` and calls :meth:`PygameNeuro.pump` once per frame works too,
but then every message waits for the next frame: up to a whole frame per hop
(16.7 ms at 60 fps, about 8 ms on average), and a handler that awaits several
round trips pays that on each.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Final, TypeVar, cast

import pygame
import trio
from libcomponent.component import Component, Event, ExternalRaiseManager

from neuro_bridge.api import ForceInFlightError, ForceRequest
from neuro_bridge.component import SEND_CONTEXT_EVENT, ActionResult, is_async_callable
from neuro_bridge.guest import DEFAULT_PUMP_BUDGET, GuestRunner
from neuro_bridge.protocol import (
    Action,
    ForcePriority,
    GameCommands,
    LocalProtocolError,
    check_action_name,
)
from neuro_bridge.trio_ws import TrioNeuroAPIComponent, check_url, default_url

if TYPE_CHECKING:
    from collections.abc import Awaitable, Iterable, Sequence

    from neuro_bridge.component import ActionHandler, HandlerReturn
    from neuro_bridge.protocol import ActionRequested

__all__ = [
    "COMMAND_QUEUE_SIZE",
    "CONNECTED_EVENT",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "GRACEFUL_STOP_TIMEOUT",
    "WAKE_REPOST_AFTER",
    "CommandQueueFullError",
    "PygameHost",
    "PygameNeuro",
]

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Seconds after which :meth:`PygameHost.wake` posts again although its last wake
#: event was never reported consumed (the game swallowed it without
#: :meth:`PygameNeuro.handle_event`).
WAKE_REPOST_AFTER: Final = 0.25
#: Commands (context, force, registration, ...) the game may queue before trio has
#: sent them; more raise :class:`CommandQueueFullError`.
COMMAND_QUEUE_SIZE: Final = 4096
#: Seconds :meth:`PygameNeuro.shutdown` gives queued commands and the websocket's
#: closing handshake before it cancels the run.
GRACEFUL_STOP_TIMEOUT: Final = 0.5
#: Seconds :meth:`PygameNeuro.shutdown` waits in all by default.
DEFAULT_SHUTDOWN_TIMEOUT: Final = 2.0
#: Seconds a queued force waits for the result that ends the previous force.
_FORCE_HANDOFF_TIMEOUT: Final = 5.0  # also for commands queued by a handler
#: Event raised (data ``None``) each time a connection is open and restored.
CONNECTED_EVENT: Final = "neuro_connected"


class CommandQueueFullError(RuntimeError):
    """:data:`COMMAND_QUEUE_SIZE` commands are waiting for trio; nothing was queued.

    The game sends faster than trio runs: call :meth:`PygameNeuro.pump` (or
    :meth:`PygameNeuro.wait_frame`) every frame.
    """


class PygameHost:
    """The :class:`~neuro_bridge.guest.Host` for pygame-ce: wakes the game's loop.

    :meth:`wake` does two cheap things, from any thread:

    * sets a :class:`threading.Event` that :meth:`wait` sleeps on (what
      :meth:`PygameNeuro.wait_frame` uses), and
    * unless the main thread is sleeping in :meth:`wait` right now, posts one
      event of :attr:`event_type` to pygame's queue, for loops that block in
      :func:`pygame.event.wait` themselves.  Coalesced: while a posted
      wake event has not been reported consumed (:meth:`consumed`), no other is
      posted (unless it is older than *repost_after* seconds), so the SDL queue
      holds at most one of ours.  The post is guarded: a full SDL queue, a closed
      display or a blocked event type is logged (once) and counted in
      :attr:`post_failures`, never raised -- the threading event still wakes
      :meth:`wait`, and the game pumps every frame anyway.

    Args:
        event_type: The pygame event type to post; a fresh
            :func:`pygame.event.custom_type` by default.
        repost_after: See :data:`WAKE_REPOST_AFTER`.

    Attributes:
        event_type: The wake event type; :meth:`PygameNeuro.handle_event` swallows it.
        posted: Wake events posted so far.
        post_failures: Posts that failed.

    """

    def __init__(
        self, event_type: int | None = None, *, repost_after: float = WAKE_REPOST_AFTER
    ) -> None:
        self.event_type = pygame.event.custom_type() if event_type is None else event_type
        self.repost_after = repost_after
        self.posted = 0
        self.post_failures = 0
        self._lock = threading.Lock()
        self._posted_at: float | None = None
        # A binary semaphore: released = a wake is pending.  A raw lock (not a
        # threading.Event) because its timed acquire is one cheap call.
        self._woken = threading.Lock()
        self._woken.acquire()
        self._waiting = False  # the main thread is inside wait()
        self._failure_logged = False

    def wake(self) -> None:
        """Wake the game loop; any thread, never blocks, never raises."""
        with contextlib.suppress(RuntimeError):  # already released: a wake is pending
            self._woken.release()
        if self._waiting:
            # The main thread sleeps in wait() and pumps when it wakes: posting
            # would only hold the GIL it needs (and leave a stale event behind).
            return
        now = time.monotonic()
        with self._lock:
            if self._posted_at is not None and now - self._posted_at < self.repost_after:
                return
            self._posted_at = now
        try:
            posted = pygame.event.post(pygame.event.Event(self.event_type))
            problem = "the event type is blocked"
        except pygame.error as exc:  # full queue, or no display
            posted = False
            problem = str(exc)
        if posted:
            self.posted += 1
            self._failure_logged = False
            return
        with self._lock:
            self._posted_at = None
        self.post_failures += 1
        if not self._failure_logged:
            self._failure_logged = True
            logger.debug("could not post a pygame wake event: %s", problem)

    def consumed(self) -> None:
        """Report that the game took our wake event off the queue (main thread)."""
        with self._lock:
            self._posted_at = None

    def is_wake_event(self, event: pygame.event.Event) -> bool:
        """Return whether *event* is one of our wake events."""
        return bool(event.type == self.event_type)

    def wait(self, timeout: float) -> bool:
        """Sleep until :meth:`wake` or *timeout* seconds; return whether woken.

        Consumes the wake.  Call on the main thread, and pump after it returns.
        """
        self._waiting = True
        try:
            return self._woken.acquire(timeout=max(timeout, 0.0))
        finally:
            self._waiting = False


class _BridgeComponent(TrioNeuroAPIComponent):
    """The component, plus a connected event and "which action is being answered"."""

    def __init__(self, component_name: str, game_title: str, **options: Any) -> None:
        super().__init__(component_name, game_title, **options)
        self._result_sent = trio.Event()
        #: The action whose (sync) handler is running or whose result is being sent.
        self.current_action: ActionRequested | None = None

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
        with trio.move_on_after(_FORCE_HANDOFF_TIMEOUT):
            while self.is_unanswered(action_id):
                await self._result_sent.wait()
        await trio.lowlevel.checkpoint()

    async def wait_result_sent(self) -> None:
        """Wait until the next result has been sent (or unanswered ids forgotten)."""
        await self._result_sent.wait()


class _Callbacks(Component):
    """Runs the game's event callbacks (:meth:`PygameNeuro.on`) on the main thread."""

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


def _is_success(value: object) -> bool:
    """Whether a handler's return value means success (see HandlerReturn)."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, ActionResult):
        return value.success
    if isinstance(value, tuple) and value and isinstance(value[0], bool):
        return value[0]
    return False


_Command = Callable[[], "Awaitable[None]"]


class PygameNeuro:
    """Neuro for a pygame-ce game: actions, context, forces, one call per frame.

    Create it, declare actions, :meth:`start`, then call :meth:`wait_frame`
    (or :meth:`pump`) once per frame and :meth:`shutdown` on quit.  See the module
    docstring for the thread rules and the latency trade-off.

    Args:
        game_title: The game's display name, sent with every message.
        url: Neuro's websocket URL; by default ``$NEURO_SDK_WS_URL`` or
            ``ws://localhost:8000``, read by :meth:`start`.
        host: The :class:`PygameHost`; a new one by default.
        pump_budget: Seconds trio may run per :meth:`pump` call.
        **component_options: Passed on to
            :class:`~neuro_bridge.trio_ws.TrioNeuroAPIComponent` (for example
            ``action_timeout``, ``reconnect_max_delay``).

    Raises:
        LocalProtocolError: *game_title* is empty or not a str.
        ValueError: *url* is not a ``ws://`` / ``wss://`` URL.

    """

    def __init__(
        self,
        game_title: str,
        url: str | None = None,
        *,
        host: PygameHost | None = None,
        pump_budget: float = DEFAULT_PUMP_BUDGET,
        **component_options: Any,
    ) -> None:
        self._commands = GameCommands(game_title)  # validates the title
        self._url = None if url is None else check_url(url)
        self.host = host if host is not None else PygameHost()
        self.runner = GuestRunner(self.host)
        self.pump_budget = pump_budget
        self._component = _BridgeComponent("neuro_api", game_title, **component_options)
        self._callbacks = _Callbacks("neuro_bridge_pygame_callbacks")
        self._manager: ExternalRaiseManager | None = None
        # Commands queued before start() (or after shutdown()), and the channel.
        self._early: collections.deque[_Command] = collections.deque()
        self._send: trio.MemorySendChannel[_Command] | None = None
        # What queued-but-unsent commands will do, for eager checks.
        # name -> queued registrations (Action) and removals (None), oldest first.
        self._queued_ops: dict[str, collections.deque[Action | None]] = {}
        self._queued_forces = 0
        # Forces a handler is answering / has answered successfully / has failed:
        # while the result for the pending force is on its way, the next force
        # may be queued behind it (see force()).
        self._answering: ForceRequest | None = None
        self._resolving_force: ForceRequest | None = None
        self._failed_force: ForceRequest | None = None
        self._last_frame: float | None = None
        # Set when the command task has drained the closed channel (shutdown).
        self._commands_done = trio.Event()

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
        """Whether a force is queued or waiting for Neuro's successful action."""
        return self._queued_forces > 0 or self._component.pending_force is not None

    # ------------------------------------------------------------ actions

    def action(
        self,
        name: str,
        description: str,
        schema: dict[str, Any] | None = None,
        *,
        one_shot: bool = False,
    ) -> Callable[[F], F]:
        """Decorate a handler to register it as action *name* (see :meth:`add_action`).

        The handler gets the validated data (a dict) and may return ``None``
        (success), an :class:`~neuro_bridge.component.ActionResult`, a bool, a
        message string or ``(success, message)``.

        Raises:
            LocalProtocolError: The name, description or schema breaks the rules.

        """
        action = Action(name, description, schema)

        def decorator(handler: F) -> F:
            self.add_action(action, handler, one_shot=one_shot)
            return handler

        return decorator

    def add_action(self, action: Action, handler: ActionHandler, *, one_shot: bool = False) -> None:
        """Register *action*; Neuro's performances of it call *handler*.

        The handler (a function, or a coroutine function) runs on the main thread
        inside :meth:`pump`.  With *one_shot* the action is unregistered after its
        first success, before the result is sent.  Registering the same action
        again is harmless.

        Raises:
            LocalProtocolError: *action* is not an :class:`~neuro_bridge.protocol.Action`,
                or its name is registered (or queued) with another definition.
            TypeError: *handler* is not callable.
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """
        self._check_new([(action, handler)])
        wrapped = self._wrap(action.name, handler)

        async def register() -> None:
            try:
                await self._component.register_action(action, wrapped, one_shot=one_shot)
            finally:
                self._unqueue([action.name])

        self._submit(register, lambda: self._queue({action.name: action}))

    def add_action_group(self, actions: Sequence[tuple[Action, ActionHandler]]) -> None:
        """Register alternatives: the first success unregisters the whole group.

        Raises:
            LocalProtocolError, TypeError, CommandQueueFullError: As for
                :meth:`add_action`.

        """
        pairs = list(actions)
        self._check_new(pairs)
        wrapped = [(action, self._wrap(action.name, handler)) for action, handler in pairs]
        batch = [action for action, _ in pairs]

        async def register() -> None:
            try:
                await self._component.register_action_group(wrapped)
            finally:
                self._unqueue([action.name for action in batch])

        self._submit(register, lambda: self._queue({action.name: action for action in batch}))

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

    def _registered_after_queue(self, name: str) -> Action | None:
        """Return the action *name* will be bound to once the queue has been sent."""
        queued = self._queued_ops.get(name)
        if queued:
            return queued[-1]
        return self._component.registered_actions.get(name)

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
            if current is not None and current != action:
                raise LocalProtocolError(
                    f"action {action.name!r} is already registered with another"
                    " definition; remove_action() it first"
                )

    def _queue(self, ops: dict[str, Action | None]) -> None:
        for name, op in ops.items():
            self._queued_ops.setdefault(name, collections.deque()).append(op)

    def _unqueue(self, names: Iterable[str]) -> None:
        for name in names:
            queued = self._queued_ops.get(name)
            if queued:
                queued.popleft()
                if not queued:
                    del self._queued_ops[name]

    def _wrap(self, name: str, handler: ActionHandler) -> ActionHandler:
        """Track answers to the pending force, so the next one can queue behind it."""

        async def noted(force: ForceRequest | None, awaitable: Awaitable[Any]) -> Any:
            try:
                value = await awaitable
            except BaseException:  # raised, or cancelled (too slow): a failure
                self._note_answer(force, False)
                raise
            self._note_answer(force, value)
            return value

        if is_async_callable(handler):

            @functools.wraps(handler)
            async def async_wrapper(data: dict[str, Any]) -> HandlerReturn:
                force = self._answering_force(name)
                try:
                    awaitable = cast("Awaitable[HandlerReturn]", handler(data))
                except BaseException:
                    self._note_answer(force, False)
                    raise
                return cast("HandlerReturn", await noted(force, awaitable))

            return async_wrapper

        @functools.wraps(handler)
        def wrapper(data: dict[str, Any]) -> Any:
            force = self._answering_force(name)
            try:
                value = handler(data)
            except BaseException:
                self._note_answer(force, False)
                raise
            if inspect.isawaitable(value):  # a sync callable that returned a coroutine
                return noted(force, value)
            self._note_answer(force, value)
            return value

        return wrapper

    def _answering_force(self, name: str) -> ForceRequest | None:
        force = self._component.pending_force
        if force is None or name not in force.action_names:
            return None
        self._answering = force
        return force

    def _note_answer(self, force: ForceRequest | None, value: object) -> None:
        if force is None:
            return
        if self._answering is force:
            self._answering = None
        if _is_success(value):
            self._resolving_force = force
            self._failed_force = None
        else:
            self._failed_force = force

    # ------------------------------------------------------------ messages

    def send_context(self, message: str, silent: bool = True) -> None:
        """Tell Neuro what is happening; *silent* ``False`` lets her answer aloud.

        Raises:
            LocalProtocolError: *message* is not a str or *silent* not a bool.
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """
        self._commands.context(message, silent)  # validates

        async def send() -> None:
            # Through the component's event, awaited, so contexts keep their order.
            manager = self._manager
            if manager is None:
                await self._component.send_context(message, silent)
            else:
                await manager.raise_event_internal(Event(SEND_CONTEXT_EVENT, (message, silent)))

        self._submit(send)

    def force(
        self,
        query: str,
        action_names: str | Sequence[str],
        *,
        state: str | None = None,
        ephemeral_context: bool = False,
        priority: ForcePriority | str = ForcePriority.LOW,
    ) -> None:
        """Make Neuro pick one of *action_names* now.

        The actions must be registered (or queued by :meth:`add_action` before this
        call).  Only one force may be in flight: it ends with a successful result
        for one of its actions, or when they are all removed.  A handler may queue
        the next force as soon as it has answered the current one successfully;
        it is sent after that result.

        Args:
            query: What Neuro should do now.
            action_names: The action(s) she may choose from.
            state: The game state as text (e.g. the board).
            ephemeral_context: Forget *state* and *query* after answering.
            priority: How urgent, see :class:`~neuro_bridge.protocol.ForcePriority`.

        Raises:
            LocalProtocolError: An argument is invalid or an action is not registered.
            ForceInFlightError: Another force is still in flight.
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """
        names = (action_names,) if isinstance(action_names, str) else tuple(action_names)
        self._commands.force_actions(
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
        awaited = component.pending_force
        if self._queued_forces or (
            awaited is not None
            and awaited is not self._resolving_force
            and awaited is not self._answering
        ):
            raise ForceInFlightError(
                "a force is already in flight; wait until Neuro's action for it succeeds"
            )

        async def send() -> None:
            try:
                # Queued by the handler answering the previous force: send it
                # after that answer's result, never two forces at once.
                with trio.move_on_after(_FORCE_HANDOFF_TIMEOUT):
                    while (
                        awaited is not None
                        and component.pending_force is awaited
                        and self._failed_force is not awaited
                    ):
                        await component.wait_result_sent()
                await component.send_force_action(state, query, names, ephemeral_context, priority)
            finally:
                self._queued_forces -= 1

        def queued() -> None:
            self._queued_forces += 1

        self._submit(send, queued)

    def send_shutdown_ready(self) -> None:
        """Tell Neuro the game has saved and may be closed (``shutdown/ready``).

        Raises:
            CommandQueueFullError: See :data:`COMMAND_QUEUE_SIZE`.

        """

        async def send() -> None:
            await self._component.send_shutdown_ready()

        self._submit(send)

    def on(self, event_name: str, callback: Callable[[Any], object]) -> None:
        """Call ``callback(data)`` on the main thread when the component raises *event_name*.

        Useful names: :data:`~neuro_bridge.component.GRACEFUL_SHUTDOWN_EVENT` (data:
        ``wants_shutdown``), :data:`~neuro_bridge.component.IMMEDIATE_SHUTDOWN_EVENT`,
        :data:`~neuro_bridge.component.STARTUP_ACKNOWLEDGED_EVENT`,
        :data:`~neuro_bridge.component.SPEECH_FINISHED_EVENT` and
        :data:`CONNECTED_EVENT`.  An exception from *callback* is logged.
        """
        self._callbacks.callbacks.setdefault(event_name, []).append(callback)
        self._callbacks.subscribe(event_name)

    def _submit(self, command: _Command, on_queued: Callable[[], None] | None = None) -> None:
        """Queue *command* for the command task (main thread, never blocks).

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

        Call on the main thread, once pygame is initialised.  Connection attempts,
        reconnects and restoring state all happen in the background; commands
        queued before this call are sent first.

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
            raise RuntimeError("PygameNeuro is already running")
        send, receive = trio.open_memory_channel[_Command](COMMAND_QUEUE_SIZE)
        while self._early:
            send.send_nowait(self._early.popleft())
        self._send = send
        self._last_frame = None
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
            manager = ExternalRaiseManager("neuro_bridge_pygame", nursery)
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
                # An action being answered gets its result out before the close.
                action = self._component.current_action
                if action is not None:
                    await self._component.wait_answered(action.id)
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
        """Run trio's pending work on this (main) thread; return how many steps ran.

        Cheap when idle; call once per frame if the game keeps ``clock.tick``
        (:meth:`wait_frame` pumps for you).  Handlers and callbacks run in here.

        Raises:
            BaseException: What the guest run crashed with (see
                :meth:`~neuro_bridge.guest.GuestRunner.pump`).
            RuntimeError: Called from another thread.

        """
        runner = self.runner
        if not runner.pending():
            # The idle fast path (most frames): nothing queued means nothing to
            # run, and no error to report (trio reports it from a callback).
            return 0
        return runner.pump(self.pump_budget if budget is None else budget)

    def wait_frame(self, fps: float) -> int:
        """Wait for the rest of the frame like ``clock.tick(fps)``, serving trio meanwhile.

        Sleeps until ``1/fps`` seconds after the previous frame's deadline, but
        wakes whenever trio has work and runs it at once (handlers included), so
        Neuro's actions are answered within a fraction of a millisecond instead
        of at the next frame.  Input events stay in pygame's queue for the next
        frame, as with ``clock.tick``.  A game that falls behind is not made to
        catch up.  ``fps <= 0`` only pumps.

        Returns:
            Milliseconds since the previous call, like :meth:`pygame.time.Clock.tick`.

        Raises:
            BaseException: What the guest run crashed with, as for :meth:`pump`.

        """
        now = time.perf_counter()
        previous = self._last_frame
        period = 1.0 / fps if fps > 0 else 0.0
        if previous is None or period == 0.0:
            target = now + period if previous is None else now
        else:
            target = previous + period
            if target < now - period:  # far behind: start afresh
                target = now
        self._last_frame = target
        # Worked out before sleeping: code run right after a sleep is slow (cold
        # caches), so an idle frame does as little as possible once it wakes.
        full_frame = 0 if previous is None else math.floor((target - previous) * 1000)
        if not self.runner.running:  # nothing to serve: sleep like clock.tick
            self.pump()  # re-raises an error the run ended with, once
            remaining = target - time.perf_counter()
            if remaining > 0:
                time.sleep(remaining)
                return full_frame
        else:
            self.pump()
            remaining = target - time.perf_counter()
            while remaining > 0:
                if not self.host.wait(remaining):
                    return full_frame  # slept to the deadline: the frame is over
                self.pump()
                remaining = target - time.perf_counter()
        if previous is None:
            return 0
        return math.floor((time.perf_counter() - previous) * 1000)

    def handle_event(self, event: pygame.event.Event) -> bool:
        """Swallow our wake events: return ``True`` (after pumping) if *event* is one.

        Call it on each event from :func:`pygame.event.get` / :func:`pygame.event.wait`
        (skip the event if it returns true).  Games that ignore unknown event types
        may skip this; then a loop that blocks in :func:`pygame.event.wait` is woken
        only every :data:`WAKE_REPOST_AFTER` seconds.
        """
        if not self.host.is_wake_event(event):
            return False
        self.host.consumed()
        self.pump()
        return True

    def shutdown(self, timeout: float = DEFAULT_SHUTDOWN_TIMEOUT) -> None:
        """Send what is queued, close the connection and end the guest run.

        Call on the main thread when the game quits (before or after
        ``pygame.quit()``), not from a handler.  Queued commands and the
        websocket's closing handshake get up to :data:`GRACEFUL_STOP_TIMEOUT`
        seconds; then the run is cancelled and pumped until trio has finished --
        never abandoned.  A no-op when not running.  Commands queued afterwards
        wait for the next :meth:`start`.

        Raises:
            GuestShutdownTimeoutError: The run did not finish within *timeout*
                seconds (something ignores cancellation); call again to keep trying.
            BaseException: What the guest run crashed with.

        """
        send, self._send = self._send, None
        if send is not None:
            send.close()  # the command task drains the queue, then stops the component
        if not self.runner.running:
            return
        deadline = time.perf_counter() + timeout
        graceful_deadline = time.perf_counter() + min(GRACEFUL_STOP_TIMEOUT, timeout / 2)
        while self.runner.running:
            self.pump()
            remaining = graceful_deadline - time.perf_counter()
            if not self.runner.running or remaining <= 0:
                break
            self.host.wait(remaining)
        self.runner.shutdown(max(deadline - time.perf_counter(), 0.0))
        self._queued_forces = 0
        self._queued_ops.clear()
        if pygame.display.get_init():
            with contextlib.suppress(pygame.error):  # the display closed meanwhile
                pygame.event.clear(self.host.event_type)
        self.host.consumed()
