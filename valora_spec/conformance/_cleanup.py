"""At the end of a run: undo what it created, as far as the API allows, and say what is left.

The API deletes draft invoices, coupons no subscription uses and customers without
subscriptions or invoices; it cancels subscriptions but never deletes them, and it deletes no
product, price or meter. Clean-up therefore goes invoices, subscriptions, coupons, customers, and
lists everything that stays in the target, with why, so the operator can find it by the run's
prefix (`metadata.valora_run`).

`cleanup(run)` uses `run.created`, the `(operation label, id)` pairs appended when a check
created something (see `Factory.body`, and `track_created` for creations outside the factory).
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from valora_spec.conformance._http import Client, Reply, Scope, TargetError

if TYPE_CHECKING:
    from valora_spec.conformance._run import Run

# collection -> kind, in clean-up order (what blocks a deletion goes first)
KINDS = {"invoices": "invoice", "subscriptions": "subscription", "coupons": "coupon",
         "customers": "customer", "prices": "price", "products": "product", "meters": "meter"}
NO_DELETE = "the API has no way to delete a {kind}"
_LABEL = re.compile(r"^POST /v1/([a-z_]+)$")


def cleanup(run: Run) -> dict[str, Any]:
    """Delete or cancel what the run created; {"deleted", "canceled", "left": [{kind, id, why}]}."""
    result: dict[str, Any] = {"deleted": 0, "canceled": 0, "left": []}
    if not run.created:
        return result
    view = run.seen_by("harness clean-up")
    clients = [c for c in (view.api, view.api_b) if c is not None]

    def attempt(kind: str, rid: str) -> tuple[str | None, str | None]:
        try:
            return _undo(kind, rid, clients)
        except TargetError as exc:
            return None, f"not cleaned up: {exc}"[:200]

    # One kind after another (what blocks a deletion goes first); within a kind the resources
    # are independent, so up to --concurrency of them are cleaned up at once.
    with ThreadPoolExecutor(max_workers=run.settings.concurrency,
                            thread_name_prefix="valora-cleanup") as pool:
        for kind, group in groupby(_ordered(run.created), key=itemgetter(0)):
            ids = [rid for _, rid in group]
            for rid, (done, why) in zip(ids, pool.map(partial(attempt, kind), ids), strict=True):
                if done:
                    result[done] += 1
                if why:
                    result["left"].append({"kind": kind, "id": rid, "why": why})
    return result


def track_created(run: Run) -> None:
    """Also record creations that bypass the factory (fuzzing, hand-built bodies): every 201
    answer to `POST /v1/<collection>` whose body has an id."""

    def observe(reply: Reply, scope: Scope) -> None:
        exchange = reply.exchange
        if reply.status != 201 or exchange.method != "POST":
            return
        path = exchange.url.split("?", 1)[0].removeprefix(run.settings.base_url or "")
        if not _LABEL.match(f"POST {path}"):
            return
        try:
            body = reply.json()
        except TargetError:
            return
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            run.created.append((f"POST {path}", body["id"]))

    run.transport.observers.append(observe)


def _ordered(created: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(kind, id) once each, in clean-up order, newest first within a kind."""
    seen: set[tuple[str, str]] = set()
    by_kind: dict[str, list[str]] = {kind: [] for kind in KINDS.values()}
    other: list[tuple[str, str]] = []
    for label, rid in reversed(created):
        match = _LABEL.match(label)
        collection = match.group(1) if match else label
        kind = KINDS.get(collection, collection.rsplit("/", 1)[-1].removesuffix("s") or "resource")
        if (kind, rid) in seen:
            continue
        seen.add((kind, rid))
        if kind in by_kind:
            by_kind[kind].append(rid)
        else:
            other.append((kind, rid))
    return [(kind, rid) for kind, ids in by_kind.items() for rid in ids] + other


def _undo(kind: str, rid: str, clients: list[Client]) -> tuple[str | None, str | None]:
    """Clean one resource up: (what was done: "deleted", "canceled" or None; why something of
    it stays, or None)."""
    if kind in ("invoice", "coupon", "customer"):
        reply = _first_found(clients, "DELETE", f"/v1/{kind}s/{rid}")
        if reply is None:
            return None, None  # gone already (a check deleted it)
        if reply.status in (200, 202, 204):
            return "deleted", None
        return None, _refusal(reply, f"DELETE /v1/{kind}s/{{id}}")
    if kind == "subscription":
        reply = _first_found(clients, "POST", f"/v1/subscriptions/{rid}/cancel", body={})
        if reply is None:
            return None, None
        if reply.status == 200:
            return "canceled", "subscriptions cannot be deleted; canceled by the clean-up"
        if reply.status == 409:  # already canceled
            return None, "subscriptions cannot be deleted; already canceled"
        return None, _refusal(reply, "POST /v1/subscriptions/{id}/cancel")
    return None, NO_DELETE.format(kind=kind)


def _first_found(clients: list[Client], method: str, path: str, body: Any = None) -> Reply | None:
    """The answer of the first organization's key that finds the resource (None: none does)."""
    for client in clients:
        reply = client.request(method, path, json_body=body)
        if reply.status != 404:
            return reply
    return None


def _refusal(reply: Reply, operation: str) -> str:
    """Why the target refused, in one line; from the redacted record, since a hostile target may
    echo the key in its problem detail."""
    detail = ""
    try:
        problem = json.loads(reply.exchange.response_body or "")
    except ValueError:
        problem = None
    if isinstance(problem, dict) and isinstance(problem.get("detail"), str):
        detail = f": {problem['detail']}"
    return " ".join(f"{operation} answered {reply.status}{detail}".split())[:200]
