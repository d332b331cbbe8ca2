"""pytest-xdist: the workers run the checks, the controller writes the one report.

The controller starts the target (or the embedded reference) and hands each worker the base URL,
keys, seed and run prefix through xdist's `workerinput`; a worker sends what it recorded with
each test report (xdist carries a report's attributes to the controller), so the controller's
results, clean-up and report are those of one run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from valora_spec.conformance._recorder import Failure, Outcome
from valora_spec.report import merge

if TYPE_CHECKING:
    from valora_spec.conformance._run import Run
    from valora_spec.conformance._settings import Settings

SHARED = "valora"  # the key in workerinput
RECORDED = "valora_recorded"  # the attribute a worker's test report carries
_SENT = pytest.StashKey[dict[str, Any]]()


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    return not is_worker(config) and config.getoption("dist", "no") not in (None, "no")


def shared_with_workers(run: Run) -> dict[str, Any]:
    settings = run.settings
    return {"base_url": settings.base_url, "api_key": settings.api_key, "api_key_b": settings.api_key_b,
            "read_only_key": settings.read_only_key, "seed": settings.seed, "prefix": run.prefix}


def adopt_controllers_target(config: pytest.Config, settings: Settings) -> None:
    """A worker tests the controller's target with its keys and seed (no reference of its own)."""
    shared = config.workerinput[SHARED]  # type: ignore[attr-defined]
    for name in ("base_url", "api_key", "api_key_b", "read_only_key", "seed"):
        setattr(settings, name, shared[name])


def worker_prefix(config: pytest.Config) -> str:
    """Natural keys stay unique across workers: the run's prefix plus the worker's id."""
    workerinput = config.workerinput  # type: ignore[attr-defined]
    return f"{workerinput[SHARED]['prefix']}{workerinput['workerid']}"


def attach_recorded(config: pytest.Config, run: Run, report: pytest.TestReport) -> None:
    """What the worker recorded since its last report travels with this one: new outcomes,
    errors and creations, and each failure's occurrences not sent yet (new or seen again)."""
    sent = config.stash.setdefault(_SENT, {"outcomes": 0, "created": 0, "errors": 0,
                                           "requests": 0, "occurrences": {}})
    recorder = run.recorder
    errors = recorder.errors + run.transport.harness_errors
    occurrences = sent["occurrences"]
    failures = []
    for failure in list(recorder.failures):
        new = failure.occurrences - occurrences.get(failure.key, 0)
        if new > 0:
            failures.append(failure.as_dict() | {"occurrences": new})
            occurrences[failure.key] = failure.occurrences
    data = {"outcomes": [o.as_dict() for o in recorder.outcomes[sent["outcomes"]:]],
            "failures": failures,
            "created": [list(item) for item in run.created[sent["created"]:]],
            "errors": errors[sent["errors"]:],
            "requests": run.transport.requests_sent - sent["requests"]}
    sent.update(outcomes=len(recorder.outcomes), created=len(run.created), errors=len(errors),
                requests=run.transport.requests_sent)
    setattr(report, RECORDED, data)


class WorkerResults:
    """Registered on the controller only: folds each worker's records into the run."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, RECORDED, None)
        if not data:
            return
        run, recorder = self.run, self.run.recorder
        # The report package says how parts of one run combine (a failure two workers met is one
        # failure). Outcomes only add up, so they are not copied again. The controller runs no
        # check, so its recorder never deduplicates a failure of its own against these.
        folded = merge({"failures": [f.as_dict() for f in recorder.failures],
                        "errors": recorder.errors}, data)
        recorder.replace([*recorder.outcomes, *map(Outcome.from_dict, folded["outcomes"])],
                         [Failure.from_dict(f) for f in folded["failures"]], folded["errors"])
        run.created.extend(tuple(item) for item in data["created"])
        run.transport.requests_sent += data["requests"]
