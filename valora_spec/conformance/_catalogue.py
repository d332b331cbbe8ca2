"""The contract the harness holds a target to: spec versions, requirements, digests."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from valora_spec._paths import SPEC_DIR

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ten times faster on the spec
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_WORDING = ("description", "summary")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def released_versions(spec_dir: Path = SPEC_DIR) -> list[str]:
    """Every spec folder, patches included: each has a profile and is evaluated."""
    found = [p.parent.name for p in spec_dir.glob("*/openapi.yaml")]
    return sorted((v for v in found if v.count(".") == 2), key=version_key)


def minor_line(version: str) -> tuple[int, ...]:
    """`"1.2.1"` -> `(1, 2)`: a PATCH release only clarifies the text of its minor line."""
    return version_key(version)[:2]


def judged_version(declared: str | None, known: list[str]) -> str:
    """The version to judge a target declaring `declared` against.

    A known version is judged as itself. An unknown patch of a known minor line (a server
    declaring 1.2.7 to a harness that knows 1.2.1) is judged against the newest patch of that
    line; anything else against the newest version this harness knows.
    """
    if declared in known:
        return declared
    try:
        line = minor_line(declared) if isinstance(declared, str) else None
    except ValueError:
        line = None
    same_line = [v for v in known if minor_line(v) == line]
    return (same_line or known)[-1]


def _deref(node: Any, root: dict, seen: tuple[str, ...] = ()) -> Any:
    """Inline local $refs so two versions' operations compare by what they accept."""
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith("#/") and target not in seen:
            resolved: Any = root
            for part in target[2:].split("/"):
                resolved = resolved[part]
            return _deref(resolved, root, (*seen, target))
        # Wording (descriptions, summaries, examples) does not change what an operation accepts:
        # a PATCH release that only sharpens the text leaves its operations "defined the same way".
        return {k: _deref(v, root, seen) for k, v in node.items()
                if k not in ("example", "examples") and not (k in _WORDING and isinstance(v, str))}
    if isinstance(node, list):
        return [_deref(v, root, seen) for v in node]
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
    def load(cls, spec_dir: Path = SPEC_DIR) -> Catalogue:
        versions = released_versions(spec_dir)
        documents, files = {}, {}
        for version in versions:
            path = spec_dir / version / "openapi.yaml"
            data = path.read_bytes()
            documents[version] = yaml.load(data, Loader=_Loader)
            files[str(path.relative_to(spec_dir.parent))] = hashlib.sha256(data).hexdigest()
        req_path = spec_dir / "requirements.yaml"
        raw = yaml.load(req_path.read_bytes(), Loader=_Loader)
        files[str(req_path.relative_to(spec_dir.parent))] = hashlib.sha256(
            req_path.read_bytes()
        ).hexdigest()
        return cls(versions, documents, raw["requirements"], raw, files)

    @cached_property
    def by_id(self) -> dict[str, dict]:
        return {r["id"]: r for r in self.requirements}

    def applies(self, requirement: str, version: str) -> bool:
        req = self.by_id[requirement]
        if version_key(req["since"]) > version_key(version):
            return False
        retired = req.get("retired")
        return not (retired and version_key(retired) <= version_key(version))

    def operations(self, version: str) -> list[Operation]:
        ops = []
        for path, item in self.documents[version]["paths"].items():
            for method, op in item.items():
                if method in METHODS:
                    ops.append(Operation(op["operationId"], method, path))
        return ops

    def operation(self, version: str, operation_id: str) -> Operation | None:
        return next((o for o in self.operations(version) if o.operation_id == operation_id), None)

    def _resolved(self, version: str, operation_id: str) -> str | None:
        doc = self.documents[version]
        op = self.operation(version, operation_id)
        if op is None:
            return None
        return json.dumps(_deref(doc["paths"][op.path][op.method], doc), sort_keys=True)

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
        for older in reversed([v for v in self.versions if version_key(v) < version_key(version)]):
            if self._resolved(older, operation_id) != current:
                break
            since = older
        return since
