"""Run our checker, Optic and api-smart-diff on tests/compat_corpus and tabulate verdicts.

Setup: npm install --prefix benchmarks   (versions pinned in benchmarks/package.json)
Run:   .venv/bin/python benchmarks/compare_tools.py [--skip-optic] [--jobs N]

Each tool's output is mapped to a bump the same way for every pair:
- Optic (`optic diff OLD NEW --check --json`, offline, telemetry off): a failed check
  is major; otherwise any change other than words (descriptions, summaries,
  examples, titles) is minor; words only, or nothing, is patch.
- api-smart-diff (`apiDiff`): a "breaking" diff is major; "non-breaking",
  "deprecated" or "unclassified" is minor; "annotation" only, or nothing, is patch.
A tool that cannot run says why in its column instead of failing the script.
Exit status 1 when ours disagrees with expected.yaml on any pair.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from valora_spec.compat import compare

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "benchmarks" / "node_modules"
CORPUS = ROOT / "tests" / "compat_corpus"
OPTIC = NODE_MODULES / ".bin" / "optic"
TIMEOUT_S = 120
WORDS = frozenset({"description", "summary", "title", "example", "examples", "externalDocs"})

# Reads [{name, old, new}] as JSON on stdin, prints {name: [diff types] | {error}}.
SMART_DIFF_JS = """
const { apiDiff } = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const out = {};
  for (const { name, old, new: next } of JSON.parse(input)) {
    try {
      out[name] = apiDiff(old, next).map((diff) => diff.type);
    } catch (error) {
      out[name] = { error: String(error && error.message ? error.message : error) };
    }
  }
  process.stdout.write(JSON.stringify(out));
});
"""


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def ours(pair: Path) -> str:
    return compare(_load(pair / "old.yaml"), _load(pair / "new.yaml")).required_bump.label


def smart_diff(pairs: list[Path]) -> dict[str, str]:
    package = NODE_MODULES / "api-smart-diff"
    if not package.is_dir():
        return {pair.name: "n/a: not installed" for pair in pairs}
    payload = [{"name": p.name, "old": _load(p / "old.yaml"), "new": _load(p / "new.yaml")} for p in pairs]
    try:
        completed = subprocess.run(
            ["node", "-e", SMART_DIFF_JS, str(package)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        results = json.loads(completed.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return {pair.name: f"n/a: {type(exc).__name__}" for pair in pairs}
    verdicts = {}
    for name, types in results.items():
        if isinstance(types, dict):
            verdicts[name] = "error"
        elif "breaking" in types:
            verdicts[name] = "major"
        elif {"non-breaking", "deprecated", "unclassified"} & set(types):
            verdicts[name] = "minor"
        else:
            verdicts[name] = "patch"
    return verdicts


def optic(pair: Path) -> str:
    if not OPTIC.exists():
        return "n/a: not installed"
    env = {**os.environ, "OPTIC_TELEMETRY_LEVEL": "off", "CI": "true"}
    old, new = str(pair / "old.yaml"), str(pair / "new.yaml")
    command = [str(OPTIC), "diff", old, new, "--check", "--json"]
    with tempfile.TemporaryDirectory() as scratch:
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=scratch, env=env
            )
        except subprocess.TimeoutExpired:
            return "n/a: timed out (needs network?)"
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        return "error"
    if completed.returncode != 0:
        return "major"  # a breaking-change check failed
    return "minor" if any(not _words_only(change) for change in _changes(report)) else "patch"


def _changes(node: Any) -> list[dict[str, Any]]:
    """Every leaf change in Optic's JSON report (an added operation counts as one)."""
    if isinstance(node, list):
        return [change for item in node for change in _changes(item)]
    if not isinstance(node, dict):
        return []
    if node.get("change") in ("added", "removed"):
        return [node]
    found = [
        change for key, value in node.items() if key not in ("before", "after") for change in _changes(value)
    ]
    if node.get("change") == "changed" and "key" in node:
        found.append(node)
    return found


def _strip_words(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_words(v) for k, v in value.items() if k not in WORDS}
    if isinstance(value, list):
        return [_strip_words(v) for v in value]
    return value


def _words_only(change: dict[str, Any]) -> bool:
    if "name" in change and "key" not in change:
        return False  # a whole operation, parameter, response or media type
    if str(change.get("key", "")).rsplit("/", 1)[-1] in WORDS:
        return True
    return _strip_words(change.get("before")) == _strip_words(change.get("after"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-optic", action="store_true", help="Optic takes ~3 s a pair")
    parser.add_argument("--jobs", type=int, default=2, help="Optic runs in parallel")
    args = parser.parse_args()

    pairs = sorted(path for path in CORPUS.iterdir() if path.is_dir())
    expected = {pair.name: _load(pair / "expected.yaml")["bump"] for pair in pairs}
    columns: dict[str, dict[str, str]] = {"ours": {pair.name: ours(pair) for pair in pairs}}
    if args.skip_optic:
        columns["optic"] = {pair.name: "skipped" for pair in pairs}
    else:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            columns["optic"] = dict(zip(expected, pool.map(optic, pairs), strict=True))
    columns["api-smart-diff"] = smart_diff(pairs)

    width = max(len(name) for name in expected)
    header = f"{'pair':<{width}}  {'expected':<8}" + "".join(f"  {tool:<16}" for tool in columns)
    print(header)
    print("-" * len(header))
    for name, bump in expected.items():
        cells = []
        for verdicts in columns.values():
            verdict = verdicts.get(name, "n/a")
            cells.append(f"  {verdict + ('' if verdict == bump else ' x'):<16}")
        print(f"{name:<{width}}  {bump:<8}" + "".join(cells))
    print("-" * len(header))
    total = len(expected)
    for tool, verdicts in columns.items():
        matches = sum(verdicts.get(name) == bump for name, bump in expected.items())
        print(f"{tool:<16} matches expected on {matches}/{total} pairs")
    return 0 if columns["ours"] == expected else 1


if __name__ == "__main__":
    sys.exit(main())
