"""Usage aggregation over events in a half-open window [from, to) (VAL-METER-001..009)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from valora_spec.reference._db import Database
from valora_spec.reference._numbers import MAX_MAGNITUDE, format_decimal, numeric_value, string_form
from valora_spec.reference._problems import invalid_request
from valora_spec.reference._times import US_PER_DAY, US_PER_HOUR, format_us

WINDOW_SIZES = {"HOUR": US_PER_HOUR, "DAY": US_PER_DAY}
# Most windowed rows one usage query returns; a query needing more is 400 (VAL-METER-005).
MAX_ROWS = 1000

Event = tuple[int, dict[str, Any]]  # (time in µs, data), in time order, ties in ingestion order


def load_events(
    db: Database, org: str, event_type: str, customer: str, start: int, end: int, visible_at: int
) -> list[Event]:
    """The organization's events of one type and customer with time in [start, end).

    Only events received at or before `visible_at` count (the declared visibility delay).
    """
    rows = db.all(
        "SELECT time_us, data FROM events WHERE org = ? AND type = ? AND customer = ? "
        "AND time_us >= ? AND time_us < ? AND received_us <= ? ORDER BY time_us, seq",
        (org, event_type, customer, start, end, visible_at),
    )
    return [(row["time_us"], json.loads(row["data"], parse_float=Decimal)) for row in rows]


def aggregate(aggregation: str, value_property: str | None, events: Sequence[Event],
              param: str = "from") -> str:
    """The meter's value over `events` as a decimal string; "0" without events.

    A value of magnitude 10^26 or more does not fit the Decimal type: 400 naming `param`.
    """
    if aggregation == "COUNT":
        return str(len(events))
    raw = [data.get(value_property) for _, data in events] if value_property else []
    if aggregation == "UNIQUE_COUNT":
        forms = {string_form(value) for value in raw}
        forms.discard(None)
        return str(len(forms))
    # Missing and non-numeric values are ignored (VAL-METER-006).
    numbers = [n for n in (numeric_value(value) for value in raw) if n is not None]
    if not numbers:
        return "0"
    result: Fraction
    if aggregation == "SUM":
        result = sum(numbers, Fraction(0))
    elif aggregation == "MAX":
        result = max(numbers)
    elif aggregation == "MIN":
        result = min(numbers)
    elif aggregation == "LATEST":
        result = numbers[-1]  # greatest time; ties: last ingested
    elif aggregation == "AVG":
        result = sum(numbers, Fraction(0)) / len(numbers)  # exact, rounded once below
    else:
        raise ValueError(f"unknown aggregation {aggregation}")
    if abs(result) >= MAX_MAGNITUDE:
        raise invalid_request(param, "the usage value would not fit a decimal string (VAL-METER-003)")
    return format_decimal(result)


def window_rows(
    aggregation: str, value_property: str | None, events: Sequence[Event],
    start: int, end: int, window: str,
) -> list[dict[str, str]]:
    """UTC-aligned windows intersecting [start, end), clipped to it, oldest first."""
    size = WINDOW_SIZES[window]
    first = start - start % size
    if (end - first + size - 1) // size > MAX_ROWS:
        raise invalid_request("window", f"would produce more than {MAX_ROWS} rows; narrow [from, to)")
    rows = []
    index = 0
    window_start = first
    while window_start < end:
        row_start, row_end = max(window_start, start), min(window_start + size, end)
        chunk = []
        while index < len(events) and events[index][0] < row_end:
            chunk.append(events[index])
            index += 1
        rows.append({
            "from": format_us(row_start),
            "to": format_us(row_end),
            "value": aggregate(aggregation, value_property, chunk),
        })
        window_start += size
    return rows


def groups(
    aggregation: str, value_property: str | None, events: Sequence[Event], group_by: str
) -> list[dict[str, Any]]:
    """One entry per distinct value of `data[group_by]`; events lacking it under key null."""
    by_key: dict[str | None, list[Event]] = {}
    for event in events:
        by_key.setdefault(string_form(event[1].get(group_by)), []).append(event)
    keys = sorted(by_key, key=lambda k: (k is None, k or ""))
    return [{"key": k, "value": aggregate(aggregation, value_property, by_key[k])} for k in keys]
