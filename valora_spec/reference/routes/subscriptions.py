"""Subscriptions: states, periods, cancellation and its revocation (VAL-SUB-001..006)."""

from __future__ import annotations

import sqlite3
from typing import Any

from valora_spec.reference._context import Ctx, Reply, dump, load
from valora_spec.reference._pagination import fetch_page, page_body
from valora_spec.reference._problems import conflict
from valora_spec.reference._times import (
    add_intervals,
    format_optional,
    format_us,
    parse_rfc3339,
    period_containing,
)
from valora_spec.reference._validation import reject_if

# The status at an instant, in SQL for list filters; `status()` below is the same rule.
STATUS_SQL = (
    "(CASE WHEN canceled_at_us IS NOT NULL THEN 'canceled' "
    "WHEN cancel_at_us IS NOT NULL AND cancel_at_us <= :now THEN 'canceled' "
    "WHEN start_us > :now THEN 'pending' "
    "WHEN trial_end_us IS NOT NULL AND trial_end_us > :now THEN 'trialing' "
    "ELSE 'active' END)"
)


def canceled_at(row: sqlite3.Row, now: int) -> int | None:
    """When the subscription ended: now-cancellation, or a scheduled one that has come."""
    if row["canceled_at_us"] is not None:
        return int(row["canceled_at_us"])
    if row["cancel_at_us"] is not None and row["cancel_at_us"] <= now:
        return int(row["cancel_at_us"])
    return None


def status(row: sqlite3.Row, now: int) -> str:
    if canceled_at(row, now) is not None:
        return "canceled"
    if row["start_us"] > now:
        return "pending"
    if row["trial_end_us"] is not None and row["trial_end_us"] > now:
        return "trialing"
    return "active"


def current_period(row: sqlite3.Row, now: int) -> tuple[int, int]:
    """`start_at + k·interval` holding now; the first while pending; frozen once canceled."""
    ended = canceled_at(row, now)
    moment = now if ended is None else max(row["start_us"], ended - 1)
    return period_containing(row["start_us"], row["interval"], moment)


def serialize(row: sqlite3.Row, ctx: Ctx) -> dict[str, Any]:
    period_start, period_end = current_period(row, ctx.now)
    subscription = {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "items": load(row["items"]),
        "status": status(row, ctx.now),
        "start_at": format_us(row["start_us"]),
        "current_period_start": format_us(period_start),
        "current_period_end": format_us(period_end),
        "cancel_at": format_optional(row["cancel_at_us"]),
        "canceled_at": format_optional(canceled_at(row, ctx.now)),
        "currency": row["currency"],
        "metadata": load(row["metadata"]),
        "created_at": format_us(row["created_us"]),
    }
    if ctx.features.trials_and_coupons:
        subscription["trial_end"] = format_optional(row["trial_end_us"])
        subscription["coupon_id"] = row["coupon_id"]
    return subscription


def create_subscription(ctx: Ctx) -> Reply:
    body = ctx.body
    start = parse_rfc3339(body["start_at"]) if "start_at" in body else ctx.now
    assert start is not None  # the date-time format was validated
    trial_end = parse_rfc3339(body["trial_end"]) if "trial_end" in body else None
    reject_if(trial_end is not None and trial_end <= start, "trial_end", "must be after start_at")
    customer = ctx.find("customers", "customer", body["customer_id"])
    prices = [ctx.find("prices", "price", item["price_id"]) for item in body["items"]]
    # One currency and one interval for all items (VAL-SUB-001).
    for index, price in enumerate(prices[1:], start=1):
        reject_if(price["currency"] != prices[0]["currency"], f"items[{index}].price_id",
                  "must have the currency of the first item's price")
        reject_if(price["interval"] != prices[0]["interval"], f"items[{index}].price_id",
                  "must have the interval of the first item's price")
    interval = prices[0]["interval"]
    try:
        add_intervals(start, interval, 1)
    except OverflowError:
        reject_if(True, "start_at", "is too late: its first period would end after year 9999")
    coupon_id = body.get("coupon_id")
    if coupon_id is not None:
        ctx.find("coupons", "coupon", coupon_id)
    items = [{"price_id": item["price_id"], "quantity": int(item.get("quantity", 1))}
             for item in body["items"]]
    ident = ctx.db.new_id("subscriptions")
    ctx.db.execute(
        "INSERT INTO subscriptions (id, org, created_us, customer_id, items, currency, interval, "
        "start_us, trial_end_us, cancel_at_us, canceled_at_us, coupon_id, metadata) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
        (ident, ctx.org, ctx.db.new_created_us(), customer["id"], dump(items),
         prices[0]["currency"], interval, start, trial_end, coupon_id,
         dump(body.get("metadata", {}))),
    )
    return Reply(201, serialize(ctx.find("subscriptions", "subscription", ident), ctx))


def list_subscriptions(ctx: Ctx) -> Reply:
    filters: list[tuple[str, Any]] = []
    if "customer_id" in ctx.query:
        filters.append(("customer_id = ?", ctx.query["customer_id"]))
    if "status" in ctx.query:
        filters.append((STATUS_SQL.replace(":now", str(ctx.now)) + " = ?", ctx.query["status"]))
    rows, cursor = fetch_page(ctx.db, ctx.org, "subscriptions", ctx.query, filters)
    return Reply(200, page_body([serialize(row, ctx) for row in rows], cursor))


def get_subscription(ctx: Ctx) -> Reply:
    row = ctx.find("subscriptions", "subscription", ctx.path["subscription_id"])
    return Reply(200, serialize(row, ctx))


def cancel_subscription(ctx: Ctx) -> Reply:
    row = ctx.find("subscriptions", "subscription", ctx.path["subscription_id"])
    if status(row, ctx.now) == "canceled":
        raise conflict("invalid_state_transition", "The subscription is already canceled.")
    if ctx.body.get("at_period_end", False):
        # Stays active until the end of the current period (VAL-SUB-004).
        _, period_end = current_period(row, ctx.now)
        ctx.db.execute("UPDATE subscriptions SET cancel_at_us = ? WHERE id = ?",
                       (period_end, row["id"]))
    else:
        ctx.db.execute("UPDATE subscriptions SET canceled_at_us = ? WHERE id = ?",
                       (ctx.now, row["id"]))
    return Reply(200, serialize(ctx.find("subscriptions", "subscription", row["id"]), ctx))


def revoke_subscription_cancellation(ctx: Ctx) -> Reply:
    row = ctx.find("subscriptions", "subscription", ctx.path["subscription_id"])
    if status(row, ctx.now) == "canceled" or row["cancel_at_us"] is None:
        raise conflict("invalid_state_transition", "No cancellation is scheduled.")
    ctx.db.execute("UPDATE subscriptions SET cancel_at_us = NULL WHERE id = ?", (row["id"],))
    return Reply(200, serialize(ctx.find("subscriptions", "subscription", row["id"]), ctx))
