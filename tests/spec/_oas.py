"""Helpers for the spec tests: cached documents and walks over operations and schemas."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

from valora_spec import _spec

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@functools.cache
def _cached(version: str) -> dict[str, Any]:
    return _spec.load_spec(version)


def load(version: str) -> dict[str, Any]:
    """A fresh copy of a version's document (tests may mutate it)."""
    return copy.deepcopy(_cached(version))


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of every operation, in document order."""
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def parameters(doc: dict[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    """The resolved parameters of an operation, path-level ones included."""
    item = doc["paths"][path]
    params = [_spec.deref(doc, p) for p in item.get("parameters", [])]
    params += [_spec.deref(doc, p) for p in item[method].get("parameters", [])]
    return params


def reachable_schemas(doc: dict[str, Any], roots: list[Any]) -> Iterator[dict[str, Any]]:
    """Every schema object reachable from `roots`, following `$ref`s (each visited once)."""
    seen_refs: set[str] = set()
    stack = list(roots)
    while stack:
        schema = stack.pop()
        if not isinstance(schema, dict):
            continue
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref not in seen_refs:
            seen_refs.add(ref)
            stack.append(_spec.resolve(doc, ref))
        yield schema
        for key in ("items", "additionalProperties", "not", "if", "then", "else", "contains",
                    "propertyNames", "unevaluatedItems", "unevaluatedProperties"):
            stack.append(schema.get(key))
        for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
            stack.extend(schema.get(key) or [])
        for key in ("properties", "patternProperties", "$defs"):
            stack.extend((schema.get(key) or {}).values())


def request_schemas(doc: dict[str, Any]) -> list[Any]:
    roots = []
    for _, _, op in operations(doc):
        body = _spec.deref(doc, op.get("requestBody", {}))
        roots += [media.get("schema") for media in body.get("content", {}).values()]
    return roots


def response_schemas(doc: dict[str, Any]) -> list[Any]:
    roots = []
    for _, _, op in operations(doc):
        for response in op["responses"].values():
            response = _spec.deref(doc, response)
            roots += [media.get("schema") for media in response.get("content", {}).values()]
    return roots
