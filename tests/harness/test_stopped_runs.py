"""A stopped run (SIGTERM from a CI job's timeout, Ctrl-C, --deadline) still writes a complete report.

What was judged stays judged; the rest is skipped as interrupted; the verdict is incomplete
(exit 3), never a failure or an over-claim charged to the server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness_suite import ROOT, run_suite


def _assert_incomplete(report: dict) -> None:
    assert report["verdict"] == "incomplete", report["verdict_reasons"]
    assert report["counts"]["fail"] == 0 and report["counts"]["pass"] > 0
    assert report["range"]["first_failing"] is None
    assert not report["compatibility"]["over_claim"]
    skipped = [r for r in report["requirements"] if r["status"] == "skip"]
    assert skipped and all("interrupted" in r["reason"] or "capability absent" in r["reason"]
                           for r in skipped), [r["reason"] for r in skipped][:5]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_leaves_a_complete_incomplete_report(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "report"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALORA_")}
    process = subprocess.Popen([sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider",
                                "--budget", "quick", "--seed", "3", "--report-dir", str(out)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    time.sleep(10)  # well into the checks
    stopped_at = time.monotonic()
    os.killpg(process.pid, signum)  # the whole group, as a CI runner or a terminal does
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - stopped_at < 15, "the report took too long after the signal"
    assert process.returncode == 3, stdout[-2000:] + stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    _assert_incomplete(report)
    assert stdout.strip().splitlines()[-1].startswith("Valora conformance: verdict INCOMPLETE")


def test_the_deadline_leaves_a_complete_incomplete_report(tmp_path: Path) -> None:
    result = run_suite(tmp_path / "report", "--deadline", "8")
    assert result.exit_code == 3, result.stdout[-2000:]
    _assert_incomplete(result.report)
