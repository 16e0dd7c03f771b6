"""The session ledger: one set of rules, applied from the game side and Neuro's.

Like h11's ``ConnectionPair``, :class:`LedgerPair` joins the two sides without a
socket: the game is an :class:`~neuro_bridge.api.AbstractNeuroAPI` writing into a
list; Neuro is a :class:`~neuro_bridge.ledger.SessionLedger` fed each frame through
:func:`~neuro_bridge.protocol.parse_game_message` and
:func:`~neuro_bridge.ledger.apply_game_event`.  After every step both must hold the
same actions, the same force and the same unanswered ids.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from neuro_bridge.api import AbstractNeuroAPI, ForceInFlightError, WebsocketMessage
from neuro_bridge.conformance import ConformanceChecker
from neuro_bridge.ledger import (
    FORCE_TRANSITIONS,
    ForceState,
    ForceTrigger,
    SessionLedger,
    Transition,
    apply_game_event,
)
from neuro_bridge.protocol import (
    Action,
    ActionDefinition,
    ActionRequested,
    ActionsForced,
    ContextSent,
    LocalProtocolError,
    NeuroCommands,
    parse_game_message,
    parse_neuro_message,
)

GAME = "Ledger Game"
SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
ACTIONS = {
    "move": Action("move", "Move.", SCHEMA),
    "wave": Action("wave", "Wave."),
    "jump": Action("jump", "Jump.", {}),
}


class InMemoryGame(AbstractNeuroAPI):
    """The game side, writing every frame into :attr:`written`."""

    def __init__(self) -> None:
        super().__init__(GAME)
        self.written: list[str] = []
        self.gate: trio.Event | None = None

    async def write_to_websocket(self, data: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.written.append(data)

    async def read_from_websocket(self) -> WebsocketMessage:
        raise AssertionError("the pair hands Neuro's frames to dispatch_event")

    async def handle_action(self, action: ActionRequested) -> None:
        """Leave the action unanswered: the test answers it when it chooses."""


def force_of(side: Any) -> Any:
    """The force in flight of a game, a ledger or a checker (read anew each time)."""
    return side.pending_force if isinstance(side, AbstractNeuroAPI) else side.force


@attrs.define
class LedgerPair:
    """A game and Neuro's ledger, joined without a socket."""

    game: InMemoryGame = attrs.Factory(InMemoryGame)
    neuro: SessionLedger[ActionDefinition, ActionsForced] = attrs.Factory(SessionLedger)
    read: int = 0
    transitions: list[Transition[ActionsForced]] = attrs.Factory(list)

    def deliver(self) -> None:
        """Neuro reads every frame the game wrote since the last call."""
        for frame in self.game.written[self.read :]:
            event = parse_game_message(frame)
            assert event.problems == (), event
            force = event if isinstance(event, ActionsForced) else None
            self.transitions.append(apply_game_event(self.neuro, event, force))
        self.read = len(self.game.written)

    async def neuro_acts(self, action_id: str, name: str) -> None:
        """Neuro sends ``action``; the game reads it (and leaves it unanswered)."""
        self.neuro.action_sent(action_id, name)
        await self.game.dispatch_event(parse_neuro_message(NeuroCommands.action(action_id, name)))

    def assert_agree(self) -> None:
        self.deliver()
        game, neuro = self.game.ledger, self.neuro
        assert list(game.actions) == list(neuro.actions)
        for name, action in game.actions.items():
            held = neuro.actions[name]
            # An empty schema is left out of the frame: {} and None both mean "none".
            held_schema, schema = held.schema or None, action.schema or None
            assert (held.description, held_schema) == (action.description, schema)
        assert game.force_state is neuro.force_state
        if game.force is None:
            assert neuro.force is None
        else:
            assert neuro.force is not None
            assert neuro.force.action_names == game.force.action_names
            assert neuro.force.query == game.force.query
        assert dict(game.unanswered) == dict(neuro.unanswered)


async def test_a_conversation_keeps_both_sides_in_step() -> None:
    pair = LedgerPair()
    await pair.game.send_startup_command()
    await pair.game.register_actions([ACTIONS["move"], ACTIONS["wave"]])
    pair.assert_agree()
    await pair.game.send_force_action("board", "Your turn", ["move", "wave"])
    pair.assert_agree()
    assert pair.neuro.force_state is ForceState.IN_FLIGHT
    await pair.neuro_acts("1", "move")
    pair.assert_agree()
    await pair.game.send_action_result("1", False, "Column full.")
    pair.assert_agree()
    assert force_of(pair.game) is not None  # a failure does not end the force
    await pair.neuro_acts("2", "wave")
    await pair.game.send_action_result("2", True)
    pair.assert_agree()
    assert force_of(pair.game) is None
    assert pair.transitions[-1].force_ended is not None
    await pair.game.unregister_actions(["wave"])
    await pair.game.register_actions([ACTIONS["jump"], ACTIONS["move"]])
    pair.assert_agree()
    assert pair.transitions[-1].registered == ("jump",)  # move was already there


async def test_unregistering_every_forced_action_ends_the_force_on_both_sides() -> None:
    pair = LedgerPair()
    await pair.game.register_actions([ACTIONS["move"], ACTIONS["wave"]])
    await pair.game.send_force_action(None, "Go", ["move", "wave"])
    await pair.game.unregister_actions(["move"])
    pair.assert_agree()
    assert force_of(pair.neuro) is not None
    await pair.game.unregister_actions(["wave"])
    pair.assert_agree()
    assert force_of(pair.neuro) is None
    assert pair.transitions[-1].force_ended is not None


async def test_a_fresh_neuro_is_restored_to_the_same_state() -> None:
    pair = LedgerPair()
    await pair.game.register_actions([ACTIONS["move"], ACTIONS["wave"]])
    await pair.game.send_force_action("s", "Go", ["wave"], priority="high")
    await pair.game.unregister_actions(["move"])
    pair.assert_agree()
    before = pair.game.ledger.restoration()
    # A reconnect: Neuro has forgotten everything; the game re-sends its startup.
    fresh = LedgerPair(game=pair.game, read=len(pair.game.written))
    await pair.game.send_startup_command()
    fresh.assert_agree()
    assert pair.game.ledger.restoration() == before  # restoring changed nothing here
    assert [parse_game_message(f).__class__.__name__ for f in pair.game.written[-3:]] == [
        "GameStarted",
        "ActionsRegistered",
        "ActionsForced",
    ]


async def test_a_second_force_is_refused_by_the_game_and_replaces_on_neuros_side() -> None:
    pair = LedgerPair()
    await pair.game.register_actions([ACTIONS["move"], ACTIONS["wave"]])
    await pair.game.send_force_action(None, "One", ["move"])
    with pytest.raises(ForceInFlightError):
        await pair.game.send_force_action(None, "Two", ["wave"])
    pair.assert_agree()
    # A game that broke the rule: Neuro's ledger reports it and takes the new one.
    first = pair.neuro.force
    second = ActionsForced(query="Two", action_names=("wave",))
    transition = apply_game_event(pair.neuro, second, second)
    assert transition.force_replaced is first
    assert pair.neuro.force is second
    # A force naming only unknown actions is not put in flight.
    ghost = ActionsForced(query="Three", action_names=("fly",))
    transition = apply_game_event(pair.neuro, ghost, ghost)
    assert transition.unknown_force_names == ("fly",)
    assert pair.neuro.force is second


def test_the_force_lifecycle_is_a_table() -> None:
    assert FORCE_TRANSITIONS[(ForceState.IDLE, ForceTrigger.FORCE)] is ForceState.IN_FLIGHT
    assert (ForceState.IN_FLIGHT, ForceTrigger.FORCE) not in FORCE_TRANSITIONS
    for trigger in ForceTrigger:
        if trigger is not ForceTrigger.FORCE:
            assert FORCE_TRANSITIONS[(ForceState.IN_FLIGHT, trigger)] is ForceState.IDLE
            assert (ForceState.IDLE, trigger) not in FORCE_TRANSITIONS
    ledger: SessionLedger[ActionDefinition, ActionsForced] = SessionLedger()
    assert ledger.end_force() is None
    force = ActionsForced(query="q", action_names=("a",))
    assert ledger.start_force(force) is None
    assert ledger.startup() is force
    assert ledger.force_state is ForceState.IDLE


def test_the_ledger_views_are_read_only() -> None:
    ledger: SessionLedger[ActionDefinition, ActionsForced] = SessionLedger()
    ledger.register([ActionDefinition("a", "A")])
    assert ledger.action_sent("1", "a")
    assert not ledger.action_sent("1", "a")  # already awaiting its result
    view: Any = ledger.actions
    with pytest.raises(TypeError):
        view["b"] = ActionDefinition("b", "B")
    assert "a" in ledger.actions
    assert dict(ledger.unanswered) == {"1": "a"}
    assert ledger.forget_unanswered() == ["1"]
    assert "SessionLedger 1 actions" in repr(ledger)


async def test_state_is_committed_when_the_call_is_made() -> None:
    game = InMemoryGame()
    game.gate = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(game.register_actions, [ACTIONS["move"]])
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(game.send_context, "second")
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(game.unregister_actions, ["move"])
        await trio.testing.wait_all_tasks_blocked()
        # Committed, not yet written.
        assert game.get_registered() == ()
        assert game.written == []
        game.gate.set()
    assert [parse_game_message(f).__class__.__name__ for f in game.written] == [
        "ActionsRegistered",
        "ContextSent",
        "ActionsUnregistered",
    ]


async def test_a_call_cancelled_while_waiting_still_has_its_frame_written() -> None:
    game = InMemoryGame()
    game.gate = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(game.send_context, "first")
        await trio.testing.wait_all_tasks_blocked()
        with trio.CancelScope() as scope:
            scope.cancel()
            # Cancelled while it waits for the writer: its frame is committed, so
            # the writer ahead of it writes it.
            await game.send_context("second")
        assert scope.cancelled_caught
        game.gate.set()
    assert [parse_game_message(f) for f in game.written] == [
        ContextSent(message="first", silent=True, game=GAME),
        ContextSent(message="second", silent=True, game=GAME),
    ]


async def test_the_stand_ins_checker_keeps_the_same_ledger() -> None:
    pair = LedgerPair()
    checker = ConformanceChecker()
    await pair.game.send_startup_command()
    await pair.game.register_actions([ACTIONS["move"], ACTIONS["wave"]])
    await pair.game.send_force_action(None, "Go", ["move"])
    checker.neuro_sent(NeuroCommands.action("1", "move", '{"x": 1}'), 0.0)
    await pair.neuro_acts("1", "move")
    for frame in pair.game.written:
        checker.receive(frame, 0.0)
    pair.assert_agree()
    assert isinstance(checker.ledger, SessionLedger)
    assert list(checker.registered) == list(pair.neuro.actions)
    assert checker.force is not None
    assert checker.force.action_names == ("move",)
    await pair.game.send_action_result("1", True)
    checker.receive(pair.game.written[-1], 0.0)
    assert force_of(checker) is None
    assert checker.findings == []


# Operations a game may perform, as data: (operation, argument).
operations = st.lists(
    st.tuples(
        st.sampled_from(["register", "unregister", "force", "act", "answer", "restore"]),
        st.lists(st.sampled_from(sorted(ACTIONS)), min_size=1, max_size=3, unique=True),
        st.booleans(),
    ),
    max_size=25,
)


@given(operations)
def test_any_sequence_of_calls_keeps_both_sides_in_step(
    steps: list[tuple[str, list[str], bool]],
) -> None:
    async def main() -> None:
        pair = LedgerPair()
        counter = 0
        refused: list[str] = []
        for operation, names, flag in steps:
            game = pair.game
            try:
                if operation == "register":
                    await game.register_actions([ACTIONS[n] for n in names])
                elif operation == "unregister":
                    await game.unregister_actions(names)
                elif operation == "force":
                    await game.send_force_action(
                        None, "Go", names, priority="high" if flag else "low"
                    )
                elif operation == "act":
                    counter += 1
                    await pair.neuro_acts(str(counter), names[0])
                elif operation == "answer" and game.ledger.unanswered:
                    action_id = next(iter(game.ledger.unanswered))
                    await game.send_action_result(action_id, flag, None if flag else "No.")
                elif operation == "restore":
                    # A reconnect: a fresh Neuro reads only what follows startup.
                    pair = LedgerPair(game=game, read=len(game.written))
                    game.forget_unanswered()  # as the connection loop does
                    await game.send_startup_command()
            except ForceInFlightError:
                assert game.pending_force is not None
            except LocalProtocolError as exc:  # forcing a name not registered
                refused.append(str(exc))
            pair.assert_agree()
        assert all("unregistered" in text for text in refused)

    trio.run(main)
