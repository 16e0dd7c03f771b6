"""Valid ``action`` data for the stand-in Neuro, generated from the action's schema.

Neuro sends an action's parameters as a JSON-encoded string that should satisfy the
schema the game registered.  This module makes such data, the way Neuro's official
test server does; :mod:`neuro_bridge.mock.hostile` breaks it on purpose and
:mod:`neuro_bridge.mock.regexgen` makes strings for ``pattern``.

* :func:`action_data` -- the ``data`` text Neuro sends for an action: ``None`` for
  an action without parameters (no schema, or ``{}``), else a JSON object.  The one
  helper the stand-in's player, console and chaos probes use.
* :func:`generate_valid` returns a JSON value (``dict``, ``list``, ``str``, ...) that
  satisfies a schema written in the subset Neuro supports: ``type`` (a name or a
  list), ``properties``, ``required``, ``enum``, ``const``, ``items``, ``minItems``,
  ``maxItems``, ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``
  (numbers, or draft-4 booleans), ``minLength``, ``maxLength``, ``pattern`` and
  ``format`` (``date``, ``time``, ``date-time``, ``email``, ``hostname``, ``ipv4``,
  ``ipv6``, ``uri``, ``uuid``; other formats are ignored).  Outside the subset it
  honours ``additionalProperties`` (``false`` or a schema), ``additionalItems``,
  ``uniqueItems`` and boolean schemas; every other keyword (``anyOf``, ``$ref``,
  ...) is ignored, so data for a schema that uses one may not satisfy it.
* :func:`satisfies` -- whether a value passes a schema, decided by the runtime's own
  compiled validator (:func:`neuro_bridge.schema.compile_validator`): the stand-in
  and the game judge data the same way.

Free text (a string without ``pattern`` or ``format``) is made of whole words and
short sentences, never cut to fit ``maxLength``, so transcripts and the sample's
speech bubble read like speech.  Everything takes a :class:`random.Random`, so a
seed reproduces a run.

No third-party library fits here: the known schema-to-data generators either need
Hypothesis at run time (``hypothesis-jsonschema``) or pull in large dependencies,
and the runtime must stay small and pure Python (Ren'Py's Python 3.9 included).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import re
import string
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sized
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from neuro_bridge.mock.regexgen import pattern_candidates
from neuro_bridge.schema import InvalidSchemaError, SchemaValidationError, compile_validator

if TYPE_CHECKING:
    import random

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_SPAN",
    "OMIT_OPTIONAL_PROBABILITY",
    "PATTERN_ATTEMPTS",
    "TEXT_SPAN",
    "UnsatisfiableSchemaError",
    "action_data",
    "action_schema",
    "generate_valid",
    "satisfies",
]

#: Default probability that :func:`generate_valid` leaves out an optional property.
OMIT_OPTIONAL_PROBABILITY = 0.25

#: How far past its minimum a string, array or repeat may grow when the schema sets
#: no (or a larger) upper bound.  Keeps generated data short enough to read.
DEFAULT_SPAN = 8

#: How many candidate strings are tried for a ``pattern`` (then as many random
#: strings) before :class:`UnsatisfiableSchemaError` is raised.
PATTERN_ATTEMPTS = 200

#: Width of the range numbers are drawn from when a schema leaves a side open.
_NUMBER_SPAN = 100

#: How long free text may grow past its ``minLength`` (within ``maxLength``): room
#: for a sentence or three, as Neuro would say.
TEXT_SPAN = 60

# Free text (no pattern or format) is made of these short sentences; where none
# fits, of these words.  Whole ones only: never cut to fit a length.
_SENTENCES = (
    "Nice try.",
    "Watch this!",
    "My turn.",
    "Too easy.",
    "Hi chat!",
    "Oh no.",
    "I win.",
    "Hmm.",
    "Wow.",
    "Clever.",
    "Not bad.",
    "Heh.",
    "Ready?",
    "Bold move.",
    "Again?",
    "Is that all?",
    "I saw that coming.",
    "That was close.",
    "Chat, look at this.",
    "You will regret that.",
    "Think fast!",
    "A good game so far.",
)
_WORDS = ("ok", "hi", "no", "yes", "wow", "hmm", "heh", "nice", "again", "ready", "clever")
_PAD = "!"

_ALL_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")

#: Keywords that only make sense for one type: used when ``type`` is absent.
_TYPE_HINTS = {
    "object": ("properties", "required", "additionalProperties", "patternProperties"),
    "array": ("items", "minItems", "maxItems", "uniqueItems", "additionalItems"),
    "string": ("minLength", "maxLength", "pattern", "format"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
}

#: An unescaped ``$``: JSON Schema patterns are ECMA-262, where ``$`` means ``\\Z``.
_DOLLAR = re.compile(r"(?<!\\)\$")


class UnsatisfiableSchemaError(ValueError):
    """No JSON value satisfies the schema, or the generator could not find one.

    Raised for contradictions (``minimum`` above ``maximum``, ``minLength`` above
    ``maxLength``, an ``enum`` whose members all break the other keywords, a
    required property forbidden by ``additionalProperties: false`` ...), for
    malformed schemas (an unknown ``type``, a non-numeric bound, an invalid
    ``pattern``) and for patterns no string within the length bounds was found for.

    Attributes:
        path: Where in the schema the problem is, as dotted keywords and names
            (``"properties.moves.items"``); ``""`` for the schema root.

    """

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        where = path if path else "the schema root"
        super().__init__(f"{message} (at {where})")


# ---------------------------------------------------------------------------
# Valid data
# ---------------------------------------------------------------------------


def generate_valid(
    schema: Mapping[str, Any],
    rng: random.Random,
    *,
    omit_optional_probability: float = OMIT_OPTIONAL_PROBABILITY,
    extra_key_probability: float = 0.0,
) -> Any:
    """Return a random JSON value that satisfies *schema*.

    Like Neuro's test server, optional properties are sometimes left out, strings
    are sometimes empty (when ``minLength`` allows it) and numbers sometimes sit on
    their bounds.  The value is built from fresh ``dict``/``list`` objects (``enum``
    and ``const`` members are deep-copied), so the caller may change it freely.
    Encode it with :func:`json.dumps` to get the ``data`` string of an ``action``.

    Args:
        schema: A JSON schema in the subset described in the module docstring;
            action schemas are ``{"type": "object", ...}``.
        rng: The source of randomness; the same seed gives the same value.
        omit_optional_probability: Chance that each optional property is left out.
            An optional property whose own schema cannot be satisfied is always
            left out.
        extra_key_probability: Chance that an object gets one unknown key, as
            Neuro's test server does.  Never where ``additionalProperties`` is
            ``false`` or ``patternProperties`` is present.

    Returns:
        A JSON-serialisable value -- ``dict``, ``list``, ``str``, ``int``, ``float``,
        ``bool`` or ``None``.

    Raises:
        UnsatisfiableSchemaError: If no value satisfies the schema, the schema is
            malformed, or no string was found for one of its patterns.

    """
    dialect = schema.get("$schema") if isinstance(schema, Mapping) else None
    generator = _Generator(rng, omit_optional_probability, extra_key_probability, dialect)
    return generator.value(schema, "")


def action_schema(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return *schema* as action data is generated from it: an object schema.

    An action's data is a JSON object, so a schema that names no ``type`` (``{}``
    or one with only ``properties``, say) is read as ``"type": "object"``.
    """
    if "type" in schema:
        return schema
    return {**schema, "type": "object"}


def action_data(
    schema: object,
    rng: random.Random,
    *,
    omit_optional_probability: float = OMIT_OPTIONAL_PROBABILITY,
    extra_key_probability: float = 0.0,
) -> str | None:
    """Return the ``data`` text Neuro sends for an action registered with *schema*.

    ``None`` (no data) for an action without parameters: no schema, a schema
    that is not an object, or ``{}``.  Otherwise the JSON text of an object from
    :func:`generate_valid` (see :func:`action_schema`), or ``"{}"`` when no valid
    value can be generated (logged as a warning).
    """
    if not isinstance(schema, Mapping) or not schema:
        return None
    try:
        value = generate_valid(
            action_schema(schema),
            rng,
            omit_optional_probability=omit_optional_probability,
            extra_key_probability=extra_key_probability,
        )
    except UnsatisfiableSchemaError as exc:
        logger.warning("cannot generate data for schema %.80r: %s; sending {}", schema, exc)
        return "{}"
    return json.dumps(value)


def satisfies(value: object, schema: Mapping[str, Any], dialect: object = None) -> bool:
    """Return whether *value* passes *schema*, by the runtime's compiled validator.

    Args:
        value: A JSON value (it is not changed: a copy is validated).
        schema: A JSON schema (a sub-schema is fine).
        dialect: The ``$schema`` of the document *schema* comes from, used when
            *schema* names none (a draft-4 sub-schema needs it).

    Raises:
        UnsatisfiableSchemaError: If the runtime cannot compile *schema*.
    """
    if dialect is not None and "$schema" not in schema:
        schema = {"$schema": dialect, **schema}
    try:
        validator = compile_validator(schema)
    except InvalidSchemaError as exc:
        raise UnsatisfiableSchemaError(str(exc)) from exc
    try:
        validator(copy.deepcopy(value))
    except SchemaValidationError:
        return False
    return True


class _Generator:
    """Generation state: the random source, the caller's options, the dialect."""

    def __init__(
        self, rng: random.Random, omit_p: float, extra_p: float, dialect: object = None
    ) -> None:
        self._rng = rng
        self._omit_p = omit_p
        self._extra_p = extra_p
        self._dialect = dialect

    def value(self, schema: object, path: str) -> Any:
        """Return a value for *schema*, a sub-schema found at *path*."""
        if schema is True:
            return self.any_scalar()
        if schema is False:
            raise UnsatisfiableSchemaError("the schema 'false' allows no value", path)
        if not isinstance(schema, Mapping):
            raise UnsatisfiableSchemaError(
                f"a schema must be an object or a boolean, not {type(schema).__name__}",
                path,
            )
        if "const" in schema or "enum" in schema:
            return self._member(schema, path)
        types = _declared_types(schema, path)
        if types is None:
            hinted = [t for t in _TYPE_HINTS if any(k in schema for k in _TYPE_HINTS[t])]
            types = hinted or list(_ALL_TYPES)
        errors: list[UnsatisfiableSchemaError] = []
        for type_name in self._rng.sample(types, len(types)):
            try:
                return self._typed(type_name, schema, path)
            except UnsatisfiableSchemaError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        raise UnsatisfiableSchemaError(
            f"none of the types {types} can be satisfied; last reason: {errors[-1]}", path
        ) from errors[-1]

    def any_scalar(self) -> Any:
        """Return a short random string, integer, boolean or ``None``."""
        choice = self._rng.randrange(4)
        if choice == 0:
            return self._text(1, DEFAULT_SPAN)
        if choice == 1:
            return self._rng.randint(-_NUMBER_SPAN, _NUMBER_SPAN)
        if choice == 2:
            return self._rng.random() < 0.5
        return None

    def _member(self, schema: Mapping[str, Any], path: str) -> Any:
        if "const" in schema:
            candidates: list[Any] = [schema["const"]]
        else:
            members = schema["enum"]
            if not isinstance(members, list):
                raise UnsatisfiableSchemaError("'enum' must be a list", path)
            candidates = members
        try:
            fitting = [c for c in candidates if satisfies(c, schema, self._dialect)]
        except UnsatisfiableSchemaError as exc:
            raise UnsatisfiableSchemaError(str(exc), path) from exc
        if not fitting:
            raise UnsatisfiableSchemaError(
                "no 'enum'/'const' value satisfies the schema's other keywords", path
            )
        return copy.deepcopy(self._rng.choice(fitting))

    def _typed(self, type_name: str, schema: Mapping[str, Any], path: str) -> Any:
        if type_name == "null":
            return None
        if type_name == "boolean":
            return self._rng.random() < 0.5
        if type_name == "integer":
            return self._integer(_bounds(schema, path), path)
        if type_name == "number":
            return self._number(_bounds(schema, path), path)
        if type_name == "string":
            return self._string(schema, path)
        if type_name == "array":
            return self._array(schema, path)
        return self._object(schema, path)

    # -- numbers -------------------------------------------------------------

    def _integer(self, bounds: _Bounds, path: str) -> int:
        lo, hi = _integer_range(bounds)
        if lo is not None and hi is not None and lo > hi:
            raise UnsatisfiableSchemaError(f"no integer lies within {bounds.describe()}", path)
        rng = self._rng
        if lo is None:
            if hi is None:
                return rng.randint(-_NUMBER_SPAN, _NUMBER_SPAN)
            return rng.randint(hi - _NUMBER_SPAN, hi)
        if hi is None:
            return rng.randint(lo, lo + _NUMBER_SPAN)
        if rng.random() < 0.15:
            return rng.choice((lo, hi))
        return rng.randint(lo, hi)

    def _number(self, bounds: _Bounds, path: str) -> int | float:
        rng = self._rng
        if rng.random() < 0.3:
            lo_i, hi_i = _integer_range(bounds)
            if lo_i is None or hi_i is None or lo_i <= hi_i:
                return self._integer(bounds, path)
        low, high = _float_range(bounds)
        if low is None:
            hi = float(_NUMBER_SPAN) if high is None else high
            lo = hi - 2 * _NUMBER_SPAN if high is None else hi - _NUMBER_SPAN
        else:
            lo = low
            hi = lo + _NUMBER_SPAN if high is None else high
        if lo > hi:
            raise UnsatisfiableSchemaError(f"no number lies within {bounds.describe()}", path)
        if rng.random() < 0.1:
            return rng.choice((lo, hi))
        r = rng.random()
        x = min(max(lo * (1.0 - r) + hi * r, lo), hi)
        rounded = round(x, 2)
        return rounded if lo <= rounded <= hi else x

    # -- strings -------------------------------------------------------------

    def _string(self, schema: Mapping[str, Any], path: str) -> str:
        min_len = _count(schema, "minLength", path) or 0
        max_len = _count(schema, "maxLength", path)
        if max_len is not None and min_len > max_len:
            raise UnsatisfiableSchemaError(
                f"minLength {min_len} is above maxLength {max_len}", path
            )
        matcher = _pattern_matcher(schema.get("pattern"), path)
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            for _ in range(20):
                candidate = _FORMATS[fmt](self._rng)
                if _length_ok(candidate, min_len, max_len) and matcher(candidate):
                    return candidate
            raise UnsatisfiableSchemaError(
                f"found no {fmt!r} string that meets the length and pattern bounds", path
            )
        if "pattern" not in schema:
            upper = min_len + TEXT_SPAN
            return self._text(min_len, upper if max_len is None else min(max_len, upper))
        return self._pattern_string(schema["pattern"], matcher, min_len, max_len, path)

    def _text(self, min_len: int, max_len: int) -> str:
        """Return whole sentences (or words) whose length is within the bounds.

        Pieces are added while they fit under *max_len* and the text is shorter
        than a length drawn from the bounds; a text still short of *min_len* ends
        in ``!`` marks.  Nothing is ever cut.
        """
        rng = self._rng
        target = rng.randint(min_len, max_len)
        text = ""
        while len(text) < target:
            room = max_len - len(text) - (1 if text else 0)
            pieces = [p for p in _SENTENCES if len(p) <= room and p not in text]
            if not pieces and len(text) < min_len:
                pieces = [w for w in _WORDS if len(w) <= room]
            if not pieces:
                break
            text += (" " if text else "") + rng.choice(pieces)
        if len(text) < min_len:
            if text.endswith("."):
                text = text[:-1]
            text += _PAD * (min_len - len(text))
        return text

    def _pattern_string(
        self,
        pattern: str,
        matcher: Callable[[str], bool],
        min_len: int,
        max_len: int | None,
        path: str,
    ) -> str:
        hint = max_len if max_len is not None else min_len + DEFAULT_SPAN
        for core in pattern_candidates(pattern, self._rng, hint, PATTERN_ATTEMPTS):
            for candidate in self._padded(core, min_len, max_len):
                if matcher(candidate):
                    return candidate
        upper = min_len + DEFAULT_SPAN if max_len is None else max_len
        for _ in range(PATTERN_ATTEMPTS):
            candidate = self._text(min_len, min(upper, min_len + DEFAULT_SPAN))
            if matcher(candidate):
                return candidate
        bounds = f"length {min_len}..{'' if max_len is None else max_len}"
        raise UnsatisfiableSchemaError(
            f"found no string matching pattern {pattern!r} with {bounds}", path
        )

    def _padded(self, core: str, min_len: int, max_len: int | None) -> Iterator[str]:
        """Yield *core*, or *core* padded with free text up to the length bounds."""
        if max_len is not None and len(core) > max_len:
            return
        if len(core) >= min_len:
            yield core
            return
        missing = min_len - len(core)
        room = DEFAULT_SPAN if max_len is None else min(DEFAULT_SPAN, max_len - min_len)
        pad = self._text(missing, missing + self._rng.randint(0, room))
        cut = self._rng.randint(0, len(pad))
        yield core + pad
        yield pad + core
        yield pad[:cut] + core + pad[cut:]

    # -- arrays and objects --------------------------------------------------

    def _array(self, schema: Mapping[str, Any], path: str) -> list[Any]:
        min_items = _count(schema, "minItems", path) or 0
        max_items = _count(schema, "maxItems", path)
        items = schema.get("items", True)
        rest: object = True
        if isinstance(items, list):
            rest = schema.get("additionalItems", True)
            if rest is False:
                max_items = len(items) if max_items is None else min(max_items, len(items))
        if max_items is not None and min_items > max_items:
            raise UnsatisfiableSchemaError(
                f"minItems {min_items} is above the most items allowed ({max_items})", path
            )
        upper = min_items + 4 if max_items is None else min(max_items, min_items + 4)
        length = self._rng.randint(min_items, upper)
        unique = schema.get("uniqueItems") is True
        result: list[Any] = []
        seen: set[str] = set()
        duplicates = 0
        while len(result) < length:
            index = len(result)
            if isinstance(items, list):
                sub = items[index] if index < len(items) else rest
            else:
                sub = items
            try:
                item = self.value(sub, f"{path}.items" if path else "items")
            except UnsatisfiableSchemaError:
                if len(result) >= min_items:
                    break
                raise
            if unique:
                key = _canonical(item)
                if key in seen:
                    duplicates += 1
                    if duplicates <= 50:
                        continue
                    if len(result) >= min_items:
                        break
                    raise UnsatisfiableSchemaError(
                        f"found no {min_items} distinct items for uniqueItems", path
                    ) from None
                seen.add(key)
            result.append(item)
        return result

    def _object(self, schema: Mapping[str, Any], path: str) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        if not isinstance(properties, Mapping):
            raise UnsatisfiableSchemaError("'properties' must be an object", path)
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise UnsatisfiableSchemaError("'required' must be a list of strings", path)
        additional = schema.get("additionalProperties", True)
        closed = additional is False or "patternProperties" in schema
        prefix = f"{path}.properties" if path else "properties"
        result: dict[str, Any] = {}
        for name, sub in properties.items():
            if name in required:
                result[name] = self.value(sub, f"{prefix}.{name}")
            elif self._rng.random() >= self._omit_p:
                # An optional property that cannot be satisfied is left out.
                with contextlib.suppress(UnsatisfiableSchemaError):
                    result[name] = self.value(sub, f"{prefix}.{name}")
        for name in required:
            if name in result:
                continue
            if additional is False:
                raise UnsatisfiableSchemaError(
                    f"required property {name!r} is not in 'properties' and"
                    " additionalProperties is false",
                    path,
                )
            result[name] = self.value(additional, f"{path}.additionalProperties")
        if not closed and self._rng.random() < self._extra_p:
            name = _unknown_key(self._rng, result, properties)
            with contextlib.suppress(UnsatisfiableSchemaError):
                result[name] = self.value(additional, f"{path}.additionalProperties")
        return result


class _Bounds(NamedTuple):
    """Numeric bounds of a schema; ``None`` where a side is open."""

    lo: int | float | None
    lo_exclusive: bool
    hi: int | float | None
    hi_exclusive: bool

    def describe(self) -> str:
        """Return the bounds in interval notation, e.g. ``(0, 10]``."""
        left = "(-inf"
        if self.lo is not None:
            left = ("(" if self.lo_exclusive else "[") + repr(self.lo)
        right = "inf)"
        if self.hi is not None:
            right = repr(self.hi) + (")" if self.hi_exclusive else "]")
        return f"{left}, {right}"


def _number_keyword(schema: Mapping[str, Any], key: str, path: str) -> int | float | None:
    value = schema.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnsatisfiableSchemaError(f"{key!r} must be a number, not {value!r}", path)
    if isinstance(value, float) and not math.isfinite(value):
        raise UnsatisfiableSchemaError(f"{key!r} must be finite, not {value!r}", path)
    return value


def _bounds(schema: Mapping[str, Any], path: str) -> _Bounds:
    """Return the tightest bounds of *schema*, in either draft's exclusive style."""
    sides: list[tuple[int | float | None, bool]] = []
    for inclusive, exclusive, sign in (
        ("minimum", "exclusiveMinimum", 1),
        ("maximum", "exclusiveMaximum", -1),
    ):
        bound = _number_keyword(schema, inclusive, path)
        is_exclusive = False
        flag = schema.get(exclusive)
        if isinstance(flag, bool):  # draft 4: a modifier of minimum/maximum
            is_exclusive = flag and bound is not None
        else:
            strict = _number_keyword(schema, exclusive, path)
            # The exclusive bound wins when it is at least as tight.
            if strict is not None and (bound is None or sign * (strict - bound) >= 0):
                bound, is_exclusive = strict, True
        sides.append((bound, is_exclusive))
    (lo, lo_x), (hi, hi_x) = sides
    return _Bounds(lo, lo_x, hi, hi_x)


def _integer_range(bounds: _Bounds) -> tuple[int | None, int | None]:
    """Return the smallest and largest integers within *bounds* (inclusive)."""
    lo = None
    if bounds.lo is not None:
        lo = math.floor(bounds.lo) + 1 if bounds.lo_exclusive else math.ceil(bounds.lo)
    hi = None
    if bounds.hi is not None:
        hi = math.ceil(bounds.hi) - 1 if bounds.hi_exclusive else math.floor(bounds.hi)
    return lo, hi


def _float_range(bounds: _Bounds) -> tuple[float | None, float | None]:
    """Return the smallest and largest floats within *bounds* (inclusive)."""
    lo = None
    if bounds.lo is not None:
        lo = float(bounds.lo)
        while lo < bounds.lo or (bounds.lo_exclusive and lo == bounds.lo):
            lo = math.nextafter(lo, math.inf)
    hi = None
    if bounds.hi is not None:
        hi = float(bounds.hi)
        while hi > bounds.hi or (bounds.hi_exclusive and hi == bounds.hi):
            hi = math.nextafter(hi, -math.inf)
    return lo, hi


def _count(schema: Mapping[str, Any], key: str, path: str) -> int | None:
    value = schema.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnsatisfiableSchemaError(f"{key!r} must be a non-negative integer", path)
    return value


def _declared_types(schema: Mapping[str, Any], path: str) -> list[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not names:
        raise UnsatisfiableSchemaError("'type' must be a type name or a non-empty list", path)
    for name in names:
        if name not in _ALL_TYPES:
            raise UnsatisfiableSchemaError(f"unknown type {name!r}", path)
    return list(names)


def _pattern_matcher(pattern: object, path: str) -> Callable[[str], bool]:
    r"""Return a test that a string matches *pattern* as JSON Schema validators do.

    Python's :func:`re.search` is what validators use, but some (fastjsonschema)
    first turn ``$`` into ``\Z``; a string must match both ways.
    """
    if pattern is None:
        return lambda _: True
    if not isinstance(pattern, str):
        raise UnsatisfiableSchemaError("'pattern' must be a string", path)
    try:
        plain = re.compile(pattern)
        strict = re.compile(_DOLLAR.sub(r"\\Z", pattern))
    except re.error as exc:
        raise UnsatisfiableSchemaError(f"invalid pattern {pattern!r}: {exc}", path) from exc
    return lambda text: bool(plain.search(text)) and bool(strict.search(text))


def _length_ok(text: Sized, min_len: int, max_len: int | None) -> bool:
    return len(text) >= min_len and (max_len is None or len(text) <= max_len)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 8)))


def _unknown_key(rng: random.Random, *taken: Iterable[str]) -> str:
    used = {key for keys in taken for key in keys}
    while True:
        name = f"extra_{_word(rng)}"
        if name not in used:
            return name


def _date(rng: random.Random) -> str:
    return f"{rng.randint(1990, 2040):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


_FORMATS: dict[str, Callable[[random.Random], str]] = {
    "date": _date,
    "time": _time,
    "date-time": lambda rng: f"{_date(rng)}T{_time(rng)}",
    "email": lambda rng: f"{_word(rng)}@{_word(rng)}.com",
    "hostname": lambda rng: f"{_word(rng)}.{_word(rng)}.org",
    "uri": lambda rng: f"https://{_word(rng)}.example/{_word(rng)}",
    "ipv4": lambda rng: ".".join(str(rng.randint(0, 255)) for _ in range(4)),
    "ipv6": lambda rng: ":".join(f"{rng.getrandbits(16):x}" for _ in range(8)),
    "uuid": _uuid,
}


def _json_types(value: object) -> set[str]:
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"integer", "number"} if value.is_integer() else {"number"}
    if isinstance(value, str):
        return {"string"}
    if isinstance(value, (list, tuple)):
        return {"array"}
    if isinstance(value, Mapping):
        return {"object"}
    return set()


def _canonical(value: object) -> str:
    def normal(v: object) -> object:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, (list, tuple)):
            return [normal(x) for x in v]
        if isinstance(v, Mapping):
            return {k: normal(x) for k, x in v.items()}
        return v

    return json.dumps(normal(value), sort_keys=True)
