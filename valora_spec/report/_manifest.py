"""manifest.json: the SHA-256 of every artifact, optionally signed; and its verification."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from valora_spec.report import _signing

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MANIFEST_VERSION = 1


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)  # empty means the bundle verifies
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def write_manifest(out_dir: Path, key: Ed25519PrivateKey | None) -> list[Path]:
    """Hash every file in out_dir (except the manifest and its signature); sign if given a key."""
    files = {_relative(path, out_dir): _sha256(path.read_bytes()) for path in _artifact_files(out_dir)}
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "algorithm": "sha256",
        "files": files,
        "signature": None,
    }
    if key is not None:
        public = key.public_key()
        manifest["signature"] = {
            "algorithm": "ed25519",
            "file": SIGNATURE,
            "public_key_fingerprint": _signing.fingerprint(public),
            "public_key": base64.b64encode(_signing.raw_public(public)).decode("ascii"),
        }
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    manifest_path = out_dir / MANIFEST
    manifest_path.write_bytes(data)
    written = [manifest_path]
    if key is not None:
        signature_path = out_dir / SIGNATURE
        signature_path.write_bytes(_signing.sign(key, data))
        written.append(signature_path)
    return written


def verify_bundle(out_dir: Path, public_key: Path | None = None) -> Verification:
    """Check every artifact against manifest.json and, if signed, the signature."""
    result = Verification()
    manifest_path = out_dir / MANIFEST
    if not out_dir.is_dir():
        result.problems.append(f"{out_dir}: not a directory")
        return result
    if not manifest_path.is_file():
        result.problems.append(f"missing: {MANIFEST}")
        return result
    data = manifest_path.read_bytes()
    try:
        manifest = json.loads(data)
        listed = dict(manifest["files"])
    except (ValueError, KeyError, TypeError):
        result.problems.append(f"edited: {MANIFEST} (not a valid manifest)")
        return result
    _check_files(out_dir, listed, result)
    _check_signature(out_dir, manifest, data, public_key, result)
    return result


def _check_files(out_dir: Path, listed: dict[str, Any], result: Verification) -> None:
    root = out_dir.resolve()
    for name, digest in sorted(listed.items()):
        path = (out_dir / name).resolve()
        if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
            result.problems.append(f"edited: {MANIFEST} (unsafe path {name!r})")
        elif not path.is_relative_to(root) or not path.is_file():
            result.problems.append(f"missing: {name} (listed in {MANIFEST})")
        elif _sha256(path.read_bytes()) != digest:
            result.problems.append(f"edited: {name} (its SHA-256 differs from {MANIFEST})")
    for path in _artifact_files(out_dir):
        name = _relative(path, out_dir)
        if name not in listed:
            result.problems.append(f"extra: {name} (not in {MANIFEST})")


def _check_signature(
    out_dir: Path,
    manifest: dict[str, Any],
    data: bytes,
    public_key: Path | None,
    result: Verification,
) -> None:
    signature_path = out_dir / SIGNATURE
    block = manifest.get("signature")
    if not block:
        if signature_path.exists():
            result.problems.append(f"extra: {SIGNATURE} (the manifest names no signing key)")
        if public_key is not None:
            result.problems.append("unsigned: the bundle has no signature but a public key was given")
        else:
            result.notes.append("the bundle is not signed")
        return
    if not signature_path.is_file():
        result.problems.append(f"missing: {SIGNATURE}")
        return
    try:
        embedded = _signing.public_from_raw(block["public_key"])
    except (KeyError, TypeError, ValueError):
        result.problems.append(f"edited: {MANIFEST} (bad public key)")
        return
    key = _signing.load_public_key(public_key) if public_key is not None else embedded
    if public_key is not None and _signing.fingerprint(key) != block.get("public_key_fingerprint"):
        result.problems.append(
            f"{SIGNATURE}: signed by {block.get('public_key_fingerprint')}, "
            f"not by the given key {_signing.fingerprint(key)}"
        )
        return
    if not _signing.signature_valid(key, data, signature_path.read_bytes()):
        result.problems.append(f"edited: {SIGNATURE} or {MANIFEST} (the signature does not verify)")
        return
    if public_key is None:
        result.notes.append(
            f"signature verified with the key embedded in the manifest "
            f"({_signing.fingerprint(key)}); pass --public-key to check who signed it"
        )
    else:
        result.notes.append(f"signature verified with {_signing.fingerprint(key)}")


def _artifact_files(out_dir: Path) -> list[Path]:
    skip = {out_dir / MANIFEST, out_dir / SIGNATURE}
    return sorted(p for p in out_dir.rglob("*") if p.is_file() and p not in skip)


def _relative(path: Path, out_dir: Path) -> str:
    return path.relative_to(out_dir).as_posix()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
