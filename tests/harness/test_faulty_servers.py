"""The harness against deliberately faulty servers: each fault must fail, and for the right requirement.

Every fault of faults.CATALOGUE runs the conformance checks that concern it (its `-k` selection)
against the reference wrapped in the fault's middleware, and must end with exit code 1, its
requirement failed with a reproduction, no key in any file of the report, nothing failed outside
what the fault breaks, and no requirement reported `error`. Where the current harness is known to
blame other requirements too (`noise`), to report `error` (`errors`), to miss the fault (`miss`)
or to give no reproduction (`no_repro`), the test xfails and names the harness issue; once the
harness is fixed the test fails until the catalogue entry is updated (strict). Controls: the
reference passes the full suite (which contains every selection), and a reference with an
honestly declared usage delay is not a fault either. Full-suite runs: the reference, one faulty
server, and the over-claiming server (declares 1.2.0, behaves as 1.1.0). The full runs come
first so that `-n 2` starts them early.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from faults import BY_NAME, CATALOGUE, Fault, serve
from harness_suite import KEY_TRIPLES, KEYS, SuiteResult, run_suite
from versions import TARGET, introduced_after, label, same_line, up_to_line

from valora_spec import reference

SELECTED = [fault for fault in CATALOGUE if fault.selection is not None]
FULL_RUN_FAULT = "cross_tenant_read"
# The over-claimer: what it behaves as and what it declares, as its catalogue entry builds it
BEHAVES = BY_NAME["over_claim"].app_options["spec_version"]
CLAIMS = BY_NAME["over_claim"].app_options["declare_version"]
# Requirements introduced after the version it behaves as (it cannot pass them)
NEW_IN_CLAIM = introduced_after(BEHAVES, CLAIMS)
MEASURED = label(BEHAVES)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def _lean_harness_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness needs none of the installed pytest plugins; not loading them saves ~1.3 s a run."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _run(tmp_path: Path, fault: Fault | None, *args: str) -> SuiteResult:
    with serve(fault) as url:
        result = run_suite(tmp_path / "report", *args, base_url=url)
        if fault is not None and result.exit_code == 1:
            _reproductions_run(result, fault)
    return result


# Refusals that depend on the request alone: rerun after the run, they must come back the same.
STATELESS = {"400", "401", "405", "406", "415"}


def _reproductions_run(result: SuiteResult, fault: Fault) -> None:
    """Each failure's `curl`, run as printed with the keys exported, authenticates as recorded,
    and a refusal that depends on the request alone comes back with the recorded status.

    Run while the fault's server still runs, after the run's clean-up: what the run created may
    be gone, so a status that depends on state (200 vs 404, 201 vs 409) is not compared. The last
    line of a chained reproduction is the request that failed.
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env |= {f"VALORA_{name.upper()}": key for name, key in KEYS.items()}
    wrong = []
    for failure in result.report["failures"]:
        response = failure.get("response") or {}
        if not failure["reproduction"] or not response:
            continue
        script = failure["reproduction"] + " -o /dev/null -w '%{http_code}'"
        done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                              timeout=60)
        got, want = done.stdout.strip()[-3:], str(response["status"])
        authenticates = (got == "401") == (want == "401")
        if done.returncode != 0 or not authenticates or (want in STATELESS and got != want):
            wrong.append((got, want, failure["reproduction"][:300]))
    assert not wrong, f"reproductions that do not give the recorded status: {wrong}"


def _no_key_in_report(result: SuiteResult) -> None:
    for path in result.report_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            leaked = [name for name, key in KEYS.items() if key.encode() in content]
            assert not leaked, f"{path.relative_to(result.report_dir)} contains the {leaked} key"


def _explain(result: SuiteResult) -> str:
    lines = [f"exit {result.exit_code}; failing {sorted(result.failing())}"]
    lines += [f"  {f['requirement']} {f['operation']}: {f['message']}"[:200]
              for f in result.report["failures"][:10]]
    return "\n".join(lines) + "\n" + result.stdout[-1500:] + result.stderr[-1500:]


def _assert_fails_for(result: SuiteResult, fault: Fault) -> list[str]:
    """The verdict a faulty server must get: its requirement failed, with a usable reproduction.

    Returns the known harness issues met on the way (the caller xfails with them).
    """
    why = _explain(result)
    assert result.exit_code == 1, why
    assert result.status(fault.requirement) == "fail", why
    named = [f for f in result.report["failures"] if f["requirement"] == fault.requirement]
    assert named, why
    if any(f["reproduction"] for f in named):
        assert not fault.no_repro, f"{fault.name}: reproduced now; drop `no_repro` from its entry"
        return []
    assert fault.no_repro, f"no reproduction for {fault.requirement}\n{why}"
    return [f"no failure of {fault.requirement} has a reproduction"]


def _assert_precise(result: SuiteResult, fault: Fault) -> list[str]:
    """Nothing failed outside what the fault breaks, or the harness is known to blame for it.

    Returns the known harness issues met (noise seen); noise that the run evaluated but did not
    fail means the harness was fixed and the catalogue entry must be updated.
    """
    failing = result.failing()
    unexpected = failing - fault.expected - set(fault.noise)
    assert not unexpected, f"{fault.name} also failed {sorted(unexpected)}\n{_explain(result)}"
    evaluated = {r for r in fault.noise if result.status(r) not in ("skip", "not_applicable")}
    seen = failing & evaluated
    assert seen or not evaluated, (f"{fault.name}: the harness no longer fails {sorted(evaluated)}"
                                   "; drop them from the entry's `noise`")
    # `error` says the harness itself broke: never the right verdict on a target's fault
    errored = {r["id"] for r in result.report["requirements"] if r["status"] == "error"}
    assert errored <= set(fault.errors), f"{fault.name}: harness errors on {sorted(errored)}"
    assert errored or not fault.errors, (f"{fault.name}: no harness error on {fault.errors} any "
                                         "more; drop them from the entry's `errors`")
    met = [f"also fails {sorted(seen)}"] if seen else []
    return met + ([f"reports {sorted(errored)} as harness errors"] if errored else [])


def test_reference_passes_the_full_suite(tmp_path: Path) -> None:
    """Control for every selection at once: the whole suite contains each of them.

    The correct server passes it, with every requirement a fault must fail evaluated and passed.
    """
    result = _run(tmp_path, None)
    _no_key_in_report(result)
    assert result.exit_code == 0, _explain(result)
    report = result.report
    assert report["verdict"] == "pass"
    assert report["range"]["label"] == label(TARGET)
    assert not report["compatibility"]["over_claim"]
    assert not result.failing()
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    assert {r for r, status in statuses.items() if status != "pass"} == {"VAL-RATE-001"}
    assert all(statuses[fault.requirement] == "pass" for fault in CATALOGUE)


def test_reference_with_a_declared_usage_delay_passes(tmp_path: Path) -> None:
    """Control: a correct server whose usage shows after the 2 s it declares is not a fault."""
    app = reference.create_app(keys=KEY_TRIPLES, spec_version=TARGET, usage_delay=2)
    try:
        with reference.serve_in_thread(app) as url:
            result = run_suite(tmp_path / "report", "-k", "(test_aggregations_match_the_oracle and "
                               "SUM) or test_invoice_lines_and_totals", base_url=url)
    finally:
        app.close()
    assert not result.failing(), _explain(result)


def test_full_suite_against_a_faulty_server(tmp_path: Path) -> None:
    fault = BY_NAME[FULL_RUN_FAULT]
    result = _run(tmp_path, fault)
    _no_key_in_report(result)
    assert not _assert_fails_for(result, fault)
    assert not _assert_precise(result, fault)
    assert result.report["verdict"] == "fail"
    assert result.report["range"]["label"] == "none"  # AUTH-003 is required from 1.0.0 on


def test_discovery_over_claim_is_reported_with_the_measured_range(tmp_path: Path) -> None:
    """Behaves as BEHAVES (1.1.0), declares CLAIMS (1.2.0): an over-claim, measured MEASURED
    (1.0.0 – 1.1.x), the catalogue entry's versions."""
    fault = BY_NAME["over_claim"]
    result = _run(tmp_path, fault)
    _no_key_in_report(result)
    report = result.report
    assert result.exit_code == 1, _explain(result)
    assert report["declared"]["spec_version"] == CLAIMS
    comparison = report["compatibility"]
    assert comparison["over_claim"], comparison
    # the measured range first: VAL-META-001 is only failed when an older line is satisfied, so
    # a false failure or an error at an older version shows here, with what it was
    by_version = {r["id"]: r["by_version"] for r in report["requirements"]}
    behaved = up_to_line(BEHAVES)
    older = {r: cells for r, cells in by_version.items()
             if any(cells.get(v) not in (None, "pass") for v in behaved) and r != "VAL-RATE-001"}
    assert report["range"]["label"] == MEASURED, (
        f"{report['range']}\nnot passed at {behaved}: {older}\nerrors: {report.get('errors')}\n"
        f"{_explain(result)}")
    meta = next(r for r in report["requirements"] if r["id"] == "VAL-META-001")
    assert meta["status"] == "fail" and "over-claim" in meta["reason"], meta
    # failed at the claimed version; every patch of the lines it does satisfy passes
    assert meta["by_version"][CLAIMS] == "fail", meta
    assert {v: s for v, s in meta["by_version"].items() if v in behaved} == dict.fromkeys(
        behaved, "pass"), meta
    assert comparison["declared"]["max"] == CLAIMS
    failing = result.failing()
    assert NEW_IN_CLAIM & failing, _explain(result)  # what the claimed line adds is what it lacks
    assert failing <= fault.expected, _explain(result)  # judged as the version it claims
    # measured up to the newest patch of the line it behaves as
    assert comparison["measured"] == {"min": behaved[0], "max": same_line(BEHAVES)[-1]}


@pytest.mark.parametrize("fault", SELECTED, ids=[fault.name for fault in SELECTED])
def test_harness_fails_the_faulty_server_for_the_right_requirement(tmp_path: Path,
                                                                  fault: Fault) -> None:
    result = _run(tmp_path, fault, "-k", fault.selection, *fault.harness_args)
    _no_key_in_report(result)
    met = _assert_precise(result, fault)
    if fault.miss:
        detected = result.status(fault.requirement) == "fail"
        assert not detected, (f"the harness now fails {fault.requirement} for {fault.name}: "
                              "drop `miss` from the catalogue entry")
        met.append(f"misses {fault.requirement}")
    else:
        met += _assert_fails_for(result, fault)
    if met:
        pytest.xfail(f"known harness issue(s) {', '.join(fault.issues)}: {'; '.join(met)}")
