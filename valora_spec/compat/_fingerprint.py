"""What a schema accepts, as a comparable string: refs resolved, words dropped.

Used to match oneOf/anyOf branches and to spot renamed components. Inlining every
$ref as a tree is exponential on real specs (Stripe's `anyOf: [string, $ref]`), so
each `$ref` target of both documents is one node of a graph instead: its label is
its content with inner `$ref`s as numbered holes, its children the refs filling
them. Partition refinement (Moore) over the two graphs together puts two refs in
one class exactly when their full inlined trees are equal, recursive ones
included, so the same shape under two names, in either document, gets one class.
A fingerprint is a schema's content with each inner `$ref` replaced by its class.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ._errors import SpecError
from ._resolve import Resolver, ref_of

DOC_KEYWORDS = frozenset(
    {"description", "summary", "title", "example", "examples", "externalDocs", "$comment"}
)
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs"})
SCHEMA_LISTS = frozenset({"allOf", "oneOf", "anyOf", "prefixItems"})
SCHEMA_VALUES = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "contains",
        "if",
        "then",
        "else",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contentSchema",
    }
)
_HOLE = "$hole"
_HOLES = re.compile(r'"\$hole":(\d+)')
_Node = tuple[int, str]  # (document index: 0 old, 1 new; $ref)


def canon(schema: Any, holes: list[str]) -> Any:
    """`schema` without words, each `$ref` replaced by a numbered hole appended to `holes`.

    Keys are visited sorted, so two spellings of one schema number their holes alike.
    """
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key in sorted(schema, key=str):
        value = schema[key]
        if key in DOC_KEYWORDS:
            continue
        if key == "$ref" and isinstance(value, str):
            out[_HOLE] = len(holes)
            holes.append(value)
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {str(name): canon(value[name], holes) for name in sorted(value, key=str)}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [canon(sub, holes) for sub in value]
        elif key in SCHEMA_VALUES:
            out[key] = canon(value, holes)
        else:
            out[str(key)] = value
    return out


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class Fingerprints:
    """Fingerprints for schemas of two documents, comparable across the two."""

    def __init__(self, old: Resolver, new: Resolver) -> None:
        self._resolvers = (old, new)
        self._classes: dict[_Node, int] | None = None
        self._labels: dict[_Node, tuple[Any, list[str]]] = {}
        self._prints: dict[_Node, str] = {}

    def of(self, resolver: Resolver, schema: Any) -> str:
        doc = self._doc(resolver)
        ref = ref_of(schema)
        if ref is not None and all(key == "$ref" or key in DOC_KEYWORDS for key in schema):
            node = self._alias((doc, ref))
            found = self._prints.get(node)
            if found is None:
                label, holes = self._label(node)
                found = self._prints[node] = self._fill(doc, label, holes)
            return found
        holes: list[str] = []
        return self._fill(doc, canon(schema, holes), holes)

    def _doc(self, resolver: Resolver) -> int:
        for index, known in enumerate(self._resolvers):
            if known is resolver:
                return index
        raise ValueError("resolver of neither document")

    def _fill(self, doc: int, label: Any, holes: list[str]) -> str:
        classes = self._refine()
        filled = [classes[self._alias((doc, ref))] for ref in holes]
        return _HOLES.sub(lambda hole: f'"$class":{filled[int(hole[1])]}', _dump(label))

    def _label(self, node: _Node) -> tuple[Any, list[str]]:
        found = self._labels.get(node)
        if found is None:
            holes: list[str] = []
            try:
                target = self._resolvers[node[0]].target(node[1])
                label = canon(target, holes)
            except SpecError:
                label = {"$unresolved": node[1]}
            found = self._labels[node] = (label, holes)
        return found

    def _alias(self, node: _Node) -> _Node:
        """A target that is itself just a `$ref` has the class of what it points to."""
        seen = {node}
        while True:
            label, holes = self._label(node)
            if label != {_HOLE: 0}:
                return node
            nxt = (node[0], holes[0])
            if nxt in seen:
                return node  # a loop of bare refs: its own class
            seen.add(nxt)
            node = nxt

    def _refine(self) -> dict[_Node, int]:
        if self._classes is not None:
            return self._classes
        nodes = list(self._all_nodes())
        index = {node: i for i, node in enumerate(nodes)}
        children = [
            [index[self._alias((node[0], ref))] for ref in self._label(node)[1]] for node in nodes
        ]
        classes = _intern(_dump(self._label(node)[0]) for node in nodes)
        count = len(set(classes))
        while True:
            # Refining by the children's classes only ever splits classes; stop when none split.
            refined = _intern(
                (classes[i], tuple(classes[c] for c in kids)) for i, kids in enumerate(children)
            )
            refined_count = len(set(refined))
            if refined_count == count:
                break
            classes, count = refined, refined_count
        self._classes = {node: classes[i] for i, node in enumerate(nodes)}
        return self._classes

    def _all_nodes(self) -> Iterator[_Node]:
        """Every `$ref` in both documents, and every ref their targets reach."""
        seen: set[_Node] = set()
        stack: list[_Node] = []
        for doc, resolver in enumerate(self._resolvers):
            stack.extend((doc, ref) for ref in _refs(resolver.document))
        while stack:
            node = self._alias(stack.pop())
            if node in seen:
                continue
            seen.add(node)
            yield node
            stack.extend((node[0], ref) for ref in self._label(node)[1])


def _intern(keys: Iterator[Any]) -> list[int]:
    ids: dict[Any, int] = {}
    return [ids.setdefault(key, len(ids)) for key in keys]


def _refs(document: Any) -> Iterator[str]:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(value for value in node.values() if isinstance(value, dict | list))
        elif isinstance(node, list):
            stack.extend(value for value in node if isinstance(value, dict | list))
