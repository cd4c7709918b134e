"""Tasks on a team: two clones adding and finishing tasks on one deal merge through pipectl's
merge driver (team/merge.py unites `tasks:` entry by entry, as touchpoints), no conflict."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from conftest import git
from teamrepos import ok, team

from pipectl.deal import parse_yaml, split


def test_tasks_added_and_done_in_two_clones_merge_without_a_conflict(tmp_path: Path) -> None:
    _remote, (alice, bob) = team(tmp_path, "alice", "bob")
    ok(alice, "task", "add", "acme", "send the quote", "--due", "2026-12-01")
    git(alice, "push", "-q")
    git(bob, "pull", "-q", "--no-rebase")
    ok(alice, "task", "add", "acme", "alice: book the demo", "--due", "2026-12-03")
    ok(alice, "task", "done", "acme", "quote", "--date", "2026-11-20")
    git(alice, "push", "-q")
    ok(bob, "task", "add", "acme", "bob: call legal", "--due", "2026-12-02")
    pulled = subprocess.run(
        ["git", "pull", "-q", "--no-rebase", "--no-edit"], cwd=bob, capture_output=True, text=True
    )
    assert pulled.returncode == 0, pulled.stderr
    text = (bob / "prospecting/acme-corp.md").read_text()
    got = [(t["summary"], t.get("done")) for t in parse_yaml(split(text))["tasks"]]
    # every side's entry once, the quote with alice's done: date (ours' entries first)
    assert sorted(got, key=str) == sorted(
        [
            ("send the quote", dt.date(2026, 11, 20)),
            ("bob: call legal", None),
            ("alice: book the demo", None),
        ],
        key=str,
    )
    assert got[0] == ("bob: call legal", None)
    assert "<<<<<<<" not in text and git(bob, "status", "--porcelain") == ""
