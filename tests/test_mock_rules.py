"""The conformance rules, sans-IO: each rule fires for a frame that breaks it, and a
game that follows the protocol (the way our runtime talks) fires none.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from neuro_bridge import conformance
from neuro_bridge.conformance import RULES, ConformanceChecker
from neuro_bridge.mock import ForceRecord
from neuro_bridge.protocol import Action, ForcePriority, GameCommands, NeuroCommands

GAME = GameCommands("Rules Game")
MOVE = Action(
    "move",
    "Move.",
    {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
)
WAVE = Action("wave", "Wave.")


def frame(command: str, data: Any = None, **extra: Any) -> str:
    message: dict[str, Any] = {"command": command, "game": "Rules Game"}
    if data is not None:
        message["data"] = data
    message.update(extra)
    return json.dumps(message)


def feed(*frames: str | bytes, checker: ConformanceChecker | None = None) -> ConformanceChecker:
    checker = checker or ConformanceChecker(result_timeout=1.0)
    for item in frames:
        checker.receive(item, 0.0)
    return checker


def rule_ids(checker: ConformanceChecker) -> list[str]:
    return [f.rule for f in checker.findings]


def force_of(checker: ConformanceChecker) -> ForceRecord | None:
    return checker.force


def test_correct_conversation_has_no_findings() -> None:
    checker = ConformanceChecker(result_timeout=1.0)
    feed(GAME.startup(), GAME.register_actions([MOVE, WAVE]), checker=checker)
    feed(GAME.context("Hello", silent=False), checker=checker)
    # The runtime answers reregister_all with an identical registration.
    checker.neuro_sent(NeuroCommands.reregister_all(), 0.0)
    feed(GAME.register_actions([MOVE, WAVE]), checker=checker)
    feed(
        GAME.force_actions(
            query="Go", action_names=["move"], state="s", priority=ForcePriority.CRITICAL
        ),
        checker=checker,
    )
    assert checker.force is not None
    assert checker.force.priority == "critical"
    checker.neuro_sent(NeuroCommands.action("1", "move", '{"x": 1}'), 0.0)
    feed(GAME.action_result("1", False, "not now"), checker=checker)
    assert checker.force is not None  # a failure does not end the force
    checker.neuro_sent(NeuroCommands.action("2", "move", '{"x": 2}'), 0.1)
    feed(GAME.unregister_actions(["move"]), GAME.action_result("2", True), checker=checker)
    assert force_of(checker) is None
    # A second startup clears everything; re-registering is fine; a force is allowed.
    feed(GAME.startup(), GAME.register_actions([MOVE]), checker=checker)
    feed(GAME.force_actions(query="Again", action_names=["move"]), checker=checker)
    checker.neuro_sent(NeuroCommands.action("3", "move", '{"x": 3}'), 0.2)
    feed(GAME.action_result("3", True, "done"), GAME.shutdown_ready(), checker=checker)
    assert checker.expire(100.0) == []
    assert checker.findings == []
    assert checker.game == "Rules Game"
    assert set(checker.registered) == {"move"}
    assert [r.id for r in checker.results] == ["1", "2", "3"]


def test_startup_ends_a_force_so_the_runtime_may_resend_it() -> None:
    checker = feed(
        GAME.startup(),
        GAME.register_actions([MOVE]),
        GAME.force_actions(query="Go", action_names=["move"]),
        GAME.startup(),
        GAME.register_actions([MOVE]),
        GAME.force_actions(query="Go", action_names=["move"]),
    )
    assert checker.findings == []


START = GAME.startup()
REGISTER = GAME.register_actions([MOVE, WAVE])

#: rule -> frames that break it (after a correct start unless the rule is about it).
BROKEN: dict[str, list[str | bytes]] = {
    conformance.BINARY_FRAME: [START, REGISTER, GAME.context("hi").encode()],
    conformance.INVALID_JSON: [START, "{not json"],
    conformance.ENVELOPE: [START, json.dumps({"command": "context", "data": {}})],
    conformance.GAME_CHANGED: [START, json.dumps({"command": "startup", "game": "Other Game"})],
    conformance.UNKNOWN_COMMAND: [START, frame("action/results", {"id": "1", "success": True})],
    conformance.UNKNOWN_KEY: [
        START,
        frame("context", {"message": "m", "silent": True, "urgent": 1}),
    ],
    conformance.STARTUP_NOT_FIRST: [REGISTER, START],
    conformance.UNEXPECTED_DATA: [frame("startup", {})],
    conformance.COMMAND_DATA: [START, frame("context", {"message": "no silent flag"})],
    conformance.ACTION_NAME: [
        START,
        frame("actions/register", {"actions": [{"name": "Jump", "description": "d"}]}),
    ],
    conformance.SCHEMA_NOT_OBJECT: [
        START,
        frame(
            "actions/register",
            {"actions": [{"name": "jump", "description": "d", "schema": {"type": "string"}}]},
        ),
    ],
    conformance.SCHEMA_NULL: [
        START,
        frame(
            "actions/register", {"actions": [{"name": "jump", "description": "d", "schema": None}]}
        ),
    ],
    conformance.SCHEMA_UNSUPPORTED_KEYWORD: [
        START,
        frame(
            "actions/register",
            {
                "actions": [
                    {
                        "name": "jump",
                        "description": "d",
                        "schema": {"type": "object", "additionalProperties": False},
                    }
                ]
            },
        ),
    ],
    conformance.DUPLICATE_REGISTRATION: [
        START,
        REGISTER,
        GAME.register_actions([Action("move", "Move somewhere else.")]),
    ],
    conformance.REGISTERED_AGAIN: [START, REGISTER, GAME.register_actions([WAVE])],
    conformance.FORCE_UNREGISTERED: [
        START,
        REGISTER,
        frame("actions/force", {"query": "q", "action_names": ["fly"]}),
    ],
    conformance.FORCE_IN_FLIGHT: [
        START,
        REGISTER,
        GAME.force_actions(query="one", action_names=["move"]),
        GAME.force_actions(query="two", action_names=["wave"]),
    ],
    conformance.RESULT_UNKNOWN_ID: [START, GAME.action_result("never-sent", True)],
    conformance.RESULT_NO_MESSAGE: [START, frame("action/result", {"id": "x", "success": False})],
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_each_rule_fires(rule: str) -> None:
    checker = feed(*BROKEN[rule])
    assert rule in rule_ids(checker)
    finding = next(f for f in checker.findings if f.rule == rule)
    assert finding.hint == RULES[rule].hint
    assert finding.message


def test_result_rules_need_neuro_side() -> None:
    checker = ConformanceChecker(result_timeout=1.0, connection=7)
    feed(START, REGISTER, checker=checker)
    checker.neuro_sent(NeuroCommands.action("a", "move", "{}"), 0.0)
    checker.neuro_sent(NeuroCommands.action("b", "move", "{}"), 0.0)
    assert checker.next_deadline() == 1.0
    checker.receive(GAME.action_result("a", True), 0.5)
    checker.receive(GAME.action_result("a", True), 0.6)
    assert rule_ids(checker) == [conformance.RESULT_DUPLICATE]
    assert checker.expire(0.9) == []
    [missing] = checker.expire(1.0)
    assert missing.rule == conformance.RESULT_MISSING
    assert missing.connection == 7
    assert "'b'" in missing.message
    checker.receive(GAME.action_result("b", True), 2.0)
    assert rule_ids(checker)[-1] == conformance.RESULT_LATE
    assert checker.next_deadline() is None


def test_an_id_sent_twice_may_be_answered_once_or_twice() -> None:
    for answers in (1, 2):
        checker = feed(START, REGISTER)
        frame_ = NeuroCommands.action("d", "move", "{}")
        checker.neuro_sent(frame_, 0.0)
        checker.neuro_sent(frame_, 0.0)
        for _ in range(answers):
            checker.receive(GAME.action_result("d", True), 0.1)
        assert checker.expire(10.0) == []
        assert checker.findings == []


def test_a_force_sent_before_the_answer_to_the_forced_action_is_flagged() -> None:
    # The game answers Neuro's pick for the first force only after sending the next.
    checker = feed(START, REGISTER, GAME.force_actions(query="one", action_names=["move"]))
    checker.neuro_sent(NeuroCommands.action("a", "move", '{"x": 1}'), 0.0)
    feed(
        GAME.unregister_actions(["move"]),
        GAME.force_actions(query="two", action_names=["wave"]),
        GAME.action_result("a", True),
        checker=checker,
    )
    assert rule_ids(checker) == [conformance.FORCE_AWAITING_RESULT]
    # Answered first, then forced: fine.  An unforced action crossing a force: fine.
    checker = feed(START, REGISTER, GAME.force_actions(query="one", action_names=["move"]))
    checker.neuro_sent(NeuroCommands.action("b", "move", '{"x": 1}'), 0.0)
    feed(GAME.action_result("b", True), checker=checker)
    checker.neuro_sent(NeuroCommands.action("c", "move", '{"x": 1}'), 0.0)
    feed(
        GAME.force_actions(query="two", action_names=["wave"]),
        GAME.action_result("c", True),
        checker=checker,
    )
    assert checker.findings == []


def test_reregister_all_lets_the_game_send_its_force_again() -> None:
    checker = feed(START, REGISTER, GAME.force_actions(query="one", action_names=["move"]))
    checker.neuro_sent(NeuroCommands.reregister_all(), 0.0)
    feed(REGISTER, GAME.force_actions(query="one", action_names=["move"]), checker=checker)
    assert checker.findings == []
    assert checker.force is not None
    # The same force again (Neuro did not act on it): a re-send, not a second force.
    feed(GAME.force_actions(query="one", action_names=["move"]), checker=checker)
    assert checker.findings == []


def test_the_force_answering_reregister_all_may_cross_an_action() -> None:
    # A test server asks for everything as the game connects; the game's own
    # restoration arrives, Neuro picks one of its forced actions, and the game's
    # answer to the request (register, the same force) crosses that pick on the
    # wire: not the game's fault.
    checker = ConformanceChecker(result_timeout=1.0)
    checker.neuro_sent(NeuroCommands.reregister_all(), 0.0)
    feed(START, REGISTER, GAME.force_actions(query="one", action_names=["move"]), checker=checker)
    checker.neuro_sent(NeuroCommands.action("a", "move", '{"x": 1}'), 0.0)
    feed(REGISTER, GAME.force_actions(query="one", action_names=["move"]), checker=checker)
    assert checker.findings == []
    # Only the one answer: the same force again before the result is flagged.
    feed(GAME.force_actions(query="one", action_names=["move"]), checker=checker)
    assert rule_ids(checker) == [conformance.FORCE_AWAITING_RESULT]


def test_each_reregister_all_answers_one_registration_again() -> None:
    # Issue 15, defect 9: the same actions registered twice on one connection.
    checker = feed(START, REGISTER)
    # Asked after the registration: each name may be registered again, once.
    checker.neuro_sent(NeuroCommands.reregister_all(), 0.0)
    feed(REGISTER, checker=checker)
    assert checker.findings == []
    feed(GAME.register_actions([WAVE]), checker=checker)
    [finding] = checker.findings
    assert finding.rule == conformance.REGISTERED_AGAIN
    assert finding.advice is True
    assert "['wave']" in finding.message
    # Asked before a registration it crossed on the wire (a test server asks as
    # the game connects): the game cannot tell, so the answer is not flagged.
    crossed = ConformanceChecker(result_timeout=1.0)
    crossed.neuro_sent(NeuroCommands.reregister_all(), 0.0)
    feed(START, REGISTER, REGISTER, checker=crossed)
    assert crossed.findings == []
    # A name unregistered and registered again is a fresh registration.
    feed(GAME.unregister_actions(["move"]), GAME.register_actions([MOVE]), checker=crossed)
    assert crossed.findings == []
    feed(REGISTER, checker=crossed)
    assert rule_ids(crossed) == [conformance.REGISTERED_AGAIN]


def test_every_rule_is_covered_and_documented() -> None:
    covered = set(BROKEN) | {
        conformance.RESULT_MISSING,
        conformance.RESULT_LATE,
        conformance.RESULT_DUPLICATE,
        conformance.FORCE_AWAITING_RESULT,
    }
    assert covered | {conformance.CHAOS_MISHANDLED} == set(RULES)
    for info in RULES.values():
        assert info.summary.endswith(".")
        assert info.hint


def test_garbage_never_raises() -> None:
    checker = feed(
        "[]",
        "null",
        b"\xff\xfe",
        frame("actions/register", {"actions": "move"}),
        frame("actions/register", {"actions": [1, {"name": 5}]}),
        frame("actions/unregister", {"action_names": [1]}),
        frame("actions/force", {"query": 1, "action_names": [], "priority": "urgent"}),
        frame("action/result", {"id": 1, "success": "yes", "message": 3}),
        frame("context", [1]),
    )
    assert conformance.ENVELOPE in rule_ids(checker)
    assert conformance.COMMAND_DATA in rule_ids(checker)
    checker.neuro_sent("not json", 0.0)
    checker.neuro_sent('{"command":"action","data":{"id":3}}', 0.0)
    assert checker.unanswered() == []


def test_an_empty_schema_is_no_finding() -> None:
    # "omit this field or set it to {}" (issue 8, item 13).
    checker = feed(
        START,
        frame(
            "actions/register", {"actions": [{"name": "jump", "description": "d", "schema": {}}]}
        ),
    )
    assert checker.findings == []
    assert checker.registered["jump"].schema == {}


def test_unsupported_keywords_are_advice_only() -> None:
    checker = feed(*BROKEN[conformance.SCHEMA_UNSUPPORTED_KEYWORD])
    [finding] = checker.findings
    assert finding.advice is True
    assert RULES[conformance.SCHEMA_UNSUPPORTED_KEYWORD].advice is True
    assert [rule for rule, info in RULES.items() if info.advice] == [
        conformance.SCHEMA_UNSUPPORTED_KEYWORD,
        conformance.REGISTERED_AGAIN,
    ]
