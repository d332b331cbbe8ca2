"""Decide whether one version's profile passes, given the statuses at that version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valora_spec import _versions
from valora_spec.report._statuses import STATUSES, Status

# A skip excuses a MUST only when its reason says the optional capability is absent,
# e.g. "capability absent: rate_limiting". Any of these words counts as "absent".
ABSENT_WORDS = ("absent", "not supported", "unsupported", "not implemented")

NOT_EVALUATED = "not evaluated at this version"

Statuses = Mapping[str, tuple[str, list[str]]]  # requirement id -> (status, reasons)


def evaluate_profile(profile: Mapping[str, Any], statuses: Statuses) -> dict[str, Any]:
    must = list(profile["requirements"].get("must") or [])
    should = list(profile["requirements"].get("should") or [])
    capabilities = _capabilities_by_requirement(profile)
    result: dict[str, Any] = {
        "version": profile["version"],
        "source": profile.get("source", "profile"),
        "certification_budget": profile.get("certification_budget", "thorough"),
        "verdict": Status.PASS,
        "counts": {"must": _zero_counts(), "should": _zero_counts()},
        "failing": [],
        "skipped_required": [],
        "errored": [],
        "waived": [],
        "should_failing": [],
        "absent_capabilities": [],
    }
    for req_id in must:
        status, reasons = statuses.get(req_id, (Status.SKIP, [NOT_EVALUATED]))
        result["counts"]["must"][status] += 1
        if status == Status.WAIVED:
            result["waived"].append(req_id)
        elif status == Status.FAIL:
            result["failing"].append(req_id)
        elif status == Status.ERROR:
            result["errored"].append(req_id)
        elif status == Status.SKIP:
            absent = _absent_capability(capabilities.get(req_id, []), reasons)
            if absent is None:
                result["skipped_required"].append(req_id)
            elif absent not in result["absent_capabilities"]:
                result["absent_capabilities"].append(absent)
    for req_id in should:
        status, _ = statuses.get(req_id, (Status.SKIP, [NOT_EVALUATED]))
        result["counts"]["should"][status] += 1
        if status == Status.WAIVED:
            result["waived"].append(req_id)
        elif status == Status.FAIL:
            result["should_failing"].append(req_id)
    if result["failing"]:
        result["verdict"] = Status.FAIL
    elif result["skipped_required"] or result["errored"]:
        result["verdict"] = Status.INCOMPLETE
    return result


def _zero_counts() -> dict[str, int]:
    return dict.fromkeys(STATUSES, 0)


def _capabilities_by_requirement(profile: Mapping[str, Any]) -> dict[str, list[str]]:
    by_req: dict[str, list[str]] = {}
    for capability in profile.get("optional_capabilities") or []:
        for req_id in capability.get("requirements") or []:
            by_req.setdefault(req_id, []).append(capability["name"])
    return by_req


def _absent_capability(names: list[str], reasons: list[str]) -> str | None:
    """The capability a skip reason declares absent, if the requirement belongs to it."""
    for name in names:
        spellings = {name.lower(), name.lower().replace("_", " "), name.lower().replace("_", "-")}
        for reason in reasons:
            text = reason.lower()
            if any(s in text for s in spellings) and any(w in text for w in ABSENT_WORDS):
                return name
    return None


def profile_from_catalogue(catalogue: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The profile a version demands by default: every requirement in force at that version."""
    must: list[str] = []
    should: list[str] = []
    for req in catalogue["requirements"]:
        if _versions.applies(req, version):
            (must if req["level"] == "MUST" else should).append(req["id"])
    return {
        "version": version,
        "spec": f"spec/{version}/openapi.yaml",
        "requirements": {"must": must, "should": should},
        "optional_capabilities": [],
        "certification_budget": "thorough",
    }
