"""The sans-IO core: every frame both ways, byte-exact where the spec fixes it.

No sockets here (wsproto/h11 style): the game side builds frames with
:class:`GameCommands`, the Neuro side with :class:`NeuroCommands`, and
:class:`ProtocolPair` checks that what one side builds the other side decodes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuro_bridge.protocol import (
    GAME_COMMANDS,
    GAME_ENVELOPE_KEYS,
    NEURO_COMMANDS,
    NEURO_ENVELOPE_KEYS,
    Action,
    ActionDefinition,
    ActionRequested,
    ActionResultSent,
    ActionsForced,
    ActionsRegistered,
    ActionsUnregistered,
    ContextSent,
    ForcePriority,
    GameCommandKind,
    GameCommands,
    GameEvent,
    GameStarted,
    GracefulShutdownRequested,
    ImmediateShutdownRequested,
    InvalidActionMessage,
    LocalProtocolError,
    MalformedGameMessage,
    MalformedMessage,
    NeuroCommandKind,
    NeuroCommands,
    NeuroEvent,
    ProblemKind,
    ProtocolError,
    RemoteProtocolError,
    ReregisterAllRequested,
    ShutdownReadySent,
    SpeechFinished,
    StartupAcknowledged,
    UnknownCommand,
    UnknownGameCommand,
    check_action_name,
    check_action_names,
    check_actions,
    check_context,
    check_force,
    check_result,
    parse_game_message,
    parse_neuro_message,
    read_game_frame,
    result_message,
)

GAME = "My Game"


@attrs.define
class ProtocolPair:
    """A game core and a Neuro core joined without a socket.

    ``to_game`` builds a frame on the Neuro side and returns the event the game
    side decodes from it; ``to_neuro`` returns a game frame as plain JSON, after
    checking that the game-frame parser reads it without a problem (its event is
    kept in ``events_to_neuro``).
    """

    game: GameCommands = attrs.Factory(lambda: GameCommands(GAME))
    neuro: type[NeuroCommands] = NeuroCommands
    frames_to_game: list[str] = attrs.Factory(list)
    frames_to_neuro: list[str] = attrs.Factory(list)
    events_to_neuro: list[GameEvent] = attrs.Factory(list)

    def to_game(self, frame: str) -> NeuroEvent:
        self.frames_to_game.append(frame)
        text_event = parse_neuro_message(frame)
        # The same frame as a binary (UTF-8) websocket frame decodes identically.
        assert parse_neuro_message(frame.encode("utf-8")) == text_event
        return text_event

    def to_neuro(self, frame: str) -> dict[str, Any]:
        self.frames_to_neuro.append(frame)
        frame.encode("utf-8")  # must be sendable as a text frame
        message: dict[str, Any] = json.loads(frame)
        assert message["game"] == self.game.game
        assert set(message) <= {"command", "game", "data"}
        event = parse_game_message(frame)
        assert not isinstance(event, (MalformedGameMessage, UnknownGameCommand)), event
        assert event.problems == (), event.problems
        assert event.game == self.game.game
        self.events_to_neuro.append(event)
        return message


@pytest.fixture
def pair() -> ProtocolPair:
    return ProtocolPair()


@pytest.fixture
def game() -> GameCommands:
    return GameCommands(GAME)


# ---------------------------------------------------------------- game -> Neuro, exact bytes


def test_startup_has_no_data(game: GameCommands) -> None:
    assert game.startup() == '{"command":"startup","game":"My Game"}'


def test_shutdown_ready_has_no_data(game: GameCommands) -> None:
    assert game.shutdown_ready() == '{"command":"shutdown/ready","game":"My Game"}'


def test_context_exact(game: GameCommands) -> None:
    assert game.context("Hello") == (
        '{"command":"context","game":"My Game","data":{"message":"Hello","silent":true}}'
    )
    assert game.context("Hi", silent=False) == (
        '{"command":"context","game":"My Game","data":{"message":"Hi","silent":false}}'
    )


def test_register_actions_exact_no_null_schema(game: GameCommands) -> None:
    actions = [
        Action("wave", "Wave at chat"),
        Action("play", "Drop a piece", {"type": "object", "required": ["column"]}),
    ]
    assert game.register_actions(actions) == (
        '{"command":"actions/register","game":"My Game","data":{"actions":['
        '{"name":"wave","description":"Wave at chat"},'
        '{"name":"play","description":"Drop a piece",'
        '"schema":{"type":"object","required":["column"]}}]}}'
    )
    assert "null" not in game.register_actions([Action("wave", "Wave")])
    # Any iterable, as for unregister_actions (an iterator was read up by the checks).
    assert game.register_actions(iter(actions)) == game.register_actions(actions)


def test_unregister_actions_exact(game: GameCommands) -> None:
    assert game.unregister_actions(["a", "b-c"]) == (
        '{"command":"actions/unregister","game":"My Game","data":{"action_names":["a","b-c"]}}'
    )
    # Any iterable of names.
    assert game.unregister_actions(iter(["a"])) == game.unregister_actions(("a",))


def test_force_minimal_omits_its_defaults(game: GameCommands) -> None:
    assert game.force_actions(query="Your turn", action_names=["play"]) == (
        '{"command":"actions/force","game":"My Game","data":{"query":"Your turn",'
        '"action_names":["play"]}}'
    )
    assert game.force_actions(
        query="q", action_names=["play"], priority=ForcePriority.LOW
    ) == game.force_actions(query="q", action_names=["play"], priority="low")


def test_force_full(game: GameCommands) -> None:
    assert game.force_actions(
        query="Pick",
        action_names=["a", "b"],
        state="board",
        ephemeral_context=True,
        priority="critical",
    ) == (
        '{"command":"actions/force","game":"My Game","data":{"state":"board","query":"Pick",'
        '"ephemeral_context":true,"priority":"critical","action_names":["a","b"]}}'
    )


@pytest.mark.parametrize("priority", ["medium", "high", "critical"])
def test_force_priority_sent_when_not_low(game: GameCommands, priority: str) -> None:
    message = json.loads(game.force_actions(query="q", action_names=["a"], priority=priority))
    assert message["data"]["priority"] == priority
    enum_frame = game.force_actions(query="q", action_names=["a"], priority=ForcePriority(priority))
    assert json.loads(enum_frame) == message


def test_action_result_exact(game: GameCommands) -> None:
    assert game.action_result("id-1", True) == (
        '{"command":"action/result","game":"My Game","data":{"id":"id-1","success":true}}'
    )
    assert game.action_result("id-1", True, "Done") == (
        '{"command":"action/result","game":"My Game",'
        '"data":{"id":"id-1","success":true,"message":"Done"}}'
    )
    assert game.action_result("id-2", False, "Column full") == (
        '{"command":"action/result","game":"My Game",'
        '"data":{"id":"id-2","success":false,"message":"Column full"}}'
    )


def test_frames_escape_json_and_keep_unicode() -> None:
    game = GameCommands('The "Quoted" \\ Game ✓')
    assert game.startup() == '{"command":"startup","game":"The \\"Quoted\\" \\\\ Game ✓"}'
    frame = game.context("naïve\nline ✓ 🎲")
    assert "naïve\\nline ✓ 🎲" in frame  # compact, not ASCII-escaped
    assert json.loads(frame)["data"]["message"] == "naïve\nline ✓ 🎲"


def test_lone_surrogates_are_escaped_so_the_frame_is_sendable(game: GameCommands) -> None:
    # An id Neuro sent as "\ud800" decodes to a lone surrogate; the answer must still
    # be valid UTF-8 (trio-websocket raises UnicodeEncodeError otherwise).
    for frame in (
        game.action_result("a\ud800b", True),
        game.action_result("x", False, "bad \udfff data"),
        game.context("half \ud83d emoji"),
    ):
        frame.encode("utf-8")
    assert json.loads(game.action_result("a\ud800b", True))["data"]["id"] == "a\ud800b"
    assert json.loads(game.context("half \ud83d"))["data"]["message"] == "half \ud83d"
    # Two surrogate code points forming a pair are escaped as a pair: one character.
    assert json.loads(game.context("\ud800\udc00"))["data"]["message"] == "\U00010000"


# ---------------------------------------------------------------- game -> Neuro, refusals


@pytest.mark.parametrize("title", ["", "   ", None, 5, b"Game"])
def test_game_title_must_be_non_empty_str(title: Any) -> None:
    with pytest.raises(LocalProtocolError, match="game title"):
        GameCommands(title)


@pytest.mark.parametrize(
    "name", ["", "Wave", "has space", "ünï", "tab\t", "a.b", "a/b", "dash—", 5, None, b"ab"]
)
def test_bad_action_names(name: Any) -> None:
    with pytest.raises(LocalProtocolError):
        check_action_name(name)
    with pytest.raises(LocalProtocolError):
        Action(name, "desc")


@pytest.mark.parametrize("name", ["a", "wave", "play_card", "pick-2", "0", "_-_", "x" * 200])
def test_good_action_names(name: str) -> None:
    assert check_action_name(name) == name
    assert Action(name, "d").name == name


@pytest.mark.parametrize("description", [None, 5, b"bytes", ["list"]])
def test_description_must_be_str(description: Any) -> None:
    with pytest.raises(LocalProtocolError, match="description"):
        Action("wave", description)


@pytest.mark.parametrize(
    "schema",
    [
        [],
        "object",
        5,
        {"type": "array"},
        {"type": ["object"]},
        {"properties": {}},
        {"type": "object", "properties": {"x": {"type": "nonsense"}}},
        {"type": "object", "required": "x"},
        {"type": "object", "properties": [1]},
        {"type": "object", "properties": {"x": {"pattern": "("}}},
        {"type": "object", "enum": [float("nan")]},
        {"type": "object", "default": {1, 2}},
        {"type": "object", 1: 2},
    ],
)
def test_bad_schemas_are_local_protocol_errors(schema: Any) -> None:
    with pytest.raises(LocalProtocolError):
        Action("wave", "desc", schema)


def test_unsupported_keywords_warn_at_creation(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="neuro_bridge.protocol"):
        Action("pick", "Pick", {"type": "object", "properties": {"title": {"type": "string"}}})
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="neuro_bridge.protocol"):
        Action("pick", "Pick", {"type": "object", "title": "Pick", "additionalProperties": False})
    assert len(caplog.records) == 1
    assert "title" in caplog.text
    assert "additionalProperties" in caplog.text


def test_register_refusals(game: GameCommands) -> None:
    with pytest.raises(LocalProtocolError, match="at least one"):
        game.register_actions([])
    with pytest.raises(LocalProtocolError, match="twice"):
        game.register_actions([Action("a", "x"), Action("a", "y")])
    with pytest.raises(LocalProtocolError, match="expected an Action"):
        game.register_actions([{"name": "a", "description": "x"}])  # type: ignore[list-item]


@pytest.mark.parametrize("names", [[], (), "wave", b"wave", None, 5, ["ok", "Bad"], [""], [5]])
def test_unregister_refusals(game: GameCommands, names: Any) -> None:
    with pytest.raises(LocalProtocolError):
        game.unregister_actions(names)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"query": None},
        {"query": 5},
        {"action_names": []},
        {"action_names": "play"},
        {"action_names": ["Play"]},
        {"state": 5},
        {"state": b"board"},
        {"ephemeral_context": 1},
        {"ephemeral_context": "yes"},
        {"priority": "urgent"},
        {"priority": "LOW"},
        {"priority": 1},
        {"priority": None},
    ],
)
def test_force_refusals(game: GameCommands, kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"query": "q", "action_names": ["play"], **kwargs}
    with pytest.raises(LocalProtocolError):
        game.force_actions(**arguments)


@pytest.mark.parametrize(
    ("action_id", "success", "message", "match"),
    [
        (5, True, None, "action id"),
        (None, True, None, "action id"),
        ("id", 1, None, "success"),
        ("id", "true", None, "success"),
        ("id", None, "m", "success"),
        ("id", False, None, "needs a message"),
        ("id", True, 5, "message"),
        ("id", False, b"bytes", "message"),
    ],
)
def test_action_result_refusals(
    game: GameCommands, action_id: Any, success: Any, message: Any, match: str
) -> None:
    with pytest.raises(LocalProtocolError, match=match):
        game.action_result(action_id, success, message)


@pytest.mark.parametrize(("message", "silent"), [(None, True), (5, True), ("m", 1), ("m", None)])
def test_context_refusals(game: GameCommands, message: Any, silent: Any) -> None:
    with pytest.raises(LocalProtocolError):
        game.context(message, silent)


def test_error_hierarchy() -> None:
    with pytest.raises(TypeError):
        ProtocolError("abstract")
    assert issubclass(LocalProtocolError, ValueError)
    assert issubclass(RemoteProtocolError, ProtocolError)
    assert not issubclass(RemoteProtocolError, LocalProtocolError)


# ---------------------------------------------------------------- Neuro -> game


def test_action_parsed(pair: ProtocolPair) -> None:
    event = pair.to_game(NeuroCommands.action("abc", "play", '{"column": 3}'))
    assert event == ActionRequested(id="abc", name="play", data='{"column": 3}')
    assert pair.to_game(NeuroCommands.action("abc", "wave")) == ActionRequested(
        id="abc", name="wave", data=None
    )
    # "data": null inside the action is the same as absent.
    frame = '{"command":"action","data":{"id":"i","name":"n","data":null}}'
    assert pair.to_game(frame) == ActionRequested(id="i", name="n", data=None)


def test_action_data_is_kept_raw(pair: ProtocolPair) -> None:
    # Parsing the data string is the component's job: the core passes it through.
    for raw in ["", "{}", "not json", "[1,2]", '{"a":', "  {} "]:
        assert pair.to_game(NeuroCommands.action("i", "n", raw)) == ActionRequested(
            id="i", name="n", data=raw
        )


def test_startup_acknowledgement(pair: ProtocolPair) -> None:
    event = pair.to_game(NeuroCommands.startup_acknowledgement("s-1", "evil", "Evil Neuro"))
    assert event == StartupAcknowledged(
        session_id="s-1", character_id="evil", display_name="Evil Neuro"
    )


def test_startup_acknowledgement_tolerates_extra_keys() -> None:
    frame = json.dumps(
        {
            "command": "startup",
            "data": {
                "session": {
                    "sessionId": "s",
                    "characterId": "neuro",
                    "displayName": "Neuro",
                    "mood": "happy",
                },
                "server_version": 3,
            },
        }
    )
    assert parse_neuro_message(frame) == StartupAcknowledged(
        session_id="s", character_id="neuro", display_name="Neuro"
    )


@pytest.mark.parametrize(
    "data",
    [None, {}, {"session": None}, {"session": {"sessionId": "s"}}, {"session": "s"}, [1]],
)
def test_bad_startup_acknowledgement_is_malformed(data: Any) -> None:
    frame = json.dumps({"command": "startup", "data": data})
    event = parse_neuro_message(frame)
    assert isinstance(event, MalformedMessage)
    assert event.frame == frame


def test_reregister_all_and_immediate_shutdown(pair: ProtocolPair) -> None:
    assert NeuroCommands.reregister_all() == '{"command":"actions/reregister_all"}'
    assert pair.to_game(NeuroCommands.reregister_all()) == ReregisterAllRequested()
    assert NeuroCommands.shutdown_immediate() == '{"command":"shutdown/immediate"}'
    assert pair.to_game(NeuroCommands.shutdown_immediate()) == ImmediateShutdownRequested()
    # Data where none is expected is ignored, not fatal.
    assert parse_neuro_message('{"command":"actions/reregister_all","data":{"x":1}}') == (
        ReregisterAllRequested()
    )


@pytest.mark.parametrize("wants", [True, False])
def test_graceful_shutdown(pair: ProtocolPair, wants: bool) -> None:
    assert pair.to_game(NeuroCommands.shutdown_graceful(wants)) == GracefulShutdownRequested(
        wants_shutdown=wants
    )


@pytest.mark.parametrize("data", [None, {}, {"wants_shutdown": 1}, {"wants_shutdown": "yes"}, []])
def test_bad_graceful_shutdown_is_malformed(data: Any) -> None:
    frame = json.dumps({"command": "shutdown/graceful", "data": data})
    assert isinstance(parse_neuro_message(frame), MalformedMessage)


def test_speech_finished(pair: ProtocolPair) -> None:
    assert pair.to_game(NeuroCommands.speech_finished(True)) == SpeechFinished(is_final=True)
    assert pair.to_game(
        NeuroCommands.speech_finished(False, cancelled=True, reason="interrupted")
    ) == SpeechFinished(is_final=False, cancelled=True, reason="interrupted")
    frame = '{"command":"speech_finished","data":{"isFinal":true,"durationMs":1200}}'
    assert parse_neuro_message(frame) == SpeechFinished(is_final=True)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"isFinal": "yes"},
        {"isFinal": True, "cancelled": 1},
        {"isFinal": True, "reason": 5},
    ],
)
def test_bad_speech_finished_is_malformed(data: Any) -> None:
    frame = json.dumps({"command": "speech_finished", "data": data})
    assert isinstance(parse_neuro_message(frame), MalformedMessage)


def test_unknown_commands_become_events() -> None:
    assert parse_neuro_message('{"command":"actions/teleport","data":{"x":[1,2]}}') == (
        UnknownCommand(command="actions/teleport", data={"x": [1, 2]})
    )
    assert parse_neuro_message('{"command":"ping"}') == UnknownCommand(command="ping")
    assert parse_neuro_message('{"command":"ping","data":7}') == UnknownCommand(
        command="ping", data=7
    )
    # Game-side commands echoed back are unknown on this side, not errors.
    assert parse_neuro_message(GameCommands(GAME).startup()) == MalformedMessage(
        reason="startup acknowledgement needs session.sessionId, characterId and"
        " displayName strings",
        frame=GameCommands(GAME).startup(),
    )
    assert isinstance(parse_neuro_message(GameCommands(GAME).context("x")), UnknownCommand)


def test_unknown_top_level_keys_tolerated(caplog: pytest.LogCaptureFixture) -> None:
    frame = '{"command":"action","version":2,"data":{"id":"i","name":"n"},"trace":"x"}'
    with caplog.at_level(logging.WARNING, logger="neuro_bridge.protocol"):
        assert parse_neuro_message(frame) == ActionRequested(id="i", name="n")
    assert "version" in caplog.text
    assert "trace" in caplog.text
    assert parse_neuro_message('{"command":"actions/reregister_all","x":null}') == (
        ReregisterAllRequested()
    )


@pytest.mark.parametrize(
    "frame",
    [
        b'{"command":"actions/reregister_all"}',
        bytearray(b'{"command":"actions/reregister_all"}'),
        memoryview(b'{"command":"actions/reregister_all"}'),
    ],
)
def test_binary_utf8_frames(frame: bytes | bytearray | memoryview) -> None:
    assert parse_neuro_message(frame) == ReregisterAllRequested()


def test_binary_utf8_action_with_unicode() -> None:
    frame = NeuroCommands.action("ïd-✓", "say", '{"text": "héllo 🎲"}').encode("utf-8")
    assert parse_neuro_message(frame) == ActionRequested(
        id="ïd-✓", name="say", data='{"text": "héllo 🎲"}'
    )


@pytest.mark.parametrize(
    "frame", [b"\xff\xfe{}", b'{"command":"\xc3"}', bytearray(b"\x80"), memoryview(b"\xed\xa0\x80")]
)
def test_binary_non_utf8_is_malformed(frame: bytes | bytearray | memoryview) -> None:
    event = parse_neuro_message(frame)
    assert isinstance(event, MalformedMessage)
    assert "UTF-8" in event.reason


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("{'command': 'action'}", "not valid JSON"),
        ('{"command":"action"} trailing', "not valid JSON"),
        ("[]", "JSON object"),
        ('"action"', "JSON object"),
        ("null", "JSON object"),
        ("42", "JSON object"),
        ("{}", "command"),
        ('{"data":{}}', "command"),
        ('{"command":5}', "command"),
        ('{"command":null}', "command"),
        ('{"command":["action"]}', "command"),
    ],
)
def test_malformed_frames(frame: str, reason: str) -> None:
    event = parse_neuro_message(frame)
    assert isinstance(event, MalformedMessage)
    assert reason in event.reason
    assert event.frame == frame


def test_surrounding_whitespace_is_fine() -> None:
    assert parse_neuro_message(' \n{"command":"shutdown/immediate"}\t ') == (
        ImmediateShutdownRequested()
    )


@pytest.mark.parametrize(
    ("data", "action_id", "wrong_type"),
    [
        # Not an object at all: nothing to answer.
        (None, None, False),
        ("x", None, True),
        ([{"id": "i", "name": "n"}], None, True),
        # Missing keys: a ValueError, answered when the id is a string.
        ({"name": "n"}, None, False),
        ({"id": "i"}, "i", False),
        ({"id": "i", "nam": "n"}, "i", False),
        ({}, None, False),
        # Wrong types: a TypeError.
        ({"id": 5, "name": "n"}, None, True),
        ({"id": None, "name": "n"}, None, True),
        ({"id": "i", "name": 5}, "i", True),
        ({"id": "i", "name": "n", "data": {"column": 1}}, "i", True),
        ({"id": "i", "name": "n", "data": 5}, "i", True),
        ({"id": "i", "name": "n", "data": True}, "i", True),
    ],
)
def test_invalid_action_messages(data: Any, action_id: str | None, wrong_type: bool) -> None:
    frame = json.dumps({"command": "action", "data": data})
    if data is None:
        frame = '{"command":"action"}'
    event = parse_neuro_message(frame)
    assert isinstance(event, InvalidActionMessage)
    assert event.action_id == action_id
    assert event.wrong_type is wrong_type
    assert event.reason


def test_events_are_immutable_and_keyword_only() -> None:
    event = ActionRequested(id="i", name="n")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.id = "j"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ActionRequested("i", "n")  # type: ignore[call-arg]


# ---------------------------------------------------------------- round trips

ids = st.text(min_size=1, max_size=40)
names = st.from_regex(r"[a-z0-9_-]{1,20}", fullmatch=True)


@given(action_id=ids, name=st.text(max_size=30), data=st.none() | st.text(max_size=60))
def test_action_round_trip(action_id: str, name: str, data: str | None) -> None:
    event = ProtocolPair().to_game(NeuroCommands.action(action_id, name, data))
    assert event == ActionRequested(id=action_id, name=name, data=data)


@given(
    is_final=st.booleans(),
    cancelled=st.none() | st.booleans(),
    reason=st.none() | st.text(max_size=30),
)
def test_speech_finished_round_trip(
    is_final: bool, cancelled: bool | None, reason: str | None
) -> None:
    frame = NeuroCommands.speech_finished(is_final, cancelled, reason)
    assert ProtocolPair().to_game(frame) == SpeechFinished(
        is_final=is_final, cancelled=cancelled, reason=reason
    )


@given(session=st.text(), character=st.sampled_from(["neuro", "evil"]), display=st.text())
def test_startup_acknowledgement_round_trip(session: str, character: str, display: str) -> None:
    frame = NeuroCommands.startup_acknowledgement(session, character, display)
    assert ProtocolPair().to_game(frame) == StartupAcknowledged(
        session_id=session, character_id=character, display_name=display
    )


# Hypothesis' text() leaves out surrogates; add them, as a JSON "\udXXX" escape makes them.
wild_text = st.text(max_size=30) | st.text(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(), max_size=10
)


@given(action_id=wild_text, success=st.booleans(), message=st.none() | wild_text)
def test_action_result_answers_the_exact_id(
    action_id: str, success: bool, message: str | None
) -> None:
    if not success and not (message and message.strip()):
        message = "failed"
    pair = ProtocolPair()
    # What Neuro sent (any id, possibly with escaped surrogates) ...
    request = pair.to_game(NeuroCommands.action(action_id, "play"))
    assert isinstance(request, ActionRequested)
    # ... is answered with the same id, in a frame that is valid UTF-8.
    answer = pair.to_neuro(pair.game.action_result(request.id, success, message))
    # (A surrogate pair sent as two escapes arrives as one character: compare with
    # the id as decoded, and the message as JSON would carry it.)
    expected: dict[str, Any] = {"id": request.id, "success": success}
    if message is not None:
        expected["message"] = json.loads(json.dumps(message))
    assert answer == {"command": "action/result", "game": GAME, "data": expected}


@given(message=wild_text, silent=st.booleans())
def test_context_round_trip(message: str, silent: bool) -> None:
    pair = ProtocolPair()
    if not message.strip():  # a blank context says nothing (docs/protocol.rst, blank-text)
        with pytest.raises(LocalProtocolError, match="must not be blank"):
            pair.game.context(message, silent)
        return
    assert pair.to_neuro(pair.game.context(message, silent)) == {
        "command": "context",
        "game": GAME,
        "data": {"message": json.loads(json.dumps(message)), "silent": silent},
    }


@given(
    action_names=st.lists(names, min_size=1, max_size=5),
    query=st.text(max_size=30).filter(str.strip),
    state=st.none() | st.text(max_size=30),
    ephemeral=st.booleans(),
    priority=st.sampled_from(list(ForcePriority)),
)
def test_force_round_trip(
    action_names: list[str],
    query: str,
    state: str | None,
    ephemeral: bool,
    priority: ForcePriority,
) -> None:
    pair = ProtocolPair()
    message = pair.to_neuro(
        pair.game.force_actions(
            query=query,
            action_names=action_names,
            state=state,
            ephemeral_context=ephemeral,
            priority=priority,
        )
    )
    data = message["data"]
    assert message["command"] == "actions/force"
    assert data["action_names"] == action_names
    assert data["query"] == query
    # Optional fields are left out at their default (docs/protocol.rst).
    assert data.get("ephemeral_context", False) is ephemeral
    assert ("ephemeral_context" in data) is ephemeral
    sent_state = state if state is not None and state.strip() else None
    assert data.get("state") == sent_state
    assert ("state" in data) is (sent_state is not None)
    assert data.get("priority", "low") == priority.value
    assert ("priority" in data) is (priority is not ForcePriority.LOW)


@given(st.lists(names, min_size=1, max_size=6, unique=True))
def test_register_and_unregister_round_trip(action_names: list[str]) -> None:
    pair = ProtocolPair()
    actions = [Action(name, f"Do {name}") for name in action_names]
    registered = pair.to_neuro(pair.game.register_actions(actions))
    assert registered["data"] == {
        "actions": [{"name": name, "description": f"Do {name}"} for name in action_names]
    }
    unregistered = pair.to_neuro(pair.game.unregister_actions(action_names))
    assert unregistered["data"] == {"action_names": action_names}


def test_pair_records_frames(pair: ProtocolPair) -> None:
    pair.to_neuro(pair.game.startup())
    pair.to_game(NeuroCommands.reregister_all())
    assert pair.frames_to_neuro == ['{"command":"startup","game":"My Game"}']
    assert pair.frames_to_game == ['{"command":"actions/reregister_all"}']


def test_actions_with_schemas_are_hashable_and_compare_by_value() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    first = Action("pick", "Pick", schema)
    same = Action("pick", "Pick", {"type": "object", "properties": {"x": {"type": "integer"}}})
    other = Action("pick", "Pick", {"type": "object"})
    assert first == same
    assert hash(first) == hash(same)
    assert first != other
    assert len({first, same, other}) == 2


def test_an_action_with_an_empty_schema() -> None:
    action = Action("wave", "Wave", {})
    assert action.schema == {}
    frame = GameCommands("My Game").register_actions([action])
    # Left out, as None is: both mean "no parameters" (docs/protocol.rst).
    assert json.loads(frame)["data"]["actions"] == [{"name": "wave", "description": "Wave"}]


@pytest.mark.parametrize(
    "extra",
    [{"extra": 1}, {"timestamp": 5, "data": "{}"}, {"chaos_extra": {"added_in": "later"}}],
)
def test_an_action_with_unknown_keys_is_accepted_and_logged(
    extra: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Neuro may add fields beside id, name and data; refusing them would fail every action.
    data = {"id": "i", "name": "n", **extra}
    with caplog.at_level(logging.DEBUG, logger="neuro_bridge.protocol"):
        event = parse_neuro_message(json.dumps({"command": "action", "data": data}))
    assert event == ActionRequested(id="i", name="n", data=data.get("data"))
    unknown = sorted(set(extra) - {"data"})
    assert any(str(unknown) in record.getMessage() for record in caplog.records)


# ---------------------------------------------------------------- the vocabulary


def test_command_kinds_are_strings() -> None:
    assert GameCommandKind.REGISTER.value == "actions/register"
    assert isinstance(GameCommandKind.REGISTER, str)
    assert "action" in {NeuroCommandKind.ACTION}  # hashes and compares as its value
    assert {kind.value for kind in GameCommandKind} == {
        "startup",
        "context",
        "actions/register",
        "actions/unregister",
        "actions/force",
        "action/result",
        "shutdown/ready",
    }
    assert set(GAME_COMMANDS) == set(GameCommandKind)
    assert set(NEURO_COMMANDS) == set(NeuroCommandKind)


def test_the_builders_follow_the_table() -> None:
    game = GameCommands(GAME)
    frames = {
        GameCommandKind.STARTUP: [game.startup()],
        GameCommandKind.CONTEXT: [game.context("m")],
        GameCommandKind.REGISTER: [game.register_actions([Action("a", "A")])],
        GameCommandKind.UNREGISTER: [game.unregister_actions(["a"])],
        GameCommandKind.FORCE: [
            game.force_actions(query="q", action_names=["a"]),
            game.force_actions(
                query="q", action_names=["a"], state="s", priority=ForcePriority.HIGH
            ),
        ],
        GameCommandKind.RESULT: [
            game.action_result("1", True),
            game.action_result("1", False, "m"),
        ],
        GameCommandKind.SHUTDOWN_READY: [game.shutdown_ready()],
    }
    assert set(frames) == set(GameCommandKind)
    for kind, built in frames.items():
        spec = GAME_COMMANDS[kind]
        for frame in built:
            message = json.loads(frame)
            assert message["command"] == kind
            assert set(message) <= GAME_ENVELOPE_KEYS
            assert ("data" in message) is spec.has_data
            keys = set(message.get("data", {}))
            assert spec.required <= keys <= spec.keys, (kind, keys)
    neuro = {
        NeuroCommandKind.ACTION: NeuroCommands.action("1", "a", "{}"),
        NeuroCommandKind.STARTUP: NeuroCommands.startup_acknowledgement("s", "neuro", "Neuro"),
        NeuroCommandKind.REREGISTER_ALL: NeuroCommands.reregister_all(),
        NeuroCommandKind.SHUTDOWN_GRACEFUL: NeuroCommands.shutdown_graceful(True),
        NeuroCommandKind.SHUTDOWN_IMMEDIATE: NeuroCommands.shutdown_immediate(),
        NeuroCommandKind.SPEECH_FINISHED: NeuroCommands.speech_finished(True, False, "r"),
    }
    assert set(neuro) == set(NeuroCommandKind)
    for neuro_kind, frame in neuro.items():
        spec = NEURO_COMMANDS[neuro_kind]
        message = json.loads(frame)
        assert set(message) <= NEURO_ENVELOPE_KEYS
        assert ("data" in message) is spec.has_data
        assert spec.required <= set(message.get("data", {})) <= spec.keys


def test_no_other_module_spells_a_command() -> None:
    # One wire vocabulary: the command names live in protocol/_wire.py only.
    import neuro_bridge

    package = Path(neuro_bridge.__file__).parent
    commands = [kind.value for kind in [*GameCommandKind, *NeuroCommandKind] if "/" in kind.value]
    for path in package.rglob("*.py"):
        if path == package / "protocol" / "_wire.py":
            continue
        text = path.read_text(encoding="utf-8")
        for command in commands:
            assert f'"{command}"' not in text, (path, command)


def test_check_functions_validate_without_a_frame() -> None:
    forced = check_force(query="q", action_names=("a", "b"), priority="critical")
    assert forced == ActionsForced(
        query="q", action_names=("a", "b"), priority=ForcePriority.CRITICAL
    )
    game = GameCommands(GAME)
    assert game.force(forced) == game.force_actions(
        query="q", action_names=["a", "b"], priority="critical"
    )
    assert parse_game_message(game.force(forced)) == attrs.evolve(forced, game=GAME)
    assert check_actions(iter([Action("a", "A")])) == [Action("a", "A")]
    assert check_action_names(("a",)) == ["a"]
    check_context("m", False)
    check_result("1", True)
    check_result("1", False, "why")
    for call in (
        lambda: check_force(query=1, action_names=["a"]),
        lambda: check_force(query="q", action_names=[]),
        lambda: check_force(query="q", action_names=["a"], priority="urgent"),
        lambda: check_force(query="q", action_names=["a"], state=5),
        lambda: check_actions(Action("a", "A")),
        lambda: check_action_names("a"),
        lambda: check_context("m", "yes"),
        lambda: check_result("1", False),
        lambda: check_result("1", False, "  "),
        lambda: check_result(1, True),
    ):
        with pytest.raises(LocalProtocolError):
            call()


# ---------------------------------------------------------------- game -> Neuro parser


def test_game_frames_become_events() -> None:
    game = GameCommands(GAME)
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    assert parse_game_message(game.startup()) == GameStarted(game=GAME)
    assert parse_game_message(game.context("hi", False)) == ContextSent(
        message="hi", silent=False, game=GAME
    )
    assert parse_game_message(
        game.register_actions([Action("a", "A", schema), Action("b", "B")])
    ) == ActionsRegistered(
        actions=(ActionDefinition("a", "A", schema), ActionDefinition("b", "B")), game=GAME
    )
    assert parse_game_message(game.unregister_actions(["a"])) == ActionsUnregistered(
        action_names=("a",), game=GAME
    )
    assert parse_game_message(game.action_result("7", False, "no")) == ActionResultSent(
        id="7", success=False, message="no", game=GAME
    )
    assert parse_game_message(game.shutdown_ready()) == ShutdownReadySent(game=GAME)
    read = read_game_frame(game.context("hi").encode())
    assert (read.command, read.data, read.binary) == (
        "context",
        {"message": "hi", "silent": True},
        True,
    )
    assert [p.kind for p in read.event.problems] == [ProblemKind.BINARY_FRAME]


def frame_of(command: str, data: Any = None, **extra: Any) -> str:
    message: dict[str, Any] = {"command": command, "game": GAME}
    if data is not None:
        message["data"] = data
    message.update(extra)
    return json.dumps(message)


#: problem kind -> a frame that has it, and the event class it still gives.
PROBLEMS: dict[ProblemKind, tuple[str | bytes, type[Any]]] = {
    ProblemKind.BINARY_FRAME: (b'{"command":"startup","game":"g"}', GameStarted),
    ProblemKind.INVALID_JSON: ("{nope", MalformedGameMessage),
    ProblemKind.ENVELOPE: ('{"command":"startup"}', GameStarted),
    ProblemKind.UNKNOWN_COMMAND: (frame_of("action/results", {"id": "1"}), UnknownGameCommand),
    ProblemKind.UNKNOWN_KEY: (
        frame_of("context", {"message": "m", "silent": True, "x": 1}),
        ContextSent,
    ),
    ProblemKind.UNEXPECTED_DATA: (frame_of("startup", {}), GameStarted),
    ProblemKind.COMMAND_DATA: (frame_of("context", {"message": "m"}), MalformedGameMessage),
    ProblemKind.ACTION_NAME: (
        frame_of("actions/unregister", {"action_names": ["Up"]}),
        ActionsUnregistered,
    ),
    ProblemKind.SCHEMA_NOT_OBJECT: (
        frame_of(
            "actions/register", {"actions": [{"name": "a", "description": "A", "schema": []}]}
        ),
        ActionsRegistered,
    ),
    ProblemKind.SCHEMA_NULL: (
        frame_of(
            "actions/register", {"actions": [{"name": "a", "description": "A", "schema": None}]}
        ),
        ActionsRegistered,
    ),
    ProblemKind.SCHEMA_UNSUPPORTED_KEYWORD: (
        frame_of(
            "actions/register",
            {
                "actions": [
                    {"name": "a", "description": "A", "schema": {"type": "object", "title": "t"}}
                ]
            },
        ),
        ActionsRegistered,
    ),
    ProblemKind.DUPLICATE_REGISTRATION: (
        frame_of(
            "actions/register",
            {"actions": [{"name": "a", "description": "A"}, {"name": "a", "description": "B"}]},
        ),
        ActionsRegistered,
    ),
    ProblemKind.RESULT_NO_MESSAGE: (
        frame_of("action/result", {"id": "1", "success": False}),
        ActionResultSent,
    ),
}


@pytest.mark.parametrize("kind", list(ProblemKind))
def test_each_problem_is_found(kind: ProblemKind) -> None:
    frame, event_class = PROBLEMS[kind]
    event = parse_game_message(frame)
    assert isinstance(event, event_class)
    assert kind in [p.kind for p in event.problems]
    assert kind.advice is (kind is ProblemKind.SCHEMA_UNSUPPORTED_KEYWORD)


def test_a_soft_problem_keeps_the_event() -> None:
    event = parse_game_message(
        frame_of("actions/force", {"query": "q", "action_names": ["a"], "priority": "urgent"})
    )
    assert isinstance(event, ActionsForced)
    assert event.priority is ForcePriority.LOW
    assert [p.kind for p in event.problems] == [ProblemKind.COMMAND_DATA]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    command=st.sampled_from([kind.value for kind in GameCommandKind])
    | st.text(max_size=8)
    | json_values,
    game=st.just(GAME) | json_values,
    data=json_values,
)
def test_the_game_parser_never_raises(command: Any, game: Any, data: Any) -> None:
    frame = json.dumps({"command": command, "game": game, "data": data})
    event = parse_game_message(frame)
    assert isinstance(event, GameEvent.__args__)  # type: ignore[attr-defined]
    assert parse_game_message(frame.encode()) is not None


@given(st.binary(max_size=40) | st.text(max_size=40))
def test_the_game_parser_takes_any_bytes(frame: bytes | str) -> None:
    event = parse_game_message(frame)
    assert isinstance(event, GameEvent.__args__)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("success", "message", "name", "said"),
    [
        (True, None, None, None),
        (True, "Done.", None, "Done."),
        (True, "   ", None, None),
        (False, "Column 3 is full.", "play", "Column 3 is full."),
        (False, None, "play", "The game could not perform 'play' right now."),
        (False, " \n\t", "play", "The game could not perform 'play' right now."),
        (False, "", None, "The game could not perform that action right now."),
    ],
)
def test_result_message_words_every_answer(
    success: bool, message: str | None, name: str | None, said: str | None
) -> None:
    assert result_message(success, message, name) == said


def test_result_message_refuses_a_message_that_is_not_text() -> None:
    with pytest.raises(LocalProtocolError, match="result message must be a str"):
        result_message(False, 3, "play")  # type: ignore[arg-type]
