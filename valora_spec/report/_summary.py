"""summary.md: short enough for a GitHub job summary, complete enough to act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valora_spec.report._badge import badge_eligible
from valora_spec.report._statuses import Status

_ICONS = {"pass": "✅", "fail": "❌", "error": "⚠️", "incomplete": "⚠️"}
_MAX_ROWS = 100  # GitHub caps a job summary at 1 MiB; report.html has everything


def render_summary(report: Mapping[str, Any]) -> str:
    lines: list[str] = []
    verdict = report["verdict"]
    lines.append(f"## {_ICONS.get(verdict, '')} Valora conformance: {verdict.upper()}")
    lines.append("")
    lines += _target_lines(report)
    if report["verdict"] == "incomplete":
        lines += ["", "Nothing failed, but not everything could be judged: this is **not a verdict on the "
                  "server**. Fix what is listed below and run again."]
    if report["verdict_reasons"]:
        lines.append("")
        lines += [f"- {_inline(reason)}" for reason in report["verdict_reasons"]]
    lines += ["", *_counts_table(report["counts"])]
    lines += ["", "### Profiles", "", *_profiles_table(report["profiles"])]
    lines += _failing_section(report)
    lines += _baseline_section(report.get("baseline"))
    lines += _waivers_section(report["waivers"])
    if report["errors"]:
        lines += ["", "### Harness errors", "", *[f"- {_inline(e)}" for e in report["errors"]]]
    lines += ["", "### Badge", ""]
    if badge_eligible(report):
        lines.append("Badge written: `badge.svg`, `badge.json` (shields.io endpoint).")
    else:
        lines.append(f"No badge: {_inline(report['certification']['reason'])}.")
    lines += ["", "---", _footer(report), ""]
    return "\n".join(lines)


def _target_lines(report: Mapping[str, Any]) -> list[str]:
    target = report.get("target") or {}
    declared = target.get("declared") or {}
    impl = declared.get("implementation") or {}
    name = " ".join(str(x) for x in (impl.get("name"), impl.get("version")) if x)
    comparison = report["compatibility"]
    declared_range = comparison["declared"]
    declared_text = f"{declared_range['min']} – {declared_range['max']}" if declared_range else "nothing"
    over = " — **over-claim**" if comparison["over_claim"] else ""
    lines = [
        f"**Target:** `{_code(target.get('base_url') or '?')}`" + (f" ({_inline(name)})" if name else ""),
        f"**Judged against:** spec {report.get('judged_version') or 'none'} "
        f"· **budget:** {report.get('budget')}",
        f"**Compatible range:** `{report['range']['label']}` · **declared:** {declared_text}{over}",
    ]
    if comparison["over_claim"] and comparison["failing_requirements"]:
        failing = _ids(comparison["failing_requirements"], 20)
        lines.append(f"**Not passing in the claimed version:** {failing}")
    for unjudged in report["range"]["unjudged"]:
        lines.append(f"**Could not be judged:** {unjudged['version']} "
                     f"(not evaluated: {_ids(unjudged['requirements'], 20)})")
    if target.get("discovery_error"):
        lines.append(f"**Discovery error:** {_inline(target['discovery_error'])}")
    return [line + "  " for line in lines]  # two trailing spaces: markdown line break


def _counts_table(counts: Mapping[str, int]) -> list[str]:
    keys = ["pass", "fail", "error", "skip", "waived", "n/a", "total"]
    return [
        "| " + " | ".join(keys) + " |",
        "|" + "---:|" * len(keys),
        "| " + " | ".join(str(counts[k]) for k in keys) + " |",
    ]


def _profiles_table(profiles: list[Mapping[str, Any]]) -> list[str]:
    rows = [
        "| version | verdict | MUST passed | failing | not evaluated (required) | waived "
        "| absent (optional) |",
        "|---|---|---:|---|---|---|---|",
    ]
    for p in profiles:
        must = p["counts"]["must"]
        total = sum(must.values())
        rows.append(
            f"| {p['version']} | {_ICONS.get(p['verdict'], '')} {p['verdict']} "
            f"| {must['pass']}/{total} | {_ids(p['failing'])} | {_ids(p['skipped_required'] + p['errored'])} "
            f"| {_ids(p['waived'])} | {', '.join(p['absent_capabilities']) or '–'} |"
        )
    if not profiles:
        rows.append("| – | no version evaluated | | | | | |")
    return rows


def _failing_section(report: Mapping[str, Any]) -> list[str]:
    failing = [r for r in report["requirements"]
               if any(s in (Status.FAIL, Status.ERROR) for s in r["by_version"].values())]
    if not failing:
        return []
    first_message = {}
    for failure in report["failures"]:
        first_message.setdefault(failure["requirement"], failure["message"])
    lines = [
        "",
        f"### Failing requirements ({len(failing)})",
        "",
        "| requirement | level | title | status | failing at | first failure |",
        "|---|---|---|---|---|---|",
    ]
    for r in failing[:_MAX_ROWS]:
        versions = [v for v, s in r["by_version"].items() if s in (Status.FAIL, Status.ERROR)]
        detail = first_message.get(r["id"]) or r["reason"]
        lines.append(
            f"| {r['id']} | {r['level']} | {_cell(r['title'])} | {r['status']} "
            f"| {', '.join(versions)} | {_cell(detail)} |"
        )
    if len(failing) > _MAX_ROWS:
        lines.append(f"\n…and {len(failing) - _MAX_ROWS} more: see report.html.")
    return lines


def _baseline_section(baseline: Mapping[str, Any] | None) -> list[str]:
    if not baseline:
        return []
    lines = [
        "",
        f"### Against the baseline (was {baseline.get('verdict')}, range {baseline.get('range')})",
        "",
    ]
    if not baseline["regressions"] and not baseline["fixed"]:
        return [*lines, "No change."]
    if baseline["regressions"]:
        lines += [f"**Regressions ({len(baseline['regressions'])})**", ""]
        lines += ["| requirement | level | title | was | now |", "|---|---|---|---|---|"]
        for r in baseline["regressions"][:_MAX_ROWS]:
            was = r["from"] or "absent"
            lines.append(f"| {r['id']} | {r['level']} | {_cell(r['title'])} | {was} | {r['to']} |")
    if baseline["fixed"]:
        lines += [
            "",
            f"**Fixed ({len(baseline['fixed'])}):** " + _ids([r["id"] for r in baseline["fixed"]]),
        ]
    return lines


def _waivers_section(waivers: list[Mapping[str, Any]]) -> list[str]:
    if not waivers:
        return []
    lines = [
        "",
        "### Waivers",
        "",
        "| requirement | state | expires | reason |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {w['requirement']} | {w['state']} | {w['expires']} | {_cell(w['reason'])} |" for w in waivers
    ]
    return lines


def _footer(report: Mapping[str, Any]) -> str:
    harness = report.get("harness") or {}
    commit = harness.get("git_commit")
    parts = [
        f"seed {report.get('seed')}",
        f"{float(report.get('duration_s') or 0):.1f}s",
        f"{(report.get('stats') or {}).get('requests', 0)} requests",
        f"{harness.get('name', 'valora-spec')} {harness.get('version', '')}".strip(),
    ]
    if commit:
        parts.append(f"commit {str(commit)[:12]}")
    return "<sub>" + " · ".join(_inline(p) for p in parts) + "</sub>"


def _ids(ids: list[str], limit: int = 8) -> str:
    if not ids:
        return "–"
    shown = ", ".join(ids[:limit])
    return shown + (f" (+{len(ids) - limit})" if len(ids) > limit else "")


def _inline(text: Any) -> str:
    # Keep user-controlled text from opening HTML tags in the rendered summary.
    return " ".join(str(text).split()).replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: Any, limit: int = 160) -> str:
    value = _inline(text).replace("|", "\\|")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _code(text: str) -> str:
    return str(text).replace("`", "'")
