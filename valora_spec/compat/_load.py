"""Read specs from files or released version names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from valora_spec import _spec, _versions

from ._errors import SpecError
from ._yaml import parse

repo_root = _spec.repo_root


def spec_path(name: str) -> Path:
    """A file path as given, or `X.Y.Z` meaning `spec/X.Y.Z/openapi.yaml`."""
    path = Path(name)
    if _versions.is_version(name) and not path.is_file():
        path = _spec.spec_path(name)
        if not path.is_file():
            raise SpecError(f"unknown version {name}: {path} does not exist")
    return path


def load_spec(path: Path) -> dict[str, Any]:
    """Any OpenAPI file, with clear errors. Its own YAML parser (see _yaml) keeps specs the size
    of Stripe's fast; released specs are the same files `_spec.load_spec` reads."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = parse(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(document, dict) or not isinstance(document.get("openapi"), str):
        raise SpecError(f"{path} is not an OpenAPI document (no 'openapi' version at the top)")
    for key in ("paths", "components"):
        if not isinstance(document.get(key) or {}, dict):
            raise SpecError(f"{path} is not an OpenAPI document ('{key}' is not a mapping)")
    return document
