"""write_artifacts: every file of a report bundle, manifest last."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from valora_spec._redact import redact_report
from valora_spec.report._badge import badge_eligible, render_badge_json, render_badge_svg
from valora_spec.report._html import render_html
from valora_spec.report._junit import render_junit
from valora_spec.report._manifest import SIGNATURE, write_manifest
from valora_spec.report._schema import validate_report
from valora_spec.report._signing import load_private_key
from valora_spec.report._summary import render_summary

Renderer = Callable[[dict[str, Any]], bytes]

_ALWAYS: dict[str, Renderer] = {
    "report.json": lambda r: (json.dumps(r, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
    "junit.xml": render_junit,
    "summary.md": lambda r: render_summary(r).encode("utf-8"),
    "report.html": lambda r: render_html(r).encode("utf-8"),
}
_BADGE: dict[str, Renderer] = {"badge.svg": render_badge_svg, "badge.json": render_badge_json}
# Removed first so a stale badge or signature from an earlier run is never certified again.
_OWNED = [*_ALWAYS, *_BADGE, "manifest.json", SIGNATURE]


def write_artifacts(report: dict[str, Any], out_dir: Path, *, signing_key: Path | None = None) -> list[Path]:
    """Write the bundle into out_dir and return the paths written, manifest (and signature) last.

    The manifest covers every file in out_dir, so anything else the caller wants certified must
    be written there before this call.
    """
    key = load_private_key(signing_key) if signing_key is not None else None  # fail before writing
    report = redact_report(report)
    validate_report(report)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in _OWNED:
        (out_dir / name).unlink(missing_ok=True)
    renderers = dict(_ALWAYS)
    if badge_eligible(report):
        renderers.update(_BADGE)
    written: list[Path] = []
    for name, render in renderers.items():
        path = out_dir / name
        path.write_bytes(render(report))
        written.append(path)
    return written + write_manifest(out_dir, key)
