"""Deliberately faulty Valora servers: the reference implementation behind one small ASGI middleware.

Each middleware breaks one rule of the contract the way a real implementation might (a lookup
that forgets the organization, a rounding mode, a lenient validator, ...); everything else is
the reference's correct behaviour. `CATALOGUE` at the end says, per fault, which requirement the
harness must fail (`requirement`), which others the fault honestly breaks too (`also`), and the
`-k` selection of the conformance checks that concern it. Where the harness is known to get a
fault wrong, the entry says how (`noise`: blames requirements the fault does not break; `errors`:
reports `error`; `miss`: does not fail `requirement`; `no_repro`: fails it without a
reproduction) and why (`issues`, keys of HARNESS_ISSUES); the tests xfail on exactly that and
fail once the harness is fixed, so the entry is kept true. tests/harness/test_faulty_servers.py
and tests/harness/detection_rate.py are driven by this table.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import secrets
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qsl, urlencode

from harness_suite import KEY_TRIPLES

from valora_spec import reference

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

ORG_OF = {key: org for org, _role, key in KEY_TRIPLES}
ROLE_OF = {key: role for _org, role, key in KEY_TRIPLES}
ADMIN_KEY = {org: key for org, role, key in KEY_TRIPLES if role == "admin"}
WRITES = ("POST", "PUT", "PATCH", "DELETE")
_COLLECTIONS = "customers|products|prices|meters|subscriptions|invoices|coupons"
RESOURCE = re.compile(rf"^/v1/({_COLLECTIONS})/([^/]+)(?:/([a-z_]+))?$")
LISTING = re.compile(rf"^/v1/({_COLLECTIONS})$")
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
PROBLEM = "application/problem+json"


# --- requests and responses as plain data ------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    scope: Scope = field(repr=False)
    raw_query: bytes = field(default=b"", repr=False)

    @property
    def key(self) -> str | None:
        scheme, _, secret = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        return secret.strip()

    @property
    def org(self) -> str | None:
        return ORG_OF.get(self.key or "")

    @property
    def role(self) -> str | None:
        return ROLE_OF.get(self.key or "")

    def use_key(self, key: str | None) -> None:
        if key is None:
            self.headers.pop("authorization", None)
        else:
            self.headers["authorization"] = f"Bearer {key}"

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def set_param(self, name: str, value: str | None) -> None:
        self.query = [(k, v) for k, v in self.query if k != name]
        if value is not None:
            self.query.append((name, value))

    @property
    def resource(self) -> tuple[str, str, str | None] | None:
        """(collection, id, action) of /v1/<collection>/<id>[/<action>]."""
        found = RESOURCE.match(self.path)
        return (found[1], found[2], found[3]) if found else None

    @property
    def listing(self) -> str | None:
        found = LISTING.match(self.path) if self.method == "GET" else None
        return found[1] if found else None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value, ensure_ascii=False).encode()
        self.headers["content-type"] = "application/json"

    def copy(self, **changes: Any) -> Request:
        return replace(self, **({"query": list(self.query), "headers": dict(self.headers)} | changes))


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]  # lower-case names, in order
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def set_header(self, name: str, value: str | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k != name]
        if value is not None:
            self.headers.append((name, value))

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    @property
    def code(self) -> str | None:
        body = self.json()
        return body.get("code") if isinstance(body, dict) else None


def problem(status: int, code: str, detail: str) -> Response:
    body = {"type": f"https://valora.dev/problems/{code}",
            "title": code.replace("_", " ").capitalize(), "status": status, "detail": detail,
            "code": code}
    return Response(status, [("content-type", PROBLEM)], json.dumps(body).encode())


def resources(body: Any) -> list[dict[str, Any]]:
    """The resource objects of a response body: the body itself, or a list page's items."""
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return [item for item in body["data"] if isinstance(item, dict)]
    return [body] if isinstance(body, dict) else []


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the middleware every fault derives from ----------------------------------------------------


class Middleware:
    """Pure ASGI: buffers one request, lets `handle` rewrite it and what the reference answers.

    `handle` may also answer without the reference, or call it several times (`call`).
    """

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        raw_query = scope.get("query_string", b"")
        request = Request(
            scope["method"], scope["path"],
            parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True),
            {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            bytes(body), scope, raw_query)
        response = await self.handle(request)
        headers = [(k, v) for k, v in response.headers if k != "content-length"]
        if response.status < 200 or response.status in (204, 304):
            response.body = b""  # these statuses have no body, whatever a middleware wrote
        else:
            headers.append(("content-length", str(len(response.body))))
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
        await send({"type": "http.response.body", "body": response.body})

    async def handle(self, request: Request) -> Response:
        return await self.forward(request)

    async def forward(self, request: Request) -> Response:
        """What the reference answers to `request`."""
        scope = dict(request.scope)
        scope["method"] = request.method
        if request.path != scope["path"]:
            scope["path"], scope["raw_path"] = request.path, request.path.encode()
        original = parse_qsl(request.raw_query.decode("latin-1"), keep_blank_values=True)
        scope["query_string"] = (request.raw_query if request.query == original
                                 else urlencode(request.query).encode())
        headers = {k: v for k, v in request.headers.items() if k != "content-length"}
        if request.body or request.method in WRITES:
            headers["content-length"] = str(len(request.body))
        scope["headers"] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            return {"type": "http.disconnect"}

        answer = Response(500, [])
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = [(k.decode("latin-1").lower(), v.decode("latin-1"))
                                  for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        answer.body = b"".join(chunks)
        return answer

    async def call(self, like: Request, method: str, path: str, *, key: str | None,
                   body: Any = None, query: dict[str, str] | None = None) -> Response:
        """A request of the middleware's own, sent to the reference."""
        headers = {"accept": "application/json"}
        if key:
            headers["authorization"] = f"Bearer {key}"
        request = Request(method, path, list((query or {}).items()), headers, b"", like.scope)
        if body is not None:
            request.set_json(body)
        return await self.forward(request)


# --- AUTH --------------------------------------------------------------------------------------


class CrossTenantRead(Middleware):
    """A by-id read that finds nothing in the caller's organization looks in the others."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if request.method == "GET" and request.resource and response.status == 404 and request.org:
            for org, key in ADMIN_KEY.items():
                if org != request.org:
                    other = await self.forward(request.copy(
                        headers=request.headers | {"authorization": f"Bearer {key}"}))
                    if other.ok:
                        return other
        return response


class ReadOnlyCanWrite(Middleware):
    """Writes with a read_only key are performed with the organization's admin rights."""

    async def handle(self, request: Request) -> Response:
        if request.method in WRITES and request.role == "read_only" and request.org:
            request.use_key(ADMIN_KEY[request.org])
        return await self.forward(request)


class AuthBypass(Middleware):
    """A request without any Authorization header is treated as organization A's admin."""

    async def handle(self, request: Request) -> Response:
        if "authorization" not in request.headers:
            request.use_key(ADMIN_KEY["org_a"])
        return await self.forward(request)


class CursorUnreadableOnSomeLists(Middleware):
    """The meter and price lists cannot decode their own cursors (a padding bug that only some
    cursor lengths meet): following next_cursor there answers 400."""

    async def handle(self, request: Request) -> Response:
        if request.path in ("/v1/meters", "/v1/prices") and any(k == "cursor" for k, _ in request.query):
            return problem(400, "invalid_cursor", "the cursor cannot be decoded")
        return await self.forward(request)


class AnySchemeAccepted(Middleware):
    """A known key is accepted in any Authorization scheme (`Token k`, `Basic k`), not only Bearer
    (a check of the credential that forgot the scheme)."""

    async def handle(self, request: Request) -> Response:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" and secret.strip() in ORG_OF:
            request.use_key(secret.strip())
        return await self.forward(request)


class CharsetRefused(Middleware):
    """A JSON body labelled `application/json; charset=utf-8` is refused as an unsupported type
    (the media type compared with its parameters)."""

    async def handle(self, request: Request) -> Response:
        if request.method in WRITES and "charset" in request.headers.get("content-type", ""):
            return problem(400, "invalid_request", "unsupported content type")
        return await self.forward(request)


class NoWwwAuthenticate(Middleware):
    """401 answers lack the `WWW-Authenticate: Bearer` challenge."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.status == 401:
            response.set_header("www-authenticate", None)
        return response


# --- ERR ---------------------------------------------------------------------------------------


class ErrorsAsPlainText(Middleware):
    """Every 4xx/5xx body is a line of text/plain instead of problem+json."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.status >= 400:
            body = response.json() if response.json() is not None else {}
            text = f"{body.get('title', 'Error')}: {body.get('detail', '')}\n"
            response.body = text.encode()
            response.set_header("content-type", "text/plain; charset=utf-8")
        return response


class ProblemStatusAlways400(Middleware):
    """Problem bodies always say `status: 400`, whatever the HTTP status."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.status >= 400 and isinstance(body, dict) and "status" in body:
            body["status"] = 400
            response.set_json(body)
        return response


class InvalidCustomerAccepted(Middleware):
    """A customer body the reference rejects with 400 is answered 201 with a made-up customer."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if (request.method == "POST" and request.path == "/v1/customers"
                and response.status == 400):
            data = request.json() if isinstance(request.json(), dict) else {}
            made_up = {"id": "cus_" + secrets.token_hex(6),
                       "external_id": str(data.get("external_id") or "unknown"),
                       "name": str(data.get("name") or "unnamed"), "email": None, "metadata": {},
                       "created_at": now_iso()}
            response = Response(201, [("content-type", "application/json")])
            response.set_json(made_up)
        return response


class NameLimitOffByOne(Middleware):
    """A customer name one character over its 200-character limit is accepted (a `<=` that
    should be `<`): the reference stores the first 200 characters, the answer echoes all 201."""

    async def handle(self, request: Request) -> Response:
        data = request.json() if request.method in ("POST", "PATCH") else None
        name = data.get("name") if isinstance(data, dict) else None
        if not request.path.startswith("/v1/customers") or not isinstance(name, str) \
                or len(name) != 201:
            return await self.forward(request)
        request.set_json({**data, "name": name[:200]})
        response = await self.forward(request)
        body = response.json() if response.status < 300 else None
        if isinstance(body, dict) and "name" in body:
            response.set_json({**body, "name": name})
        return response


class HeaderFirstNameOffByOne(NameLimitOffByOne):
    """The name limit off by one, behind a legal choice that hid it: the Idempotency-Key header is
    validated before the body, so a request with an empty key is refused for the key alone."""

    async def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.headers.get("idempotency-key", None) == "":
            response = problem(400, "invalid_request", "Idempotency-Key must not be empty")
            response.set_json(response.json() | {"invalid_params": [
                {"name": "Idempotency-Key", "reason": "must not be empty"}]})
            return response
        return await super().handle(request)


class ServerErrorOnNonAscii(Middleware):
    """Any non-ASCII character in the path, query or body crashes the server (500)."""

    async def handle(self, request: Request) -> Response:
        text = request.path + "".join(k + v for k, v in request.query)
        if not text.isascii() or not request.body.isascii():
            return problem(500, "internal_error", "'ascii' codec can't encode character")
        return await self.forward(request)


# --- HTTP --------------------------------------------------------------------------------------


class CustomerWithoutMetadata(Middleware):
    """Customers are served without their required `metadata` field."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.ok and request.path.startswith("/v1/customers"):
            body = response.json()
            for customer in resources(body):
                customer.pop("metadata", None)
            if isinstance(body, dict):
                response.set_json(body)
        return response


# --- META --------------------------------------------------------------------------------------


class RangeExcludesDeclaredVersion(Middleware):
    """Discovery declares spec_version 1.2.0 but a compatible_range that ends at 1.1.0."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if request.path == "/v1/meta" and response.ok and isinstance(body, dict):
            body["compatible_range"] = {"min": "1.0.0", "max": "1.1.0"}
            response.set_json(body)
        return response


class HidesUsageDelay(Middleware):
    """Usage becomes visible after 2 s (the app is built so) but discovery declares 0 s."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if request.path == "/v1/meta" and response.ok and isinstance(body, dict):
            body["usage_visibility_seconds"] = 0
            response.set_json(body)
        return response


# --- ID, NK ------------------------------------------------------------------------------------


class IdChangesAfterUpdate(Middleware):
    """After a successful update, reads show the resource under a new id (the old one still works)."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.renamed: dict[str, str] = {}

    async def handle(self, request: Request) -> Response:
        aliases = {new: old for old, new in self.renamed.items()}
        target = request.resource
        if target and target[1] in aliases:
            request.path = request.path.replace(target[1], aliases[target[1]], 1)
            target = request.resource
        response = await self.forward(request)
        if target and response.ok and request.method == "PATCH":
            self.renamed.setdefault(target[1], f"{target[1]}r2")
        body = response.json()
        if target and request.method == "GET" and response.ok and isinstance(body, dict):
            if body.get("id") in self.renamed:
                body["id"] = self.renamed[body["id"]]
                response.set_json(body)
        return response


class DuplicateNaturalKeysAccepted(Middleware):
    """A duplicate customer external_id or meter key creates a second resource (no unique index)."""

    MARK = re.compile(r"(?:::dup|\.\.dup)\d+$")

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.counter = itertools.count(1)

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        field_name = {"/v1/customers": ("external_id", "::dup"),
                      "/v1/meters": ("key", "..dup")}.get(request.path)
        data = request.json()
        if (request.method == "POST" and field_name and response.code == "already_exists"
                and isinstance(data, dict)):
            name, mark = field_name
            data[name] = f"{data[name]}{mark}{next(self.counter)}"
            request.set_json(data)
            response = await self.forward(request)
        body = response.json()
        changed = False
        for item in resources(body):
            for name in ("external_id", "key"):
                if isinstance(item.get(name), str) and self.MARK.search(item[name]):
                    item[name] = self.MARK.sub("", item[name])
                    changed = True
        if changed:
            response.set_json(body)
        return response


class NaturalKeysUniqueAcrossOrganizations(Middleware):
    """Natural keys are unique over the whole server, not per organization."""

    FIELDS = {"/v1/customers": "external_id", "/v1/meters": "key", "/v1/coupons": "code"}

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.owner: dict[tuple[str, str], str] = {}

    async def handle(self, request: Request) -> Response:
        name = self.FIELDS.get(request.path) if request.method == "POST" else None
        data = request.json() if name else None
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, str):
            owner = self.owner.get((request.path, value))
            if owner is not None and owner != request.org:
                return problem(409, "already_exists", f"{name} {value!r} is taken.")
        response = await self.forward(request)
        if isinstance(value, str) and response.status == 201 and request.org:
            self.owner[(request.path, value)] = request.org
        return response


# --- TIME --------------------------------------------------------------------------------------


class InclusiveWindowEnd(Middleware):
    """Usage queries count events at `to` too: the window is [from, to], not [from, to)."""

    async def handle(self, request: Request) -> Response:
        target = request.resource
        end = request.param("to")
        if not (request.method == "GET" and target and target[2] == "usage" and end):
            return await self.forward(request)
        try:
            moment = parse_time(end)
            if moment <= parse_time(request.param("from") or ""):
                return await self.forward(request)  # still rejected: only the boundary is wrong
        except ValueError:
            return await self.forward(request)
        request.set_param("to", iso(moment + timedelta(seconds=1)))
        response = await self.forward(request)
        body = response.json()
        if response.ok and isinstance(body, dict):
            body["to"] = end
            if body.get("rows"):
                body["rows"][-1]["to"] = end
            response.set_json(body)
        return response


class ExclusiveWindowStart(Middleware):
    """Usage queries skip events at `from`: the window is (from, to), not [from, to)."""

    async def handle(self, request: Request) -> Response:
        target = request.resource
        start = request.param("from")
        if not (request.method == "GET" and target and target[2] == "usage" and start):
            return await self.forward(request)
        try:
            moment = parse_time(start)
            if parse_time(request.param("to") or "") <= moment + timedelta(seconds=1):
                return await self.forward(request)  # still rejected: only the boundary is wrong
        except ValueError:
            return await self.forward(request)
        request.set_param("from", iso(moment + timedelta(seconds=1)))
        response = await self.forward(request)
        body = response.json()
        if response.ok and isinstance(body, dict):
            body["from"] = start
            if body.get("rows"):
                body["rows"][0]["from"] = start
            response.set_json(body)
        return response


class LocalTimes(Middleware):
    """Every time is written with a +02:00 offset: the same instant, but not UTC."""

    ZONE = timezone(timedelta(hours=2))

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.ok and body is not None:
            response.set_json(self._convert(body))
        return response

    def _convert(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._convert(v) for v in value]
        if isinstance(value, str) and UTC_TIME.match(value):
            return parse_time(value).astimezone(self.ZONE).isoformat()
        return value


# --- MONEY, PRICE, INV, COUPON: invoice arithmetic ----------------------------------------------


def _fraction(text: Any) -> Fraction:
    return Fraction(Decimal(str(text)))


def _round(value: Fraction, mode: str) -> int:
    if mode == "half_up":
        return math.floor(value + Fraction(1, 2))
    return round(value)  # half-even


def exact_amount(price: dict[str, Any], quantity: Fraction, *, graduated_flat: bool = True,
                 flat_times_quantity: bool = True, package_round: Callable = math.ceil,
                 reached_at_lower: bool = False, volume_inclusive: bool = True) -> Fraction:
    """A line's unrounded amount in minor units; the keyword arguments switch in faults."""
    model = price["model"]
    if model == "flat":
        return Fraction(price["flat_amount"]) * (quantity if flat_times_quantity else 1)
    if model == "per_unit":
        return _fraction(price["unit_amount"]) * quantity
    if model == "package":
        return Fraction(package_round(quantity / price["package_size"]) * price["package_amount"])
    tiers = price["tiers"]
    if price["tiers_mode"] == "volume":
        tier = next(t for t in tiers if t["up_to"] is None or quantity <= t["up_to"] and volume_inclusive
                    or quantity < t["up_to"])
        return _fraction(tier["unit_amount"]) * quantity + (tier.get("flat_amount") or 0)
    total, lower = Fraction(0), Fraction(0)
    for tier in tiers:
        if quantity < lower or (quantity == lower and not reached_at_lower):
            break
        upper = quantity if tier["up_to"] is None else min(quantity, Fraction(tier["up_to"]))
        total += _fraction(tier["unit_amount"]) * (upper - lower)
        if graduated_flat:
            total += tier.get("flat_amount") or 0
        if tier["up_to"] is None:
            break
        lower = Fraction(tier["up_to"])
    return total


class InvoiceArithmetic(Middleware):
    """Serves every invoice with lines recomputed by `line`, subtotal and total kept consistent.

    A line is only recomputed when the correct formula reproduces the reference's amount (so a
    trial's zero stays zero); subclasses change `line`.
    """

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.cache: dict[tuple[str, str], dict[str, Any] | None] = {}

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.ok and request.path.startswith("/v1/invoices") and request.key:
            changed = False
            for invoice in resources(body):
                changed |= await self.rewrite(request, invoice)
            if changed:
                response.set_json(body)
        return response

    async def fetch(self, request: Request, path: str) -> dict[str, Any] | None:
        slot = (request.key or "", path)
        if slot not in self.cache:
            reply = await self.call(request, "GET", path, key=request.key)
            self.cache[slot] = reply.json() if reply.ok else None
        return self.cache[slot]

    async def rewrite(self, request: Request, invoice: dict[str, Any]) -> bool:
        changed = False
        for line in invoice.get("lines") or []:
            price = await self.fetch(request, f"/v1/prices/{line.get('price_id')}")
            if price is None:
                continue
            quantity = _fraction(line["quantity"])
            if _round(exact_amount(price, quantity), "half_even") != line["amount"]:
                continue
            before = dict(line)
            self.line(price, line, quantity)
            changed |= line != before
        if changed:
            await self.totals(request, invoice)
        return changed

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        raise NotImplementedError

    async def totals(self, request: Request, invoice: dict[str, Any]) -> None:
        invoice["subtotal"] = sum(line["amount"] for line in invoice["lines"])
        if invoice.get("coupon_id"):
            coupon = await self.fetch(request, f"/v1/coupons/{invoice['coupon_id']}")
            if coupon is not None:
                share = _fraction(coupon["percent_off"]) / 100
                invoice["discount"] = max(0, round(share * invoice["subtotal"]))
        invoice["total"] = invoice["subtotal"] - (invoice.get("discount") or 0)


class RoundsHalfUp(InvoiceArithmetic):
    """Line amounts are rounded half-up (2.5 → 3) instead of half-even (2.5 → 2)."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        line["amount"] = _round(exact_amount(price, quantity), "half_up")


class GraduatedWithoutFlatAmounts(InvoiceArithmetic):
    """Graduated tiers charge the unit rates but forget each reached tier's flat_amount."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        line["amount"] = _round(exact_amount(price, quantity, graduated_flat=False), "half_even")


class FloatArithmetic(InvoiceArithmetic):
    """Per-unit lines are computed in binary floating point: round(float(quantity) × float(rate))."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        if price["model"] == "per_unit":
            line["amount"] = round(float(line["quantity"]) * float(price["unit_amount"]))


class UnreachedTierFlatFee(InvoiceArithmetic):
    """Graduated tiers bill the next tier's flat_amount as soon as the quantity reaches the previous
    `up_to` (`>=` for `>`): at exactly 10 of `up_to: 10` the second tier's fee is billed too."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        line["amount"] = _round(exact_amount(price, quantity, reached_at_lower=True), "half_even")


class VolumeUpToExclusive(InvoiceArithmetic):
    """Volume tiers treat `up_to` as exclusive: a quantity of exactly 10 falls in the next tier."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        line["amount"] = _round(exact_amount(price, quantity, volume_inclusive=False), "half_even")


class AmountsThroughFloat(Middleware):
    """Invoice amounts pass through a binary float on the way out (a JSON library's double):
    integers above 2**53 lose their last digits, 2**63 − 1 becomes 2**63."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.ok and request.path.startswith("/v1/invoices"):
            for invoice in resources(body):
                for holder in [invoice, *(invoice.get("lines") or [])]:
                    for name in ("amount", "subtotal", "discount", "total"):
                        if isinstance(holder.get(name), int):
                            holder[name] = int(float(holder[name]))
            response.set_json(body)
        return response


class DiscountRoundedHalfUp(Middleware):
    """Coupon discounts are rounded half-up (2.5 → 3) instead of half-even (2.5 → 2)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if not (response.ok and request.path.startswith("/v1/invoices") and request.key):
            return response
        for invoice in resources(body):
            if invoice.get("coupon_id") and isinstance(invoice.get("subtotal"), int):
                coupon = await self.call(request, "GET", f"/v1/coupons/{invoice['coupon_id']}",
                                         key=request.key)
                if coupon.ok:
                    share = _fraction(coupon.json()["percent_off"]) / 100
                    invoice["discount"] = max(0, _round(share * invoice["subtotal"], "half_up"))
                    invoice["total"] = max(0, invoice["subtotal"] - invoice["discount"])
        response.set_json(body)
        return response


class TrialEndExclusive(Middleware):
    """An invoice whose period ends exactly at `trial_end` is billed as after the trial (`<` for
    `<=`): its flat lines carry their full amount."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        invoice = response.json()
        if not (request.method == "POST" and request.path == "/v1/invoices" and response.status == 201
                and isinstance(invoice, dict)):
            return response
        sub = await self.call(request, "GET", f"/v1/subscriptions/{invoice['subscription_id']}",
                              key=request.key)
        trial_end = sub.json().get("trial_end") if sub.ok else None
        if not trial_end or parse_time(trial_end) != parse_time(invoice["period_end"]):
            return response
        for line in invoice.get("lines") or []:
            price = await self.call(request, "GET", f"/v1/prices/{line['price_id']}", key=request.key)
            if price.ok and price.json()["model"] == "flat":
                line["amount"] = price.json()["flat_amount"] * int(Decimal(line["quantity"]))
        invoice["subtotal"] = sum(line["amount"] for line in invoice["lines"])
        invoice["total"] = max(0, invoice["subtotal"] - (invoice.get("discount") or 0))
        response.set_json(invoice)
        return response


class SubtotalNotSumOfLines(Middleware):
    """Invoices carry a subtotal (and total) 100 minor units above the sum of their lines."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.ok and request.path.startswith("/v1/invoices"):
            for invoice in resources(body):
                if isinstance(invoice.get("subtotal"), int):
                    invoice["subtotal"] += 100
                    invoice["total"] += 100
            if isinstance(body, dict):
                response.set_json(body)
        return response


class InvoiceWithoutCoupon(Middleware):
    """Invoices of a subscription with a coupon are discounted but do not name the coupon."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.ok and request.path.startswith("/v1/invoices"):
            for invoice in resources(body):
                if "coupon_id" in invoice:
                    invoice["coupon_id"] = None
            if isinstance(body, dict):
                response.set_json(body)
        return response


class LowercaseCurrencyAccepted(Middleware):
    """Price currencies are upper-cased before validation, so `eur` is accepted."""

    async def handle(self, request: Request) -> Response:
        data = request.json()
        if (request.method == "POST" and request.path == "/v1/prices" and isinstance(data, dict)
                and isinstance(data.get("currency"), str)):
            data["currency"] = data["currency"].upper()
            request.set_json(data)
        return await self.forward(request)


class FinalizedInvoiceRecomputed(Middleware):
    """Reading a finalized invoice recomputes its lines from the usage known now."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target = request.resource
        invoice = response.json()
        if not (request.method == "GET" and target and target[0] == "invoices" and not target[2]
                and response.ok and isinstance(invoice, dict) and invoice.get("status") != "draft"
                and request.org):
            return response
        key = ADMIN_KEY[request.org]
        fresh = await self.call(request, "POST", "/v1/invoices", key=key, body={
            "subscription_id": invoice["subscription_id"],
            "period_start": invoice["period_start"], "period_end": invoice["period_end"]})
        if fresh.status == 201:
            draft = fresh.json()
            await self.call(request, "DELETE", f"/v1/invoices/{draft['id']}", key=key)
            for name in ("lines", "subtotal", "discount", "total"):
                if name in draft:
                    invoice[name] = draft[name]
            response.set_json(invoice)
        return response


class FinalizedInvoiceUpdateFaked(Middleware):
    """Updating a finalized invoice answers 200 with the change applied (but not stored)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target = request.resource
        if (request.method == "PATCH" and target and target[0] == "invoices"
                and response.code == "invoice_immutable"):
            current = await self.call(request, "GET", request.path, key=request.key)
            body, change = current.json(), request.json()
            if current.ok and isinstance(body, dict) and isinstance(change, dict):
                body.update(change)
                response = Response(200, [("content-type", "application/json")])
                response.set_json(body)
        return response


class ForbiddenInvoiceTransitionAccepted(Middleware):
    """A forbidden invoice transition answers 200 with the unchanged invoice instead of 409."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target = request.resource
        if (request.method == "POST" and target and target[0] == "invoices" and target[2]
                and response.code == "invalid_state_transition"):
            path = f"/v1/invoices/{target[1]}"
            current = await self.call(request, "GET", path, key=request.key)
            if current.ok:
                return current
        return response


# --- PAGE, LIST --------------------------------------------------------------------------------


class PageDropsItem(Middleware):
    """The last item of every page but the last is left out; the cursor still points past it."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if request.listing and response.ok and isinstance(body, dict) and body.get("has_more"):
            body["data"] = body["data"][:-1]
            response.set_json(body)
        return response


class PageRepeatsItem(Middleware):
    """Every page after the first starts again with the previous page's last item."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.last_item: dict[str, dict[str, Any]] = {}

    async def handle(self, request: Request) -> Response:
        cursor = request.param("cursor")
        repeat = self.last_item.get(cursor or "")
        try:
            limit = int(request.param("limit") or 20)
        except ValueError:
            limit = 0
        if request.listing and repeat is not None and 2 <= limit <= 100:
            request.set_param("limit", str(limit - 1))
        else:
            repeat = None
        response = await self.forward(request)
        body = response.json()
        if request.listing and response.ok and isinstance(body, dict):
            if body.get("next_cursor") and body.get("data"):
                self.last_item[body["next_cursor"]] = body["data"][-1]
            if repeat is not None:
                body["data"] = [repeat, *body["data"]]
                response.set_json(body)
        return response


class TamperedCursorAccepted(Middleware):
    """A cursor the server cannot read restarts the list at its first page instead of a 400."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if request.listing and response.code == "invalid_cursor":
            request.set_param("cursor", None)
            response = await self.forward(request)
        return response


class InvoiceStatusFilterIgnored(Middleware):
    """GET /v1/invoices ignores its `status` filter (the other filters work)."""

    async def handle(self, request: Request) -> Response:
        if request.listing == "invoices":
            request.set_param("status", None)
        return await self.forward(request)


# --- IDEM --------------------------------------------------------------------------------------


class IdempotencyKeyIgnored(Middleware):
    """The Idempotency-Key header is ignored: every POST acts."""

    async def handle(self, request: Request) -> Response:
        request.headers.pop("idempotency-key", None)
        return await self.forward(request)


class ReusedKeyActsAgain(Middleware):
    """A key reused with another body acts as a new request instead of answering 422."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.status == 422 and response.code == "idempotency_key_reused":
            request.headers.pop("idempotency-key", None)
            response = await self.forward(request)
        return response


class ConcurrentKeyActsTwice(Middleware):
    """While a request with an Idempotency-Key is in flight, a repeat of it is not recognized."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.in_flight: set[tuple[str | None, str]] = set()

    async def handle(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or key is None:
            return await self.forward(request)
        slot = (request.org, key)
        if slot in self.in_flight:
            request.headers.pop("idempotency-key")
            return await self.forward(request)
        self.in_flight.add(slot)
        try:
            await asyncio.sleep(0.3)  # a slow first request: the repeats arrive meanwhile
            return await self.forward(request)
        finally:
            self.in_flight.discard(slot)


# --- METER, EVENT ------------------------------------------------------------------------------


class MaxComputedAsMin(Middleware):
    """MAX meters are computed with the comparison reversed: they answer the smallest value."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.max_meters: set[str] = set()

    async def handle(self, request: Request) -> Response:
        data = request.json()
        if (request.method == "POST" and request.path == "/v1/meters" and isinstance(data, dict)
                and data.get("aggregation") == "MAX"):
            data["aggregation"] = "MIN"
            request.set_json(data)
            response = await self.forward(request)
            body = response.json()
            if response.status == 201 and isinstance(body, dict):
                self.max_meters.add(body["id"])
        else:
            response = await self.forward(request)
        body = response.json()
        changed = False
        for meter in resources(body):
            if meter.get("id") in self.max_meters and meter.get("aggregation") == "MIN":
                meter["aggregation"] = "MAX"
                changed = True
        if changed:
            response.set_json(body)
        return response


def _events(request: Request) -> list[dict[str, Any]]:
    data = request.json()
    if request.method != "POST" or not isinstance(data, dict):
        return []
    if request.path == "/v1/events":
        return [data]
    if request.path == "/v1/events/batch" and isinstance(data.get("events"), list):
        return [e for e in data["events"] if isinstance(e, dict)]
    return []


class DuplicateEventsCounted(Middleware):
    """A repeated event id is stored again under a fresh internal id, so its usage counts twice."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.seen: dict[str | None, set[str]] = {}
        self.counter = itertools.count(1)

    async def handle(self, request: Request) -> Response:
        events = _events(request)
        if not events:
            return await self.forward(request)
        seen = self.seen.setdefault(request.org, set())
        renamed: dict[str, str] = {}
        batch: set[str] = set()
        for event in events:
            ident = event.get("id")
            if isinstance(ident, str) and (ident in seen or ident in batch):
                event["id"] = f"{ident}~{next(self.counter)}"
                renamed[event["id"]] = ident
            batch.add(str(ident))
        data = request.json()
        request.set_json(events[0] if request.path == "/v1/events" else {**data, "events": events})
        response = await self.forward(request)
        if response.status == 202:
            seen.update(renamed.values())
            seen.update(e["id"] for e in events if e["id"] not in renamed)
            body = response.json()
            for receipt in [body, *(body.get("results") or [])]:
                if isinstance(receipt, dict) and receipt.get("id") in renamed:
                    receipt["id"] = renamed[receipt["id"]]
            response.set_json(body)
        return response


class BackdatingNotEnforced(Middleware):
    """Events outside the backdating window are accepted (stored as received now)."""

    async def handle(self, request: Request) -> Response:
        events = _events(request)
        now = datetime.now(UTC)
        changed = False
        for event in events:
            try:
                moment = parse_time(event["time"])
            except (KeyError, TypeError, ValueError):
                continue
            if not now - timedelta(days=35) <= moment <= now + timedelta(minutes=5):
                event["time"] = iso(now)
                changed = True
        if changed:
            data = request.json()
            request.set_json(events[0] if request.path == "/v1/events" else {**data, "events": events})
        return await self.forward(request)


class BackdatingEdgeOffByOneSecond(Middleware):
    """The backdating window's past edge is one second short: an event 35 days minus half a second
    before receipt is rejected."""

    async def handle(self, request: Request) -> Response:
        edge = datetime.now(UTC) - timedelta(days=35) + timedelta(seconds=1)
        for event in _events(request):
            try:
                if parse_time(event["time"]) < edge:
                    return problem(400, "event_outside_window", "must be at most 35 days old")
            except (KeyError, TypeError, ValueError):
                continue
        return await self.forward(request)


class EventTimesRoundedToSecond(Middleware):
    """Event times are stored rounded to the nearest second: an event 1 ms before `to` falls on
    `to` (not counted), one 1 ms before `from` on `from` (counted)."""

    async def handle(self, request: Request) -> Response:
        events = _events(request)
        for event in events:
            try:
                moment = parse_time(event["time"])
            except (KeyError, TypeError, ValueError):
                continue
            rounded = moment.replace(microsecond=0) + timedelta(seconds=moment.microsecond >= 500_000)
            event["time"] = iso(rounded)
        if events:
            data = request.json()
            request.set_json(events[0] if request.path == "/v1/events" else {**data, "events": events})
        return await self.forward(request)


class LatestTieFirstIngested(Middleware):
    """Among events of one instant, the first ingested is kept as the latest (the later ones are
    stored a microsecond earlier): LATEST breaks ties the wrong way."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.seen: set[tuple[str | None, Any, Any, datetime]] = set()

    async def handle(self, request: Request) -> Response:
        events = _events(request)
        for event in events:
            try:
                moment = parse_time(event["time"])
            except (KeyError, TypeError, ValueError):
                continue
            slot = (request.org, event.get("customer"), event.get("type"), moment)
            if slot in self.seen:
                event["time"] = (moment - timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self.seen.add(slot)
        if events:
            data = request.json()
            request.set_json(events[0] if request.path == "/v1/events" else {**data, "events": events})
        return await self.forward(request)


SPECIAL_NAMES = ("toString", "__proto__", "constructor", "hasOwnProperty", "valueOf")


class SpecialModelAccepted(Middleware):
    """A price `model` that names an object's own property (`toString`, `__proto__`, ...) is found
    by the handler lookup and created as a flat price."""

    async def handle(self, request: Request) -> Response:
        data = request.json()
        if (request.method == "POST" and request.path == "/v1/prices" and isinstance(data, dict)
                and data.get("model") in SPECIAL_NAMES and "flat_amount" in data):
            data["model"] = "flat"
            request.set_json(data)
        return await self.forward(request)


class SpecialAggregationServerError(Middleware):
    """A meter `aggregation` such as `toString` crashes the handler lookup: 500 instead of 400."""

    async def handle(self, request: Request) -> Response:
        data = request.json()
        if (request.method == "POST" and request.path == "/v1/meters" and isinstance(data, dict)
                and data.get("aggregation") in SPECIAL_NAMES):
            return problem(500, "internal_error", "aggregators[aggregation] is not a function")
        return await self.forward(request)


class HasMoreOnLastPage(Middleware):
    """The last page of a list says `has_more: true` (with `next_cursor: null`)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if request.listing and response.ok and isinstance(body, dict) and body.get("has_more") is False:
            body["has_more"] = True
            response.set_json(body)
        return response


# --- CUST, CRUD, SUB ---------------------------------------------------------------------------


class CustomerInUseDeleted(Middleware):
    """Deleting a customer that has subscriptions answers 204 and hides it (instead of 409)."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.hidden: set[tuple[str | None, str]] = set()

    async def handle(self, request: Request) -> Response:
        target = request.resource
        if target and target[0] == "customers" and (request.org, target[1]) in self.hidden:
            return problem(404, "not_found", f"No customer with id {target[1]!r}.")
        response = await self.forward(request)
        if (request.method == "DELETE" and target and target[0] == "customers"
                and response.code == "resource_in_use"):
            self.hidden.add((request.org, target[1]))
            return Response(204, [])
        if request.listing == "customers" and response.ok:
            body = response.json()
            body["data"] = [c for c in body["data"] if (request.org, c.get("id")) not in self.hidden]
            response.set_json(body)
        return response


class CustomerUpdateNotStored(Middleware):
    """A customer update answers 200 with the new values, but reads keep the old ones."""

    async def handle(self, request: Request) -> Response:
        target = request.resource
        if not (request.method == "PATCH" and target and target[0] == "customers" and not target[2]):
            return await self.forward(request)
        before = await self.call(request, "GET", request.path, key=request.key)
        response = await self.forward(request)
        old, change = before.json(), request.json()
        if response.ok and before.ok and isinstance(change, dict):
            restore = {k: old[k] for k in change if k in old}
            await self.call(request, "PATCH", request.path, key=request.key, body=restore)
        return response


class ForbiddenSubscriptionTransitionAccepted(Middleware):
    """Canceling a canceled subscription, or revoking nothing, answers 200 instead of 409."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target = request.resource
        if (request.method == "POST" and target and target[0] == "subscriptions" and target[2]
                and response.code == "invalid_state_transition"):
            current = await self.call(request, "GET", f"/v1/subscriptions/{target[1]}",
                                      key=request.key)
            if current.ok:
                return current
        return response


# --- the catalogue -----------------------------------------------------------------------------

# Requirements the current harness fails although the fault does not break them. Each entry is a
# harness bug (see the report); a fault lists the ones it provokes in `noise`.
HARNESS_ISSUES: dict[str, str] = {
    # none open at the moment; the ones this catalogue found, all fixed in the harness since:
    # problem+json headers never validated (HTTP-005), window-boundary and dedup faults blamed on
    # the aggregations, over-claim range `none` (failures on 1.2.0-only operations charged to
    # every version), failures without reproduction, IDEM-004 passing a server that acts twice,
    # IDEM-003 coupled to NK-002, AUTH-002 failed by state another check destroyed, ERR-003
    # reported `error` when unjudged, usage judged before the declared visibility delay.
}


@dataclass(frozen=True)
class Fault:
    name: str
    middleware: type[Middleware] | None
    selection: str | None  # a `-k` expression of the conformance checks that concern the fault
    requirement: str  # what the harness must fail for this fault
    description: str
    also: tuple[str, ...] = ()  # other requirements the fault honestly breaks
    # Known harness issues (keys of HARNESS_ISSUES), and what they do to this fault's verdict:
    noise: tuple[str, ...] = ()  # failed by the current harness though the fault does not break them
    errors: tuple[str, ...] = ()  # reported `error` (the harness broke) by the current harness
    miss: bool = False  # the current harness does not fail `requirement` for this fault
    no_repro: bool = False  # ... fails it, but with no reproduction in any failure entry
    issues: tuple[str, ...] = ()
    app_options: dict[str, Any] = field(default_factory=dict)

    @property
    def expected(self) -> set[str]:
        return {self.requirement, *self.also}

    def build(self) -> tuple[Any, Any]:
        """(the ASGI app to serve, the reference app inside it, to close after use)."""
        options = {"spec_version": "1.2.0"} | self.app_options
        inner = reference.create_app(keys=KEY_TRIPLES, **options)
        return (self.middleware(inner) if self.middleware else inner), inner


def _f(name: str, middleware: type[Middleware] | None, selection: str | None, requirement: str,
       also: tuple[str, ...] = (), noise: tuple[str, ...] = (), errors: tuple[str, ...] = (),
       miss: bool = False, no_repro: bool = False, issues: tuple[str, ...] = (),
       **app_options: Any) -> Fault:
    doc = (middleware.__doc__ if middleware else "") or ""
    description = app_options.pop("description", None) or doc.strip().splitlines()[0]
    assert all(i in HARNESS_ISSUES for i in issues) and (bool(issues) or not (
        noise or errors or miss or no_repro)), name
    ids = lambda requirements: tuple(f"VAL-{r}" for r in requirements)  # noqa: E731
    return Fault(name, middleware, selection, f"VAL-{requirement}", description, ids(also),
                 ids(noise), ids(errors), miss, no_repro, issues, app_options)


# What the requirement texts say a problem body holds (a `code`, `invalid_params`): a text/plain
# error breaks these too.
_NAMED_CODES = ("ERR-003", "ERR-004", "AUTH-001", "AUTH-002", "NK-001", "CUST-001", "INV-006",
                "INV-007", "SUB-005", "PAGE-004", "EVENT-003", "EVENT-004", "IDEM-002",
                "COUPON-001")
# What a server whose usage lags behind its declaration gets wrong in every usage-based check.
_LATE_USAGE = ("TIME-002", "METER-001", "METER-003", "METER-004", "METER-005", "METER-006", "METER-007",
               "METER-009", "EVENT-002", "INV-003", "MONEY-004", "PRICE-001", "PRICE-002",
               "PRICE-005")

CATALOGUE: list[Fault] = [
    # AUTH
    _f("cross_tenant_read", CrossTenantRead,
       "test_other_organizations_resources_are_not_found", "AUTH-003"),
    _f("read_only_can_write", ReadOnlyCanWrite, "test_read_only_key_cannot_write", "AUTH-002"),
    _f("auth_bypass", AuthBypass, "test_every_operation_requires_a_valid_key", "AUTH-001"),
    _f("no_www_authenticate", NoWwwAuthenticate, "test_every_operation_requires_a_valid_key",
       "AUTH-001", also=("HTTP-005",)),  # the spec marks the header required on 401
    _f("required_header_missing", NoWwwAuthenticate, "test_every_operation_requires_a_valid_key",
       "HTTP-005", also=("AUTH-001",),
       description="the same fault judged as VAL-HTTP-005: a header the spec marks required "
                   "(WWW-Authenticate on 401) is missing"),
    # ERR
    _f("errors_as_plain_text", ErrorsAsPlainText, "test_natural_keys_are_unique_per_organization",
       "ERR-001", also=_NAMED_CODES),
    _f("problem_status_mismatch", ProblemStatusAlways400,
       "test_natural_keys_are_unique_per_organization", "ERR-002"),
    _f("invalid_input_accepted", InvalidCustomerAccepted,
       "test_invalid_input_is_rejected_and_creates_nothing", "ERR-004"),
    _f("name_limit_off_by_one", NameLimitOffByOne,
       "test_fuzz_operation and (createCustomer or updateCustomer) and invalid", "ERR-004"),
    _f("cursor_unreadable_on_some_lists", CursorUnreadableOnSomeLists,
       "test_every_lists_cursor_can_be_followed", "PAGE-001"),
    _f("any_auth_scheme_accepted", AnySchemeAccepted, "test_a_valid_key_outside_the_bearer_scheme",
       "AUTH-001"),
    _f("json_charset_refused", CharsetRefused, "test_json_with_a_charset_parameter", "HTTP-004"),
    _f("name_limit_behind_header_check", HeaderFirstNameOffByOne,
       "test_fuzz_operation and createCustomer and invalid", "ERR-004"),
    _f("server_error_on_non_ascii", ServerErrorOnNonAscii,
       "test_fuzz_operation and (createCustomer or createProduct)", "ERR-006",
       also=("HTTP-004",)),  # a valid request answered 500 was not accepted either
    # HTTP
    _f("required_field_missing", CustomerWithoutMetadata,
       "test_created_resources_read_back_and_update", "HTTP-003",
       also=("COMPAT-001",)),  # "a server MUST still send every field its version requires"
    # META
    _f("range_excludes_declared_version", RangeExcludesDeclaredVersion,
       "test_meta_declares_version_and_range", "META-001"),
    _f("usage_delay_not_declared", HidesUsageDelay, "test_usage_visible_within_declared_delay",
       "META-002", also=_LATE_USAGE, usage_delay=2),
    _f("over_claim", None, None, "META-001",
       # judged as the 1.2.0 it claims: what 1.2.0 adds, and every check of the coupon operations
       also=("METER-009", "SUB-006", "COUPON-001", "COUPON-002", "COUPON-003", "AUTH-001",
             "AUTH-002", "AUTH-003", "AUTH-004", "HTTP-001", "HTTP-004", "HTTP-006"),
       description="declares 1.2.0 in discovery but behaves as 1.1.0 (no coupons, trials, group_by);"
                   " must be reported as an over-claim with the measured range 1.0.0 – 1.1.x",
       spec_version="1.1.0", declare_version="1.2.0"),
    # ID, NK
    _f("id_changes_after_update", IdChangesAfterUpdate,
       "test_created_resources_read_back_and_update", "ID-001"),
    _f("duplicate_natural_key_accepted", DuplicateNaturalKeysAccepted,
       "test_natural_keys_are_unique_per_organization", "NK-001",
       also=("ERR-005", "ERR-003")),  # no 409, hence no `already_exists` code
    _f("natural_keys_global", NaturalKeysUniqueAcrossOrganizations,
       "test_natural_keys_may_repeat_across_organizations", "NK-002"),
    # TIME
    _f("window_start_exclusive", ExclusiveWindowStart,
       "test_windows_are_half_open or (test_aggregations_match_the_oracle and SUM)", "TIME-002",
       also=("METER-001", "METER-005")),  # misses an event of [from, to), also in its first row
    _f("window_end_inclusive", InclusiveWindowEnd,
       "test_windows_are_half_open or (test_aggregations_match_the_oracle and SUM)", "TIME-002",
       also=("METER-001", "METER-005")),  # counts an event outside [from, to), also in its last row
    _f("times_not_utc", LocalTimes, "test_created_resources_read_back_and_update", "TIME-001"),
    # MONEY
    _f("rounding_half_up", RoundsHalfUp, "test_invoice_lines_and_totals", "MONEY-004"),
    _f("lowercase_currency_accepted", LowercaseCurrencyAccepted,
       "test_invalid_input_is_rejected_and_creates_nothing", "MONEY-003"),
    # PAGE, LIST
    _f("page_drops_item", PageDropsItem, "test_every_item_exactly_once_in_order", "PAGE-001",
       also=("LIST-001",)),  # filtered lists lose items too
    _f("page_repeats_item", PageRepeatsItem, "test_every_item_exactly_once_in_order", "PAGE-001",
       also=("LIST-001",)),
    _f("tampered_cursor_accepted", TamperedCursorAccepted,
       "test_bad_cursor_and_limit_are_rejected", "PAGE-004", also=("ERR-003",)),
    _f("list_filter_ignored", InvoiceStatusFilterIgnored, "test_list_filters", "LIST-001"),
    # IDEM
    _f("idempotency_key_ignored", IdempotencyKeyIgnored,
       "test_same_key_same_body_replays or test_same_key_different_body_is_422", "IDEM-001",
       also=("IDEM-002", "IDEM-004", "ERR-003",
             "ERR-004")),  # nor is a malformed Idempotency-Key header rejected any more
    _f("reused_key_acts_again", ReusedKeyActsAgain, "test_same_key_different_body_is_422",
       "IDEM-002", also=("ERR-003",)),
    _f("concurrent_key_acts_twice", ConcurrentKeyActsTwice,
       "test_concurrent_requests_with_one_key_act_once", "IDEM-004"),
    # METER, EVENT
    _f("max_computed_as_min", MaxComputedAsMin, "test_aggregations_match_the_oracle and MAX",
       "METER-004"),
    _f("duplicate_events_counted", DuplicateEventsCounted, "test_ingestion_and_deduplication",
       "EVENT-002"),
    _f("backdating_not_enforced", BackdatingNotEnforced, "test_backdating_window", "EVENT-003",
       also=("ERR-003",)),  # no 400 `event_outside_window`
    # PRICE
    _f("graduated_without_flat_amounts", GraduatedWithoutFlatAmounts,
       "test_invoice_lines_and_totals", "PRICE-002"),
    # CUST, CRUD
    _f("customer_in_use_deleted", CustomerInUseDeleted, "test_customer_deletion", "CUST-001",
       also=("ERR-005",)),  # the conflict is not answered 409
    _f("customer_update_not_stored", CustomerUpdateNotStored,
       "test_created_resources_read_back_and_update", "CRUD-001"),
    # SUB
    _f("forbidden_subscription_transition", ForbiddenSubscriptionTransitionAccepted,
       "test_subscription_states", "SUB-005", also=("ERR-003",)),
    # INV
    _f("subtotal_not_sum_of_lines", SubtotalNotSumOfLines, "test_invoice_lines_and_totals",
       "INV-004", also=("COUPON-003",)),  # the discount no longer matches the stated subtotal
    _f("finalized_invoice_recomputed", FinalizedInvoiceRecomputed,
       "test_finalized_invoices_never_change", "INV-005"),
    _f("finalized_invoice_update_faked", FinalizedInvoiceUpdateFaked,
       "test_finalized_invoices_never_change", "INV-006"),
    _f("forbidden_invoice_transition", ForbiddenInvoiceTransitionAccepted,
       "test_invoice_state_machine", "INV-007", also=("ERR-003",)),
    # COUPON
    _f("invoice_without_coupon", InvoiceWithoutCoupon, "test_coupons", "COUPON-002"),
]

# Boundaries and ties (conformance/test_edges.py): each fault moves one edge or breaks one tie.
CATALOGUE += [
    _f("float_arithmetic", FloatArithmetic, "test_exact_decimal_amounts", "MONEY-002"),
    _f("amounts_through_float", AmountsThroughFloat,
       "test_exact_decimal_amounts or test_amount_range", "MONEY-002",
       also=("MONEY-001",)),  # 2**63 − 1 is served as 2**63
    _f("rounding_half_up_at_ties", RoundsHalfUp, "test_exact_decimal_amounts", "MONEY-004"),
    _f("unreached_tier_flat_fee", UnreachedTierFlatFee, "test_tier_edges", "PRICE-002"),
    _f("volume_up_to_exclusive", VolumeUpToExclusive, "test_tier_edges", "PRICE-002"),
    _f("discount_rounded_half_up", DiscountRoundedHalfUp, "test_discount_ties", "COUPON-003"),
    _f("trial_end_exclusive", TrialEndExclusive, "test_trial_edges", "SUB-006"),
    _f("window_end_inclusive_at_the_edge", InclusiveWindowEnd, "test_window_edges_to_the_millisecond",
       "TIME-002"),
    _f("event_times_rounded_to_second", EventTimesRoundedToSecond,
       "test_window_edges_to_the_millisecond", "TIME-002"),
    _f("latest_tie_first_ingested", LatestTieFirstIngested, "test_latest_ties", "METER-004"),
    _f("backdating_edge_off_by_one_second", BackdatingEdgeOffByOneSecond, "test_backdating_edges",
       "EVENT-003"),
    _f("special_model_accepted", SpecialModelAccepted, "test_special_names_are_not_enum_values",
       "ERR-004"),
    _f("special_aggregation_server_error", SpecialAggregationServerError,
       "test_special_names_are_not_enum_values", "ERR-004", also=("ERR-006",)),
    _f("has_more_on_last_page", HasMoreOnLastPage, "test_last_page_ends_the_list", "PAGE-002"),
]

BY_NAME = {fault.name: fault for fault in CATALOGUE}


@contextlib.contextmanager
def serve(fault: Fault | None = None) -> Iterator[str]:
    """The faulty server (or, without a fault, the reference) over HTTP on loopback."""
    if fault is None:
        app = inner = reference.create_app(keys=KEY_TRIPLES, spec_version="1.2.0")
    else:
        app, inner = fault.build()
    try:
        with reference.serve_in_thread(app) as url:
            yield url
    finally:
        inner.close()


