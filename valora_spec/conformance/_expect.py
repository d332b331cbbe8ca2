"""Small assertions shared by the semantic checks."""

from __future__ import annotations

from typing import Any

from valora_spec.conformance._factory import instant
from valora_spec.conformance._http import Reply
from valora_spec.conformance._recorder import Check


def status(check: Check, requirement: str, reply: Reply, expected: int | tuple[int, ...],
           operation: str, why: str = "", *, stop: bool = False,
           version: str | None = None) -> bool:
    """`version`: the release that brought what is probed, when later than the requirement."""
    allowed = expected if isinstance(expected, tuple) else (expected,)
    ok = reply.status in allowed
    message = f"answered {reply.status}, expected {' or '.join(map(str, allowed))}"
    if why:
        message = f"{why}: {message}"
    if stop:
        check.require(requirement, ok, message, operation=operation, expected=expected,
                      observed=reply.status, exchange=reply.exchange, version=version)
    return check.that(requirement, ok, message, operation=operation, expected=expected,
                      observed=reply.status, exchange=reply.exchange, version=version)


def problem_code(check: Check, requirement: str, reply: Reply, code: str, operation: str) -> bool:
    body = json_or_none(reply)
    observed = body.get("code") if isinstance(body, dict) else None
    return check.that(requirement, observed == code, f"problem code {observed!r}, expected {code!r}",
                      operation=operation, expected=code, observed=observed,
                      exchange=reply.exchange)


def json_object(check: Check, requirement: str, reply: Reply, operation: str) -> dict[str, Any]:
    body = json_or_none(reply)
    check.require(requirement, isinstance(body, dict), "the body is not a JSON object",
                  operation=operation, expected="object", observed=type(body).__name__,
                  exchange=reply.exchange)
    return body


def json_or_none(reply: Reply) -> Any:
    try:
        return reply.json()
    except Exception:  # noqa: BLE001 - the caller reports what it expected instead
        return None


def same_json(a: Any, b: Any) -> bool:
    """Equal JSON values, where two RFC 3339 date-times are equal when they name one instant
    (`…:05Z` and `…:05.000+00:00` are the same value written twice)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if a == b and type(a) is type(b):
        return True
    if isinstance(a, str) and isinstance(b, str):
        moment = instant(a)
        return moment is not None and moment == instant(b)
    return a == b and not isinstance(a, bool) and not isinstance(b, bool)
