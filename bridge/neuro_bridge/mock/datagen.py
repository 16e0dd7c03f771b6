"""Random ``action`` data for the stand-in Neuro: valid for a schema, or hostile.

Neuro sends an action's parameters as a JSON-encoded string that should satisfy the
schema the game registered.  This module makes such data, the way Neuro's official
test server does, and also makes data that breaks the schema on purpose, for chaos
testing a game.

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
* :func:`generate_invalid` returns the ``data`` *string* of a hostile action, one
  :class:`InvalidDataKind` at a time, or ``None`` when that kind of damage is not
  possible for the schema.

Both take a :class:`random.Random`, so a seed reproduces a run.  Strings for
``pattern`` come from a small generator that walks the pattern's parse tree (the
standard library's own regular-expression parser); every string is checked with
:func:`re.search`, as validators do, before it is returned.

No third-party library fits here: the known schema-to-data generators either need
Hypothesis at run time (``hypothesis-jsonschema``) or pull in large dependencies,
and the runtime must stay small and pure Python (Ren'Py's Python 3.9 included).
"""

from __future__ import annotations

import contextlib
import copy
import enum
import importlib
import json
import math
import re
import string
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sized
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

if TYPE_CHECKING:
    import random

# The standard library's regular-expression parser: ``re._parser`` since 3.11,
# ``sre_parse`` before (deprecated, with a warning, from 3.11 on).
_sre_parse: Any = importlib.import_module(
    "re._parser" if sys.version_info >= (3, 11) else "sre_parse"
)
_MAXREPEAT: int = _sre_parse.MAXREPEAT

__all__ = [
    "DEFAULT_SPAN",
    "OMIT_OPTIONAL_PROBABILITY",
    "PATTERN_ATTEMPTS",
    "InvalidDataKind",
    "UnsatisfiableSchemaError",
    "generate_invalid",
    "generate_valid",
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

#: Characters used for free text.  No newline, so ``$`` and ``\\Z`` agree.
_TEXT_ALPHABET = string.ascii_letters + string.digits + " -_.,!?"
# Free text (no pattern or format) is built from these.
_WORDS = (
    "nice try",
    "watch this",
    "my turn",
    "too easy",
    "chat",
    "look",
    "again",
    "bold move",
    "oh no",
    "I win",
    "hmm",
    "wow",
    "clever",
    "not bad",
    "heh",
    "ready?",
)

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
    generator = _Generator(rng, omit_optional_probability, extra_key_probability)
    return generator.value(schema, "")


class _Generator:
    """Generation state: the random source and the caller's options."""

    def __init__(self, rng: random.Random, omit_p: float, extra_p: float) -> None:
        self._rng = rng
        self._omit_p = omit_p
        self._extra_p = extra_p

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
        fitting = [c for c in candidates if _conforms(c, schema)]
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
        upper = min_len + DEFAULT_SPAN
        if max_len is not None:
            upper = min(max_len, upper)
        if "pattern" not in schema:
            return self._text(min_len, upper)
        return self._pattern_string(schema["pattern"], matcher, min_len, max_len, path)

    def _text(self, min_len: int, max_len: int) -> str:
        # Words rather than noise, so transcripts and demos read like speech.
        length = self._rng.randint(min_len, max_len)
        text = ""
        while len(text) < length:
            text += (" " if text else "") + self._rng.choice(_WORDS)
        text = text[:length]
        if text.endswith(" "):
            text = text[:-1] + self._rng.choice(string.ascii_lowercase)
        return text

    def _pattern_string(
        self,
        pattern: str,
        matcher: Callable[[str], bool],
        min_len: int,
        max_len: int | None,
        path: str,
    ) -> str:
        rng = self._rng
        hint = max_len if max_len is not None else min_len + DEFAULT_SPAN
        try:
            parsed: Any = _sre_parse.parse(pattern)
        except Exception:  # the parser's errors vary between Python versions
            parsed = None
        if parsed is not None:
            for _ in range(PATTERN_ATTEMPTS):
                walker = _RegexWalker(rng, rng.randint(0, max(4, hint)))
                try:
                    core = walker.generate(parsed)
                except _CannotGenerateError:
                    break
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


# ---------------------------------------------------------------------------
# Strings from regular expressions
# ---------------------------------------------------------------------------


class _CannotGenerateError(Exception):
    """The pattern uses a construct the walker does not generate."""


_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_NOT_DIGIT": string.ascii_letters + " -_",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": string.ascii_letters + string.digits,
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_NOT_WORD": " -.,!?",
    "CATEGORY_LINEBREAK": "\n",
    "CATEGORY_NOT_LINEBREAK": string.ascii_letters,
}

_CATEGORY_TESTS = {
    "CATEGORY_DIGIT": re.compile(r"\d"),
    "CATEGORY_NOT_DIGIT": re.compile(r"\D"),
    "CATEGORY_SPACE": re.compile(r"\s"),
    "CATEGORY_NOT_SPACE": re.compile(r"\S"),
    "CATEGORY_WORD": re.compile(r"\w"),
    "CATEGORY_NOT_WORD": re.compile(r"\W"),
    "CATEGORY_LINEBREAK": re.compile(r"\n"),
    "CATEGORY_NOT_LINEBREAK": re.compile(r"[^\n]"),
}

#: Characters tried for ``.``, ``[^...]`` and ``[^x]``.
_NEGATION_POOL = _TEXT_ALPHABET + "#$%&*+/:;=@~"


class _RegexWalker:
    r"""One attempt at a string for a parsed pattern (a ``sre_parse`` tree).

    Handles literals, ``.``, classes (ranges, ``\d\w\s`` and negations),
    alternation, groups and back-references, greedy/lazy/possessive repeats
    (unbounded ones grow at most *repeat_cap* past their minimum), atomic groups,
    conditionals, anchors and lookarounds (both generate nothing and are left to
    the final match check).  Anything else raises :class:`_CannotGenerateError`.
    """

    def __init__(self, rng: random.Random, repeat_cap: int) -> None:
        self._rng = rng
        self._cap = repeat_cap
        self._groups: dict[int, str] = {}

    def generate(self, items: Iterable[tuple[Any, Any]]) -> str:
        return "".join(self._item(op.name, value) for op, value in items)

    def _item(self, op: str, value: Any) -> str:
        rng = self._rng
        if op == "LITERAL":
            return chr(value)
        if op == "NOT_LITERAL":
            return self._char_outside(lambda c: c == chr(value))
        if op == "ANY":
            return rng.choice(_TEXT_ALPHABET)
        if op == "IN":
            return self._class(value)
        if op == "BRANCH":
            return self.generate(rng.choice(value[1]))
        if op == "SUBPATTERN":
            group, sub = value[0], value[-1]
            text = self.generate(sub)
            if group is not None:
                self._groups[group] = text
            return text
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = value
            top = low + self._cap if high == _MAXREPEAT else min(high, low + self._cap)
            return "".join(self.generate(sub) for _ in range(rng.randint(low, top)))
        if op in ("AT", "ASSERT", "ASSERT_NOT"):
            return ""
        if op == "GROUPREF":
            if value not in self._groups:
                raise _CannotGenerateError("reference to an unmatched group")
            return self._groups[value]
        if op == "GROUPREF_EXISTS":
            group, yes, no = value[0], value[1], value[2]
            if group in self._groups:
                return self.generate(yes)
            return "" if no is None else self.generate(no)
        if op == "ATOMIC_GROUP":
            return self.generate(value)
        raise _CannotGenerateError(op)

    def _class(self, items: list[tuple[Any, Any]]) -> str:
        if items and items[0][0].name == "NEGATE":
            rest = items[1:]
            return self._char_outside(lambda c: _in_class(c, rest))
        op, value = self._rng.choice(items)
        name = op.name
        if name == "LITERAL":
            return chr(value)
        if name == "RANGE":
            return chr(self._rng.randint(value[0], value[1]))
        if name == "CATEGORY" and value.name in _CATEGORY_CHARS:
            return self._rng.choice(_CATEGORY_CHARS[value.name])
        raise _CannotGenerateError(name)

    def _char_outside(self, excluded: Callable[[str], bool]) -> str:
        for char in self._rng.sample(_NEGATION_POOL, len(_NEGATION_POOL)):
            if not excluded(char):
                return char
        raise _CannotGenerateError("every candidate character is excluded")


def _in_class(char: str, items: list[tuple[Any, Any]]) -> bool:
    for op, value in items:
        name = op.name
        if name == "LITERAL" and char == chr(value):
            return True
        if name == "RANGE" and value[0] <= ord(char) <= value[1]:
            return True
        if name == "CATEGORY":
            test = _CATEGORY_TESTS.get(value.name)
            if test is None:
                raise _CannotGenerateError(value.name)
            if test.match(char):
                return True
        elif name not in ("LITERAL", "RANGE"):
            raise _CannotGenerateError(name)
    return False


# ---------------------------------------------------------------------------
# A checker for the same subset (used to pick enum members and to double-check
# hostile data)
# ---------------------------------------------------------------------------


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


def _json_equal(a: object, b: object) -> bool:
    """Compare as JSON does: ``1 == 1.0`` but ``True != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if a is None or b is None:
        return a is None and b is None
    return isinstance(a, str) and isinstance(b, str) and a == b


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


def _conforms(value: object, schema: object) -> bool:
    """Return whether *value* satisfies *schema* in the supported subset.

    ``format`` and keywords outside the subset are not checked; a malformed
    keyword counts as failed.
    """
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, Mapping):
        return True
    try:
        types = _declared_types(schema, "")
        if types is not None and not _json_types(value) & set(types):
            return False
        if "const" in schema and not _json_equal(value, schema["const"]):
            return False
        members = schema.get("enum")
        if members is not None and not any(_json_equal(value, m) for m in members):
            return False
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _number_conforms(value, _bounds(schema, ""))
        if isinstance(value, str):
            min_len = _count(schema, "minLength", "") or 0
            max_len = _count(schema, "maxLength", "")
            matcher = _pattern_matcher(schema.get("pattern"), "")
            return _length_ok(value, min_len, max_len) and matcher(value)
        if isinstance(value, (list, tuple)):
            return _array_conforms(value, schema)
        if isinstance(value, Mapping):
            return _object_conforms(value, schema)
    except (UnsatisfiableSchemaError, TypeError):
        return False
    return True


def _number_conforms(value: int | float, bounds: _Bounds) -> bool:
    if bounds.lo is not None and (
        value < bounds.lo or (bounds.lo_exclusive and value == bounds.lo)
    ):
        return False
    return not (
        bounds.hi is not None
        and (value > bounds.hi or (bounds.hi_exclusive and value == bounds.hi))
    )


def _array_conforms(value: list[Any] | tuple[Any, ...], schema: Mapping[str, Any]) -> bool:
    min_items = _count(schema, "minItems", "") or 0
    if not _length_ok(value, min_items, _count(schema, "maxItems", "")):
        return False
    items = schema.get("items", True)
    for index, item in enumerate(value):
        if isinstance(items, list):
            sub = items[index] if index < len(items) else schema.get("additionalItems", True)
        else:
            sub = items
        if not _conforms(item, sub):
            return False
    if schema.get("uniqueItems") is True:
        keys = [_canonical(item) for item in value]
        return len(set(keys)) == len(keys)
    return True


def _object_conforms(value: Mapping[Any, Any], schema: Mapping[str, Any]) -> bool:
    properties = schema.get("properties", {})
    if any(name not in value for name in schema.get("required", [])):
        return False
    additional = schema.get("additionalProperties", True)
    patterns = schema.get("patternProperties", {})
    for key, item in value.items():
        if key in properties:
            if not _conforms(item, properties[key]):
                return False
        elif not any(re.search(p, key) for p in patterns) and not _conforms(item, additional):
            return False
    return True


# ---------------------------------------------------------------------------
# Hostile data
# ---------------------------------------------------------------------------


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
        holder = [generate_valid(schema, rng)]
        damage = {
            InvalidDataKind.MISSING_REQUIRED: _drop_required,
            InvalidDataKind.EXTRA_KEY: _add_forbidden_key,
            InvalidDataKind.OUT_OF_RANGE: _break_constraint,
        }[kind]
        if not damage(holder, schema, rng):
            return None
        value = holder[0]
    if _conforms(value, schema):  # pragma: no cover - a bug in the damage code
        return None
    return json.dumps(value)


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
            base = json.dumps(generate_valid(schema, rng))
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
        bad = _bad_values(sub, container[key] if present else None, rng)
        if bad:
            options.append((container, key, bad))
    if not options:
        return False
    container, key, bad = rng.choice(options)
    container[key] = rng.choice(bad)
    return True


def _bad_values(schema: Mapping[str, Any], current: object, rng: random.Random) -> list[Any]:
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
    return [value for value in bad if not _conforms(value, schema)]


def _off_list_values(types: list[str], rng: random.Random) -> list[Any]:
    """Return values likely outside an ``enum``/``const``, of the allowed types."""
    candidates: list[Any] = [f"not_{_word(rng)}", rng.randint(1000, 9999), 0.25, True, None]
    fitting = [c for c in candidates if not types or _json_types(c) & set(types)]
    return fitting or candidates
