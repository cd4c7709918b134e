"""The merge driver inside real git merges: a bare remote and clones in tmp_path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import Cli, git
from teamrepos import deal_text, ok, team

from pipectl.deal import parse_yaml, split


def pull(cwd: Path) -> subprocess.CompletedProcess[str]:
    """`git pull` as a merge (not a rebase): the driver runs inside git's own merge."""
    return subprocess.run(
        ["git", "pull", "--no-rebase", "--no-edit", "-q"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def fields(cwd: Path, stage: str = "prospecting") -> dict:
    return parse_yaml(split(deal_text(cwd, stage)))


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, Path]:
    _remote, (alice, bob) = team(tmp_path, "alice", "bob")
    return alice, bob


def test_init_commits_the_attributes_and_registers_the_driver(clones):
    alice, bob = clones
    assert "*/*.md merge=pipectl" in (alice / ".gitattributes").read_text()
    assert ".gitattributes" in git(alice, "ls-files")
    for clone in (alice, bob):
        command = git(clone, "config", "merge.pipectl.driver").strip()
        assert command.endswith("-m pipectl merge-driver %O %A %B %P")
        assert (
            git(clone, "check-attr", "merge", "prospecting/acme-corp.md")
            .strip()
            .endswith("merge: pipectl")
        )


def test_concurrent_touchpoints_on_one_deal_merge_and_both_survive(clones):
    alice, bob = clones
    ok(alice, "log", "acme", "call", "Alice: discovery call", "--date", "2026-11-05")
    git(alice, "push", "-q")
    ok(bob, "log", "acme", "email", "Bob: sent pricing", "--date", "2026-11-04")
    result = pull(bob)
    assert result.returncode == 0, result.stderr
    summaries = [t["summary"] for t in fields(bob)["touchpoints"]]
    assert summaries == ["Intro email", "Bob: sent pricing", "Alice: discovery call"]
    assert git(bob, "status", "--porcelain") == ""


def test_different_fields_edited_on_each_side_merge(clones):
    alice, bob = clones
    ok(alice, "set", "acme", "value=2500")
    git(alice, "push", "-q")
    ok(bob, "next", "acme", "Send proposal", "--due", "2026-12-01")
    result = pull(bob)
    assert result.returncode == 0, result.stderr
    data = fields(bob)
    assert data["value"] == 2500 and data["next_step"] == "Send proposal"


def test_same_field_edited_differently_conflicts_lint_reports_it_editor_resolves(clones):
    alice, bob = clones
    ok(alice, "set", "acme", "value=2500")
    git(alice, "push", "-q")
    ok(bob, "set", "acme", "value=3000")
    ok(bob, "log", "acme", "call", "Bob called", "--date", "2026-11-06")
    result = pull(bob)
    assert result.returncode != 0
    assert "UU prospecting/acme-corp.md" in git(bob, "status", "--porcelain")
    text = deal_text(bob)
    assert "<<<<<<< yours\nvalue: 3000\n=======\nvalue: 2500\n>>>>>>> theirs\n" in text
    assert "Bob called" in text  # what did not conflict is merged already
    lint = Cli(bob)("lint", "--format", "json")
    assert lint.exit_code == 1, lint.output
    assert "PL101" in lint.stdout and "acme-corp.md" in lint.stdout
    assert "unresolved merge conflict" in lint.stdout
    # the user keeps alice's value in an editor, deleting the marker lines
    lines = text.splitlines(keepends=True)
    start = lines.index("<<<<<<< yours\n")
    resolved = "".join([*lines[:start], lines[start + 3], *lines[start + 5 :]])
    (bob / "prospecting" / "acme-corp.md").write_text(resolved, encoding="utf-8")
    git(bob, "add", "prospecting/acme-corp.md")
    git(bob, "commit", "-q", "--no-edit")
    data = fields(bob)
    assert data["value"] == 2500
    assert [t["summary"] for t in data["touchpoints"]] == ["Intro email", "Bob called"]
    assert "PL101" not in Cli(bob)("lint", "--format", "json").stdout


def test_a_move_on_one_side_and_an_edit_on_the_other_merge(clones):
    alice, bob = clones
    ok(alice, "move", "acme", "qualifying", "--date", "2026-11-10")
    git(alice, "push", "-q")
    ok(bob, "log", "acme", "call", "Bob called", "--date", "2026-11-06")
    ok(bob, "set", "acme", "owner=bob")
    result = pull(bob)
    assert result.returncode == 0, result.stderr
    assert not (bob / "prospecting" / "acme-corp.md").exists()
    data = fields(bob, "qualifying")
    assert data["owner"] == "bob"
    assert str(data["stage_entered"]) == "2026-11-10"
    assert [t["summary"] for t in data["touchpoints"]] == ["Intro email", "Bob called"]


def test_moves_to_two_different_stages_conflict(clones):
    alice, bob = clones
    ok(alice, "move", "acme", "qualifying")
    git(alice, "push", "-q")
    ok(bob, "move", "acme", "closing")
    result = pull(bob)
    assert result.returncode != 0
    assert "rename/rename" in result.stdout + result.stderr
    status = git(bob, "status", "--porcelain")
    assert "AU closing/acme-corp.md" in status and "UA qualifying/acme-corp.md" in status
    lint = Cli(bob)("lint", "--format", "json")
    assert "PL104" in lint.stdout  # the same id in two stage folders
    # resolve: keep the deal in closing
    git(bob, "rm", "-q", "prospecting/acme-corp.md", "qualifying/acme-corp.md")
    git(bob, "add", "closing/acme-corp.md")
    git(bob, "commit", "-q", "--no-edit")
    assert "PL104" not in Cli(bob)("lint", "--format", "json").stdout


DEAL = "---\ntitle: Acme\nvalue: 1\n---\n# Acme\n"


def test_the_driver_command_writes_the_merge_into_ours(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base, ours, theirs = (tmp_path / n for n in ("o", "a", "b"))
    base.write_text(DEAL)
    ours.write_text(DEAL.replace("value: 1", "value: 2"))
    theirs.write_text(DEAL.replace("title: Acme", "title: Acme Corp"))
    cli = Cli(tmp_path)
    result = cli("merge-driver", str(base), str(ours), str(theirs), "prospecting/acme.md")
    assert result.exit_code == 0, result.output
    assert ours.read_text() == "---\ntitle: Acme Corp\nvalue: 2\n---\n# Acme\n"
    theirs.write_text(DEAL.replace("value: 1", "value: 3"))
    result = cli("merge-driver", str(base), str(ours), str(theirs), "prospecting/acme.md")
    assert result.exit_code == 1
    assert "prospecting/acme.md: conflict in value" in result.stderr
    assert "<<<<<<< yours\nvalue: 2\n=======\nvalue: 3\n>>>>>>> theirs\n" in ours.read_text()


def test_the_driver_merges_a_file_that_is_not_utf8_as_plain_bytes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base, ours, theirs = (tmp_path / n for n in ("o", "a", "b"))
    base.write_bytes(b"one\n\xff\ntwo\n\nthree\n")
    ours.write_bytes(b"ONE\n\xff\ntwo\n\nthree\n")
    theirs.write_bytes(b"one\n\xff\ntwo\n\nTHREE\n")
    result = Cli(tmp_path)("merge-driver", str(base), str(ours), str(theirs))
    assert result.exit_code == 0, result.output
    assert ours.read_bytes() == b"ONE\n\xff\ntwo\n\nTHREE\n"


def test_a_pipeline_in_a_subfolder_routes_only_its_stage_folders(repo):
    (repo / "src").mkdir()
    assert Cli(repo)("init", str(repo / "sales")).exit_code == 0
    out = git(repo, "check-attr", "merge", "sales/qualifying/x.md", "sales/x.md", "src/y.md")
    assert out.splitlines() == [
        "sales/qualifying/x.md: merge: pipectl",
        "sales/x.md: merge: unspecified",
        "src/y.md: merge: unspecified",
    ]


def test_a_merge_the_schema_refuses_is_left_as_a_conflict_naming_file_and_fields(clones):
    """Each side is valid; merged, the deal would be closed before it was created."""
    alice, bob = clones
    ok(alice, "set", "acme", "created=2026-01-01")
    git(alice, "push", "-q")
    assert pull(bob).returncode == 0
    ok(alice, "won", "acme", "--date", "2026-01-10")
    git(alice, "push", "-q")
    ok(bob, "set", "acme", "created=2026-02-01")
    result = pull(bob)
    assert result.returncode != 0
    assert (
        "pipectl merge-driver: won/acme-corp.md: conflict in created, closed, stage_entered "
        "(the merge of both sides is refused: closed: 2026-01-10 is before created (2026-02-01);"
        " stage_entered: 2026-01-10 is before created (2026-02-01))"
    ) in result.stderr
    assert "UU won/acme-corp.md" in git(bob, "status", "--porcelain")
    text = deal_text(bob, "won")
    assert "<<<<<<< yours\ncreated: 2026-02-01\n=======\ncreated: 2026-01-01\n>>>>>>> theirs\n" in (
        text
    )
    assert (
        "<<<<<<< yours\n=======\nclosed: 2026-01-10\nstage_entered: 2026-01-10\n>>>>>>> theirs\n"
    ) in text
    lint = Cli(bob)("lint", "--format", "json")
    assert "PL101" in lint.stdout and "unresolved merge conflict" in lint.stdout
    # bob keeps alice's created date: the deal reads as each side meant it
    lines = text.splitlines(keepends=True)
    start = lines.index("<<<<<<< yours\n")
    text = "".join([*lines[:start], lines[start + 3], *lines[start + 5 :]])
    text = text.replace("<<<<<<< yours\n=======\n", "").replace(">>>>>>> theirs\n", "")
    (bob / "won" / "acme-corp.md").write_text(text, encoding="utf-8")
    git(bob, "add", "won/acme-corp.md")
    git(bob, "commit", "-q", "--no-edit")
    data = fields(bob, "won")
    assert str(data["created"]) == "2026-01-01" and str(data["closed"]) == "2026-01-10"
    assert "PL10" not in Cli(bob)("lint", "--format", "json", "--select", "PL101,PL103").stdout


def test_a_fault_one_side_had_already_does_not_block_the_merge(clones):
    alice, bob = clones
    ok(alice, "set", "acme", "value=2500")
    git(alice, "push", "-q")
    # bob's side has a fault of its own, written by hand: the merge did not bring it in
    path = bob / "prospecting" / "acme-corp.md"
    path.write_text(path.read_text().replace("owner: alice\n", "owner: alice\nprobability: 7\n"))
    git(bob, "commit", "-qam", "by hand")
    result = pull(bob)
    assert result.returncode == 0, result.stderr
    data = fields(bob)
    assert data["value"] == 2500 and data["probability"] == 7
