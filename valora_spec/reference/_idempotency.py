"""Idempotency keys on POST (VAL-IDEM-001..004).

A key is scoped to (organization, method and path, key). The first request acts and its answer
is stored in the same transaction; a repeat with the same body gets the stored status and body
back with `Idempotent-Replayed: true`; a repeat with a different body is 422. Requests run
one at a time under the database lock, so concurrent requests with one key act once and the
others replay. Entries are kept 48 hours (the contract asks for at least 24).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from valora_spec.reference._db import Database
from valora_spec.reference._problems import ApiError
from valora_spec.reference._times import US_PER_HOUR

RETENTION_US = 48 * US_PER_HOUR
_PRUNE_EVERY_US = 60 * 1_000_000


@dataclass
class StoredResponse:
    status: int
    body: bytes
    content_type: str


def fingerprint(body: Any) -> str:
    """Digest of the request body as JSON data, so key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_tag_decimal)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _tag_decimal(value: object) -> object:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(type(value).__name__)


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._last_prune = 0

    def lookup(
        self, org: str, scope: str, key: str, body_fingerprint: str, now: int
    ) -> StoredResponse | None:
        """The stored answer for a repeat, None for a first use; 422 for a different body."""
        self._prune(now)
        row = self.db.one(
            "SELECT fingerprint, status, body, content_type FROM idempotency "
            "WHERE org = ? AND scope = ? AND key = ? AND created_us > ?",
            (org, scope, key, now - RETENTION_US),
        )
        if row is None:
            return None
        if row["fingerprint"] != body_fingerprint:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request body.",
            )
        return StoredResponse(row["status"], bytes(row["body"]), row["content_type"])

    def store(
        self, org: str, scope: str, key: str, body_fingerprint: str, now: int,
        response: StoredResponse,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO idempotency "
            "(org, scope, key, fingerprint, status, body, content_type, created_us) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (org, scope, key, body_fingerprint, response.status, response.body,
             response.content_type, now),
        )

    def _prune(self, now: int) -> None:
        if now - self._last_prune < _PRUNE_EVERY_US:
            return
        self._last_prune = now
        self.db.execute("DELETE FROM idempotency WHERE created_us <= ?", (now - RETENTION_US,))
