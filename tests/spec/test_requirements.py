"""The requirement catalogue (spec/requirements.yaml) and the spec's citations of it."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from valora_spec import _spec, _versions

from .conftest import VERSIONS

ID = re.compile(r"^VAL-[A-Z]+-[0-9]{3}$")
CITATION = re.compile(r"VAL-[A-Z]+-[0-9]+")
FIELDS = {"id", "level", "area", "since", "retired", "title", "text"}


@pytest.fixture(scope="module")
def catalogue(root):
    return _spec.load_yaml(root / "spec" / "requirements.yaml")


@pytest.fixture(scope="module")
def requirements(catalogue):
    return {r["id"]: r for r in catalogue["requirements"]}


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def test_ids_are_unique_and_well_formed(catalogue):
    ids = [r["id"] for r in catalogue["requirements"]]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert [i for i in ids if not isinstance(i, str) or not ID.match(i)] == []


def test_every_requirement_is_complete(catalogue):
    areas = catalogue["areas"]
    problems = []
    for r in catalogue["requirements"]:
        if set(r) != FIELDS:
            problems.append(f"{r.get('id')}: fields {sorted(set(r) ^ FIELDS)}")
            continue
        if r["level"] not in ("MUST", "SHOULD"):
            problems.append(f"{r['id']}: level {r['level']!r}")
        if r["area"] != r["id"].split("-")[1] or r["area"] not in areas:
            problems.append(f"{r['id']}: area {r['area']!r}")
        if r["level"] not in r["text"]:
            problems.append(f"{r['id']}: the RFC 2119 text does not say {r['level']}")
        if not str(r["title"]).strip():
            problems.append(f"{r['id']}: no title")
    assert problems == []


def test_since_and_retired_are_released_versions(catalogue):
    problems = []
    for r in catalogue["requirements"]:
        if r["since"] not in VERSIONS:
            problems.append(f"{r['id']}: since {r['since']!r} is not a released version")
        retired = r["retired"]
        if retired is not None and (retired not in VERSIONS or
                                    _versions.parse(retired) <= _versions.parse(r["since"])):
            problems.append(f"{r['id']}: retired {retired!r}")
    assert problems == []


def test_the_catalogue_covers_the_contract(catalogue):
    assert len(catalogue["requirements"]) >= 60
    # every minor version introduced rules; a PATCH release only sharpens their wording
    minors = {v for v in VERSIONS if _versions.parse(v).micro == 0}
    assert {r["since"] for r in catalogue["requirements"]} == minors


def test_every_cited_requirement_exists_and_applies_to_the_version(doc, version, requirements):
    cited = {c for text in _strings(doc) for c in CITATION.findall(text)}
    assert len(cited) >= 30
    problems = []
    for rid in sorted(cited):
        r = requirements.get(rid)
        if r is None:
            problems.append(f"{rid}: not in the catalogue")
        elif _versions.parse(r["since"]) > _versions.parse(version):
            problems.append(f"{rid}: since {r['since']}, cited by {version}")
        elif r["retired"] and _versions.parse(r["retired"]) <= _versions.parse(version):
            problems.append(f"{rid}: retired in {r['retired']}, cited by {version}")
    assert problems == []


def test_every_requirement_in_force_is_cited_by_the_version(doc, version, requirements):
    """Each rule a version demands is stated (cited) somewhere in that version's spec."""
    cited = {c for text in _strings(doc) for c in CITATION.findall(text)}
    key = _versions.parse(version)
    in_force = {rid for rid, r in requirements.items() if _versions.parse(r["since"]) <= key
                and (r["retired"] is None or _versions.parse(r["retired"]) > key)}
    assert sorted(in_force - cited) == []
