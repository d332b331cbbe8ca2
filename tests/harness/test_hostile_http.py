"""Targets that speak HTTP but lie, loop, fail, throttle, vanish or hide behind TLS."""

from __future__ import annotations

import re
from pathlib import Path

import hostile as h
import pytest
from harness_suite import run_suite
from versions import NEWEST, OLDEST, since

META_AND_CRUD = ("-k", "test_meta or test_created_resources")


@pytest.fixture(autouse=True)
def _lean_harness_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness needs none of the installed pytest plugins; not loading them saves ~1 s a run."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _run(tmp_path: Path, url: str, *args: str, limits: tuple[str, ...] = h.LIMITS,
         name: str = "report") -> tuple[h.SuiteResult, float]:
    timer = h.Timer()
    result = run_suite(tmp_path / name, *limits, *args, base_url=url)
    return result, timer.wall


def _nothing_evaluated(report: dict) -> None:
    """A target that could not be tested at all: every requirement error/fail, none skipped."""
    statuses = {r["status"] for r in report["requirements"]}
    assert "skip" not in statuses, sorted(r["id"] for r in report["requirements"]
                                          if r["status"] == "skip")


def test_invalid_json_and_invalid_utf8_with_a_json_content_type(tmp_path: Path) -> None:
    with h.AsgiServer(h.constant(None, h.invalid_json_or_utf8)) as server:
        result, wall = _run(tmp_path, server.url, *META_AND_CRUD)
    report = h.assert_survived(result, wall, affected={"VAL-META-001", "VAL-CRUD-001"})
    text = h.reasons(report)
    assert "not JSON (JSONDecodeError)" in text and "not JSON (UnicodeDecodeError)" in text


def test_json_nested_100000_deep(tmp_path: Path) -> None:
    with h.AsgiServer(h.constant(None, h.deep_json())) as server:
        result, wall = _run(tmp_path, server.url, *META_AND_CRUD)
    report = h.assert_survived(result, wall, affected={"VAL-META-001", "VAL-CRUD-001"})
    assert "not JSON (RecursionError)" in h.reasons(report)
    # the excerpt kept for the report is cut short rather than nested 100,000 deep
    bodies = [f["response"]["body"] for f in report["failures"] if f.get("response")]
    assert bodies and all(len(b) < 400 for b in bodies if b.startswith("[["))


def test_a_huge_json_array_does_not_stall_the_run(tmp_path: Path) -> None:
    """600 KB of `[0,0,...]` is cheap to send and slow to validate item by item (minutes at
    8 MiB): the harness stops judging such a body at --request-timeout, within --deadline."""
    body = b'{"data":[' + b",".join([b"0"] * 300_000) + b'],"has_more":false,"next_cursor":null}'
    deadline = 20
    with h.AsgiServer(h.constant(None, body)) as server:
        result, wall = _run(tmp_path, server.url, "-k", "test_meta",
                            limits=("--request-timeout", "2", "--deadline", str(deadline)))
    report = h.assert_survived(result, wall, limit=deadline + h.STARTUP_SLACK,
                               affected={"VAL-META-001"})
    # within the deadline plus at most one request's bound; whether the body could be judged
    # in time depends on the machine's speed, and is said in the report when it could not
    assert report["duration_s"] <= deadline + 2


def test_redirects_forever(tmp_path: Path) -> None:
    app = h.Recording(h.redirect_forever())
    with h.AsgiServer(app) as server:
        result, wall = _run(tmp_path, server.url, *META_AND_CRUD)
    report = h.assert_survived(result, wall)
    _nothing_evaluated(report)
    assert "answered 302, a redirect" in h.reasons(report)
    seen = app.requests()
    assert seen and not any("hop=" in s.target for s in seen), [s.target for s in seen]


def test_redirect_to_another_origin_never_carries_the_key(tmp_path: Path) -> None:
    elsewhere = h.Recording(h.constant(None, b'{"data": [], "has_more": false, "next_cursor": null}'))
    with h.AsgiServer(elsewhere) as other:
        with h.AsgiServer(h.redirect_to(other.url)) as server:
            result, wall = _run(tmp_path, server.url, *META_AND_CRUD)
    report = h.assert_survived(result, wall)
    _nothing_evaluated(report)
    leaked = [s for s in elsewhere.requests() if "authorization" in s.headers]
    assert not leaked, [(s.method, s.target) for s in leaked]
    assert "answered 307, a redirect" in h.reasons(report)


def test_server_error_on_every_request(tmp_path: Path) -> None:
    with h.AsgiServer(h.server_errors()) as server:
        result, wall = _run(tmp_path, server.url, *META_AND_CRUD)
    report = h.assert_survived(result, wall, affected={"VAL-ERR-006", "VAL-CRUD-001"})
    _nothing_evaluated(report)
    assert "answered 500, a server error" in h.reasons(report)


def test_429_on_every_request_is_honoured_within_bounds(tmp_path: Path) -> None:
    """Retry-After: 3600 is waited on, but only up to the harness's bound, and never past --deadline."""
    deadline = 8  # one bounded wait of 5 s fits, a second would not
    app = h.Recording(h.too_many_requests("3600"))
    with h.AsgiServer(app) as server:
        result, wall = _run(tmp_path, server.url, "-k", "test_meta",
                            limits=("--request-timeout", "2", "--deadline", str(deadline)))
    report = h.assert_survived(result, wall, limit=deadline + h.STARTUP_SLACK)
    seen = app.requests()
    assert seen[-1].at - seen[0].at <= deadline  # no request after the deadline
    gaps = [b.at - a.at for a, b in zip(seen, seen[1:], strict=False) if a.target == b.target]
    assert gaps, [s.target for s in seen]
    assert all(4.5 <= gap <= 6.0 for gap in gaps), gaps  # waited, but at most MAX_RETRY_AFTER (5 s)
    assert report["stats"]["throttled"] >= 2
    assert "answered 429, rate limited" in h.reasons(report)
    _nothing_evaluated(report)


def test_a_cursor_that_never_ends(tmp_path: Path) -> None:
    app = h.Recording(h.EndlessCursor(h.reference_app()))
    with h.AsgiServer(app) as server:
        result, wall = _run(tmp_path, server.url, "-k", "test_every_item_exactly_once_in_order[1]")
    report = h.assert_survived(result, wall, affected={"VAL-PAGE-001"})
    assert re.search(r"pagination did not end after \d+ pages", h.reasons(report))
    pages = [s for s in app.requests() if s.method == "GET" and s.path == "/v1/products"]
    assert 10 < len(pages) <= 201  # followed for a while, but bounded


def test_discovery_missing(tmp_path: Path) -> None:
    with h.AsgiServer(h.NoDiscovery(h.reference_app())) as server:
        result, wall = _run(tmp_path, server.url, "-k", "test_meta")
    report = h.assert_survived(result, wall, affected={"VAL-COMPAT-002"})
    assert report["target"]["discovery_error"] == "GET /v1/meta answered 404"
    assert "GET /v1/meta answered 404" in h.reasons(report)


def test_discovery_lies(tmp_path: Path) -> None:
    """Declares the version that introduced coupons but behaves as the oldest: the coupon checks
    fail and the claim is called out."""
    claims = since("VAL-COUPON-001")
    app = h.reference_app(spec_version=OLDEST, declare_version=claims)
    with h.AsgiServer(app) as server:
        result, wall = _run(tmp_path, server.url, "-k", "test_meta or test_coupons")
    report = h.assert_survived(result, wall, affected={"VAL-COUPON-001"})
    assert report["declared"]["spec_version"] == claims
    assert report["compatibility"]["over_claim"] is True
    assert any("over-claim" in r for r in report["verdict_reasons"])


def test_goes_down_in_the_middle_of_the_run(tmp_path: Path) -> None:
    with h.AsgiServer(h.reference_app()) as reference:
        proxy = h.RawServer(h.goes_down_after(reference.url, 30))
        with proxy:
            result, wall = _run(tmp_path, proxy.url, "-k", "test_crud or test_security")
    report = h.assert_survived(result, wall, affected={"VAL-AUTH-001", "VAL-AUTH-003"})
    assert len(proxy.requests()) > 30  # it really was up, then down
    text = h.reasons(report)
    assert "cannot connect" in text or "connection broken" in text
    assert any(r["status"] == "pass" for r in report["requirements"])  # the first part counted


def test_tls_with_an_untrusted_certificate_then_trusted_with_ca_bundle(tmp_path: Path) -> None:
    cert, key = h.self_signed(tmp_path)
    with h.AsgiServer(h.reference_app(), certfile=cert, keyfile=key) as server:
        result, wall = _run(tmp_path, server.url, "-k", "test_meta", name="untrusted")
        report = h.assert_survived(result, wall)
        assert result.exit_code == 6
        message = next(line for line in result.stderr.splitlines()
                       if line.startswith("valora conformance: target unreachable:"))
        assert "TLS certificate not trusted (self-signed certificate)" in message
        assert "--ca-bundle" in message
        _nothing_evaluated(report)

        trusted, wall = _run(tmp_path, server.url, "-k", "test_meta", "--ca-bundle", str(cert),
                             name="trusted")
    report = h.assert_survived(trusted, wall)  # non-zero only because most checks were deselected
    assert report["target"]["declared"]["spec_version"] == NEWEST  # the reference's default
    assert trusted.status("VAL-META-001") == "pass"
    assert "DeprecationWarning" not in trusted.stderr
