"""pytest-xdist: `-n 2` gives one report with the verdicts of a serial run (one target, one clean-up)."""

from __future__ import annotations

from pathlib import Path

from faults import BY_NAME, serve
from harness_suite import run_suite
from versions import NEWEST, label


def _statuses(report: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["requirements"]}


def test_two_workers_judge_as_one_serial_run(tmp_path: Path) -> None:
    serial = run_suite(tmp_path / "serial", "--seed", "9")
    parallel = run_suite(tmp_path / "parallel", "--seed", "9", "-n", "2")
    assert parallel.exit_code == serial.exit_code == 0, parallel.stdout[-3000:]
    assert _statuses(parallel.report) == _statuses(serial.report)
    assert parallel.report["range"]["label"] == label(NEWEST)  # the embedded reference: the newest
    assert parallel.report["cleanup"]["deleted"] > 0  # what the workers created was cleaned up
    assert parallel.stdout.count("Valora conformance: verdict") == 1


def test_two_workers_fail_a_faulty_server_for_the_same_requirements(tmp_path: Path) -> None:
    fault = BY_NAME["cross_tenant_read"]
    with serve(fault) as url:
        serial = run_suite(tmp_path / "serial", "-k", fault.selection, base_url=url)
        parallel = run_suite(tmp_path / "parallel", "-k", fault.selection, "-n", "2", base_url=url)
    assert parallel.exit_code == serial.exit_code == 1, parallel.stdout[-3000:]
    assert fault.requirement in parallel.failing()
    assert parallel.failing() == serial.failing()
    assert any(f["reproduction"] for f in parallel.report["failures"])
