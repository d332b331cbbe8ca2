"""Rate limiting, an optional capability: when the target limits, 429 must say when to retry."""

from __future__ import annotations

import pytest

from valora_spec.conformance._run import CheckRun

BURST = 120


@pytest.mark.requirements("VAL-RATE-001")
def test_rate_limited_responses_carry_retry_after(run: CheckRun, check) -> None:
    throttled_before = run.transport.throttled
    # independent reads: the whole burst is sent (--concurrency at once), whatever answers first
    replies = list(run.api.send_all([{"method": "GET", "path": "/v1/meta"}] * BURST,
                                    run.settings.concurrency))
    seen = next((reply for reply in replies if reply.status == 429), None)
    if seen is None and run.transport.throttled == throttled_before:
        check.skip("VAL-RATE-001", f"capability absent: rate_limiting (no 429 in a burst of "
                                   f"{BURST} requests)")
        return
    if seen is not None:  # problem+json and the header itself are judged on every 429 seen
        retry_after = seen.headers.get("retry-after", "")
        check.that("VAL-RATE-001", retry_after.strip().isdigit(),
                   "429 without Retry-After in seconds", operation="GET /v1/meta",
                   expected="Retry-After: <seconds>", observed=retry_after or "(absent)",
                   exchange=seen.exchange)
    else:
        check.that("VAL-RATE-001", True, "", operation="GET /v1/meta")
