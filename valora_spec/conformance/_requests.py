"""Concrete, valid requests for any operation of the spec, built from its own examples."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from valora_spec.conformance._catalogue import Operation
from valora_spec.conformance._factory import iso, now

# The ids used in the spec's examples, and the resource each stands for.
EXAMPLE_IDS = {"cus_01": "customer_id", "price_01": "price_id", "prod_01": "product_id",
               "mtr_01": "meter_id", "sub_01": "subscription_id", "inv_01": "invoice_id",
               "cpn_01": "coupon_id"}


def concrete(op: Operation, document: dict[str, Any], ids: dict[str, str]
             ) -> tuple[str, dict[str, str] | None, Any]:
    """(path, query, body) for `op`, with path and body ids taken from `ids`."""
    path = "/v1" + op.path
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    query = None
    if op.operation_id == "queryMeterUsage":
        end = now()
        query = {"customer": "nobody", "from": iso(end - timedelta(hours=1)), "to": iso(end)}
    body = None
    spec_op = document["paths"][op.path][op.method]
    content = spec_op.get("requestBody", {}).get("content", {}).get("application/json")
    if content and "example" in content:
        body = _substitute(copy.deepcopy(content["example"]), ids)
    return path, query, body


def _substitute(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, ids) for v in value]
    if isinstance(value, str) and value in EXAMPLE_IDS and EXAMPLE_IDS[value] in ids:
        return ids[EXAMPLE_IDS[value]]
    if isinstance(value, str) and value in ids:  # natural keys of the examples, made unique
        return ids[value]
    return value
