"""Layer 4: authentication, roles and tenant isolation on every operation."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from valora_spec.conformance import _expect as expect
from valora_spec.conformance._factory import Factory, iso, now
from valora_spec.conformance._http import send_all
from valora_spec.conformance._requests import concrete
from valora_spec.conformance._run import CheckRun

pytestmark = pytest.mark.writes


@pytest.fixture
def owned(run: CheckRun) -> dict[str, str]:
    """One resource of each kind in organization A, and unique natural keys for bodies.

    Fresh for every check: a server that wrongly acts on one check's probes (deleting or
    finalizing) must not make the next check fail for a reason that is not its own.
    """
    make = Factory(run)
    customer = make.customer()
    meter = make.meter()
    product = make.product()
    price = make.price("flat", product_id=product["id"])
    sub = make.subscription(customer["id"], [price["id"]])
    invoice = make.draft_invoice()
    ids = {"customer_id": customer["id"], "meter_id": meter["id"], "product_id": product["id"],
           "price_id": price["id"], "subscription_id": sub["id"], "invoice_id": invoice["id"],
           "acme": make.unique("acme"), "api_calls": make.unique("key").lower(),
           "LAUNCH20": make.unique("C").upper().replace(".", "-")[:40]}
    if run.catalogue.operation(run.target_version, "createCoupon"):
        reply = run.api.post("/v1/coupons", {"code": make.unique("CPN").upper()[:40],
                                             "metadata": make.metadata,
                                             "name": "Conformance", "percent_off": "10"})
        if reply.status == 201:
            ids["coupon_id"] = reply.json()["id"]
    return ids


# RFC 9110 §11.6.1: one or more challenges, each an auth-scheme (case-insensitive) with optional
# parameters; only the `Bearer` scheme is stated, so its parameters and other challenges are free.
_BEARER = re.compile(r"(?:^|,)\s*bearer(?:\s|,|$)", re.IGNORECASE)


def bearer_challenge(header: str) -> bool:
    """Whether a WWW-Authenticate value (all its fields joined) holds a `Bearer` challenge."""
    return bool(_BEARER.search(header))


def _since(run: CheckRun, op: Any) -> str:
    """A failure on an operation counts against the versions that have it, no older ones."""
    return run.catalogue.introduced(op.operation_id)


def _ops(run: CheckRun) -> list[Any]:
    return run.catalogue.operations(run.target_version)


def _request(run: CheckRun, op: Any, owned: dict[str, str]) -> dict[str, Any]:
    """`Client.request` arguments for a call of `op` on the resources of `owned`."""
    path, query, body = concrete(op, run.catalogue.documents[run.target_version], owned)
    return {"method": op.method.upper(), "path": path, "params": query, "json_body": body}


def _bad_keys(run: CheckRun) -> dict[str, str | None]:
    return {"no key": None, "an unknown key": "vk_not_a_real_key_0000000000"}


@pytest.mark.requirements("VAL-AUTH-001")
def test_a_valid_key_outside_the_bearer_scheme_is_no_key(run: CheckRun, check) -> None:
    """The spec's security scheme is HTTP `bearer`: a real key sent in another scheme is not a
    bearer credential, so the request carries no API key and is answered 401."""
    for scheme in ("Token", "Basic"):
        reply = run.anonymous().request("GET", "/v1/customers", params={"limit": 1},
                                        headers={"Authorization": f"{scheme} {run.settings.api_key}"})
        check.that("VAL-AUTH-001", reply.status == 401,
                   f"the admin key in the {scheme} scheme was answered {reply.status}",
                   operation="GET /v1/customers", expected=401, observed=reply.status,
                   exchange=reply.exchange)


@pytest.mark.requirements("VAL-AUTH-001")
def test_every_operation_requires_a_valid_key(run: CheckRun, check, owned: dict[str, str]) -> None:
    # Each request is refused by a conforming server, so none depends on another: sent together.
    cases, calls = [], []
    for op in _ops(run):
        request = _request(run, op, owned)
        for what, key in _bad_keys(run).items():
            cases.append((op, what))
            calls.append((run.anonymous(key), request))
    replies = send_all(calls, run.settings.concurrency)
    for (op, what), reply in zip(cases, replies, strict=True):
        check.that("VAL-AUTH-001", reply.status == 401,
                   f"with {what} the operation answered {reply.status}",
                   operation=op.label, expected=401, observed=reply.status,
                   exchange=reply.exchange, version=_since(run, op))
        if reply.status == 401:
            challenge = ", ".join(reply.headers.get_list("www-authenticate"))
            check.that("VAL-AUTH-001", bearer_challenge(challenge),
                       "401 without a `WWW-Authenticate: Bearer` challenge",
                       operation=op.label, expected="Bearer", observed=challenge or "(absent)",
                       exchange=reply.exchange, version=_since(run, op))


@pytest.mark.requirements("VAL-AUTH-002")
def test_read_only_key_cannot_write(run: CheckRun, check, api_ro, owned: dict[str, str]) -> None:
    # a conforming server refuses every write, so no request depends on another: sent together
    ops = _ops(run)
    replies = api_ro.send_all([_request(run, op, owned) for op in ops], run.settings.concurrency)
    for op, reply in zip(ops, replies, strict=True):
        if op.writes:
            check.that("VAL-AUTH-002", reply.status == 403,
                       f"a read_only key got {reply.status} on a write", operation=op.label,
                       expected=403, observed=reply.status, exchange=reply.exchange,
                       version=_since(run, op))
        else:
            check.that("VAL-AUTH-002", 200 <= reply.status < 300,
                       f"a read_only key got {reply.status} on a read", operation=op.label,
                       expected="2xx", observed=reply.status, exchange=reply.exchange,
                       version=_since(run, op))
    # nothing changed: the draft invoice and the customer are still there
    for path in (f"/v1/invoices/{owned['invoice_id']}", f"/v1/customers/{owned['customer_id']}"):
        reply = run.api.get(path)
        check.that("VAL-AUTH-002", reply.status == 200,
                   "a write refused to the read_only key still changed data",
                   operation=f"GET {path}", expected=200, observed=reply.status,
                   exchange=reply.exchange)


@pytest.mark.requirements("VAL-AUTH-003")
def test_other_organizations_resources_are_not_found(run: CheckRun, check, api_b,
                                                     owned: dict[str, str]) -> None:
    # compared as JSON values: key order, whitespace and a time's spelling may differ per read
    kinds = [k for k in owned if k.endswith("_id")]
    reads = [{"method": "GET", "path": f"/v1/{k.removesuffix('_id')}s/{owned[k]}"} for k in kinds]
    before = {k: expect.json_or_none(reply)
              for k, reply in zip(kinds, run.api.send_all(reads, run.settings.concurrency), strict=True)}
    # a conforming server finds none of them for B, so none depends on another: sent together
    ops = [op for op in _ops(run) if "{" in op.path]
    replies = api_b.send_all([_request(run, op, owned) for op in ops], run.settings.concurrency)
    for op, reply in zip(ops, replies, strict=True):
        check.that("VAL-AUTH-003", reply.status == 404,
                   f"organization B reached organization A's resource ({reply.status})",
                   operation=op.label, expected=404, observed=reply.status,
                   exchange=reply.exchange, version=_since(run, op))
    after = run.api.send_all(reads, run.settings.concurrency)
    for content, read, reply in zip(before.values(), reads, after, strict=True):
        check.that("VAL-AUTH-003", expect.same_json(expect.json_or_none(reply), content),
                   "organization B's request changed organization A's resource",
                   operation=f"GET {read['path']}", expected="unchanged", observed="changed",
                   exchange=reply.exchange)


def _code(reply: Any) -> Any:
    body = expect.json_or_none(reply)
    return body.get("code") if isinstance(body, dict) else None


def _made_up(known: str) -> str:
    """An id in the shape of `known` that nobody was given: its last digit or letter changed to
    another of the same class (a hex digit stays one, so a UUID stays a UUID): a made-up id
    must fail only for not existing."""
    classes = ("0123456789", "abcdef", "ABCDEF", "ghijklmnopqrstuvwxyz", "GHIJKLMNOPQRSTUVWXYZ")
    for at in range(len(known) - 1, -1, -1):
        kind = next((k for k in classes if known[at] in k), None)
        if kind is not None:
            return known[:at] + kind[(kind.index(known[at]) + 1) % len(kind)] + known[at + 1:]
    return known + "0"


@pytest.mark.requirements("VAL-AUTH-003")
def test_other_organizations_ids_in_a_body_are_unknown(run: CheckRun, check, api_b,
                                                       owned: dict[str, str]) -> None:
    """Organization B's create naming one of A's resources in its body (everything else B's own)
    must not act, and must be answered as the same request naming an id that does not exist."""
    mine = Factory(run, api_b)
    customer, product = mine.customer(), mine.product()
    price = mine.price("flat", product_id=product["id"])
    end = now()
    price_of = {"currency": "EUR", "interval": "month", "metadata": mine.metadata}
    period = {"period_start": iso(end - timedelta(hours=1)), "period_end": iso(end)}
    items = [{"price_id": price["id"]}]
    cases: list[tuple[str, str, Callable[[str], dict[str, Any]]]] = [  # (A's id, path, B's body)
        ("product_id", "/v1/prices",
         lambda i: price_of | {"product_id": i, "model": "flat", "flat_amount": 100}),
        ("meter_id", "/v1/prices", lambda i: price_of | {"product_id": product["id"], "model": "per_unit",
                                                          "unit_amount": "1", "meter_id": i}),
        ("customer_id", "/v1/subscriptions", lambda i: {"customer_id": i, "items": items}),
        ("price_id", "/v1/subscriptions",
         lambda i: {"customer_id": customer["id"], "items": [{"price_id": i}]}),
        ("subscription_id", "/v1/invoices", lambda i: {"subscription_id": i} | period),
    ]
    if "coupon_id" in owned:
        cases.append(("coupon_id", "/v1/subscriptions",
                      lambda i: {"customer_id": customer["id"], "items": items, "coupon_id": i}))
    for kind, path, body in cases:
        # coupons came with 1.2: a failure there says nothing of the versions before
        version = run.catalogue.introduced("createCoupon") if kind == "coupon_id" else None
        foreign = api_b.post(path, body(owned[kind]))
        unknown = api_b.post(path, body(_made_up(owned[kind])))
        operation, what = f"POST {path}", f"organization B's {kind} naming organization A's"
        check.that("VAL-AUTH-003", not 200 <= foreign.status < 300,
                   f"{what}: answered {foreign.status}, it acted on another organization's resource",
                   operation=operation, expected="404, as for an id that does not exist",
                   observed=foreign.status, exchange=foreign.exchange, version=version)
        if 400 <= unknown.status < 500:  # else the made-up id was not unknown: nothing to compare
            seen, unseen = (foreign.status, _code(foreign)), (unknown.status, _code(unknown))
            check.that("VAL-AUTH-003", seen == unseen,
                       f"{what}: answered {seen}, but {unseen} for an id that does not exist",
                       operation=operation, expected=unseen, observed=seen, exchange=foreign.exchange,
                       version=version)


@pytest.mark.requirements("VAL-AUTH-004")
def test_lists_are_scoped_to_the_organization(run: CheckRun, check, api_b,
                                              owned: dict[str, str]) -> None:
    mine = set(owned.values())
    lists = [op for op in _ops(run)
             if op.method == "get" and "{" not in op.path and op.operation_id != "getMeta"]
    replies = api_b.send_all([{"method": "GET", "path": "/v1" + op.path, "params": {"limit": 100}}
                              for op in lists], run.settings.concurrency)  # reads: independent
    for op, reply in zip(lists, replies, strict=True):
        if reply.status != 200:
            continue  # judged by the schema checks
        leaked = [item.get("id") for item in reply.json().get("data", [])
                  if isinstance(item, dict) and item.get("id") in mine]
        check.that("VAL-AUTH-004", not leaked,
                   f"organization B's list shows organization A's {leaked}", operation=op.label,
                   expected="none of A's resources", observed=leaked, exchange=reply.exchange,
                   version=_since(run, op))


@pytest.mark.requirements("VAL-AUTH-005")
def test_valid_keys_are_accepted(run: CheckRun, check) -> None:
    clients = {"--api-key": run.api, "--api-key-b": run.api_b, "--read-only-key": run.api_ro}
    for option, client in clients.items():
        if client is None:
            continue
        reply = client.get("/v1/customers", params={"limit": 1})
        check.that("VAL-AUTH-005", 200 <= reply.status < 300,
                   f"the {option} key was refused ({reply.status})",
                   operation="GET /v1/customers", expected="2xx", observed=reply.status,
                   exchange=reply.exchange)
