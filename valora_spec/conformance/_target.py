"""Finding the target: the embedded reference when no --base-url, then its declaration."""

from __future__ import annotations

import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valora_spec.conformance._http import Client, Reply, TargetError

READY_TIMEOUT = 30.0


@dataclass
class EmbeddedReference:
    """The reference implementation in a child process; the harness never imports its code."""

    process: subprocess.Popen
    base_url: str
    keys: dict[str, str]

    @classmethod
    def start(cls, spec_version: str | None = None) -> EmbeddedReference:
        keys = {name: f"vk_{name}_{secrets.token_hex(12)}"
                for name in ("api_key", "api_key_b", "read_only_key")}
        script = shutil.which("valora-reference", path=str(Path(sys.executable).parent))
        command = [script] if script else [sys.executable, "-m", "valora_spec.reference"]
        command += ["--port", "0",
                    "--api-key", f"org_a:admin:{keys['api_key']}",
                    "--api-key", f"org_b:admin:{keys['api_key_b']}",
                    "--api-key", f"org_a:read_only:{keys['read_only_key']}"]
        if spec_version:
            command += ["--spec-version", spec_version]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                   # its own session: a Ctrl-C or a job's SIGTERM to the whole
                                   # group must not end it before the report is written
                                   start_new_session=True)
        return cls(process, first_line_or_kill(process, READY_TIMEOUT), keys)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=4)  # it shuts down within 2 s; a stopped run must end
            except subprocess.TimeoutExpired:
                self.process.kill()


def first_line_or_kill(process: subprocess.Popen, timeout: float) -> str:
    """The base URL the reference prints once it listens. A child that hangs before (a loop at
    import, a lock) must not hang the run: after `timeout` it is killed and the start fails."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout).strip()
    except queue.Empty:
        process.kill()
        raise RuntimeError(f"it did not print its address within {timeout:g} s") from None
    if not line.startswith("http"):
        process.kill()
        raise RuntimeError(f"it printed {line!r} instead of its address")
    return line


def discover(client: Client) -> tuple[dict[str, Any] | None, str | None]:
    """What the target declares at GET /v1/meta, or why it could not be read."""
    try:
        reply = client.get("/v1/meta")
    except TargetError as exc:
        return None, str(exc)
    if reply.status != 200:
        return None, f"GET /v1/meta answered {reply.status}"
    try:
        body = reply.json()
    except TargetError as exc:
        return None, str(exc)
    if not isinstance(body, dict) or not isinstance(body.get("spec_version"), str):
        return None, "GET /v1/meta did not declare a spec_version"
    return body, None


def key_works(client: Client, path: str = "/v1/customers") -> str | None:
    """None when the key gets a 2xx; otherwise why not. A wrong key would make checks pass."""
    try:
        reply = client.get(path, params={"limit": 1})
    except TargetError as exc:
        return str(exc)
    if 200 <= reply.status < 300:
        return None
    return f"GET {path} answered {reply.status}{_why(reply)}"


def _why(reply: Reply) -> str:
    """What a non-2xx answer to the key probe says, so a broken target is not blamed on the key."""
    status = reply.status
    if status in (401, 403):
        return " with this key"
    if 300 <= status < 400:
        location = reply.exchange.response_headers.get("location", "")
        return (f", a redirect{' to ' + location[:120] if location else ''} (redirects are never "
                "followed: check --base-url)")
    if status == 429:
        return ", rate limited even after waiting as Retry-After asked"
    if status >= 500:
        return ", a server error"
    return ""
