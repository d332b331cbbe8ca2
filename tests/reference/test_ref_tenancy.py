"""Tenant isolation and natural keys (VAL-AUTH-003, VAL-AUTH-004, VAL-NK-001, VAL-NK-002)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from ref_helpers import (
    assert_problem,
    create,
    event,
    make_customer,
    make_meter,
    make_price,
    make_subscription,
    send_events,
    unique,
    usage,
    utcnow,
)


def test_other_tenants_resources_are_404_and_unchanged(
    api: httpx.Client, api_b: httpx.Client
) -> None:
    customer = make_customer(api)
    meter = make_meter(api)
    price = make_price(api)
    subscription = make_subscription(api, [price])
    invoice = create(api, "/invoices", {
        "subscription_id": subscription["id"],
        "period_start": "2026-01-01T00:00:00Z", "period_end": "2026-02-01T00:00:00Z",
    })
    coupon = create(api, "/coupons", {"code": unique("C"), "name": "c", "percent_off": "10"})
    attempts = [
        api_b.get(f"/customers/{customer['id']}"),
        api_b.patch(f"/customers/{customer['id']}", json={"name": "stolen"}),
        api_b.delete(f"/customers/{customer['id']}"),
        api_b.get(f"/meters/{meter['id']}"),
        api_b.get(f"/meters/{meter['id']}/usage",
                  params={"customer": "x", "from": "2026-01-01T00:00:00Z",
                          "to": "2026-01-02T00:00:00Z"}),
        api_b.patch(f"/prices/{price['id']}", json={"active": False}),
        api_b.post(f"/subscriptions/{subscription['id']}/cancel"),
        api_b.post("/invoices", json={"subscription_id": subscription["id"],
                                      "period_start": "2026-01-01T00:00:00Z",
                                      "period_end": "2026-02-01T00:00:00Z"}),
        api_b.post(f"/invoices/{invoice['id']}/finalize"),
        api_b.delete(f"/invoices/{invoice['id']}"),
        api_b.delete(f"/coupons/{coupon['id']}"),
        api_b.post("/prices", json={"product_id": price["product_id"], "currency": "EUR",
                                    "interval": "month", "model": "flat", "flat_amount": 1}),
    ]
    for response in attempts:
        assert_problem(response, 404, "not_found")
    assert api.get(f"/customers/{customer['id']}").json()["name"] == "Acme"
    assert api.get(f"/prices/{price['id']}").json()["active"] is True
    assert api.get(f"/subscriptions/{subscription['id']}").json()["status"] == "active"
    assert api.get(f"/invoices/{invoice['id']}").json()["status"] == "draft"
    # Indistinguishable from an id that never existed.
    missing = api_b.get("/customers/cus_999999999999").json()
    foreign = api_b.get(f"/customers/{customer['id']}").json()
    assert missing["title"] == foreign["title"] and missing["code"] == foreign["code"]


def test_lists_and_usage_are_tenant_scoped(api: httpx.Client, api_b: httpx.Client) -> None:
    mine = make_customer(api)
    theirs = make_customer(api_b)
    ids_b = {c["id"] for c in api_b.get("/customers", params={"limit": 100}).json()["data"]}
    assert theirs["id"] in ids_b and mine["id"] not in ids_b
    meter_a = make_meter(api)
    meter_b = make_meter(api_b, event_type=meter_a["event_type"])
    now = utcnow()
    send_events(api, [event(meter_a, "shared-cust", now - timedelta(minutes=1), n=5)])
    send_events(api_b, [event(meter_b, "shared-cust", now - timedelta(minutes=1), n=7)])
    start, end = now - timedelta(hours=1), now + timedelta(minutes=1)
    assert usage(api, meter_a, "shared-cust", start, end)["value"] == "5"
    assert usage(api_b, meter_b, "shared-cust", start, end)["value"] == "7"


def test_natural_keys_unique_per_org_repeat_across_orgs(
    api: httpx.Client, api_b: httpx.Client
) -> None:
    external_id, key, code = unique("ext"), unique("key"), unique("CODE")
    bodies = {
        "/customers": {"external_id": external_id, "name": "A"},
        "/meters": {"key": key, "name": "m", "event_type": "e", "aggregation": "COUNT"},
        "/coupons": {"code": code, "name": "c", "percent_off": "5"},
    }
    for path, body in bodies.items():
        create(api, path, body)
        create(api_b, path, body)  # another organization may reuse it (VAL-NK-002)
        count_before = len(api.get(path, params={"limit": 100}).json()["data"])
        assert_problem(api.post(path, json=body), 409, "already_exists")
        assert len(api.get(path, params={"limit": 100}).json()["data"]) == count_before
