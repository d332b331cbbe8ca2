"""RFC 9457 problem details: the one shape of every 4xx and 5xx answer (VAL-ERR-001..004)."""

from __future__ import annotations

import json

PROBLEM_TYPE_BASE = "https://valora.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

_TITLES = {
    "invalid_request": "Invalid request",
    "invalid_cursor": "Invalid cursor",
    "event_outside_window": "Event outside the backdating window",
    "unauthorized": "Unauthorized",
    "forbidden": "Forbidden",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "already_exists": "Already exists",
    "invalid_state_transition": "Invalid state transition",
    "resource_in_use": "Resource in use",
    "invoice_immutable": "Invoice immutable",
    "idempotency_request_in_progress": "Idempotent request in progress",
    "idempotency_key_reused": "Idempotency key reused",
    "rate_limited": "Too many requests",
    "internal_error": "Internal server error",
}

InvalidParams = list[dict[str, str]]


class ApiError(Exception):
    """An answer other than success; raised anywhere, turned into problem+json at the edge."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        invalid_params: InvalidParams | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.invalid_params = invalid_params
        self.headers = headers or {}

    def body(self) -> bytes:
        problem: dict[str, object] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": _TITLES.get(self.code, self.code.replace("_", " ").capitalize()),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.invalid_params is not None:
            problem["invalid_params"] = self.invalid_params
        return json.dumps(problem, ensure_ascii=False, separators=(",", ":")).encode()


def invalid_request(name: str, reason: str) -> ApiError:
    """400 for one offending field or parameter."""
    return ApiError(
        400,
        "invalid_request",
        f"{name}: {reason}",
        invalid_params=[{"name": name, "reason": reason}],
    )


def invalid_params(params: InvalidParams) -> ApiError:
    """400 listing every offending field or parameter."""
    summary = "; ".join(f"{p['name']}: {p['reason']}" for p in params[:5])
    return ApiError(400, "invalid_request", f"Invalid request: {summary}", invalid_params=params)


def not_found(kind: str, ident: str) -> ApiError:
    # The same words for a nonexistent id and another organization's (VAL-AUTH-003).
    return ApiError(404, "not_found", f"No {kind} with id {ident!r}.")


def conflict(code: str, detail: str) -> ApiError:
    return ApiError(409, code, detail)
