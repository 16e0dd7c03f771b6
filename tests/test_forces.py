"""The force queue: its rule, from the shared vectors, and the queue's own contract.

``tests/vectors/force_queue.json`` holds the rule as data; this module plays each
case against the game side (:class:`~neuro_bridge.api.AbstractNeuroAPI`, writing
into a list, on trio's mock clock), and the Godot addon's runner plays the same
file against ``internal/force_queue.gd``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from neuro_bridge.api import ForceRequest
from neuro_bridge.forces import ForceQueue, Overdue
from neuro_bridge.ledger import SessionLedger
from neuro_bridge.protocol import (
    Action,
    ForcePriority,
    LocalProtocolError,
    NeuroCommands,
    parse_neuro_message,
)
from tests.test_ledger import InMemoryGame

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "force_queue.json").read_text(encoding="utf-8")
)
CASES = {case["name"]: case for case in VECTORS["cases"]}


def forces_written(game: InMemoryGame, since: int) -> list[dict[str, Any]]:
    frames = [json.loads(frame) for frame in game.written[since:]]
    return [
        {"query": f["data"]["query"], "names": f["data"]["action_names"]}
        for f in frames
        if f["command"] == "actions/force"
    ]


def state_of(game: InMemoryGame) -> dict[str, Any]:
    in_flight = game.pending_force
    return {
        "in_flight": None if in_flight is None else in_flight.query,
        "queued": [force.query for force in game.force_queue],
    }


async def play(case: dict[str, Any], clock: trio.testing.MockClock) -> None:
    game = InMemoryGame()
    config = case.get("config", {})
    game.force_queue.max_queued = config.get("max_queued", 16)
    game.force_queue.resend_after = float(config.get("resend_after", 30))
    owners: dict[str, object] = {}
    for number, step in enumerate(case["steps"]):
        where = f"step {number}: {step}"
        written = len(game.written)
        if "register" in step:
            await game.register_actions([Action(name, f"{name}.") for name in step["register"]])
        elif "unregister" in step:
            await game.unregister_actions(step["unregister"])
        elif "force" in step:
            force = step["force"]
            owner = owners.setdefault(force["owner"], object()) if "owner" in force else None
            queue = game.queue_force(None, force["query"], force["names"], owner=owner)
            if step.get("refused"):
                with pytest.raises(LocalProtocolError):
                    await queue
            else:
                await queue
        elif "action" in step:
            frame = NeuroCommands.action(step["action"]["id"], step["action"]["name"])
            await game.dispatch_event(parse_neuro_message(frame))
        elif "result" in step:
            result = step["result"]
            message = None if result["success"] else "Not now."
            await game.send_action_result(result["id"], result["success"], message)
        elif "withdraw" in step:
            await game.withdraw_forces(owners.setdefault(step["withdraw"], object()))
        elif "time" in step:
            clock.jump(step["time"] - trio.current_time())
            await game.check_forces()
        else:
            raise AssertionError(f"unknown step {where}")
        assert forces_written(game, written) == step.get("out", []), where
        if "state" in step:
            assert state_of(game) == step["state"], where


@pytest.mark.parametrize("name", list(CASES))
def test_vector(name: str) -> None:
    clock = trio.testing.MockClock()
    trio.run(play, CASES[name], clock, clock=clock)


# ------------------------------------------------------------ the queue itself


def request(query: str, *names: str) -> ForceRequest:
    return ForceRequest(
        query=query,
        action_names=names,
        state=None,
        ephemeral_context=False,
        priority=ForcePriority.LOW,
        frame=query,
    )


def trimmed(force: ForceRequest, names: tuple[str, ...]) -> ForceRequest:
    return request(force.query, *names)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
def test_max_queued_must_be_a_positive_int(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_queued"):
        ForceQueue(trimmed, max_queued=bad)


@pytest.mark.parametrize("bad", [0, -2.0, float("nan"), True, "30"])
def test_resend_after_must_be_a_positive_number(bad: Any) -> None:
    with pytest.raises(ValueError, match="resend_after"):
        ForceQueue(trimmed, resend_after=bad)


def test_without_resend_after_a_force_is_never_overdue() -> None:
    queue = ForceQueue(trimmed, resend_after=None)
    ledger: SessionLedger[Action, ForceRequest] = SessionLedger()
    ledger.register([Action("a", "A.")])
    ledger.start_force(request("f1", "a"))
    queue.sent(0.0)
    assert queue.overdue(1e9, ledger) is Overdue.NONE


def test_take_turn_keeps_an_untrimmed_force_as_it_is() -> None:
    queue = ForceQueue(trimmed)
    ledger: SessionLedger[Action, ForceRequest] = SessionLedger()
    ledger.register([Action("a", "A."), Action("b", "B.")])
    force = request("f1", "a", "b")
    queue.push(force)
    assert queue.take_turn(ledger).send is force
    assert len(queue) == 0
