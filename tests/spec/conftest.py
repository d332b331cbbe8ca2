"""Fixtures of the spec tests: one parametrized `version` and its document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from valora_spec import _spec

from . import _oas

VERSIONS = _spec.released_versions()


@pytest.fixture(scope="session")
def root() -> Path:
    return _spec.repo_root()


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def doc(version: str) -> dict[str, Any]:
    return _oas.load(version)
