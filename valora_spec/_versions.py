"""Spec versions (`MAJOR.MINOR.PATCH`): the one place they are parsed, ordered and compared.

Built on `packaging.version.Version`, behind the spec's own grammar for `spec_version`
(`^[0-9]+\\.[0-9]+\\.[0-9]+$`): `Version` alone would also take `1.2`, `v1.2.0` or `1.2.0rc1`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from packaging.version import Version

_GRAMMAR = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")


@functools.lru_cache(maxsize=1024)  # the same handful of strings is compared thousands of times
def _parse(text: str) -> Version | None:
    return Version(text) if _GRAMMAR.fullmatch(text) else None


def is_version(text: object) -> bool:
    """MAJOR.MINOR.PATCH, as a target may declare it (`01.2.0` included: the spec allows it)."""
    return isinstance(text, str) and _parse(text) is not None


def is_release_name(text: object) -> bool:
    """A version in canonical form (no leading zeros): the name of a `spec/X.Y.Z/` folder."""
    return is_version(text) and str(parse(text)) == text


def parse(version: object) -> Version:
    """`"1.2.0"` -> `Version("1.2.0")`; ValueError on anything that is not MAJOR.MINOR.PATCH."""
    parsed = _parse(version) if isinstance(version, str) else None
    if parsed is None:
        raise ValueError(f"not a version X.Y.Z: {version!r}")
    return parsed


def sort_versions(versions: Iterable[str]) -> list[str]:
    """Oldest first, each once."""
    return sorted(set(versions), key=parse)


def newest(versions: Iterable[str]) -> str:
    return max(versions, key=parse)


def major(version: str) -> int:
    return parse(version).major


def minor_line(version: str) -> tuple[int, int]:
    """`"1.2.1"` -> `(1, 2)`: a PATCH release only clarifies the text of its minor line."""
    parsed = parse(version)
    return parsed.major, parsed.minor


def at_least(version: str, since: str | None) -> bool:
    """Whether `version` is `since` or newer (always, without a `since`)."""
    return since is None or parse(version) >= parse(since)


def applies(requirement: Mapping[str, Any], version: str) -> bool:
    """A requirement binds a version from `since` on, up to (not including) `retired`."""
    if not at_least(version, requirement["since"]):
        return False
    retired = requirement.get("retired")
    return not (retired and at_least(version, retired))


def judged_version(declared: str | None, known: list[str]) -> str:
    """The version to judge a target declaring `declared` against (`known`: oldest first).

    A known version is judged as itself. An unknown patch of a known minor line (a server
    declaring 1.2.7 to a harness that knows 1.2.1) is judged against the newest patch of that
    line; anything else (no version, not a version, an unknown line) against the newest known.
    """
    if declared in known:
        return declared
    line = minor_line(declared) if is_version(declared) else None
    same_line = [v for v in known if minor_line(v) == line]
    return (same_line or known)[-1]


def minor_x(version: str) -> str:
    """`"1.1.0"` -> `"1.1.x"`: a spec minor covers all of its patches."""
    return "{}.{}.x".format(*minor_line(version))


def range_label(low: str | None, high: str | None) -> str:
    if low is None or high is None:
        return "none"
    if minor_line(low) == minor_line(high):
        return minor_x(high)
    return f"{low} – {minor_x(high)}"
