"""The Maven CRM export (tests/data/maven-crm/) as a dated git history, for the history rows
of docs/performance.md ("P9 on the CRM import").

    python bench/crm_history.py OUT [--rows N]

`pipectl import` turns the export into deal files in ONE commit, so a ratio to `git log` over
that repository only measures start-up. This script gives the import a real past:

1. OUT is a fresh repository (`git init`, `pipectl init`), and the CSV (its first N rows with
   `--rows`, as bench/run.py's P7 cuts it) is imported there with docs/maven-mapping.yaml, as
   P7 does. That commit is kept as the tag `crm-import`.
2. The closed rows (Won, Lost) are imported again in a scratch repository as they stood while
   open: stage `Engaging`, no close date, no close value. That gives each closed deal the file
   pipectl itself writes for it while engaged, in the stage folder the mapping gives an
   engaged deal (`connecting`).
3. One `git fast-import` stream (never a git process per deal) replays it, on `main`:
   `pipectl init`'s tree on the day before the first engage date, then each prospect (the
   export dates none) added that day; then, day by day, each deal added on its engage date
   (a closed deal as its engaged file, an open one as imported), and each closed deal moved
   to won/ or lost/ on its close date as the import wrote it (its final stage and bytes).
   Each commit is one deal's, with pipectl's own message and trailers; its author and
   committer are the deal's sales agent (the mapping's `owner:` column) when sales_teams.csv
   lists the agent, the bench's own identity otherwise; both dates are that day (09:00 UTC
   plus a second per commit of the day, so the day's order is the commits' order).
4. The replay's last tree must be byte-identical to the import's (`git diff --stat
   crm-import HEAD` empty): the script fails otherwise. pipectl's caches made by the import
   are dropped (they describe a history that is gone).

Used by bench/history_rows.py and tests/test_bench_crm.py; stdlib and git only (pipectl runs
as a command).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CRM = PROJECT / "tests" / "data" / "maven-crm"
CSV = CRM / "sales_pipeline.csv"
TEAMS = CRM / "sales_teams.csv"
MAPPING = PROJECT / "docs" / "maven-mapping.yaml"
_BIN = Path(sys.executable).parent / "pipectl"
PIPECTL = [str(_BIN)] if _BIN.exists() else [sys.executable, "-m", "pipectl"]
VERSION = 1  # bumped when the replay changes: bench/history_rows.py rebuilds its copy

# The export's columns docs/maven-mapping.yaml reads (id, owner, stage, created, closed)
ID, AGENT, STAGE, ENGAGED, CLOSED, VALUE = (
    "opportunity_id", "sales_agent", "deal_stage", "engage_date", "close_date", "close_value"
)  # fmt: skip
OPEN = "Engaging"  # the export's stage of an engaged deal not closed yet
FINAL = {"Won": "won", "Lost": "lost"}  # closing stage -> pipectl's action and verb
BENCH = ("Bench", "bench@example.com")
TAG = "crm-import"


def parse_day(text: str) -> dt.date | None:
    """The export's US dates (M/D/YYYY, the mapping's date_format); empty is None."""
    if not text:
        return None
    month, day, year = (int(p) for p in text.split("/"))
    return dt.date(year, month, day)


def read_rows(csv_path: Path) -> list[dict[str, str]]:
    with csv_path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def cut_csv(rows: int, out: Path) -> Path:
    """The export's first `rows` rows (its header kept), as bench/run.py's P7 cuts it."""
    lines = CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return out


def build(out: Path, csv_path: Path = CSV, teams: Path = TEAMS) -> dict[str, object]:
    """Make OUT: the import tagged `crm-import`, `main` its replayed history (see above)."""
    rows = read_rows(csv_path)
    imported = _import(out, csv_path)
    init = _git(out, "rev-parse", "HEAD~1")
    _git(out, "update-ref", f"refs/tags/{TAG}", imported)
    with tempfile.TemporaryDirectory(prefix="crm-open-") as tmp:
        scratch = Path(tmp) / "open"
        _import(scratch, _open_csv(rows, Path(tmp) / "open.csv"))
        opened = _files(scratch)  # closed deals as they stood engaged
    final = _files(out)
    agents = {r[AGENT] for r in read_rows(teams)}
    stream, commits, first, last = _stream(rows, out, init, final, opened, agents)
    subprocess.run(
        ["git", "fast-import", "--quiet", "--done", "--force"],
        cwd=out,
        input=stream,
        check=True,
        capture_output=True,
    )
    _git(out, "reset", "-q", "--hard", "main")  # the index to the replay (the same files)
    shutil.rmtree(out / ".git" / "pipectl" / "cache", ignore_errors=True)
    differ = _git(out, "diff", "--stat", TAG, "HEAD")
    if differ:
        raise RuntimeError(f"the replay's tree is not the import's:\n{differ}")
    return {"deals": len(rows), "commits": commits, "first": first, "last": last, "tag": TAG}


def _import(repo: Path, csv_path: Path) -> str:
    """A fresh repository with `pipectl init` and `pipectl import` (P7's way); the import's
    commit."""
    repo.mkdir(parents=True)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", BENCH[0]],
        ["config", "user.email", BENCH[1]],
        ["config", "gc.auto", "0"],
        ["config", "commit.gpgsign", "false"],
    ):
        _git(repo, *args)
    for argv in (["init"], ["import", str(csv_path), "--mapping", str(MAPPING)]):
        subprocess.run([*PIPECTL, "-C", str(repo), *argv], check=True, capture_output=True)
    return _git(repo, "rev-parse", "HEAD")


def _open_csv(rows: list[dict[str, str]], out: Path) -> Path:
    """The closed rows as they stood while open: engaged, no close date or value."""
    if not rows:
        raise ValueError("the export has no rows")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        if r[STAGE] in FINAL:
            writer.writerow({**r, STAGE: OPEN, CLOSED: "", VALUE: ""})
    out.write_text(buf.getvalue(), encoding="utf-8")
    return out


def _files(repo: Path) -> dict[str, tuple[str, bytes]]:
    """Each deal file of HEAD's tree (pipectl's import wrote them there): id -> path, bytes.
    Read from git, not the disk, so the bytes are the blobs'."""
    listing = _git(repo, "ls-tree", "-r", "-z", "--format=%(objectname) %(path)", "HEAD")
    entries = [e.split(" ", 1) for e in listing.split("\0") if e.endswith(".md")]
    batch = "".join(f"{sha}\n" for sha, _ in entries).encode()
    raw = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=repo, input=batch, check=True, capture_output=True
    ).stdout
    out, at = {}, 0
    for _sha, path in entries:
        end = raw.index(b"\n", at)
        size = int(raw[at:end].split()[2])
        out[Path(path).stem] = (path, raw[end + 1 : end + 1 + size])
        at = end + 2 + size  # the blob, then its newline
    return out


def _stream(
    rows: list[dict[str, str]],
    repo: Path,
    init: str,
    final: dict[str, tuple[str, bytes]],
    opened: dict[str, tuple[str, bytes]],
    agents: set[str],
) -> tuple[bytes, int, str, str]:
    """The fast-import stream: the commits day by day; their number, first and last day."""
    adds: dict[dt.date, list[dict[str, str]]] = {}
    closes: dict[dt.date, list[dict[str, str]]] = {}
    prospects = []
    for r in rows:
        engaged, closed = parse_day(r[ENGAGED]), parse_day(r[CLOSED])
        if engaged is None:
            prospects.append(r)
        else:
            adds.setdefault(engaged, []).append(r)
        if closed is not None:
            if engaged is None or closed < engaged or r[STAGE] not in FINAL:
                raise ValueError(
                    f"{r[ID]}: closed {r[CLOSED]} but engaged {r[ENGAGED]!r}, {r[STAGE]}"
                )
            closes.setdefault(closed, []).append(r)
    days = sorted({*adds, *closes})
    start = days[0] - dt.timedelta(days=1) if days else dt.date(2016, 1, 1)
    out: list[bytes] = [b"reset refs/heads/main\n"]
    n = 0

    def commit(day: dt.date, k: int, who: tuple[str, str], msg: str, ops: list[bytes]) -> None:
        nonlocal n
        when = int(dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.timezone.utc).timestamp())
        ident = f"{who[0]} <{who[1]}> {when + k} +0000\n".encode()
        data = msg.encode()
        out.extend([b"commit refs/heads/main\n", b"author " + ident, b"committer " + ident])
        out.append(b"data %d\n%s\n" % (len(data), data))
        out.extend(ops)
        n += 1

    tree = _git(repo, "ls-tree", "-r", "-z", "--format=%(objectmode) %(objectname) %(path)", init)
    init_ops = [f"M {e}\n".encode() for e in tree.split("\0") if e]
    commit(start, 0, BENCH, _git(repo, "log", "-1", "--format=%B", init) + "\n", init_ops)

    def who(r: dict[str, str]) -> tuple[str, str]:
        name = r[AGENT]
        return (
            (name, ".".join(name.lower().split()) + "@maven-crm.example")
            if name in agents
            else BENCH
        )

    def add(day: dt.date, k: int, r: dict[str, str], files: dict[str, tuple[str, bytes]]) -> None:
        deal = r[ID].lower()
        path, blob = files[deal]
        subject = f"add {deal}: {_title(blob)} ({path.split('/')[0]})"
        commit(day, k, who(r), _message(subject, "add", deal), [_modify(path, blob)])

    for k, r in enumerate(prospects, start=1):
        add(start, k, r, final)
    for day in days:
        k = 0
        for r in adds.get(day, []):
            add(day, k, r, opened if r[STAGE] in FINAL else final)
            k += 1
        for r in closes.get(day, []):
            deal, verb = r[ID].lower(), FINAL[r[STAGE]]
            (src, _), (dst, blob) = opened[deal], final[deal]
            subject = f"{verb} {deal}: {src.split('/')[0]} -> {dst.split('/')[0]}"
            ops = [f"D {src}\n".encode(), _modify(dst, blob)]
            commit(day, k, who(r), _message(subject, verb, deal), ops)
            k += 1
    out.append(b"done\n")
    return b"".join(out), n, start.isoformat(), (days[-1] if days else start).isoformat()


def _modify(path: str, blob: bytes) -> bytes:
    return f"M 100644 inline {path}\n".encode() + b"data %d\n%s\n" % (len(blob), blob)


def _message(subject: str, action: str, deal: str) -> str:
    return f"{subject}\n\nPipectl-Action: {action}\nPipectl-Deal: {deal}\n"


def _title(blob: bytes) -> str:
    """The deal's title as its file spells it (the first `title:` line), for the subject."""
    for line in blob.decode("utf-8").splitlines():
        if line.startswith("title:"):
            return line[len("title:") :].strip().strip("'\"")
    return ""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="a new folder for the repository")
    ap.add_argument("--rows", type=int, help="only the export's first N rows")
    args = ap.parse_args(argv)
    if args.out.exists():
        ap.error(f"{args.out} exists")
    with tempfile.TemporaryDirectory(prefix="crm-cut-") as tmp:
        csv_path = cut_csv(args.rows, Path(tmp) / "cut.csv") if args.rows else CSV
        print(build(args.out, csv_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
