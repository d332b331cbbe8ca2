"""Throughput and latency of the reference server on this machine, over loopback.

Starts `valora-reference` as its own process (so client and server do not share a GIL), then
times a bounded loop of sequential requests on one keep-alive connection:
a read (GET /v1/customers/{id}) and a write (POST /v1/customers).

    .venv/bin/python benchmarks/bench_reference.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

KEY = "bench-admin-key"


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _measure(label: str, count: int, send: Callable[[int], httpx.Response], expected: int) -> None:
    for warmup in range(min(50, count)):
        send(-1 - warmup)
    latencies = []
    started = time.perf_counter()
    for index in range(count):
        begin = time.perf_counter()
        response = send(index)
        latencies.append(time.perf_counter() - begin)
        if response.status_code != expected:
            raise SystemExit(f"{label}: unexpected {response.status_code}: {response.text}")
    elapsed = time.perf_counter() - started
    print(
        f"{label:<28} {count / elapsed:8.0f} req/s   "
        f"p50 {statistics.median(latencies) * 1000:6.2f} ms   "
        f"p99 {_percentile(latencies, 0.99) * 1000:6.2f} ms   ({count} requests)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    parser.add_argument("--spec-version", default="1.2.0")
    args = parser.parse_args()
    script = Path(sys.executable).with_name("valora-reference")
    server = subprocess.Popen(
        [str(script), "--spec-version", args.spec_version, "--api-key", f"bench:admin:{KEY}"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=f"{base_url}/v1", headers=headers) as api:
            customer = api.post("/customers", json={"external_id": "bench", "name": "B"}).json()
            print(f"Valora Reference {args.spec_version} at {base_url}")
            _measure("GET  /v1/customers/{id}", args.requests,
                     lambda i: api.get(f"/customers/{customer['id']}"), 200)
            _measure("POST /v1/customers", args.requests,
                     lambda i: api.post("/customers", json={"external_id": f"c{i}", "name": "N"}),
                     201)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
