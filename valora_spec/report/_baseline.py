"""Compare this run with a previous report: what newly fails, what got fixed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valora_spec.report._statuses import Status

NEW_FAILURE = "new-failure"
FIXED = "fixed"
UNCHANGED = "unchanged"

_BAD = (Status.FAIL, Status.ERROR)


def diff_baseline(baseline: Mapping[str, Any], requirements: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Compare each requirement's status (at the judged version) with the baseline's."""
    before = {r["id"]: r.get("status") for r in baseline.get("requirements") or []}
    changes: dict[str, dict[str, Any]] = {}
    regressions: list[dict[str, Any]] = []
    fixed: list[dict[str, Any]] = []
    for req in requirements:
        old, new = before.get(req["id"]), req["status"]
        if new in _BAD and old not in _BAD:
            mark = NEW_FAILURE
        elif old in _BAD and new == Status.PASS:
            mark = FIXED
        else:
            mark = UNCHANGED
        changes[req["id"]] = {"mark": mark, "from": old, "to": new}
        if mark != UNCHANGED:
            row = {
                "id": req["id"],
                "level": req["level"],
                "area": req["area"],
                "title": req["title"],
                "from": old,
                "to": new,
            }
            (regressions if mark == NEW_FAILURE else fixed).append(row)
    baseline_range = (baseline.get("range") or {}).get("label")
    return {
        "verdict": baseline.get("verdict"),
        "finished_at": baseline.get("finished_at"),
        "target_version": baseline.get("judged_version") or baseline.get("target_version"),
        "range": baseline_range,
        "changes": changes,
        "regressions": regressions,
        "fixed": fixed,
    }
