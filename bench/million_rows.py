"""P13 of docs/performance.md: peak memory and time over a history of about a million
commits. Opt-in (`python bench/run.py --rows P13`): generating the repository takes about
half an hour of one core, and each git log over it several minutes.

The pipeline: 40,000 deals (4,000 open), each worked on in about 25 commits within a sales
cycle of up to 150 days (`bench/gen.py OUT --deals 4000 --closed-ratio 9 --events-per-deal
25 --cycle-days 150`: 1,000,450 commits); `--quick` takes a tenth of the deals. Measured,
each in a fresh process: git's own `git log -M --name-status -z` (the baseline, timed once),
the cold index build (`report --json`, no index), `report` after one new commit, `history
DEAL`, `history --since 7d` and `changes --since 7d` (each after one new commit). A row is
met when its peak is at most 500 MB and its time within P8's ratio to git log (1.2× cold,
0.05× warm). MB is pipectl's own process (its peak resident set, read in it at exit) and
the note gives the largest git process it started: git maps its pack files, which count in
its resident set.

    python bench/million_rows.py --peak -- pipectl ARGS...   (one measured run, internal)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PY, TODAY, Bench, Row, Timing
from bench.history_rows import GIT_LOG, NewCommit, _scale, drop_index

SIZES = {False: 4_000, True: 400}  # open deals; nine times as many closed
EVENTS = 25
CYCLE_DAYS = 150
MAX_MB = 500
_PEAK = "PIPECTL-BENCH-PEAK"


def repo(ctx: Bench) -> Path:
    return ctx.work.pipeline(
        "million",
        SIZES[ctx.quick],
        closed_ratio=9,
        events_per_deal=EVENTS,
        cycle_days=CYCLE_DAYS,
    )


def measure(
    args: list[str], cwd: Path, before: Callable[[], None] | None = None
) -> tuple[float, float, float]:
    """(seconds, pipectl's own peak MB, its largest git's peak MB) of one run of `pipectl
    ARGS` (of the shell line, for git's own log: then both are its peak)."""
    if before is not None:
        before()
    env = {**os.environ, "LC_ALL": "C", "PIPECTL_TODAY": TODAY}
    if args[0] == "git":
        cmd = ["sh", "-c", " ".join(args) + " > /dev/null"]
    else:
        cmd = [PY, str(Path(__file__).resolve()), "--peak", "--", *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {err[-800:]}")
    tree = usage.ru_maxrss / 1024
    own = children = tree
    for line in err.splitlines():
        if line.startswith(_PEAK):
            own, children = (int(x) / 1024 for x in line.split()[1:3])
    return seconds, own, children


def rows_p13(ctx: Bench) -> list[Row]:
    path = repo(ctx)
    ctx.work.settle(path)
    return rows_of(path, ctx.runs)


def rows_of(path: Path, runs_each: int) -> list[Row]:
    """The P13 rows measured on the pipeline at `path` (a git repo at its top)."""
    scale = _scale(path)
    base = Timing()
    git_mb = 0.0
    for _ in range(max(1, runs_each // 3)):
        secs, _own, git_mb = measure(GIT_LOG.split(), path)
        base.seconds.append(secs)
        base.peak_kb = int(git_mb * 1024)
    deal = sorted(p.stem for p in (path / "qualifying").glob("*.md"))[0]
    cases: list[tuple[str, list[str], float]] = [
        ("report --json, cold (no index)", ["report", "--json"], 1.2),
        ("report after one new commit", ["report"], 0.05),
        ("history DEAL after one new commit", ["history", deal], 0.05),
        ("history --since 7d after one new commit", ["history", "--since", "7d"], 0.05),
        ("changes --since 7d after one new commit", ["changes", "--since", "7d"], 0.05),
    ]
    out = []
    new = NewCommit(path)
    try:
        for what, args, target in cases:
            cold = "cold" in what
            before = drop_index(path) if cold else new
            runs = max(1, runs_each // 3) if cold else runs_each
            if not cold:
                measure(args, path)  # the index made, the ends' blobs parsed
            ours = Timing()
            own_mb = git_peak = 0.0
            for _ in range(runs):
                secs, own, child = measure(args, path, before)
                ours.seconds.append(secs)
                own_mb, git_peak = max(own_mb, own), max(git_peak, child)
            ratios = [s / base.median for s in ours.seconds]
            row = Row("P13", f"pipectl {what}, {scale}", GIT_LOG, target)
            row.ratio, row.lo, row.hi = statistics.median(ratios), min(ratios), max(ratios)
            row.ours_s, row.base_s, row.runs = ours.median, base.median, runs
            row.ours_mb, row.base_mb, row.max_mb = own_mb, git_mb, MAX_MB
            row.note = (
                f"pipectl's own peak {own_mb:.0f} MB (target <= {MAX_MB}), its largest git "
                f"{git_peak:.0f} MB; git log alone {git_mb:.0f} MB"
            )
            out.append(row)
    finally:
        new.undo()
    return out


def _peak_main(argv: list[str]) -> int:
    """Run pipectl in this process; at exit, its own and its largest child's peak (KB)."""
    sys.argv = ["pipectl", *argv]
    from pipectl.__main__ import main

    try:
        code = main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"{_PEAK} {own} {child}", file=sys.stderr, flush=True)
    return code


ROWS: dict[str, Callable[[Bench], list[Row]]] = {"P13": rows_p13}

if __name__ == "__main__" and sys.argv[1:2] == ["--peak"]:
    rest = sys.argv[2:]
    sys.exit(_peak_main(rest[1:] if rest[:1] == ["--"] else rest))
