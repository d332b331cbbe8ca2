"""Against the reference: zero failures under several seeds, and one seed always the same verdict."""

from __future__ import annotations

from pathlib import Path

from harness_suite import run_suite


def _statuses(report: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["requirements"]}


def test_reference_passes_under_several_seeds_and_a_seed_repeats(tmp_path: Path) -> None:
    first = run_suite(tmp_path / "a", "--seed", "11")
    again = run_suite(tmp_path / "b", "--seed", "11")
    other = run_suite(tmp_path / "c", "--seed", "12")
    for result in (first, again, other):
        assert result.exit_code == 0, result.stdout[-3000:]
        assert result.report["verdict"] == "pass"
        assert not result.failing()
        assert result.report["range"]["label"] == "1.0.0 – 1.2.x"
    assert first.report["seed"] == again.report["seed"] == 11
    assert _statuses(first.report) == _statuses(again.report)
