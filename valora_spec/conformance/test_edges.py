"""Layer 3: boundaries and ties. Every numeric or ordered rule on both sides of its edge and on
its ties, with the oracle computing the exact expected value.

What binary floating point, an off-by-one comparison or another rounding mode gets wrong is
chosen on purpose: sums such as 0.1 + 0.2, products whose float value lands on the other side of
a half, integers above 2**53 and at the signed 64-bit limits, quantities exactly at a tier's
`up_to`, ties between events of one instant, and names that are special in common languages.
Where the text does not decide an edge, no check decides it (see the report of issue 12).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from valora_spec._versions import at_least
from valora_spec.conformance import _expect as expect
from valora_spec.conformance import _oracle as oracle
from valora_spec.conformance._factory import Factory, ingested, instant, iso, now, parse_time, settle_usage
from valora_spec.conformance._run import CheckRun

pytestmark = pytest.mark.writes
INVOICE = "POST /v1/invoices"
USAGE = "GET /v1/meters/{id}/usage"
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)


def iso_ms(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds: edges a millisecond apart."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Metered:
    """One customer subscribed to prices billed on SUM meters, in a past two-hour period.

    `usages`: usage key -> the event values its meter receives in the period (decimal strings);
    `prices`: (price fields, usage key) in item order. Prices of one key share its meter.
    """

    def __init__(self, run: CheckRun, make: Factory, usages: dict[str, list[str]],
                 prices: list[tuple[dict[str, Any], str]]) -> None:
        self.run = run
        self.customer = make.customer()
        self.start = now().replace(minute=0, second=0) - timedelta(hours=4)
        self.end = self.start + timedelta(hours=2)
        product = make.product()
        meters = {key: make.meter("SUM") for key in usages}
        self.meters = meters
        self.usage = {key: oracle.aggregate("SUM", "value", [
            oracle.Event(str(i), "", "", self.start, {"value": v}) for i, v in enumerate(values)])
            for key, values in usages.items()}
        events = [make.event(self.customer["external_id"], meters[key]["event_type"],
                             self.start + timedelta(minutes=30 + i), {"value": value})
                  for key, values in usages.items() for i, value in enumerate(values)]
        if events:
            make.ingest(events)
        self.items = []
        for fields, key in prices:
            fields = dict(fields, meter_id=meters[key]["id"])
            model = fields.pop("model")
            self.items.append((make.price(model, product_id=product["id"], **fields), key))
        self.subscription = make.subscription(self.customer["id"], [p["id"] for p, _ in self.items])

    def generate(self, start: datetime | None = None, end: datetime | None = None) -> Any:
        settle_usage(self.run)
        return self.run.api.post("/v1/invoices", {
            "subscription_id": self.subscription["id"], "period_start": iso(start or self.start),
            "period_end": iso(end or self.end)})


def _lines(check, requirement: str, reply: Any, count: int) -> tuple[dict, list[dict]]:
    expect.status(check, requirement, reply, 201, INVOICE, stop=True)
    invoice = expect.json_object(check, requirement, reply, INVOICE)
    lines = invoice.get("lines")
    check.require(requirement, isinstance(lines, list) and len(lines) == count,
                  f"{len(lines) if isinstance(lines, list) else lines!r} lines for {count} items",
                  operation=INVOICE, expected=count, observed=len(lines or []), exchange=reply.exchange)
    return invoice, lines


def _amounts_are(check, billing: Metered, reply: Any, why: dict[int, tuple[str, str]]) -> dict:
    """Each line's amount is the oracle's; `why`: item index -> (requirement, what is at stake)."""
    invoice, lines = _lines(check, next(iter(why.values()))[0], reply, len(billing.items))
    for index, ((price, key), line) in enumerate(zip(billing.items, lines, strict=True)):
        requirement, what = why[index]
        quantity = billing.usage[key]
        want = oracle.line_amount(price, quantity)
        check.that(requirement, line.get("amount") == want and line.get("price_id") == price["id"],
                   f"{what}: amount {line.get('amount')!r}, the oracle computes {want}",
                   operation=INVOICE, expected=want, observed=line.get("amount"),
                   exchange=reply.exchange)
    return invoice


# --- tiers: `up_to` inclusive, flat fees of reached tiers only ----------------------------------

EDGE_TIERS = [{"up_to": 10, "unit_amount": "1", "flat_amount": 100},
              {"up_to": 20, "unit_amount": "2", "flat_amount": 50},
              {"up_to": None, "unit_amount": "3", "flat_amount": 7}]
TIER_QUANTITIES = {"at first up_to": "10", "just past it": "10.000000000001", "at second up_to": "20",
                   "in the open tier": "25", "zero": "0", "negative": "-5"}


# Half-unit rates: each tier's charge alone is a tie (0.5 → 0) where the line's exact sum is not.
HALF_TIERS = [{"up_to": 1, "unit_amount": "0.5"}, {"up_to": None, "unit_amount": "0.5"}]


@pytest.mark.requirements("VAL-PRICE-002", "VAL-MONEY-004")
def test_tier_edges(run: CheckRun, check, factory: Factory) -> None:
    """`up_to` is inclusive: at 10 graduated bills the first tier only (110; the second tier's
    flat fee is not reached), 10.000000000001 reaches the second (160); volume bills all units at
    the tier the quantity falls in, 0 and negatives in the first with its flat fee. A graduated
    line is rounded once, not tier by tier."""
    usages = {what: ([q] if q != "0" else []) for what, q in TIER_QUANTITIES.items()} | {"3": ["3"]}
    prices = [({"model": "tiered", "tiers_mode": mode, "tiers": EDGE_TIERS}, what)
              for what in TIER_QUANTITIES for mode in ("graduated", "volume")]
    why = {i: ("VAL-PRICE-002", f"{p['tiers_mode']} tiers for quantity {TIER_QUANTITIES[key]} ({key})")
           for i, (p, key) in enumerate(prices)}
    why[len(prices)] = ("VAL-MONEY-004", "graduated 0.5 up to 1, then 0.5: 3 units are 1.5 exactly → 2, "
                                         "rounded once (tier by tier 0 + 1 = 1)")
    prices.append(({"model": "tiered", "tiers_mode": "graduated", "tiers": HALF_TIERS}, "3"))
    billing = Metered(run, factory, usages, prices)
    _amounts_are(check, billing, billing.generate(), why)


# --- exact decimals and half-even ties ---------------------------------------------------------

EXACT_USAGES = {"0.1+0.2": ["0.1", "0.2"], "0.7+0.1": ["0.7", "0.1"], "1.15": ["1.15"],
                "5": ["5"], "7": ["7"], "-5": ["-5"], "2**53+1": ["9007199254740993"],
                "12 digits": ["0.000000000001", "0.000000000002"]}
EXACT_PRICES = [  # (unit_amount, usage key, requirement, what binary floats or half-up get wrong)
    # float errors meet the half only at ties; these are ties half-up rounds like half-even, so
    # a wrong amount here is the arithmetic's, not the rounding mode's
    ("1", "0.1+0.2", "VAL-MONEY-002", "quantity 0.1 + 0.2 = 0.3 exactly, at 1 → 0"),
    ("4.375", "0.7+0.1", "VAL-MONEY-002", "(0.7 + 0.1) × 4.375 = 3.5 exactly → 4; as floats → 3"),
    ("50", "1.15", "VAL-MONEY-002", "1.15 × 50 = 57.5 exactly → 58; as floats 57.49999… → 57"),
    ("1", "2**53+1", "VAL-MONEY-002", "9007199254740993 × 1, above 2**53: a float holds …992"),
    ("0.5", "5", "VAL-MONEY-004", "0.5 × 5 = 2.5, a tie → 2 (half-even, not 3)"),
    ("0.5", "7", "VAL-MONEY-004", "0.5 × 7 = 3.5, a tie → 4"),
    ("0.5", "-5", "VAL-MONEY-004", "0.5 × -5 = -2.5, a tie → -2 (not -3)"),
    ("500000000000", "12 digits", "VAL-MONEY-004", "0.000000000003 × 500000000000 = 1.5, a tie → 2"),
]


@pytest.mark.requirements("VAL-MONEY-002", "VAL-MONEY-004", "VAL-INV-004")
def test_exact_decimal_amounts(run: CheckRun, check, factory: Factory) -> None:
    prices = [({"model": "per_unit", "unit_amount": unit}, key) for unit, key, _, _ in EXACT_PRICES]
    billing = Metered(run, factory, EXACT_USAGES, prices)
    reply = billing.generate()
    why = {i: (requirement, what) for i, (_, _, requirement, what) in enumerate(EXACT_PRICES)}
    invoice = _amounts_are(check, billing, reply, why)
    for (_, key), line in zip(billing.items, invoice["lines"], strict=True):
        check.that("VAL-MONEY-002", oracle.same_decimal(line.get("quantity"), billing.usage[key])
                   and isinstance(line.get("quantity"), str),
                   f"line quantity {line.get('quantity')!r} for usage {' + '.join(EXACT_USAGES[key])}, "
                   f"exactly {billing.usage[key]}", operation=INVOICE, expected=str(billing.usage[key]),
                   observed=line.get("quantity"), exchange=reply.exchange)
    amounts = [line.get("amount") for line in invoice["lines"]]
    subtotal = sum(a for a in amounts if isinstance(a, int))  # of the lines served: exact above 2**53
    check.that("VAL-INV-004", invoice.get("subtotal") == subtotal
               and invoice.get("total") == max(0, subtotal),
               f"subtotal {invoice.get('subtotal')!r}, total {invoice.get('total')!r}: Σ line amounts is "
               f"{subtotal} exactly",
               operation=INVOICE, expected=subtotal, observed=invoice.get("subtotal"),
               exchange=reply.exchange)
    for key in ("0.1+0.2", "2**53+1"):
        settle_usage(run)
        usage = run.api.get(f"/v1/meters/{billing.meters[key]['id']}/usage", params={
            "customer": billing.customer["external_id"], "from": iso(billing.start),
            "to": iso(billing.end)})
        expect.status(check, "VAL-MONEY-002", usage, 200, USAGE)
        value = usage.json().get("value") if usage.status == 200 else None
        check.that("VAL-MONEY-002", oracle.same_decimal(value, billing.usage[key]),
                   f"SUM of {' + '.join(EXACT_USAGES[key])} is {value!r}, exactly {billing.usage[key]}",
                   operation=USAGE, expected=str(billing.usage[key]), observed=value,
                   exchange=usage.exchange)


@pytest.mark.requirements("VAL-MONEY-001")
def test_amount_range(run: CheckRun, check, factory: Factory) -> None:
    """Amounts are signed 64-bit: a line at 2**63 − 1 or −2**63 is billed exactly; one step
    beyond, or a subtotal beyond with lines within, is 400 `invalid_request`."""
    usages = {"edge": [str(INT64_MAX), str(INT64_MAX + 1), str(INT64_MIN), str(INT64_MIN - 1),
                       str(2**62)]}
    billing = Metered(run, factory, usages, [({"model": "per_unit", "unit_amount": "1"}, "edge")])
    # events at start + 30, 31, ... minutes: a period of one minute holds one of them
    minute = lambda i: billing.start + timedelta(minutes=30 + i)  # noqa: E731
    for index, amount in ((0, INT64_MAX), (1, INT64_MAX + 1), (2, INT64_MIN), (3, INT64_MIN - 1)):
        reply = billing.generate(minute(index), minute(index + 1))
        fits = INT64_MIN <= amount <= INT64_MAX
        expect.status(check, "VAL-MONEY-001", reply, 201 if fits else 400, INVOICE,
                      f"a line of {amount} minor units")
        body = expect.json_or_none(reply)
        if fits and reply.status == 201 and isinstance(body, dict):
            line = (body.get("lines") or [{}])[0]
            check.that("VAL-MONEY-001", line.get("amount") == amount and body.get("subtotal") == amount
                       and body.get("total") == max(0, amount),
                       f"line {line.get('amount')!r}, subtotal {body.get('subtotal')!r}, total "
                       f"{body.get('total')!r} for {amount} exactly", operation=INVOICE, expected=amount,
                       observed=line.get("amount"), exchange=reply.exchange)
        elif not fits and reply.status == 400:
            expect.problem_code(check, "VAL-MONEY-001", reply, "invalid_request", INVOICE)
    # two lines of 2**62 each: every line fits, the subtotal 2**63 does not
    second = factory.price("per_unit", unit_amount="1", meter_id=billing.meters["edge"]["id"])
    sub = factory.subscription(billing.customer["id"], [billing.items[0][0]["id"], second["id"]])
    settle_usage(run)
    reply = run.api.post("/v1/invoices", {"subscription_id": sub["id"], "period_start": iso(minute(4)),
                                          "period_end": iso(minute(5))})
    expect.status(check, "VAL-MONEY-001", reply, 400, INVOICE, "two lines of 2**62: subtotal 2**63")


# --- coupons: half-even discounts --------------------------------------------------------------

DISCOUNTS = [("50", 5, "50 % of 5 = 2.5, a tie → 2"), ("50", 7, "50 % of 7 = 3.5, a tie → 4"),
             ("16.15", 1000, "16.15 % of 1000 = 161.5 exactly → 162; as floats 161.49999… → 161"),
             ("100", 999, "100 % of 999: discount 999, total 0")]


def _coupon(factory: Factory, percent: str) -> dict[str, Any]:
    code = factory.unique("EDGE").upper().replace(".", "-")[:40]
    return factory.create("/v1/coupons", {"code": code, "name": "Edge", "percent_off": percent,
                                          "metadata": factory.metadata})


@pytest.mark.requirements("VAL-COUPON-003")
def test_discount_ties(run: CheckRun, check, factory: Factory) -> None:
    customer = factory.customer()
    product = factory.product()
    end = now()
    for percent, flat, what in DISCOUNTS:
        coupon = _coupon(factory, percent)
        price = factory.price("flat", product_id=product["id"], flat_amount=flat)
        sub = factory.subscription(customer["id"], [price["id"]], coupon_id=coupon["id"])
        invoice = factory.invoice(sub["id"], end - timedelta(hours=1), end)
        want = oracle.discount(flat, percent)
        check.that("VAL-COUPON-003", invoice.get("discount") == want
                   and invoice.get("total") == oracle.total(flat, want),
                   f"{what}: discount {invoice.get('discount')!r}, total {invoice.get('total')!r}",
                   operation=INVOICE, expected={"discount": want, "total": oracle.total(flat, want)},
                   observed={"discount": invoice.get("discount"), "total": invoice.get("total")},
                   exchange=factory.last.exchange if factory.last else None)
    # two lines of 5 at 10 %: the discount is the subtotal's (10 → 1), not the sum of each
    # line's rounded discount (0.5 → 0, twice)
    fives = [factory.price("flat", product_id=product["id"], flat_amount=5)["id"] for _ in range(2)]
    sub = factory.subscription(customer["id"], fives, coupon_id=_coupon(factory, "10")["id"])
    invoice = factory.invoice(sub["id"], end - timedelta(hours=1), end)
    discount = oracle.discount(10, "10")
    want = {"subtotal": 10, "discount": discount, "total": oracle.total(10, discount)}
    got = {k: invoice.get(k) for k in want}
    check.that("VAL-COUPON-003", got == want, f"10 % of two lines of 5: {got}", operation=INVOICE,
               expected=want, observed=got, exchange=factory.last.exchange if factory.last else None)
    # a negative subtotal (usage credited back) is not discounted further: max(0, ·) = 0
    coupon = _coupon(factory, "50")
    meter = factory.meter("SUM")
    price = factory.price("per_unit", product_id=product["id"], unit_amount="1", meter_id=meter["id"])
    credited = factory.customer()
    factory.ingest([factory.event(credited["external_id"], meter["event_type"],
                                  end - timedelta(minutes=30), {"value": "-100"})])
    sub = factory.subscription(credited["id"], [price["id"]], coupon_id=coupon["id"])
    invoice = factory.invoice(sub["id"], end - timedelta(hours=1), end)
    subtotal = invoice.get("subtotal")
    if isinstance(subtotal, int) and not isinstance(subtotal, bool):  # else VAL-MONEY-001's
        want = oracle.discount(subtotal, "50")  # of the server's subtotal: only the discount judged
        check.that("VAL-COUPON-003", invoice.get("discount") == want
                   and invoice.get("total") == oracle.total(subtotal, want),
                   f"50 % of a subtotal of {subtotal} (usage of -100 at 1 per unit): "
                   f"discount {invoice.get('discount')!r}, total {invoice.get('total')!r}",
                   operation=INVOICE, expected={"discount": want, "total": oracle.total(subtotal, want)},
                   observed={k: invoice.get(k) for k in ("discount", "total")},
                   exchange=factory.last.exchange if factory.last else None)


# --- trials: a period ending at trial_end is in the trial, one second later is not -------------


@pytest.mark.requirements("VAL-SUB-006", "VAL-PRICE-001", "VAL-SUB-002", "VAL-LIST-001")
def test_trial_edges(run: CheckRun, check, factory: Factory) -> None:
    """Only flat lines are free in a trial: a metered line (3 units at 7) is billed in it too."""
    customer = factory.customer()
    price = factory.price("flat", flat_amount=2500)
    meter = factory.meter("SUM")
    metered = factory.price("per_unit", product_id=price["product_id"], unit_amount="7", meter_id=meter["id"])
    start = now().replace(second=0) - timedelta(hours=3)
    trial_end = start + timedelta(hours=2)
    factory.ingest([factory.event(customer["external_id"], meter["event_type"], start + timedelta(minutes=30),
                                  {"value": 3})])
    sub = factory.subscription(customer["id"], [price["id"], metered["id"]], start_at=iso(start),
                               trial_end=iso(trial_end))
    for end, requirement, want, what in (
            (trial_end, "VAL-SUB-006", [0, 21], "a period ending at trial_end"),
            (trial_end + timedelta(seconds=1), "VAL-PRICE-001", [2500, 21],
             "a period ending one second after trial_end (not in the trial): flat_amount × quantity")):
        settle_usage(run)
        reply = run.api.post("/v1/invoices", {"subscription_id": sub["id"], "period_start": iso(start),
                                              "period_end": iso(end)})
        expect.status(check, requirement, reply, 201, INVOICE, what, stop=True)
        by_price = {line.get("price_id"): line.get("amount") for line in reply.json().get("lines") or []
                    if isinstance(line, dict)}
        amounts = [by_price.get(price["id"]), by_price.get(metered["id"])]
        check.that(requirement, amounts == want, f"{what}: line amounts (flat, metered) {amounts}",
                   operation=INVOICE, expected=want, observed=amounts, exchange=reply.exchange)
    # not started yet, with a trial after its start: pending first (trialing comes from start_at),
    # and listed as pending (trial_end is 1.2's: failures count from 1.2.0)
    later = now() + timedelta(days=1)
    future = factory.subscription(customer["id"], [price["id"]], start_at=iso(later),
                                  trial_end=iso(later + timedelta(days=9)))
    check.that("VAL-SUB-002", future.get("status") == "pending",
               f"start_at tomorrow and a trial after it: status {future.get('status')!r}",
               operation="POST /v1/subscriptions", expected="pending", observed=future.get("status"),
               exchange=factory.last.exchange if factory.last else None, version="1.2.0")
    listed = run.api.get("/v1/subscriptions", params={"customer_id": customer["id"], "status": "pending"})
    expect.status(check, "VAL-LIST-001", listed, 200, "GET /v1/subscriptions", stop=True)
    ids = [item.get("id") for item in listed.json().get("data") or [] if isinstance(item, dict)]
    check.that("VAL-LIST-001", ids == [future["id"]],
               f"?status=pending of a customer whose only pending subscription has a trial: {ids}",
               operation="GET /v1/subscriptions", expected=[future["id"]], observed=ids,
               exchange=listed.exchange, version="1.2.0")


@pytest.mark.requirements("VAL-SUB-006")
def test_trial_end_after_start(run: CheckRun, check, factory: Factory) -> None:
    """`trial_end` must be after `start_at`: equal or earlier is 400, a second later is taken."""
    customer, price = factory.customer(), factory.price("flat")
    start = now().replace(microsecond=0) - timedelta(hours=1)
    for shift, want in ((0, 400), (-1, 400), (1, 201)):
        reply = run.api.post("/v1/subscriptions", {
            "customer_id": customer["id"], "items": [{"price_id": price["id"]}], "metadata": factory.metadata,
            "start_at": iso(start), "trial_end": iso(start + timedelta(seconds=shift))})
        expect.status(check, "VAL-SUB-006", reply, want, "POST /v1/subscriptions",
                      f"trial_end {shift:+d} s from start_at", version="1.2.0")


# --- subscriptions: the current period, at month ends and once canceled ------------------------

SUBSCRIPTION = "GET /v1/subscriptions/{id}"


def _period_is(check, sub: dict[str, Any], want: tuple[datetime, datetime], what: str,
               exchange: Any) -> None:
    observed = [sub.get("current_period_start"), sub.get("current_period_end")]
    expected = [iso(want[0]), iso(want[1])]
    check.that("VAL-SUB-002", [instant(t) for t in observed] == [instant(t) for t in expected],
               f"{what}: current period {observed}, expected [{expected[0]}, {expected[1]})",
               operation=SUBSCRIPTION, expected=expected, observed=observed, exchange=exchange)


def _month_end_start(moment: datetime) -> datetime | None:
    """A monthly start on a 31st whose period holding `moment` ends elsewhere than adding a
    month to the previous edge would put it (the day was clamped on the way), with both of
    its edges at least an hour from `moment`."""
    for back in range(2, 15):
        index = moment.year * 12 + moment.month - 1 - back
        year, month = divmod(index, 12)
        if month + 1 not in (1, 3, 5, 7, 8, 10, 12):
            continue
        start = datetime(year, month + 1, 31, 10, tzinfo=UTC)
        begin, end = oracle.period_holding(start, "month", moment)
        chained = oracle.period_edge(begin, "month", 1)
        if chained != end and min(moment - begin, end - moment) > timedelta(hours=1):
            return start
    return None


@pytest.mark.requirements("VAL-SUB-002", "VAL-SUB-003", "VAL-SUB-004")
def test_current_period(run: CheckRun, check, factory: Factory) -> None:
    """The current period is `[start_at + k·interval, start_at + (k+1)·interval)` holding now,
    months counted from `start_at`; the first while pending; once canceled, the last one it was
    in. A scheduled cancellation ending a period a few seconds away is watched taking effect."""
    customer, daily = factory.customer(), factory.price("flat", interval="day")
    soon = factory.subscription(customer["id"], [daily["id"]],
                                start_at=iso(now() - timedelta(days=1, seconds=-4)))
    scheduled = run.api.post(f"/v1/subscriptions/{soon['id']}/cancel", {"at_period_end": True})
    expect.status(check, "VAL-SUB-004", scheduled, 200, "POST …/cancel", "at_period_end", stop=True)
    cancel_text = scheduled.json().get("cancel_at")  # VAL-SUB-004 judges it elsewhere
    cancel_at = parse_time(cancel_text) if instant(cancel_text) is not None else None

    started = now().replace(microsecond=0) - timedelta(days=10, hours=1)
    active = factory.subscription(customer["id"], [daily["id"]], start_at=iso(started))
    _period_is(check, active, oracle.period_holding(started, "day", now()), "daily, started 10 days "
               "and an hour ago", factory.last.exchange if factory.last else None)
    canceled = run.api.post(f"/v1/subscriptions/{active['id']}/cancel", {})
    expect.status(check, "VAL-SUB-003", canceled, 200, "POST …/cancel", stop=True)
    _period_is(check, canceled.json(), oracle.period_holding(started, "day", now()),
               "canceled at once: the period it was canceled in", canceled.exchange)
    later = now().replace(microsecond=0) + timedelta(days=3)
    pending = factory.subscription(customer["id"], [daily["id"]], start_at=iso(later))
    _period_is(check, pending, (later, later + timedelta(days=1)), "pending: its first period",
               factory.last.exchange if factory.last else None)
    if (month_end := _month_end_start(now())) is not None:
        monthly = factory.subscription(customer["id"], [factory.price("flat")["id"]],
                                       start_at=iso(month_end))
        _period_is(check, monthly, oracle.period_holding(month_end, "month", now()),
                   f"monthly from {iso(month_end)}: months counted from start_at, the day clamped",
                   factory.last.exchange if factory.last else None)
    # revoking is for any scheduled cancellation, whatever the state before it takes effect
    trials = Factory(run, since="1.2.0")  # a set-up failure counts from the release with trials
    for state, sub in [("pending", pending)] + ([("trialing", trials.subscription(
            customer["id"], [daily["id"]], trial_end=iso(now() + timedelta(days=2))))]
            if at_least(run.target_version, "1.2.0") else []):
        base = f"/v1/subscriptions/{sub['id']}"
        reply = run.api.post(f"{base}/cancel", {"at_period_end": True})
        expect.status(check, "VAL-SUB-004", reply, 200, "POST …/cancel", f"at_period_end, {state}",
                      stop=True)
        reply = run.api.post(f"{base}/revoke_cancellation")
        expect.status(check, "VAL-SUB-004", reply, 200, "POST …/revoke_cancellation",
                      f"a cancellation scheduled while {state}",
                      version="1.2.0" if state == "trialing" else None)

    # the scheduled cancellation, watched taking effect. The server's clock may differ from ours:
    # it is judged by the server's own time (a fresh customer's created_at) if it never does.
    if cancel_at is None or cancel_at - now() > timedelta(seconds=30):
        return
    while True:
        reply = run.api.get(f"/v1/subscriptions/{soon['id']}")
        expect.status(check, "VAL-SUB-002", reply, 200, SUBSCRIPTION, stop=True)
        if reply.json().get("status") == "canceled" or now() > cancel_at + timedelta(seconds=8):
            break
        time.sleep(0.5)
    body = reply.json()
    if body.get("status") != "canceled":
        server_now = instant(factory.customer().get("created_at"))
        if server_now is not None and server_now > instant(cancel_text) + 1:
            reply = run.api.get(f"/v1/subscriptions/{soon['id']}")
            status = reply.json().get("status") if reply.status == 200 else None
            check.that("VAL-SUB-002", status == "canceled",
                       f"a cancellation scheduled at {cancel_text} has not taken effect by the server's "
                       f"own clock (a customer created after it): status {status!r}", operation=SUBSCRIPTION,
                       expected="canceled", observed=status, exchange=reply.exchange)
        return
    check.that("VAL-SUB-002", instant(body.get("canceled_at")) == instant(cancel_text),
               f"a cancellation scheduled at {cancel_text} took effect with canceled_at "
               f"{body.get('canceled_at')!r}", operation=SUBSCRIPTION, expected=cancel_text,
               observed=body.get("canceled_at"), exchange=reply.exchange)
    _period_is(check, body, (cancel_at - timedelta(days=1), cancel_at),
               "canceled at its period's end: that period, not the next", reply.exchange)


# --- windows: [from, to) to the millisecond, for usage and for invoices ------------------------


@pytest.mark.requirements("VAL-TIME-002", "VAL-INV-003")
def test_window_edges_to_the_millisecond(run: CheckRun, check, factory: Factory) -> None:
    """Events 1 ms before `from` (not counted), at `from` (counted), 1 ms before `to` (counted)
    and at `to` (not counted), in a usage query and in an invoice of the same window."""
    meter = factory.meter("SUM")
    customer = factory.customer()
    start = now().replace(minute=0, second=0) - timedelta(hours=3)
    end = start + timedelta(hours=1)
    ms = timedelta(milliseconds=1)
    placed = [(start - ms, "1"), (start, "2"), (end - ms, "4"), (end, "8")]
    events = [factory.event(customer["external_id"], meter["event_type"], moment, {"value": value})
              | {"time": iso_ms(moment)} for moment, value in placed]
    factory.ingest(events)
    kept = oracle.select([oracle.Event(e["id"], customer["external_id"], meter["event_type"],
                                       parse_time(e["time"]), e["data"]) for e in events],
                         customer=customer["external_id"], event_type=meter["event_type"],
                         start=start, end=end)
    want = oracle.aggregate("SUM", "value", kept)  # 2 + 4
    price = factory.price("per_unit", unit_amount="1", meter_id=meter["id"])
    sub = factory.subscription(customer["id"], [price["id"]])
    settle_usage(run)
    reply = run.api.get(f"/v1/meters/{meter['id']}/usage", params={
        "customer": customer["external_id"], "from": iso(start), "to": iso(end)})
    expect.status(check, "VAL-TIME-002", reply, 200, USAGE, stop=True)
    value = reply.json().get("value")
    check.that("VAL-TIME-002", oracle.same_decimal(value, want),
               f"SUM {value!r} of values 1 (from − 1 ms), 2 (at from), 4 (to − 1 ms), 8 (at to); "
               f"[from, to) holds {want}", operation=USAGE, expected=str(want), observed=value,
               exchange=reply.exchange)
    invoice = factory.invoice(sub["id"], start, end)
    quantity = (invoice.get("lines") or [{}])[0].get("quantity")
    exchange = factory.last.exchange if factory.last else None
    check.that("VAL-TIME-002", oracle.same_decimal(quantity, want),
               f"invoice line quantity {quantity!r} for the same events in [period_start, "
               f"period_end); expected {want}", operation=INVOICE, expected=str(want),
               observed=quantity, exchange=exchange)
    if oracle.same_decimal(value, want):  # the usage query was right: the invoice must agree
        check.that("VAL-INV-003", oracle.same_decimal(quantity, want),
                   f"invoice line quantity {quantity!r}, but the meter's usage for the same "
                   f"customer and period is {value!r}", operation=INVOICE, expected=str(want),
                   observed=quantity, exchange=exchange)


# --- LATEST: greatest instant, ties by the last ingested ---------------------------------------


@pytest.mark.requirements("VAL-METER-004")
def test_latest_ties(run: CheckRun, check, factory: Factory) -> None:
    """Ingested one by one: 5 at t, 7 at t written `.000` (the same instant, ingested later), 100
    at t − 1 s (ingested last, but older). LATEST is 7."""
    meter = factory.meter("LATEST")
    customer = factory.unique("latest")
    moment = now() - timedelta(hours=1)
    sent = [(iso(moment), 5), (iso(moment).replace("Z", ".000Z"), 7),
            (iso(moment - timedelta(seconds=1)), 100)]
    for text, value in sent:
        event = factory.event(customer, meter["event_type"], moment, {"value": value}) | {"time": text}
        reply = run.api.post("/v1/events", event)
        ingested(run)
        expect.status(check, "VAL-METER-004", reply, 202, "POST /v1/events", f"an event at {text}",
                      stop=True)
    settle_usage(run)
    reply = run.api.get(f"/v1/meters/{meter['id']}/usage", params={
        "customer": customer, "from": iso(moment - timedelta(minutes=1)),
        "to": iso(moment + timedelta(minutes=1))})
    expect.status(check, "VAL-METER-004", reply, 200, USAGE, stop=True)
    value = reply.json().get("value")
    check.that("VAL-METER-004", oracle.same_decimal(value, Decimal(7)),
               f"LATEST {value!r}: of the two events at the greatest instant (written "
               f"{sent[0][0]} and {sent[1][0]}) the last ingested, 7, wins",
               operation=USAGE, expected="7", observed=value, exchange=reply.exchange)


# --- the backdating window, judged against every clock offset ---------------------------------

PAST_EDGE, FUTURE_EDGE = timedelta(days=-35), timedelta(minutes=5)
MARGINS = (0.3, 0.7)  # seconds inside and outside each edge
MAX_CLOCK_OFFSET = 60.0  # seconds the server's clock may differ from the harness's


@pytest.mark.requirements("VAL-EVENT-003")
def test_backdating_edges(run: CheckRun, check, factory: Factory) -> None:
    """Events 0.3 s and 0.7 s inside and outside both edges of [receipt − 35 d, receipt + 5 min].

    Receipt is the server's instant, unknown to the harness: the answers are judged against
    every clock offset s (server − harness, |s| ≤ 60 s) and every latency within the measured
    round trip. Only answers that no offset explains fail: a correct server with a skewed clock
    shifts both edges alike, a wrong edge moves one.
    """
    customer = factory.unique("edge")
    low, high = -MAX_CLOCK_OFFSET, MAX_CLOCK_OFFSET  # the offsets the answers still allow
    seen: list[str] = []
    replies: list[tuple[bool, bool, float, Any]] = []
    for edge, base in (("past", PAST_EDGE), ("future", FUTURE_EDGE)):
        for margin in MARGINS:
            for inside in (True, False):
                # d: the event time relative to the edge, seen from the harness's send time
                d = margin if inside == (edge == "past") else -margin
                sent = datetime.now(UTC)
                moment = sent + base + timedelta(seconds=d)
                event = factory.event(customer, "edges", moment, {"value": 1}) | {"time": iso_ms(moment)}
                reply = run.api.post("/v1/events", event)
                rtt = (datetime.now(UTC) - sent).total_seconds()
                if reply.status not in (202, 400):
                    expect.status(check, "VAL-EVENT-003", reply, (202, 400), "POST /v1/events",
                                  f"an event {d:+g} s from the {edge} edge", stop=True)
                accepted = reply.status == 202
                seen.append(f"{edge} edge {d:+g} s: {reply.status}")
                replies.append((edge == "past" and not accepted, accepted, d, reply))
                # correct with offset s and latency l in [0, rtt]: past accepted iff s <= d - l,
                # future accepted iff s >= d - l
                if (edge == "past") == accepted:
                    high = min(high, d)
                else:
                    low = max(low, d - rtt)
    ingested(run)
    # shown: an answer that time does not change when the reproduction is run later (a past-edge
    # refusal stays a refusal, an acceptance a 202), the most telling first
    shown = max(replies, key=lambda r: (r[0], r[1], r[2]))[3] if replies else None
    check.that("VAL-EVENT-003", low <= high,
               "no clock offset between harness and server explains the answers (a correct "
               f"server shifts both edges alike): {'; '.join(seen)}", operation="POST /v1/events",
               expected="accepted exactly within [receipt − 35 d, receipt + 5 min]", observed=seen,
               exchange=shown.exchange if shown else None)


# --- names special in common languages are not enum values ------------------------------------

SPECIAL_NAMES = ["toString", "__proto__", "constructor", "hasOwnProperty", "valueOf"]


def _miscased(valid: str) -> list[str]:
    """A valid enum value spelled in another case: a server that matches case-insensitively, or
    upper-cases its input first, accepts it; the schema's enum does not."""
    return sorted({valid.lower(), valid.upper(), valid.capitalize(), valid.swapcase()} - {valid})


@pytest.mark.requirements("VAL-ERR-004")
def test_special_names_are_not_enum_values(run: CheckRun, check, factory: Factory) -> None:
    """Each enum-valued input refuses names special in common languages (a lookup in a language
    object) and its own values in another case."""
    product = factory.product()
    meter = factory.meter("SUM")
    price = {"product_id": product["id"], "currency": "EUR", "interval": "month",
             "metadata": factory.metadata}
    tiers = [{"up_to": None, "unit_amount": "1"}]
    window = {"customer": "c", "from": iso(now() - timedelta(hours=1)), "to": iso(now())}
    probes = [  # (operation, field, a valid value, send)
        ("POST /v1/prices", "model", "flat", lambda n: run.api.post("/v1/prices", price | {
            "model": n, "flat_amount": 100})),
        ("POST /v1/prices", "interval", "month", lambda n: run.api.post("/v1/prices", price | {
            "model": "flat", "flat_amount": 100, "interval": n})),
        ("POST /v1/prices", "currency", "EUR", lambda n: run.api.post("/v1/prices", price | {
            "model": "flat", "flat_amount": 100, "currency": n})),
        ("POST /v1/prices", "tiers_mode", "graduated", lambda n: run.api.post("/v1/prices", price | {
            "model": "tiered", "tiers_mode": n, "tiers": tiers})),
        ("POST /v1/meters", "aggregation", "SUM", lambda n: run.api.post("/v1/meters", {
            "key": factory.unique("sp").lower(), "name": "special", "event_type": "special",
            "aggregation": n, "value_property": "value", "metadata": factory.metadata})),
        (USAGE, "window", "HOUR", lambda n: run.api.get(f"/v1/meters/{meter['id']}/usage",
                                                        params=window | {"window": n})),
    ]
    for operation, field, valid, send in probes:
        for name in SPECIAL_NAMES + _miscased(valid):
            expect.status(check, "VAL-ERR-004", send(name), 400, operation, f"{field} {name!r}")
    for path, valid in (("/invoices", "draft"), ("/subscriptions", "active")):
        since = _parameter_since(run, path, "status")  # the list filters came in a later release
        if since is None:
            continue
        for name in SPECIAL_NAMES + _miscased(valid):
            reply = run.api.get(f"/v1{path}", params={"status": name})
            expect.status(check, "VAL-ERR-004", reply, 400, f"GET /v1{path}", f"status {name!r}",
                          version=since)


def _parameter_since(run: CheckRun, path: str, name: str) -> str | None:
    """The first release up to the target whose list operation at `path` has query parameter
    `name` (None: the target's has not)."""
    for version in run.catalogue.versions:
        if run.catalogue.query_parameter(version, path, name):
            return version if at_least(run.target_version, version) else None
    return None


# --- decimal digits and ranges: the last valid value and the first invalid one -----------------


@pytest.mark.requirements("VAL-ERR-004", "VAL-HTTP-004")
def test_decimal_digits_and_ranges(run: CheckRun, check, factory: Factory) -> None:
    product = factory.product()
    price = {"product_id": product["id"], "currency": "EUR", "interval": "month",
             "metadata": factory.metadata}
    per_unit = lambda unit: price | {"model": "per_unit", "unit_amount": unit}  # noqa: E731
    tiered = lambda up_to: price | {"model": "tiered", "tiers_mode": "graduated", "tiers": [  # noqa: E731
        {"up_to": up_to, "unit_amount": "1"}, {"up_to": None, "unit_amount": "1"}]}
    cases = [  # (what, path, valid body, invalid body)
        ("unit_amount with 12 / 13 fractional digits", "/v1/prices", per_unit("0.000000000001"),
         per_unit("0.0000000000001")),
        ("unit_amount with 15 / 16 integer digits", "/v1/prices",
         per_unit("999999999999999.999999999999"), per_unit("1000000000000000")),
        ("flat_amount 10**14 / 10**14 + 1", "/v1/prices",
         price | {"model": "flat", "flat_amount": 10**14},
         price | {"model": "flat", "flat_amount": 10**14 + 1}),
        ("up_to 10**12 / 10**12 + 1", "/v1/prices", tiered(10**12), tiered(10**12 + 1)),
        ("customer name of 200 / 201 characters", "/v1/customers",
         {"external_id": factory.unique("len"), "name": "n" * 200},
         {"external_id": factory.unique("len"), "name": "n" * 201}),
    ]
    for what, path, valid, invalid in cases:
        reply = run.api.post(path, valid)
        expect.status(check, "VAL-HTTP-004", reply, 201, f"POST {path}", f"{what}: the valid one")
        reply = run.api.post(path, invalid)
        expect.status(check, "VAL-ERR-004", reply, 400, f"POST {path}", f"{what}: the invalid one")
    customer = factory.customer()
    flat = factory.price("flat", product_id=product["id"])
    for quantity, status in ((10**6, 201), (10**6 + 1, 400), (0, 400)):
        reply = run.api.post("/v1/subscriptions", {
            "customer_id": customer["id"], "metadata": factory.metadata,
            "items": [{"price_id": flat["id"], "quantity": quantity}]})
        expect.status(check, "VAL-HTTP-004" if status == 201 else "VAL-ERR-004", reply, status,
                      "POST /v1/subscriptions", f"item quantity {quantity}")
    if run.catalogue.operation(run.target_version, "createCoupon"):
        # percent_off's pattern, not its value read as a number: 100.00 and 007 are not allowed
        since = run.catalogue.introduced("createCoupon")
        for percent, status in (("100", 201), ("99.99", 201), ("100.00", 400), ("5.500", 400),
                                ("007", 400), ("100.5", 400)):
            reply = run.api.post("/v1/coupons", {
                "code": factory.unique("PCT").upper().replace(".", "-")[:40], "name": "Digits",
                "percent_off": percent, "metadata": factory.metadata})
            valid = status == 201
            if not expect.status(check, "VAL-HTTP-004" if valid else "VAL-ERR-004", reply, status,
                                 "POST /v1/coupons", f"percent_off {percent!r}", version=since
                                 ) and valid:
                break  # no coupons to be had: refusing the invalid ones would prove nothing
