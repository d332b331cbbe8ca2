"""Idempotency keys (IDEM)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from ._base import App, Middleware, Request, Response, problem


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


class IdempotencyBodyComparedAsBytes(Middleware):
    """A key's body is compared byte for byte: the same JSON value with its members in another
    order is answered 422 `idempotency_key_reused` instead of replayed."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.first: dict[tuple[str | None, str, str], bytes] = {}

    async def handle(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or not key:
            return await self.forward(request)
        first = self.first.setdefault((request.org, request.path, key), request.body)
        with contextlib.suppress(ValueError):
            if first != request.body and json.loads(first) == request.json():
                return problem(422, "idempotency_key_reused", "the key was used with another body")
        return await self.forward(request)


class KeysForgottenTooSoon(Middleware):
    """Keys are kept for a second, not 24 hours (a prune deleting live keys): a repeat sent later
    acts again, here a second create of the same customer, 409."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.first_use: dict[tuple[str | None, str, str], float] = {}

    async def handle(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or not key:
            return await self.forward(request)
        first = self.first_use.setdefault((request.org, request.path, key), time.monotonic())
        if time.monotonic() - first > 1.0:
            request.headers.pop("idempotency-key")
        return await self.forward(request)
