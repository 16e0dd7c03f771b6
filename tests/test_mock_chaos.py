"""Chaos probes over real sockets: every kind is sent, and a careless game's answers
are judged mishandled where they should be (our runtime's are judged in
test_mock_runtime.py).
"""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import random

import pytest
import trio
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge import conformance
from neuro_bridge.conformance import RegisteredAction, ResultRecord
from neuro_bridge.mock import ChaosKind, MockNeuro
from neuro_bridge.mock.chaos import build_probe, judge
from neuro_bridge.protocol import Action
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests.mock_support import WAIT, RawGame, raw_game

PLACE = Action(
    "place",
    "Place a piece.",
    {
        "type": "object",
        "properties": {"row": {"type": "integer", "minimum": 0, "maximum": 7}},
        "required": ["row"],
    },
)
STRICT = Action(
    "strict",
    "Only known keys.",
    {
        "type": "object",
        "properties": {"x": {"type": "integer"}},
        "required": ["x"],
        "additionalProperties": False,
    },
)
WAVE = Action("wave", "Wave.")

REJECTED = {
    ChaosKind.INVALID_JSON,
    ChaosKind.WRONG_TYPE,
    ChaosKind.MISSING_REQUIRED,
    ChaosKind.EXTRA_KEY,
    ChaosKind.OUT_OF_RANGE,
    ChaosKind.UNKNOWN_ACTION,
    ChaosKind.UNREGISTERED_ACTION,
}


async def answer_everything(game: RawGame) -> None:
    """A careless game: every action succeeds, whatever it is."""
    answered: set[str] = set()
    while True:
        for action in game.actions():
            if action["id"] not in answered:
                answered.add(action["id"])
                await game.answer(action["id"], True, "ok!")
        await trio.sleep(0.005)


@pytest.mark.mock_neuro(chaos_grace=0.05, auto_play=False)
async def test_every_kind_against_a_careless_game(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game, trio.open_nursery() as nursery:
        nursery.start_soon(answer_everything, game)
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(PLACE, STRICT, WAVE)
            await session.wait_for_actions("place", "strict", "wave")
            assert await session.probe(ChaosKind.UNREGISTERED_ACTION) is None
            await game.send(game.commands.unregister_actions(["wave"]))
            await session.wait_for_command("actions/unregister")
            outcomes = {}
            for kind in ChaosKind:
                outcome = await session.probe(kind)
                assert outcome is not None, kind
                outcomes[kind] = outcome
        nursery.cancel_scope.cancel()
    for kind, outcome in outcomes.items():
        assert outcome.ok == (kind not in REJECTED), (kind, outcome.detail)
        assert outcome.connection == session.number
    assert "accepted it: success=true" in outcomes[ChaosKind.INVALID_JSON].detail
    assert outcomes[ChaosKind.DUPLICATE_ID].detail.startswith("answered once, duplicate ignored")
    mishandled = [f for f in mock_neuro.findings if f.rule == conformance.CHAOS_MISHANDLED]
    assert len(mishandled) == len(REJECTED)
    assert mock_neuro.chaos_outcomes == list(outcomes.values())
    # The careless game broke no other rule (additionalProperties is "unsupported").
    assert {f.rule for f in mock_neuro.findings} == {
        conformance.CHAOS_MISHANDLED,
        conformance.SCHEMA_UNSUPPORTED_KEYWORD,
    }


@pytest.mark.mock_neuro(chaos_grace=0.5)
async def test_a_game_that_hangs_up_on_unknown_commands(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(WAVE)
            await session.wait_for_actions()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(session.probe, ChaosKind.UNKNOWN_COMMAND)
                await game.wait_for(lambda m: m["command"].startswith("chaos/"))
                await game.websocket.aclose()
    [outcome] = mock_neuro.chaos_outcomes
    assert not outcome.ok
    assert outcome.detail == "disconnected"


@pytest.mark.mock_neuro(chaos_grace=0.05, result_timeout=0.3)
async def test_unanswered_probe_is_mishandled(mock_neuro: MockNeuro) -> None:
    async with raw_game(mock_neuro.url) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await game.start(PLACE)
            await session.wait_for_actions()
            outcome = await session.probe(ChaosKind.UNKNOWN_ACTION)
    assert outcome is not None
    assert not outcome.ok
    assert outcome.detail == "no action/result"
    assert {f.rule for f in mock_neuro.findings} == {
        conformance.RESULT_MISSING,
        conformance.CHAOS_MISHANDLED,
    }


@pytest.mark.mock_neuro(chaos=[ChaosKind.EXTRA_KEY], chaos_interval=0.01, chaos_grace=0.05)
async def test_runtime_rejects_forbidden_extra_keys(mock_neuro: MockNeuro) -> None:
    """extra_key needs additionalProperties: false, itself an unsupported keyword."""
    async with trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = TrioNeuroAPIComponent("neuro", "Extra Key Game")
        manager.add_component(component)
        await component.register_action(STRICT, lambda data: None)
        await manager.raise_event(Event("connect", mock_neuro.url))
        with trio.fail_after(WAIT):
            while len(mock_neuro.chaos_outcomes) < 3:
                await trio.sleep(0.01)
            mock_neuro.stop()  # Neuro hangs up first: no probe is cut short
            await mock_neuro.wait_all_disconnected()
            await component.stop()
    assert all(o.ok and o.kind is ChaosKind.EXTRA_KEY for o in mock_neuro.chaos_outcomes)
    assert {f.rule for f in mock_neuro.findings} == {conformance.SCHEMA_UNSUPPORTED_KEYWORD}


def test_build_probe_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError):
        build_probe("explode", {}, random.Random(0), lambda: "1")


@pytest.mark.parametrize(
    ("success", "message", "ok"),
    [
        (True, None, True),
        # A refusal of the game's own: not about the keys.
        (False, "It is not your turn.", True),
        # The refusal the runtime used to send (issue 8, item 12): mishandled.
        (False, "Invalid action message: action data has unexpected keys ['chaos_extra'].", False),
        (False, "unknown key timestamp", False),
    ],
)
def test_unknown_keys_probe_expects_acceptance(
    success: bool, message: str | None, ok: bool
) -> None:
    probe = build_probe(
        ChaosKind.UNKNOWN_KEYS,
        {"wave": RegisteredAction("wave", "Wave.")},
        random.Random(1),
        lambda: "id-1",
    )
    assert probe is not None
    assert "chaos_extra" in probe.frames[0]
    result = ResultRecord(id="id-1", success=success, message=message)
    assert judge(probe, [result], connected=True).ok is ok


def test_an_unregistered_action_may_be_accepted_once_registered_again() -> None:
    # The game unregistered "drop", the probe and the game's new registration of
    # "drop" crossed on the wire: accepting it then is right, before then is not.
    drop = RegisteredAction("drop", "Drop.")
    probe = build_probe(ChaosKind.UNREGISTERED_ACTION, {}, random.Random(1), lambda: "id-1", [drop])
    assert probe is not None
    accepted = ResultRecord(id="id-1", success=True, message="dropped")
    assert judge(probe, [accepted], connected=True, registered_again=True).ok
    assert not judge(probe, [accepted], connected=True).ok
    refused = ResultRecord(id="id-1", success=False, message="not registered")
    assert judge(probe, [refused], connected=True).ok
