"""Invoices and their arithmetic (MONEY, PRICE, INV, COUPON, SUB-006): amounts, tiers, discounts,
trials, finalized invoices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ._base import ADMIN_KEY, App, Middleware, Request, Response, iso, now_iso, parse_time, resources


def _fraction(text: Any) -> Fraction:
    return Fraction(Decimal(str(text)))


def _round(value: Fraction, mode: str) -> int:
    if mode == "half_up":
        return math.floor(value + Fraction(1, 2))
    return round(value)  # half-even


def exact_amount(price: dict[str, Any], quantity: Fraction, *, graduated_flat: bool = True,
                 flat_times_quantity: bool = True, package_round: Callable = math.ceil,
                 reached_at_lower: bool = False, volume_inclusive: bool = True) -> Fraction:
    """A line's unrounded amount in minor units; the keyword arguments switch in faults."""
    model = price["model"]
    if model == "flat":
        return Fraction(price["flat_amount"]) * (quantity if flat_times_quantity else 1)
    if model == "per_unit":
        return _fraction(price["unit_amount"]) * quantity
    if model == "package":
        return Fraction(package_round(quantity / price["package_size"]) * price["package_amount"])
    tiers = price["tiers"]
    if price["tiers_mode"] == "volume":
        tier = next(t for t in tiers if t["up_to"] is None or quantity <= t["up_to"] and volume_inclusive
                    or quantity < t["up_to"])
        return _fraction(tier["unit_amount"]) * quantity + (tier.get("flat_amount") or 0)
    total, lower = Fraction(0), Fraction(0)
    for tier in tiers:
        if quantity < lower or (quantity == lower and not reached_at_lower):
            break
        upper = quantity if tier["up_to"] is None else min(quantity, Fraction(tier["up_to"]))
        total += _fraction(tier["unit_amount"]) * (upper - lower)
        if graduated_flat:
            total += tier.get("flat_amount") or 0
        if tier["up_to"] is None:
            break
        lower = Fraction(tier["up_to"])
    return total


class InvoiceArithmetic(Middleware):
    """Serves every invoice with lines recomputed by `line`, subtotal and total kept consistent.

    A line is only recomputed when the correct formula reproduces the reference's amount (so a
    trial's zero stays zero); subclasses change `line`.
    """

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.cache: dict[tuple[str, str], dict[str, Any] | None] = {}

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.ok and request.path.startswith("/v1/invoices") and request.key:
            changed = False
            for invoice in resources(body):
                changed |= await self.rewrite(request, invoice)
            if changed:
                response.set_json(body)
        return response

    async def fetch(self, request: Request, path: str) -> dict[str, Any] | None:
        slot = (request.key or "", path)
        if slot not in self.cache:
            reply = await self.call(request, "GET", path, key=request.key)
            self.cache[slot] = reply.json() if reply.ok else None
        return self.cache[slot]

    async def rewrite(self, request: Request, invoice: dict[str, Any]) -> bool:
        changed = False
        for line in invoice.get("lines") or []:
            price = await self.fetch(request, f"/v1/prices/{line.get('price_id')}")
            if price is None:
                continue
            quantity = _fraction(line["quantity"])
            if _round(exact_amount(price, quantity), "half_even") != line["amount"]:
                continue
            before = dict(line)
            self.line(price, line, quantity)
            changed |= line != before
        if changed:
            await self.totals(request, invoice)
        return changed

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        raise NotImplementedError

    async def totals(self, request: Request, invoice: dict[str, Any]) -> None:
        invoice["subtotal"] = sum(line["amount"] for line in invoice["lines"])
        if invoice.get("coupon_id"):
            coupon = await self.fetch(request, f"/v1/coupons/{invoice['coupon_id']}")
            if coupon is not None:
                share = _fraction(coupon["percent_off"]) / 100
                invoice["discount"] = max(0, round(share * invoice["subtotal"]))
        invoice["total"] = invoice["subtotal"] - (invoice.get("discount") or 0)


class RoundsHalfUp(InvoiceArithmetic):
    """Line amounts are rounded half-up (2.5 → 3) instead of half-even (2.5 → 2)."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        line["amount"] = _round(exact_amount(price, quantity), "half_up")


class NegativeUsageBilledZero(InvoiceArithmetic):
    """A per-unit line for a negative quantity (a usage credit) is billed 0, as if usage were
    clamped at zero, instead of unit_amount × quantity."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        if price["model"] == "per_unit" and quantity < 0:
            line["amount"] = 0


class GraduatedWithoutFlatAmounts(InvoiceArithmetic):
    """Graduated tiers charge the unit rates but forget each reached tier's flat_amount."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        line["amount"] = _round(exact_amount(price, quantity, graduated_flat=False), "half_even")


class GraduatedRoundedPerTier(InvoiceArithmetic):
    """Each graduated tier's charge is rounded (half-even) on its own, then summed: 3 units over
    two tiers of 0.5 are 0 + 1 = 1, not 1.5 → 2."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        if price["model"] != "tiered" or price["tiers_mode"] != "graduated":
            return
        total, lower = 0, Fraction(0)
        for tier in price["tiers"]:
            if quantity <= lower:
                break
            upper = quantity if tier["up_to"] is None else min(quantity, Fraction(tier["up_to"]))
            total += _round(_fraction(tier["unit_amount"]) * (upper - lower), "half_even")
            total += tier.get("flat_amount") or 0
            if tier["up_to"] is None:
                break
            lower = Fraction(tier["up_to"])
        line["amount"] = total


class FloatArithmetic(InvoiceArithmetic):
    """Per-unit lines are computed in binary floating point: round(float(quantity) × float(rate))."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        if price["model"] == "per_unit":
            line["amount"] = round(float(line["quantity"]) * float(price["unit_amount"]))


class UnreachedTierFlatFee(InvoiceArithmetic):
    """Graduated tiers bill the next tier's flat_amount as soon as the quantity reaches the previous
    `up_to` (`>=` for `>`): at exactly 10 of `up_to: 10` the second tier's fee is billed too."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        line["amount"] = _round(exact_amount(price, quantity, reached_at_lower=True), "half_even")


class VolumeUpToExclusive(InvoiceArithmetic):
    """Volume tiers treat `up_to` as exclusive: a quantity of exactly 10 falls in the next tier."""

    def line(self, price: dict[str, Any], line: dict[str, Any], quantity: Fraction) -> None:
        line["amount"] = _round(exact_amount(price, quantity, volume_inclusive=False), "half_even")


class AmountsThroughFloat(Middleware):
    """Invoice amounts pass through a binary float on the way out (a JSON library's double):
    integers above 2**53 lose their last digits, 2**63 − 1 becomes 2**63."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.ok and request.path.startswith("/v1/invoices"):
            for invoice in resources(body):
                for holder in [invoice, *(invoice.get("lines") or [])]:
                    for name in ("amount", "subtotal", "discount", "total"):
                        if isinstance(holder.get(name), int):
                            holder[name] = int(float(holder[name]))
            response.set_json(body)
        return response


class DiscountRoundedHalfUp(Middleware):
    """Coupon discounts are rounded half-up (2.5 → 3) instead of half-even (2.5 → 2)."""

    def discount(self, share: Fraction, invoice: dict[str, Any]) -> int:
        return max(0, _round(share * invoice["subtotal"], "half_up"))

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if not (response.ok and request.path.startswith("/v1/invoices") and request.key):
            return response
        for invoice in resources(body):
            if invoice.get("coupon_id") and isinstance(invoice.get("subtotal"), int):
                coupon = await self.call(request, "GET", f"/v1/coupons/{invoice['coupon_id']}",
                                         key=request.key)
                if coupon.ok:
                    share = _fraction(coupon.json()["percent_off"]) / 100
                    invoice["discount"] = self.discount(share, invoice)
                    invoice["total"] = max(0, invoice["subtotal"] - invoice["discount"])
        response.set_json(body)
        return response


class NegativeDiscount(DiscountRoundedHalfUp):
    """The discount is not clamped at 0: 50 % of a subtotal of -100 (usage credited back) is a
    discount of -50 (the total is still clamped: 0)."""

    def discount(self, share: Fraction, invoice: dict[str, Any]) -> int:
        return _round(share * invoice["subtotal"], "half_even")


class DiscountPerLine(DiscountRoundedHalfUp):
    """The discount is the sum of each line's rounded discount, not the subtotal's: two lines of
    5 at 10 % are discounted 0 + 0, not 1."""

    def discount(self, share: Fraction, invoice: dict[str, Any]) -> int:
        amounts = [line.get("amount") for line in invoice.get("lines") or []]
        return max(0, sum(_round(share * a, "half_even") for a in amounts if isinstance(a, int)))


class TrialMisbilled(Middleware):
    """A generated invoice of a subscription with a trial, re-billed by `rebill` (a fault)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        invoice = response.json()
        if not (request.method == "POST" and request.path == "/v1/invoices" and response.status == 201
                and isinstance(invoice, dict)):
            return response
        sub = await self.call(request, "GET", f"/v1/subscriptions/{invoice['subscription_id']}",
                              key=request.key)
        trial_end = sub.json().get("trial_end") if sub.ok else None
        if trial_end and await self.rebill(request, invoice, parse_time(trial_end)):
            response.set_json(invoice)
        return response

    async def rebill(self, request: Request, invoice: dict[str, Any], trial_end: datetime) -> bool:
        raise NotImplementedError


class TrialEndExclusive(TrialMisbilled):
    """An invoice whose period ends exactly at `trial_end` is billed as after the trial (`<` for
    `<=`): its flat lines carry their full amount."""

    async def rebill(self, request: Request, invoice: dict[str, Any], trial_end: datetime) -> bool:
        if trial_end != parse_time(invoice["period_end"]):
            return False
        for line in invoice.get("lines") or []:
            price = await self.call(request, "GET", f"/v1/prices/{line['price_id']}", key=request.key)
            if price.ok and price.json()["model"] == "flat":
                line["amount"] = price.json()["flat_amount"] * int(Decimal(line["quantity"]))
        invoice["subtotal"] = sum(line["amount"] for line in invoice["lines"])
        invoice["total"] = max(0, invoice["subtotal"] - (invoice.get("discount") or 0))
        return True


class TrialFreesEveryLine(TrialMisbilled):
    """An invoice within a trial bills nothing at all: its metered lines are 0 too, where only
    flat lines are free."""

    async def rebill(self, request: Request, invoice: dict[str, Any], trial_end: datetime) -> bool:
        if parse_time(invoice["period_end"]) > trial_end:
            return False
        for line in invoice.get("lines") or []:
            line["amount"] = 0
        invoice["subtotal"] = invoice["total"] = 0
        return True


class SubtotalNotSumOfLines(Middleware):
    """Invoices carry a subtotal (and total) 100 minor units above the sum of their lines."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.ok and request.path.startswith("/v1/invoices"):
            for invoice in resources(body):
                if isinstance(invoice.get("subtotal"), int):
                    invoice["subtotal"] += 100
                    invoice["total"] += 100
            if isinstance(body, dict):
                response.set_json(body)
        return response


class InvoiceWithoutCoupon(Middleware):
    """Invoices of a subscription with a coupon are discounted but do not name the coupon."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if response.ok and request.path.startswith("/v1/invoices"):
            for invoice in resources(body):
                if "coupon_id" in invoice:
                    invoice["coupon_id"] = None
            if isinstance(body, dict):
                response.set_json(body)
        return response


class FinalizedInvoiceRecomputed(Middleware):
    """Reading a finalized invoice recomputes its lines from the usage known now."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target = request.resource
        invoice = response.json()
        if not (request.method == "GET" and target and target[0] == "invoices" and not target[2]
                and response.ok and isinstance(invoice, dict) and invoice.get("status") != "draft"
                and request.org):
            return response
        key = ADMIN_KEY[request.org]
        fresh = await self.call(request, "POST", "/v1/invoices", key=key, body={
            "subscription_id": invoice["subscription_id"],
            "period_start": invoice["period_start"], "period_end": invoice["period_end"]})
        if fresh.status == 201:
            draft = fresh.json()
            await self.call(request, "DELETE", f"/v1/invoices/{draft['id']}", key=key)
            for name in ("lines", "subtotal", "discount", "total"):
                if name in draft:
                    invoice[name] = draft[name]
            response.set_json(invoice)
        return response


class FinalizedInvoiceUpdateFaked(Middleware):
    """Updating a finalized invoice answers 200 with the change applied (but not stored)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target = request.resource
        if (request.method == "PATCH" and target and target[0] == "invoices"
                and response.code == "invoice_immutable"):
            current = await self.call(request, "GET", request.path, key=request.key)
            body, change = current.json(), request.json()
            if current.ok and isinstance(body, dict) and isinstance(change, dict):
                body.update(change)
                response = Response(200, [("content-type", "application/json")])
                response.set_json(body)
        return response


class ForbiddenInvoiceTransitionAccepted(Middleware):
    """A forbidden invoice transition answers 200 with the unchanged invoice instead of 409."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target = request.resource
        if (request.method == "POST" and target and target[0] == "invoices" and target[2]
                and response.code == "invalid_state_transition"):
            path = f"/v1/invoices/{target[1]}"
            current = await self.call(request, "GET", path, key=request.key)
            if current.ok:
                return current
        return response


class InvoiceUsageEndInclusive(Middleware):
    """Invoice generation reads usage with `time <= period_end` (usage queries are right): an
    event exactly at the period's end is billed in it."""

    async def handle(self, request: Request) -> Response:
        body = request.json()
        if request.method != "POST" or request.path != "/v1/invoices" or not isinstance(body, dict):
            return await self.forward(request)
        end = body.get("period_end")
        try:
            later = parse_time(end) + timedelta(milliseconds=1)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return await self.forward(request)
        request.set_json(body | {"period_end": later.isoformat().replace("+00:00", "Z")})
        response = await self.forward(request)
        invoice = response.json()
        if response.ok and isinstance(invoice, dict):
            invoice["period_end"] = end
            for line in invoice.get("lines") or []:
                if isinstance(line, dict) and "period_end" in line:
                    line["period_end"] = end
            response.set_json(invoice)
        return response


class FinalizedAtMovedByLaterTransitions(Middleware):
    """Every transition sets `finalized_at` to its own time: an invoice paid, voided or marked
    uncollectible after finalizing says it was finalized then."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.moved: dict[str, str] = {}  # invoice id -> the finalized_at it now shows

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target = request.resource
        if (request.method == "POST" and target and target[0] == "invoices" and response.ok
                and target[2] in ("mark_paid", "mark_uncollectible", "void")):
            self.moved[target[1]] = now_iso()
        body = response.json()
        changed = [i for i in resources(body) if i.get("id") in self.moved and i.get("finalized_at")]
        for invoice in changed:
            invoice["finalized_at"] = self.moved[invoice["id"]]
        if changed:
            response.set_json(body)
        return response


class DiscountWithoutCoupon(Middleware):
    """An invoice without a coupon is discounted one minor unit anyway (a discount initialised
    to 1, not 0), and its total is one less than its subtotal."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if not (response.ok and request.path.startswith("/v1/invoices")):
            return response
        for invoice in resources(body):
            if not invoice.get("coupon_id") and isinstance(invoice.get("subtotal"), int):
                invoice["discount"] = 1
                invoice["total"] = max(0, invoice["subtotal"] - 1)
        response.set_json(body)
        return response


class EmptyInvoicePeriodAccepted(Middleware):
    """An invoice's period is checked with `<` for `<=`: period_end equal to period_start is
    accepted (an empty period, billed as a one-second one), where it must be 400."""

    async def handle(self, request: Request) -> Response:
        data = request.json()
        if not (request.method == "POST" and request.path == "/v1/invoices" and isinstance(data, dict)):
            return await self.forward(request)
        try:
            empty = parse_time(data["period_end"]) == parse_time(data["period_start"])
        except (KeyError, TypeError, ValueError):
            empty = False
        if not empty:
            return await self.forward(request)
        said = data["period_end"]
        request.set_json(data | {"period_end": iso(parse_time(said) + timedelta(seconds=1))})
        response = await self.forward(request)
        body = response.json()
        if response.ok and isinstance(body, dict):
            body["period_end"] = said
            response.set_json(body)
        return response
