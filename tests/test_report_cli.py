"""`valora-spec report verify|render|keygen|diff`: exit codes and messages, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from valora_spec._report_cli import main
from valora_spec.conformance._profiles import load_profiles
from valora_spec.report import build as build_report
from valora_spec.report import write as write_artifacts

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
CATALOGUE = yaml.safe_load((FIXTURES / "catalogue.yaml").read_text(encoding="utf-8"))
PROFILES = load_profiles(FIXTURES / "profiles")


def build(run: dict, **kwargs: object) -> dict:
    now = datetime(2025, 11, 20, 3, 0, tzinfo=UTC)
    return build_report(run, catalogue=CATALOGUE, profiles=PROFILES, now=now, **kwargs)


def fixture_run() -> dict:
    return json.loads((FIXTURES / "run.json").read_text(encoding="utf-8"))


@pytest.fixture
def bundle(tmp_path) -> Path:
    out = tmp_path / "bundle"
    write_artifacts(build(fixture_run()), out)
    return out


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["report", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_verify_ok_then_names_each_problem(capsys, bundle):
    code, out, _ = cli(capsys, "verify", str(bundle))
    assert code == 0 and "OK" in out
    (bundle / "summary.md").write_text("edited", encoding="utf-8")
    (bundle / "junit.xml").unlink()
    (bundle / "extra.txt").write_text("x", encoding="utf-8")
    code, out, _ = cli(capsys, "verify", str(bundle))
    assert code == 1
    assert "FAILED: edited: summary.md" in out
    assert "FAILED: missing: junit.xml" in out
    assert "FAILED: extra: extra.txt" in out


def test_verify_bad_usage_is_exit_2_without_traceback(capsys, tmp_path, bundle):
    code, _, err = cli(capsys, "verify", str(tmp_path / "nope"))
    assert code == 2 and "not a directory" in err and "Traceback" not in err
    bad_key = tmp_path / "bad.pem"
    bad_key.write_text("junk", encoding="utf-8")
    code, _, err = cli(capsys, "verify", str(bundle), "--public-key", str(bad_key))
    assert code == 2 and "bad.pem" in err
    code, _, err = cli(capsys, "verify", str(bundle), "--public-key", str(tmp_path / "missing.pem"))
    assert code == 2 and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["report", "verify"])
    assert exc.value.code == 2
    assert cli(capsys)[0] == 2  # `report` alone


def test_keygen_render_and_verify_signed(capsys, tmp_path, bundle):
    code, out, _ = cli(capsys, "keygen", "--out", str(tmp_path / "k" / "signer"))
    assert code == 0 and "fingerprint: SHA256:" in out
    private, public = tmp_path / "k" / "signer.key.pem", tmp_path / "k" / "signer.pub.pem"
    assert cli(capsys, "keygen", "--out", str(tmp_path / "k" / "signer"))[0] == 2  # no overwrite

    rendered = tmp_path / "rendered"
    code, out, _ = cli(
        capsys, "render", str(bundle / "report.json"), "--out", str(rendered), "--sign-key", str(private)
    )
    assert code == 0 and "manifest.sig" in out
    assert (rendered / "report.json").read_bytes() == (bundle / "report.json").read_bytes()
    assert (rendered / "report.html").read_bytes() == (bundle / "report.html").read_bytes()
    code, out, _ = cli(capsys, "verify", str(rendered), "--public-key", str(public))
    assert code == 0 and "signature verified with SHA256:" in out

    (rendered / "manifest.sig").write_text("AAAA\n", encoding="utf-8")
    code, out, _ = cli(capsys, "verify", str(rendered), "--public-key", str(public))
    assert code == 1 and "signature does not verify" in out


def test_render_rejects_a_report_that_is_not_one(capsys, tmp_path):
    bad = tmp_path / "report.json"
    bad.write_text('{"verdict": "pass"}', encoding="utf-8")
    code, _, err = cli(capsys, "render", str(bad), "--out", str(tmp_path / "o"))
    assert code == 2 and "report.schema.json" in err
    bad.write_text("{", encoding="utf-8")
    code, _, err = cli(capsys, "render", str(bad), "--out", str(tmp_path / "o"))
    assert code == 2 and "not valid JSON" in err


def test_diff_exit_1_on_regressions(capsys, tmp_path):
    passing = fixture_run()
    passing["outcomes"] = [o for o in passing["outcomes"] if o["requirement"] != "VAL-INV-003"]
    passing["outcomes"].append(
        {"requirement": "VAL-INV-003", "version": None, "status": "pass", "reason": "", "check": "c"}
    )
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(json.dumps(build(passing)), encoding="utf-8")
    after.write_text(json.dumps(build(fixture_run())), encoding="utf-8")
    code, out, _ = cli(capsys, "diff", str(before), str(after))
    assert code == 1
    assert "new-failure VAL-INV-003 (pass -> fail) Coupons discount totals" in out
    code, out, _ = cli(capsys, "diff", str(after), str(before))
    assert code == 0 and "fixed       VAL-INV-003 (fail -> pass)" in out
    code, _, err = cli(capsys, "diff", str(after), str(tmp_path / "missing.json"))
    assert code == 2 and "Traceback" not in err


def test_module_entry_point_runs(tmp_path, bundle):
    result = subprocess.run(
        [sys.executable, "-m", "valora_spec._report_cli", "report", "verify", str(bundle)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
