"""Security requirements: alternatives (OR) of schemes (AND) with scopes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

Alternatives = dict[frozenset[str], tuple[int, dict[str, set[str]]]]


class SecurityFinding(NamedTuple):
    rule: str
    path: tuple[str, ...]  # under the `security` list that applies
    message: str


def effective(document: dict[str, Any], operation: dict[str, Any]) -> tuple[Any, bool]:
    """The requirements that apply, and whether they come from the document level."""
    if "security" in operation:
        return operation["security"], False
    return document.get("security"), True


def diff_security(old: Any, new: Any) -> Iterator[SecurityFinding]:
    before, after = _alternatives(old), _alternatives(new)
    old_public, new_public = _public(before), _public(after)
    if old_public and new_public:
        return
    if old_public:
        yield SecurityFinding("security-added", (), f"now requires {_names(after)}")
        return
    if new_public:
        yield SecurityFinding("security-removed", (), "no longer requires authentication")
        return
    for key, (index, _) in after.items():
        if key not in before:
            message = f"alternative {_name(key)} added"
            yield SecurityFinding("security-alternative-added", (str(index),), message)
    for key, (index, _) in before.items():
        if key not in after:
            message = f"alternative {_name(key)} removed"
            yield SecurityFinding("security-alternative-removed", (str(index),), message)
    for key, (index, new_scopes) in after.items():
        if key not in before:
            continue
        old_scopes = before[key][1]
        for scheme in sorted(key):
            path = (str(index), scheme)
            gained = sorted(new_scopes[scheme] - old_scopes[scheme])
            lost = sorted(old_scopes[scheme] - new_scopes[scheme])
            if gained:
                message = f"{scheme} needs scope(s) {', '.join(gained)}"
                yield SecurityFinding("security-scope-added", path, message)
            if lost:
                message = f"{scheme} no longer needs scope(s) {', '.join(lost)}"
                yield SecurityFinding("security-scope-removed", path, message)


def _alternatives(requirements: Any) -> Alternatives:
    found: Alternatives = {}
    for index, requirement in enumerate(requirements or []):
        if isinstance(requirement, dict):
            scopes = {str(k): {str(s) for s in (v or [])} for k, v in requirement.items()}
            found[frozenset(scopes)] = (index, scopes)
    return found


def _public(alternatives: Alternatives) -> bool:
    # `security: []` and `security: [{}]` both mean: no authentication needed.
    return not alternatives or set(alternatives) == {frozenset()}


def _name(key: frozenset[str]) -> str:
    return " + ".join(sorted(key)) or "anonymous"


def _names(alternatives: Alternatives) -> str:
    return " or ".join(_name(key) for key in alternatives if key)
