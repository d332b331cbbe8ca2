"""The conformance report: build it from a run, write and verify its bundle, compare and merge.

This is the package's whole public API; its modules (`_build`, `_manifest`, …) are private.
The report's JSON Schema and HTML template are package data (`schema/`, `templates/`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from valora_spec.report._artifacts import write_artifacts
from valora_spec.report._baseline import diff_baseline
from valora_spec.report._build import build_report
from valora_spec.report._manifest import Verification, verify_bundle
from valora_spec.report._merge import merge_records
from valora_spec.report._profile_eval import profile_from_catalogue
from valora_spec.report._schema import report_schema, validate_report
from valora_spec.report._signing import fingerprint, load_public_key
from valora_spec.report._signing import generate_keypair as _generate_keypair
from valora_spec.report._statuses import Status

__all__ = [
    "Status",
    "Verification",
    "build",
    "diff",
    "generate_keypair",
    "key_fingerprint",
    "load",
    "merge",
    "profile_from_catalogue",
    "schema",
    "validate",
    "verify",
    "write",
]


def build(
    run: dict[str, Any],
    *,
    catalogue: dict[str, Any],
    profiles: list[dict[str, Any]],
    waivers: list[dict[str, Any]] | None = None,
    baseline: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The schema-valid, redacted report of one run's raw data (`merge` first if it came in parts).

    `baseline` (an earlier report) adds the comparison; `now` decides which waivers have expired.
    """
    return build_report(run, catalogue=catalogue, profiles=profiles, waivers=waivers,
                        baseline=baseline, now=now)


def write(report: dict[str, Any], out_dir: Path, *, signing_key: Path | None = None) -> list[Path]:
    """Write every artifact into out_dir, manifest (and signature, given a key) last; the paths.

    The manifest covers every file in out_dir: write anything else to be certified first.
    """
    return write_artifacts(report, Path(out_dir), signing_key=signing_key)


def verify(bundle_dir: Path, public_key: Path | None = None) -> Verification:
    """Check a bundle against its manifest and, if signed, its signature (by `public_key` if given)."""
    return verify_bundle(Path(bundle_dir), public_key)


def diff(baseline: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """What newly fails and what got fixed in `current` since `baseline` (two reports)."""
    return diff_baseline(baseline, list(current["requirements"]))


def merge(*partials: Mapping[str, Any]) -> dict[str, Any]:
    """One run's raw data from its parts (xdist workers, shards): see `build`.

    Outcomes and errors are concatenated, the same failure (requirement, version, operation,
    message) is kept once with its occurrences summed; other fields are the first part's.
    """
    return merge_records(partials)


def load(path: Path) -> dict[str, Any]:
    """A report.json, validated; ValueError if it is not JSON or not a report."""
    report = json.loads(Path(path).read_text(encoding="utf-8"))
    validate(report)
    return report


def validate(report: Any) -> None:
    """Raise ValueError naming the first problems when `report` does not match the schema."""
    validate_report(report)


def schema() -> dict[str, Any]:
    """The report's JSON Schema (a copy)."""
    return report_schema()


def generate_keypair(prefix: Path) -> tuple[Path, Path]:
    """Write `<prefix>.key.pem` (private, mode 0600) and `<prefix>.pub.pem`; never overwrite."""
    return _generate_keypair(Path(prefix))


def key_fingerprint(key_file: Path) -> str:
    """`SHA256:…` of an Ed25519 PEM key (a private key's public half); ValueError if it is none."""
    return fingerprint(load_public_key(Path(key_file)))
