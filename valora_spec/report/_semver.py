"""Spec version arithmetic: ordering, applicability and range labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def parse(version: str) -> tuple[int, int, int]:
    """`"1.2.0"` -> `(1, 2, 0)`; raises ValueError on anything that is not MAJOR.MINOR.PATCH."""
    parts = str(version).split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a MAJOR.MINOR.PATCH version: {version!r}")
    return int(parts[0]), int(parts[1]), int(parts[2])


def sort_versions(versions: list[str]) -> list[str]:
    return sorted(set(versions), key=parse)


def applies(requirement: Mapping[str, Any], version: str) -> bool:
    """A requirement binds a version from `since` on, up to (not including) `retired`."""
    v = parse(version)
    if parse(requirement["since"]) > v:
        return False
    retired = requirement.get("retired")
    return not (retired and parse(retired) <= v)


def same_minor(a: str, b: str) -> bool:
    return parse(a)[:2] == parse(b)[:2]


def minor_x(version: str) -> str:
    """`"1.1.0"` -> `"1.1.x"`: a spec minor covers all of its patches."""
    major, minor, _ = parse(version)
    return f"{major}.{minor}.x"


def range_label(low: str | None, high: str | None) -> str:
    if low is None or high is None:
        return "none"
    if same_minor(low, high):
        return minor_x(high)
    return f"{low} – {minor_x(high)}"
