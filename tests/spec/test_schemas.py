"""Schema conventions: names, open responses, closed requests, times and enums."""

from __future__ import annotations

import re

from valora_spec import _spec

from . import _oas

PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
TIME_PROPERTY = re.compile(r"(_at|_start|_end)$|^(from|to|time)$")


def test_component_names_are_pascal_case(doc):
    kinds = ("schemas", "responses", "parameters", "headers", "requestBodies", "examples", "links")
    bad = [f"{kind}/{name}" for kind in kinds
           for name in doc["components"].get(kind, {}) if not PASCAL.match(name)]
    assert bad == []


def test_properties_are_snake_case(doc):
    bad = [f"{_spec.pointer(*path)}/properties/{name}"
           for path, schema in _spec.iter_schemas(doc)
           for name in schema.get("properties") or {} if not SNAKE.match(name)]
    assert bad == []


def test_query_and_path_parameters_are_snake_case(doc):
    bad = [f"{method.upper()} {path} {p['name']}"
           for path, method, _ in _oas.operations(doc)
           for p in _oas.parameters(doc, path, method)
           if p["in"] in ("query", "path") and not SNAKE.match(p["name"])]
    assert bad == []


def test_resources_are_named_components(doc):
    """Request and response bodies refer to a named schema; no anonymous inline objects."""
    inline = []
    for path, method, op in _oas.operations(doc):
        bodies = [_spec.deref(doc, op.get("requestBody", {}))]
        bodies += [_spec.deref(doc, r) for r in op["responses"].values()]
        for body in bodies:
            for media in body.get("content", {}).values():
                if "$ref" not in media.get("schema", {}):
                    inline.append(f"{method.upper()} {path}")
    assert inline == []


def test_response_objects_are_open_for_extension(doc):
    closed = [s for s in _oas.reachable_schemas(doc, _oas.response_schemas(doc))
              if s.get("additionalProperties") is False or s.get("unevaluatedProperties") is False]
    assert closed == []


def test_request_bodies_are_closed(doc):
    """Every object schema with properties in a request body rejects unknown members."""
    open_objects = [sorted(s["properties"])
                    for s in _oas.reachable_schemas(doc, _oas.request_schemas(doc))
                    if "properties" in s and s.get("additionalProperties") is not False]
    assert open_objects == []


def test_response_enums_are_extensible(doc):
    """A closed `enum` in a response would make every new value a breaking change."""
    closed = [s["enum"] for s in _oas.reachable_schemas(doc, _oas.response_schemas(doc))
              if "enum" in s]
    assert closed == []


def test_times_are_date_time(doc):
    problems = []
    for path, schema in _spec.iter_schemas(doc):
        for name, prop in (schema.get("properties") or {}).items():
            if not TIME_PROPERTY.search(name):
                continue
            target = _spec.resolve(doc, prop["$ref"]) if "$ref" in prop else prop
            if target.get("type") != "boolean" and target.get("format") != "date-time":
                problems.append(f"{_spec.pointer(*path)}/properties/{name}")
    assert problems == []


def test_billed_amounts_are_integers(doc):
    problems = []
    for path, schema in _spec.iter_schemas(doc):
        for name in ("amount", "subtotal", "total", "flat_amount"):
            prop = (schema.get("properties") or {}).get(name)
            if prop is None:
                continue
            target = _spec.resolve(doc, prop["$ref"]) if "$ref" in prop else prop
            types = target.get("type")
            if "integer" not in (types if isinstance(types, list) else [types]):
                problems.append(f"{_spec.pointer(*path)}/properties/{name}")
    assert problems == []
