"""Last defensive redaction pass: no artifact may carry a secret, whatever the harness did."""

from __future__ import annotations

import copy
import re
from typing import Any

REDACTED = "[REDACTED]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"})
# `Authorization: Bearer sk_live_...` inside any string (curl lines, messages). Placeholders such as
# `$VALORA_API_KEY` and filtered values like `[Filtered]` stay; `?+` never gives the scheme back.
_INLINE = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key)(['\"]?\s*:\s*['\"]?(?:bearer\s+|basic\s+)?+)"
    r"([^\s'\"$\[\\][^\s'\"\\]*)"
)
# A cookie header holds several `name=value;` pairs: redact to the end of the value.
_INLINE_COOKIE = re.compile(r"(?i)\b((?:set-)?cookie)(['\"]?\s*:\s*['\"]?)([^\s'\"$\[\\][^'\"\\\r\n]*)")
_MIN_SECRET_LEN = 8  # shorter values (e.g. "Bearer") would scrub ordinary words


def redact_report(report: dict[str, Any]) -> dict[str, Any]:
    """A copy of the report with secret headers replaced and their values scrubbed everywhere."""
    report = copy.deepcopy(report)
    secrets: set[str] = set()
    for failure in report.get("failures") or []:
        for part in ("request", "response"):
            message = failure.get(part)
            if isinstance(message, dict) and message.get("headers"):
                message["headers"] = _redact_headers(message["headers"], secrets)
    return _scrub(report, sorted(secrets, key=len, reverse=True))


def _redact_headers(headers: Any, secrets: set[str]) -> Any:
    if isinstance(headers, dict):
        return {k: _redact_value(k, v, secrets) for k, v in headers.items()}
    if isinstance(headers, list):  # [[name, value], ...] as some clients record them
        return [
            [pair[0], _redact_value(pair[0], pair[1], secrets)]
            if isinstance(pair, list | tuple) and len(pair) == 2
            else pair
            for pair in headers
        ]
    return headers


def _redact_value(name: Any, value: Any, secrets: set[str]) -> Any:
    if str(name).lower() not in SECRET_HEADERS:
        return value
    text = str(value)
    if _is_placeholder(text.split(" ", 1)[-1]):
        return value  # `Bearer $VALORA_API_KEY` is what makes a reproduction runnable
    for candidate in (text, text.split(" ", 1)[-1]):
        if len(candidate) >= _MIN_SECRET_LEN and not candidate.startswith(("$", "[")):
            secrets.add(candidate)
    return REDACTED


def _is_placeholder(credential: str) -> bool:
    return credential.startswith("$") and credential[1:].replace("_", "").isalnum()


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        for pattern in (_INLINE, _INLINE_COOKIE):
            value = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", value)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value
