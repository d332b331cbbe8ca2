"""Time `compare()` on two synthetic 300-operation specs, then `valora-spec compat` as a
process on a small corpus pair and on two versions of Stripe's public spec (time and peak memory).

Prints figures; asserts nothing. Run: .venv/bin/python benchmarks/bench_compat.py
The Stripe pair is read from `../shared/bench-data/stripe-2019/` next to the repository;
without it that row is skipped with a message.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # measure this checkout, not whichever one is installed

import yaml  # noqa: E402

from valora_spec.compat import compare  # noqa: E402
from valora_spec.compat._yaml import parse  # noqa: E402

STRIPE = REPO.parent / "shared" / "bench-data" / "stripe-2019"
STRIPE_PAIR = ("spec3-6a435057.yaml.gz", "spec3-62024d02.yaml.gz")  # older, newer
SMALL_PAIR = REPO / "tests" / "compat_corpus" / "121-mixed-minor-and-major"

RESOURCES = 60  # x 5 operations each = 300 operations
ROUNDS = 5


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _resource(name: str, i: int) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "status", "amount"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z]{3}_[0-9a-z]+$", "readOnly": True},
            "status": {"type": "string", "enum": ["draft", "open", "paid", "void"]},
            "kind": {"type": "string", "x-extensible-enum": ["standard", "metered"]},
            "amount": _ref("Money"),
            "address": _ref("Address"),
            "memo": {"type": ["string", "null"], "maxLength": 500, "description": f"{name} memo"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            "lines": {"type": "array", "items": _ref(f"{name}Line")},
            "payment": {"oneOf": [_ref("Card"), _ref("BankAccount")]},
            "created_at": {"type": "string", "format": "date-time", "readOnly": True},
            "seq": {"type": "integer", "example": i},
        },
    }


def _line() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["description", "amount"],
        "properties": {
            "description": {"type": "string", "minLength": 1, "maxLength": 200},
            "amount": _ref("Money"),
            "discount": {"type": "number", "minimum": 0, "maximum": 100},
        },
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def build_spec() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Money": {
            "type": "object",
            "required": ["currency", "value"],
            "properties": {
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "value": {"type": "integer"},
            },
        },
        "Address": {
            "type": "object",
            "properties": {k: {"type": "string"} for k in ("line1", "city", "postal_code")},
        },
        "Card": {
            "type": "object",
            "required": ["last4"],
            "properties": {"last4": {"type": "string"}},
        },
        "BankAccount": {
            "type": "object",
            "required": ["iban"],
            "properties": {"iban": {"type": "string"}},
        },
        "Error": {
            "type": "object",
            "required": ["type", "title"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"}},
        },
    }
    paths: dict[str, Any] = {}
    for i in range(RESOURCES):
        name = f"Resource{i}"
        schemas[name] = _resource(name, i)
        schemas[f"{name}Line"] = _line()
        schemas[f"{name}List"] = {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {"type": "array", "items": _ref(name)},
                "next": {"type": "string"},
            },
        }
        errors = {"404": {"$ref": "#/components/responses/NotFound"}}
        ok = {"description": "ok", "content": _json(_ref(name))}
        item = f"/resources{i}/{{id}}"
        paths[f"/resources{i}"] = {
            "get": {
                "operationId": f"list{name}",
                "parameters": [
                    {"$ref": "#/components/parameters/Limit"},
                    {"$ref": "#/components/parameters/Cursor"},
                ],
                "responses": {"200": {"description": "ok", "content": _json(_ref(f"{name}List"))}},
            },
            "post": {
                "operationId": f"create{name}",
                "requestBody": {"required": True, "content": _json(_ref(name))},
                "responses": {"201": ok, **errors},
            },
        }
        paths[item] = {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": f"get{name}", "responses": {"200": ok, **errors}},
            "patch": {
                "operationId": f"update{name}",
                "requestBody": {"content": _json(_ref(name))},
                "responses": {"200": ok, **errors},
            },
            "delete": {
                "operationId": f"delete{name}",
                "responses": {"204": {"description": "deleted"}, **errors},
            },
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Bench", "version": "1.0.0"},
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "maximum": 100},
                },
                "Cursor": {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            },
            "responses": {"NotFound": {"description": "not found", "content": _json(_ref("Error"))}},
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


def evolve(spec: dict[str, Any]) -> dict[str, Any]:
    """A next version touching shared components, some resources and some operations."""
    new = copy.deepcopy(spec)
    schemas = new["components"]["schemas"]
    schemas["Money"]["properties"]["value"]["minimum"] = 0
    schemas["Address"]["properties"]["country"] = {"type": "string"}
    new["components"]["parameters"]["Limit"]["schema"]["maximum"] = 50
    for i in range(0, RESOURCES, 6):
        resource = schemas[f"Resource{i}"]["properties"]
        resource["status"]["enum"].append("uncollectible")
        resource["kind"]["x-extensible-enum"].append("prepaid")
        resource["memo"]["description"] = "Free text"
        resource["quantity"]["default"] = 2
    for i in range(1, RESOURCES, 10):
        del new["paths"][f"/resources{i}/{{id}}"]["delete"]
        new["paths"][f"/resources{i}"]["get"]["deprecated"] = True
    return new


def inline(node: Any, schemas: dict[str, Any]) -> Any:
    """The same spec with every schema $ref replaced by a copy: no sharing to exploit."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            return inline(schemas[ref.rsplit("/", 1)[-1]], schemas)
        return {key: inline(value, schemas) for key, value in node.items()}
    if isinstance(node, list):
        return [inline(value, schemas) for value in node]
    return node


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def _operations(spec: dict[str, Any]) -> int:
    methods = {"get", "put", "post", "delete", "patch"}
    return sum(1 for item in spec["paths"].values() for method in item if method in methods)


def main() -> None:
    old = build_spec()
    new = evolve(old)
    old_inline = {**old, "paths": inline(old["paths"], old["components"]["schemas"])}
    new_inline = {**new, "paths": inline(new["paths"], new["components"]["schemas"])}
    twin = copy.deepcopy(old)
    old_text, new_text = yaml.safe_dump(old), yaml.safe_dump(new)

    load_s, _ = _timed(lambda: (parse(old_text), parse(new_text)))
    rows = [
        ("parse both YAML files", load_s, None),
        ("compare old -> new", *_timed(lambda: compare(old, new))),
        ("compare new -> old", *_timed(lambda: compare(new, old))),
        ("compare identical", *_timed(lambda: compare(old, twin))),
        ("compare, all schemas inlined", *_timed(lambda: compare(old_inline, new_inline))),
    ]
    print(
        f"specs: {_operations(old)} and {_operations(new)} operations, "
        f"{len(old['components']['schemas'])} schemas, "
        f"{len(old_text) // 1024} KiB and {len(new_text) // 1024} KiB of YAML"
    )
    print(f"best of {ROUNDS} runs, {'C' if hasattr(yaml, 'CSafeLoader') else 'pure-Python'} YAML parser")
    for label, seconds, result in rows:
        detail = ""
        if result is not None:
            locations = sum(len(change.locations) for change in result.changes)
            detail = f"  -> {result.required_bump.label}, {len(result.changes)} changes at {locations} places"
        print(f"  {label:<30} {seconds * 1000:8.1f} ms{detail}")
    print("valora-spec compat as a process (start-up, YAML and comparison; best of 3 for the small pair)")
    runs = [_process(SMALL_PAIR / "old.yaml", SMALL_PAIR / "new.yaml") for _ in range(3)]
    small = min(runs, key=lambda run: run[0])
    _print_process("small corpus pair", small)
    _stripe()


def _process(old: Path, new: Path) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds, peak RSS in MiB and the JSON verdict of one `valora-spec compat` run."""
    script = "import sys; from valora_spec.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", script, "compat", str(old), str(new), "--format", "json"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, env=env, cwd=REPO)
        # wait4 on this child: its own peak memory, not the largest of all children so far.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise SystemExit(f"valora-spec compat failed (exit {process.returncode}) on {old} {new}")
        out.seek(0)
        verdict = json.load(out)
    return seconds, usage.ru_maxrss / 1024, verdict


def _print_process(label: str, run: tuple[float, float, dict[str, Any]]) -> None:
    seconds, peak, verdict = run
    changes = verdict["changes"]
    print(f"  {label:<30} {seconds:8.2f} s  {peak:6.0f} MiB peak  -> {verdict['required_bump']}, "
          f"{len(changes)} changes")


def _stripe() -> None:
    files = [STRIPE / name for name in STRIPE_PAIR]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        print(f"  Stripe pair: skipped, not found: {', '.join(missing)} (see the issue for the data)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        plain = []
        for path in files:
            target = Path(tmp) / path.name.removesuffix(".gz")
            target.write_bytes(gzip.decompress(path.read_bytes()))
            plain.append(target)
        sizes = " and ".join(f"{target.stat().st_size / 1e6:.1f} MB" for target in plain)
        run = _process(plain[0], plain[1])
    _print_process(f"Stripe 2019 ({sizes})", run)
    by_bump: dict[str, int] = {}
    for change in run[2]["changes"]:
        by_bump[change["bump"]] = by_bump.get(change["bump"], 0) + 1
    print(f"    changes by bump: {by_bump}")
    for change in [c for c in run[2]["changes"] if c["bump"] == "major"][:8]:
        print(f"    {change['rule']}: {change['message']} at {change['pointer']}")


if __name__ == "__main__":
    main()
