"""build_report on synthetic runs: aggregation, waivers, profiles, range, over-claim, baseline."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from valora_spec import report as report_api
from valora_spec.conformance._profiles import load_profiles, load_waivers
from valora_spec.report import build as build_report

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
NOW = datetime(2025, 11, 20, 3, 0, tzinfo=UTC)
VERSIONS = ["1.0.0", "1.1.0", "1.2.0"]
CATALOGUE = yaml.safe_load((FIXTURES / "catalogue.yaml").read_text(encoding="utf-8"))
PROFILES = load_profiles(FIXTURES / "profiles")
ALL_IDS = [r["id"] for r in CATALOGUE["requirements"]]


def outcome(req: str, status: str, version: str | None = None, reason: str = "") -> dict:
    return {
        "requirement": req,
        "version": version,
        "status": status,
        "reason": reason,
        "check": f"conformance/test_x.py::test_{req.lower().replace('-', '_')}",
    }


def make_run(extra: list[dict], *, without: tuple[str, ...] = (), **overrides: object) -> dict:
    """A run where every requirement passes (except those `without`), plus the `extra` outcomes."""
    run = json.loads((FIXTURES / "run.json").read_text(encoding="utf-8"))
    run["outcomes"] = [outcome(i, "pass") for i in ALL_IDS if i not in without] + extra
    run["failures"] = []
    run.update(overrides)
    return run


def build(run: dict, **kwargs: object) -> dict:
    return build_report(run, catalogue=CATALOGUE, profiles=PROFILES, now=NOW, **kwargs)


def req(report: dict, req_id: str) -> dict:
    return next(r for r in report["requirements"] if r["id"] == req_id)


def profile(report: dict, version: str) -> dict:
    return next(p for p in report["profiles"] if p["version"] == version)


def declared(max_version: str) -> dict:
    return {
        "base_url": "http://127.0.0.1:8080",
        "embedded": False,
        "declared": {
            "spec_version": max_version,
            "compatible_range": {"min": "1.0.0", "max": max_version},
            "implementation": {"name": "impl", "version": "1"},
            "usage_visibility_seconds": 1,
        },
        "discovery_error": None,
    }


def valid(report: dict) -> None:
    schema = report_api.schema()
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(report)


# -- aggregation ---------------------------------------------------------------------------------


def test_fail_beats_error_beats_pass_beats_skip():
    run = make_run([])
    run["outcomes"] = [
        outcome("VAL-AUTH-001", "pass"),
        outcome("VAL-AUTH-001", "error", reason="boom"),
        outcome("VAL-AUTH-001", "fail", "1.1.0", reason="got 200"),
        outcome("VAL-AUTH-002", "pass"),
        outcome("VAL-AUTH-002", "error", "1.2.0", reason="timeout"),
        outcome("VAL-PAGE-001", "skip", reason="needs a second key"),
        outcome("VAL-PAGE-001", "pass", "1.0.0"),
        outcome("VAL-PAGE-002", "skip", reason="budget quick"),
        outcome("VAL-PAGE-002", "skip", reason="no data"),
    ]
    report = build(run)
    assert req(report, "VAL-AUTH-001")["by_version"] == {
        "1.0.0": "error",
        "1.1.0": "fail",
        "1.2.0": "error",
    }
    assert req(report, "VAL-AUTH-002")["by_version"] == {
        "1.0.0": "pass",
        "1.1.0": "pass",
        "1.2.0": "error",
    }
    assert req(report, "VAL-AUTH-002")["reason"] == "timeout"
    assert req(report, "VAL-PAGE-001")["by_version"]["1.0.0"] == "pass"
    assert req(report, "VAL-PAGE-001")["by_version"]["1.1.0"] == "skip"
    page2 = req(report, "VAL-PAGE-002")
    assert page2["status"] == "skip"
    assert page2["reason"] == "budget quick; no data"
    assert len(page2["checks"]) == 1


def test_no_outcome_is_skip_no_check_ran():
    report = build(make_run([], without=("VAL-AUTH-002",)))
    entry = req(report, "VAL-AUTH-002")
    assert entry["status"] == "skip"
    assert entry["reason"] == "no check ran"
    assert entry["checks"] == []
    assert profile(report, "1.0.0")["skipped_required"] == ["VAL-AUTH-002"]
    assert profile(report, "1.0.0")["verdict"] == "incomplete"
    assert report["verdict"] == "incomplete"
    assert report["range"]["unjudged"][0] == {"version": "1.0.0", "requirements": ["VAL-AUTH-002"]}


def test_versionless_outcome_applies_only_from_since_and_before_retired():
    report = build(make_run([]))
    assert req(report, "VAL-INV-002")["by_version"] == {"1.1.0": "pass", "1.2.0": "pass"}
    assert req(report, "VAL-INV-001")["by_version"] == {"1.0.0": "pass", "1.1.0": "pass"}
    assert req(report, "VAL-INV-001")["status"] == "n/a"
    assert "retired in 1.2.0" in req(report, "VAL-INV-001")["reason"]


def test_not_in_force_at_target_is_not_applicable():
    report = build(make_run([], target_version="1.0.0", target=declared("1.0.0")))
    entry = req(report, "VAL-INV-003")
    assert entry["status"] == "n/a"
    assert "introduced in 1.2.0" in entry["reason"]
    assert report["counts"]["n/a"] == 2  # INV-002 and INV-003


def test_unknown_requirement_and_unknown_status_are_reported_not_dropped():
    run = make_run([outcome("VAL-NOPE-001", "fail"), outcome("VAL-AUTH-001", "xfail", "1.2.0")])
    report = build(run)
    assert any("VAL-NOPE-001" in w for w in report["warnings"])
    assert req(report, "VAL-AUTH-001")["status"] == "error"
    assert req(report, "VAL-AUTH-001")["reason"] == "unknown outcome status 'xfail'"


# -- waivers -------------------------------------------------------------------------------------


def test_waiver_turns_fail_into_waived_never_pass():
    run = make_run([outcome("VAL-INV-003", "fail", "1.2.0", reason="coupon ignored")])
    waivers = [{"requirement": "VAL-INV-003", "reason": "vendor bug 12", "expires": "2025-12-31"}]
    report = build(run, waivers=waivers)
    entry = req(report, "VAL-INV-003")
    assert entry["status"] == "waived"
    assert entry["waived_from"] == "fail"
    assert "vendor bug 12" in entry["reason"]
    assert report["counts"]["waived"] == 1
    assert report["counts"]["pass"] == 6  # 8 minus INV-001 (n/a) and the waived INV-003
    assert profile(report, "1.2.0")["waived"] == ["VAL-INV-003"]
    assert profile(report, "1.2.0")["verdict"] == "pass"
    assert report["waivers"][0]["state"] == "active"
    assert report["waivers"][0]["applied_to"] == ["1.2.0"]
    assert report["verdict"] == "pass"


def test_waiver_leaves_a_pass_alone():
    waivers = [{"requirement": "VAL-AUTH-001", "reason": "just in case", "expires": "2025-12-31"}]
    report = build(make_run([]), waivers=waivers)
    assert req(report, "VAL-AUTH-001")["status"] == "pass"
    assert report["waivers"][0]["applied_to"] == []


def test_expired_waiver_is_ignored_and_listed():
    run = make_run([outcome("VAL-INV-003", "fail", "1.2.0")])
    waivers = [
        {"requirement": "VAL-INV-003", "reason": "old", "expires": "2025-11-19"},
        {"requirement": "VAL-GONE-001", "reason": "typo", "expires": "2030-01-01"},
    ]
    report = build(run, waivers=waivers)
    assert req(report, "VAL-INV-003")["status"] == "fail"
    states = {w["requirement"]: w["state"] for w in report["waivers"]}
    assert states == {"VAL-INV-003": "expired", "VAL-GONE-001": "unknown-requirement"}
    assert any("expired" in w for w in report["warnings"])
    assert report["verdict"] == "fail"


def test_waiver_is_valid_through_its_expiry_day():
    run = make_run([outcome("VAL-INV-003", "fail", "1.2.0")])
    waivers = [{"requirement": "VAL-INV-003", "reason": "last day", "expires": "2025-11-20"}]
    assert req(build(run, waivers=waivers), "VAL-INV-003")["status"] == "waived"


def test_load_waivers_reads_yaml_dates(tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "- requirement: VAL-INV-003\n  reason: vendor bug\n  expires: 2025-12-31\n", encoding="utf-8"
    )
    assert load_waivers(path) == [
        {"requirement": "VAL-INV-003", "reason": "vendor bug", "expires": "2025-12-31"}
    ]
    path.write_text("- {requirement: VAL-INV-003, reason: x, expires: 2025-02-30}\n")
    with pytest.raises(ValueError, match="waiver"):
        load_waivers(path)
    path.write_text("- {requirement: VAL-INV-003, expires: 2025-02-03}\n")
    with pytest.raises(ValueError, match="reason"):
        load_waivers(path)
    path.write_text("")
    assert load_waivers(path) == []


# -- profiles and the compatible range ------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "label", "measured", "first_failing"),
    [
        ([], "1.0.0 – 1.2.x", {"min": "1.0.0", "max": "1.2.0"}, None),
        (
            [outcome("VAL-INV-003", "fail", "1.2.0")],
            "1.0.0 – 1.1.x",
            {"min": "1.0.0", "max": "1.1.0"},
            "1.2.0",
        ),
        ([outcome("VAL-INV-002", "fail", "1.1.0")], "1.0.x", {"min": "1.0.0", "max": "1.0.0"}, "1.1.0"),
        ([outcome("VAL-AUTH-001", "fail", "1.0.0")], "none", None, "1.0.0"),
    ],
    ids=["1.0-1.2.x", "1.0-1.1.x", "1.0.x", "none"],
)
def test_compatible_range(extra, label, measured, first_failing):
    report = build(make_run(extra, target=declared("1.0.0"), target_version="1.0.0"))
    assert report["range"]["label"] == label
    assert report["range"]["measured"] == measured
    failing = report["range"]["first_failing"]
    assert (failing["version"] if failing else None) == first_failing
    valid(report)


def test_range_is_contiguous_from_the_lowest_version():
    # INV-001 is retired in 1.2.0: failing it breaks 1.0 and 1.1 while 1.2 still passes.
    report = build(make_run([outcome("VAL-INV-001", "fail")]))
    assert [p["verdict"] for p in report["profiles"]] == ["fail", "fail", "pass"]
    assert report["range"]["label"] == "none"
    assert report["range"]["first_failing"] == {"version": "1.0.0", "requirements": ["VAL-INV-001"]}


def test_absent_optional_capability_excuses_a_skipped_must():
    skip = outcome("VAL-RATE-001", "skip", reason="capability absent: rate_limiting")
    report = build(make_run([skip], without=("VAL-RATE-001",)))
    assert req(report, "VAL-RATE-001")["status"] == "skip"
    assert profile(report, "1.2.0")["verdict"] == "pass"
    assert profile(report, "1.2.0")["absent_capabilities"] == ["rate_limiting"]
    assert report["verdict"] == "pass"


def test_skipped_must_for_another_reason_leaves_the_profile_incomplete():
    skip = outcome("VAL-RATE-001", "skip", reason="deadline reached")
    report = build(make_run([skip], without=("VAL-RATE-001",)))
    assert profile(report, "1.0.0")["skipped_required"] == ["VAL-RATE-001"]
    assert report["range"]["label"] == "none"
    assert report["range"]["first_failing"] is None
    assert [u["version"] for u in report["range"]["unjudged"]] == ["1.0.0", "1.1.0", "1.2.0"]
    assert report["compatibility"]["over_claim"] is False
    assert report["verdict"] == "incomplete"


def test_capability_absence_does_not_excuse_requirements_outside_the_capability():
    skip = outcome("VAL-AUTH-002", "skip", reason="capability absent: rate_limiting")
    report = build(make_run([skip], without=("VAL-AUTH-002",)))
    assert profile(report, "1.0.0")["skipped_required"] == ["VAL-AUTH-002"]


def test_should_failure_is_reported_but_does_not_fail_the_profile():
    report = build(make_run([outcome("VAL-PAGE-002", "fail", reason="limit 50")]))
    assert req(report, "VAL-PAGE-002")["status"] == "fail"
    assert profile(report, "1.2.0")["should_failing"] == ["VAL-PAGE-002"]
    assert profile(report, "1.2.0")["verdict"] == "pass"
    assert report["verdict"] == "pass"
    assert report["counts_by_level"]["SHOULD"]["fail"] == 1


def test_missing_profile_falls_back_to_the_catalogue():
    profiles = [p for p in PROFILES if p["version"] != "1.1.0"]
    run = make_run([outcome("VAL-INV-002", "fail", "1.1.0")])
    report = build_report(run, catalogue=CATALOGUE, profiles=profiles, now=NOW)
    assert profile(report, "1.1.0")["source"] == "catalogue"
    assert profile(report, "1.1.0")["failing"] == ["VAL-INV-002"]
    assert any("no profile for 1.1.0" in w for w in report["warnings"])


# -- declared versus measured ---------------------------------------------------------------------


def test_over_claim_fails_and_names_the_claimed_versions_failures():
    run = make_run([outcome("VAL-INV-003", "fail", "1.2.0")], target=declared("1.2.0"))
    run["target_version"] = "1.1.0"  # even judged at 1.1, claiming 1.2 is an over-claim
    report = build(run)
    assert profile(report, "1.1.0")["verdict"] == "pass"
    comparison = report["compatibility"]
    assert comparison["over_claim"] is True
    assert comparison["claimed_version"] == "1.2.0"
    assert comparison["failing_requirements"] == ["VAL-INV-003"]
    assert report["verdict"] == "fail"
    assert any("over-claim" in r for r in report["verdict_reasons"])


def test_claim_within_range_is_not_an_over_claim():
    run = make_run([outcome("VAL-INV-003", "fail", "1.2.0")], target=declared("1.1.0"))
    run["target_version"] = "1.1.0"
    report = build(run)
    assert report["compatibility"]["over_claim"] is False
    assert report["verdict"] == "pass"
    assert req(report, "VAL-INV-003")["status"] == "n/a"


def test_under_claim_is_noted_but_passes():
    run = make_run([], target=declared("1.0.0"), target_version="1.0.0")
    report = build(run)
    assert report["compatibility"]["under_claim"] is True
    assert report["verdict"] == "pass"


def test_claim_above_every_evaluated_version_is_not_judged_an_over_claim():
    run = make_run([], target=declared("1.3.0"), target_version="1.2.0")
    report = build(run)
    assert report["compatibility"]["over_claim"] is False  # nothing failed: unverified, not false
    assert "not evaluated" in report["compatibility"]["note"]
    assert report["verdict"] == "pass"


def test_no_declaration_judges_the_highest_version():
    target = {"base_url": "http://x", "embedded": False, "declared": None, "discovery_error": "404"}
    report = build(make_run([], target=target, target_version=None))
    assert report["judged_version"] == "1.2.0"
    assert report["compatibility"]["declared"] is None
    assert report["verdict"] == "pass"


# -- verdict error ---------------------------------------------------------------------------------


def test_unreachable_target_is_incomplete():
    run = make_run([], errors=["target unreachable: connection refused"])
    run["outcomes"] = [outcome(i, "error", reason="connection refused") for i in ALL_IDS]
    report = build(run)
    assert report["verdict"] == "incomplete"
    assert report["verdict_reasons"][-1] == "harness error: target unreachable: connection refused"
    assert report["range"]["label"] == "none"
    assert report["range"]["first_failing"] is None
    assert report["compatibility"]["over_claim"] is False
    valid(report)


def test_harness_error_with_some_passes_is_incomplete():
    skip = outcome("VAL-INV-003", "skip", "1.2.0", reason="deadline hit")
    run = make_run([skip], without=("VAL-INV-003",), errors=["deadline hit after 600 s"])
    report = build(run)
    assert report["verdict"] == "incomplete"
    assert report["range"]["label"] == "1.0.0 – 1.1.x"
    assert report["errors"] == ["deadline hit after 600 s"]


# -- baseline ----------------------------------------------------------------------------------


def test_baseline_marks_new_failures_and_fixes():
    before = build(make_run([outcome("VAL-AUTH-002", "fail"), outcome("VAL-PAGE-001", "error")]))
    now = build(
        make_run([outcome("VAL-INV-003", "fail", "1.2.0"), outcome("VAL-PAGE-001", "error")]),
        baseline=before,
    )
    marks = {r["id"]: r["baseline"] for r in now["requirements"]}
    assert marks["VAL-INV-003"] == "new-failure"
    assert marks["VAL-AUTH-002"] == "fixed"
    assert marks["VAL-PAGE-001"] == "unchanged"
    assert marks["VAL-AUTH-001"] == "unchanged"
    assert [r["id"] for r in now["baseline"]["regressions"]] == ["VAL-INV-003"]
    assert now["baseline"]["regressions"][0]["from"] == "pass"
    assert [r["id"] for r in now["baseline"]["fixed"]] == ["VAL-AUTH-002"]
    valid(now)


def test_requirement_new_since_the_baseline_that_fails_is_a_regression():
    before = build(make_run([]))
    before["requirements"] = [r for r in before["requirements"] if r["id"] != "VAL-INV-003"]
    now = build(make_run([outcome("VAL-INV-003", "fail", "1.2.0")]), baseline=before)
    assert now["baseline"]["regressions"][0]["from"] is None


# -- the report itself ----------------------------------------------------------------------------


def test_report_carries_the_run_and_validates():
    run = json.loads((FIXTURES / "run.json").read_text(encoding="utf-8"))
    report = build(run)
    valid(report)
    for key in ("seed", "budget", "config", "stats", "harness", "duration_s", "started_at"):
        assert report[key] == run[key]
    assert report["spec"] == {"versions": VERSIONS, "files": run["spec"]["files"]}
    assert report["target_version"] == "1.2.0"
    assert report["outcomes"] == run["outcomes"]
    assert len(report["requirements"]) == len(CATALOGUE["requirements"])
    # the fixture declares 1.2.0 and fails it: an over-claim, which breaks VAL-META-001 there
    assert [f["id"] for f in report["failures"]] == ["F001", "F002", "F003"]
    assert report["failures"][2]["requirement"] == "VAL-META-001"
    assert report["failures"][2]["message"].startswith("over-claim: declares 1.2.0")
    assert report["failures"][0]["level"] == "MUST"
    assert report["certification"]["badge"] is False


def test_certification_needs_a_pass_at_the_thorough_budget():
    assert build(make_run([]))["certification"]["badge"] is True
    quick = build(make_run([], budget="quick"))
    assert quick["verdict"] == "pass"
    assert quick["certification"]["badge"] is False
    assert "quick" in quick["certification"]["reason"]


def test_build_does_not_mutate_its_inputs():
    run = json.loads((FIXTURES / "run.json").read_text(encoding="utf-8"))
    waivers = [{"requirement": "VAL-INV-003", "reason": "x", "expires": "2026-01-01"}]
    snapshot = copy.deepcopy((run, CATALOGUE, PROFILES, waivers))
    build(run, waivers=waivers)
    assert (run, CATALOGUE, PROFILES, waivers) == snapshot


def test_secret_headers_are_redacted_in_the_report():
    run = json.loads((FIXTURES / "run.json").read_text(encoding="utf-8"))
    canary = "sk_live_CANARY_1234567890"
    run["failures"][0]["request"]["headers"]["Authorization"] = f"Bearer {canary}"
    run["failures"][0]["message"] = f"server echoed {canary}"
    report = build(run)
    assert canary not in json.dumps(report)
    assert report["failures"][0]["request"]["headers"]["Authorization"] == "[REDACTED]"


def test_key_placeholders_survive_so_reproductions_run():
    run = json.loads((FIXTURES / "run.json").read_text(encoding="utf-8"))
    run["failures"][0]["request"]["headers"]["Authorization"] = "Bearer $VALORA_API_KEY_B"
    curl = 'curl -sS -X GET http://x/v1/invoices -H "Authorization: Bearer $VALORA_API_KEY"'
    run["failures"][0]["reproduction"] = curl
    report = build(run)
    assert report["failures"][0]["request"]["headers"]["Authorization"] == "Bearer $VALORA_API_KEY_B"
    assert report["failures"][0]["reproduction"] == curl


def test_error_is_never_charged_to_the_server():
    """A harness error at the claimed version makes it unjudged: no fail, no over-claim."""
    err = outcome("VAL-INV-003", "error", "1.2.0", reason="harness error: KeyError")
    report = build(make_run([err], without=("VAL-INV-003",), target=declared("1.2.0")))
    assert profile(report, "1.2.0")["verdict"] == "incomplete"
    assert profile(report, "1.2.0")["errored"] == ["VAL-INV-003"]
    assert report["range"]["label"] == "1.0.0 – 1.1.x"
    assert report["range"]["unjudged"] == [{"version": "1.2.0", "requirements": ["VAL-INV-003"]}]
    assert report["compatibility"]["over_claim"] is False
    assert report["verdict"] == "incomplete"


def test_a_failure_beside_an_error_still_fails():
    outcomes = [outcome("VAL-INV-003", "error", "1.2.0"), outcome("VAL-AUTH-002", "fail")]
    report = build(make_run(outcomes, without=("VAL-INV-003", "VAL-AUTH-002")))
    assert report["verdict"] == "fail"
    assert any("could not be fully judged" in r for r in report["verdict_reasons"])
