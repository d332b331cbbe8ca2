"""Idempotency keys (VAL-IDEM-001..004)."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
from ref_helpers import (
    assert_problem,
    client,
    event,
    iso,
    make_meter,
    make_price,
    make_subscription,
    unique,
    utcnow,
)


def _customer_count(api: httpx.Client, external_id: str) -> int:
    pages = api.get("/customers", params={"limit": 100}).json()["data"]
    return sum(1 for c in pages if c["external_id"] == external_id)


def test_replay_returns_stored_answer_and_acts_once(api: httpx.Client) -> None:
    key, body = unique("idem"), {"external_id": unique("ext"), "name": "Acme"}
    first = api.post("/customers", json=body, headers={"Idempotency-Key": key})
    again = api.post("/customers", json=dict(reversed(body.items())),
                     headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert _customer_count(api, body["external_id"]) == 1


def test_same_key_with_other_body_is_422(api: httpx.Client) -> None:
    key = unique("idem")
    api.post("/products", json={"name": "a"}, headers={"Idempotency-Key": key})
    response = api.post("/products", json={"name": "b"}, headers={"Idempotency-Key": key})
    assert_problem(response, 422, "idempotency_key_reused")


def test_keys_are_scoped_per_org_and_per_path(api: httpx.Client, api_b: httpx.Client) -> None:
    key = unique("idem")
    a = api.post("/products", json={"name": "p"}, headers={"Idempotency-Key": key})
    b = api_b.post("/products", json={"name": "p"}, headers={"Idempotency-Key": key})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"] and "idempotent-replayed" not in b.headers
    c = api.post("/customers", json={"external_id": unique(), "name": "p"},
                 headers={"Idempotency-Key": key})
    assert c.status_code == 201 and "idempotent-replayed" not in c.headers


def test_actions_and_errors_replay(api: httpx.Client) -> None:
    subscription = make_subscription(api, [make_price(api)])
    path = f"/subscriptions/{subscription['id']}/cancel"
    key = unique("idem")
    first = api.post(path, headers={"Idempotency-Key": key})
    again = api.post(path, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    # Without the key the second cancel is the 409 it is.
    assert_problem(api.post(path), 409, "invalid_state_transition")
    missing = {"customer_id": "cus_nope", "items": [{"price_id": "price_nope"}]}
    key = unique("idem")
    assert_problem(api.post("/subscriptions", json=missing, headers={"Idempotency-Key": key}), 404)
    replay = api.post("/subscriptions", json=missing, headers={"Idempotency-Key": key})
    assert_problem(replay, 404, "not_found")
    assert replay.headers["idempotent-replayed"] == "true"


def test_invalid_key_header_is_400(api: httpx.Client) -> None:
    for bad in ("", "a b", "x" * 256):
        response = api.post("/products", json={"name": "p"}, headers={"Idempotency-Key": bad})
        assert_problem(response, 400, "invalid_request")


def test_concurrent_requests_with_one_key_act_once(base_url: str, api: httpx.Client) -> None:
    meter = make_meter(api, aggregation="COUNT")
    key, external_id = unique("idem"), unique("ext")
    body = {"external_id": external_id, "name": "Race"}
    ev = event(meter, "racer", utcnow() - timedelta(seconds=5))
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def hammer() -> None:
        with client(base_url, "key-admin-a") as own:
            for _ in range(3):
                got = [own.post("/customers", json=body, headers={"Idempotency-Key": key}),
                       own.post("/events", json=ev, headers={"Idempotency-Key": key})]
                with lock:
                    results.extend(got)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 48
    customers = [r for r in results if r.request.url.path.endswith("/customers")]
    created = [r for r in customers if "idempotent-replayed" not in r.headers]
    assert len(created) <= 1
    for response in customers:
        assert response.status_code in (201, 409), response.text
        if response.status_code == 409:
            assert response.json()["code"] == "idempotency_request_in_progress"
    assert len({r.json()["id"] for r in customers if r.status_code == 201}) == 1
    assert _customer_count(api, external_id) == 1
    window = {"customer": "racer", "from": iso(utcnow() - timedelta(hours=1)),
              "to": iso(utcnow() + timedelta(minutes=1))}
    assert api.get(f"/meters/{meter['id']}/usage", params=window).json()["value"] == "1"


def test_concurrent_creates_never_double_create(base_url: str, api: httpx.Client) -> None:
    external_ids = [unique("race") for _ in range(5)]
    statuses: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        with client(base_url, "key-admin-a") as own:
            for external_id in external_ids:
                status = own.post("/customers", json={"external_id": external_id,
                                                      "name": "R"}).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 5 + [409] * 25
    for external_id in external_ids:
        assert _customer_count(api, external_id) == 1
