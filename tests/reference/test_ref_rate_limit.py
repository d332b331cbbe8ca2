"""Rate limiting per API key (VAL-RATE-001)."""

from __future__ import annotations

import time

from ref_helpers import ADMIN_A, ADMIN_B, KEYS, assert_problem, client

from valora_spec.reference import create_app, serve_in_thread


def test_bucket_per_key_then_429_with_retry_after() -> None:
    app = create_app(keys=KEYS, rate_limit=3)
    with serve_in_thread(app) as url, client(url, ADMIN_A) as a, client(url, ADMIN_B) as b:
        statuses = [a.get("/meta").status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = a.get("/customers")
        assert_problem(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert b.get("/meta").status_code == 200  # another key has its own bucket
        time.sleep(0.4)
        assert a.get("/meta").status_code == 200  # refilled at 3 per second
    app.close()
