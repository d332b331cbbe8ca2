"""Sweep seeds against the embedded reference at one budget; print one row per seed.

    .venv/bin/python benchmarks/seed_sweep.py --budget standard --seeds 1-10

Every row must show 0 failures and 0 errors, and a repeated seed the same verdicts: the harness
says nothing about a correct server but "pass". Too slow for CI at standard and thorough.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(budget: str, seed: int, out: Path) -> tuple[dict, int, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider",
                           "--budget", budget, "--seed", str(seed), "--report-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    report = json.loads((out / "report.json").read_text())
    return report, done.returncode, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="standard", choices=("quick", "standard", "thorough"))
    parser.add_argument("--seeds", default="1-10", help="a range like 1-10, or a comma list")
    args = parser.parse_args()
    if "-" in args.seeds:
        low, high = (int(part) for part in args.seeds.split("-"))
        seeds = list(range(low, high + 1))
    else:
        seeds = [int(part) for part in args.seeds.split(",")]
    clean = True
    print(f"{'seed':>10} {'exit':>4} {'verdict':>10} {'fail':>4} {'error':>5} {'requests':>8} {'s':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        verdicts: dict[int, dict[str, str]] = {}
        for seed in [*seeds, seeds[0]]:  # the first seed again: the same verdicts
            report, code, seconds = run(args.budget, seed, Path(tmp) / f"{seed}-{len(verdicts)}")
            counts = report["counts"]
            statuses = {r["id"]: r["status"] for r in report["requirements"]}
            repeat = seed in verdicts
            same = "" if not repeat else (" same verdicts" if verdicts[seed] == statuses else " DIFFERENT")
            verdicts.setdefault(seed, statuses)
            print(f"{seed:>10} {code:>4} {report['verdict']:>10} {counts['fail']:>4} {counts['error']:>5} "
                  f"{report['stats'].get('requests', 0):>8} {seconds:>6.1f}{same}", flush=True)
            clean &= code == 0 and not counts["fail"] and not counts["error"] and same != " DIFFERENT"
    print("clean" if clean else "NOT CLEAN")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
