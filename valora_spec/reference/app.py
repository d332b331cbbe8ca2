"""The ASGI application: one request's way from routing to a JSON or problem+json answer.

Order of the checks: route (404) and method (405), API key (401), rate limit (429), role for
writes (403), parameters and body against the spec version's schemas (400), idempotency
(replay or 422), then the handler, all of it under the database lock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response

from valora_spec.reference._auth import KeyRing, default_keys
from valora_spec.reference._context import Ctx, Reply, ServerInfo
from valora_spec.reference._db import Database
from valora_spec.reference._idempotency import IdempotencyStore, StoredResponse, fingerprint
from valora_spec.reference._jsonschema import SchemaSet
from valora_spec.reference._operations import Operation, load_operations
from valora_spec.reference._problems import PROBLEM_MEDIA_TYPE, ApiError, invalid_request
from valora_spec.reference._ratelimit import RateLimiter
from valora_spec.reference._router import Router
from valora_spec.reference._spec import NEWEST_VERSION, Features, load_spec
from valora_spec.reference._times import now_us
from valora_spec.reference._validation import (
    MAX_BODY_BYTES,
    parse_body,
    validate_headers,
    validate_path_params,
    validate_query,
)
from valora_spec.reference.routes import HANDLERS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("reference")

JSON_MEDIA_TYPE = "application/json"


class ReferenceApp:
    """A plain ASGI app; wrap it in middlewares freely."""

    def __init__(
        self,
        *,
        keys: list[tuple[str, str, str]] | None,
        db_path: str | None,
        spec_version: str,
        declare_version: str | None,
        rate_limit: float | None,
        usage_delay: float,
    ) -> None:
        self.spec_version = spec_version
        self.api_keys = list(keys) if keys is not None else default_keys()
        self.key_ring = KeyRing(self.api_keys)
        operations = load_operations(SchemaSet(load_spec(spec_version)))
        unhandled = {op.operation_id for op in operations.values()} - set(HANDLERS)
        if unhandled:
            raise RuntimeError(f"no handler for operations {sorted(unhandled)}")
        self.router = Router(operations)
        self.features = Features(spec_version)
        if usage_delay < 0:
            raise ValueError("usage_delay must not be negative")
        self.info = ServerInfo(declare_version or spec_version, usage_delay)
        self.limiter = RateLimiter(rate_limit) if rate_limit else None
        self.db = Database(db_path)
        self.idempotency = IdempotencyStore(self.db)

    def close(self) -> None:
        self.db.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            response = await self._respond(scope, receive)
        except ApiError as error:
            response = problem_response(error)
        except Exception:
            logger.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            response = problem_response(
                ApiError(500, "internal_error", "The server failed to answer this request.")
            )
        await response(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive) -> Response:
        found = self.router.match(scope["path"])
        if found is None:
            raise ApiError(404, "not_found", "No such path in this API.")
        route, path_params = found
        operation = route.operations.get(scope["method"])
        if operation is None:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{scope['method']} is not allowed here; allowed: {route.allow}.",
                headers={"Allow": route.allow},
            )
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        api_key = self.key_ring.authenticate(headers.get("authorization"))
        if self.limiter is not None:
            self.limiter.take(api_key.key)
        if operation.is_write and not api_key.can_write:
            raise ApiError(403, "forbidden", "This API key is read-only.")
        validate_path_params(operation, path_params)
        query = validate_query(operation, _query_pairs(scope))
        validate_headers(operation, headers)
        raw_body = await _read_body(receive) if operation.body is not None else b""
        body = parse_body(operation, raw_body, headers.get("content-type"))
        idempotency_key = headers.get("idempotency-key") if operation.method == "POST" else None
        return self._execute(
            operation, api_key.org, path_params, query, body, scope["path"], idempotency_key
        )

    def _execute(
        self,
        operation: Operation,
        org: str,
        path_params: dict[str, str],
        query: dict[str, Any],
        body: Any,
        path: str,
        idempotency_key: str | None,
    ) -> Response:
        with self.db.lock:
            now = now_us()
            ctx = Ctx(self.db, org, now, self.features, self.info, path_params, query, body)
            handler = HANDLERS[operation.operation_id]
            if not operation.is_write:
                return reply_response(handler(ctx))
            if idempotency_key is None:
                with self.db.transaction():
                    return reply_response(handler(ctx))
            # Keys are scoped per organization and per operation path (VAL-IDEM-003).
            scope_key = (org, f"{operation.method} {path}", idempotency_key, fingerprint(body))
            return self._execute_once(handler, ctx, scope_key)

    def _execute_once(
        self, handler: Callable[[Ctx], Reply], ctx: Ctx, scope_key: tuple[str, str, str, str]
    ) -> Response:
        """Act on the first use of an idempotency key, replay its answer on every repeat."""
        stored = self.idempotency.lookup(*scope_key, ctx.now)
        if stored is not None:
            return _replay(stored)
        try:
            with self.db.transaction():
                response = reply_response(handler(ctx))
                answer = StoredResponse(response.status_code, bytes(response.body),
                                        response.media_type or "")
                self.idempotency.store(*scope_key, ctx.now, answer)
            return response
        except ApiError as error:
            # The handler's answer, error or not, is the answer to every repeat.
            with self.db.transaction():
                failure = StoredResponse(error.status, error.body(), PROBLEM_MEDIA_TYPE)
                self.idempotency.store(*scope_key, ctx.now, failure)
            raise


def reply_response(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status)
    content = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status_code=reply.status, media_type=JSON_MEDIA_TYPE)


def problem_response(error: ApiError) -> Response:
    return Response(
        error.body(), status_code=error.status, headers=error.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _replay(stored: StoredResponse) -> Response:
    return Response(
        stored.body, status_code=stored.status, media_type=stored.content_type,
        headers={"Idempotent-Replayed": "true"},
    )


def _query_pairs(scope: Scope) -> list[tuple[str, str]]:
    text = scope.get("query_string", b"").decode("latin-1")
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=100, errors="replace")
    except ValueError:
        raise invalid_request("query", "has too many parameters") from None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise invalid_request("body", f"must be at most {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(
    *,
    keys: list[tuple[str, str, str]] | None,
    db_path: str | None = None,
    spec_version: str = NEWEST_VERSION,
    declare_version: str | None = None,
    rate_limit: float | None = None,
    usage_delay: float = 0,
) -> ReferenceApp:
    """A Valora reference server behaving exactly as `spec_version`.

    `keys` are (organization, role, key) triples, role `admin` or `read_only`; None creates
    org_a and org_b with random admin keys and a read-only key for org_a (see `.api_keys`).
    `declare_version` makes `GET /v1/meta` claim another version than the one behaved.
    """
    return ReferenceApp(
        keys=keys,
        db_path=db_path,
        spec_version=spec_version,
        declare_version=declare_version,
        rate_limit=rate_limit,
        usage_delay=usage_delay,
    )
