"""Helpers for the reference server tests: keys, clients, builders, assertions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import httpx

ADMIN_A, READ_A, ADMIN_B = "key-admin-a", "key-read-a", "key-admin-b"
KEYS = [("org_a", "admin", ADMIN_A), ("org_a", "read_only", READ_A), ("org_b", "admin", ADMIN_B)]

_counter = itertools.count(1)


def unique(prefix: str = "x") -> str:
    """A name no other test uses on the shared servers."""
    return f"{prefix}{next(_counter):05d}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{moment.microsecond:06d}Z" if moment.microsecond else "Z"
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def client(base_url: str, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=base_url + "/v1", headers=headers, timeout=10)


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The response is problem+json with a consistent body (VAL-ERR-001..003)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("https://valora.dev/problems/")
    assert problem["title"] and problem["detail"]
    if code is not None:
        assert problem["code"] == code, problem
    return problem


def bad_param_names(response: httpx.Response) -> set[str]:
    problem = assert_problem(response, 400)
    return {param["name"] for param in problem["invalid_params"]}


# --- builders -------------------------------------------------------------------------------


def create(api: httpx.Client, path: str, body: dict, status: int = 201) -> dict:
    response = api.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def make_customer(api: httpx.Client, **fields: object) -> dict:
    body = {"external_id": unique("cust"), "name": "Acme", **fields}
    return create(api, "/customers", body)


def make_product(api: httpx.Client) -> dict:
    return create(api, "/products", {"name": unique("product")})


def make_meter(api: httpx.Client, aggregation: str = "SUM", **fields: object) -> dict:
    body: dict[str, object] = {
        "key": unique("meter"),
        "name": "API calls",
        "event_type": unique("evt.type"),
        "aggregation": aggregation,
    }
    if aggregation != "COUNT":
        body["value_property"] = "n"
    body.update(fields)
    return create(api, "/meters", body)


def make_price(api: httpx.Client, **fields: object) -> dict:
    """A price; a flat 1000 per month in EUR unless `fields` say otherwise."""
    body: dict[str, object] = {"currency": "EUR", "interval": "month", "model": "flat"}
    body.update(fields)
    if body["model"] == "flat":
        body.setdefault("flat_amount", 1000)
    if "product_id" not in body:
        body["product_id"] = make_product(api)["id"]
    return create(api, "/prices", body)


def make_subscription(
    api: httpx.Client, prices: list[dict], customer: dict | None = None,
    quantities: list[int] | None = None, **fields: object,
) -> dict:
    customer = customer or make_customer(api)
    quantities = quantities or [1] * len(prices)
    body = {
        "customer_id": customer["id"],
        "items": [{"price_id": p["id"], "quantity": q} for p, q in zip(prices, quantities, strict=True)],
        **fields,
    }
    return create(api, "/subscriptions", body)


def send_events(api: httpx.Client, events: list[dict]) -> dict:
    return create(api, "/events/batch", {"events": events}, status=202)


def event(meter: dict, customer: str, when: datetime, **data: object) -> dict:
    return {
        "id": unique("evt"),
        "type": meter["event_type"],
        "customer": customer,
        "time": iso(when),
        "data": data,
    }


def usage(api: httpx.Client, meter: dict, customer: str, start: datetime, end: datetime,
          **params: str) -> dict:
    response = api.get(
        f"/meters/{meter['id']}/usage",
        params={"customer": customer, "from": iso(start), "to": iso(end), **params},
    )
    assert response.status_code == 200, response.text
    return response.json()

