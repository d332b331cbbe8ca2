"""What a schema accepts, as a comparable string: refs inlined, words dropped.

Used to match oneOf/anyOf branches and to spot renamed components. Recursion is
cut with a placeholder that counts how far up the cycle closes, so the same
recursive shape under two names gets the same fingerprint.
"""

from __future__ import annotations

import json
from typing import Any

from ._resolve import Resolver, ref_of

DOC_KEYWORDS = frozenset(
    {"description", "summary", "title", "example", "examples", "externalDocs", "$comment"}
)
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs"})
SCHEMA_LISTS = frozenset({"allOf", "oneOf", "anyOf", "prefixItems"})
SCHEMA_VALUES = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "contains",
        "if",
        "then",
        "else",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
    }
)


def fingerprint(resolver: Resolver, schema: Any) -> str:
    canonical = _canon(resolver, schema, ())
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)


def _canon(resolver: Resolver, schema: Any, stack: tuple[str, ...]) -> Any:
    if not isinstance(schema, dict):
        return schema
    ref = ref_of(schema)
    if ref is not None:
        if ref in stack:
            return {"$cycle": len(stack) - stack.index(ref)}
        schema, _ = resolver.deref(schema)
        stack = (*stack, ref)
        if not isinstance(schema, dict):
            return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in DOC_KEYWORDS:
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _canon(resolver, sub, stack) for name, sub in value.items()}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_canon(resolver, sub, stack) for sub in value]
        elif key in SCHEMA_VALUES:
            out[key] = _canon(resolver, value, stack)
        else:
            out[key] = value
    return out
