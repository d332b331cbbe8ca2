"""report.html: one self-contained page rendered from the package's templates/report.html.j2."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader

from valora_spec.report._paths import PACKAGE, TEMPLATES
from valora_spec.report._statuses import STATUSES, Status

TEMPLATE = "report.html.j2"
_MAX_BODY = 20_000  # characters of a body shown inline; report.json keeps what the harness kept


def render_html(report: Mapping[str, Any]) -> str:
    env = Environment(
        loader=PackageLoader(PACKAGE, TEMPLATES),
        autoescape=True,  # every value may come from the target under test
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["message"] = format_message
    return env.get_template(TEMPLATE).render(r=report, view=_view(report))


def _view(report: Mapping[str, Any]) -> dict[str, Any]:
    """The few things the template would otherwise have to compute."""
    target = report.get("target") or {}
    declared = target.get("declared") or {}
    implementation = declared.get("implementation") or {}
    return {
        "areas": sorted({r["area"] for r in report["requirements"]}),
        "statuses": [*STATUSES, Status.NOT_APPLICABLE],
        "implementation": " ".join(
            str(x) for x in (implementation.get("name"), implementation.get("version")) if x
        ),
        "failures_by_requirement": _group_failures(report["failures"]),
        "config_json": json.dumps(report.get("config") or {}, indent=2, sort_keys=True),
        "has_failures": any(r["status"] in (Status.FAIL, Status.ERROR) for r in report["requirements"]),
    }


def _group_failures(failures: list[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for failure in failures:
        counts[failure["requirement"]] = counts.get(failure["requirement"], 0) + 1
    return counts


def format_message(message: Mapping[str, Any] | None) -> str:
    """An HTTP request or response as readable text (escaped later by the template)."""
    if not message:
        return "(not recorded)"
    if "status" in message and "method" not in message:
        lines = [f"HTTP {message.get('status')}"]
    else:
        lines = [f"{message.get('method', '?')} {message.get('url', '')}"]
    headers = message.get("headers") or {}
    pairs = headers.items() if isinstance(headers, dict) else headers
    lines += [f"{name}: {value}" for name, value in pairs]
    body = _body_text(message.get("body"))
    if body:
        lines += ["", body]
    return "\n".join(lines)


def _body_text(body: Any) -> str:
    if body is None or body == "":
        return ""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return _clip(body)
    try:
        text = json.dumps(body, indent=2, ensure_ascii=False)
        # a lone surrogate ("\\ud800" in the JSON text) has no UTF-8 form: written escaped again
        return _clip(text.encode("utf-8", "backslashreplace").decode("utf-8"))
    except (RecursionError, TypeError, ValueError):
        return _clip(str(body)[:_MAX_BODY])


def _clip(text: str) -> str:
    if len(text) <= _MAX_BODY:
        return text
    return text[:_MAX_BODY] + f"\n… ({len(text) - _MAX_BODY} more characters)"
