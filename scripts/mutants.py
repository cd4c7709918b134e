#!/usr/bin/env python3
"""Mutation testing of pipectl's tests: does the suite notice when the code is wrong?

Not part of CI (a full run takes ~20 minutes on 2 cores). Each mutant is one small change
to one source file: an operator swapped (`<` for `<=`, `and` for `or`, `+` for `-`), a
condition negated, a guard (`if ...: return/raise/continue`) removed, a constant changed.
It is applied in a COPY of the tree at a commit (`git archive REV`, into a temp folder, one
per job): the working tree is never touched, so the run measures committed code while
others keep editing. For each mutant the module's test subset runs with `-x` under a
timeout; a failing (or timed-out) run kills it, a passing run lets it survive.

Mutants come from two places: the named ones below (the ids of issue 13's mutation audit,
written by hand: each has a test in tests/robustness/test_mutants.py), and ones generated
from the AST of each module's files, sampled with a fixed seed when `--limit` asks.

    python scripts/mutants.py --list                    # what would run
    python scripts/mutants.py --module merge --limit 10 # one module, 10 generated mutants
    python scripts/mutants.py --named                   # only the audit's named mutants
    python scripts/mutants.py --limit 20                # every module (the run in docs/)

Exit 0 when every mutant run was killed, 1 when some survived, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import dataclasses
import difflib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANT_TESTS = "tests/robustness/test_mutants.py"

# Module -> (source globs, default tests). Tests are listed most telling first: with -x a
# killed mutant usually stops in the first file.
MODULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "kernel": (
        ("pipectl/*.py",),
        ("tests/test_ops.py", "tests/test_dealedit.py", "tests/test_schema.py", "tests/cli"),
    ),
    "lint": (("pipectl/lint/rules_*.py",), ("tests/lint",)),
    "merge": (("pipectl/team/merge.py",), ("tests/team/test_merge.py", "tests/team")),
    "history": (
        ("pipectl/history.py", "pipectl/histfold.py", "pipectl/stagetime.py"),
        ("tests/test_history.py", "tests/test_stagetime.py", "tests/test_report.py"),
    ),
    "report": (
        ("pipectl/figures.py", "pipectl/report.py"),
        ("tests/test_report.py", "tests/render", "tests/test_stagetime.py"),
    ),
    "import": (
        ("pipectl/transfer/*.py",),
        ("tests/transfer/test_importer.py", "tests/transfer"),
    ),
}
# Kernel files the other modules own, and narrower tests for some kernel files.
NOT_KERNEL = {"pipectl/history.py", "pipectl/histfold.py", "pipectl/stagetime.py"}
NOT_KERNEL |= {"pipectl/figures.py", "pipectl/report.py", "pipectl/__main__.py"}
NOT_KERNEL |= {"pipectl/version.py", "pipectl/__init__.py"}
FILE_TESTS: dict[str, tuple[str, ...]] = {
    "pipectl/dealedit.py": (
        "tests/test_dealedit.py",
        "tests/test_roundtrip.py",
        "tests/test_ops.py",
    ),
    "pipectl/yamltext.py": (
        "tests/test_yamltext.py",
        "tests/test_dealedit.py",
        "tests/test_roundtrip.py",
    ),
    "pipectl/yamlio.py": ("tests/robustness/test_hostile.py", "tests/test_dealedit.py"),
    "pipectl/schema.py": ("tests/test_schema.py", "tests/test_schema_writes.py", "tests/lint"),
    "pipectl/fieldtypes.py": ("tests/test_schema.py", "tests/test_schema_writes.py"),
    "pipectl/config.py": ("tests/test_config.py", "tests/lint/test_cli.py"),
    "pipectl/configspec.py": ("tests/test_config.py",),
    "pipectl/owners.py": ("tests/test_owners.py", "tests/test_roster.py"),
    "pipectl/locking.py": ("tests/test_locking.py", "tests/robustness/test_boundaries.py"),
    "pipectl/gitrepo.py": (
        "tests/test_gitrepo.py",
        "tests/robustness/test_git_states.py",
        "tests/test_ops.py",
    ),
    "pipectl/store.py": (
        "tests/test_ops.py",
        "tests/robustness/test_rollback.py",
        "tests/robustness/test_faults.py",
    ),
    "pipectl/gitlog.py": ("tests/test_history.py", "tests/test_history_index.py"),
    "pipectl/histindex.py": ("tests/test_history_index.py", "tests/test_history.py"),
    "pipectl/transfer/exporter.py": ("tests/transfer/test_exporter.py",),
    "pipectl/transfer/mapping.py": (
        "tests/transfer/test_mapping.py",
        "tests/transfer/test_importer.py",
    ),
}


@dataclasses.dataclass
class Mutant:
    id: str
    module: str
    path: str  # relative to the tree
    line: int
    what: str
    old: str  # the whole file before
    new: str  # the whole file after
    tests: tuple[str, ...] = ()

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.old.splitlines(keepends=True),
                self.new.splitlines(keepends=True),
                f"a/{self.path}",
                f"b/{self.path}",
                n=1,
            )
        )


# --- the audit's named mutants (issue 13), by hand ----------------------------------------

# (id, module, file, the text replaced (unique in the file), its replacement, what it breaks)
NAMED: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "Q4",
        "kernel",
        "pipectl/schema.py",
        "if value is None or value is False:",
        "if value is None:",
        "YAML boolean `no` (False) counted as a met criterion",
    ),
    (
        "Q5",
        "kernel",
        "pipectl/schema.py",
        "        return bool(value)\n    return True",
        "        return True\n    return True",
        "an empty `{}` or `[]` counted as a met criterion",
    ),
    (
        "T6",
        "lint",
        "pipectl/lint/rules_time.py",
        "        if limit <= 0:\n            continue\n        claim,",
        "        if limit < 0:\n            continue\n        claim,",
        "PL302 `days: 0` no longer disables the rule",
    ),
    (
        "T6b",
        "lint",
        "pipectl/lint/rules_time.py",
        "if since is None or limit <= 0:",
        "if since is None:",
        "PL301 `days: 0` no longer disables the rule",
    ),
    (
        "O14",
        "kernel",
        "pipectl/ops.py",
        '    if not summary.strip():\n        raise UsageError("a touchpoint needs a summary")\n',
        "",
        "`log` accepts an empty summary",
    ),
    (
        "O13",
        "kernel",
        "pipectl/ops.py",
        "        if ref.path.read_bytes() != before:",
        "        if False:",
        "`edit` overwrites a change made to the file while the editor was open",
    ),
    (
        "D2",
        "kernel",
        "pipectl/dealedit.py",
        '    if s[start:end].endswith("\\r\\n") != new.endswith("\\r\\n"):',
        "    if False:",
        "a replaced line loses its own CRLF in a file with mixed line endings",
    ),
    (
        "M4",
        "merge",
        "pipectl/team/merge.py",
        "removed = {x for x in base if x not in ours or x not in theirs}",
        "removed = {x for x in base if x not in ours and x not in theirs}",
        "a tag one side removed comes back in the merge",
    ),
    (
        "M4b",
        "merge",
        "pipectl/team/merge.py",
        "out += [x for x in theirs if x not in out and x not in removed]",
        "out += [x for x in theirs if x not in out]",
        "a tag ours removed comes back from theirs",
    ),
    (
        "R1",
        "report",
        "pipectl/figures.py",
        "(until is None or day <= until)",
        "(until is None or day < until)",
        "report --until leaves out its own last day",
    ),
    (
        "R5b",
        "history",
        "pipectl/history.py",
        "(until is None or e.day <= until)\n",
        "(until is None or e.day < until)\n",
        "history --until (events not from the index) leaves out its own last day",
    ),
    (
        "R5",
        "history",
        "pipectl/history.py",
        "if (since is None or day >= since) and (until is None or day <= until):",
        "if (since is None or day >= since) and (until is None or day < until):",
        "history --until leaves out its own last day",
    ),
    (
        "H1",
        "report",
        "pipectl/figures.py",
        "began = created_field if created_field and created_field <= e.day else e.day",
        "began = e.day",
        "the report's first stay ignores `created` (starts at the commit)",
    ),
    (
        "H2",
        "report",
        "pipectl/figures.py",
        "    stays.append(Stay(deal.stage, start))",
        "    stays.append(Stay(deal.stage, open_stay.start if open_stay else start))",
        "the report's current stay ignores `stage_entered` (starts at git's move)",
    ),
    (
        "T9",
        "history",
        "pipectl/histfold.py",
        "        if kind in (CREATED, MOVED):\n            dates[path] = day",
        "        if kind in (CREATED, MOVED):\n            dates.setdefault(path, day)",
        "git arrival takes the oldest arrival at a path, not the newest",
    ),
    (
        "T9b",
        "history",
        "pipectl/stagetime.py",
        "            dates[e.path] = e.day",
        "            dates.setdefault(e.path, e.day)",
        "git arrival (without the index) takes the oldest arrival at a path",
    ),
    (
        "I1",
        "import",
        "pipectl/transfer/importer.py",
        "    if not moving and new == text:\n        return None",
        "    if False:\n        return None",
        "re-importing an unchanged row rewrites the deal and commits",
    ),
    (
        "I1b",
        "import",
        "pipectl/transfer/importer.py",
        "        for key, value in row.fields.items()\n",
        "        for key, value in {**row.implied, **row.fields}.items()\n",
        "a re-import on a later day rewrites `created` (the implied default) and commits",
    ),
    (
        "I2",
        "import",
        "pipectl/transfer/importer.py",
        "        if not target.closed:\n            for key in",
        "        if False:\n            for key in",
        "a re-import reopening a closed deal keeps its `closed`/`lost_reason`",
    ),
    (
        "I4",
        "import",
        "pipectl/transfer/importer.py",
        'changes["stage_entered"] = row.implied.get("stage_entered", today)',
        'changes["stage_entered"] = today',
        "a re-import closing a deal dates its stage_entered today, not its close date",
    ),
)


def named_mutants(tree: Path) -> list[Mutant]:
    out = []
    for mid, module, path, old, new, what in NAMED:
        text = (tree / path).read_text(encoding="utf-8")
        if text.count(old) != 1:
            print(
                f"mutants: {mid}: its text is not once in {path} (the code moved?)", file=sys.stderr
            )
            continue
        line = text[: text.index(old)].count("\n") + 1
        tests = tuple(dict.fromkeys((MUTANT_TESTS, *tests_for(module, path))))
        out.append(Mutant(mid, module, path, line, what, text, text.replace(old, new), tests))
    return out


# --- generated mutants ----------------------------------------------------------------------

_CMP_SWAP: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BIN_SWAP: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv}
_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _segments(src: str) -> list[int]:
    """Offsets of each line's start, to turn (line, col) into an index."""
    starts, pos = [0], 0
    for line in src.splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


class _Finder(ast.NodeVisitor):
    """Collects (node, replacement source, description) inside function bodies, skipping
    annotations, docstrings and f-strings (a replaced segment there is not Python)."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.AST, str, str]] = []
        self.depth = 0

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        for stmt in node.body:
            self.visit(stmt)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def _add(self, node: ast.AST, new: ast.AST | str, what: str) -> None:
        if self.depth:
            src = new if isinstance(new, str) else f"({ast.unparse(new)})"
            self.found.append((node, src, what))

    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            swap = _CMP_SWAP.get(type(op))
            if swap is not None:
                ops = list(node.ops)
                ops[i] = swap()
                self._add(node, ast.Compare(node.left, ops, node.comparators), "comparison swapped")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self._add(node, ast.BoolOp(other, node.values), "and/or swapped")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        swap = _BIN_SWAP.get(type(node.op))
        if swap is not None and not isinstance(node.left, ast.Constant | ast.JoinedStr):
            self._add(node, ast.BinOp(node.left, swap(), node.right), "arithmetic swapped")
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._add(node, f"({ast.unparse(node.operand)})", "`not` removed")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bool):
            self._add(node, repr(not node.value), "boolean flipped")
        elif isinstance(node.value, int) and 0 <= node.value <= 10:
            self._add(node, repr(node.value + 1), "constant changed (boundary)")

    def _condition(self, node: ast.If | ast.While | ast.IfExp) -> None:
        self._add(node.test, f"(not ({ast.unparse(node.test)}))", "condition negated")
        if (
            isinstance(node, ast.If)
            and not node.orelse
            and all(isinstance(s, _EXITS) for s in node.body)
        ):
            self._add(node.test, "False", "guard removed")

    def visit_If(self, node: ast.If) -> None:
        self._condition(node)
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        self._condition(node)
        self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._condition(node)
        self.generic_visit(node)


def generated_mutants(tree: Path, module: str, path: str) -> list[Mutant]:
    src = (tree / path).read_text(encoding="utf-8")
    finder = _Finder()
    finder.visit(ast.parse(src))
    starts = _segments(src)
    out: list[Mutant] = []
    seen: set[str] = set()
    stem = Path(path).stem
    for node, repl, what in finder.found:
        a = starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        b = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        new = src[:a] + repl + src[b:]
        if new == src or new in seen:
            continue
        try:
            if ast.dump(ast.parse(new)) == ast.dump(ast.parse(src)):
                continue  # the same program (e.g. parentheses only)
        except SyntaxError:
            continue
        seen.add(new)
        line = node.lineno  # type: ignore[attr-defined]
        mid = f"{stem}:{line}:{len(out) + 1}"
        out.append(Mutant(mid, module, path, line, what, src, new, tests_for(module, path)))
    return out


def tests_for(module: str, path: str) -> tuple[str, ...]:
    """The file's tests, then this audit's (every mutant is checked against them too)."""
    tests = FILE_TESTS.get(path, MODULES[module][1])
    return tuple(dict.fromkeys((*tests, MUTANT_TESTS)))


def module_files(tree: Path, module: str) -> list[str]:
    files: set[str] = set()
    for pattern in MODULES[module][0]:
        files |= {str(p.relative_to(tree)) for p in tree.glob(pattern)}
    if module == "kernel":
        files -= NOT_KERNEL
    return sorted(files)


# --- running --------------------------------------------------------------------------------


def export_tree(rev: str, dest: Path) -> None:
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)


def run_tests(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
    """('passed' | 'failed' | 'timeout', seconds, the last lines of output)."""
    present = [t for t in tests if (tree / t).exists()]
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1", CI="1")
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *present]
    start = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start, ""
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
    return ("passed" if proc.returncode == 0 else "failed"), time.monotonic() - start, tail


class Pool:
    """One tree per job; a job applies a mutant to its own tree, tests, and puts it back."""

    def __init__(self, rev: str, jobs: int, overlay: list[str]) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="pipectl-mutants-"))
        self.free: list[Path] = []
        self.lock = threading.Lock()
        for i in range(jobs):
            tree = self.base / f"tree{i}"
            export_tree(rev, tree)
            for rel in overlay:  # files from the working tree (a test not committed yet)
                (tree / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, tree / rel)
            self.free.append(tree)

    def take(self) -> Path:
        with self.lock:
            return self.free.pop()

    def give(self, tree: Path) -> None:
        with self.lock:
            self.free.append(tree)

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--module", action="append", choices=sorted(MODULES), help="only these (repeatable)"
    )
    ap.add_argument(
        "--limit", type=int, default=None, help="generated mutants per module (sampled)"
    )
    ap.add_argument("--seed", type=int, default=13, help="the sample's seed (default 13)")
    ap.add_argument("--named", action="store_true", help="only the audit's named mutants")
    ap.add_argument("--no-named", action="store_true", help="only generated mutants")
    ap.add_argument(
        "--id", action="append", default=[], help="only mutants with this id (repeatable)"
    )
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    ap.add_argument("--rev", default="HEAD", help="the commit to mutate (default HEAD)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--timeout", type=float, default=300, help="seconds per test run (a timeout kills)"
    )
    ap.add_argument("--overlay", action="append", default=[], help="a working-tree file to copy in")
    ap.add_argument(
        "--diffs", action="store_true", help="print every survivor's diff (default: first 40)"
    )
    args = ap.parse_args(argv)
    modules = args.module or list(MODULES)

    probe = Path(tempfile.mkdtemp(prefix="pipectl-mutants-probe-"))
    try:
        export_tree(args.rev, probe / "t")
        mutants = select(probe / "t", modules, args)
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    if args.list:
        for m in mutants:
            print(f"{m.module:8} {m.id:24} {m.path}:{m.line}  {m.what}")
        print(f"{len(mutants)} mutants")
        return 0
    if not mutants:
        print("mutants: nothing selected", file=sys.stderr)
        return 2
    return run(mutants, args)


def select(tree: Path, modules: list[str], args: argparse.Namespace) -> list[Mutant]:
    chosen: list[Mutant] = []
    if not args.no_named:
        chosen += [m for m in named_mutants(tree) if m.module in modules]
    if not args.named:
        rng = random.Random(args.seed)
        for module in modules:
            pool = [
                m for p in module_files(tree, module) for m in generated_mutants(tree, module, p)
            ]
            if args.limit is not None and len(pool) > args.limit:
                pool = sorted(rng.sample(pool, args.limit), key=lambda m: (m.path, m.line))
            chosen += pool
    if args.id:
        chosen = [m for m in chosen if m.id in args.id]
    return chosen


def run(mutants: list[Mutant], args: argparse.Namespace) -> int:
    started = time.monotonic()
    pool = Pool(args.rev, args.jobs, args.overlay)
    try:
        # every test subset must pass on the unmutated code, or its mutants prove nothing
        subsets = sorted({m.tests for m in mutants})
        base: dict[tuple[str, ...], float] = {}
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:

            def baseline(tests: tuple[str, ...]) -> tuple[tuple[str, ...], str, float, str]:
                tree = pool.take()
                try:
                    return (tests, *run_tests(tree, tests, args.timeout))
                finally:
                    pool.give(tree)

            for tests, status, secs, tail in ex.map(baseline, subsets):
                if status != "passed":
                    print(
                        f"mutants: the unmutated tree fails {' '.join(tests)}:\n{tail}",
                        file=sys.stderr,
                    )
                    return 2
                base[tests] = secs
            print(
                f"baseline: {len(subsets)} test subsets pass ({time.monotonic() - started:.0f}s)",
                flush=True,
            )

            def one(m: Mutant) -> tuple[Mutant, str, float]:
                tree = pool.take()
                target = tree / m.path
                try:
                    target.write_text(m.new, encoding="utf-8")
                    limit = min(args.timeout, max(60.0, 3 * base[m.tests]))
                    status, secs, _tail = run_tests(tree, m.tests, limit)
                    return m, status, secs
                finally:
                    target.write_text(m.old, encoding="utf-8")
                    pool.give(tree)

            results = []
            for i, (m, status, secs) in enumerate(ex.map(one, mutants), 1):
                verdict = (
                    "survived"
                    if status == "passed"
                    else "killed" + (" (timeout)" if status == "timeout" else "")
                )
                print(
                    f"[{i}/{len(mutants)}] {m.id:24} {verdict:18} {secs:5.0f}s"
                    f"  {m.path}:{m.line} {m.what}",
                    flush=True,
                )
                results.append((m, status))
    finally:
        pool.close()
    return summary(results, time.monotonic() - started, args.diffs)


def summary(results: list[tuple[Mutant, str]], secs: float, all_diffs: bool) -> int:
    print(f"\n{'module':8} {'mutants':>7} {'killed':>6} {'survived':>8} {'score':>6}")
    survivors = []
    for module in MODULES:
        mine = [(m, s) for m, s in results if m.module == module]
        if not mine:
            continue
        alive = [m for m, s in mine if s == "passed"]
        survivors += alive
        killed = len(mine) - len(alive)
        print(
            f"{module:8} {len(mine):7} {killed:6} {len(alive):8} {100 * killed / len(mine):5.0f}%"
        )
    print(f"({len(results)} mutants in {secs / 60:.1f} min)")
    if survivors:
        print("\nsurvivors:")
        for m in survivors if all_diffs else survivors[:40]:
            print(f"\n# {m.id} ({m.module}): {m.what}\n{m.diff()}", end="")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
