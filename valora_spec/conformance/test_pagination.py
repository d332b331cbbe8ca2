"""Layer 3: cursor pagination visits every item exactly once, in a stable order."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from valora_spec._versions import newest
from valora_spec.conformance import _expect as expect
from valora_spec.conformance._factory import Factory, instant, iso, now
from valora_spec.conformance._recorder import CheckFailed
from valora_spec.conformance._run import CheckRun

pytestmark = pytest.mark.writes
CREATED = 7
MAX_PAGES = 200  # bounded even against a cursor that never ends


def _walk(run: CheckRun, check, path: str, limit: int, params: dict | None = None,
          judged_as: str | None = None, past: list[str] | None = None) -> tuple[list[dict], list]:
    """All items reachable from the first page; also the replies, for reporting.

    `judged_as` charges every finding to one requirement (e.g. a filter that was refused).
    `past`: stop one page after all these ids were listed. A shared server may hold more items
    than any run should walk, and only the run's own items are known to exist.
    """
    every, consistent = judged_as or "VAL-PAGE-001", judged_as or "VAL-PAGE-002"
    items, replies, cursor = [], [], None
    for _ in range(MAX_PAGES):
        query = {"limit": limit, **(params or {})}
        if cursor:
            query["cursor"] = cursor
        reply = run.api.get(path, params=query)
        expect.status(check, every, reply, 200, f"GET {path} {params or ''}", stop=True)
        page = expect.json_object(check, every, reply, f"GET {path}")
        data, has_more, cursor = page.get("data"), page.get("has_more"), page.get("next_cursor")
        check.require(consistent, isinstance(data, list) and len(data) <= limit,
                      f"page holds {len(data) if isinstance(data, list) else data!r} items "
                      f"for limit {limit}", operation=f"GET {path}", expected=f"<= {limit}",
                      observed=len(data) if isinstance(data, list) else data,
                      exchange=reply.exchange)
        check.that(consistent, has_more is (cursor is not None),
                   f"has_more={has_more!r} with next_cursor={cursor!r}", operation=f"GET {path}",
                   expected="has_more false exactly when next_cursor is null",
                   observed={"has_more": has_more, "next_cursor": cursor}, exchange=reply.exchange)
        if past and set(past) <= {item.get("id") for item in items}:
            return items + [d for d in data if isinstance(d, dict)], [*replies, reply]
        items.extend(d for d in data if isinstance(d, dict))
        replies.append(reply)
        if not cursor or not has_more:
            return items, replies
    check.that(every, False, f"pagination did not end after {MAX_PAGES} pages",
               operation=f"GET {path}", expected="a last page", observed="more pages")
    return items, replies


@pytest.mark.requirements("VAL-PAGE-001", "VAL-PAGE-002", "VAL-PAGE-003")
@pytest.mark.parametrize("limit", [1, 3])
def test_every_item_exactly_once_in_order(run: CheckRun, check, factory: Factory, limit: int) -> None:
    mine = [factory.product(name=f"page item {i}")["id"] for i in range(CREATED)]
    items, replies = _walk(run, check, "/v1/products", limit, past=mine)
    last = replies[-1].exchange if replies else None
    ids = [item.get("id") for item in items]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    check.that("VAL-PAGE-001", not repeated, f"items repeated across pages: {repeated[:5]}",
               operation="GET /v1/products", expected="each item once", observed=repeated[:5],
               exchange=last)
    missing = [i for i in mine if i not in ids]
    check.that("VAL-PAGE-001", not missing, f"{len(missing)} of {CREATED} new items never listed",
               operation="GET /v1/products", expected="all created items", observed=missing,
               exchange=last)
    _judge_order(check, items, "GET /v1/products", last)


def _judge_order(check, items: list[dict], operation: str, last, version: str | None = None) -> None:
    """The order VAL-PAGE-003 states, judged by the listed items' own keys only: created_at as
    an instant (RFC 3339, any precision or offset) descending, then id descending by code
    point. Not creation order: ids are opaque and equal created_at values are legal."""
    keys = [(instant(item.get("created_at")), item.get("id")) for item in items]
    pairs = [i for i in range(1, len(keys)) if keys[i - 1][0] is not None
             and keys[i][0] is not None and isinstance(keys[i - 1][1], str)
             and isinstance(keys[i][1], str)]  # unreadable keys are the schema checks' business
    out_of_order = [i for i in pairs if keys[i - 1] < keys[i]]
    if not pairs:
        check.skip("VAL-PAGE-003", f"{operation}: no two consecutive items with a readable "
                   "created_at and id")
        return
    shown = [(items[i - 1].get("created_at"), items[i - 1].get("id"),
              items[i].get("created_at"), items[i].get("id")) for i in out_of_order[:2]]
    check.that("VAL-PAGE-003", not out_of_order,
               f"list not ordered by created_at descending, then id descending (first break "
               f"after position {out_of_order[:1]})", operation=operation,
               expected="created_at desc, then id desc", observed=shown, exchange=last,
               version=version)


@pytest.mark.requirements("VAL-PAGE-001", "VAL-PAGE-002", "VAL-PAGE-003")
def test_every_list_is_ordered(run: CheckRun, check, factory: Factory) -> None:
    """VAL-PAGE-003 holds for each list, not only for the one walked page by page above: with
    two new items of each kind, every list is walked past them with limit 100 and judged."""
    made = _two_of_each(run, factory)
    for op in run.catalogue.operations(run.target_version):
        ids = made.get(op.path)
        if op.method != "get" or not ids:
            continue
        try:
            items, replies = _walk(run, check, "/v1" + op.path, 100, past=ids)
        except CheckFailed:
            continue  # recorded; the other lists are still worth judging
        _judge_order(check, items, op.label, replies[-1].exchange if replies else None,
                     run.catalogue.introduced(op.operation_id))


def _two_of_each(run: CheckRun, factory: Factory) -> dict[str, list[str]]:
    """Two new items in each list the target's spec has, by list path."""
    customer = factory.customer()
    price = factory.price("flat")
    subs = [factory.subscription(customer["id"], [price["id"]]) for _ in range(2)]
    made = {"/meters": [factory.meter()["id"] for _ in range(2)],
            "/products": [factory.product()["id"] for _ in range(2)],
            "/prices": [price["id"], factory.price("flat")["id"]],
            "/customers": [customer["id"], factory.customer()["id"]],
            "/subscriptions": [sub["id"] for sub in subs],
            "/invoices": [factory.invoice(subs[0]["id"], *_hour())["id"] for _ in range(2)]}
    if run.catalogue.operation(run.target_version, "createCoupon"):
        make = Factory(run, since=run.catalogue.introduced("createCoupon"))
        try:
            made["/coupons"] = [make.create("/v1/coupons", {
                "code": make.unique("ORD").upper().replace(".", "-")[:40], "name": "Order",
                "percent_off": "5", "metadata": make.metadata})["id"] for _ in range(2)]
        except CheckFailed:
            pass  # recorded against the release that brought coupons; the other lists remain
    return made


@pytest.mark.requirements("VAL-PAGE-004", "VAL-PAGE-005", "VAL-ERR-003")
def test_bad_cursor_and_limit_are_rejected(run: CheckRun, check, factory: Factory) -> None:
    for _ in range(3):
        factory.customer()
    reply = run.api.get("/v1/customers", params={"limit": 1})
    cursor = reply.json().get("next_cursor") if reply.status == 200 else None
    tampered = []
    if isinstance(cursor, str) and cursor:
        flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
        tampered.append(flipped)
        tampered.append(base64.urlsafe_b64encode(b'{"offset": 0, "id": "x"}').decode())
    tampered.append("definitely-not-a-cursor")
    for bad in tampered:
        reply = run.api.get("/v1/customers", params={"cursor": bad})
        expect.status(check, "VAL-PAGE-004", reply, 400, "GET /v1/customers",
                      f"tampered cursor {bad[:40]!r}")
        if reply.status == 400:
            expect.problem_code(check, "VAL-ERR-003", reply, "invalid_cursor", "GET /v1/customers")
    for limit in (0, 101, -1):
        reply = run.api.get("/v1/customers", params={"limit": limit})
        expect.status(check, "VAL-PAGE-004", reply, 400, "GET /v1/customers", f"limit={limit}")
    for _ in range(18):
        factory.customer()
    reply = run.api.get("/v1/customers")
    data = reply.json().get("data", []) if reply.status == 200 else None
    check.that("VAL-PAGE-005", isinstance(data, list) and len(data) <= 20,
               f"default page holds {len(data) if isinstance(data, list) else data} items",
               operation="GET /v1/customers", expected="<= 20",
               observed=len(data) if isinstance(data, list) else data, exchange=reply.exchange)


@pytest.mark.requirements("VAL-LIST-001", "VAL-PAGE-002")
def test_list_filters(run: CheckRun, check, factory: Factory) -> None:
    email = f"{factory.unique('f').lower()}@example.com"
    customer = factory.customer(email=email)
    factory.customer()
    product = factory.product()
    active = factory.price("flat", product_id=product["id"])
    inactive = factory.price("flat", product_id=product["id"], active=False)
    factory.price("flat")
    sub = factory.subscription(customer["id"], [active["id"]])
    other_sub = factory.subscription(factory.customer()["id"], [active["id"]])
    draft = factory.invoice(sub["id"], *_hour())
    opened = factory.invoice(sub["id"], *_hour())
    run.api.post(f"/v1/invoices/{opened['id']}/finalize")
    factory.invoice(other_sub["id"], *_hour())
    cases = [
        ("/v1/customers", {"email": email}, {customer["id"]}),
        ("/v1/prices", {"product_id": product["id"]}, {active["id"], inactive["id"]}),
        ("/v1/prices", {"product_id": product["id"], "active": "false"}, {inactive["id"]}),
        ("/v1/prices", {"product_id": product["id"], "active": "true"}, {active["id"]}),
        ("/v1/subscriptions", {"customer_id": customer["id"]}, {sub["id"]}),
        ("/v1/invoices", {"customer_id": customer["id"]}, {draft["id"], opened["id"]}),
        ("/v1/invoices", {"customer_id": customer["id"], "status": "draft"}, {draft["id"]}),
        ("/v1/invoices", {"customer_id": customer["id"], "status": "open"}, {opened["id"]}),
    ]
    holder = factory.customer()
    for status, sub_id in _one_subscription_per_status(run, factory, holder["id"], active["id"]):
        cases.append(("/v1/subscriptions", {"customer_id": holder["id"], "status": status}, {sub_id}))
    # three matches made in alternation with others: pages after the first hold matches only if
    # the filter still applies to a page reached by its cursor
    many, theirs = factory.customer(), set()
    for _ in range(3):
        theirs.add(factory.subscription(many["id"], [active["id"]])["id"])
        factory.subscription(factory.customer()["id"], [active["id"]])
    cases.append(("/v1/subscriptions", {"customer_id": many["id"]}, theirs))
    for path, params, expected in cases:
        try:  # one item a page: every match but the first is reached through a cursor
            items, replies = _walk(run, check, path, 1, params, judged_as="VAL-LIST-001")
        except CheckFailed:
            continue  # recorded; the other filters are still worth checking
        got = {item.get("id") for item in items}
        check.that("VAL-LIST-001", got == expected,
                   f"filter {params} returned {len(got)} items, expected exactly {len(expected)}",
                   operation=f"GET {path}", expected=sorted(expected), observed=sorted(got)[:10],
                   exchange=replies[0].exchange if replies else None)
        # the run's own matches, which nothing deletes: the walk ends on the page holding the
        # last match, not on an empty page after one that said has_more
        trailing = len(replies) > 1 and not replies[-1].json().get("data")
        check.that("VAL-PAGE-002", not trailing, f"filter {params}, limit 1: the page holding the last "
                   "match said has_more=true, and the walk ended on an empty page",
                   operation=f"GET {path}", expected="has_more false on the page holding the last match",
                   observed="an empty last page", exchange=replies[-1].exchange if replies else None,
                   version="1.1.0")


def _one_subscription_per_status(run: CheckRun, factory: Factory, customer_id: str,
                                 price_id: str) -> list[tuple[str, str]]:
    """(status, id) for a subscription of the customer in each status the filter accepts, as
    the server itself reports it: one that ends up in another status is judged elsewhere
    (VAL-SUB-*), and the filter is judged on what the server says each one is."""
    ways = {"active": {}, "pending": {"start_at": iso(now() + timedelta(days=3))},
            "trialing": {"trial_end": iso(now() + timedelta(days=7))}, "canceled": {}}
    made = []
    for status in _status_values(run, run.target_version):
        if status not in ways:
            continue
        # a set-up failure counts from the release that brought the status (trials: 1.2)
        since = next(v for v in run.catalogue.versions if status in _status_values(run, v))
        make = Factory(run, since=newest([since, *([factory.since] if factory.since else [])]))
        try:
            sub = make.subscription(customer_id, [price_id], **ways[status])
        except CheckFailed:
            continue  # recorded; the other statuses are still worth filtering by
        if status == "canceled":
            reply = run.api.post(f"/v1/subscriptions/{sub['id']}/cancel", {})
            sub = reply.json() if reply.status == 200 else {}
        if sub.get("status") == status:
            made.append((status, sub["id"]))
    return made


def _status_values(run: CheckRun, version: str) -> list[str]:
    """The subscription list's `status` filter values in `version` of the spec."""
    status = run.catalogue.query_parameter(version, "/subscriptions", "status")
    return list((status or {}).get("schema", {}).get("enum", []))


def _hour() -> tuple:
    end = now()
    return end - timedelta(hours=1), end


LAST_PAGE_WALK = 10  # pages of 100: a longer list on a shared server is not walked to its end


@pytest.mark.requirements("VAL-PAGE-002")
def test_last_page_ends_the_list(run: CheckRun, check, factory: Factory) -> None:
    """A filter-free list walked to its real last page: there has_more is false and next_cursor
    null, and every page holds at most `limit` (1, then 100) items. The last page is then asked
    for again with `limit` its own size: full, it still holds the list's last item, so it says
    has_more false too (a page is not last just because it is short).

    Lists are ordered newest first, so what a shared server held before the run comes last and
    its amount is unknown: meters (a collection the run adds few of, and that nothing deletes)
    are walked with limit 100, and a list longer than LAST_PAGE_WALK pages is not judged here.
    """
    factory.meter("COUNT", value_property=None)
    reply = run.api.get("/v1/meters", params={"limit": 1})
    expect.status(check, "VAL-PAGE-002", reply, 200, "GET /v1/meters", "limit=1", stop=True)
    page = expect.json_object(check, "VAL-PAGE-002", reply, "GET /v1/meters")
    data = page.get("data")
    check.that("VAL-PAGE-002", isinstance(data, list) and len(data) <= 1,
               f"limit=1 page holds {len(data) if isinstance(data, list) else data!r} items",
               operation="GET /v1/meters", expected="<= 1 item",
               observed=len(data) if isinstance(data, list) else data, exchange=reply.exchange)
    cursor: str | None = None
    for _ in range(LAST_PAGE_WALK):
        reached_by = cursor
        data, has_more, cursor = _meters_page(run, check, 100, reached_by)
        if not cursor or not has_more:
            if data:
                _full_last_page(run, check, len(data), reached_by)
            return
    check.skip("VAL-PAGE-002", f"the meter list holds more than {LAST_PAGE_WALK * 100} items: "
                               "its last page was not reached")


def _meters_page(run: CheckRun, check, limit: int, cursor: str | None) -> tuple[list, Any, Any]:
    """One page of meters (data, has_more, next_cursor), its size and consistency judged; a page
    without a next cursor must say has_more false."""
    reply = run.api.get("/v1/meters", params={"limit": limit} | ({"cursor": cursor} if cursor else {}))
    expect.status(check, "VAL-PAGE-002", reply, 200, "GET /v1/meters", f"limit={limit}", stop=True)
    page = expect.json_object(check, "VAL-PAGE-002", reply, "GET /v1/meters")
    data, has_more, next_cursor = page.get("data"), page.get("has_more"), page.get("next_cursor")
    check.require("VAL-PAGE-002", isinstance(data, list) and len(data) <= limit,
                  f"page holds {len(data) if isinstance(data, list) else data!r} items for limit {limit}",
                  operation="GET /v1/meters", expected=f"<= {limit}",
                  observed=len(data) if isinstance(data, list) else data, exchange=reply.exchange)
    consistent = has_more is True if next_cursor else has_more is False and next_cursor is None
    check.that("VAL-PAGE-002", consistent, f"has_more={has_more!r} with next_cursor={next_cursor!r}",
               operation="GET /v1/meters", expected="has_more false exactly when next_cursor is null",
               observed={"has_more": has_more, "next_cursor": next_cursor}, exchange=reply.exchange)
    return data, has_more, next_cursor


def _full_last_page(run: CheckRun, check, size: int, cursor: str | None) -> None:
    """The last page again, with `limit` its size. Should a meter made meanwhile push it back
    (newest first), has_more may be true, but then a page with items must follow."""
    data, has_more, next_cursor = _meters_page(run, check, size, cursor)
    if not (has_more and next_cursor):
        return
    after, _, _ = _meters_page(run, check, size, next_cursor)
    check.that("VAL-PAGE-002", bool(after),
               f"the list's last {size} meters, asked with limit={size}, said has_more=true, and the "
               "page its cursor leads to is empty", operation="GET /v1/meters",
               expected={"has_more": False, "next_cursor": None}, observed={"has_more": has_more})


@pytest.mark.requirements("VAL-PAGE-004", "VAL-ERR-003")
def test_foreign_cursors_are_rejected(run: CheckRun, check, factory: Factory, api_b) -> None:
    """Foreign both ways: A's cursor with B's key and B's with A's, the customer list's cursor on
    the meter list and the meter list's on the customer list."""
    for _ in range(2):
        factory.customer()
        factory.meter()
        api_b.post("/v1/customers", {"external_id": factory.unique("b"), "name": "B's",
                                     "metadata": factory.metadata})
    cursors = {name: _first_cursor(check, client, path) for name, client, path in (
        ("a-customers", run.api, "/v1/customers"), ("a-meters", run.api, "/v1/meters"),
        ("b-customers", api_b, "/v1/customers"))}
    # foreign: issued to another organization, or by another list operation (wording of x.y.2)
    for client, path, cursor, what in (
            (api_b, "/v1/customers", cursors["a-customers"], "organization A's cursor with B's key"),
            (run.api, "/v1/customers", cursors["b-customers"], "organization B's cursor with A's key"),
            (run.api, "/v1/meters", cursors["a-customers"], "the customer list's cursor"),
            (run.api, "/v1/customers", cursors["a-meters"], "the meter list's cursor")):
        reply = client.get(path, params={"cursor": cursor})
        expect.status(check, "VAL-PAGE-004", reply, 400, f"GET {path}", what)
        if reply.status == 400:
            expect.problem_code(check, "VAL-ERR-003", reply, "invalid_cursor", f"GET {path}")


def _first_cursor(check, client: Any, path: str) -> str:
    reply = client.get(path, params={"limit": 1})
    cursor = reply.json().get("next_cursor") if reply.status == 200 else None
    check.require("VAL-PAGE-004", isinstance(cursor, str) and bool(cursor),
                  f"no next_cursor on a first page of one of several items ({path})",
                  operation=f"GET {path}", expected="a cursor", observed=cursor, exchange=reply.exchange)
    return cursor


@pytest.mark.requirements("VAL-PAGE-001")
def test_every_lists_cursor_can_be_followed(run: CheckRun, check, factory: Factory) -> None:
    """Each list's own next_cursor, followed once, gives the next page (cursors differ per list
    and per position: one that only some lists can decode leaves those lists unwalkable)."""
    for _ in range(2):  # a second page in the lists the run can fill cheaply
        factory.meter()
        factory.customer()
        factory.price("flat")
    followed = 0
    for op in run.catalogue.operations(run.target_version):
        if op.method != "get" or "{" in op.path or op.operation_id == "getMeta":
            continue
        first = run.api.get("/v1" + op.path, params={"limit": 1})
        page = expect.json_or_none(first) if first.status == 200 else None
        cursor = page.get("next_cursor") if isinstance(page, dict) else None
        if not isinstance(cursor, str) or not cursor:
            continue  # a list with at most one item here: nothing to follow
        reply = run.api.get("/v1" + op.path, params={"limit": 1, "cursor": cursor})
        followed += 1
        check.that("VAL-PAGE-001", reply.status == 200,
                   f"following the list's own next_cursor answered {reply.status}",
                   operation=op.label, expected=200, observed=reply.status, exchange=reply.exchange,
                   version=run.catalogue.introduced(op.operation_id))
    if not followed:
        check.skip("VAL-PAGE-001", "no list had a second page to follow")
