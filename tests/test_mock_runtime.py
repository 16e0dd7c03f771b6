"""Our own runtime (TrioNeuroAPIComponent) against the stand-in Neuro, strict.

The stand-in plays forces, sends unforced actions and every chaos probe; the
runtime must break no rule and answer every probe correctly.
"""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge import conformance
from neuro_bridge.mock import ALL_CHAOS, ChaosKind, MockNeuro, MockSession
from neuro_bridge.protocol import Action, ForcePriority, LocalProtocolError, NeuroCommands
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests.helpers import column_action

WAIT = 10.0

MOVE = column_action("move", "Drop a piece into a column.")
SAY = Action(
    "say",
    "Say something to chat.",
    {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 40},
            "mood": {"enum": ["happy", "sad"]},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        },
        "required": ["text"],
    },
)
WAVE = Action("wave", "Wave at chat.")
PICK = Action(
    "pick_card",
    "Pick a card.",
    {
        "type": "object",
        "properties": {"card": {"type": "string", "pattern": "^[A-K][a-z]{2}$"}},
        "required": ["card"],
    },
)


def forces_settled(session: MockSession, game: TrioNeuroAPIComponent) -> bool:
    """Whether neither side has a force in flight."""
    return session.pending_force is None and game.pending_force is None


async def answered_reregister_all(session: MockSession) -> None:
    """Wait for the startup registration and the answer to reregister_all."""
    while session.commands().count("actions/register") < 2:
        await session.wait_for_command("actions/register", start=len(session.messages))


@contextlib.asynccontextmanager
async def running_game(
    url: str, calls: list[tuple[str, dict[str, Any]]]
) -> AsyncIterator[TrioNeuroAPIComponent]:
    async with trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = TrioNeuroAPIComponent(
            "neuro", "Conformance Test Game", reconnect_initial_delay=0.05
        )
        manager.add_component(component)

        def record(name: str) -> Any:
            def handler(data: dict[str, Any]) -> None:
                calls.append((name, data))

            return handler

        await component.register_neuro_actions(
            [(MOVE, record("move")), (SAY, record("say")), (WAVE, record("wave"))]
        )
        await manager.raise_event(Event("connect", url))
        try:
            yield component
        finally:
            with trio.fail_after(WAIT):
                await component.stop()


@pytest.mark.mock_neuro(
    chaos=ALL_CHAOS,
    chaos_interval=0.02,
    chaos_grace=0.1,
    unforced_rate=4.0,
    result_timeout=3.0,
    character="neuro",
    extra_key_probability=0.3,
    seed=3,
    reregister_on_connect=True,
)
async def test_runtime_conforms_under_chaos(mock_neuro: MockNeuro) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    async with running_game(mock_neuro.url, calls) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await answered_reregister_all(session)
            await game.send_context("The board is empty.", silent=False)
            await game.send_force_action(
                "empty board", "Your turn.", ["move", "say"], priority=ForcePriority.HIGH
            )
            await session.wait_for_force()
            # The force is played and answered; both sides agree it is over.
            while not forces_settled(session, game):
                await trio.sleep(0.01)
            # A one-shot action: the runtime unregisters it before its result, and
            # the stand-in immediately sends it again (unregistered_action).
            await game.register_action(
                PICK, lambda data: calls.append(("pick", data)), one_shot=True
            )
            # An unforced pick may have used the one-shot already.
            with contextlib.suppress(LocalProtocolError):
                await game.send_force_action(None, "Pick a card.", ["pick_card"])
            kinds = set(ChaosKind) - {ChaosKind.EXTRA_KEY}
            while not kinds <= {o.kind for o in mock_neuro.chaos_outcomes}:
                await trio.sleep(0.02)
            while not forces_settled(session, game):
                await trio.sleep(0.01)
            # Neuro hangs up: the runtime reconnects and restores its state.
            await session.close()
            second = await mock_neuro.wait_for_game()
            await second.wait_for_actions("move", "say", "wave")
            mock_neuro.stop()  # Neuro hangs up first: no probe is cut short
            await mock_neuro.wait_all_disconnected()
    with trio.fail_after(WAIT):
        await mock_neuro.wait_all_disconnected()
    mock_neuro.assert_conforms()
    assert [o for o in mock_neuro.chaos_outcomes if not o.ok] == []
    assert session.commands()[:2] == ["startup", "actions/register"]
    assert second.commands()[:2] == ["startup", "actions/register"]
    assert any(name == "move" or name == "say" for name, _ in calls)
    assert session.unforced_ids


@pytest.mark.mock_neuro(auto_play=False, reregister_on_connect=False)
async def test_reregister_all_resends_the_force_in_flight(mock_neuro: MockNeuro) -> None:
    # Neuro lost her state: the actions, then the force she forgot with them; the
    # stand-in takes that force as the same one, not as a second force in flight.
    async with running_game(mock_neuro.url, []) as game:
        with trio.fail_after(WAIT):
            session = await mock_neuro.wait_for_game()
            await session.wait_for_actions("move")
            await game.send_force_action(None, "Your turn.", ["move"])
            first = await session.wait_for_force()
            start = len(session.messages)
            await session.send(NeuroCommands.reregister_all())
            await session.wait_for_command("actions/force", start=start)
            assert session.commands()[start:] == ["actions/register", "actions/force"]
            assert session.pending_force is not None
            assert session.pending_force.action_names == first.action_names
    assert [f.rule for f in mock_neuro.findings if f.rule == conformance.FORCE_IN_FLIGHT] == []
