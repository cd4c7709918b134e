"""The one owner rule: every `--owner` matches the same way, through the team roster when there
is one, and reports count a rep once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli

from pipectl.configspec import Member
from pipectl.deal import Deal
from pipectl.errors import UsageError
from pipectl.owners import (
    NO_OWNER,
    default_owner,
    member,
    owner_filter,
    owner_key,
    owner_label,
    owner_matches,
    roster_handle,
    settle_owner,
)

TODAY = "2026-11-27"


def deal(owner: object) -> Deal:
    fields = {} if owner is None else {"owner": owner}
    return Deal("d", "prospecting", Path("prospecting/d.md"), fields)


def test_names_compare_without_case_or_blanks() -> None:
    assert owner_key(" Alice ") == owner_key("alice") == "alice"
    assert owner_matches(deal("Alice"), "ALICE")
    assert not owner_matches(deal("Alice"), "alicia")
    assert owner_matches(deal(None), None) and owner_matches(deal("bob"), None)


def test_none_matches_only_deals_without_an_owner() -> None:
    assert owner_matches(deal(None), NO_OWNER)
    assert owner_matches(deal("  "), NO_OWNER)
    assert not owner_matches(deal("bob"), NO_OWNER)


@pytest.mark.parametrize("option", [None, "all", "ALL", " All "])
def test_all_asks_for_everyone(option: str | None) -> None:
    assert owner_filter(option) is None


def test_a_name_is_kept_as_given() -> None:
    assert owner_filter("Alice") == "Alice"
    assert owner_filter(NO_OWNER) == NO_OWNER


TEAM = (
    Member("alice", "Alice Smith", ("alice@acme.example",), ("asmith", "Al")),
    Member("bob", "Bob Jones", ("bob@acme.example",), ("Al",)),
    Member("carol", "Carol White", active=False),
)


def test_a_member_is_named_by_handle_name_email_or_alias_in_any_case() -> None:
    for word in ("alice", " ALICE ", "alice smith", "Alice@Acme.example", "ASMITH"):
        assert member(TEAM, word) == TEAM[0], word
    assert member(TEAM, "Al") is None  # two members' alias: it names neither
    assert member(TEAM, "zed") is None and member(TEAM, "") is None and member((), "alice") is None
    assert member((*TEAM, Member("dave", aliases=("alice",))), "alice") == TEAM[0]  # a handle wins


def test_a_git_identity_is_a_member_by_email_before_name() -> None:
    assert roster_handle(TEAM, "Bob Jones", "alice@acme.example") == "alice"
    assert roster_handle(TEAM, "Bob Jones", "bob@home.example") == "bob"
    assert roster_handle(TEAM, "Someone", None) is None
    assert roster_handle((), "alice", "alice@acme.example") is None


def test_the_default_owner_is_the_env_then_the_roster_then_the_git_name() -> None:
    def unasked() -> tuple[str | None, str | None]:
        raise AssertionError("git asked although $PIPECTL_OWNER is set")

    assert default_owner(TEAM, "bob", unasked) == "bob"
    assert default_owner(TEAM, "  ", lambda: ("Alice Smith", None)) == "alice"
    assert default_owner(TEAM, None, lambda: ("Pat", "alice@acme.example")) == "alice"
    assert default_owner(TEAM, None, lambda: ("Pat", "pat@acme.example")) == "Pat"
    assert default_owner((), None, lambda: ("Alice Smith", None)) == "Alice Smith"
    assert default_owner(TEAM, None, lambda: (None, None)) is None
    assert default_owner(TEAM, None, None) is None  # outside git


def test_owners_compare_and_show_through_the_roster() -> None:
    assert owner_key("Alice Smith", TEAM) == owner_key("asmith", TEAM) == "alice"
    assert owner_key("Alice Smith") == "alice smith"  # no roster: folded only
    assert owner_matches(deal("alice@acme.example"), "ALICE", TEAM)
    assert not owner_matches(deal("alice@acme.example"), "alice")
    assert not owner_matches(deal("Bob Jones"), "Alice Smith", TEAM)
    assert owner_filter("Alice Smith", TEAM) == "alice"
    assert owner_filter("zed", TEAM) == "zed" and owner_filter("all", TEAM) is None
    assert owner_label(" Alice Smith ", TEAM) == "alice"
    assert owner_label(" Zed ", TEAM) == "Zed" and owner_label(None, TEAM) == NO_OWNER


def test_a_write_stores_the_handle_or_is_refused() -> None:
    assert settle_owner(TEAM, {"owner": "Alice Smith", "value": 1}) == (
        {"owner": "alice", "value": 1},
        "; owner 'Alice Smith' is alice in the team roster",
    )
    assert settle_owner(TEAM, {"owner": "alice"}) == ({"owner": "alice"}, "")
    assert settle_owner(TEAM, {"value": 1}) == ({"value": 1}, "")
    assert settle_owner(TEAM, None) == ({}, "")
    assert settle_owner((), {"owner": "zed"}) == ({"owner": "zed"}, "")
    for owner, why in (
        ("alcie", "owner 'alcie' is not in pipeline.yaml's team (close: alice)"),
        ("Al", "owner 'Al' names several members of pipeline.yaml's team (alice, bob)"),
        ("carol", "owner 'carol' is inactive in pipeline.yaml's team"),
    ):
        with pytest.raises(UsageError) as refused:
            settle_owner(TEAM, {"owner": owner})
        assert str(refused.value) == why


@pytest.fixture
def team(cli: Cli) -> Cli:
    for title, owner in (("One", "alice"), ("Two", "Alice"), ("Three", "bob")):
        assert cli("add", title, "--owner", owner, "--value", "100").exit_code == 0
    assert cli("add", "Four", "--value", "100").exit_code == 0
    assert cli("set", "four", "--unset", "owner").exit_code == 0
    return cli


def _ids(cli: Cli, *args: str) -> list[str]:
    result = cli("list", "--json", *args)
    assert result.exit_code == 0, result.output
    return sorted(d["id"] for d in json.loads(result.output))


def test_every_command_matches_the_same_owners(team: Cli) -> None:
    assert _ids(team, "--owner", "ALICE") == ["one", "two"]
    assert _ids(team, "--owner", "all") == ["four", "one", "three", "two"]
    assert _ids(team, "--owner", NO_OWNER) == ["four"]
    board = json.loads(team("board", "--json", "--owner", "ALICE", "--today", TODAY).output)
    assert sorted(c["id"] for s in board["stages"] for c in s["cards"]) == ["one", "two"]
    everyone = json.loads(team("board", "--json", "--owner", "ALL", "--today", TODAY).output)
    assert sum(len(s["cards"]) for s in everyone["stages"]) == 4
    report = json.loads(team("report", "--json", "--owner", "alice", "--today", TODAY).output)
    assert report["open_count"] == 2
    report = json.loads(team("report", "--json", "--owner", "all", "--today", TODAY).output)
    assert report["open_count"] == 4


def test_the_report_counts_one_rep_once_however_spelt(team: Cli) -> None:
    report = json.loads(team("report", "--json", "--today", TODAY).output)
    owners = report["owners"]
    names = list(owners) if isinstance(owners, dict) else [o["owner"] for o in owners]
    assert names == ["alice", "bob", NO_OWNER]


def test_list_overdue_honours_pl303_grace_days(cli: Cli, pipeline: Path) -> None:
    cli("add", "Late", "--next-step", "Call", "--due", "2026-11-10")
    cli("add", "Later", "--next-step", "Call", "--due", "2026-11-01")
    assert _ids(cli, "--overdue", "--today", "2026-11-15") == ["late", "later"]
    config = pipeline / "pipeline.yaml"
    text = config.read_text(encoding="utf-8")
    assert "\nrules: {}\n" in text
    config.write_text(text.replace("\nrules: {}\n", "\nrules: {PL303: {grace_days: 7}}\n"))
    assert _ids(cli, "--overdue", "--today", "2026-11-15") == ["later"]
