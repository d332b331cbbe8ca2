"""Released spec folders are immutable: spec/releases.json records the SHA-256 of each file."""

from __future__ import annotations

import json
import re

import pytest

from valora_spec import _spec, _versions

ROOT = _spec.repo_root()
RECORD_PATH = ROOT / "spec" / _spec.RELEASES_FILE
RECORDED = _spec.load_releases(ROOT)
HEX = re.compile(r"^[0-9a-f]{64}$")


def test_the_record_is_well_formed():
    record = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    assert record["algorithm"] == "sha256"
    for version, files in record["releases"].items():
        assert _versions.is_release_name(version), version
        assert files and all(HEX.match(digest) for digest in files.values()), version
    versions = list(record["releases"])
    assert versions == sorted(versions, key=_versions.parse)


def test_every_released_folder_is_recorded():
    missing = [v for v in _spec.released_versions(ROOT) if v not in RECORDED]
    assert missing == [], f"record them with `valora-spec release VERSION`: {missing}"


def test_every_recorded_release_still_exists():
    assert [v for v in RECORDED if not (ROOT / "spec" / v).is_dir()] == []


@pytest.mark.parametrize("version", sorted(RECORDED, key=_versions.parse))
def test_released_folder_is_unchanged(version):
    folder = ROOT / "spec" / version
    recorded, actual = RECORDED[version], _spec.folder_digests(folder)
    changed = sorted(f for f in set(recorded) | set(actual) if recorded.get(f) != actual.get(f))
    assert changed == [], (
        f"spec/{version} is released and immutable, but these files differ from the record: "
        f"{changed}. Put the change in a new version folder instead.")
