"""Render a CompatResult for people (text) or tools (json)."""

from __future__ import annotations

import json

from ._model import CompatResult


def render_json(result: CompatResult) -> str:
    return json.dumps(result.to_dict(), indent=2)


def render_text(result: CompatResult) -> str:
    count = len(result.changes)
    lines = [f"required bump: {result.required_bump.label} ({count} change{'s' * (count != 1)})"]
    for change in result.changes:
        lines += [
            "",
            f"{change.bump.label:<5}  {change.rule}  [{change.side}]",
            f"       {change.message}: {change.why}",
            f"       at {change.pointer}",
        ]
        for location in change.locations:
            operation = location.operation or "(document)"
            lines.append(f"       in {operation}  {location.pointer}")
    return "\n".join(lines)
