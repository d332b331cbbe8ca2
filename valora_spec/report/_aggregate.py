"""Fold the harness's outcomes into one status per (requirement, version)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from valora_spec import _versions
from valora_spec.report._statuses import NO_CHECK_RAN, OUTCOME_STATUSES, PRECEDENCE, Status


@dataclass
class Cell:
    """Everything the outcomes said about one requirement at one version."""

    statuses: set[str] = field(default_factory=set)
    reasons: dict[str, list[str]] = field(default_factory=dict)  # status -> distinct reasons
    checks: list[str] = field(default_factory=list)

    def add(self, status: str, reason: str, check: str) -> None:
        self.statuses.add(status)
        bucket = self.reasons.setdefault(status, [])
        if reason and reason not in bucket:
            bucket.append(reason)
        if check and check not in self.checks:
            self.checks.append(check)

    @property
    def status(self) -> str:
        for status in PRECEDENCE:
            if status in self.statuses:
                return status
        return Status.SKIP

    @property
    def status_reasons(self) -> list[str]:
        if not self.statuses:
            return [NO_CHECK_RAN]
        return self.reasons.get(self.status, [])


Grid = dict[str, dict[str, Cell]]  # requirement id -> version -> cell


def aggregate(
    requirements: list[Mapping[str, Any]],
    outcomes: list[Mapping[str, Any]],
    versions: list[str],
    warnings: list[str],
) -> Grid:
    """Build the grid; only versions a requirement applies to get a cell.

    An outcome without a version holds for every evaluated version the requirement applies to.
    Anything the grid cannot place is reported in `warnings` rather than silently dropped.
    """
    grid: Grid = {req["id"]: {v: Cell() for v in versions if _versions.applies(req, v)}
                  for req in requirements}
    for outcome in outcomes:
        req_id = str(outcome.get("requirement", ""))
        cells = grid.get(req_id)
        if cells is None:
            warnings.append(f"outcome for unknown requirement {req_id!r} ignored")
            continue
        status = str(outcome.get("status", ""))
        reason = str(outcome.get("reason") or "")
        if status not in OUTCOME_STATUSES:
            reason = f"unknown outcome status {status!r}" + (f": {reason}" if reason else "")
            status = Status.ERROR
        check = str(outcome.get("check") or "")
        version = outcome.get("version")
        if version is None:
            targets = list(cells.values())
        elif version in cells:
            targets = [cells[version]]
        else:
            warnings.append(f"outcome for {req_id} at {version} ignored: not evaluated or not in force there")
            continue
        for cell in targets:
            cell.add(status, reason, check)
    return grid
