"""check-releases: every released version must bump at least as much as its changes demand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from valora_spec import _spec, _versions

from ._compare import compare
from ._load import load_spec
from ._model import Bump, CompatResult
from ._policy import Policy


@dataclass(frozen=True)
class PairVerdict:
    old: str
    new: str
    declared: Bump
    result: CompatResult

    @property
    def ok(self) -> bool:
        return self.declared >= self.result.required_bump


def released_versions(spec_dir: Path) -> list[tuple[str, Path]]:
    """(version, its openapi.yaml) of every X.Y.Z folder holding one, oldest first."""
    return [(version, spec_dir / version / _spec.SPEC_FILE) for version in _spec.versions_in(spec_dir)]


def declared_bump(old: str, new: str) -> Bump:
    if _versions.major(new) != _versions.major(old):
        return Bump.MAJOR
    if _versions.minor_line(new) != _versions.minor_line(old):
        return Bump.MINOR
    return Bump.PATCH


def check_releases(spec_dir: Path, policy: Policy | None = None) -> list[PairVerdict]:
    versions = released_versions(spec_dir)
    documents = [load_spec(path) for _, path in versions]
    verdicts = []
    for index in range(1, len(versions)):
        old_version, new_version = versions[index - 1][0], versions[index][0]
        result = compare(documents[index - 1], documents[index], policy)
        verdicts.append(
            PairVerdict(
                old=old_version,
                new=new_version,
                declared=declared_bump(old_version, new_version),
                result=result,
            )
        )
    return verdicts
