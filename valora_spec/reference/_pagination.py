"""Cursor pagination: newest first, keyset on (created_at, id), HMAC-signed opaque cursors.

A cursor names the organization and the list it was issued for; anything else — edited,
truncated, issued by another organization or for another list — is 400 `invalid_cursor`
(VAL-PAGE-004). Creation times are strictly increasing, so the order is total (VAL-PAGE-003).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import sqlite3
from typing import Any

from valora_spec.reference._db import Database
from valora_spec.reference._problems import ApiError

DEFAULT_LIMIT = 20


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:18])


def encode_cursor(secret: bytes, org: str, listing: str, created_us: int, ident: str) -> str:
    payload = _b64(json.dumps([org, listing, created_us, ident], separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload)}"


def decode_cursor(secret: bytes, org: str, listing: str, cursor: str) -> tuple[int, str]:
    invalid = ApiError(
        400,
        "invalid_cursor",
        "The cursor is not one this list issued.",
        invalid_params=[{"name": "cursor", "reason": "is not a cursor issued for this list"}],
    )
    payload, _, signature = cursor.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        raise invalid
    try:
        cursor_org, cursor_listing, created_us, ident = json.loads(_unb64(payload))
    except (ValueError, TypeError, binascii.Error):
        raise invalid from None
    if (cursor_org, cursor_listing) != (org, listing):
        raise invalid
    return int(created_us), str(ident)


def fetch_page(
    db: Database,
    org: str,
    table: str,
    query: dict[str, Any],
    filters: list[tuple[str, Any]] | None = None,
) -> tuple[list[sqlite3.Row], str | None]:
    """One page of `table` for `org`: rows and the next cursor (None on the last page).

    `filters` are (SQL condition with one `?`, value) pairs, all of which must hold.
    """
    limit = int(query.get("limit", DEFAULT_LIMIT))
    conditions = ["org = ?"]
    params: list[Any] = [org]
    for condition, value in filters or []:
        conditions.append(condition)
        params.append(value)
    if "cursor" in query:
        created_us, ident = decode_cursor(db.cursor_secret, org, table, query["cursor"])
        conditions.append("(created_us < ? OR (created_us = ? AND id < ?))")
        params += [created_us, created_us, ident]
    sql = (
        f"SELECT * FROM {table} WHERE {' AND '.join(conditions)} "
        "ORDER BY created_us DESC, id DESC LIMIT ?"
    )
    rows = db.all(sql, [*params, limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(db.cursor_secret, org, table, last["created_us"], last["id"])


def page_body(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    # has_more is false exactly when next_cursor is null (VAL-PAGE-002).
    return {"data": items, "has_more": next_cursor is not None, "next_cursor": next_cursor}
