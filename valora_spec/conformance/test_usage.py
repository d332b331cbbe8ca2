"""Layer 3: event ingestion and meter aggregation, checked against the oracle."""

from __future__ import annotations

import itertools
import json
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from valora_spec import _spec
from valora_spec.conformance import _expect as expect
from valora_spec.conformance import _oracle as oracle
from valora_spec.conformance._factory import Factory, ingested, iso, now, parse_time, settle_usage
from valora_spec.conformance._run import CheckRun

pytestmark = pytest.mark.writes
USAGE = "GET /v1/meters/{id}/usage"
AGGREGATIONS_10 = ["SUM", "COUNT", "MAX", "UNIQUE_COUNT", "LATEST"]


class Scenario:
    """A fixed set of events around window boundaries, ingested once per module."""

    def __init__(self, run: CheckRun, make: Factory) -> None:
        self.run, self.make = run, make
        self.customer = make.customer()["external_id"]
        self.type = make.unique("usage")
        base = now().replace(minute=0, second=0) - timedelta(hours=3)
        self.base = base
        at = lambda minutes: base + timedelta(minutes=minutes)  # noqa: E731
        c, t = self.customer, self.type
        spec = [  # (minutes, data, customer, type)
            (0, {"value": 5, "region": "eu"}, c, t),          # at `from`: counted
            (10, {"value": "2.5", "region": "us"}, c, t),
            (30, {"value": 7}, c, t),
            (70, {"value": 8, "region": "eu"}, c, t),
            (100, {"value": "abc", "region": "eu"}, c, t),     # not numeric
            (110, {"region": "us"}, c, t),                     # no value
            (120, {"value": 100, "region": "eu"}, c, t),       # at `to`: not counted
            (150, {"value": -5}, c, t),                        # only values below zero
            (160, {"value": "-3"}, c, t),
            (170, {"value": -7.25}, c, t),
            (40, {"value": 50}, make.unique("other"), t),      # another customer
            (40, {"value": 60}, c, make.unique("othertype")),  # another type
        ]
        self.events = [make.event(cust, typ, at(minutes), data) for minutes, data, cust, typ in spec]
        self.receipt = make.ingest(self.events)
        self.oracle_events = [oracle.Event(e["id"], e["customer"], e["type"], parse_time(e["time"]),
                                           e["data"]) for e in self.events]
        # Windows chosen so one kind of fault shows in one requirement: MAIN holds only numeric
        # values and no event on its bounds; NON_NUMERIC only the unusable values.
        self.main = (base - timedelta(minutes=30), base + timedelta(minutes=95))
        self.non_numeric = (base + timedelta(minutes=95), base + timedelta(minutes=115))
        self.negative = (base + timedelta(minutes=145), base + timedelta(minutes=175))
        self.meters: dict[str, dict] = {}

    def meter(self, aggregation: str) -> dict[str, Any] | None:
        if aggregation not in self.meters:
            prop = None if aggregation == "COUNT" else "value"
            body = {"key": self.make.unique("m").lower(), "name": f"{aggregation} meter",
                    "metadata": self.make.metadata,
                    "event_type": self.type, "aggregation": aggregation}
            if prop:
                body["value_property"] = prop
            reply = self.run.api.post("/v1/meters", body)
            self.meters[aggregation] = reply.json() if reply.status == 201 else {"_reply": reply}
        return self.meters[aggregation]

    def expected(self, aggregation: str, start: datetime, end: datetime) -> Decimal:
        kept = oracle.deduplicate(self.oracle_events)
        matching = oracle.select(kept, customer=self.customer, event_type=self.type,
                                 start=start, end=end)
        prop = None if aggregation == "COUNT" else "value"
        return oracle.aggregate(aggregation, prop, matching)

    def query(self, meter_id: str, start: datetime, end: datetime, **extra: str) -> Any:
        settle_usage(self.run)
        return self.run.api.get(f"/v1/meters/{meter_id}/usage",
                                params={"customer": self.customer, "from": iso(start),
                                        "to": iso(end), **extra})


@pytest.fixture(scope="module")
def scenario(module_run: CheckRun) -> Scenario:
    return Scenario(module_run, Factory(module_run))


def _usage(check, requirement: str, scenario: Scenario, aggregation: str, start: datetime,
           end: datetime, **extra: str) -> dict | None:
    meter = scenario.meter(aggregation)
    if "_reply" in meter:
        expect.status(check, requirement, meter["_reply"], 201, "POST /v1/meters",
                      f"creating a {aggregation} meter", stop=True)
    reply = scenario.query(meter["id"], start, end, **extra)
    expect.status(check, requirement, reply, 200, USAGE, stop=True)
    return expect.json_object(check, requirement, reply, USAGE) | {"_exchange": reply.exchange}


def _value_is(check, requirement: str, body: dict, expected: Decimal, what: str) -> None:
    check.that(requirement, oracle.same_decimal(body.get("value"), expected),
               f"{what}: value {body.get('value')!r}, the oracle computes {expected}",
               operation=USAGE, expected=str(expected), observed=body.get("value"),
               exchange=body.get("_exchange"))


def _first_write_wins(run: CheckRun, check, meter: dict, customer: str, moment: datetime,
                      want: Decimal, what: str) -> None:
    """The SUM around `moment` counts only the first write of each event id (VAL-EVENT-002)."""
    settle_usage(run)
    usage = run.api.get(f"/v1/meters/{meter['id']}/usage",
                        params={"customer": customer, "from": iso(moment - timedelta(minutes=1)),
                                "to": iso(moment + timedelta(minutes=1))})
    expect.status(check, "VAL-EVENT-002", usage, 200, USAGE, stop=True)
    value = usage.json().get("value")
    check.that("VAL-EVENT-002", oracle.same_decimal(value, want),
               f"SUM {value!r} {what}; first write wins: {want}",
               operation=USAGE, expected=str(want), observed=value, exchange=usage.exchange)


@pytest.mark.requirements("VAL-EVENT-001", "VAL-EVENT-002")
def test_ingestion_and_deduplication(run: CheckRun, check, scenario: Scenario, factory: Factory) -> None:
    receipt = scenario.receipt
    check.that("VAL-EVENT-001", receipt.get("accepted") == len(scenario.events),
               f"batch receipt accepted={receipt.get('accepted')!r}",
               operation="POST /v1/events/batch", expected=len(scenario.events),
               observed=receipt.get("accepted"), exchange=scenario.make.last.exchange)
    meter = factory.meter("SUM")
    customer = factory.unique("dedup")
    moment = now() - timedelta(hours=1)
    first = factory.event(customer, meter["event_type"], moment, {"value": 2})
    earlier = [factory.event(customer, meter["event_type"], moment, {"value": 1}), first]
    factory.ingest(earlier)
    reply = run.api.post("/v1/events", dict(first, data={"value": 1000}))  # same id, other value
    ingested(run)
    expect.status(check, "VAL-EVENT-002", reply, 202, "POST /v1/events", "duplicate id")
    status = reply.json().get("status") if reply.status == 202 else None
    check.that("VAL-EVENT-002", status == "duplicate", f"a repeated id was reported {status!r}",
               operation="POST /v1/events", expected="duplicate", observed=status,
               exchange=reply.exchange)
    _first_write_wins(run, check, meter, customer, moment, Decimal(3),
                      "after a duplicate id with another value")
    # ids are unique in the organization, not per customer
    other = factory.unique("dedup")
    reply = run.api.post("/v1/events", dict(first, customer=other))
    ingested(run)
    status = reply.json().get("status") if reply.status == 202 else None
    check.that("VAL-EVENT-002", status == "duplicate",
               f"an id already accepted, sent for another customer, was reported {status!r}",
               operation="POST /v1/events", expected="duplicate", observed=status,
               exchange=reply.exchange)
    # A batch of both ids again and one new event (of another type: usage stays 3): its receipt
    # reports each event, and counts the accepted ones and the duplicates among them.
    fresh = factory.event(customer, factory.unique("dedup"), moment, {"value": 1})
    batch = run.api.post("/v1/events/batch", {"events": [*earlier, fresh]})
    ingested(run)
    expect.status(check, "VAL-EVENT-002", batch, 202, "POST /v1/events/batch", "two repeated ids")
    receipt = batch.json() if batch.status == 202 else {}
    statuses = [r.get("status") for r in receipt.get("results") or [] if isinstance(r, dict)]
    counts = {"accepted": receipt.get("accepted"), "duplicates": receipt.get("duplicates")}
    check.that("VAL-EVENT-002", statuses == ["duplicate", "duplicate", "accepted"]
               and counts == {"accepted": 1, "duplicates": 2},
               f"batch of two repeated ids and a new one: results {statuses}, counts {counts}",
               operation="POST /v1/events/batch",
               expected={"results": ["duplicate", "duplicate", "accepted"], "accepted": 1,
                         "duplicates": 2},
               observed={"results": statuses, **counts}, exchange=batch.exchange)
    # One id twice in one batch: the first is accepted, the second is its duplicate, and only the
    # first one's value counts.
    twin = factory.unique("dedup")
    once = factory.event(twin, meter["event_type"], moment, {"value": 1})
    batch = run.api.post("/v1/events/batch", {"events": [once, dict(once, data={"value": 100})]})
    ingested(run)
    expect.status(check, "VAL-EVENT-002", batch, 202, "POST /v1/events/batch", "one id twice")
    receipt = batch.json() if batch.status == 202 else {}
    statuses = [r.get("status") for r in receipt.get("results") or [] if isinstance(r, dict)]
    counts = {"accepted": receipt.get("accepted"), "duplicates": receipt.get("duplicates")}
    check.that("VAL-EVENT-002", statuses == ["accepted", "duplicate"]
               and counts == {"accepted": 1, "duplicates": 1},
               f"a batch holding one id twice: results {statuses}, counts {counts}",
               operation="POST /v1/events/batch",
               expected={"results": ["accepted", "duplicate"], "accepted": 1, "duplicates": 1},
               observed={"results": statuses, **counts}, exchange=batch.exchange)
    _first_write_wins(run, check, meter, twin, moment, Decimal(1),
                      "after one id twice in a batch (1, then 100)")


@pytest.mark.requirements("VAL-METER-001", "VAL-METER-003", "VAL-METER-004")
@pytest.mark.parametrize("aggregation", AGGREGATIONS_10)
def test_aggregations_match_the_oracle(run: CheckRun, check, scenario: Scenario,
                                       aggregation: str) -> None:
    start, end = scenario.main
    body = _usage(check, "VAL-METER-001", scenario, aggregation, start, end)
    expected = scenario.expected(aggregation, start, end)
    requirement, other = (("VAL-METER-003", "VAL-METER-004") if aggregation in ("SUM", "COUNT")
                          else ("VAL-METER-004", "VAL-METER-003"))
    _value_is(check, requirement, body, expected, f"{aggregation} over [from, to)")
    check.skip(other, f"judged by the other aggregations, not {aggregation}")
    check.that("VAL-METER-001", body.get("customer") == scenario.customer,
               "usage names another customer", operation=USAGE, expected=scenario.customer,
               observed=body.get("customer"), exchange=body.get("_exchange"))
    empty = _usage(check, "VAL-METER-004", scenario, aggregation, start - timedelta(days=2),
                   start - timedelta(days=1))
    _value_is(check, "VAL-METER-004", empty, Decimal(0), "a window without events")


@pytest.mark.requirements("VAL-METER-006")
@pytest.mark.parametrize("aggregation", ["SUM", "COUNT", "MAX", "LATEST"])
def test_non_numeric_values(run: CheckRun, check, scenario: Scenario, aggregation: str) -> None:
    start, end = scenario.non_numeric  # only a non-numeric value and a missing one
    body = _usage(check, "VAL-METER-006", scenario, aggregation, start, end)
    _value_is(check, "VAL-METER-006", body, scenario.expected(aggregation, start, end),
              f"{aggregation} over events without a numeric value")


@pytest.mark.requirements("VAL-METER-004")
@pytest.mark.parametrize("aggregation", ["MAX", "LATEST"])
def test_values_all_below_zero(run: CheckRun, check, scenario: Scenario, aggregation: str) -> None:
    """-5, "-3", -7.25: MAX is -3 (a running maximum must not start at 0), LATEST -7.25."""
    start, end = scenario.negative
    body = _usage(check, "VAL-METER-004", scenario, aggregation, start, end)
    _value_is(check, "VAL-METER-004", body, scenario.expected(aggregation, start, end),
              f"{aggregation} of values all below zero")


@pytest.mark.requirements("VAL-TIME-002")
def test_windows_are_half_open(run: CheckRun, check, scenario: Scenario) -> None:
    base = scenario.base
    for start, end, what in ((base, base + timedelta(hours=2), "an event at `from` counts, one at `to` not"),
                             (base + timedelta(hours=2), base + timedelta(hours=3), "the event at `from`")):
        body = _usage(check, "VAL-TIME-002", scenario, "COUNT", start, end)
        _value_is(check, "VAL-TIME-002", body, scenario.expected("COUNT", start, end), what)
    # hourly rows over three hours: the events at base and base + 2 h lie on row bounds, so each
    # belongs to the row it starts, never to the one it ends
    body = _usage(check, "VAL-TIME-002", scenario, "SUM", base, base + timedelta(hours=3), window="HOUR")
    rows = body.get("rows") if isinstance(body.get("rows"), list) else []
    got = [row.get("value") for row in rows if isinstance(row, dict)]
    hours = [base + timedelta(hours=h) for h in range(4)]
    want = [scenario.expected("SUM", a, b) for a, b in itertools.pairwise(hours)]
    check.that("VAL-TIME-002", len(got) == len(want) and all(map(oracle.same_decimal, got, want)),
               f"hourly SUM rows {got}: an event on a row bound belongs to the row it starts",
               operation=USAGE, expected=[str(w) for w in want], observed=got,
               exchange=body.get("_exchange"))


@pytest.mark.requirements("VAL-METER-007")
@pytest.mark.parametrize("aggregation", ["AVG", "MIN"])
def test_avg_and_min(run: CheckRun, check, scenario: Scenario, aggregation: str) -> None:
    start, end = scenario.main
    body = _usage(check, "VAL-METER-007", scenario, aggregation, start, end)
    _value_is(check, "VAL-METER-007", body, scenario.expected(aggregation, start, end), aggregation)


@pytest.mark.requirements("VAL-METER-005")
@pytest.mark.parametrize("window", ["HOUR", "DAY"])
@pytest.mark.parametrize("shift", [5, 15])  # no event on a bound: those are TIME-002's
def test_windows_add_up(run: CheckRun, check, scenario: Scenario, window: str, shift: int) -> None:
    start = scenario.base + timedelta(minutes=shift)
    end = scenario.base + timedelta(hours=2, minutes=-shift)
    for aggregation in ("SUM", "COUNT"):
        body = _usage(check, "VAL-METER-005", scenario, aggregation, start, end, window=window)
        rows = body.get("rows")
        expected_rows = oracle.windows(start, end, window)
        check.require("VAL-METER-005", isinstance(rows, list) and len(rows) == len(expected_rows),
                      f"{len(rows) if isinstance(rows, list) else rows!r} rows, expected "
                      f"{len(expected_rows)}", operation=USAGE, expected=len(expected_rows),
                      observed=len(rows) if isinstance(rows, list) else rows,
                      exchange=body.get("_exchange"))
        for row, (row_start, row_end) in zip(rows, expected_rows, strict=True):
            bounds = (row.get("from"), row.get("to"))
            check.that("VAL-METER-005", bounds == (iso(row_start), iso(row_end)) or (
                       _same_time(bounds[0], row_start) and _same_time(bounds[1], row_end)),
                       f"row {bounds} is not the window [{iso(row_start)}, {iso(row_end)})",
                       operation=USAGE, expected=[iso(row_start), iso(row_end)], observed=bounds,
                       exchange=body.get("_exchange"))
            want = scenario.expected(aggregation, row_start, row_end)
            check.that("VAL-METER-005", oracle.same_decimal(row.get("value"), want),
                       f"{aggregation} row {iso(row_start)}: {row.get('value')!r}, oracle {want}",
                       operation=USAGE, expected=str(want), observed=row.get("value"),
                       exchange=body.get("_exchange"))
        total = sum((Decimal(r.get("value", "0")) for r in rows), Decimal(0))
        check.that("VAL-METER-005", oracle.same_decimal(body.get("value"), total),
                   f"{aggregation} rows add up to {total}, value is {body.get('value')!r}",
                   operation=USAGE, expected=str(total), observed=body.get("value"),
                   exchange=body.get("_exchange"))


def _same_time(text: Any, moment: datetime) -> bool:
    try:
        return parse_time(text) == moment
    except (TypeError, ValueError):
        return False


@pytest.mark.requirements("VAL-METER-001")
def test_the_customer_is_matched_exactly(run: CheckRun, check, factory: Factory) -> None:
    """`customer` equals the queried customer: not the same letters in another case (a
    case-insensitive collation), nor one with a space around it; and a customer that reads as
    another type ("0042", "true") is the string it is, not a number or a boolean."""
    meter = factory.meter("COUNT", value_property=None)
    customer = factory.unique("Exact")
    moment = now() - timedelta(hours=1)
    others = [customer.swapcase(), customer.upper(), f" {customer}", "42"]
    factory.ingest([factory.event(name, meter["event_type"], moment, {})
                    for name in (customer, "0042", "true", *others)])
    settle_usage(run)
    for name in (customer, "0042", "true"):
        reply = run.api.get(f"/v1/meters/{meter['id']}/usage", params={
            "customer": name, "from": iso(moment - timedelta(minutes=1)),
            "to": iso(moment + timedelta(minutes=1))})
        expect.status(check, "VAL-METER-001", reply, 200, USAGE, f"customer={name}", stop=True)
        body = expect.json_object(check, "VAL-METER-001", reply, USAGE) | {"_exchange": reply.exchange}
        _value_is(check, "VAL-METER-001", body, Decimal(1),
                  f"COUNT for {name!r}, with one event each also for {', '.join(map(repr, others))}")


OFFSETS = (timedelta(hours=2), -timedelta(hours=5, minutes=30))  # east and west of UTC


def _at_offset(moment: datetime, offset: timedelta) -> str:
    """The same instant in RFC 3339 with a numeric offset, e.g. 2026-01-01T12:00:00+02:00."""
    return moment.astimezone(timezone(offset)).isoformat(timespec="seconds")


@pytest.mark.requirements("VAL-TIME-001")
def test_times_with_an_offset_are_instants(run: CheckRun, check, scenario: Scenario,
                                           factory: Factory) -> None:
    """A window, or an event time, written with an offset other than Z is the same instant: read
    as UTC wall-clock time it would move by hours, and other events would be counted."""
    start, end = scenario.base, scenario.base + timedelta(hours=2)
    expected = scenario.expected("COUNT", start, end)
    for offset in OFFSETS:
        window = {"from": _at_offset(start, offset), "to": _at_offset(end, offset)}
        body = _usage(check, "VAL-TIME-001", scenario, "COUNT", start, end, **window)
        _value_is(check, "VAL-TIME-001", body, expected,
                  f"COUNT over [{window['from']}, {window['to']})")
    meter = factory.meter("COUNT", value_property=None)
    customer = factory.customer()["external_id"]
    moment = now().replace(microsecond=0) - timedelta(hours=1)
    factory.ingest([factory.event(customer, meter["event_type"], moment, {})
                    | {"time": _at_offset(moment, offset)} for offset in OFFSETS])
    settle_usage(run)
    reply = run.api.get(f"/v1/meters/{meter['id']}/usage", params={
        "customer": customer, "from": iso(moment), "to": iso(moment + timedelta(seconds=1))})
    expect.status(check, "VAL-TIME-001", reply, 200, USAGE, stop=True)
    body = expect.json_object(check, "VAL-TIME-001", reply, USAGE) | {"_exchange": reply.exchange}
    _value_is(check, "VAL-TIME-001", body, Decimal(len(OFFSETS)),
              "COUNT over the one second in which both events happened (their times written "
              "with +02:00 and -05:30 offsets)")


HALF_LIMIT = "50000000000000000000000000"  # 5 × 10^25: two of them reach 10^26


@pytest.mark.requirements("VAL-METER-003", "VAL-ERR-003")
def test_usage_values_below_10_to_the_26(run: CheckRun, check, factory: Factory) -> None:
    """Two events of 5 × 10^25 sum to 10^26 exactly, which does not fit: 400 `invalid_request`,
    as does a sum beyond it; with the second 10^-12 smaller the sum is the largest value that
    fits, and is answered."""
    meter = factory.meter("SUM")
    start = now().replace(second=0) - timedelta(minutes=30)
    below = "49999999999999999999999999.999999999999"
    for value, fits in ((HALF_LIMIT, False), ("60000000000000000000000000", False), (below, True)):
        customer = factory.unique("big")
        factory.ingest([factory.event(customer, meter["event_type"], start + timedelta(minutes=minute),
                                      {"value": v}) for minute, v in ((1, HALF_LIMIT), (2, value))])
        settle_usage(run)
        reply = run.api.get(f"/v1/meters/{meter['id']}/usage", params={
            "customer": customer, "from": iso(start), "to": iso(start + timedelta(minutes=10))})
        want = oracle.exact_sum((HALF_LIMIT, value))
        if fits:
            expect.status(check, "VAL-METER-003", reply, 200, USAGE, f"a SUM of {want}, below 10^26",
                          stop=True)
            got = reply.json().get("value")
            check.that("VAL-METER-003", oracle.same_decimal(got, want), f"SUM {got!r}, exactly {want}",
                       operation=USAGE, expected=str(want), observed=got, exchange=reply.exchange)
        else:
            expect.status(check, "VAL-METER-003", reply, 400, USAGE, f"a SUM of {want}, at least 10^26")
            if reply.status == 400:
                expect.problem_code(check, "VAL-ERR-003", reply, "invalid_request", USAGE)


@pytest.mark.requirements("VAL-TIME-002")
def test_empty_or_reversed_windows_are_rejected(run: CheckRun, check, scenario: Scenario,
                                                factory: Factory) -> None:
    """In a usage query and in an invoice's period alike."""
    meter = scenario.meter("SUM")
    subscription = factory.subscription(factory.customer()["id"], [factory.price("flat")["id"]])
    for start, end in ((scenario.base, scenario.base), (scenario.base, scenario.base - timedelta(hours=1))):
        reply = scenario.query(meter["id"], start, end)
        expect.status(check, "VAL-TIME-002", reply, 400, USAGE, "to <= from")
        reply = run.api.post("/v1/invoices", {"subscription_id": subscription["id"],
                                              "period_start": iso(start), "period_end": iso(end)})
        expect.status(check, "VAL-TIME-002", reply, 400, "POST /v1/invoices", "period_end <= period_start")


@pytest.mark.requirements("VAL-METER-009")
@pytest.mark.parametrize("shift", [0, 35])  # shifted, the first event is "us": not the least key
def test_group_by(run: CheckRun, check, scenario: Scenario, shift: int) -> None:
    start, end = scenario.main
    start += timedelta(minutes=shift)
    body = _usage(check, "VAL-METER-009", scenario, "SUM", start, end, group_by="region")
    groups = body.get("groups")
    check.require("VAL-METER-009", isinstance(groups, list), "no `groups` with group_by",
                  operation=USAGE, expected="groups", observed=groups,
                  exchange=body.get("_exchange"))
    kept = oracle.select(oracle.deduplicate(scenario.oracle_events), customer=scenario.customer,
                         event_type=scenario.type, start=start, end=end)
    expected: dict[str | None, list] = {}
    for event in kept:
        expected.setdefault(oracle.string_form(event.data.get("region")), []).append(event)
    observed = {g.get("key"): g.get("value") for g in groups if isinstance(g, dict)}
    check.that("VAL-METER-009", set(observed) == set(expected),
               f"group keys {sorted(map(str, observed))}, expected {sorted(map(str, expected))}",
               operation=USAGE, expected=sorted(map(str, expected)),
               observed=sorted(map(str, observed)), exchange=body.get("_exchange"))
    for key, events in expected.items():
        want = oracle.aggregate("SUM", "value", events)
        check.that("VAL-METER-009", oracle.same_decimal(observed.get(key), want),
                   f"group {key!r}: {observed.get(key)!r}, oracle {want}", operation=USAGE,
                   expected=str(want), observed=observed.get(key), exchange=body.get("_exchange"))
    order = [g.get("key") for g in groups if isinstance(g, dict)]
    want_order = sorted(k for k in expected if k is not None) + ([None] if None in expected else [])
    check.that("VAL-METER-009", order == want_order,
               f"groups in key order {order}, expected {want_order} (by key, null last)",
               operation=USAGE, expected=want_order, observed=order, exchange=body.get("_exchange"))


MISSING = object()  # an event without the value property
# Not numeric (VAL-METER-006): an exponent, spaces, a sign other than "-", separators, other
# digits than ASCII 0-9, more than 12 fractional digits, booleans and null.
NOT_NUMERIC = ["1e3", " 2.5", "2.5 ", "+1", ".5", "1.", "1_000", "1,5", "NaN", "Infinity", "\u0663",
               "\uff11", "0.1234567890123", True, False, None, MISSING]
# Numeric: JSON numbers in any notation (1e-07 is sent as such) and decimal strings.
NUMERIC = [2, "3.5", 0.25, "-1", 1e-07, "007", "0.000000000001"]


def _fresh_usage(run: CheckRun, check, factory: Factory, requirement: str, aggregation: str,
                 values: list[Any], prop: str = "value", **extra: str) -> tuple[dict, Decimal]:
    """Usage over a fresh meter and customer whose events carry `values` (in this order, all at
    one instant), and what the oracle computes for it."""
    meter = factory.meter(aggregation, value_property=None if aggregation == "COUNT" else prop)
    customer = factory.unique("num")
    moment = now() - timedelta(hours=1)
    events = [factory.event(customer, meter["event_type"], moment,
                            {} if value is MISSING else {prop: value}) for value in values]
    factory.ingest(events)
    settle_usage(run)
    reply = run.api.get(f"/v1/meters/{meter['id']}/usage",
                        params={"customer": customer, "from": iso(moment - timedelta(minutes=1)),
                                "to": iso(moment + timedelta(minutes=1)), **extra})
    expect.status(check, requirement, reply, 200, USAGE, stop=True)
    body = expect.json_object(check, requirement, reply, USAGE) | {"_exchange": reply.exchange}
    matching = [oracle.Event(e["id"], customer, meter["event_type"], moment, e["data"]) for e in events]
    return body, oracle.aggregate(aggregation, None if aggregation == "COUNT" else prop, matching)


@pytest.mark.requirements("VAL-METER-006")
@pytest.mark.parametrize("aggregation", ["SUM", "MAX", "COUNT"])
def test_numeric_grammar(run: CheckRun, check, factory: Factory, aggregation: str) -> None:
    """Only JSON numbers and strings of the decimal grammar are numeric."""
    values = [v for pair in zip(NUMERIC, NOT_NUMERIC, strict=False) for v in pair]
    values += NOT_NUMERIC[len(NUMERIC):]
    body, expected = _fresh_usage(run, check, factory, "VAL-METER-006", aggregation, values)
    _value_is(check, "VAL-METER-006", body, expected,
              f"{aggregation} over {len(NUMERIC)} numeric values among 1e3, ' 2.5', '1_000', "
              f"non-ASCII digits, 13 fractional digits, booleans and null")


@pytest.mark.requirements("VAL-METER-004")
def test_unique_count_by_string_form(run: CheckRun, check, factory: Factory) -> None:
    """1, 1.0 and "1" are one value, "1.0" another; null and missing are not counted. Also pair by
    pair, where a language's own equality errs one way (1 and "1" apart) and the other (true and 1
    together), which a mix of both could hide."""
    values = [1, 1.0, "1", "1.0", 2, 2.5, "2.50", "b", True, None, MISSING, 1]
    body, expected = _fresh_usage(run, check, factory, "VAL-METER-004", "UNIQUE_COUNT", values)
    _value_is(check, "VAL-METER-004", body, expected,
              "UNIQUE_COUNT of 1, 1.0, \"1\", \"1.0\", 2, 2.5, \"2.50\", \"b\", true, null, a missing value")
    for pair in ([1, "1"], [True, 1], [True, "true"], [0, False], [1.5, "1.50"]):
        body, expected = _fresh_usage(run, check, factory, "VAL-METER-004", "UNIQUE_COUNT", pair)
        _value_is(check, "VAL-METER-004", body, expected,
                  "UNIQUE_COUNT of " + " and ".join(json.dumps(v) for v in pair))


@pytest.mark.requirements("VAL-METER-009")
def test_group_keys_in_code_point_order(run: CheckRun, check, factory: Factory) -> None:
    """Keys by string form, ascending Unicode code points (not UTF-16 units), null last."""
    keys = ["\U0001d7d8", "\ufffd", "\u00e9", "a", "Z", "10", "9", 1.0, None, MISSING, True]
    body, _ = _fresh_usage(run, check, factory, "VAL-METER-009", "COUNT", keys, prop="k",
                           group_by="k")
    groups = body.get("groups")
    check.require("VAL-METER-009", isinstance(groups, list), "no `groups` with group_by",
                  operation=USAGE, expected="groups", observed=groups, exchange=body.get("_exchange"))
    observed = [g.get("key") for g in groups if isinstance(g, dict)]
    wanted = oracle.group_order({oracle.string_form(None if k is MISSING else k) for k in keys})
    check.that("VAL-METER-009", observed == wanted,
               f"group keys {observed!r}, expected {wanted!r} (code point order, null last)",
               operation=USAGE, expected=wanted, observed=observed, exchange=body.get("_exchange"))


MANY = 1050  # more than a page of 1000 rows, the limit a server may quietly read events with


@pytest.mark.requirements("VAL-METER-003", "VAL-METER-005")
def test_usage_over_many_events(run: CheckRun, check, factory: Factory) -> None:
    """1050 events of value 1 over two hours (11 batches): SUM and COUNT are 1050, and so are the
    two hourly rows added up. A server that reads at most N events per query, or a row's events
    into a fixed-size buffer, falls short here."""
    total = factory.meter("SUM")
    count = factory.meter("COUNT", None, event_type=total["event_type"])
    customer = factory.unique("many")
    start = now().replace(minute=0, second=0) - timedelta(hours=2)
    events = [factory.event(customer, total["event_type"], start + timedelta(seconds=6 * i), {"value": 1})
              for i in range(MANY)]
    for first in range(0, MANY, 100):
        factory.ingest(events[first:first + 100])
    settle_usage(run)
    window = {"customer": customer, "from": iso(start), "to": iso(start + timedelta(hours=2))}
    for meter, requirement, extra in ((total, "VAL-METER-003", {}), (count, "VAL-METER-003", {}),
                                      (total, "VAL-METER-005", {"window": "HOUR"})):
        reply = run.api.get(f"/v1/meters/{meter['id']}/usage", params=window | extra)
        expect.status(check, requirement, reply, 200, USAGE, stop=True)
        body = reply.json()
        got = body.get("value")
        if extra:  # the rows' values added up, when every one is a decimal string
            values = [r.get("value") for r in body.get("rows") or [] if isinstance(r, dict)]
            numbers = [oracle.decimal_or_none(v) for v in values]
            got = str(sum(numbers)) if numbers and None not in numbers else values
        what = "the hourly rows added up" if extra else meter["aggregation"]
        check.that(requirement, oracle.same_decimal(got, Decimal(MANY)),
                   f"{what} of {MANY} events of value 1: {got}", operation=USAGE, expected=str(MANY),
                   observed=got, exchange=reply.exchange)


@pytest.mark.requirements("VAL-METER-005")
def test_at_most_1000_windows(run: CheckRun, check, factory: Factory) -> None:
    """A query yields at most 1000 rows: 1000 aligned hours are answered, 1001 are 400; and a window
    counts where it intersects `[from, to)`, so 999 hours starting at :30 are 1000 rows and 1000
    hours starting at :30 are 1001 rows (400)."""
    meter = factory.meter("COUNT", value_property=None)
    end = now().replace(minute=0, second=0, microsecond=0)
    limit = oracle.MAX_WINDOWS
    unaligned = end - timedelta(hours=limit + 1, minutes=-30)
    for start, hours, rows in ((end - timedelta(hours=limit), limit, limit),
                               (end - timedelta(hours=limit + 1), limit + 1, limit + 1),
                               (unaligned, limit - 1, limit), (unaligned, limit, limit + 1)):
        status = 200 if rows <= limit else 400
        what = f"{hours} hours from {iso(start)}: {rows} HOUR windows"
        reply = run.api.get(f"/v1/meters/{meter['id']}/usage",
                            params={"customer": factory.unique("c"), "window": "HOUR",
                                    "from": iso(start), "to": iso(start + timedelta(hours=hours))})
        expect.status(check, "VAL-METER-005", reply, status, USAGE, what)
        got = reply.json().get("rows") if reply.status == 200 else None
        if status == 200 and reply.status == 200:
            check.that("VAL-METER-005", isinstance(got, list) and len(got) == rows,
                       f"{len(got) if isinstance(got, list) else got!r} rows for {what}",
                       operation=USAGE, expected=rows,
                       observed=len(got) if isinstance(got, list) else got, exchange=reply.exchange)


@pytest.mark.requirements("VAL-EVENT-003", "VAL-ERR-003")
def test_backdating_window(run: CheckRun, check, factory: Factory) -> None:
    """Both ends of the window, on both ingestion endpoints (a batch of one event)."""
    customer = factory.unique("c")
    for offset, accepted in ((timedelta(days=-36), False), (timedelta(minutes=10), False),
                             (timedelta(days=-34), True), (timedelta(minutes=2), True)):
        when = f"event time now{'+' if offset.total_seconds() >= 0 else '-'}{abs(offset)}"
        for path in ("/v1/events", "/v1/events/batch"):
            event = factory.event(customer, "backdating", now() + offset, {"value": 1})
            reply = run.api.post(path, event if path == "/v1/events" else {"events": [event]})
            operation = f"POST {path}"
            expect.status(check, "VAL-EVENT-003", reply, 202 if accepted else 400, operation, when)
            if not accepted and reply.status == 400:
                expect.problem_code(check, "VAL-ERR-003", reply, "event_outside_window", operation)


@pytest.mark.requirements("VAL-EVENT-004", "VAL-ERR-004")
def test_batches_are_all_or_nothing(run: CheckRun, check, factory: Factory) -> None:
    good = factory.event(factory.unique("c"), "batch", now() - timedelta(minutes=5), {"value": 1})
    bad = dict(good, id=factory.unique("e"), time="not-a-time")
    reply = run.api.post("/v1/events/batch", {"events": [good, bad]})
    expect.status(check, "VAL-EVENT-004", reply, 400, "POST /v1/events/batch", "one invalid event")
    _names_the_second_event(check, reply, "an invalid time")
    _not_ingested(run, check, "VAL-EVENT-004", good, "one invalid event")
    # invalid for its time: outside the backdating window (VAL-EVENT-003), after a valid one
    fresh = dict(good, id=factory.unique("e"))
    old = dict(good, id=factory.unique("e"), time=iso(now() - timedelta(days=40)))
    reply = run.api.post("/v1/events/batch", {"events": [fresh, old]})
    expect.status(check, "VAL-EVENT-004", reply, 400, "POST /v1/events/batch",
                  "one event 40 days old")
    _names_the_second_event(check, reply, "a time 40 days old")
    _not_ingested(run, check, "VAL-EVENT-004", fresh, "an event 40 days old")
    # one event more than the schema's maxItems: a length the schema states (VAL-ERR-004)
    limit = _batch_limit(run)
    if limit is not None:
        events = [dict(good, id=factory.unique("e")) for _ in range(limit + 1)]
        reply = run.api.post("/v1/events/batch", {"events": events})
        expect.status(check, "VAL-ERR-004", reply, 400, "POST /v1/events/batch",
                      f"{limit + 1} events (maxItems {limit})")
        _not_ingested(run, check, "VAL-ERR-004", events[0], f"{limit + 1} events")


def _names_the_second_event(check, reply: Any, what: str) -> None:
    """A rejected batch of two whose second event is invalid names that event (index 1)."""
    if reply.status != 400:
        return
    params = reply.json().get("invalid_params") or []
    names = [p.get("name", "") for p in params if isinstance(p, dict)]
    check.that("VAL-EVENT-004", any("1" in str(n) for n in names),
               f"{what} in the second event: invalid_params {names} do not name it (index 1)",
               operation="POST /v1/events/batch", expected="events[1]...", observed=names,
               exchange=reply.exchange)


def _not_ingested(run: CheckRun, check, requirement: str, event: dict, why: str) -> None:
    """The event of a rejected batch was not ingested: sent alone now, it is accepted."""
    again = run.api.post("/v1/events", event)
    status = again.json().get("status") if again.status == 202 else None
    check.that(requirement, status == "accepted",
               f"the valid event of a rejected batch ({why}) was ingested (now {status!r})",
               operation="POST /v1/events", expected="accepted", observed=status,
               exchange=again.exchange)


def _batch_limit(run: CheckRun) -> int | None:
    """maxItems of the batch's `events` in the target's spec."""
    doc = run.catalogue.documents[run.target_version]
    resolved = lambda node: _spec.resolve(doc, node["$ref"]) if "$ref" in node else node  # noqa: E731
    body = doc["paths"]["/events/batch"]["post"]["requestBody"]["content"]["application/json"]
    return resolved(resolved(body["schema"]).get("properties", {}).get("events", {})).get("maxItems")


@pytest.mark.requirements("VAL-METER-002")
def test_value_property_required_except_count(run: CheckRun, check, factory: Factory) -> None:
    for aggregation, expected in (("SUM", 400), ("MAX", 400), ("COUNT", 201)):
        reply = run.api.post("/v1/meters", {"key": factory.unique("vp").lower(), "name": "vp",
                                            "metadata": factory.metadata,
                                            "event_type": "vp", "aggregation": aggregation})
        expect.status(check, "VAL-METER-002", reply, expected, "POST /v1/meters",
                      f"{aggregation} meter without value_property")


@pytest.mark.requirements("VAL-AUTH-004")
def test_usage_is_scoped_to_the_organization(run: CheckRun, check, scenario: Scenario, api_b) -> None:
    reply = api_b.post("/v1/meters", {"key": scenario.make.unique("b").lower(), "name": "B",
                                      "metadata": scenario.make.metadata,
                                      "event_type": scenario.type, "aggregation": "COUNT"})
    expect.status(check, "VAL-AUTH-004", reply, 201, "POST /v1/meters", "organization B",
                  stop=True)
    settle_usage(run)
    usage = api_b.get(f"/v1/meters/{reply.json()['id']}/usage",
                      params={"customer": scenario.customer, "from": iso(scenario.base),
                              "to": iso(scenario.base + timedelta(hours=3))})
    value = usage.json().get("value") if usage.status == 200 else None
    check.that("VAL-AUTH-004", oracle.same_decimal(value, Decimal(0)),
               f"organization B counts organization A's events ({value!r})", operation=USAGE,
               expected="0", observed=value, exchange=usage.exchange)


@pytest.mark.requirements("VAL-META-002")
def test_usage_visible_within_declared_delay(run: CheckRun, check, factory: Factory) -> None:
    declared = (run.declared or {}).get("usage_visibility_seconds", 0)
    delay = float(declared) if isinstance(declared, int | float) else 0.0
    meter = factory.meter("COUNT", value_property=None)
    customer = factory.unique("vis")
    moment = now() - timedelta(minutes=1)
    factory.ingest([factory.event(customer, meter["event_type"], moment, {})])
    give_up = time.monotonic() + min(delay, 120.0) + 1.0
    while True:
        reply = run.api.get(f"/v1/meters/{meter['id']}/usage",
                            params={"customer": customer, "from": iso(moment - timedelta(hours=1)),
                                    "to": iso(now() + timedelta(minutes=1))})
        value = reply.json().get("value") if reply.status == 200 else None
        if oracle.same_decimal(value, Decimal(1)) or time.monotonic() > give_up:
            break
        time.sleep(0.25)
    check.that("VAL-META-002", oracle.same_decimal(value, Decimal(1)),
               f"usage not visible after the declared {delay:g} s (value {value!r})",
               operation=USAGE, expected="1", observed=value, exchange=reply.exchange)
