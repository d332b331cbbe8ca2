"""Cursor pagination (VAL-PAGE-001..005)."""

from __future__ import annotations

import base64

import httpx
from ref_helpers import assert_problem, make_customer, make_product


def _walk(api: httpx.Client, path: str, **params: object) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        page = api.get(path, params=query).json()
        assert len(page["data"]) <= int(params.get("limit", 20))  # type: ignore[call-overload]
        assert page["has_more"] is (page["next_cursor"] is not None)
        items += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_every_item_exactly_once_newest_first(fresh_api: httpx.Client) -> None:
    created = [make_customer(fresh_api)["id"] for _ in range(23)]
    for limit in (1, 5, 7, 20, 23, 100):
        seen = _walk(fresh_api, "/customers", limit=limit)
        assert [c["id"] for c in seen] == created[::-1]
    seen = _walk(fresh_api, "/customers")
    assert [c["id"] for c in seen] == created[::-1]
    keys = [(c["created_at"], c["id"]) for c in seen]
    assert keys == sorted(keys, reverse=True)
    assert len({c["created_at"] for c in seen}) == len(seen)


def test_default_page_size_is_20(fresh_api: httpx.Client) -> None:
    for _ in range(21):
        make_product(fresh_api)
    page = fresh_api.get("/products").json()
    assert len(page["data"]) == 20 and page["has_more"] is True
    last = fresh_api.get("/products", params={"cursor": page["next_cursor"]}).json()
    assert len(last["data"]) == 1 and last == {**last, "has_more": False, "next_cursor": None}


def test_tampered_and_foreign_cursors_are_rejected(
    api: httpx.Client, api_b: httpx.Client
) -> None:
    for _ in range(3):
        make_customer(api)
        make_customer(api_b)
        make_product(api)
    cursor = api.get("/customers", params={"limit": 1}).json()["next_cursor"]
    payload, _, signature = cursor.partition(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    forged_payload = base64.urlsafe_b64encode(b'["org_a","customers",0,"cus_"]').decode()
    tampered = [flipped + "." + signature, payload + "." + signature[::-1], payload,
                forged_payload.rstrip("=") + "." + signature, "not-a-cursor", cursor + "x"]
    for bad in tampered:
        assert_problem(api.get("/customers", params={"cursor": bad}), 400, "invalid_cursor")
    # Another organization's cursor, or one issued for another list.
    assert_problem(api_b.get("/customers", params={"cursor": cursor}), 400, "invalid_cursor")
    assert_problem(api.get("/products", params={"cursor": cursor}), 400, "invalid_cursor")
    assert api.get("/customers", params={"cursor": cursor}).status_code == 200
