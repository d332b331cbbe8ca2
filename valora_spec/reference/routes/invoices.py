"""Invoices: generated as drafts, lines fixed at generation, a strict state machine."""

from __future__ import annotations

import sqlite3
from typing import Any

from valora_spec.reference._context import Ctx, Reply, dump, load
from valora_spec.reference._numbers import INT64_MAX, INT64_MIN, parse_decimal_string, round_half_even
from valora_spec.reference._pagination import fetch_page, page_body
from valora_spec.reference._pricing import line_amount
from valora_spec.reference._problems import conflict, invalid_request
from valora_spec.reference._times import US_PER_SECOND, format_optional, format_us, parse_rfc3339
from valora_spec.reference._usage import aggregate, load_events
from valora_spec.reference._validation import reject_if
from valora_spec.reference.routes.prices import pricing_terms

# action -> (statuses it may leave, status it enters) (VAL-INV-007)
TRANSITIONS = {
    "finalize": (("draft",), "open"),
    "mark_paid": (("open", "uncollectible"), "paid"),
    "void": (("open", "uncollectible"), "void"),
    "mark_uncollectible": (("open",), "uncollectible"),
}


def serialize(row: sqlite3.Row, ctx: Ctx) -> dict[str, Any]:
    invoice = {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "subscription_id": row["subscription_id"],
        "status": row["status"],
        "currency": row["currency"],
        "period_start": format_us(row["period_start_us"]),
        "period_end": format_us(row["period_end_us"]),
        "lines": load(row["lines"]),
        "subtotal": int(row["subtotal"]),
        "total": int(row["total"]),
        "rounding_mode": "half_even",
        "memo": row["memo"],
        "finalized_at": format_optional(row["finalized_at_us"]),
        "metadata": load(row["metadata"]),
        "created_at": format_us(row["created_us"]),
    }
    if ctx.features.trials_and_coupons:
        invoice["discount"] = int(row["discount"])
        invoice["coupon_id"] = row["coupon_id"]
    return invoice


def generate_invoice(ctx: Ctx) -> Reply:
    body = ctx.body
    start, end = parse_rfc3339(body["period_start"]), parse_rfc3339(body["period_end"])
    assert start is not None and end is not None  # the date-time format was validated
    reject_if(end <= start, "period_end", "must be after period_start: the period is [start, end)")
    subscription = ctx.find("subscriptions", "subscription", body["subscription_id"])
    customer = ctx.find("customers", "customer", subscription["customer_id"])
    lines = [
        _line(ctx, subscription, customer, item, start, end)
        for item in load(subscription["items"])
    ]
    subtotal = sum(line["amount"] for line in lines)
    discount = 0
    coupon_id = subscription["coupon_id"] if ctx.features.trials_and_coupons else None
    if coupon_id is not None:
        coupon = ctx.find("coupons", "coupon", coupon_id)
        # percent_off / 100 × subtotal, rounded half-even; never below 0 (VAL-COUPON-003).
        share = parse_decimal_string(coupon["percent_off"]) / 100
        discount = max(0, round_half_even(share * subtotal))
    total = max(0, subtotal - discount)  # never negative (VAL-INV-004)
    amounts = [line["amount"] for line in lines] + [subtotal, total]
    if not all(INT64_MIN <= amount <= INT64_MAX for amount in amounts):
        raise invalid_request("subscription_id", "the invoice amounts would exceed a signed 64-bit "
                              "integer (VAL-MONEY-001)")
    ident = ctx.db.new_id("invoices")
    ctx.db.execute(
        "INSERT INTO invoices (id, org, created_us, customer_id, subscription_id, status, "
        "currency, period_start_us, period_end_us, lines, subtotal, discount, total, coupon_id, "
        "memo, finalized_at_us, metadata) "
        "VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
        (ident, ctx.org, ctx.db.new_created_us(), customer["id"], subscription["id"],
         subscription["currency"], start, end, dump(lines), str(subtotal), str(discount),
         str(total), coupon_id, body.get("memo"), dump(body.get("metadata", {}))),
    )
    return Reply(201, serialize(ctx.find("invoices", "invoice", ident), ctx))


def _line(
    ctx: Ctx, subscription: sqlite3.Row, customer: sqlite3.Row, item: dict[str, Any],
    start: int, end: int,
) -> dict[str, Any]:
    """One line per subscription item; a metered price bills the meter's usage (VAL-INV-003)."""
    price = ctx.find("prices", "price", item["price_id"])
    if price["meter_id"] is not None:
        meter = ctx.find("meters", "meter", price["meter_id"])
        visible_at = ctx.now - int(ctx.info.usage_delay_seconds * US_PER_SECOND)
        events = load_events(ctx.db, ctx.org, meter["event_type"], customer["external_id"],
                             start, end, visible_at)
        quantity = aggregate(meter["aggregation"], meter["value_property"], events, "period_start")
        description = meter["name"]
    else:
        quantity = str(item["quantity"])
        product = ctx.find("products", "product", price["product_id"])
        description = product["name"]
    amount = line_amount(pricing_terms(price), parse_decimal_string(quantity))
    trial_end = subscription["trial_end_us"]
    if (ctx.features.trials_and_coupons and trial_end is not None and end <= trial_end
            and price["model"] == "flat"):
        amount = 0  # the period lies inside the trial (VAL-SUB-006)
    return {
        "price_id": price["id"],
        "meter_id": price["meter_id"],
        "description": description,
        "period_start": format_us(start),
        "period_end": format_us(end),
        "quantity": quantity,
        "amount": amount,
    }


def list_invoices(ctx: Ctx) -> Reply:
    filters: list[tuple[str, Any]] = []
    if "customer_id" in ctx.query:
        filters.append(("customer_id = ?", ctx.query["customer_id"]))
    if "status" in ctx.query:
        filters.append(("status = ?", ctx.query["status"]))
    rows, cursor = fetch_page(ctx.db, ctx.org, "invoices", ctx.query, filters)
    return Reply(200, page_body([serialize(row, ctx) for row in rows], cursor))


def get_invoice(ctx: Ctx) -> Reply:
    return Reply(200, serialize(ctx.find("invoices", "invoice", ctx.path["invoice_id"]), ctx))


def update_invoice(ctx: Ctx) -> Reply:
    row = ctx.find("invoices", "invoice", ctx.path["invoice_id"])
    if row["status"] != "draft":
        raise conflict("invoice_immutable", "Only draft invoices can be updated.")
    body = ctx.body
    ctx.db.execute(
        "UPDATE invoices SET memo = ?, metadata = ? WHERE id = ?",
        (body["memo"] if "memo" in body else row["memo"],
         dump(body["metadata"]) if "metadata" in body else row["metadata"],
         row["id"]),
    )
    return Reply(200, serialize(ctx.find("invoices", "invoice", row["id"]), ctx))


def delete_invoice(ctx: Ctx) -> Reply:
    row = ctx.find("invoices", "invoice", ctx.path["invoice_id"])
    if row["status"] != "draft":
        raise conflict("invalid_state_transition", "Only draft invoices can be deleted.")
    ctx.db.execute("DELETE FROM invoices WHERE id = ?", (row["id"],))
    return Reply(204)


def _transition(ctx: Ctx, action: str) -> Reply:
    row = ctx.find("invoices", "invoice", ctx.path["invoice_id"])
    sources, target = TRANSITIONS[action]
    if row["status"] not in sources:
        raise conflict("invalid_state_transition",
                       f"An invoice in status {row['status']!r} cannot become {target!r}.")
    finalized = ctx.now if action == "finalize" else row["finalized_at_us"]
    ctx.db.execute("UPDATE invoices SET status = ?, finalized_at_us = ? WHERE id = ?",
                   (target, finalized, row["id"]))
    return Reply(200, serialize(ctx.find("invoices", "invoice", row["id"]), ctx))


def finalize_invoice(ctx: Ctx) -> Reply:
    return _transition(ctx, "finalize")


def mark_invoice_paid(ctx: Ctx) -> Reply:
    return _transition(ctx, "mark_paid")


def void_invoice(ctx: Ctx) -> Reply:
    return _transition(ctx, "void")


def mark_invoice_uncollectible(ctx: Ctx) -> Reply:
    return _transition(ctx, "mark_uncollectible")
