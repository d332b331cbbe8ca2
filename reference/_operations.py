"""Operations of one spec version, and the validation of their parameters and bodies.

Everything here is built once per server from the spec document itself, so a 1.0.0 server
knows nothing of 1.1 query parameters, fields or enum values: they fail validation like any
other unknown input (400), and operations that arrived later have no route (404).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reference._jsonschema import SchemaSet, errors_to_params, pointer
from reference._problems import ApiError, invalid_params, invalid_request

HTTP_METHODS = ("get", "post", "patch", "put", "delete")
MAX_BODY_BYTES = 1024 * 1024
_INTEGER_TEXT = re.compile(r"-?[0-9]{1,30}\Z")


@dataclass
class QueryParam:
    name: str
    required: bool
    kind: str  # "integer", "boolean" or "string": how the query text is read
    validator: Any


@dataclass
class BodySpec:
    required: bool
    validator: Any
    # OpenAPI discriminator: property name and value -> validator of the matching schema.
    discriminator: str | None = None
    variants: dict[str, Any] = field(default_factory=dict)


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str  # template without the /v1 base, e.g. /customers/{customer_id}
    path_params: dict[str, Any]
    query_params: dict[str, QueryParam]
    header_params: dict[str, Any]
    body: BodySpec | None

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PATCH", "PUT", "DELETE")


def load_operations(schemas: SchemaSet) -> dict[tuple[str, str], Operation]:
    """(METHOD, path template) -> operation, for every operation of the document."""
    operations: dict[tuple[str, str], Operation] = {}
    for path, item in schemas.document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                operation = _load_operation(schemas, path, method, item[method])
                operations[(operation.method, path)] = operation
    return operations


def _load_operation(schemas: SchemaSet, path: str, method: str, raw: dict[str, Any]) -> Operation:
    path_params: dict[str, Any] = {}
    query_params: dict[str, QueryParam] = {}
    header_params: dict[str, Any] = {}
    for index, entry in enumerate(raw.get("parameters", [])):
        if "$ref" in entry:
            ref = entry["$ref"]
            param = schemas.at(ref)
        else:
            ref = pointer("paths", path, method, "parameters", index)
            param = entry
        validator = schemas.validator(ref + "/schema")
        if param["in"] == "path":
            path_params[param["name"]] = validator
        elif param["in"] == "query":
            kind = schemas.resolve(param["schema"]).get("type", "string")
            query_params[param["name"]] = QueryParam(
                param["name"], bool(param.get("required")), kind, validator
            )
        elif param["in"] == "header":
            header_params[param["name"].lower()] = validator
    return Operation(
        operation_id=raw["operationId"],
        method=method.upper(),
        path=path,
        path_params=path_params,
        query_params=query_params,
        header_params=header_params,
        body=_load_body(schemas, path, method, raw),
    )


def _load_body(schemas: SchemaSet, path: str, method: str, raw: dict[str, Any]) -> BodySpec | None:
    request_body = raw.get("requestBody")
    if request_body is None:
        return None
    ref = pointer("paths", path, method, "requestBody", "content", "application/json", "schema")
    body = BodySpec(bool(request_body.get("required")), schemas.validator(ref))
    resolved = schemas.resolve(schemas.at(ref))
    discriminator = resolved.get("discriminator")
    if discriminator:
        body.discriminator = discriminator["propertyName"]
        body.variants = {
            value: schemas.validator(target) for value, target in discriminator["mapping"].items()
        }
    return body


# --- request parts --------------------------------------------------------------------------


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


__all__ = [
    "ApiError",
    "Operation",
    "load_operations",
    "parse_body",
    "validate_headers",
    "validate_path_params",
    "validate_query",
]
