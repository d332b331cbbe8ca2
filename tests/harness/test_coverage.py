"""Every requirement of the catalogue is verified by at least one conformance check."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _declared_requirements() -> dict[str, set[str]]:
    """requirement id -> the check modules that declare it in @pytest.mark.requirements(...)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "conformance").glob("test_*.py")):
        tree = ast.parse(path.read_text())
        constants = {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                     for target in node.targets if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "requirements"):
                continue
            for arg in node.args:
                value = constants[arg.value.id] if isinstance(arg, ast.Starred) else arg
                for item in ast.literal_eval(value) if isinstance(value, ast.Tuple) else [
                        ast.literal_eval(value)]:
                    found.setdefault(item, set()).add(path.name)
    return found


def test_every_requirement_has_a_check() -> None:
    catalogue = yaml.safe_load((ROOT / "spec" / "requirements.yaml").read_text())
    ids = {r["id"] for r in catalogue["requirements"] if not r.get("retired")}
    declared = _declared_requirements()
    assert sorted(ids - set(declared)) == []


def test_checks_name_only_catalogued_requirements() -> None:
    catalogue = yaml.safe_load((ROOT / "spec" / "requirements.yaml").read_text())
    ids = {r["id"] for r in catalogue["requirements"]}
    assert sorted(set(_declared_requirements()) - ids) == []
