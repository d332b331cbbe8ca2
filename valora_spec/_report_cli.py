"""`valora-spec report ...`: verify, re-render, sign and compare report bundles."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from valora_spec.report import diff, generate_keypair, key_fingerprint, verify, write

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]


class _UsageError(Exception):
    """Bad input from the user: reported in one line, exit 2."""


def add_report_parsers(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add `report` and its subcommands; each parsed namespace carries `func(args) -> exit code`."""
    report = subparsers.add_parser("report", help="verify, render, sign and compare report bundles")
    report.set_defaults(func=_usage(report))
    commands = report.add_subparsers(dest="report_command", metavar="COMMAND")

    verify = commands.add_parser("verify", help="check a bundle against its manifest and signature")
    verify.add_argument("dir", type=Path, metavar="DIR")
    verify.add_argument("--public-key", type=Path, metavar="PEM", help="the signer's public key")
    verify.set_defaults(func=_guarded(_verify))

    render = commands.add_parser("render", help="re-render every artifact from a report.json")
    render.add_argument("report_json", type=Path, metavar="REPORT_JSON")
    render.add_argument("--out", type=Path, required=True, metavar="DIR")
    render.add_argument("--sign-key", type=Path, metavar="PEM", help="Ed25519 private key")
    render.set_defaults(func=_guarded(_render))

    keygen = commands.add_parser("keygen", help="write an Ed25519 key pair for signing bundles")
    keygen.add_argument("--out", type=Path, required=True, metavar="PREFIX")
    keygen.set_defaults(func=_guarded(_keygen))

    diff = commands.add_parser("diff", help="new failures and fixes between two report.json files")
    diff.add_argument("baseline", type=Path, metavar="BASELINE")
    diff.add_argument("current", type=Path, metavar="CURRENT")
    diff.set_defaults(func=_guarded(_diff))
    return report


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m valora_spec._report_cli report ...`)."""
    parser = argparse.ArgumentParser(prog="valora-spec")
    add_report_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def _verify(args: argparse.Namespace) -> int:
    if not args.dir.is_dir():
        raise _UsageError(f"{args.dir}: not a directory")
    if args.public_key is not None:
        _read_key(args.public_key)  # a bad key file is a usage error, not a failed bundle
    result = verify(args.dir, args.public_key)
    for note in result.notes:
        print(f"note: {note}")
    if result.ok:
        print(f"OK: {args.dir} matches its manifest")
        return EXIT_OK
    for problem in result.problems:
        print(f"FAILED: {problem}")
    return EXIT_FAILED


def _render(args: argparse.Namespace) -> int:
    report = _read_json(args.report_json)
    try:
        written = write(report, args.out, signing_key=args.sign_key)
    except ValueError as exc:
        raise _UsageError(str(exc)) from exc
    for path in written:
        print(path)
    return EXIT_OK


def _keygen(args: argparse.Namespace) -> int:
    try:
        private_path, public_path = generate_keypair(args.out)
    except FileExistsError as exc:
        raise _UsageError(str(exc)) from exc
    print(f"private key: {private_path} (keep it secret; pass it as --sign-key)")
    print(f"public key:  {public_path} (publish it; pass it to `report verify --public-key`)")
    print(f"fingerprint: {key_fingerprint(public_path)}")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    baseline, current = _read_json(args.baseline), _read_json(args.current)
    for name, report in ((args.baseline, baseline), (args.current, current)):
        if not isinstance(report, dict) or not isinstance(report.get("requirements"), list):
            raise _UsageError(f"{name}: not a report.json (no requirements list)")
    try:
        result = diff(baseline, current)
    except (KeyError, TypeError) as exc:
        raise _UsageError(f"{args.current}: malformed requirement entry ({exc})") from exc
    for row in result["regressions"]:
        print(f"new-failure {row['id']} ({row['from'] or 'absent'} -> {row['to']}) {row['title']}")
    for row in result["fixed"]:
        print(f"fixed       {row['id']} ({row['from']} -> {row['to']}) {row['title']}")
    print(
        f"{len(result['regressions'])} new failure(s), {len(result['fixed'])} fixed; "
        f"range {result['range']} -> {(current.get('range') or {}).get('label')}"
    )
    return EXIT_FAILED if result["regressions"] else EXIT_OK


def _usage(parser: argparse.ArgumentParser) -> Handler:
    def show(_: argparse.Namespace) -> int:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: choose a command: verify, render, keygen, diff", file=sys.stderr)
        return EXIT_USAGE

    return show


def _guarded(handler: Handler) -> Handler:
    """One line on stderr and exit 2 for bad input; never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (_UsageError, OSError, ValueError) as exc:
            command = getattr(args, "report_command", "")
            print(f"valora-spec report {command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return run


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _UsageError(f"{path}: not valid JSON ({exc})") from exc


def _read_key(path: Path) -> None:
    try:
        key_fingerprint(path)  # reading the key is the check
    except (OSError, ValueError) as exc:
        raise _UsageError(str(exc)) from exc


if __name__ == "__main__":
    sys.exit(main())
