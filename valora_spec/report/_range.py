"""The measured compatible range, and how it compares with what the target declares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valora_spec import _versions
from valora_spec.report._statuses import Status

ProfileResults = Mapping[str, Mapping[str, Any]]  # version -> evaluated profile


def compatible_range(results: ProfileResults) -> dict[str, Any]:
    """The contiguous run of passing profiles, starting at the lowest evaluated version.

    Only pass and fail decide it: the run stops at the first version that is not passed, and a
    version that could not be judged (incomplete) is listed as such, never counted as failed.
    """
    passing: list[str] = []
    first_failing: dict[str, Any] | None = None
    unjudged: list[dict[str, Any]] = []
    for version in _versions.sort_versions(list(results)):
        result = results[version]
        if result["verdict"] == Status.PASS and not (first_failing or unjudged):
            passing.append(version)
        elif result["verdict"] == Status.FAIL and first_failing is None:
            first_failing = {"version": version, "requirements": list(result["failing"])}
        elif result["verdict"] == Status.INCOMPLETE:
            unjudged.append({"version": version, "requirements": _unevaluated(result)})
    measured = {"min": passing[0], "max": passing[-1]} if passing else None
    return {
        "measured": measured,
        "label": _versions.range_label(passing[0] if passing else None, passing[-1] if passing else None),
        "first_failing": first_failing,
        "unjudged": unjudged,
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
    top = _versions.minor_line(claimed["max"])
    floor = _versions.minor_line(measured["max"]) if measured else (-1, -1)
    if top > floor:
        above = [v for v in _versions.sort_versions(list(results)) if floor < _versions.minor_line(v) <= top]
        failing: list[str] = []
        for version in above:
            failing += [r for r in results[version]["failing"] if r not in failing]
        shown = _versions.range_label(measured["min"], measured["max"]) if measured else "none"
        comparison["failing_requirements"] = failing
        # An over-claim is a statement about the server, so only failures make one; a claimed
        # version that could not be judged leaves the claim unverified.
        comparison["over_claim"] = bool(failing)
        if failing:
            comparison["note"] = f"declares {claimed['max']} but the measured range is {shown}"
        elif above:
            comparison["note"] = (f"declares {claimed['max']}; not verified: the measured range is "
                                  f"{shown} and {', '.join(above)} could not be fully judged")
        else:
            comparison["note"] = (f"declares {claimed['max']} but the measured range is {shown}; "
                                  "the claimed version was not evaluated")
    elif measured is not None and top < _versions.minor_line(measured["max"]):
        comparison["under_claim"] = True
        comparison["note"] = f"declares {claimed['max']} but passes up to {measured['max']}"
    else:
        comparison["note"] = "the declared version is within the measured range"
    return comparison


def _unevaluated(result: Mapping[str, Any]) -> list[str]:
    return list(result["skipped_required"]) + list(result["errored"])


def _claimed_range(declared: Mapping[str, Any] | None, warnings: list[str]) -> dict[str, str] | None:
    """What the discovery document claims; the implemented spec_version is a claim too."""
    if not declared:
        return None
    spec_version = declared.get("spec_version")
    declared_range = declared.get("compatible_range") or {}
    candidates = [v for v in (declared_range.get("min"), declared_range.get("max"), spec_version) if v]
    try:
        ordered = sorted((str(v) for v in candidates), key=_versions.parse)
    except ValueError as exc:
        warnings.append(f"declared versions ignored: {exc}")
        return None
    if not ordered:
        return None
    return {"min": str(declared_range.get("min") or ordered[0]), "max": ordered[-1]}
