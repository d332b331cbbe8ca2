"""Prices, subscriptions and invoices (VAL-PRICE-*, VAL-SUB-*, VAL-INV-*, VAL-COUPON-*, VAL-CUST-001)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from ref_helpers import (
    assert_problem,
    bad_param_names,
    create,
    event,
    hour_start,
    iso,
    make_customer,
    make_meter,
    make_price,
    make_product,
    make_subscription,
    send_events,
    unique,
    utcnow,
)

WORKED_TIERS = [
    {"up_to": 100, "unit_amount": "0"},
    {"up_to": 1000, "unit_amount": "2"},
    {"up_to": None, "unit_amount": "1"},
]


def _invoice(api: httpx.Client, subscription: dict, start: datetime, end: datetime) -> dict:
    return create(api, "/invoices", {"subscription_id": subscription["id"],
                                     "period_start": iso(start), "period_end": iso(end)})


def _usage_invoice(api: httpx.Client, price_fields: dict, quantity: object) -> dict:
    """An invoice for one metered price over the last hour with `quantity` of usage."""
    meter = make_meter(api, aggregation="SUM")
    price = make_price(api, meter_id=meter["id"], **price_fields)
    customer = make_customer(api)
    end = hour_start(utcnow())
    start = end - timedelta(hours=1)
    send_events(api, [event(meter, customer["external_id"], start, n=quantity)])
    return _invoice(api, make_subscription(api, [price], customer=customer), start, end)


@pytest.mark.parametrize(("mode", "amount"), [("graduated", 2300), ("volume", 1500)])
def test_worked_tier_example(api: httpx.Client, mode: str, amount: int) -> None:
    invoice = _usage_invoice(api, {"model": "tiered", "tiers_mode": mode,
                                   "tiers": WORKED_TIERS}, 1500)
    assert invoice["lines"][0]["quantity"] == "1500"
    assert invoice["lines"][0]["amount"] == amount
    assert invoice["subtotal"] == invoice["total"] == amount


@pytest.mark.parametrize(
    ("fields", "quantity", "amount"),
    [
        ({"model": "per_unit", "unit_amount": "0.5"}, 5, 2),  # 2.5 -> 2 (half-even)
        ({"model": "per_unit", "unit_amount": "0.5"}, 7, 4),  # 3.5 -> 4
        ({"model": "per_unit", "unit_amount": "0.333333333333"}, "3", 1),
        ({"model": "per_unit", "unit_amount": "2"}, "2.25", 4),  # 4.5 -> 4
        ({"model": "tiered", "tiers_mode": "graduated",
          "tiers": [{"up_to": 10, "unit_amount": "1", "flat_amount": 100},
                    {"up_to": None, "unit_amount": "0.5", "flat_amount": 50}]}, 15, 162),  # 162.5
        ({"model": "tiered", "tiers_mode": "graduated",
          "tiers": [{"up_to": 10, "unit_amount": "1", "flat_amount": 100},
                    {"up_to": None, "unit_amount": "0.5", "flat_amount": 50}]}, 10, 110),
        ({"model": "tiered", "tiers_mode": "volume",
          "tiers": [{"up_to": 10, "unit_amount": "1", "flat_amount": 100},
                    {"up_to": None, "unit_amount": "0.5", "flat_amount": 50}]}, 15, 58),
        ({"model": "package", "package_size": 10, "package_amount": 300}, 21, 900),
        ({"model": "package", "package_size": 10, "package_amount": 300}, 20, 600),
    ],
)
def test_line_amounts(api: httpx.Client, fields: dict, quantity: object, amount: int) -> None:
    assert _usage_invoice(api, fields, quantity)["lines"][0]["amount"] == amount


def test_invoice_lines_and_totals(api: httpx.Client) -> None:
    meter = make_meter(api, aggregation="COUNT")
    metered = make_price(api, model="per_unit", unit_amount="3", meter_id=meter["id"])
    flat = make_price(api, flat_amount=999)
    seat = make_price(api, model="per_unit", unit_amount="250")
    customer = make_customer(api)
    end = hour_start(utcnow())
    start = end - timedelta(hours=2)
    send_events(api, [event(meter, customer["external_id"], start + timedelta(minutes=i))
                      for i in range(7)])
    subscription = make_subscription(api, [metered, flat, seat], customer=customer,
                                     quantities=[1, 2, 3])
    invoice = _invoice(api, subscription, start, end)
    assert invoice["status"] == "draft" and invoice["finalized_at"] is None
    assert invoice["customer_id"] == customer["id"] and invoice["currency"] == "EUR"
    assert (invoice["period_start"], invoice["period_end"]) == (iso(start), iso(end))
    assert [(line["price_id"], line["meter_id"], line["quantity"], line["amount"])
            for line in invoice["lines"]] == [
        (metered["id"], meter["id"], "7", 21), (flat["id"], None, "2", 1998),
        (seat["id"], None, "3", 750),
    ]
    assert all((line["period_start"], line["period_end"]) == (iso(start), iso(end))
               for line in invoice["lines"])
    assert invoice["subtotal"] == invoice["total"] == 21 + 1998 + 750
    assert invoice["rounding_mode"] == "half_even" and invoice["discount"] == 0
    assert_problem(_post_invoice(api, subscription, end, start), 400)
    assert_problem(_post_invoice(api, subscription, end, end), 400)


def _post_invoice(api: httpx.Client, subscription: dict, start: datetime, end: datetime
                  ) -> httpx.Response:
    return api.post("/invoices", json={"subscription_id": subscription["id"],
                                       "period_start": iso(start), "period_end": iso(end)})


def test_finalized_invoice_never_changes(api: httpx.Client) -> None:
    meter = make_meter(api, aggregation="SUM")
    price = make_price(api, model="per_unit", unit_amount="1", meter_id=meter["id"])
    customer = make_customer(api)
    end = hour_start(utcnow())
    start = end - timedelta(hours=1)
    send_events(api, [event(meter, customer["external_id"], start, n=5)])
    invoice = _invoice(api, make_subscription(api, [price], customer=customer), start, end)
    finalized = api.post(f"/invoices/{invoice['id']}/finalize").json()
    assert finalized["status"] == "open" and finalized["finalized_at"] is not None
    send_events(api, [event(meter, customer["external_id"], start, n=50)])
    again = api.get(f"/invoices/{invoice['id']}").json()
    assert again == finalized and again["lines"][0]["amount"] == 5
    assert_problem(api.patch(f"/invoices/{invoice['id']}", json={"memo": "x"}), 409,
                   "invoice_immutable")


@pytest.mark.parametrize(
    ("path", "allowed_from"),
    [("finalize", {"draft"}), ("mark_paid", {"open", "uncollectible"}),
     ("void", {"open", "uncollectible"}), ("mark_uncollectible", {"open"})],
)
def test_invoice_state_machine(api: httpx.Client, path: str, allowed_from: set[str]) -> None:
    subscription = make_subscription(api, [make_price(api)])
    end = hour_start(utcnow())
    routes = {"open": ["finalize"], "paid": ["finalize", "mark_paid"],
              "void": ["finalize", "void"], "uncollectible": ["finalize", "mark_uncollectible"],
              "draft": []}
    targets = {"finalize": "open", "mark_paid": "paid", "void": "void",
               "mark_uncollectible": "uncollectible"}
    for status, steps in routes.items():
        invoice = _invoice(api, subscription, end - timedelta(days=1), end)
        for step in steps:
            assert api.post(f"/invoices/{invoice['id']}/{step}").status_code == 200
        response = api.post(f"/invoices/{invoice['id']}/{path}")
        if status in allowed_from:
            assert response.status_code == 200 and response.json()["status"] == targets[path]
        else:
            assert_problem(response, 409, "invalid_state_transition")
            assert api.get(f"/invoices/{invoice['id']}").json()["status"] == status


def test_only_drafts_are_edited_or_deleted(api: httpx.Client) -> None:
    subscription = make_subscription(api, [make_price(api)])
    end = hour_start(utcnow())
    draft = _invoice(api, subscription, end - timedelta(days=1), end)
    edited = api.patch(f"/invoices/{draft['id']}", json={"memo": "PO 1", "metadata": {"a": "b"}})
    assert edited.json()["memo"] == "PO 1"
    assert api.get(f"/invoices/{draft['id']}").json()["metadata"] == {"a": "b"}
    assert api.delete(f"/invoices/{draft['id']}").status_code == 204
    assert_problem(api.get(f"/invoices/{draft['id']}"), 404, "not_found")
    final = _invoice(api, subscription, end - timedelta(days=1), end)
    api.post(f"/invoices/{final['id']}/finalize")
    assert_problem(api.delete(f"/invoices/{final['id']}"), 409, "invalid_state_transition")
    assert api.get(f"/invoices/{final['id']}").status_code == 200


def test_tiers_are_validated(api: httpx.Client) -> None:
    product = make_product(api)
    base = {"product_id": product["id"], "currency": "EUR", "interval": "month",
            "model": "tiered", "tiers_mode": "graduated"}
    cases = {
        "tiers[1].up_to": [{"up_to": 10, "unit_amount": "1"}, {"up_to": 10, "unit_amount": "1"},
                           {"up_to": None, "unit_amount": "1"}],
        "tiers[0].up_to": [{"up_to": None, "unit_amount": "1"}, {"up_to": None,
                                                                 "unit_amount": "1"}],
        "tiers[2].up_to": [{"up_to": 1, "unit_amount": "1"}, {"up_to": 5, "unit_amount": "1"},
                           {"up_to": 9, "unit_amount": "1"}],
    }
    for name, tiers in cases.items():
        assert bad_param_names(api.post("/prices", json={**base, "tiers": tiers})) == {name}
    assert api.post("/prices", json={**base, "tiers": WORKED_TIERS}).status_code == 201


def test_pricing_fields_are_immutable(api: httpx.Client) -> None:
    price = make_price(api, model="per_unit", unit_amount="2.50")
    assert price["unit_amount"] == "2.50"
    for change in ({"unit_amount": "3"}, {"currency": "USD"}, {"model": "flat"},
                   {"active": False, "tiers": []}):
        assert_problem(api.patch(f"/prices/{price['id']}", json=change), 400, "invalid_request")
    assert api.get(f"/prices/{price['id']}").json() == price
    updated = api.patch(f"/prices/{price['id']}", json={"active": False, "metadata": {"k": "v"}})
    assert updated.json() == {**price, "active": False, "metadata": {"k": "v"}}


def test_references_and_currencies(api: httpx.Client) -> None:
    assert_problem(api.post("/prices", json={"product_id": "prod_nope", "currency": "EUR",
                                             "interval": "month", "model": "flat",
                                             "flat_amount": 1}), 404)
    assert_problem(api.post("/prices", json={"product_id": make_product(api)["id"],
                                             "currency": "eur", "interval": "month",
                                             "model": "flat", "flat_amount": 1}), 400)
    eur, usd = make_price(api), make_price(api, currency="USD")
    yearly = make_price(api, interval="year")
    customer = make_customer(api)
    for second, name in ((usd, "items[1].price_id"), (yearly, "items[1].price_id")):
        body = {"customer_id": customer["id"],
                "items": [{"price_id": eur["id"]}, {"price_id": second["id"]}]}
        assert bad_param_names(api.post("/subscriptions", json=body)) == {name}
    for body in ({"customer_id": "cus_nope", "items": [{"price_id": eur["id"]}]},
                 {"customer_id": customer["id"], "items": [{"price_id": "price_nope"}]},
                 {"customer_id": customer["id"], "items": [{"price_id": eur["id"]}],
                  "coupon_id": "cpn_nope"}):
        assert_problem(api.post("/subscriptions", json=body), 404, "not_found")


def test_subscription_states_and_cancellation(api: httpx.Client) -> None:
    price = make_price(api)
    now = utcnow()
    pending = make_subscription(api, [price], start_at=iso(now + timedelta(days=3)))
    assert pending["status"] == "pending"
    active = make_subscription(api, [price], start_at=iso(now - timedelta(days=40)))
    assert active["status"] == "active" and active["cancel_at"] is None
    start = datetime.fromisoformat(active["current_period_start"])
    end = datetime.fromisoformat(active["current_period_end"])
    assert start <= now < end
    sub_path = f"/subscriptions/{active['id']}"
    assert_problem(api.post(f"{sub_path}/revoke_cancellation"), 409, "invalid_state_transition")
    scheduled = api.post(f"{sub_path}/cancel", json={"at_period_end": True}).json()
    assert scheduled["status"] == "active"
    assert scheduled["cancel_at"] == scheduled["current_period_end"]
    revoked = api.post(f"{sub_path}/revoke_cancellation").json()
    assert revoked["cancel_at"] is None and revoked["status"] == "active"
    canceled = api.post(f"{sub_path}/cancel").json()
    assert canceled["status"] == "canceled" and canceled["canceled_at"] is not None
    assert_problem(api.post(f"{sub_path}/cancel"), 409, "invalid_state_transition")
    assert_problem(api.post(f"{sub_path}/revoke_cancellation"), 409, "invalid_state_transition")
    assert api.get(sub_path).json() == canceled


def test_states_follow_the_clock(api: httpx.Client) -> None:
    price = make_price(api, interval="day")
    now = utcnow()
    pending = make_subscription(api, [price], start_at=iso(now + timedelta(seconds=1.5)))
    ending = make_subscription(api, [price],
                               start_at=iso(now - timedelta(days=1) + timedelta(seconds=1.5)))
    scheduled = api.post(f"/subscriptions/{ending['id']}/cancel",
                         json={"at_period_end": True}).json()
    assert pending["status"] == "pending" and scheduled["status"] == "active"
    time.sleep(1.6)
    assert api.get(f"/subscriptions/{pending['id']}").json()["status"] == "active"
    ended = api.get(f"/subscriptions/{ending['id']}").json()
    assert ended["status"] == "canceled" and ended["canceled_at"] == scheduled["cancel_at"]
    assert_problem(api.post(f"/subscriptions/{ending['id']}/revoke_cancellation"), 409,
                   "invalid_state_transition")


def test_monthly_periods_clamp_month_ends(api: httpx.Client) -> None:
    price = make_price(api)
    future = datetime(utcnow().year + 1, 1, 31, 12, 0, tzinfo=UTC)
    subscription = make_subscription(api, [price], start_at=iso(future))
    assert subscription["current_period_start"] == iso(future)
    assert subscription["current_period_end"].startswith(f"{future.year}-02-28T12:00:00") or \
        subscription["current_period_end"].startswith(f"{future.year}-02-29T12:00:00")


def test_trials_and_coupons(api: httpx.Client) -> None:
    flat = make_price(api, flat_amount=1000)
    per_unit = make_price(api, model="per_unit", unit_amount="33")
    coupon = create(api, "/coupons", {"code": unique("SAVE"), "name": "s", "percent_off": "12.5"})
    now = utcnow()
    start = now - timedelta(days=2)
    body_start = iso(start)
    assert bad_param_names(api.post("/subscriptions", json={
        "customer_id": make_customer(api)["id"], "items": [{"price_id": flat["id"]}],
        "start_at": body_start, "trial_end": body_start})) == {"trial_end"}
    subscription = make_subscription(api, [flat, per_unit], start_at=body_start,
                                     trial_end=iso(now + timedelta(days=5)),
                                     coupon_id=coupon["id"])
    assert subscription["status"] == "trialing" and subscription["coupon_id"] == coupon["id"]
    during = _invoice(api, subscription, start, now)
    assert [line["amount"] for line in during["lines"]] == [0, 33]
    after = _invoice(api, subscription, start, now + timedelta(days=6))
    assert [line["amount"] for line in after["lines"]] == [1000, 33]
    # 12.5 % of 1033 = 129.125 -> 129
    assert (after["subtotal"], after["discount"], after["total"]) == (1033, 129, 904)
    assert after["coupon_id"] == coupon["id"]
    assert_problem(api.delete(f"/coupons/{coupon['id']}"), 409, "resource_in_use")
    unused = create(api, "/coupons", {"code": unique("FREE"), "name": "f", "percent_off": "100"})
    assert api.get(f"/coupons/{unused['id']}").json() == unused
    assert api.delete(f"/coupons/{unused['id']}").status_code == 204
    assert_problem(api.get(f"/coupons/{unused['id']}"), 404, "not_found")


def test_discount_rounds_half_even(api: httpx.Client) -> None:
    price = make_price(api, flat_amount=5)
    coupon = create(api, "/coupons", {"code": unique("HALF"), "name": "h", "percent_off": "50"})
    subscription = make_subscription(api, [price], coupon_id=coupon["id"])
    end = hour_start(utcnow())
    invoice = _invoice(api, subscription, end - timedelta(days=1), end)
    assert (invoice["subtotal"], invoice["discount"], invoice["total"]) == (5, 2, 3)


def test_customers_in_use_cannot_be_deleted(api: httpx.Client) -> None:
    used = make_customer(api)
    make_subscription(api, [make_price(api)], customer=used)
    assert_problem(api.delete(f"/customers/{used['id']}"), 409, "resource_in_use")
    free = make_customer(api)
    assert api.delete(f"/customers/{free['id']}").status_code == 204
    assert_problem(api.get(f"/customers/{free['id']}"), 404, "not_found")


def test_created_resources_read_back_and_updates_stick(api: httpx.Client) -> None:
    customer = make_customer(api, email="billing@acme.example", metadata={"plan": "pro"})
    assert api.get(f"/customers/{customer['id']}").json() == customer
    updated = api.patch(f"/customers/{customer['id']}", json={"email": None, "name": "New"})
    assert updated.json() == {**customer, "email": None, "name": "New"}
    assert api.get(f"/customers/{customer['id']}").json() == updated.json()
    assert_problem(api.patch(f"/customers/{customer['id']}", json={"external_id": "x"}), 400)
    product = make_product(api)
    patched = api.patch(f"/products/{product['id']}",
                        json={"active": False, "description": "d"}).json()
    assert api.get(f"/products/{product['id']}").json() == patched == {
        **product, "active": False, "description": "d"}
    meter = make_meter(api)
    renamed = api.patch(f"/meters/{meter['id']}", json={"name": "Renamed"}).json()
    assert api.get(f"/meters/{meter['id']}").json() == renamed == {**meter, "name": "Renamed"}
    assert_problem(api.patch(f"/meters/{meter['id']}", json={"aggregation": "MAX"}), 400)


def test_list_filters(fresh_api: httpx.Client) -> None:
    api = fresh_api
    shared_email = "team@acme.example"
    with_email = [make_customer(api, email=shared_email) for _ in range(3)]
    make_customer(api, email="other@acme.example")
    found = api.get("/customers", params={"email": shared_email, "limit": 2}).json()
    second = api.get("/customers", params={"email": shared_email,
                                           "cursor": found["next_cursor"]}).json()
    assert [c["id"] for c in found["data"] + second["data"]] == [c["id"] for c in
                                                                 with_email[::-1]]
    product = make_product(api)
    active = make_price(api, product_id=product["id"])
    inactive = make_price(api, product_id=product["id"], active=False)
    make_price(api)
    assert [p["id"] for p in api.get("/prices", params={"product_id": product["id"]}).json()[
        "data"]] == [inactive["id"], active["id"]]
    assert [p["id"] for p in api.get("/prices", params={"product_id": product["id"],
                                                        "active": "true"}).json()["data"]] == [
        active["id"]]
    customer = with_email[0]
    now = utcnow()
    pending = make_subscription(api, [active], customer=customer,
                                start_at=iso(now + timedelta(days=1)))
    running = make_subscription(api, [active], customer=customer)
    other = make_subscription(api, [active])
    by_status = api.get("/subscriptions", params={"status": "pending"}).json()["data"]
    assert [s["id"] for s in by_status] == [pending["id"]]
    mine = api.get("/subscriptions", params={"customer_id": customer["id"],
                                             "status": "active"}).json()["data"]
    assert [s["id"] for s in mine] == [running["id"]]
    end = hour_start(now)
    draft = _invoice(api, other, end - timedelta(days=1), end)
    opened = _invoice(api, running, end - timedelta(days=1), end)
    api.post(f"/invoices/{opened['id']}/finalize")
    assert [i["id"] for i in api.get("/invoices", params={"status": "draft"}).json()[
        "data"]] == [draft["id"]]
    assert [i["id"] for i in api.get("/invoices", params={"customer_id": customer["id"]}).json()[
        "data"]] == [opened["id"]]
