"""Time in stage, one answer everywhere (pipectl/stagetime.py): a move made by hand counts
from the day git saw it in lint, board, report and the dashboard; where a shallow clone cuts
the history, every figure that needs it says why instead of guessing."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, git, make_repo

from pipectl import history, stagetime
from pipectl.config import default_config
from pipectl.deal import parse_deal
from pipectl.gitrepo import GitRepo

TODAY = "2026-03-01"
WEEKS_AGO = "2026-01-08"  # 52 days before TODAY
BODY = "".join(f"Notes, line {i}: long enough for git to see a rename.\n" for i in range(8))


def commit_on(repo: Path, day: str, message: str) -> None:
    stamp = f"{day}T10:00:00+00:00"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True, env=env)


def deal_text(title: str, **fields: str) -> str:
    lines = [
        f"title: {title}",
        "owner: alice",
        "value: 5000",
        *(f"{k}: {v}" for k, v in fields.items()),
    ]
    return "---\n" + "\n".join(lines) + "\n---\n" + BODY


def cli_json(root: Path, *args: str) -> Any:
    r = Cli(root)(*args, "--today", TODAY)
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.stdout)


def days_row(text: str, stage: str) -> list[str]:
    """The cells of a stage's row in the text report's "Days in stage" table."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Days in stage"))
    return next(line.split() for line in lines[start:] if line.startswith(f"{stage} "))


@pytest.fixture
def hand_moved(tmp_path: Path) -> Path:
    """acme entered qualifying 52 days ago (its stage_entered), then was moved to closing
    by hand today: `git mv` and a commit, stage_entered left as it was."""
    root = make_repo(tmp_path / "repo")
    assert Cli(root)("init").exit_code == 0
    (root / "qualifying" / "acme.md").write_text(
        deal_text("Acme", created="2026-01-02", stage_entered=WEEKS_AGO)
    )
    commit_on(root, WEEKS_AGO, "acme to qualifying")
    git(root, "mv", "qualifying/acme.md", "closing/acme.md")
    commit_on(root, TODAY, "acme to closing, by hand")
    return root


def test_lint_counts_a_hand_move_from_the_day_it_was_made(hand_moved: Path) -> None:
    found = cli_json(hand_moved, "lint", "--format", "json")
    stuck = [f for f in found if f["code"] == "PL302"]
    assert stuck == []  # not "52 days in closing (limit 14)"
    # the same file, moved by pipectl with that stage_entered, would be stuck: the rule is on
    (hand_moved / "closing" / "old.md").write_text(
        deal_text("Old", created="2026-01-02", stage_entered=WEEKS_AGO)
    )
    commit_on(hand_moved, TODAY, "Old\n\nPipectl-Action: move\nPipectl-Deal: old\n")
    found = cli_json(hand_moved, "lint", "--format", "json")
    assert [(f["code"], f["deal_id"]) for f in found if f["code"] == "PL302"] == [("PL302", "old")]
    assert "52 days in closing" in next(f["message"] for f in found if f["code"] == "PL302")


def test_board_says_zero_days_in_closing(hand_moved: Path) -> None:
    data = cli_json(hand_moved, "board", "--json")
    closing = next(s for s in data["stages"] if s["stage"] == "closing")
    (card,) = closing["cards"]
    assert (card["id"], card["days_in_stage"], card["days_unknown"]) == ("acme", 0, None)
    r = Cli(hand_moved)("board", "--today", TODAY, "--width", "200")
    assert "5,000 · 0d · alice" in r.stdout


def test_report_text_and_json_say_zero_days_in_closing(hand_moved: Path) -> None:
    fig = cli_json(hand_moved, "report", "--json")
    closing = fig["time_in_stage"]["closing"]
    assert (closing["open_count"], closing["open_avg_days"], closing["why_unknown"]) == (1, 0, None)
    (oldest,) = fig["aging"]["oldest"]
    assert (oldest["id"], oldest["days_in_stage"]) == ("acme", 0)
    assert fig["aging"]["stages"]["closing"] == [1, 0, 0, 0]
    assert fig["time_in_stage"]["qualifying"]["count"] == 1  # the stay that ended today
    text = Cli(hand_moved)("report", "--today", TODAY).stdout
    assert days_row(text, "closing") == ["closing", "0", "-", "-", "1", "0.0"]


def test_dashboard_says_zero_days_in_closing(hand_moved: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.html"
    assert Cli(hand_moved)("report", "--html", str(out), "--today", TODAY).exit_code == 0
    page = out.read_text()
    now = re.search(
        r'<g class="bar"[^>]*data-stage="&quot;closing&quot;"[^>]*data-open-avg-days="([^"]*)"',
        page,
    )
    assert now is not None and json.loads(now.group(1).replace("&quot;", '"')) == 0
    row = re.search(r'<tr data-deal="&quot;acme&quot;"[^>]*>(.*?)</tr>', page)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[1:4] == ["closing", "alice", "0"]  # stage, owner, days in stage


# --- a shallow clone: the figures say why, never a guess ------------------------------------


@pytest.fixture
def shallow(tmp_path: Path) -> Path:
    """old-co was moved to connecting by hand long ago, without stage_entered; new-co moved
    by hand yesterday. A clone of depth 2 sees new-co's move and not old-co's."""
    origin = make_repo(tmp_path / "origin")
    assert Cli(origin)("init").exit_code == 0
    for name in ("old-co", "new-co"):
        (origin / "prospecting" / f"{name}.md").write_text(deal_text(name, created="2025-11-01"))
    commit_on(origin, "2025-11-01", "two deals")
    git(origin, "mv", "prospecting/old-co.md", "connecting/old-co.md")
    commit_on(origin, "2026-01-03", "old-co to connecting")  # 57 days before TODAY
    (origin / "notes.txt").write_text("unrelated\n")
    commit_on(origin, "2026-02-01", "notes")
    git(origin, "mv", "prospecting/new-co.md", "connecting/new-co.md")
    commit_on(origin, "2026-02-28", "new-co to connecting")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{origin}", str(clone))
    assert GitRepo(clone).shallow_boundary()
    return clone


def test_shallow_report_json_says_days_in_stage_are_unknown_and_why(shallow: Path) -> None:
    fig = cli_json(shallow, "report", "--json")
    assert fig["partial"] is True
    connecting = fig["time_in_stage"]["connecting"]
    assert connecting["open_count"] == 2 and connecting["open_unknown_count"] == 1
    assert connecting["open_avg_days"] is None  # not 117 (from created), not 57: unknown
    assert connecting["why_unknown"] == ("1 deal there now: no stage_entered and shallow git clone")
    oldest = {d["id"]: d["days_in_stage"] for d in fig["aging"]["oldest"]}
    assert oldest == {"new-co": 1, "old-co": None}  # the move git can see counts
    assert fig["aging"]["unknown_count"] == 1
    assert "shallow git clone" in fig["aging"]["why_unknown"]


def test_shallow_report_text_shows_unknown_with_the_reason(shallow: Path) -> None:
    text = Cli(shallow)("report", "--today", TODAY).stdout
    assert days_row(text, "connecting")[4:] == ["2", "?"]
    assert "?: connecting: 1 deal there now: no stage_entered and shallow git clone" in text
    assert not re.search(r"\b(57|117|118)\.0\b", text)


def test_shallow_dashboard_says_unknown_and_why(shallow: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.html"
    assert Cli(shallow)("report", "--html", str(out), "--today", TODAY).exit_code == 0
    page = out.read_text()
    card = re.search(r'<section class="card" id="time-in-stage">(.*?)</section>', page, re.S)
    assert card is not None
    assert "connecting: 1 deal there now: no stage_entered and shallow git clone" in card.group(1)
    assert 'data-open-avg-days="null"' in card.group(1) and "unknown · 2 deals" in card.group(1)
    aging = re.search(r'<section class="card" id="aging">(.*?)</section>', page, re.S)
    assert aging is not None and "shallow git clone" in aging.group(1)
    assert "Shallow clone" in page


def test_shallow_lint_and_board_see_the_move_after_the_cut(shallow: Path) -> None:
    found = cli_json(shallow, "lint", "--format", "json")
    stuck = {f["deal_id"]: f for f in found if f["code"] == "PL302"}
    assert stuck["old-co"]["severity"] == "info" and "shallow" in stuck["old-co"]["message"]
    assert "new-co" not in stuck
    cards = {k["id"]: k for s in cli_json(shallow, "board", "--json")["stages"] for k in s["cards"]}
    assert cards["new-co"]["days_in_stage"] == 1
    assert cards["old-co"]["days_in_stage"] is None
    assert cards["old-co"]["days_unknown"] == "no stage_entered and shallow git clone"


# --- the kernel function and its two sources of arrivals ------------------------------------


def test_the_file_tells_unless_a_later_move_by_hand_says_otherwise() -> None:
    config = default_config()

    def entered(text: str, stage: str, arrivals: history.Arrivals) -> stagetime.Entered:
        deal = parse_deal(text.encode(), Path(f"{stage}/x.md"), stage)
        return stagetime.entered(deal, config, arrivals)

    day = dt.date.fromisoformat
    moved = history.Arrivals({"closing/x.md": day("2026-03-01")}, None, frozenset({"closing/x.md"}))
    by_pipectl = history.Arrivals({"closing/x.md": day("2026-03-01")})
    file = "---\nstage_entered: 2026-01-08\n---\n"
    assert entered(file, "closing", moved) == (day("2026-03-01"), None)
    assert entered(file, "closing", by_pipectl) == (day("2026-01-08"), None)  # move --date
    early = history.Arrivals({"closing/x.md": day("2026-01-01")}, None, frozenset({"closing/x.md"}))
    assert entered(file, "closing", early) == (day("2026-01-08"), None)  # the file is later
    none = history.Arrivals(unavailable="shallow git clone")
    assert entered("---\ncreated: 2026-01-02\n---\n", "prospecting", none)[0] == day("2026-01-02")
    assert entered("---\ncreated: 2026-01-02\n---\n", "closing", none) == (
        None,
        "no stage_entered and shallow git clone",
    )
    assert entered("---\nclosed: 2026-02-02\n---\n", "won", none)[0] == day("2026-02-02")
    assert entered("---\nstage_entered: soon\n---\n", "closing", moved) == (
        None,
        "stage_entered is not a date",
    )


def test_arrivals_from_the_log_and_from_the_history_agree(hand_moved: Path) -> None:
    # more lives: a rename inside a folder keeps its arrival; a move by pipectl is not by hand
    git(hand_moved, "mv", "closing/acme.md", "closing/acme-corp.md")
    commit_on(hand_moved, "2026-03-02", "rename acme")
    (hand_moved / "prospecting" / "b.md").write_text(deal_text("B", created="2026-01-05"))
    commit_on(hand_moved, "2026-01-05", "b")
    git(hand_moved, "mv", "prospecting/b.md", "qualifying/b.md")
    commit_on(hand_moved, "2026-02-05", "move b\n\nPipectl-Action: move\nPipectl-Deal: b\n")
    repo = GitRepo(hand_moved)
    from_log = history.read_arrivals(repo, hand_moved)
    from_history = stagetime.arrivals_of(history.read(repo, hand_moved))
    deals = {"closing/acme-corp.md", "qualifying/b.md"}
    assert {p: from_log.get(p) for p in deals} == {p: from_history.get(p) for p in deals}
    assert from_log.get("closing/acme-corp.md") == dt.date(2026, 3, 1)
    assert from_log.get("qualifying/b.md") == dt.date(2026, 2, 5)
    assert from_log.moved_by_hand & deals == from_history.moved_by_hand & deals
    assert from_log.moved_by_hand & deals == {"closing/acme-corp.md"}


def test_a_hand_move_git_sees_as_delete_and_add_is_still_a_move(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    assert Cli(root)("init").exit_code == 0
    (root / "qualifying" / "x.md").write_text("---\ntitle: x\nstage_entered: 2026-01-08\n---\n")
    commit_on(root, WEEKS_AGO, "x")
    (root / "qualifying" / "x.md").unlink()
    (root / "closing" / "x.md").write_text("---\ntitle: rewritten\nowner: bob\n---\nall new\n")
    commit_on(root, TODAY, "x to closing, rewritten")
    arrivals = history.read_arrivals(GitRepo(root), root)
    assert arrivals.get("closing/x.md") == dt.date(2026, 3, 1)
    assert "closing/x.md" in arrivals.moved_by_hand
