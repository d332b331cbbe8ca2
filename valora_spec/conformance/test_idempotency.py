"""Layer 3: Idempotency-Key replay, conflicts, tenant scope and concurrency."""

from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from valora_spec.conformance import _expect as expect
from valora_spec.conformance._factory import Factory
from valora_spec.conformance._http import Reply
from valora_spec.conformance._run import CheckRun

pytestmark = pytest.mark.writes
OP = "POST /v1/customers"


def _key() -> str:
    return "vc-idem-" + secrets.token_hex(8)


def _count(run: CheckRun, external_id: str) -> int:
    reply = run.api.get("/v1/customers", params={"limit": 100})
    return sum(1 for c in reply.json().get("data", []) if c.get("external_id") == external_id)


@pytest.mark.requirements("VAL-IDEM-001")
def test_same_key_same_body_replays(run: CheckRun, check, factory: Factory) -> None:
    body = {"external_id": factory.unique("idem"), "name": "Idempotent", "metadata": factory.metadata}
    key = _key()
    first = run.api.post("/v1/customers", body, headers={"Idempotency-Key": key})
    expect.status(check, "VAL-IDEM-001", first, 201, OP, "first request", stop=True)
    second = run.api.post("/v1/customers", body, headers={"Idempotency-Key": key})
    expect.status(check, "VAL-IDEM-001", second, 201, OP, "replay must repeat the stored status")
    replayed = expect.json_or_none(second)
    check.that("VAL-IDEM-001", replayed == first.json(),
               "the replayed body differs from the first response", operation=OP,
               expected=first.json(), observed=replayed if replayed is not None else second.content[:300],
               exchange=second.exchange)
    check.that("VAL-IDEM-001", second.headers.get("idempotent-replayed", "").lower() == "true",
               "replay without `Idempotent-Replayed: true`", operation=OP, expected="true",
               observed=second.headers.get("idempotent-replayed"), exchange=second.exchange)
    # the same JSON value written with its members in reverse order and other spacing (1.x.2)
    reordered = json.dumps(dict(reversed(body.items())), indent=1).encode()
    third = run.api.request("POST", "/v1/customers", content=reordered,
                            headers={"Idempotency-Key": key, "Content-Type": "application/json"})
    expect.status(check, "VAL-IDEM-001", third, 201, OP,
                  "replay of the same body with its members reordered and other whitespace")
    count = _count(run, body["external_id"])
    check.that("VAL-IDEM-001", count == 1, f"{count} customers after two replayed creates",
               operation=OP, expected=1, observed=count)


@pytest.mark.requirements("VAL-IDEM-002", "VAL-ERR-003")
def test_same_key_different_body_is_422(run: CheckRun, check, factory: Factory) -> None:
    key = _key()
    first = run.api.post("/v1/customers", {"external_id": factory.unique("idem"), "name": "A",
                          "metadata": factory.metadata},
                         headers={"Idempotency-Key": key})
    expect.status(check, "VAL-IDEM-002", first, 201, OP, "first request", stop=True)
    other = {"external_id": factory.unique("idem"), "name": "B", "metadata": factory.metadata}
    second = run.api.post("/v1/customers", other, headers={"Idempotency-Key": key})
    expect.status(check, "VAL-IDEM-002", second, 422, OP, "same key, different body")
    if second.status == 422:
        expect.problem_code(check, "VAL-ERR-003", second, "idempotency_key_reused", OP)
    count = _count(run, other["external_id"])
    check.that("VAL-IDEM-002", count == 0, "the conflicting request still created a customer",
               operation=OP, expected=0, observed=count)


def _products_named(run: CheckRun, client, name: str) -> int:
    reply = client.get("/v1/products", params={"limit": 100})
    return sum(1 for p in reply.json().get("data", []) if p.get("name") == name)


@pytest.mark.requirements("VAL-IDEM-003")
def test_keys_are_scoped_per_organization(run: CheckRun, check, factory: Factory, api_b) -> None:
    key = _key()
    body = {"name": factory.unique("shared-key"), "metadata": factory.metadata}  # no natural key
    first = run.api.post("/v1/products", body, headers={"Idempotency-Key": key})
    expect.status(check, "VAL-IDEM-003", first, 201, "POST /v1/products", "organization A",
                  stop=True)
    second = api_b.post("/v1/products", body, headers={"Idempotency-Key": key})
    expect.status(check, "VAL-IDEM-003", second, 201, "POST /v1/products",
                  "organization B, same key")
    count = _products_named(run, api_b, body["name"])
    check.that("VAL-IDEM-003", count == 1 and second.headers.get("idempotent-replayed", "") != "true",
               f"organization B's request replayed organization A's ({count} products in B)",
               operation="POST /v1/products", expected="a new product of B", observed=count,
               exchange=second.exchange)


@pytest.mark.requirements("VAL-IDEM-004")
def test_concurrent_requests_with_one_key_act_once(run: CheckRun, check, factory: Factory) -> None:
    key = _key()
    body = {"name": factory.unique("concurrent"), "metadata": factory.metadata}  # no natural key

    def send(_: int) -> Reply:
        return run.api.post("/v1/products", body, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(send, range(6)))
    statuses = sorted(r.status for r in replies)
    created = {r.json().get("id") for r in replies if r.status == 201}
    in_progress = all(expect.json_or_none(r) and r.json().get("code") ==
                      "idempotency_request_in_progress" for r in replies if r.status == 409)
    check.that("VAL-IDEM-004", all(s in (201, 409) for s in statuses) and len(created) == 1
               and in_progress,
               f"concurrent requests gave statuses {statuses} and {len(created)} distinct ids",
               operation="POST /v1/products",
               expected="one id; others replay (201) or 409 idempotency_request_in_progress",
               observed=statuses, exchange=replies[-1].exchange)
    count = _products_named(run, run.api, body["name"])
    check.that("VAL-IDEM-004", count == 1, f"{count} products created by one idempotency key",
               operation="POST /v1/products", expected=1, observed=count)


@pytest.mark.at_end
@pytest.mark.requirements("VAL-IDEM-001")
def test_the_runs_first_key_still_replays_at_its_end(run: CheckRun, check) -> None:
    """Keys replay for 24 hours, so for the whole run: the key probe's create, the run's first
    write, is sent again last, and no sooner than --replay-after seconds after it (a run longer
    than a server's prune interval or key lifetime is what shows a prune that deletes live keys)."""
    first = run.first_write
    if first is None:
        pytest.skip("the run's first write (the key probe) did not create its customer: nothing to replay")
    settings = run.settings
    wake = min(first.at + settings.replay_after,  # never past the deadline, with room for the rest
               settings.started + settings.deadline - 3 * settings.request_timeout)
    time.sleep(max(0.0, wake - time.monotonic()))
    age = f"{time.monotonic() - first.at:.0f} s after its first use"
    again = run.api.post("/v1/customers", first.body, headers={"Idempotency-Key": first.key})
    expect.status(check, "VAL-IDEM-001", again, first.reply.status, OP,
                  f"replay of the run's first key {age}")
    replayed, stored = expect.json_or_none(again), first.reply.json()
    check.that("VAL-IDEM-001", replayed == stored,
               f"the run's first key, replayed {age}, answers another body", operation=OP,
               expected=stored, observed=replayed if replayed is not None else again.content[:300],
               exchange=again.exchange)
