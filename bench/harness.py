"""The benchmark's harness: commands timed in fresh processes, side by side with their
baselines (A B B A ...), the rows of the results table, and the generated pipelines.

Used by bench/run.py (P1-P7) and bench/history_rows.py (P8-P10); never by pipectl or its
tests. Timings are never asserted anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from bench import gen  # noqa: E402

PY = sys.executable
BIN = Path(PY).parent / "pipectl"
PIPECTL = [str(BIN)] if BIN.exists() else [PY, "-m", "pipectl"]
TODAY = gen.TODAY.isoformat()
MAVEN = PROJECT / "tests" / "data" / "maven-crm" / "sales_pipeline.csv"
SIZES = {  # row -> (full, quick)
    "p2": (10_000, 1_000),
    "p4_deals": (2_000, 300),
    "p4_commits": (10_000, 1_500),
    "p5": (10_000, 1_000),
    "p6": (100_000, 10_000),
    "p7": (8_800, 1_000),
}


@dataclass
class Cmd:
    """One command to time: argv, where, and an untimed step before each run."""

    argv: list[str] | Callable[[], list[str]]
    cwd: Path
    before: Callable[[], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    ok: tuple[int, ...] = (0,)


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    peak_kb: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run_once(cmd: Cmd) -> tuple[float, int]:
    """Wall time and max RSS (KB) of one run; the `before` step is not timed."""
    if cmd.before is not None:
        cmd.before()
    argv = cmd.argv() if callable(cmd.argv) else cmd.argv
    env = {**os.environ, "LC_ALL": "C", **cmd.env}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cmd.cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in cmd.ok:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err.decode()[-800:]}")
    return elapsed, usage.ru_maxrss


def compare(ours: Cmd, base: Cmd, runs: int) -> tuple[Timing, Timing, list[float]]:
    """Run both alternately (ABBA order), `runs` times each; paired ratios ours/base."""
    a, b = Timing(), Timing()
    ratios = []
    for i in range(runs):
        order = ((ours, a), (base, b)) if i % 2 == 0 else ((base, b), (ours, a))
        pair = {}
        for cmd, timing in order:
            secs, kb = run_once(cmd)
            timing.seconds.append(secs)
            timing.peak_kb = max(timing.peak_kb, kb)
            pair[id(timing)] = secs
        ratios.append(pair[id(a)] / pair[id(b)])
    return a, b, ratios


@dataclass
class Row:
    """One line of the results table."""

    row: str
    what: str
    baseline: str
    target: float
    ratio: float | None = None
    lo: float | None = None
    hi: float | None = None
    ours_s: float | None = None
    base_s: float | None = None
    ours_mb: float | None = None
    base_mb: float | None = None
    runs: int = 0
    note: str = ""
    max_mb: float | None = None  # a memory target beside the ratio (P6)

    @property
    def met(self) -> bool | None:
        if self.ratio is None:
            return None
        fits = self.max_mb is None or (self.ours_mb or 0) <= self.max_mb
        return self.ratio <= self.target and fits

    def fill(self, a: Timing, b: Timing, ratios: Sequence[float]) -> Row:
        self.ratio, self.lo, self.hi = statistics.median(ratios), min(ratios), max(ratios)
        self.ours_s, self.base_s = a.median, b.median
        self.ours_mb, self.base_mb = a.peak_kb / 1024, b.peak_kb / 1024
        self.runs = len(ratios)
        return self


def has_command(name: str) -> bool:
    if name == "--version":
        return True
    proc = subprocess.run([*PIPECTL, name, "--help"], capture_output=True)
    return proc.returncode == 0


# --- pipelines ------------------------------------------------------------------------------


class Workdir:
    """Generated repositories, reused between runs when the generator has not changed."""

    def __init__(self, root: Path, seed: int):
        self.root = root
        self.seed = seed
        self.made: dict[Path, float] = {}

    def pipeline(self, name: str, open_deals: int, fresh: bool = False, **kw: object) -> Path:
        key = f"{name}-{open_deals}-s{self.seed}-g{gen.GEN_VERSION}"
        for k, v in sorted(kw.items()):
            key += f"-{k}{v}"
        path = self.root / key
        stamp = path / ".git" / "bench-complete"
        if fresh and path.exists():
            shutil.rmtree(path)
        if not stamp.exists():
            if path.exists():
                shutil.rmtree(path)
            t0 = time.monotonic()
            print(f"  generating {key} ...", end="", flush=True, file=sys.stderr)
            stats = gen.generate(path, open_deals, seed=self.seed, **kw)  # type: ignore[arg-type]
            print(f" {stats} ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
            stamp.write_text(json.dumps(stats))
            self.made[path] = time.time()
        return path

    def settle(self, path: Path) -> None:
        """Files younger than the cache's racy window are never cached: let them age."""
        from pipectl.caches.framed import RACY_WINDOW_NS

        made = self.made.get(path)
        if made is not None:
            time.sleep(max(0.0, made + RACY_WINDOW_NS / 1e9 + 0.5 - time.time()))


def drop_cache(repo: Path) -> Callable[[], None]:
    return lambda: shutil.rmtree(repo / ".git" / "pipectl" / "cache", ignore_errors=True)


# --- the rows -------------------------------------------------------------------------------


def sh(line: str, cwd: Path, before: Callable[[], None] | None = None) -> Cmd:
    return Cmd(["sh", "-c", line], cwd, before)


@dataclass
class Bench:
    work: Workdir
    runs: int
    quick: bool
    p2_repo: Path | None = None

    def size(self, key: str) -> int:
        full, quick = SIZES[key]
        return quick if self.quick else full


def table(rows: Sequence[Row]) -> str:
    head = (
        "row",
        "scenario",
        "baseline",
        "target",
        "ratio",
        "min–max",
        "ours s",
        "base s",
        "ours MB",
        "met",
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.ratio is None:
            cells = [r.row, r.what, r.baseline, f"≤ {r.target:g}×", r.note, "", "", "", "", ""]
        else:
            met = "yes" if r.met else "**no**"
            cells = [
                r.row,
                r.what,
                r.baseline,
                f"≤ {r.target:g}×",
                f"{r.ratio:.2f}×",
                f"{r.lo:.2f}–{r.hi:.2f}",
                f"{r.ours_s:.3f}",
                f"{r.base_s:.3f}",
                f"{r.ours_mb:.0f}",
                met,
            ]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {r.row} {r.what}: {r.note}" for r in rows if r.note and r.ratio is not None]
    return "\n".join(lines + (["", *notes] if notes else []))
