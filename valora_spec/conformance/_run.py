"""One conformance run: settings, target, clients and the results collected so far."""

from __future__ import annotations

import secrets
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from valora_spec import __version__
from valora_spec._redact import key_secrets, scrub
from valora_spec._versions import at_least, judged_version, major, newest
from valora_spec.conformance._catalogue import Catalogue
from valora_spec.conformance._cleanup import track_created
from valora_spec.conformance._http import (
    Client,
    RateLimiter,
    Reply,
    Scope,
    TargetError,
    Transport,
)
from valora_spec.conformance._recorder import Recorder
from valora_spec.conformance._settings import Settings, UsageError
from valora_spec.conformance._target import EmbeddedReference, discover, key_works
from valora_spec.conformance._validation import ResponseValidator


@dataclass(frozen=True)
class FirstWrite:
    """The run's first write, sent with an Idempotency-Key and replayed at the run's end."""

    key: str
    body: dict[str, Any]
    reply: Reply
    at: float  # time.monotonic() when it was answered


class _Callers:
    """The run's clients, each speaking for `self.scope`."""

    transport: Transport
    settings: Settings
    scope: Scope

    @property
    def api(self) -> Client:
        return Client(self.transport, self.settings.api_key, self.scope)

    @property
    def api_b(self) -> Client | None:
        key = self.settings.api_key_b
        return Client(self.transport, key, self.scope) if key else None

    @property
    def api_ro(self) -> Client | None:
        key = self.settings.read_only_key
        return Client(self.transport, key, self.scope) if key else None

    def anonymous(self, key: str | None = None) -> Client:
        return Client(self.transport, key, self.scope)


@dataclass
class Run(_Callers):
    settings: Settings
    catalogue: Catalogue
    transport: Transport
    recorder: Recorder
    embedded: EmbeddedReference | None
    declared: dict[str, Any] | None = None
    discovery_error: str | None = None
    target_version: str = ""
    prefix: str = field(default_factory=lambda: "vc" + secrets.token_hex(4))
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    scope: Scope = field(default_factory=lambda: Scope("harness"))  # the harness's own requests
    validator: ResponseValidator | None = None
    fatal: str | None = None  # why nothing could be evaluated
    created: list[tuple[str, str]] = field(default_factory=list)  # (kind, id) for clean-up
    observed_passes: set[tuple] = field(default_factory=set)  # one pass per requirement and operation
    summary: list[str] = field(default_factory=list)  # printed at the end of the run
    verdict_line: str = ""  # printed last, after pytest's own counts
    exit_code: int | None = None  # set once the report is written
    cleanup: dict[str, Any] | None = None  # what the end-of-run clean-up removed and left
    usage_visible_at: float = 0.0  # monotonic time by which ingested usage must be visible
    worker_pids: set[int] = field(default_factory=set)  # xdist workers: a stop signal is passed on
    first_write: FirstWrite | None = None  # the key probe, when it created its customer

    @classmethod
    def start(cls, settings: Settings, catalogue: Catalogue) -> Run:
        embedded = None
        keys = {"api_key": settings.api_key, "api_key_b": settings.api_key_b,
                "read_only_key": settings.read_only_key}
        if settings.base_url is None:
            embedded = EmbeddedReference.start(settings.spec_version)
            settings.base_url = embedded.base_url
            keys = embedded.keys
            settings.api_key, settings.api_key_b = keys["api_key"], keys["api_key_b"]
            settings.read_only_key = keys["read_only_key"]
        transport = Transport(
            base_url=settings.base_url, request_timeout=settings.request_timeout,
            deadline_at=settings.started + settings.deadline, rate=RateLimiter(settings.max_rps),
            verify=str(settings.ca_bundle) if settings.ca_bundle else True,
            secrets=key_secrets(keys), read_only=settings.read_only,
        )
        run = cls(settings, catalogue, transport, Recorder(settings.seed), embedded)
        track_created(run)
        try:
            run._discover()
        except UsageError:
            if embedded is not None:
                embedded.stop()
            transport.close()
            raise
        return run

    def seen_by(self, check: str) -> CheckRun:
        """The run as one check sees it: its clients speak for that check."""
        return CheckRun(self, Scope(check))

    # discovery -----------------------------------------------------------
    def _discover(self) -> None:
        self.declared, self.discovery_error = discover(self.api)
        known = self.catalogue.versions
        declared_version = (self.declared or {}).get("spec_version")
        if self.settings.spec_version:
            self.target_version = self.settings.spec_version
        else:
            # as declared when known; an unknown patch: the newest patch of its minor line
            self.target_version = judged_version(declared_version, known)
        evaluated = self.settings.evaluate
        if evaluated and self.target_version not in evaluated:
            self.target_version = newest(evaluated)  # judge what is evaluated
        self.validator = ResponseValidator(self.catalogue, self.target_version)
        self.transport.observers.append(self._observe)
        problem = key_works(self.api)
        if problem and self.discovery_error and "answered" not in self.discovery_error:
            self.fatal = f"target unreachable: {problem}"
        elif problem and (" 401" in problem or " 403" in problem):
            self.fatal = (f"the --api-key for organization A is not accepted ({problem}); "
                          "without working credentials every check would pass vacuously")
        elif problem:
            self.fatal = f"the target cannot be tested: {problem}"
        elif not self.settings.read_only:
            self._check_admin_key()

    def _check_admin_key(self) -> None:
        """A key that may not write would make every write check fail: a key mistake, said as one.
        The probe carries an Idempotency-Key, so the run's end can replay it (VAL-IDEM-001)."""
        body = {"external_id": f"{self.prefix}-key-probe", "name": "Valora conformance key probe",
                "metadata": {"valora_run": self.prefix}}  # marked as the run's, like all it creates
        key = f"{self.prefix}-first-write-{secrets.token_hex(4)}"
        try:
            reply = self.api.post("/v1/customers", body, headers={"Idempotency-Key": key})
        except TargetError:
            return  # the checks will meet the same problem and say it where it matters
        if reply.status == 201:
            self.first_write = FirstWrite(key, body, reply, time.monotonic())
        if reply.status == 403:
            raise UsageError("--api-key is refused for writes (POST /v1/customers answered 403): "
                             "it must be an admin key of organization A")

    @property
    def versions(self) -> list[str]:
        """The versions whose profiles this run evaluates."""
        chosen = self.settings.evaluate or self.catalogue.versions
        return [v for v in self.catalogue.versions
                if major(v) == major(self.target_version) and v in chosen]

    def needed(self, requirements: tuple[str, ...]) -> bool:
        """Whether any evaluated profile demands one of these requirements."""
        return any(self.catalogue.applies(r, v) for r in requirements for v in self.versions)

    # every response passes through here --------------------------------------
    def _observe(self, reply: Reply, scope: Scope) -> None:
        from valora_spec.conformance._observe import observe_reply

        observe_reply(self, reply, scope)

    # the run as data, for the report -------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        finished = datetime.now(UTC)
        duration = (finished - self.started_at).total_seconds()
        recorder = self.recorder
        errors = list(recorder.errors)
        if self.fatal:
            errors.insert(0, self.fatal)
        if self.transport.down:
            errors.append(f"the target stopped answering: {self.transport.down}")
        if time.monotonic() >= self.transport.deadline_at:
            errors.append(f"the run hit its --deadline of {self.settings.deadline:g} s; "
                          "checks not reached are reported as not evaluated")
        outcomes = []
        for outcome in recorder.outcomes:
            outcomes.extend(self._expand(outcome.as_dict()))
        data = {
            "started_at": self.started_at.isoformat(), "finished_at": finished.isoformat(),
            "duration_s": round(duration, 3), "seed": self.settings.seed,
            "budget": self.settings.budget,
            "target": {"base_url": self.settings.base_url, "embedded": self.embedded is not None,
                       "declared": self.declared, "discovery_error": self.discovery_error},
            "target_version": self.target_version, "versions": self.versions,
            "outcomes": outcomes, "failures": [f.as_dict() for f in recorder.failures],
            "errors": errors,
            "config": self.settings.redacted(),
            "stats": {"requests": self.transport.requests_sent,
                      "requests_per_s": round(self.transport.requests_sent / max(duration, 1e-9), 1),
                      "throttled": self.transport.throttled},
            "spec": {"files": self.catalogue.files}, "cleanup": self.cleanup,
            "harness": {"name": "valora-spec", "version": __version__, "git_commit": _git_commit()},
        }
        return scrub(data, self.transport.secrets)  # whatever echoed a key

    def _expand(self, outcome: dict[str, Any]) -> list[dict[str, Any]]:
        """An outcome charged 'from version X on' becomes one outcome per evaluated version."""
        since = outcome.get("version")
        if since is None:
            return [outcome]
        return [outcome | {"version": v} for v in self.versions if at_least(v, since)]


class CheckRun(_Callers):
    """One check's view of the run: the same state, with clients bound to the check's scope."""

    def __init__(self, run: Run, scope: Scope) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "scope", scope)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._run, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._run, name, value)  # state set by a check is the run's (e.g. usage times)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None

