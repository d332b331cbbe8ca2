"""Resource lifecycle and subscription states (CUST, CRUD, SUB)."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Any

from ._base import App, Middleware, Request, Response, iso, parse_time, problem, resources


class CustomerInUseDeleted(Middleware):
    """Deleting a customer that has subscriptions answers 204 and hides it (instead of 409)."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.hidden: set[tuple[str | None, str]] = set()

    async def handle(self, request: Request) -> Response:
        target = request.resource
        if target and target[0] == "customers" and (request.org, target[1]) in self.hidden:
            return problem(404, "not_found", f"No customer with id {target[1]!r}.")
        response = await self.forward(request)
        if (request.method == "DELETE" and target and target[0] == "customers"
                and response.code == "resource_in_use"):
            self.hidden.add((request.org, target[1]))
            return Response(204, [])
        if request.listing == "customers" and response.ok:
            body = response.json()
            body["data"] = [c for c in body["data"] if (request.org, c.get("id")) not in self.hidden]
            response.set_json(body)
        return response


class CustomerUpdateNotStored(Middleware):
    """A customer update answers 200 with the new values, but reads keep the old ones."""

    async def handle(self, request: Request) -> Response:
        target = request.resource
        if not (request.method == "PATCH" and target and target[0] == "customers" and not target[2]):
            return await self.forward(request)
        before = await self.call(request, "GET", request.path, key=request.key)
        response = await self.forward(request)
        old, change = before.json(), request.json()
        if response.ok and before.ok and isinstance(change, dict):
            restore = {k: old[k] for k in change if k in old}
            await self.call(request, "PATCH", request.path, key=request.key, body=restore)
        return response


class ForbiddenSubscriptionTransitionAccepted(Middleware):
    """Canceling a canceled subscription, or revoking nothing, answers 200 instead of 409."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target = request.resource
        if (request.method == "POST" and target and target[0] == "subscriptions" and target[2]
                and response.code == "invalid_state_transition"):
            current = await self.call(request, "GET", f"/v1/subscriptions/{target[1]}",
                                      key=request.key)
            if current.ok:
                return current
        return response


class VoidInvoiceDeletable(Middleware):
    """A void invoice may be deleted (204, then 404), as if void meant "never issued"; open,
    paid and uncollectible ones are still refused."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.deleted: set[str] = set()

    async def handle(self, request: Request) -> Response:
        found = request.resource
        if found and found[0] == "invoices" and found[1] in self.deleted:
            return problem(404, "not_found", "No such invoice.")
        if request.method == "DELETE" and found and found[0] == "invoices" and not found[2]:
            current = await self.call(request, "GET", request.path, key=request.key)
            if request.role == "admin" and current.ok and current.json().get("status") == "void":
                self.deleted.add(found[1])
                return Response(204, [])
        response = await self.forward(request)
        body = response.json()
        if request.listing == "invoices" and response.ok and isinstance(body, dict):
            body["data"] = [i for i in body["data"] if i.get("id") not in self.deleted]
            response.set_json(body)
        return response


class CustomerWithCanceledSubscriptionDeleted(CustomerInUseDeleted):
    """"In use" counts live subscriptions only: a customer whose subscriptions are all canceled
    is deleted (204, then hidden) instead of 409."""

    async def handle(self, request: Request) -> Response:
        target = request.resource
        if request.method == "DELETE" and target and target[0] == "customers" and target[2] is None:
            subs = await self.call(request, "GET", "/v1/subscriptions", key=request.key,
                                   query={"customer_id": target[1], "limit": "100"})
            data = subs.json().get("data") if subs.ok else None
            if not data or any(s.get("status") != "canceled" for s in data):
                return await self.forward(request)  # no subscription, or a live one: as it should
        return await super().handle(request)


class CancelAtPeriodEndOnCanceled(Middleware):
    """The "already canceled" 409 is checked on the immediate path only: scheduling the
    cancellation of a canceled subscription (`at_period_end: true`) answers 200, unchanged."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target, body = request.resource, request.json()
        if (response.status == 409 and target and target[0] == "subscriptions"
                and target[2] == "cancel" and isinstance(body, dict) and body.get("at_period_end")):
            return await self.call(request, "GET", f"/v1/subscriptions/{target[1]}", key=request.key)
        return response


class TrialingBeforePending(Middleware):
    """A subscription's status looks at the trial before the start: one starting tomorrow with a
    trial after it is `trialing`, not `pending`, and `?status=pending` leaves it out."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if not (response.ok and request.path.startswith("/v1/subscriptions")):
            return response
        tried = [s for s in resources(body) if s.get("status") == "pending" and s.get("trial_end")]
        for subscription in tried:
            subscription["status"] = "trialing"
        if request.listing and request.param("status") == "pending":
            body["data"] = [s for s in body["data"] if s not in tried]
        response.set_json(body)
        return response


class TrialMayEndAtStart(Middleware):
    """`trial_end` is checked with `<` for `<=`: one equal to `start_at` is taken (no trial)."""

    async def handle(self, request: Request) -> Response:
        body = request.json()
        if not (request.method == "POST" and request.path == "/v1/subscriptions" and isinstance(body, dict)
                and body.get("trial_end") and body.get("start_at")
                and parse_time(body["trial_end"]) == parse_time(body["start_at"])):
            return await self.forward(request)
        request.set_json({k: v for k, v in body.items() if k != "trial_end"})
        response = await self.forward(request)
        if response.ok:
            response.set_json(response.json() | {"trial_end": body["trial_end"]})
        return response


class RevokeOnlyWhenActive(Middleware):
    """Revoking a scheduled cancellation is refused (409) unless the subscription is `active`:
    one scheduled while `pending` or `trialing` cannot be revoked."""

    async def handle(self, request: Request) -> Response:
        target = request.resource
        if (request.method == "POST" and target and target[0] == "subscriptions"
                and target[2] == "revoke_cancellation"):
            current = await self.call(request, "GET", f"/v1/subscriptions/{target[1]}", key=request.key)
            if current.ok and current.json().get("status") != "active":
                return problem(409, "invalid_state_transition", "Only an active subscription can revoke.")
        return await self.forward(request)


class SubscriptionReadsRewritten(Middleware):
    """Each subscription a response holds, changed in place by `rewrite` (a fault)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if not (response.ok and request.path.startswith("/v1/subscriptions")):
            return response
        body = response.json()
        for sub in resources(body):
            self.rewrite(sub)
        response.set_json(body)
        return response

    def rewrite(self, sub: dict[str, Any]) -> None:
        raise NotImplementedError


def _period(sub: dict[str, Any]) -> tuple[datetime, datetime]:
    return parse_time(sub["current_period_start"]), parse_time(sub["current_period_end"])


class CanceledPeriodHoldsCanceledAt(SubscriptionReadsRewritten):
    """A canceled subscription shows the period holding `canceled_at`: canceled at its period's
    end, that is the next period, where the spec keeps the last one it was in."""

    def rewrite(self, sub: dict[str, Any]) -> None:
        begin, end = _period(sub)
        if sub.get("canceled_at") and parse_time(sub["canceled_at"]) >= end:
            sub["current_period_start"], sub["current_period_end"] = iso(end), iso(end + (end - begin))


class MonthsAddedToTheLastEdge(SubscriptionReadsRewritten):
    """A monthly period ends a month after its own start, not `start_at` + (k+1) months: after a
    start on the 31st has been clamped to the 30th, every later period ends on the 30th."""

    def rewrite(self, sub: dict[str, Any]) -> None:
        begin, end = _period(sub)
        if end - begin >= timedelta(days=28):
            year, month = divmod(begin.year * 12 + begin.month, 12)
            last_day = calendar.monthrange(year, month + 1)[1]
            sub["current_period_end"] = iso(begin.replace(year=year, month=month + 1,
                                                          day=min(begin.day, last_day)))


class ScheduledCancellationIgnored(SubscriptionReadsRewritten):
    """A scheduled cancellation never takes effect: past `cancel_at`, the subscription still
    reads `active` (a job that should end it never runs)."""

    def rewrite(self, sub: dict[str, Any]) -> None:
        if (sub.get("status") == "canceled" and sub.get("cancel_at") and sub.get("canceled_at")
                and parse_time(sub["canceled_at"]) == parse_time(sub["cancel_at"])):
            sub["status"], sub["canceled_at"] = "active", None


class LateStartRefused(Middleware):
    """A start_at in year 9999 is refused (400) even when its first period ends within it: the
    server checks that two periods fit, where only the first needs to."""

    async def handle(self, request: Request) -> Response:
        body = request.json()
        if (request.method == "POST" and request.path == "/v1/subscriptions" and isinstance(body, dict)
                and str(body.get("start_at", "")).startswith("9999-")):
            return problem(400, "invalid_request", "start_at is too late")
        return await self.forward(request)
