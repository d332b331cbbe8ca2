"""profiles/ stays in step with spec/requirements.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from valora_spec import _spec
from valora_spec.conformance._profiles import PROFILES_DIR, load_profiles, profile_from_catalogue

ROOT = Path(__file__).parents[1]
SCHEMA = json.loads((PROFILES_DIR / "profile.schema.json").read_text(encoding="utf-8"))
FIX = "refresh with `python -m valora_spec.conformance._profiles`"


def catalogue() -> dict:
    return _spec.load_catalogue(ROOT)


def released_versions() -> list[str]:
    return _spec.released_versions(ROOT)


def profile_files() -> list[Path]:
    return sorted(PROFILES_DIR.glob("*.yaml"))


def test_schema_is_valid_json_schema():
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", profile_files(), ids=lambda p: p.name)
def test_profile_is_schema_valid(path):
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in Draft202012Validator(SCHEMA).iter_errors(profile)]
    assert errors == []
    assert path.stem == profile["version"]
    assert profile["spec"] == f"spec/{profile['version']}/openapi.yaml"
    assert (ROOT / profile["spec"]).is_file()


def test_one_profile_per_released_version():
    assert [p["version"] for p in load_profiles()] == released_versions()


@pytest.mark.parametrize("version", released_versions())
def test_profile_demands_exactly_the_catalogue_requirements_in_force(version):
    expected = profile_from_catalogue(catalogue(), version)["requirements"]
    profile = next(p for p in load_profiles() if p["version"] == version)
    actual = profile["requirements"]
    for level in ("must", "should"):
        missing = sorted(set(expected[level]) - set(actual[level]))
        extra = sorted(set(actual[level]) - set(expected[level]))
        assert not missing, f"{version}: {level} lacks {missing}; {FIX}"
        assert not extra, f"{version}: {level} has {extra} that the catalogue does not demand; {FIX}"


def test_levels_match_the_catalogue():
    levels = {r["id"]: r["level"] for r in catalogue()["requirements"]}
    for profile in load_profiles():
        for req_id in profile["requirements"]["must"]:
            assert levels.get(req_id) == "MUST", f"{profile['version']}: {req_id} is not a MUST"
        for req_id in profile["requirements"]["should"]:
            assert levels.get(req_id) == "SHOULD", f"{profile['version']}: {req_id} is not a SHOULD"


def test_optional_capabilities_name_requirements_the_profile_demands():
    for profile in load_profiles():
        demanded = set(profile["requirements"]["must"]) | set(profile["requirements"]["should"])
        for capability in profile["optional_capabilities"]:
            outside = set(capability["requirements"]) - demanded
            assert not outside, f"{profile['version']}: {capability['name']} lists {sorted(outside)}"


def test_every_profile_certifies_at_the_thorough_budget():
    assert {p["certification_budget"] for p in load_profiles()} == {"thorough"}


def test_load_profiles_rejects_an_invalid_profile(tmp_path):
    (tmp_path / "1.0.0.yaml").write_text("version: 1.0.0\nspec: nope\n", encoding="utf-8")
    with pytest.raises(ValueError, match="1.0.0.yaml"):
        load_profiles(tmp_path)


def test_a_patch_profile_demands_what_its_minor_line_demands():
    """A PATCH release only sharpens the wording: same requirements, same capabilities."""
    profiles = {p["version"]: p for p in load_profiles()}
    for version, profile in profiles.items():
        first = ".".join(version.split(".")[:2]) + ".0"
        assert profile["requirements"] == profiles[first]["requirements"], version
        assert profile["optional_capabilities"] == profiles[first]["optional_capabilities"], version


@pytest.mark.parametrize(("declared", "judged"), [
    ("1.2.0", "1.2.0"), ("1.2.1", "1.2.1"), ("1.1.0", "1.1.0"),
    ("1.1.7", "1.1.1"),  # an unknown patch: the newest patch of its minor line
    ("1.9.0", "1.2.1"), (None, "1.2.1"), ("garbage", "1.2.1"),
])
def test_judged_version(declared, judged):
    from valora_spec._versions import judged_version

    known = ["1.0.0", "1.0.1", "1.1.0", "1.1.1", "1.2.0", "1.2.1"]
    assert judged_version(declared, known) == judged


def test_a_patch_defines_every_operation_as_its_minor_did():
    """Fuzzing failures found with 1.2.1's definitions are charged from where the operation began."""
    from valora_spec.conformance._catalogue import Catalogue

    catalogue = Catalogue.load()
    assert catalogue.stable_since("queryMeterUsage", "1.2.1") == "1.2.0"  # group_by came in 1.2.0
    assert catalogue.stable_since("getMeta", "1.2.1") == "1.0.0"
    assert catalogue.stable_since("createCustomer", "1.1.1") == "1.0.0"
