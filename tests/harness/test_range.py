"""The compatible range: the reference at each spec version is measured as exactly that range."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness_suite import KEY_TRIPLES, run_suite
from versions import OLDER_MINORS, label, newer_lines, same_line

from valora_spec import reference


# each minor line behind the newest, at its first release (its patches behave alike)
@pytest.mark.parametrize("version", OLDER_MINORS)
def test_reference_at_an_older_version_measures_exactly_its_range(tmp_path: Path, version: str) -> None:
    app = reference.create_app(keys=KEY_TRIPLES, spec_version=version)
    try:
        with reference.serve_in_thread(app) as url:
            result = run_suite(tmp_path / "report", base_url=url)
    finally:
        app.close()
    report = result.report
    assert result.exit_code == 0, result.stdout[-3000:]
    assert report["verdict"] == "pass"
    assert report["range"]["label"] == label(version)
    assert not report["compatibility"]["over_claim"]
    verdicts = {p["version"]: p["verdict"] for p in report["profiles"]}
    # every patch of the behaved minor line passes (a patch only sharpens the wording); every
    # later minor line fails
    behaved, newer = same_line(version), newer_lines(version)
    assert set(behaved) | set(newer) <= set(verdicts) and newer
    assert all(verdicts[v] == "pass" for v in behaved) and all(verdicts[v] == "fail" for v in newer)
    # what the newer versions lack is named, and no requirement of the judged version fails
    judged = {r["id"]: r["by_version"][version] for r in report["requirements"]
              if version in r["by_version"]}
    assert not [r for r, status in judged.items() if status == "fail"]
    assert report["range"]["first_failing"]["requirements"]
    # pytest's own summary agrees with the verdict: checks failing only newer versions are
    # xfailed with the reason, none "failed", and the verdict line comes last
    counts = next(line for line in reversed(result.stdout.splitlines()) if " passed" in line)
    assert " failed" not in counts and "xfailed" in counts, counts
    assert result.stdout.strip().splitlines()[-1].startswith("Valora conformance: verdict PASS")
