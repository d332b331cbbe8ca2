"""Prices: flat, per_unit, tiered (graduated | volume) and, from 1.1, package."""

from __future__ import annotations

import sqlite3
from typing import Any

from valora_spec.reference._context import Ctx, Reply, dump, load
from valora_spec.reference._pagination import fetch_page, page_body
from valora_spec.reference._times import format_us
from valora_spec.reference._validation import reject_if


def serialize(row: sqlite3.Row, ctx: Ctx) -> dict[str, Any]:
    price = {
        "id": row["id"],
        "product_id": row["product_id"],
        "currency": row["currency"],
        "model": row["model"],
        "interval": row["interval"],
        "flat_amount": row["flat_amount"],
        "unit_amount": row["unit_amount"],
        "tiers_mode": row["tiers_mode"],
        "tiers": load(row["tiers"]),
        "meter_id": row["meter_id"],
        "active": bool(row["active"]),
        "metadata": load(row["metadata"]),
        "created_at": format_us(row["created_us"]),
    }
    if ctx.features.package_prices:
        price["package_size"] = row["package_size"]
        price["package_amount"] = row["package_amount"]
    return price


def pricing_terms(row: sqlite3.Row) -> dict[str, Any]:
    """The fields `_pricing.line_amount` reads."""
    return {
        "model": row["model"],
        "flat_amount": row["flat_amount"],
        "unit_amount": row["unit_amount"],
        "tiers_mode": row["tiers_mode"],
        "tiers": load(row["tiers"]),
        "package_size": row["package_size"],
        "package_amount": row["package_amount"],
    }


def _check_tiers(tiers: list[dict[str, Any]]) -> None:
    """Strictly increasing `up_to`, only the last open (VAL-PRICE-003)."""
    last = len(tiers) - 1
    previous = 0
    for index, tier in enumerate(tiers):
        up_to = tier["up_to"]
        name = f"tiers[{index}].up_to"
        if index == last:
            reject_if(up_to is not None, name, "the last tier must be open (null)")
        else:
            reject_if(up_to is None, name, "only the last tier may be open (null)")
            reject_if(up_to <= previous, name, "must be greater than the previous tier's up_to")
            previous = up_to


def create_price(ctx: Ctx) -> Reply:
    body = ctx.body
    model = body["model"]
    tiers = None
    if model == "tiered":
        _check_tiers(body["tiers"])
        tiers = [
            {"up_to": None if t["up_to"] is None else int(t["up_to"]),
             "unit_amount": t["unit_amount"],
             "flat_amount": int(t.get("flat_amount", 0))}
            for t in body["tiers"]
        ]
    ctx.find("products", "product", body["product_id"])
    if "meter_id" in body:
        ctx.find("meters", "meter", body["meter_id"])
    ident = ctx.db.new_id("prices")
    ctx.db.execute(
        "INSERT INTO prices (id, org, created_us, product_id, currency, model, interval, "
        "flat_amount, unit_amount, tiers_mode, tiers, meter_id, package_size, package_amount, "
        "active, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ident, ctx.org, ctx.db.new_created_us(), body["product_id"], body["currency"], model,
         body["interval"], _optional_int(body.get("flat_amount")), body.get("unit_amount"),
         body.get("tiers_mode"), None if tiers is None else dump(tiers), body.get("meter_id"),
         _optional_int(body.get("package_size")), _optional_int(body.get("package_amount")),
         int(body.get("active", True)), dump(body.get("metadata", {}))),
    )
    return Reply(201, serialize(ctx.find("prices", "price", ident), ctx))


def _optional_int(value: Any) -> int | None:
    # Integral JSON numbers such as 100.0 arrive as Decimal.
    return None if value is None else int(value)


def list_prices(ctx: Ctx) -> Reply:
    filters: list[tuple[str, Any]] = []
    if "product_id" in ctx.query:
        filters.append(("product_id = ?", ctx.query["product_id"]))
    if "active" in ctx.query:
        filters.append(("active = ?", int(ctx.query["active"])))
    rows, cursor = fetch_page(ctx.db, ctx.org, "prices", ctx.query, filters)
    return Reply(200, page_body([serialize(row, ctx) for row in rows], cursor))


def get_price(ctx: Ctx) -> Reply:
    return Reply(200, serialize(ctx.find("prices", "price", ctx.path["price_id"]), ctx))


def update_price(ctx: Ctx) -> Reply:
    # The schema admits only `active` and `metadata`; pricing fields are unknown fields, 400
    # before this runs (VAL-PRICE-004).
    row = ctx.find("prices", "price", ctx.path["price_id"])
    body = ctx.body
    ctx.db.execute(
        "UPDATE prices SET active = ?, metadata = ? WHERE id = ?",
        (int(body["active"]) if "active" in body else row["active"],
         dump(body["metadata"]) if "metadata" in body else row["metadata"],
         row["id"]),
    )
    return Reply(200, serialize(ctx.find("prices", "price", row["id"]), ctx))
