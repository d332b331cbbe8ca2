"""HTTP conventions: problem+json errors, auth, roles, methods, hostile input (VAL-ERR-*, VAL-AUTH-*)."""

from __future__ import annotations

import json

import httpx
import pytest
from ref_helpers import assert_problem, bad_param_names, client, make_customer, unique

from valora_spec import _spec
from valora_spec.reference.routes import HANDLERS


def test_meta_declares_the_newest_version(api: httpx.Client) -> None:
    meta = api.get("/meta").json()
    newest = _spec.released_versions()[-1]
    assert meta["spec_version"] == newest
    assert meta["compatible_range"] == {"min": "1.0.0", "max": newest}
    assert meta["implementation"]["name"] == "Valora Reference"
    assert meta["usage_visibility_seconds"] == 0


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Basic key-admin-a", "Bearer"])
def test_missing_or_invalid_key_is_401_with_challenge(base_url: str, authorization: str | None
                                                      ) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(base_url=base_url + "/v1", headers=headers) as anonymous:
        for response in (anonymous.get("/customers"), anonymous.post("/customers", json={})):
            assert_problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"


def test_read_only_key_reads_but_cannot_write(api: httpx.Client, api_read: httpx.Client) -> None:
    customer = make_customer(api)
    assert api_read.get(f"/customers/{customer['id']}").status_code == 200
    writes = [
        api_read.post("/customers", json={"external_id": unique(), "name": "X"}),
        api_read.patch(f"/customers/{customer['id']}", json={"name": "Changed"}),
        api_read.delete(f"/customers/{customer['id']}"),
    ]
    for response in writes:
        assert_problem(response, 403, "forbidden")
    assert api.get(f"/customers/{customer['id']}").json()["name"] == "Acme"


def test_unknown_path_is_404_problem(api: httpx.Client, base_url: str) -> None:
    assert_problem(api.get("/nothing-here"), 404, "not_found")
    assert_problem(api.get("/customers/"), 404, "not_found")
    with client(base_url, None) as anonymous:
        assert_problem(anonymous.get(base_url + "/v2/customers"), 404, "not_found")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD", "OPTIONS", "TRACE"])
def test_undefined_method_is_405_with_allow(api: httpx.Client, method: str) -> None:
    response = api.request(method, "/customers")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert_problem(response, 405, "method_not_allowed")


def test_invalid_json_and_media_type_are_400(api: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    for raw in (b"{", b"[1,", b'{"name": NaN}', b'{"a": Infinity}', b"\xff\xfe", b""):
        assert_problem(api.post("/products", content=raw, headers=headers), 400, "invalid_request")
    text = api.post("/products", content=b'{"name": "x"}', headers={"Content-Type": "text/plain"})
    assert bad_param_names(text) == {"Content-Type"}


def test_schema_violations_name_the_fields(api: httpx.Client) -> None:
    response = api.post("/customers", json={"name": "", "external_id": "ok", "color": "red"})
    assert bad_param_names(response) == {"name", "color"}
    response = api.post("/customers", json={"external_id": 5, "name": "x", "metadata": {"k": 1}})
    assert bad_param_names(response) == {"external_id", "metadata.k"}
    assert bad_param_names(api.post("/customers", json=[])) == {"body"}
    assert bad_param_names(api.patch("/customers/cus_x", json={})) == {"body"}


def test_query_parameters_are_validated(api: httpx.Client) -> None:
    assert bad_param_names(api.get("/customers", params={"limit": "0"})) == {"limit"}
    assert bad_param_names(api.get("/customers", params={"limit": "101"})) == {"limit"}
    assert bad_param_names(api.get("/customers", params={"limit": "ten"})) == {"limit"}
    assert bad_param_names(api.get("/customers", params={"colour": "x"})) == {"colour"}
    assert bad_param_names(api.get("/customers?limit=2&limit=3")) == {"limit"}
    assert bad_param_names(api.get("/customers/" + "x" * 65)) == {"customer_id"}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "' + b"\\u0000" * 10 + b'"}',
        b'{"name": "\\ud800"}',
        b'{"name": 1e999999999}',
        b'{"name": ' + b"9" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"name": "x", "description": ' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"name": "' + "ü€😀".encode() * 1000 + b'"}',
        b'{"name": "x", "active": "yes"}',
        b'{"name": {"nested": true}}',
    ],
)
def test_odd_input_never_causes_a_server_error(api: httpx.Client, raw: bytes) -> None:
    response = api.post("/products", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, response.text
    assert response.status_code in (201, 400)


def test_nul_bytes_and_unicode_round_trip(api: httpx.Client) -> None:
    name = "nul\x00 ü € 😀"
    product = api.post("/products", json={"name": name}).json()
    assert api.get(f"/products/{product['id']}").json()["name"] == name


def test_huge_body_is_rejected(api: httpx.Client) -> None:
    raw = json.dumps({"name": "x" * (2 * 1024 * 1024)}).encode()
    response = api.post("/products", content=raw, headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "invalid_request")


def test_every_error_is_problem_json(api: httpx.Client) -> None:
    customer = make_customer(api)
    responses = {
        404: api.get("/customers/cus_missing"),
        409: api.post("/customers", json={"external_id": customer["external_id"], "name": "x"}),
        400: api.get("/customers", params={"cursor": "forged"}),
    }
    for status, response in responses.items():
        assert_problem(response, status)


def test_unexpected_error_is_500_problem(monkeypatch: pytest.MonkeyPatch,
                                         fresh_api: httpx.Client) -> None:
    def broken(ctx: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(HANDLERS, "getMeta", broken)
    problem = assert_problem(fresh_api.get("/meta"), 500, "internal_error")
    assert "boom" not in problem["detail"]
    assert fresh_api.get("/customers").status_code == 200
