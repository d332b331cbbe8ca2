"""Every example validates against its schema (JSON Schema 2020-12, formats checked)."""

from __future__ import annotations

from valora_spec import _spec

from . import _oas


def test_every_example_validates(doc):
    assert _spec.example_errors(doc) == []


def test_examples_are_found_where_they_are(doc):
    found = [where for where, _, _ in _spec.iter_examples(doc)]
    assert any(w.startswith("#/components/schemas/") and "/examples/" in w for w in found)
    assert any(w.startswith("#/paths/") and "/requestBody/content/" in w for w in found)
    assert any(w.startswith("#/components/responses/") and "/content/" in w for w in found)


def test_every_request_and_response_body_has_an_example(doc):
    missing = []
    for path, method, op in _oas.operations(doc):
        bodies = {"request": _spec.deref(doc, op.get("requestBody", {}))}
        bodies |= {code: _spec.deref(doc, r) for code, r in op["responses"].items()}
        for name, body in bodies.items():
            for media_type, media in body.get("content", {}).items():
                if "example" not in media and "examples" not in media:
                    missing.append(f"{method.upper()} {path} {name} {media_type}")
    assert missing == []


def test_every_format_used_is_checked(doc):
    used = {s["format"] for _, s in _spec.iter_schemas(doc) if isinstance(s.get("format"), str)}
    assert used - set(_spec.format_checker().checkers) == set()


def test_an_invalid_example_is_reported(doc):
    media = doc["paths"]["/customers"]["post"]["requestBody"]["content"]["application/json"]
    media["example"] = {**media["example"], "email": "not an email", "nickname": "x"}
    doc["components"]["schemas"]["Timestamp"]["examples"] = ["yesterday"]
    problems = "\n".join(_spec.example_errors(doc))
    assert "'not an email' is not a 'email'" in problems
    assert "Additional properties are not allowed ('nickname'" in problems
    assert "'yesterday' is not a 'date-time'" in problems


def test_a_wrong_uri_reference_is_reported(doc):
    doc["components"]["schemas"]["Problem"]["properties"]["type"]["examples"] = ["not a uri"]
    assert any("is not a 'uri-reference'" in p for p in _spec.example_errors(doc))


def test_named_examples_of_parameters_are_checked(doc):
    parameters = doc["components"]["parameters"]
    parameters["Limit"]["examples"] = {"too_big": {"value": 1000}}
    parameters["Cursor"]["examples"] = {"shared": {"$ref": "#/components/examples/NotAString"}}
    doc["components"]["examples"] = {"NotAString": {"value": 0}}
    problems = _spec.example_errors(doc)
    assert any(p.startswith("#/components/parameters/Limit/examples/too_big:")
               and "1000 is greater than the maximum of 100" in p for p in problems)
    assert any(p.startswith("#/components/parameters/Cursor/examples/shared:")
               and "0 is not of type 'string'" in p for p in problems)
