"""Targets whose answers are not HTTP at all: the run still ends in time, with a report.

Except for the first, these servers answer the harness's two start-up requests correctly (the
`lure`), so the run gets into its checks and meets the hostile behaviour there.
"""

from __future__ import annotations

import email.utils
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hostile as h
import httpx
import pytest
from harness_suite import run_suite

from valora_spec.conformance._http import (
    JUDGE_INLINE_BELOW,
    MAX_RETRY_AFTER,
    Client,
    Exchange,
    RateLimiter,
    Reply,
    Scope,
    TargetError,
    Transport,
    _decode,
    retry_after,
)

# discovery (lured), plus a check that creates, reads and deletes customers
CHECKS = ("-k", "test_meta or test_customer_deletion")
AFFECTED = {"VAL-CUST-001", "VAL-ERR-005"}


@pytest.fixture(autouse=True)
def _lean_harness_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness needs none of the installed pytest plugins; not loading them saves ~1 s a run."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


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
    assert result.exit_code == 6  # the target is unreachable: its own wording and exit code
    assert "valora conformance: target unreachable:" in result.stderr
    assert any(text in result.stderr for text in h.TIMED_OUT), result.stderr
    assert len(server.requests()) == 2
    statuses = {r["status"] for r in report["requirements"]}
    assert statuses <= {"error", "n/a"}, statuses  # nothing evaluated, and the report says why
    assert "not evaluated: target unreachable" in h.reasons(report)


def test_answers_one_byte_per_second_until_the_deadline(tmp_path: Path) -> None:
    """Each dripping answer is abandoned at --request-timeout; the run stops at --deadline and
    the checks it did not reach are errors, not skips."""
    deadline = 6  # the first checks' requests time out, then the deadline ends the run
    server = h.RawServer(h.one_byte_per_second, lure=True)
    result, wall = _run(tmp_path, server, "-k", "test_meta or test_crud",
                        "--request-timeout", "2", "--deadline", str(deadline))
    report = h.assert_survived(result, wall, limit=deadline + h.STARTUP_SLACK,
                               affected={"VAL-CRUD-001", "VAL-CUST-001", "VAL-NK-002"})
    assert any(text in h.reasons(report) for text in h.TIMED_OUT)
    assert report["duration_s"] <= deadline + h.REQUEST_TIMEOUT + 1
    assert f"not evaluated: the run hit its --deadline of {deadline} s" in h.reasons(report)
    assert any("--deadline" in error for error in report["errors"])


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


def test_a_request_lost_on_a_reused_connection_is_resent_when_replayable() -> None:
    """A server closing a kept-alive connection as a request reaches it is not a finding for
    what may be resent (idempotent methods, or an Idempotency-Key); a keyless POST is not resent
    and its error says why, so nobody reads a keep-alive race as a broken server."""
    with h.RawServer(h.closes_when_reused()) as server:
        transport = Transport(base_url=server.url, request_timeout=2,
                              deadline_at=time.monotonic() + 30, rate=RateLimiter(0))
        client = Client(transport, None)
        try:
            for method, headers in [("GET", {}), ("DELETE", {}), ("GET", {}),
                                    ("POST", {"Idempotency-Key": "k1"})]:
                assert client.request(method, "/v1/customers", headers=headers).status == 200
            with pytest.raises(TargetError, match="reused keep-alive connection; not resent: "
                                                  "POST without an Idempotency-Key"):
                client.post("/v1/customers", {"name": "once"})
        finally:
            transport.close()
    posts = [seen for seen in server.requests() if seen.method == "POST"]
    assert [seen.headers.get("idempotency-key") for seen in posts] == ["k1", "k1", None]


def test_a_connection_broken_before_any_answer_on_a_new_connection_is_not_resent() -> None:
    with h.RawServer(h.resets) as server:
        transport = Transport(base_url=server.url, request_timeout=2,
                              deadline_at=time.monotonic() + 30, rate=RateLimiter(0))
        try:
            with pytest.raises(TargetError, match=r"connection broken|broken HTTP response"):
                Client(transport, None).get("/v1/customers")
        finally:
            transport.close()
    assert len(server.requests()) == 1


# hostile values, in-process ----------------------------------------------------------------------

def test_a_compression_bomb_is_refused_not_inflated() -> None:
    bomb = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    data = bomb.compress(b"\0" * (64 * 2**20)) + bomb.flush()  # 64 MiB of zeros in ~64 KiB
    assert len(data) < 2**20
    assert _decode(data, "gzip") is None
    small = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    assert _decode(small.compress(b'{"a": 1}') + small.flush(), "GZIP ") == b'{"a": 1}'
    assert _decode(b"not gzip at all", "gzip") == b"not gzip at all"


@pytest.mark.parametrize(("value", "expected"), [
    (None, 1.0), ("2", 2.0), ("0", 0.1), ("-30", 0.1), ("3600", MAX_RETRY_AFTER),
    ("nan", 1.0), ("inf", MAX_RETRY_AFTER), ("soon", 1.0), ("1e309", MAX_RETRY_AFTER),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.1),  # a date in the past: retry at once, nearly
])
def test_retry_after_values_are_bounded(value: str | None, expected: float) -> None:
    assert retry_after(value) == expected


def test_a_future_retry_after_date_is_honoured_within_bounds() -> None:
    soon = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    assert 1.5 <= retry_after(soon) <= 3.0


def test_judging_that_overruns_its_bound_is_stopped_by_the_judging_thread_itself() -> None:
    """A body too slow to judge (a hostile one) is left unjudged after --request-timeout: the
    judging thread ends itself at its next call, and the harness says so as its own error."""
    transport = Transport(base_url="http://127.0.0.1:9", request_timeout=0.3,
                          deadline_at=time.monotonic() + 60, rate=RateLimiter(0))
    calls = 0

    def step() -> None:
        nonlocal calls
        calls += 1

    def endless(reply: Reply, scope: Scope) -> None:  # pure-Python work that never ends
        while True:
            step()

    transport.observers.append(endless)
    body = b"[" + b"0," * JUDGE_INLINE_BELOW + b"0]"
    reply = Reply(200, httpx.Headers(), body, Exchange("GET", "http://127.0.0.1:9/v1/x", {}, None), 0.0)
    before = threading.active_count()
    started = time.monotonic()
    transport._judge(reply, Scope("test"))
    assert time.monotonic() - started < 2
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before, "the judging thread is still running"
    stopped_at = calls
    time.sleep(0.1)
    assert calls == stopped_at
    assert any("took longer than" in e for e in transport.harness_errors), transport.harness_errors
