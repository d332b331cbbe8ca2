"""The JSON Schema 2020-12 keywords beyond properties/items/unions, for one side of the wire.

A keyword that is added constrains more; in a request that rejects what clients send
(major), in a response clients get a subset of what they got (minor). Removal is the
reverse. Subschemas under these keywords are compared like any other, so a constraint
nested inside them is found too; under `not` the direction flips (a `not` that matches
more rejects more). Each rule id is spelled out where it is emitted, request first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ._resolve import Resolver
from ._rules import MAJOR, MINOR, RULES

REQUEST = "request"


class Differ(Protocol):
    old: Resolver
    new: Resolver

    def diff(self, old: Any, new: Any, side: str) -> list[Any]: ...

    def fingerprint(self, resolver: Resolver, schema: Any) -> str: ...

    def not_findings(self, old: Any, new: Any) -> list[Any] | None: ...


Note = Callable[[str, tuple[str, ...], str], None]


def _pick(side: str, request_rule: str, response_rule: str) -> str:
    return request_rule if side == REQUEST else response_rule


def compare_keywords(differ: Differ, old: dict, new: dict, side: str, note: Note, found: list) -> None:
    """Compare every 2020-12 keyword of `old` and `new` (both resolved, allOf merged)."""

    def sub(before: Any, after: Any, *path: str) -> None:
        found.extend(f._replace(path=(*path, *f.path)) for f in differ.diff(before, after, side))

    def presence(keyword: str, added: str, removed: str, what: str) -> bool:
        """Report the keyword appearing or vanishing; True when it is on both sides."""
        was, now = keyword in old, keyword in new
        if was and not now:
            note(removed, (keyword,), f"{what} removed")
        elif now and not was:
            note(added, (keyword,), f"{what} added")
        return was and now

    if presence(
        "contains",
        _pick(side, "request-contains-added", "response-contains-added"),
        _pick(side, "request-contains-removed", "response-contains-removed"),
        "contains",
    ):
        sub(old["contains"], new["contains"], "contains")
    if presence(
        "propertyNames",
        _pick(side, "request-property-names-added", "response-property-names-added"),
        _pick(side, "request-property-names-removed", "response-property-names-removed"),
        "propertyNames",
    ):
        sub(old["propertyNames"], new["propertyNames"], "propertyNames")
    if presence(
        "contentSchema",
        _pick(side, "request-content-constraint-added", "response-content-constraint-added"),
        _pick(side, "request-content-constraint-removed", "response-content-constraint-removed"),
        "contentSchema",
    ):
        sub(old["contentSchema"], new["contentSchema"], "contentSchema")
    for keyword in ("contentEncoding", "contentMediaType"):
        if presence(
            keyword,
            _pick(side, "request-content-constraint-added", "response-content-constraint-added"),
            _pick(side, "request-content-constraint-removed", "response-content-constraint-removed"),
            keyword,
        ) and old[keyword] != new[keyword]:
            rule = _pick(side, "request-content-constraint-changed", "response-content-constraint-changed")
            note(rule, (keyword,), f"{keyword} {old[keyword]!r} -> {new[keyword]!r}")
    _schema_map(
        old,
        new,
        "patternProperties",
        _pick(side, "request-pattern-property-added", "response-pattern-property-added"),
        _pick(side, "request-pattern-property-removed", "response-pattern-property-removed"),
        note,
        sub,
    )
    _schema_map(
        old,
        new,
        "dependentSchemas",
        _pick(side, "request-dependent-schema-added", "response-dependent-schema-added"),
        _pick(side, "request-dependent-schema-removed", "response-dependent-schema-removed"),
        note,
        sub,
    )
    _prefix_items(old, new, side, note, sub)
    _dependent_required(old, new, side, note)
    _conditional(differ, old, new, side, note, sub)
    _unevaluated(old, new, side, note, sub)
    _not(differ, old, new, side, note)


def _schema_map(old: dict, new: dict, keyword: str, added: str, removed: str, note: Note, sub: Any) -> None:
    before, after = _mapping(old.get(keyword)), _mapping(new.get(keyword))
    for name in after:
        if name not in before:
            note(added, (keyword, name), f"{keyword} {name!r} added")
        else:
            sub(before[name], after[name], keyword, name)
    for name in before:
        if name not in after:
            note(removed, (keyword, name), f"{keyword} {name!r} removed")


def _prefix_items(old: dict, new: dict, side: str, note: Note, sub: Any) -> None:
    before, after = _list(old.get("prefixItems")), _list(new.get("prefixItems"))
    for index in range(max(len(before), len(after))):
        path = ("prefixItems", str(index))
        if index >= len(before):
            rule = _pick(side, "request-prefix-item-added", "response-prefix-item-added")
            note(rule, path, f"prefixItems[{index}] added")
        elif index >= len(after):
            rule = _pick(side, "request-prefix-item-removed", "response-prefix-item-removed")
            note(rule, path, f"prefixItems[{index}] removed")
        else:
            sub(before[index], after[index], *path)


def _dependent_required(old: dict, new: dict, side: str, note: Note) -> None:
    before, after = _mapping(old.get("dependentRequired")), _mapping(new.get("dependentRequired"))
    for name in {**before, **after}:
        was, now = set(map(str, _list(before.get(name)))), set(map(str, _list(after.get(name))))
        path = ("dependentRequired", name)
        if now - was:
            rule = _pick(side, "request-dependent-required-added", "response-dependent-required-added")
            note(rule, path, f"with {name!r}, now also required: {', '.join(sorted(now - was))}")
        if was - now:
            rule = _pick(side, "request-dependent-required-removed", "response-dependent-required-removed")
            note(rule, path, f"with {name!r}, no longer required: {', '.join(sorted(was - now))}")


def _conditional(differ: Differ, old: dict, new: dict, side: str, note: Note, sub: Any) -> None:
    """if/then/else: a changed `if` moves instances between the branches, so it may go either way."""
    if "if" not in old and "if" not in new:
        return
    added = _pick(side, "request-conditional-added", "response-conditional-added")
    removed = _pick(side, "request-conditional-removed", "response-conditional-removed")
    if "if" not in old or "if" not in new:
        rule, what = (added, "added") if "if" in new else (removed, "removed")
        note(rule, ("if",), f"if/then/else {what}")
        return
    if differ.fingerprint(differ.old, old["if"]) != differ.fingerprint(differ.new, new["if"]):
        rule = _pick(side, "request-conditional-changed", "response-conditional-changed")
        note(rule, ("if",), "the condition of if/then/else changed")
        return
    for branch in ("then", "else"):
        if branch in old and branch in new:
            sub(old[branch], new[branch], branch)
        elif branch in new:
            note(added, (branch,), f"{branch} branch added")
        elif branch in old:
            note(removed, (branch,), f"{branch} branch removed")


def _unevaluated(old: dict, new: dict, side: str, note: Note, sub: Any) -> None:
    """Like additionalProperties/items: absent or true lets anything through, false nothing."""
    for keyword, restricted, allowed in (
        (
            "unevaluatedProperties",
            _pick(
                side,
                "request-unevaluated-properties-restricted",
                "response-unevaluated-properties-restricted",
            ),
            _pick(side, "request-unevaluated-properties-allowed", "response-unevaluated-properties-allowed"),
        ),
        (
            "unevaluatedItems",
            _pick(side, "request-unevaluated-items-restricted", "response-unevaluated-items-restricted"),
            _pick(side, "request-unevaluated-items-allowed", "response-unevaluated-items-allowed"),
        ),
    ):
        before, after = old.get(keyword), new.get(keyword)
        if isinstance(before, dict) and isinstance(after, dict) and before and after:
            sub(before, after, keyword)
            continue
        was, now = _openness(before), _openness(after)
        if now < was:
            note(restricted, (keyword,), f"{keyword} restricted")
        elif now > was:
            note(allowed, (keyword,), f"{keyword} allowed")


def _not(differ: Differ, old: dict, new: dict, side: str, note: Note) -> None:
    if "not" not in old and "not" not in new:
        return
    if "not" not in old:
        note(_pick(side, "request-not-added", "response-not-added"), ("not",), "not added")
        return
    if "not" not in new:
        note(_pick(side, "request-not-removed", "response-not-removed"), ("not",), "not removed")
        return
    inner = differ.not_findings(old["not"], new["not"])
    if inner is None:  # `not` nested too deep through refs: only whether its shape changed
        if differ.fingerprint(differ.old, old["not"]) != differ.fingerprint(differ.new, new["not"]):
            note(_pick(side, "request-not-changed", "response-not-changed"), ("not",), "not changed")
        return
    # Compared as a request: a minor finding inside means it matches more, a major one less.
    counted = [f.rule for f in inner if f.rule not in ("docs-changed", "field-deprecated")]
    bumps = {RULES[rule].bump for rule in counted}
    if not counted:
        if inner:
            note("docs-changed", ("not",), "words inside not changed")
    elif bumps == {MINOR}:
        note(_pick(side, "request-not-widened", "response-not-widened"), ("not",), "not matches more")
    elif bumps == {MAJOR} and not any(rule.endswith("-changed") for rule in counted):
        note(_pick(side, "request-not-narrowed", "response-not-narrowed"), ("not",), "not matches less")
    else:
        note(_pick(side, "request-not-changed", "response-not-changed"), ("not",), "not changed")


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _openness(value: Any) -> int:
    """2: anything goes (absent, true, {}); 1: a schema; 0: closed (false)."""
    if value is None or value is True or value == {}:
        return 2
    if value is False:
        return 0
    return 1

