"""Bad usage: one clear line on stderr and pytest's usage exit code 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from harness_suite import SuiteResult, run_suite
from versions import NEWEST, OLDEST, RELEASED

from valora_spec.conformance._settings import UsageError, read_settings
from valora_spec.conformance._target import first_line_or_kill

PREFIX = "valora conformance: error: "


@pytest.fixture(autouse=True)
def _lean_harness_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness needs none of the installed pytest plugins; not loading them saves ~1 s a run."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def _message(result: SuiteResult) -> str:
    output = result.stdout + result.stderr
    assert result.exit_code == 2, output[-3000:]
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith(PREFIX)]
    assert len(lines) == 1, result.stderr
    return lines[0].removeprefix(PREFIX)


def test_unreachable_url_has_its_own_wording_and_exit_code(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = run_suite(tmp_path / "report", "--request-timeout", "2", base_url=url)
    assert result.exit_code == 6, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("valora conformance:")]
    assert len(lines) == 1 and lines[0].startswith("valora conformance: target unreachable: "), lines
    assert "Connection refused" in lines[0] and "Traceback" not in result.stdout + result.stderr
    assert (tmp_path / "report" / "report.json").is_file()  # the attempt is still on record


def test_malformed_url(tmp_path: Path) -> None:
    message = _message(run_suite(tmp_path / "report", base_url="http://[::1"))
    assert "--base-url 'http://[::1' is not a valid URL" in message, message


def test_missing_key_with_base_url(tmp_path: Path) -> None:
    result = run_suite(tmp_path / "report", base_url="http://127.0.0.1:9", keys={})
    assert "--api-key (or VALORA_API_KEY) is required with --base-url" in _message(result)


def test_unknown_spec_version(tmp_path: Path) -> None:
    result = run_suite(tmp_path / "report", "--spec-version", "9.9.9",
                       base_url="http://127.0.0.1:9")
    message = _message(result)
    assert "unknown --spec-version '9.9.9'" in message and OLDEST in message, message


def test_unwritable_report_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    # (a read-only directory would not do: these tests may run as root, who writes anywhere)
    result = run_suite(blocker / "report", base_url="http://127.0.0.1:9")
    message = _message(result)
    assert "--report-dir" in message and "not writable" in message, message


def test_non_numeric_max_rps(tmp_path: Path) -> None:
    result = run_suite(tmp_path / "report", "--max-rps", "fast", base_url="http://127.0.0.1:9")
    assert "--max-rps 'fast' is not a number" in _message(result)


# The same validation in-process, for the variants: every one must be a UsageError, which the
# plugin turns into the line and exit code checked end to end above.

class _Config:
    def __init__(self, **options: Any) -> None:
        self.options = {f"valora_{name}": value for name, value in options.items()}

    def getoption(self, dest: str, default: Any = None) -> Any:
        return self.options.get(dest, default)


@pytest.mark.parametrize(("options", "expected"), [
    ({"base_url": "localhost:8080"}, "is not an http(s) URL"),
    ({"base_url": "ftp://example.com"}, "is not an http(s) URL"),
    ({"base_url": "http://127.0.0.1:99999"}, "has an invalid port"),
    ({"base_url": "http://api example.com"}, "contains whitespace"),
    ({"base_url": "http://user:pw@example.com"}, "must not carry credentials"),
    ({"request_timeout": "nan"}, "--request-timeout 'nan' is not a finite number"),
    ({"deadline": "inf"}, "--deadline 'inf' is not a finite number"),
    ({"deadline": "-1"}, "--deadline must be positive"),
    ({"max_rps": "-5"}, "--max-rps must be 0 (unlimited) or positive"),
    ({"seed": "1.5"}, "--seed '1.5' is not an integer"),
    ({"budget": "huge"}, "--budget must be one of"),
    ({"api_key_b": "short"}, "--api-key-b is 5 characters long"),
    ({"waivers": "/nonexistent/waivers.yaml"}, "no such file"),
    ({"sign_key": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA\n-----END PRIVATE KEY-----"},
     "takes the path of a PEM file, not its contents"),
])
def test_bad_options_are_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      options: dict[str, str], expected: str) -> None:
    for name in [n for n in os.environ if n.startswith("VALORA_")]:
        monkeypatch.delenv(name)
    options = {"api_key": "vk_test_key_1", "report_dir": str(tmp_path)} | options
    with pytest.raises(UsageError) as caught:
        read_settings(_Config(**options), RELEASED)  # type: ignore[arg-type]
    message = str(caught.value)
    assert expected in message and "\n" not in message, message
    assert "MC4CAQAw" not in message  # key material is never echoed


def test_bad_environment_values_are_usage_errors(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALORA_MAX_RPS", "lots")
    with pytest.raises(UsageError, match="VALORA_MAX_RPS 'lots' is not a number"):
        read_settings(_Config(report_dir=str(tmp_path)), RELEASED)  # type: ignore[arg-type]


def test_ca_bundle_that_is_not_a_certificate(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(UsageError, match="not a usable PEM certificate bundle"):
        read_settings(_Config(base_url="https://127.0.0.1:9", api_key="vk_test_key_1",  # type: ignore[arg-type]
                              report_dir=str(tmp_path), ca_bundle=str(bundle)), RELEASED)


# Key mistakes are the user's, not the server's: said as one line before any check runs.

@pytest.mark.parametrize(("same", "named"), [
    (("api_key", "api_key_b"), "--api-key (admin, organization A) and --api-key-b"),
    (("api_key", "read_only_key"), "--api-key (admin, organization A) and --read-only-key"),
    (("api_key_b", "read_only_key"), "--api-key-b (organization B) and --read-only-key"),
])
def test_equal_keys_are_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     same: tuple[str, str], named: str) -> None:
    for name in [n for n in os.environ if n.startswith("VALORA_")]:
        monkeypatch.delenv(name)
    options = {"api_key": "vk_test_key_1", "api_key_b": "vk_test_key_2",
               "read_only_key": "vk_test_key_3", "report_dir": str(tmp_path)}
    options[same[1]] = options[same[0]]
    with pytest.raises(UsageError) as caught:
        read_settings(_Config(**options), RELEASED)  # type: ignore[arg-type]
    message = str(caught.value)
    assert named in message and "same key" in message, message
    assert "vk_test_key" not in message  # a key is never echoed


def test_a_read_only_key_as_the_admin_key_is_a_usage_error(tmp_path: Path) -> None:
    from harness_suite import KEY_TRIPLES, KEYS

    from valora_spec import reference

    app = reference.create_app(keys=KEY_TRIPLES, spec_version=NEWEST)
    try:
        with reference.serve_in_thread(app) as url:
            keys = {"api_key": KEYS["read_only_key"], "api_key_b": KEYS["api_key_b"]}
            message = _message(run_suite(tmp_path / "report", base_url=url, keys=keys))
    finally:
        app.close()
    assert "--api-key is refused for writes" in message and "admin key" in message, message
    assert KEYS["read_only_key"] not in message


def test_missing_optional_keys_are_said_once_and_leave_the_verdict_incomplete(tmp_path: Path) -> None:
    from harness_suite import KEY_TRIPLES, KEYS

    from valora_spec import reference

    app = reference.create_app(keys=KEY_TRIPLES, spec_version=NEWEST)
    try:
        with reference.serve_in_thread(app) as url:
            result = run_suite(tmp_path / "report", "-k", "test_security", base_url=url,
                               keys={"api_key": KEYS["api_key"]})
    finally:
        app.close()
    assert result.exit_code == 3, result.stdout[-3000:]
    for option in ("--api-key-b", "--read-only-key"):
        assert result.stdout.count(f"no {option}") == 1, result.stdout[-3000:]
    report = result.report
    assert report["verdict"] == "incomplete" and not result.failing()
    assert report["range"]["first_failing"] is None and not report["compatibility"]["over_claim"]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("Valora conformance: verdict INCOMPLETE") and "exit 3" in last, last


def test_coexists_with_pytest_base_url(tmp_path: Path) -> None:
    """pytest-base-url defines --base-url too; the harness reads the value through it."""
    url = f"http://127.0.0.1:{_closed_port()}"
    result = run_suite(tmp_path / "report", "-p", "pytest_base_url.plugin", "--request-timeout", "2",
                       base_url=url)
    assert result.exit_code == 6, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"target unreachable: {url}" in result.stderr


def test_an_embedded_reference_that_hangs_before_listening_is_killed_within_the_limit() -> None:
    # e.g. a loop at import: the child never prints its address, and the run must not wait for ever
    hung = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                            stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not print its address within 1 s"):
        first_line_or_kill(hung, 1.0)
    assert time.monotonic() - started < 10
    assert hung.wait(timeout=10) != 0  # killed, not left behind


def test_an_embedded_reference_that_prints_something_else_is_named() -> None:
    talking = subprocess.Popen([sys.executable, "-c", "print('port in use')"],
                               stdout=subprocess.PIPE, text=True)
    with pytest.raises(RuntimeError, match="printed 'port in use' instead of its address"):
        first_line_or_kill(talking, 30.0)
