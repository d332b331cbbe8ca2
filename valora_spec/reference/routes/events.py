"""Usage event ingestion: dedup by id, backdating window, all-or-nothing batches."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from valora_spec.reference._context import Ctx, Reply
from valora_spec.reference._problems import ApiError
from valora_spec.reference._times import US_PER_DAY, US_PER_SECOND, parse_rfc3339

# Accepted event times: not older than 35 days, not more than 5 minutes ahead (VAL-EVENT-003).
MAX_AGE_US = 35 * US_PER_DAY
MAX_AHEAD_US = 5 * 60 * US_PER_SECOND


def ingest_event(ctx: Ctx) -> Reply:
    return Reply(202, _ingest(ctx, [ctx.body], name_prefix="")[0])


def ingest_event_batch(ctx: Ctx) -> Reply:
    results = _ingest(ctx, ctx.body["events"], name_prefix="events")
    accepted = sum(1 for r in results if r["status"] == "accepted")
    return Reply(202, {
        "accepted": accepted,
        "duplicates": len(results) - accepted,
        "results": results,
    })


def _ingest(ctx: Ctx, events: list[dict[str, Any]], name_prefix: str) -> list[dict[str, str]]:
    """Receipts in request order. Nothing is stored unless every event is acceptable."""
    seen: set[str] = set()
    fresh: list[tuple[dict[str, Any], int]] = []
    results = []
    outside = []
    for index, event in enumerate(events):
        if event["id"] in seen or _is_known(ctx, event["id"]):
            # First write wins, even when this body differs (VAL-EVENT-002).
            results.append({"id": event["id"], "status": "duplicate"})
            continue
        seen.add(event["id"])
        time_us = parse_rfc3339(event["time"])
        assert time_us is not None  # the date-time format was validated
        if not ctx.now - MAX_AGE_US <= time_us <= ctx.now + MAX_AHEAD_US:
            name = f"{name_prefix}[{index}].time" if name_prefix else "time"
            outside.append({
                "name": name,
                "reason": "must be at most 35 days before and 5 minutes after the time of receipt",
            })
        fresh.append((event, time_us))
        results.append({"id": event["id"], "status": "accepted"})
    if outside:
        raise ApiError(
            400,
            "event_outside_window",
            "Events must be at most 35 days old and at most 5 minutes in the future.",
            invalid_params=outside,
        )
    for event, time_us in fresh:
        ctx.db.execute(
            "INSERT INTO events (org, id, type, customer, time_us, received_us, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ctx.org, event["id"], event["type"], event["customer"], time_us, ctx.now,
             _dump_data(event.get("data", {}))),
        )
    return results


def _is_known(ctx: Ctx, event_id: str) -> bool:
    return ctx.db.one("SELECT 1 FROM events WHERE org = ? AND id = ?", (ctx.org, event_id)) is not None


def _dump_data(data: dict[str, Any]) -> str:
    """JSON text of the event's scalar data; numbers keep their exact written value."""
    parts = []
    for key, value in data.items():
        text = str(value) if isinstance(value, Decimal) else json.dumps(value, ensure_ascii=False)
        parts.append(json.dumps(key, ensure_ascii=False) + ":" + text)
    return "{" + ",".join(parts) + "}"
