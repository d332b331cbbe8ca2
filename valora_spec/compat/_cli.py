"""`valora-spec compat` and `valora-spec check-releases`.

The lead's `valora_spec/cli.py` calls `add_compat_parsers(subparsers)`; each
subcommand stores its handler as `args.handler`, which returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._pipes import until_reader_leaves
from ._compare import compare
from ._errors import CompatError
from ._load import load_spec, repo_root, spec_path
from ._policy import Policy, load_policy
from ._releases import check_releases
from ._report import render_json, render_text

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def add_compat_parsers(subparsers: argparse._SubParsersAction) -> None:
    compat = subparsers.add_parser(
        "compat",
        help="report the semver bump the changes between two spec versions demand",
        description="Compare two OpenAPI documents and report every change with the "
        "bump (patch/minor/major) it demands.",
    )
    compat.add_argument("old", help="spec file, or a released version such as 1.0.0")
    compat.add_argument("new", help="spec file, or a released version such as 1.1.0")
    compat.add_argument("--format", choices=("text", "json"), default="text")
    compat.add_argument("--policy", type=Path, help="policy file with per-rule overrides")
    compat.set_defaults(handler=run_compat)

    releases = subparsers.add_parser(
        "check-releases",
        help="fail when a released version understates what its changes demand",
        description="Compare every consecutive pair of released versions (X.Y.Z folders "
        "holding openapi.yaml) and fail when a version number is too small.",
    )
    releases.add_argument("--spec-dir", type=Path, help="folder of X.Y.Z releases (default: spec/)")
    releases.add_argument("--policy", type=Path, help="policy file with per-rule overrides")
    releases.set_defaults(handler=run_check_releases)


def run_compat(args: argparse.Namespace) -> int:
    try:
        policy = _policy(args.policy)
        old = load_spec(spec_path(args.old))
        new = load_spec(spec_path(args.new))
        result = compare(old, new, policy)
    except CompatError as exc:
        return _error("compat", exc)
    print(render_json(result) if args.format == "json" else render_text(result))
    return EXIT_OK


def run_check_releases(args: argparse.Namespace) -> int:
    spec_dir = args.spec_dir or repo_root() / "spec"
    if not spec_dir.is_dir():
        return _error("check-releases", f"spec dir {spec_dir} does not exist")
    try:
        verdicts = check_releases(spec_dir, _policy(args.policy))
    except CompatError as exc:
        return _error("check-releases", exc)
    if not verdicts:
        print(f"nothing to check: fewer than two released versions in {spec_dir}")
        return EXIT_OK
    for verdict in verdicts:
        needed = verdict.result.required_bump
        status = "ok  " if verdict.ok else "FAIL"
        line = (
            f"{status} {verdict.old} -> {verdict.new}: "
            f"declared {verdict.declared.label}, changes demand {needed.label}"
        )
        if not verdict.ok:
            culprits = sorted({c.rule for c in verdict.result.changes if c.bump > verdict.declared})
            line += f" ({', '.join(culprits)})"
        print(line)
    return EXIT_OK if all(verdict.ok for verdict in verdicts) else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Just these two subcommands, for `python -m valora_spec.compat` and tests."""
    parser = argparse.ArgumentParser(prog="valora-spec")
    add_compat_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return until_reader_leaves(lambda: args.handler(args))


def _policy(path: Path | None) -> Policy | None:
    return load_policy(path) if path is not None else None


def _error(command: str, problem: object) -> int:
    print(f"valora-spec {command}: error: {problem}", file=sys.stderr)
    return EXIT_ERROR
