"""The harness's own arithmetic: what a correct server must answer, computed independently."""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from typing import Any

WINDOWS = {"HOUR": timedelta(hours=1), "DAY": timedelta(days=1)}
TWELVE_PLACES = Decimal("1e-12")
# Exact for every value the harness sends (the default context keeps only 28 digits).
_WIDE = Context(prec=120, rounding=ROUND_HALF_EVEN)
MAX_WINDOWS = 1000  # rows one usage query may return (VAL-METER-005)
# The spec's decimal grammar (VAL-MONEY-002, VAL-METER-006); ASCII digits only, no exponent or spaces.
DECIMAL_GRAMMAR = re.compile(r"-?[0-9]+(\.[0-9]{1,12})?", re.ASCII)


@dataclass(frozen=True)
class Event:
    id: str
    customer: str
    type: str
    time: datetime
    data: dict[str, Any]


def numeric(value: Any) -> Decimal | None:
    """The value as a meter reads it (VAL-METER-006): a JSON number, or a string matching the
    decimal grammar; anything else ('1e3', ' 2.5', '1_000', non-ASCII digits, booleans, null,
    objects, arrays) is not numeric."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))  # the JSON text Python sends for it
        return number if number.is_finite() else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and DECIMAL_GRAMMAR.fullmatch(value):
        return Decimal(value)
    return None


def string_form(value: Any) -> str | None:
    """A value's string form for UNIQUE_COUNT and group keys (VAL-METER-004, VAL-METER-009).

    A string is its exact text, a number its plain decimal form (1, 1.0 and 1e0 are "1"), a
    boolean "true"/"false"; null, objects and arrays have none (not counted, key null).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    number = numeric(value) if isinstance(value, int | float | Decimal) else None
    if number is None:
        return None
    return "0" if number.is_zero() else format(number.normalize(_WIDE), "f")


def group_order(keys: Iterable[str | None]) -> list[str | None]:
    """Group keys in ascending Unicode code point order, null last (VAL-METER-009)."""
    return sorted(keys, key=lambda k: (k is None, k or ""))


def deduplicate(events: Iterable[Event]) -> list[Event]:
    """First write wins: later events with a seen id are ignored entirely."""
    seen: set[str] = set()
    kept = []
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            kept.append(event)
    return kept


def aggregate(aggregation: str, prop: str | None, events: Sequence[Event]) -> Decimal:
    """`events` are the matching events in ingestion order."""
    if aggregation == "COUNT":
        return Decimal(len(events))
    if aggregation == "UNIQUE_COUNT":
        forms = {string_form(e.data.get(prop)) for e in events}
        return Decimal(len(forms - {None}))
    return _rounded(_numeric_aggregate(aggregation, prop, events))


def _rounded(value: Decimal) -> Decimal:
    """Usage values are exact, rounded once half-even to at most 12 places (VAL-METER-003)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -12:
        return _WIDE.quantize(value, TWELVE_PLACES)
    return value


def _sum(numbers: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for number in numbers:
        total = _WIDE.add(total, number)
    return total


def exact_sum(texts: Iterable[str]) -> Decimal:
    """The exact sum of decimal strings (the default context would round past 28 digits)."""
    return _sum(Decimal(text) for text in texts)


def _numeric_aggregate(aggregation: str, prop: str | None, events: Sequence[Event]) -> Decimal:
    values = [(e, v) for e in events if (v := numeric(e.data.get(prop))) is not None]
    if not values:
        return Decimal(0)
    numbers = [v for _, v in values]
    if aggregation == "SUM":
        return _sum(numbers)
    if aggregation == "MAX":
        return max(numbers)
    if aggregation == "MIN":
        return min(numbers)
    if aggregation == "AVG":
        return _WIDE.divide(_sum(numbers), Decimal(len(numbers)))
    if aggregation == "LATEST":
        # greatest time; among equal times the last ingested
        best = None
        for index, (event, value) in enumerate(values):
            rank = (event.time, index)
            if best is None or rank >= best[0]:
                best = (rank, value)
        assert best is not None
        return best[1]
    raise ValueError(f"unknown aggregation {aggregation}")


def select(events: Iterable[Event], *, customer: str, event_type: str, start: datetime,
           end: datetime) -> list[Event]:
    """Half-open [start, end): an event at `start` counts, one at `end` does not."""
    return [e for e in events
            if e.customer == customer and e.type == event_type and start <= e.time < end]


def windows(start: datetime, end: datetime, size: str) -> list[tuple[datetime, datetime]]:
    step = WINDOWS[size]
    epoch = datetime(1970, 1, 1, tzinfo=start.tzinfo)
    first = epoch + ((start - epoch) // step) * step
    rows = []
    cursor = first
    while cursor < end:
        rows.append((max(cursor, start), min(cursor + step, end)))
        cursor += step
    return rows


def round_minor(value: Decimal) -> int:
    return int(_WIDE.quantize(value, Decimal(1)))


def tiered_amount(mode: str, tiers: Sequence[dict[str, Any]], quantity: Decimal) -> Decimal:
    """Exact (unrounded) amount in minor units for tiers with inclusive `up_to`."""
    if mode == "volume":
        for tier in tiers:
            if tier["up_to"] is None or quantity <= tier["up_to"]:
                return quantity * Decimal(tier["unit_amount"]) + Decimal(tier.get("flat_amount") or 0)
        raise ValueError("no open last tier")
    total, lower = Decimal(0), Decimal(0)
    for tier in tiers:
        upper = Decimal(tier["up_to"]) if tier["up_to"] is not None else None
        in_tier = (quantity if upper is None else min(quantity, upper)) - lower
        if in_tier <= 0:  # a tier is reached when some quantity falls in it
            break
        total += in_tier * Decimal(tier["unit_amount"]) + Decimal(tier.get("flat_amount") or 0)
        if upper is None:
            break
        lower = upper
    return total


def line_amount(price: dict[str, Any], quantity: Decimal) -> int:
    return round_minor(exact_line_amount(price, quantity))


def exact_line_amount(price: dict[str, Any], quantity: Decimal) -> Decimal:
    """A line's amount before its one rounding to the minor unit."""
    with localcontext(_WIDE):  # exact: 120 digits hold every product the harness forms
        return _exact_line_amount(price, quantity)


def _exact_line_amount(price: dict[str, Any], quantity: Decimal) -> Decimal:
    model = price["model"]
    if model == "flat":
        exact = Decimal(price["flat_amount"]) * quantity
    elif model == "per_unit":
        exact = Decimal(price["unit_amount"]) * quantity
    elif model == "tiered":
        exact = tiered_amount(price["tiers_mode"], price["tiers"], quantity)
    elif model == "package":
        # no package for a quantity of 0 or less (VAL-PRICE-005)
        packages = math.ceil(quantity / Decimal(price["package_size"])) if quantity > 0 else 0
        exact = Decimal(packages) * Decimal(price["package_amount"])
    else:
        raise ValueError(f"unknown price model {model}")
    return exact


def discount(subtotal: int, percent_off: str) -> int:
    """max(0, round_half_even(percent_off / 100 × subtotal)) (VAL-COUPON-003)."""
    return max(0, round_minor(_WIDE.divide(_WIDE.multiply(Decimal(subtotal), Decimal(percent_off)),
                                           Decimal(100))))


def total(subtotal: int, discount: int = 0) -> int:
    """max(0, subtotal − discount): a total is never negative (VAL-INV-004)."""
    return max(0, subtotal - discount)


def period_edge(start: datetime, interval: str, k: int) -> datetime:
    """`start_at + k·interval` (VAL-SUB-002): months counted from `start_at` each time, the day
    clamped to a shorter month's last (a start on Jan 31: Feb 28 or 29, then Mar 31), time kept."""
    if interval in ("day", "week"):
        return start + timedelta(days=k * (7 if interval == "week" else 1))
    months = start.month - 1 + k * (12 if interval == "year" else 1)
    year, month = start.year + months // 12, months % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def period_holding(start: datetime, interval: str, moment: datetime) -> tuple[datetime, datetime]:
    """The billing period `[start + k·interval, start + (k+1)·interval)` holding `moment`; the
    first one before `start` (VAL-SUB-002)."""
    k = 0
    while period_edge(start, interval, k + 1) <= moment:
        k += 1
    return period_edge(start, interval, k), period_edge(start, interval, k + 1)


def decimal_or_none(observed: Any) -> Decimal | None:
    """A decimal string's value; None for anything else."""
    try:
        return Decimal(observed) if isinstance(observed, str) else None
    except InvalidOperation:
        return None


def same_decimal(observed: Any, expected: Decimal) -> bool:
    return decimal_or_none(observed) == expected
