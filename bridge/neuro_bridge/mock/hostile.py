"""Hostile ``action`` data for the stand-in Neuro: data that breaks a schema on purpose.

:func:`generate_invalid` returns the ``data`` *string* of a hostile action, one
:class:`InvalidDataKind` at a time, or ``None`` when that kind of damage is not
possible for the schema.  Apart from the damage, the data is valid (it starts as
:func:`~neuro_bridge.mock.datagen.generate_valid` data), so a game that rejects it
rejects it for that reason; every value is checked against the runtime's own
compiled validator (:func:`neuro_bridge.schema.compile_validator`) before it is
returned.  Sans-IO; a :class:`random.Random` makes a run reproducible.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from neuro_bridge.mock.datagen import (
    UnsatisfiableSchemaError,
    _bounds,
    _count,
    _declared_types,
    _Generator,
    _json_types,
    _pattern_matcher,
    _unknown_key,
    _word,
    action_schema,
    generate_valid,
    satisfies,
)

if TYPE_CHECKING:
    import random
    from collections.abc import Iterator

__all__ = ["InvalidDataKind", "generate_invalid"]


class InvalidDataKind(enum.Enum):
    """The kinds of damage :func:`generate_invalid` can do to action data."""

    #: Text that is not JSON at all (truncated, single-quoted, plain words ...).
    INVALID_JSON = "invalid_json"
    #: Valid JSON whose top-level type the schema does not allow (a list, a number).
    WRONG_TYPE = "wrong_type"
    #: Valid data with one key listed in some ``required`` removed.
    MISSING_REQUIRED = "missing_required"
    #: Valid data plus one unknown key in an object whose schema says
    #: ``additionalProperties: false``.  Where extra keys are allowed (the JSON
    #: Schema default) they are valid data -- Neuro's test server sends them --
    #: so this kind only applies to schemas that forbid them.
    EXTRA_KEY = "extra_key"
    #: Valid data with one value moved outside its ``minimum``/``maximum``/
    #: ``exclusive*``, ``minLength``/``maxLength``, ``pattern``, ``enum``,
    #: ``const`` or ``minItems``/``maxItems``.
    OUT_OF_RANGE = "out_of_range"


def generate_invalid(
    schema: Mapping[str, Any] | None,
    rng: random.Random,
    kind: InvalidDataKind | str,
) -> str | None:
    """Return the ``data`` string of an ``action`` that breaks *schema* one way.

    Apart from the damage *kind* names, the data is valid: a game that rejects it
    must be rejecting it for that reason.  Every returned string fails to parse
    (:attr:`InvalidDataKind.INVALID_JSON`) or parses to a value that fails
    *schema*.

    Args:
        schema: The action's schema, or ``None`` for an action without one (then
            only :attr:`InvalidDataKind.INVALID_JSON` applies).
        rng: The source of randomness; the same seed gives the same string.
        kind: The damage to do, as an :class:`InvalidDataKind` or its value
            (``"out_of_range"``).

    Returns:
        The JSON text to send as ``data``, or ``None`` when *kind* does not apply
        to *schema*: ``WRONG_TYPE`` without a ``type`` at the top;
        ``MISSING_REQUIRED`` when no generated object has a required key;
        ``EXTRA_KEY`` when no generated object has ``additionalProperties: false``;
        ``OUT_OF_RANGE`` when no generated value has a constraint to break.

    Raises:
        ValueError: If *kind* is not an :class:`InvalidDataKind` value.
        UnsatisfiableSchemaError: If valid data is needed as a base and none can
            be generated for *schema*.

    """
    kind = InvalidDataKind(kind)
    if kind is InvalidDataKind.INVALID_JSON:
        return _invalid_json(schema, rng)
    if schema is None:
        return None
    if kind is InvalidDataKind.WRONG_TYPE:
        types = _declared_types(schema, "")
        if types is None:
            return None
        candidates = [c for c in _WRONG_TYPE_VALUES if not _json_types(c) & set(types)]
        if not candidates:
            return None
        value: Any = copy.deepcopy(rng.choice(candidates))
    else:
        holder = [generate_valid(action_schema(schema), rng)]
        damage = {
            InvalidDataKind.MISSING_REQUIRED: _drop_required,
            InvalidDataKind.EXTRA_KEY: _add_forbidden_key,
            InvalidDataKind.OUT_OF_RANGE: _break_constraint,
        }[kind]
        if not damage(holder, schema, rng):
            return None
        value = holder[0]
    if _passes(value, schema, schema.get("$schema")):  # pragma: no cover - a bug here
        return None
    return json.dumps(value)


def _passes(value: object, schema: Mapping[str, Any], dialect: object) -> bool:
    """Return whether *value* passes *schema*.

    Where the runtime cannot compile the schema, everything "passes": no hostile
    data is built from a schema the game could not have registered.
    """
    try:
        return satisfies(value, schema, dialect)
    except UnsatisfiableSchemaError:
        return True


_WRONG_TYPE_VALUES: tuple[Any, ...] = (
    ["move", "left"],
    [],
    42,
    3.5,
    "move left",
    True,
    None,
    {},
)


def _invalid_json(schema: Mapping[str, Any] | None, rng: random.Random) -> str:
    base = '{"value": 1}'
    if schema is not None:
        with contextlib.suppress(UnsatisfiableSchemaError):
            base = json.dumps(generate_valid(action_schema(schema), rng))
    candidates = [
        base[:-1],
        base[:-1] + ",}",
        base.replace('"', "'"),
        "{" + _word(rng) + ": 1}",
        f"{_word(rng)} {_word(rng)}",
        "",
        '{"value": undefined}',
        "[1, 2",
    ]
    rng.shuffle(candidates)
    for text in candidates:
        try:
            json.loads(text)
        except ValueError:
            return text
    return "{"  # pragma: no cover - the plain-words candidate never parses


#: Where a value sits: its container (dict or list), key or index, and schema.
_Slot = tuple[Any, Any, Any]


def _slots(value: object, schema: object) -> Iterator[_Slot]:
    """Yield every property (present or not) and array item below *value*."""
    if not isinstance(schema, Mapping):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            for name, sub in properties.items():
                yield value, name, sub
                if name in value:
                    yield from _slots(value[name], sub)
    elif isinstance(value, list):
        items = schema.get("items")
        for index, item in enumerate(value):
            if isinstance(items, list):
                sub = items[index] if index < len(items) else None
            else:
                sub = items
            if isinstance(sub, Mapping):
                yield value, index, sub
                yield from _slots(item, sub)


def _objects(holder: list[Any], schema: Mapping[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """Return every generated object with its schema, the top one first."""
    found: list[tuple[dict[str, Any], Any]] = []
    if isinstance(holder[0], dict):
        found.append((holder[0], schema))
    for container, key, sub in _slots(holder[0], schema):
        present = key in container if isinstance(container, dict) else True
        if present and isinstance(container[key], dict):
            found.append((container[key], sub))
    return found


def _drop_required(holder: list[Any], schema: Mapping[str, Any], rng: random.Random) -> bool:
    choices = [
        (obj, key)
        for obj, sub in _objects(holder, schema)
        for key in sub.get("required", [])
        if key in obj
    ]
    if not choices:
        return False
    obj, key = rng.choice(choices)
    del obj[key]
    return True


def _add_forbidden_key(holder: list[Any], schema: Mapping[str, Any], rng: random.Random) -> bool:
    choices = [
        (obj, sub)
        for obj, sub in _objects(holder, schema)
        if sub.get("additionalProperties") is False
    ]
    if not choices:
        return False
    obj, sub = rng.choice(choices)
    patterns = sub.get("patternProperties", {})
    for _ in range(20):
        name = _unknown_key(rng, obj, sub.get("properties", {}))
        if not any(re.search(p, name) for p in patterns):
            obj[name] = _Generator(rng, 0.0, 0.0).any_scalar()
            return True
    return False  # pragma: no cover - patternProperties matching every name


def _break_constraint(holder: list[Any], schema: Mapping[str, Any], rng: random.Random) -> bool:
    options = []
    for container, key, sub in _slots(holder[0], schema):
        present = key in container if isinstance(container, dict) else True
        current = container[key] if present else None
        bad = _bad_values(sub, current, rng, schema.get("$schema"))
        if bad:
            options.append((container, key, bad))
    if not options:
        return False
    container, key, bad = rng.choice(options)
    container[key] = rng.choice(bad)
    return True


def _bad_values(
    schema: Mapping[str, Any], current: object, rng: random.Random, dialect: object
) -> list[Any]:
    """Return values that break one constraint of *schema* each (maybe none)."""
    try:
        types = _declared_types(schema, "") or []
        bounds = _bounds(schema, "")
        min_len = _count(schema, "minLength", "")
        max_len = _count(schema, "maxLength", "")
        min_items = _count(schema, "minItems", "")
        max_items = _count(schema, "maxItems", "")
        pattern_ok = _pattern_matcher(schema.get("pattern"), "")
    except UnsatisfiableSchemaError:
        return []
    integer = "integer" in types and "number" not in types
    numeric = not types or "integer" in types or "number" in types
    textual = not types or "string" in types
    listy = not types or "array" in types
    bad: list[Any] = []
    if numeric and bounds.lo is not None:
        lo = bounds.lo
        if integer:
            bad.append(math.floor(lo) if bounds.lo_exclusive else math.ceil(lo) - 1)
        else:
            bad.append(lo if bounds.lo_exclusive else lo - max(1.0, abs(lo)))
    if numeric and bounds.hi is not None:
        hi = bounds.hi
        if integer:
            bad.append(math.ceil(hi) if bounds.hi_exclusive else math.floor(hi) + 1)
        else:
            bad.append(hi if bounds.hi_exclusive else hi + max(1.0, abs(hi)))
    if textual and min_len:
        bad.append("x" * (min_len - 1))
    if textual and max_len is not None:
        bad.append("x" * (max_len + 1))
    if textual and "pattern" in schema:
        bad.extend(t for t in ("", "!", "~ ~", "0", "Z") if not pattern_ok(t))
    if "enum" in schema or "const" in schema:
        bad.extend(_off_list_values(types, rng))
    if listy and min_items:
        bad.append(list(current[: min_items - 1]) if isinstance(current, list) else [])
    if listy and max_items is not None:
        filler = current[0] if isinstance(current, list) and current else 0
        bad.append([copy.deepcopy(filler) for _ in range(max_items + 1)])
    return [value for value in bad if not _passes(value, schema, dialect)]


def _off_list_values(types: list[str], rng: random.Random) -> list[Any]:
    """Return values likely outside an ``enum``/``const``, of the allowed types."""
    candidates: list[Any] = [f"not_{_word(rng)}", rng.randint(1000, 9999), 0.25, True, None]
    fitting = [c for c in candidates if not types or _json_types(c) & set(types)]
    return fitting or candidates
