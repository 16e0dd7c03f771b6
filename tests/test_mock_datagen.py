"""Tests for :mod:`neuro_bridge.mock.datagen`: schema-driven valid and hostile data.

Generated data is checked with the validator the runtime uses
(:func:`neuro_bridge.schema.compile_validator`, i.e. fastjsonschema), after a JSON
round trip, since Neuro sends the data as text.
"""

from __future__ import annotations

import json
import random
import re
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuro_bridge.mock import datagen
from neuro_bridge.mock.datagen import (
    UnsatisfiableSchemaError,
    action_data,
    generate_valid,
    satisfies,
)
from neuro_bridge.mock.hostile import InvalidDataKind, generate_invalid
from neuro_bridge.schema import SchemaValidationError, compile_validator

SEEDS_PER_SCHEMA = 5


def assert_valid(schema: dict[str, Any], data: Any) -> None:
    text = json.dumps(data, allow_nan=False)
    compile_validator(schema)(json.loads(text))


def assert_invalid(schema: dict[str, Any], text: str) -> None:
    data = json.loads(text)
    with pytest.raises(SchemaValidationError):
        compile_validator(schema)(data)


# ---------------------------------------------------------------------------
# Schema strategies covering the subset Neuro supports
# ---------------------------------------------------------------------------

#: (pattern, shortest match, longest match or None when any longer length works)
PATTERNS = [
    ("^[a-z]{3,5}$", 3, 5),
    ("[0-9]+", 1, None),
    ("(red|green|blue)", 3, None),
    ("^(red|green|blue)$", 3, 5),
    (r"^\d{2}-\d{2}$", 5, 5),
    (r"^[A-Z][a-z]*$", 1, None),
    (r"^\w+\s\w+$", 3, None),
    (r"^[^0-9]{2,4}$", 2, 4),
    (r"^(?:ab|cd)?x+?$", 1, None),
    (r"^#[0-9a-fA-F]{6}$", 7, 7),
    (r"^([a-c])-\1$", 3, 3),
    (r"^.{2}\.[a-z]{1,2}$", 4, 5),
]

FORMATS = ["date", "time", "date-time", "email", "hostname", "ipv4", "ipv6", "uri"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=6),
)


@st.composite
def integer_schemas(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.integers(-1000, 1000))
    high = low + draw(st.integers(0, 50))
    schema: dict[str, Any] = {"type": "integer"}
    lower = draw(st.sampled_from(["none", "min", "xmin", "fmin"]))
    upper = draw(st.sampled_from(["none", "max", "xmax", "fmax"]))
    if lower == "min":
        schema["minimum"] = low
    elif lower == "xmin":
        schema["exclusiveMinimum"] = low - 1
    elif lower == "fmin":
        schema["minimum"] = low - 0.5
    if upper == "max":
        schema["maximum"] = high
    elif upper == "xmax":
        schema["exclusiveMaximum"] = high + 1
    elif upper == "fmax":
        schema["maximum"] = high + 0.5
    return schema


@st.composite
def number_schemas(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.floats(-1e6, 1e6))
    high = low + draw(st.floats(1e-3, 1e6))
    schema: dict[str, Any] = {"type": "number"}
    lower = draw(st.sampled_from([None, "minimum", "exclusiveMinimum"]))
    upper = draw(st.sampled_from([None, "maximum", "exclusiveMaximum"]))
    if lower:
        schema[lower] = low
    if upper:
        schema[upper] = high
    return schema


@st.composite
def string_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    choice = draw(st.sampled_from(["plain", "pattern", "format"]))
    if choice == "format":
        schema["format"] = draw(st.sampled_from(FORMATS))
        return schema
    shortest, longest = 0, None
    if choice == "pattern":
        pattern, shortest, longest = draw(st.sampled_from(PATTERNS))
        schema["pattern"] = pattern
    if draw(st.booleans()):
        top = longest if longest is not None else shortest + 6
        schema["minLength"] = draw(st.integers(0, top))
    if draw(st.booleans()):
        floor = max(schema.get("minLength", 0), shortest)
        schema["maxLength"] = floor + draw(st.integers(0, 6))
    return schema


@st.composite
def enum_schemas(draw: st.DrawFn) -> dict[str, Any]:
    members = draw(st.lists(scalars, min_size=1, max_size=5, unique_by=json.dumps))
    schema: dict[str, Any] = {"enum": members}
    if draw(st.booleans()):
        first = members[0]
        schema["type"] = (
            "null"
            if first is None
            else "boolean"
            if isinstance(first, bool)
            else "integer"
            if isinstance(first, int)
            else "string"
        )
    return schema


def nullable(schemas: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return schemas.map(lambda s: {**s, "type": [s["type"], "null"]})


leaf_schemas = st.one_of(
    integer_schemas(),
    number_schemas(),
    string_schemas(),
    enum_schemas(),
    st.builds(lambda v: {"const": v}, scalars),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.just({}),
    st.just({"description": "anything at all", "title": "unsupported keywords"}),
    nullable(integer_schemas()),
    nullable(string_schemas()),
    st.just({"type": ["integer", "string"], "minimum": 3, "maxLength": 2}),
)

property_names = st.text("abcdefgh_", min_size=1, max_size=6)


@st.composite
def object_schemas(
    draw: st.DrawFn, children: st.SearchStrategy[Any], min_size: int = 0
) -> dict[str, Any]:
    properties = draw(st.dictionaries(property_names, children, min_size=min_size, max_size=4))
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    names = sorted(properties)
    required = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    if required:
        schema["required"] = required
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


@st.composite
def array_schemas(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": draw(children)}
    if draw(st.booleans()):
        schema["minItems"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        schema["maxItems"] = schema.get("minItems", 0) + draw(st.integers(0, 3))
    return schema


nested_schemas = st.recursive(
    leaf_schemas,
    lambda children: st.one_of(array_schemas(children), object_schemas(children)),
    max_leaves=8,
)

action_schemas = object_schemas(nested_schemas, min_size=1)


# ---------------------------------------------------------------------------
# generate_valid
# ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(schema=action_schemas, seed=st.integers(0, 2**32 - 1))
def test_generated_data_satisfies_schema(schema: dict[str, Any], seed: int) -> None:
    for offset in range(SEEDS_PER_SCHEMA):
        rng = random.Random(seed + offset)
        assert_valid(schema, generate_valid(schema, rng, extra_key_probability=0.5))


@pytest.mark.parametrize(
    "pattern",
    [
        "^[a-z]{3,5}$",
        "[0-9]+",
        "(red|green|blue)",
        r"^\d\d?:\d\d$",
        r"^\w+@\w+\.(com|org)$",
        r"^[^aeiou\s]{4}$",
        r"^(?P<x>[xy])z(?P=x)$",
        r"^(a)?(?(1)b|c)$",
        r"^(?=.*\d)[a-z\d]{4,6}$",
        r"^(?!abc)[abc]{3}$",
        r"^\S+\s\S+$",
        r"^[\w.-]+$",
        r"^\D\W$",
        r"^a.c$",
        r"^x*y+?z{2}$",
        r"(?i)^hello$",
        r"^\u00e9t\u00e9$",
        r"^[-+]?\d+(\.\d+)?$",
        r"^$",
        r"",
    ],
)
def test_pattern_strings_match(pattern: str) -> None:
    schema = {"type": "string", "pattern": pattern}
    for seed in range(30):
        value = generate_valid(schema, random.Random(seed))
        assert re.search(pattern, value), (pattern, value)
        assert_valid(schema, value)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="needs Python 3.11 syntax")
def test_pattern_possessive_and_atomic() -> None:
    schema = {"type": "string", "pattern": r"^(?>ab|a)c++d*+$"}
    for seed in range(20):
        assert re.search(schema["pattern"], generate_valid(schema, random.Random(seed)))


def test_pattern_with_length_bounds_pads_unanchored_match() -> None:
    schema = {"type": "string", "pattern": "(red|green|blue)", "minLength": 12}
    for seed in range(20):
        value = generate_valid(schema, random.Random(seed))
        assert len(value) >= 12
        assert_valid(schema, value)


@pytest.mark.parametrize("fmt", [*FORMATS, "uuid"])
def test_formats_validate(fmt: str) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "type": "string",
        "format": fmt,
    }
    for seed in range(20):
        assert_valid(schema, generate_valid(schema, random.Random(seed)))


def test_unknown_format_is_ignored() -> None:
    schema = {"type": "string", "format": "colour-name", "maxLength": 3}
    assert len(generate_valid(schema, random.Random(0))) <= 3


def test_draft4_boolean_exclusive_bounds() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "properties": {
            "i": {"type": "integer", "minimum": 1, "exclusiveMinimum": True,
                  "maximum": 3, "exclusiveMaximum": True},
            "n": {"type": "number", "minimum": 0, "exclusiveMinimum": True,
                  "maximum": 1, "exclusiveMaximum": False},
        },
        "required": ["i", "n"],
    }  # fmt: skip
    for seed in range(50):
        data = generate_valid(schema, random.Random(seed))
        assert data["i"] == 2
        assert 0 < data["n"] <= 1
        assert_valid(schema, data)


def test_unique_items() -> None:
    schema = {
        "type": "array",
        "items": {"enum": ["a", "b", "c", 1, 1.0, True]},
        "minItems": 4,
        "uniqueItems": True,
    }
    for seed in range(30):
        data = generate_valid(schema, random.Random(seed))
        assert len(data) >= 4
        assert_valid(schema, data)


def test_tuple_items_and_additional_items_false() -> None:
    schema = {
        "type": "array",
        "items": [{"type": "integer"}, {"type": "string"}],
        "additionalItems": False,
    }
    for seed in range(30):
        data = generate_valid(schema, random.Random(seed))
        assert len(data) <= 2
        assert_valid(schema, data)


def test_optional_properties_sometimes_omitted() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
        "required": ["a"],
    }
    seen = {frozenset(generate_valid(schema, random.Random(s))) for s in range(100)}
    assert seen == {frozenset({"a"}), frozenset({"a", "b"})}
    always = generate_valid(schema, random.Random(0), omit_optional_probability=0.0)
    assert set(always) == {"a", "b"}
    never = generate_valid(schema, random.Random(0), omit_optional_probability=1.0)
    assert set(never) == {"a"}


def test_unsatisfiable_optional_property_is_left_out() -> None:
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "null"}, "bad": {"minimum": 5, "maximum": 1}},
    }
    for seed in range(20):
        data = generate_valid(schema, random.Random(seed), omit_optional_probability=0)
        assert data == {"ok": None}


def test_extra_keys_only_where_allowed() -> None:
    open_schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    closed_schema = {**open_schema, "additionalProperties": False}
    typed_extras = {**open_schema, "additionalProperties": {"type": "boolean"}}
    rng = random.Random(0)
    opened = generate_valid(open_schema, rng, extra_key_probability=1.0)
    assert any(key.startswith("extra_") for key in opened)
    closed = generate_valid(closed_schema, rng, extra_key_probability=1.0)
    assert set(closed) <= {"a"}
    for seed in range(20):
        data = generate_valid(typed_extras, random.Random(seed), extra_key_probability=1)
        assert_valid(typed_extras, data)


def test_required_key_outside_properties_uses_additional_properties() -> None:
    schema = {
        "type": "object",
        "required": ["x"],
        "additionalProperties": {"type": "integer", "minimum": 7},
    }
    for seed in range(20):
        data = generate_valid(schema, random.Random(seed))
        assert data["x"] >= 7


def test_same_seed_same_data() -> None:
    schema = {
        "type": "object",
        "properties": {
            "s": {"type": "string", "pattern": "^[a-z]{3,5}$"},
            "n": {"type": "number"},
            "l": {"type": "array", "items": {"type": "integer"}},
        },
    }
    first = generate_valid(schema, random.Random(42))
    assert generate_valid(schema, random.Random(42)) == first


def test_enum_and_const_values_are_copies() -> None:
    member = {"x": [1, 2]}
    schema = {"type": "object", "properties": {"e": {"enum": [member]}}, "required": ["e"]}
    data = generate_valid(schema, random.Random(0))
    data["e"]["x"].append(3)
    assert member == {"x": [1, 2]}


def test_enum_members_that_break_other_keywords_are_skipped() -> None:
    schema = {"type": "integer", "enum": [True, 1.5, "2", 3, 10], "maximum": 5}
    for seed in range(20):
        assert generate_valid(schema, random.Random(seed)) == 3


def test_boolean_schemas() -> None:
    schema = {"type": "object", "properties": {"any": True}, "required": ["any"]}
    assert "any" in generate_valid(schema, random.Random(0))


# ---------------------------------------------------------------------------
# Unsatisfiable and malformed schemas
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "integer", "minimum": 5, "maximum": 1}, "no integer"),
        ({"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 2}, "no integer"),
        ({"type": "number", "minimum": 5, "maximum": 1}, "no number"),
        ({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1}, "no number"),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "minLength 5"),
        ({"type": "array", "minItems": 3, "maxItems": 1}, "minItems 3"),
        ({"type": "string", "pattern": "^a$", "minLength": 2}, "pattern"),
        ({"type": "string", "pattern": r"^a\bb$"}, "pattern"),
        ({"type": "string", "pattern": "(unclosed"}, "invalid pattern"),
        ({"type": "string", "format": "date", "maxLength": 3}, "'date'"),
        ({"enum": []}, "enum"),
        ({"type": "string", "enum": [1, 2]}, "enum"),
        ({"const": 3, "minimum": 4}, "const"),
        ({"type": "colour"}, "unknown type"),
        ({"type": []}, "'type'"),
        ({"type": "integer", "minimum": "1"}, "must be a number"),
        ({"type": "string", "minLength": -1}, "non-negative"),
        (
            {"type": ["integer", "string"], "minimum": 3, "maximum": 2, "maxLength": -1},
            "none of the types",
        ),
        (
            {"type": "array", "items": {"enum": [1, 2]}, "minItems": 3,
             "uniqueItems": True},
            "distinct",
        ),
        (
            {"type": "array", "items": [{"type": "null"}], "additionalItems": False,
             "minItems": 2},
            "minItems 2",
        ),
        ({"type": "array", "items": False, "minItems": 1}, "'false'"),
    ],
)  # fmt: skip
def test_unsatisfiable_schemas_raise(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(UnsatisfiableSchemaError, match=re.escape(message)):
        generate_valid(schema, random.Random(0))


def test_unsatisfiable_error_names_the_place() -> None:
    # minItems: an empty array would be valid without looking at the items.
    moves = {"type": "array", "items": {"minLength": 3, "maxLength": 1}, "minItems": 1}
    schema = {"type": "object", "properties": {"moves": moves}, "required": ["moves"]}
    with pytest.raises(UnsatisfiableSchemaError) as info:
        generate_valid(schema, random.Random(0))
    assert info.value.path == "properties.moves.items"
    assert "properties.moves.items" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_required_property_forbidden_by_additional_properties() -> None:
    schema = {"type": "object", "required": ["x"], "additionalProperties": False}
    with pytest.raises(UnsatisfiableSchemaError, match="additionalProperties"):
        generate_valid(schema, random.Random(0))


def test_root_error_says_root() -> None:
    with pytest.raises(UnsatisfiableSchemaError, match="schema root"):
        generate_valid({"minimum": 1, "maximum": 0}, random.Random(0))


def test_empty_array_when_items_unsatisfiable() -> None:
    schema = {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 0}}
    assert generate_valid(schema, random.Random(0)) == []


# ---------------------------------------------------------------------------
# generate_invalid
# ---------------------------------------------------------------------------

RICH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z]{3,5}$"},
        "count": {"type": "integer", "minimum": 1, "maximum": 9},
        "colour": {"enum": ["red", "green", "blue"]},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "tags": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 4},
            "minItems": 1,
            "maxItems": 3,
        },
        "where": {
            "type": "object",
            "properties": {"x": {"type": "integer"}, "y": {"const": 0}},
            "required": ["x"],
            "additionalProperties": False,
        },
    },
    "required": ["name", "count", "where"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("kind", list(InvalidDataKind))
def test_each_kind_breaks_a_rich_schema(kind: InvalidDataKind) -> None:
    for seed in range(50):
        text = generate_invalid(RICH_SCHEMA, random.Random(seed), kind)
        assert text is not None
        if kind is InvalidDataKind.INVALID_JSON:
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)
        else:
            assert_invalid(RICH_SCHEMA, text)


@settings(max_examples=200, deadline=None)
@given(
    schema=action_schemas,
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(InvalidDataKind),
)
def test_invalid_data_fails_validation(
    schema: dict[str, Any], seed: int, kind: InvalidDataKind
) -> None:
    text = generate_invalid(schema, random.Random(seed), kind)
    if kind is InvalidDataKind.INVALID_JSON:
        assert text is not None
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    elif kind is InvalidDataKind.WRONG_TYPE:
        assert text is not None  # action schemas always say "type": "object"
        assert not isinstance(json.loads(text), dict)
        assert_invalid(schema, text)
    elif text is not None:
        assert_invalid(schema, text)
    elif kind is InvalidDataKind.MISSING_REQUIRED:
        assert "required" not in schema
    elif kind is InvalidDataKind.EXTRA_KEY:
        assert schema.get("additionalProperties") is not False


def test_kinds_that_do_not_apply_return_none() -> None:
    rng = random.Random(0)
    loose = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert generate_invalid(loose, rng, InvalidDataKind.MISSING_REQUIRED) is None
    assert generate_invalid(loose, rng, InvalidDataKind.EXTRA_KEY) is None
    assert generate_invalid(loose, rng, InvalidDataKind.OUT_OF_RANGE) is None
    assert generate_invalid({"properties": {}}, rng, InvalidDataKind.WRONG_TYPE) is None
    for kind in InvalidDataKind:
        text = generate_invalid(None, rng, kind)
        assert (text is None) is (kind is not InvalidDataKind.INVALID_JSON)


def test_out_of_range_may_fill_an_omitted_optional_property() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}}
    for seed in range(20):
        text = generate_invalid(schema, random.Random(seed), "out_of_range")
        assert text is not None
        assert json.loads(text)["n"] > 3


def test_nested_missing_required() -> None:
    schema = {
        "type": "object",
        "properties": {
            "inner": {
                "type": "object",
                "properties": {"k": {"type": "boolean"}},
                "required": ["k"],
            }
        },
    }
    for seed in range(20):
        text = generate_invalid(schema, random.Random(seed), "missing_required")
        if text is not None:  # "inner" itself is optional and may be missing
            assert json.loads(text) == {"inner": {}}
            assert_invalid(schema, text)


def test_kind_by_value_and_unknown_kind() -> None:
    rng = random.Random(0)
    assert generate_invalid(RICH_SCHEMA, rng, "extra_key") is not None
    with pytest.raises(ValueError, match="no_such_kind"):
        generate_invalid(RICH_SCHEMA, rng, "no_such_kind")


def test_invalid_needs_a_satisfiable_base() -> None:
    schema = {"type": "object", "required": ["x"], "additionalProperties": False}
    with pytest.raises(UnsatisfiableSchemaError):
        generate_invalid(schema, random.Random(0), InvalidDataKind.MISSING_REQUIRED)
    assert generate_invalid(schema, random.Random(0), "invalid_json") is not None


def test_free_text_reads_like_words_and_keeps_its_bounds() -> None:
    rng = random.Random(7)
    schema = {"type": "string", "minLength": 12, "maxLength": 30}
    texts = [generate_valid(schema, rng) for _ in range(200)]
    assert all(12 <= len(text) <= 30 for text in texts)
    assert all(not text.endswith(" ") and not text.startswith(" ") for text in texts)
    assert sum(" " in text for text in texts) > 150


# ---------------------------------------------------------------- free text


def _vocabulary() -> set[str]:
    pieces = [*datagen._SENTENCES, *datagen._WORDS]
    return {token.strip(".,!?").lower() for piece in pieces for token in piece.split()}


@pytest.mark.parametrize("min_len", [0, 1, 3, 7, 12, 25])
def test_free_text_is_whole_words_within_the_bounds(min_len: int) -> None:
    vocabulary = _vocabulary() | {""}  # "" for a text that is only "!" marks
    for max_len in range(min_len, min_len + 80, 3):
        schema = {"type": "string", "minLength": min_len, "maxLength": max_len}
        for seed in range(8):
            text = generate_valid(schema, random.Random(seed))
            assert min_len <= len(text) <= max_len, (schema, text)
            for token in text.split(" "):
                assert token.strip(".,!?").lower() in vocabulary, (schema, text)


def test_the_samples_taunts_are_readable_sentences() -> None:
    # The Connect Four sample's unforced action: a speech bubble of up to 100 characters.
    schema = {
        "type": "object",
        "properties": {"message": {"type": "string", "maxLength": 100}},
        "required": ["message"],
    }
    rng = random.Random(3)
    messages = [json.loads(action_data(schema, rng) or "")["message"] for _ in range(50)]
    sentences = set(datagen._SENTENCES)
    for message in messages:
        assert len(message) <= 100
        rest = message
        while rest:  # the message is whole sentences, one space apart
            sentence = next(s for s in sentences if rest.startswith(s))
            rest = rest[len(sentence) :].removeprefix(" ")
    assert sum(len(m) >= 20 for m in messages) > 25


# ---------------------------------------------------------------- action data


@pytest.mark.parametrize("schema", [None, {}, "not a schema", []])
def test_an_action_without_parameters_gets_no_data(schema: Any) -> None:
    for seed in range(20):
        assert action_data(schema, random.Random(seed)) is None


def test_action_data_is_always_an_object() -> None:
    schemas: list[dict[str, Any]] = [
        {"properties": {"x": {"type": "integer"}}},
        {"description": "only an annotation"},
        {"required": []},
    ]
    for schema in schemas:
        for seed in range(30):
            text = action_data(schema, random.Random(seed))
            assert text is not None
            assert isinstance(json.loads(text), dict), (schema, text)


def test_action_data_for_an_unsatisfiable_schema_is_an_empty_object(
    caplog: pytest.LogCaptureFixture,
) -> None:
    schema = {"type": "object", "properties": {"x": False}, "required": ["x"]}
    assert action_data(schema, random.Random(0)) == "{}"
    assert "cannot generate data" in caplog.text


# ---------------------------------------------------------------- one validator


def test_enum_members_are_judged_by_the_runtimes_validator() -> None:
    # The format is checked too (the runtime's validator checks it).
    schema = {"type": "string", "format": "date", "enum": ["soon", "2024-02-29", "later"]}
    assert {generate_valid(schema, random.Random(seed)) for seed in range(20)} == {"2024-02-29"}
    assert satisfies("2024-02-29", schema)
    assert not satisfies("soon", schema)


def test_a_draft4_sub_schema_is_judged_in_its_documents_dialect() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "properties": {
            "n": {"type": "integer", "enum": [1, 2, 3], "minimum": 1, "exclusiveMinimum": True}
        },
        "required": ["n"],
    }
    values = {generate_valid(schema, random.Random(seed))["n"] for seed in range(30)}
    assert values == {2, 3}


def test_satisfies_reports_a_schema_the_runtime_cannot_compile() -> None:
    with pytest.raises(UnsatisfiableSchemaError):
        satisfies(1, {"type": "integer", "minimum": "zero"})
