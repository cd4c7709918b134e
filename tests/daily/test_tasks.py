"""pipectl task add|done|list on real repositories: one commit each, only the lines meant.

The hand-written deal below has comments everywhere, a block entry and a flow entry in
`tasks:`, and a next step: every edit must leave each other byte where it was. The
round-trip property at the end proves the same on generated files.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git, last_commit_paths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_roundtrip import changed_lines, deal_files

from pipectl.deal import parse_yaml, split
from pipectl.dealedit import append_item, set_item_field

TODAY = "2026-12-02"  # a Wednesday

HAND = """\
---
# Written by hand in an editor; every comment must stay.
title: Hand Made   # the customer's name for it
owner: bob
created: 2026-11-01
next_step: Call the CFO  # agreed on the call
next_step_due: 2026-11-30
tasks:
  # the quote first
  - due: 2026-12-01   # promised
    summary: Send the quote
  - {due: 2026-12-09, summary: Legal review, owner: carol}   # their lawyer
touchpoints:
  - {date: 2026-11-02, kind: call, summary: Intro, outcome: replied}
---
# Hand Made

Notes that pipectl never touches.
"""


@pytest.fixture
def hand(pipeline: Path, write_deal, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIPECTL_TODAY", TODAY)
    write_deal(pipeline, "qualifying", "hand", HAND)
    git(pipeline, "add", ".")
    git(pipeline, "commit", "-qm", "hand-written deal")
    return pipeline


def run(root: Path, *args: str):
    result = Cli(root)(*args)
    return result


def diff_lines(root: Path) -> list[str]:
    """The lines the last commit added (+) and removed (-), without the file headers."""
    out = git(root, "show", "--format=", "-U0", "HEAD")
    return [ln for ln in out.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def message(root: Path) -> str:
    return git(root, "log", "-1", "--format=%B")


# --- task add -------------------------------------------------------------------------------


def test_add_puts_one_line_after_the_last_entry(hand: Path) -> None:
    before = commit_count(hand)
    r = run(hand, "task", "add", "hand", "book", "the", "demo", "--due", "fri", "--owner", "alice")
    assert r.exit_code == 0, r.output
    assert r.output == "task 4 on hand for alice: book the demo (due 2026-12-04)\n"
    assert commit_count(hand) == before + 1
    assert last_commit_paths(hand) == ["qualifying/hand.md"]
    assert diff_lines(hand) == ["+  - {due: 2026-12-04, summary: book the demo, owner: alice}"]
    text = (hand / "qualifying/hand.md").read_text()
    assert text.replace("  - {due: 2026-12-04, summary: book the demo, owner: alice}\n", "") == HAND
    msg = message(hand)
    assert msg.startswith("task hand: book the demo (due 2026-12-04)\n")
    assert "Pipectl-Action: task\n" in msg and "Pipectl-Deal: hand\n" in msg


def test_add_makes_the_key_when_the_deal_has_none(cli: Cli, pipeline: Path, monkeypatch) -> None:
    monkeypatch.setenv("PIPECTL_TODAY", TODAY)
    assert cli("add", "Acme Corp", "--set", "owner=alice").exit_code == 0
    before = (pipeline / "prospecting/acme-corp.md").read_text()
    r = cli("task", "add", "acme", "send", "the", "deck", "--due", "+3d")
    assert r.exit_code == 0, r.output
    assert diff_lines(pipeline) == ["+tasks:", "+  - {due: 2026-12-05, summary: send the deck}"]
    after = (pipeline / "prospecting/acme-corp.md").read_text()
    assert after.replace("tasks:\n  - {due: 2026-12-05, summary: send the deck}\n", "") == before


def test_a_quoted_summary_keeps_its_spacing_and_due_defaults_to_today(hand: Path) -> None:
    r = run(hand, "task", "add", "hand", "call  back: at 9")
    assert r.exit_code == 0, r.output
    added = parse_yaml(split((hand / "qualifying/hand.md").read_text()))["tasks"][-1]
    assert added == {"due": dt.date(2026, 12, 2), "summary": "call  back: at 9"}


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (("--due", "someday"), "--due: 'someday' is not a date (use YYYY-MM-DD, today,"),
        (("--owner", "nobody"), "--owner: "),
    ],
)
def test_add_refusals_are_one_line_and_change_nothing(hand: Path, args, wanted) -> None:
    roster = "team:\n  - {handle: alice}\n  - {handle: bob}\n  - {handle: carol}\n"
    with (hand / "pipeline.yaml").open("a") as f:
        f.write(roster)
    git(hand, "commit", "-qam", "roster")
    before, count = (hand / "qualifying/hand.md").read_bytes(), commit_count(hand)
    r = run(hand, "task", "add", "hand", "x", *args)
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert len(r.stderr.splitlines()) == 1 and line.startswith("pipectl: error: "), r.stderr
    assert wanted in line
    assert (hand / "qualifying/hand.md").read_bytes() == before
    assert commit_count(hand) == count


def test_add_to_a_won_deal_is_refused(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Done Deal", "--stage", "won", "--force").exit_code == 0
    r = cli("task", "add", "done-deal", "x")
    assert r.exit_code == 2
    assert "done-deal is won: tasks and snoozes are for open deals" in r.stderr


# --- task done ------------------------------------------------------------------------------


def test_done_by_number_sets_done_on_that_entry_only(hand: Path) -> None:
    r = run(hand, "task", "done", "hand", "2")  # 1 is the next step, 2 the quote
    assert r.exit_code == 0, r.output
    assert r.output == "done on hand: Send the quote\n"
    assert diff_lines(hand) == ["+    done: 2026-12-02"]
    r = run(hand, "task", "done", "hand", "legal")  # words of its summary
    assert r.exit_code == 0, r.output
    assert diff_lines(hand) == [
        "-  - {due: 2026-12-09, summary: Legal review, owner: carol}   # their lawyer",
        "+  - {due: 2026-12-09, summary: Legal review, owner: carol, done: 2026-12-02}   # their"
        " lawyer",
    ]
    text = (hand / "qualifying/hand.md").read_text()
    assert text.count("#") == HAND.count("#")  # every comment and heading still there


def test_done_with_log_records_the_touchpoint_in_the_same_commit(hand: Path) -> None:
    before = commit_count(hand)
    r = run(hand, "task", "done", "hand", "2", "--log", "call", "--outcome", "replied")
    assert r.exit_code == 0, r.output
    assert commit_count(hand) == before + 1
    assert diff_lines(hand) == [
        "+    done: 2026-12-02",
        "+  - {date: 2026-12-02, kind: call, summary: Send the quote, outcome: replied}",
    ]
    msg = message(hand)
    assert msg.startswith("task done hand: Send the quote, logged call\n")
    assert "Pipectl-Logged: call\n" in msg


def test_done_on_the_next_step_clears_it(hand: Path) -> None:
    r = run(hand, "task", "done", "hand", "1", "--date", "yesterday")
    assert r.exit_code == 0, r.output
    assert diff_lines(hand) == [
        "-next_step: Call the CFO  # agreed on the call",
        "-next_step_due: 2026-11-30",
    ]
    listed = json.loads(run(hand, "task", "list", "--format", "json").stdout)
    assert [(t["n"], t["summary"]) for t in listed] == [(1, "Send the quote"), (2, "Legal review")]


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (("9",), "hand has no open task 9 (open: 1. Call the CFO; 2. Send the quote; 3. Legal"),
        ((), "hand has 3 open tasks: name one (1. Call the CFO; 2. Send the quote;"),
        (("e",), "3 open tasks of hand says 'e'"),
        (("nothing", "like", "it"), "no open task of hand says 'nothing like it'"),
        (("2", "--outcome", "replied"), "--outcome goes with --log KIND"),
        (("2", "--log", "smoke"), "unknown touchpoint kind 'smoke'"),
        (("2", "--date", "+3d"), "--date: 2026-12-05 is in the future"),
    ],
)
def test_done_refusals_are_one_line_and_change_nothing(hand: Path, args, wanted) -> None:
    before, count = (hand / "qualifying/hand.md").read_bytes(), commit_count(hand)
    r = run(hand, "task", "done", "hand", *args)
    assert r.exit_code == 2, r.output
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("pipectl: error: ")
    assert wanted in r.stderr, r.stderr
    assert (hand / "qualifying/hand.md").read_bytes() == before
    assert commit_count(hand) == count


def test_done_without_a_number_when_one_task_is_open(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Solo", "--next-step", "Call", "--due", "2026-12-01").exit_code == 0
    r = cli("task", "done", "solo")
    assert r.exit_code == 0, r.output
    assert "next_step" not in (pipeline / "prospecting/solo.md").read_text()
    r = cli("task", "done", "solo")
    assert r.exit_code == 2 and "solo has no open task" in r.stderr


# --- task list ------------------------------------------------------------------------------


def test_list_every_open_task_soonest_first_in_every_format(hand: Path) -> None:
    assert run(hand, "add", "Acme", "--set", "owner=alice").exit_code == 0
    assert run(hand, "task", "add", "acme", "ship", "it", "--due", "2026-12-03").exit_code == 0
    r = run(hand, "task", "list", "--format", "tsv")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        "deal\tn\tdue\tlate\towner\tsummary\tstage\tsnoozed_until",
        "hand\t1\t2026-11-30\t2\tbob\tCall the CFO\tqualifying\t",
        "hand\t2\t2026-12-01\t1\tbob\tSend the quote\tqualifying\t",
        "acme\t1\t2026-12-03\t\talice\tship it\tprospecting\t",
        "hand\t3\t2026-12-09\t\tcarol\tLegal review\tqualifying\t",
    ]
    csv = run(hand, "task", "list", "--format", "csv").stdout.splitlines()
    assert csv[0] == "deal,n,due,late,owner,summary,stage,snoozed_until"
    assert csv[1] == "hand,1,2026-11-30,2,bob,Call the CFO,qualifying,"
    table = run(hand, "task", "list").stdout.splitlines()
    assert table[0].split() == ["DEAL", "N", "DUE", "LATE", "OWNER", "SUMMARY"]
    assert table[1].split() == ["hand", "1", "2026-11-30", "2d", "bob", "Call", "the", "CFO"]
    data = json.loads(run(hand, "task", "list", "--format", "json").stdout)
    assert data[3] == {
        "deal": "hand",
        "n": 3,
        "due": "2026-12-09",
        "late": None,
        "owner": "carol",
        "summary": "Legal review",
        "stage": "qualifying",
        "snoozed_until": None,
    }


def test_list_by_owner_and_overdue(hand: Path) -> None:
    def ids(*args: str) -> list[tuple[str, int]]:
        r = run(hand, "task", "list", "--format", "json", *args)
        assert r.exit_code == 0, r.output
        return [(t["deal"], t["n"]) for t in json.loads(r.stdout)]

    assert ids("--owner", "carol") == [("hand", 3)]  # a task's own owner
    assert ids("--owner", "bob") == [("hand", 1), ("hand", 2)]  # else the deal's
    assert ids("--overdue") == [("hand", 1), ("hand", 2)]
    config = hand / "pipeline.yaml"
    rules = "rules:\n  overdue-next-step: {grace_days: 1}\n"
    config.write_text(config.read_text().replace("rules: {}\n", rules))
    assert ids("--overdue") == [("hand", 1)]  # PL303's grace, as lint counts it
    assert ids("--overdue", "--today", "2026-11-29") == []


def test_lint_agenda_and_list_count_every_open_task(hand: Path) -> None:
    run(hand, "task", "done", "hand", "1")  # the next step is done; the quote is still late
    r = run(hand, "lint", "--select", "PL303,PL203", "--format", "json")
    found = [(f["code"], f["line"]) for f in json.loads(r.stdout)]
    assert found == [("PL303", 8)]  # the quote's entry: `- due: 2026-12-01`
    agenda = json.loads(run(hand, "agenda", "--json", "--owner", "all").stdout)
    (item,) = [i for i in agenda["items"] if i["id"] == "hand"]
    assert item["section"] == "overdue"
    assert item["detail"] == "Send the quote — due 2026-12-01 (1 day late)"
    assert [t["summary"] for t in item["tasks"]] == ["Send the quote", "Legal review"]
    listed = run(hand, "list", "--overdue", "--format", "tsv").stdout.splitlines()
    assert [ln.split("\t")[0] for ln in listed[1:]] == ["hand"]


def test_show_numbers_the_tasks_as_done_takes_them(hand: Path) -> None:
    assert run(hand, "task", "done", "hand", "2").exit_code == 0
    assert run(hand, "snooze", "hand", "--until", "+1w", "--reason", "away").exit_code == 0
    out = run(hand, "show", "hand").stdout.splitlines()
    at = out.index("tasks (2 open; 1 is the next step):")
    assert out[at - 1] == "next step: Call the CFO (due 2026-11-30)"
    assert out[at + 1 : at + 4] == [
        "  2. 2026-12-09  Legal review (carol)",
        "  -  2026-12-01  Send the quote (done 2026-12-02)",
        "snoozed until 2026-12-09 (away)",
    ]


def test_help_names_the_commands(cli: Cli) -> None:
    r = cli("task", "--help")
    assert r.exit_code == 0
    for word in ("add", "done", "list"):
        assert word in r.output
    r = cli("task", "done", "--help")
    assert "--log" in r.output and "--outcome" in r.output


# --- the round-trip guarantee, on generated files -------------------------------------------


@st.composite
def with_tasks(draw) -> tuple[str, int]:
    """A generated deal file with a `tasks:` block of 1-3 entries in the styles people write
    (flow or block mappings, trailing comments, two indents), and the number of entries."""
    text = draw(deal_files())
    t = split(text)
    nl = t.newline
    indent = draw(st.sampled_from(["", "  ", "    "]))
    n = draw(st.integers(1, 3))
    lines = ["tasks:" + draw(st.sampled_from(["", "  # to do"]))]
    for i in range(n):
        comment = draw(st.sampled_from(["", "   # why"]))
        if draw(st.booleans()):
            done = ", done: 2026-11-0" + str(i + 1) if draw(st.booleans()) else ""
            lines.append(f"{indent}- {{due: 2026-12-0{i + 1}, summary: Task {i}{done}}}{comment}")
        else:
            lines.append(f"{indent}- due: 2026-12-0{i + 1}{comment}")
            lines.append(f"{indent}  summary: 'Task {i}'")
            if draw(st.booleans()):
                lines.append(f"{indent}  owner: bob  # theirs")
    block = "".join(line + nl for line in lines)
    return t.bom + t.head + block + t.yaml + t.tail + t.body, n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_tasks(), st.data())
def test_done_changes_one_line_and_adding_adds_one(case, data) -> None:
    text, n = case
    t = split(text)
    before = parse_yaml(t)
    index = data.draw(st.integers(0, n - 1))
    day = dt.date(2026, 12, 24)
    after = set_item_field(t, "tasks", index, "done", day)
    assert (after.bom, after.head, after.tail, after.body) == (t.bom, t.head, t.tail, t.body)
    expected = parse_yaml(t)
    expected["tasks"][index]["done"] = day
    assert parse_yaml(after) == expected
    diff = changed_lines(t.yaml, after.yaml)
    assert len(diff) == 1, diff
    tag, old, new = diff[0]
    assert (tag, len(new)) in (("insert", 1), ("replace", 1)) and len(old) <= 1, diff
    item = {"due": dt.date(2027, 1, 5), "summary": "New: one"}
    grown = append_item(after, "tasks", item)
    assert parse_yaml(grown)["tasks"] == [*expected["tasks"], item]
    assert {k: v for k, v in parse_yaml(grown).items() if k != "tasks"} == {
        k: v for k, v in before.items() if k != "tasks"
    }
    diff = changed_lines(after.yaml, grown.yaml)
    assert [(tag, len(old), len(new)) for tag, old, new in diff] == [("insert", 0, 1)], diff
