"""Coupons (1.2): percentage discounts; `code` is the natural key (VAL-COUPON-001)."""

from __future__ import annotations

import sqlite3
from typing import Any

from valora_spec.reference._context import Ctx, Reply, dump, load
from valora_spec.reference._pagination import fetch_page, page_body
from valora_spec.reference._problems import conflict
from valora_spec.reference._times import format_us


def serialize(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "code": row["code"],
        "name": row["name"],
        "percent_off": row["percent_off"],
        "metadata": load(row["metadata"]),
        "created_at": format_us(row["created_us"]),
    }


def create_coupon(ctx: Ctx) -> Reply:
    body = ctx.body
    if ctx.db.one("SELECT 1 FROM coupons WHERE org = ? AND code = ?", (ctx.org, body["code"])):
        raise conflict("already_exists", f"A coupon with code {body['code']!r} already exists.")
    ident = ctx.db.new_id("coupons")
    ctx.db.execute(
        "INSERT INTO coupons (id, org, created_us, code, name, percent_off, metadata) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ident, ctx.org, ctx.db.new_created_us(), body["code"], body["name"],
         body["percent_off"], dump(body.get("metadata", {}))),
    )
    return Reply(201, serialize(ctx.find("coupons", "coupon", ident)))


def list_coupons(ctx: Ctx) -> Reply:
    rows, cursor = fetch_page(ctx.db, ctx.org, "coupons", ctx.query)
    return Reply(200, page_body([serialize(row) for row in rows], cursor))


def get_coupon(ctx: Ctx) -> Reply:
    return Reply(200, serialize(ctx.find("coupons", "coupon", ctx.path["coupon_id"])))


def delete_coupon(ctx: Ctx) -> Reply:
    row = ctx.find("coupons", "coupon", ctx.path["coupon_id"])
    if ctx.db.one("SELECT 1 FROM subscriptions WHERE org = ? AND coupon_id = ?",
                  (ctx.org, row["id"])):
        raise conflict("resource_in_use", "A subscription uses this coupon.")
    ctx.db.execute("DELETE FROM coupons WHERE id = ?", (row["id"],))
    return Reply(204)
