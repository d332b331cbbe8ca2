"""The suite's fixtures: the run, a check, the factory and the clients (see plugin.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from valora_spec import _versions
from valora_spec.conformance._factory import Factory
from valora_spec.conformance._http import Client
from valora_spec.conformance._recorder import Check
from valora_spec.conformance._run import CheckRun, Run
from valora_spec.conformance.plugin import RUN_KEY, declared_requirements


@pytest.fixture(scope="session")
def the_run(request: pytest.FixtureRequest) -> Run:
    value = request.config.stash.get(RUN_KEY, None)
    if value is None:
        pytest.skip("the conformance run was not configured")
    return value


@pytest.fixture
def run(request: pytest.FixtureRequest, the_run: Run) -> CheckRun:
    """The run as this check sees it: what its clients receive is charged to this check."""
    return the_run.seen_by(request.node.nodeid)


@pytest.fixture(scope="module")
def module_run(request: pytest.FixtureRequest, the_run: Run) -> CheckRun:
    """For a module's shared set-up: what it receives is charged to the module."""
    return the_run.seen_by(request.node.nodeid)


@pytest.fixture
def check(request: pytest.FixtureRequest, run: CheckRun) -> Iterator[Check]:
    declared = declared_requirements(request.node)
    scope = run.scope
    value = Check(run.recorder, request.node.nodeid, declared, lambda: scope.last)
    request.node._valora_check = value
    yield value


@pytest.fixture
def factory(request: pytest.FixtureRequest, run: CheckRun) -> Factory:
    sinces = [run.catalogue.by_id[r]["since"] for r in declared_requirements(request.node)]
    return Factory(run, since=_versions.newest(sinces) if sinces else None)


@pytest.fixture
def api(run: CheckRun) -> Client:
    return run.api


@pytest.fixture
def api_b(run: CheckRun) -> Client:
    if run.api_b is None:
        pytest.skip("no --api-key-b (organization B) given; tenant isolation cannot be checked")
    return run.api_b


@pytest.fixture
def api_ro(run: CheckRun) -> Client:
    if run.api_ro is None:
        pytest.skip("no --read-only-key given; role enforcement cannot be checked")
    return run.api_ro
