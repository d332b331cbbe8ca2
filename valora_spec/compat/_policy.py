"""Policy files: per-rule bump overrides on top of the rule catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from ._errors import PolicyError
from ._model import Bump
from ._rules import RULES

POLICY_VERSION = 1
DEFAULT_POLICY_PATH = Path(str(files(__package__) / "default-policy.yaml"))


@dataclass(frozen=True)
class Policy:
    overrides: Mapping[str, Bump] = field(default_factory=dict)

    def bump_for(self, rule_id: str) -> Bump:
        return self.overrides.get(rule_id, RULES[rule_id].bump)


def parse_policy(data: Any, source: str = "policy") -> Policy:
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: expected a mapping with 'version' and 'overrides'")
    unknown_keys = set(data) - {"version", "overrides"}
    if unknown_keys:
        raise PolicyError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown_keys)))}")
    version = data.get("version")
    if type(version) is not int or version != POLICY_VERSION:  # `true == 1` in Python
        raise PolicyError(f"{source}: 'version' must be {POLICY_VERSION}, got {version!r}")
    raw = data.get("overrides") or {}
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: 'overrides' must map rule ids to patch|minor|major")
    overrides: dict[str, Bump] = {}
    for rule_id, level in raw.items():
        if rule_id not in RULES:
            raise PolicyError(f"{source}: unknown rule id {rule_id!r}")
        try:
            overrides[rule_id] = Bump.parse(level)
        except ValueError as exc:
            raise PolicyError(f"{source}: rule {rule_id!r}: {exc}") from None
    return Policy(overrides)


def load_policy(path: str | Path) -> Policy:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy {path} is not valid YAML: {_first_line(exc)}") from None
    return parse_policy(data, str(path))


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
