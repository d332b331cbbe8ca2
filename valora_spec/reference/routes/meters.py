"""Meters and usage queries."""

from __future__ import annotations

import sqlite3
from typing import Any

from valora_spec.reference._context import Ctx, Reply, dump, load
from valora_spec.reference._pagination import fetch_page, page_body
from valora_spec.reference._problems import conflict
from valora_spec.reference._times import US_PER_SECOND, format_us, parse_rfc3339
from valora_spec.reference._usage import aggregate, groups, load_events, window_rows
from valora_spec.reference._validation import reject_if


def serialize(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "key": row["key"],
        "name": row["name"],
        "event_type": row["event_type"],
        "aggregation": row["aggregation"],
        "value_property": row["value_property"],
        "metadata": load(row["metadata"]),
        "created_at": format_us(row["created_us"]),
    }


def create_meter(ctx: Ctx) -> Reply:
    body = ctx.body
    # Every aggregation but COUNT reads a value (VAL-METER-002).
    reject_if(
        body["aggregation"] != "COUNT" and "value_property" not in body,
        "value_property", "is required unless the aggregation is COUNT",
    )
    if ctx.db.one("SELECT 1 FROM meters WHERE org = ? AND key = ?", (ctx.org, body["key"])):
        raise conflict("already_exists", f"A meter with key {body['key']!r} already exists.")
    ident = ctx.db.new_id("meters")
    ctx.db.execute(
        "INSERT INTO meters (id, org, created_us, key, name, event_type, aggregation, "
        "value_property, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ident, ctx.org, ctx.db.new_created_us(), body["key"], body["name"], body["event_type"],
         body["aggregation"], body.get("value_property"), dump(body.get("metadata", {}))),
    )
    return Reply(201, serialize(ctx.find("meters", "meter", ident)))


def list_meters(ctx: Ctx) -> Reply:
    rows, cursor = fetch_page(ctx.db, ctx.org, "meters", ctx.query)
    return Reply(200, page_body([serialize(row) for row in rows], cursor))


def get_meter(ctx: Ctx) -> Reply:
    return Reply(200, serialize(ctx.find("meters", "meter", ctx.path["meter_id"])))


def update_meter(ctx: Ctx) -> Reply:
    row = ctx.find("meters", "meter", ctx.path["meter_id"])
    name = ctx.body.get("name", row["name"])
    metadata = dump(ctx.body["metadata"]) if "metadata" in ctx.body else row["metadata"]
    ctx.db.execute("UPDATE meters SET name = ?, metadata = ? WHERE id = ?", (name, metadata, row["id"]))
    return Reply(200, serialize(ctx.find("meters", "meter", row["id"])))


def query_meter_usage(ctx: Ctx) -> Reply:
    meter = ctx.find("meters", "meter", ctx.path["meter_id"])
    query = ctx.query
    start, end = parse_rfc3339(query["from"]), parse_rfc3339(query["to"])
    assert start is not None and end is not None  # the date-time format was validated
    reject_if(end <= start, "to", "must be after from: the window is [from, to)")
    visible_at = ctx.now - int(ctx.info.usage_delay_seconds * US_PER_SECOND)
    events = load_events(
        ctx.db, ctx.org, meter["event_type"], query["customer"], start, end, visible_at
    )
    aggregation, value_property = meter["aggregation"], meter["value_property"]
    window = query.get("window")
    result: dict[str, Any] = {
        "meter_id": meter["id"],
        "customer": query["customer"],
        "from": format_us(start),
        "to": format_us(end),
        "window": window,
        "value": aggregate(aggregation, value_property, events),
        "rows": window_rows(aggregation, value_property, events, start, end, window)
        if window else [],
    }
    if "group_by" in query:
        result["groups"] = groups(aggregation, value_property, events, query["group_by"])
    return Reply(200, result)
