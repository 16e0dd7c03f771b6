"""AbstractNeuroAPIComponent over a real local websocket: every action answered once.

The component under test is a :class:`TrioNeuroAPIComponent` added to a libcomponent
``ExternalRaiseManager`` and connected with ``Event("connect", url)`` to the scripted
Neuro of ``tests/helpers.py`` (127.0.0.1, port 0); the direct API tests use
:class:`TrioNeuroAPI` over ``trio_websocket.open_websocket_url``.  Every wait is
guarded by a timeout.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, Callable

import attrs
import pytest
import trio
import trio_websocket
from libcomponent.component import Component, Event, ExternalRaiseManager

from neuro_bridge.api import (
    ActionMessageError,
    ActionMessageTypeError,
    ForceInFlightError,
    ForceRequest,
)
from neuro_bridge.component import (
    GRACEFUL_SHUTDOWN_EVENT,
    IMMEDIATE_SHUTDOWN_EVENT,
    SEND_CONTEXT_EVENT,
    SPEECH_FINISHED_EVENT,
    STARTUP_ACKNOWLEDGED_EVENT,
    UNKNOWN_COMMAND_EVENT,
    ActionFailedError,
    ActionResult,
)
from neuro_bridge.protocol import (
    Action,
    LocalProtocolError,
    NeuroCommands,
    SpeechFinished,
    StartupAcknowledged,
)
from neuro_bridge.trio_ws import TrioNeuroAPI, TrioNeuroAPIComponent
from tests.helpers import WAIT, ScriptedNeuro, ServerConnection, action_frame, scripted_neuro

GAME = "Component Game"

PLAY = Action(
    "play",
    "Drop a piece",
    {
        "type": "object",
        "properties": {"column": {"type": "integer", "minimum": 0, "maximum": 6}},
        "required": ["column"],
    },
)
WAVE = Action("wave", "Wave at chat")
JUMP = Action("jump", "Jump")

RAISED_EVENTS = (
    STARTUP_ACKNOWLEDGED_EVENT,
    GRACEFUL_SHUTDOWN_EVENT,
    IMMEDIATE_SHUTDOWN_EVENT,
    SPEECH_FINISHED_EVENT,
    UNKNOWN_COMMAND_EVENT,
)


class Listener(Component):
    """Collects the events the component raises to the manager."""

    def __init__(self) -> None:
        super().__init__("listener")
        self.events: list[tuple[str, Any]] = []
        self._changed = trio.Event()

    def bind_handlers(self) -> None:
        for name in RAISED_EVENTS:
            self.register_handler(name, self._record)

    async def _record(self, event: Event[Any]) -> None:
        self.events.append((event.name, event.data))
        self._changed.set()
        self._changed = trio.Event()

    async def wait_count(self, count: int) -> None:
        with trio.fail_after(WAIT):
            while len(self.events) < count:
                await self._changed.wait()


@attrs.define
class Session:
    """A connected component, the server's side of its connection, and a listener."""

    component: TrioNeuroAPIComponent
    server: ServerConnection
    listener: Listener
    neuro: ScriptedNeuro
    _next_id: int = 0

    def new_id(self) -> str:
        self._next_id += 1
        return f"act-{self._next_id}"

    async def act(self, name: str, data: object = None) -> dict[str, Any]:
        """Send an ``action`` and return the data of its ``action/result``."""
        action_id = self.new_id()
        await self.server.send(action_frame(action_id, name, data))
        return await self.server.wait_for_result(action_id)

    def results(self, action_id: str) -> list[dict[str, Any]]:
        return [
            m["data"]
            for m in self.server.messages()
            if m["command"] == "action/result" and m["data"]["id"] == action_id
        ]

    async def settle(self) -> None:
        """Round-trip a probe action so everything sent before it has been handled."""
        probe = self.new_id()
        await self.server.send(action_frame(probe, "zz-probe-never-registered"))
        await self.server.wait_for_result(probe)


@asynccontextmanager
async def session(**options: Any) -> AsyncIterator[Session]:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        listener = Listener()
        manager.add_component(listener)
        component = TrioNeuroAPIComponent("neuro", GAME, **options)
        manager.add_component(component)
        await manager.raise_event(Event("connect", neuro.url))
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        assert not component.not_connected
        server = await neuro.wait_connection()
        await server.wait_for_command("startup")
        try:
            yield Session(component, server, listener, neuro)
        finally:
            with trio.fail_after(WAIT):
                await component.stop()


# ---------------------------------------------------------------- the answer table


async def test_unknown_name_is_answered_with_the_available_names() -> None:
    async with session() as s:
        result = await s.act("fly")
        assert result["success"] is False
        assert "no action called 'fly'" in result["message"]
        assert "No actions are available" in result["message"]
        await s.component.register_neuro_actions([(PLAY, lambda d: None), (WAVE, lambda d: None)])
        result = await s.act("fly")
        assert "Available actions: play, wave." in result["message"]


async def test_action_registered_without_handler_is_unknown() -> None:
    async with session() as s:
        await s.component.register_actions([WAVE])  # the plain API: no handler bound
        result = await s.act("wave")
        assert result["success"] is False
        assert "no action called 'wave'" in result["message"]


async def test_unregistered_action_is_unknown() -> None:
    calls: list[dict[str, Any]] = []
    async with session() as s:
        await s.component.register_action(WAVE, calls.append)
        await s.component.unregister_actions(["wave"])
        result = await s.act("wave")
        assert result["success"] is False
        assert calls == []


async def test_unregister_one_name_given_as_a_str() -> None:
    # A str is one name, as for send_force_action: not the letters of a name.
    async with session() as s:
        await s.component.register_action(WAVE, lambda data: None)
        await s.component.unregister_actions("wave")
        assert s.component.get_registered() == ()
        frame = await s.server.wait_for_command("actions/unregister")
        assert frame["data"] == {"action_names": ["wave"]}


async def test_invalid_json_data() -> None:
    async with session() as s:
        await s.component.register_action(PLAY, lambda d: None)
        for raw in ['{"column": 3', "column=3", "{'column': 3}", "NaN", '{"column": Infinity}']:
            result = await s.act("play", raw)
            assert result["success"] is False
            assert "not valid JSON" in result["message"], raw


async def test_missing_data_with_schema_fails_the_schema() -> None:
    async with session() as s:
        await s.component.register_action(PLAY, lambda d: None)
        for raw in [None, "", "  ", "{}"]:
            result = await s.act("play", raw)
            assert result["success"] is False
            assert "Invalid data for 'play'" in result["message"]
            assert "column" in result["message"]


@pytest.mark.parametrize(
    "data",
    [{"column": 9}, {"column": -1}, {"column": "3"}, {"column": True}, {"column": 2.5}, [3], 3],
)
async def test_schema_failures(data: object) -> None:
    calls: list[dict[str, Any]] = []
    async with session() as s:
        await s.component.register_action(PLAY, calls.append)
        result = await s.act("play", data)
        assert result["success"] is False
        assert result["message"].startswith("Invalid data for 'play'")
        assert calls == []


async def test_parameterless_action_ignores_data() -> None:
    calls: list[dict[str, Any]] = []
    async with session() as s:
        await s.component.register_action(WAVE, calls.append)
        for raw in [None, "", "{}", "null", '{"junk": 1}', "not json"]:
            result = await s.act("wave", raw)
            assert result == {"id": result["id"], "success": True}
        assert calls == [{}] * 6


async def test_valid_data_reaches_sync_handler() -> None:
    calls: list[dict[str, Any]] = []
    async with session() as s:
        await s.component.register_action(PLAY, calls.append)
        result = await s.act("play", {"column": 3, "extra": "kept"})
        assert result["success"] is True
        assert "message" not in result
        assert calls == [{"column": 3, "extra": "kept"}]


async def test_valid_data_reaches_async_handler() -> None:
    calls: list[dict[str, Any]] = []

    async def handler(data: dict[str, Any]) -> str:
        await trio.sleep(0.01)
        calls.append(data)
        return "Dropped."

    async with session() as s:
        await s.component.register_action(PLAY, handler)
        result = await s.act("play", {"column": 6})
        assert result == {"id": result["id"], "success": True, "message": "Dropped."}
        assert calls == [{"column": 6}]


async def test_handler_raising_is_answered_and_reading_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def sync_boom(data: dict[str, Any]) -> None:
        raise RuntimeError("the board is on fire")

    async def async_boom(data: dict[str, Any]) -> None:
        await trio.lowlevel.checkpoint()
        raise KeyError("piece")

    async with session() as s:
        await s.component.register_neuro_actions(
            [(WAVE, sync_boom), (Action("dance", "Dance"), async_boom)]
        )
        result = await s.act("wave")
        # The exception's text stays in the local log: Neuro reads results aloud.
        assert result == {
            "id": result["id"],
            "success": False,
            "message": "The game ran into an error performing 'wave'.",
        }
        result = await s.act("dance")
        assert result["success"] is False
        assert "piece" not in result["message"]
        await s.settle()
    assert "handler for action 'wave' raised" in caplog.text
    assert "the board is on fire" in caplog.text
    assert "KeyError: 'piece'" in caplog.text


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_action_failed_error_sends_the_games_own_message(kind: str) -> None:
    def refuse(data: dict[str, Any]) -> None:
        raise ActionFailedError("Column 3 is full.")

    async def refuse_later(data: dict[str, Any]) -> None:
        await trio.lowlevel.checkpoint()
        raise ActionFailedError("Column 3 is full.")

    async with session() as s:
        await s.component.register_action(WAVE, refuse if kind == "sync" else refuse_later)
        result = await s.act("wave")
    assert result == {"id": result["id"], "success": False, "message": "Column 3 is full."}


@pytest.mark.parametrize("message", ["", None, 3])
def test_action_failed_error_needs_a_message(message: Any) -> None:
    with pytest.raises(TypeError):
        ActionFailedError(message)


async def test_same_action_with_another_handler_is_refused() -> None:
    def first(data: dict[str, Any]) -> None:
        pass

    async with session() as s:
        await s.component.register_action(WAVE, first)
        await s.component.register_action(WAVE, first)  # the same again: harmless
        with pytest.raises(LocalProtocolError, match="another handler"):
            await s.component.register_action(WAVE, lambda data: None)
        assert s.component.handler_for("wave") is first


async def test_slow_async_handler_is_cancelled_and_answered() -> None:
    finished: list[bool] = []
    cancelled: list[bool] = []

    async def slow(data: dict[str, Any]) -> None:
        try:
            await trio.sleep(WAIT)
            finished.append(True)
        except trio.Cancelled:
            cancelled.append(True)
            raise

    async with session(action_timeout=0.2) as s:
        await s.component.register_action(WAVE, slow)
        start = trio.current_time()
        result = await s.act("wave")
        elapsed = trio.current_time() - start
        assert result["success"] is False
        assert "took longer than 0.2 s" in result["message"]
        assert 0.15 < elapsed < WAIT / 2
        assert cancelled == [True]
        assert finished == []


async def test_slow_async_handler_does_not_block_other_actions() -> None:
    release = trio.Event()

    async def slow(data: dict[str, Any]) -> None:
        await release.wait()

    async with session() as s:
        await s.component.register_neuro_actions([(WAVE, slow), (PLAY, lambda d: None)])
        slow_id = s.new_id()
        await s.server.send(action_frame(slow_id, "wave"))
        result = await s.act("play", {"column": 1})  # answered while "wave" still runs
        assert result["success"] is True
        assert s.results(slow_id) == []
        release.set()
        assert (await s.server.wait_for_result(slow_id))["success"] is True


async def test_slow_sync_handler_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async with session(action_timeout=0.05) as s:
        await s.component.register_action(WAVE, lambda d: time.sleep(0.1))
        result = await s.act("wave")
        assert result["success"] is True
    assert "handler for 'wave' blocked" in caplog.text


def _returning(value: object) -> Callable[[dict[str, Any]], Any]:
    return lambda data: value


@pytest.mark.parametrize(
    ("value", "success", "message"),
    [
        (None, True, None),
        (True, True, None),
        (False, False, "The game could not perform 'wave' right now."),
        ("Waved.", True, "Waved."),
        ("", True, ""),
        ((True, "ok"), True, "ok"),
        ((True, None), True, None),
        ((False, "Busy."), False, "Busy."),
        ((False, None), False, "The game could not perform 'wave' right now."),
        (ActionResult(), True, None),
        (ActionResult(True, "Fine."), True, "Fine."),
        (ActionResult(False, "No."), False, "No."),
        (ActionResult(False), False, "The game could not perform 'wave' right now."),
        (42, False, "The game could not perform 'wave' (internal error)."),
        ((True, "a", "b"), False, "The game could not perform 'wave' (internal error)."),
        ((True,), False, "The game could not perform 'wave' (internal error)."),
        ((True, 5), False, "The game could not perform 'wave' (internal error)."),
        (("yes", "a"), False, "The game could not perform 'wave' (internal error)."),
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async", "sync-returning-awaitable"])
async def test_return_value_forms(
    value: object, success: bool, message: str | None, kind: str
) -> None:
    handler: Callable[[dict[str, Any]], Any]
    if kind == "sync":
        handler = _returning(value)
    elif kind == "async":

        async def handler(data: dict[str, Any]) -> Any:
            await trio.lowlevel.checkpoint()
            return value

    else:

        async def inner() -> Any:
            return value

        def handler(data: dict[str, Any]) -> Awaitable[Any]:
            return inner()

    async with session() as s:
        await s.component.register_action(WAVE, handler)
        result = await s.act("wave")
    expected: dict[str, Any] = {"id": result["id"], "success": success}
    if message is not None:
        expected["message"] = message
    assert result == expected


async def test_handler_for_and_bound_actions() -> None:
    def handler(data: dict[str, Any]) -> None:
        pass

    async with session() as s:
        await s.component.register_action(WAVE, handler)
        await s.component.register_actions([Action("plain", "No handler")])
        assert s.component.handler_for("wave") is handler
        with pytest.raises(KeyError):
            s.component.handler_for("plain")
        assert dict(s.component.bound_actions) == {"wave": WAVE}
        assert s.component.get_registered() == ("wave", "plain")


# ---------------------------------------------------------------- one-shot and groups


def _command_index(server: ServerConnection, predicate: Callable[[dict[str, Any]], bool]) -> int:
    for index, message in enumerate(server.messages()):
        if predicate(message):
            return index
    raise AssertionError("no such message")


async def test_one_shot_unregistered_before_result() -> None:
    outcomes = iter([False, True])
    async with session() as s:
        await s.component.register_action(WAVE, lambda d: next(outcomes), one_shot=True)
        # A failure keeps it registered.
        assert (await s.act("wave"))["success"] is False
        assert s.component.get_registered() == ("wave",)
        assert "actions/unregister" not in s.server.commands()
        # The first success unregisters it, before the result goes out.
        result = await s.act("wave")
        assert result["success"] is True
        unregister = _command_index(s.server, lambda m: m["command"] == "actions/unregister")
        answer = _command_index(
            s.server, lambda m: m["command"] == "action/result" and m["data"]["id"] == result["id"]
        )
        assert unregister < answer
        assert s.server.messages()[unregister]["data"] == {"action_names": ["wave"]}
        assert s.component.get_registered() == ()
        # Neuro picking it again gets an "unknown" answer.
        assert (await s.act("wave"))["success"] is False


async def test_action_group_success_unregisters_the_whole_group() -> None:
    async with session() as s:
        await s.component.register_action(Action("other", "Unrelated"), lambda d: None)
        await s.component.register_action_group(
            [
                (Action("left", "Go left"), lambda d: False),
                (Action("right", "Go right"), lambda d: "Went right."),
                (Action("stay", "Stay"), lambda d: None),
            ]
        )
        assert (await s.act("left"))["success"] is False
        assert set(s.component.get_registered()) == {"other", "left", "right", "stay"}
        result = await s.act("right")
        assert result == {"id": result["id"], "success": True, "message": "Went right."}
        unregister = _command_index(s.server, lambda m: m["command"] == "actions/unregister")
        answer = _command_index(
            s.server, lambda m: m["command"] == "action/result" and m["data"]["id"] == result["id"]
        )
        assert unregister < answer
        assert s.server.messages()[unregister]["data"]["action_names"] == ["left", "right", "stay"]
        assert s.component.get_registered() == ("other",)
        assert (await s.act("stay"))["success"] is False


async def test_action_group_with_some_already_unregistered() -> None:
    async with session() as s:
        await s.component.register_action_group(
            [(Action("a", "A"), lambda d: None), (Action("b", "B"), lambda d: None)]
        )
        await s.component.unregister_actions(["b"])
        await s.act("a")
        last_unregister = [m for m in s.server.messages() if m["command"] == "actions/unregister"]
        assert last_unregister[-1]["data"] == {"action_names": ["a"]}


# ---------------------------------------------------------------- forces


def pending(component: TrioNeuroAPIComponent) -> ForceRequest | None:
    """Read the force in flight afresh (mypy would narrow the property)."""
    return component.pending_force


async def test_one_force_in_flight() -> None:
    async with session() as s:
        await s.component.register_neuro_actions([(PLAY, lambda d: None), (WAVE, lambda d: None)])
        await s.component.send_force_action("board", "Your turn", ["play"])
        force_request = pending(s.component)
        assert force_request is not None
        assert force_request.action_names == ("play",)
        with pytest.raises(ForceInFlightError):
            await s.component.send_force_action(None, "Again", ["wave"])
        # An action outside the force, or a failed forced action, does not end it.
        await s.act("wave")
        await s.act("play", {"column": 99})
        assert pending(s.component) is not None
        # A successful result for a forced action ends it.
        await s.act("play", {"column": 0})
        assert pending(s.component) is None
        await s.component.send_force_action(None, "Wave now", ["wave"], priority="high")
        force = await s.server.wait_for(
            lambda m: m["command"] == "actions/force" and m["data"]["query"] == "Wave now"
        )
        assert force["data"]["priority"] == "high"
        assert s.server.commands().count("actions/force") == 2


async def test_force_refusals_send_nothing() -> None:
    async with session() as s:
        await s.component.register_action(WAVE, lambda d: None)
        with pytest.raises(LocalProtocolError, match="unregistered"):
            await s.component.send_force_action(None, "q", ["fly"])
        with pytest.raises(LocalProtocolError):
            await s.component.send_force_action(None, "q", [])
        with pytest.raises(LocalProtocolError):
            await s.component.send_force_action(None, "q", ["wave"], priority="urgent")
        assert pending(s.component) is None
        await s.settle()
        assert "actions/force" not in s.server.commands()


async def test_force_cleared_when_its_actions_are_unregistered_or_by_hand() -> None:
    async with session() as s:
        await s.component.register_neuro_actions([(PLAY, lambda d: None), (WAVE, lambda d: None)])
        await s.component.send_force_action(None, "q", ["play", "wave"])
        await s.component.unregister_actions(["play"])
        assert pending(s.component) is not None
        await s.component.unregister_actions(["wave"])
        assert pending(s.component) is None
        await s.component.register_action(WAVE, lambda d: None)
        await s.component.send_force_action(None, "q", ["wave"])
        s.component.clear_pending_force()
        await s.component.send_force_action(None, "q2", ["wave"])


async def test_one_shot_forced_action_ends_the_force() -> None:
    async with session() as s:
        await s.component.register_action(WAVE, lambda d: None, one_shot=True)
        await s.component.send_force_action(None, "Wave", ["wave"])
        await s.act("wave")
        assert pending(s.component) is None


# ---------------------------------------------------------------- startup and re-registration


async def test_startup_from_user_code_re_registers_everything() -> None:
    async with session() as s:
        await s.component.register_neuro_actions([(PLAY, lambda d: None), (WAVE, lambda d: None)])
        await s.component.send_force_action(None, "Pick", ["play"])
        await s.settle()
        start = len(s.server.received)
        await s.component.send_startup_command()
        await s.server.wait_count(start + 3)
        assert s.server.commands()[start:] == ["startup", "actions/register", "actions/force"]
        registered = s.server.messages()[start + 1]["data"]["actions"]
        assert [a["name"] for a in registered] == ["play", "wave"]
        assert registered[0]["schema"] == PLAY.schema
        assert "schema" not in registered[1]


async def test_startup_with_no_actions_sends_only_startup() -> None:
    async with session() as s:
        start = len(s.server.received)
        await s.component.send_startup_command()
        await s.settle()
        assert s.server.commands()[start:] == ["startup", "action/result"]


async def test_reregister_all() -> None:
    async with session() as s:
        await s.component.register_neuro_actions([(PLAY, lambda d: None), (WAVE, lambda d: None)])
        await s.component.unregister_actions(["wave"])
        await s.settle()
        start = len(s.server.received)
        await s.server.send(NeuroCommands.reregister_all())
        await s.server.wait_count(start + 1)
        message = s.server.messages()[start]
        assert message["command"] == "actions/register"
        assert message["data"] == {"actions": [PLAY.to_json_object()]}
        # Handlers survive: the re-registered action still works.
        assert (await s.act("play", {"column": 2}))["success"] is True


async def test_reregister_all_with_nothing_registered_sends_nothing() -> None:
    async with session() as s:
        start = len(s.server.received)
        await s.server.send(NeuroCommands.reregister_all())
        await s.settle()
        assert s.server.commands()[start:] == ["action/result"]


# ---------------------------------------------------------------- events for the manager


async def test_neuro_commands_are_raised_as_events() -> None:
    async with session() as s:
        await s.server.send(NeuroCommands.startup_acknowledgement("s-1", "neuro", "Neuro"))
        await s.server.send(NeuroCommands.shutdown_graceful(True))
        await s.server.send(NeuroCommands.shutdown_graceful(False))
        await s.server.send(NeuroCommands.shutdown_immediate())
        await s.server.send(NeuroCommands.speech_finished(True, cancelled=False, reason="done"))
        await s.server.send('{"command":"future/thing","data":{"x":1},"extra":true}')
        await s.listener.wait_count(6)
        assert sorted(s.listener.events, key=lambda e: RAISED_EVENTS.index(e[0])) == [
            (
                STARTUP_ACKNOWLEDGED_EVENT,
                StartupAcknowledged(session_id="s-1", character_id="neuro", display_name="Neuro"),
            ),
            (GRACEFUL_SHUTDOWN_EVENT, True),
            (GRACEFUL_SHUTDOWN_EVENT, False),
            (IMMEDIATE_SHUTDOWN_EVENT, None),
            (SPEECH_FINISHED_EVENT, SpeechFinished(is_final=True, cancelled=False, reason="done")),
            (UNKNOWN_COMMAND_EVENT, ("future/thing", {"x": 1})),
        ]
        # Answering a shutdown request.
        await s.component.send_shutdown_ready()
        await s.server.wait_for_command("shutdown/ready")
        assert {"command": "shutdown/ready", "game": GAME} in s.server.messages()


async def test_malformed_known_commands_raise_no_event() -> None:
    async with session() as s:
        await s.server.send('{"command":"shutdown/graceful","data":{}}')
        await s.server.send('{"command":"speech_finished","data":{"isFinal":"no"}}')
        await s.server.send('{"command":"startup","data":{"session":{}}}')
        await s.settle()
        assert s.listener.events == []


async def test_component_without_manager_still_handles_commands() -> None:
    async with scripted_neuro() as neuro, trio_websocket.open_websocket_url(neuro.url) as ws:
        component = TrioNeuroAPIComponent("neuro", GAME, ws)
        assert not component.manager_exists
        server = await neuro.wait_connection()
        for frame in [
            NeuroCommands.shutdown_immediate(),
            NeuroCommands.shutdown_graceful(True),
            NeuroCommands.speech_finished(False),
            NeuroCommands.startup_acknowledgement("s", "evil", "Evil"),
            '{"command":"what"}',
        ]:
            await server.send(frame)
            with trio.fail_after(WAIT):
                await component.read_message()


# ---------------------------------------------------------------- whole-batch validation


@pytest.mark.parametrize(
    "bad_pair",
    [
        (WAVE, lambda d: None),  # a name twice in the batch
        (Action("fly", "Fly"), "not callable"),
        ("not an action", lambda d: None),
        (Action("fly", "Fly"),),
    ],
)
async def test_batch_checked_whole_before_anything_is_recorded_or_sent(bad_pair: Any) -> None:
    async with session() as s:
        with pytest.raises((LocalProtocolError, TypeError, AttributeError)):
            await s.component.register_neuro_actions([(WAVE, lambda d: None), bad_pair])
        assert s.component.get_registered() == ()
        assert dict(s.component.bound_actions) == {}
        with pytest.raises(KeyError):
            s.component.handler_for("wave")
        await s.settle()
        assert "actions/register" not in s.server.commands()
        # The batch can be registered once fixed.
        await s.component.register_neuro_actions([(WAVE, lambda d: None)])
        assert (await s.act("wave"))["success"] is True


async def test_conflicting_redefinition_refused_and_nothing_changes() -> None:
    old_handler_calls: list[dict[str, Any]] = []
    async with session() as s:
        await s.component.register_action(WAVE, old_handler_calls.append)
        await s.settle()
        start = len(s.server.received)
        with pytest.raises(LocalProtocolError, match="already registered"):
            await s.component.register_neuro_actions(
                [(PLAY, lambda d: None), (Action("wave", "Different"), lambda d: None)]
            )
        assert s.component.get_registered() == ("wave",)
        assert s.component.handler_for("wave") == old_handler_calls.append
        await s.act("wave")
        assert old_handler_calls == [{}]
        assert "actions/register" not in s.server.commands()[start:]


async def test_identical_re_registration_is_skipped() -> None:
    def wave(data: dict[str, Any]) -> str:
        return "waved"

    async with session() as s:
        await s.component.register_action(WAVE, wave)
        await s.settle()
        start = len(s.server.received)
        await s.component.register_action(Action("wave", "Wave at chat"), wave)
        await s.settle()
        assert "actions/register" not in s.server.commands()[start:]
        assert (await s.act("wave"))["message"] == "waved"


@pytest.mark.parametrize("batch", [[], [WAVE]])
async def test_register_refusals(batch: list[Any]) -> None:
    async with session() as s:
        with pytest.raises((LocalProtocolError, TypeError)):
            await s.component.register_neuro_actions(batch)
        with pytest.raises(LocalProtocolError):
            await s.component.register_actions(WAVE)  # type: ignore[arg-type]
        with pytest.raises(LocalProtocolError):
            await s.component.unregister_actions([])
        assert s.component.get_registered() == ()


# ---------------------------------------------------------------- duplicate ids


async def test_duplicate_id_while_handled_is_answered_once() -> None:
    release = trio.Event()

    async def slow(data: dict[str, Any]) -> None:
        await release.wait()

    async with session() as s:
        await s.component.register_action(WAVE, slow)
        frame = action_frame("same", "wave")
        await s.server.send(frame)
        await s.server.send(frame)
        await s.settle()
        release.set()
        await s.server.wait_for_result("same")
        await s.settle()
        assert len(s.results("same")) == 1


async def test_malformed_frame_reusing_an_in_flight_id_leaves_the_real_answer() -> None:
    release = trio.Event()

    async def slow(data: dict[str, Any]) -> str:
        await release.wait()
        return "done"

    async with session() as s:
        await s.component.register_action(WAVE, slow)
        await s.server.send(action_frame("busy", "wave"))
        await s.settle()
        # Same id, a key missing: a ValueError on the read path, but no answer of its own.
        await s.server.send('{"command":"action","data":{"id":"busy","nam":"wave"}}')
        await s.settle()
        assert s.results("busy") == []
        release.set()
        result = await s.server.wait_for_result("busy")
        assert (result["success"], result["message"]) == (True, "done")
        await s.settle()
        assert len(s.results("busy")) == 1


async def test_unknown_action_answer_does_not_echo_a_huge_name() -> None:
    async with session() as s:
        await s.component.register_action(WAVE, lambda data: None)
        await s.server.send(action_frame("big", "x" * 100_000))
        result = await s.server.wait_for_result("big")
        assert result["success"] is False
        assert len(result["message"]) < 300
        assert "wave" in result["message"]


# ---------------------------------------------------------------- the direct API


@asynccontextmanager
async def direct(
    api_class: Callable[..., Any] = TrioNeuroAPI,
) -> AsyncIterator[tuple[Any, ServerConnection]]:
    async with scripted_neuro() as neuro, trio_websocket.open_websocket_url(neuro.url) as ws:
        yield api_class(GAME, ws), await neuro.wait_connection()


async def test_direct_api_sends_and_reads() -> None:
    async with direct() as (api, server):
        assert not api.not_connected
        await api.send_startup_command()
        await api.send_context("hello", silent=False)
        await api.register_actions([WAVE])
        await server.wait_count(3)
        assert server.messages() == [
            {"command": "startup", "game": GAME},
            {"command": "context", "game": GAME, "data": {"message": "hello", "silent": False}},
            {
                "command": "actions/register",
                "game": GAME,
                "data": {"actions": [WAVE.to_json_object()]},
            },
        ]
        # The plain API binds no handlers: an action is answered as failed.
        await server.send(action_frame("a1", "wave"))
        with trio.fail_after(WAIT):
            await api.read_message()
        result = await server.wait_for_result("a1")
        assert result["success"] is False


@pytest.mark.parametrize(
    ("payload", "error", "action_id"),
    [
        ({"id": "x1", "nam": "wave"}, ActionMessageError, "x1"),
        ({"id": "x2"}, ActionMessageError, "x2"),
        ({"name": "wave"}, ActionMessageError, None),
        ({"id": "x3", "name": 5}, ActionMessageTypeError, "x3"),
        ({"id": 7, "name": "wave"}, ActionMessageTypeError, None),
        ({"id": "x4", "name": "wave", "data": {"a": 1}}, ActionMessageTypeError, "x4"),
    ],
)
@pytest.mark.parametrize("api_class", [TrioNeuroAPI, TrioNeuroAPIComponent])
async def test_read_message_raises_as_the_page_says(
    payload: dict[str, Any],
    error: type[ActionMessageError | ActionMessageTypeError],
    action_id: str | None,
    api_class: Callable[..., Any],
) -> None:
    def make(game: str, ws: trio_websocket.WebSocketConnection) -> Any:
        if api_class is TrioNeuroAPIComponent:
            return TrioNeuroAPIComponent("neuro", game, ws)
        return TrioNeuroAPI(game, ws)

    async with direct(make) as (api, server):
        await server.send(json.dumps({"command": "action", "data": payload}))
        with trio.fail_after(WAIT), pytest.raises(error) as caught:
            await api.read_message()
        raised = caught.value
        assert isinstance(raised, (ActionMessageError, ActionMessageTypeError))
        base = ValueError if error is ActionMessageError else TypeError
        assert base in type(raised).__mro__  # what the published page promises
        assert raised.action_id == action_id
        # The id is remembered as unanswered, so the caller can answer it once.
        if action_id is not None:
            assert api.is_unanswered(action_id)
            await api.send_action_result(action_id, False, raised.reason)
            assert not api.is_unanswered(action_id)


async def test_read_message_raises_connection_closed() -> None:
    # The TCP stream is ours to close: trio-websocket 0.12 leaves a client's socket
    # open when the server closes first (see trio_ws._run_connection).
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        stream = await trio.open_tcp_stream("127.0.0.1", neuro.port)
        try:
            ws = await trio_websocket.wrap_client_stream(
                nursery, stream, f"127.0.0.1:{neuro.port}", "/"
            )
            api = TrioNeuroAPI(GAME, ws)
            server = await neuro.wait_connection()
            await server.websocket.aclose()
            with trio.fail_after(WAIT), pytest.raises(trio_websocket.ConnectionClosed):
                await api.read_message()
        finally:
            await trio.aclose_forcefully(stream)
            nursery.cancel_scope.cancel()


async def test_read_message_tolerates_garbage(caplog: pytest.LogCaptureFixture) -> None:
    async with direct() as (api, server):
        frames: list[str | bytes] = ["not json", "[]", '{"command": 5}', b"\xff\xfe", "{}"]
        for frame in [*frames, '{"command":"new"}']:
            await server.send(frame)
            with trio.fail_after(WAIT):
                await api.read_message()
    assert "malformed message" in caplog.text
    assert "unknown command 'new'" in caplog.text


async def test_action_result_of_unknown_id_still_sent_by_plain_api() -> None:
    # The plain API does not police ids: results are the caller's business.
    async with direct() as (api, server):
        await api.send_action_result("never-asked", True)
        message = await server.wait_for_command("action/result")
        assert message["data"] == {"id": "never-asked", "success": True}


async def test_logging_of_unknown_keys(caplog: pytest.LogCaptureFixture) -> None:
    async with session() as s:
        await s.component.register_action(WAVE, lambda d: None)
        with caplog.at_level(logging.WARNING):
            await s.server.send('{"command":"action","v":2,"data":{"id":"k1","name":"wave"}}')
            result = await s.server.wait_for_result("k1")
        assert result["success"] is True
    assert "ignoring unknown keys ['v']" in caplog.text


# ---------------------------------------------------------------- handler kinds


async def test_callable_object_with_async_call_runs_as_async_under_the_limit() -> None:
    class Slow:
        async def __call__(self, data: dict[str, Any]) -> None:
            await trio.sleep_forever()

    async with session(action_timeout=0.2) as s:
        await s.component.register_action(WAVE, Slow())
        await s.server.send(action_frame("slow", "wave"))
        # Runs as a task: the read loop answers a second action meanwhile.
        await s.component.register_action(JUMP, lambda data: "jumped")
        await s.server.send(action_frame("quick", "jump"))
        assert (await s.server.wait_for_result("quick"))["success"] is True
        result = await s.server.wait_for_result("slow")
        assert result["success"] is False
        assert "longer than 0.2 s" in result["message"]


async def test_sync_handler_returning_a_coroutine_is_awaited_under_the_limit() -> None:
    async def later(data: dict[str, Any]) -> str:
        await trio.lowlevel.checkpoint()
        return "done later"

    async def never(data: dict[str, Any]) -> None:
        await trio.sleep_forever()

    async with session(action_timeout=0.2) as s:
        await s.component.register_action(WAVE, lambda data: later(data))
        await s.component.register_action(JUMP, lambda data: never(data))
        await s.server.send(action_frame("a", "wave"))
        assert (await s.server.wait_for_result("a"))["message"] == "done later"
        await s.server.send(action_frame("b", "jump"))
        result = await s.server.wait_for_result("b")
        assert result["success"] is False
        assert "longer than 0.2 s" in result["message"]


# ---------------------------------------------------------------- engine signals as events


async def test_send_context_event_through_the_manager_sends_context_in_order() -> None:
    async with session() as s:
        manager = s.component.manager
        assert isinstance(manager, ExternalRaiseManager)
        for number in range(5):
            # Awaited in the manager's own nursery: one after the other.
            await manager.raise_event_internal(
                Event(SEND_CONTEXT_EVENT, (f"event {number}", number % 2 == 0))
            )
        await s.server.wait_count(6)  # startup + 5 contexts
        contexts = [m["data"] for m in s.server.messages() if m["command"] == "context"]
        assert contexts == [{"message": f"event {n}", "silent": n % 2 == 0} for n in range(5)]
