"""schema.py: registration rules, unsupported-keyword detection, compiled validators."""

from __future__ import annotations

import collections
import threading
from typing import Any

import pytest

from neuro_bridge import schema as schema_module
from neuro_bridge.schema import (
    SAFE_KEYWORDS,
    UNSUPPORTED_KEYWORDS,
    InvalidSchemaError,
    SchemaValidationError,
    check_action_schema,
    compile_validator,
)

SPEC_UNSUPPORTED = {
    "$anchor",
    "$comment",
    "$defs",
    "$dynamicAnchor",
    "$dynamicRef",
    "$id",
    "$ref",
    "$schema",
    "$vocabulary",
    "additionalProperties",
    "allOf",
    "anyOf",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
    "dependentRequired",
    "dependentSchemas",
    "deprecated",
    "description",
    "else",
    "if",
    "maxProperties",
    "minProperties",
    "multipleOf",
    "not",
    "oneOf",
    "patternProperties",
    "readOnly",
    "then",
    "title",
    "unevaluatedItems",
    "unevaluatedProperties",
    "writeOnly",
}
SPEC_SAFE = {
    "type",
    "properties",
    "required",
    "enum",
    "const",
    "items",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
}


def test_keyword_sets_match_the_spec() -> None:
    assert SPEC_UNSUPPORTED | {"uniqueItems"} == UNSUPPORTED_KEYWORDS
    assert SPEC_SAFE == SAFE_KEYWORDS
    assert not SAFE_KEYWORDS & UNSUPPORTED_KEYWORDS


def test_safe_schema_has_nothing_to_report() -> None:
    schema = {
        "type": "object",
        "properties": {
            "column": {"type": "integer", "minimum": 0, "maximum": 6},
            "cards": {
                "type": "array",
                "items": {"type": "string", "enum": ["a", "b"]},
                "minItems": 1,
                "maxItems": 3,
            },
            "name": {"type": "string", "minLength": 1, "maxLength": 9, "pattern": "^[a-z]+$"},
            "mode": {"const": "fast"},
            "when": {"type": "string", "format": "date"},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        },
        "required": ["column"],
    }
    assert check_action_schema(schema) == []


def test_property_names_are_not_keywords() -> None:
    # Properties named like unsupported keywords are ordinary parameters.
    schema = {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in ["title", "description", "$ref", "not", "if", "allOf", "properties"]
        },
        "required": ["title", "description"],
    }
    assert check_action_schema(schema) == []


def test_values_are_not_keywords() -> None:
    schema = {
        "type": "object",
        "properties": {
            "choice": {"enum": ["title", "$ref", {"description": 1}]},
            "fixed": {"const": {"title": "x", "anyOf": []}},
        },
    }
    assert check_action_schema(schema) == []


def test_nested_property_named_properties() -> None:
    schema = {
        "type": "object",
        "properties": {
            "properties": {
                "type": "object",
                "properties": {"title": {"type": "string", "title": "The title"}},
            }
        },
    }
    assert check_action_schema(schema) == ["properties.properties.properties.title.title"]


def test_unsupported_keywords_found_with_paths_in_order() -> None:
    schema = {
        "type": "object",
        "title": "Pick",
        "description": "Pick a card",
        "additionalProperties": False,
        "properties": {
            "card": {"type": "string", "description": "which card"},
            "cards": {
                "type": "array",
                "uniqueItems": True,
                "items": {"anyOf": [{"type": "string"}, {"type": "integer", "multipleOf": 2}]},
            },
            "nested": {
                "type": "object",
                "properties": {"deep": {"type": "string", "$comment": "hi"}},
                "patternProperties": {"^x": {"title": "x"}},
            },
        },
    }
    assert check_action_schema(schema) == [
        "title",
        "description",
        "additionalProperties",
        "properties.card.description",
        "properties.cards.uniqueItems",
        "properties.cards.items.anyOf",
        "properties.cards.items.anyOf.1.multipleOf",
        "properties.nested.properties.deep.$comment",
        "properties.nested.patternProperties",
        "properties.nested.patternProperties.^x.title",
    ]


@pytest.mark.parametrize("keyword", sorted(UNSUPPORTED_KEYWORDS))
def test_each_unsupported_keyword_at_top_level(keyword: str) -> None:
    # A value fastjsonschema accepts (or ignores) for each keyword.
    values: dict[str, Any] = {
        "$defs": {},
        "additionalProperties": True,
        "allOf": [{}],
        "anyOf": [{}],
        "oneOf": [{}],
        "not": {"type": "string"},
        "if": {"required": ["x"]},  # fastjsonschema < 2.22 generates broken code for {}
        "then": {},
        "else": {},
        "dependentRequired": {},
        "dependentSchemas": {},
        "maxProperties": 5,
        "minProperties": 0,
        "multipleOf": 1,
        "patternProperties": {"^x": {"type": "string"}},
        "unevaluatedItems": {},
        "unevaluatedProperties": {},
        "contentSchema": {},
        "deprecated": False,
        "readOnly": False,
        "writeOnly": False,
        "uniqueItems": False,
        "$ref": "#",
        "$schema": "http://json-schema.org/draft-07/schema#",
    }
    schema = {"type": "object", keyword: values.get(keyword, "x")}
    assert check_action_schema(schema) == [keyword]


@pytest.mark.parametrize(
    "schema",
    [
        None,
        [],
        "object",
        {"type": "array"},
        {"type": "string"},
        {"type": ["object", "null"]},
        {"properties": {"x": {}}},
    ],
)
def test_not_an_object_schema(schema: Any) -> None:
    with pytest.raises(InvalidSchemaError):
        check_action_schema(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"x": {"type": "nonsense"}}},
        {"type": "object", "required": "x"},
        {"type": "object", "minProperties": "a"},
        {"type": "object", "properties": [1]},
        {"type": "object", "properties": {"x": {"pattern": "("}}},
        {"type": "object", "default": {1, 2}},
        {"type": "object", "enum": [float("inf")]},
        {"type": "object", "properties": {"x": {"const": object()}}},
        {"type": "object", 1: 2},
    ],
)
def test_invalid_schemas(schema: Any) -> None:
    with pytest.raises(InvalidSchemaError):
        check_action_schema(schema)


def test_invalid_schema_error_is_a_value_error() -> None:
    assert issubclass(InvalidSchemaError, ValueError)


# ---------------------------------------------------------------- validators


def test_validator_accepts_and_rejects() -> None:
    validate = compile_validator(
        {
            "type": "object",
            "properties": {"column": {"type": "integer", "minimum": 0, "maximum": 6}},
            "required": ["column"],
        }
    )
    validate({"column": 3})
    validate({"column": 3, "extra": "allowed without additionalProperties"})
    for bad in [{}, {"column": 7}, {"column": "3"}, {"column": True}, [], "x", None]:
        with pytest.raises(SchemaValidationError):
            validate(bad)


def test_compile_cache_reuses_equal_schemas() -> None:
    first = compile_validator({"type": "object", "properties": {"a": {"type": "string"}}})
    again = compile_validator({"properties": {"a": {"type": "string"}}, "type": "object"})
    other = compile_validator({"type": "object", "properties": {"a": {"type": "integer"}}})
    assert first is again
    assert first is not other


def test_compile_cache_is_keyed_by_content_not_identity() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "integer"}}}
    before = compile_validator(schema)
    schema["properties"]["n"]["type"] = "string"  # the caller mutates its dict
    after = compile_validator(schema)
    assert before is not after
    after({"n": "text"})
    with pytest.raises(SchemaValidationError):
        before({"n": "text"})


def test_compile_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # A game making a new schema every turn must not grow the cache without end.
    monkeypatch.setattr(schema_module, "_CACHE_SIZE", 4, raising=False)
    monkeypatch.setattr(schema_module, "_cache", collections.OrderedDict())
    kept = compile_validator({"type": "object", "properties": {"kept": {"type": "integer"}}})
    for turn in range(10):
        compile_validator({"type": "object", "properties": {"move": {"enum": [turn]}}})
        # Used every turn: stays cached.
        again = compile_validator({"properties": {"kept": {"type": "integer"}}, "type": "object"})
        assert again is kept
    assert len(schema_module._cache) == 4


def test_check_action_schema_compiles_once() -> None:
    schema = {"type": "object", "properties": {"zz_unique_for_cache": {"type": "boolean"}}}
    check_action_schema(schema)
    assert compile_validator(schema) is compile_validator(dict(schema))


def test_compile_from_threads_yields_one_validator() -> None:
    schema = {"type": "object", "properties": {"threaded_key_xyz": {"type": "number"}}}
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(compile_validator(schema))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 8
    assert all(result is results[0] for result in results)


# ------------------------------------------------ the same on every fastjsonschema release


def test_annotation_only_subschemas_compile_and_validate() -> None:
    # fastjsonschema 2.21 (Python 3.9) cannot compile an annotation-only sub-schema.
    validator = compile_validator(
        {
            "type": "object",
            "title": "a move",
            "properties": {
                "title": {"type": "string", "description": "a property named title"},
                "steps": {"type": "array", "items": {"description": "anything at all"}},
            },
            "required": ["title"],
        }
    )
    validator({"title": "x", "steps": [1, "two", None]})
    with pytest.raises(SchemaValidationError):
        validator({"steps": []})


def test_uuid_format_is_checked() -> None:
    validator = compile_validator(
        {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}}
    )
    validator({"id": "123e4567-e89b-12d3-a456-426614174000"})
    with pytest.raises(SchemaValidationError):
        validator({"id": "not-a-uuid"})


def test_unknown_format_is_accepted_unchecked() -> None:
    # fastjsonschema 2.22 ignores formats it does not know; 2.21 refused the schema.
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "neuro-mood"}}}
    assert check_action_schema(schema) == []
    compile_validator(schema)({"d": "anything"})


def test_an_empty_schema_is_valid() -> None:
    # The specification: "omit this field or set it to {}" for an action without parameters.
    assert check_action_schema({}) == []
