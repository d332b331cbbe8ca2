"""Reference servers over real HTTP on loopback (helpers live in ref_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from ref_helpers import ADMIN_A, ADMIN_B, KEYS, READ_A, client

from valora_spec.reference import create_app, serve_in_thread


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """The newest version, shared by the tests; they create what they need under unique names."""
    app = create_app(keys=KEYS)
    with serve_in_thread(app) as url:
        yield url
    app.close()


@pytest.fixture(scope="session")
def api(base_url: str) -> Iterator[httpx.Client]:
    with client(base_url, ADMIN_A) as c:
        yield c


@pytest.fixture(scope="session")
def api_b(base_url: str) -> Iterator[httpx.Client]:
    with client(base_url, ADMIN_B) as c:
        yield c


@pytest.fixture(scope="session")
def api_read(base_url: str) -> Iterator[httpx.Client]:
    with client(base_url, READ_A) as c:
        yield c


@pytest.fixture
def fresh_api() -> Iterator[httpx.Client]:
    """A server of its own, for tests that count everything in an organization."""
    app = create_app(keys=KEYS)
    with serve_in_thread(app) as url, client(url, ADMIN_A) as c:
        yield c
    app.close()
