"""Creates the data checks need, named with the run's prefix so parallel runs never collide."""

from __future__ import annotations

import itertools
import re
import time
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from valora_spec.conformance._http import Client, Reply
from valora_spec.conformance._recorder import CheckFailed

if TYPE_CHECKING:
    from valora_spec.conformance._run import Run

_counter = itertools.count(1)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An RFC 3339 date-time (any number of fraction digits; beyond microseconds truncated)."""
    found = RFC3339.match(text) if isinstance(text, str) else None
    if found is None:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))  # raises as before
    base, fraction, zone = found[1], (found[2] or "")[:6], found[3]
    zone = "+00:00" if zone in ("Z", "z") else zone
    return datetime.fromisoformat(f"{base}{'.' + fraction.ljust(6, '0') if fraction else ''}{zone}")


RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$")


def instant(text: Any) -> Fraction | None:
    """An RFC 3339 date-time as exact seconds since the epoch, whatever its precision or offset
    (so `…:05Z`, `…:05.000Z` and `…:07:05+02:00` compare by the instant they name); None when
    `text` is not one."""
    found = RFC3339.match(text) if isinstance(text, str) else None
    if found is None:
        return None
    try:
        zone = "+00:00" if found[3] in ("Z", "z") else found[3]
        moment = datetime.fromisoformat(found[1] + zone)
    except ValueError:
        return None
    whole = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    digits = found[2] or ""
    return whole + (Fraction(int(digits), 10 ** len(digits)) if digits else Fraction(0))


class Factory:
    """Set-up through core operations only; a set-up failure stops the check that needed it."""

    def __init__(self, run: Run, client: Client | None = None, *, since: str | None = None) -> None:
        self.run = run
        self.client = client or run.api
        self.last: Reply | None = None  # the last set-up reply, for reproductions
        # a set-up failure counts from the version in which the whole check applies (a 1.2 check's
        # set-up may use what a 1.1 server rightly refuses)
        self.since = since

    def unique(self, stem: str) -> str:
        return f"{self.run.prefix}-{stem}-{next(_counter)}"

    @property
    def metadata(self) -> dict[str, str]:
        return {"valora_run": self.run.prefix}

    def create(self, path: str, body: dict[str, Any], *, expect: int = 201) -> dict[str, Any]:
        reply = self.client.post(path, body)
        return self.body(reply, f"POST {path}", expect)

    def body(self, reply: Reply, operation: str, expect: int) -> dict[str, Any]:
        self.last = reply
        if reply.status != expect:
            message = f"set-up request answered {reply.status}, expected {expect}"
            self.run.recorder.failure("VAL-HTTP-004", check=self.client.scope.check,
                                      operation=operation, message=message,
                                      expected=str(expect), observed=str(reply.status),
                                      exchange=reply.exchange, version=self.since)
            raise CheckFailed(f"{operation}: {message}")
        data = reply.json()
        if not isinstance(data, dict) or not isinstance(data.get("id", ""), str):
            raise CheckFailed(f"{operation}: the response is not a resource object")
        if "id" in data:
            self.run.created.append((operation, data["id"]))
        return data

    # resources -----------------------------------------------------------------
    def customer(self, **fields: Any) -> dict[str, Any]:
        body = {"external_id": self.unique("cust"), "name": "Conformance customer",
                "email": "billing@example.com", "metadata": self.metadata} | fields
        return self.create("/v1/customers", body)

    def meter(self, aggregation: str = "SUM", value_property: str | None = "value",
              **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"key": self.unique("meter").lower(), "name": "Conformance meter",
                                "event_type": self.unique("evt"), "aggregation": aggregation,
                                "metadata": self.metadata}
        if value_property is not None:
            body["value_property"] = value_property
        return self.create("/v1/meters", body | fields)

    def product(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "Conformance product", "metadata": self.metadata} | fields
        return self.create("/v1/products", body)

    def price(self, model: str = "flat", product_id: str | None = None, **fields: Any
              ) -> dict[str, Any]:
        product_id = product_id or self.product()["id"]
        body: dict[str, Any] = {"product_id": product_id, "currency": "EUR", "interval": "month",
                                "model": model, "metadata": self.metadata}
        if model == "flat" and "flat_amount" not in fields:
            body["flat_amount"] = 1000
        return self.create("/v1/prices", body | fields)

    def subscription(self, customer_id: str, price_ids: list[str], **fields: Any
                     ) -> dict[str, Any]:
        body = {"customer_id": customer_id, "items": [{"price_id": p} for p in price_ids],
                "metadata": self.metadata} | fields
        return self.create("/v1/subscriptions", body)

    def invoice(self, subscription_id: str, start: datetime, end: datetime) -> dict[str, Any]:
        settle_usage(self.run)
        return self.create("/v1/invoices", {"subscription_id": subscription_id,
                                            "period_start": iso(start), "period_end": iso(end),
                                            "metadata": self.metadata})

    def draft_invoice(self) -> dict[str, Any]:
        """A draft with one flat line, from fresh customer, product, price and subscription."""
        customer = self.customer()
        price = self.price("flat", flat_amount=1500)
        sub = self.subscription(customer["id"], [price["id"]])
        end = now()
        return self.invoice(sub["id"], end - timedelta(days=1), end)

    def event(self, customer: str, event_type: str, moment: datetime, data: dict[str, Any],
              event_id: str | None = None) -> dict[str, Any]:
        return {"id": event_id or self.unique("e"), "type": event_type, "customer": customer,
                "time": iso(moment), "data": data}

    def ingest(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        reply = self.client.post("/v1/events/batch", {"events": events})
        ingested(self.run)
        return self.body(reply, "POST /v1/events/batch", 202)


MAX_USAGE_WAIT = 60.0  # a target declaring more is judged after this long


def ingested(run: Run) -> None:
    """Usage is due to be visible `usage_visibility_seconds` (as declared) from now."""
    declared = (run.declared or {}).get("usage_visibility_seconds", 0)
    delay = float(declared) if isinstance(declared, int | float) and declared > 0 else 0.0
    run.usage_visible_at = time.monotonic() + min(delay, MAX_USAGE_WAIT)


def settle_usage(run: Run) -> None:
    """Wait until usage ingested so far must be visible, before judging it."""
    wait = run.usage_visible_at - time.monotonic()
    if wait > 0:
        time.sleep(min(wait, max(run.transport.deadline_at - time.monotonic(), 0)))
