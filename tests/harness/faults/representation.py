"""How resources are written (HTTP-003, ID, TIME-001): required fields, stable ids, UTC times."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from ._base import UTC_TIME, App, Middleware, Request, Response, parse_time, resources


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
