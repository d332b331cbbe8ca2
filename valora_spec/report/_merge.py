"""Partial records of one run (xdist workers, shards) folded into the records of the whole run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The same finding seen by two workers is one failure seen twice, as within one process.
FAILURE_KEY = ("requirement", "version", "operation", "message")


def merge_records(partials: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Outcomes and errors concatenated in order, failures deduplicated with occurrences summed.

    Every other field (target, seed, versions…) is the first partial's. Nothing given is changed.
    """
    parts = list(partials)
    merged: dict[str, Any] = dict(parts[0]) if parts else {}
    outcomes: list[dict[str, Any]] = []
    errors: list[str] = []
    failures: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in parts:
        outcomes += [dict(outcome) for outcome in part.get("outcomes") or []]
        # one error met by every worker (the target went down) is one error of the run
        errors += [e for e in part.get("errors") or [] if e not in errors]
        for failure in part.get("failures") or []:
            key = tuple(failure.get(name) for name in FAILURE_KEY)
            count = int(failure.get("occurrences") or 1)
            if key in failures:
                failures[key]["occurrences"] += count
            else:
                failures[key] = {**failure, "occurrences": count}
    merged.update(outcomes=outcomes, failures=list(failures.values()), errors=errors)
    return merged
