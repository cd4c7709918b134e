"""The benchmark of docs/performance.md: each scenario against its baseline, side by side.

    python bench/run.py [--quick] [--rows P1,P2,...] [--runs N] [--json out.json]

Generates seeded pipelines (bench/gen.py, cached in --workdir), then for each row runs the
pipectl command and its baseline alternately (A B B A ...), several times, each in a fresh
process, and prints per row the median ratio, its min–max over the paired runs, the medians
and the peak memory (max RSS of the process tree's largest process, from wait4). Timings are
never asserted anywhere: this is a report, not a test. It never touches the project's repo
except to read example_pipeline/, docs/maven-mapping.yaml and tests/data/maven-crm/.
The harness is bench/harness.py; P8-P10 (history at scale) are in bench/history_rows.py,
P13 (a million commits, only with --rows P13) in bench/million_rows.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import history_rows, lsp_rows, million_rows
from bench.harness import (
    HERE,
    MAVEN,
    PIPECTL,
    PROJECT,
    PY,
    TODAY,
    Bench,
    Cmd,
    Row,
    Timing,
    Workdir,
    compare,
    drop_cache,
    has_command,
    run_once,
    sh,
    table,
)

# --- the rows -------------------------------------------------------------------------------


def lint(repo: Path, cold: bool) -> Cmd:
    return Cmd(
        [*PIPECTL, "lint", "--today", TODAY], repo, drop_cache(repo) if cold else None, ok=(0, 1)
    )


def parse_baseline(repo: Path) -> Cmd:
    return Cmd([PY, str(HERE / "baselines.py"), "parse", str(repo)], repo)


def rows_p1(ctx: Bench) -> list[Row]:
    import_click = Cmd([PY, "-c", "import click"], PROJECT)
    a, b, r = compare(Cmd([*PIPECTL, "--version"], PROJECT), import_click, ctx.runs * 3)
    out = [Row("P1", "pipectl --version", 'python -c "import click"', 1.5).fill(a, b, r)]
    example = PROJECT / "example_pipeline"
    if not (example / "pipeline.yaml").exists():
        return [*out, Row("P1", "pipectl lint example_pipeline/", "-", 2.5, note="no example")]
    base = Cmd([PY, "-c", "import click, yaml"], PROJECT)
    a, b, r = compare(lint(example, cold=False), base, ctx.runs * 3)
    what = "pipectl lint on example_pipeline/"
    return [*out, Row("P1", what, 'python -c "import click, yaml"', 2.5).fill(a, b, r)]


def rows_p2_p3(ctx: Bench) -> list[Row]:
    n = ctx.size("p2")
    repo = ctx.work.pipeline("lint", n, history_deals=min(n, 600))
    base = parse_baseline(repo)
    what = f"pipectl lint, {n:,} open deals"
    a, b, r = compare(lint(repo, cold=True), base, ctx.runs)
    ctx.p2_repo = repo
    out = [Row("P2", f"{what}, cold", "read + CSafeLoader every file", 1.0).fill(a, b, r)]
    ctx.work.settle(repo)
    run_once(lint(repo, cold=False))  # fills the cache
    a, b, r = compare(lint(repo, cold=False), base, ctx.runs)
    return [*out, Row("P3", f"{what}, again (cache)", "the same script", 0.15).fill(a, b, r)]


def rows_p4(ctx: Bench) -> list[Row]:
    deals, commits = ctx.size("p4_deals"), ctx.size("p4_commits")
    open_deals = int(deals / 1.25)
    events = max(1, round(commits / deals) - 1)
    repo = ctx.work.pipeline("history", open_deals, events_per_deal=events)
    n_commits = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    base = sh("git log -M --name-status -z > /dev/null", repo)
    scale = f"{deals:,} deals, {int(n_commits):,} commits"
    out = []
    for name in ("report", "history"):
        if not has_command(name):
            out.append(Row("P4", f"pipectl {name}", "-", 1.5, note="not available yet"))
            continue
        # the walk itself: the history index is dropped before each run (P8 times it)
        ours = Cmd([*PIPECTL, name], repo, history_rows.drop_index(repo), {"PIPECTL_TODAY": TODAY})
        run_once(ours)
        a, b, r = compare(ours, base, ctx.runs)
        what = f"pipectl {name}, {scale}, no history index"
        out.append(Row("P4", what, "git log -M --name-status -z", 1.5).fill(a, b, r))
    return out


def _p5_cmds(repo: Path) -> dict[str, Cmd]:
    """log and move, by pipectl and by a shell line, on four different deals."""
    names = sorted(p.stem for p in (repo / "prospecting").glob("*.md"))[:4]
    state = {n: "prospecting" for n in names}

    def toggle(n: str) -> tuple[str, str]:
        src = state[n]
        state[n] = "qualifying" if src == "prospecting" else "prospecting"
        return src, state[n]

    def ours_move() -> list[str]:
        return [*PIPECTL, "move", names[2], toggle(names[2])[1], "--date", TODAY]

    def base_move() -> list[str]:
        src, dst = (f"{s}/{names[3]}.md" for s in toggle(names[3]))
        line = f"git mv {src} {dst} && git commit --only -q -m 'move {names[3]}' -- {src} {dst}"
        return ["sh", "-c", line]

    entry = f"  - {{date: {TODAY}, kind: call, summary: Checked in}}"
    f = f"prospecting/{names[1]}.md"
    return {
        "log": Cmd([*PIPECTL, "log", names[0], "call", "Checked in", "--date", TODAY], repo),
        "log_base": sh(
            f"printf '%s\\n' '{entry}' >> {f} && git commit --only -q -m 'log {names[1]}' -- {f}",
            repo,
        ),
        "move": Cmd(ours_move, repo),
        "move_base": Cmd(base_move, repo),
    }


def rows_p5(ctx: Bench) -> list[Row]:
    n = ctx.size("p5")
    big = _p5_cmds(ctx.work.pipeline("change", n, fresh=True, history_deals=200))
    small = _p5_cmds(ctx.work.pipeline("change", 50, fresh=True))
    out = []
    for verb in ("log", "move"):
        for cmds in (big, small):  # warm the page cache and git's index
            run_once(cmds[verb])
            run_once(cmds[verb + "_base"])
        a, b, r = compare(big[verb], big[verb + "_base"], ctx.runs)
        shell = "printf >> file" if verb == "log" else "git mv"
        base = f"{shell} + git commit --only"
        out.append(Row("P5", f"pipectl {verb}, {n:,} deals", base, 4.0).fill(a, b, r))
        own_big = _own_part(a, b)
        a2, b2, _ = compare(small[verb], small[verb + "_base"], ctx.runs)
        own_small = _own_part(a2, b2)
        a, b, r = compare(big[verb], small[verb], ctx.runs)
        row = Row("P5", f"pipectl {verb}: {n:,} deals vs 50", f"pipectl {verb}, 50 deals", 1.2)
        _, _, r2 = compare(big[verb + "_base"], small[verb + "_base"], ctx.runs)
        row.note = (
            f"the shell line itself grows {statistics.median(r2):.2f}x; pipectl's own part "
            f"(pipectl minus the shell line, paired) is {own_big * 1000:.0f} ms at {n:,} deals "
            f"and {own_small * 1000:.0f} ms at 50: {own_big / own_small:.2f}x"
        )
        out.append(row.fill(a, b, r))
    return out


def _own_part(ours: Timing, shell: Timing) -> float:
    """Median of pipectl's time minus the shell line's, run by run: what pipectl adds to git."""
    return statistics.median(a - b for a, b in zip(ours.seconds, shell.seconds, strict=True))


def rows_p6(ctx: Bench) -> list[Row]:
    n, n2 = ctx.size("p6"), ctx.size("p2")
    repo = ctx.work.pipeline("lint", n, history_deals=2000)
    small = ctx.p2_repo or ctx.work.pipeline("lint", n2, history_deals=min(n2, 600))
    a, b, r = compare(lint(repo, cold=True), lint(small, cold=True), max(2, ctx.runs // 2))
    scale = n // n2
    row = Row("P6", f"pipectl lint, {n:,} deals, cold", f"P2's pipectl lint x {scale}", 1.1)
    row.fill(a, b, [x / scale for x in r])
    row.base_s = b.median * scale
    row.max_mb = 400
    row.note = f"peak memory {a.peak_kb / 1024:.0f} MB (target <= 400 MB)"
    return [row]


def rows_p7(ctx: Bench) -> list[Row]:
    if not has_command("import"):
        return [Row("P7", "pipectl import", "-", 2.0, note="not available yet")]
    rows = ctx.size("p7")
    csv_path = MAVEN
    if rows < 8_800:
        csv_path = ctx.work.root / f"maven-{rows}.csv"
        lines = MAVEN.read_text(encoding="utf-8").splitlines(keepends=True)
        csv_path.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    ours_dir, base_dir = ctx.work.root / "import-ours", ctx.work.root / "import-base"

    def fresh_pipeline() -> None:
        shutil.rmtree(ours_dir, ignore_errors=True)
        _init_repo(ours_dir)
        subprocess.run([*PIPECTL, "init"], cwd=ours_dir, check=True, capture_output=True)

    def fresh_repo() -> None:
        shutil.rmtree(base_dir, ignore_errors=True)
        _init_repo(base_dir)

    mapping = PROJECT / "docs" / "maven-mapping.yaml"
    ours = Cmd(
        [*PIPECTL, "import", str(csv_path), "--mapping", str(mapping)], PROJECT, fresh_pipeline
    )
    ours.argv = [*PIPECTL, "-C", str(ours_dir), *ours.argv[len(PIPECTL) :]]
    base = Cmd(
        [PY, str(HERE / "baselines.py"), "write", str(csv_path), str(base_dir)], PROJECT, fresh_repo
    )
    a, b, r = compare(ours, base, max(2, ctx.runs // 2))
    what = f"pipectl import, Maven CSV, {rows:,} rows"
    return [Row("P7", what, "write the files + git add -A && git commit", 2.0).fill(a, b, r)]


def _init_repo(path: Path) -> None:
    path.mkdir(parents=True)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Bench"],
        ["config", "user.email", "bench@example.com"],
        ["config", "gc.auto", "0"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True)


# --- driver ---------------------------------------------------------------------------------

ROWS: dict[str, Callable[[Bench], list[Row]]] = {
    "P1": rows_p1,
    "P2": rows_p2_p3,
    "P4": rows_p4,
    "P5": rows_p5,
    "P6": rows_p6,
    "P7": rows_p7,
    **history_rows.ROWS,
    **lsp_rows.ROWS,
}
# run only when asked for by name (--rows P13): about an hour at full size
OPT_IN: dict[str, Callable[[Bench], list[Row]]] = {**million_rows.ROWS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for development")
    ap.add_argument(
        "--rows", default=",".join(ROWS), help="e.g. P1,P5 (P2 includes P3; P13 only by name)"
    )
    ap.add_argument("--runs", type=int, default=5, help="paired runs per row (P1: 3x)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "pipectl-bench"
    )
    args = ap.parse_args(argv)
    wanted = [r.strip().upper() for r in args.rows.split(",") if r.strip()]
    wanted = ["P2" if r == "P3" else r for r in wanted]
    every = {**ROWS, **OPT_IN}
    unknown = [r for r in wanted if r not in every]
    if unknown:
        ap.error(f"unknown rows: {', '.join(unknown)} (known: {', '.join(every)}, P3)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(Workdir(args.workdir, args.seed), args.runs, args.quick)
    results: list[Row] = []
    t0 = time.monotonic()
    for name in every:
        if name not in wanted:
            continue
        print(f"{name} ...", file=sys.stderr, flush=True)
        results.extend(every[name](bench))
        print(table(results), file=sys.stderr, flush=True)  # partial results survive a crash
    print(f"\n{table(results)}\n")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    command = " ".join(argv if argv is not None else sys.argv[1:])
    load = os.getloadavg()[0]
    print(
        f"{cores} cores, load {load:.1f}, {time.monotonic() - t0:.0f} s:",
        f"python bench/run.py {command}",
    )
    if args.json:
        data = [{**r.__dict__, "met": r.met} for r in results]
        args.json.write_text(
            json.dumps({"quick": args.quick, "cores": cores, "rows": data}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
