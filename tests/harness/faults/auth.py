"""Authentication, roles and tenant isolation (AUTH)."""

from __future__ import annotations

from ._base import ADMIN_KEY, ORG_OF, WRITES, App, Middleware, Request, Response


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


class AnySchemeAccepted(Middleware):
    """A known key is accepted in any Authorization scheme (`Token k`, `Basic k`), not only Bearer
    (a check of the credential that forgot the scheme)."""

    async def handle(self, request: Request) -> Response:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" and secret.strip() in ORG_OF:
            request.use_key(secret.strip())
        return await self.forward(request)


class NoWwwAuthenticate(Middleware):
    """401 answers lack the `WWW-Authenticate: Bearer` challenge."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if response.status == 401:
            response.set_header("www-authenticate", None)
        return response


class ForeignCouponAccepted(Middleware):
    """A subscription's `coupon_id` is looked up in every organization: another organization's
    coupon is accepted (201) where a nonexistent one is 404."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.coupons: set[str] = set()  # of every organization

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if request.method == "POST" and request.path == "/v1/coupons" and response.status == 201:
            self.coupons.add(body["id"])
        data = request.json()
        if (request.method == "POST" and request.path == "/v1/subscriptions" and response.status == 404
                and isinstance(data, dict) and data.get("coupon_id") in self.coupons):
            request.set_json({k: v for k, v in data.items() if k != "coupon_id"})
            return await self.forward(request)
        return response
