"""The one owner rule: every `--owner` matches the same way, and reports count a rep once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli

from pipectl.deal import Deal
from pipectl.owners import NO_OWNER, owner_filter, owner_key, owner_matches

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
