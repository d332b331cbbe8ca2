"""A token bucket per API key; an empty bucket is 429 with Retry-After (VAL-RATE-001)."""

from __future__ import annotations

import math
import threading
import time

from valora_spec.reference._problems import ApiError


class RateLimiter:
    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("the rate limit must be positive")
        self.rate = per_second
        self.capacity = max(1.0, per_second)  # a one-second burst
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return
            self._buckets[key] = (tokens, now)
            wait = math.ceil((1.0 - tokens) / self.rate)
        raise ApiError(
            429,
            "rate_limited",
            f"Rate limit of {self.rate:g} requests per second exceeded; retry in {wait} s.",
            headers={"Retry-After": str(max(1, wait))},
        )
