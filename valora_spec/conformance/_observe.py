"""Checks applied to every response the harness receives, whatever check sent the request."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from valora_spec.conformance._http import Reply, Scope
from valora_spec.report import Status

if TYPE_CHECKING:
    from valora_spec.conformance._run import Run

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
PROBLEM_FIELDS = ("type", "title", "status", "code")


def observe_reply(run: Run, reply: Reply, scope: Scope) -> None:
    check = scope.check
    recorder = run.recorder
    op = run.validator.match(reply.exchange.method, reply.exchange.url.split("?")[0]
                             .removeprefix(run.settings.base_url or "")) if run.validator else None
    label = op.label if op else f"{reply.exchange.method} {reply.exchange.url}"
    since = run.catalogue.stable_since(op.operation_id, run.target_version) if op else None
    seen = run.observed_passes

    def result(requirement: str, ok: bool, message: str, *, expected: str = "",
               observed: str = "", version: str | None = None) -> None:
        if ok:
            key = (requirement, label, version)
            if key not in seen:  # one pass per requirement and operation is enough
                seen.add(key)
                recorder.outcome(requirement, Status.PASS, check=check, version=version)
        else:
            recorder.failure(requirement, check=check, operation=label, message=message,
                             expected=expected, observed=observed, exchange=reply.exchange,
                             version=version)

    if reply.status >= 500:
        result("VAL-ERR-006", False, f"server error {reply.status}", expected="no 5xx",
               observed=str(reply.status))
    if reply.status >= 400:
        _check_problem(reply, result)
    if reply.status == 429:
        retry_after = reply.headers.get("retry-after", "")
        result("VAL-RATE-001", retry_after.strip().isdigit(),
               "429 without a Retry-After header in seconds", expected="Retry-After: <seconds>",
               observed=retry_after or "(absent)")
    if op is None or run.validator is None or scope.schema_checked:
        return  # fuzzed responses are validated by schemathesis' own (faster) checks
    problems = run.validator.problems(reply)
    requirement = _classify(problems[0], reply.status) if problems else None
    for req in ("VAL-HTTP-001", "VAL-HTTP-002", "VAL-HTTP-003", "VAL-HTTP-005"):
        if reply.status >= 400 and req in ("VAL-HTTP-002", "VAL-HTTP-003"):
            continue  # error bodies are judged by VAL-ERR-001
        result(req, req != requirement,
               f"response does not match {run.target_version} spec: {problems[0] if problems else ''}",
               expected="as documented", observed=(problems[0] if problems else ""), version=since)


def _check_problem(reply: Reply, result: Any) -> None:
    if reply.content_type != "application/problem+json":
        result("VAL-ERR-001", False, f"{reply.status} error is not application/problem+json",
               expected="application/problem+json", observed=reply.content_type or "(none)")
        return
    try:
        body = reply.json()
    except Exception as exc:  # noqa: BLE001 - a garbage body is a finding, not a crash
        result("VAL-ERR-001", False, str(exc)[:200], expected="a JSON problem object",
               observed="not JSON")
        return
    if not isinstance(body, dict):
        result("VAL-ERR-001", False, "problem body is not an object", expected="object",
               observed=type(body).__name__)
        return
    missing = [f for f in PROBLEM_FIELDS if f not in body]
    result("VAL-ERR-001", not missing, f"problem lacks {', '.join(missing)}",
           expected=", ".join(PROBLEM_FIELDS), observed=", ".join(sorted(body)))
    if "status" in body:
        result("VAL-ERR-002", body["status"] == reply.status,
               f"problem status {body['status']!r} differs from HTTP {reply.status}",
               expected=str(reply.status), observed=repr(body["status"]))
    if "code" in body:
        code = body["code"]
        result("VAL-ERR-003", isinstance(code, str) and bool(SNAKE.match(code)),
               f"problem code {code!r} is not snake_case", expected="snake_case code",
               observed=repr(code))


def _classify(problem: str, status: int) -> str:
    lowered = problem.lower()
    if "responsenotfound" in lowered or "unknown response http status" in lowered:
        return "VAL-HTTP-001"
    if "media" in lowered and ("not found" in lowered or "content" in lowered):
        return "VAL-HTTP-002"
    if "header" in lowered:
        return "VAL-HTTP-005"
    return "VAL-HTTP-003"
