"""What every faulty server is made of: requests and responses as plain data, and the middleware
every fault derives from."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from harness_suite import KEY_TRIPLES

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
        # escaped: a lone surrogate the client sent as "\ud800" has no UTF-8 form
        self.body = json.dumps(value).encode()
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
