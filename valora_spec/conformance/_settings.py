"""Command-line options of `pytest conformance`, each also read from an environment variable."""

from __future__ import annotations

import math
import os
import secrets
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from valora_spec._redact import PLACEHOLDER_OF, REDACTED

MIN_KEY_LENGTH = 8
BUDGETS: dict[str, dict[str, int]] = {
    # examples per operation and generation mode, and stateful steps
    "quick": {"examples": 4, "pages": 3},
    "standard": {"examples": 15, "pages": 5},
    "thorough": {"examples": 60, "pages": 8},
}

# (option, env var, type, default, metavar, help)
OPTIONS: list[tuple[str, str, type, Any, str, str]] = [
    ("--base-url", "VALORA_BASE_URL", str, None, "URL",
     "Target server, e.g. https://billing.example.com (without /v1). Default: the embedded "
     "reference implementation."),
    ("--api-key", "VALORA_API_KEY", str, None, "KEY", "Admin API key of organization A."),
    ("--api-key-b", "VALORA_API_KEY_B", str, None, "KEY",
     "Admin API key of organization B, for tenant-isolation checks."),
    ("--read-only-key", "VALORA_READ_ONLY_KEY", str, None, "KEY",
     "read_only API key of organization A, for role checks."),
    ("--spec-version", "VALORA_SPEC_VERSION", str, None, "VERSION",
     "Spec version the verdict is judged against (default: the version the target declares)."),
    ("--evaluate", "VALORA_EVALUATE", str, None, "VERSIONS",
     "Comma-separated spec versions whose profiles to evaluate (default: every version of the "
     "major); checks needed by none of them are skipped."),
    ("--budget", "VALORA_BUDGET", str, "standard", "BUDGET",
     "quick | standard | thorough (certification)."),
    ("--seed", "VALORA_SEED", int, None, "N", "Seed for data generation; the same seed, the same run."),
    ("--max-rps", "VALORA_MAX_RPS", float, 0.0, "N", "Maximum requests per second (0 = unlimited)."),
    ("--concurrency", "VALORA_CONCURRENCY", int, 8, "N",
     "Independent requests in flight at once (1: one after another). Chains of dependent calls "
     "stay in order; the same seed sends the same requests and gets the same verdicts at every N."),
    ("--workers", "VALORA_WORKERS", str, "auto", "N|auto",
     "Worker processes running checks side by side (pytest-xdist), sharing the --concurrency and "
     "--max-rps bounds. auto: none for the embedded reference or a target answering within "
     "20 ms; for a farther one, up to 4 (latency, not CPU, is what they overlap). -n N overrides."),
    ("--request-timeout", "VALORA_REQUEST_TIMEOUT", float, 10.0, "SECONDS",
     "Seconds allowed per request."),
    ("--deadline", "VALORA_DEADLINE", float, 900.0, "SECONDS", "Seconds allowed for the whole run."),
    ("--replay-after", "VALORA_REPLAY_AFTER", float, 0.0, "SECONDS",
     "The run's first Idempotency-Key is replayed at its end, and no sooner than this many "
     "seconds after its first use (within --deadline): a longer run sees expiries and prunes "
     "that a short one cannot (VAL-IDEM-001 keeps keys 24 hours). Default 0."),
    ("--report-dir", "VALORA_REPORT_DIR", str, None, "PATH",
     "Where to write the report (default ./reports/out/<timestamp>/)."),
    ("--baseline", "VALORA_BASELINE", str, None, "PATH", "A previous report.json to compare with."),
    ("--fail-on", "VALORA_FAIL_ON", str, "any", "any|regression",
     "any: exit 1 when the target fails; regression: only on new failures against --baseline."),
    ("--waivers", "VALORA_WAIVERS", str, None, "PATH", "YAML file of waived requirements."),
    ("--sign-key", "VALORA_SIGN_KEY", str, None, "PATH",
     "Path of an Ed25519 private key (PEM file) to sign the report with."),
    ("--ca-bundle", "VALORA_CA_BUNDLE", str, None, "PATH", "CA bundle to trust for an https target."),
]
FLAGS: list[tuple[str, str, str]] = [
    ("--read-only", "VALORA_READ_ONLY",
     "Production-safe mode: only GET requests; checks that need writes are skipped."),
]
# pytest-base-url (pulled in by pytest-playwright, among others) defines --base-url too: reuse it.
SHARED_OPTIONS = {"--base-url": "base_url"}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("valora", "Valora conformance")
    for name, env, _kind, _default, metavar, help_text in OPTIONS:
        # Read as text and converted in read_settings: argparse's own conversion error would end
        # the run with pytest's exit code 4 and its usage text instead of our one line and 2.
        if name in SHARED_OPTIONS and _defined(parser, name):
            continue  # another plugin's option: read through its dest (see _option)
        group.addoption(name, dest=_dest(name), default=None, metavar=metavar,
                        help=f"{help_text} [env {env}]")
    for name, env, help_text in FLAGS:
        group.addoption(name, dest=_dest(name), action="store_true", default=False,
                        help=f"{help_text} [env {env}=1]")


def _defined(parser: pytest.Parser, name: str) -> bool:
    # pytest has no public way to ask; its own conflict check reads the same lists
    groups = [parser._anonymous, *parser._groups]  # noqa: SLF001
    return any(name in option.names() for group in groups for option in group.options)


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(_dest(name), default=None)
    if value is None and name in SHARED_OPTIONS:
        value = config.getoption(SHARED_OPTIONS[name], default=None) or None  # theirs defaults to ""
    return value


def _dest(name: str) -> str:
    return "valora_" + name.lstrip("-").replace("-", "_")


class UsageError(Exception):
    """Bad options: reported in one line, exit code 2."""


@dataclass
class Settings:
    base_url: str | None
    api_key: str | None
    api_key_b: str | None
    read_only_key: str | None
    spec_version: str | None
    evaluate: list[str] | None
    budget: str
    seed: int
    max_rps: float
    concurrency: int
    request_timeout: float
    deadline: float
    replay_after: float
    report_dir: Path
    baseline: Path | None
    fail_on: str
    waivers: Path | None
    sign_key: Path | None
    ca_bundle: Path | None
    read_only: bool
    workers: int = 0  # xdist worker processes of this run (set once xdist has decided)
    started: float = field(default_factory=time.monotonic)

    def redacted(self) -> dict[str, Any]:
        """The configuration as it may appear in a report: keys only say whether they were set."""
        return {
            "base_url": self.base_url, "spec_version": self.spec_version, "budget": self.budget,
            "seed": self.seed, "max_rps": self.max_rps, "concurrency": self.concurrency,
            "workers": self.workers, "request_timeout": self.request_timeout,
            "deadline": self.deadline, "replay_after": self.replay_after, "read_only": self.read_only,
            "fail_on": self.fail_on,
            **{name: REDACTED if getattr(self, name) else None for name in PLACEHOLDER_OF},
            "baseline": str(self.baseline) if self.baseline else None,
            "waivers": str(self.waivers) if self.waivers else None,
            "signed": bool(self.sign_key),
        }


def raw_value(config: pytest.Config, name: str) -> tuple[Any, str]:
    """An option's value as given (None if not), from the command line or else its environment
    variable, and where it came from."""
    env = next(option[1] for option in OPTIONS if option[0] == name)
    value = _option(config, name)
    if value is None and os.environ.get(env):
        return os.environ[env], env
    return value, name


def read_settings(config: pytest.Config, known_versions: list[str]) -> Settings:
    values: dict[str, Any] = {}
    for name, _env, kind, default, _metavar, _help in OPTIONS:
        value, source = raw_value(config, name)
        values[_dest(name)[len("valora_"):]] = default if value is None else _convert(
            value, kind, source)
    for name, env, _help in FLAGS:
        flag = config.getoption(_dest(name)) or os.environ.get(env, "") not in ("", "0", "false")
        values[_dest(name)[len("valora_"):]] = flag

    base_url = values["base_url"]
    if base_url is not None:
        base_url = _check_url(base_url)
        if not values["api_key"]:
            raise UsageError("--api-key (or VALORA_API_KEY) is required with --base-url")
    for option in ("api_key", "api_key_b", "read_only_key"):
        key = values[option]
        if key is not None and len(key) < MIN_KEY_LENGTH:
            # every occurrence of a key is redacted from the report: a short one would be found
            # inside digests and words, garbling the report instead of protecting anything
            raise UsageError(f"--{option.replace('_', '-')} is {len(key)} characters long; "
                             f"an API key must have at least {MIN_KEY_LENGTH}")
    if values["budget"] not in BUDGETS:
        raise UsageError(f"--budget must be one of {', '.join(BUDGETS)}, not {values['budget']!r}")
    if values["spec_version"] is not None and values["spec_version"] not in known_versions:
        raise UsageError(f"unknown --spec-version {values['spec_version']!r}; "
                         f"this harness knows {', '.join(known_versions)}")
    evaluate = None
    if values["evaluate"]:
        evaluate = [v.strip() for v in values["evaluate"].split(",") if v.strip()]
        unknown = [v for v in evaluate if v not in known_versions]
        if unknown or not evaluate:
            raise UsageError(f"unknown --evaluate version(s) {', '.join(unknown) or '(none)'}; "
                             f"this harness knows {', '.join(known_versions)}")
    _check_keys_differ(values)
    if values["fail_on"] not in ("any", "regression"):
        raise UsageError("--fail-on must be 'any' or 'regression'")
    if values["fail_on"] == "regression" and not values["baseline"]:
        raise UsageError("--fail-on regression needs --baseline")
    for name in ("request_timeout", "deadline"):
        if values[name] <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")
    if values["replay_after"] < 0:
        raise UsageError("--replay-after must be 0 or positive")
    if values["concurrency"] < 1:
        raise UsageError("--concurrency must be at least 1")
    if values["workers"] != "auto" and not (values["workers"].isdigit() and len(values["workers"]) < 4):
        raise UsageError(f"--workers must be 'auto' or a number of processes, not {values['workers']!r}")
    if values["max_rps"] < 0:
        raise UsageError("--max-rps must be 0 (unlimited) or positive")
    paths: dict[str, Path | None] = {}
    for name in ("baseline", "waivers", "sign_key", "ca_bundle"):
        raw = values[name]
        option = f"--{name.replace('_', '-')}"
        if raw and ("-----BEGIN" in raw or "\n" in raw or len(raw) > 4096):
            # key text where a path belongs: say so without repeating a line of it
            raise UsageError(f"{option} takes the path of a PEM file, not its contents "
                             "(the value given is not shown)")
        paths[name] = Path(raw) if raw else None
        if raw and not Path(raw).is_file():
            raise UsageError(f"{option} {raw}: no such file")
    if paths["ca_bundle"] is not None:
        _check_ca_bundle(paths["ca_bundle"])
    report_dir = _report_dir(values["report_dir"])
    seed = values["seed"] if values["seed"] is not None else secrets.randbelow(2**31)
    return Settings(
        base_url=base_url, api_key=values["api_key"], api_key_b=values["api_key_b"],
        read_only_key=values["read_only_key"], spec_version=values["spec_version"],
        evaluate=evaluate,
        budget=values["budget"], seed=seed, max_rps=values["max_rps"], concurrency=values["concurrency"],
        request_timeout=values["request_timeout"], deadline=values["deadline"],
        replay_after=values["replay_after"], report_dir=report_dir, fail_on=values["fail_on"],
        read_only=values["read_only"], **paths,
    )


def _check_keys_differ(values: dict[str, Any]) -> None:
    """Each key proves something only if it is another credential: say so before any request."""
    roles = {"api_key": "--api-key (admin, organization A)",
             "api_key_b": "--api-key-b (organization B)",
             "read_only_key": "--read-only-key (read_only, organization A)"}
    given = [(name, values[name]) for name in roles if values[name]]
    for i, (first, key) in enumerate(given):
        for second, other in given[i + 1:]:
            if key == other:
                raise UsageError(f"{roles[first]} and {roles[second]} are the same key; "
                                 "each must be a different credential")


def _convert(value: Any, kind: type, source: str) -> Any:
    if not isinstance(value, str) or kind is str:
        return value
    try:
        converted = kind(value.strip())
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise UsageError(f"{source} {value!r} is not {noun}") from None
    if isinstance(converted, float) and not math.isfinite(converted):
        raise UsageError(f"{source} {value!r} is not a finite number")
    return converted


def _check_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise UsageError(f"--base-url {url!r} is not a valid URL ({exc})") from None
    if any(c.isspace() for c in url):
        raise UsageError(f"--base-url {url!r} contains whitespace")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url {url!r} is not an http(s) URL like https://api.example.com")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise UsageError(f"--base-url {url!r} has an invalid port") from None
    if parts.username or parts.password:
        raise UsageError("--base-url must not carry credentials; use --api-key")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):  # the spec's paths already start with /v1
        path = path[: -len("/v1")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _check_ca_bundle(path: Path) -> None:
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise UsageError(f"--ca-bundle {path}: not a usable PEM certificate bundle ({reason})"
                         ) from None


def _report_dir(raw: str | None) -> Path:
    if raw:
        path = Path(raw)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = Path("reports") / "out" / stamp  # below the current directory
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--report-dir {path}: not writable ({exc.strerror or exc})") from None
    return path.resolve()
