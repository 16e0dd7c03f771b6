"""AbstractNeuroAPI, the game side of the protocol: what it records and sends.

The registry of current actions, the one-force-in-flight rule, restoring state
after ``startup`` and ``actions/reregister_all``, and ``read_message`` as the
published page describes it.  Through a :class:`TrioNeuroAPIComponent` connected
to the scripted Neuro of ``tests/helpers.py`` (127.0.0.1, port 0), or the plain
:class:`TrioNeuroAPI` over ``trio_websocket.open_websocket_url``; every wait is
guarded by a timeout.
"""

from __future__ import annotations

import gc
import json
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Callable

import pytest
import trio
import trio_websocket

from neuro_bridge.api import (
    ActionMessageError,
    ActionMessageTypeError,
    ForceInFlightError,
    ForceRequest,
)
from neuro_bridge.protocol import Action, LocalProtocolError, NeuroCommands
from neuro_bridge.trio_ws import TrioNeuroAPI, TrioNeuroAPIComponent
from tests.helpers import (
    GAME,
    PLAY,
    WAIT,
    WAVE,
    ServerConnection,
    action_frame,
    scripted_neuro,
    session,
)


async def test_unregister_one_name_given_as_a_str() -> None:
    # A str is one name, as for send_force_action: not the letters of a name.
    async with session() as s:
        await s.component.register_action(WAVE, lambda data: None)
        await s.component.unregister_actions("wave")
        assert s.component.get_registered() == ()
        frame = await s.server.wait_for_command("actions/unregister")
        assert frame["data"] == {"action_names": ["wave"]}


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


async def test_reregister_all_resends_the_force_in_flight() -> None:
    # Neuro lost her state: every action, then the force she forgot with them.
    async with session() as s:
        await s.component.register_neuro_actions([(PLAY, lambda d: None)])
        await s.component.send_force_action("board", "Your turn.", ["play"])
        await s.settle()
        start = len(s.server.received)
        await s.server.send(NeuroCommands.reregister_all())
        await s.server.wait_count(start + 2)
        assert s.server.commands()[start:] == ["actions/register", "actions/force"]
        assert s.server.messages()[start + 1]["data"]["action_names"] == ["play"]
        assert s.component.pending_force is not None  # still the same one


async def test_reregister_all_while_the_forced_pick_awaits_its_answer_keeps_the_force() -> None:
    # Neuro's pick for the force is being handled: she has the force; sending it
    # again would reach her while she waits for the result.
    release = trio.Event()

    async def slow(data: dict[str, Any]) -> None:
        await release.wait()

    async with session() as s:
        await s.component.register_neuro_actions([(PLAY, slow)])
        await s.component.send_force_action(None, "Your turn.", ["play"])
        await s.settle()
        await s.server.send(action_frame("pick-1", "play", {"column": 2}))
        await s.settle()
        start = len(s.server.received)
        await s.server.send(NeuroCommands.reregister_all())
        await s.server.wait_count(start + 1)
        release.set()
        await s.settle()
        assert s.server.commands()[start:][:2] == ["actions/register", "action/result"]
        assert "actions/force" not in s.server.commands()[start:]


async def test_reregister_all_with_nothing_registered_sends_nothing() -> None:
    async with session() as s:
        start = len(s.server.received)
        await s.server.send(NeuroCommands.reregister_all())
        await s.settle()
        assert s.server.commands()[start:] == ["action/result"]


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
        # Answered already, by handle_invalid_action: the exception only reports.
        if action_id is not None:
            assert not api.is_unanswered(action_id)
            answer = await server.wait_for_result(action_id)
            assert answer["success"] is False
            assert raised.reason in answer["message"]


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


@pytest.mark.parametrize(
    "make", [lambda: TrioNeuroAPI(GAME), lambda: TrioNeuroAPIComponent("c", GAME)]
)
def test_an_api_object_is_freed_as_soon_as_it_is_dropped(make: Callable[[], Any]) -> None:
    # No reference cycle: a connection's API object (and the socket it holds) goes
    # when its last reference does, not whenever the cycle collector next runs.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        api = make()
        ref = weakref.ref(api)
        del api
        assert ref() is None
    finally:
        if was_enabled:
            gc.enable()
