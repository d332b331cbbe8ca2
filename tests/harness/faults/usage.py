"""Usage: windows, meters and event ingestion (TIME-002, METER, EVENT)."""

from __future__ import annotations

import contextlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ._base import App, Middleware, Request, Response, iso, parse_time, problem, resources


class InclusiveWindowEnd(Middleware):
    """Usage queries count events at `to` too: the window is [from, to], not [from, to)."""

    async def handle(self, request: Request) -> Response:
        target = request.resource
        end = request.param("to")
        if not (request.method == "GET" and target and target[2] == "usage" and end):
            return await self.forward(request)
        try:
            moment = parse_time(end)
            if moment <= parse_time(request.param("from") or ""):
                return await self.forward(request)  # still rejected: only the boundary is wrong
        except ValueError:
            return await self.forward(request)
        request.set_param("to", iso(moment + timedelta(seconds=1)))
        response = await self.forward(request)
        body = response.json()
        if response.ok and isinstance(body, dict):
            body["to"] = end
            if body.get("rows"):
                body["rows"][-1]["to"] = end
            response.set_json(body)
        return response


class ExclusiveWindowStart(Middleware):
    """Usage queries skip events at `from`: the window is (from, to), not [from, to)."""

    async def handle(self, request: Request) -> Response:
        target = request.resource
        start = request.param("from")
        if not (request.method == "GET" and target and target[2] == "usage" and start):
            return await self.forward(request)
        try:
            moment = parse_time(start)
            if parse_time(request.param("to") or "") <= moment + timedelta(seconds=1):
                return await self.forward(request)  # still rejected: only the boundary is wrong
        except ValueError:
            return await self.forward(request)
        request.set_param("from", iso(moment + timedelta(seconds=1)))
        response = await self.forward(request)
        body = response.json()
        if response.ok and isinstance(body, dict):
            body["from"] = start
            if body.get("rows"):
                body["rows"][0]["from"] = start
            response.set_json(body)
        return response


class MaxComputedAsMin(Middleware):
    """MAX meters are computed with the comparison reversed: they answer the smallest value."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.max_meters: set[str] = set()

    async def handle(self, request: Request) -> Response:
        data = request.json()
        if (request.method == "POST" and request.path == "/v1/meters" and isinstance(data, dict)
                and data.get("aggregation") == "MAX"):
            data["aggregation"] = "MIN"
            request.set_json(data)
            response = await self.forward(request)
            body = response.json()
            if response.status == 201 and isinstance(body, dict):
                self.max_meters.add(body["id"])
        else:
            response = await self.forward(request)
        body = response.json()
        changed = False
        for meter in resources(body):
            if meter.get("id") in self.max_meters and meter.get("aggregation") == "MIN":
                meter["aggregation"] = "MAX"
                changed = True
        if changed:
            response.set_json(body)
        return response


def _events(request: Request) -> list[dict[str, Any]]:
    data = request.json()
    if request.method != "POST" or not isinstance(data, dict):
        return []
    if request.path == "/v1/events":
        return [data]
    if request.path == "/v1/events/batch" and isinstance(data.get("events"), list):
        return [e for e in data["events"] if isinstance(e, dict)]
    return []


class DuplicateEventsCounted(Middleware):
    """A repeated event id is stored again under a fresh internal id, so its usage counts twice."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.seen: dict[str | None, set[str]] = {}
        self.counter = itertools.count(1)

    async def handle(self, request: Request) -> Response:
        events = _events(request)
        if not events:
            return await self.forward(request)
        seen = self.seen.setdefault(request.org, set())
        renamed: dict[str, str] = {}
        batch: set[str] = set()
        for event in events:
            ident = event.get("id")
            if isinstance(ident, str) and (ident in seen or ident in batch):
                event["id"] = f"{ident}~{next(self.counter)}"
                renamed[event["id"]] = ident
            batch.add(str(ident))
        data = request.json()
        request.set_json(events[0] if request.path == "/v1/events" else {**data, "events": events})
        response = await self.forward(request)
        if response.status == 202:
            seen.update(renamed.values())
            seen.update(e["id"] for e in events if e["id"] not in renamed)
            body = response.json()
            for receipt in [body, *(body.get("results") or [])]:
                if isinstance(receipt, dict) and receipt.get("id") in renamed:
                    receipt["id"] = renamed[receipt["id"]]
            response.set_json(body)
        return response


class BackdatingNotEnforced(Middleware):
    """Events outside the backdating window are accepted (stored as received now)."""

    async def handle(self, request: Request) -> Response:
        events = _events(request)
        now = datetime.now(UTC)
        changed = False
        for event in events:
            try:
                moment = parse_time(event["time"])
            except (KeyError, TypeError, ValueError):
                continue
            if not now - timedelta(days=35) <= moment <= now + timedelta(minutes=5):
                event["time"] = iso(now)
                changed = True
        if changed:
            data = request.json()
            request.set_json(events[0] if request.path == "/v1/events" else {**data, "events": events})
        return await self.forward(request)


class BatchFutureEventsAccepted(Middleware):
    """The batch endpoint checks only the window's past edge: an event more than 5 minutes ahead
    is accepted in a batch (stored as received now), while POST /v1/events refuses it."""

    async def handle(self, request: Request) -> Response:
        data = request.json()
        if request.path != "/v1/events/batch" or not isinstance(data, dict):
            return await self.forward(request)
        ahead, events = datetime.now(UTC) + timedelta(minutes=5), _events(request)
        late = []
        for event in events:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                if parse_time(event["time"]) > ahead:
                    late.append(event)
        for event in late:
            event["time"] = iso(datetime.now(UTC))
        if late:
            request.set_json({**data, "events": events})
        return await self.forward(request)


class BackdatingEdgeOffByOneSecond(Middleware):
    """The backdating window's past edge is one second short: an event 35 days minus half a second
    before receipt is rejected."""

    async def handle(self, request: Request) -> Response:
        edge = datetime.now(UTC) - timedelta(days=35) + timedelta(seconds=1)
        for event in _events(request):
            try:
                if parse_time(event["time"]) < edge:
                    return problem(400, "event_outside_window", "must be at most 35 days old")
            except (KeyError, TypeError, ValueError):
                continue
        return await self.forward(request)


class EventTimesRoundedToSecond(Middleware):
    """Event times are stored rounded to the nearest second: an event 1 ms before `to` falls on
    `to` (not counted), one 1 ms before `from` on `from` (counted)."""

    async def handle(self, request: Request) -> Response:
        events = _events(request)
        for event in events:
            try:
                moment = parse_time(event["time"])
            except (KeyError, TypeError, ValueError):
                continue
            rounded = moment.replace(microsecond=0) + timedelta(seconds=moment.microsecond >= 500_000)
            event["time"] = iso(rounded)
        if events:
            data = request.json()
            request.set_json(events[0] if request.path == "/v1/events" else {**data, "events": events})
        return await self.forward(request)


class LatestTieFirstIngested(Middleware):
    """Among events of one instant, the first ingested is kept as the latest (the later ones are
    stored a microsecond earlier): LATEST breaks ties the wrong way."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.seen: set[tuple[str | None, Any, Any, datetime]] = set()

    async def handle(self, request: Request) -> Response:
        events = _events(request)
        for event in events:
            try:
                moment = parse_time(event["time"])
            except (KeyError, TypeError, ValueError):
                continue
            slot = (request.org, event.get("customer"), event.get("type"), moment)
            if slot in self.seen:
                event["time"] = (moment - timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self.seen.add(slot)
        if events:
            data = request.json()
            request.set_json(events[0] if request.path == "/v1/events" else {**data, "events": events})
        return await self.forward(request)


class UsageWindowOffsetDropped(Middleware):
    """A usage query's `from` and `to` with a numeric offset are read as UTC wall-clock time
    (10:00+02:00 taken as 10:00Z), as a date layout without the zone would."""

    async def handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path.endswith("/usage"):
            for name in ("from", "to"):
                value = request.param(name) or ""
                if len(value) > 6 and value[-6] in "+-" and value[-5:] != "00:00":
                    request.set_param(name, value[:-6] + "Z")
        return await self.forward(request)


class BatchOver100Accepted(Middleware):
    """The batch endpoint never checks `maxItems: 100`: a longer batch is ingested in chunks of
    100, as the storage layer takes them, and answered 202."""

    async def handle(self, request: Request) -> Response:
        body = request.json()
        events = body.get("events") if isinstance(body, dict) else None
        if request.path != "/v1/events/batch" or not isinstance(events, list) or len(events) <= 100:
            return await self.forward(request)
        results: list[Any] = []
        for start in range(0, len(events), 100):
            chunk = request.copy()
            chunk.set_json(body | {"events": events[start:start + 100]})
            reply = await self.forward(chunk)
            if reply.status != 202:
                return reply
            results += reply.json()["results"]
        accepted = sum(1 for r in results if r.get("status") == "accepted")
        answer = Response(202, [("content-type", "application/json")])
        answer.set_json({"accepted": accepted, "duplicates": len(results) - accepted,
                         "results": results})
        return answer


class BatchPartlyIngestedOutsideWindow(Middleware):
    """The backdating window is checked while inserting: the events before the first one
    outside it are already stored when the batch is answered 400 `event_outside_window`."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if (request.path != "/v1/events/batch" or response.status != 400
                or response.code != "event_outside_window"):
            return response
        names = [str(p.get("name", "")) for p in response.json().get("invalid_params") or []]
        first = min((int(n.split("[")[1].split("]")[0]) for n in names
                     if n.startswith("events[")), default=0)
        if first > 0:
            stored = request.copy()
            stored.set_json(request.json() | {"events": request.json()["events"][:first]})
            await self.forward(stored)
        return response


class EventIdsUniquePerCustomer(Middleware):
    """Event ids are deduplicated per (organization, customer), a composite unique index: an id
    already accepted for one customer is accepted again, and counted, for another."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.customer_of: dict[tuple[str | None, str], str] = {}

    async def handle(self, request: Request) -> Response:
        body = request.json()
        if request.method != "POST" or request.path != "/v1/events" or not isinstance(body, dict):
            return await self.forward(request)
        event_id, customer = body.get("id"), body.get("customer")
        if not isinstance(event_id, str) or not isinstance(customer, str):
            return await self.forward(request)
        first = self.customer_of.setdefault((request.org, event_id), customer)
        if first == customer:
            return await self.forward(request)
        request.set_json(body | {"id": f"{event_id[:80]}~{len(customer)}{customer[-8:]}"})
        response = await self.forward(request)
        if response.status == 202:
            response.set_json(response.json() | {"id": event_id})
        return response


class CustomerMatchedCaseInsensitively(Middleware):
    """Event customers are stored, and usage queries matched, in lower case (a case-insensitive
    collation): usage for `Acme` also counts the events of `ACME` and `acme`."""

    async def handle(self, request: Request) -> Response:
        body = request.json()
        if request.method == "POST" and request.path in ("/v1/events", "/v1/events/batch"):
            events = body.get("events") if request.path.endswith("batch") else [body]
            for event in events if isinstance(events, list) else []:
                if isinstance(event, dict) and isinstance(event.get("customer"), str):
                    event["customer"] = event["customer"].lower()
            request.set_json(body)
        elif request.path.endswith("/usage") and request.param("customer"):
            request.set_param("customer", request.param("customer").lower())
        return await self.forward(request)


class WindowLimitByDuration(Middleware):
    """The 1000-row limit is checked on the length of `[from, to)` (1000 hours), not on the
    aligned windows it intersects: 1000 hours from :30 are answered with 1001 rows."""

    async def handle(self, request: Request) -> Response:
        size = {"HOUR": timedelta(hours=1), "DAY": timedelta(days=1)}.get(request.param("window") or "")
        if not (request.method == "GET" and request.path.endswith("/usage") and size):
            return await self.forward(request)
        try:
            start, end = parse_time(request.param("from") or ""), parse_time(request.param("to") or "")
        except ValueError:
            return await self.forward(request)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        last = end - (end - epoch) % size  # the start of the window `to` falls in
        if not start < last < end or (end - start) > 1000 * size:
            return await self.forward(request)
        head = request.copy()
        head.set_param("to", iso(last))
        response = await self.forward(head)  # every window but the clipped last one
        tail = request.copy()
        tail.set_param("from", iso(last))
        tail.set_param("window", None)
        rest = await self.forward(tail)  # the last, clipped window as one unwindowed value
        body, extra = response.json(), rest.json()
        if not (response.ok and rest.ok and isinstance(body, dict) and isinstance(extra, dict)):
            return await self.forward(request)
        body["rows"] = [*body.get("rows", []), {"from": iso(last), "to": request.param("to"),
                                                "value": extra.get("value")}]
        body["to"] = request.param("to")
        response.set_json(body)
        return response


class BatchDuplicateLastWins(Middleware):
    """A batch is deduplicated through a map keyed by id before it is stored: of one id sent
    twice in a batch the last copy is stored, and both copies are reported `accepted`."""

    async def handle(self, request: Request) -> Response:
        data = request.json()
        events = data.get("events") if request.path == "/v1/events/batch" and isinstance(data, dict) else None
        if not isinstance(events, list):
            return await self.forward(request)
        last = {e.get("id"): i for i, e in enumerate(events) if isinstance(e, dict)}
        keep = [i for i, e in enumerate(events) if not isinstance(e, dict) or last[e.get("id")] == i]
        if len(keep) == len(events):
            return await self.forward(request)
        request.set_json(data | {"events": [events[i] for i in keep]})
        response = await self.forward(request)
        body = response.json()
        if response.status != 202 or not isinstance(body, dict):
            return response
        stored = dict(zip(keep, body.get("results") or [], strict=False))
        results = [stored.get(i) or stored.get(last[e.get("id")]) for i, e in enumerate(events)]
        accepted = sum(1 for r in results if r and r.get("status") == "accepted")
        response.set_json(body | {"results": results, "accepted": accepted,
                                  "duplicates": len(results) - accepted})
        return response


class UniqueCountByLanguageEquality(Middleware):
    """UNIQUE_COUNT counts `len(set(values))` of the decoded JSON values: the number 1 and the
    string "1" are two values, while true and 1 (equal in the language) are one."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.events: list[tuple[str | None, str, str, datetime, dict[str, Any]]] = []
        self.seen: set[tuple[str | None, str]] = set()

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if request.method == "POST" and response.status == 202:
            for event in _events(request):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    if (request.org, event["id"]) not in self.seen:  # first write wins
                        self.seen.add((request.org, event["id"]))
                        self.events.append((request.org, event["type"], event["customer"],
                                            parse_time(event["time"]), event.get("data") or {}))
        target = request.resource
        if not (request.method == "GET" and target and target[2] == "usage" and response.ok
                and not request.param("window") and not request.param("group_by")):
            return response
        meter = await self.call(request, "GET", f"/v1/meters/{target[1]}", key=request.key)
        if not meter.ok or meter.json().get("aggregation") != "UNIQUE_COUNT":
            return response
        prop, kind = meter.json().get("value_property"), meter.json().get("event_type")
        try:
            start, end = parse_time(request.param("from") or ""), parse_time(request.param("to") or "")
        except ValueError:
            return response
        values = {json.dumps(data[prop]) if isinstance(data[prop], (dict, list)) else data[prop]
                  for org, type_, customer, moment, data in self.events
                  if (org, type_, customer) == (request.org, kind, request.param("customer"))
                  and start <= moment < end and data.get(prop) is not None}
        response.set_json(response.json() | {"value": str(len(values))})
        return response


class MaxStartsAtZero(Middleware):
    """MAX is a running maximum that starts at 0, not at the first value: when every value is
    below zero the usage answers "0"."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.max_meters: set[str] = set()

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        body = response.json()
        if request.method == "POST" and request.path == "/v1/meters" and response.status == 201:
            if body.get("aggregation") == "MAX":
                self.max_meters.add(body["id"])
        target = request.resource
        if (request.method == "GET" and target and target[2] == "usage" and target[1] in self.max_meters
                and response.status == 200 and isinstance(body, dict)):
            for part in [body, *(body.get("rows") or [])]:
                if isinstance(part, dict) and isinstance(part.get("value"), str):
                    part["value"] = str(max(Decimal(part["value"]), Decimal(0)))
            response.set_json(body)
        return response


class RowsEndInclusive(Middleware):
    """Windowed usage rows are [row from, row to]: an event exactly on a bound between two rows
    is counted in the row it ends (the query's own `to` is still honoured)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target, body = request.resource, response.json()
        if not (request.method == "GET" and target and target[2] == "usage" and request.param("window")
                and response.ok and isinstance(body, dict) and body.get("rows")):
            return response
        query = {k: v for k, v in request.query if k not in ("window", "from", "to")}
        for row in body["rows"][:-1]:  # every row but the last ends on another row's start
            start, end = row["from"], iso(parse_time(row["to"]) + timedelta(seconds=1))
            alone = await self.call(request, "GET", request.path, key=request.key,
                                    query=query | {"from": start, "to": end})
            if alone.ok:
                row["value"] = alone.json()["value"]
        response.set_json(body)
        return response


class UsageReadsAtMost1000Events(Middleware):
    """Usage is computed from the first 1000 matching events only (a `LIMIT 1000` in the events
    query): over 1050 events of value 1, SUM and COUNT answer 1000."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target, body = request.resource, response.json()
        if (request.method == "GET" and target and target[2] == "usage" and response.ok
                and isinstance(body, dict) and not request.param("window")):
            with contextlib.suppress(ArithmeticError, TypeError, ValueError):
                if Decimal(body["value"]) > 1000:
                    body["value"] = "1000"
                    response.set_json(body)
        return response


class MagnitudeLimitExclusive(Middleware):
    """The usage limit is checked with `>` for `>=`: a SUM of exactly 10^26 is answered 200
    (a 27-digit value) instead of 400 `invalid_request`."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        target, start, end = request.resource, request.param("from"), request.param("to")
        if not (request.method == "GET" and target and target[2] == "usage" and response.status == 400
                and start and end and not request.param("window")):
            return response
        first, step = parse_time(start), (parse_time(end) - parse_time(start)) / 10
        bounds = [start, *(iso(first + step * i) for i in range(1, 10)), end]
        slices = [await self.call(request, "GET", request.path, key=request.key,
                                  query=dict(request.query) | {"from": a, "to": b})
                  for a, b in itertools.pairwise(bounds)]  # each below the limit, summed unchecked
        if not all(part.ok for part in slices):
            return response
        total = sum(Decimal(part.json()["value"]) for part in slices)
        if total != Decimal(10) ** 26:
            return response
        slices[0].set_json(slices[0].json() | {"to": end, "value": str(total)})
        return slices[0]


class BatchWindowErrorNamesTime(Middleware):
    """A batch refused for an event outside the backdating window names `time`, as a single
    event's refusal does, not the event (`events[1].time`)."""

    async def handle(self, request: Request) -> Response:
        response = await self.forward(request)
        if request.path == "/v1/events/batch" and response.code == "event_outside_window":
            body = response.json()
            for param in body.get("invalid_params") or []:
                param["name"] = "time"
            response.set_json(body)
        return response
