"""build_report: turn what the harness collected into the report (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from valora_spec import _versions
from valora_spec._redact import redact_report
from valora_spec.report._aggregate import Grid, aggregate
from valora_spec.report._baseline import diff_baseline
from valora_spec.report._profile_eval import evaluate_profile, profile_from_catalogue
from valora_spec.report._range import compare_claim, compatible_range
from valora_spec.report._schema import schema_version, validate_report
from valora_spec.report._statuses import STATUSES, Status
from valora_spec.report._waivers import sort_waivers

# version -> requirement id -> (status after waivers, reasons)
StatusTable = dict[str, dict[str, tuple[str, list[str]]]]


def build_report(
    run: dict[str, Any],
    *,
    catalogue: dict[str, Any],
    profiles: list[dict[str, Any]],
    waivers: list[dict[str, Any]] | None = None,
    baseline: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The schema-valid, redacted report of one run; `now` decides which waivers have expired."""
    now = now or datetime.now(UTC)
    warnings: list[str] = []
    requirements = list(catalogue["requirements"])
    versions = _versions.sort_versions(list(run.get("versions") or []))

    outcomes, raw_failures = list(run.get("outcomes") or []), list(run.get("failures") or [])
    active, waiver_records = sort_waivers(
        list(waivers or []), now.date(), {r["id"] for r in requirements}, warnings
    )

    def judge(warnings: list[str]) -> tuple[Grid, StatusTable, dict[str, Any]]:
        grid = aggregate(requirements, outcomes, versions, warnings)
        table = _apply_waivers(grid, active, versions)
        return grid, table, {v: evaluate_profile(_profile_for(v, profiles, catalogue, warnings), table[v])
                             for v in versions}

    grid, table, results = judge(warnings)
    measured_range = compatible_range(results)
    declared = (run.get("target") or {}).get("declared")
    comparison = compare_claim(declared, measured_range["measured"], results, warnings)
    claimed = comparison["claimed_version"]
    if (comparison["over_claim"] and comparison["measured"] and claimed in versions
            and results[claimed]["failing"]):
        # VAL-META-001: the implementation MUST satisfy every version it claims. Failed when it
        # satisfies an older version only; failing them all is not a version claim's fault,
        # and a claim whose checks were only skipped is unverified, not false.
        message = f"over-claim: {comparison['note']}"
        outcomes.append({"requirement": "VAL-META-001", "version": claimed, "status": Status.FAIL,
                         "reason": message, "check": "compatible range"})
        raw_failures.append({"requirement": "VAL-META-001", "version": claimed,
                             "operation": "GET /v1/meta", "check": "compatible range",
                             "message": message, "expected": f"every check of {claimed} passes",
                             "observed": ", ".join(results[claimed]["failing"][:10])})
        grid, table, results = judge([])  # the same warnings again

    judged = run.get("target_version") or (versions[-1] if versions else None)
    entries = [_requirement_entry(req, grid, table, judged) for req in requirements]
    by_id = {e["id"]: e for e in entries}
    failures = [_failure_entry(i, f, by_id, active) for i, f in enumerate(raw_failures)]
    errors = [str(e) for e in run.get("errors") or []]
    verdict, verdict_reasons = _verdict(errors, results.get(judged or ""), judged, comparison)
    budget = run.get("budget")
    judged_profile = results.get(judged or "")

    report: dict[str, Any] = {
        "schema_version": schema_version(),
        "generated_at": now.isoformat(),
        "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"),
        "duration_s": float(run.get("duration_s") or 0.0),
        "seed": run.get("seed"),
        "budget": budget,
        "verdict": verdict,
        "verdict_reasons": verdict_reasons,
        "target": run.get("target") or {},
        "target_version": run.get("target_version"),
        "judged_version": judged,
        "versions": versions,
        "declared": declared,
        "range": measured_range,
        "compatibility": comparison,
        "profiles": [results[v] for v in versions],
        "requirements": entries,
        "counts": _counts(entries),
        "counts_by_level": {
            level: _counts([e for e in entries if e["level"] == level]) for level in ("MUST", "SHOULD")
        },
        "failures": failures,
        "outcomes": [_outcome_entry(o) for o in run.get("outcomes") or []],
        "errors": errors,
        "warnings": warnings,
        "waivers": waiver_records,
        "baseline": None,
        "certification": _certification(verdict, budget, judged_profile),
        "config": run.get("config") or {},
        "stats": run.get("stats") or {},
        "cleanup": run.get("cleanup"),
        "spec": {"versions": versions, "files": dict((run.get("spec") or {}).get("files") or {})},
        "harness": run.get("harness") or {},
    }
    if baseline is not None:
        report["baseline"] = diff_baseline(baseline, entries)
        for entry in entries:
            entry["baseline"] = report["baseline"]["changes"][entry["id"]]["mark"]
    report = redact_report(report)
    validate_report(report)
    return report


def _apply_waivers(grid: Grid, active: Mapping[str, dict[str, Any]], versions: list[str]) -> StatusTable:
    """Waived is its own status: it never reads as pass, and the waiver records where it applied."""
    table: StatusTable = {v: {} for v in versions}
    for req_id, cells in grid.items():
        waiver = active.get(req_id)
        for version, cell in cells.items():
            status, reasons = cell.status, list(cell.status_reasons)
            if waiver is not None and status != Status.PASS:
                if version not in waiver["applied_to"]:  # the grid may be judged twice
                    waiver["applied_to"].append(version)
                reasons = [f"waived until {waiver['expires']}: {waiver['reason']} (was {status})"]
                status = Status.WAIVED
            table[version][req_id] = (status, reasons)
    return table


def _profile_for(
    version: str, profiles: list[dict[str, Any]], catalogue: Mapping[str, Any], warnings: list[str]
) -> dict[str, Any]:
    for profile in profiles:
        if profile["version"] == version:
            return profile
    warnings.append(f"no profile for {version}; using every requirement in force at {version}")
    return {**profile_from_catalogue(catalogue, version), "source": "catalogue"}


def _requirement_entry(
    req: Mapping[str, Any], grid: Grid, table: StatusTable, judged: str | None
) -> dict[str, Any]:
    cells = grid[req["id"]]
    by_version = {v: table[v][req["id"]][0] for v in cells}
    checks: list[str] = []
    for cell in cells.values():
        checks += [c for c in cell.checks if c not in checks]
    waived_from = None
    if judged in cells:
        status, reasons = table[judged][req["id"]]
        reason = "; ".join(reasons)
        if status == Status.WAIVED:
            waived_from = cells[judged].status
    else:
        status, reason = Status.NOT_APPLICABLE, _why_not_applicable(req, judged)
    return {
        "id": req["id"],
        "level": req["level"],
        "area": req["area"],
        "title": req["title"],
        "since": req["since"],
        "retired": req.get("retired"),
        "status": status,
        "reason": reason,
        "waived_from": waived_from,
        "by_version": by_version,
        "checks": checks,
        "baseline": None,
    }


def _why_not_applicable(req: Mapping[str, Any], judged: str | None) -> str:
    if judged is None:
        return "no spec version was evaluated"
    try:
        if _versions.parse(req["since"]) > _versions.parse(judged):
            return f"introduced in {req['since']}, after {judged}"
    except ValueError:
        return f"{judged} is not a spec version"
    if req.get("retired"):
        return f"retired in {req['retired']}"
    return f"{judged} was not evaluated"


def _failure_entry(
    index: int,
    failure: Mapping[str, Any],
    by_id: Mapping[str, dict[str, Any]],
    active: Mapping[str, Any],
) -> dict[str, Any]:
    req = by_id.get(str(failure.get("requirement")))
    return {
        "id": f"F{index + 1:03d}",
        "requirement": str(failure.get("requirement") or ""),
        "version": failure.get("version"),
        "level": req["level"] if req else None,
        "title": req["title"] if req else None,
        "waived": failure.get("requirement") in active,
        "operation": str(failure.get("operation") or ""),
        "check": str(failure.get("check") or ""),
        "message": str(failure.get("message") or ""),
        "expected": str(failure.get("expected") or ""),
        "observed": str(failure.get("observed") or ""),
        "reproduction": str(failure.get("reproduction") or ""),
        "seed": failure.get("seed"),
        "request": failure.get("request"),
        "response": failure.get("response"),
    }


def _outcome_entry(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The harness's raw outcome, kept so a report can be re-judged later (other waivers...)."""
    return {
        "requirement": str(outcome.get("requirement") or ""),
        "version": outcome.get("version"),
        "status": str(outcome.get("status") or ""),
        "reason": str(outcome.get("reason") or ""),
        "check": str(outcome.get("check") or ""),
    }


def _counts(entries: list[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys((*STATUSES, Status.NOT_APPLICABLE), 0)
    for entry in entries:
        counts[entry["status"]] += 1
    counts["total"] = len(entries)
    return counts


def _verdict(
    errors: list[str],
    judged_result: Mapping[str, Any] | None,
    judged: str | None,
    comparison: Mapping[str, Any],
) -> tuple[str, list[str]]:
    """fail only on what the server did; incomplete when anything could not be judged."""
    failed: list[str] = []
    unjudged: list[str] = []
    if judged is None:
        unjudged.append("no spec version was evaluated")
    elif judged_result is None:
        unjudged.append(f"spec {judged} was not evaluated")
    elif judged_result["verdict"] == Status.FAIL:
        failed.append(f"profile {judged} not passed: {len(judged_result['failing'])} MUST "
                      "requirement(s) failing")
    if comparison["over_claim"]:
        failed.append(f"over-claim: {comparison['note']}")
    if judged_result is not None and (judged_result["skipped_required"] or judged_result["errored"]):
        skipped, errored = judged_result["skipped_required"], judged_result["errored"]
        unjudged.append(f"profile {judged} could not be fully judged: {len(skipped)} MUST requirement(s) "
                        f"not evaluated, {len(errored)} with a harness error")
    unjudged += [f"harness error: {e}" for e in errors]
    if failed:
        return Status.FAIL, failed + unjudged
    return (Status.INCOMPLETE, unjudged) if unjudged else (Status.PASS, [])


def _certification(
    verdict: str, budget: str | None, judged_profile: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A badge certifies the run, so only a passing run at the certification budget earns one."""
    required = (judged_profile or {}).get("certification_budget", "thorough")
    if verdict != Status.PASS:
        return {"badge": False, "required_budget": required, "reason": f"the verdict is {verdict}"}
    if budget != required:
        return {
            "badge": False,
            "required_budget": required,
            "reason": f"budget {budget!r} is not the certification budget {required!r}",
        }
    return {"badge": True, "required_budget": required, "reason": f"passed at budget {budget!r}"}
