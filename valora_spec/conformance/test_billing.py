"""Layer 3: pricing arithmetic and invoice totals, checked against the oracle."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from valora_spec.conformance import _expect as expect
from valora_spec.conformance import _oracle as oracle
from valora_spec.conformance._factory import Factory, now, settle_usage
from valora_spec.conformance._run import CheckRun

pytestmark = pytest.mark.writes
INVOICE = "POST /v1/invoices"
DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]{1,12})?$")
WORKED_TIERS = [{"up_to": 100, "unit_amount": "0"}, {"up_to": 1000, "unit_amount": "2"},
                {"up_to": None, "unit_amount": "1"}]
FLAT_TIERS = [{"up_to": 10, "unit_amount": "1", "flat_amount": 100},
              {"up_to": None, "unit_amount": "2", "flat_amount": 50}]


class Billing:
    """One customer subscribed to several prices, with metered usage in a past period."""

    def __init__(self, run: CheckRun, make: Factory,
                 prices: list[tuple[dict[str, Any], Decimal | None, int]], *, numbers: bool = False) -> None:
        """prices: (price fields, metered usage or None, item quantity). Usage is sent as decimal
        strings, or with `numbers` as JSON numbers: both are numeric (VAL-METER-006)."""
        self.run, self.make = run, make
        self.customer = make.customer()
        self.start = now().replace(minute=0, second=0) - timedelta(hours=4)
        self.end = self.start + timedelta(hours=2)
        product = make.product()
        self.items: list[dict[str, Any]] = []
        events = []
        for fields, usage, quantity in prices:
            fields = dict(fields)
            if usage is not None:
                meter = make.meter("SUM")
                fields["meter_id"] = meter["id"]
                events.append(make.event(self.customer["external_id"], meter["event_type"],
                                         self.start + timedelta(minutes=30),
                                         {"value": _json_number(usage) if numbers else str(usage)}))
                # outside the period: must not be billed
                events.append(make.event(self.customer["external_id"], meter["event_type"],
                                         self.end + timedelta(minutes=1), {"value": "999"}))
            model = fields.pop("model")
            price = make.price(model, product_id=product["id"], **fields)
            self.items.append({"price": price, "usage": usage, "quantity": quantity})
        if events:
            make.ingest(events)
        self.subscription = make.create("/v1/subscriptions", {
            "customer_id": self.customer["id"], "metadata": make.metadata,
            "items": [{"price_id": i["price"]["id"], "quantity": i["quantity"]} for i in self.items],
        })

    def generate(self) -> Any:
        settle_usage(self.run)
        return self.run.api.post("/v1/invoices", {
            "subscription_id": self.subscription["id"],
            "period_start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "period_end": self.end.strftime("%Y-%m-%dT%H:%M:%SZ")})


def _json_number(value: Decimal) -> int | float:
    """`value` as a JSON number (only values a binary float holds exactly are used)."""
    number = int(value) if value == value.to_integral_value() else float(value)
    assert Decimal(repr(number)) == value, value
    return number


def _check_invoice(check, billing: Billing, reply: Any, price_requirement: str) -> dict:
    expect.status(check, "VAL-INV-001", reply, 201, INVOICE, stop=True)
    invoice = expect.json_object(check, "VAL-INV-001", reply, INVOICE)
    ex = reply.exchange
    check.that("VAL-INV-001", invoice.get("status") == "draft"
               and invoice.get("customer_id") == billing.customer["id"]
               and invoice.get("currency") == "EUR",
               "a generated invoice is not a draft of the subscription's customer and currency",
               operation=INVOICE, expected={"status": "draft", "currency": "EUR"},
               observed={k: invoice.get(k) for k in ("status", "customer_id", "currency")},
               exchange=ex)
    lines = invoice.get("lines") or []
    check.require("VAL-INV-002", len(lines) == len(billing.items),
                  f"{len(lines)} lines for {len(billing.items)} subscription items",
                  operation=INVOICE, expected=len(billing.items), observed=len(lines), exchange=ex)
    for line, item in zip(lines, billing.items, strict=True):
        price = item["price"]
        check.that("VAL-INV-002", line.get("price_id") == price["id"],
                   "lines are not one per item in item order", operation=INVOICE,
                   expected=price["id"], observed=line.get("price_id"), exchange=ex)
        quantity = item["usage"] if item["usage"] is not None else Decimal(item["quantity"])
        check.that("VAL-INV-003", oracle.same_decimal(line.get("quantity"), quantity),
                   f"line quantity {line.get('quantity')!r}, expected {quantity}",
                   operation=INVOICE, expected=str(quantity), observed=line.get("quantity"),
                   exchange=ex)
        check.that("VAL-MONEY-002", isinstance(line.get("quantity"), str)
                   and bool(DECIMAL.match(line["quantity"])), "quantity is not a decimal string",
                   operation=INVOICE, expected="decimal string", observed=line.get("quantity"),
                   exchange=ex)
        want = oracle.line_amount(price, quantity)
        amount = line.get("amount")
        check.that("VAL-MONEY-001", isinstance(amount, int) and not isinstance(amount, bool),
                   "line amount is not an integer of minor units", operation=INVOICE,
                   expected="integer", observed=amount, exchange=ex)
        requirement = price_requirement
        if price["model"] == "per_unit":
            # off by less than one minor unit: rounded the wrong way (VAL-MONEY-004); further off,
            # the per-unit arithmetic itself is wrong (VAL-PRICE-001)
            exact = oracle.exact_line_amount(price, quantity)
            rounding = isinstance(amount, int) and abs(amount - exact) < 1
            requirement = "VAL-MONEY-004" if rounding else "VAL-PRICE-001"
        check.that(requirement, amount == want,
                   f"{price['model']} line for quantity {quantity}: amount {amount!r}, "
                   f"oracle {want}", operation=INVOICE, expected=want, observed=amount,
                   exchange=ex)
    amounts = [line.get("amount") for line in lines]
    subtotal = sum(a for a in amounts if isinstance(a, int))
    check.that("VAL-INV-004", invoice.get("subtotal") == subtotal,
               f"subtotal {invoice.get('subtotal')!r} ≠ Σ line amounts {subtotal}",
               operation=INVOICE, expected=subtotal, observed=invoice.get("subtotal"), exchange=ex)
    # these subscriptions have no coupon: the discount is 0 (absent before 1.2)
    check.that("VAL-INV-004", invoice.get("discount", 0) == 0,
               f"discount {invoice.get('discount')!r} on an invoice without a coupon", operation=INVOICE,
               expected=0, observed=invoice.get("discount"), exchange=ex)
    want_total = oracle.total(invoice.get("subtotal") or 0)
    check.that("VAL-INV-004", invoice.get("total") == want_total,
               f"total {invoice.get('total')!r} ≠ max(0, subtotal) without a coupon", operation=INVOICE,
               expected=want_total, observed=invoice.get("total"), exchange=ex)
    check.that("VAL-MONEY-004", invoice.get("rounding_mode") == "half_even",
               "rounding_mode is not half_even", operation=INVOICE, expected="half_even",
               observed=invoice.get("rounding_mode"), exchange=ex)
    return invoice


@pytest.mark.requirements("VAL-INV-001", "VAL-INV-002", "VAL-INV-003", "VAL-INV-004",
                          "VAL-PRICE-001", "VAL-PRICE-002", "VAL-MONEY-001", "VAL-MONEY-002",
                          "VAL-MONEY-004")
def test_invoice_lines_and_totals(run: CheckRun, check, factory: Factory) -> None:
    billing = Billing(run, factory, [
        ({"model": "flat", "flat_amount": 1999}, None, 3),
        ({"model": "per_unit", "unit_amount": "2.5"}, None, 1),      # 2.5 -> 2 (half-even)
        ({"model": "per_unit", "unit_amount": "3.5"}, None, 1),      # 3.5 -> 4
        ({"model": "per_unit", "unit_amount": "12.5"}, Decimal(7), 1),  # 87.5 -> 88
        ({"model": "tiered", "tiers_mode": "graduated", "tiers": WORKED_TIERS}, Decimal(1500), 1),
        ({"model": "tiered", "tiers_mode": "volume", "tiers": WORKED_TIERS}, Decimal(1500), 1),
        ({"model": "tiered", "tiers_mode": "graduated", "tiers": FLAT_TIERS}, Decimal(15), 1),
        ({"model": "tiered", "tiers_mode": "volume", "tiers": FLAT_TIERS}, Decimal("7.5"), 1),
    ])
    invoice = _check_invoice(check, billing, billing.generate(), "VAL-PRICE-002")
    flat = invoice["lines"][0]
    check.that("VAL-PRICE-001", flat.get("amount") == 1999 * 3, "flat amount × quantity",
               operation=INVOICE, expected=1999 * 3, observed=flat.get("amount"))
    for price in (i["price"] for i in billing.items if i["price"]["model"] == "per_unit"):
        check.that("VAL-MONEY-002", isinstance(price.get("unit_amount"), str)
                   and bool(DECIMAL.match(price["unit_amount"])),
                   "unit_amount is not a decimal string", operation="POST /v1/prices",
                   expected="decimal string", observed=price.get("unit_amount"))


@pytest.mark.requirements("VAL-PRICE-005")
@pytest.mark.parametrize("usage", [Decimal(25), Decimal(30), Decimal("0.5"), Decimal(0), Decimal(-25)])
def test_package_pricing(run: CheckRun, check, factory: Factory, usage: Decimal) -> None:
    """ceil(quantity / package_size) × package_amount; no package for a quantity ≤ 0. Usage is
    sent as JSON numbers here (the other billing checks send decimal strings)."""
    package = {"model": "package", "package_size": 10, "package_amount": 500}
    probe = run.api.post("/v1/prices", {"product_id": factory.product()["id"], "currency": "EUR",
                                        "metadata": factory.metadata,
                                        "interval": "month"} | package)
    expect.status(check, "VAL-PRICE-005", probe, 201, "POST /v1/prices", "a package price",
                  stop=True)
    billing = Billing(run, factory, [(package, usage, 1)], numbers=True)
    reply = billing.generate()
    expect.status(check, "VAL-PRICE-005", reply, 201, INVOICE, stop=True)
    line = (reply.json().get("lines") or [{}])[0]
    want = oracle.line_amount(billing.items[0]["price"], usage)
    check.that("VAL-PRICE-005", line.get("amount") == want,
               f"package line for quantity {usage}: {line.get('amount')!r}, oracle {want}",
               operation=INVOICE, expected=want, observed=line.get("amount"),
               exchange=reply.exchange)


@pytest.mark.requirements("VAL-INV-001", "VAL-INV-002", "VAL-INV-003", "VAL-INV-004", "VAL-PRICE-001",
                          "VAL-MONEY-001", "VAL-MONEY-002", "VAL-MONEY-004")
def test_total_is_never_negative(run: CheckRun, check, factory: Factory) -> None:
    """Negative usage bills a negative line; the total is max(0, subtotal − discount)."""
    billing = Billing(run, factory, [({"model": "per_unit", "unit_amount": "3"}, Decimal(-7), 1),
                                     ({"model": "flat", "flat_amount": 5}, None, 1)], numbers=True)
    # each line against the oracle, the subtotal against the lines, the total against max(0, ·):
    # a line billed wrong is blamed on its price, not on the totals that follow from it
    _check_invoice(check, billing, billing.generate(), "VAL-PRICE-001")


@pytest.mark.requirements("VAL-PRICE-003")
def test_tiers_are_validated(run: CheckRun, check, factory: Factory) -> None:
    product = factory.product()
    bad_tiers = {
        "not increasing": [{"up_to": 100, "unit_amount": "1"}, {"up_to": 50, "unit_amount": "1"},
                           {"up_to": None, "unit_amount": "1"}],
        "equal bounds": [{"up_to": 100, "unit_amount": "1"}, {"up_to": 100, "unit_amount": "1"},
                         {"up_to": None, "unit_amount": "1"}],
        "open in the middle": [{"up_to": None, "unit_amount": "1"},
                               {"up_to": 100, "unit_amount": "1"}],
        "last not open": [{"up_to": 10, "unit_amount": "1"}, {"up_to": 100, "unit_amount": "1"}],
    }
    for what, tiers in bad_tiers.items():
        reply = run.api.post("/v1/prices", {"product_id": product["id"], "currency": "EUR",
                                            "interval": "month", "model": "tiered",
                                            "tiers_mode": "graduated", "tiers": tiers})
        expect.status(check, "VAL-PRICE-003", reply, 400, "POST /v1/prices", f"tiers {what}")


@pytest.mark.requirements("VAL-PRICE-004")
def test_pricing_fields_are_immutable(run: CheckRun, check, factory: Factory) -> None:
    price = factory.price("per_unit", unit_amount="3")
    for change in ({"unit_amount": "9"}, {"currency": "USD"}, {"model": "flat"}):
        reply = run.api.patch(f"/v1/prices/{price['id']}", change)
        expect.status(check, "VAL-PRICE-004", reply, 400, "PATCH /v1/prices/{id}",
                      f"changing {next(iter(change))}")
    reply = run.api.get(f"/v1/prices/{price['id']}")
    now_price = reply.json() if reply.status == 200 else {}
    changed = [k for k in ("unit_amount", "currency", "model") if now_price.get(k) != price.get(k)]
    check.that("VAL-PRICE-004", not changed, f"pricing fields changed: {changed}",
               operation="GET /v1/prices/{id}", expected="unchanged",
               observed={k: now_price.get(k) for k in changed}, exchange=reply.exchange)


@pytest.mark.requirements("VAL-SUB-006")
def test_trials(run: CheckRun, check, factory: Factory) -> None:
    customer = factory.customer()
    price = factory.price("flat", flat_amount=2500)
    start = now() - timedelta(hours=2)
    trial_end = now() + timedelta(days=7)
    reply = run.api.post("/v1/subscriptions", {
        "customer_id": customer["id"], "items": [{"price_id": price["id"]}],
        "metadata": factory.metadata,
        "start_at": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "trial_end": trial_end.strftime("%Y-%m-%dT%H:%M:%SZ")})
    expect.status(check, "VAL-SUB-006", reply, 201, "POST /v1/subscriptions", "with trial_end",
                  stop=True)
    sub = reply.json()
    check.that("VAL-SUB-006", sub.get("status") == "trialing", f"status {sub.get('status')!r}",
               operation="POST /v1/subscriptions", expected="trialing", observed=sub.get("status"),
               exchange=reply.exchange)
    invoice = factory.invoice(sub["id"], start, now())
    amounts = [line.get("amount") for line in invoice.get("lines", [])]
    check.that("VAL-SUB-006", amounts == [0], f"flat line amounts {amounts} during the trial",
               operation=INVOICE, expected=[0], observed=amounts)
    ended = factory.subscription(customer["id"], [price["id"]],
                                 start_at=(start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 trial_end=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    check.that("VAL-SUB-006", ended.get("status") == "active",
               f"status {ended.get('status')!r} after trial_end: trialing only until then",
               operation="POST /v1/subscriptions", expected="active", observed=ended.get("status"))


@pytest.mark.requirements("VAL-COUPON-001", "VAL-COUPON-002", "VAL-COUPON-003")
def test_coupons(run: CheckRun, check, factory: Factory) -> None:
    code = factory.unique("CPN").upper().replace(".", "-")[:40]
    reply = run.api.post("/v1/coupons", {"code": code, "name": "Conformance", "percent_off": "12.5",
                                         "metadata": factory.metadata})
    expect.status(check, "VAL-COUPON-001", reply, 201, "POST /v1/coupons", stop=True)
    coupon = reply.json()
    got = run.api.get(f"/v1/coupons/{coupon['id']}")
    expect.status(check, "VAL-COUPON-001", got, 200, "GET /v1/coupons/{id}")
    listed = run.api.get("/v1/coupons", params={"limit": 100})
    ids = [c.get("id") for c in listed.json().get("data", [])] if listed.status == 200 else []
    check.that("VAL-COUPON-001", coupon["id"] in ids, "a new coupon is not listed",
               operation="GET /v1/coupons", expected=coupon["id"], observed=ids[:5])
    customer = factory.customer()
    price = factory.price("flat", flat_amount=1001)
    reply = run.api.post("/v1/subscriptions", {"customer_id": customer["id"],
                                               "metadata": factory.metadata,
                                               "items": [{"price_id": price["id"]}],
                                               "coupon_id": coupon["id"]})
    expect.status(check, "VAL-COUPON-002", reply, 201, "POST /v1/subscriptions", "with coupon_id",
                  stop=True)
    sub = reply.json()
    check.that("VAL-COUPON-002", sub.get("coupon_id") == coupon["id"],
               "the subscription does not carry its coupon", operation="POST /v1/subscriptions",
               expected=coupon["id"], observed=sub.get("coupon_id"), exchange=reply.exchange)
    end = now()
    invoice = factory.invoice(sub["id"], end - timedelta(hours=1), end)
    check.that("VAL-COUPON-002", invoice.get("coupon_id") == coupon["id"],
               "the invoice does not carry the coupon", operation=INVOICE,
               expected=coupon["id"], observed=invoice.get("coupon_id"))
    subtotal = invoice.get("subtotal")
    want = oracle.discount(subtotal, "12.5") if isinstance(subtotal, int) else None
    check.that("VAL-COUPON-003", invoice.get("discount") == want,
               f"discount {invoice.get('discount')!r}, oracle {want} (12.5 % of {subtotal})",
               operation=INVOICE, expected=want, observed=invoice.get("discount"))
    want_total = oracle.total(subtotal, want) if isinstance(want, int) else None
    check.that("VAL-COUPON-003", want_total is not None and invoice.get("total") == want_total,
               "total ≠ max(0, subtotal − discount)", operation=INVOICE,
               expected=want_total,
               observed=invoice.get("total"))
    reply = run.api.delete(f"/v1/coupons/{coupon['id']}")
    expect.status(check, "VAL-COUPON-001", reply, 409, "DELETE /v1/coupons/{id}", "coupon in use")
    unused = run.api.post("/v1/coupons", {"code": code[:-1] + "Z", "name": "Unused",
                                          "metadata": factory.metadata,
                                          "percent_off": "5"})
    if unused.status == 201:
        reply = run.api.delete(f"/v1/coupons/{unused.json()['id']}")
        expect.status(check, "VAL-COUPON-001", reply, 204, "DELETE /v1/coupons/{id}")
        reply = run.api.get(f"/v1/coupons/{unused.json()['id']}")
        expect.status(check, "VAL-COUPON-001", reply, 404, "GET /v1/coupons/{id}", "after delete")
