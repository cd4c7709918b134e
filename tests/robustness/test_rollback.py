"""A change that fails is put back, and checked: when the rollback itself cannot restore a file
(a full disk), pipectl says so loudly, naming what is left and how to mend it, never claiming
all was put back. And a moved deal keeps its file mode."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git

import pipectl.writes


@pytest.fixture
def acme(cli: Cli, pipeline: Path) -> Path:
    assert cli("add", "Acme", "--date", "2026-03-01").exit_code == 0
    return pipeline / "prospecting" / "acme.md"


def refuse_commits(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'policy: no commits today' >&2\nexit 1\n")
    hook.chmod(0o755)


def test_a_rollback_that_cannot_restore_a_file_says_what_is_left(
    cli: Cli, pipeline: Path, acme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_commits(pipeline)
    real = pipectl.writes._atomic_write
    calls = []

    def full_disk_after_the_first_write(path, data, *args):
        calls.append(path)
        if len(calls) > 1:  # the rollback's restore: the disk is full by now
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, data, *args)

    monkeypatch.setattr(pipectl.writes, "_atomic_write", full_disk_after_the_first_write)
    commits = commit_count(pipeline)
    r = cli("set", "acme", "value=5")
    assert r.exit_code == 3, r.output
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "policy: no commits today" in line
    assert "the rollback could not put back: " in line and "acme.md (No space left" in line
    assert "git checkout HEAD -- " in line and "Nothing was committed" in line
    assert commit_count(pipeline) == commits
    monkeypatch.undo()
    git(pipeline, "checkout", "HEAD", "--", "prospecting/acme.md")  # the mend it names works
    assert git(pipeline, "status", "--porcelain") == ""


def test_a_rollback_that_works_says_nothing_more(cli: Cli, pipeline: Path, acme: Path) -> None:
    refuse_commits(pipeline)
    before = acme.read_bytes()
    r = cli("set", "acme", "value=5")
    assert r.exit_code == 3 and "rollback" not in r.stderr
    assert acme.read_bytes() == before


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_a_moved_deal_keeps_its_file_mode(cli: Cli, pipeline: Path, acme: Path, mode: int) -> None:
    acme.chmod(mode)
    assert cli("move", "acme", "qualifying").exit_code == 0
    moved = pipeline / "qualifying" / "acme.md"
    assert moved.stat().st_mode & 0o777 == mode
    assert cli("log", "acme", "call", "Hi").exit_code == 0  # and every later write keeps it
    assert moved.stat().st_mode & 0o777 == mode


@pytest.mark.parametrize("how", ["hand mv", "move killed before its commit"])
def test_a_deal_moved_outside_git_is_never_committed_in_two_stages(
    cli: Cli, pipeline: Path, acme: Path, how: str
) -> None:
    moved = pipeline / "qualifying" / "acme.md"
    if how == "hand mv":
        acme.rename(moved)
    else:  # what a kill -9 between the rename and the commit leaves: new file, old one gone
        moved.write_bytes(
            acme.read_bytes().replace(b"---\n#", b"stage_entered: 2026-03-02\n---\n#")
        )
        acme.unlink()
    assert cli("log", "acme", "call", "Hi").exit_code == 0
    tracked = git(pipeline, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert [t for t in tracked if t.endswith("acme.md")] == ["qualifying/acme.md"]
    assert git(pipeline, "status", "--porcelain") == ""
    assert cli("lint", "--select", "PL104").exit_code == 0  # no duplicate id anywhere
