"""Spec-legal variations: the reference making one choice the spec leaves open differently.

The counterpart of faults/. Each variation is the reference behind one small ASGI middleware
(faults.Middleware, so the same buffering and the same `serve` machinery), or the reference built
with other options, that answers as a conforming server nobody on this team wrote might: other
timestamp precisions, ids of another shape, another key order, a charset parameter, extra
fields and headers, its own problem wording, other `invalid_params` names, another validation
order, a declared usage delay, normalised decimals, invoices computed at another moment.

The harness must pass every one of them with no failure and no error (tests/harness/
test_variations.py): a check that fails one expects something the spec text and the requirement do
not state. Each entry names the spec text that makes its choice legal (`legal_because`).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from faults import ADMIN_KEY, ORG_OF, PROBLEM, App, Middleware, Request, Response, problem, resources
from harness_suite import KEY_TRIPLES
from versions import TARGET

from valora_spec import reference

JSON_TYPES = ("application/json", PROBLEM)
TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$")
# client-owned maps, stored verbatim: a legal server never rewrites what is inside them
VERBATIM = frozenset({"metadata"})


def _media_type(response: Response) -> str:
    return (response.header("content-type") or "").split(";")[0].strip().lower()


def _walk_strings(value: Any, change: Callable[[str | None, str], str], key: str | None = None
                  ) -> Any:
    """`value` with every string `s` under key `k` replaced by change(k, s), metadata untouched."""
    if isinstance(value, dict):
        return {k: (v if k in VERBATIM else _walk_strings(v, change, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk_strings(v, change, key) for v in value]
    if isinstance(value, str):
        return change(key, value)
    return value


class JsonRewrite(Middleware):
    """Rewrites every JSON (and problem+json) response body with `rewrite`."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if _media_type(response) in JSON_TYPES and response.body:
            body = response.json()
            if body is not None:
                response.body = self.dump(self.rewrite(request, response, body))
        return response

    def rewrite(self, request: Request, response: Response, body: Any) -> Any:
        return body

    def dump(self, body: Any) -> bytes:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# --- time --------------------------------------------------------------------------------------


class WholeSecondTimes(JsonRewrite):
    """Every timestamp is written in whole seconds (`…:05Z`, never `…:05.123456Z`)."""

    def rewrite(self, request: Request, response: Response, body: Any) -> Any:
        def whole(_key: str | None, text: str) -> str:
            found = TIME.match(text)
            return f"{found[1]}Z" if found else text

        return _walk_strings(body, whole)


class VariableFractionDigits(JsonRewrite):
    """Timestamps carry 0 to 12 fraction digits, chosen per field and value (no precision lost).

    The same instant may be written differently in two fields (`cancel_at` and
    `current_period_end`, say); each field always writes one value the same way.
    """

    def rewrite(self, request: Request, response: Response, body: Any) -> Any:
        def vary(key: str | None, text: str) -> str:
            found = TIME.match(text)
            if not found:
                return text
            digits = (found[2] or "").rstrip("0")
            choice = zlib.crc32(f"{key}|{text}".encode()) % 4
            width = (len(digits), 6, 9, 12)[choice]
            fraction = digits.ljust(max(width, len(digits)), "0")
            return f"{found[1]}{'.' + fraction if fraction else ''}Z"

        return _walk_strings(body, vary)


class UtcOffsetNotation(JsonRewrite):
    """UTC written as `+00:00` instead of `Z`."""

    def rewrite(self, request: Request, response: Response, body: Any) -> Any:
        return _walk_strings(body, lambda _k, s: s[:-1] + "+00:00" if TIME.match(s) else s)


# --- identifiers -------------------------------------------------------------------------------

REFERENCE_ID = re.compile(r"\b(?:mtr|prod|price|cus|sub|inv|cpn)_\d{12}\b")


class UuidIds(Middleware):
    """Resource ids are bare UUIDs (no type prefix); requests are mapped back consistently."""

    NAMESPACE = uuid.UUID("6f1c7f3e-3d64-4c55-9d6b-3f8f0c1b2a77")

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.inner_of: dict[str, str] = {}  # uuid -> the reference's id

    def outer(self, inner: str) -> str:
        outer = str(uuid.uuid5(self.NAMESPACE, inner))
        self.inner_of[outer] = inner
        return outer

    def to_inner(self, text: str) -> str:
        return self.inner_of.get(text, text)

    async def handle(self, request: Request) -> Response:
        request.path = "/".join(self.to_inner(part) for part in request.path.split("/"))
        request.query = [(k, self.to_inner(v)) for k, v in request.query]
        data = request.json()
        if data is not None and request.body:
            content_type = request.headers.get("content-type", "")
            request.set_json(_walk_strings(data, lambda _k, s: self.to_inner(s)))
            request.headers["content-type"] = content_type or "application/json"
        response = await self.forward(request)
        if _media_type(response) in JSON_TYPES and response.body:
            body = response.json()
            if body is not None:
                body = _walk_strings(body, lambda _k, s: REFERENCE_ID.sub(
                    lambda m: self.outer(m[0]), s))
                response.set_json(body)
        return response


# --- representation ----------------------------------------------------------------------------


def _reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reverse_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(v) for v in value]
    return value


class ReversedKeyOrder(JsonRewrite):
    """Every JSON object is written with its members in reverse order (`next_cursor` first...)."""

    def rewrite(self, request: Request, response: Response, body: Any) -> Any:
        return _reverse_keys(body)

    def dump(self, body: Any) -> bytes:
        return json.dumps(body, ensure_ascii=False, indent=1).encode()  # and other whitespace


class CharsetParameter(Middleware):
    """Every JSON and problem+json content type carries `; charset=utf-8`."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        media_type = _media_type(response)
        if media_type in JSON_TYPES:
            response.set_header("content-type", f"{media_type}; charset=utf-8")
        return response


def _extend(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        extended = {k: (v if k in VERBATIM else _extend(v, k)) for k, v in value.items()}
        return extended | {"x_acme_revision": 3, "x_acme_extension": {"region": "eu-west",
                                                                       "tags": ["a", "b"]}}
    if isinstance(value, list):
        return [_extend(v, key) for v in value]
    return value


class ExtraFieldsAndHeaders(JsonRewrite):
    """Every response object carries fields no spec version defines, every response extra headers."""

    async def handle(self, request: Request) -> Response:
        response = await super().handle(request)
        response.headers += [("x-acme-request-id", secrets.token_hex(8)),
                             ("x-acme-node", "eu-west-1b"), ("cache-control", "no-store"),
                             ("link", '<https://docs.acme.example/billing>; rel="help"')]
        return response

    def rewrite(self, request: Request, response: Response, body: Any) -> Any:
        return _extend(body)


# --- problems ----------------------------------------------------------------------------------


def _is_problem(response: Response, body: Any) -> bool:
    return _media_type(response) == PROBLEM and isinstance(body, dict)


class OwnProblemWording(JsonRewrite):
    """Problems carry the implementation's own `type` URIs, titles and details (codes unchanged)."""

    def rewrite(self, request: Request, response: Response, body: Any) -> Any:
        if _is_problem(response, body):
            digest = hashlib.sha256(str(body.get("code")).encode()).hexdigest()[:10]
            body["type"] = f"https://errors.acme.example/kb/{response.status}-{digest}"
            body["title"] = f"Acme Billing error E{response.status}"
            body["detail"] = "Your request could not be completed; see the type URI for help."
        return body


def json_pointer(name: str) -> str:
    """`tiers[1].up_to` → `/tiers/1/up_to`; `body` (the whole document) → ``."""
    if name == "body":
        return ""
    parts = re.findall(r"[^.\[\]]+", name)
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class JsonPointerParamNames(JsonRewrite):
    """`invalid_params` name body fields by JSON Pointer (`/name`, `/events/1/time`); query and
    header parameters keep their names."""

    def rewrite(self, request: Request, response: Response, body: Any) -> Any:
        params = body.get("invalid_params") if _is_problem(response, body) else None
        if not isinstance(params, list) or request.method not in ("POST", "PATCH"):
            return body
        plain = {k for k, _v in request.query} | set(request.headers) | {"content-type"}
        for param in params:
            name = param.get("name") if isinstance(param, dict) else None
            if isinstance(name, str) and name.lower() not in plain:
                param["name"] = json_pointer(name)
        return body


# --- validation order --------------------------------------------------------------------------


class AuthBeforeRouting(Middleware):
    """Credentials are checked first: without a valid key every path and method is 401, even one
    that does not exist (the reference answers those 404 and 405)."""

    async def handle(self, request: Request) -> Response:
        if request.key not in ORG_OF:
            answer = problem(401, "unauthorized", "Authenticate first.")
            answer.set_header("www-authenticate", "Bearer")
            return answer
        return await self.forward(request)


class BearerChallengeParameters(Middleware):
    """401 challenges carry RFC 6750 parameters: `Bearer realm="acme", error="invalid_token"`."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.status == 401:
            error = ', error="invalid_token"' if "authorization" in request.headers else ""
            response.set_header("www-authenticate", f'Bearer realm="acme"{error}')
        return response


def _fingerprint(body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


class IdempotencyBeforeBody(Middleware):
    """The Idempotency-Key is looked up before the body is validated: a key reused with another
    body is 422 even when that body is invalid too (the reference answers 400 then)."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.used: dict[tuple[str, str, str], str] = {}  # (org, path, key) -> body fingerprint

    async def handle(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        org = request.org
        if request.method != "POST" or key is None or org is None:
            return await self.forward(request)
        slot = (org, request.path, key)
        fingerprint = _fingerprint(request.body)
        if slot in self.used and self.used[slot] != fingerprint and request.role == "admin":
            return problem(422, "idempotency_key_reused",
                           "This Idempotency-Key was used with another request body.")
        response = await self.forward(request)
        if response.status != 400 and response.status < 500 and response.status not in (401, 403):
            self.used.setdefault(slot, fingerprint)  # the reference stored this answer
        return response


# --- numbers -----------------------------------------------------------------------------------

DECIMAL_FIELDS = frozenset({"unit_amount", "quantity", "value", "percent_off"})
DECIMAL = re.compile(r"^-?[0-9]+\.[0-9]+$")


def normalise_decimal(text: str) -> str:
    """`20.50` → `20.5`, `3.000` → `3`, `-0.0` → `0`."""
    if not DECIMAL.match(text):
        return text
    text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class NormalisedDecimals(JsonRewrite):
    """Decimal strings are written in their shortest form, whatever form the client sent."""

    def rewrite(self, request: Request, response: Response, body: Any) -> Any:
        return _walk_strings(body, lambda k, s: normalise_decimal(s) if k in DECIMAL_FIELDS else s)


# --- updates -----------------------------------------------------------------------------------


class MetadataUpdatesMerge(Middleware):
    """A `metadata` update merges its pairs into the stored map instead of replacing it."""

    async def handle(self, request: Request) -> Response:
        data = request.json()
        if (request.method == "PATCH" and request.resource and not request.resource[2]
                and isinstance(data, dict) and isinstance(data.get("metadata"), dict)):
            current = await self.call(request, "GET", request.path, key=request.key)
            stored = current.json() if current.ok else None
            if isinstance(stored, dict) and isinstance(stored.get("metadata"), dict):
                merged = stored["metadata"] | data["metadata"]
                if len(merged) <= 20:  # Metadata: maxProperties 20
                    request.set_json(data | {"metadata": merged})
        return await self.forward(request)


# --- invoices ----------------------------------------------------------------------------------


class DraftsFollowUsage(Middleware):
    """A draft invoice is recomputed from the usage known whenever it is read, and frozen when it
    is finalized (the reference fixes the lines at generation)."""

    AMOUNTS = ("lines", "subtotal", "discount", "total")
    INVOICE = re.compile(r"^/v1/invoices/([^/]+)(?:/([a-z_]+))?$")

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.frozen: dict[str, dict[str, Any]] = {}  # invoice id -> its amounts at finalization

    async def handle(self, request: Request) -> Response:
        found = self.INVOICE.match(request.path)
        response = await self.forward(request)
        body = response.json()
        if not (request.path.startswith("/v1/invoices") and response.ok and request.org
                and isinstance(body, dict)):
            return response
        finalizing = bool(found and found[2] == "finalize" and request.method == "POST")
        changed = False
        for invoice in resources(body):
            ident = invoice.get("id")
            if ident in self.frozen:
                invoice.update(self.frozen[ident])
                changed = True
            elif invoice.get("status") == "draft" or finalizing:
                fresh = await self.recompute(request, invoice)
                if fresh is not None:
                    invoice.update(fresh)
                    changed = True
                    if finalizing:
                        self.frozen[ident] = fresh
        if changed:
            response.set_json(body)
        return response

    async def recompute(self, request: Request, invoice: dict[str, Any]) -> dict[str, Any] | None:
        key = ADMIN_KEY[request.org or ""]
        fresh = await self.call(request, "POST", "/v1/invoices", key=key, body={
            "subscription_id": invoice["subscription_id"],
            "period_start": invoice["period_start"], "period_end": invoice["period_end"]})
        if fresh.status != 201:
            return None
        draft = fresh.json()
        await self.call(request, "DELETE", f"/v1/invoices/{draft['id']}", key=key)
        return {name: draft[name] for name in self.AMOUNTS if name in draft}


# --- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variation:
    name: str
    middleware: type[Middleware] | None
    description: str
    legal_because: str  # the spec text (or its silence) that leaves this choice open
    app_options: dict[str, Any] = field(default_factory=dict)

    def build(self) -> tuple[Any, Any]:
        """(the ASGI app to serve, the reference app inside it, to close after use): as Fault."""
        options = {"spec_version": TARGET} | self.app_options
        inner = reference.create_app(keys=KEY_TRIPLES, **options)
        return (self.middleware(inner) if self.middleware else inner), inner


def _v(name: str, middleware: type[Middleware] | None, legal_because: str,
       **app_options: Any) -> Variation:
    doc = (middleware.__doc__ if middleware else "") or ""
    description = app_options.pop("description", None) or " ".join(doc.split("\n\n")[0].split())
    return Variation(name, middleware, description, legal_because, app_options)


CATALOGUE: list[Variation] = [
    _v("whole_second_times", WholeSecondTimes,
       "Timestamp: `format: date-time`, RFC 3339 in UTC (VAL-TIME-001); RFC 3339 makes "
       "time-secfrac optional. VAL-PAGE-003 breaks created_at ties by id."),
    _v("variable_fraction_digits", VariableFractionDigits,
       "RFC 3339 time-secfrac = \".\" 1*DIGIT: any number of digits."),
    _v("utc_offset_notation", UtcOffsetNotation,
       "RFC 3339 §4.3: `Z` and `+00:00` both state UTC; VAL-TIME-001 asks for UTC, not for `Z`."),
    _v("uuid_ids", UuidIds,
       "Id: 'Opaque identifier (VAL-ID-001). Clients must not parse it.' (string, 1-64 chars)."),
    _v("reversed_key_order", ReversedKeyOrder,
       "RFC 8259 §4: an object is an unordered collection; the spec states no member order."),
    _v("charset_parameter", CharsetParameter,
       "VAL-HTTP-002 names the media type; a `charset` parameter does not change it "
       "(RFC 9110 §8.3.1)."),
    _v("extra_fields_and_headers", ExtraFieldsAndHeaders,
       "VAL-COMPAT-001: response objects MAY carry fields the version does not define; response "
       "schemas allow additional properties; VAL-HTTP-005 requires headers, forbids none."),
    _v("own_problem_wording", OwnProblemWording,
       "Problem: `type` is a uri-reference, `title` and `detail` strings; only `code` and "
       "`status` are fixed (VAL-ERR-001..003)."),
    _v("json_pointer_param_names", JsonPointerParamNames,
       "InvalidParam.name is a string (example `email`); VAL-ERR-004 asks for the offending "
       "fields to be listed, not for a naming syntax."),
    _v("auth_before_routing", AuthBeforeRouting,
       "VAL-AUTH-001 (every operation without a key → 401) and VAL-HTTP-006 (undefined methods "
       "SHOULD be 405) state no order between authentication and routing."),
    _v("bearer_challenge_parameters", BearerChallengeParameters,
       "WWWAuthenticate: '`Bearer` challenge'; RFC 6750 §3 allows realm and error parameters."),
    _v("idempotency_before_body", IdempotencyBeforeBody,
       "VAL-IDEM-002 (same key, different body → 422) and VAL-ERR-004 (invalid body → 400) state "
       "no order between them."),
    _v("declared_usage_delay", None,
       "Meta.usage_visibility_seconds: 'Upper bound on the delay before ingested usage is "
       "visible' (0-3600); VAL-META-002.", usage_delay=2,
       description="declares usage_visibility_seconds: 2 and shows usage 2 s after ingestion"),
    _v("normalised_decimals", NormalisedDecimals,
       "Decimal: pattern ^-?[0-9]+(\\.[0-9]{1,12})?$, a number as a string; no spec text asks "
       "for the client's spelling to be kept."),
    _v("metadata_updates_merge", MetadataUpdatesMerge,
       "Metadata: 'Free-form string pairs owned by the client, stored verbatim'; no text says "
       "whether an update replaces the map or merges into it."),
    _v("drafts_follow_usage", DraftsFollowUsage,
       "VAL-INV-005 freezes only finalized invoices; VAL-INV-003 ties a usage line to the meter's "
       "usage; nothing fixes a draft's lines at generation."),
]

BY_NAME = {variation.name: variation for variation in CATALOGUE}
