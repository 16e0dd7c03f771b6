"""The conformance rules: a sans-IO checker fed the frames of one game connection.

:class:`ConformanceChecker` is Neuro's view of one connection, as a state machine
with no I/O (in the manner of h11): the caller feeds it every frame the game sent
(:meth:`~ConformanceChecker.receive`) and every frame Neuro sent
(:meth:`~ConformanceChecker.neuro_sent`), tells it the time, and gets back
:class:`~neuro_bridge.mock.records.Finding` objects for each broken rule.  It keeps
the state the rules need: the registered actions, the force in flight and the
actions that still await a result.

Every rule has an id (a module constant) and an entry in :data:`RULES` with a
summary and a default hint.  The rules follow ``NEURO_API.md``; they are written so
that legitimate behaviour is never flagged:

* ``startup`` clears registrations *and* the force in flight, so a game that sends
  ``startup`` again and re-registers everything is fine.
* Registering an action again with the *identical* definition is harmless (Neuro
  ignores it, and it is what ``actions/reregister_all`` asks for); only a name
  registered again with a *different* definition -- which Neuro would silently
  ignore -- or twice in one batch is a duplicate.
* A force ends when the game answers one of its actions with ``success: true``,
  when all of its actions are unregistered, on ``startup``, or when the player
  gives up on it (:meth:`~ConformanceChecker.end_force`).
* An action id Neuro sent twice may be answered once or twice.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import attrs

from neuro_bridge.mock.records import (
    Finding,
    ForceRecord,
    GameMessage,
    RegisteredAction,
    ResultRecord,
)
from neuro_bridge.protocol import ForcePriority, LocalProtocolError, check_action_name
from neuro_bridge.schema import InvalidSchemaError, check_action_schema

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ACTION_NAME",
    "BINARY_FRAME",
    "CHAOS_MISHANDLED",
    "COMMAND_DATA",
    "DUPLICATE_REGISTRATION",
    "ENVELOPE",
    "FORCE_IN_FLIGHT",
    "FORCE_UNREGISTERED",
    "GAME_CHANGED",
    "INVALID_JSON",
    "RESULT_DUPLICATE",
    "RESULT_LATE",
    "RESULT_MISSING",
    "RESULT_NO_MESSAGE",
    "RESULT_TIMEOUT",
    "RESULT_UNKNOWN_ID",
    "RULES",
    "SCHEMA_NOT_OBJECT",
    "SCHEMA_NULL",
    "SCHEMA_UNSUPPORTED_KEYWORD",
    "STARTUP_NOT_FIRST",
    "UNEXPECTED_DATA",
    "UNKNOWN_COMMAND",
    "UNKNOWN_KEY",
    "ConformanceChecker",
    "Received",
    "RuleInfo",
]

#: Seconds the real Neuro waits for an ``action/result`` before giving up.
RESULT_TIMEOUT: Final = 20.0

BINARY_FRAME: Final = "binary-frame"
INVALID_JSON: Final = "invalid-json"
ENVELOPE: Final = "envelope"
GAME_CHANGED: Final = "game-changed"
UNKNOWN_COMMAND: Final = "unknown-command"
UNKNOWN_KEY: Final = "unknown-key"
STARTUP_NOT_FIRST: Final = "startup-not-first"
UNEXPECTED_DATA: Final = "unexpected-data"
COMMAND_DATA: Final = "command-data"
ACTION_NAME: Final = "action-name"
SCHEMA_NOT_OBJECT: Final = "schema-not-object"
SCHEMA_NULL: Final = "schema-null"
SCHEMA_UNSUPPORTED_KEYWORD: Final = "schema-unsupported-keyword"
DUPLICATE_REGISTRATION: Final = "duplicate-registration"
FORCE_UNREGISTERED: Final = "force-unregistered"
FORCE_IN_FLIGHT: Final = "force-in-flight"
RESULT_MISSING: Final = "result-missing"
RESULT_LATE: Final = "result-late"
RESULT_DUPLICATE: Final = "result-duplicate"
RESULT_UNKNOWN_ID: Final = "result-unknown-id"
RESULT_NO_MESSAGE: Final = "result-no-message"
CHAOS_MISHANDLED: Final = "chaos-mishandled"


@attrs.frozen
class RuleInfo:
    """What a rule checks, and the hint given when it is broken."""

    summary: str
    hint: str


#: Every rule id -> its summary and default hint.
RULES: Mapping[str, RuleInfo] = {
    BINARY_FRAME: RuleInfo(
        "Every frame is a text frame.",
        "Send JSON as a websocket text frame; the real Neuro rejects binary frames.",
    ),
    INVALID_JSON: RuleInfo(
        "Every frame is one JSON object.",
        "Serialise each message with a JSON encoder; send one object per frame.",
    ),
    ENVELOPE: RuleInfo(
        'The envelope is {"command": str, "game": str, "data"?: object}.',
        'Give every message a string "command" and the game\'s title as "game".',
    ),
    GAME_CHANGED: RuleInfo(
        'The "game" field is identical in every message.',
        "Use one constant game title for the whole connection.",
    ),
    UNKNOWN_COMMAND: RuleInfo(
        "The game sends only commands the specification defines.",
        "Check the command name against the specification (e.g. action/result, not"
        " action/results).",
    ),
    UNKNOWN_KEY: RuleInfo(
        "The game sends only keys the specification defines.",
        "Remove keys the specification does not define; strict servers reject them.",
    ),
    STARTUP_NOT_FIRST: RuleInfo(
        "The first message on every connection is startup.",
        "Send startup first, then register actions, on every (re)connection.",
    ),
    UNEXPECTED_DATA: RuleInfo(
        'Commands without data (startup, shutdown/ready) carry no "data" key.',
        'Omit "data" entirely; strict servers rejected "data": {}.',
    ),
    COMMAND_DATA: RuleInfo(
        "Each command's data has the fields and types the specification lists.",
        "Compare the message with the command's table in the specification.",
    ),
    ACTION_NAME: RuleInfo(
        "Action names are non-empty and use only [a-z0-9_-].",
        "Use lowercase letters, digits, '_' and '-' in action names.",
    ),
    SCHEMA_NOT_OBJECT: RuleInfo(
        'An action schema is a valid JSON schema with "type": "object".',
        'Wrap parameters in {"type": "object", "properties": {...}}; omit the schema'
        " for an action without parameters.",
    ),
    SCHEMA_NULL: RuleInfo(
        'An action without parameters omits "schema" (no null).',
        'Leave the "schema" key out instead of sending null.',
    ),
    SCHEMA_UNSUPPORTED_KEYWORD: RuleInfo(
        "Schemas use only keywords Neuro handles well.",
        "Stick to type, properties, required, enum, const, items, min/maxItems,"
        " minimum/maximum, exclusiveMinimum/Maximum, min/maxLength, pattern, format.",
    ),
    DUPLICATE_REGISTRATION: RuleInfo(
        "A registered name is not registered again with another definition.",
        "Neuro ignores a registration for a name it already holds: unregister the old"
        " action first, or use a new name.",
    ),
    FORCE_UNREGISTERED: RuleInfo(
        "A force names only registered actions.",
        "Register the actions before forcing them, and do not force actions you just unregistered.",
    ),
    FORCE_IN_FLIGHT: RuleInfo(
        "Only one force is in flight at a time.",
        "Wait for a successful result for the first force before sending another.",
    ),
    RESULT_MISSING: RuleInfo(
        "Every action gets an action/result before Neuro gives up (about 20 s).",
        "Answer every action -- unknown names and bad data included -- as soon as the"
        " data is validated, before running its effect.",
    ),
    RESULT_LATE: RuleInfo(
        "A result arrives before Neuro gave up on it.",
        "Send the result as soon as the data is validated, before the effect runs.",
    ),
    RESULT_DUPLICATE: RuleInfo(
        "Each action gets exactly one action/result.",
        "Answer each action id once.",
    ),
    RESULT_UNKNOWN_ID: RuleInfo(
        "A result answers an action Neuro sent on this connection.",
        "Use the id from the action message; drop results for actions of an older connection.",
    ),
    RESULT_NO_MESSAGE: RuleInfo(
        'A result with "success": false carries a message.',
        "Tell Neuro why the action failed, so her retry can do better.",
    ),
    CHAOS_MISHANDLED: RuleInfo(
        "Hostile or unusual input from Neuro is answered correctly.",
        "Validate every action's data; answer bad data, unknown and unregistered names"
        " with success=false; tolerate unknown commands and keys.",
    ),
}

_ENVELOPE_KEYS = frozenset({"command", "game", "data"})
_COMMAND_KEYS: Mapping[str, frozenset[str]] = {
    "context": frozenset({"message", "silent"}),
    "actions/register": frozenset({"actions"}),
    "actions/unregister": frozenset({"action_names"}),
    "actions/force": frozenset({"state", "query", "ephemeral_context", "priority", "action_names"}),
    "action/result": frozenset({"id", "success", "message"}),
}
_NO_DATA_COMMANDS = frozenset({"startup", "shutdown/ready"})
_ACTION_KEYS = frozenset({"name", "description", "schema"})
_PRIORITIES = frozenset(p.value for p in ForcePriority)


@attrs.define
class _Pending:
    name: str
    deadline: float
    sends: int = 1
    answers: int = 0
    expired: bool = False


@attrs.frozen(kw_only=True)
class Received:
    """What one game frame did, as :meth:`~neuro_bridge.mock.ConformanceChecker.receive` reports it.

    Attributes:
        message: The frame, decoded.
        findings: The rules it broke (also appended to the checker's findings).
        result: The ``action/result`` it carried, when well-formed.
        force: The force it started, when it was an accepted ``actions/force``.
        force_ended: The force it ended (success, unregistration or ``startup``).
        registered: Names newly registered by it.
        unregistered: Names it unregistered that were registered.
    """

    message: GameMessage
    findings: tuple[Finding, ...] = ()
    result: ResultRecord | None = None
    force: ForceRecord | None = None
    force_ended: ForceRecord | None = None
    registered: tuple[str, ...] = ()
    unregistered: tuple[str, ...] = ()


class ConformanceChecker:
    """Neuro's view of one game connection, checking every rule in :data:`RULES`.

    No I/O and no clock: every method that depends on time takes ``now`` (any
    monotonic clock, e.g. ``trio.current_time()``).  Not thread-safe.

    Args:
        result_timeout: Seconds an action may wait for its result.
        connection: The connection number stamped on every finding.
    """

    def __init__(self, result_timeout: float = RESULT_TIMEOUT, connection: int = 0) -> None:
        self.result_timeout = result_timeout
        self.connection = connection
        #: The game title from the first message that had one.
        self.game: str | None = None
        #: The actions Neuro holds for the game, by name.
        self.registered: dict[str, RegisteredAction] = {}
        #: The force in flight, or ``None``.
        self.force: ForceRecord | None = None
        #: Every well-formed result, in arrival order.
        self.results: list[ResultRecord] = []
        #: Every finding so far, in order.
        self.findings: list[Finding] = []
        self._frames = 0
        self._forces = 0
        self._pending: dict[str, _Pending] = {}

    # ------------------------------------------------------------ Neuro side

    def neuro_sent(self, frame: str | bytes, now: float) -> None:
        """Record a frame Neuro sent; an ``action`` starts waiting for its result.

        Any ``action`` frame with a string id counts, however broken the rest of
        it is (chaos probes send such frames, and the game must still answer).
        """
        try:
            message = json.loads(frame)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("command") != "action":
            return
        data = message.get("data")
        if not isinstance(data, dict):
            return
        action_id = data.get("id")
        if not isinstance(action_id, str):
            return
        name = data.get("name")
        name = name if isinstance(name, str) else repr(name)
        pending = self._pending.get(action_id)
        if pending is None:
            self._pending[action_id] = _Pending(name, now + self.result_timeout)
        else:
            pending.sends += 1
            if pending.answers == 0 and not pending.expired:
                pending.deadline = max(pending.deadline, now + self.result_timeout)

    def end_force(self) -> ForceRecord | None:
        """End the force in flight (Neuro gave up on it); return it."""
        force, self.force = self.force, None
        return force

    def next_deadline(self) -> float | None:
        """Return when the next unanswered action times out, or ``None``."""
        deadlines = [p.deadline for p in self._pending.values() if self._waiting(p)]
        return min(deadlines) if deadlines else None

    def expire(self, now: float) -> list[Finding]:
        """Flag every action whose result is overdue at *now*; return the findings."""
        found = []
        for action_id, pending in self._pending.items():
            if self._waiting(pending) and pending.deadline <= now:
                pending.expired = True
                found.append(
                    self._finding(
                        RESULT_MISSING,
                        f"no action/result for action {pending.name!r} (id {action_id!r})"
                        f" within {self.result_timeout:g} s",
                    )
                )
        return found

    def unanswered(self) -> list[str]:
        """Return the ids of actions that still await their first result."""
        return [action_id for action_id, p in self._pending.items() if self._waiting(p)]

    def results_for(self, action_id: str) -> list[ResultRecord]:
        """Return every result received for *action_id*, in order."""
        return [r for r in self.results if r.id == action_id]

    @staticmethod
    def _waiting(pending: _Pending) -> bool:
        return pending.answers == 0 and not pending.expired

    # ------------------------------------------------------------ game side

    def receive(self, frame: str | bytes, now: float) -> Received:
        """Check one frame from the game, update the state, report what it did."""
        start = len(self.findings)
        self._frames += 1
        binary = not isinstance(frame, str)
        if isinstance(frame, str):
            text = frame
        else:
            text = bytes(frame).decode("utf-8", errors="replace")
            self._add(BINARY_FRAME, f"binary frame of {len(frame)} bytes")
        outcome: dict[str, Any] = {}
        command: str | None = None
        data: Any = None
        try:
            message = json.loads(text)
        except ValueError as exc:
            self._add(INVALID_JSON, f"frame is not JSON ({exc}): {text[:80]!r}")
            message = None
        if message is not None and not isinstance(message, dict):
            self._add(ENVELOPE, f"a message must be a JSON object, not {type(message).__name__}")
        elif isinstance(message, dict):
            command, data = self._check_envelope(message)
            if command is not None:
                self._check_command(command, message, data, now, outcome)
        if self._frames == 1 and command != "startup":
            self._add(STARTUP_NOT_FIRST, f"the first message was {command or text[:40]!r}")
        return Received(
            message=GameMessage(command=command, data=data, frame=text, binary=binary, time=now),
            findings=tuple(self.findings[start:]),
            **outcome,
        )

    def _check_envelope(self, message: dict[str, Any]) -> tuple[str | None, Any]:
        command = message.get("command")
        if not isinstance(command, str):
            self._add(ENVELOPE, f'missing or non-string "command": {command!r}')
            command = None
        game = message.get("game")
        if not isinstance(game, str) or not game.strip():
            self._add(ENVELOPE, f'missing or empty "game" in {command!r}: {game!r}')
        elif self.game is None:
            self.game = game
        elif game != self.game:
            self._add(GAME_CHANGED, f'"game" changed from {self.game!r} to {game!r}')
        extra = sorted(set(message) - _ENVELOPE_KEYS)
        if extra:
            self._add(UNKNOWN_KEY, f"unknown top-level keys {extra} in {command!r}")
        return command, message.get("data")

    def _check_command(
        self,
        command: str,
        message: dict[str, Any],
        data: Any,
        now: float,
        outcome: dict[str, Any],
    ) -> None:
        if command in _NO_DATA_COMMANDS:
            if "data" in message:
                self._add(UNEXPECTED_DATA, f'{command} carries "data": {data!r}')
            if command == "startup":
                self.registered.clear()
                ended = self.end_force()
                if ended is not None:
                    outcome["force_ended"] = ended
            return
        keys = _COMMAND_KEYS.get(command)
        if keys is None:
            self._add(UNKNOWN_COMMAND, f"unknown command {command!r}")
            return
        if not isinstance(data, dict):
            self._add(COMMAND_DATA, f'{command} needs an object "data", got {data!r}')
            return
        extra = sorted(set(data) - keys)
        if extra:
            self._add(UNKNOWN_KEY, f"unknown keys {extra} in {command} data")
        if command == "context":
            self._check_context(data)
        elif command == "actions/register":
            self._check_register(data, outcome)
        elif command == "actions/unregister":
            self._check_unregister(data, outcome)
        elif command == "actions/force":
            self._check_force(data, outcome)
        else:
            self._check_result(data, now, outcome)

    def _check_context(self, data: dict[str, Any]) -> None:
        if not isinstance(data.get("message"), str):
            self._add(
                COMMAND_DATA, f'context needs a string "message", got {data.get("message")!r}'
            )
        if not isinstance(data.get("silent"), bool):
            self._add(COMMAND_DATA, f'context needs a bool "silent", got {data.get("silent")!r}')

    def _check_register(self, data: dict[str, Any], outcome: dict[str, Any]) -> None:
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions:
            self._add(
                COMMAND_DATA, f'actions/register needs a non-empty "actions" list: {actions!r}'
            )
            return
        batch: set[str] = set()
        added = []
        for item in actions:
            action = self._check_action(item)
            if action is None:
                continue
            if action.name in batch:
                self._add(
                    DUPLICATE_REGISTRATION, f"action {action.name!r} appears twice in one batch"
                )
                continue
            batch.add(action.name)
            current = self.registered.get(action.name)
            if current is None:
                self.registered[action.name] = action
                added.append(action.name)
            elif current != action:
                self._add(
                    DUPLICATE_REGISTRATION,
                    f"action {action.name!r} registered again with another definition;"
                    " Neuro keeps the first one",
                )
        outcome["registered"] = tuple(added)

    def _check_action(self, item: object) -> RegisteredAction | None:
        if not isinstance(item, dict):
            self._add(COMMAND_DATA, f"an action must be an object, not {item!r}")
            return None
        name = item.get("name")
        try:
            check_action_name(name)
        except LocalProtocolError as exc:
            self._add(ACTION_NAME, str(exc))
            if not isinstance(name, str):
                return None
        assert isinstance(name, str)  # noqa: S101 - narrowed above
        description = item.get("description")
        if not isinstance(description, str):
            self._add(COMMAND_DATA, f"action {name!r} needs a string description")
            description = ""
        extra = sorted(set(item) - _ACTION_KEYS)
        if extra:
            self._add(UNKNOWN_KEY, f"unknown keys {extra} in action {name!r}")
        schema = item.get("schema")
        if "schema" in item and schema is None:
            self._add(SCHEMA_NULL, f'action {name!r} has "schema": null')
        elif schema is not None:
            try:
                unsupported = check_action_schema(schema)
            except InvalidSchemaError as exc:
                self._add(SCHEMA_NOT_OBJECT, f"action {name!r}: {exc}")
            else:
                if unsupported:
                    self._add(
                        SCHEMA_UNSUPPORTED_KEYWORD,
                        f"action {name!r} uses {', '.join(unsupported)}",
                    )
        return RegisteredAction(name, description, schema)

    def _names(self, data: dict[str, Any], command: str) -> list[str] | None:
        names = data.get("action_names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            self._add(COMMAND_DATA, f'{command} needs an "action_names" list of strings: {names!r}')
            return None
        for name in names:
            try:
                check_action_name(name)
            except LocalProtocolError as exc:
                self._add(ACTION_NAME, f"{command}: {exc}")
        return names

    def _check_unregister(self, data: dict[str, Any], outcome: dict[str, Any]) -> None:
        names = self._names(data, "actions/unregister")
        if names is None:
            return
        gone = tuple(name for name in names if self.registered.pop(name, None) is not None)
        outcome["unregistered"] = gone
        force = self.force
        if force is not None and not any(n in self.registered for n in force.action_names):
            outcome["force_ended"] = self.end_force()

    def _check_force(self, data: dict[str, Any], outcome: dict[str, Any]) -> None:
        names = self._names(data, "actions/force")
        ok = names is not None
        if names is not None and not names:
            self._add(COMMAND_DATA, "actions/force names no actions")
            ok = False
        query = data.get("query")
        if not isinstance(query, str):
            self._add(COMMAND_DATA, f'actions/force needs a string "query", got {query!r}')
            ok = False
        state = data.get("state")
        if state is not None and not isinstance(state, str):
            self._add(COMMAND_DATA, f'actions/force "state" must be a string, got {state!r}')
        ephemeral = data.get("ephemeral_context", False)
        if not isinstance(ephemeral, bool):
            self._add(COMMAND_DATA, f'"ephemeral_context" must be a bool, got {ephemeral!r}')
            ephemeral = False
        priority = data.get("priority", "low")
        if priority not in _PRIORITIES:
            self._add(
                COMMAND_DATA, f'"priority" must be one of {sorted(_PRIORITIES)}: {priority!r}'
            )
            priority = "low"
        if not ok or names is None:
            return
        unknown = [name for name in names if name not in self.registered]
        if unknown:
            self._add(FORCE_UNREGISTERED, f"actions/force names unregistered actions {unknown}")
        if self.force is not None:
            self._add(
                FORCE_IN_FLIGHT,
                f"actions/force for {names} while the force for"
                f" {list(self.force.action_names)} is still in flight",
            )
        if unknown and len(unknown) == len(names):
            return
        self._forces += 1
        self.force = ForceRecord(
            query=str(query),
            action_names=tuple(names),
            state=state if isinstance(state, str) else None,
            ephemeral_context=ephemeral,
            priority=str(priority),
            number=self._forces,
        )
        outcome["force"] = self.force

    def _check_result(self, data: dict[str, Any], now: float, outcome: dict[str, Any]) -> None:
        action_id = data.get("id")
        success = data.get("success")
        message = data.get("message")
        bad = False
        if not isinstance(action_id, str):
            self._add(COMMAND_DATA, f'action/result needs a string "id", got {action_id!r}')
            bad = True
        if not isinstance(success, bool):
            self._add(COMMAND_DATA, f'action/result needs a bool "success", got {success!r}')
            bad = True
        if message is not None and not isinstance(message, str):
            self._add(COMMAND_DATA, f'action/result "message" must be a string: {message!r}')
            message = None
        if bad or not isinstance(action_id, str) or not isinstance(success, bool):
            return
        if not success and not (message and message.strip()):
            self._add(RESULT_NO_MESSAGE, f"result for {action_id!r} failed without a message")
        result = ResultRecord(id=action_id, success=success, message=message, time=now)
        self.results.append(result)
        outcome["result"] = result
        pending = self._pending.get(action_id)
        if pending is None:
            self._add(RESULT_UNKNOWN_ID, f"result for id {action_id!r}, which Neuro never sent")
            return
        pending.answers += 1
        if pending.expired:
            self._add(
                RESULT_LATE,
                f"result for {pending.name!r} (id {action_id!r}) came after Neuro gave up",
            )
        elif pending.answers > pending.sends:
            self._add(
                RESULT_DUPLICATE,
                f"result number {pending.answers} for {pending.name!r} (id {action_id!r})",
            )
        force = self.force
        if success and force is not None and pending.name in force.action_names:
            outcome["force_ended"] = self.end_force()

    # ------------------------------------------------------------ findings

    def _finding(self, rule: str, message: str) -> Finding:
        finding = Finding(rule, message, RULES[rule].hint, self.connection, self.game)
        self.findings.append(finding)
        return finding

    def _add(self, rule: str, message: str) -> None:
        self._finding(rule, message)

    def add_finding(self, rule: str, message: str, hint: str | None = None) -> Finding:
        """Record a finding made outside the checker (e.g. a mishandled chaos probe)."""
        finding = Finding(rule, message, hint or RULES[rule].hint, self.connection, self.game)
        self.findings.append(finding)
        return finding
