"""Where the package's data is: spec versions and profiles (the report format is valora_spec.report's).

The repository's top-level `spec/` and `profiles/` are the single source; the package reaches them
through the symlinks in `valora_spec/_data/`, which a wheel build turns into copies.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DATA_DIR = Path(str(files("valora_spec") / "_data"))
SPEC_DIR = DATA_DIR / "spec"
PROFILES_DIR = DATA_DIR / "profiles"


def source_root() -> Path:
    """The folder holding spec/: the repository in a clone (for linters and releases), else the data."""
    return SPEC_DIR.resolve().parent
