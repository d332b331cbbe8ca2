"""The suite's fixtures: the run, a check, the factory and the clients (see plugin.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from valora_spec import _versions
from valora_spec.conformance._factory import Factory
from valora_spec.conformance._http import Client
from valora_spec.conformance._recorder import Check
from valora_spec.conformance._run import Run
from valora_spec.conformance.plugin import RUN_KEY, declared_requirements


@pytest.fixture(scope="session")
def run(request: pytest.FixtureRequest) -> Run:
    value = request.config.stash.get(RUN_KEY, None)
    if value is None:
        pytest.skip("the conformance run was not configured")
    return value


@pytest.fixture
def check(request: pytest.FixtureRequest, run: Run) -> Iterator[Check]:
    declared = declared_requirements(request.node)
    value = Check(run.recorder, request.node.nodeid, declared, run.transport.last_exchange)
    request.node._valora_check = value
    yield value


@pytest.fixture
def factory(request: pytest.FixtureRequest, run: Run) -> Factory:
    sinces = [run.catalogue.by_id[r]["since"] for r in declared_requirements(request.node)]
    return Factory(run, since=_versions.newest(sinces) if sinces else None)


@pytest.fixture(scope="session")
def api(run: Run) -> Client:
    return run.api


@pytest.fixture(scope="session")
def api_b(run: Run) -> Client:
    if run.api_b is None:
        pytest.skip("no --api-key-b (organization B) given; tenant isolation cannot be checked")
    return run.api_b


@pytest.fixture(scope="session")
def api_ro(run: Run) -> Client:
    if run.api_ro is None:
        pytest.skip("no --read-only-key given; role enforcement cannot be checked")
    return run.api_ro
