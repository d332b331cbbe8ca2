"""badge.svg and the shields.io endpoint badge.json, earned only by a certification pass."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

LABEL = "Valora"
COLOR = "#4c1"  # shields.io "brightgreen"


def badge_eligible(report: Mapping[str, Any]) -> bool:
    """Recomputed from the verdict and budget, not only read from the report's own flag."""
    certification = report["certification"]
    return (
        report["verdict"] == "pass"
        and bool(certification["badge"])
        and report.get("budget") == certification["required_budget"]
    )


def badge_message(report: Mapping[str, Any]) -> str:
    day = str(report.get("finished_at") or report["generated_at"])[:10]
    return f"{report['range']['label']} · {day}"


def render_badge_json(report: Mapping[str, Any]) -> bytes:
    endpoint = {
        "schemaVersion": 1,
        "label": LABEL,
        "message": badge_message(report),
        "color": "brightgreen",
    }
    return (json.dumps(endpoint, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def render_badge_svg(report: Mapping[str, Any]) -> bytes:
    message = badge_message(report)
    left, right = _width(LABEL), _width(message)
    total = left + right
    label, text = escape(LABEL), escape(message)
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" \
aria-label="{label}: {text}">
  <title>{label}: {text}</title>
  <linearGradient id="s" x2="0" y2="100%">
    <stop offset="0" stop-color="#bbb" stop-opacity=".1"/>
    <stop offset="1" stop-opacity=".1"/>
  </linearGradient>
  <clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>
  <g clip-path="url(#r)">
    <rect width="{left}" height="20" fill="#555"/>
    <rect x="{left}" width="{right}" height="20" fill="{COLOR}"/>
    <rect width="{total}" height="20" fill="url(#s)"/>
  </g>
  <g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" \
font-size="11">
    <text x="{left / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{label}</text>
    <text x="{left / 2:.1f}" y="14">{label}</text>
    <text x="{left + right / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{text}</text>
    <text x="{left + right / 2:.1f}" y="14">{text}</text>
  </g>
</svg>
"""
    return svg.encode("utf-8")


def _width(text: str) -> int:
    # Verdana 11px averages about 7px a character; 10px of padding on each side.
    return int(len(text) * 7 + 20)
