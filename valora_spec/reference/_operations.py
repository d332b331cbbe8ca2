"""The operations of one spec version, read from the spec document itself.

Built once per server, with a validator per parameter and body. A 1.0.0 server therefore knows
nothing of 1.1 query parameters, fields or enum values: they fail validation like any other
unknown input (400), and operations that arrived later have no route (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from valora_spec.reference._jsonschema import SchemaSet, pointer

HTTP_METHODS = ("get", "post", "patch", "put", "delete")


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
