"""Layer 1: property-based fuzzing of every operation, valid and invalid data."""

from __future__ import annotations

from typing import Any

import hypothesis
import hypothesis.errors
import pytest
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode

from valora_spec import _versions
from valora_spec.conformance import _fuzz
from valora_spec.conformance._factory import Factory
from valora_spec.conformance._http import InFlight
from valora_spec.conformance._run import CheckRun
from valora_spec.conformance._settings import BUDGETS

FUZZ_REQUIREMENTS = ("VAL-HTTP-001", "VAL-HTTP-002", "VAL-HTTP-003", "VAL-HTTP-004",
                     "VAL-HTTP-005", "VAL-HTTP-006", "VAL-ERR-001", "VAL-ERR-004", "VAL-ERR-006")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "operation_id" not in metafunc.fixturenames:
        return
    from valora_spec.conformance.conftest import RUN_KEY

    run = metafunc.config.stash.get(RUN_KEY, None)
    ops = [op.operation_id for op in run.catalogue.operations(run.target_version)] if run else []
    metafunc.parametrize("operation_id", ops or ["(no target)"])


@pytest.fixture(scope="module")
def schema(module_run: CheckRun) -> Any:
    return _fuzz.load_schema(module_run)


@pytest.fixture(scope="module")
def fuzz_ids(module_run: CheckRun) -> dict[str, str]:
    """Real ids, so valid requests reach existing resources instead of 404s."""
    if module_run.settings.read_only:
        return {}
    make = Factory(module_run)
    customer = make.customer()
    price = make.price("flat")
    sub = make.subscription(customer["id"], [price["id"]])
    return {"customer_id": customer["id"], "meter_id": make.meter()["id"],
            "product_id": price["product_id"], "price_id": price["id"],
            "subscription_id": sub["id"], "invoice_id": make.draft_invoice()["id"]}


@pytest.mark.requirements(*FUZZ_REQUIREMENTS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
def test_fuzz_operation(run: CheckRun, check, schema: Any, fuzz_ids: dict[str, str],
                        operation_id: str, mode: GenerationMode) -> None:
    op = run.catalogue.operation(run.target_version, operation_id)
    if op is None:
        pytest.skip("no operation to fuzz")
    if run.settings.read_only and op.writes:
        pytest.skip("--read-only: this check needs writes")
    since = run.catalogue.stable_since(operation_id, run.target_version)
    found: set[str] = set()
    methods_probed = 0
    # valid requests go to real resources; invalid ones may mutate the path ids too
    ids = fuzz_ids if mode == GenerationMode.POSITIVE else None

    def judge(case: Any, reply: Any) -> None:
        nonlocal methods_probed
        methods_probed += _fuzz.probes_undefined_method(case)
        for finding in _fuzz.findings(case, reply, mode, op):
            found.add(finding.requirement)
            check.that(finding.requirement, False, finding.message, operation=op.label,
                       expected="conforming response", observed=reply.status,
                       exchange=reply.exchange, version=since)

    # What is generated never depends on an answer, so the requests (and verdicts) are the same
    # whatever --concurrency is; each case is sent as soon as it is drawn, so waiting for the
    # target overlaps drawing the next.
    sender, made = run.api.schema_checked(), []

    def send(case: Any, in_flight: InFlight) -> None:
        if (request := _fuzz.request_of(case, run.settings.base_url)) is not None:
            made.append(case)
            in_flight.send(sender, request)

    with InFlight(run.settings.concurrency) as in_flight:
        for case in _fuzz.boundary_cases(schema, op, mode, fuzz_ids, read_only=run.settings.read_only,
                                         unique=Factory(run).unique):
            send(case, in_flight)

        @hypothesis.seed(run.settings.seed)
        @hypothesis.settings(max_examples=BUDGETS[run.settings.budget]["examples"], deadline=None,
                             database=None, phases=[Phase.explicit, Phase.generate],
                             suppress_health_check=list(HealthCheck), derandomize=False,
                             print_blob=False, verbosity=hypothesis.Verbosity.quiet)
        @hypothesis.given(case=_fuzz.strategy(schema, op, mode, ids))
        def draw(case: Any) -> None:
            send(case, in_flight)

        try:
            draw()
        except hypothesis.errors.Unsatisfiable:
            pass  # nothing in this operation can be made invalid at random
        for case, reply in zip(made, in_flight.replies(), strict=True):
            judge(case, reply)
    sent = len(made)
    for requirement in FUZZ_REQUIREMENTS:
        if requirement in found:
            continue
        if requirement == "VAL-ERR-004" and mode == GenerationMode.POSITIVE:
            check.skip(requirement, "judged by invalid-data fuzzing")
        elif requirement == "VAL-HTTP-004" and mode == GenerationMode.NEGATIVE:
            check.skip(requirement, "judged by valid-data fuzzing")
        elif requirement == "VAL-HTTP-006" and not methods_probed:
            check.skip(requirement, f"no undefined method is probed by {mode.value} requests")
        elif sent:
            check.that(requirement, True, "", operation=op.label, version=since)
        else:
            check.skip(requirement, f"no {mode.value} request can be generated for this operation")


@pytest.mark.requirements("VAL-HTTP-006")
@pytest.mark.writes  # PUT and friends are not safe methods, even when undefined
def test_undefined_methods_are_405(run: CheckRun, check) -> None:
    paths = run.catalogue.documents[run.target_version]["paths"]
    for path, item in paths.items():
        if "{" in path:
            continue
        since = min((run.catalogue.introduced(op["operationId"]) for m, op in item.items()
                     if isinstance(op, dict) and "operationId" in op), key=_versions.parse)
        for method in ("PUT", "DELETE", "PATCH"):
            if method.lower() in item:
                continue
            reply = run.api.request(method, "/v1" + path)
            check.that("VAL-HTTP-006", reply.status == 405 and "allow" in reply.headers,
                       f"{method} answered {reply.status}"
                       f"{'' if 'allow' in reply.headers else ' without Allow'}",
                       operation=f"{method} /v1{path}", expected="405 with Allow",
                       observed=reply.status, exchange=reply.exchange, version=since)
            break
