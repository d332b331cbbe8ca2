"""Response validation with openapi-core against the exact spec version under test."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import HeadersError, HeaderValidationError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from valora_spec.conformance._catalogue import Catalogue, Operation
from valora_spec.conformance._http import Reply

HOST = "http://target.invalid"  # the spec is validated with servers reduced to this host

# What openapi-core's error (or one it was raised from) says is wrong, by class; anything else
# is the body's data (VAL-HTTP-003).
BROKEN_BY: tuple[tuple[type[BaseException], str], ...] = (
    (ResponseNotFound, "VAL-HTTP-001"),  # an undocumented status
    (MediaTypeNotFound, "VAL-HTTP-002"),  # an undocumented media type
    (HeaderValidationError, "VAL-HTTP-005"),
    (HeadersError, "VAL-HTTP-005"),
)
DATA = "VAL-HTTP-003"


class Problem(NamedTuple):
    requirement: str  # the VAL-HTTP-… requirement the response breaks
    description: str


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)


@dataclass
class _Response:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes


class ResponseValidator:
    """Built once per version (building costs tens of ms), reused for every response."""

    def __init__(self, catalogue: Catalogue, version: str) -> None:
        document = copy.deepcopy(catalogue.documents[version])
        document["servers"] = [{"url": f"{HOST}/v1"}]
        # problem+json is JSON: without saying so, error bodies fail before their headers are read
        config = Config(extra_media_type_deserializers={"application/problem+json": _json})
        self.openapi = OpenAPI.from_dict(document, config=config)
        self.routes = [(_route(op), op) for op in catalogue.operations(version)]
        self._seen: dict[tuple, list[Problem]] = {}

    def match(self, method: str, path: str) -> Operation | None:
        for pattern, op in self.routes:
            if op.method == method.lower() and pattern.fullmatch(path):
                return op
        return None

    def problems(self, reply: Reply) -> list[Problem]:
        """Why the reply does not conform to its operation's documented response ([] if it does)."""
        # Identical answers (every 401 of an operation, say) need validating only once.
        key = (reply.exchange.method, urlsplit(reply.exchange.url).path, reply.status,
               tuple(sorted(k.lower() for k in reply.headers)),
               reply.headers.get("content-type"), reply.content)
        if key not in self._seen:
            if len(self._seen) > 4096:
                self._seen.clear()
            self._seen[key] = self._validate(reply)
        return self._seen[key]

    def _validate(self, reply: Reply) -> list[Problem]:
        url = urlsplit(reply.exchange.url)
        request = _Request(HOST, url.path, reply.exchange.method.lower(),
                           None, "application/json",
                           RequestParameters(query=ImmutableMultiDict(parse_qsl(url.query))))
        response = _Response(reply.status, reply.headers.get("content-type", ""),
                             Headers(list(reply.headers.items())), reply.content)
        try:
            self.openapi.validate_response(request, response)
        except OpenAPIError as exc:
            return [Problem(_broken_by(exc), _describe(exc))]
        except Exception as exc:  # noqa: BLE001 - garbage bodies make validators raise anything
            return [Problem(DATA, f"response could not be validated: {type(exc).__name__}: "
                                  f"{exc}"[:300])]
        return []


def _json(data: bytes | str) -> object:
    return json.loads(data)


def _route(op: Operation) -> re.Pattern[str]:
    pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape("/v1" + op.path))
    return re.compile(pattern)


def _broken_by(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        for kind, requirement in BROKEN_BY:
            if isinstance(cause, kind):
                return requirement
        cause = cause.__cause__
    return DATA


def _describe(exc: BaseException) -> str:
    try:
        return _describe_chain(exc)
    except Exception:  # noqa: BLE001 - formatting a garbage value must not end the run
        return f"{type(exc).__name__} (details could not be formatted)"


def _describe_chain(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {str(exc)[:300]}"]
    cause = exc.__cause__
    while cause is not None:
        errors = getattr(cause, "schema_errors", None)
        if errors:
            parts += [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                      for e in list(errors)[:3]]
            break
        parts.append(str(cause)[:300])
        cause = cause.__cause__
    return "; ".join(p for p in parts if p)[:500]
