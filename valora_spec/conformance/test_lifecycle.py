"""Layer 2/3: subscription and invoice state machines, immutability after finalize."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from valora_spec.conformance import _expect as expect
from valora_spec.conformance._factory import Factory, instant, iso, now, settle_usage
from valora_spec.conformance._run import CheckRun

pytestmark = pytest.mark.writes
ACTIONS = {"finalize": "open", "mark_paid": "paid", "void": "void",
           "mark_uncollectible": "uncollectible"}
ALLOWED = {("draft", "finalize"), ("open", "mark_paid"), ("open", "void"),
           ("open", "mark_uncollectible"), ("uncollectible", "mark_paid"),
           ("uncollectible", "void")}
PATH_TO = {"draft": [], "open": ["finalize"], "paid": ["finalize", "mark_paid"],
           "void": ["finalize", "void"], "uncollectible": ["finalize", "mark_uncollectible"]}


@pytest.mark.requirements("VAL-SUB-001")
def test_items_share_currency_and_interval(run: CheckRun, check, factory: Factory) -> None:
    customer = factory.customer()
    eur = factory.price("flat")
    usd = factory.price("flat", currency="USD")
    yearly = factory.price("flat", interval="year")
    for what, other in (("currency", usd), ("interval", yearly)):
        for first, second in ((eur, other), (other, eur)):  # either may come first
            reply = run.api.post("/v1/subscriptions", {"customer_id": customer["id"],
                                                       "items": [{"price_id": first["id"]},
                                                                 {"price_id": second["id"]}]})
            expect.status(check, "VAL-SUB-001", reply, 400, "POST /v1/subscriptions",
                          f"prices with different {what}")


@pytest.mark.requirements("VAL-SUB-002", "VAL-SUB-003", "VAL-SUB-004", "VAL-SUB-005",
                          "VAL-ERR-003")
def test_subscription_states(run: CheckRun, check, factory: Factory) -> None:
    customer = factory.customer()
    price = factory.price("flat")
    future = factory.subscription(customer["id"], [price["id"]],
                                  start_at=iso(now() + timedelta(days=3)))
    check.that("VAL-SUB-002", future.get("status") == "pending", "a future start is not pending",
               operation="POST /v1/subscriptions", expected="pending", observed=future.get("status"))
    # The last day a date-time can name: its first period would end after 9999, so a server may
    # refuse it (400); one that accepts it must show it pending. A 5xx fails VAL-ERR-006.
    late = run.api.post("/v1/subscriptions", {"customer_id": customer["id"],
                                              "items": [{"price_id": price["id"]}],
                                              "metadata": factory.metadata,
                                              "start_at": "9999-12-31T00:00:00Z"})
    if late.status == 201:
        check.that("VAL-SUB-002", late.json().get("status") == "pending",
                   "a start_at in 9999 is not pending", operation="POST /v1/subscriptions",
                   expected="pending", observed=late.json().get("status"), exchange=late.exchange)
    # one month earlier the first period ends within 9999 (only a later one would not): valid
    factory.subscription(customer["id"], [price["id"]], start_at="9999-11-30T00:00:00Z")
    sub = factory.subscription(customer["id"], [price["id"]])
    check.that("VAL-SUB-002", sub.get("status") == "active", "a started subscription is not active",
               operation="POST /v1/subscriptions", expected="active", observed=sub.get("status"))
    base = f"/v1/subscriptions/{sub['id']}"
    reply = run.api.post(f"{base}/revoke_cancellation")
    expect.status(check, "VAL-SUB-005", reply, 409, "POST …/revoke_cancellation",
                  "nothing scheduled")
    reply = run.api.post(f"{base}/cancel", {"at_period_end": True})
    expect.status(check, "VAL-SUB-004", reply, 200, "POST …/cancel", "at_period_end", stop=True)
    body = reply.json()
    period_end = instant(body.get("current_period_end"))  # the same instant, however written
    check.that("VAL-SUB-004", body.get("status") == "active"
               and period_end is not None and instant(body.get("cancel_at")) == period_end,
               "a scheduled cancellation must keep the subscription active with cancel_at = "
               "current_period_end", operation="POST …/cancel",
               expected={"status": "active", "cancel_at": body.get("current_period_end")},
               observed={"status": body.get("status"), "cancel_at": body.get("cancel_at")},
               exchange=reply.exchange)
    reply = run.api.post(f"{base}/revoke_cancellation")
    expect.status(check, "VAL-SUB-004", reply, 200, "POST …/revoke_cancellation", stop=True)
    check.that("VAL-SUB-004", reply.json().get("cancel_at") is None,
               "revoking left cancel_at set", operation="POST …/revoke_cancellation",
               expected=None, observed=reply.json().get("cancel_at"), exchange=reply.exchange)
    reply = run.api.post(f"{base}/cancel", {})
    expect.status(check, "VAL-SUB-003", reply, 200, "POST …/cancel", stop=True)
    body = reply.json()
    check.that("VAL-SUB-003", body.get("status") == "canceled" and body.get("canceled_at"),
               "an immediate cancel did not cancel", operation="POST …/cancel",
               expected="canceled with canceled_at", observed=body.get("status"),
               exchange=reply.exchange)
    check.that("VAL-SUB-002", run.api.get(base).json().get("status") == "canceled",
               "a canceled subscription reads back otherwise", operation="GET /v1/subscriptions/{id}",
               expected="canceled", observed="other")
    # every way of canceling again is a transition out of `canceled`, scheduled or not
    for action, body_ in (("cancel", {}), ("cancel", {"at_period_end": True}),
                          ("revoke_cancellation", None)):
        reply = run.api.post(f"{base}/{action}", body_)
        expect.status(check, "VAL-SUB-005", reply, 409, f"POST …/{action}",
                      f"on a canceled one{' with at_period_end' if body_ else ''}")
        if reply.status == 409:
            expect.problem_code(check, "VAL-ERR-003", reply, "invalid_state_transition",
                                f"POST …/{action}")


@pytest.fixture(scope="module")
def subscription(module_run: CheckRun) -> dict[str, Any]:
    make = Factory(module_run)
    return make.subscription(make.customer()["id"], [make.price("flat", flat_amount=700)["id"]])


def _invoice_in(run: CheckRun, check, make: Factory, sub: dict, state: str) -> dict[str, Any]:
    end = now()
    invoice = make.invoice(sub["id"], end - timedelta(hours=1), end)
    for action in PATH_TO[state]:
        reply = run.api.post(f"/v1/invoices/{invoice['id']}/{action}")
        expect.status(check, "VAL-INV-007", reply, 200, f"POST …/{action}",
                      f"moving an invoice to {state}", stop=True)
        invoice = reply.json()
    return invoice


@pytest.mark.requirements("VAL-INV-007", "VAL-INV-008")
@pytest.mark.parametrize("state", list(PATH_TO))
def test_invoice_state_machine(run: CheckRun, check, factory: Factory, subscription: dict,
                               state: str) -> None:
    for action, target in ACTIONS.items():
        invoice = _invoice_in(run, check, factory, subscription, state)
        reply = run.api.post(f"/v1/invoices/{invoice['id']}/{action}")
        op = f"POST /v1/invoices/{{id}}/{action}"
        if (state, action) in ALLOWED:
            expect.status(check, "VAL-INV-007", reply, 200, op, f"{state} → {target}")
            got = reply.json().get("status") if reply.status == 200 else None
            check.that("VAL-INV-007", got == target, f"{state} → {action} gave {got!r}",
                       operation=op, expected=target, observed=got, exchange=reply.exchange)
            if state != "draft" and reply.status == 200:  # finalize set it; nothing later changes it
                finalized, now_said = invoice.get("finalized_at"), reply.json().get("finalized_at")
                unchanged = instant(finalized) is not None and instant(now_said) == instant(finalized)
                check.that("VAL-INV-007", unchanged,
                           f"{state} → {action} changed finalized_at from {finalized!r} to {now_said!r}",
                           operation=op, expected=finalized, observed=now_said, exchange=reply.exchange)
        else:
            expect.status(check, "VAL-INV-007", reply, 409, op, f"forbidden {state} → {action}")
            after = run.api.get(f"/v1/invoices/{invoice['id']}").json().get("status")
            check.that("VAL-INV-007", after == state,
                       f"a refused {action} moved the invoice from {state} to {after}",
                       operation=op, expected=state, observed=after)
    # only a draft may be deleted, whatever state the others reached
    invoice = _invoice_in(run, check, factory, subscription, state)
    reply = run.api.delete(f"/v1/invoices/{invoice['id']}")
    deletable = state == "draft"
    expect.status(check, "VAL-INV-008", reply, 204 if deletable else 409,
                  "DELETE /v1/invoices/{id}", f"a {state} invoice")
    reply = run.api.get(f"/v1/invoices/{invoice['id']}")
    expect.status(check, "VAL-INV-008", reply, 404 if deletable else 200, "GET /v1/invoices/{id}",
                  f"after deleting a {state} invoice")


@pytest.mark.requirements("VAL-INV-005", "VAL-INV-006", "VAL-INV-008")
def test_finalized_invoices_never_change(run: CheckRun, check, factory: Factory) -> None:
    customer = factory.customer()
    meter = factory.meter("SUM")
    price = factory.price("per_unit", unit_amount="10", meter_id=meter["id"])
    sub = factory.subscription(customer["id"], [price["id"]])
    start, end = now() - timedelta(hours=3), now() - timedelta(hours=1)
    factory.ingest([factory.event(customer["external_id"], meter["event_type"],
                                  start + timedelta(minutes=5), {"value": 4})])
    draft = factory.invoice(sub["id"], start, end)
    reply = run.api.patch(f"/v1/invoices/{draft['id']}", {"memo": "editable"})
    expect.status(check, "VAL-INV-006", reply, 200, "PATCH /v1/invoices/{id}", "on a draft")
    reply = run.api.post(f"/v1/invoices/{draft['id']}/finalize")
    expect.status(check, "VAL-INV-005", reply, 200, "POST …/finalize", stop=True)
    finalized = reply.json()
    factory.ingest([factory.event(customer["external_id"], meter["event_type"],
                                  start + timedelta(minutes=10), {"value": 6})])
    reply = run.api.patch(f"/v1/invoices/{draft['id']}", {"memo": "too late"})
    expect.status(check, "VAL-INV-006", reply, 409, "PATCH /v1/invoices/{id}", "on an open invoice")
    if reply.status == 409:
        expect.problem_code(check, "VAL-INV-006", reply, "invoice_immutable",
                            "PATCH /v1/invoices/{id}")
    settle_usage(run)  # the late usage must be visible before "never changes" means anything
    reply = run.api.get(f"/v1/invoices/{draft['id']}")
    later = reply.json() if reply.status == 200 else {}
    fields = ("lines", "subtotal", "total", "memo", "period_start", "period_end")
    changed = [f for f in fields if not expect.same_json(later.get(f), finalized.get(f))]
    check.that("VAL-INV-005", not changed, f"a finalized invoice changed: {changed}",
               operation="GET /v1/invoices/{id}", expected="as finalized",
               observed={f: later.get(f) for f in changed}, exchange=reply.exchange)
    reply = run.api.delete(f"/v1/invoices/{draft['id']}")
    expect.status(check, "VAL-INV-008", reply, 409, "DELETE /v1/invoices/{id}", "an open invoice")
    other = factory.invoice(sub["id"], start, end)
    reply = run.api.delete(f"/v1/invoices/{other['id']}")
    expect.status(check, "VAL-INV-008", reply, 204, "DELETE /v1/invoices/{id}", "a draft")
    reply = run.api.get(f"/v1/invoices/{other['id']}")
    expect.status(check, "VAL-INV-008", reply, 404, "GET /v1/invoices/{id}", "a deleted draft")
