"""check-releases: every released version must bump at least as much as its changes demand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._compare import compare
from ._load import VERSION, load_spec
from ._model import Bump, CompatResult
from ._policy import Policy

Version = tuple[int, int, int]


@dataclass(frozen=True)
class PairVerdict:
    old: str
    new: str
    declared: Bump
    result: CompatResult

    @property
    def ok(self) -> bool:
        return self.declared >= self.result.required_bump


def released_versions(spec_dir: Path) -> list[tuple[Version, Path]]:
    """Folders named X.Y.Z holding an openapi.yaml, oldest first."""
    found = []
    for folder in spec_dir.iterdir():
        match = VERSION.match(folder.name)
        if match and (folder / "openapi.yaml").is_file():
            major, minor, patch = (int(part) for part in match.groups())
            found.append(((major, minor, patch), folder / "openapi.yaml"))
    return sorted(found)


def declared_bump(old: Version, new: Version) -> Bump:
    if new[0] != old[0]:
        return Bump.MAJOR
    if new[1] != old[1]:
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
                old=".".join(map(str, old_version)),
                new=".".join(map(str, new_version)),
                declared=declared_bump(old_version, new_version),
                result=result,
            )
        )
    return verdicts
