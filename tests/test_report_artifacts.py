"""write_artifacts: the bundle's files, JUnit, badge rules, manifest, signing, redaction."""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from valora_spec.conformance._profiles import load_profiles
from valora_spec.report import build as build_report
from valora_spec.report import generate_keypair
from valora_spec.report import verify as verify_bundle
from valora_spec.report import write as write_artifacts

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
NOW = datetime(2025, 11, 20, 3, 0, tzinfo=UTC)
CATALOGUE = yaml.safe_load((FIXTURES / "catalogue.yaml").read_text(encoding="utf-8"))
PROFILES = load_profiles(FIXTURES / "profiles")
ALWAYS = ["report.json", "junit.xml", "summary.md", "report.html", "manifest.json"]
BADGE = ["badge.svg", "badge.json"]


def fixture_run() -> dict:
    return json.loads((FIXTURES / "run.json").read_text(encoding="utf-8"))


def passing_run(budget: str = "thorough") -> dict:
    run = fixture_run()
    run["budget"] = budget
    run["outcomes"] = [
        {"requirement": r["id"], "version": None, "status": "pass", "reason": "", "check": "c::t"}
        for r in CATALOGUE["requirements"]
    ]
    run["failures"] = []
    return run


def build(run: dict, **kwargs: object) -> dict:
    return build_report(run, catalogue=CATALOGUE, profiles=PROFILES, now=NOW, **kwargs)


@pytest.fixture
def failing_bundle(tmp_path) -> Path:
    out = tmp_path / "bundle"
    write_artifacts(build(fixture_run()), out)
    return out


def names(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


# -- files --------------------------------------------------------------------------------------


def test_failing_run_writes_every_artifact_but_no_badge(tmp_path):
    out = tmp_path / "out"
    written = write_artifacts(build(fixture_run()), out)
    assert sorted(p.name for p in written) == sorted(ALWAYS)
    assert written[-1].name == "manifest.json"
    assert names(out) == sorted(ALWAYS)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "No badge: the verdict is fail." in summary
    assert "FAIL" in summary and "1.0.0 – 1.1.x" in summary and "over-claim" in summary
    assert "VAL-INV-003" in summary


def test_certification_pass_writes_the_badge(tmp_path):
    out = tmp_path / "out"
    written = write_artifacts(build(passing_run()), out)
    assert sorted(p.name for p in written) == sorted(ALWAYS + BADGE)
    badge = json.loads((out / "badge.json").read_text(encoding="utf-8"))
    assert badge == {
        "schemaVersion": 1,
        "label": "Valora",
        "message": "1.0.0 – 1.2.x · 2025-11-20",
        "color": "brightgreen",
    }
    svg = ET.fromstring((out / "badge.svg").read_bytes())
    assert svg.tag.endswith("svg")
    assert "1.0.0 – 1.2.x · 2025-11-20" in (out / "badge.svg").read_text(encoding="utf-8")
    assert verify_bundle(out).ok


def test_pass_below_the_certification_budget_gets_no_badge(tmp_path):
    out = tmp_path / "out"
    report = build(passing_run(budget="standard"))
    assert report["verdict"] == "pass"
    write_artifacts(report, out)
    assert not (out / "badge.svg").exists() and not (out / "badge.json").exists()
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "No badge: budget 'standard' is not the certification budget 'thorough'." in summary


def test_a_stale_badge_from_an_earlier_run_is_removed(tmp_path):
    out = tmp_path / "out"
    write_artifacts(build(passing_run()), out)
    write_artifacts(build(fixture_run()), out)
    assert names(out) == sorted(ALWAYS)
    assert verify_bundle(out).ok


def test_report_json_round_trips(failing_bundle):
    report = json.loads((failing_bundle / "report.json").read_text(encoding="utf-8"))
    assert report == build(fixture_run())


# -- junit ----------------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_requirement(failing_bundle):
    root = ET.parse(failing_bundle / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(CATALOGUE["requirements"])
    by_id = {c.get("name").split()[0]: c for c in cases}
    assert set(by_id) == {r["id"] for r in CATALOGUE["requirements"]}
    assert by_id["VAL-AUTH-001"].get("classname") == "AUTH"
    assert list(by_id["VAL-AUTH-001"].iter("failure")) == []

    failure = by_id["VAL-INV-003"].find("failure")
    assert failure is not None and failure.get("message") == "total ignores the coupon"
    assert "curl -sS -X POST" in failure.text and "expected: total = 2070" in failure.text

    skipped = by_id["VAL-RATE-001"].find("skipped")
    assert "capability absent: rate_limiting" in skipped.get("message")
    assert "not applicable" in by_id["VAL-INV-001"].find("skipped").get("message")
    suite = root.find("testsuite")
    assert suite.get("tests") == str(len(cases))
    assert suite.get("failures") == "2"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == "fail" and props["range"] == "1.0.0 – 1.1.x"


def test_junit_survives_control_characters(tmp_path):
    run = fixture_run()
    run["outcomes"][-1]["reason"] = "body had \x00\x1b[31m bytes"
    write_artifacts(build(run), tmp_path)
    ET.parse(tmp_path / "junit.xml")  # parses


def test_html_survives_a_lone_surrogate_in_a_body(tmp_path):
    """A body escaping a lone surrogate is valid JSON text with no UTF-8 form once decoded: the
    page shows it escaped, as it was sent."""
    run = fixture_run()
    run["failures"][0]["request"]["body"] = '{"name": "Lone \\ud800"}'
    write_artifacts(build(run), tmp_path)
    assert 'Lone \\ud800' in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_waived_is_a_skip_in_junit_not_a_pass(tmp_path):
    waivers = [{"requirement": "VAL-INV-003", "reason": "vendor bug", "expires": "2026-01-01"}]
    write_artifacts(build(fixture_run(), waivers=waivers), tmp_path)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name").startswith("VAL-INV-003"))
    assert case.find("skipped").get("message").startswith("waived (not passed)")


# -- manifest -------------------------------------------------------------------------------------


def problems(out: Path, **kwargs: object) -> list[str]:
    return verify_bundle(out, **kwargs).problems


def test_manifest_lists_every_other_artifact(failing_bundle):
    manifest = json.loads((failing_bundle / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == sorted(set(ALWAYS) - {"manifest.json"})
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in manifest["files"].values())
    assert problems(failing_bundle) == []


@pytest.mark.parametrize("name", ALWAYS)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_editing_one_byte_of_any_artifact_is_detected(failing_bundle, name, where):
    path = failing_bundle / name
    data = bytearray(path.read_bytes())
    index = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[index] ^= 0x01
    path.write_bytes(bytes(data))
    found = problems(failing_bundle)
    assert found, f"an edit of {name} went unnoticed"
    assert any(name in p for p in found)


@pytest.mark.parametrize("name", ALWAYS)
def test_deleting_any_artifact_is_detected(failing_bundle, name):
    (failing_bundle / name).unlink()
    assert any(name in p and "missing" in p for p in problems(failing_bundle))


def test_adding_a_file_is_detected(failing_bundle):
    (failing_bundle / "badge.svg").write_text("<svg/>", encoding="utf-8")
    (failing_bundle / "notes").mkdir()
    (failing_bundle / "notes" / "x.txt").write_text("hi", encoding="utf-8")
    assert sorted(problems(failing_bundle)) == [
        "extra: badge.svg (not in manifest.json)",
        "extra: notes/x.txt (not in manifest.json)",
    ]


def test_manifest_covers_files_the_caller_wrote_first(tmp_path):
    (tmp_path / "harness.log").write_text("log", encoding="utf-8")
    write_artifacts(build(fixture_run()), tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert "harness.log" in manifest["files"]


def test_a_manifest_pointing_outside_the_bundle_is_rejected(failing_bundle):
    path = failing_bundle / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["files"]["../outside"] = "0" * 64
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert any("unsafe path" in p for p in problems(failing_bundle))


# -- signing -------------------------------------------------------------------------------------


@pytest.fixture
def keys(tmp_path) -> tuple[Path, Path]:
    return generate_keypair(tmp_path / "keys" / "signer")


def test_signed_bundle_verifies_offline_with_the_public_key(tmp_path, keys):
    private, public = keys
    out = tmp_path / "signed"
    written = write_artifacts(build(fixture_run()), out, signing_key=private)
    assert [p.name for p in written[-2:]] == ["manifest.json", "manifest.sig"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["signature"]["public_key_fingerprint"].startswith("SHA256:")
    result = verify_bundle(out, public_key=public)
    assert result.ok, result.problems
    assert "signature verified" in result.notes[0]
    assert verify_bundle(out).ok  # with the embedded key


def test_signature_from_another_key_is_rejected(tmp_path, keys):
    private, _ = keys
    _, other_public = generate_keypair(tmp_path / "other")
    out = tmp_path / "signed"
    write_artifacts(build(fixture_run()), out, signing_key=private)
    assert any("not by the given key" in p for p in problems(out, public_key=other_public))


def test_rewritten_manifest_breaks_the_signature(tmp_path, keys):
    private, public = keys
    out = tmp_path / "signed"
    write_artifacts(build(fixture_run()), out, signing_key=private)
    # Someone edits the report and re-hashes it into the manifest: the signature catches it.
    (out / "report.json").write_text("{}", encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["report.json"] = hashlib.sha256(b"{}").hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    found = problems(out, public_key=public)
    assert any("signature does not verify" in p for p in found)


def test_missing_signature_is_detected(tmp_path, keys):
    private, public = keys
    out = tmp_path / "signed"
    write_artifacts(build(fixture_run()), out, signing_key=private)
    (out / "manifest.sig").unlink()
    assert problems(out, public_key=public) == ["missing: manifest.sig"]


def test_unsigned_bundle_fails_when_a_key_is_expected(failing_bundle, keys):
    _, public = keys
    assert any("unsigned" in p for p in problems(failing_bundle, public_key=public))


def test_keygen_refuses_to_overwrite(keys):
    private, _ = keys
    with pytest.raises(FileExistsError):
        generate_keypair(Path(str(private).removesuffix(".key.pem")))
    assert oct(private.stat().st_mode & 0o777) == "0o600"


def test_a_bad_signing_key_fails_before_anything_is_written(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key", encoding="utf-8")
    with pytest.raises(ValueError, match="PEM"):
        write_artifacts(build(fixture_run()), tmp_path / "out", signing_key=bad)
    assert not (tmp_path / "out").exists()


# -- redaction ------------------------------------------------------------------------------------

CANARY = "sk_live_CANARY_c4n4ry_5ecret"


def test_a_canary_secret_appears_in_no_artifact(tmp_path, keys):
    run = fixture_run()
    failure = run["failures"][0]
    failure["request"]["headers"] = {
        "authorization": f"Bearer {CANARY}",
        "X-Api-Key": CANARY + "-b",
        "Cookie": f"session={CANARY}; theme=dark",
    }
    failure["response"]["headers"]["Set-Cookie"] = f"session={CANARY}; Path=/"
    failure["reproduction"] = f"curl -H 'Authorization: Bearer {CANARY}' http://x/v1/invoices"
    failure["observed"] = f"echoed the key {CANARY}"
    run["failures"][1]["request"]["headers"] = [["Authorization", f"Bearer {CANARY}"]]
    out = tmp_path / "out"
    write_artifacts(build(run), out, signing_key=keys[0])
    leaked = [p.name for p in out.iterdir() if CANARY.encode() in p.read_bytes()]
    assert leaked == []
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["failures"][0]["request"]["headers"]["authorization"] == "[REDACTED]"
    assert report["failures"][0]["request"]["headers"]["Cookie"] == "[REDACTED]"
    assert report["failures"][0]["reproduction"] == "curl -H 'Authorization: [REDACTED]' http://x/v1/invoices"
    assert verify_bundle(out, public_key=keys[1]).ok


def test_write_artifacts_redacts_even_a_report_built_elsewhere(tmp_path):
    report = build(fixture_run())
    report["failures"][0]["request"]["headers"]["Authorization"] = f"Bearer {CANARY}"
    write_artifacts(report, tmp_path)
    assert not any(CANARY.encode() in p.read_bytes() for p in tmp_path.iterdir())


# -- html ------------------------------------------------------------------------------------------


def test_html_is_self_contained_and_escaped(tmp_path):
    run = fixture_run()
    run["failures"][0]["message"] = "<script>alert('x')</script> broke"
    run["failures"][0]["response"]["body"] = {"name": "<img src=x onerror=alert(1)>"}
    write_artifacts(build(run), tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img src=x" not in html
    assert html.count("<script>") == 1  # only the page's own filter script
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html, re.I)
    assert "<style>" in html and "<link" not in html
    for text in ("FAIL", "1.0.0 – 1.1.x", "VAL-INV-003", "Bearer $VALORA_API_KEY", 'id="filter-area"'):
        assert text in html
