"""Against the reference: no failure and no harness error under ten seeds, and a seed repeats its verdicts.

Standard and thorough budgets are swept the same way by benchmarks/seed_sweep.py (too slow for CI).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness_suite import run_suite
from versions import NEWEST, label

SEEDS = range(1, 11)


def _statuses(report: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["requirements"]}


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_passes_at_quick_under_every_seed(tmp_path: Path, seed: int) -> None:
    result = run_suite(tmp_path / "report", "--seed", str(seed))
    report = result.report
    errored = {r["id"]: r["reason"] for r in report["requirements"] if r["status"] == "error"}
    assert not errored and not report["errors"], (errored, report["errors"])
    assert not result.failing(), [f["message"] for f in report["failures"]][:5]
    assert result.exit_code == 0, result.stdout[-3000:]
    assert report["verdict"] == "pass" and report["range"]["label"] == label(NEWEST)


def test_a_seed_repeats_its_verdicts(tmp_path: Path) -> None:
    first = run_suite(tmp_path / "a", "--seed", "11")
    again = run_suite(tmp_path / "b", "--seed", "11")
    assert first.report["seed"] == again.report["seed"] == 11
    assert _statuses(first.report) == _statuses(again.report)
