"""Operation-level conventions of the contract (DESIGN §3, issue "Foundation")."""

from __future__ import annotations

import re

import pytest

from valora_spec import _spec

from . import _oas
from .conftest import VERSIONS

CAMEL = re.compile(r"^[a-z][a-z0-9]*([A-Z][a-z0-9]*)*$")
PROBLEM_REF = "#/components/schemas/Problem"


def _op_ids(doc):
    return [op.get("operationId") for _, _, op in _oas.operations(doc)]


def test_operation_ids_are_unique_and_camel_case(doc):
    ids = _op_ids(doc)
    assert None not in ids
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not CAMEL.match(i)] == []


@pytest.mark.parametrize("old, new", list(zip(VERSIONS, VERSIONS[1:], strict=False)))
def test_operation_ids_are_stable_across_versions(old, new):
    """An operationId of version N names the same method and path in version N+1."""
    def index(version):
        return {op["operationId"]: (m, p) for p, m, op in _oas.operations(_oas.load(version))}

    before, after = index(old), index(new)
    changed = {i: (where, after.get(i)) for i, where in before.items() if after.get(i) != where}
    assert changed == {}


def test_every_operation_is_documented_tagged_and_secured(doc):
    tags = {tag["name"] for tag in doc.get("tags", [])}
    schemes = set(doc["components"]["securitySchemes"])
    problems = []
    for path, method, op in _oas.operations(doc):
        where = f"{method.upper()} {path}"
        for field in ("summary", "description"):
            if not str(op.get(field, "")).strip():
                problems.append(f"{where}: no {field}")
        if not op.get("tags") or set(op["tags"]) - tags:
            problems.append(f"{where}: tags {op.get('tags')} not among the declared {sorted(tags)}")
        security = op.get("security")
        if not security or any(not req or set(req) - schemes for req in security):
            problems.append(f"{where}: security {security} must name declared schemes")
    assert problems == []


def test_every_error_response_is_problem_json(doc):
    problems = []
    for path, method, op in _oas.operations(doc):
        for code, response in op["responses"].items():
            if not (code.startswith("4") or code.startswith("5") or code in ("4XX", "5XX")):
                continue
            content = _spec.deref(doc, response).get("content", {})
            schema = content.get("application/problem+json", {}).get("schema", {})
            if list(content) != ["application/problem+json"] or schema.get("$ref") != PROBLEM_REF:
                problems.append(f"{method.upper()} {path} {code}: {content}")
    assert problems == []


def test_every_operation_documents_the_errors_it_can_always_give(doc):
    """401 everywhere (secured), 403 on writes, 422 on POSTs (idempotency), 400, 429 and 500."""
    problems = []
    for path, method, op in _oas.operations(doc):
        expected = {"400", "401", "429", "500"}
        if method in ("post", "patch", "put", "delete"):
            expected.add("403")
        if method == "post":
            expected.add("422")
        missing = expected - set(op["responses"])
        if missing:
            problems.append(f"{method.upper()} {path}: missing {sorted(missing)}")
    assert problems == []


def test_401_carries_www_authenticate_and_429_retry_after(doc):
    responses = doc["components"]["responses"]
    assert "WWW-Authenticate" in responses["Unauthorized"]["headers"]
    assert "Retry-After" in responses["TooManyRequests"]["headers"]


def _is_list(doc, op):
    ok = _spec.deref(doc, op["responses"].get("200", {}))
    schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
    props = _spec.deref(doc, schema).get("properties", {})
    return {"data", "has_more", "next_cursor"} <= set(props)


def test_lists_are_cursor_paginated(doc):
    lists = [(p, m, op) for p, m, op in _oas.operations(doc) if m == "get" and _is_list(doc, op)]
    assert len(lists) >= 6
    named = {op["operationId"] for _, _, op in _oas.operations(doc)
             if op["operationId"].startswith("list")}
    assert named == {op["operationId"] for _, _, op in lists}
    problems = []
    for path, method, _ in lists:
        params = {(p["in"], p["name"]): p for p in _oas.parameters(doc, path, method)}
        limit, cursor = params.get(("query", "limit")), params.get(("query", "cursor"))
        if not limit or not cursor:
            problems.append(f"GET {path}: no limit/cursor query parameters")
            continue
        schema = _spec.deref(doc, limit["schema"])
        if (schema.get("minimum"), schema.get("maximum"), schema.get("default")) != (1, 100, 20):
            problems.append(f"GET {path}: limit is not 1-100, default 20")
    assert problems == []


def test_every_post_accepts_an_idempotency_key(doc):
    missing = []
    for path, method, _ in _oas.operations(doc):
        if method != "post":
            continue
        params = _oas.parameters(doc, path, method)
        if not any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in params):
            missing.append(path)
    assert missing == []


def test_every_create_links_to_operations_that_exist(doc):
    op_ids = {op["operationId"]: (path, method) for path, method, op in _oas.operations(doc)}
    problems = []
    creates = 0
    for path, method, op in _oas.operations(doc):
        created = op["responses"].get("201")
        if created is None:
            continue
        creates += 1
        links = _spec.deref(doc, created).get("links") or {}
        if not links:
            problems.append(f"{method.upper()} {path}: 201 without links")
        for name, link in links.items():
            link = _spec.deref(doc, link)
            target = op_ids.get(link.get("operationId"))
            if target is None:
                problems.append(f"{path} link {name}: no operation {link.get('operationId')}")
                continue
            names = {p["name"] for p in _oas.parameters(doc, *target)}
            unknown = set(link.get("parameters", {})) - names
            if unknown:
                problems.append(f"{path} link {name}: {sorted(unknown)} not target parameters")
    assert creates >= 6
    assert problems == []
