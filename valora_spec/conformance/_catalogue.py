"""The contract the harness holds a target to: spec versions, requirements, digests."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from valora_spec import _spec, _versions

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_WORDING = ("description", "summary")


def _inline(node: Any, root: dict, seen: tuple[str, ...] = ()) -> Any:
    """Inline local $refs so two versions' operations compare by what they accept."""
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith("#/") and target not in seen:
            return _inline(_spec.resolve(root, target), root, (*seen, target))
        # Wording (descriptions, summaries, examples) does not change what an operation accepts:
        # a PATCH release that only sharpens the text leaves its operations "defined the same way".
        return {k: _inline(v, root, seen) for k, v in node.items()
                if k not in ("example", "examples") and not (k in _WORDING and isinstance(v, str))}
    if isinstance(node, list):
        return [_inline(v, root, seen) for v in node]
    return node


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str  # as in the spec, relative to the /v1 server

    @property
    def label(self) -> str:
        return f"{self.method.upper()} /v1{self.path}"

    @property
    def writes(self) -> bool:
        return self.method in ("post", "put", "patch", "delete")


@dataclass(eq=False)
class Catalogue:
    versions: list[str]
    documents: dict[str, dict]
    requirements: list[dict]
    raw_requirements: dict
    files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path | None = None) -> Catalogue:
        """Every released version (patches included: each has a profile and is evaluated)."""
        root = root or _spec.repo_root()
        versions = _spec.released_versions(root)
        documents, files = {}, {}
        for version in versions:
            path = _spec.spec_path(version, root)
            documents[version], files[path.relative_to(root).as_posix()] = _spec.read_yaml(path)
        req_path = _spec.requirements_path(root)
        raw, files[req_path.relative_to(root).as_posix()] = _spec.read_yaml(req_path)
        return cls(versions, documents, raw["requirements"], raw, files)

    @cached_property
    def by_id(self) -> dict[str, dict]:
        return {r["id"]: r for r in self.requirements}

    def applies(self, requirement: str, version: str) -> bool:
        return _versions.applies(self.by_id[requirement], version)

    def operations(self, version: str) -> list[Operation]:
        ops = []
        for path, item in self.documents[version]["paths"].items():
            for method, op in item.items():
                if method in METHODS:
                    ops.append(Operation(op["operationId"], method, path))
        return ops

    def operation(self, version: str, operation_id: str) -> Operation | None:
        return next((o for o in self.operations(version) if o.operation_id == operation_id), None)

    def query_parameter(self, version: str, path: str, name: str) -> dict | None:
        """Query parameter `name` of the GET operation at `path` (e.g. "/invoices"), if any."""
        operation = self.documents[version]["paths"].get(path, {}).get("get", {})
        return next((p for p in operation.get("parameters", []) if p.get("name") == name), None)

    def _resolved(self, version: str, operation_id: str) -> str | None:
        doc = self.documents[version]
        op = self.operation(version, operation_id)
        if op is None:
            return None
        return json.dumps(_inline(doc["paths"][op.path][op.method], doc), sort_keys=True)

    def introduced(self, operation_id: str) -> str:
        """The first version that has the operation: its failures count from there on."""
        return next((v for v in self.versions if self.operation(v, operation_id)), self.versions[-1])

    @functools.cache  # noqa: B019 - one catalogue per run; the cache lives as long as it does
    def stable_since(self, operation_id: str, version: str) -> str:
        """Oldest version from which the operation is defined as in `version`.

        A fuzzing failure found with `version`'s definition is charged to the versions that
        define the operation the same way, and no older ones.
        """
        current = self._resolved(version, operation_id)
        since = version
        for older in reversed([v for v in self.versions if not _versions.at_least(v, version)]):
            if self._resolved(older, operation_id) != current:
                break
            since = older
        return since
