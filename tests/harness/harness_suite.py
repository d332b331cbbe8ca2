"""Run `pytest conformance` as a user would, against a server on loopback, and read its report."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"api_key": "vk_test_admin_a_5f2c9e", "api_key_b": "vk_test_admin_b_71d0aa",
        "read_only_key": "vk_test_ro_a_c3b8e1"}
# org, role, key — as the reference's create_app takes them
KEY_TRIPLES = [("org_a", "admin", KEYS["api_key"]), ("org_b", "admin", KEYS["api_key_b"]),
               ("org_a", "read_only", KEYS["read_only_key"])]


@dataclass
class SuiteResult:
    exit_code: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "report.json").read_text())

    def status(self, requirement: str) -> str:
        return next(r["status"] for r in self.report["requirements"] if r["id"] == requirement)

    def failing(self) -> set[str]:
        return {r["id"] for r in self.report["requirements"] if r["status"] == "fail"}


def run_suite(report_dir: Path, *args: str, base_url: str | None = None,
              keys: dict[str, str] | None = None, timeout: float = 300) -> SuiteResult:
    """`args` are extra options, e.g. ("-k", "test_security", "--budget", "quick")."""
    command = [sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider",
               "--report-dir", str(report_dir), "--seed", "7"]
    if base_url is not None:
        keys = KEYS if keys is None else keys
        command += ["--base-url", base_url]
        for option, name in (("--api-key", "api_key"), ("--api-key-b", "api_key_b"),
                             ("--read-only-key", "read_only_key")):
            if keys.get(name):
                command += [option, keys[name]]
    if "--budget" not in args:
        command += ["--budget", "quick"]
    # the plugin by name, last: these runs often disable autoloading (its entry point) for speed,
    # and -p plugins load in order, so one named in `args` (pytest-base-url) comes first
    # HARNESS_SUITE_ARGS adds settings to every run, to sweep the fault and variation catalogues
    # at them (verdicts must not depend on them): "--concurrency 1", or "-p xdist.plugin -n 2"
    # (many of these runs disable plugin autoloading)
    command += [*args, *shlex.split(os.environ.get("HARNESS_SUITE_ARGS", "")),
                "-p", "valora_spec.conformance.plugin"]
    # serial unless a test asks (--workers, -n): `auto` times the target, and a loopback server
    # on a loaded machine could cross the bar; what these runs test must not depend on that
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALORA_")} | {"VALORA_WORKERS": "0"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env)
    return SuiteResult(done.returncode, done.stdout, done.stderr, report_dir)
