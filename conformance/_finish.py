"""End of a run: build the report, write every artifact, decide the exit code."""

from __future__ import annotations

import json
import traceback
from typing import TYPE_CHECKING

import pytest

from conformance._profiles import load_profiles, load_waivers
from conformance._report import build_report, write_artifacts

if TYPE_CHECKING:
    from conformance._run import Run


def finish(run: Run, config: pytest.Config) -> int:
    settings = run.settings
    if run.embedded is not None:
        run.embedded.stop()
    run.transport.close()
    data = run.as_dict()
    out = settings.report_dir
    try:
        baseline = json.loads(settings.baseline.read_text()) if settings.baseline else None
        waivers = load_waivers(settings.waivers) if settings.waivers else None
        report = build_report(data, catalogue=run.catalogue.raw_requirements,
                              profiles=load_profiles(), waivers=waivers, baseline=baseline)
        write_artifacts(report, out, signing_key=settings.sign_key)
    except Exception as exc:  # noqa: BLE001 - never lose a run's results to a report bug
        out = out / "unreported"  # kept apart so no later manifest covers it
        out.mkdir(exist_ok=True)
        (out / "run.json").write_text(json.dumps(data, indent=2))
        (out / "report-error.txt").write_text(traceback.format_exc())
        run._summary = [f"could not build the report ({type(exc).__name__}: {exc}); "
                        f"raw results in {out / 'run.json'}"]
        return 3
    verdict = report["verdict"]
    rng = report.get("range", {})
    lines = [f"verdict: {verdict.upper()} against {report.get('target_version')}",
             *[f"  because {r}" for r in report.get("verdict_reasons", [])[:5]],
             f"compatible range: {rng.get('label', 'none')}"]
    comparison = report.get("compatibility") or {}
    if comparison.get("over_claim"):
        lines.append(f"over-claim: declares {comparison.get('declared')} but measured "
                     f"{rng.get('label')}")
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
    run._summary = lines
    if settings.fail_on == "regression":
        return 1 if (report.get("baseline") or {}).get("regressions") else 0
    return 0 if verdict == "pass" else 1
