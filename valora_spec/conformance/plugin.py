"""The pytest plugin behind the conformance suite: options, target, results, report.

Registered for every pytest run through the `pytest11` entry point, it stays inert unless the
run collects the suite itself (`pytest conformance` in a clone, `pytest --pyargs
valora_spec.conformance`, `valora-spec conformance`): an implementer's own test runs are untouched.
The suite's fixtures are in its conftest.py, so they exist for its checks only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any, TextIO

import hypothesis
import pytest

from valora_spec import _versions
from valora_spec._redact import redact_test_report
from valora_spec.conformance import _xdist
from valora_spec.conformance._catalogue import Catalogue
from valora_spec.conformance._cleanup import cleanup
from valora_spec.conformance._finish import EXIT_UNREACHABLE, EXIT_USAGE
from valora_spec.conformance._http import DeadlineExceeded, TargetError
from valora_spec.conformance._recorder import Check, CheckFailed
from valora_spec.conformance._run import Run
from valora_spec.conformance._settings import UsageError, add_options, read_settings
from valora_spec.report import Status

RUN_KEY = pytest.StashKey[Run]()


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    _register_base_url_plugin_first(pluginmanager)
    add_options(parser)


def _register_base_url_plugin_first(pluginmanager: pytest.PytestPluginManager) -> None:
    """pytest-base-url defines --base-url too; loaded after us, it would refuse to start. Loaded
    first (under its entry point's name, so pytest does not load it twice), we share its option."""
    if (os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") or pluginmanager.has_plugin("base_url")
            or pluginmanager.is_blocked("base_url")):
        return
    try:
        from pytest_base_url import plugin
    except ImportError:
        return
    pluginmanager.register(plugin, "base_url")


def _usage_error(config: pytest.Config, message: str, *, prefix: str = "error",
                 code: int = EXIT_USAGE) -> None:
    sys.stderr.write(f"valora conformance: {prefix}: {message}\n")
    # pytest follows with "Exit: <reason>" on stderr and the terminal reporter with a "! ... !"
    # banner: without the reporter and without that line, the message is said once
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        config.pluginmanager.unregister(reporter)
    sys.stderr = _WithoutExitLine(sys.stderr)
    pytest.exit(prefix, returncode=code)


class _WithoutExitLine:
    """stderr, less the one "Exit: ..." line pytest writes after pytest.exit()."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if text.startswith("Exit: "):
            sys.stderr = self._stream  # said nothing; the next writer is pytest's own again
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, Any, Any]:
    # a wrapper runs before every implementation, xdist's (which reads -n) included
    if _runs_the_suite(config):
        _xdist.choose_workers(config)
    return (yield)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirements(*ids): the requirements a check verifies")
    config.addinivalue_line("markers", "writes: the check creates or changes data")
    config.addinivalue_line("markers", "at_end: the check runs after every other one")
    if config.option.help or config.option.collectonly and not os.environ.get("VALORA_COLLECT"):
        return
    if not _runs_the_suite(config):
        return
    # Certification and CI runs must not replay old failures from a local database.
    hypothesis.settings.register_profile("valora", database=None, deadline=None,
                                         print_blob=False, derandomize=False)
    hypothesis.settings.load_profile("valora")
    catalogue = Catalogue.load()
    try:
        settings = read_settings(config, catalogue.versions)
    except UsageError as exc:
        _usage_error(config, str(exc))
        return
    worker = _xdist.is_worker(config)
    if worker:
        _xdist.adopt_controllers_target(config, settings)
    else:
        settings.workers = _xdist.worker_count(config)
    embedded = settings.base_url is None
    try:
        run = Run.start(settings, catalogue)
    except UsageError as exc:
        _usage_error(config, str(exc))
        return
    except (RuntimeError, OSError) as exc:
        _usage_error(config, f"could not start the embedded reference implementation: {exc}")
        return
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(_CollectionErrors(run), "valora-collection-errors")
    _stop_on_signals(run)
    if worker:
        run.prefix = _xdist.worker_prefix(config)
        _xdist.take_shared_slots(config, run)
        return  # the controller says what is tested, and reports
    if _xdist.is_controller(config):
        config.pluginmanager.register(_xdist.WorkerResults(run), "valora-worker-results")
    where = ("the embedded reference implementation at " if embedded else "") + settings.base_url
    declared = (run.declared or {}).get("spec_version", "nothing")
    line = (f"Valora conformance: testing {where} (declares {declared}; judged against "
            f"{run.target_version}; budget {settings.budget}; seed {settings.seed}"
            f"{f'; {settings.workers} workers' if settings.workers else ''})")
    print(line, flush=True)
    for option, what in (("--api-key-b", "organization B: tenant isolation"),
                         ("--read-only-key", "a read_only key: role enforcement")):
        if not getattr(settings, option.lstrip("-").replace("-", "_")):
            print(f"Valora conformance: no {option} ({what} will not be evaluated, so the verdict "
                  "can be at best INCOMPLETE)", flush=True)
    if run.fatal and "unreachable" in run.fatal:
        _finish(config, run)
        reason = run.fatal.removeprefix("target unreachable: ")
        _usage_error(config, f"{settings.base_url}: {reason} (the report says so too)",
                     prefix="target unreachable", code=EXIT_UNREACHABLE)


SUITE_DIR = Path(__file__).resolve().parent


def _runs_the_suite(config: pytest.Config) -> bool:
    """Whether this pytest run collects the conformance suite (paths, node ids or --pyargs names)."""
    for arg in config.args:
        target = arg.split("::")[0]
        if config.option.pyargs and (target == __package__ or target.startswith(f"{__package__}.")):
            return True
        path = (config.invocation_params.dir / target).resolve()
        if path == SUITE_DIR or SUITE_DIR in path.parents:
            return True
    return False


def _stop_on_signals(run: Run) -> None:
    """Ctrl-C, or a CI job's timeout (SIGTERM), stops the run and the report is still written.

    The stop is sticky: no request leaves the harness after it, so the run ends promptly even
    where a library catches the KeyboardInterrupt and carries on.
    """

    def interrupt(signum: int, frame: object) -> None:
        run.transport.stopped = True
        for pid in run.worker_pids:  # xdist workers stop too, as they would with Ctrl-C
            with contextlib.suppress(OSError):
                os.kill(pid, signum)
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)
        signal.signal(signal.SIGINT, interrupt)


def _run(config: pytest.Config) -> Run | None:
    return config.stash.get(RUN_KEY, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = _run(config)
    if run is None:
        return
    items.sort(key=lambda item: item.get_closest_marker("at_end") is not None)  # stable: else as found
    for item in items:
        if run.fatal:
            item.add_marker(pytest.mark.skip(reason=f"not evaluated: {run.fatal}"))
        elif run.settings.read_only and item.get_closest_marker("writes"):
            item.add_marker(pytest.mark.skip(reason="--read-only: this check needs writes"))
        elif not run.needed(declared_requirements(item)):
            item.add_marker(pytest.mark.skip(
                reason=f"not needed by the evaluated versions ({', '.join(run.versions)})"))


def pytest_deselected(items: list[pytest.Item]) -> None:
    run = _run(items[0].config) if items else None
    if run is None:
        return
    for item in items:
        for req in declared_requirements(item):
            run.recorder.outcome(req, Status.SKIP, check=item.nodeid,
                                 reason="not evaluated: its check was deselected (-k, -m or a path)")


class _CollectionErrors:
    """Registered only for the suite's own runs: a check module that cannot be loaded is a
    harness error, and the requirements it checks were not evaluated."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.run.recorder.errors.append(f"harness error: {report.nodeid} could not be loaded; "
                                            "the requirements it checks were not evaluated")


def declared_requirements(item: pytest.Item) -> tuple[str, ...]:
    marker = item.get_closest_marker("requirements")
    return tuple(marker.args) if marker else ()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    run = _run(node.config)
    if run is not None:
        node.workerinput[_xdist.SHARED] = _xdist.shared_with_workers(
            node.config, run, node.workerinput["workerid"])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator:
    report = yield
    run = _run(item.config)
    if run is not None:
        _account(item, call, report, run)
        if report.failed and call.when == "call":
            _excuse_other_versions(item, report, run)
        # no key reaches pytest's own output (terminal, --junitxml), whatever a target echoed
        redact_test_report(report, run.transport.redact)
        if _xdist.is_worker(item.config):
            _xdist.attach_recorded(item.config, run, report)
    return report



def _excuse_other_versions(item: pytest.Item, report: pytest.TestReport, run: Run) -> None:
    """A check that fails only requirements of versions other than the judged one is shown as
    xfailed with the reason, so pytest's summary never contradicts the verdict."""
    judged = run.target_version
    failed = [o for o in run.recorder.outcomes
              if o.check == item.nodeid and o.status == Status.FAIL]
    if not failed or any(_counts_at(run, o.requirement, o.version, judged) for o in failed):
        return
    ids = ", ".join(sorted({o.requirement for o in failed}))
    report.outcome = "skipped"
    report.wasxfail = (f"fails {ids}, which the judged version {judged} does not demand "
                       "(see the compatible range)")


def _account(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport, run: Run) -> None:
    """Turn the check's pytest outcome into requirement outcomes."""
    declared = declared_requirements(item)
    check: Check | None = getattr(item, "_valora_check", None)
    touched = check.touched if check else set()
    if report.skipped and (call.when == "setup" or call.when == "call"):
        reason = _skip_reason(report)
        for req in declared:
            if req not in touched:
                run.recorder.outcome(req, Status.SKIP, check=item.nodeid, reason=reason)
        return
    if call.when != "call":
        if report.failed and call.excinfo is not None:  # a fixture broke
            _charge(run, item, declared, touched, call.excinfo.value)
        return
    if call.excinfo is None:
        untouched = [r for r in declared if r not in touched]
        if check and check.soft_failures:  # judging it depended on a step the target failed
            status, reason = Status.SKIP, f"not evaluated: an earlier finding ({check.soft_failures[0]})"
        else:  # a passing check that evaluated nothing is a harness bug
            status, reason = Status.ERROR, "the check ran but did not evaluate this requirement"
        for req in untouched:
            run.recorder.outcome(req, status, check=item.nodeid, reason=reason[:300])
        if check and check.soft_failures:
            report.outcome = "failed"
            report.longrepr = "\n".join(check.soft_failures)
        return
    _charge(run, item, declared, touched, call.excinfo.value)
    if isinstance(call.excinfo.value, TargetError | CheckFailed):
        report.longrepr = str(call.excinfo.value)  # one line, no traceback: it is the target's fault


def _counts_at(run: Run, requirement: str, since: str | None, judged: str) -> bool:
    """Whether a failure charged from version `since` on counts against the judged version."""
    return run.catalogue.applies(requirement, judged) and _versions.at_least(judged, since)


def _charge(run: Run, item: pytest.Item, declared: tuple[str, ...], touched: set[str],
            exc: BaseException) -> None:
    if isinstance(exc, CheckFailed):  # the failing requirement is already recorded
        for req in declared:
            if req not in touched:
                run.recorder.outcome(req, Status.SKIP, check=item.nodeid,
                                     reason=f"not evaluated: an earlier step failed ({exc})")
        return
    if isinstance(exc, DeadlineExceeded) and run.transport.stopped:
        status, reason = Status.SKIP, "not evaluated: interrupted (the run was stopped)"
        item.session.shouldstop = "interrupted: the run was stopped"
    elif isinstance(exc, DeadlineExceeded):
        status, reason = Status.ERROR, f"not evaluated: {exc}"
        item.session.shouldstop = "the run's --deadline passed"
    elif isinstance(exc, TargetError):
        status, reason = Status.FAIL, str(exc)
    else:
        status, reason = Status.ERROR, f"harness error: {type(exc).__name__}: {exc}"[:300]
    for req in declared:
        if req not in touched or status == Status.FAIL:
            if status == Status.FAIL:
                run.recorder.failure(req, check=item.nodeid, operation="", message=reason)
            else:
                run.recorder.outcome(req, status, check=item.nodeid, reason=reason)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = _run(session.config)
    if run is None or _xdist.is_worker(session.config):
        return  # a worker's results went out with its reports
    _xdist.remove_slots(session.config)
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED or run.transport.stopped
    if not run.settings.read_only and not run.fatal and not interrupted and run.exit_code is None:
        run.cleanup = cleanup(run)  # a stopped run must write its report within seconds
    verdict = _finish(session.config, run, interrupted=interrupted)
    if verdict is not None:
        session.exitstatus = verdict


def _finish(config: pytest.Config, run: Run, *, interrupted: bool = False) -> int | None:
    from valora_spec.conformance._finish import finish

    if run.exit_code is None:
        run.exit_code = finish(run, config, interrupted=interrupted)
    return run.exit_code


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = _run(config)
    return [f"valora: report directory {run.settings.report_dir}"] if run else []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    run = _run(terminalreporter.config)
    summary = run.summary if run else None
    if summary:
        terminalreporter.write_sep("=", "Valora conformance")
        for line in summary:
            terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The verdict is the last line, after pytest's own counts, which it must not be read against."""
    run = _run(config)
    if run is not None and run.verdict_line:
        print(f"Valora conformance: {run.verdict_line}", flush=True)

