"""Targets whose answers are not HTTP at all: the run still ends in time, with a report.

Except for the first, these servers answer the harness's two start-up requests correctly (the
`lure`), so the run gets into its checks and meets the hostile behaviour there.
"""

from __future__ import annotations

from pathlib import Path

import hostile as h
from harness_suite import run_suite

# discovery (lured), plus a check that creates, reads and deletes customers
CHECKS = ("-k", "test_meta or test_customer_deletion")
AFFECTED = {"VAL-CUST-001", "VAL-ERR-005"}


def _run(tmp_path: Path, server: h.RawServer, *args: str) -> tuple[h.SuiteResult, float]:
    with server:
        timer = h.Timer()
        result = run_suite(tmp_path / "report", *h.LIMITS, *args, base_url=server.url)
        return result, timer.wall


def test_accepts_and_never_answers(tmp_path: Path) -> None:
    server = h.RawServer(h.never_answers)
    result, wall = _run(tmp_path, server)
    # Two start-up requests, each bounded by --request-timeout: then a one-line refusal.
    report = h.assert_survived(result, wall, limit=2 * (h.REQUEST_TIMEOUT + 1) + h.STARTUP_SLACK)
    assert result.exit_code == 2
    assert "valora conformance: error:" in result.stderr
    assert any(text in result.stderr for text in h.TIMED_OUT), result.stderr
    assert len(server.requests()) == 2
    statuses = {r["status"] for r in report["requirements"]}
    assert statuses <= {"error", "n/a"}, statuses  # nothing evaluated, and the report says why
    assert "not evaluated: target unreachable" in h.reasons(report)


def test_answers_one_byte_per_second(tmp_path: Path) -> None:
    server = h.RawServer(h.one_byte_per_second, lure=True)
    result, wall = _run(tmp_path, server, *CHECKS)
    report = h.assert_survived(result, wall, affected=AFFECTED)
    assert any(text in h.reasons(report) for text in h.TIMED_OUT)
    # Each dripping answer was abandoned at the per-request bound, not read to its end.
    assert report["duration_s"] < h.DEADLINE


def test_resets_the_connection(tmp_path: Path) -> None:
    result, wall = _run(tmp_path, h.RawServer(h.resets, lure=True), *CHECKS)
    report = h.assert_survived(result, wall, affected=AFFECTED)
    assert "connection broken" in h.reasons(report) or "broken HTTP" in h.reasons(report)


def test_closes_mid_body(tmp_path: Path) -> None:
    result, wall = _run(tmp_path, h.RawServer(h.closes_mid_body, lure=True), *CHECKS)
    report = h.assert_survived(result, wall, affected=AFFECTED)
    assert "broken HTTP response" in h.reasons(report)


def test_sends_garbage(tmp_path: Path) -> None:
    result, wall = _run(tmp_path, h.RawServer(h.sends_garbage, lure=True), *CHECKS)
    report = h.assert_survived(result, wall, affected=AFFECTED)
    assert "broken HTTP response" in h.reasons(report)


def test_sends_a_100_mb_body(tmp_path: Path) -> None:
    server = h.RawServer(h.sends_100_mb, lure=True)
    result, wall = _run(tmp_path, server, *CHECKS)
    report = h.assert_survived(result, wall, affected=AFFECTED)
    assert "response body larger than 8 MiB" in h.reasons(report)
    assert server.completed == 0 and server.hung_up >= 1  # the harness hung up on every one
