"""Redaction: the one list of sensitive headers and the ways a secret is kept out of what we write.

Two kinds of secret. The harness knows the keys it was given and replaces each by the environment
variable a reproduction names it by (`$VALORA_API_KEY`...): a reproduction runs with the keys
exported, so placeholders are never scrubbed. A report built elsewhere may carry secrets nobody
listed: the values of its sensitive headers are collected and become `[REDACTED]` everywhere.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

REDACTED = "[REDACTED]"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"})
# setting -> the environment variable a reproduction names that key by
PLACEHOLDER_OF = {"api_key": "$VALORA_API_KEY", "api_key_b": "$VALORA_API_KEY_B",
                  "read_only_key": "$VALORA_READ_ONLY_KEY"}
KEY_PLACEHOLDERS = tuple(PLACEHOLDER_OF.values())

# `Authorization: Bearer sk_live_...` inside any string (curl lines, messages). Placeholders such as
# `$VALORA_API_KEY` and filtered values like `[Filtered]` stay; `?+` never gives the scheme back.
_INLINE = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key)(['\"]?\s*:\s*['\"]?(?:bearer\s+|basic\s+)?+)"
    r"([^\s'\"$\[\\][^\s'\"\\]*)"
)
# A cookie header holds several `name=value;` pairs: redact to the end of the value.
_INLINE_COOKIE = re.compile(r"(?i)\b((?:set-)?cookie)(['\"]?\s*:\s*['\"]?)([^\s'\"$\[\\][^'\"\\\r\n]*)")
_MIN_SECRET_LEN = 8  # shorter values (e.g. "Bearer") would scrub ordinary words


def key_secrets(keys: Mapping[str, str | None]) -> dict[str, str]:
    """key -> placeholder for each key given (`keys`: setting name -> key, as in PLACEHOLDER_OF)."""
    return {keys[name]: placeholder for name, placeholder in PLACEHOLDER_OF.items() if keys.get(name)}


def replace_secrets(text: str, secrets: Mapping[str, str]) -> str:
    """`text` with every secret replaced by its placeholder."""
    # longest first: a key that contains another must not leave its tail behind
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, secrets[secret])
    return text


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """A copy of JSON-like `value` (dicts, lists, strings, scalars) with `change` on every string."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, change) for v in value]
    return value


def scrub(value: Any, secrets: Mapping[str, str]) -> Any:
    """`value` with every known secret replaced by its placeholder, however deep."""
    return map_strings(value, lambda text: replace_secrets(text, secrets))


def safe_headers(headers: Mapping[str, str], secrets: Mapping[str, str]) -> dict[str, str]:
    """Headers the harness sends, as recorded: our keys by placeholder, other credentials redacted."""
    safe = {}
    for name, value in headers.items():
        scheme, _, credential = value.partition(" ")
        if name.lower() == "authorization" and credential:  # one of ours: its placeholder
            value = f"{scheme} {secrets.get(credential, REDACTED)}"
        elif name.lower() in SENSITIVE_HEADERS:
            value = REDACTED
        safe[name] = replace_secrets(value, secrets)
    return safe


def redact_report(report: dict[str, Any]) -> dict[str, Any]:
    """A copy of the report with secret headers replaced and their values scrubbed everywhere.

    The last defensive pass: no artifact may carry a secret, whatever the harness did.
    """
    report = copy.deepcopy(report)
    found: set[str] = set()
    for failure in report.get("failures") or []:
        for part in ("request", "response"):
            message = failure.get(part)
            if isinstance(message, dict) and message.get("headers"):
                message["headers"] = _redact_headers(message["headers"], found)
    secrets = dict.fromkeys(found, REDACTED)
    return map_strings(report, lambda text: scrub_inline(replace_secrets(text, secrets)))


def scrub_inline(text: str) -> str:
    """Credentials written out as `Authorization: ...` or `Cookie: ...` inside a string."""
    for pattern in (_INLINE, _INLINE_COOKIE):
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return text


def is_placeholder(credential: str) -> bool:
    """`$NAME`: an environment variable standing for a key, never a key itself."""
    return credential.startswith("$") and credential[1:].replace("_", "").isalnum()


def _redact_headers(headers: Any, found: set[str]) -> Any:
    if isinstance(headers, dict):
        return {k: _redact_value(k, v, found) for k, v in headers.items()}
    if isinstance(headers, list):  # [[name, value], ...] as some clients record them
        return [
            [pair[0], _redact_value(pair[0], pair[1], found)]
            if isinstance(pair, list | tuple) and len(pair) == 2
            else pair
            for pair in headers
        ]
    return headers


def _redact_value(name: Any, value: Any, found: set[str]) -> Any:
    if str(name).lower() not in SENSITIVE_HEADERS:
        return value
    text = str(value)
    if is_placeholder(text.split(" ", 1)[-1]):
        return value  # `Bearer $VALORA_API_KEY` is what makes a reproduction runnable
    for candidate in (text, text.split(" ", 1)[-1]):
        if len(candidate) >= _MIN_SECRET_LEN and not candidate.startswith(("$", "[")):
            found.add(candidate)
    return REDACTED


def redact_test_report(report: Any, redact: Callable[[str], str]) -> None:
    """A pytest report (or warning) with `redact` applied to what pytest prints of it, in place."""
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        report.longrepr = (longrepr[0], longrepr[1], redact(str(longrepr[2])))
    elif longrepr is not None and redact(text := str(longrepr)) != text:
        report.longrepr = redact(text)  # only then: unchanged, it keeps pytest's own formatting
    sections = getattr(report, "sections", None)
    if sections:
        report.sections = [(title, redact(content)) for title, content in sections]
    message = getattr(report, "message", None)  # warnings
    if isinstance(message, str):
        report.message = redact(message)
