"""AbstractNeuroAPIComponent: the Neuro API as a libcomponent ``Component``.

On top of :class:`~neuro_bridge.api.AbstractNeuroAPI` this binds each action to a
handler and answers every ``action`` Neuro sends with exactly one
``action/result``, whatever goes wrong:

========================================  =========================================
what arrives                              the answer
========================================  =========================================
an unknown (or just unregistered) name    ``success=False``, the current names
``data`` that is not JSON                 ``success=False``, the parse error
``data`` that fails the action's schema   ``success=False``, the first violation
a handler that raises                     ``success=False``, a generic message
                                          (the traceback goes to the log)
a handler that raises ActionFailedError   ``success=False``, the exception's message
an async handler slower than the limit    cancelled; ``success=False``, "too slow"
a handler that returns normally           what it returned (see :data:`HandlerReturn`)
========================================  =========================================

A handler is a plain function or a coroutine function taking the parsed data
(a ``dict``; empty when the action has no schema).  What it returns becomes the
result through :func:`to_action_result`, the one place that rule lives.  An
exception's text never reaches Neuro (she reads results aloud on stream, and an
error message can hold paths or names): to tell her why an action failed, return
``ActionResult(False, "why")`` or raise :exc:`ActionFailedError`.  Sync handlers run inline on
the reading task -- in guest mode that is the engine's main thread, so they may
touch game state directly.  Async handlers run in the connection's task nursery
when there is one, under :attr:`AbstractNeuroAPIComponent.action_timeout`.

What Neuro sends besides actions is raised as libcomponent events (names below)
when the component is bound to a manager, after the ``handle_*`` hook ran.  The
other way, a game or engine shim may raise :data:`SEND_CONTEXT_EVENT` to send
``context`` through the component (await ``raise_event_internal`` for order).
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Final, Optional, Union

import attrs
import trio
from libcomponent.component import Component, Event

from neuro_bridge.api import AbstractNeuroAPI
from neuro_bridge.protocol import LocalProtocolError
from neuro_bridge.protocol._wire import is_blank
from neuro_bridge.schema import DataValidator, SchemaValidationError, compile_validator

if TYPE_CHECKING:
    from neuro_bridge.protocol import (
        Action,
        ActionRequested,
        SpeechFinished,
        StartupAcknowledged,
    )

__all__ = [
    "BUSY_MESSAGE",
    "DEFAULT_ACTION_TIMEOUT",
    "GRACEFUL_SHUTDOWN_EVENT",
    "IMMEDIATE_SHUTDOWN_EVENT",
    "MAX_PENDING_ACTIONS",
    "SEND_CONTEXT_EVENT",
    "SLOW_HANDLER_WARNING",
    "SPEECH_FINISHED_EVENT",
    "STARTUP_ACKNOWLEDGED_EVENT",
    "UNKNOWN_COMMAND_EVENT",
    "AbstractNeuroAPIComponent",
    "ActionFailedError",
    "ActionHandler",
    "ActionResult",
    "HandlerReturn",
    "is_async_callable",
    "to_action_result",
]

logger = logging.getLogger(__name__)

#: Seconds an async handler may run before it is cancelled and answered as failed.
#: Neuro gives up on a result after about 20 s.
DEFAULT_ACTION_TIMEOUT: Final = 10.0

#: The one busy limit (the default of
#: :attr:`AbstractNeuroAPIComponent.max_pending_actions`): an action that arrives
#: while this many async handlers run -- or, on a connection
#: (:class:`~neuro_bridge.trio_ws.TrioNeuroAPIComponent`), while this many earlier
#: actions await their result -- is answered at once with :data:`BUSY_MESSAGE`
#: (Neuro may retry) instead of waiting or starting one more task without bound.
MAX_PENDING_ACTIONS: Final = 64

#: Seconds a sync handler may hold the game's loop (its frame, in guest mode)
#: before a WARNING names it (the default of
#: :attr:`AbstractNeuroAPIComponent.slow_handler_warning`).  Long work belongs
#: in an async handler, which lets the frame go on.
SLOW_HANDLER_WARNING: Final = 0.05

#: The failure sent for an action that arrives past :data:`MAX_PENDING_ACTIONS`.
BUSY_MESSAGE: Final = "The game is busy with earlier actions; try again in a moment."

#: Event raised with a :class:`~neuro_bridge.protocol.StartupAcknowledged`.
STARTUP_ACKNOWLEDGED_EVENT: Final = "neuro_startup_acknowledged"
#: Event raised with ``wants_shutdown`` (bool) for ``shutdown/graceful``.
GRACEFUL_SHUTDOWN_EVENT: Final = "neuro_shutdown_graceful"
#: Event raised with ``None`` for ``shutdown/immediate``.
IMMEDIATE_SHUTDOWN_EVENT: Final = "neuro_shutdown_immediate"
#: Event raised with a :class:`~neuro_bridge.protocol.SpeechFinished`.
SPEECH_FINISHED_EVENT: Final = "neuro_speech_finished"
#: Event raised with ``(command, data)`` for a command this version does not know.
UNKNOWN_COMMAND_EVENT: Final = "neuro_unknown_command"

#: Event a game (or an engine shim) raises to send ``context``: its data is
#: ``(message, silent)``.  The component binds it when added to a manager.
SEND_CONTEXT_EVENT: Final = "neuro_send_context"


@attrs.frozen
class ActionResult:
    """What a handler tells Neuro.

    Args:
        success: ``False`` makes Neuro retry a forced action.  To report a problem
            without a retry, use ``True`` with the problem in *message*.
        message: Text for Neuro; needed when *success* is false.
    """

    success: bool = True
    message: str | None = None


class ActionFailedError(Exception):
    """Raise in a handler to fail the action with *message* as Neuro's answer.

    The message is sent as it is (``success=False``, so a forced action is
    retried); any other exception is answered with a generic message and
    logged with its traceback.

    Args:
        message: What Neuro is told, e.g. ``"Column 3 is full."``.

    Raises:
        TypeError: *message* is not a str, or is blank (the test every failed
            result passes, :func:`~neuro_bridge.protocol.result_message`).
    """

    def __init__(self, message: str) -> None:
        if not isinstance(message, str) or is_blank(message):
            raise TypeError(f"ActionFailedError needs a message that is not blank, not {message!r}")
        super().__init__(message)
        self.message = message


#: What a handler may return: ``None`` (success), an :class:`ActionResult`, a bool,
#: a str (success with that message) or a ``(success, message)`` pair -- exactly
#: two items, a bool and a str or ``None``.  Anything else is a bug in the game:
#: logged, and answered as a failure (see :func:`to_action_result`).
HandlerReturn = Union[ActionResult, None, bool, str, tuple[bool, Optional[str]]]

#: A handler: called with the action's validated data.
ActionHandler = Callable[[dict[str, Any]], Union[HandlerReturn, Awaitable[HandlerReturn]]]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (_INFINITY, -_INFINITY):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


_INFINITY: Final = float("inf")
# Action data is strict JSON: NaN and infinities (which slip past "minimum" and
# "maximum" checks) are refused as invalid JSON.
_DATA_DECODER: Final = json.JSONDecoder(parse_float=_finite_float, parse_constant=_reject_constant)


def _loads_data(text: str) -> Any:
    """Decode an action's ``data`` string; raise ValueError for anything not strict JSON."""
    try:
        value, end = _DATA_DECODER.raw_decode(text)
    except ValueError:
        return _DATA_DECODER.decode(text)  # leading whitespace, or raise the precise error
    if end != len(text):
        return _DATA_DECODER.decode(text)  # trailing whitespace, or raise "Extra data"
    return value


#: The result of a handler that returned ``None`` (immutable, so shared).
_SUCCESS: Final = ActionResult(True)


def to_action_result(value: object, action_name: str) -> ActionResult:
    """Turn what a handler returned into the result sent to Neuro.

    The rule (:data:`HandlerReturn`): ``None`` is success; an
    :class:`ActionResult` is itself; a bool is success or failure without a
    message; a str is success with that message; ``(success, message)`` is both,
    as a pair of exactly a bool and a str or ``None``.  (A failure without a
    message is answered with a generic one, as every result is worded:
    :func:`~neuro_bridge.protocol.result_message`.)  Anything else --
    ``(True,)``, ``(True, 5)``, a number -- is a bug in the game: logged as an
    error and answered as a failure.

    Args:
        value: The handler's return value.
        action_name: The action, for messages.
    """
    if value is None:
        return _SUCCESS
    if isinstance(value, ActionResult):
        result = value
    elif isinstance(value, bool):
        result = ActionResult(value)
    elif isinstance(value, str):
        result = ActionResult(True, value)
    elif (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], bool)
        and (value[1] is None or isinstance(value[1], str))
    ):
        result = ActionResult(value[0], value[1])
    else:
        logger.error(
            "handler for %r returned %r; return None, an ActionResult, a bool, a str or"
            " (bool, message)",
            action_name,
            value,
        )
        return ActionResult(False, f"The game could not perform {action_name!r} (internal error).")
    return result


def is_async_callable(handler: object) -> bool:
    """Whether calling *handler* gives a coroutine (functions, partials, ``__call__``)."""
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(type(handler), "__call__", None)  # noqa: B004 - the method, not callable()
    return not inspect.isfunction(handler) and inspect.iscoroutinefunction(call)


@attrs.frozen
class _Binding:
    action: Action
    handler: ActionHandler
    is_async: bool
    validator: DataValidator | None
    # Names unregistered (before the result) once this action succeeds.
    unregister_on_success: tuple[str, ...]


class AbstractNeuroAPIComponent(Component, AbstractNeuroAPI):
    """The game side of the Neuro API with actions bound to handlers.

    Args:
        component_name: The libcomponent component name.
        game_title: The game's display name.
        action_timeout: Seconds an async handler may run (default
            :data:`DEFAULT_ACTION_TIMEOUT`).  A sync handler cannot be interrupted;
            one that runs longer than :attr:`slow_handler_warning` is logged.

    Attributes:
        max_pending_actions: The busy limit: async handlers that may run at once
            (and, on a connection, actions that may await their result); see
            :data:`MAX_PENDING_ACTIONS`.  Set it
            (or override it in a subclass) to change the limit.
        slow_handler_warning: Seconds after which a sync handler is logged as
            holding the loop; see :data:`SLOW_HANDLER_WARNING`.
    """

    max_pending_actions: int = MAX_PENDING_ACTIONS
    slow_handler_warning: float = SLOW_HANDLER_WARNING

    def __init__(
        self,
        component_name: str,
        game_title: str,
        *,
        action_timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> None:
        Component.__init__(self, component_name)
        AbstractNeuroAPI.__init__(self, game_title)
        if not action_timeout > 0:
            raise ValueError(f"action_timeout must be positive, not {action_timeout!r}")
        self.action_timeout = action_timeout
        self._bindings: dict[str, _Binding] = {}
        self._async_running = 0
        # Seconds the last sync handler held the loop (the action queue's estimate).
        self._last_hold = 0.0
        # Where async handlers run; set by subclasses while a connection is open.
        self._handler_nursery: trio.Nursery | None = None

    def bind_handlers(self) -> None:
        """Bind :data:`SEND_CONTEXT_EVENT` (libcomponent calls this when added)."""
        self.register_handler(SEND_CONTEXT_EVENT, self._handle_send_context_event)

    async def _handle_send_context_event(self, event: Event[tuple[str, bool]]) -> None:
        message, silent = event.data
        await self.send_context(message, silent)

    # ------------------------------------------------------------ registration

    async def register_action(
        self, action: Action, handler: ActionHandler, *, one_shot: bool = False
    ) -> None:
        """Register *action* with Neuro and call *handler* when she performs it.

        Args:
            action: The action.
            handler: A function or coroutine function taking the validated data.
            one_shot: Unregister the action after its first success (before the
                result is sent, so Neuro cannot pick it again).

        Raises:
            LocalProtocolError: See :meth:`register_actions`; also when the same
                action is registered with another handler (unregister it first).
            TypeError: If *handler* is not callable.
        """
        await self.register_neuro_actions([(action, handler)], one_shot=one_shot)

    async def register_neuro_actions(
        self,
        actions: Sequence[tuple[Action, ActionHandler]],
        *,
        one_shot: bool = False,
    ) -> None:
        """Register several ``(action, handler)`` pairs in one ``actions/register``.

        The batch is checked whole before anything is recorded or sent.
        """
        await self._register_bound(actions, lambda name, names: (name,) if one_shot else ())

    async def register_action_group(self, actions: Sequence[tuple[Action, ActionHandler]]) -> None:
        """Register alternatives: the first success unregisters the whole group.

        Typical for a choice ("pick one of these options"): the group's actions are
        unregistered before the successful result is sent.
        """
        await self._register_bound(actions, lambda name, names: names)

    async def _register_bound(
        self,
        pairs: Sequence[tuple[Action, ActionHandler]],
        unregister_on_success: Callable[[str, tuple[str, ...]], tuple[str, ...]],
    ) -> None:
        pairs = list(pairs)
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(f"expected (Action, handler) pairs, got {pair!r}")
            if not callable(pair[1]):
                raise TypeError(f"the handler for {pair[0]!r} is not callable: {pair[1]!r}")
        actions = [action for action, _ in pairs]
        names = tuple(action.name for action in actions)
        self._check_new_actions(actions)
        bindings = {
            action.name: _Binding(
                action=action,
                handler=handler,
                is_async=is_async_callable(handler),
                validator=None if not action.schema else compile_validator(action.schema),
                unregister_on_success=unregister_on_success(action.name, names),
            )
            for action, handler in pairs
        }

        def commit() -> None:
            # Checked and installed when the registration is committed, in the same
            # order as every other registration and unregistration.
            for action, handler in pairs:
                binding = self._bindings.get(action.name)
                if (
                    binding is not None
                    and action.name in self._actions
                    and binding.handler != handler
                ):
                    raise LocalProtocolError(
                        f"action {action.name!r} is already registered with another handler;"
                        " unregister it first"
                    )
            self._bindings.update(bindings)

        await self._register_actions(actions, commit)

    def _actions_unregistered(self, names: Sequence[str]) -> None:
        for name in names:
            self._bindings.pop(name, None)

    # ------------------------------------------------------------ actions

    async def handle_action(self, action: ActionRequested) -> None:
        """Validate, run the handler, answer once.  See the module docstring."""
        binding = self._bindings.get(action.name)
        if binding is None or action.name not in self._actions:
            await self._answer(action, ActionResult(False, self._unknown_action_message(action)))
            return
        try:
            data = self._decode_data(binding, action.data)
        except _RejectedDataError as rejected:
            await self._answer(action, ActionResult(False, str(rejected)))
            return
        if binding.is_async:
            if self._async_running >= self.max_pending_actions:
                logger.warning(
                    "answering %r as busy: %d async handlers are running (max_pending_actions)",
                    action.name,
                    self._async_running,
                )
                await self._answer(action, ActionResult(False, BUSY_MESSAGE))
                return
            self._async_running += 1
            if self._handler_nursery is not None:
                self._handler_nursery.start_soon(self._run_async_handler, action, binding, data)
            else:
                await self._run_async_handler(action, binding, data)
            return
        # Sync handler: run inline; a plain ``None`` return is the fast path.
        started = time.perf_counter()
        try:
            value = binding.handler(data)
        except Exception as exc:
            value = self._handler_failed(action, exc)
        held = time.perf_counter() - started
        self._last_hold = held
        if held > self.slow_handler_warning:
            logger.warning(
                "handler for %r blocked the game's loop for %.0f ms (warning above %.0f ms);"
                " make it async to let the frame go on",
                action.name,
                held * 1000,
                self.slow_handler_warning * 1000,
            )
        if value is None:
            result = _SUCCESS
        elif inspect.isawaitable(value):  # a sync callable that returned a coroutine
            result = await self._await_result(action, value)
        else:
            result = to_action_result(value, action.name)
        await self._finish(action, binding, result)

    def _unknown_action_message(self, action: ActionRequested) -> str:
        available = ", ".join(name for name in self._actions if name in self._bindings)
        name = action.name if len(action.name) <= 64 else action.name[:64] + "..."
        return f"There is no action called {name!r} right now." + (
            f" Available actions: {available}." if available else " No actions are available."
        )

    @staticmethod
    def _decode_data(binding: _Binding, raw: str | None) -> dict[str, Any]:
        if binding.validator is None:
            if raw is not None and raw.strip() not in ("", "{}", "null"):
                logger.debug("ignoring data %.80r for parameterless %r", raw, binding.action.name)
            return {}
        if raw is None:
            data: Any = {}
        else:
            try:
                data = _loads_data(raw)
            except RecursionError:  # json raises it for deeply nested arrays/objects
                raise _RejectedDataError(
                    f"The data for {binding.action.name!r} is nested too deeply."
                    " Send a JSON object that matches the action's schema."
                ) from None
            except ValueError as exc:
                if raw.strip():
                    raise _RejectedDataError(
                        f"The data for {binding.action.name!r} is not valid JSON ({exc})."
                        " Send a JSON object that matches the action's schema."
                    ) from None
                data = {}
        try:
            binding.validator(data)
        except SchemaValidationError as exc:
            raise _RejectedDataError(
                f"Invalid data for {binding.action.name!r}: {exc.message}."
            ) from None
        except Exception as exc:  # a validator bug must not cost an answer
            raise _RejectedDataError(f"Invalid data for {binding.action.name!r}: {exc}.") from None
        return data  # type: ignore[no-any-return]

    @staticmethod
    def _handler_failed(action: ActionRequested, exc: Exception) -> ActionResult:
        if isinstance(exc, ActionFailedError):
            logger.info("action %r failed: %s", action.name, exc.message)
            return ActionResult(False, exc.message)
        # The details stay here: Neuro reads results aloud on stream.
        logger.error("handler for action %r raised", action.name, exc_info=exc)
        return ActionResult(False, f"The game ran into an error performing {action.name!r}.")

    async def _run_async_handler(
        self, action: ActionRequested, binding: _Binding, data: dict[str, Any]
    ) -> None:
        """Run an async handler (counted against :attr:`max_pending_actions`) and answer."""
        try:
            try:
                awaitable = binding.handler(data)
            except Exception as exc:
                result = self._handler_failed(action, exc)
            else:
                result = await self._await_result(action, awaitable)
        finally:
            self._async_running -= 1
        await self._finish(action, binding, result)

    async def _await_result(self, action: ActionRequested, awaitable: object) -> ActionResult:
        """Await a handler's result under :attr:`action_timeout`."""
        with trio.move_on_after(self.action_timeout):
            try:
                value = await awaitable  # type: ignore[misc]
            except Exception as exc:
                return self._handler_failed(action, exc)
            return to_action_result(value, action.name)
        logger.warning("handler for %r cancelled after %s s", action.name, self.action_timeout)
        return ActionResult(
            False,
            f"The game took longer than {self.action_timeout:g} s to perform"
            f" {action.name!r} and gave up.",
        )

    async def _finish(
        self, action: ActionRequested, binding: _Binding, result: ActionResult
    ) -> None:
        if result.success and binding.unregister_on_success:
            still = [name for name in binding.unregister_on_success if name in self._actions]
            if still:
                await self.unregister_actions(still)
        if action.id not in self._unanswered:  # _answer, inlined: this is the hot path
            logger.warning(
                "not answering action %r (id %r): its connection is gone", action.name, action.id
            )
            return
        await self.send_action_result(action.id, result.success, result.message)

    async def _answer(self, action: ActionRequested, result: ActionResult) -> None:
        if not self.is_unanswered(action.id):
            logger.warning(
                "not answering action %r (id %r): its connection is gone", action.name, action.id
            )
            return
        await self.send_action_result(action.id, result.success, result.message)

    # ------------------------------------------------------------ other commands

    async def _raise(self, name: str, data: object) -> None:
        if self.manager_exists:
            await self.raise_event(Event(name, data))

    async def handle_startup_acknowledgement(self, ack: StartupAcknowledged) -> None:
        """Log the session, then raise :data:`STARTUP_ACKNOWLEDGED_EVENT`."""
        await super().handle_startup_acknowledgement(ack)
        await self._raise(STARTUP_ACKNOWLEDGED_EVENT, ack)

    async def handle_graceful_shutdown_request(self, wants_shutdown: bool) -> None:
        """Log the request, then raise :data:`GRACEFUL_SHUTDOWN_EVENT`."""
        await super().handle_graceful_shutdown_request(wants_shutdown)
        await self._raise(GRACEFUL_SHUTDOWN_EVENT, wants_shutdown)

    async def handle_immediate_shutdown(self) -> None:
        """Log the request, then raise :data:`IMMEDIATE_SHUTDOWN_EVENT`."""
        await super().handle_immediate_shutdown()
        await self._raise(IMMEDIATE_SHUTDOWN_EVENT, None)

    async def handle_speech_finished(self, event: SpeechFinished) -> None:
        """Raise :data:`SPEECH_FINISHED_EVENT`."""
        await self._raise(SPEECH_FINISHED_EVENT, event)

    async def handle_unknown_command(self, command: str, data: Any) -> None:
        """Log the command, then raise :data:`UNKNOWN_COMMAND_EVENT`."""
        await super().handle_unknown_command(command, data)
        await self._raise(UNKNOWN_COMMAND_EVENT, (command, data))

    def handler_for(self, action_name: str) -> ActionHandler:
        """Return the handler bound to *action_name*.

        Raises:
            KeyError: If no handler is bound to that name.
        """
        return self._bindings[action_name].handler

    @property
    def bound_actions(self) -> Mapping[str, Action]:
        """Registered actions that have a handler, by name."""
        return {name: b.action for name, b in self._bindings.items() if name in self._actions}


class _RejectedDataError(Exception):
    """Internal: the action's data failed parsing or validation (message for Neuro)."""
