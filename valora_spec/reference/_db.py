"""SQLite persistence: one connection, one lock, explicit transactions.

Every request touches the database while holding `Database.lock`, so two clients hammering
one organization are serialized: no lost update, no double create. The work under the lock
is a few sub-millisecond statements.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from valora_spec.reference._times import now_us

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meters (
    id TEXT PRIMARY KEY, org TEXT NOT NULL, created_us INTEGER NOT NULL,
    key TEXT NOT NULL, name TEXT NOT NULL, event_type TEXT NOT NULL, aggregation TEXT NOT NULL,
    value_property TEXT, metadata TEXT NOT NULL, UNIQUE (org, key));
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, org TEXT NOT NULL, id TEXT NOT NULL,
    type TEXT NOT NULL, customer TEXT NOT NULL, time_us INTEGER NOT NULL,
    received_us INTEGER NOT NULL, data TEXT NOT NULL, UNIQUE (org, id));
CREATE INDEX IF NOT EXISTS events_usage ON events (org, type, customer, time_us);
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY, org TEXT NOT NULL, created_us INTEGER NOT NULL,
    name TEXT NOT NULL, description TEXT, active INTEGER NOT NULL, metadata TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prices (
    id TEXT PRIMARY KEY, org TEXT NOT NULL, created_us INTEGER NOT NULL,
    product_id TEXT NOT NULL, currency TEXT NOT NULL, model TEXT NOT NULL,
    interval TEXT NOT NULL, flat_amount INTEGER, unit_amount TEXT, tiers_mode TEXT, tiers TEXT,
    meter_id TEXT, package_size INTEGER, package_amount INTEGER, active INTEGER NOT NULL,
    metadata TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, org TEXT NOT NULL, created_us INTEGER NOT NULL,
    external_id TEXT NOT NULL, name TEXT NOT NULL, email TEXT, metadata TEXT NOT NULL,
    UNIQUE (org, external_id));
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, org TEXT NOT NULL, created_us INTEGER NOT NULL,
    customer_id TEXT NOT NULL, items TEXT NOT NULL, currency TEXT NOT NULL,
    interval TEXT NOT NULL, start_us INTEGER NOT NULL, trial_end_us INTEGER,
    cancel_at_us INTEGER, canceled_at_us INTEGER, coupon_id TEXT, metadata TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS invoices (
    id TEXT PRIMARY KEY, org TEXT NOT NULL, created_us INTEGER NOT NULL,
    customer_id TEXT NOT NULL, subscription_id TEXT NOT NULL, status TEXT NOT NULL,
    currency TEXT NOT NULL, period_start_us INTEGER NOT NULL, period_end_us INTEGER NOT NULL,
    lines TEXT NOT NULL, subtotal TEXT NOT NULL, discount TEXT NOT NULL, total TEXT NOT NULL,
    coupon_id TEXT, memo TEXT, finalized_at_us INTEGER, metadata TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS coupons (
    id TEXT PRIMARY KEY, org TEXT NOT NULL, created_us INTEGER NOT NULL,
    code TEXT NOT NULL, name TEXT NOT NULL, percent_off TEXT NOT NULL, metadata TEXT NOT NULL,
    UNIQUE (org, code));
CREATE TABLE IF NOT EXISTS idempotency (
    org TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL, body BLOB NOT NULL, content_type TEXT NOT NULL,
    created_us INTEGER NOT NULL, PRIMARY KEY (org, scope, key));
"""

# Tables of listed resources, each with an (org, created_us, id) index for keyset pages.
RESOURCE_TABLES = ("meters", "products", "prices", "customers", "subscriptions", "invoices",
                   "coupons")

# Id prefixes; the zero-padded sequence makes ids sort like their creation.
ID_PREFIXES = {
    "meters": "mtr", "products": "prod", "prices": "price", "customers": "cus",
    "subscriptions": "sub", "invoices": "inv", "coupons": "cpn",
}


class Database:
    def __init__(self, path: str | None) -> None:
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="valora-reference-")
            path = os.path.join(self._tempdir.name, "valora.sqlite3")
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        for table in RESOURCE_TABLES:
            self.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_page ON {table} (org, created_us, id)"
            )
        self.cursor_secret = bytes.fromhex(self._setting("cursor_secret", secrets.token_hex(32)))
        self._sequence = int(self._setting("sequence", "0"))
        self._last_created = max(
            (self.scalar(f"SELECT MAX(created_us) FROM {t}") or 0) for t in RESOURCE_TABLES
        )

    def _setting(self, name: str, default: str) -> str:
        row = self.one("SELECT value FROM settings WHERE name = ?", (name,))
        if row is not None:
            return str(row["value"])
        self.conn.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (name, default))
        return default

    def close(self) -> None:
        with self.lock:
            self.conn.close()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    # --- statements ---------------------------------------------------------------------------

    def one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str, params: Any = ()) -> None:
        self.conn.execute(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; the caller already holds `lock`."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- identity and creation time -----------------------------------------------------------

    def new_id(self, table: str) -> str:
        self._sequence += 1
        self.conn.execute("UPDATE settings SET value = ? WHERE name = 'sequence'",
                          (str(self._sequence),))
        return f"{ID_PREFIXES[table]}_{self._sequence:012d}"

    def new_created_us(self) -> int:
        """Strictly increasing creation times, so list order never needs a tie-break."""
        self._last_created = max(now_us(), self._last_created + 1)
        return self._last_created
