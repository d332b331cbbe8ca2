"""HTTP and error responses (HTTP, ERR): media types, problem bodies, 5xx."""

from __future__ import annotations

from ._base import WRITES, Middleware, Request, Response, problem


class CharsetRefused(Middleware):
    """A JSON body labelled `application/json; charset=utf-8` is refused as an unsupported type
    (the media type compared with its parameters)."""

    async def handle(self, request: Request) -> Response:
        if request.method in WRITES and "charset" in request.headers.get("content-type", ""):
            return problem(400, "invalid_request", "unsupported content type")
        return await self.forward(request)


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


class ServerErrorOnNonAscii(Middleware):
    """Any non-ASCII character in the path, query or body crashes the server (500)."""

    async def handle(self, request: Request) -> Response:
        text = request.path + "".join(k + v for k, v in request.query)
        if not text.isascii() or not request.body.isascii():
            return problem(500, "internal_error", "'ascii' codec can't encode character")
        return await self.forward(request)


class QueryErrorsAre422(Middleware):
    """A GET whose query is invalid answers 422 (a web framework's default), which no list or
    read operation documents: their invalid input is a 400."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if request.method == "GET" and response.status == 400 and isinstance(body, dict):
            response.status = 422
            response.set_json(body | {"status": 422})
        return response


class ReceiptsAsText(Middleware):
    """Event ingestion answers its 202 receipt as `text/plain`, not the documented
    `application/json` (the body itself is unchanged JSON)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if request.method == "POST" and request.path.startswith("/v1/events") and response.ok:
            response.set_header("content-type", "text/plain; charset=utf-8")
        return response


class QueryErrorsWithoutInvalidParams(Middleware):
    """Query strings are validated by a separate layer that answers 400 `invalid_request`
    without `invalid_params`; body validation still lists the fields."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json() if response.status == 400 else None
        if request.method == "GET" and isinstance(body, dict) and body.get("code") == "invalid_request":
            body.pop("invalid_params", None)
            response.set_json(body)
        return response
