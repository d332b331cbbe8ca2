"""Products."""

from __future__ import annotations

import sqlite3
from typing import Any

from valora_spec.reference._context import Ctx, Reply, dump, load
from valora_spec.reference._pagination import fetch_page, page_body
from valora_spec.reference._times import format_us


def serialize(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "active": bool(row["active"]),
        "metadata": load(row["metadata"]),
        "created_at": format_us(row["created_us"]),
    }


def create_product(ctx: Ctx) -> Reply:
    body = ctx.body
    ident = ctx.db.new_id("products")
    ctx.db.execute(
        "INSERT INTO products (id, org, created_us, name, description, active, metadata) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ident, ctx.org, ctx.db.new_created_us(), body["name"], body.get("description"),
         int(body.get("active", True)), dump(body.get("metadata", {}))),
    )
    return Reply(201, serialize(ctx.find("products", "product", ident)))


def list_products(ctx: Ctx) -> Reply:
    rows, cursor = fetch_page(ctx.db, ctx.org, "products", ctx.query)
    return Reply(200, page_body([serialize(row) for row in rows], cursor))


def get_product(ctx: Ctx) -> Reply:
    return Reply(200, serialize(ctx.find("products", "product", ctx.path["product_id"])))


def update_product(ctx: Ctx) -> Reply:
    row = ctx.find("products", "product", ctx.path["product_id"])
    body = ctx.body
    ctx.db.execute(
        "UPDATE products SET name = ?, description = ?, active = ?, metadata = ? WHERE id = ?",
        (body.get("name", row["name"]),
         body["description"] if "description" in body else row["description"],
         int(body["active"]) if "active" in body else row["active"],
         dump(body["metadata"]) if "metadata" in body else row["metadata"],
         row["id"]),
    )
    return Reply(200, serialize(ctx.find("products", "product", row["id"])))
