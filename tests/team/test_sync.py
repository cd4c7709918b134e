"""`pipectl sync` against a bare remote: integrate, push, retry a lost race, stop on conflict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git
from teamrepos import deal_text, ok, team

from pipectl.deal import parse_yaml, split


def summaries(cwd: Path, stage: str = "prospecting") -> list[str]:
    return [t["summary"] for t in parse_yaml(split(deal_text(cwd, stage)))["touchpoints"]]


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, Path, Path]:
    remote, (alice, bob) = team(tmp_path, "alice", "bob")
    return remote, alice, bob


def test_sync_pushes_then_the_other_clone_takes_and_merges(clones):
    remote, alice, bob = clones
    ok(alice, "log", "acme", "call", "Alice called", "--date", "2026-11-05")
    assert "pushed 1 commit to origin/main" in ok(alice, "sync")
    ok(bob, "log", "acme", "email", "Bob emailed", "--date", "2026-11-04")
    out = ok(bob, "sync")
    assert "took 1 commit from origin" in out and "pushed 1 commit" in out
    assert summaries(bob) == ["Intro email", "Bob emailed", "Alice called"]
    assert "up to date with origin/main" in ok(bob, "sync")
    ok(alice, "sync")
    assert summaries(alice) == summaries(bob)
    # rebased, not merged: the history stays one line of pipectl commits
    assert git(remote, "rev-list", "--merges", "--count", "main").strip() == "0"


def test_sync_retries_when_another_clone_pushes_first_and_lands_both(clones):
    remote, alice, bob = clones
    ok(bob, "log", "acme", "email", "Bob emailed", "--date", "2026-11-04")
    ok(alice, "log", "acme", "call", "Alice called", "--date", "2026-11-05")
    # Alice's pre-push hook lets Bob push first, once: her push then loses the race.
    hook = alice / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!{sys.executable}\n"
        "import os, pathlib, subprocess\n"
        f"flag = pathlib.Path({str(alice / '.git' / 'raced')!r})\n"
        "if not flag.exists():\n"
        "    flag.touch()\n"
        "    env = {k: v for k, v in os.environ.items() if not k.startswith('GIT_')"
        " or k.startswith('GIT_CONFIG')}\n"
        f"    subprocess.run(['git', 'push', '-q'], cwd={str(bob)!r}, env=env, check=True)\n"
    )
    hook.chmod(0o755)
    out = ok(alice, "sync")
    assert "after 1 lost race" in out
    assert "took 1 commit from origin" in out and "pushed 1 commit" in out
    log = git(remote, "log", "--format=%s", "main")
    assert "log acme-corp: call — Alice called" in log
    assert "log acme-corp: email — Bob emailed" in log
    ok(bob, "sync")
    assert summaries(bob) == ["Intro email", "Bob emailed", "Alice called"]


def test_a_refused_push_is_exit_3_without_retrying(clones):
    remote, alice, _bob = clones
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'deals are frozen this week' >&2\nexit 1\n")
    hook.chmod(0o755)
    ok(alice, "log", "acme", "call", "Alice called")
    result = Cli(alice)("sync")
    assert result.exit_code == 3
    assert "refused" in result.stderr and "Traceback" not in result.output
    assert "lost race" not in result.output


def test_a_real_conflict_stops_with_instructions_in_gits_conflict_state(clones):
    _remote, alice, bob = clones
    ok(alice, "set", "acme", "value=2500")
    ok(alice, "sync")
    ok(bob, "set", "acme", "value=3000")
    before = commit_count(bob)
    result = Cli(bob)("sync")
    assert result.exit_code == 3, result.output
    assert "prospecting/acme-corp.md: both sides changed the same field" in result.stderr
    assert "git rebase --continue" in result.stderr and "git rebase --abort" in result.stderr
    assert (bob / ".git" / "rebase-merge").is_dir()
    text = deal_text(bob)
    assert "<<<<<<< upstream\nvalue: 2500\n=======\nvalue: 3000\n>>>>>>> yours\n" in text
    # a second sync refuses until the rebase is finished
    again = Cli(bob)("sync")
    assert again.exit_code == 2 and "rebase is in progress" in again.stderr
    # resolve in an editor: keep bob's value
    path = bob / "prospecting" / "acme-corp.md"
    path.write_text(
        text.replace("<<<<<<< upstream\nvalue: 2500\n=======\n", "").replace(">>>>>>> yours\n", "")
    )
    git(bob, "add", "prospecting/acme-corp.md")
    git(bob, "-c", "core.editor=true", "rebase", "--continue")
    assert commit_count(bob) == before + 1  # alice's commit under bob's, rebased
    ok(bob, "sync")
    ok(alice, "sync")
    assert parse_yaml(split(deal_text(alice)))["value"] == 3000


def test_moves_to_two_stages_stop_sync_with_a_clear_message(clones):
    _remote, alice, bob = clones
    ok(alice, "move", "acme", "qualifying")
    ok(alice, "sync")
    ok(bob, "move", "acme", "closing")
    result = Cli(bob)("sync")
    assert result.exit_code == 3
    assert "acme-corp: moved to two different stages" in result.stderr


def test_sync_refuses_uncommitted_changes(clones):
    _remote, alice, _bob = clones
    (alice / "prospecting" / "acme-corp.md").write_text("---\ntitle: x\n---\n")
    result = Cli(alice)("sync")
    assert result.exit_code == 2
    assert "uncommitted changes in prospecting/acme-corp.md" in result.stderr


def test_sync_without_a_remote_says_how_to_add_one(pipeline):
    result = Cli(pipeline)("sync")
    assert result.exit_code == 2
    assert "git remote add origin URL" in result.stderr


def test_sync_pushes_to_an_empty_remote_and_sets_the_upstream(pipeline, tmp_path):
    remote = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(pipeline, "remote", "add", "origin", str(remote))
    assert "pushed 1 commit to origin/main" in ok(pipeline, "sync")
    assert git(pipeline, "config", "branch.main.remote").strip() == "origin"


def test_sync_registers_a_missing_driver(clones):
    _remote, alice, _bob = clones
    git(alice, "config", "--unset", "merge.pipectl.driver")
    out = ok(alice, "sync")
    assert "registered pipectl's merge driver" in out
    assert git(alice, "config", "merge.pipectl.driver").strip()


def test_setup_is_idempotent_and_adds_the_attributes_to_an_old_pipeline(pipeline):
    (pipeline / ".gitattributes").unlink()
    git(pipeline, "commit", "-q", "-am", "an old pipeline without attributes")
    before = commit_count(pipeline)
    out = ok(pipeline, "setup")
    assert "added `*/*.md merge=pipectl`" in out and "(committed)" in out
    assert commit_count(pipeline) == before + 1
    out = ok(pipeline, "setup", "--use-path")
    assert "routes deal files to it already" in out
    assert commit_count(pipeline) == before + 1
    command = git(pipeline, "config", "merge.pipectl.driver").strip()
    assert command == "pipectl merge-driver %O %A %B %P"


@pytest.mark.parametrize("mover", ["first", "second"])
def test_a_move_and_a_touchpoint_sync_cleanly_whoever_pushes_first(clones, mover):
    _remote, alice, bob = clones
    first, second = (alice, bob)
    move_in, log_in = (first, second) if mover == "first" else (second, first)
    ok(move_in, "move", "acme", "closing", "--date", "2026-11-20")
    ok(log_in, "log", "acme", "meeting", "On-site demo", "--date", "2026-11-19")
    ok(first, "sync")
    ok(second, "sync")
    ok(first, "sync")
    for clone in (alice, bob):
        assert not (clone / "prospecting" / "acme-corp.md").exists()
        assert summaries(clone, "closing") == ["Intro email", "On-site demo"]
        assert git(clone, "status", "--porcelain") == ""


def test_three_clones_syncing_at_once_all_land(tmp_path):
    remote, clones = team(tmp_path, "alice", "bob", "carol")
    for i, clone in enumerate(clones):
        ok(clone, "log", "acme", "call", f"Call by {clone.name}", "--date", f"2026-11-1{i}")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pipectl", "-C", str(clone), "sync"],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clone in clones
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "pushed 1 commit" in out
    for clone in clones:
        ok(clone, "sync")
        assert summaries(clone) == [
            "Intro email",
            "Call by alice",
            "Call by bob",
            "Call by carol",
        ]
    assert git(remote, "rev-list", "--merges", "--count", "main").strip() == "0"
