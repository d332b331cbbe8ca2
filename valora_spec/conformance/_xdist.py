"""pytest-xdist: the workers run the checks, the controller writes the one report.

The controller starts the target (or the embedded reference) and hands each worker the base URL,
keys, seed and run prefix through xdist's `workerinput`; a worker sends what it recorded with
each test report (xdist carries a report's attributes to the controller), so the controller's
results, clean-up and report are those of one run.

Workers overlap latency, not CPU: against a remote target most of a check's time is waiting for
its chain of dependent calls, and checks are independent. So `--workers auto` (the default)
starts them for a target farther than a loopback one, and none for the embedded reference,
where they would only compete for the cores. The workers share the run's bounds: together they
keep at most `--concurrency` requests in flight (slots any worker may take, see `Slots`) and
send at most `--max-rps`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from valora_spec.conformance._http import CAN_SHARE_SLOTS, Slots
from valora_spec.conformance._recorder import Failure, Outcome
from valora_spec.conformance._settings import raw_value
from valora_spec.report import merge

if TYPE_CHECKING:
    from valora_spec.conformance._run import Run
    from valora_spec.conformance._settings import Settings

SHARED = "valora"  # the key in workerinput
RECORDED = "valora_recorded"  # the attribute a worker's test report carries
_SENT = pytest.StashKey[dict[str, Any]]()
_SLOTS = pytest.StashKey[str]()
REMOTE = 0.020  # seconds of round trip from which a target is remote enough to pay for workers
AUTO_WORKERS = 4  # measured on 2 cores at +50 ms: 4 beat 2 and 8 (benchmarks/bench_remote.py)


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    return not is_worker(config) and config.getoption("dist", "no") not in (None, "no")


def choose_workers(config: pytest.Config) -> None:
    """Resolve `--workers` into xdist's `-n`, before xdist reads it (an explicit `-n` wins)."""
    option = config.option
    if is_worker(config) or getattr(option, "numprocesses", "") is not None:
        return  # a worker itself, xdist disabled (-p no:xdist), or -n given
    if option.help or option.collectonly or option.usepdb:
        return
    workers = raw_value(config, "--workers")[0] or "auto"
    if workers != "auto":
        if workers.isdigit():
            option.numprocesses = int(workers)
        return  # a bad value is reported with the other options' errors
    base_url = raw_value(config, "--base-url")[0]
    if not base_url:
        return  # the embedded reference: a loopback target
    try:
        concurrency = int(raw_value(config, "--concurrency")[0] or 8)
    except ValueError:
        return
    if concurrency > 1 and _round_trip(base_url, raw_value(config, "--ca-bundle")[0]) >= REMOTE:
        option.numprocesses = min(AUTO_WORKERS, concurrency)


def _round_trip(base_url: str, ca_bundle: str | None) -> float:
    """The target's round trip, in seconds: the quickest of two unauthenticated GET /v1/meta on
    one connection, after a first that opens it. 0 when it does not answer in time: the run
    itself then says what is wrong with the target."""
    try:
        with httpx.Client(timeout=2.0, verify=ca_bundle or True) as client:
            client.get(f"{base_url.rstrip('/')}/v1/meta")
            times = []
            for _ in range(2):
                started = time.monotonic()
                client.get(f"{base_url.rstrip('/')}/v1/meta")
                times.append(time.monotonic() - started)
    except (httpx.HTTPError, OSError, ValueError):
        return 0.0
    return min(times)


def worker_count(config: pytest.Config) -> int:
    """How many workers xdist starts (`-n N`, or `--tx` specs such as `3*popen`)."""
    if getattr(config.option, "dist", "no") in (None, "no"):
        return 0
    specs = getattr(config.option, "tx", None) or []
    return sum(int(spec.split("*", 1)[0]) if "*" in spec else 1 for spec in specs)


def shared_with_workers(config: pytest.Config, run: Run, workerid: str) -> dict[str, Any]:
    """What worker `workerid` (gw0, gw1, ...) adopts: the controller's target, keys, seed and
    start, and the bounds: the run's --concurrency slots, shared by all (a fixed share of them
    where files cannot be locked), and a fixed share of --max-rps."""
    settings = run.settings
    index, workers = int(workerid.removeprefix("gw")), max(worker_count(config), 1)
    concurrency = settings.concurrency // workers + (index < settings.concurrency % workers)
    slots = _slots_directory(config) if CAN_SHARE_SLOTS else None
    return {"base_url": settings.base_url, "api_key": settings.api_key, "api_key_b": settings.api_key_b,
            "read_only_key": settings.read_only_key, "seed": settings.seed, "prefix": run.prefix,
            "started": settings.started, "max_rps": settings.max_rps / workers, "slots": slots,
            "concurrency": settings.concurrency if slots else max(concurrency, 1)}


def _slots_directory(config: pytest.Config) -> str:
    if _SLOTS not in config.stash:
        config.stash[_SLOTS] = tempfile.mkdtemp(prefix="valora-slots-")
    return config.stash[_SLOTS]


def remove_slots(config: pytest.Config) -> None:
    """At the controller's end: the slot files are of no use once the workers are gone."""
    directory = config.stash.get(_SLOTS, None)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


def take_shared_slots(config: pytest.Config, run: Run) -> None:
    """A worker's requests count against the slots shared by every worker of the run."""
    directory = config.workerinput[SHARED]["slots"]  # type: ignore[attr-defined]
    if directory:
        run.transport.slots = Slots(directory, run.settings.concurrency)


def adopt_controllers_target(config: pytest.Config, settings: Settings) -> None:
    """A worker tests the controller's target with its keys and seed (no reference of its own),
    within its share of the bounds; its deadline runs from the controller's start (popen workers
    share the machine's monotonic clock)."""
    shared = config.workerinput[SHARED]  # type: ignore[attr-defined]
    for name in ("base_url", "api_key", "api_key_b", "read_only_key", "seed", "started",
                 "concurrency", "max_rps"):
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
            "requests": run.transport.requests_sent - sent["requests"], "pid": os.getpid()}
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
        run.worker_pids.add(data["pid"])
