"""What a handler gets (one validated request) and what it gives back."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from valora_spec.reference._db import Database
from valora_spec.reference._problems import not_found
from valora_spec.reference._spec import Features


@dataclass(frozen=True)
class ServerInfo:
    """What `GET /v1/meta` declares (VAL-META-001, VAL-META-002)."""

    declared_version: str
    usage_delay_seconds: float


@dataclass
class Ctx:
    db: Database
    org: str
    now: int  # microseconds since the epoch, one instant for the whole request
    features: Features
    info: ServerInfo
    path: dict[str, str]
    query: dict[str, Any]
    body: Any

    def find(self, table: str, kind: str, ident: str) -> sqlite3.Row:
        """A resource of this organization, else 404 — the same for another tenant's id."""
        row = self.db.one(f"SELECT * FROM {table} WHERE id = ? AND org = ?", (ident, self.org))
        if row is None:
            raise not_found(kind, ident)
        return row


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON data; None for 204


def dump(value: Any) -> str:
    """JSON text for a column."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load(text: str | None) -> Any:
    return None if text is None else json.loads(text)
