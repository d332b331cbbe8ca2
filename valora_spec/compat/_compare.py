"""compare(): run every check and group the findings by root cause."""

from __future__ import annotations

from typing import Any

from ._components import renamed_schemas, usages
from ._errors import SpecError
from ._fingerprint import Fingerprints
from ._model import Bump, Change, CompatResult, Location
from ._operations import OperationDiffer
from ._policy import Policy
from ._resolve import Resolver, pointer
from ._rules import RULES

INFO_DOCS = ("title", "summary", "description")


class _Collector:
    """Findings with the same rule, side and root cause become one change."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._groups: dict[tuple[str, str, str], tuple[str, dict[Location, None]]] = {}

    def emit(self, rule: str, side: str, message: str, location: Location, anchor: str | None) -> None:
        key = (rule, side, anchor or location.pointer)
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = (message, {location: None})
        else:
            group[1][location] = None

    def result(self) -> CompatResult:
        changes = [
            Change(
                rule=rule,
                side=side,
                bump=self._policy.bump_for(rule),
                pointer=root,
                message=message,
                why=RULES[rule].why,
                locations=tuple(sorted(locations)),
            )
            for (rule, side, root), (message, locations) in self._groups.items()
        ]
        changes.sort(key=lambda c: (-c.bump, c.rule, c.pointer))
        required = max((change.bump for change in changes), default=Bump.PATCH)
        return CompatResult(required, tuple(changes))


def compare(old: dict[str, Any], new: dict[str, Any], policy: Policy | None = None) -> CompatResult:
    """What bump going from `old` to `new` demands, and every change behind it.

    Identical documents demand a patch: no release asks for less.
    """
    for name, document in (("old", old), ("new", new)):
        if not isinstance(document, dict):
            raise SpecError(f"{name} spec is not a mapping")
    collector = _Collector(policy or Policy())
    old_resolver, new_resolver = Resolver(old), Resolver(new)
    prints = Fingerprints(old_resolver, new_resolver)  # shared: refined once, on first use
    OperationDiffer(old_resolver, new_resolver, collector.emit, prints).run()
    _renames(old_resolver, new_resolver, prints, collector)
    _info(old, new, collector)
    return collector.result()


def _renames(old: Resolver, new: Resolver, prints: Fingerprints, collector: _Collector) -> None:
    for old_name, new_name in renamed_schemas(old, new, prints):
        root = pointer("components", "schemas", new_name)
        places = list(usages(new, root)) or [(Location("", root), None)]
        sides = {side for _, side in places}
        side = "request" if "request" in sides or sides == {None} else "response"
        message = f"schema {old_name!r} renamed to {new_name!r}"
        for location, _ in places:
            collector.emit("component-renamed", side, message, location, root)


def _info(old: dict[str, Any], new: dict[str, Any], collector: _Collector) -> None:
    before, after = old.get("info") or {}, new.get("info") or {}
    for key in INFO_DOCS:
        if before.get(key) != after.get(key):
            location = Location("", pointer("info", key))
            collector.emit("docs-changed", "request", f"info {key} changed", location, None)
