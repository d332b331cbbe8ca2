"""Being a good guest: bounded request rate, backing off on 429, read-only mode, labelled data
that is cleaned up afterwards as far as the API allows."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import hostile as h
import httpx
import pytest
from harness_suite import KEYS, run_suite

from valora_spec.conformance._cleanup import cleanup, track_created
from valora_spec.conformance._factory import Factory
from valora_spec.conformance._http import Client, RateLimiter, ReadOnlyViolation, Scope, Transport
from valora_spec.conformance._recorder import Recorder

COLLECTIONS = ("customers", "products", "prices", "meters", "subscriptions", "invoices", "coupons")


@pytest.fixture(autouse=True)
def _lean_harness_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness needs none of the installed pytest plugins; not loading them saves ~1 s a run."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _list_all(url: str, key: str, collection: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        for _ in range(100):
            page = client.get(f"/v1/{collection}",
                              params={"limit": 100} | ({"cursor": cursor} if cursor else {})).json()
            items += page["data"]
            cursor = page.get("next_cursor")
            if not page.get("has_more"):
                break
    return items


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most requests that arrived within any `window` seconds (half-open)."""
    times, best, start = sorted(times), 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_max_rps_is_respected_and_created_data_carries_the_run_prefix(tmp_path: Path) -> None:
    max_rps = 30
    app = h.Recording(h.reference_app())
    with h.AsgiServer(app) as server:
        result = run_suite(tmp_path / "report", "--max-rps", str(max_rps), "-k", "test_lifecycle",
                           base_url=server.url)
        created = {(c, item["id"]): item for key in (KEYS["api_key"], KEYS["api_key_b"])
                   for c in COLLECTIONS for item in _list_all(server.url, key, c)}
    # a selection or --read-only judges only part of the profile: incomplete (3), never fail
    assert result.exit_code == 3 and "Traceback" not in result.stdout + result.stderr, result.stdout[-2000:]
    assert result.status("VAL-SUB-002") == "pass"
    seen = app.requests()
    assert len(seen) > 2 * max_rps, len(seen)  # enough traffic for full one-second windows
    busiest = _max_in_window([s.at for s in seen])
    assert busiest <= max_rps * 1.1, busiest
    span = seen[-1].at - seen[0].at
    assert len(seen) / span <= max_rps * 1.1

    # Everything created carries one prefix, the run's, in its metadata.
    assert created
    prefixes = Counter((item.get("metadata") or {}).get("valora_run") for item in created.values())
    assert len(prefixes) == 1 and None not in prefixes, prefixes
    (prefix,) = prefixes
    assert prefix.startswith("vc")
    creations = [s for s in seen if s.method == "POST" and s.status == 201
                 and s.path.count("/") == 2 and s.path != "/v1/events/batch"]
    assert creations
    for request in creations:
        assert json.loads(request.body)["metadata"] == {"valora_run": prefix}, request.target


def test_backs_off_on_429(tmp_path: Path) -> None:
    """A rate-limited reference (4 requests/s per key): every 429 is followed by a pause of at
    least its Retry-After before that key is used again, and the checks still get their answers."""
    app = h.Recording(h.reference_app(rate_limit=4))
    with h.AsgiServer(app) as server:
        # one request at a time: then "the next request with that key" is well defined at the
        # server (in flight together, requests sent before the 429 arrived would come after it)
        result = run_suite(tmp_path / "report", "-k", "test_created_resources or test_customer_deletion",
                           "--concurrency", "1", base_url=server.url)
    # a selection or --read-only judges only part of the profile: incomplete (3), never fail
    assert result.exit_code == 3 and "Traceback" not in result.stdout + result.stderr, result.stdout[-2000:]
    seen = app.requests()
    throttled = [i for i, s in enumerate(seen) if s.status == 429]
    assert throttled, "the rate limit was never reached; the test proves nothing"
    assert result.report["stats"]["throttled"] >= len(throttled) // 2
    for index in throttled:
        key = seen[index].headers.get("authorization")
        later = [s for s in seen[index + 1:] if s.headers.get("authorization") == key]
        if later:
            assert later[0].at - seen[index].at >= 0.9, (seen[index].target, later[0].at - seen[index].at)
    assert len(throttled) < len(seen) / 3  # it waits rather than hammering
    assert result.status("VAL-CRUD-001") == "pass"
    assert result.status("VAL-CUST-001") == "pass"


def test_a_429_pauses_every_request_with_that_key() -> None:
    """Requests in flight together: once one is answered 429 with `Retry-After: 1`, a request
    with the same key made after that waits out the second too; one with another key does not."""
    first = True

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal first
        if scope["type"] != "http":
            return
        limited, first = first, False
        await h.constant(429 if limited else 200, b'{"status": 429}' if limited else b"{}",
                         headers=[(b"retry-after", b"1")] if limited else None)(scope, receive, send)

    recording = h.Recording(app)
    with h.AsgiServer(recording) as server:
        transport = _transport(server.url)
        throttled = threading.Event()
        transport.observers.append(lambda reply, scope: reply.status == 429 and throttled.set())
        first_call = threading.Thread(target=transport.send, args=("GET", "/v1/meta"),
                                      kwargs={"key": "vk_key_one_0000", "scope": Scope("t")})
        first_call.start()
        assert throttled.wait(5)
        other_key = transport.send("GET", "/v1/meta", key="vk_key_two_0000", scope=Scope("t"))
        same_key = transport.send("GET", "/v1/meta", key="vk_key_one_0000", scope=Scope("t"))
        first_call.join(5)
        transport.close()
    assert other_key.status == same_key.status == 200
    seen = recording.requests()
    limited_at = seen[0].at
    by_key = {s.headers["authorization"]: [] for s in seen}
    for s in seen[1:]:
        by_key[s.headers["authorization"]].append(s.at - limited_at)
    assert by_key["Bearer vk_key_two_0000"][0] < 0.5  # not paused: another key
    assert len(by_key["Bearer vk_key_one_0000"]) == 2  # the retry and the later request
    assert min(by_key["Bearer vk_key_one_0000"]) >= 0.9


def test_read_only_sends_no_writes_and_skips_the_checks_that_need_them(tmp_path: Path) -> None:
    app = h.Recording(h.reference_app())
    with h.AsgiServer(app) as server:
        result = run_suite(tmp_path / "report", "--read-only", base_url=server.url)
    # a selection or --read-only judges only part of the profile: incomplete (3), never fail
    assert result.exit_code == 3 and "Traceback" not in result.stdout + result.stderr, result.stdout[-2000:]
    methods = Counter(s.method for s in app.requests())
    assert methods["GET"] > 0
    assert not {"POST", "PATCH", "DELETE"} & set(methods), methods  # the API's write methods
    report = result.report
    broken = [(r["id"], r["reason"]) for r in report["requirements"] if r["status"] == "error"]
    assert not broken, broken  # a check that tried to write anyway ends in error
    reason = "--read-only: this check needs writes"
    for requirement in ("VAL-CRUD-001", "VAL-IDEM-001", "VAL-SUB-002", "VAL-EVENT-001",
                        "VAL-PAGE-001", "VAL-AUTH-002"):
        entry = next(r for r in report["requirements"] if r["id"] == requirement)
        assert entry["status"] == "skip" and entry["reason"] == reason, entry
    assert report["config"]["read_only"] is True


def test_transport_refuses_unsafe_methods_in_read_only_mode() -> None:
    app = h.Recording(h.reference_app())
    with h.AsgiServer(app) as server:
        transport = _transport(server.url, read_only=True)
        client = Client(transport, KEYS["api_key"])
        assert client.get("/v1/customers").status == 200
        for method in ("POST", "PATCH", "DELETE", "PUT"):
            with pytest.raises(ReadOnlyViolation):
                client.request(method, "/v1/customers", json_body={})
        transport.close()
    assert [s.method for s in app.requests()] == ["GET"]


# clean-up -------------------------------------------------------------------------------------

def _transport(url: str, *, read_only: bool = False, deadline: float = 60) -> Transport:
    return Transport(base_url=url, request_timeout=2, deadline_at=time.monotonic() + deadline,
                     rate=RateLimiter(0), read_only=read_only)


@dataclass
class FakeRun:
    """What the factory and the clean-up use of a Run."""

    transport: Transport
    prefix: str = "vctest0001"
    created: list[tuple[str, str]] = field(default_factory=list)
    scope: Scope = field(default_factory=lambda: Scope("test"))
    recorder: Recorder = field(default_factory=lambda: Recorder(seed=0))
    declared: dict | None = None
    usage_visible_at: float = 0.0

    @property
    def settings(self) -> SimpleNamespace:
        return SimpleNamespace(base_url=self.transport.base_url, concurrency=8)

    @property
    def api(self) -> Client:
        return Client(self.transport, KEYS["api_key"])

    @property
    def api_b(self) -> Client:
        return Client(self.transport, KEYS["api_key_b"])

    def seen_by(self, check: str) -> FakeRun:
        return self


def test_cleanup_deletes_cancels_and_reports_what_it_left() -> None:
    with h.AsgiServer(h.reference_app()) as server:
        run = FakeRun(_transport(server.url))
        make = Factory(run)  # type: ignore[arg-type]
        lonely = make.customer()
        draft = make.draft_invoice()  # customer, product, price, subscription, draft invoice
        finalized = make.draft_invoice()
        assert run.api.post(f"/v1/invoices/{finalized['id']}/finalize").status == 200
        free_coupon = make.create("/v1/coupons", {"code": "VCTEST-FREE", "name": "Free", "percent_off": "10",
                                                  "metadata": make.metadata})
        used_coupon = make.create("/v1/coupons", {"code": "VCTEST-USED", "name": "Used", "percent_off": "10",
                                                  "metadata": make.metadata})
        customer = make.customer()
        price = make.price("flat")
        coupon_sub = make.subscription(customer["id"], [price["id"]], coupon_id=used_coupon["id"])
        other_org = Factory(run, client=run.api_b).customer()  # type: ignore[arg-type]
        gone = make.customer()
        assert run.api.delete(f"/v1/customers/{gone['id']}").status == 204
        meter = make.meter()

        result = cleanup(run)  # type: ignore[arg-type]

        def status(path: str, key: str = KEYS["api_key"]) -> int:
            return httpx.get(server.url + path, headers={"Authorization": f"Bearer {key}"}).status_code

        assert status(f"/v1/customers/{lonely['id']}") == 404
        assert status(f"/v1/invoices/{draft['id']}") == 404
        assert status(f"/v1/coupons/{free_coupon['id']}") == 404
        assert status(f"/v1/customers/{other_org['id']}", KEYS["api_key_b"]) == 404
        subscriptions = [i for label, i in run.created if label == "POST /v1/subscriptions"]
        for sub in subscriptions:
            body = httpx.get(f"{server.url}/v1/subscriptions/{sub}",
                             headers={"Authorization": f"Bearer {KEYS['api_key']}"}).json()
            assert body["status"] == "canceled"
        run.transport.close()

    assert result["deleted"] == 4  # lonely customer, draft invoice, free coupon, B's customer
    assert result["canceled"] == len(subscriptions) == 3
    left = {(e["kind"], e["id"]): e["why"] for e in result["left"]}
    assert ("invoice", finalized["id"]) in left and "draft" in left[("invoice", finalized["id"])]
    assert "in use" in left[("coupon", used_coupon["id"])].lower() or \
        "subscription" in left[("coupon", used_coupon["id"])]
    assert "subscriptions" in left[("customer", customer["id"])]
    assert left[("subscription", coupon_sub["id"])].startswith("subscriptions cannot be deleted")
    assert left[("meter", meter["id"])] == "the API has no way to delete a meter"
    assert left[("product", draft_product(run))] == "the API has no way to delete a product"
    assert ("customer", gone["id"]) not in left and ("customer", lonely["id"]) not in left
    assert all(set(e) == {"kind", "id", "why"} and "\n" not in e["why"] for e in result["left"])


def draft_product(run: FakeRun) -> str:
    return next(i for label, i in run.created if label == "POST /v1/products")


def test_cleanup_against_a_target_that_is_gone_reports_everything_left_quickly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    run = FakeRun(_transport(url))
    run.created = [("POST /v1/customers", f"cus_{i}") for i in range(20)] + \
        [("POST /v1/subscriptions", "sub_1"), ("POST /v1/products", "prod_1")]
    started = time.monotonic()
    result = cleanup(run)  # type: ignore[arg-type]
    assert time.monotonic() - started < 5
    assert result["deleted"] == result["canceled"] == 0
    assert len(result["left"]) == 22
    assert all(e["why"].startswith(("not cleaned up:", "the API has no way"))
               for e in result["left"])
    run.transport.close()


def test_creations_outside_the_factory_are_tracked() -> None:
    with h.AsgiServer(h.reference_app()) as server:
        transport = _transport(server.url)
        run = FakeRun(transport)
        track_created(run)  # type: ignore[arg-type]
        reply = run.api.post("/v1/customers", {"external_id": "by-hand", "name": "By hand"})
        run.api.post("/v1/customers", {"name": 5})  # refused: nothing created, nothing tracked
        result = cleanup(run)  # type: ignore[arg-type]
        transport.close()
    assert run.created == [("POST /v1/customers", reply.json()["id"])]
    assert result == {"deleted": 1, "canceled": 0, "left": []}
