"""`valora-spec`: validate, lint and release the spec; compat and report tools plug in here.

Every subcommand parser stores its handler as `handler` (or `func`, as the report tools do); the
handler takes the parsed arguments and returns the exit code: 0 fine, 1 problems found, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from valora_spec._pipes import until_reader_leaves

# `_spec` (jsonschema), the OpenAPI validator and the report tools are imported where they
# are used: `valora-spec compat` needs none of them, and they cost most of its start-up time.

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
LINT_TIMEOUT_S = 300
# Redocly CLI: no telemetry and no "new version" check, so linting never reaches the network.
REDOCLY_ENV = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


@dataclass
class LintResult:
    tool: str
    errors: int = 0
    warnings: int = 0
    messages: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- validate
def validation_problems(doc: dict[str, Any]) -> list[str]:
    """Unresolved `$ref`s, OpenAPI 3.1 schema errors and examples that fail their schema.

    Each stage runs only when the previous one is clean: the validators need resolvable refs.
    """
    from openapi_spec_validator import OpenAPIV31SpecValidator

    from . import _spec

    problems = [f"ref: {p}" for p in _spec.unresolved_refs(doc)]
    if not problems:
        if not str(doc.get("openapi", "")).startswith("3.1."):
            problems.append(f"openapi: {doc.get('openapi')!r} is not 3.1.x")
        problems += [f"openapi: {_spec.pointer(*e.absolute_path)}: {e.message.splitlines()[0]}"
                     for e in OpenAPIV31SpecValidator(doc).iter_errors()]
    if not problems:
        problems += [f"example: {p}" for p in _spec.example_errors(doc)]
    return problems


def _spec_file(name: str, root: Path) -> tuple[str, Path]:
    """A version name (`1.2.0`) or a path to an OpenAPI file."""
    from . import _spec, _versions

    if _versions.is_release_name(name):
        path = _spec.spec_path(name, root)
        if not path.is_file():
            known = ", ".join(_spec.released_versions(root)) or "none"
            raise UsageError(f"unknown version {name} (versions in spec/: {known})")
        return name, path
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"{name} is neither a version X.Y.Z nor a file")
    return name, path


def _targets(names: list[str], root: Path) -> list[tuple[str, Path]]:
    from . import _spec

    names = names or _spec.released_versions(root)
    return [_spec_file(name, root) for name in names]


def run_validate(args: argparse.Namespace) -> int:
    from . import _spec

    root = _spec.repo_root()
    failed = False
    for name, path in _targets(args.versions, root):
        try:
            doc = _spec.load_yaml(path)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            print(f"{name}: FAIL: cannot load {path}: {' '.join(str(exc).split())}")
            failed = True
            continue
        problems = validation_problems(doc) if isinstance(doc, dict) else ["not a mapping"]
        if problems:
            failed = True
            print(f"{name}: FAIL: {len(problems)} problem(s)")
            for problem in problems:
                print(f"  {problem}")
        else:
            examples = sum(1 for _ in _spec.iter_examples(doc))
            print(f"{name}: ok (OpenAPI {doc['openapi']}, {len(doc.get('paths', {}))} paths, "
                  f"{examples} examples)")
    return EXIT_PROBLEMS if failed else EXIT_OK


# ---------------------------------------------------------------------------- lint
def node_tool(root: Path, name: str) -> Path | None:
    """`node_modules/.bin/<name>` when `npm ci` has installed it."""
    path = root / "node_modules" / ".bin" / name
    return path if path.exists() else None


def _run(cmd: list[str], root: Path, env: dict[str, str] | None = None,
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=LINT_TIMEOUT_S,
                          env={**os.environ, **(env or {})}, check=False)


def run_spectral(root: Path, spec: Path) -> LintResult:
    """Spectral with the repository's `.spectral.yaml` (extends `spectral:oas`)."""
    tool = node_tool(root, "spectral")
    if tool is None:
        raise FileNotFoundError("spectral")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "spectral.json"
        proc = _run([str(tool), "lint", str(spec), "--ruleset", str(root / ".spectral.yaml"),
                     "--format", "json", "--output", str(out), "--fail-severity", "error"], root)
        if not out.is_file():
            raise RuntimeError(f"spectral failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
        found = json.loads(out.read_text(encoding="utf-8") or "[]")
    result = LintResult("spectral")
    for item in found:
        severity = {0: "error", 1: "warn"}.get(item["severity"], "info")
        result.errors += severity == "error"
        result.warnings += severity == "warn"
        where = "/".join(str(p) for p in item.get("path", []))
        result.messages.append(f"{severity} {item['code']} {where}: {item['message']}")
    return result


def run_redocly(root: Path, spec: Path) -> LintResult:
    """Redocly with the repository's `redocly.yaml` (extends `recommended`), telemetry off."""
    tool = node_tool(root, "redocly")
    if tool is None:
        raise FileNotFoundError("redocly")
    proc = _run([str(tool), "lint", str(spec), "--config", str(root / "redocly.yaml"),
                 "--format", "json", "--lint-config", "error"], root, REDOCLY_ENV)
    try:
        found = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        detail = proc.stderr[-2000:]
        raise RuntimeError(f"redocly failed (exit {proc.returncode}): {detail}") from None
    result = LintResult("redocly", found["totals"]["errors"], found["totals"]["warnings"])
    for item in found["problems"]:
        where = ",".join(loc.get("pointer", "") for loc in item.get("location", []))
        result.messages.append(f"{item['severity']} {item['ruleId']} {where}: {item['message']}")
    return result


def run_lint(args: argparse.Namespace) -> int:
    from . import _spec

    root = _spec.repo_root()
    failed = False
    for name, path in _targets(args.versions, root):
        for runner in (run_spectral, run_redocly):
            tool = runner.__name__.removeprefix("run_")
            try:
                result = runner(root, path)
            except FileNotFoundError:
                print(f"{name} {tool}: skipped, not installed (run `npm ci` in {root})")
                continue
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"{name} {tool}: FAIL: {exc}")
                failed = True
                continue
            failed = failed or result.errors > 0
            verdict = "FAIL" if result.errors else "ok"
            print(f"{name} {tool}: {verdict} ({result.errors} errors, {result.warnings} warnings)")
            for message in result.messages:
                print(f"  {message}")
    return EXIT_PROBLEMS if failed else EXIT_OK


# ---------------------------------------------------------------------------- release
def run_release(args: argparse.Namespace) -> int:
    from . import _spec, _versions

    root = _spec.repo_root()
    version = args.version
    if not _versions.is_release_name(version):
        raise UsageError(f"{version!r} is not a version X.Y.Z")
    folder = root / "spec" / version
    if not (folder / _spec.SPEC_FILE).is_file():
        raise UsageError(f"no {folder.relative_to(root) / _spec.SPEC_FILE} to release")
    record_path = root / "spec" / _spec.RELEASES_FILE
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {
        "description": "SHA-256 of every file of each released spec folder, written by "
                       "`valora-spec release X.Y.Z`. Released folders are immutable: "
                       "tests/spec/test_releases.py fails when one changes.",
        "algorithm": "sha256",
        "releases": {},
    }
    digests = _spec.folder_digests(folder)
    recorded = record["releases"].get(version)
    if recorded == digests:
        print(f"{version}: already released, the folder is unchanged")
        return EXIT_OK
    if recorded is not None:
        changed = sorted(set(recorded) ^ set(digests)
                         | {f for f in recorded if digests.get(f) not in (None, recorded[f])})
        print(f"{version}: REFUSED: already released and its record never changes; "
              f"differs in {', '.join(changed)}. Release a new version instead.")
        return EXIT_PROBLEMS
    try:
        doc = _spec.load_yaml(folder / _spec.SPEC_FILE)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        print(f"{version}: REFUSED: cannot load {folder / _spec.SPEC_FILE}: {' '.join(str(exc).split())}")
        return EXIT_PROBLEMS
    problems = validation_problems(doc) if isinstance(doc, dict) else ["not a mapping"]
    if problems:
        print(f"{version}: REFUSED: the spec does not validate ({len(problems)} problem(s)); "
              f"run `valora-spec validate {version}`")
        return EXIT_PROBLEMS
    record["releases"][version] = digests
    record["releases"] = dict(sorted(record["releases"].items(),
                                     key=lambda item: _versions.parse(item[0])))
    record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"{version}: released, {len(digests)} file(s) recorded in "
          f"{record_path.relative_to(root)}")
    return EXIT_OK


# ---------------------------------------------------------------------------- parser
COMPAT_COMMANDS = frozenset({"compat", "check-releases"})


def build_parser(with_reports: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="valora-spec", description="Tools for the Valora API contract in spec/.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help="validate versions as OpenAPI 3.1, their $refs and their examples")
    validate.add_argument("versions", nargs="*", metavar="VERSION",
                          help="X.Y.Z under spec/, or a file (default: every version)")
    validate.set_defaults(handler=run_validate)

    lint = commands.add_parser("lint", help="run Spectral and Redocly (when npm installed them)")
    lint.add_argument("versions", nargs="*", metavar="VERSION",
                      help="X.Y.Z under spec/, or a file (default: every version)")
    lint.set_defaults(handler=run_lint)

    release = commands.add_parser(
        "release", help="record the SHA-256 of every file of a new version in spec/releases.json")
    release.add_argument("version", metavar="VERSION")
    release.set_defaults(handler=run_release)

    commands.add_parser("conformance", add_help=False,
                        help="run the conformance suite (`valora-spec conformance --help`)")

    try:
        from valora_spec.compat._cli import add_compat_parsers
    except ImportError:
        pass
    else:
        add_compat_parsers(commands)
    if not with_reports:
        return parser
    try:
        from valora_spec._report_cli import add_report_parsers
    except ImportError:
        pass
    else:
        add_report_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["conformance"]:  # every remaining option is pytest's or the suite's
        from valora_spec._conformance_cli import main as conformance

        return conformance(argv[1:])
    # The report tools import the whole harness; the compat commands never reach them.
    parser = build_parser(with_reports=not (argv and argv[0] in COMPAT_COMMANDS))
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None) or getattr(args, "func", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return until_reader_leaves(lambda: int(handler(args)))
    except UsageError as exc:
        print(f"valora-spec {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
