"""How well does the harness catch the faults of the catalogue? (a script, not a test)

Runs the FULL conformance suite at quick budget against the reference and then against every
faulty server of tests/harness/faults/, and prints per fault: the requirement it breaks, whether
the harness failed it, what else failed — honestly also broken by the fault, known harness noise
(`*`), or unexplained false positives (`!`) — and the overall detection rate.

    python tests/harness/detection_rate.py [--jobs N] [--keep DIR] [FAULT ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from faults import BY_NAME, CATALOGUE, HARNESS_ISSUES, Fault, serve  # noqa: E402
from harness_suite import KEYS, SuiteResult, run_suite  # noqa: E402
from versions import label as range_label  # noqa: E402


@dataclass
class Row:
    name: str
    requirement: str
    detected: bool
    honest: list[str]  # other failures the fault does cause
    noise: list[str]  # failures the catalogue attributes to known harness issues
    false_positives: list[str]  # failures nobody explains
    errors: list[str]  # requirements reported `error`: the harness says it broke
    reproduced: bool
    leaked: bool
    seconds: float
    note: str = ""


def _errored(report: dict) -> list[str]:
    return sorted(r["id"] for r in report["requirements"] if r["status"] == "error")


def _leaked(report_dir: Path) -> bool:
    return any(key.encode() in path.read_bytes() for path in report_dir.rglob("*")
               if path.is_file() for key in KEYS.values())


def evaluate(fault: Fault | None, workdir: Path) -> Row:
    name = fault.name if fault else "(reference, no fault)"
    started = time.monotonic()
    with serve(fault) as url:
        result: SuiteResult = run_suite(workdir / (fault.name if fault else "reference"),
                                        base_url=url)
    seconds = time.monotonic() - started
    report = result.report
    failing = result.failing()
    if fault is None:
        return Row(name, "-", False, [], [], sorted(failing), _errored(report), True,
                   _leaked(result.report_dir), seconds,
                   f"verdict {report['verdict']}, range {report['range']['label']}")
    named = [f for f in report["failures"] if f["requirement"] == fault.requirement]
    detected = fault.requirement in failing
    note = ""
    if fault.selection is None:  # the over-claim: judged by the compatibility comparison
        detected = bool(report["compatibility"].get("over_claim"))
        label, expected = report["range"]["label"], range_label(fault.app_options["spec_version"])
        note = (f"over-claim {'reported' if detected else 'NOT reported'}; measured range "
                f"{label}{'' if label == expected else f' (WRONG: expected {expected})'}"
                f"; {fault.requirement} {result.status(fault.requirement)}")
        named = named or [{"reproduction": "(range comparison)"}]
    others = failing - {fault.requirement}
    return Row(name, fault.requirement, detected, sorted(others & fault.expected),
               sorted(others & set(fault.noise) - fault.expected),
               sorted(others - fault.expected - set(fault.noise)), _errored(report),
               any(f["reproduction"] for f in named), _leaked(result.report_dir), seconds, note)


def _short(requirements: list[str], mark: str = "") -> str:
    return ", ".join(r.removeprefix("VAL-") + mark for r in requirements) or "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faults", nargs="*", help="fault names (default: the whole catalogue)")
    parser.add_argument("--jobs", type=int, default=1, help="faulty servers evaluated at once")
    parser.add_argument("--keep", metavar="DIR", help="keep every run's report under DIR")
    args = parser.parse_args()
    unknown = [n for n in args.faults if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown fault(s) {unknown}; known: {', '.join(BY_NAME)}")
    chosen = [BY_NAME[n] for n in args.faults] if args.faults else CATALOGUE
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the harness needs no installed plugin
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="valora-detection-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        control = evaluate(None, workdir)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            rows = list(pool.map(lambda f: evaluate(f, workdir), chosen))

    print(f"control: the reference, full suite: {control.note}; "
          f"failing {_short(control.false_positives)}; harness errors {_short(control.errors)}; "
          f"keys in report: {control.leaked}\n")
    header = ("fault", "expected", "detected", "also broken (honest)", "false positives",
              "harness errors", "s")
    table = [(r.name, r.requirement.removeprefix("VAL-"),
              ("yes" if r.detected else "NO") + ("" if r.reproduced or not r.detected
                                                 else " (no repro)"),
              _short(r.honest),
              ", ".join(filter(None, [_short(r.noise, "*") if r.noise else "",
                                      _short(r.false_positives, "!") if r.false_positives
                                      else ""])) or "-",
              _short(r.errors), f"{r.seconds:.0f}") for r in rows]
    widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *table]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    for row in rows:
        if row.note:
            print(f"  note {row.name}: {row.note}")
        if row.leaked:
            print(f"  LEAK {row.name}: a key appears in the report directory")

    detected = sum(r.detected for r in rows)
    precise = sum(r.detected and not (r.false_positives or r.noise or r.errors) for r in rows)
    unexplained = sorted({fp for r in rows for fp in r.false_positives})
    print(f"\ndetection rate: {detected}/{len(rows)} faults failed for the right requirement "
          f"({100 * detected / max(len(rows), 1):.0f} %)")
    print(f"precise (detected; nothing but honest failures; no harness error): "
          f"{precise}/{len(rows)}")
    print(f"known harness noise (*): {sum(bool(r.noise) for r in rows)} faults; "
          f"unexplained false positives (!): {_short(unexplained)}; "
          f"faults with requirements reported `error`: {sum(bool(r.errors) for r in rows)}")
    missed = [r.name for r in rows if not r.detected]
    if missed:
        issues = {i for f in chosen if f.name in missed for i in f.issues}
        print(f"missed: {', '.join(missed)}  (known issues: {', '.join(sorted(issues)) or '-'})")
    for key in sorted({i for f in chosen for i in f.issues}):
        print(f"  [{key}] {HARNESS_ISSUES[key]}")
    print(f"\n{len(rows) + 1} full-suite runs in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
