"""The stand-in Neuro over real sockets: playing, retries, timeouts, unforced actions,
several games at once, the broken-client run of every rule, and the fixture.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from neuro_bridge import conformance
from neuro_bridge.conformance import RULES
from neuro_bridge.mock import (
    Finding,
    GameDisconnectedError,
    MockConfig,
    MockNeuro,
    MockSession,
)
from neuro_bridge.protocol import Action, LocalProtocolError
from neuro_bridge.schema import compile_validator
from tests.mock_support import WAIT, raw_game
from tests.test_mock_datagen import action_schemas

PLACE = Action(
    "place",
    "Place a piece.",
    {
        "type": "object",
        "properties": {
            "row": {"type": "integer", "minimum": 0, "exclusiveMaximum": 8},
            "piece": {"enum": ["pawn", "rook"]},
            "note": {"type": "string", "pattern": "^[a-z]{2,5}$"},
            "path": {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": 3},
        },
        "required": ["row", "piece", "path"],
    },
)
WAVE = Action("wave", "Wave.")


# ---------------------------------------------------------------- generated data


@settings(max_examples=60, deadline=None)
@given(schema=action_schemas, seed=st.integers(0, 2**32 - 1))
def test_data_for_any_accepted_schema_passes_the_runtime_validator(
    schema: dict[str, Any], seed: int
) -> None:
    try:
        Action("anything", "An action.", schema)  # what the runtime accepts
    except LocalProtocolError:
        return
    validator = compile_validator(schema)
    for offset in range(3):
        text = MockSession.generate_data_for(
            schema, random.Random(seed + offset), MockConfig(extra_key_probability=0.5)
        )
        assert text is not None
        validator(json.loads(text))


async def test_force_is_played_with_valid_generated_data(mock_neuro: MockNeuro) -> None:
    validator = compile_validator(PLACE.schema or {})
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(PLACE, WAVE)
            await session.wait_for_actions("place", "wave")
            for round_ in range(5):
                start = len(game.received)
                await game.force("place", query=f"Round {round_}")
                action = await game.next_action(start)
                assert action["name"] == "place"
                validator(json.loads(action["data"]))
                await game.answer(action["id"], True)
                result = await session.expect_result(action["id"])
                assert result.success
                while session.pending_force is not None:
                    await trio.sleep(0.01)
    # Like the real Neuro, the stand-in asks for the actions only when told to.
    assert {"command": "actions/reregister_all"} not in game.received
    assert mock_neuro.findings == []


@pytest.mark.mock_neuro(reregister_on_connect=True)
async def test_reregister_on_connect_asks_each_game_as_randy_does(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(PLACE, WAVE)
            # The game's answer crosses its own registration: not flagged.
            await game.send(game.commands.register_actions([PLACE, WAVE]))
            await session.wait_for_command("actions/register", start=2)
            await game.wait_for(lambda message: True)
    assert game.received[0] == {"command": "actions/reregister_all"}
    assert mock_neuro.findings == []


async def test_action_without_schema_is_sent_without_data(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(WAVE)
            await session.wait_for_actions("wave")
            await game.force("wave")
            action = await game.next_action()
            assert "data" not in action
            await game.answer(action["id"])


@pytest.mark.mock_neuro(max_retries=2)
async def test_failed_force_is_retried_a_limited_number_of_times(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(PLACE)
            await session.wait_for_actions()
            await game.force("place")
            for attempt in range(3):
                action = await game.next_action(len(game.received) if attempt else 0)
                await game.answer(action["id"], False, f"no ({attempt})")
                await session.expect_result(action["id"])
            while session.pending_force is not None:
                await trio.sleep(0.01)
            await trio.sleep(0.2)  # several force delays: no fourth attempt
    assert len(game.actions()) == 3
    assert mock_neuro.findings == []


@pytest.mark.mock_neuro(max_retries=5)
async def test_retry_stops_at_first_success(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(PLACE)
            await session.wait_for_actions()
            await game.force("place")
            first = await game.next_action()
            await game.answer(first["id"], False, "try again")
            second = await game.next_action(len(game.received))
            assert second["id"] != first["id"]
            await game.answer(second["id"], True)
            await session.expect_result(second["id"])
            await trio.sleep(0.2)
    assert len(game.actions()) == 2


@pytest.mark.mock_neuro(result_timeout=0.3)
async def test_missing_result_times_out_and_late_result_is_flagged(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(PLACE)
            await session.wait_for_actions()
            await game.force("place")
            action = await game.next_action()
            with pytest.raises(trio.TooSlowError):
                await session.expect_result(action["id"])
            assert [f.rule for f in mock_neuro.findings] == [conformance.RESULT_MISSING]
            while session.pending_force is not None:  # Neuro gives up the force
                await trio.sleep(0.01)
            await game.answer(action["id"], True)
            await session.wait_for_command("action/result")
            while len(mock_neuro.findings) < 2:
                await trio.sleep(0.01)
    assert [f.rule for f in mock_neuro.findings] == [
        conformance.RESULT_MISSING,
        conformance.RESULT_LATE,
    ]
    assert len(game.actions()) == 1


@pytest.mark.mock_neuro(unforced_rate=40.0, seed=1)
async def test_unforced_actions_arrive_without_a_force(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(PLACE, WAVE)
            while len(game.actions()) < 4:
                await game.wait_for(lambda m: m["command"] == "action", start=len(game.received))
            for action in game.actions():
                await game.answer(action["id"], True)
    assert len(session.unforced_ids) >= 4
    assert session.pending_force is None


@pytest.mark.mock_neuro(force_delay=0.05)
async def test_two_games_have_separate_state(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as one, raw_game(mock_neuro.url) as two:
        with trio.fail_after(WAIT):
            first = await mock_neuro.wait_for_game()
            second = await mock_neuro.wait_for_game()
            await one.start(PLACE)
            await two.start(WAVE)
            await first.wait_for_actions("place")
            await second.wait_for_actions("wave")
            # Game two forces an action only game one registered: its own violation.
            await two.force("place")
            await second.wait_for_command("actions/force")
            await one.force("place")
            action = await one.next_action()
            await one.answer(action["id"])
            await first.expect_result(action["id"])
    assert set(first.registered_actions) == {"place"}
    assert set(second.registered_actions) == {"wave"}
    assert two.actions() == []
    assert [(f.rule, f.connection) for f in mock_neuro.findings] == [
        (conformance.FORCE_UNREGISTERED, second.number)
    ]
    assert first.findings == []


async def test_stop_closes_every_connection() -> None:
    mock = MockNeuro(MockConfig(port=0))
    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:
            await nursery.start(mock.serve)
            assert mock.url == f"ws://127.0.0.1:{mock.port}"
            async with raw_game(mock.url) as game:
                session = await mock.wait_for_game()
                await game.start()
                await session.wait_for_command("startup")
                mock.stop()
                await game.wait_closed()
            # serve() has returned: the nursery exits.
    assert not session.connected
    with pytest.raises(GameDisconnectedError):
        await session.send_action("wave")


async def test_port_before_serving_raises() -> None:
    with pytest.raises(RuntimeError):
        _ = MockNeuro().port
    with pytest.raises(ValueError, match="force_delay"):
        MockConfig(force_delay=-1)


@pytest.mark.mock_neuro(character="evil", auto_play=False)
async def test_driving_api(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(PLACE, WAVE)
            ack = await game.wait_for(lambda m: m["command"] == "startup")
            assert ack["data"]["session"]["characterId"] == "evil"
            await game.send(game.commands.context("ready"))
            await game.force("place", "wave")
            force = await session.wait_for_force()
            assert force.action_names == ("place", "wave")
            await trio.sleep(0.2)  # auto_play is off: nothing is sent
            assert game.actions() == []
            action_id = await session.force("wave")
            await game.answer((await game.next_action())["id"], True, "waved")
            result = await session.expect_result(action_id)
            assert (result.success, result.message) == (True, "waved")
            action_id = await session.send_action("place", {"row": 99}, action_id="custom")
            assert action_id == "custom"
            sent = await game.wait_for(
                lambda m: m["command"] == "action" and m["data"]["id"] == "custom"
            )
            assert json.loads(sent["data"]["data"]) == {"row": 99}
            with pytest.raises(RuntimeError):
                await session.force()
    assert session.game == "Raw Game"
    assert session.contexts == ["ready"]
    assert session.commands()[:2] == ["startup", "actions/register"]


async def test_broken_client_triggers_every_rule(mock_neuro: MockNeuro) -> None:
    """One deliberately broken game breaks each rule once, over a real socket."""
    bad_action = {"name": "Jump", "description": "d"}
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            frames: list[Any] = [
                {"command": "context", "game": "Bad", "data": {"message": "x"}},  # not startup
                {"command": "startup", "game": "Bad", "data": {}},
                {"command": "startup", "game": "Worse"},
                {"command": "startup"},
                b'{"command":"startup","game":"Bad"}',
                "{oops",
                {"command": "dance", "game": "Bad"},
                {"command": "shutdown/ready", "game": "Bad", "extra": 1},
                {
                    "command": "actions/register",
                    "game": "Bad",
                    "data": {
                        "actions": [
                            bad_action,
                            {"name": "a", "description": "d", "schema": None},
                            {"name": "b", "description": "d", "schema": {"type": "array"}},
                            {
                                "name": "c",
                                "description": "d",
                                "schema": {"type": "object", "title": "t"},
                            },
                            {"name": "d", "description": "d"},
                        ]
                    },
                },
                {
                    "command": "actions/register",
                    "game": "Bad",
                    "data": {"actions": [{"name": "d", "description": "changed"}]},
                },
                {  # Neuro holds "d" and did not ask for it again
                    "command": "actions/register",
                    "game": "Bad",
                    "data": {"actions": [{"name": "d", "description": "d"}]},
                },
                {
                    "command": "actions/force",
                    "game": "Bad",
                    "data": {"query": "q", "action_names": ["zzz"]},
                },
                {
                    "command": "actions/force",
                    "game": "Bad",
                    "data": {"query": "q", "action_names": ["d"]},
                },
                {
                    "command": "actions/force",
                    "game": "Bad",
                    "data": {"query": "q", "action_names": ["a"]},
                },
                {
                    "command": "action/result",
                    "game": "Bad",
                    "data": {"id": "nope", "success": True},
                },
            ]
            for item in frames:
                await game.send(item)
            action = await game.next_action()  # the mock plays the force for "d"
            await game.send(  # a force before the answer to the forced action
                {
                    "command": "actions/force",
                    "game": "Bad",
                    "data": {"query": "q", "action_names": ["d"]},
                }
            )
            await game.send(
                {
                    "command": "action/result",
                    "game": "Bad",
                    "data": {"id": action["id"], "success": False},
                }
            )
            await game.send(
                {
                    "command": "action/result",
                    "game": "Bad",
                    "data": {"id": action["id"], "success": True, "message": "again"},
                }
            )
            expected = set(RULES) - {
                conformance.CHAOS_MISHANDLED,
                conformance.RESULT_MISSING,
                conformance.RESULT_LATE,
            }
            while not expected <= {f.rule for f in session.findings}:
                await trio.sleep(0.01)
    assert all(isinstance(f, Finding) and f.hint for f in mock_neuro.findings)
    assert mock_neuro.findings[0].rule == conformance.STARTUP_NOT_FIRST or any(
        f.rule == conformance.STARTUP_NOT_FIRST for f in mock_neuro.findings
    )
    report = mock_neuro.report()
    assert report["ok"] is False
    assert set(report["counts"]) >= expected
