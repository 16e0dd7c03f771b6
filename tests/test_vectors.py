"""The protocol test vectors (``tests/vectors/*.json``) against the Python runtime.

The same files run against the Godot addon in
``tests/engines/test_godot_vectors.py``, so the two runtimes cannot drift apart:

* ``neuro_frames.json``: a frame from Neuro, read by the game side (an
  :class:`~neuro_bridge.component.AbstractNeuroAPIComponent` with the suite's
  actions bound to recording handlers, writing to a list);
* ``game_calls.json``: a call to :class:`~neuro_bridge.protocol.GameCommands`, the
  frame it builds or its refusal; every frame built must read back on the Neuro
  side with no problem;
* ``game_frames.json``: a frame from a game, read by the Neuro side
  (:func:`~neuro_bridge.protocol.parse_game_message`).

A vector whose ``pending`` names ``python`` is a decision this runtime does not
follow yet: it runs as a strict xfail, so the day it passes the mark must go.
Every ``decision`` a vector names is a row of the table in ``docs/protocol.rst``.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from neuro_bridge.api import ActionMessageError, ActionMessageTypeError
from neuro_bridge.component import AbstractNeuroAPIComponent
from neuro_bridge.protocol import (
    Action,
    GameCommands,
    LocalProtocolError,
    parse_game_message,
    parse_neuro_message,
    result_message,
)

if TYPE_CHECKING:
    from neuro_bridge.api import WebsocketMessage
    from neuro_bridge.protocol import SpeechFinished, StartupAcknowledged

VECTORS = Path(__file__).with_name("vectors")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "protocol.rst"


def load(name: str) -> dict[str, Any]:
    suite: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return suite


def cases(suite: dict[str, Any]) -> list[Any]:
    """One pytest param per vector, a strict xfail when pending for Python."""
    params = []
    for vector in suite["vectors"]:
        pending = vector.get("pending", {}).get("python")
        marks = [pytest.mark.xfail(strict=True, reason=pending)] if pending else []
        params.append(pytest.param(vector, id=vector["name"], marks=marks))
    return params


def frame_text(vector: dict[str, Any]) -> str:
    text = vector["text"] if "text" in vector else json.dumps(vector["frame"])
    assert isinstance(text, str)
    return text


NEURO_FRAMES = load("neuro_frames.json")
GAME_CALLS = load("game_calls.json")
GAME_FRAMES = load("game_frames.json")


# --------------------------------------------------------------------- the files


def test_every_decision_is_in_the_docs() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for suite in (NEURO_FRAMES, GAME_CALLS, GAME_FRAMES):
        for vector in suite["vectors"]:
            decision = vector.get("decision")
            if decision is not None:
                assert f"``{decision}``" in docs, (vector["name"], decision)


def test_vector_names_are_unique_and_expectations_known() -> None:
    outcomes = {"handled", "refused", "ignored", "event", "sends"}
    for suite, allowed in (
        (NEURO_FRAMES, outcomes),
        (GAME_CALLS, {"frame", "refused"}),
        (GAME_FRAMES, {"event"}),
    ):
        names = [vector["name"] for vector in suite["vectors"]]
        assert len(names) == len(set(names))
        for vector in suite["vectors"]:
            assert len(vector["expect"]) >= 1
            assert set(vector["expect"]) - {"problems"} <= allowed, vector["name"]
            assert set(vector.get("pending", {})) <= {"python", "godot"}


# --------------------------------------------------------------------- Neuro -> game


class RecordingGame(AbstractNeuroAPIComponent):
    """The game side with every frame it writes and every event it sees recorded."""

    def __init__(self) -> None:
        super().__init__("vectors", "Vectors")
        self.sent: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []

    async def write_to_websocket(self, data: str) -> None:
        self.sent.append(json.loads(data))

    async def read_from_websocket(self) -> WebsocketMessage:
        raise AssertionError("the vectors feed frames with receive()")

    def handler_for(self, name: str) -> Any:
        def handle(data: dict[str, Any]) -> None:
            self.calls.append({"action": name, "data": data})

        return handle

    async def receive(self, text: str) -> None:
        """Read one frame as the connection's read loop does (trio_ws._read_loop)."""
        # An invalid action is answered by handle_invalid_action; the error reports it.
        with contextlib.suppress(ActionMessageError, ActionMessageTypeError):
            await self.dispatch_event(parse_neuro_message(text))

    async def handle_graceful_shutdown_request(self, wants_shutdown: bool) -> None:
        await super().handle_graceful_shutdown_request(wants_shutdown)
        if wants_shutdown:
            self.events.append({"kind": "shutdown_requested", "immediate": False})
        else:
            self.events.append({"kind": "shutdown_cancelled"})

    async def handle_immediate_shutdown(self) -> None:
        await super().handle_immediate_shutdown()
        self.events.append({"kind": "shutdown_requested", "immediate": True})

    async def handle_speech_finished(self, event: SpeechFinished) -> None:
        await super().handle_speech_finished(event)
        self.events.append({"kind": "speech_finished", "is_final": event.is_final})

    async def handle_startup_acknowledgement(self, ack: StartupAcknowledged) -> None:
        await super().handle_startup_acknowledgement(ack)
        self.events.append(
            {
                "kind": "startup_acknowledged",
                "session_id": ack.session_id,
                "character_id": ack.character_id,
                "display_name": ack.display_name,
            }
        )


@pytest.mark.parametrize("vector", cases(NEURO_FRAMES))
async def test_neuro_frame(vector: dict[str, Any]) -> None:
    game = RecordingGame()
    actions = [
        (Action(a["name"], a["description"], a.get("schema")), game.handler_for(a["name"]))
        for a in NEURO_FRAMES["actions"]
    ]
    await game.register_neuro_actions(actions)
    force = vector.get("given", {}).get("force")
    if force is not None:
        await game.send_force_action(None, force["query"], force["action_names"])
    game.sent.clear()

    await game.receive(frame_text(vector))

    expect = vector["expect"]
    results = [f["data"] for f in game.sent if f["command"] == "action/result"]
    seen = f"sent {game.sent}, events {game.events}, handled {game.calls}"
    if "handled" in expect:
        assert game.calls == [expect["handled"]], seen
        assert len(results) == 1, seen
        assert results[0]["success"] is True, seen
    elif "refused" in expect:
        assert game.calls == [], seen
        assert [(r["id"], r["success"]) for r in results] == [(expect["refused"]["id"], False)]
    elif "ignored" in expect:
        assert (game.sent, game.events, game.calls) == ([], [], []), seen
    elif "event" in expect:
        assert game.events == [expect["event"]], seen
        assert game.sent == [], seen
    else:
        assert [f["command"] for f in game.sent] == expect["sends"], seen


# --------------------------------------------------------------------- game calls


def build(call: str, args: dict[str, Any]) -> str:
    commands = GameCommands(GAME_CALLS["game"])
    if call == "startup":
        return commands.startup()
    if call == "context":
        return commands.context(args["message"], args["silent"])
    if call == "register":
        actions = [Action(a["name"], a["description"], a.get("schema")) for a in args["actions"]]
        return commands.register_actions(actions)
    if call == "unregister":
        return commands.unregister_actions(args["action_names"])
    if call == "force":
        return commands.force_actions(**args)
    if call == "result":  # what every answer passes: result_message, then the builder
        message = result_message(args["success"], args.get("message"), args.get("action"))
        return commands.action_result(args["id"], args["success"], message)
    assert call == "shutdown_ready", call
    return commands.shutdown_ready()


@pytest.mark.parametrize("vector", cases(GAME_CALLS))
def test_game_call(vector: dict[str, Any]) -> None:
    expect = vector["expect"]
    if "refused" in expect:
        with pytest.raises(LocalProtocolError):
            build(vector["call"], vector["args"])
        return
    frame = build(vector["call"], vector["args"])
    assert json.loads(frame) == expect["frame"]
    # What the game side builds, the Neuro side reads without a problem.
    assert parse_game_message(frame).problems == ()


# --------------------------------------------------------------------- game -> Neuro


@pytest.mark.parametrize("vector", cases(GAME_FRAMES))
def test_game_frame(vector: dict[str, Any]) -> None:
    event = parse_game_message(frame_text(vector))
    got = {"event": type(event).__name__, "problems": sorted(p.kind.value for p in event.problems)}
    assert got == vector["expect"]
