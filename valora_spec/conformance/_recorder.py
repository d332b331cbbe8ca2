"""Collects what every check found, requirement by requirement."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from valora_spec.conformance._http import Exchange
from valora_spec.report import Status


class CheckFailed(AssertionError):
    """A requirement failed and the check cannot go on (already recorded)."""


@dataclass(frozen=True)
class Outcome:
    """One check's finding for one requirement."""

    requirement: str
    status: Status
    check: str  # the pytest node id, or "harness"
    reason: str = ""
    version: str | None = None  # charged from this version on; None: every evaluated version

    def as_dict(self) -> dict[str, Any]:
        return {"requirement": self.requirement, "version": self.version,
                "status": self.status.value, "reason": self.reason, "check": self.check}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        return cls(data["requirement"], Status(data["status"]), data["check"],
                   data.get("reason", ""), data.get("version"))


@dataclass
class Failure:
    """A failed requirement with its evidence; the same finding again only counts up."""

    requirement: str
    version: str | None
    operation: str
    check: str
    message: str
    expected: str
    observed: str
    reproduction: str  # a runnable curl (or a chain of them), keys as placeholders
    seed: int
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    occurrences: int = 1

    @property
    def key(self) -> tuple[str, str | None, str, str]:
        return (self.requirement, self.version, self.operation, self.message)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Failure:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


@dataclass
class Recorder:
    seed: int
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # failures reported once per (requirement, version, operation, message), counted otherwise
    _seen: dict[tuple, Failure] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def outcome(self, requirement: str, status: Status, *, check: str, reason: str = "",
                version: str | None = None) -> None:
        with self.lock:
            self.outcomes.append(Outcome(requirement, Status(status), check, reason, version))

    def replace(self, outcomes: list[Outcome], failures: list[Failure], errors: list[str]) -> None:
        """The records of the whole run, folded from its parts (xdist workers)."""
        with self.lock:
            self.outcomes[:], self.failures[:], self.errors[:] = outcomes, failures, errors
            self._seen = {f.key: f for f in failures}

    def failure(self, requirement: str, *, check: str, operation: str, message: str,
                expected: str = "", observed: str = "", exchange: Exchange | None = None,
                version: str | None = None, reproduction: str | None = None) -> None:
        self.outcome(requirement, Status.FAIL, check=check, reason=message, version=version)
        entry = Failure(
            requirement, version, operation, check, message, expected, observed,
            reproduction or (exchange.curl() if exchange else ""), self.seed,
            exchange.as_request() if exchange else None,
            exchange.as_response() if exchange else None)
        with self.lock:
            if entry.key in self._seen:
                self._seen[entry.key].occurrences += 1
                return
            self._seen[entry.key] = entry
            self.failures.append(entry)


@dataclass
class Check:
    """What a conformance test uses to state results: `check.that(...)`, `check.require(...)`."""

    recorder: Recorder
    node: str
    declared: tuple[str, ...]
    last_exchange: Callable[[], Exchange | None] = lambda: None
    touched: set[str] = field(default_factory=set)
    soft_failures: list[str] = field(default_factory=list)

    def that(self, requirement: str, ok: bool, message: str, *, operation: str = "",
             expected: Any = "", observed: Any = "", exchange: Exchange | None = None,
             version: str | None = None) -> bool:
        if requirement not in self.declared:
            raise RuntimeError(f"{self.node} checks {requirement} without declaring it "
                               "in @pytest.mark.requirements")
        self.touched.add(requirement)
        if ok:
            self.recorder.outcome(requirement, Status.PASS, check=self.node, version=version)
        else:
            self.soft_failures.append(f"{requirement} {operation}: {message}")
            self.recorder.failure(requirement, check=self.node, operation=operation,
                                  message=message, expected=str(expected), observed=str(observed),
                                  exchange=exchange or self.last_exchange(), version=version)
        return ok

    def require(self, requirement: str, ok: bool, message: str, **kwargs: Any) -> None:
        """Like `that`, but stops the check: later steps depend on this one."""
        if not self.that(requirement, ok, message, **kwargs):
            raise CheckFailed(f"{requirement}: {message}")

    def skip(self, requirement: str, reason: str) -> None:
        self.touched.add(requirement)
        self.recorder.outcome(requirement, Status.SKIP, check=self.node, reason=reason)
