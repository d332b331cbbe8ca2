"""Rules applied to every response the harness receives, whatever check sent the request.

Each rule is a small function registered with the requirement ids it judges (as schemathesis
registers its checks); it yields a `Finding` per requirement it could judge on this reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from valora_spec.conformance._http import Reply, Scope
from valora_spec.report import Status

if TYPE_CHECKING:
    from valora_spec.conformance._catalogue import Operation
    from valora_spec.conformance._run import Run

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
PROBLEM_FIELDS = ("type", "title", "status", "code")


@dataclass(frozen=True)
class Finding:
    requirement: str
    ok: bool
    message: str = ""
    expected: str = ""
    observed: str = ""
    version: str | None = None  # charged from this version on


@dataclass
class Observed:
    """One reply, with what the rules need to judge it."""

    run: Run
    reply: Reply
    scope: Scope
    op: Operation | None

    @cached_property
    def since(self) -> str | None:
        """The version from which this operation's documented responses are stable."""
        run = self.run
        return run.catalogue.stable_since(self.op.operation_id, run.target_version) if self.op else None


Rule = Callable[[Observed], Iterator[Finding]]
RULES: list[tuple[Rule, tuple[str, ...]]] = []


def rule(*requirements: str) -> Callable[[Rule], Rule]:
    """Register a rule for every reply; it may judge only the requirements it names."""

    def register(function: Rule) -> Rule:
        RULES.append((function, requirements))
        return function

    return register


def observe_reply(run: Run, reply: Reply, scope: Scope) -> None:
    exchange = reply.exchange
    op = run.validator.match(exchange.method, exchange.url.split("?")[0]
                             .removeprefix(run.settings.base_url or "")) if run.validator else None
    observed = Observed(run, reply, scope, op)
    label = op.label if op else f"{exchange.method} {exchange.url}"
    for function, requirements in RULES:
        for finding in function(observed):
            if finding.requirement not in requirements:
                raise RuntimeError(f"rule {function.__name__} judges {finding.requirement} "
                                   "without registering it")
            _record(run, scope, label, reply, finding)


def _record(run: Run, scope: Scope, label: str, reply: Reply, finding: Finding) -> None:
    if finding.ok:
        key = (finding.requirement, label, finding.version)
        if key not in run.observed_passes:  # one pass per requirement and operation is enough
            run.observed_passes.add(key)
            run.recorder.outcome(finding.requirement, Status.PASS, check=scope.check,
                                 version=finding.version)
        return
    run.recorder.failure(finding.requirement, check=scope.check, operation=label,
                         message=finding.message, expected=finding.expected,
                         observed=finding.observed, exchange=reply.exchange,
                         version=finding.version)


# the rules ------------------------------------------------------------------------------------

@rule("VAL-ERR-006")
def no_server_error(seen: Observed) -> Iterator[Finding]:
    if seen.reply.status >= 500:
        yield Finding("VAL-ERR-006", False, f"server error {seen.reply.status}",
                      expected="no 5xx", observed=str(seen.reply.status))


@rule("VAL-ERR-001", "VAL-ERR-002", "VAL-ERR-003")
def errors_are_problems(seen: Observed) -> Iterator[Finding]:
    reply = seen.reply
    if reply.status < 400:
        return
    if reply.content_type != "application/problem+json":
        yield Finding("VAL-ERR-001", False, f"{reply.status} error is not application/problem+json",
                      expected="application/problem+json", observed=reply.content_type or "(none)")
        return
    body = _json_or_exception(reply)
    if isinstance(body, Exception):  # a garbage body is a finding, not a crash
        yield Finding("VAL-ERR-001", False, str(body)[:200], expected="a JSON problem object",
                      observed="not JSON")
        return
    if not isinstance(body, dict):
        yield Finding("VAL-ERR-001", False, "problem body is not an object", expected="object",
                      observed=type(body).__name__)
        return
    missing = [f for f in PROBLEM_FIELDS if f not in body]
    yield Finding("VAL-ERR-001", not missing, f"problem lacks {', '.join(missing)}",
                  expected=", ".join(PROBLEM_FIELDS), observed=", ".join(sorted(body)))
    if "status" in body:
        yield Finding("VAL-ERR-002", body["status"] == reply.status,
                      f"problem status {body['status']!r} differs from HTTP {reply.status}",
                      expected=str(reply.status), observed=repr(body["status"]))
    if "code" in body:
        code = body["code"]
        yield Finding("VAL-ERR-003", isinstance(code, str) and bool(SNAKE.match(code)),
                      f"problem code {code!r} is not snake_case", expected="snake_case code",
                      observed=repr(code))


@rule("VAL-RATE-001")
def throttling_says_when(seen: Observed) -> Iterator[Finding]:
    if seen.reply.status == 429:
        retry_after = seen.reply.headers.get("retry-after", "")
        yield Finding("VAL-RATE-001", retry_after.strip().isdigit(),
                      "429 without a Retry-After header in seconds",
                      expected="Retry-After: <seconds>", observed=retry_after or "(absent)")


SCHEMA_REQUIREMENTS = ("VAL-HTTP-001", "VAL-HTTP-002", "VAL-HTTP-003", "VAL-HTTP-005")


@rule(*SCHEMA_REQUIREMENTS)
def responses_as_documented(seen: Observed) -> Iterator[Finding]:
    run = seen.run
    if seen.op is None or run.validator is None or seen.scope.schema_checked:
        return  # fuzzed responses are validated by schemathesis' own (faster) checks
    problems = run.validator.problems(seen.reply)
    broken, description = problems[0] if problems else (None, "")
    for requirement in SCHEMA_REQUIREMENTS:
        if seen.reply.status >= 400 and requirement in ("VAL-HTTP-002", "VAL-HTTP-003"):
            continue  # error bodies are judged by VAL-ERR-001
        yield Finding(requirement, requirement != broken,
                      f"response does not match {run.target_version} spec: {description}",
                      expected="as documented", observed=description, version=seen.since)


def _json_or_exception(reply: Reply) -> Any:
    try:
        return reply.json()
    except Exception as exc:  # noqa: BLE001 - returned: the rule reports it
        return exc
