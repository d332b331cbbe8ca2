"""Discovery (META): what /v1/meta declares."""

from __future__ import annotations

from ._base import Middleware, Request, Response


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
