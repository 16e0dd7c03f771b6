"""AbstractNeuroAPIComponent over a real local websocket: every action answered once.

(What the component inherits from AbstractNeuroAPI -- the registry, the force
rule, restoring state, reading -- is specified in ``tests/test_api.py``.)

The component under test is a :class:`TrioNeuroAPIComponent` added to a libcomponent
``ExternalRaiseManager`` and connected with ``Event("connect", url)`` to the scripted
Neuro of ``tests/helpers.py`` (127.0.0.1, port 0); the direct API tests use
:class:`TrioNeuroAPI` over ``trio_websocket.open_websocket_url``.  Every wait is
guarded by a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any, Callable

import pytest
import trio
import trio_websocket
from libcomponent.component import Event, ExternalRaiseManager

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
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests.helpers import (
    GAME,
    JUMP,
    PLAY,
    RAISED_EVENTS,
    WAIT,
    WAVE,
    ServerConnection,
    action_frame,
    scripted_neuro,
    session,
)

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


@pytest.mark.parametrize("message", ["", "   ", "\n\t", None, 3])
def test_action_failed_error_needs_a_message(message: Any) -> None:
    with pytest.raises(TypeError):
        ActionFailedError(message)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_blank_failure_message_is_answered_and_the_connection_stays(kind: str) -> None:
    # An async handler raising ActionFailedError("   ") used to make the result
    # builder raise inside the read loop: the connection dropped for good and the
    # action was never answered.
    def refuse(data: dict[str, Any]) -> Any:
        if data["column"]:
            return ActionResult(False, "  \n ")
        raise ActionFailedError("   ")

    async def refuse_later(data: dict[str, Any]) -> Any:
        await trio.lowlevel.checkpoint()
        return refuse(data)

    async with session() as s:
        await s.component.register_action(PLAY, refuse if kind == "sync" else refuse_later)
        raised = await s.act("play", {"column": 0})
        returned = await s.act("play", {"column": 1})
        assert not s.component.not_connected
    assert raised["success"] is False
    assert raised["message"].strip()
    assert returned == {
        "id": returned["id"],
        "success": False,
        "message": "The game could not perform 'play' right now.",
    }


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
        ("", True, None),  # a blank message is left out (result_message)
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


# ---------------------------------------------------------------- startup and re-registration


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


# ---------------------------------------------------------------- duplicate ids


async def test_unknown_action_answer_does_not_echo_a_huge_name() -> None:
    async with session() as s:
        await s.component.register_action(WAVE, lambda data: None)
        await s.server.send(action_frame("big", "x" * 100_000))
        result = await s.server.wait_for_result("big")
        assert result["success"] is False
        assert len(result["message"]) < 300
        assert "wave" in result["message"]


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


async def test_async_handlers_past_the_limit_are_answered_busy() -> None:
    release = trio.Event()
    started: list[str] = []

    async def slow(data: dict[str, Any]) -> None:
        started.append("slow")
        await release.wait()

    async with session() as s:
        s.component.max_pending_actions = 2
        await s.component.register_action(WAVE, slow)
        for number in range(3):
            await s.server.send(action_frame(f"w{number}", "wave"))
        busy = await s.server.wait_for_result("w2")
        assert busy["success"] is False
        assert "busy" in busy["message"]
        assert started == ["slow", "slow"]
        release.set()
        assert (await s.server.wait_for_result("w0"))["success"] is True
        assert (await s.server.wait_for_result("w1"))["success"] is True
        assert (await s.act("wave"))["success"] is True  # the slots are free again
