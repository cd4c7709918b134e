"""bench/crm_history.py: the Maven CRM export replayed as a dated history ends on the import's
own tree, every commit carries its CSV row's date and sales agent, and `pipectl changes` over a
window of the replay counts what the CSV says happened in it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import crm_history

CUT, PROSPECTS = 300, 12  # the export's first rows (as P7 cuts it) and its last, all prospects


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    return crm_history.read_rows(_cut(tmp_path_factory.mktemp("crm-csv") / "cut.csv"))


def _cut(path: Path) -> Path:
    lines = crm_history.CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: CUT + 1] + lines[-PROSPECTS:]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, object]]]:
    home = tmp_path_factory.mktemp("crm-home")
    with pytest.MonkeyPatch.context() as mp:  # the machine's git config kept out, as conftest
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.delenv("PIPECTL_TODAY", raising=False)
        root = tmp_path_factory.mktemp("crm")
        repo = root / "pipeline"
        stats = crm_history.build(repo, _cut(root / "cut.csv"))
        yield repo, stats


def _day(text: str) -> dt.date:
    day = crm_history.parse_day(text)
    assert day is not None
    return day


def test_the_replay_ends_on_the_imports_tree(
    replay: tuple[Path, dict[str, object]], rows: list[dict[str, str]]
) -> None:
    repo, stats = replay
    assert _git(repo, "rev-parse", "HEAD^{tree}") == _git(repo, "rev-parse", "crm-import^{tree}")
    assert _git(repo, "diff", "--stat", "crm-import", "HEAD") == ""
    assert _git(repo, "status", "--porcelain") == ""
    _git(repo, "fsck", "--no-progress")
    # the root is pipectl init's own tree; the import is not in main's history
    root = _git(repo, "rev-list", "--max-parents=0", "HEAD").split()
    assert len(root) == 1
    assert _git(repo, "rev-parse", f"{root[0]}^{{tree}}") == _git(
        repo, "rev-parse", "crm-import~1^{tree}"
    )
    closed = sum(1 for r in rows if r["close_date"])
    assert stats["commits"] == 1 + len(rows) + closed
    assert int(_git(repo, "rev-list", "--count", "HEAD")) == stats["commits"]
    assert sum(1 for _ in repo.glob("*/*.md")) == len(rows)


def test_each_commit_carries_its_rows_date_and_agent(
    replay: tuple[Path, dict[str, object]], rows: list[dict[str, str]]
) -> None:
    repo, _ = replay
    trailer = "%(trailers:key=Pipectl-{},valueonly)"
    fields = ("%an", "%ae", "%aI", "%cI", "%cn", trailer.format("Action"), trailer.format("Deal"))
    fmt = "%x00".join(("%x1e" + fields[0], *fields[1:], "%H%x00"))
    log = _git(repo, "log", "--reverse", "--name-status", "--no-renames", f"--format={fmt}")
    by_id = {r["opportunity_id"].lower(): r for r in rows}
    agents = {r["sales_agent"] for r in crm_history.read_rows(crm_history.TEAMS)}
    first = min(_day(r["engage_date"]) for r in rows if r["engage_date"])
    seen: Counter[str] = Counter()
    engaged_files = []
    for record in log.split("\x1e")[1:]:
        *head, files = record.split("\0")
        name, email, authored, committed, committer, action, deal, sha = (f.strip() for f in head)
        assert authored == committed and name == committer  # one day, one person
        day = dt.date.fromisoformat(authored[:10])
        if action == "init":
            assert day == first - dt.timedelta(days=1)
            continue
        r = by_id[deal]
        seen[action] += 1
        if action == "add":
            want = _day(r["engage_date"]) if r["engage_date"] else first - dt.timedelta(days=1)
            if r["deal_stage"] in ("Won", "Lost"):
                assert files.split() == ["A", f"connecting/{deal}.md"]
                engaged_files.append((f"{sha}:connecting/{deal}.md", want))
        else:
            assert action == r["deal_stage"].lower()
            want = _day(r["close_date"])
            stage = "won" if action == "won" else "lost"
            assert files.split() == ["D", f"connecting/{deal}.md", "A", f"{stage}/{deal}.md"]
        assert day == want, (deal, action)
        assert name in agents and name == r["sales_agent"]
        assert email == ".".join(name.lower().split()) + "@maven-crm.example"
    # a closed deal's first file is the one the import writes for it engaged: no close, no value
    assert engaged_files
    for spec, engaged in engaged_files[:: max(1, len(engaged_files) // 10)]:
        text = _git(repo, "show", spec)
        assert f"created: {engaged.isoformat()}" in text
        assert f"stage_entered: {engaged.isoformat()}" in text
        assert "closed:" not in text and "value:" not in text
    assert seen == Counter(
        add=len(rows),
        won=sum(r["deal_stage"] == "Won" for r in rows),
        lost=sum(r["deal_stage"] == "Lost" for r in rows),
    )


def _csv_counts(rows: list[dict[str, str]], since: dt.date, until: dt.date) -> dict[str, set[str]]:
    """What the CSV says happened in the window: deals engaged (added), won and lost in it."""
    out: dict[str, set[str]] = {"added": set(), "won": set(), "lost": set()}
    for r in rows:
        deal = r["opportunity_id"].lower()
        if r["engage_date"] and since <= _day(r["engage_date"]) <= until:
            out["added"].add(deal)
        if r["close_date"] and since <= _day(r["close_date"]) <= until:
            out[r["deal_stage"].lower()].add(deal)
    return out


@pytest.mark.parametrize("until", ["2016-11-30", "2017-03-15", "last"])
def test_changes_counts_what_the_csv_says(
    replay: tuple[Path, dict[str, object]], rows: list[dict[str, str]], until: str
) -> None:
    repo, stats = replay
    end = dt.date.fromisoformat(str(stats["last"]) if until == "last" else until)
    since = end - dt.timedelta(days=29)  # --since 30d: thirty days, the last one included
    want = _csv_counts(rows, since, end)
    assert any(want.values())
    argv = [*crm_history.PIPECTL, "changes", "--since", "30d", "--until", end.isoformat()]
    proc = subprocess.run([*argv, "--json"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["window"]["since"] == since.isoformat()
    got = {k: {c["deal"] for c in found["changes"] if c["kind"] == k} for k in want}
    assert got == want
    summary = found["summary"]
    assert {k: summary.get(k, 0) for k in want} == {k: len(v) for k, v in want.items()}
    assert found["waterfall"]["balanced"] is True
