"""Action schemas: the rules checked at registration, and compiled validators.

Neuro describes an action's parameters with a JSON schema.  This module holds the
two halves of what a game does with one, both free of I/O:

* :func:`check_action_schema` -- at registration, make sure the schema is one Neuro
  can use (a JSON object schema, serialisable) and list the keywords Neuro is known
  to handle badly, so the game can warn its developer.
* :func:`compile_validator` -- once per distinct schema, build a fast validator for
  the data Neuro sends with an ``action``.  Validators come from
  :mod:`fastjsonschema` and are cached, so registering the same schema again (for
  example on every reconnect) costs nothing.

A keyword is only a keyword where it stands in a schema: a *property* named
``title`` inside ``properties`` is fine, ``"title": "..."`` beside ``"type"`` is not.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
from collections.abc import Mapping
from typing import Any, Callable, Final

import fastjsonschema

__all__ = [
    "SAFE_KEYWORDS",
    "UNSUPPORTED_KEYWORDS",
    "DataValidator",
    "InvalidSchemaError",
    "SchemaValidationError",
    "check_action_schema",
    "compile_validator",
]

logger = logging.getLogger(__name__)

#: Keywords Neuro is known to handle well.
SAFE_KEYWORDS = frozenset(
    {
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
)

#: Keywords Neuro does not support well; registration warns about each use.
#: ``uniqueItems`` is listed too: whether Neuro honours it is uncertain.
UNSUPPORTED_KEYWORDS = frozenset(
    {
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
        "uniqueItems",
    }
)

# Keywords whose value is a single sub-schema, a list of them, or a name -> schema map.
_SUBSCHEMA_KEYWORDS = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "unevaluatedItems",
        "unevaluatedProperties",
        "propertyNames",
        "contentSchema",
    }
)
_SUBSCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})
_SUBSCHEMA_MAP_KEYWORDS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)

#: A compiled validator: returns the (possibly defaulted) data or raises
#: :class:`SchemaValidationError`.
DataValidator = Callable[[Any], Any]

#: The exception a compiled validator raises for data that fails its schema.
SchemaValidationError = fastjsonschema.JsonSchemaValueException


class InvalidSchemaError(ValueError):
    """An action schema that Neuro cannot use (not a JSON object schema)."""


def check_action_schema(schema: object) -> list[str]:
    """Check that *schema* may be sent to Neuro as an action schema.

    Args:
        schema: The schema as the game wants to register it.

    Returns:
        The JSON-pointer-like paths (``"properties.x.anyOf"``) of every keyword in
        :data:`UNSUPPORTED_KEYWORDS`, in document order.  Empty when the schema only
        uses keywords Neuro handles well.

    An empty schema (``{}``) is valid: the specification allows it, like no schema
    at all, for an action without parameters.

    Raises:
        InvalidSchemaError: If the schema is not a mapping, it is not empty and its
            ``type`` is not ``"object"``, it does not serialise to JSON, or
            fastjsonschema cannot compile it.
    """
    if not isinstance(schema, Mapping):
        raise InvalidSchemaError(
            f"an action schema must be a JSON object (a dict), not {type(schema).__name__}"
        )
    if not schema:
        return []
    if schema.get("type") != "object":
        raise InvalidSchemaError(
            'an action schema must have "type": "object" at its top level'
            f" (got {schema.get('type')!r}); omit the schema if the action takes no"
            " parameters"
        )
    try:
        json.dumps(schema, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidSchemaError(f"the action schema is not valid JSON: {exc}") from exc
    compile_validator(schema)
    found: list[str] = []
    _collect_unsupported(schema, "", found)
    return found


def _collect_unsupported(schema: Mapping[str, Any], path: str, found: list[str]) -> None:
    for keyword, value in schema.items():
        here = f"{path}.{keyword}" if path else keyword
        if keyword in UNSUPPORTED_KEYWORDS:
            found.append(here)
        if keyword in _SUBSCHEMA_MAP_KEYWORDS and isinstance(value, Mapping):
            for name, sub in value.items():
                if isinstance(sub, Mapping):
                    _collect_unsupported(sub, f"{here}.{name}", found)
        elif keyword in _SUBSCHEMA_LIST_KEYWORDS and isinstance(value, list):
            for index, sub in enumerate(value):
                if isinstance(sub, Mapping):
                    _collect_unsupported(sub, f"{here}.{index}", found)
        elif keyword in _SUBSCHEMA_KEYWORDS and isinstance(value, Mapping):
            _collect_unsupported(value, here, found)


# The most recently used validators, oldest first.  Bounded: a game that builds a
# new schema every turn (an enum of the moves left, say) must not grow without end.
# Keywords that only describe: validation ignores them, and fastjsonschema 2.21
# (the release for Python 3.9) fails to compile a sub-schema made only of them.
_ANNOTATIONS: Final = frozenset({"title", "description", "$comment", "examples"})

# Formats every supported fastjsonschema release checks the same way; "uuid" is
# built in only from 2.22 on.
_EXTRA_FORMATS: Final[dict[str, str]] = {
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}


def _accept_any(value: object) -> bool:
    return True


def _without_annotations(schema: Any) -> Any:
    """Return a copy of *schema* without annotation keywords, at any depth."""
    if isinstance(schema, dict):
        copy = {}
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            if keyword in _SUBSCHEMA_MAP_KEYWORDS and isinstance(value, dict):
                copy[keyword] = {name: _without_annotations(sub) for name, sub in value.items()}
            elif keyword in _SUBSCHEMA_KEYWORDS or keyword in _SUBSCHEMA_LIST_KEYWORDS:
                copy[keyword] = _without_annotations(value)
            else:
                copy[keyword] = value
        return copy
    if isinstance(schema, list):
        return [_without_annotations(item) for item in schema]
    return schema


def _compile(schema: dict[str, Any]) -> DataValidator:
    """Compile with fastjsonschema; an unknown ``format`` is accepted unchecked."""
    formats: dict[str, Any] = dict(_EXTRA_FORMATS)
    while True:
        try:
            compiled: DataValidator = fastjsonschema.compile(schema, formats=formats)
        except fastjsonschema.JsonSchemaDefinitionException as exc:
            unknown = str(exc).partition("Unknown format: ")[2].strip()
            if unknown and unknown not in formats:
                # JSON Schema: a format a validator does not know is not checked.
                logger.warning("schema format %r is not checked", unknown)
                formats[unknown] = _accept_any
                continue
            raise InvalidSchemaError(
                f"the action schema is not a valid JSON schema: {exc}"
            ) from exc
        except Exception as exc:
            # A malformed schema can also make fastjsonschema raise re.error,
            # AttributeError, TypeError, ...
            raise InvalidSchemaError(
                f"the action schema is not a valid JSON schema: {exc}"
            ) from exc
        return compiled


_CACHE_SIZE: Final = 256
_cache: collections.OrderedDict[str, DataValidator] = collections.OrderedDict()
_cache_lock = threading.Lock()


def compile_validator(schema: Mapping[str, Any]) -> DataValidator:
    """Return a compiled validator for *schema*, reusing an earlier compilation.

    The cache is keyed by the schema's canonical JSON text, so equal schemas share
    one validator however often they are registered; it keeps the 256 most
    recently used ones.  Safe to call from any thread.

    Raises:
        InvalidSchemaError: If fastjsonschema rejects the schema itself.
    """
    try:
        key = json.dumps(schema, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:  # unserialisable value, or mixed key types
        raise InvalidSchemaError(f"the action schema is not valid JSON: {exc}") from exc
    with _cache_lock:
        validator = _cache.get(key)
        if validator is not None:
            _cache.move_to_end(key)
            return validator
    compiled = _compile(_without_annotations(json.loads(key)))
    with _cache_lock:
        validator = _cache.setdefault(key, compiled)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return validator
