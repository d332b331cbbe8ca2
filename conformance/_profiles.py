"""Load the per-version profiles and the waiver file; derive a profile from the catalogue."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from conformance._report import _semver

PROFILES_DIR = Path(__file__).resolve().parents[1] / "profiles"
PROFILE_SCHEMA = PROFILES_DIR / "profile.schema.json"

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
    return sorted(profiles, key=lambda p: _semver.parse(p["version"]))


def load_waivers(path: Path) -> list[dict[str, Any]]:
    """The waiver list (`[{requirement, reason, expires: YYYY-MM-DD}]`); an empty file is none."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    if isinstance(data, list):
        # YAML reads an unquoted date as a date; keep the file format a plain string.
        data = [_normalise_expiry(w) for w in data]
    _check(Draft202012Validator(_WAIVERS_SCHEMA), data, Path(path))
    for waiver in data:
        date.fromisoformat(waiver["expires"])  # a real calendar day, not only the right shape
    return data


def profile_from_catalogue(catalogue: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The profile a version demands by default: every requirement in force at that version."""
    must: list[str] = []
    should: list[str] = []
    for req in catalogue["requirements"]:
        if _semver.applies(req, version):
            (must if req["level"] == "MUST" else should).append(req["id"])
    return {
        "version": version,
        "spec": f"spec/{version}/openapi.yaml",
        "requirements": {"must": must, "should": should},
        "optional_capabilities": [],
        "certification_budget": "thorough",
    }


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
