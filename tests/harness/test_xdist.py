"""pytest-xdist: `-n 2` gives one report with the verdicts of a serial run (one target, one clean-up)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import hostile as h
import pytest
from faults import BY_NAME, serve
from harness_suite import run_suite
from versions import NEWEST, label

from valora_spec.conformance import _xdist
from valora_spec.conformance._http import Slots


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


class _Slow:
    """An app whose every answer takes `delay` seconds longer: a target one region away."""

    def __init__(self, app: Any, delay: float) -> None:
        self.app, self.delay = app, delay

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


def test_workers_share_the_runs_bounds(tmp_path: Path) -> None:
    """Each worker may use any of the run's --concurrency slots, and together no more."""
    settings = SimpleNamespace(concurrency=8, max_rps=30.0, base_url="http://x", api_key="k",
                               api_key_b=None, read_only_key=None, seed=1, started=5.0)
    run = SimpleNamespace(settings=settings, prefix="vcabc")
    config = SimpleNamespace(option=SimpleNamespace(dist="load", tx=["popen"] * 3), stash=pytest.Stash())
    shares = [_xdist.shared_with_workers(config, run, f"gw{i}") for i in range(3)]  # type: ignore[arg-type]
    assert {share["concurrency"] for share in shares} == {8}  # any worker may take every slot
    assert len({share["slots"] for share in shares}) == 1  # the same ones
    assert sum(share["max_rps"] for share in shares) == 30.0
    assert {share["started"] for share in shares} == {5.0}  # one deadline for the whole run

    slots = [Slots(shares[0]["slots"], 2), Slots(shares[1]["slots"], 2)]  # two processes' view
    held = [slots[0].take(), slots[1].take()]
    waited = threading.Event()

    def third() -> None:
        slots[0].take().close()
        waited.set()

    threading.Thread(target=third, daemon=True).start()
    assert not waited.wait(0.3)  # both slots are held: the third request waits
    held[1].close()  # the other worker's exchange ends
    assert waited.wait(2)
    held[0].close()
    _xdist.remove_slots(config)  # type: ignore[arg-type]
    assert not Path(shares[0]["slots"]).exists()


def test_auto_workers_for_a_remote_target_only(tmp_path: Path) -> None:
    """`--workers auto` starts workers for a target 40 ms away, judged as the serial run judges,
    and none for the same server on loopback."""
    selection = ("-k", "test_crud or test_lists_are_scoped", "--workers", "auto")
    with h.AsgiServer(_Slow(h.reference_app(), 0.04)) as far:
        remote = run_suite(tmp_path / "remote", *selection, base_url=far.url)
    with h.AsgiServer(h.reference_app()) as near:
        local = run_suite(tmp_path / "local", *selection, base_url=near.url)
    assert remote.report["config"]["workers"] == 4, remote.stdout[-2000:]
    assert "4 workers" in remote.stdout
    assert local.report["config"]["workers"] == 0, local.stdout[-2000:]
    assert remote.exit_code == local.exit_code == 3  # a selection: incomplete, never fail
    assert _statuses(remote.report) == _statuses(local.report)
    assert remote.report["cleanup"]["deleted"] > 0


def test_workers_option_is_checked(tmp_path: Path) -> None:
    result = run_suite(tmp_path / "report", "--workers", "many")
    assert result.exit_code == 2
    assert "--workers must be 'auto' or a number of processes, not 'many'" in result.stderr
