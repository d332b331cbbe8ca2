"""Load the per-version profiles and the waiver file; keep profiles in step with the catalogue."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from valora_spec import _spec, _versions
from valora_spec._paths import PROFILES_DIR
from valora_spec.report import profile_from_catalogue

PROFILE_SCHEMA = PROFILES_DIR / "profile.schema.json"

__all__ = ["load_profiles", "load_waivers", "profile_from_catalogue", "sync_profiles"]

_WAIVERS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["requirement", "reason", "expires"],
        "additionalProperties": False,
        "properties": {
            "requirement": {"type": "string", "pattern": "^VAL-[A-Z]+-[0-9]{3}$"},
            "reason": {"type": "string", "minLength": 1},
            "expires": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        },
    },
}


def load_profiles(directory: Path = PROFILES_DIR) -> list[dict[str, Any]]:
    """Every `<version>.yaml` in `directory`, schema-checked, sorted by version."""
    validator = Draft202012Validator(json.loads(PROFILE_SCHEMA.read_text(encoding="utf-8")))
    profiles: list[dict[str, Any]] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        profile = yaml.safe_load(path.read_text(encoding="utf-8"))
        _check(validator, profile, path)
        if path.stem != profile["version"]:
            raise ValueError(f"{path}: file name does not match version {profile['version']}")
        profiles.append(profile)
    return sorted(profiles, key=lambda p: _versions.parse(p["version"]))


def load_waivers(path: Path) -> list[dict[str, Any]]:
    """The waiver list (`[{requirement, reason, expires: YYYY-MM-DD}]`); an empty file is none."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date like 2025-02-30
        raise ValueError(f"{path}: not a valid waiver file: {exc}") from exc
    if isinstance(data, list):
        # YAML reads an unquoted date as a date; keep the file format a plain string.
        data = [_normalise_expiry(w) for w in data]
    _check(Draft202012Validator(_WAIVERS_SCHEMA), data, Path(path))
    for index, waiver in enumerate(data):
        try:
            date.fromisoformat(waiver["expires"])  # a real calendar day, not only the right shape
        except ValueError as exc:
            raise ValueError(f"{path}: waiver {index}: expires: {exc}") from exc
    return data


def _normalise_expiry(waiver: Any) -> Any:
    if isinstance(waiver, dict) and isinstance(waiver.get("expires"), date | datetime):
        expires = waiver["expires"]
        day = expires.date() if isinstance(expires, datetime) else expires
        return {**waiver, "expires": day.isoformat()}
    return waiver


def _check(validator: Draft202012Validator, data: Any, path: Path) -> None:
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(map(str, errors[0].absolute_path)) or "<root>"
        raise ValueError(f"{path}: {where}: {errors[0].message}")


def sync_profiles(catalogue: Mapping[str, Any], directory: Path = PROFILES_DIR) -> list[Path]:
    """Rewrite each profile's requirement lists from the catalogue, keeping the hand-edited parts
    (optional capabilities, certification budget). Run `python -m valora_spec.conformance._profiles`."""
    written: list[Path] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        current = yaml.safe_load(path.read_text(encoding="utf-8"))
        derived = profile_from_catalogue(catalogue, current["version"])
        profile = {
            **derived,
            "optional_capabilities": current.get("optional_capabilities") or [],
            "certification_budget": current.get("certification_budget", "thorough"),
        }
        text = _PROFILE_HEADER + yaml.safe_dump(profile, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


_PROFILE_HEADER = (
    "# The requirement lists mirror spec/requirements.yaml (tests/test_profiles.py checks it);\n"
    "# refresh them with `python -m valora_spec.conformance._profiles`. optional_capabilities and\n"
    "# certification_budget are edited by hand.\n"
)


if __name__ == "__main__":
    _catalogue = _spec.load_catalogue()
    for _path in sync_profiles(_catalogue):
        print(_path)
