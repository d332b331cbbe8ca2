"""Component schema renames: same shape, new name, which breaks generated SDK types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._fingerprint import Fingerprints
from ._model import Location
from ._resolve import Resolver, join, pointer

_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def renamed_schemas(old: Resolver, new: Resolver, prints: Fingerprints) -> list[tuple[str, str]]:
    """(old name, new name) for schemas that vanished while one of the same shape appeared.

    A schema that merely vanished or appeared is an inline schema moving in or out of
    components, which is no change: only a vanish-and-appear pair is a rename.
    """
    before, after = _schemas(old), _schemas(new)
    gone = [name for name in before if name not in after]
    fresh = [name for name in after if name not in before]
    if not gone or not fresh:
        return []
    by_shape: dict[str, list[str]] = {}
    for name in fresh:
        by_shape.setdefault(prints.of(new, _ref(name)), []).append(name)
    renames = []
    for name in gone:
        candidates = by_shape.get(prints.of(old, _ref(name)))
        if candidates:
            renames.append((name, candidates.pop(0)))
    return renames


def usages(resolver: Resolver, ref: str) -> Iterator[tuple[Location, str | None]]:
    """Every place that refers to `ref`, with the side of the operation it sits in."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(resolver.document, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if node.get("$ref") == ref:
                yield _location(path)
            stack.extend((value, (*path, str(key))) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, (*path, str(index))) for index, value in enumerate(node))


def _location(path: tuple[str, ...]) -> tuple[Location, str | None]:
    where = join("#", path)
    if len(path) >= 3 and path[0] == "paths" and path[2] in _METHODS:
        side = "response" if "responses" in path else "request"
        return Location(f"{path[2].upper()} {path[1]}", where), side
    return Location("", where), None


def _schemas(resolver: Resolver) -> dict[str, Any]:
    components = resolver.document.get("components") or {}
    schemas = components.get("schemas") if isinstance(components, dict) else None
    return schemas if isinstance(schemas, dict) else {}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": pointer("components", "schemas", name)}
