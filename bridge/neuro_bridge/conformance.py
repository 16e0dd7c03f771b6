"""The conformance rules: a sans-IO checker fed the frames of one game connection.

Shared by the stand-in Neuro (:mod:`neuro_bridge.mock`) and the proxy
(:mod:`neuro_bridge.proxy`); it imports neither, so the Godot sidecar loads no
stand-in module.

:class:`ConformanceChecker` is Neuro's view of one connection, as a state machine
with no I/O (in the manner of h11): the caller feeds it every frame the game sent
(:meth:`~ConformanceChecker.receive`) and every frame Neuro sent
(:meth:`~ConformanceChecker.neuro_sent`), tells it the time, and gets back
:class:`Finding` objects for each broken rule.  It keeps
the state the rules need -- the registered actions, the force in flight and the
actions that still await a result -- in a :class:`~neuro_bridge.ledger.SessionLedger`,
the same rules the game side applies; it reads the game's frames with
:func:`~neuro_bridge.protocol.read_game_frame`.

Every rule has an id (a module constant) and an entry in :data:`RULES` with a
summary and a default hint.  The rules follow ``NEURO_API.md``; they are written so
that legitimate behaviour is never flagged:

* ``startup`` clears registrations *and* the force in flight, so a game that sends
  ``startup`` again and re-registers everything is fine.
* Registering an action again with the *identical* definition is what
  ``actions/reregister_all`` asks for: each request lets every name be registered
  again once, whether the request reached the game before or after its own
  registration (they may cross on the wire).  Unasked, it is harmless -- Neuro
  ignores it -- but usually a sign that the game restored its state twice, so it
  is reported as advice (``registered-again``).  A name registered again with a
  *different* definition -- which Neuro would silently ignore -- or twice in one
  batch is a duplicate.
* A force ends when the game answers one of its actions with ``success: true``,
  when all of its actions are unregistered, on ``startup``, or when the player
  gives up on it (:meth:`~ConformanceChecker.end_force`).  Neuro's
  ``actions/reregister_all`` says she lost her state, the force included: the game
  re-sends it.  A force identical to the one in flight (same query and actions) is
  that force sent again (after ``actions/reregister_all``, or because Neuro did not
  act on it), not a second force.
* A force sent while an action Neuro sent *for the force in flight* awaits its
  result is flagged: the game must answer first (an unforced action crossing a force
  on the wire is not, nor is the first force after ``actions/reregister_all``, which
  answers that request and may cross an action Neuro sent after it).
* An action id Neuro sent twice may be answered once or twice.

The records the rules keep (:class:`Finding`, :class:`ForceRecord`,
:class:`ResultRecord`, :class:`GameMessage`) hold what the game actually sent, even
when it broke the rules (a schema that is not an object, a name with capitals), so
tests can assert on them; the stand-in's player and transcript use them too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import attrs

from neuro_bridge.ledger import SessionLedger, apply_game_event
from neuro_bridge.protocol import (
    ActionDefinition,
    ActionResultSent,
    ActionsForced,
    ActionsRegistered,
    ActionsUnregistered,
    GameStarted,
    NeuroCommandKind,
    ProblemKind,
    read_game_frame,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ACTION_NAME",
    "BINARY_FRAME",
    "CHAOS_MISHANDLED",
    "COMMAND_DATA",
    "DUPLICATE_REGISTRATION",
    "ENVELOPE",
    "FORCE_AWAITING_RESULT",
    "FORCE_IN_FLIGHT",
    "FORCE_UNREGISTERED",
    "GAME_CHANGED",
    "INVALID_JSON",
    "REGISTERED_AGAIN",
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
    "Finding",
    "ForceRecord",
    "GameMessage",
    "Received",
    "RegisteredAction",
    "ResultRecord",
    "RuleInfo",
]


# ---------------------------------------------------------------- records


@attrs.frozen
class Finding:
    """One violation of the Neuro API's rules by a game.

    Attributes:
        rule: The rule's id, one of the constants in ``neuro_bridge.conformance``
            (``"force-in-flight"``).
        message: What happened, with the values involved.
        hint: How to fix it.
        connection: The number of the connection (1 for the first game that
            connected), or 0 when not known.
        game: The game's title as it announced it, when known.
        advice: ``True`` when the rule is advice (a schema keyword Neuro does not
            support well): reported, but ``--strict`` and
            :meth:`~neuro_bridge.mock.MockNeuro.assert_conforms` pass anyway.
    """

    rule: str
    message: str
    hint: str
    connection: int = 0
    game: str | None = None
    advice: bool = False

    def to_json_object(self) -> dict[str, Any]:
        """Return the finding as a JSON-ready dict (as written by ``--report``)."""
        return {
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
            "connection": self.connection,
            "game": self.game,
            "advice": self.advice,
        }


#: An action as the game registered it (``schema`` is ``None`` when absent): the
#: game-frame parser's :class:`~neuro_bridge.protocol.ActionDefinition`.
RegisteredAction = ActionDefinition


@attrs.frozen(kw_only=True)
class ForceRecord:
    """An ``actions/force`` the game sent.

    Attributes:
        query: What Neuro is asked to do.
        action_names: The actions she may choose from, in the game's order.
        state: The state text, or ``None``.
        ephemeral_context: Whether Neuro should forget state and query afterwards.
        priority: The priority as sent (``"low"`` when omitted).
        number: 1 for the connection's first force, 2 for the next, ...
    """

    query: str
    action_names: tuple[str, ...]
    state: str | None = None
    ephemeral_context: bool = False
    priority: str = "low"
    number: int = 0


@attrs.frozen(kw_only=True)
class ResultRecord:
    """An ``action/result`` the game sent.

    Attributes:
        id: The action id it answers.
        success: Whether the game accepted the action.
        message: The game's message, or ``None``.
        time: ``trio.current_time()`` when it arrived.
    """

    id: str
    success: bool
    message: str | None = None
    time: float = 0.0


@attrs.frozen(kw_only=True)
class GameMessage:
    """One frame from the game, decoded as far as it could be.

    Attributes:
        command: The ``command`` field, or ``None`` when the frame had none.
        data: The ``data`` field (``None`` when absent).
        frame: The frame's text (binary frames decoded as UTF-8, with replacement).
        binary: Whether it came as a binary frame.
        time: ``trio.current_time()`` when it arrived.
    """

    command: str | None
    data: Any
    frame: str
    binary: bool = False
    time: float = 0.0


# ---------------------------------------------------------------- rules


#: Seconds the real Neuro waits for an ``action/result`` before giving up.
RESULT_TIMEOUT: Final = 20.0

# Rules a frame breaks on its own: the game-frame parser finds them.
BINARY_FRAME: Final = ProblemKind.BINARY_FRAME.value
INVALID_JSON: Final = ProblemKind.INVALID_JSON.value
ENVELOPE: Final = ProblemKind.ENVELOPE.value
UNKNOWN_COMMAND: Final = ProblemKind.UNKNOWN_COMMAND.value
UNKNOWN_KEY: Final = ProblemKind.UNKNOWN_KEY.value
UNEXPECTED_DATA: Final = ProblemKind.UNEXPECTED_DATA.value
COMMAND_DATA: Final = ProblemKind.COMMAND_DATA.value
ACTION_NAME: Final = ProblemKind.ACTION_NAME.value
SCHEMA_NOT_OBJECT: Final = ProblemKind.SCHEMA_NOT_OBJECT.value
SCHEMA_NULL: Final = ProblemKind.SCHEMA_NULL.value
SCHEMA_UNSUPPORTED_KEYWORD: Final = ProblemKind.SCHEMA_UNSUPPORTED_KEYWORD.value
RESULT_NO_MESSAGE: Final = ProblemKind.RESULT_NO_MESSAGE.value
# Rules that need the session's state.
GAME_CHANGED: Final = "game-changed"
STARTUP_NOT_FIRST: Final = "startup-not-first"
DUPLICATE_REGISTRATION: Final = ProblemKind.DUPLICATE_REGISTRATION.value
REGISTERED_AGAIN: Final = "registered-again"
FORCE_UNREGISTERED: Final = "force-unregistered"
FORCE_IN_FLIGHT: Final = "force-in-flight"
FORCE_AWAITING_RESULT: Final = "force-awaiting-result"
RESULT_MISSING: Final = "result-missing"
RESULT_LATE: Final = "result-late"
RESULT_DUPLICATE: Final = "result-duplicate"
RESULT_UNKNOWN_ID: Final = "result-unknown-id"
CHAOS_MISHANDLED: Final = "chaos-mishandled"


@attrs.frozen
class RuleInfo:
    """What a rule checks, and the hint given when it is broken.

    Attributes:
        summary: The rule in one sentence.
        hint: How to follow it.
        advice: ``True`` for advice rather than a rule: reported like the others,
            but never a reason for ``--strict`` to fail a game.
    """

    summary: str
    hint: str
    advice: bool = False


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
        'An action schema is a valid JSON schema with "type": "object" (or {}).',
        'Wrap parameters in {"type": "object", "properties": {...}}; omit the schema'
        " (or send {}) for an action without parameters.",
    ),
    SCHEMA_NULL: RuleInfo(
        'An action without parameters omits "schema" (no null).',
        'Leave the "schema" key out instead of sending null.',
    ),
    SCHEMA_UNSUPPORTED_KEYWORD: RuleInfo(
        "Schemas use only keywords Neuro handles well (advice: never fails --strict).",
        "Stick to type, properties, required, enum, const, items, min/maxItems,"
        " minimum/maximum, exclusiveMinimum/Maximum, min/maxLength, pattern, format.",
        advice=True,
    ),
    DUPLICATE_REGISTRATION: RuleInfo(
        "A registered name is not registered again with another definition.",
        "Neuro ignores a registration for a name it already holds: unregister the old"
        " action first, or use a new name.",
    ),
    REGISTERED_AGAIN: RuleInfo(
        "A registered action is registered again only when Neuro asks (actions/reregister_all)"
        " (advice: never fails --strict).",
        "Neuro ignores it: register each action once per startup; restore the actions once"
        " per connection, and again only in answer to actions/reregister_all.",
        advice=True,
    ),
    FORCE_UNREGISTERED: RuleInfo(
        "A force names only registered actions.",
        "Register the actions before forcing them, and do not force actions you just unregistered.",
    ),
    FORCE_IN_FLIGHT: RuleInfo(
        "Only one force is in flight at a time.",
        "Wait for a successful result for the first force before sending another.",
    ),
    FORCE_AWAITING_RESULT: RuleInfo(
        "No force is sent while the action Neuro took for the previous force awaits its result.",
        "Send the action/result first, then the next force (Neuro's server logs a force"
        " received while it waits for a result).",
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


@attrs.define
class _Pending:
    name: str
    deadline: float
    sends: int = 1
    answers: int = 0
    expired: bool = False
    forced: bool = False
    #: How many actions/reregister_all Neuro had sent before this action.
    reregisters: int = 0


@attrs.frozen(kw_only=True)
class Received:
    """What one game frame did, as :meth:`~ConformanceChecker.receive` reports it.

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
        #: The session's state as Neuro sees it: the same rules the game applies.
        self.ledger: SessionLedger[RegisteredAction, ForceRecord] = SessionLedger()
        #: Every well-formed result, in arrival order.
        self.results: list[ResultRecord] = []
        #: Every finding so far, in order.
        self.findings: list[Finding] = []
        self._frames = 0
        self._forces = 0
        # actions/reregister_all requests Neuro sent, and whether the game's force
        # answering the latest one is still to come (see _check_force).
        self._reregisters = 0
        self._reregister_open = False
        # Name -> the requests it was last registered again in answer to (see receive).
        self._answered: dict[str, int] = {}
        self._pending: dict[str, _Pending] = {}

    @property
    def registered(self) -> Mapping[str, RegisteredAction]:
        """The actions Neuro holds for the game, by name (a live, read-only view)."""
        return self.ledger.actions

    @property
    def force(self) -> ForceRecord | None:
        """The force in flight, or ``None``."""
        return self.ledger.force

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
        if not isinstance(message, dict):
            return
        if message.get("command") == NeuroCommandKind.REREGISTER_ALL:
            self.ledger.end_force()  # Neuro lost her state: the game sends the force again
            self._reregisters += 1
            self._reregister_open = True
            return
        if message.get("command") != NeuroCommandKind.ACTION:
            return
        data = message.get("data")
        if not isinstance(data, dict):
            return
        action_id = data.get("id")
        if not isinstance(action_id, str):
            return
        name = data.get("name")
        name = name if isinstance(name, str) else repr(name)
        force = self.ledger.force
        forced = force is not None and name in force.action_names
        self.ledger.action_sent(action_id, name)
        pending = self._pending.get(action_id)
        if pending is None:
            self._pending[action_id] = _Pending(
                name, now + self.result_timeout, forced=forced, reregisters=self._reregisters
            )
        else:
            pending.sends += 1
            if pending.answers == 0 and not pending.expired:
                pending.deadline = max(pending.deadline, now + self.result_timeout)

    def end_force(self) -> ForceRecord | None:
        """End the force in flight (Neuro gave up on it); return it."""
        return self.ledger.end_force()

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
        read = read_game_frame(frame)
        event = read.event
        game = event.game
        if game is not None:
            if self.game is None:
                self.game = game
            elif game != self.game:
                self._add(GAME_CHANGED, f'"game" changed from {self.game!r} to {game!r}')
        for problem in event.problems:
            self._add(problem.kind.value, problem.message)
        outcome: dict[str, Any] = {}
        record = None
        if isinstance(event, ActionsForced):
            record = self._check_force(event)
        if isinstance(event, ActionsRegistered):
            self._check_registered_again(event)
        transition = apply_game_event(self.ledger, event, record)
        for name in transition.conflicts:
            self._add(
                DUPLICATE_REGISTRATION,
                f"action {name!r} registered again with another definition;"
                " Neuro keeps the first one",
            )
        if isinstance(event, ActionsRegistered):
            outcome["registered"] = transition.registered
        elif isinstance(event, ActionsUnregistered):
            outcome["unregistered"] = transition.unregistered
        elif isinstance(event, ActionResultSent):
            outcome["result"] = self._result(event, now)
        if transition.force_started is not None:
            self._forces += 1
            outcome["force"] = transition.force_started
        if transition.force_ended is not None:
            outcome["force_ended"] = transition.force_ended
        if self._frames == 1 and not isinstance(event, GameStarted):
            self._add(
                STARTUP_NOT_FIRST, f"the first message was {read.command or read.text[:40]!r}"
            )
        return Received(
            message=GameMessage(
                command=read.command, data=read.data, frame=read.text, binary=read.binary, time=now
            ),
            findings=tuple(self.findings[start:]),
            **outcome,
        )

    def _check_registered_again(self, event: ActionsRegistered) -> None:
        """Report names Neuro holds registered again (identically) without her asking.

        Each ``actions/reregister_all`` Neuro sent on the connection answers one
        registration of every name again, sent before or after it: a request that
        crossed the game's own registration on the wire is answered too.
        """
        unasked = []
        for name in self.ledger.plan_registration(event.actions).same:
            if self._answered.get(name, 0) < self._reregisters:
                self._answered[name] = self._reregisters
            else:
                unasked.append(name)
        if unasked:
            self._add(
                REGISTERED_AGAIN,
                f"actions {unasked} registered again while Neuro held them, unasked",
            )

    def _check_force(self, event: ActionsForced) -> ForceRecord:
        """Report the force rules *event* breaks; return the record to keep for it."""
        names = list(event.action_names)
        unknown = self.ledger.unknown_names(names)
        if unknown:
            self._add(FORCE_UNREGISTERED, f"actions/force names unregistered actions {unknown}")
        awaiting = [p for p in self._pending.values() if p.forced and self._waiting(p)]
        resent = (
            self.force is not None
            and set(self.force.action_names) == set(names)
            and self.force.query == event.query
        )
        if (
            resent
            and self._reregister_open
            and all(p.reregisters == self._reregisters for p in awaiting)
        ):
            # The game's answer to actions/reregister_all (the force sent again)
            # crossed, on the wire, actions Neuro sent after that request.
            self._reregister_open = False
            awaiting = []
        if awaiting:
            self._add(
                FORCE_AWAITING_RESULT,
                f"actions/force for {names} while the forced action {awaiting[0].name!r}"
                " still awaits its result",
            )
        if self.force is not None and not resent:
            self._add(
                FORCE_IN_FLIGHT,
                f"actions/force for {names} while the force for"
                f" {list(self.force.action_names)} is still in flight",
            )
        return ForceRecord(
            query=event.query,
            action_names=event.action_names,
            state=event.state,
            ephemeral_context=event.ephemeral_context,
            priority=event.priority.value,
            number=self._forces + 1,
        )

    def _result(self, event: ActionResultSent, now: float) -> ResultRecord:
        action_id = event.id
        result = ResultRecord(id=action_id, success=event.success, message=event.message, time=now)
        self.results.append(result)
        pending = self._pending.get(action_id)
        if pending is None:
            self._add(RESULT_UNKNOWN_ID, f"result for id {action_id!r}, which Neuro never sent")
            return result
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
        return result

    # ------------------------------------------------------------ findings

    def _finding(self, rule: str, message: str) -> Finding:
        info = RULES[rule]
        finding = Finding(rule, message, info.hint, self.connection, self.game, info.advice)
        self.findings.append(finding)
        return finding

    def _add(self, rule: str, message: str) -> None:
        self._finding(rule, message)

    def add_finding(self, rule: str, message: str, hint: str | None = None) -> Finding:
        """Record a finding made outside the checker (e.g. a mishandled chaos probe)."""
        info = RULES[rule]
        finding = Finding(rule, message, hint or info.hint, self.connection, self.game, info.advice)
        self.findings.append(finding)
        return finding
