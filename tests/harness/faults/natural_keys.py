"""Natural keys (NK): unique per organization, and only there."""

from __future__ import annotations

import itertools
import re

from ._base import App, Middleware, Request, Response, problem, resources


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
