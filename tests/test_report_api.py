"""valora_spec.report's public API end to end: build → write → verify, merge, diff, load/validate."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from valora_spec import report
from valora_spec.conformance._profiles import load_profiles

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
NOW = datetime(2025, 11, 20, 3, 0, tzinfo=UTC)
CATALOGUE = yaml.safe_load((FIXTURES / "catalogue.yaml").read_text(encoding="utf-8"))
PROFILES = load_profiles(FIXTURES / "profiles")


def fixture_run() -> dict:
    return json.loads((FIXTURES / "run.json").read_text(encoding="utf-8"))


def build(run: dict, **kwargs: object) -> dict:
    return report.build(run, catalogue=CATALOGUE, profiles=PROFILES, now=NOW, **kwargs)


def test_the_public_names_are_all_there_and_documented() -> None:
    for name in report.__all__:
        assert getattr(report, name).__doc__, name


def test_build_write_verify_load(tmp_path: Path) -> None:
    private, public = report.generate_keypair(tmp_path / "keys" / "signer")
    built = build(fixture_run())
    out = tmp_path / "bundle"
    written = report.write(built, out, signing_key=private)
    assert [p.name for p in written[-2:]] == ["manifest.json", "manifest.sig"]

    result = report.verify(out, public)
    assert result.ok, result.problems
    assert report.key_fingerprint(public) in " ".join(result.notes)
    assert report.load(out / "report.json") == built

    (out / "summary.md").write_text("all green\n", encoding="utf-8")
    assert not report.verify(out, public).ok


def test_merge_of_two_partials_builds_the_report_of_the_whole_run() -> None:
    whole = fixture_run()
    outcomes, failures = whole["outcomes"], whole["failures"]
    assert len(outcomes) > 1 and len(failures) > 1
    first = {**whole, "outcomes": outcomes[:3], "failures": failures[:1]}
    # the second worker met the first's failure too: one failure, seen twice
    second = {"outcomes": outcomes[3:], "failures": [*failures[1:], copy.deepcopy(failures[0])],
              "errors": list(whole["errors"])}

    merged = report.merge(first, second)

    assert merged["outcomes"] == outcomes
    assert [f["occurrences"] for f in merged["failures"]] == [2, *[1] * (len(failures) - 1)]
    assert merged["errors"] == whole["errors"]  # the same error from both parts is one error
    assert build(merged) == build(whole)
    assert "occurrences" not in failures[0]  # the parts are left as they were


def test_diff_against_a_baseline_is_what_build_records() -> None:
    baseline = build({**fixture_run(), "failures": [], "outcomes": [
        {"requirement": r["id"], "version": None, "status": "pass", "reason": "", "check": "c::t"}
        for r in CATALOGUE["requirements"]]})
    current = build(fixture_run())
    failing = sorted(r["id"] for r in current["requirements"] if r["status"] in ("fail", "error"))

    result = report.diff(baseline, current)

    assert failing and sorted(r["id"] for r in result["regressions"]) == failing
    assert result["fixed"] == []
    assert result == build(fixture_run(), baseline=baseline)["baseline"]
    assert report.diff(current, baseline)["regressions"] == []


def test_validate_and_load_reject_what_is_not_a_report(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="report.schema.json"):
        report.validate({"verdict": "pass"})
    path = tmp_path / "report.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError):
        report.load(path)
    schema = report.schema()
    schema["properties"].clear()  # a copy: validation is unaffected
    report.validate(build(fixture_run()))
