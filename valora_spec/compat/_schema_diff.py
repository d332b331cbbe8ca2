"""Compare what two JSON Schemas accept, for one side of the wire.

Findings carry a path relative to the schema compared and, once the comparison
has gone through the same `$ref` on both sides, an anchor: the pointer of the
root cause inside that shared component. Callers group findings by anchor, which
is how one changed component used by many operations becomes one change.

Each pair of `$ref`s (per side) is compared once, into its own findings plus
links to the pairs of `$ref`s inside it; `walk` follows the links. So the work is
linear in the documents' size however often, and however recursively, a
component is used, and a cycle is just a link back to a pair already seen.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple

from ._fingerprint import DOC_KEYWORDS, Fingerprints
from ._keywords import compare_keywords
from ._resolve import Resolver, join, ref_of

REQUEST = "request"
RESPONSE = "response"

# A higher lower bound or a lower upper bound accepts less.
LOWER_BOUNDS = (
    "minLength",
    "minItems",
    "minProperties",
    "minContains",
    "minimum",
    "exclusiveMinimum",
)
UPPER_BOUNDS = (
    "maxLength",
    "maxItems",
    "maxProperties",
    "maxContains",
    "maximum",
    "exclusiveMaximum",
)
UNIONS = ("oneOf", "anyOf")
NULL = frozenset({"null"})
DOC_ORDER = tuple(sorted(DOC_KEYWORDS))  # a stable order for stable output
NOT_DEPTH = 8  # `not` inside `not` inside ... (through refs): deeper, only shapes are compared

# (old $ref, new $ref, side, old siblings, new siblings): siblings next to a 3.1 $ref
# override its target, so two uses with different siblings are different comparisons.
Pair = tuple[str, str, str, str, str]


class Finding(NamedTuple):
    rule: str
    path: tuple[str, ...]  # relative to the schema compared
    anchor: str | None  # root cause inside a component shared by both versions
    message: str


class Link(NamedTuple):
    """The comparison goes on in a pair of `$ref`s, at `path`."""

    path: tuple[str, ...]
    pair: Pair


Item = Finding | Link


def under(found: list[Item], *segments: str) -> list[Item]:
    return [f._replace(path=(*segments, *f.path)) for f in found]


class SchemaDiffer:
    def __init__(
        self, old: Resolver, new: Resolver, prints: Fingerprints | None = None, depth: int = 0
    ) -> None:
        self._old = self.old = old
        self._new = self.new = new
        self._prints = prints or Fingerprints(old, new)
        self._depth = depth  # how many `not`s this comparison is inside
        self._nodes: dict[Pair, tuple[dict, dict]] = {}
        self._pairs: dict[Pair, list[Item]] = {}
        self._parents: dict[Pair, list[Pair]] = {}
        self._dirty: set[Pair] = set()  # pairs with a finding in or below them
        self._ref_free: dict[int, bool] = {}  # by id(): the documents outlive the differ

    def diff(self, old: Any, new: Any, side: str) -> list[Item]:
        if old == new and self._no_ref(old) and self._no_ref(new):
            return []  # equal and self-contained: nothing to find, and most of a real spec
        old_ref, new_ref = ref_of(old), ref_of(new)
        if old_ref is None or new_ref is None:
            # At most one side is a $ref: an inline schema moved into a component (or
            # back) is compared by content, so the move itself is not a change.
            return self._diff_resolved(self._old.deref(old)[0], self._new.deref(new)[0], side)
        pair = (old_ref, new_ref, side, _siblings(old), _siblings(new))
        self._nodes.setdefault(pair, (old, new))
        return [Link((), pair)]

    def fingerprint(self, resolver: Resolver, schema: Any) -> str:
        return self._prints.of(resolver, schema)

    def not_findings(self, old: Any, new: Any) -> list[Finding] | None:
        """What changed inside a `not`, judged as a request (by what it matches).

        A differ of its own: its findings are summed up as one, never walked into.
        """
        if self._depth >= NOT_DEPTH:
            return None
        inner = SchemaDiffer(self._old, self._new, self._prints, self._depth + 1)
        return [finding for finding, _ in inner.walk(inner.diff(old, new, REQUEST))]

    def _no_ref(self, node: Any) -> bool:
        if not isinstance(node, dict | list):
            return True
        known = self._ref_free.get(id(node))
        if known is None:
            values = node.values() if isinstance(node, dict) else node
            known = "$ref" not in node if isinstance(node, dict) else True
            known = self._ref_free[id(node)] = known and all(self._no_ref(value) for value in values)
        return known

    def walk(self, found: list[Item]) -> Iterator[tuple[Finding, tuple[str, ...]]]:
        """Every finding reachable from `found`, with its path from there (the shortest)."""
        self._discover(found)
        queue: deque[tuple[tuple[str, ...], list[Item]]] = deque([((), found)])
        seen: set[Pair] = set()
        while queue:
            prefix, items = queue.popleft()
            for item in items:
                if isinstance(item, Finding):
                    yield item, (*prefix, *item.path)
                elif item.pair in self._dirty and item.pair not in seen:
                    seen.add(item.pair)
                    queue.append(((*prefix, *item.path), self._pairs[item.pair]))

    def _discover(self, found: list[Item]) -> None:
        """Compare every pair reachable from `found` not compared yet; mark the dirty ones."""
        stack = [item.pair for item in found if isinstance(item, Link)]
        fresh: list[Pair] = []
        while stack:
            pair = stack.pop()
            if pair in self._pairs:
                continue
            items = self._pairs[pair] = self._compare_pair(pair)
            fresh.append(pair)
            for item in items:
                if isinstance(item, Link):
                    self._parents.setdefault(item.pair, []).append(pair)
                    stack.append(item.pair)
        # Pairs compared before are complete, so their dirtiness is final.
        marks = [
            pair
            for pair in fresh
            if any(isinstance(item, Finding) or item.pair in self._dirty for item in self._pairs[pair])
        ]
        while marks:
            pair = marks.pop()
            if pair not in self._dirty:
                self._dirty.add(pair)
                marks.extend(self._parents.get(pair, ()))

    def _compare_pair(self, pair: Pair) -> list[Item]:
        old, new = self._nodes[pair]
        new_schema, anchor = self._new.deref(new)
        found = self._diff_resolved(self._old.deref(old)[0], new_schema, pair[2])
        return [
            f if isinstance(f, Link) or f.anchor else f._replace(anchor=join(str(anchor), f.path))
            for f in found
        ]

    def _diff_resolved(self, old: Any, new: Any, side: str) -> list[Item]:
        old = self._flatten(self._old, _as_schema(old), frozenset())
        new = self._flatten(self._new, _as_schema(new), frozenset())
        found: list[Item] = []
        _docs(old, new, found)
        if not old.get("deprecated") and new.get("deprecated") is True:
            _note(found, "field-deprecated", ("deprecated",), "marked deprecated")
        if _has_union(old) != _has_union(new):
            # A plain schema became a oneOf/anyOf (or back): compare it as one branch.
            self._unions(old, new, side, found)
            return found
        if _types(old, new, side, found):
            return found  # nothing in common: the keyword-by-keyword comparison is noise
        _enum(old, new, side, found)
        _constraints(old, new, side, found)
        _discriminator(old, new, found)
        _default(old, new, side, found)
        self._properties(old, new, side, found)
        self._additional_properties(old, new, side, found)
        self._items(old, new, side, found)
        self._unions(old, new, side, found)
        compare_keywords(self, old, new, side, lambda rule, at, text: _note(found, rule, at, text), found)
        return found

    def _flatten(self, resolver: Resolver, schema: dict[str, Any], seen: frozenset[str]) -> dict:
        """Merge allOf parts into one schema, so splitting a schema into parts is no change."""
        parts = schema.get("allOf")
        if not isinstance(parts, list):
            return schema
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        properties = dict(merged.get("properties") or {})
        required = list(merged.get("required") or [])
        for part in parts:
            resolved, ref = resolver.deref(part)
            if ref in seen:
                continue
            resolved = self._flatten(resolver, _as_schema(resolved), seen | {ref} if ref else seen)
            for key, value in resolved.items():
                if key == "properties" and isinstance(value, dict):
                    for name, sub in value.items():
                        properties.setdefault(name, sub)
                elif key == "required" and isinstance(value, list):
                    required.extend(name for name in value if name not in required)
                else:
                    merged.setdefault(key, value)
        if properties:
            merged["properties"] = properties
        if required:
            merged["required"] = required
        return merged

    def _properties(self, old: dict, new: dict, side: str, found: list[Item]) -> None:
        old_props, new_props = _properties_of(old), _properties_of(new)
        if not old_props and not new_props:
            return
        old_required, new_required = _required(old), _required(new)
        # readOnly properties never travel in requests, writeOnly never in responses.
        hidden = "readOnly" if side == REQUEST else "writeOnly"
        for name in {**old_props, **new_props}:
            before = old_props.get(name)
            after = new_props.get(name)
            if before is not None and _flag(self._old, before, hidden):
                before = None
            if after is not None and _flag(self._new, after, hidden):
                after = None
            path = ("properties", name)
            if before is None and after is None:
                continue
            if before is None:
                if side == RESPONSE:
                    rule = "response-property-added"
                elif name in new_required:
                    rule = "request-property-added-required"
                else:
                    rule = "request-property-added-optional"
                _note(found, rule, path, f"property {name!r} added")
                continue
            if after is None:
                _note(found, f"{side}-property-removed", path, f"property {name!r} removed")
                continue
            was, now = name in old_required, name in new_required
            if was != now:
                state = "required" if now else "optional"
                _note(
                    found,
                    f"{side}-property-became-{state}",
                    path,
                    f"property {name!r} became {state}",
                )
            found.extend(under(self.diff(before, after, side), *path))

    def _additional_properties(self, old: dict, new: dict, side: str, found: list[Item]) -> None:
        before, after = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(before, dict) and isinstance(after, dict) and before and after:
            found.extend(under(self.diff(before, after, side), "additionalProperties"))
            return
        was, now = _openness(before), _openness(after)
        if was == now:
            return
        path = ("additionalProperties",)
        if now < was:
            _note(found, f"{side}-constraint-tightened", path, "additional properties restricted")
        elif side == RESPONSE:
            _note(
                found,
                "response-additional-properties-allowed",
                path,
                "additional properties allowed",
            )
        else:
            _note(found, "request-constraint-loosened", path, "additional properties allowed")

    def _items(self, old: dict, new: dict, side: str, found: list[Item]) -> None:
        before, after = old.get("items"), new.get("items")
        if before is None and after is None:
            return
        if before is None:
            _note(found, f"{side}-constraint-tightened", ("items",), "items schema added")
        elif after is None:
            _note(found, f"{side}-constraint-loosened", ("items",), "items schema removed")
        else:
            found.extend(under(self.diff(before, after, side), "items"))

    def _unions(self, old: dict, new: dict, side: str, found: list[Item]) -> None:
        for keyword in UNIONS:
            if keyword not in old and keyword not in new:
                continue
            before, after = _branches(old, keyword), _branches(new, keyword)
            pairs, added, removed = self._match_branches(before, after)
            for i, j in pairs:
                found.extend(under(self.diff(before[i], after[j], side), keyword, str(j)))
            for j in added:
                message = f"{keyword} branch {_describe(after[j])} added"
                _note(found, f"{side}-union-branch-added", (keyword, str(j)), message)
            for i in removed:
                message = f"{keyword} branch {_describe(before[i])} removed"
                _note(found, f"{side}-union-branch-removed", (keyword, str(i)), message)

    def _match_branches(
        self, before: list[Any], after: list[Any]
    ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
        """Pair branches: same shape first, then same $ref name, then by order."""
        old_left, new_left = list(range(len(before))), list(range(len(after)))
        pairs: list[tuple[int, int]] = []

        def take(same: Any) -> None:
            for i in list(old_left):
                for j in new_left:
                    if same(i, j):
                        pairs.append((i, j))
                        old_left.remove(i)
                        new_left.remove(j)
                        break

        old_prints = [self._prints.of(self._old, branch) for branch in before]
        new_prints = [self._prints.of(self._new, branch) for branch in after]
        take(lambda i, j: old_prints[i] == new_prints[j])
        take(lambda i, j: _ref_name(before[i]) is not None and _ref_name(before[i]) == _ref_name(after[j]))
        if len(old_left) == len(new_left):
            pairs.extend(zip(old_left, new_left, strict=True))
            old_left, new_left = [], []
        return pairs, new_left, old_left


def _siblings(node: dict) -> str:
    return _canonical({k: v for k, v in node.items() if k != "$ref"}) if len(node) > 1 else ""


def _note(found: list[Item], rule: str, path: tuple[str, ...], message: str) -> None:
    found.append(Finding(rule, path, None, message))


def _as_schema(node: Any) -> dict[str, Any]:
    if node is False:
        return {"not": {}}
    return node if isinstance(node, dict) else {}


def _docs(old: dict, new: dict, found: list[Item]) -> None:
    for key in DOC_ORDER:
        if old.get(key) != new.get(key):
            _note(found, "docs-changed", (key,), f"{key} changed")


def _type_set(schema: dict) -> frozenset[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    types = {declared} if isinstance(declared, str) else set(declared)
    if schema.get("nullable") is True:  # OpenAPI 3.0 spelling, still seen in 3.1 documents
        types.add("null")
    if "number" in types:
        types.add("integer")
    return frozenset(types)


def _show(types: frozenset[str]) -> str:
    shown = sorted(types - {"integer"} if "number" in types else types)
    return "|".join(shown) or "nothing"


def _types(old: dict, new: dict, side: str, found: list[Item]) -> bool:
    """Compare `type`; True when old and new accept no type in common."""
    before, after = _type_set(old), _type_set(new)
    if before == after:
        return False
    path = ("type",)
    if before is None or after is None:
        rule = "narrowed" if before is None else "widened"
        shown = "any" if before is None else _show(before)
        now = "any" if after is None else _show(after)
        _note(found, f"{side}-type-{rule}", path, f"type {shown} -> {now}")
        return False
    was, now = before - NULL, after - NULL
    if was != now:
        if was < now:
            rule = "widened"
        elif now < was:
            rule = "narrowed"
        else:
            rule = "changed"
        message = f"type {_show(before)} -> {_show(after)}"
        _note(found, f"{side}-type-{rule}", path, message)
        if not was & now:
            return True
    if "null" in after and "null" not in before:
        _note(found, f"{side}-nullable-added", path, "null now allowed")
    elif "null" in before and "null" not in after:
        _note(found, f"{side}-nullable-removed", path, "null no longer allowed")
    return False


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _enum_of(schema: dict) -> tuple[str, dict[str, Any], bool] | None:
    """(keyword, values by canonical form, open?) for enum, const or x-extensible-enum."""
    for keyword, is_open in (("enum", False), ("const", False), ("x-extensible-enum", True)):
        if keyword in schema:
            raw = [schema[keyword]] if keyword == "const" else schema[keyword]
            if not isinstance(raw, list):
                continue
            # null is nullability's business, not the enum's.
            return keyword, {_canonical(v): v for v in raw if v is not None}, is_open
    return None


def _values(values: list[Any]) -> str:
    return ", ".join(json.dumps(v, default=str) for v in values)


def _enum(old: dict, new: dict, side: str, found: list[Item]) -> None:
    before, after = _enum_of(old), _enum_of(new)
    if before is None and after is None:
        return
    if before is None:
        assert after is not None
        _note(found, f"{side}-constraint-tightened", (after[0],), f"{after[0]} introduced")
        return
    if after is None:
        _note(found, f"{side}-constraint-loosened", (before[0],), f"{before[0]} removed")
        return
    keyword, new_values, new_open = after
    _, old_values, old_open = before
    path = (keyword,)
    added = [v for k, v in new_values.items() if k not in old_values]
    removed = [v for k, v in old_values.items() if k not in new_values]
    if side == RESPONSE and not old_open and new_open:
        _note(found, "response-enum-made-extensible", path, "enum became x-extensible-enum")
    elif side == RESPONSE and old_open and not new_open:
        _note(found, "response-constraint-tightened", path, "x-extensible-enum closed")
    if added:
        rule = f"{side}-enum-value-added"
        if side == RESPONSE and new_open:
            rule = "response-extensible-enum-value-added"
        _note(found, rule, path, f"value(s) {_values(added)} added")
    if removed:
        _note(found, f"{side}-enum-value-removed", path, f"value(s) {_values(removed)} removed")


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # booleans are OpenAPI 3.0 exclusiveMinimum flags, not bounds
    return value


def _constraints(old: dict, new: dict, side: str, found: list[Item]) -> None:
    def add(kind: str, keyword: str, message: str) -> None:
        _note(found, f"{side}-constraint-{kind}", (keyword,), message)

    for keyword in (*LOWER_BOUNDS, *UPPER_BOUNDS):
        was, now = _number(old.get(keyword)), _number(new.get(keyword))
        if was == now:
            continue
        if was is None:
            add("tightened", keyword, f"{keyword} {now} added")
        elif now is None:
            add("loosened", keyword, f"{keyword} {was} removed")
        else:
            higher_is_tighter = keyword in LOWER_BOUNDS
            kind = "tightened" if (now > was) == higher_is_tighter else "loosened"
            add(kind, keyword, f"{keyword} {was} -> {now}")

    was, now = _number(old.get("multipleOf")), _number(new.get("multipleOf"))
    if was != now:
        if was is None:
            add("tightened", "multipleOf", f"multipleOf {now} added")
        elif now is None:
            add("loosened", "multipleOf", f"multipleOf {was} removed")
        elif _divides(was, now):
            add("tightened", "multipleOf", f"multipleOf {was} -> {now}")
        elif _divides(now, was):
            add("loosened", "multipleOf", f"multipleOf {was} -> {now}")
        else:
            add("changed", "multipleOf", f"multipleOf {was} -> {now}")

    if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
        kind = "tightened" if new.get("uniqueItems") else "loosened"
        add(kind, "uniqueItems", f"uniqueItems {kind}")

    for keyword in ("pattern", "format"):
        was, now = old.get(keyword), new.get(keyword)
        if keyword == "pattern":
            # An empty pattern matches every string: it is no pattern at all.
            was, now = was or None, now or None
        if was == now:
            continue
        if was is None:
            add("tightened", keyword, f"{keyword} {now!r} added")
        elif now is None:
            add("loosened", keyword, f"{keyword} {was!r} removed")
        else:
            add("changed", keyword, f"{keyword} {was!r} -> {now!r}")


def _discriminator(old: dict, new: dict, found: list[Item]) -> None:
    """SDKs pick the type to deserialise into by the discriminator: a new way to read the same data."""
    was, now = old.get("discriminator"), new.get("discriminator")
    if was == now:
        return
    if was is None:
        _note(found, "discriminator-added", ("discriminator",), "discriminator added")
    elif now is None:
        _note(found, "discriminator-removed", ("discriminator",), "discriminator removed")
    else:
        _note(found, "discriminator-changed", ("discriminator",), "discriminator changed")


def _divides(small: float, big: float) -> bool:
    if small == 0:
        return False
    ratio = big / small
    return abs(ratio - round(ratio)) < 1e-9


def _default(old: dict, new: dict, side: str, found: list[Item]) -> None:
    if "default" not in old and "default" not in new:
        return
    if "default" not in old:
        _note(found, f"{side}-default-added", ("default",), "default added")
    elif "default" not in new:
        _note(found, f"{side}-default-changed", ("default",), "default removed")
    elif _canonical(old["default"]) != _canonical(new["default"]):
        message = f"default {_values([old['default']])} -> {_values([new['default']])}"
        _note(found, f"{side}-default-changed", ("default",), message)


def _properties_of(schema: dict) -> dict[str, Any]:
    properties = schema.get("properties")
    found = dict(properties) if isinstance(properties, dict) else {}
    for name in _required(schema):
        found.setdefault(name, {})  # required but undeclared: present, with any value
    return found


def _required(schema: dict) -> set[str]:
    required = schema.get("required")
    return {str(name) for name in required} if isinstance(required, list) else set()


def _flag(resolver: Resolver, schema: Any, flag: str) -> bool:
    resolved, _ = resolver.deref(schema)
    return isinstance(resolved, dict) and resolved.get(flag) is True


def _openness(value: Any) -> int:
    """2: anything goes (absent, true, {}); 1: a schema; 0: closed (false)."""
    if value is None or value is True or value == {}:
        return 2
    if value is False:
        return 0
    return 1


def _has_union(schema: dict) -> bool:
    return any(keyword in schema for keyword in UNIONS)


def _branches(schema: dict, keyword: str) -> list[Any]:
    if keyword in schema:
        branches = schema[keyword]
        return list(branches) if isinstance(branches, list) else []
    if _has_union(schema):
        return []  # it has the other union keyword: that one is compared on its own
    rest = {k: v for k, v in schema.items() if k not in DOC_KEYWORDS}
    return [rest] if rest else []


def _ref_name(node: Any) -> str | None:
    ref = ref_of(node)
    return ref.rsplit("/", 1)[-1] if ref else None


def _describe(node: Any) -> str:
    name = _ref_name(node)
    if name:
        return repr(name)
    if isinstance(node, dict) and "type" in node:
        return f"of type {node['type']}"
    return "(inline schema)"
