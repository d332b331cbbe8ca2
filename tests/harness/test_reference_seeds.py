"""Against the reference: no failure and no harness error under five seeds, and a seed repeats its verdicts.

More seeds, and the standard and thorough budgets, are swept the same way by
benchmarks/seed_sweep.py (`--budget quick --seeds 1-50`; too slow for CI).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from harness_suite import SuiteResult, run_suite
from versions import NEWEST, label

SEEDS = range(1, 6)


def _statuses(report: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["requirements"]}


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], SuiteResult]:
    """One quick run per seed in this module: the repeat test compares against the same run."""
    done: dict[int, SuiteResult] = {}

    def run(seed: int) -> SuiteResult:
        if seed not in done:
            done[seed] = run_suite(tmp_path_factory.mktemp(f"seed-{seed}") / "report", "--seed", str(seed))
        return done[seed]
    return run


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_passes_at_quick_under_every_seed(seed_run: Callable[[int], SuiteResult],
                                                    seed: int) -> None:
    result = seed_run(seed)
    report = result.report
    errored = {r["id"]: r["reason"] for r in report["requirements"] if r["status"] == "error"}
    assert not errored and not report["errors"], (errored, report["errors"])
    assert not result.failing(), [f["message"] for f in report["failures"]][:5]
    assert result.exit_code == 0, result.stdout[-3000:]
    assert report["verdict"] == "pass" and report["range"]["label"] == label(NEWEST)


def test_a_seed_repeats_its_verdicts(seed_run: Callable[[int], SuiteResult], tmp_path: Path) -> None:
    first = seed_run(SEEDS[0])
    again = run_suite(tmp_path / "again", "--seed", str(SEEDS[0]))
    assert first.report["seed"] == again.report["seed"] == SEEDS[0]
    assert _statuses(first.report) == _statuses(again.report)
