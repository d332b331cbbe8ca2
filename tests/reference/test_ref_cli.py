"""The `valora-reference` console script."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

SCRIPT = Path(sys.executable).with_name("valora-reference")


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(SCRIPT), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=10)
    return process.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_prints_url_serves_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "ref.sqlite3"
    process = _start("--port", "0", "--db", str(db), "--api-key", "acme:admin:secret-1",
                     "--spec-version", "1.1.0", "--usage-delay", "2")
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:") and url.count("/") == 2
    headers = {"Authorization": "Bearer secret-1"}
    meta = httpx.get(url + "/v1/meta", headers=headers).json()
    assert meta["spec_version"] == "1.1.0" and meta["usage_visibility_seconds"] == 2
    created = httpx.post(url + "/v1/products", json={"name": "kept"}, headers=headers).json()
    code, out, err = _stop(process, sig)
    assert code == 0 and out == "" and "Traceback" not in err
    # The --db file keeps the data for the next run.
    again = _start("--db", str(db), "--api-key", "acme:admin:secret-1", "--spec-version", "1.1.0",
                   "--declare-version", "1.2.0", "--rate-limit", "50/s")
    assert again.stdout is not None
    url = again.stdout.readline().strip()
    assert httpx.get(f"{url}/v1/products/{created['id']}", headers=headers).json() == created
    assert httpx.get(url + "/v1/meta", headers=headers).json()["spec_version"] == "1.2.0"
    assert _stop(again, signal.SIGTERM)[0] == 0


def test_generates_and_prints_keys_when_none_given() -> None:
    process = _start()
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    code, _, err = _stop(process, signal.SIGTERM)
    assert code == 0
    keys = [line.split(" ", 1)[1].split(":", 2) for line in err.splitlines()
            if line.startswith("api-key ")]
    assert [(org, role) for org, role, _ in keys] == [
        ("org_a", "admin"), ("org_b", "admin"), ("org_a", "read_only")]
    secrets = [key for _, _, key in keys]
    assert len(set(secrets)) == 3 and all(len(key) >= 30 for key in secrets)  # distinct, unguessable
    assert url.startswith("http://")


@pytest.mark.parametrize(
    "args",
    [["--port", "x"], ["--spec-version", "2.0.0"], ["--api-key", "org:owner:k"],
     ["--api-key", ":admin:k"], ["--api-key", "a:admin:k", "--api-key", "b:admin:k"],
     ["--api-key", "a:admin:k", "--api-key", "a:read_only:k"], ["--rate-limit", "5"],
     ["--declare-version", "v1"], ["--usage-delay", "-1"], ["--nope"]],
)
def test_bad_flags_exit_2_without_traceback(args: list[str]) -> None:
    result = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert "valora-reference: error:" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
