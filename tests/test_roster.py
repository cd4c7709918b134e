"""The team roster through the CLI on real repos: the default owner is the committer's handle,
every `--owner` and the report match through the roster, and writes store handles or refuse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, commit_count, git

from pipectl.gitrepo import GitRepo

TODAY = "2026-11-27"
ROSTER = """
team:
  - {handle: alice, name: Alice Smith, emails: [alice@acme.example], aliases: [asmith]}
  - {handle: bob, name: Bob Jones, manager: alice}
  - {handle: carol, name: Carol White, active: false}
"""


@pytest.fixture
def team(pipeline: Path) -> Path:
    """A pipeline whose pipeline.yaml lists a team, committed."""
    with (pipeline / "pipeline.yaml").open("a", encoding="utf-8") as f:
        f.write(ROSTER)
    git(pipeline, "commit", "-q", "-am", "the team")
    return pipeline


def owner_of(root: Path, deal_id: str) -> str | None:
    owner = json.loads(Cli(root)("show", deal_id, "--json").stdout)["fields"].get("owner")
    return None if owner is None else str(owner)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


# --- who commits ------------------------------------------------------------------------------


def test_git_author_name_and_email_beat_the_config(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(pipeline)
    assert repo.identity() == ("Test User", "test@example.com")
    git(pipeline, "config", "author.name", "Config Author")  # git's own order: author.* first
    assert repo.identity() == ("Config Author", "test@example.com")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Pat Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "pat@acme.example")
    assert repo.identity() == ("Pat Author", "pat@acme.example")


def test_a_new_deal_is_owned_by_git_author_name_before_user_name(
    cli: Cli, pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Pat Author")
    assert cli("add", "One").exit_code == 0
    assert owner_of(pipeline, "one") == "Pat Author"  # no roster: the git name, as before


def test_a_members_git_identity_gives_their_handle(
    team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(team)
    git(team, "config", "user.name", "Alice Smith")
    r = cli("add", "One")
    assert r.exit_code == 0, r.output
    assert "owner: alice\n" in (team / "prospecting" / "one.md").read_text()
    # the email names the member even when the name does not; the environment comes first
    git(team, "config", "user.name", "A. Smith (laptop)")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "Alice@Acme.example")
    assert cli("add", "Two").exit_code == 0
    assert owner_of(team, "two") == "alice"
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Bob Jones")
    monkeypatch.delenv("GIT_AUTHOR_EMAIL")
    assert cli("add", "Three").exit_code == 0
    assert owner_of(team, "three") == "bob"
    monkeypatch.setenv("PIPECTL_OWNER", "asmith")  # $PIPECTL_OWNER before git, then the roster
    r = cli("add", "Four")
    assert r.exit_code == 0 and "owner 'asmith' is alice in the team roster" in r.output
    assert owner_of(team, "four") == "alice"


def test_a_committer_the_roster_does_not_name_gets_no_deal_in_its_name(team: Path) -> None:
    before = snapshot(team), commit_count(team)
    r = Cli(team)("add", "One")  # user.name "Test User" is nobody in the team
    assert r.exit_code == 2
    assert r.stderr.strip().startswith(
        "pipectl: error: your git identity 'Test User' is no one in pipeline.yaml's team: "
        "pass --owner HANDLE"
    )
    assert (snapshot(team), commit_count(team)) == before


# --- every --owner through the roster ---------------------------------------------------------

SPELLINGS = ("alice", "Alice Smith", "ALICE@acme.example", " asmith ")


@pytest.fixture
def spelt(team: Path, write_deal) -> Path:
    """Alice's deals under every spelling of her, and one of Bob's, all open since spring
    (past the sales cycle: sweep candidates) with a next step overdue (the agenda's first)."""
    owners = [(f"a{i}", o) for i, o in enumerate(SPELLINGS)] + [("b0", "Bob Jones")]
    for deal_id, owner in owners:
        write_deal(
            team,
            "prospecting",
            deal_id,
            f"---\ntitle: {deal_id}\nowner: {owner}\nvalue: 100\ncreated: 2026-04-01\n"
            "next_step: Call\nnext_step_due: 2026-11-20\n---\n",
        )
    git(team, "add", "-A")
    git(team, "commit", "-q", "-m", "deals")
    return team


ALICE = ["a0", "a1", "a2", "a3"]


def _json(root: Path, *args: str) -> Any:
    r = Cli(root)(*args, "--json", "--today", TODAY)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("asked", ["alice", "ALICE", "Alice Smith", "alice@acme.example", "asmith"])
def test_every_owner_option_goes_through_the_roster(spelt: Path, asked: str) -> None:
    listed = _json(spelt, "list", "--owner", asked)
    assert sorted(d["id"] for d in listed) == ALICE
    board = _json(spelt, "board", "--owner", asked)
    assert board["owner"] == "alice"
    cards = sorted(c["id"] for s in board["stages"] for c in s["cards"])
    assert cards == ALICE
    agenda = _json(spelt, "agenda", "--owner", asked)
    assert sorted(i["id"] for i in agenda["items"]) == ALICE
    report = _json(spelt, "report", "--owner", asked)
    assert report["open_count"] == 4
    sweep = _json(spelt, "sweep", "--owner", asked)
    assert sorted(c["id"] for c in sweep["candidates"]) == ALICE


def test_the_agenda_of_a_member_by_their_git_name(spelt: Path) -> None:
    git(spelt, "config", "user.name", "Alice Smith")
    agenda = _json(spelt, "agenda")
    assert agenda["owner"] == "alice"
    assert sorted(i["id"] for i in agenda["items"]) == ALICE
    r = Cli(spelt)("agenda", "--today", TODAY)
    assert r.stdout.startswith("Agenda for alice, 2026-11-27: 4 items\n")


def test_the_report_counts_a_member_once_however_named(spelt: Path) -> None:
    owners = _json(spelt, "report")["owners"]
    assert {k: v["open_count"] for k, v in owners.items()} == {"alice": 4, "bob": 1}


# --- writes -----------------------------------------------------------------------------------


def test_writes_store_the_members_handle_and_say_so(team: Path) -> None:
    cli = Cli(team)
    r = cli("add", "One", "--owner", "Alice Smith")
    assert r.exit_code == 0, r.output
    assert r.stdout == "added one to prospecting; owner 'Alice Smith' is alice in the team roster\n"
    assert "owner: alice\n" in (team / "prospecting" / "one.md").read_text()
    r = cli("set", "one", "owner=bob jones")
    assert r.exit_code == 0, r.output
    assert "owner 'bob jones' is bob in the team roster" in r.stdout
    assert owner_of(team, "one") == "bob"
    r = cli("add", "Two", "--owner", "bob", "--set", "owner=asmith")  # --set has the last word
    assert r.exit_code == 0 and owner_of(team, "two") == "alice"
    r = cli("set", "two", "owner=alice")
    assert r.stdout == "unchanged: two (owner)\n"  # a handle as it is: nothing to say


@pytest.mark.parametrize(
    ("owner", "why"),
    [
        ("zed", "owner 'zed' is not in pipeline.yaml's team"),
        ("alcie", "owner 'alcie' is not in pipeline.yaml's team (close: alice)"),
        ("Carol White", "owner 'Carol White' (carol) is inactive in pipeline.yaml's team"),
    ],
)
def test_an_owner_the_roster_refuses_changes_nothing(team: Path, owner: str, why: str) -> None:
    cli = Cli(team)
    assert cli("add", "One", "--owner", "alice").exit_code == 0
    before = snapshot(team), commit_count(team), git(team, "status", "--porcelain")
    for args in (("set", "one", f"owner={owner}"), ("add", "Two", "--owner", owner)):
        r = cli(*args)
        assert r.exit_code == 2, r.output
        assert r.stderr == f"pipectl: error: {why}\n"
        assert (snapshot(team), commit_count(team), git(team, "status", "--porcelain")) == before
