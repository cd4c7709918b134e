"""Repository states git's porcelain warns about, and values that once crashed or locked a deal:
pipectl refuses with the state named (exit 3, nothing written), never commits on a detached HEAD
or into a half-done rebase, merge, cherry-pick or revert."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git

CHANGES = (
    ("log", "acme", "call", "Hi"),
    ("set", "acme", "value=5"),
    ("move", "acme", "qualifying"),
    ("add", "Newco"),
)


def run_git(cwd: Path, *args: str) -> None:
    """A git command expected to stop half-way (its exit status is the point)."""
    subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)


def snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


@pytest.fixture
def acme(cli: Cli, pipeline: Path) -> Path:
    assert cli("add", "Acme", "--date", "2026-03-01").exit_code == 0
    return pipeline


def refused_everywhere(cli: Cli, root: Path, state: str) -> None:
    for args in CHANGES:
        before, commits = snapshot(root), commit_count(root)
        r = cli(*args)
        assert r.exit_code == 3, (args, r.output)
        assert state in r.stderr and "--no-commit" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
        assert snapshot(root) == before and commit_count(root) == commits


def test_a_detached_head_is_refused(cli: Cli, acme: Path) -> None:
    git(acme, "checkout", "-q", "--detach")
    refused_everywhere(cli, acme, "HEAD is detached")
    r = cli("log", "acme", "call", "Hi", "--no-commit")  # the way out the message names
    assert r.exit_code == 0, r.output
    assert cli("lint").exit_code in (0, 1)  # reading is never refused


def test_a_merge_in_progress_is_refused(cli: Cli, acme: Path) -> None:
    git(acme, "checkout", "-q", "-b", "side")
    (acme / "notes.txt").write_text("side\n")
    git(acme, "add", "notes.txt")
    git(acme, "commit", "-q", "-m", "side")
    git(acme, "checkout", "-q", "main")
    (acme / "notes.txt").write_text("main\n")
    git(acme, "add", "notes.txt")
    git(acme, "commit", "-q", "-m", "main")
    run_git(acme, "merge", "-q", "side")  # conflicts: MERGE_HEAD is left
    assert (acme / ".git" / "MERGE_HEAD").exists()
    refused_everywhere(cli, acme, "a merge is in progress")


@pytest.mark.parametrize(
    ("marker", "state"),
    [
        ("rebase-merge", "a rebase is in progress"),
        ("CHERRY_PICK_HEAD", "a cherry-pick is in progress"),
        ("REVERT_HEAD", "a revert is in progress"),
    ],
)
def test_other_unfinished_operations_are_refused(
    cli: Cli, acme: Path, marker: str, state: str
) -> None:
    target = acme / ".git" / marker
    if marker == "rebase-merge":
        target.mkdir()
    else:
        target.write_text(git(acme, "rev-parse", "HEAD"))
    refused_everywhere(cli, acme, state)


def test_a_real_rebase_stopped_on_a_conflict_is_refused(cli: Cli, acme: Path) -> None:
    git(acme, "checkout", "-q", "-b", "topic")
    assert cli("set", "acme", "value=1").exit_code == 0
    git(acme, "checkout", "-q", "main")
    assert cli("set", "acme", "value=2").exit_code == 0
    git(acme, "checkout", "-q", "topic")
    run_git(acme, "-c", "merge.pipectl.driver=false", "rebase", "-q", "main")
    assert (acme / ".git" / "rebase-merge").exists() or (acme / ".git" / "rebase-apply").exists()
    r = cli("log", "acme", "call", "Hi")
    assert r.exit_code == 3 and "in progress" in r.stderr


def test_a_key_with_a_tab_is_refused_and_never_locks_the_deal(cli: Cli, acme: Path) -> None:
    path = acme / "prospecting" / "acme.md"
    before = path.read_bytes()
    for key in ("a\tb", "a:b", "#x", "a\nb", "a  #b", "[x]"):
        r = cli("set", "acme", f"{key}=1")
        assert r.exit_code == 2 and "bad key" in r.stderr, (key, r.output)
        assert path.read_bytes() == before
    assert cli("set", "acme", "ok key=1", "x-y_z=2").exit_code == 0
    assert cli("log", "acme", "call", "Hi").exit_code == 0  # the deal is still editable


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("quota: .inf", "quota: must be a number (not NaN or infinity)"),
        ("quota: .nan", "quota: must be a number (not NaN or infinity)"),
        ("sweep: {grace_days: 3000000}", "sweep.grace_days: must be a whole number of days"),
    ],
)
def test_settings_past_any_calendar_are_refused_with_their_line(
    cli: Cli, acme: Path, setting: str, message: str
) -> None:
    config = acme / "pipeline.yaml"
    text = config.read_text()
    config.write_text(text + setting + "\n")
    line = len(text.splitlines()) + 1
    for args in (("lint",), ("report",), ("sweep",), ("agenda",), ("board",)):
        r = cli(*args)
        assert r.exit_code == 2, (args, r.output)
        assert f"pipeline.yaml:{line}: {message}" in r.stderr, r.stderr
        assert "Traceback" not in r.output


def test_uncommitted_edits_of_the_deal_are_never_taken_into_pipectls_commit(
    cli: Cli, acme: Path
) -> None:
    path = acme / "prospecting" / "acme.md"
    path.write_text(path.read_text().replace("# Acme", "# Acme\n\nMy private draft."))
    for args in CHANGES[:3]:
        before, commits = snapshot(acme), commit_count(acme)
        r = cli(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "prospecting/acme.md: has changes not committed yet" in r.stderr
        assert "(git commit -- " in r.stderr and "acme.md), or run with --no-commit" in r.stderr
        assert snapshot(acme) == before and commit_count(acme) == commits
    assert "My private draft." not in git(acme, "log", "-p")
    git(acme, "commit", "-q", "-am", "my draft")  # the way out the message names
    assert cli("log", "acme", "call", "Hi").exit_code == 0
    assert cli("set", "acme", "value=7", "--no-commit").exit_code == 0  # or no commit at all
