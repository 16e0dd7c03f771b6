r"""Chaos probes: hostile or unusual Neuro -> game input, and how to judge the answer.

Sans-IO: :func:`build_probe` makes the frames of one :class:`ChaosProbe` from what
the game has registered; the caller sends them, collects the game's answers and
asks :func:`judge` for a :class:`ChaosOutcome`.

=======================  =======================================  ============================
kind                     what Neuro sends                         a correct game
=======================  =======================================  ============================
``invalid_json``         ``data`` that is not JSON                answers ``success: false``
``wrong_type``           ``data`` of the wrong JSON type          answers ``success: false``
``missing_required``     ``data`` without a required key          answers ``success: false``
``extra_key``            ``data`` with a key the schema forbids   answers ``success: false``
``out_of_range``         a value outside its bounds/enum/pattern  answers ``success: false``
``unknown_action``       a name the game never registered         answers ``success: false``
``unregistered_action``  an action just unregistered              answers ``success: false``
``duplicate_id``         one valid action twice, same id          answers once, or each copy
``unknown_keys``         valid action, unknown keys               accepts it, answers once
``unknown_command``      a command from the future                stays connected
``shutdown_graceful``    graceful true, then false                stays connected*
``shutdown_immediate``   ``shutdown/immediate``                   stays connected*
``speech_finished``      ``speech_finished``                      stays connected
=======================  =======================================  ============================

\* or answers ``shutdown/ready`` and disconnects.

For ``unknown_keys`` "accepts it" means the game does not refuse the action for its
unknown keys (the specification asks receivers to tolerate them): a failed result
whose message names the keys, or calls keys unexpected or unknown, is mishandled; a
failure for a reason of the game's own (not its turn) is not.

The data kinds need a registered action whose schema allows that damage
(:func:`~neuro_bridge.mock.hostile.generate_invalid`); :func:`build_probe` returns
``None`` when nothing registered qualifies.
"""

from __future__ import annotations

import enum
import json
import re
from typing import TYPE_CHECKING, Any, Callable

import attrs

from neuro_bridge.mock.datagen import UnsatisfiableSchemaError, action_data
from neuro_bridge.mock.hostile import InvalidDataKind, generate_invalid
from neuro_bridge.protocol import NeuroCommandKind, NeuroCommands

if TYPE_CHECKING:
    import random
    from collections.abc import Mapping, Sequence

    from neuro_bridge.conformance import RegisteredAction, ResultRecord

__all__ = ["ChaosKind", "ChaosOutcome", "ChaosProbe", "build_probe", "judge"]


class ChaosKind(str, enum.Enum):
    """The kinds of hostile input the stand-in Neuro sends (see the module table)."""

    INVALID_JSON = "invalid_json"
    WRONG_TYPE = "wrong_type"
    MISSING_REQUIRED = "missing_required"
    EXTRA_KEY = "extra_key"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_ACTION = "unknown_action"
    UNREGISTERED_ACTION = "unregistered_action"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_KEYS = "unknown_keys"
    UNKNOWN_COMMAND = "unknown_command"
    SHUTDOWN_GRACEFUL = "shutdown_graceful"
    SHUTDOWN_IMMEDIATE = "shutdown_immediate"
    SPEECH_FINISHED = "speech_finished"


_DATA_KINDS: Mapping[ChaosKind, InvalidDataKind] = {
    ChaosKind.INVALID_JSON: InvalidDataKind.INVALID_JSON,
    ChaosKind.WRONG_TYPE: InvalidDataKind.WRONG_TYPE,
    ChaosKind.MISSING_REQUIRED: InvalidDataKind.MISSING_REQUIRED,
    ChaosKind.EXTRA_KEY: InvalidDataKind.EXTRA_KEY,
    ChaosKind.OUT_OF_RANGE: InvalidDataKind.OUT_OF_RANGE,
}
_REJECT_KINDS = frozenset({*_DATA_KINDS, ChaosKind.UNKNOWN_ACTION, ChaosKind.UNREGISTERED_ACTION})
# A failure message that blames the unknown keys of an ``unknown_keys`` probe.
_KEY_REFUSAL = re.compile(r"chaos_extra|timestamp|(unexpected|unknown|extra) keys?", re.IGNORECASE)
_CONNECTION_KINDS = frozenset(
    {
        ChaosKind.UNKNOWN_COMMAND,
        ChaosKind.SHUTDOWN_GRACEFUL,
        ChaosKind.SHUTDOWN_IMMEDIATE,
        ChaosKind.SPEECH_FINISHED,
    }
)


@attrs.frozen(kw_only=True)
class ChaosProbe:
    """One probe: the frames to send, and what they test.

    Attributes:
        kind: The kind of probe.
        frames: The frames, to be sent in order.
        description: What was sent, in words.
        action_id: The id of the action the game must answer, if any.
        action_name: The action's name, if any.
    """

    kind: ChaosKind
    frames: tuple[str, ...]
    description: str
    action_id: str | None = None
    action_name: str | None = None

    @property
    def expects_result(self) -> bool:
        """Whether the game owes an ``action/result`` for this probe."""
        return self.action_id is not None


@attrs.frozen(kw_only=True)
class ChaosOutcome:
    """How the game answered one probe.

    Attributes:
        kind: The kind of probe.
        ok: Whether the answer was correct.
        description: What was sent.
        detail: How the game answered, e.g. ``"answered success=false: ok"``.
        connection: The connection number.
    """

    kind: ChaosKind
    ok: bool
    description: str
    detail: str
    connection: int = 0

    def to_json_object(self) -> dict[str, Any]:
        """Return the outcome as a JSON-ready dict."""
        return {
            "kind": self.kind.value,
            "ok": self.ok,
            "description": self.description,
            "detail": self.detail,
            "connection": self.connection,
        }


def build_probe(
    kind: ChaosKind | str,
    actions: Mapping[str, RegisteredAction],
    rng: random.Random,
    new_id: Callable[[], str],
    unregistered: Sequence[RegisteredAction] = (),
) -> ChaosProbe | None:
    """Build one probe of *kind*, or return ``None`` when it cannot apply now.

    Args:
        kind: A :class:`ChaosKind` or its value.
        actions: The actions the game has registered, by name.
        rng: The source of randomness.
        new_id: Returns a fresh action id.
        unregistered: Actions the game just unregistered (for
            ``unregistered_action``), most recent last.

    Raises:
        ValueError: If *kind* is not a :class:`ChaosKind` value.
    """
    kind = ChaosKind(kind)
    commands = NeuroCommands
    if kind in _DATA_KINDS:
        candidates = [a for a in actions.values() if isinstance(a.schema, dict)]
        rng.shuffle(candidates)
        for action in candidates:
            try:
                data = generate_invalid(action.schema, rng, _DATA_KINDS[kind])
            except UnsatisfiableSchemaError:
                continue
            if data is not None:
                action_id = new_id()
                return ChaosProbe(
                    kind=kind,
                    frames=(commands.action(action_id, action.name, data),),
                    description=f"{kind.value} for {action.name!r}: {data[:60]}",
                    action_id=action_id,
                    action_name=action.name,
                )
        return None
    if kind is ChaosKind.UNKNOWN_ACTION:
        name = "no_such_action_" + "".join(rng.choice("abcdefgh") for _ in range(6))
        action_id = new_id()
        return ChaosProbe(
            kind=kind,
            frames=(commands.action(action_id, name, "{}"),),
            description=f"action {name!r}, which was never registered",
            action_id=action_id,
            action_name=name,
        )
    if kind is ChaosKind.UNREGISTERED_ACTION:
        gone = [a for a in unregistered if a.name not in actions]
        if not gone:
            return None
        action = gone[-1]
        action_id = new_id()
        return ChaosProbe(
            kind=kind,
            frames=(commands.action(action_id, action.name, action_data(action.schema, rng)),),
            description=f"action {action.name!r}, just unregistered",
            action_id=action_id,
            action_name=action.name,
        )
    if kind in (ChaosKind.DUPLICATE_ID, ChaosKind.UNKNOWN_KEYS):
        if not actions:
            return None
        action = rng.choice(list(actions.values()))
        action_id = new_id()
        data = action_data(action.schema, rng)
        if kind is ChaosKind.DUPLICATE_ID:
            frame = commands.action(action_id, action.name, data)
            return ChaosProbe(
                kind=kind,
                frames=(frame, frame),
                description=f"action {action.name!r} twice with id {action_id!r}",
                action_id=action_id,
                action_name=action.name,
            )
        payload: dict[str, Any] = {"id": action_id, "name": action.name}
        if data is not None:
            payload["data"] = data
        payload["chaos_extra"] = {"added_in": "a future version"}
        frame = json.dumps({"command": "action", "data": payload, "timestamp": 1234567890})
        return ChaosProbe(
            kind=kind,
            frames=(frame,),
            description=f"valid action {action.name!r} with unknown keys",
            action_id=action_id,
            action_name=action.name,
        )
    if kind is ChaosKind.UNKNOWN_COMMAND:
        command = "chaos/" + "".join(rng.choice("abcdefgh") for _ in range(6))
        frame = json.dumps({"command": command, "data": {"note": "a command from the future"}})
        return ChaosProbe(kind=kind, frames=(frame,), description=f"unknown command {command!r}")
    if kind is ChaosKind.SHUTDOWN_GRACEFUL:
        return ChaosProbe(
            kind=kind,
            frames=(commands.shutdown_graceful(True), commands.shutdown_graceful(False)),
            description="shutdown/graceful requested, then cancelled",
        )
    if kind is ChaosKind.SHUTDOWN_IMMEDIATE:
        return ChaosProbe(
            kind=kind,
            frames=(commands.shutdown_immediate(),),
            description=NeuroCommandKind.SHUTDOWN_IMMEDIATE.value,
        )
    final = rng.random() < 0.5
    return ChaosProbe(
        kind=kind,
        frames=(commands.speech_finished(final, cancelled=not final, reason="chaos"),),
        description=f"speech_finished (isFinal={str(final).lower()})",
    )


def judge(
    probe: ChaosProbe,
    results: Sequence[ResultRecord],
    *,
    connected: bool,
    shutdown_ready: bool = False,
    registered_again: bool = False,
    connection: int = 0,
) -> ChaosOutcome:
    """Judge the game's answer to *probe*.

    Args:
        probe: The probe that was sent.
        results: Every result the game sent for ``probe.action_id`` (empty when
            the probe expects none).
        connected: Whether the game was still connected when judged.
        shutdown_ready: Whether the game sent ``shutdown/ready`` since the probe.
        registered_again: For ``unregistered_action``: the game registered the
            action again before answering (the frames crossed), so accepting it
            is right.
        connection: The connection number stamped on the outcome.
    """
    kind = probe.kind

    def outcome(ok: bool, detail: str) -> ChaosOutcome:
        return ChaosOutcome(
            kind=kind,
            ok=ok,
            description=probe.description,
            detail=detail + (": ok" if ok else ""),
            connection=connection,
        )

    if kind in _CONNECTION_KINDS:
        ready = ", sent shutdown/ready" if shutdown_ready else ""
        if connected:
            return outcome(True, "stayed connected" + ready)
        if shutdown_ready:
            return outcome(True, "sent shutdown/ready and disconnected")
        return outcome(False, "disconnected")
    if not results:
        return outcome(False, "no action/result" + ("" if connected else " (disconnected)"))
    first = results[0]
    answer = f"success={str(first.success).lower()}"
    if first.message:
        answer += f" ({first.message[:80]})"
    if kind in _REJECT_KINDS:
        if len(results) > 1:
            return outcome(False, f"answered {len(results)} times")
        if first.success and kind is ChaosKind.UNREGISTERED_ACTION and registered_again:
            return outcome(True, f"registered it again before answering {answer}")
        if first.success:
            return outcome(False, f"accepted it: {answer}")
        return outcome(True, f"answered {answer}")
    if kind is ChaosKind.DUPLICATE_ID:
        if len(results) == 1:
            return outcome(True, f"answered once, duplicate ignored ({answer})")
        if len(results) == 2:
            return outcome(True, "answered each copy")
        return outcome(False, f"answered {len(results)} times")
    if len(results) > 1:
        return outcome(False, f"answered {len(results)} times")
    refused = not first.success and _KEY_REFUSAL.search(first.message or "") is not None
    if kind is ChaosKind.UNKNOWN_KEYS and refused:
        return outcome(False, f"refused it for its unknown keys: {answer}")
    return outcome(True, f"answered {answer}")
