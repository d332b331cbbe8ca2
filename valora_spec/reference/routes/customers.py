"""Customers; `external_id` is the natural key (VAL-NK-001, VAL-CUST-001)."""

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
        "external_id": row["external_id"],
        "name": row["name"],
        "email": row["email"],
        "metadata": load(row["metadata"]),
        "created_at": format_us(row["created_us"]),
    }


def create_customer(ctx: Ctx) -> Reply:
    body = ctx.body
    external_id = body["external_id"]
    if ctx.db.one(
        "SELECT 1 FROM customers WHERE org = ? AND external_id = ?", (ctx.org, external_id)
    ):
        raise conflict("already_exists", f"A customer with external_id {external_id!r} exists.")
    ident = ctx.db.new_id("customers")
    ctx.db.execute(
        "INSERT INTO customers (id, org, created_us, external_id, name, email, metadata) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ident, ctx.org, ctx.db.new_created_us(), external_id, body["name"], body.get("email"),
         dump(body.get("metadata", {}))),
    )
    return Reply(201, serialize(ctx.find("customers", "customer", ident)))


def list_customers(ctx: Ctx) -> Reply:
    filters: list[tuple[str, Any]] = []
    if "email" in ctx.query:
        filters.append(("email = ?", ctx.query["email"]))
    rows, cursor = fetch_page(ctx.db, ctx.org, "customers", ctx.query, filters)
    return Reply(200, page_body([serialize(row) for row in rows], cursor))


def get_customer(ctx: Ctx) -> Reply:
    return Reply(200, serialize(ctx.find("customers", "customer", ctx.path["customer_id"])))


def update_customer(ctx: Ctx) -> Reply:
    row = ctx.find("customers", "customer", ctx.path["customer_id"])
    body = ctx.body
    ctx.db.execute(
        "UPDATE customers SET name = ?, email = ?, metadata = ? WHERE id = ?",
        (body.get("name", row["name"]),
         body["email"] if "email" in body else row["email"],
         dump(body["metadata"]) if "metadata" in body else row["metadata"],
         row["id"]),
    )
    return Reply(200, serialize(ctx.find("customers", "customer", row["id"])))


def delete_customer(ctx: Ctx) -> Reply:
    row = ctx.find("customers", "customer", ctx.path["customer_id"])
    for table in ("subscriptions", "invoices"):
        if ctx.db.one(f"SELECT 1 FROM {table} WHERE org = ? AND customer_id = ?",
                      (ctx.org, row["id"])):
            raise conflict("resource_in_use", f"The customer still has {table}.")
    ctx.db.execute("DELETE FROM customers WHERE id = ?", (row["id"],))
    return Reply(204)
