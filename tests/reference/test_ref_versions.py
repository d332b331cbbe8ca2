"""Behaving as an older spec version; declaring a version (VAL-META-001, VAL-COMPAT-*)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from ref_helpers import KEYS, assert_problem, bad_param_names, client, make_customer, make_price

from valora_spec.reference import create_app, serve_in_thread


@pytest.fixture(scope="module", params=["1.0.0", "1.0.1", "1.1.0", "1.1.1"])
def old(request: pytest.FixtureRequest) -> Iterator[tuple[str, httpx.Client]]:
    app = create_app(keys=KEYS, spec_version=request.param)
    with serve_in_thread(app) as url, client(url, "key-admin-a") as api:
        yield request.param, api
    app.close()


def test_meta_declares_the_behaved_version(old: tuple[str, httpx.Client]) -> None:
    version, api = old
    meta = api.get("/meta").json()
    assert meta["spec_version"] == version
    assert meta["compatible_range"] == {"min": "1.0.0", "max": version}


def test_later_operations_are_absent(old: tuple[str, httpx.Client]) -> None:
    _, api = old
    assert_problem(api.get("/coupons"), 404, "not_found")
    assert_problem(api.post("/coupons", json={"code": "X", "name": "x", "percent_off": "1"}), 404)


def test_later_fields_and_values_are_rejected(old: tuple[str, httpx.Client]) -> None:
    version, api = old
    customer = make_customer(api)
    price = make_price(api)
    assert "package_size" not in price if version.startswith("1.0.") else price["package_size"] is None
    body = {"customer_id": customer["id"], "items": [{"price_id": price["id"]}]}
    subscription = api.post("/subscriptions", json=body).json()
    assert "trial_end" not in subscription and "coupon_id" not in subscription
    invoice = api.post("/invoices", json={"subscription_id": subscription["id"],
                                          "period_start": "2026-01-01T00:00:00Z",
                                          "period_end": "2026-02-01T00:00:00Z"}).json()
    assert "discount" not in invoice and invoice["total"] == invoice["subtotal"]
    with_trial = {**body, "trial_end": "2030-01-01T00:00:00Z"}
    assert bad_param_names(api.post("/subscriptions", json=with_trial)) == {"trial_end"}
    meter = {"key": "k1", "name": "m", "event_type": "e", "aggregation": "COUNT"}
    assert api.post("/meters", json=meter).status_code == 201
    usage = {"customer": "c", "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z",
             "group_by": "region"}
    meter_id = api.get("/meters").json()["data"][0]["id"]
    assert bad_param_names(api.get(f"/meters/{meter_id}/usage", params=usage)) == {"group_by"}
    package = {"product_id": price["product_id"], "currency": "EUR", "interval": "month",
               "model": "package", "package_size": 10, "package_amount": 100}
    avg = {**meter, "key": "k2", "aggregation": "AVG", "value_property": "n"}
    if version.startswith("1.0."):
        assert bad_param_names(api.post("/prices", json=package)) == {"model"}
        assert bad_param_names(api.post("/meters", json=avg)) == {"aggregation"}
        assert bad_param_names(api.get("/customers", params={"email": "a@b.co"})) == {"email"}
        assert bad_param_names(api.get("/subscriptions", params={"status": "active"})) == {
            "status"}
    else:
        assert api.post("/prices", json=package).status_code == 201
        assert api.post("/meters", json=avg).status_code == 201
        assert api.get("/customers", params={"email": "a@b.co"}).status_code == 200
        assert bad_param_names(api.get("/subscriptions", params={"status": "trialing"})) == {
            "status"}


def test_declared_version_can_differ_from_behaviour() -> None:
    app = create_app(keys=KEYS, spec_version="1.0.0", declare_version="1.2.0")
    with serve_in_thread(app) as url, client(url, "key-admin-a") as api:
        meta = api.get("/meta").json()
        assert meta["spec_version"] == "1.2.0"
        assert meta["compatible_range"] == {"min": "1.0.0", "max": "1.2.0"}
        assert_problem(api.get("/coupons"), 404)
    app.close()


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError):
        create_app(keys=KEYS, spec_version="1.3.0")
