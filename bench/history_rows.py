"""P8-P10 of docs/performance.md: `report` and `history` over a long history, with no history
index yet (cold) and after one new commit (warm), and how a warm report grows with the
history behind it.

Full size is 20,000 deals and about 120,000 commits (`bench/gen.py OUT --deals 16000
--history-deals 20000 --events-per-deal 5`); `--quick` takes a tenth. A warm run is timed
after one new commit made by `pipectl log` (not timed); the commits made are taken back
after the row (the generated repository is reused by the next run of the benchmark).

"P9 on the CRM" (key P9CRM, `--rows P9CRM`): the same two commands over the Maven CRM export
replayed as its own dated history (bench/crm_history.py: 8,800 deals, about 15,500 commits over
2016-2017; `--quick` its first 1,000 rows), `changes --since 30d` up to the export's last day
and `report --as-of` a month before it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import crm_history
from bench.harness import PIPECTL, TODAY, Bench, Cmd, Row, compare, has_command, run_once, sh

# (open deals, deals with their own history): the long history, and the same deals with a
# twelfth of it (P10)
LONG = {False: (16_000, 20_000), True: (1_600, 2_000)}
SHORT = {False: (16_000, 1_667), True: (1_600, 167)}
EVENTS = 5
GIT_LOG = "git log -M --name-status -z"


def drop_index(repo: Path) -> Callable[[], None]:
    """Forget the history index only (the parsed-deal cache stays, as after any command)."""

    def drop() -> None:
        for folder in (repo / ".git" / "pipectl" / "cache").glob("*/history"):
            shutil.rmtree(folder, ignore_errors=True)

    return drop


class NewCommit:
    """Before each run: one new commit, `pipectl log` on the next open deal (of prospecting,
    or of connecting where prospecting has none: the CRM's first rows). Dated now, after any
    window of the past (whose answer may then be kept), or with `dated` (YYYY-MM-DD) late on
    that day, a minute apart: inside a window that ends then, which must then be read anew."""

    def __init__(self, repo: Path, dated: str | None = None):
        self.repo, self.dated = repo, dated
        for stage in ("prospecting", "connecting"):
            self.deals = sorted(p.stem for p in (repo / stage).glob("*.md"))[:50]
            if self.deals:
                break
        self.n = 0
        self.tip = _git(repo, "rev-parse", "HEAD")

    def __call__(self) -> None:
        deal = self.deals[self.n % len(self.deals)]
        self.n += 1
        argv = [*PIPECTL, "log", deal, "note", f"Bench note {self.n}", "--date", TODAY]
        env = None
        if self.dated is not None:
            stamp = f"{self.dated}T22:{self.n % 60:02d}:00+00:00"
            env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        subprocess.run(argv, cwd=self.repo, check=True, capture_output=True, env=env)

    def undo(self) -> None:
        """The generated history back as it was (the index follows it at the next run)."""
        _git(self.repo, "reset", "-q", "--hard", self.tip)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def _repo(ctx: Bench, sizes: dict[bool, tuple[int, int]]) -> Path:
    open_deals, with_history = sizes[ctx.quick]
    return ctx.work.pipeline(
        "history", open_deals, history_deals=with_history, events_per_deal=EVENTS
    )


def _scale(repo: Path) -> str:
    deals = sum(1 for _ in repo.glob("*/*.md"))
    return f"{deals:,} deals, {int(_git(repo, 'rev-list', '--count', 'HEAD')):,} commits"


def rows_p8(ctx: Bench) -> list[Row]:
    repo = _repo(ctx, LONG)
    ctx.work.settle(repo)
    scale = _scale(repo)
    base = sh(f"{GIT_LOG} > /dev/null", repo)
    run_once(base)  # the page cache warm for both sides
    out = []
    cold_runs = max(2, ctx.runs // 2)
    for name in ("report", "history"):
        ours = Cmd([*PIPECTL, name], repo, drop_index(repo), env={"PIPECTL_TODAY": TODAY})
        a, b, r = compare(ours, base, cold_runs)
        what = f"pipectl {name}, {scale}, cold (no index)"
        out.append(Row("P8", what, GIT_LOG, 1.2).fill(a, b, r))
    for name in ("report", "history"):
        new = NewCommit(repo)
        try:
            run_once(Cmd([*PIPECTL, name], repo))  # the index made (history: with its fields)
            ours = Cmd([*PIPECTL, name], repo, new, env={"PIPECTL_TODAY": TODAY})
            a, b, r = compare(ours, base, ctx.runs)
        finally:
            new.undo()
        what = f"pipectl {name}, {scale}, after one new commit"
        out.append(Row("P8", what, GIT_LOG, 0.05).fill(a, b, r))
    return out


def rows_p9(ctx: Bench) -> list[Row]:
    out = []
    if not has_command("changes"):
        note = "not available yet (issue 15: the weekly review)"
        out.append(Row("P9", "pipectl changes --since 7d", GIT_LOG, 0.05, note=note))
    out.append(_as_of_row(ctx))
    return out


def _as_of_row(ctx: Bench) -> Row:
    """`report --as-of` a week before the last generated commit, after one new commit: the
    index is brought up to HEAD and cut at that day's commit, the day's deals parsed before
    (the run that made the index read them)."""
    repo = _repo(ctx, LONG)
    ctx.work.settle(repo)
    last = dt.date.fromisoformat(_git(repo, "log", "-1", "--format=%cs", "HEAD"))
    day = (last - dt.timedelta(days=7)).isoformat()
    base = sh(f"{GIT_LOG} > /dev/null", repo)
    run_once(base)  # the page cache warm for both sides
    argv = [*PIPECTL, "report", "--as-of", day]
    new = NewCommit(repo)
    try:
        run_once(Cmd(argv, repo))  # the index made, the day's blobs parsed
        a, b, r = compare(Cmd(argv, repo, new), base, ctx.runs)
    finally:
        new.undo()
    what = f"pipectl report --as-of (a week back), {_scale(repo)}, after one new commit"
    return Row("P9", what, GIT_LOG, 0.05).fill(a, b, r)


def rows_p10(ctx: Bench) -> list[Row]:
    long, short = _repo(ctx, LONG), _repo(ctx, SHORT)
    for repo in (long, short):
        ctx.work.settle(repo)
    news = [NewCommit(long), NewCommit(short)]
    try:
        for repo in (long, short):
            run_once(Cmd([*PIPECTL, "report"], repo))  # the index made
        env = {"PIPECTL_TODAY": TODAY}
        ours = Cmd([*PIPECTL, "report"], long, news[0], env=env)
        base = Cmd([*PIPECTL, "report"], short, news[1], env=env)
        a, b, r = compare(ours, base, ctx.runs)
    finally:
        for new in news:
            new.undo()
    what = f"pipectl report after one new commit: {_scale(long)} vs {_scale(short)}"
    row = Row("P10", what, "the same, a twelfth of the history", 1.5).fill(a, b, r)
    return [row]


def _changes_rows(ctx: Bench) -> list[Row]:
    """`changes` over the generated history's last week (and month), after one new commit:
    dated after the window (its two ends held: the answer kept), or in the window (one git
    log over the new commit for the index, its blobs, the end's tree again)."""
    repo = _repo(ctx, LONG)
    ctx.work.settle(repo)
    last = _git(repo, "log", "-1", "--format=%cs", "HEAD")
    base = sh(f"{GIT_LOG} > /dev/null", repo)
    run_once(base)  # the page cache warm for both sides
    out = []
    for since, dated in (("7d", None), ("7d", last), ("30d", last)):
        argv = [*PIPECTL, "changes", "--since", since, "--until", last, "--json"]
        new = NewCommit(repo, dated)
        try:
            run_once(Cmd(argv, repo))  # the index made, both ends' blobs parsed
            ours = Cmd(argv, repo, new, env={"PIPECTL_TODAY": TODAY})
            a, b, r = compare(ours, base, ctx.runs)
        finally:
            new.undo()
        when = "in the window" if dated else "dated after the window"
        what = f"pipectl changes --since {since}, {_scale(repo)}, after one new commit {when}"
        out.append(Row("P9", what, GIT_LOG, 0.05).fill(a, b, r))
    return out


def _p9(ctx: Bench) -> list[Row]:
    return [*(_changes_rows(ctx) if has_command("changes") else []), *rows_p9(ctx)]


def crm_repo(ctx: Bench) -> Path:
    """The CRM export replayed as a dated history (bench/crm_history.py), made once per
    version of the replay and kept in the work folder like the generated pipelines."""
    rows = ctx.size("p7")
    path = ctx.work.root / f"crm-history-{rows}-v{crm_history.VERSION}"
    stamp = path / ".git" / "bench-complete"
    if not stamp.exists():
        shutil.rmtree(path, ignore_errors=True)
        t0 = time.monotonic()
        print(f"  replaying the CRM ({rows:,} rows) ...", end="", flush=True, file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="crm-cut-") as tmp:
            csv = crm_history.CSV
            if rows < 8_800:
                csv = crm_history.cut_csv(rows, Path(tmp) / "cut.csv")
            stats = crm_history.build(path, csv)
        print(f" {stats} ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
        stamp.write_text(json.dumps(stats))
        ctx.work.made[path] = time.time()
    return path


def rows_p9_crm(ctx: Bench) -> list[Row]:
    """P9 on the CRM: `changes --since 30d` up to the export's last day and `report --as-of`
    a month before it, each after one new commit, against the same git log."""
    if not has_command("changes"):
        return [Row("P9", "pipectl changes on the CRM", GIT_LOG, 0.05, note="not available yet")]
    repo = crm_repo(ctx)
    ctx.work.settle(repo)
    last = dt.date.fromisoformat(json.loads((repo / ".git" / "bench-complete").read_text())["last"])
    month_back = _month_before(last).isoformat()
    scale = f"the CRM replayed, {_scale(repo)}"
    base = sh(f"{GIT_LOG} > /dev/null", repo)
    run_once(base)  # the page cache warm for both sides
    out = []
    window = ["changes", "--since", "30d", "--until", last.isoformat(), "--json"]
    for argv, what, dated in (
        (window, "changes --since 30d", None),
        (window, "changes --since 30d", last.isoformat()),
        (["report", "--as-of", month_back, "--json"], "report --as-of (a month back)", None),
    ):
        cmd = [*PIPECTL, *argv]
        new = NewCommit(repo, dated)
        try:
            run_once(Cmd(cmd, repo))  # the index made, the ends' blobs parsed
            a, b, r = compare(Cmd(cmd, repo, new, env={"PIPECTL_TODAY": TODAY}), base, ctx.runs)
        finally:
            new.undo()
        when = " in the window" if dated else (" dated after the window" if argv is window else "")
        row = Row("P9", f"pipectl {what}, {scale}, after one new commit{when}", GIT_LOG, 0.05)
        out.append(row.fill(a, b, r))
    return out


def _month_before(day: dt.date) -> dt.date:
    """The same day of the month before (its last day when shorter: 31 Mar -> 28/29 Feb)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    first_after = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (first_after - dt.timedelta(days=1)).day))


ROWS: dict[str, Callable[[Bench], list[Row]]] = {
    "P8": rows_p8,
    "P9": _p9,
    "P9CRM": rows_p9_crm,  # bench/run.py upper-cases --rows: `--rows P9crm` works too
    "P10": rows_p10,
}
