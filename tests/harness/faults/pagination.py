"""Pagination and list filters (PAGE, LIST)."""

from __future__ import annotations

from typing import Any

from ._base import App, Middleware, Request, Response, problem


class CursorUnreadableOnSomeLists(Middleware):
    """The meter and price lists cannot decode their own cursors (a padding bug that only some
    cursor lengths meet): following next_cursor there answers 400."""

    async def handle(self, request: Request) -> Response:
        if request.path in ("/v1/meters", "/v1/prices") and any(k == "cursor" for k, _ in request.query):
            return problem(400, "invalid_cursor", "the cursor cannot be decoded")
        return await self.forward(request)


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


class HasMoreOnLastPage(Middleware):
    """The last page of a list says `has_more: true` (with `next_cursor: null`)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if request.listing and response.ok and isinstance(body, dict) and body.get("has_more") is False:
            body["has_more"] = True
            response.set_json(body)
        return response


class ActiveFilterIncludesTrialing(Middleware):
    """`status=active` on the subscription list also returns trialing subscriptions (a trial is
    "active" to this implementer: `status IN ('active', 'trialing')`)."""

    async def handle(self, request: Request) -> Response:
        if request.listing != "subscriptions" or request.param("status") != "active":
            return await self.forward(request)
        request.set_param("status", None)
        response = await self.forward(request)
        body = response.json()
        if response.ok and isinstance(body, dict):
            body["data"] = [s for s in body["data"] if s.get("status") in ("active", "trialing")]
            response.set_json(body)
        return response


class CouponListOldestFirst(Middleware):
    """Each page of the coupon list is sorted oldest first (an ORDER BY without DESC in that one
    list's query; the cursor still walks from newest to oldest)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if request.listing == "coupons" and response.ok and isinstance(body, dict):
            body["data"] = body["data"][::-1]
            response.set_json(body)
        return response


class OtherListsCursorAccepted(Middleware):
    """Cursors name a position but not their list: one issued by the organization's customer
    list is accepted by its meter list (answered here from the first page), not 400."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.issued_by: dict[str, tuple[str | None, str]] = {}

    async def handle(self, request: Request) -> Response:
        issuer = self.issued_by.get(request.param("cursor") or "")
        if request.listing and issuer and issuer != (request.org, request.path):
            request.set_param("cursor", None)
        response = await self.forward(request)
        body = response.json()
        if request.listing and response.ok and isinstance(body, dict) and body.get("next_cursor"):
            self.issued_by[str(body["next_cursor"])] = (request.org, request.path)
        return response


class FiltersDroppedAfterCursor(Middleware):
    """A page reached through a cursor ignores the list's filters (the cursor query is built
    without them): only the first page is filtered."""

    async def handle(self, request: Request) -> Response:
        if request.listing and request.param("cursor"):
            request.query = [(k, v) for k, v in request.query if k in ("cursor", "limit")]
        return await self.forward(request)


class HasMoreWhenPageFull(Middleware):
    """`has_more` says whether the page is full, not whether anything follows: a last page of
    exactly `limit` items says `has_more: true`, and its cursor leads to an empty page."""

    END = "end-of-list"

    async def handle(self, request: Request) -> Response:
        if request.listing and request.param("cursor") == self.END:
            answer = Response(200, [("content-type", "application/json")])
            answer.set_json({"data": [], "has_more": False, "next_cursor": None})
            return answer
        response = await self.forward(request)
        body = response.json()
        limit = request.param("limit") or "20"
        if (request.listing and response.ok and isinstance(body, dict) and body.get("has_more") is False
                and limit.isdigit() and len(body.get("data") or []) == int(limit)):
            body["has_more"], body["next_cursor"] = True, self.END
            response.set_json(body)
        return response


class ActiveTrueFilterIgnored(Middleware):
    """`active=true` on the price list is dropped (only `false` is read as a filter): every price
    of the product comes back, inactive ones too."""

    async def handle(self, request: Request) -> Response:
        if request.listing == "prices" and request.param("active") == "true":
            request.set_param("active", None)
        return await self.forward(request)
