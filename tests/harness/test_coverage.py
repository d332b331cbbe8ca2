"""Every requirement of the catalogue is verified by at least one conformance check, and the
checked-in map from requirements to checks is current."""

from __future__ import annotations

from pathlib import Path

import yaml

from valora_spec.conformance._checks_map import checks_by_requirement, current

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load((ROOT / "spec" / "requirements.yaml").read_text())


def test_every_requirement_has_a_check() -> None:
    ids = {r["id"] for r in CATALOGUE["requirements"] if not r.get("retired")}
    assert sorted(ids - set(checks_by_requirement())) == []


def test_checks_name_only_catalogued_requirements() -> None:
    ids = {r["id"] for r in CATALOGUE["requirements"]}
    assert sorted(set(checks_by_requirement()) - ids) == []


def test_the_requirement_map_is_current() -> None:
    written = (ROOT / "docs" / "requirement-checks.md").read_text(encoding="utf-8")
    assert written == current(), "run `python -m valora_spec.conformance._checks_map`"
