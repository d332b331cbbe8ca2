"""Validation of one request's parts against its operation: 400 `invalid_request` naming each
offending parameter or field (VAL-ERR-004), before anything is read or written.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from valora_spec.reference._jsonschema import errors_to_params
from valora_spec.reference._operations import Operation
from valora_spec.reference._problems import invalid_params, invalid_request

MAX_BODY_BYTES = 1024 * 1024
_INTEGER_TEXT = re.compile(r"-?[0-9]{1,30}\Z")


def validate_path_params(operation: Operation, values: dict[str, str]) -> None:
    problems = []
    for name, value in values.items():
        problems += errors_to_params(operation.path_params[name].iter_errors(value), name)
    if problems:
        raise invalid_params(problems)


def validate_query(operation: Operation, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Typed query parameters; unknown, repeated or invalid ones are 400 (VAL-ERR-004)."""
    problems: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    for name, text in pairs:
        param = operation.query_params.get(name)
        if param is None:
            problems.append({"name": name, "reason": "unknown query parameter"})
        elif name in values:
            problems.append({"name": name, "reason": "must be given once"})
        else:
            values[name] = _read_query_value(param.kind, text)
    for name, param in operation.query_params.items():
        if name in values:
            problems += errors_to_params(param.validator.iter_errors(values[name]), name)
        elif param.required:
            problems.append({"name": name, "reason": "is required"})
    if problems:
        raise invalid_params(_unique(problems))
    return values


def _read_query_value(kind: str, text: str) -> Any:
    # Text that does not read as the declared type stays a string and fails validation.
    if kind == "integer" and _INTEGER_TEXT.match(text):
        return int(text)
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def validate_headers(operation: Operation, headers: dict[str, str]) -> None:
    problems = []
    for name, validator in operation.header_params.items():
        if name in headers:
            display = "Idempotency-Key" if name == "idempotency-key" else name
            problems += errors_to_params(validator.iter_errors(headers[name]), display)
    if problems:
        raise invalid_params(problems)


def parse_body(operation: Operation, raw: bytes, content_type: str | None) -> Any:
    """The validated JSON body, or None for an operation without one."""
    spec = operation.body
    if spec is None:
        return None
    if not raw.strip():
        if spec.required:
            raise invalid_request("body", "a JSON request body is required")
        return {}
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise invalid_request("Content-Type", "must be application/json")
    document = parse_json(raw)
    validator = spec.validator
    if spec.discriminator and isinstance(document, dict):
        variant = document.get(spec.discriminator)
        if isinstance(variant, str) and variant in spec.variants:
            validator = spec.variants[variant]
        else:
            allowed = ", ".join(spec.variants)
            reason = "is required" if variant is None else f"must be one of: {allowed}"
            raise invalid_request(spec.discriminator, reason)
    try:
        problems = errors_to_params(validator.iter_errors(document))
    except RecursionError:
        raise invalid_request("body", "is nested too deeply") from None
    if problems:
        raise invalid_params(problems)
    return document


def parse_json(raw: bytes) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        raise invalid_request("body", f"must be at most {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError:
        raise invalid_request("body", "is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid_request("body", f"is not valid JSON ({error.__class__.__name__})") from None
    if _has_lone_surrogate(document):
        raise invalid_request("body", "holds a string that is not valid Unicode")
    return document


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON.
    raise ValueError(f"{name} is not a JSON number")


def _has_lone_surrogate(document: Any) -> bool:
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _unique(problems: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for problem in problems:
        seen.setdefault(problem["name"], problem)
    return list(seen.values())


def reject_if(condition: bool, name: str, reason: str) -> None:
    """A semantic check beyond the schema (VAL-ERR-004)."""
    if condition:
        raise invalid_request(name, reason)

