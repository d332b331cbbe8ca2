"""junit.xml: one testcase per requirement, so CI dashboards track requirements over time."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from valora_spec.report._statuses import Status

_MAX_FAILURES_PER_CASE = 20
# Characters XML 1.0 cannot carry at all; response bodies sometimes contain them.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(report: Mapping[str, Any]) -> bytes:
    entries = report["requirements"]
    counts = report["counts"]
    skipped = counts[Status.SKIP] + counts[Status.WAIVED] + counts[Status.NOT_APPLICABLE]
    totals = {
        "tests": str(len(entries)),
        "failures": str(counts[Status.FAIL]),
        "errors": str(counts[Status.ERROR]),
        "skipped": str(skipped),
        "time": f"{float(report.get('duration_s') or 0):.3f}",
    }
    suites = ET.Element("testsuites", {"name": "valora-conformance", **totals})
    suite = ET.SubElement(
        suites,
        "testsuite",
        {
            "name": f"valora-spec {report.get('judged_version') or ''}".strip(),
            "timestamp": str(report.get("started_at") or report["generated_at"]),
            **totals,
        },
    )
    _properties(suite, report)
    for entry in entries:
        _testcase(suite, entry, report)
    notes = [f"harness error: {e}" for e in report["errors"]]
    if report["compatibility"]["over_claim"]:
        notes.append(f"over-claim: {report['compatibility']['note']}")
    notes += [f"warning: {w}" for w in report["warnings"]]
    if notes:
        ET.SubElement(suite, "system-err").text = _text("\n".join(notes))
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def _properties(suite: ET.Element, report: Mapping[str, Any]) -> None:
    props = ET.SubElement(suite, "properties")
    values = {
        "verdict": report["verdict"],
        "range": report["range"]["label"],
        "judged_version": report.get("judged_version"),
        "over_claim": report["compatibility"]["over_claim"],
        "seed": report.get("seed"),
        "budget": report.get("budget"),
        "base_url": (report.get("target") or {}).get("base_url"),
    }
    for name, value in values.items():
        ET.SubElement(props, "property", {"name": name, "value": _text(str(value))})


def _testcase(suite: ET.Element, entry: Mapping[str, Any], report: Mapping[str, Any]) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": entry["area"], "name": f"{entry['id']} {entry['title']}", "time": "0"},
    )
    status, reason = entry["status"], entry["reason"]
    if status in (Status.FAIL, Status.ERROR):
        tag = "failure" if status == Status.FAIL else "error"
        message = _first_line(reason) or status
        if status == Status.ERROR:
            message = f"harness error, not a verdict on the server: {message}"
        element = ET.SubElement(case, tag, {"message": _text(message), "type": entry["level"]})
        element.text = _text(_failure_details(entry, report))
    elif status == Status.SKIP:
        ET.SubElement(case, "skipped", {"message": _text(reason)})
    elif status == Status.WAIVED:
        ET.SubElement(case, "skipped", {"message": _text(f"waived (not passed): {reason}")})
    elif status == Status.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", {"message": _text(f"not applicable: {reason}")})
    by_version = ", ".join(f"{v}: {s}" for v, s in entry["by_version"].items()) or "none"
    checks = "\n".join(f"  {c}" for c in entry["checks"]) or "  (none)"
    ET.SubElement(case, "system-out").text = _text(f"by version: {by_version}\nchecks:\n{checks}")


def _failure_details(entry: Mapping[str, Any], report: Mapping[str, Any]) -> str:
    lines = [f"{entry['level']} {entry['id']}: {entry['reason']}"]
    mine = [f for f in report["failures"] if f["requirement"] == entry["id"]]
    for failure in mine[:_MAX_FAILURES_PER_CASE]:
        lines += [
            "",
            f"[{failure['id']}] {failure['operation']} (spec {failure['version'] or 'all'})",
            f"  {failure['message']}",
            f"  expected: {failure['expected']}",
            f"  observed: {failure['observed']}",
            f"  check: {failure['check']}  seed: {failure['seed']}",
            f"  reproduce: {failure['reproduction']}",
        ]
    if len(mine) > _MAX_FAILURES_PER_CASE:
        lines.append(f"... and {len(mine) - _MAX_FAILURES_PER_CASE} more in report.json")
    return "\n".join(lines)


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _text(value: str) -> str:
    return _ILLEGAL_XML.sub("\ufffd", value)
