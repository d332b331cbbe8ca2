"""Layer 2: resource workflows — create, read, update, delete — and natural keys."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any

import pytest

from valora_spec.conformance import _expect as expect
from valora_spec.conformance._factory import Factory, now, parse_time
from valora_spec.conformance._http import Exchange
from valora_spec.conformance._run import CheckRun

pytestmark = pytest.mark.writes


def _resources(make: Factory) -> dict[str, tuple[str, dict, dict, Exchange]]:
    """kind -> (collection path, created resource, a valid update, the creating exchange)."""
    made = {}
    for kind, create, update in (
        ("customers", make.customer, {"name": "Renamed", "email": None}),
        ("meters", make.meter, {"name": "Renamed meter"}),
        ("products", lambda: make.product(description="first"),
         {"description": "second", "active": False}),
        ("prices", lambda: make.price("per_unit", unit_amount="2.5"),
         {"active": False, "metadata": {"tier": "b"}}),
    ):
        created = create()
        made[kind] = (f"/v1/{kind}", created, update, make.last.exchange)
    return made


def _reflected(read: Any, sent: Any, name: str) -> bool:
    """Whether a read shows an updated field's new value. The spec does not say whether a
    `metadata` update replaces the map or merges into it, so only the pairs sent are required."""
    if name == "metadata" and isinstance(read, dict) and isinstance(sent, dict):
        return all(k in read and expect.same_json(read[k], v) for k, v in sent.items())
    return expect.same_json(read, sent)


@pytest.mark.requirements("VAL-CRUD-001", "VAL-ID-001", "VAL-TIME-001", "VAL-HTTP-004",
                          "VAL-COMPAT-001")
def test_created_resources_read_back_and_update(run: CheckRun, check, factory: Factory) -> None:
    resources = _resources(factory)
    check.that("VAL-HTTP-004", True, "", operation="POST (set-up)")
    ids = set()
    schemas = run.catalogue.documents[run.target_version]["components"]["schemas"]
    for kind, (path, created, update, exchange) in resources.items():
        rid = created.get("id")
        check.require("VAL-ID-001", isinstance(rid, str) and rid != "" and rid not in ids,
                      "id is not a unique non-empty string", operation=f"POST {path}",
                      expected="opaque unique id", observed=rid, exchange=exchange)
        ids.add(rid)
        schema = schemas[kind[:-1].capitalize()]
        missing = [f for f in schema.get("required", []) if f not in created]
        check.that("VAL-COMPAT-001", not missing, f"created {kind[:-1]} lacks {missing}",
                   operation=f"POST {path}", expected="every required field", observed=missing,
                   exchange=exchange)
        try:
            moment = parse_time(created["created_at"]) if "created_at" in created else None
        except (TypeError, ValueError):
            moment = None  # not a date-time at all
        check.that("VAL-TIME-001", moment is not None and moment.utcoffset() == UTC.utcoffset(None),
                   f"created_at {created.get('created_at')!r} is not UTC",
                   operation=f"POST {path}", expected="RFC 3339 UTC",
                   observed=created.get("created_at"), exchange=exchange)
        reply = run.api.get(f"{path}/{rid}")
        expect.status(check, "VAL-CRUD-001", reply, 200, f"GET {path}/{{id}}", stop=True)
        read = reply.json()
        differing = [k for k in created if k in read and not expect.same_json(read[k], created[k])]
        check.that("VAL-CRUD-001", not differing, f"read-back differs in {differing}",
                   operation=f"GET {path}/{{id}}", expected="the created values",
                   observed={k: read.get(k) for k in differing}, exchange=reply.exchange)
        reply = run.api.patch(f"{path}/{rid}", update)
        expect.status(check, "VAL-CRUD-001", reply, 200, f"PATCH {path}/{{id}}")
        reply = run.api.get(f"{path}/{rid}")
        read = reply.json() if reply.status == 200 else {}
        stale = [k for k, v in update.items() if not _reflected(read.get(k), v, k)]
        check.that("VAL-CRUD-001", not stale, f"update not reflected in {stale}",
                   operation=f"GET {path}/{{id}}", expected=update,
                   observed={k: read.get(k) for k in stale}, exchange=reply.exchange)
        check.that("VAL-ID-001", read.get("id") == rid, "the id changed after an update",
                   operation=f"GET {path}/{{id}}", expected=rid, observed=read.get("id"),
                   exchange=reply.exchange)


@pytest.mark.requirements("VAL-NK-001", "VAL-ERR-005", "VAL-ERR-003", "VAL-ERR-002")
def test_natural_keys_are_unique_per_organization(run: CheckRun, check, factory: Factory) -> None:
    customer = factory.customer()
    reply = run.api.post("/v1/customers", {"external_id": customer["external_id"], "name": "Twin",
                                           "metadata": factory.metadata})
    expect.status(check, "VAL-NK-001", reply, 409, "POST /v1/customers", "duplicate external_id")
    expect.status(check, "VAL-ERR-005", reply, 409, "POST /v1/customers")
    expect.problem_code(check, "VAL-ERR-003", reply, "already_exists", "POST /v1/customers")
    problem = expect.json_or_none(reply)
    if isinstance(problem, dict) and "status" in problem:
        check.that("VAL-ERR-002", problem["status"] == reply.status,
                   f"problem status {problem['status']!r} differs from HTTP {reply.status}",
                   operation="POST /v1/customers", expected=reply.status,
                   observed=problem["status"], exchange=reply.exchange)
    else:
        check.skip("VAL-ERR-002", "no problem status to compare (judged by VAL-ERR-001)")
    meter = factory.meter()
    reply = run.api.post("/v1/meters", {"key": meter["key"], "name": "Twin", "event_type": "x",
                                        "metadata": factory.metadata,
                                        "aggregation": "COUNT"})
    expect.status(check, "VAL-NK-001", reply, 409, "POST /v1/meters", "duplicate meter key")
    reply = run.api.get("/v1/customers", params={"limit": 100})
    twins = [c for c in reply.json().get("data", []) if c.get("external_id") == customer["external_id"]]
    check.that("VAL-NK-001", len(twins) == 1, f"{len(twins)} customers share one external_id",
               operation="GET /v1/customers", expected=1, observed=len(twins),
               exchange=reply.exchange)


@pytest.mark.requirements("VAL-NK-002")
def test_natural_keys_may_repeat_across_organizations(run: CheckRun, check, factory: Factory,
                                                     api_b) -> None:
    customer = factory.customer()
    reply = api_b.post("/v1/customers", {"external_id": customer["external_id"], "name": "B's",
                                         "metadata": factory.metadata})
    expect.status(check, "VAL-NK-002", reply, 201, "POST /v1/customers",
                  "organization B reusing A's external_id")


@pytest.mark.requirements("VAL-ERR-004", "VAL-MONEY-003")
def test_invalid_input_is_rejected_and_creates_nothing(run: CheckRun, check, factory: Factory) -> None:
    external_id = factory.unique("invalid")
    cases = [
        ("POST /v1/customers", "/v1/customers",
         {"external_id": external_id, "name": "", "email": "not-an-email"}, "VAL-ERR-004"),
        ("POST /v1/customers", "/v1/customers",
         {"external_id": external_id, "name": "X", "unknown_field": 1}, "VAL-ERR-004"),
        ("POST /v1/customers", "/v1/customers", {"external_id": external_id, "name": 42},
         "VAL-ERR-004"),
    ]
    product = factory.product()
    for currency in ("eur", "XYZ", "EURO"):
        cases.append(("POST /v1/prices", "/v1/prices",
                      {"product_id": product["id"], "currency": currency, "interval": "month",
                       "model": "flat", "flat_amount": 100}, "VAL-MONEY-003"))
    for operation, path, body, requirement in cases:
        reply = run.api.post(path, body)
        expect.status(check, requirement, reply, 400, operation, f"invalid body {body}")
        if requirement == "VAL-ERR-004" and reply.status == 400:
            problem = expect.json_or_none(reply)  # a non-JSON problem is judged by VAL-ERR-001
            params = problem.get("invalid_params") if isinstance(problem, dict) else None
            check.that("VAL-ERR-004", isinstance(params, list) and len(params) > 0
                       and all(isinstance(p, dict) and "name" in p and "reason" in p for p in params),
                       "400 without invalid_params [{name, reason}]", operation=operation,
                       expected="invalid_params", observed=params, exchange=reply.exchange)
            expect.problem_code(check, "VAL-ERR-004", reply, "invalid_request", operation)
    reply = run.api.post("/v1/customers", {"external_id": external_id, "name": "Now valid",
                                           "metadata": factory.metadata})
    expect.status(check, "VAL-ERR-004", reply, 201, "POST /v1/customers",
                  "a rejected request must not have created the customer")
    reply = run.api.request("POST", "/v1/customers", content=b"{not json",
                            headers={"Content-Type": "application/json"})
    expect.status(check, "VAL-ERR-004", reply, 400, "POST /v1/customers", "malformed JSON")
    # a path parameter is a parameter: an id longer than the Id schema's maxLength is invalid
    # input (400), not a resource that happens not to exist (404)
    reply = run.api.get(f"/v1/customers/{'c' * (_id_max_length(run) + 1)}")
    expect.status(check, "VAL-ERR-004", reply, 400, "GET /v1/customers/{customer_id}",
                  "a customer_id one character over the Id schema's maxLength")


def _id_max_length(run: CheckRun) -> int:
    schema = run.catalogue.documents[run.target_version]["components"]["schemas"].get("Id", {})
    return int(schema.get("maxLength", 64))


@pytest.mark.requirements("VAL-HTTP-004")
def test_json_with_a_charset_parameter_is_accepted(run: CheckRun, check, factory: Factory) -> None:
    """RFC 8259 defines no charset for application/json and says adding one has no effect on a
    compliant recipient: a valid body sent as `application/json; charset=utf-8` is valid."""
    body = {"external_id": factory.unique("charset"), "name": "Charset", "metadata": factory.metadata}
    reply = run.api.request("POST", "/v1/customers", content=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json; charset=utf-8"})
    expect.status(check, "VAL-HTTP-004", reply, 201, "POST /v1/customers",
                  "a valid body with Content-Type: application/json; charset=utf-8")


@pytest.mark.requirements("VAL-ERR-006")
def test_a_lone_surrogate_is_not_a_server_error(run: CheckRun, check, factory: Factory) -> None:
    """JSON text may escape a lone UTF-16 surrogate (`"\\ud800"`), which is no Unicode character:
    a server may refuse it (4xx) or take it, but must not fail (5xx)."""
    event = factory.event(factory.unique("c"), "surrogate", now() - timedelta(minutes=5), {"note": "\ud800"})
    for path, body in (("/v1/products", {"name": "Lone \ud800", "metadata": factory.metadata}),
                       ("/v1/events", event)):
        reply = run.api.request("POST", path, content=json.dumps(body).encode(),  # escaped: ASCII
                                headers={"Content-Type": "application/json"})
        check.that("VAL-ERR-006", reply.status < 500,
                   f"a body holding the string \"\\ud800\" was answered {reply.status}",
                   operation=f"POST {path}", expected="a 2xx or 4xx", observed=reply.status,
                   exchange=reply.exchange)


@pytest.mark.requirements("VAL-CUST-001", "VAL-ERR-005")
def test_customer_deletion(run: CheckRun, check, factory: Factory) -> None:
    lonely = factory.customer()
    reply = run.api.delete(f"/v1/customers/{lonely['id']}")
    expect.status(check, "VAL-CUST-001", reply, 204, "DELETE /v1/customers/{id}")
    reply = run.api.get(f"/v1/customers/{lonely['id']}")
    expect.status(check, "VAL-CUST-001", reply, 404, "GET /v1/customers/{id}", "after deletion")
    busy = factory.customer()
    factory.subscription(busy["id"], [factory.price()["id"]])
    reply = run.api.delete(f"/v1/customers/{busy['id']}")
    expect.status(check, "VAL-CUST-001", reply, 409, "DELETE /v1/customers/{id}",
                  "customer with a subscription")
    expect.status(check, "VAL-ERR-005", reply, 409, "DELETE /v1/customers/{id}")
    expect.problem_code(check, "VAL-CUST-001", reply, "resource_in_use", "DELETE /v1/customers/{id}")
    # a canceled subscription is still one of the customer's subscriptions
    ended = factory.customer()
    sub = factory.subscription(ended["id"], [factory.price()["id"]])
    cancel = run.api.post(f"/v1/subscriptions/{sub['id']}/cancel", {})
    expect.status(check, "VAL-CUST-001", cancel, 200, "POST /v1/subscriptions/{id}/cancel", stop=True)
    reply = run.api.delete(f"/v1/customers/{ended['id']}")
    expect.status(check, "VAL-CUST-001", reply, 409, "DELETE /v1/customers/{id}",
                  "customer whose only subscription is canceled")
