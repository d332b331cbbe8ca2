"""The values `compare()` returns: bumps, changes and where they were found."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Bump(enum.IntEnum):
    """A semver level. Ordered, so `max()` gives the bump a set of changes demands."""

    PATCH = 0
    MINOR = 1
    MAJOR = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Bump:
        try:
            return cls[str(text).upper()]
        except KeyError:
            raise ValueError(f"unknown bump {text!r}: expected patch, minor or major") from None


@dataclass(frozen=True, order=True)
class Location:
    """One place a change shows up: an operation and a JSON pointer into the spec."""

    operation: str  # "POST /invoices"; "" for document-level places such as components
    pointer: str  # "#/paths/~1invoices/post/requestBody/..."

    def to_dict(self) -> dict[str, str]:
        return {"operation": self.operation, "pointer": self.pointer}


@dataclass(frozen=True)
class Change:
    """One root cause, with every place it affects."""

    rule: str
    side: str  # "request" or "response"
    bump: Bump
    pointer: str  # where the root cause lives (a component, or the single place)
    message: str  # what changed
    why: str  # why that rule demands that bump
    locations: tuple[Location, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "side": self.side,
            "bump": self.bump.label,
            "pointer": self.pointer,
            "message": self.message,
            "why": self.why,
            "locations": [location.to_dict() for location in self.locations],
        }


@dataclass(frozen=True)
class CompatResult:
    required_bump: Bump
    changes: tuple[Change, ...]

    @property
    def rules(self) -> set[str]:
        return {change.rule for change in self.changes}

    def to_dict(self) -> dict[str, Any]:
        return {
            "required_bump": self.required_bump.label,
            "changes": [change.to_dict() for change in self.changes],
        }
