"""Mutation testing: how many faults nobody on the team chose does `pytest conformance` detect?

cosmic-ray (8.x) mutates one reference module at a time, on disk, in a scratch copy of the
working tree (so an interrupted run never leaves a mutant in the repository), and runs this
script's `run-one` as its test command for each mutant. `run-one` runs the conformance harness
(quick budget, `-x`) against the embedded reference, which starts as a child process importing
the scratch copy (PYTHONPATH points at it; no bytecode is read or written, so every child
compiles the mutated source). Each module has its own selection of checks: the ones about it,
the stateful workflows, and the fuzz checks of the operations it serves.

What a mutant's run counts as:

- killed: the run exits 1 (verdict FAIL: a check caught the server breaking the contract), or
  the reference cannot start (exit 2, "could not start the embedded reference") or stops
  answering mid-run (verdict INCOMPLETE because "the target stopped answering"), or rejects
  the key probe that the unmutated reference accepts (INCOMPLETE: "the --api-key ... is not
  accepted" or "the target cannot be tested"): failures no user would take for a pass.
- timed-out: the run did not end within the per-mutant limit (a hang).
- survived: anything else, i.e. the same verdict as the unmutated reference gives for that
  selection (PASS, or INCOMPLETE only because checks were deselected). An INCOMPLETE verdict
  with an error the unmutated run does not have is listed as survived with the error shown.
- equivalent: a survivor listed in benchmarks/mutation-equivalents.yaml with the reason it
  cannot change any observable behaviour. score = killed / (mutants - equivalent).

    python benchmarks/mutation.py --sample 12 --seed 1          # about an hour on 2 cores
    python benchmarks/mutation.py --modules pricing,usage       # every mutant of two modules
    python benchmarks/mutation.py --report /tmp/valora-mutation  # re-print a finished run
    python benchmarks/mutation.py --workdir /tmp/valora-mutation --resume  # finish a stopped one

Slow (minutes to hours): it runs outside CI.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import queue
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "benchmarks" / "mutation-equivalents.yaml"
OUTCOME_PREFIX = "valora-mutation:"
ALWAYS = ["conformance/test_stateful.py"]


@dataclass(frozen=True)
class Module:
    path: str  # the mutated file, relative to the repository
    checks: tuple[str, ...]  # conformance files whose checks concern it, run first
    fuzz: str | None  # -k expression of the fuzzed operations it serves; "" all, None none
    options: tuple[str, ...] = ()  # harness options its mutants need to show


MODULES: dict[str, Module] = {
    "pricing": Module("valora_spec/reference/_pricing.py", ("test_billing.py", "test_edges.py",
                      "test_lifecycle.py"), "Price or Invoice"),
    "usage": Module("valora_spec/reference/_usage.py", ("test_usage.py", "test_edges.py", "test_billing.py"),
                    "Usage or Invoice"),
    "events": Module("valora_spec/reference/routes/events.py", ("test_usage.py", "test_edges.py"), "Event"),
    "invoices": Module("valora_spec/reference/routes/invoices.py",
                       ("test_billing.py", "test_edges.py", "test_lifecycle.py", "test_pagination.py",
                        "test_usage.py"), "Invoice"),
    "subscriptions": Module("valora_spec/reference/routes/subscriptions.py",
                            ("test_lifecycle.py", "test_edges.py", "test_billing.py",
                             "test_pagination.py"), "Subscription"),
    "coupons": Module("valora_spec/reference/routes/coupons.py",
                      ("test_billing.py", "test_edges.py", "test_crud.py"), "Coupon"),
    # the reference prunes expired keys once a minute: a prune that deletes live keys shows only
    # to a replay after the next prune, so the run's first key is replayed 75 s after first use
    "idempotency": Module("valora_spec/reference/_idempotency.py", ("test_idempotency.py",),
                          "create or ingest or generate", ("--replay-after", "75")),
    "pagination": Module("valora_spec/reference/_pagination.py", ("test_pagination.py", "test_security.py"),
                         "list"),
    "auth": Module("valora_spec/reference/_auth.py", ("test_security.py", "test_idempotency.py"), "Meta"),
    # usage queries carry the free-text query parameter (`customer`) whose reading is validated here
    "validation": Module("valora_spec/reference/_validation.py",
                         ("test_crud.py", "test_edges.py", "test_pagination.py", "test_usage.py"), ""),
}


def pytest_args(module: Module) -> list[str]:
    files = [f"conformance/{name}" for name in module.checks] + ALWAYS
    args = [*files]
    if module.fuzz is not None:
        args.append("conformance/test_fuzz.py")
        if module.fuzz:
            args += ["-k", f"not test_fuzz_operation or {module.fuzz}"]
    return [*args, *module.options]


# run-one: the test command cosmic-ray runs for each mutant ------------------------------------


def run_one(module_name: str, budget: str, seed: int, limit: float, request_timeout: float) -> int:
    """Run the module's checks once; print one outcome line; exit 0 survived, 1 otherwise."""
    module = MODULES[module_name]
    with tempfile.TemporaryDirectory(prefix="valora-mut-report-") as report_dir:
        # pytest-base-url, when installed, claims --base-url too: it is not ours, so it is left out
        command = [sys.executable, "-m", "pytest", "-p", "no:base_url", "-p", "no:cacheprovider",
                   *pytest_args(module), "-x", "-q",
                   "--budget", budget, "--seed", str(seed), "--request-timeout", str(request_timeout),
                   "--deadline", str(limit), "--report-dir", report_dir]
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
        try:
            output, _ = process.communicate(timeout=limit + 30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            print(f"{OUTCOME_PREFIX} timed-out after {time.monotonic() - started:.0f} s")
            return 1
        elapsed = time.monotonic() - started
        outcome, detail = classify(process.returncode, output, Path(report_dir) / "report.json")
    print(f"{OUTCOME_PREFIX} {outcome} in {elapsed:.1f} s (exit {process.returncode}): {detail}")
    if outcome == "survived":
        return 0
    return 1


PROBE_REFUSED = ("key for organization A is not accepted", "the target cannot be tested",
                 "is refused for writes")


def probe_refused(text: str) -> bool:
    """The harness's start-up probe of the keys failed (usage error or INCOMPLETE)."""
    return any(words in text for words in PROBE_REFUSED)


def classify(code: int, output: str, report_path: Path) -> tuple[str, str]:
    text = report_path.read_text() if report_path.exists() else "{}"
    report = json.loads(text)
    failures = report.get("failures") or []
    errors = [e for e in report.get("errors") or [] if isinstance(e, str)]
    if code == 1:
        first = failures[0] if failures else {}
        return "killed", f"{first.get('requirement', '?')}: {str(first.get('message', ''))[:200]}"
    if code == 2 and "could not start the embedded reference" in output:
        return "killed", "crash: the reference did not start"
    if code == 3 and "stopped answering" in output + text:
        return "killed", "crash: the reference stopped answering"
    if code in (2, 3) and probe_refused(output + text):
        # the same keys and probe work on the unmutated reference: the mutant rejects valid
        # credentials or requests, which the harness reports as "cannot be evaluated", never a pass
        return "killed", "not evaluable: the reference rejects the harness's valid key probe"
    if code == 3 and "hit its --deadline" in text:
        return "timed-out", "the run hit its --deadline"
    if code in (0, 3):
        verdict = report.get("verdict", "?")
        return "survived", f"verdict {verdict}" + (f"; errors: {'; '.join(errors)[:300]}" if errors else "")
    tail = " | ".join(output.strip().splitlines()[-3:])[:300]
    return "survived", f"unexpected exit {code}: {tail}"


# a whole run -------------------------------------------------------------------------------------


def copy_tree(target: Path) -> None:
    ignore = shutil.ignore_patterns(".git", ".venv*", "node_modules", "__pycache__", "out", "mutants",
                                    "*.pyc", ".ruff_cache")
    # links kept: valora_spec/_data and the top-level conformance/ point inside the copy; a copy left
    # by an earlier run is replaced whole (copytree cannot overwrite a link)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)


def child_env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}


def cosmic_ray(tree: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "cosmic-ray"
    return subprocess.run(["nice", "-n", "10", str(exe), *args], cwd=tree, env=child_env(tree),
                          capture_output=True, text=True, check=False)


def write_config(workdir: Path, name: str, args: argparse.Namespace, limit: float) -> Path:
    """cosmic-ray's configuration, in `workdir`; its paths are relative to the scratch copy."""
    module = MODULES[name]
    command = (f"{sys.executable} benchmarks/mutation.py run-one --module {name} --budget {args.budget} "
               f"--seed {args.seed} --limit {limit:.0f} --request-timeout {args.request_timeout:g}")
    config = {"cosmic-ray": {
        "module-path": module.path, "timeout": limit + 120, "excluded-modules": [],
        "test-command": command, "distributor": {"name": "local"},
    }}
    path = workdir / f"mutation-{name}.toml"
    import toml  # cosmic-ray's own dependency

    path.write_text(toml.dumps(config))
    return path


def baseline(tree: Path, name: str, args: argparse.Namespace) -> tuple[float, str]:
    """The unmutated run of the module's selection: its time, and it must not be killed."""
    started = time.monotonic()
    result = subprocess.run(
        ["nice", "-n", "10", sys.executable, "benchmarks/mutation.py", "run-one", "--module", name,
         "--budget", args.budget, "--seed", str(args.seed), "--limit", "900",
         "--request-timeout", str(args.request_timeout)],
        cwd=tree, env=child_env(tree), capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith(OUTCOME_PREFIX)), result.stdout)
    if result.returncode != 0:
        raise SystemExit(f"mutation: the unmutated reference does not pass the {name} selection: {line}")
    return elapsed, line


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the module's annotations are: under `from __future__ import annotations` they are
    never evaluated, so a mutant inside one is equivalent by construction (none is run)."""
    tree = ast.parse(path.read_text())
    if not any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
               and any(a.name == "annotations" for a in n.names) for n in tree.body):
        return []
    spans = []
    for node in ast.walk(tree):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        spans += [((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0))
                  for a in found if a is not None]
    return spans


def sample(workdir: Path, tree: Path, name: str, count: int, seed: int) -> dict[str, int]:
    """Skip mutants inside annotations, then all but `count` of the rest (a fixed-seed choice),
    so exec leaves them. Returns how many there were of each."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spans = annotation_spans(tree / MODULES[name].path)
    session = workdir / f"mutation-{name}.sqlite"
    with use_db(str(session), WorkDB.Mode.open) as db:
        items = sorted(db.pending_work_items,
                       key=lambda w: (w.mutations[0].operator_name, w.mutations[0].occurrence))
        in_annotation = [w for w in items
                         if any(a <= tuple(w.mutations[0].start_pos) <= b for a, b in spans)]
        rest = [w for w in items if w not in in_annotation]
        chosen = rest if count <= 0 or count >= len(rest) else random.Random(seed).sample(rest, count)
        keep = {w.job_id for w in chosen}
        skipped = [w.job_id for w in items if w.job_id not in keep]
        if skipped:
            db.set_multiple_results(skipped, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
    counts = {"generated": len(items), "in_annotations": len(in_annotation), "run": len(keep),
              "digest": source_digest(tree, name)}
    (workdir / f"mutation-{name}.counts.json").write_text(json.dumps(counts))
    return counts


def pending(session: Path) -> list[str]:
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(str(session), WorkDB.Mode.open) as db:
        return [item.job_id for item in db.pending_work_items]


def source_digest(tree: Path, name: str) -> str:
    return hashlib.sha256((tree / MODULES[name].path).read_bytes()).hexdigest()


def reopen_survivors(old: Path, workdir: Path, tree: Path, name: str) -> dict[str, int]:
    """Take an earlier run's session, with its survivors' results removed so exec runs them again
    (e.g. against sharper checks). The mutated module must not have changed since."""
    counts_file = old / f"mutation-{name}.counts.json"
    counts = json.loads(counts_file.read_text())
    if counts.get("digest") != source_digest(tree, name):
        raise SystemExit(f"mutation: {MODULES[name].path} changed since {old}: run afresh")
    shutil.copy(old / f"mutation-{name}.sqlite", workdir / f"mutation-{name}.sqlite")
    (workdir / counts_file.name).write_text(json.dumps(counts))
    again = [m.job_id for m in collect(workdir, name) if m.outcome in ("survived", "timed-out")]
    with sqlite3.connect(workdir / f"mutation-{name}.sqlite") as db:
        db.executemany("DELETE FROM work_results WHERE job_id = ?", [(j,) for j in again])
    return counts | {"run": len(again)}


def run_module(tree: Path, workdir: Path, name: str, args: argparse.Namespace) -> None:
    """Every mutant of one module, mutated in `tree` (a scratch copy), recorded in `workdir`."""
    base_time, line = baseline(tree, name, args)
    limit = max(60.0, base_time * args.timeout_factor)
    config = write_config(workdir, name, args, limit)
    session = workdir / f"mutation-{name}.sqlite"
    counts_file = workdir / f"mutation-{name}.counts.json"
    if args.resume and session.exists() and counts_file.exists():
        counts = json.loads(counts_file.read_text())
        if counts.get("digest") != source_digest(tree, name):
            raise SystemExit(f"mutation: {MODULES[name].path} changed since this run began: run afresh")
        counts = counts | {"run": len(pending(session))}
    elif args.rerun_survivors:
        counts = reopen_survivors(Path(args.rerun_survivors), workdir, tree, name)
    else:
        init = cosmic_ray(tree, "init", "--force", str(config), str(session))
        if init.returncode != 0:
            raise SystemExit(f"mutation: cosmic-ray init failed for {name}: {init.stderr[-500:]}")
        counts = sample(workdir, tree, name, args.sample, args.seed)
    said = line.removeprefix(OUTCOME_PREFIX).strip()
    print(f"mutation: {name}: {counts['generated']} mutants, {counts['in_annotations']} in annotations "
          f"(equivalent), {counts['run']} to run; unmutated run {base_time:.0f} s ({said}); "
          f"limit {limit:.0f} s per mutant", flush=True)
    started = time.monotonic()
    done = cosmic_ray(tree, "exec", str(config), str(session))
    if done.returncode != 0:
        raise SystemExit(f"mutation: cosmic-ray exec failed for {name}: {done.stderr[-500:]}")
    print(f"mutation: {name}: {len(collect(workdir, name))} mutants in {time.monotonic() - started:.0f} s",
          flush=True)


def run(args: argparse.Namespace) -> int:
    names = args.modules.split(",") if args.modules else list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        raise SystemExit(f"mutation: unknown modules {unknown}; known: {', '.join(MODULES)}")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="valora-mutation-"))
    # one scratch copy per lane: a lane mutates one module at a time on disk, so lanes never meet
    trees: queue.Queue[Path] = queue.Queue()
    for lane in range(max(1, min(args.jobs, len(names)))):
        tree = workdir / f"tree-{lane}"
        copy_tree(tree)
        trees.put(tree)
    print(f"mutation: scratch copies in {workdir}, {trees.qsize()} lane(s)", flush=True)

    def in_a_lane(name: str) -> None:
        tree = trees.get()
        try:
            run_module(tree, workdir, name, args)
        finally:
            trees.put(tree)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=trees.qsize()) as pool:
        for done in [pool.submit(in_a_lane, name) for name in names]:
            done.result()
    print(f"mutation: total {time.monotonic() - started:.0f} s", flush=True)
    return report(workdir, names, args.goal)


# report ------------------------------------------------------------------------------------------


@dataclass
class Mutant:
    module: str
    path: str
    line: int
    operator: str
    occurrence: int
    before: str
    after: str
    outcome: str  # killed | survived | timed-out | equivalent
    detail: str
    seconds: float | None
    reason: str = ""
    job_id: str = ""

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line, self.before.strip(), self.after.strip())


def collect(workdir: Path, name: str) -> list[Mutant]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome

    session = workdir / f"mutation-{name}.sqlite"
    if not session.exists():
        return []
    mutants = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome in (WorkerOutcome.SKIPPED, WorkerOutcome.NO_TEST):
                continue
            spec = item.mutations[0]
            before, after = _changed_lines(result.diff or "")
            output = result.output or ""
            line = next((ln for ln in output.splitlines() if ln.startswith(OUTCOME_PREFIX)), "")
            if line:
                words = line.removeprefix(OUTCOME_PREFIX).strip()
                outcome = words.split()[0]
                if outcome == "survived" and probe_refused(words):  # judged by an older rule
                    outcome = "killed"
                seconds = re.search(r" in ([0-9.]+) s", words)
                detail = words.split(": ", 1)[1] if ": " in words else words
            elif output.strip() == "timeout":
                outcome, seconds, detail = "timed-out", None, "cosmic-ray's own timeout"
            else:
                outcome = "killed" if result.is_killed else "survived"
                seconds, detail = None, f"{result.worker_outcome}: {output.strip()[-200:]}"
            mutants.append(Mutant(name, str(spec.module_path), spec.start_pos[0], spec.operator_name,
                                  spec.occurrence, before, after, outcome, detail,
                                  float(seconds.group(1)) if line and seconds else None,
                                  job_id=item.job_id))
    return sorted(mutants, key=lambda m: (m.line, m.operator, m.occurrence))


def _changed_lines(diff: str) -> tuple[str, str]:
    removed = [ln[1:] for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:] for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(s.strip() for s in removed), " / ".join(s.strip() for s in added)


class Equivalents:
    """benchmarks/mutation-equivalents.yaml: entries naming one mutant (file, line, the line's
    text before and after), or every mutant inside one function (file, function)."""

    def __init__(self, path: Path = EQUIVALENTS) -> None:
        entries = (yaml.safe_load(path.read_text()) or []) if path.exists() else []
        self.mutants: dict[tuple[str, int, str, str], str] = {}
        self.functions: list[tuple[str, int, int, str]] = []
        for e in entries:
            reason = f"[{e.get('kind', 'equivalent')}] {e['reason']}"
            if "function" in e:
                first, last = function_lines(ROOT / e["file"], e["function"])
                self.functions.append((e["file"], first, last, reason))
            else:
                key = (e["file"], int(e["line"]), str(e["before"]).strip(), str(e["after"]).strip())
                self.mutants[key] = reason

    def reason(self, m: Mutant) -> str | None:
        return self.mutants.get(m.key) or next(
            (why for file, first, last, why in self.functions if file == m.path and first <= m.line <= last),
            None)


def function_lines(path: Path, qualified: str) -> tuple[int, int]:
    """The lines of `name` or `Class.name` in a module."""
    scope: list[ast.stmt] = ast.parse(path.read_text()).body
    node: ast.stmt | None = None
    for part in qualified.split("."):
        node = next((n for n in scope if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                     and n.name == part), None)
        if node is None:
            raise SystemExit(f"mutation: {EQUIVALENTS.name} names {qualified} in {path}, which has none")
        scope = node.body
    assert node is not None
    return node.lineno, node.end_lineno or node.lineno


def report(workdir: Path, names: list[str], goal: float) -> int:
    equivalents = Equivalents()
    table = []
    survivors: list[Mutant] = []
    equivalent_list: list[Mutant] = []
    times: list[float] = []
    below = []
    for name in names:
        mutants = collect(workdir, name)
        for m in mutants:
            if m.seconds is not None:
                times.append(m.seconds)
            reason = equivalents.reason(m) if m.outcome == "survived" else None
            if reason:
                m.outcome, m.reason = "equivalent", reason
                equivalent_list.append(m)
            elif m.outcome in ("survived", "timed-out"):
                survivors.append(m)
        counts = {k: sum(1 for m in mutants if m.outcome == k)
                  for k in ("killed", "survived", "timed-out", "equivalent")}
        scored = len(mutants) - counts["equivalent"]
        score = counts["killed"] / scored if scored else None
        if score is not None and score < goal:
            below.append(name)
        counts_file = workdir / f"mutation-{name}.counts.json"
        population = json.loads(counts_file.read_text()) if counts_file.exists() else {}
        counts["generated"] = population.get("generated", 0)
        counts["in_annotations"] = population.get("in_annotations", 0)
        table.append((name, len(mutants), counts, score))
    print()
    print(f"{'module':<14} {'mutants':>7} {'killed':>6} {'survived':>8} {'timed-out':>9} {'equiv':>5} "
          f"{'score':>6}   of generated (in annotations)")
    for name, total, c, score in table:
        shown = f"{score:.0%}" if score is not None else "-"
        print(f"{name:<14} {total:>7} {c['killed']:>6} {c['survived']:>8} {c['timed-out']:>9} "
              f"{c['equivalent']:>5} {shown:>6}   {c['generated']} ({c['in_annotations']})")
    all_total = sum(t for _, t, _, _ in table)
    all_killed = sum(c["killed"] for _, _, c, _ in table)
    all_equiv = sum(c["equivalent"] for _, _, c, _ in table)
    if all_total - all_equiv:
        print(f"{'all':<14} {all_total:>7} {all_killed:>6} "
              f"{sum(c['survived'] for _, _, c, _ in table):>8} "
              f"{sum(c['timed-out'] for _, _, c, _ in table):>9} {all_equiv:>5} "
              f"{all_killed / (all_total - all_equiv):>6.0%}")
    if times:
        print(f"\ntime per mutant: mean {sum(times) / len(times):.1f} s, max {max(times):.1f} s")
    if survivors:
        print("\nsurvivors:")
        for m in survivors:
            print(f"  {m.path}:{m.line} [{m.operator.split('/')[-1]} #{m.occurrence}] {m.outcome}: "
                  f"`{m.before}` -> `{m.after}` ({m.detail})")
    if equivalent_list:
        print("\nequivalent (benchmarks/mutation-equivalents.yaml), by reason:")
        by_reason: dict[str, list[Mutant]] = {}
        for m in equivalent_list:
            by_reason.setdefault(m.reason, []).append(m)
        for reason, mutants in by_reason.items():
            print(f"  {reason}")
            for m in mutants:
                print(f"    {m.path}:{m.line} `{m.before}` -> `{m.after}`")
    if below:
        print(f"\nbelow the goal of {goal:.0%}: {', '.join(below)}")
    return 1 if below else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("run-one", help="cosmic-ray's test command: one run of a module's checks")
    one.add_argument("--module", required=True, choices=list(MODULES))
    one.add_argument("--budget", default="quick")
    one.add_argument("--seed", type=int, default=1)
    one.add_argument("--limit", type=float, default=300.0)
    one.add_argument("--request-timeout", type=float, default=5.0)
    parser.add_argument("--modules", help=f"comma-separated, default all: {', '.join(MODULES)}")
    parser.add_argument("--sample", type=int, default=0, help="mutants per module, 0 = all (default)")
    parser.add_argument("--seed", type=int, default=1, help="for the sample and the harness (default 1)")
    parser.add_argument("--budget", default="quick", help="harness budget (default quick)")
    parser.add_argument("--request-timeout", type=float, default=5.0)
    parser.add_argument("--timeout-factor", type=float, default=3.0,
                        help="per-mutant limit: this times the unmutated run, at least 60 s (default 3)")
    parser.add_argument("--goal", type=float, default=0.9, help="score every module must reach")
    parser.add_argument("--jobs", type=int, default=1,
                        help="modules mutated at once, each in its own scratch copy (default 1)")
    parser.add_argument("--workdir", help="folder for the scratch copies and results (default: a new one)")
    parser.add_argument("--report", metavar="WORKDIR", help="only print the report of a finished run")
    parser.add_argument("--resume", action="store_true",
                        help="with --workdir: finish an interrupted run (only its mutants not yet run)")
    parser.add_argument("--rerun-survivors", metavar="WORKDIR",
                        help="run an earlier run's survivors again, against the current checks")
    args = parser.parse_args(argv)
    if args.command == "run-one":
        return run_one(args.module, args.budget, args.seed, args.limit, args.request_timeout)
    if args.report:
        names = args.modules.split(",") if args.modules else list(MODULES)
        return report(Path(args.report), names, args.goal)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
