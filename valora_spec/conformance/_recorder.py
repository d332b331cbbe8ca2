"""Collects what every check found, requirement by requirement."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from valora_spec.conformance._http import Exchange


class CheckFailed(AssertionError):
    """A requirement failed and the check cannot go on (already recorded)."""


@dataclass
class Recorder:
    seed: int
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # failures reported once per (requirement, version, operation, message), counted otherwise
    _seen: dict[tuple, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def outcome(self, requirement: str, status: str, *, check: str, reason: str = "",
                version: str | None = None) -> None:
        with self.lock:
            self.outcomes.append({"requirement": requirement, "version": version,
                                  "status": status, "reason": reason, "check": check})

    def merge(self, outcomes: list[dict[str, Any]], failures: list[dict[str, Any]]) -> None:
        """Another process's records (an xdist worker's), failures deduplicated as here."""
        with self.lock:
            self.outcomes.extend(outcomes)
            for entry in failures:
                key = (entry["requirement"], entry["version"], entry["operation"], entry["message"])
                if key in self._seen:
                    self._seen[key]["occurrences"] += entry["occurrences"]
                else:
                    self._seen[key] = entry
                    self.failures.append(entry)

    def failure(self, requirement: str, *, check: str, operation: str, message: str,
                expected: str = "", observed: str = "", exchange: Exchange | None = None,
                version: str | None = None, reproduction: str | None = None) -> None:
        self.outcome(requirement, "fail", check=check, reason=message, version=version)
        key = (requirement, version, operation, message)
        with self.lock:
            if key in self._seen:
                self._seen[key]["occurrences"] += 1
                return
            entry = {
                "requirement": requirement, "version": version, "operation": operation,
                "check": check, "message": message, "expected": expected, "observed": observed,
                "reproduction": reproduction or (exchange.curl() if exchange else ""),
                "seed": self.seed,
                "request": exchange.as_request() if exchange else None,
                "response": exchange.as_response() if exchange else None,
                "occurrences": 1,
            }
            self._seen[key] = entry
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
            self.recorder.outcome(requirement, "pass", check=self.node, version=version)
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
        self.recorder.outcome(requirement, "skip", check=self.node, reason=reason)
