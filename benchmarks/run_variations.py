"""Run the conformance suite against every spec-legal variation and print one row each.

    .venv/bin/python benchmarks/run_variations.py [--budget standard] [--only a,b] [-k EXPR]
        [--keep DIR] [--no-control]

A variation (tests/harness/variations.py) is the reference making one choice the spec leaves
open differently; the harness must pass each with no failure and no error. Rows: variation,
exit code, failed and errored requirements, seconds; then, for each row that is not clean, the
requirements that did not pass and their reasons. The first row is the reference itself, the
control: what fails there is not the variation's doing. Exit code 1 when any row is not clean.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "harness"), str(ROOT)]

from faults import serve  # noqa: E402
from harness_suite import SuiteResult, run_suite  # noqa: E402
from test_variations import LEGITIMATE_SKIPS, explain  # noqa: E402
from variations import BY_NAME, CATALOGUE, Variation  # noqa: E402


def run_one(variation: Variation | None, budget: str, out: Path, extra: list[str]
            ) -> tuple[SuiteResult, float]:
    started = time.monotonic()
    with serve(variation) as url:  # None: the reference itself, the control row
        result = run_suite(out / (variation.name if variation else "reference"), "--budget", budget,
                           *extra, base_url=url, timeout=3600)
    return result, time.monotonic() - started


def counts(result: SuiteResult) -> tuple[int, int, int]:
    """(failed, errored, unevaluated other than the legitimate skips) requirements."""
    try:
        statuses = [(r["id"], r["status"]) for r in result.report["requirements"]]
    except (OSError, ValueError):
        return -1, -1, -1
    failed = sum(1 for _r, s in statuses if s == "fail")
    errored = sum(1 for _r, s in statuses if s == "error")
    other = sum(1 for r, s in statuses if s not in ("pass", "fail", "error")
                and not (s == "skip" and r in LEGITIMATE_SKIPS))
    return failed, errored, other


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", default="standard")
    parser.add_argument("--only", help="comma-separated variation names")
    parser.add_argument("-k", dest="selection", help="a -k selection of conformance checks")
    parser.add_argument("--keep", type=Path, help="write the reports under this directory")
    parser.add_argument("--no-control", action="store_true",
                        help="skip the first row, the reference itself (what a variation adds to)")
    args = parser.parse_args(argv)
    chosen: list[Variation | None] = [BY_NAME[name] for name in args.only.split(",")] if args.only \
        else list(CATALOGUE)
    if not args.no_control:
        chosen.insert(0, None)
    extra = ["-k", args.selection] if args.selection else []
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    with tempfile.TemporaryDirectory(prefix="variations-") as scratch:
        out = args.keep or Path(scratch)
        rows, notes = [], []
        print(f"{'variation':30} {'exit':>4} {'failures':>8} {'errors':>6} {'other':>5} "
              f"{'seconds':>7}", flush=True)
        for variation in chosen:
            result, seconds = run_one(variation, args.budget, out, extra)
            failed, errored, other = counts(result)
            name = variation.name if variation else "(reference, control)"
            rows.append((name, result.exit_code, failed, errored, other, seconds))
            print(f"{name:30} {result.exit_code:>4} {failed:>8} {errored:>6} {other:>5} "
                  f"{seconds:>7.1f}", flush=True)
            if result.exit_code != 0 or failed or errored or other:
                notes.append(f"--- {name}\n{explain(result)}")
    for note in notes:
        print(note)
    return 1 if notes else 0


if __name__ == "__main__":
    sys.exit(main())
