"""Local `$ref`s of one document, resolved by `valora_spec._spec` and cached; JSON pointers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from valora_spec._spec import escape, pointer, resolve

from ._errors import SpecError

__all__ = ["Resolver", "escape", "join", "pointer", "ref_of"]


def join(base: str, segments: Iterable[object]) -> str:
    tail = "/".join(escape(segment) for segment in segments)
    return f"{base}/{tail}" if tail else base


def ref_of(node: Any) -> str | None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return ref
    return None


class Resolver:
    """Resolves `#/...` references inside one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._targets: dict[str, Any] = {}

    def target(self, ref: str) -> Any:
        found = self._targets.get(ref)
        if found is None:
            found = self._targets[ref] = self._lookup(ref)
        return found

    def deref(self, node: Any) -> tuple[Any, str | None]:
        """Follow a chain of `$ref`s; returns the target and the last ref followed.

        OpenAPI 3.1 allows siblings next to `$ref` (summary, description): they
        override the target's, so they are merged on top.
        """
        last: str | None = None
        seen: set[str] = set()
        while (ref := ref_of(node)) is not None:
            if ref in seen:
                raise SpecError(f"$ref loop through {ref}")
            seen.add(ref)
            target = self.target(ref)
            if len(node) > 1 and isinstance(target, dict):
                target = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            node, last = target, ref
        return node, last

    def _lookup(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise SpecError(f"only local $refs are supported, got {ref!r}")
        try:
            return resolve(self.document, ref)
        except LookupError:
            raise SpecError(f"unresolvable $ref {ref!r}") from None
