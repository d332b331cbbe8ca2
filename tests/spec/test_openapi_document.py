"""Each released version is a valid, self-contained OpenAPI 3.1 document."""

from __future__ import annotations

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from valora_spec import _spec

from .conftest import VERSIONS


def test_the_1x_releases_exist():
    """Three minor lines, each with its four clarifying patch releases."""
    assert VERSIONS[:15] == ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.1.0", "1.1.1", "1.1.2", "1.1.3",
                             "1.1.4", "1.2.0", "1.2.1", "1.2.2", "1.2.3", "1.2.4"]


def test_validates_as_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1.")
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_info_version_is_the_folder_name(doc, version):
    assert doc["info"]["version"] == version


def test_every_ref_is_local_and_resolves(doc):
    external = [(where, ref) for where, ref in _spec.iter_refs(doc) if not ref.startswith("#/")]
    assert external == [], "each version must be one self-contained document"
    assert _spec.unresolved_refs(doc) == []


def test_a_dangling_ref_is_reported(doc):
    doc["paths"]["/meters"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/NoSuchSchema"}
    problems = _spec.unresolved_refs(doc)
    assert len(problems) == 1 and "NoSuchSchema" in problems[0]


def test_the_validator_rejects_a_broken_document(doc):
    del doc["info"]["version"]
    with pytest.raises(OpenAPIValidationError):
        validate(doc, cls=OpenAPIV31SpecValidator)


def test_base_path_carries_the_major_version(doc):
    assert [server["url"] for server in doc["servers"]] == ["/v1"]
