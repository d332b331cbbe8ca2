"""No credential the harness was given ever appears in anything it leaves behind."""

from __future__ import annotations

import secrets
from pathlib import Path

import hostile as h
from harness_suite import ROOT, SuiteResult, run_suite

from valora_spec.reference import create_app


def _canaries() -> dict[str, str]:
    # Distinctive and random, so a hit can only be a leak of this run's keys.
    return {name: f"vk_canary_{name}_{secrets.token_hex(10)}"
            for name in ("api_key", "api_key_b", "read_only_key")}


def _triples(keys: dict[str, str]) -> list[tuple[str, str, str]]:
    return [("org_a", "admin", keys["api_key"]), ("org_b", "admin", keys["api_key_b"]),
            ("org_a", "read_only", keys["read_only_key"])]


def _needles(keys: dict[str, str]) -> list[str]:
    """Each key, and its random tail alone (a truncated or re-encoded key still leaks)."""
    return [*keys.values(), *(k.rsplit("_", 1)[1] for k in keys.values())]


def _hypothesis_dirs() -> list[Path]:
    found = [p for p in ROOT.rglob(".hypothesis") if ".venv" not in p.parts
             and "node_modules" not in p.parts]
    return [p for p in found if p.is_dir()]


def _leaks(result: SuiteResult, keys: dict[str, str]) -> list[str]:
    """Every artifact: report files (any depth, JUnit, HTML, summary, manifest, unreported raw
    results), captured stdout/stderr (which hold the reproduction commands pytest prints),
    and hypothesis' example database wherever one was left under the repository."""
    places: dict[str, bytes] = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    for directory in [result.report_dir, *_hypothesis_dirs()]:
        for path in directory.rglob("*"):
            if path.is_file():
                places[str(path)] = path.read_bytes()
    assert len(places) > 5, sorted(places)  # the report was written, there is something to search
    return [f"{needle[:14]}… in {where}" for needle in _needles(keys)
            for where, data in places.items() if needle.encode() in data]


def test_no_secret_in_any_artifact_of_a_full_run(tmp_path: Path) -> None:
    keys = _canaries()
    app = create_app(keys=_triples(keys))
    with h.AsgiServer(app) as server:
        result = run_suite(tmp_path / "report", base_url=server.url, keys=keys)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout[-3000:]
    assert result.report["counts"]["pass"] > 50  # the whole suite ran, every check had its say
    # the reproduction commands name the keys by environment variable only
    commands = [f["reproduction"] for f in result.report["failures"]]
    assert all("$VALORA" in c for c in commands if "Authorization" in c)
    assert _leaks(result, keys) == []


def test_no_secret_leaks_when_the_target_echoes_the_authorization_header(tmp_path: Path) -> None:
    keys = _canaries()
    app = h.EchoAuthorization(create_app(keys=_triples(keys)))
    with h.AsgiServer(app) as server:
        timer = h.Timer()
        result = run_suite(tmp_path / "report", *h.LIMITS, "-k",
                           "test_meta or test_crud or test_read_only_key or test_idempotency",
                           base_url=server.url, keys=keys)
    report = h.assert_survived(result, timer.wall)
    assert app.count > 3  # the echo really happened, on error answers too
    assert report["failures"], "the echoing target should fail checks whose records hold its echo"
    assert _leaks(result, keys) == []
