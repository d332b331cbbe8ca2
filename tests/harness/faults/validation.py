"""Input validation (ERR-004, MONEY-003): bodies a correct server refuses, accepted or refused wrongly."""

from __future__ import annotations

import secrets
from decimal import Decimal

from ._base import Middleware, Request, Response, now_iso, problem


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


class LowercaseCurrencyAccepted(Middleware):
    """Price currencies are upper-cased before validation, so `eur` is accepted."""

    async def handle(self, request: Request) -> Response:
        data = request.json()
        if (request.method == "POST" and request.path == "/v1/prices" and isinstance(data, dict)
                and isinstance(data.get("currency"), str)):
            data["currency"] = data["currency"].upper()
            request.set_json(data)
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


class AggregationCaseInsensitive(Middleware):
    """A meter's `aggregation` is upper-cased before validation, so `sum` or `Max` is accepted
    although the enum holds upper-case values only."""

    async def handle(self, request: Request) -> Response:
        if request.method in ("POST", "PATCH") and request.path.startswith("/v1/meters"):
            body = request.json()
            if isinstance(body, dict) and isinstance(body.get("aggregation"), str):
                body["aggregation"] = body["aggregation"].upper()
                request.set_json(body)
        return await self.forward(request)


class PercentOffReadAsNumber(Middleware):
    """A coupon's `percent_off` is checked as a number from 0 to 100, not by its pattern, so
    "100.00", "5.500" and "007" are accepted (and stored normalized)."""

    async def handle(self, request: Request) -> Response:
        body = request.json()
        if request.method == "POST" and request.path == "/v1/coupons" and isinstance(body, dict):
            value = body.get("percent_off")
            if isinstance(value, str) and value.replace(".", "", 1).isdigit():
                number = Decimal(value)
                if 0 <= number <= 100 and number == round(number, 2):
                    body["percent_off"] = format(number.normalize(), "f")
                    request.set_json(body)
        return await self.forward(request)


class LoneSurrogateServerError(Middleware):
    """A string escaping a lone UTF-16 surrogate (`"\\ud800"`) is passed on to storage, whose
    UTF-8 encoder fails: 500."""

    async def handle(self, request: Request) -> Response:
        if request.method == "POST" and b"\\ud8" in request.body.lower():
            return problem(500, "internal_error", "'utf-8' codec can't encode character '\\ud800'")
        return await self.forward(request)


class QueryTextCoerced(Middleware):
    """Query values are read as the type they look like before validation: a usage query for
    customer `0042` asks for customer `42`, one for `true` asks for `True`."""

    async def handle(self, request: Request) -> Response:
        customer = request.param("customer")
        if request.path.endswith("/usage") and customer:
            if customer.isdigit():
                request.set_param("customer", str(int(customer)))
            elif customer in ("true", "false"):
                request.set_param("customer", customer.title())
        return await self.forward(request)


class PathIdLengthNotValidated(Middleware):
    """Path parameters skip validation: an id over the Id schema's 64 characters is looked up
    like any other and answered 404, where it is invalid input (400)."""

    async def handle(self, request: Request) -> Response:
        target = request.resource
        if target and len(target[1]) > 64:
            return problem(404, "not_found", f"No {target[0][:-1]} with id {target[1]!r}.")
        return await self.forward(request)
