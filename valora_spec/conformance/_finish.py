"""End of a run: build the report, write every artifact, decide the exit code."""

from __future__ import annotations

import json
import time
import traceback
from typing import TYPE_CHECKING, Any

import pytest

from valora_spec._redact import redact_test_report
from valora_spec.conformance._profiles import load_profiles, load_waivers
from valora_spec.report import Status, build, write

if TYPE_CHECKING:
    from valora_spec.conformance._run import Run


# Exit codes of a conformance run (pytest's own argument errors keep pytest's code 4).
EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_UNREACHABLE = 0, 1, 2, 3, 6
_EXIT = {Status.PASS: EXIT_PASS, Status.FAIL: EXIT_FAIL, Status.INCOMPLETE: EXIT_INCOMPLETE}


def finish(run: Run, config: pytest.Config, *, interrupted: bool = False) -> int:
    settings = run.settings
    if run.embedded is not None:
        run.embedded.stop()
    run.transport.close()
    _scrub_terminal(run, config)
    _charge_unevaluated(run, config, interrupted)
    data = run.as_dict()
    data["errors"].extend(run.transport.harness_errors)
    out = settings.report_dir
    try:
        try:
            report = _write(run, data)
        except Exception as exc:  # noqa: BLE001 - a hostile exchange must not cost the report
            # Second chance without the recorded requests and responses, the one part of the
            # data a target controls; the failures themselves are kept.
            data = _without_exchanges(data)
            data["errors"].append(f"harness error: the report leaves out request/response "
                                  f"excerpts, which it could not render ({type(exc).__name__}: "
                                  f"{str(exc)[:200]})")
            report = _write(run, data)
    except Exception as exc:  # noqa: BLE001 - never lose a run's results to a report bug
        out = out / "unreported"  # kept apart so no later manifest covers it
        out.mkdir(exist_ok=True)
        (out / "run.json").write_text(json.dumps(data, indent=2))
        (out / "report-error.txt").write_text(traceback.format_exc())
        run.summary = [f"could not build the report ({type(exc).__name__}: {exc}); "
                        f"raw results in {out / 'run.json'}"]
        run.verdict_line = f"verdict INCOMPLETE: no report (harness error) · exit {EXIT_INCOMPLETE}"
        return EXIT_INCOMPLETE
    verdict = report["verdict"]
    rng = report.get("range", {})
    lines = [f"verdict: {verdict.upper()} against {report.get('target_version')}",
             *[f"  because {r}" for r in report.get("verdict_reasons", [])[:5]],
             f"compatible range: {rng.get('label', 'none')}"]
    counts = report.get("counts", {})
    lines.append("requirements: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    for failure in report.get("failures", [])[:15]:
        lines.append(f"  FAIL {failure['requirement']} {failure.get('operation', '')}: "
                     f"{failure['message']}"[:160])
    if len(report.get("failures", [])) > 15:
        lines.append(f"  ... {len(report['failures']) - 15} more in the report")
    for error in data["errors"]:
        lines.append(f"  ERROR {error}")
    lines.append(f"report: {out / 'report.html'} (and report.json, junit.xml, summary.md)")
    run.summary = lines
    code = _EXIT[verdict]
    if settings.fail_on == "regression":
        regressions = (report.get("baseline") or {}).get("regressions")
        code = EXIT_FAIL if regressions else (EXIT_INCOMPLETE if verdict == Status.INCOMPLETE else EXIT_PASS)
    meaning = {EXIT_PASS: "", EXIT_FAIL: " (the server breaks the contract)",
               EXIT_INCOMPLETE: " (not everything could be judged: not a verdict on the server)"}
    run.verdict_line = (f"verdict {verdict.upper()} against {report.get('target_version')} · "
                        f"compatible range {rng.get('label', 'none')} · exit {code}{meaning[code]}")
    return code


def _write(run: Run, data: dict[str, Any]) -> dict[str, Any]:
    settings = run.settings
    baseline = json.loads(settings.baseline.read_text()) if settings.baseline else None
    waivers = load_waivers(settings.waivers) if settings.waivers else None
    report = build(data, catalogue=run.catalogue.raw_requirements,
                   profiles=load_profiles(), waivers=waivers, baseline=baseline)
    write(report, settings.report_dir, signing_key=settings.sign_key)
    return report


def _without_exchanges(data: dict[str, Any]) -> dict[str, Any]:
    failures = [f | {"request": None, "response": None, "reproduction": ""}
                for f in data.get("failures") or []]
    return data | {"failures": failures, "errors": list(data.get("errors") or [])}


def _charge_unevaluated(run: Run, config: pytest.Config, interrupted: bool) -> None:
    """Requirements the run meant to evaluate but could not are said so, one by one.

    A target that could not be tested at all (fatal) or stopped answering leaves them `error`;
    a run stopped early (--deadline, Ctrl-C, SIGTERM) leaves them `skip`, reason "interrupted".
    Either way their profiles are incomplete: never a verdict on the server.
    """
    status = Status.ERROR
    if run.fatal:
        why, scope = run.fatal, None  # nothing could be evaluated: every requirement
    elif time.monotonic() >= run.transport.deadline_at:
        status, why = Status.SKIP, f"the run hit its --deadline of {run.settings.deadline:g} s (interrupted)"
        scope = _selected_requirements(config)
    elif interrupted:  # before "down": a stop signal may have ended the target too
        status, why, scope = Status.SKIP, "interrupted: the run was stopped", _selected_requirements(config)
    elif run.transport.down:
        why = f"the target stopped answering ({run.transport.down})"
        scope = _selected_requirements(config)
    else:
        return
    evaluated = {o.requirement for o in run.recorder.outcomes
                 if o.status in (Status.PASS, Status.FAIL, Status.ERROR)}
    for requirement in run.catalogue.requirements:
        req_id = requirement["id"]
        if req_id in evaluated or (scope is not None and req_id not in scope):
            continue
        run.recorder.outcome(req_id, status, check="harness", reason=f"not evaluated: {why}")


def _selected_requirements(config: pytest.Config) -> set[str] | None:
    """The requirements of the checks selected for this run (None: unknown, so all)."""
    session = config.pluginmanager.get_plugin("session")
    items = getattr(session, "items", None)
    if not items:
        return None
    selected: set[str] = set()
    for item in items:
        marker = item.get_closest_marker("requirements")
        if marker:
            selected.update(marker.args)
    return selected


def _scrub_terminal(run: Run, config: pytest.Config) -> None:
    """No key in what pytest prints after this point: failures, errors, skip reasons, captures.

    A target that echoes the Authorization header puts the key into messages checks report
    (e.g. "problem code 'Bearer vk_...' is not snake_case"). pytest prints the failure sections
    from the stored reports after the session has finished, i.e. after this runs.
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    stats = getattr(reporter, "stats", None)
    if not stats or not run.transport.secrets:
        return
    for reports in stats.values():
        for report in reports:
            redact_test_report(report, run.transport.redact)
