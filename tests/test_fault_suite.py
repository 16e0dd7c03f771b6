"""Hostile servers: a corpus of bad frames over a real socket, and read-path fuzzing.

Part 1 sends every frame of :data:`CORPUS` from the scripted Neuro (127.0.0.1) to a
connected :class:`TrioNeuroAPIComponent` with actions registered, each followed by
a valid probe action.  Passing means: nothing crashes, the connection stays up (the
probe is answered on the same connection), and every action whose id can be
recovered is answered exactly once -- no more, no fewer results than listed.

Part 2 fuzzes the sans-IO read path with Hypothesis: frames built from hostile
pieces go through ``parse_neuro_message`` and ``dispatch_event`` of a component
writing into a list.  Nothing but ``ActionMessageError``/``ActionMessageTypeError``
may escape, and every action with a string id gets exactly one result.  The run
is fed until it reaches :data:`FUZZ_MESSAGES` (10,000) frames, whatever sizes
Hypothesis draws.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
import trio
import trio_websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from libcomponent.component import Event, ExternalRaiseManager

from neuro_bridge.api import ActionMessageError, ActionMessageTypeError
from neuro_bridge.component import AbstractNeuroAPIComponent
from neuro_bridge.protocol import (
    Action,
    ActionRequested,
    InvalidActionMessage,
    NeuroCommands,
    parse_neuro_message,
)
from neuro_bridge.trio_ws import TrioNeuroAPIComponent
from tests.helpers import PLAY, WAIT, WAVE, ServerConnection, scripted_neuro

GAME = "Fault Game"
MIB = 2**20

SAY = Action(
    "say",
    "Say something",
    {"type": "object", "properties": {"text": {"type": "string", "maxLength": 100}}},
)
THINK = Action("think", "Think for a while")  # async and slow: duplicates arrive mid-flight


def _action(action_id: object, name: object, data: object = None, **extra: object) -> str:
    payload: dict[str, Any] = {"id": action_id, "name": name}
    if data is not None:
        payload["data"] = data
    payload.update(extra)
    return json.dumps({"command": "action", "data": payload})


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@attrs.frozen
class Hostile:
    """One hostile frame and the ids it must be answered with (each exactly once)."""

    label: str
    frame: str | bytes
    answers: tuple[str, ...] = ()


_VALID_PLAY = _action("bin1", "play", '{"column": 1}')

CORPUS: list[Hostile] = [
    # ---- not JSON
    Hostile("empty text", ""),
    Hostile("lone brace", "{"),
    Hostile("prose", "hello Neuro here"),
    Hostile("single quotes", "{'command': 'action', 'data': {'id': 'q1', 'name': 'wave'}}"),
    Hostile("truncated action", _action("tr1", "wave")[:-2]),
    Hostile("two objects", '{"command":"actions/reregister_all"}{"command":"x"}'),
    Hostile("trailing comma", '{"command":"action","data":{"id":"tc1","name":"wave",}}'),
    Hostile("comment", '// hi\n{"command":"shutdown/immediate"}'),
    Hostile("utf-8 BOM before JSON", "\ufeff" + _action("bom1", "wave")),
    Hostile("deep nesting, envelope", _deep(100_000)),
    Hostile(
        "deep nesting after an id",
        '{"command":"action","data":{"id":"dn0","name":"wave","x":' + _deep(50_000) + "}}",
    ),
    # ---- JSON that is not an object
    Hostile("null", "null"),
    Hostile("number", "42"),
    Hostile("string", '"action"'),
    Hostile("true", "true"),
    Hostile("empty array", "[]"),
    Hostile("array of actions", "[" + _action("arr1", "wave") + "]"),
    # ---- wrong types in the envelope
    Hostile("command number", '{"command":5}'),
    Hostile("command null", '{"command":null,"data":{"id":"cn1","name":"wave"}}'),
    Hostile("command list", '{"command":["action"],"data":{"id":"cl1","name":"wave"}}'),
    Hostile("command object", '{"command":{"name":"action"}}'),
    Hostile("command NaN literal", '{"command":NaN}'),
    Hostile("action data is a string", '{"command":"action","data":"{\\"id\\":\\"s1\\"}"}'),
    Hostile("action data is a list", '{"command":"action","data":[{"id":"l1","name":"wave"}]}'),
    Hostile("action data is a number", '{"command":"action","data":7}'),
    # ---- wrong types inside an action
    Hostile("id is a number", _action(17, "wave")),
    Hostile("id is null", _action(None, "wave")),
    Hostile("id is huge number literal", '{"command":"action","data":{"id":1e999,"name":"wave"}}'),
    Hostile("name is a number", _action("wt1", 5), ("wt1",)),
    Hostile("name is a list", _action("wt2", ["wave"]), ("wt2",)),
    Hostile("data is an object", _action("wt3", "play", {"column": 1}), ("wt3",)),
    Hostile("data is a number", _action("wt4", "play", 3), ("wt4",)),
    Hostile("data is true", _action("wt5", "wave", True), ("wt5",)),
    Hostile(
        "data is NaN literal",
        '{"command":"action","data":{"id":"wt6","name":"wave","data":NaN}}',
        ("wt6",),
    ),
    # ---- missing and extra keys
    Hostile("action without data", '{"command":"action"}'),
    Hostile("action data empty object", '{"command":"action","data":{}}'),
    Hostile("action without name", '{"command":"action","data":{"id":"mk1"}}', ("mk1",)),
    Hostile("action without id", '{"command":"action","data":{"name":"wave"}}'),
    Hostile("action extra key", _action("mk2", "wave", None, priority="high"), ("mk2",)),
    Hostile("capitalised keys", '{"command":"action","data":{"ID":"mk3","Name":"wave"}}'),
    Hostile(
        "unknown top-level keys",
        '{"command":"action","v":2,"game":"x","data":{"id":"mk4","name":"wave"}}',
        ("mk4",),
    ),
    Hostile(
        "duplicate keys, last wins",
        '{"command":"action","data":{"id":"a","id":"dk1","name":"wave"}}',
        ("dk1",),
    ),
    Hostile(
        "duplicate command key",
        '{"command":"shutdown/immediate","command":"action","data":{"id":"dk2","name":"wave"}}',
        ("dk2",),
    ),
    # ---- unknown commands and names
    Hostile("unknown command", '{"command":"actions/teleport","data":{"to":"moon"}}'),
    Hostile("empty command", '{"command":""}'),
    Hostile("upper-case action", '{"command":"ACTION","data":{"id":"uc1","name":"wave"}}'),
    Hostile("game command echoed", '{"command":"startup","game":"Fault Game"}'),
    Hostile(
        "context echoed", '{"command":"context","game":"x","data":{"message":"m","silent":true}}'
    ),
    Hostile("long command name", json.dumps({"command": "x" * 100_000})),
    Hostile("unknown action", _action("un1", "fly"), ("un1",)),
    Hostile("empty action name", _action("un2", ""), ("un2",)),
    Hostile("unicode action name", _action("un3", "wävé"), ("un3",)),
    Hostile("name with trailing space", _action("un4", "wave "), ("un4",)),
    Hostile("name with NUL", _action("un5", "wave\u0000"), ("un5",)),
    # ---- binary frames
    Hostile("binary valid action", _VALID_PLAY.encode(), ("bin1",)),
    Hostile("binary not UTF-8", b"\xff\xfe\xfd"),
    Hostile("binary empty", b""),
    Hostile(
        "binary broken UTF-8 inside a string",
        _action("bin2", "wave").encode().replace(b"bin2", b"bi\x80n2"),
    ),
    Hostile("binary overlong UTF-8", b'{"command":"\xc0\xaf"}'),
    Hostile("binary UTF-16", _action("bin3", "wave").encode("utf-16")),
    Hostile("binary NUL bytes", b"\x00" * 64),
    # ---- data that breaks the schema
    Hostile("column too big", _action("sv1", "play", '{"column": 9}'), ("sv1",)),
    Hostile("column a string", _action("sv2", "play", '{"column": "3"}'), ("sv2",)),
    Hostile("column a bool", _action("sv3", "play", '{"column": true}'), ("sv3",)),
    Hostile("data an array", _action("sv4", "play", "[3]"), ("sv4",)),
    Hostile("data null", _action("sv5", "play", "null"), ("sv5",)),
    Hostile("data not JSON", _action("sv6", "play", "{column: 3}"), ("sv6",)),
    Hostile("data missing", _action("sv7", "play"), ("sv7",)),
    Hostile("data NaN", _action("sv8", "play", "NaN"), ("sv8",)),
    Hostile("data Infinity", _action("sv9", "play", '{"column": -Infinity}'), ("sv9",)),
    Hostile("data 1e400", _action("sv10", "play", '{"column": 1e400}'), ("sv10",)),
    Hostile("data huge int", _action("sv11", "play", '{"column": ' + "9" * 40 + "}"), ("sv11",)),
    Hostile(
        "data 5000-digit int", _action("sv12", "play", '{"column": ' + "7" * 5000 + "}"), ("sv12",)
    ),
    Hostile("data deeply nested", _action("sv13", "play", _deep(100_000)), ("sv13",)),
    Hostile(
        "data nested 500", _action("sv14", "play", '{"column": ' + _deep(500) + "}"), ("sv14",)
    ),
    Hostile(
        "data with extra keys is fine",
        _action("sv15", "play", '{"column": 2, "x": [1]}'),
        ("sv15",),
    ),
    Hostile(
        "data too long a string", _action("sv16", "say", json.dumps({"text": "a" * 101})), ("sv16",)
    ),
    # ---- 2 MiB messages
    Hostile("2 MiB of garbage", "x" * (2 * MIB)),
    Hostile(
        "2 MiB unknown command", json.dumps({"command": "blob", "data": {"b": "y" * (2 * MIB)}})
    ),
    Hostile(
        "2 MiB action data",
        _action("big1", "say", json.dumps({"text": "z" * (2 * MIB)})),
        ("big1",),
    ),
    Hostile(
        "2 MiB action id", _action("big-" + "i" * (2 * MIB), "wave"), ("big-" + "i" * (2 * MIB),)
    ),
    Hostile("2 MiB action name", _action("big2", "n" * (2 * MIB)), ("big2",)),
    Hostile(
        "2 MiB valid data, many keys",
        _action("big3", "play", json.dumps({"column": 4, **{f"k{i}": i for i in range(150_000)}})),
        ("big3",),
    ),
    # ---- numbers
    Hostile(
        "graceful with 1e999", '{"command":"shutdown/graceful","data":{"wants_shutdown":1e999}}'
    ),
    Hostile(
        "speech_finished Infinity", '{"command":"speech_finished","data":{"isFinal":Infinity}}'
    ),
    Hostile("graceful with 0", '{"command":"shutdown/graceful","data":{"wants_shutdown":0}}'),
    # ---- unicode oddities
    Hostile(
        "lone surrogate id",
        '{"command":"action","data":{"id":"u\\ud800","name":"wave"}}',
        ("u\ud800",),
    ),
    Hostile(
        "reversed surrogates id",
        '{"command":"action","data":{"id":"\\udc00\\ud800","name":"wave"}}',
        ("\udc00\ud800",),
    ),
    Hostile("emoji and RTL id", _action("u-🎲-\u202e-\u200b", "wave"), ("u-🎲-\u202e-\u200b",)),
    Hostile("NUL in id", _action("u\u0000nul", "wave"), ("u\u0000nul",)),
    Hostile("surrogate in data", _action("u2", "say", '{"text": "\\udfff"}'), ("u2",)),
    Hostile("BOM in id", _action("\ufeffu3", "wave"), ("\ufeffu3",)),
    Hostile("combining marks name", _action("u4", "wave\u0301"), ("u4",)),
    # ---- valid commands with odd payloads
    Hostile(
        "startup ack, huge name", NeuroCommands.startup_acknowledgement("s", "neuro", "N" * MIB)
    ),
    Hostile("startup ack, wrong types", '{"command":"startup","data":{"session":{"sessionId":1}}}'),
    Hostile("reregister_all with data", '{"command":"actions/reregister_all","data":[1,2]}'),
    Hostile("speech_finished without data", '{"command":"speech_finished"}'),
]

#: Duplicate ids: one answer per id while the first is still being handled.
DUPLICATE_WHILE_HANDLED = "dup-slow"


async def think(data: dict[str, Any]) -> str:
    await trio.sleep(0.3)
    return "Thought."


@asynccontextmanager
async def hostile_session() -> AsyncIterator[tuple[TrioNeuroAPIComponent, ServerConnection, Any]]:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        # The corpus holds 2 MiB frames the game must answer: above the 1 MiB default.
        component = TrioNeuroAPIComponent(
            "neuro", GAME, reconnect_initial_delay=0.05, max_message_size=4 * MIB
        )
        manager.add_component(component)
        await component.register_neuro_actions(
            [
                (PLAY, lambda data: None),
                (SAY, lambda data: "Said."),
                (WAVE, lambda data: None),
                (THINK, think),
            ]
        )
        await manager.raise_event(Event("connect", neuro.url))
        with trio.fail_after(WAIT):
            await component.wait_for_websocket()
        server = await neuro.wait_connection()
        await server.wait_for_command("actions/register")
        try:
            yield component, server, neuro
        finally:
            with trio.fail_after(WAIT):
                await component.stop()


def _result_ids(server: ServerConnection) -> Counter[str]:
    return Counter(m["data"]["id"] for m in server.messages() if m["command"] == "action/result")


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 50
    assert len({h.label for h in CORPUS}) == len(CORPUS)
    assert any(len(h.frame) >= 2 * MIB for h in CORPUS)
    assert any(isinstance(h.frame, bytes) for h in CORPUS)


async def test_hostile_corpus_over_a_real_socket() -> None:
    async with hostile_session() as (component, server, neuro):
        expected: Counter[str] = Counter()
        for index, hostile in enumerate(CORPUS):
            await server.send(hostile.frame)
            expected.update(hostile.answers)
            # The connection and the read loop survived: a valid action is answered.
            probe = f"probe-{index}"
            await server.send(NeuroCommands.action(probe, "wave"))
            expected[probe] += 1
            result = await server.wait_for_result(probe)
            assert result["success"] is True, hostile.label
            for action_id in hostile.answers:
                assert _result_ids(server)[action_id] == 1, hostile.label
        # A duplicate id arriving while the first is being handled gets no second answer.
        frame = NeuroCommands.action(DUPLICATE_WHILE_HANDLED, "think")
        await server.send(frame)
        await server.send(frame)
        expected[DUPLICATE_WHILE_HANDLED] += 1
        await server.wait_for_result(DUPLICATE_WHILE_HANDLED)
        # Settle: one more probe after everything, then compare every result.
        await server.send(NeuroCommands.action("final", "wave"))
        expected["final"] += 1
        await server.wait_for_result("final")
        assert _result_ids(server) == expected
        assert len(neuro.connections) == 1
        assert not component.not_connected
        assert not server.closed.is_set()
        # Every frame sent back is valid UTF-8 JSON (the server decoded them all).
        assert all(isinstance(m, str) for m in server.received)


async def test_answers_say_what_went_wrong() -> None:
    async with hostile_session() as (_, server, _neuro):
        checks = {
            "wt1": "must be strings",
            "wt3": "JSON-encoded string",
            "mk1": "missing keys ['name']",
            "un1": "no action called 'fly'",
            "sv1": "Invalid data for 'play'",
            "sv6": "not valid JSON",
            "sv8": "not valid JSON",
            "sv13": "nested too deeply",
            "sv16": "Invalid data for 'say'",
        }
        by_id = {h.answers[0]: h for h in CORPUS if h.answers}
        for action_id, text in checks.items():
            await server.send(by_id[action_id].frame)
            result = await server.wait_for_result(action_id)
            assert result["success"] is False
            assert text in result["message"], (action_id, result["message"])
        await server.send(by_id["sv15"].frame)
        assert (await server.wait_for_result("sv15"))["success"] is True
        # Unknown keys beside id, name and data are tolerated (issue 8, item 12).
        await server.send(by_id["mk2"].frame)
        assert (await server.wait_for_result("mk2"))["success"] is True


async def test_same_id_again_after_its_answer_is_a_new_action() -> None:
    # Ids are answered once per time they are outstanding.  (Sent again before
    # its answer, an id is still being handled: see DUPLICATE_WHILE_HANDLED.)
    async with hostile_session() as (_, server, _neuro):
        for count in range(1, 4):
            await server.send(NeuroCommands.action("again", "wave"))
            with trio.fail_after(WAIT):
                while _result_ids(server)["again"] < count:
                    await server.wait_count(len(server.received) + 1)
        await server.send(NeuroCommands.action("last", "wave"))
        await server.wait_for_result("last")
        assert _result_ids(server)["again"] == 3


async def test_message_over_the_size_limit_drops_the_connection_and_reconnects() -> None:
    async with scripted_neuro() as neuro, trio.open_nursery() as nursery:
        manager = ExternalRaiseManager("game", nursery)
        component = TrioNeuroAPIComponent(
            "neuro", GAME, max_message_size=MIB, reconnect_initial_delay=0.05
        )
        manager.add_component(component)
        await component.register_action(WAVE, lambda data: None)
        await manager.raise_event(Event("connect", neuro.url))
        first = await neuro.wait_connection(0)
        await first.wait_for_command("actions/register")
        # The game closes with 1009 (too big) while the frame is still being sent.
        with contextlib.suppress(trio_websocket.ConnectionClosed):
            await first.send("x" * (2 * MIB))
        second = await neuro.wait_connection(1)
        await second.wait_for_command("actions/register")
        await second.send(NeuroCommands.action("after", "wave"))
        assert (await second.wait_for_result("after"))["success"] is True
        with trio.fail_after(WAIT):
            await component.stop()


# ---------------------------------------------------------------- fuzzing the read path

#: Frames fuzzed at least (asserted): Hypothesis runs of :data:`FUZZ_EXAMPLES`
#: batches are repeated until this many frames, and an eighth as many answered
#: actions, have been fed, so the pass never depends on the sizes Hypothesis draws.
FUZZ_MESSAGES = 10_000
FUZZ_EXAMPLES = 500
FUZZ_FRAMES_PER_EXAMPLE = (15, 35)
#: More runs than this means the strategies stopped producing frames: a failure.
FUZZ_MAX_RUNS = 20


class InMemoryComponent(AbstractNeuroAPIComponent):
    """The component with its websocket replaced by a list of written frames."""

    def __init__(self) -> None:
        super().__init__("fuzz", GAME)
        self.written: list[str] = []

    async def write_to_websocket(self, data: str) -> None:
        self.written.append(data)

    async def read_from_websocket(self) -> str:
        raise AssertionError("the fuzzer feeds dispatch_event directly")


def _raising_handler(data: dict[str, Any]) -> None:
    raise RuntimeError("handler failure")


async def _async_handler(data: dict[str, Any]) -> Any:
    await trio.lowlevel.checkpoint()
    return data.get("column") != 3  # False sometimes: a failed result


NAMES = ["play", "say", "wave", "boom", "async-play", "fly", "", "PLAY", "play\u0000"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _encode(value: object) -> str:
    # json.dumps writes NaN/Infinity literals (allow_nan): hostile on purpose.
    return json.dumps(value)


data_strings = st.one_of(
    st.builds(lambda c: _encode({"column": c}), st.integers(-2, 9) | json_scalars),
    st.builds(lambda t: _encode({"text": t}), st.text(max_size=120) | json_scalars),
    json_values.map(_encode),
    st.text(max_size=20),
    st.sampled_from(["", " ", "{}", "null", "NaN", "[", '{"column": 1e400}', "[" * 5000]),
)
ids = st.one_of(
    st.text(max_size=10),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    json_scalars,
)
action_payloads = st.fixed_dictionaries(
    {},
    optional={
        "id": ids,
        "name": st.sampled_from(NAMES) | json_scalars,
        "data": data_strings | json_values,
        "extra": json_values,
    },
)
commands = st.sampled_from(
    [
        "action",
        "actions/reregister_all",
        "shutdown/graceful",
        "shutdown/immediate",
        "startup",
        "speech_finished",
        "new/command",
        "",
    ]
)
envelopes = st.fixed_dictionaries(
    {"command": commands | json_scalars},
    optional={
        "data": action_payloads
        | json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "wants_shutdown": json_scalars,
                "isFinal": json_scalars,
                "cancelled": json_scalars,
                "reason": json_scalars,
                "session": st.fixed_dictionaries(
                    {},
                    optional={"sessionId": json_scalars, "characterId": json_scalars},
                ),
            },
        ),
        "game": json_scalars,
    },
)


action_envelopes = st.fixed_dictionaries(
    {
        "command": st.just("action"),
        "data": st.fixed_dictionaries(
            {
                "id": st.text(max_size=10) | st.text(max_size=10) | ids,
                "name": st.sampled_from(NAMES),
            },
            optional={"data": data_strings | json_values, "extra": json_values},
        ),
    },
    optional={"game": json_scalars},
)


def _as_frame(value: object, binary: bool, cut: int | None) -> str | bytes:
    text = _encode(value)
    if cut is not None:
        text = text[: cut % (len(text) + 1)]
    if binary:
        return text.encode("utf-8", "surrogatepass")  # surrogates make it invalid UTF-8
    return text


frames = st.one_of(
    # Actions most of the time: they are what must be answered.
    st.builds(_as_frame, action_envelopes, st.just(False), st.none()),
    st.builds(_as_frame, action_envelopes, st.just(True), st.none()),
    st.builds(_as_frame, action_envelopes, st.booleans(), st.none()),
    st.builds(_as_frame, envelopes, st.booleans(), st.none()),
    st.builds(_as_frame, envelopes, st.booleans(), st.integers(0, 200)),
    st.builds(_as_frame, json_values, st.booleans(), st.none()),
    st.text(max_size=40),
    st.binary(max_size=40),
)


def _recoverable_id(frame: str | bytes) -> str | None:
    """The id an ``action`` frame must be answered with, judged independently."""
    event = parse_neuro_message(frame)
    if isinstance(event, ActionRequested):
        return event.id
    if isinstance(event, InvalidActionMessage):
        return event.action_id
    return None


async def _feed(batch: list[str | bytes]) -> int:
    component = InMemoryComponent()
    await component.register_neuro_actions(
        [
            (PLAY, lambda data: None),
            (SAY, lambda data: "Said."),
            (WAVE, lambda data: (False, None)),
            (Action("boom", "Raises"), _raising_handler),
            (Action("async-play", "Async", PLAY.schema), _async_handler),
        ]
    )
    answered = 0
    for frame in batch:
        before = len(component.written)
        event = parse_neuro_message(frame)
        # Answered by handle_invalid_action; the read loop goes on.
        with contextlib.suppress(ActionMessageError, ActionMessageTypeError):
            await component.dispatch_event(event)
        new = component.written[before:]
        action_id = _recoverable_id(frame)
        results = [json.loads(f) for f in new if f.startswith('{"command":"action/result"')]
        if action_id is None:
            assert results == [], frame
        else:
            assert len(results) == 1, frame
            assert results[0]["data"]["id"] == action_id
            answered += 1
        for written in new:
            written.encode("utf-8")  # every frame is sendable
            message = json.loads(written)
            assert not any(isinstance(v, float) and not math.isfinite(v) for v in message)
        # Nothing stays unanswered: handlers run inline here (no nursery).
        assert component.forget_unanswered() == []
    return answered


def test_fuzz_read_path() -> None:
    counts = Counter[str]()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(
        st.lists(frames, min_size=FUZZ_FRAMES_PER_EXAMPLE[0], max_size=FUZZ_FRAMES_PER_EXAMPLE[1])
    )
    def fuzz(batch: list[str | bytes]) -> None:
        counts["answered"] += trio.run(_feed, batch)
        counts["frames"] += len(batch)

    # Typically ~30 % of the frames are actions that must be answered.
    for _ in range(FUZZ_MAX_RUNS):
        if counts["frames"] >= FUZZ_MESSAGES and counts["answered"] >= FUZZ_MESSAGES // 8:
            break
        fuzz()
    print(f"fuzzed {counts['frames']} frames, {counts['answered']} answered actions")
    assert counts["frames"] >= FUZZ_MESSAGES, counts
    assert counts["answered"] >= FUZZ_MESSAGES // 8, counts


@pytest.mark.parametrize("hostile", CORPUS, ids=[h.label for h in CORPUS])
async def test_corpus_through_the_sans_io_path(hostile: Hostile) -> None:
    # The same corpus without a socket: exactly the listed answers.
    assert await _feed([hostile.frame]) == len(hostile.answers)
