"""How fast the conformance suite runs against the reference, next to a bare httpx loop.

    .venv/bin/python benchmarks/bench_harness.py [--budgets quick,standard] [--bare 2000]

Prints, per budget: wall time, requests sent, requests/s; then the same reference driven by a
bare httpx loop (GET and POST), by the harness's own transport, and by schemathesis' CLI (its
random fuzzing and its boundary "coverage" phase, for what generating requests costs the
field's own tool); and the suite's time when judging one version vs all three.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["org_a:admin:bench_a_0001", "org_b:admin:bench_b_0001", "org_a:read_only:bench_r_0001"]


def start_reference(spec_version: str = "1.2.0") -> tuple[subprocess.Popen, str]:
    command = [str(Path(sys.executable).parent / "valora-reference"), "--port", "0",
               "--spec-version", spec_version]
    for key in KEYS:
        command += ["--api-key", key]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def run_suite(url: str, budget: str, *extra: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", "-p",
                        "no:cacheprovider", "--base-url", url, "--api-key", "bench_a_0001",
                        "--api-key-b", "bench_b_0001", "--read-only-key", "bench_r_0001",
                        "--budget", budget, "--seed", "1", "--report-dir", out, *extra],
                       cwd=ROOT, capture_output=True, check=False)
        wall = time.perf_counter() - started
        report = json.loads((Path(out) / "report.json").read_text())
    return {"wall": wall, "requests": report["stats"]["requests"], "verdict": report["verdict"],
            "range": report["range"]["label"]}


def bare_loop(url: str, count: int) -> dict[str, float]:
    headers = {"Authorization": "Bearer bench_a_0001"}
    with httpx.Client(base_url=url, headers=headers) as client:
        created = client.post("/v1/customers", json={"external_id": "bench-0", "name": "B"})
        cid = created.json()["id"]
        started = time.perf_counter()
        for _ in range(count):
            client.get(f"/v1/customers/{cid}")
        gets = count / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(count):
            client.post("/v1/customers", json={"external_id": f"bench-{i + 1}", "name": "B"})
        posts = count / (time.perf_counter() - started)
    return {"get_rps": gets, "post_rps": posts}


def transport_loop(url: str, count: int) -> dict[str, float]:
    """The harness's own transport on the same GET: bounded, recorded, redacted, and then with
    every response validated by openapi-core as the semantic checks do."""
    from valora_spec.conformance._catalogue import Catalogue
    from valora_spec.conformance._http import Client, RateLimiter, Transport
    from valora_spec.conformance._validation import ResponseValidator

    transport = Transport(base_url=url, request_timeout=10, deadline_at=time.monotonic() + 600,
                          rate=RateLimiter(0), secrets={"bench_a_0001": "$VALORA_API_KEY"})
    client = Client(transport, "bench_a_0001")
    cid = client.post("/v1/customers", {"external_id": "bench-t", "name": "B"}).json()["id"]
    started = time.perf_counter()
    for _ in range(count):
        client.get(f"/v1/customers/{cid}")
    plain = count / (time.perf_counter() - started)
    validator = ResponseValidator(Catalogue.load(), "1.2.0")
    transport.observers.append(lambda reply, scope: validator._validate(reply))
    started = time.perf_counter()
    for _ in range(count):
        client.get(f"/v1/customers/{cid}")
    validated = count / (time.perf_counter() - started)
    transport.close()
    return {"plain": plain, "validated": validated}


def schemathesis_cli(url: str, phase: str) -> tuple[int, float]:
    """Cases `st run` generated and sent in one phase, and its wall time."""
    spec = ROOT / "spec" / "1.2.0" / "openapi.yaml"
    command = [str(Path(sys.executable).parent / "st"), "run", str(spec), "--url", url + "/v1",
               "-H", "Authorization: Bearer bench_a_0001", "--seed", "1", "-n", "25",
               f"--phases={phase}", "--no-color"]
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
    found = re.search(r"(\d+) generated", done.stdout)
    return (int(found.group(1)) if found else 0), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budgets", default="quick,standard")
    parser.add_argument("--bare", type=int, default=2000)
    args = parser.parse_args()
    process, url = start_reference()
    try:
        print(f"reference at {url}, {Path('/proc/cpuinfo').read_text().count('processor')} cores")
        print(f"{'budget':10} {'wall s':>8} {'requests':>9} {'req/s':>8}  verdict, range")
        suite_rps = {}
        for budget in args.budgets.split(","):
            result = run_suite(url, budget)
            suite_rps[budget] = result["requests"] / result["wall"]
            print(f"{budget:10} {result['wall']:8.1f} {result['requests']:9d} "
                  f"{suite_rps[budget]:8.1f}  {result['verdict']}, {result['range']}")
        bare = bare_loop(url, args.bare)
        print(f"bare httpx loop: GET {bare['get_rps']:.0f} req/s, POST {bare['post_rps']:.0f} req/s")
        own = transport_loop(url, args.bare)
        print(f"harness transport: GET {own['plain']:.0f} req/s "
              f"({own['plain'] / bare['get_rps']:.2f} of bare); with openapi-core validation of "
              f"every response {own['validated']:.0f} req/s "
              f"({own['validated'] / bare['get_rps']:.2f} of bare)")
        for phase in ("fuzzing", "coverage"):
            cases, wall = schemathesis_cli(url, phase)
            print(f"schemathesis CLI, {phase} phase: {cases} cases in {wall:.1f} s, "
                  f"{cases / wall:.0f} cases/s ({cases / wall / bare['get_rps']:.2f} of bare GET)")
        mixed = 2 / (1 / bare["get_rps"] + 1 / bare["post_rps"])
        for budget, rps in suite_rps.items():
            print(f"suite/bare ({budget}): {rps / mixed:.2f} of the bare GET/POST mix ({mixed:.0f} req/s)")
        one = run_suite(url, "quick", "--evaluate", "1.0.0")
        all_three = run_suite(url, "quick")
        print(f"evaluating 1 profile (1.0.0): {one['wall']:.1f} s; all 3 profiles: "
              f"{all_three['wall']:.1f} s (ratio {all_three['wall'] / one['wall']:.2f})")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
