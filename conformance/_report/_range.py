"""The measured compatible range, and how it compares with what the target declares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance._report import _semver
from conformance._report._statuses import PASS

ProfileResults = Mapping[str, Mapping[str, Any]]  # version -> evaluated profile


def compatible_range(results: ProfileResults) -> dict[str, Any]:
    """The contiguous run of passing profiles, starting at the lowest evaluated version."""
    passing: list[str] = []
    first_failing: dict[str, Any] | None = None
    for version in _semver.sort_versions(list(results)):
        result = results[version]
        if result["verdict"] != PASS:
            first_failing = {"version": version, "requirements": _not_passed(result)}
            break
        passing.append(version)
    measured = {"min": passing[0], "max": passing[-1]} if passing else None
    return {
        "measured": measured,
        "label": _semver.range_label(passing[0] if passing else None, passing[-1] if passing else None),
        "first_failing": first_failing,
    }


def compare_claim(
    declared: Mapping[str, Any] | None,
    measured: Mapping[str, str] | None,
    results: ProfileResults,
    warnings: list[str],
) -> dict[str, Any]:
    """Over-claim: the target declares a version (minor) above the measured maximum."""
    claimed = _claimed_range(declared, warnings)
    comparison: dict[str, Any] = {
        "declared": claimed,
        "measured": dict(measured) if measured else None,
        "over_claim": False,
        "under_claim": False,
        "claimed_version": claimed["max"] if claimed else None,
        "failing_requirements": [],
        "note": "",
    }
    if claimed is None:
        comparison["note"] = "the target declares no spec version"
        return comparison
    top = _semver.parse(claimed["max"])[:2]
    if measured is None or top > _semver.parse(measured["max"])[:2]:
        comparison["over_claim"] = True
        floor = _semver.parse(measured["max"])[:2] if measured else (-1, -1)
        failing: list[str] = []
        covered = False
        for version in _semver.sort_versions(list(results)):
            if floor < _semver.parse(version)[:2] <= top:
                covered = True
                failing += [r for r in _not_passed(results[version]) if r not in failing]
        comparison["failing_requirements"] = failing
        shown = _semver.range_label(measured["min"], measured["max"]) if measured else "none"
        comparison["note"] = f"declares {claimed['max']} but the measured range is {shown}"
        if not covered:
            comparison["note"] += "; the claimed version was not evaluated"
    elif top < _semver.parse(measured["max"])[:2]:
        comparison["under_claim"] = True
        comparison["note"] = f"declares {claimed['max']} but passes up to {measured['max']}"
    else:
        comparison["note"] = "the declared version is within the measured range"
    return comparison


def _not_passed(result: Mapping[str, Any]) -> list[str]:
    return list(result["failing"]) + list(result["skipped_required"])


def _claimed_range(declared: Mapping[str, Any] | None, warnings: list[str]) -> dict[str, str] | None:
    """What the discovery document claims; the implemented spec_version is a claim too."""
    if not declared:
        return None
    spec_version = declared.get("spec_version")
    declared_range = declared.get("compatible_range") or {}
    candidates = [v for v in (declared_range.get("min"), declared_range.get("max"), spec_version) if v]
    try:
        ordered = sorted((str(v) for v in candidates), key=_semver.parse)
    except ValueError as exc:
        warnings.append(f"declared versions ignored: {exc}")
        return None
    if not ordered:
        return None
    return {"min": str(declared_range.get("min") or ordered[0]), "max": ordered[-1]}
