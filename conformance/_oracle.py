"""The harness's own arithmetic: what a correct server must answer, computed independently."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

WINDOWS = {"HOUR": timedelta(hours=1), "DAY": timedelta(days=1)}
TWELVE_PLACES = Decimal("1e-12")


@dataclass(frozen=True)
class Event:
    id: str
    customer: str
    type: str
    time: datetime
    data: dict[str, Any]


def numeric(value: Any) -> Decimal | None:
    """The value as a meter reads it: numbers and decimal strings count, anything else not."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


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
        return Decimal(len({_as_text(e.data.get(prop)) for e in events if prop in e.data}))
    values = [(e, v) for e in events if (v := numeric(e.data.get(prop))) is not None]
    if not values:
        return Decimal(0)
    numbers = [v for _, v in values]
    if aggregation == "SUM":
        return sum(numbers, Decimal(0))
    if aggregation == "MAX":
        return max(numbers)
    if aggregation == "MIN":
        return min(numbers)
    if aggregation == "AVG":
        mean = sum(numbers, Decimal(0)) / Decimal(len(numbers))
        return mean.quantize(TWELVE_PLACES, rounding=ROUND_HALF_EVEN)
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


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = Decimal(str(value))
        return format(number.normalize(), "f") if number == number.to_integral() else str(value)
    return str(value)


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
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


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
    model = price["model"]
    if model == "flat":
        exact = Decimal(price["flat_amount"]) * quantity
    elif model == "per_unit":
        exact = Decimal(price["unit_amount"]) * quantity
    elif model == "tiered":
        exact = tiered_amount(price["tiers_mode"], price["tiers"], quantity)
    elif model == "package":
        packages = math.ceil(quantity / Decimal(price["package_size"])) if quantity > 0 else 0
        exact = Decimal(packages) * Decimal(price["package_amount"])
    else:
        raise ValueError(f"unknown price model {model}")
    return round_minor(exact)


def discount(subtotal: int, percent_off: str) -> int:
    return round_minor(Decimal(subtotal) * Decimal(percent_off) / Decimal(100))


def same_decimal(observed: Any, expected: Decimal) -> bool:
    try:
        return isinstance(observed, str) and Decimal(observed) == expected
    except InvalidOperation:
        return False
