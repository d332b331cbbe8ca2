"""The rules the PATCH releases 1.0.1, 1.1.1 and 1.2.1 wrote down, as the reference keeps them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from ref_helpers import (
    assert_problem,
    create,
    event,
    hour_start,
    iso,
    make_customer,
    make_meter,
    make_price,
    make_subscription,
    send_events,
    usage,
    utcnow,
)

from valora_spec.reference._numbers import numeric_value, string_form

NOT_NUMERIC = ["1e3", " 2.5", "2.5 ", "+1", ".5", "1.", "1_000", "1,5", "NaN", "Infinity", "٣",
               "0x10", "0.1234567890123", True, False, None]


@pytest.fixture
def window() -> tuple:
    end = hour_start(utcnow())
    return end - timedelta(hours=2), end


@pytest.mark.parametrize("raw", NOT_NUMERIC, ids=repr)
def test_only_json_numbers_and_the_decimal_grammar_are_numeric(raw: object) -> None:
    assert numeric_value(raw) is None


@pytest.mark.parametrize(("raw", "value"), [("2.5", "2.5"), ("-3", "-3"), ("007", "7"),
                                            ("0.123456789012", "0.123456789012"),
                                            (Decimal("1E-7"), "0.0000001"), (Decimal("1E+3"), "1000")])
def test_numeric_values(raw: object, value: str) -> None:
    number = numeric_value(raw)
    assert number is not None and Decimal(number.numerator) / number.denominator == Decimal(value)


@pytest.mark.parametrize(("raw", "form"), [(1, "1"), (Decimal("1.0"), "1"), (Decimal("1E+0"), "1"),
                                           ("1", "1"), ("1.0", "1.0"), (Decimal("-0.0"), "0"),
                                           (Decimal("2.50"), "2.5"), (True, "true"), (None, None),
                                           ({"a": 1}, None), ([1], None)])
def test_string_form(raw: object, form: str | None) -> None:
    assert string_form(raw) == form


def test_non_numeric_event_values_are_ignored(api: httpx.Client, window: tuple) -> None:
    start, end = window
    meters = {a: make_meter(api, aggregation=a) for a in ("SUM", "MAX", "COUNT")}
    for meter in meters.values():
        send_events(api, [event(meter, "c", start, n=2), event(meter, "c", start, n="3.5"),
                          event(meter, "c", start, n=1e-7)]
                    + [event(meter, "c", start, n=raw) for raw in NOT_NUMERIC])
    assert usage(api, meters["SUM"], "c", start, end)["value"] == "5.5000001"
    assert usage(api, meters["MAX"], "c", start, end)["value"] == "3.5"
    assert usage(api, meters["COUNT"], "c", start, end)["value"] == str(3 + len(NOT_NUMERIC))


def test_unique_count_by_string_form(api: httpx.Client, window: tuple) -> None:
    start, end = window
    meter = make_meter(api, aggregation="UNIQUE_COUNT")
    values = [1, 1.0, "1", "1.0", 2, "b", None]
    send_events(api, [event(meter, "c", start, n=v) for v in values] + [event(meter, "c", start)])
    # "1" (1, 1.0, "1"), "1.0", "2", "b"; null and missing are not counted
    assert usage(api, meter, "c", start, end)["value"] == "4"


def test_group_keys_in_code_point_order_null_last(api: httpx.Client, window: tuple) -> None:
    start, end = window
    meter = make_meter(api, aggregation="COUNT")
    keys = ["\U0001d7d8", "\ufffd", "é", "a", "Z", "10", "9"]
    send_events(api, [event(meter, "c", start, k=k) for k in keys]
                + [event(meter, "c", start, k=None), event(meter, "c", start),
                   event(meter, "c", start, k=1.0)])
    groups = usage(api, meter, "c", start, end, group_by="k")["groups"]
    assert [g["key"] for g in groups] == ["1", "10", "9", "Z", "a", "é", "\ufffd", "\U0001d7d8", None]
    assert groups[-1]["value"] == "2"


def test_at_most_1000_windows(api: httpx.Client) -> None:
    meter = make_meter(api, aggregation="COUNT")
    end = hour_start(utcnow())
    ok = usage(api, meter, "c", end - timedelta(hours=1000), end, window="HOUR")
    assert len(ok["rows"]) == 1000
    response = api.get(f"/meters/{meter['id']}/usage", params={
        "customer": "c", "from": iso(end - timedelta(hours=1001)), "to": iso(end), "window": "HOUR"})
    assert_problem(response, 400, "invalid_request")


def test_values_beyond_the_decimal_type_are_refused(api: httpx.Client, window: tuple) -> None:
    start, end = window
    meter = make_meter(api, aggregation="SUM")
    send_events(api, [event(meter, "c", start, n="90000000000000000000000000") for _ in range(2)])
    response = api.get(f"/meters/{meter['id']}/usage",
                       params={"customer": "c", "from": iso(start), "to": iso(end)})
    assert_problem(response, 400, "invalid_request")


def _invoice_for(api: httpx.Client, price: dict, meter: dict, values: list[object]) -> dict:
    customer = make_customer(api)
    end = hour_start(utcnow())
    start = end - timedelta(hours=1)
    send_events(api, [event(meter, customer["external_id"], start, n=v) for v in values])
    subscription = make_subscription(api, [price], customer=customer)
    return api.post("/invoices", json={"subscription_id": subscription["id"],
                                       "period_start": iso(start), "period_end": iso(end)})


@pytest.mark.parametrize(("usage_values", "amount"), [([-25], 0), ([-5], 0), ([0], 0), ([1], 500)])
def test_package_bills_nothing_for_quantities_of_zero_or_less(api: httpx.Client, usage_values: list,
                                                               amount: int) -> None:
    meter = make_meter(api, aggregation="SUM")
    price = make_price(api, model="package", package_size=10, package_amount=500, meter_id=meter["id"])
    reply = _invoice_for(api, price, meter, usage_values)
    assert reply.status_code == 201, reply.text
    assert reply.json()["lines"][0]["amount"] == amount


def test_total_is_never_negative(api: httpx.Client) -> None:
    meter = make_meter(api, aggregation="SUM")
    price = make_price(api, model="per_unit", unit_amount="3", meter_id=meter["id"])
    invoice = _invoice_for(api, price, meter, [-7]).json()
    assert invoice["lines"][0]["amount"] == -21
    assert (invoice["subtotal"], invoice["discount"], invoice["total"]) == (-21, 0, 0)


def test_amounts_beyond_int64_are_refused(api: httpx.Client) -> None:
    meter = make_meter(api, aggregation="SUM")
    price = make_price(api, model="per_unit", unit_amount="999999999999999", meter_id=meter["id"])
    reply = _invoice_for(api, price, meter, ["10000"])  # 9.99e18 > 2^63 - 1
    assert_problem(reply, 400, "invalid_request")


def test_email_format_is_an_annotation(api: httpx.Client) -> None:
    # matches the schema's pattern though not RFC 5321's dot-atom: valid (VAL-TIME-001)
    customer = create(api, "/customers", {"external_id": "dots", "name": "n", "email": "a..b@example.com"})
    assert customer["email"] == "a..b@example.com"
