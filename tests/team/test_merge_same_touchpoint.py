"""The same touchpoint logged on both sides is two touchpoints, and one of the common ancestor
is never doubled (issue 13: the driver kept one, against the README's promise that
touchpoints logged on both sides are all kept). Real `git merge`s, driver set by `pipectl
setup`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import git
from teamrepos import deal_text, ok, team

from pipectl.deal import parse_yaml, split
from pipectl.team.merge import merge_items


def pull(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "pull", "--no-rebase", "--no-edit", "-q"], cwd=cwd, capture_output=True, text=True
    )


def summaries(cwd: Path) -> list[str]:
    return [t["summary"] for t in parse_yaml(split(deal_text(cwd, "prospecting")))["touchpoints"]]


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, Path]:
    _remote, (alice, bob) = team(tmp_path, "alice", "bob")
    return alice, bob


def test_the_same_touchpoint_logged_on_both_sides_is_kept_twice(clones):
    alice, bob = clones
    ok(alice, "log", "acme", "call", "Discovery call", "--date", "2026-11-05")
    ok(alice, "set", "acme", "value=2500")  # the files differ: git asks the driver
    git(alice, "push", "-q")
    ok(bob, "log", "acme", "call", "Discovery call", "--date", "2026-11-05")
    result = pull(bob)
    assert result.returncode == 0, result.stderr
    assert summaries(bob) == ["Intro email", "Discovery call", "Discovery call"]
    assert git(bob, "status", "--porcelain") == ""
    assert "merge=pipectl" in (bob / ".gitattributes").read_text()


def test_a_touchpoint_of_the_common_ancestor_is_never_doubled(clones):
    alice, bob = clones
    ok(alice, "log", "acme", "call", "Alice called", "--date", "2026-11-05")
    git(alice, "push", "-q")
    ok(bob, "log", "acme", "email", "Bob wrote", "--date", "2026-11-06")
    result = pull(bob)
    assert result.returncode == 0, result.stderr
    # "Intro email" is on both sides because the ancestor had it: once
    assert summaries(bob) == ["Intro email", "Alice called", "Bob wrote"]


def test_a_touchpoint_deleted_on_both_sides_is_deleted_once(clones):
    alice, bob = clones

    def drop_the_intro_and_log(clone: Path, summary: str) -> None:
        path = clone / "prospecting" / "acme-corp.md"
        text = path.read_text()
        line = next(ln for ln in text.splitlines(keepends=True) if "Intro email" in ln)
        path.write_text(text.replace(line, "", 1))
        git(clone, "commit", "-qam", "drop the intro")
        ok(clone, "log", "acme", "call", summary, "--date", "2026-11-09")

    drop_the_intro_and_log(alice, "Alice again")
    git(alice, "push", "-q")
    drop_the_intro_and_log(bob, "Bob again")
    result = pull(bob)
    assert result.returncode == 0, result.stderr
    assert summaries(bob) == ["Bob again", "Alice again"]  # the same day: ours first


def test_identical_files_are_one_change_git_merges_without_the_driver(clones):
    """The limit docs/team.md states: the same entry logged on both sides with nothing else
    different makes the same file, which git takes as one change and never hands over."""
    alice, bob = clones
    for clone in (alice, bob):
        ok(clone, "log", "acme", "note", "same", "--date", "2026-11-03")
    git(alice, "push", "-q")
    result = pull(bob)
    assert result.returncode == 0, result.stderr
    assert summaries(bob) == ["Intro email", "same"]


def test_merge_items_counts_what_each_side_added():
    a = {"date": "2026-11-01", "kind": "call", "summary": "x"}
    b = {"date": "2026-11-02", "kind": "call", "summary": "y"}
    assert merge_items([a], [a, b], [a, b]) == [a, b, b]  # each side logged b
    assert merge_items([a, b], [a, b, b], [a, b]) == [a, b, b]  # one side logged b again
    assert merge_items([a, b], [a], [a]) == [a]  # deleted on both: once
    assert merge_items([a, a], [a], [a, a, b]) == [a, b]  # one a deleted, b added
    assert merge_items([a], [a, a], [a, a]) == [a, a, a]
