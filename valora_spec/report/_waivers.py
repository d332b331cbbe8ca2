"""Waivers: a listed reason turns a non-pass into `waived`, until the waiver expires."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def sort_waivers(
    waivers: list[Mapping[str, Any]], today: date, known_ids: set[str], warnings: list[str]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Return (active waivers by requirement id, a record of every waiver and its state).

    A waiver is valid through its `expires` day (inclusive); expired ones are ignored but listed.
    """
    active: dict[str, dict[str, Any]] = {}
    records: list[dict[str, Any]] = []
    for waiver in waivers:
        req_id = str(waiver["requirement"])
        expires = _as_date(waiver["expires"])
        record: dict[str, Any] = {
            "requirement": req_id,
            "reason": str(waiver["reason"]),
            "expires": expires.isoformat(),
            "state": "active",
            "applied_to": [],
        }
        if req_id not in known_ids:
            record["state"] = "unknown-requirement"
            warnings.append(f"waiver for unknown requirement {req_id} ignored")
        elif expires < today:
            record["state"] = "expired"
            warnings.append(f"waiver for {req_id} expired on {expires.isoformat()}; ignored")
        elif req_id in active:
            record["state"] = "duplicate"
            warnings.append(f"second waiver for {req_id} ignored")
        else:
            active[req_id] = record
        records.append(record)
    return active, records


def _as_date(value: Any) -> date:
    # YAML already turns an unquoted YYYY-MM-DD into a date; JSON leaves it a string.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
