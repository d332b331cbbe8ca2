"""Layer 2: stateful workflows generated from the spec's OpenAPI links (create -> use the new id)."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase

from valora_spec.conformance import _fuzz
from valora_spec.conformance._run import CheckRun

pytestmark = pytest.mark.writes
REQUIREMENTS = ("VAL-HTTP-001", "VAL-HTTP-002", "VAL-HTTP-003", "VAL-HTTP-005", "VAL-ERR-001",
                "VAL-ERR-006")
SCENARIOS = {"quick": 3, "standard": 12, "thorough": 50}


def _independent(request: dict[str, Any], prefix: str, step: int) -> None:
    """Make a step's answer depend on the drawn request alone, not on what earlier steps left.

    Hypothesis replays the prefix of earlier scenarios while it explores, and requires the
    scenario to unfold the same way; links fire on the answers' statuses. A natural key or an
    Idempotency-Key drawn twice would meet a 409 or 422 the second time only, so the scenario
    would change under hypothesis (FlakyStrategyDefinition). Fresh values per step keep every
    request valid by the schema and every answer repeatable.
    """
    unique = f"{prefix}wf{step}"
    headers = request.get("headers") or {}
    for name in headers:
        if name.lower() == "idempotency-key":
            headers[name] = unique
    body = request.get("json_body")
    if request["method"].upper() == "POST" and isinstance(body, dict):
        for field, case in _fuzz.NATURAL_KEYS.items():
            if isinstance(body.get(field), str):
                body[field] = case(unique)


@pytest.mark.requirements(*REQUIREMENTS)
def test_link_workflows(run: CheckRun, check) -> None:
    schema = _fuzz.load_schema(run)
    found: set[str] = set()
    steps = 0
    api = run.api.schema_checked()  # schemathesis validates these responses itself

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.chain: list[str] = []  # every step's curl: a reproduction needs the whole chain

        def call(self, case: Any, **kwargs: Any) -> Any:
            nonlocal steps
            request = _fuzz.request_of(case, run.settings.base_url)
            if request is None:
                hypothesis.reject()
            _independent(request, run.prefix, steps)
            method, path = request.pop("method"), request.pop("path")
            self.reply = api.request(method, path, **request)
            self.chain.append(self.reply.exchange.curl())
            steps += 1
            return _fuzz.as_response(self.reply)

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            op = run.validator.match(self.reply.exchange.method,
                                     self.reply.exchange.url.split("?")[0]
                                     .removeprefix(run.settings.base_url or ""))
            for finding in _fuzz.findings(case, self.reply, None, None):
                found.add(finding.requirement)
                run.recorder.failure(
                    finding.requirement, check=check.node,
                    operation=op.label if op else f"{self.reply.exchange.method} {case.path}",
                    message=f"after {len(self.chain) - 1} linked step(s): {finding.message}",
                    expected="conforming response", observed=str(self.reply.status),
                    exchange=self.reply.exchange, reproduction="\n".join(self.chain),
                    version=run.catalogue.introduced(op.operation_id) if op else None)

    settings = hypothesis.settings(
        max_examples=SCENARIOS[run.settings.budget], stateful_step_count=6, deadline=None,
        database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck),
        derandomize=False, print_blob=False)
    hypothesis.seed(run.settings.seed)(Workflow).run(settings=settings)
    for requirement in REQUIREMENTS:
        check.touched.add(requirement)
        if requirement not in found:
            check.that(requirement, steps > 0, f"no linked workflow could be run ({steps} steps)",
                       operation="(links)", expected="steps", observed=steps)
