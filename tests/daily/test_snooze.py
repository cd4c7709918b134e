"""pipectl snooze / unsnooze on real repositories: until the day, the time rules are silent
for the deal in lint, agenda, sweep and board, which show it as snoozed; from that day they
apply again. One commit each, only the snooze's lines written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git, last_commit_paths

TODAY = "2026-12-02"

# Stale, stuck, past the 90-day cycle, its next step overdue, its close date missed: every
# time rule fires on it. Comments that must survive.
OLD = """\
---
title: Old Lead   # from the trade fair
owner: alice
value: 5000
created: 2026-07-01   # the fair
expected_close: 2026-10-01
next_step: 'Call again'
next_step_due: 2026-08-01
touchpoints:
  - {date: 2026-07-02, kind: email, summary: Intro, outcome: no-reply}
---
# Old Lead

Met at the fair.
"""

TIME_RULES = {"PL301", "PL302", "PL303", "PL304", "PL305"}


@pytest.fixture
def old(pipeline: Path, write_deal, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIPECTL_TODAY", TODAY)
    write_deal(pipeline, "prospecting", "old-lead", OLD)
    git(pipeline, "add", ".")
    git(pipeline, "commit", "-qm", "old lead")
    return pipeline


def diff_lines(root: Path) -> list[str]:
    out = git(root, "show", "--format=", "-U0", "HEAD")
    return [ln for ln in out.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def codes(root: Path, *args: str) -> set[str]:
    r = Cli(root)("lint", "--format", "json", *args)
    return {f["code"] for f in json.loads(r.stdout) if f["deal_id"] == "old-lead"}


def test_snooze_writes_two_lines_in_one_commit(old: Path) -> None:
    before = commit_count(old)
    r = Cli(old)("snooze", "old", "--until", "+2w", "--reason", "Budget frozen until January")
    assert r.exit_code == 0, r.output
    assert r.output == "snoozed old-lead until 2026-12-16 (Budget frozen until January)\n"
    assert commit_count(old) == before + 1
    assert last_commit_paths(old) == ["prospecting/old-lead.md"]
    assert diff_lines(old) == [
        "+snoozed_until: 2026-12-16",
        "+snooze_reason: Budget frozen until January",
    ]
    text = (old / "prospecting/old-lead.md").read_text()
    added = "snoozed_until: 2026-12-16\nsnooze_reason: Budget frozen until January\n"
    assert text.replace(added, "") == OLD
    msg = git(old, "log", "-1", "--format=%B")
    assert msg.startswith("snooze old-lead until 2026-12-16 (Budget frozen until January)\n")
    assert "Pipectl-Action: snooze\n" in msg and "Pipectl-Deal: old-lead\n" in msg
    # snoozed again: the date changes on its line, the old reason goes
    assert Cli(old)("snooze", "old", "--until", "2026-12-20").exit_code == 0
    assert diff_lines(old) == [
        "-snoozed_until: 2026-12-16",
        "-snooze_reason: Budget frozen until January",
        "+snoozed_until: 2026-12-20",
    ]


def test_unsnooze_removes_the_lines_and_only_them(old: Path) -> None:
    assert Cli(old)("snooze", "old", "--until", "2026-12-10", "--reason", "leave").exit_code == 0
    r = Cli(old)("unsnooze", "old")
    assert r.exit_code == 0, r.output
    assert r.output == "old-lead is awake\n"
    assert (old / "prospecting/old-lead.md").read_text() == OLD
    assert "Pipectl-Action: unsnooze" in git(old, "log", "-1", "--format=%B")
    r = Cli(old)("unsnooze", "old")
    assert r.exit_code == 2
    assert r.stderr.endswith("prospecting/old-lead.md: old-lead is not snoozed\n")


@pytest.mark.parametrize(
    ("until", "wanted"),
    [
        ("2026-11-30", "--until 2026-11-30 is not after today (2026-12-02): a snooze ends later"),
        ("today", "--until 2026-12-02 is not after today"),
        ("someday", "--until: 'someday' is not a date (use YYYY-MM-DD, today,"),
    ],
)
def test_a_snooze_in_the_past_or_no_date_is_refused(old: Path, until: str, wanted: str) -> None:
    count = commit_count(old)
    r = Cli(old)("snooze", "old", "--until", until)
    assert r.exit_code == 2, r.output
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("pipectl: error: ")
    assert wanted in r.stderr
    assert (old / "prospecting/old-lead.md").read_text() == OLD
    assert commit_count(old) == count


def test_lint_is_silent_until_the_day_then_applies_again(old: Path) -> None:
    assert codes(old) >= TIME_RULES
    assert Cli(old)("snooze", "old", "--until", "2026-12-10", "--reason", "on leave").exit_code == 0
    assert codes(old) == {"PL307"}
    r = Cli(old)("lint", "--select", "PL307")
    assert "PL307 snoozed until 2026-12-10 (on leave)" in r.stdout
    assert codes(old, "--today", "2026-12-09") == {"PL307"}
    woken = codes(old, "--today", "2026-12-10")
    assert woken >= TIME_RULES and "PL307" not in woken


def test_a_snooze_longer_than_the_maximum(old: Path) -> None:
    r = Cli(old)("snooze", "old", "--until", "2027-06-01")
    assert r.exit_code == 0, r.output
    assert "longer than snooze.max_days (90): lint flags it (PL308)" in r.output
    assert codes(old) == {"PL307", "PL308"}
    config = old / "pipeline.yaml"
    config.write_text(config.read_text() + "snooze:\n  max_days: 200\n")
    assert codes(old) == {"PL307"}
    config.write_text(config.read_text().replace("max_days: 200", "max_days: lots"))
    r = Cli(old)("lint")
    assert r.exit_code == 2 and "snooze.max_days" in r.stderr


def test_agenda_lists_it_as_snoozed_only_until_the_day(old: Path) -> None:
    def sections(*args: str) -> list[tuple[str, str]]:
        r = Cli(old)("agenda", "--json", "--owner", "all", *args)
        assert r.exit_code == 0, r.output
        return [(i["section"], i["detail"]) for i in json.loads(r.stdout)["items"]]

    assert sections()[0][0] == "overdue"
    assert Cli(old)("snooze", "old", "--until", "2026-12-10", "--reason", "on leave").exit_code == 0
    assert sections() == [("snoozed", "snoozed until 2026-12-10 (on leave)")]
    text = Cli(old)("agenda", "--owner", "all").stdout
    assert "Snoozed" in text and "snoozed until 2026-12-10 (on leave)" in text
    assert sections("--today", "2026-12-10")[0][0] == "overdue"


def test_sweep_leaves_a_snoozed_lead_alone(old: Path) -> None:
    def state(*args: str) -> tuple[str, list[str]]:
        r = Cli(old)("sweep", "--json", *args)
        assert r.exit_code == 0, r.output
        (c,) = [c for c in json.loads(r.stdout)["candidates"] if c["id"] == "old-lead"]
        return c["state"], c["left_alone"]

    assert state()[0] == "due"
    assert Cli(old)("snooze", "old", "--until", "2026-12-10").exit_code == 0
    assert state() == ("skipped", ["snoozed until 2026-12-10"])
    count = commit_count(old)
    r = Cli(old)("sweep", "--last-chance")
    assert r.exit_code == 0, r.output
    assert commit_count(old) == count  # nothing sent
    assert "skipped: snoozed until 2026-12-10" in r.stdout
    assert state("--today", "2026-12-10")[0] == "due"


def test_board_shows_it_snoozed(old: Path) -> None:
    assert Cli(old)("snooze", "old", "--until", "2026-12-10").exit_code == 0
    r = Cli(old)("board", "--json", "--owner", "all")
    (card,) = [k for s in json.loads(r.stdout)["stages"] for k in s["cards"]]
    assert card["snoozed_until"] == "2026-12-10" and card["lint_findings"] == 0
    assert card["open_tasks"] == 1 and card["next_due"] == "2026-08-01"
    text = Cli(old)("board", "--owner", "all", "--width", "120").stdout
    assert "zz 2026-12-10" in text and "zz DATE: snoozed until then" in text
    r = Cli(old)("board", "--json", "--owner", "all", "--today", "2026-12-10")
    (card,) = [k for s in json.loads(r.stdout)["stages"] for k in s["cards"]]
    assert card["snoozed_until"] is None and card["lint_findings"] > 0


def test_only_open_deals_are_snoozed(cli: Cli, pipeline: Path) -> None:
    added = cli("add", "Done Deal", "--stage", "lost", "--force", "--set", "lost_reason=price")
    assert added.exit_code == 0, added.output
    r = cli("snooze", "done-deal", "--until", "+1w")
    assert r.exit_code == 2, r.output
    assert "done-deal is lost: tasks and snoozes are for open deals" in r.stderr


def test_help(cli: Cli) -> None:
    r = cli("snooze", "--help")
    assert r.exit_code == 0 and "--until" in r.output and "--reason" in r.output
    assert cli("unsnooze", "--help").exit_code == 0
