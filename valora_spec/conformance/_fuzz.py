"""Schema fuzzing with schemathesis: generated requests, built-in response checks, requirement ids.

Schemathesis' internals are wrapped here and nowhere else.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import failures
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CoverageScenario
from schemathesis.openapi import checks as openapi_checks
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from valora_spec.conformance._catalogue import Operation
from valora_spec.conformance._http import SAFE_METHODS

if TYPE_CHECKING:
    from valora_spec.conformance._run import Run

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# the last two judge only boundary cases: a missing required header, an undefined method
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection, missing_required_header, unsupported_method]

# schemathesis failure class -> requirement (error responses are judged by VAL-ERR-001). Looked
# up by class along the MRO: a failure kind this table does not know is a harness error, never
# silently charged to some requirement.
FAILURES: dict[type, str] = {
    failures.ServerError: "VAL-ERR-006", failures.ContentTypeServerError: "VAL-ERR-006",
    openapi_checks.UndefinedStatusCode: "VAL-HTTP-001",
    openapi_checks.UndefinedContentType: "VAL-HTTP-002", openapi_checks.MissingContentType: "VAL-HTTP-002",
    openapi_checks.MalformedMediaType: "VAL-HTTP-002",
    openapi_checks.JsonSchemaError: "VAL-HTTP-003", failures.MalformedJson: "VAL-HTTP-003",
    openapi_checks.ContentDeserializationError: "VAL-HTTP-003",
    openapi_checks.DiscriminatorMismatch: "VAL-HTTP-003",
    openapi_checks.MissingHeaders: "VAL-HTTP-005",
    failures.AcceptedNegativeData: "VAL-ERR-004", openapi_checks.MissingHeaderNotRejected: "VAL-ERR-004",
    openapi_checks.UnsupportedMethodResponse: "VAL-HTTP-006",
}


class UnmappedFailure(RuntimeError):
    """schemathesis reported a kind of failure no requirement is mapped to: a harness error."""


def requirement_of(failure: BaseException) -> str:
    for kind in type(failure).__mro__:
        if kind in FAILURES:
            return FAILURES[kind]
    raise UnmappedFailure(f"schemathesis reported {type(failure).__name__}, which no requirement "
                          f"is mapped to: {_first_line(failure)}")
# Valid-looking requests may still be refused for reasons no schema states: an id that does
# not exist (404), a natural key or state conflict (409), an idempotency key reused by an
# earlier example (422), or a rule across fields (400) on the operations that have one.
SEMANTIC_400 = {"createMeter", "createPrice", "ingestEvent", "ingestEventBatch",
                "queryMeterUsage", "createSubscription", "generateInvoice", "cancelSubscription"}


@dataclass
class Finding:
    requirement: str
    message: str


# Formats the spec asserts. Others (`email`) are annotations: the spec validates such a field by
# its `pattern` alone, so a value that breaks only the format is valid: it must not be sent as
# invalid data expecting a 400, and may be sent as valid data. `uri-reference` is only on
# responses (Problem.type).
ASSERTED_FORMATS = frozenset({"date-time", "uri-reference"})


def without_annotation_formats(value: Any) -> Any:
    """The document with every `format` the spec does not assert removed (in place)."""
    if isinstance(value, dict):
        if isinstance(value.get("format"), str) and value["format"] not in ASSERTED_FORMATS:
            del value["format"]
        for item in value.values():
            without_annotation_formats(item)
    elif isinstance(value, list):
        for item in value:
            without_annotation_formats(item)
    return value


def load_schema(run: Run) -> Any:
    document = without_annotation_formats(copy.deepcopy(run.catalogue.documents[run.target_version]))
    # an explicit config, so a stray schemathesis.toml cannot change what runs
    config = schemathesis.Config()
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.config.update(base_url=run.settings.base_url + "/v1")
    # credentials are the harness's to send (and the security checks' to withhold)
    schema.config.generation.update(with_security_parameters=False)
    return schema


def strategy(schema: Any, op: Operation, mode: GenerationMode, ids: dict[str, str] | None) -> Any:
    operation = schema[op.path][op.method.upper()]
    params = {k: v for k, v in (ids or {}).items() if "{" + k + "}" in op.path}
    return operation.as_strategy(generation_mode=mode, path_parameters=params or None)


def boundary_cases(schema: Any, op: Operation, mode: GenerationMode,
                   ids: dict[str, str] | None, *, read_only: bool = False,
                   unique: Callable[[str], str] | None = None) -> list[Any]:
    """Schemathesis' coverage phase: requests at and just across every limit the schema states
    (lengths, bounds, enums, formats, required fields, undefined methods). They are derived, not
    drawn, so they are the same every run and cost well under a millisecond each to make.
    `read_only` leaves out the undefined methods that could write (PUT, DELETE, ...); `unique`
    makes each case differ from a valid request in its one mutated place only (see `_one_change`)."""
    operation = schema[op.path][op.method.upper()]
    config = schema.config.generation_for(operation=operation, phase="coverage")
    cases = [case for case in schema.iter_coverage_cases(operation, generation_modes=[mode],
                                                         generation_config=config)
             if not read_only or case.method.upper() in SAFE_METHODS]
    for case in cases:
        mutated = case.meta.phase.data.parameter_location if case.meta else None
        if ids and case.path_parameters and mutated != ParameterLocation.PATH:
            # example ids in the spec name nothing on the target; real ones reach the resource
            case.path_parameters = {name: ids.get(name, value)
                                    for name, value in case.path_parameters.items()}
        if unique is not None:
            _one_change(case, unique)
    return cases


# Client-chosen values that must be unique (natural keys, VAL-NK-001) and how each is cased.
NATURAL_KEYS = {"external_id": str, "key": str.lower, "code": str.upper}
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def mutated_field(case: Any) -> str | None:
    """The body property ("name: String larger than maxLength") or query parameter a coverage
    case makes invalid."""
    data = case.meta.phase.data if case.meta else None
    location = getattr(data, "parameter_location", None)
    if location == ParameterLocation.QUERY:
        name = str(getattr(data, "parameter", "") or "")
        return name if FIELD_NAME.match(name) else None
    if location != ParameterLocation.BODY:
        return None
    field, colon, _ = str(getattr(data, "description", "")).partition(":")
    field = field.split("->")[0].strip()  # "metadata -> Object with ...": the top-level property
    return field if colon and FIELD_NAME.match(field) else None


def _one_change(case: Any, unique: Callable[[str], str]) -> None:
    """A valid, fresh Idempotency-Key and fresh natural keys, unless the case is about them.

    Otherwise every POST case would carry the same (empty) key, and reuse the spec example's
    natural keys: a server that checks the header first, or meets a 409 from an earlier case,
    would refuse every case for that reason and the body's own limits would go untested.
    """
    data = case.meta.phase.data if case.meta else None
    location = getattr(data, "parameter_location", None)
    about = str(getattr(data, "parameter", "") or "")
    headers = case.headers if isinstance(case.headers, MutableMapping) else None
    if headers is not None and case.method.upper() == "POST" and not (
            location == ParameterLocation.HEADER and about.lower() == "idempotency-key"):
        for name in [n for n in headers if n.lower() == "idempotency-key"] or ["Idempotency-Key"]:
            headers[name] = unique("idem")
    body, mutated = case.body, mutated_field(case)
    if case.method.upper() == "POST" and isinstance(body, dict):
        for field, cased in NATURAL_KEYS.items():
            if field != mutated and isinstance(body.get(field), str):
                body[field] = cased(unique(field))


def probes_undefined_method(case: Any) -> bool:
    data = case.meta.phase.data if case.meta else None
    return getattr(data, "scenario", None) == CoverageScenario.UNSPECIFIED_HTTP_METHOD


def request_of(case: Any, base_url: str) -> dict[str, Any] | None:
    """The case as arguments for our transport; None when it cannot be sent over HTTP."""
    kwargs = case.as_transport_kwargs(base_url=base_url + "/v1")
    url = httpx.URL(kwargs["url"])
    path = url.raw_path.decode("ascii", "replace").split("?")[0]
    body = kwargs.get("json")
    content = None
    if body is None and kwargs.get("data") is not None:
        data = kwargs["data"]
        content = data if isinstance(data, bytes) else str(data).encode()
    headers = {k: str(v) for k, v in (kwargs.get("headers") or {}).items()
               if k.lower() not in ("authorization", "user-agent")}
    try:  # a generated header may not be encodable at all; such a request cannot be sent
        httpx.Headers(headers).raw  # noqa: B018
    except (UnicodeEncodeError, ValueError):
        return None
    return {"method": kwargs["method"], "path": path, "params": kwargs.get("params"),
            "json_body": body, "content": content, "headers": headers}


def as_response(reply: Any) -> schemathesis.Response:
    """Our transport's reply in the shape schemathesis' checks read."""
    exchange = reply.exchange
    # filled in directly: `Request.prepare()` re-parses and re-encodes what was already sent
    request = requests.PreparedRequest()
    request.method, request.url = exchange.method, exchange.url
    request.headers = CaseInsensitiveDict(exchange.request_headers)
    request.body = (exchange.request_body or "").encode() or None
    headers: dict[str, list[str]] = {}
    for name, value in reply.headers.multi_items():
        headers.setdefault(name.lower(), []).append(value)
    return schemathesis.Response(reply.status, headers, reply.content, request,
                                 elapsed=reply.elapsed, verify=True)


def findings(case: Any, reply: Any, mode: GenerationMode | None, op: Operation | None
             ) -> list[Finding]:
    """What schemathesis' checks (and our positive-data rule) find wrong with one reply."""
    response = as_response(reply)
    found = []
    checks = NEGATIVE_CHECKS if mode == GenerationMode.NEGATIVE else CHECKS
    try:
        case.validate_response(response, checks=checks)
    except BaseExceptionGroup as group:  # schemathesis' FailureGroup
        for failure in group.exceptions:
            requirement = requirement_of(failure)
            if reply.status >= 400 and requirement in ("VAL-HTTP-002", "VAL-HTTP-003"):
                requirement = "VAL-ERR-001"
            title = getattr(failure, "title", type(failure).__name__)
            found.append(Finding(requirement, f"{title}: {_first_line(failure)}"))
    except Exception as exc:  # noqa: BLE001 - a garbage response must not end the run
        found.append(Finding("VAL-HTTP-003", f"response could not be checked: {exc}"[:300]))
    if mode == GenerationMode.NEGATIVE and reply.status == 400 and (field := mutated_field(case)):
        code, names = _invalid_params(reply)
        if not names and code == "invalid_request":  # a schema rejection that names no field
            found.append(Finding("VAL-ERR-004", f"the request's invalid `{field}` was rejected "
                                 "with 400 invalid_request, but invalid_params lists nothing"))
        elif names and _in_body(case) and not any(_names_field(n, field) for n in names):
            # a body case's other parts are valid; a query case's path may not be (--read-only
            # has no resources to name), so only a body case is held to naming its one field
            found.append(Finding("VAL-ERR-004", f"the request's only invalid part is `{field}`, but the "
                                 f"400 lists only {sorted(names)[:5]} in invalid_params"))
    if mode == GenerationMode.POSITIVE and op is not None and not 200 <= reply.status < 300:
        allowed = {401, 403, 404, 409, 429} | ({422} if op.method == "post" else set())
        if op.operation_id in SEMANTIC_400 or op.method == "get":
            allowed.add(400)  # list cursors and cross-field rules
        if reply.status not in allowed:
            found.append(Finding("VAL-HTTP-004",
                                 f"a request valid by the schema was refused with {reply.status}"))
    return found


def _in_body(case: Any) -> bool:
    data = case.meta.phase.data if case.meta else None
    return getattr(data, "parameter_location", None) == ParameterLocation.BODY


def _invalid_params(reply: Any) -> tuple[Any, list[str]]:
    """A problem's `code` and the names its invalid_params list."""
    try:
        problem = json.loads(reply.content)
        code, params = problem.get("code"), problem.get("invalid_params")
    except (ValueError, AttributeError, RecursionError):
        return None, []
    if not isinstance(params, list):
        return code, []
    return code, [str(p["name"]) for p in params
                  if isinstance(p, dict) and isinstance(p.get("name"), str)]


def _names_field(name: str, field: str) -> bool:
    """Whether an invalid_params name refers to the field (body property or query parameter), in any notation
    ("field", "/field", "body.field", "items[0].field", "#/field"), or to the body as a whole."""
    segments = [part for part in re.split(r"[/.\[\]#$]+", name) if part]
    return not segments or segments == ["body"] or field in segments


def _first_line(failure: BaseException) -> str:
    message = getattr(failure, "message", "") or str(failure)
    return " ".join(message.split())[:300]
