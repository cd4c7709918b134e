"""rename, rm and undo through the CLI on a real repo: one commit each, the bytes of a
hand-written deal kept but for the lines meant, history following a rename, undo's refusals."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Cli, commit_count, git

HAND = """---
# written by hand: this comment, the blank line and the odd spacing stay
id: acme
title:   Acme Corp   # the big one

owner: alice
value: 12000
---
# Acme

Met Jane at the fair. Café au lait.
"""


@pytest.fixture
def hand(pipeline: Path, write_deal: Callable[..., Path]) -> Path:
    path = write_deal(pipeline, "prospecting", "acme", HAND)
    git(pipeline, "add", "prospecting/acme.md")
    git(pipeline, "commit", "-q", "-m", "acme by hand")
    return path


def subject(cwd: Path, rev: str = "HEAD") -> str:
    return git(cwd, "log", "-1", "--format=%s", rev).strip()


def test_rename_moves_the_file_and_its_id_line_only(cli: Cli, pipeline: Path, hand: Path) -> None:
    before = commit_count(pipeline)
    result = cli("rename", "acme", "acme-intl")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "renamed acme to acme-intl"
    assert commit_count(pipeline) == before + 1
    assert not hand.exists()
    new = pipeline / "prospecting" / "acme-intl.md"
    assert new.read_text() == HAND.replace("id: acme\n", "id: acme-intl\n")
    assert "Pipectl-Action: rename" in git(pipeline, "log", "-1", "--format=%B")
    status = git(pipeline, "show", "-M", "--name-status", "--format=", "HEAD").split()
    assert status[0].startswith("R") and status[1:] == [
        "prospecting/acme.md",
        "prospecting/acme-intl.md",
    ]


def test_history_of_the_new_id_shows_the_old_life(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Acme Corp", "--id", "acme").exit_code == 0
    assert cli("log", "acme", "call", "first call").exit_code == 0
    assert cli("rename", "acme", "acme-intl").exit_code == 0
    result = cli("history", "acme-intl", "--json")
    assert result.exit_code == 0, result.output
    kinds = [e["kind"] for e in json.loads(result.output)["events"]]
    assert kinds[:2] == ["created", "logged"] and kinds[-1] == "renamed"


def test_a_deal_without_an_id_field_keeps_every_byte(
    cli: Cli, pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    text = HAND.replace("id: acme\n", "")
    write_deal(pipeline, "qualifying", "beta", text)
    git(pipeline, "add", "-A")
    git(pipeline, "commit", "-q", "-m", "beta")
    assert cli("rename", "beta", "beta-2").exit_code == 0
    assert (pipeline / "qualifying" / "beta-2.md").read_text() == text


def test_rename_refusals(cli: Cli, pipeline: Path, hand: Path) -> None:
    assert cli("add", "Beta").exit_code == 0
    before = commit_count(pipeline)
    taken = cli("rename", "acme", "beta")
    assert taken.exit_code == 2 and "prospecting/beta.md already exists" in taken.output
    bad = cli("rename", "acme", "Not An Id")
    assert bad.exit_code == 2 and "is not a deal id" in bad.output
    assert commit_count(pipeline) == before and hand.read_text() == HAND


def test_rm_needs_yes_off_a_terminal(cli: Cli, pipeline: Path, hand: Path) -> None:
    before = commit_count(pipeline)
    refused = cli("rm", "acme")
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        "pipectl: error: not removing acme without asking: pass --yes to remove it"
    ]
    assert hand.exists() and commit_count(pipeline) == before
    done = cli("rm", "acme", "--yes")
    assert done.exit_code == 0 and done.output.strip() == "removed acme (prospecting)"
    assert not hand.exists() and commit_count(pipeline) == before + 1
    assert git(pipeline, "show", "--name-status", "--format=", "HEAD").split() == [
        "D",
        "prospecting/acme.md",
    ]
    assert git(pipeline, "status", "--porcelain") == ""


def test_rm_refuses_a_deal_with_uncommitted_edits(cli: Cli, pipeline: Path, hand: Path) -> None:
    hand.write_text(HAND + "more\n")
    result = cli("rm", "acme", "--yes")
    assert result.exit_code == 2 and "has changes not committed yet" in result.output
    assert hand.read_text() == HAND + "more\n"


def _in_a_pty(cwd: Path, args: list[str], answer: bytes) -> tuple[int, str]:
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipectl", *args], cwd=cwd, stdin=child, stdout=child, stderr=child
    )
    os.close(child)
    seen = b""
    end = time.monotonic() + 20
    while b"?" not in seen and time.monotonic() < end:
        if select.select([main], [], [], 0.2)[0]:
            seen += os.read(main, 1024)
    os.write(main, answer)
    code = proc.wait(timeout=20)
    while select.select([main], [], [], 0.2)[0]:
        try:
            seen += os.read(main, 1024)
        except OSError:
            break
    os.close(main)
    return code, seen.decode(errors="replace")


def test_rm_asks_on_a_terminal(pipeline: Path, hand: Path) -> None:
    code, shown = _in_a_pty(pipeline, ["rm", "acme"], b"n\n")
    assert "remove acme (Acme Corp, prospecting)? [y/N]" in shown and code == 1
    assert hand.exists()
    code, shown = _in_a_pty(pipeline, ["rm", "acme"], b"y\n")
    assert code == 0 and "removed acme" in shown and not hand.exists()


def test_undo_takes_back_rm_and_rename_byte_for_byte(cli: Cli, pipeline: Path, hand: Path) -> None:
    assert cli("rename", "acme", "acme-intl").exit_code == 0
    assert cli("rm", "acme-intl", "--yes").exit_code == 0
    before = commit_count(pipeline)
    dry = cli("undo", "--dry-run")
    assert dry.exit_code == 0
    head, *lines = dry.output.splitlines()
    assert head.startswith("would undo ") and head.endswith(" rm acme-intl")
    assert len(lines) == 1 and lines[0].startswith("  recreate ")
    assert lines[0].endswith("prospecting/acme-intl.md")
    assert commit_count(pipeline) == before  # nothing done
    undone = cli("undo")
    assert undone.exit_code == 0, undone.output
    assert "undid" in undone.output and "(rm acme-intl)" in undone.output
    assert commit_count(pipeline) == before + 1
    assert subject(pipeline) == "undo: rm acme-intl"
    assert "Pipectl-Undoes: " in git(pipeline, "log", "-1", "--format=%B")
    assert (pipeline / "prospecting" / "acme-intl.md").read_text() == HAND.replace(
        "id: acme\n", "id: acme-intl\n"
    )
    again = cli("undo")  # the one before: the rename
    assert again.exit_code == 0 and subject(pipeline) == "undo: rename acme -> acme-intl"
    assert hand.read_text() == HAND and not (pipeline / "prospecting" / "acme-intl.md").exists()
    assert git(pipeline, "status", "--porcelain") == ""


def test_undo_of_a_log_changes_only_the_lines_it_added(
    cli: Cli, pipeline: Path, hand: Path
) -> None:
    assert cli("log", "acme", "call", "went well").exit_code == 0
    assert hand.read_text() != HAND
    assert cli("undo").exit_code == 0
    assert hand.read_text() == HAND


def test_undo_refuses_when_later_work_touched_the_files(
    cli: Cli, pipeline: Path, hand: Path
) -> None:
    assert cli("set", "acme", "value=15000").exit_code == 0
    hand.write_text(hand.read_text() + "A line by hand.\n")
    git(pipeline, "commit", "-q", "-am", "notes by hand")
    result = cli("undo")
    assert result.exit_code == 2
    line = result.output.strip()
    assert "not undoing" in line and "(set acme: value)" in line and "(notes by hand)" in line
    assert len(result.output.strip().splitlines()) == 1
    assert "A line by hand." in hand.read_text()


def test_undo_refuses_uncommitted_changes(cli: Cli, pipeline: Path, hand: Path) -> None:
    assert cli("set", "acme", "value=15000").exit_code == 0
    hand.write_text(hand.read_text() + "typing\n")
    result = cli("undo")
    assert result.exit_code == 2 and "has changes not committed since" in result.output
    assert hand.read_text().endswith("typing\n")


def test_undo_is_for_your_own_pipectl_commits(cli: Cli, pipeline: Path, hand: Path) -> None:
    assert cli("set", "acme", "value=15000").exit_code == 0
    git(pipeline, "config", "user.email", "someone-else@example.com")
    result = cli("undo")  # only `init` is left by the other identity's... none at all
    assert result.exit_code == 2 and "nothing to undo: no pipectl commit by you" in result.output
    git(pipeline, "config", "user.email", "test@example.com")
    mine = cli("undo", "--dry-run")
    assert mine.exit_code == 0 and "set acme: value" in mine.output


def test_undo_skips_hand_commits_and_refuses_init(cli: Cli, pipeline: Path, hand: Path) -> None:
    result = cli("undo")  # the hand commit of `hand` is not pipectl's; init is not undone
    assert result.exit_code == 2
    assert "undo does not take back an init" in result.output


def test_rm_refuses_a_deal_git_never_saw(
    cli: Cli, pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    path = write_deal(pipeline, "prospecting", "fresh", "---\ntitle: Fresh\n---\n")
    result = cli("rm", "fresh", "--yes")
    assert result.exit_code == 2 and "it was never committed" in result.output
    assert path.exists()


def test_undo_of_a_move_puts_the_deal_back_in_its_folder(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Delta", "--id", "delta").exit_code == 0
    before = (pipeline / "prospecting" / "delta.md").read_bytes()
    assert cli("move", "delta", "qualifying").exit_code == 0
    assert cli("undo").exit_code == 0
    assert (pipeline / "prospecting" / "delta.md").read_bytes() == before
    assert not (pipeline / "qualifying" / "delta.md").exists()
    assert git(pipeline, "status", "--porcelain") == ""


def test_undo_checks_every_chunk_of_paths(
    cli: Cli, pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipectl import lifecycle

    monkeypatch.setattr(lifecycle, "PATHS_PER_CALL", 1)  # one path a git log, as for imports
    assert cli("add", "Delta", "--id", "delta").exit_code == 0
    assert cli("move", "delta", "qualifying").exit_code == 0
    moved = pipeline / "qualifying" / "delta.md"  # the second of the move's two paths
    moved.write_text(moved.read_text() + "by hand\n")
    git(pipeline, "commit", "-q", "-am", "hand note")
    result = cli("undo")
    assert result.exit_code == 2 and "(hand note) changed the same files" in result.output


def test_history_follows_the_rename_of_a_small_file_below_gits_similarity(
    cli: Cli, pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    """Four lines, one of them the id: git sees a delete and an add (a test checks it); the
    rename commit's own action ties them into one deal."""
    write_deal(pipeline, "prospecting", "ab", "---\nid: ab\ntitle: A\n---\n")
    git(pipeline, "add", "-A")
    git(pipeline, "commit", "-q", "-m", "ab by hand")
    assert cli("rename", "ab", "ab-intl-corp-x").exit_code == 0
    status = git(pipeline, "show", "-M", "--name-status", "--format=", "HEAD").split()
    assert status == ["A", "prospecting/ab-intl-corp-x.md", "D", "prospecting/ab.md"]
    result = cli("history", "ab-intl-corp-x", "--json")
    assert result.exit_code == 0, result.output
    events = json.loads(result.output)["events"]
    assert [e["kind"] for e in events] == ["created", "renamed"]
    assert events[-1]["changes"][0]["field"] == "id"


def test_undo_refuses_when_a_commit_came_between_plan_and_lock(
    cli: Cli, pipeline: Path, hand: Path
) -> None:
    from pipectl import lifecycle
    from pipectl.errors import UsageError
    from pipectl.store import Pipeline

    assert cli("set", "acme", "value=15000").exit_code == 0
    opened = Pipeline.open(pipeline)
    plan = lifecycle.plan_undo(opened)
    git(pipeline, "commit", "-q", "--allow-empty", "-m", "meanwhile")
    with pytest.raises(UsageError, match="a commit was made meanwhile"):
        lifecycle.undo(opened, plan)
    assert "value: 15000" in hand.read_text()


def test_undo_with_nothing_committed_yet(repo: Path) -> None:
    assert Cli(repo)("init", "--no-commit").exit_code == 0
    result = Cli(repo)("undo")
    assert result.exit_code == 2 and "no commits yet" in result.output
