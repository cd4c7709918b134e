"""Trends (issue 15): `report --weeks N` on a backdated history (commits with their author and
committer dates set, real git) with known moves, new deals, a slipped close date and
touchpoints by two reps; every week's figures are worked out here from the story."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, make_repo
from test_changes import Timeline

TODAY = "2026-11-25"  # a Wednesday; the last week is 2026-11-23 to today


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    mp.setenv("HOME", str(home))
    mp.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    root = make_repo(tmp_path_factory.mktemp("trends") / "repo")
    t = Timeline(root, mp)
    try:
        t.at("2026-11-02").run("init")
        t.at("2026-11-03").add("Acme", 10000, "2026-12-15")  # week of 11-02
        t.at("2026-11-04").add("Beta", 5000, "2026-12-20")
        t.at("2026-11-10").add("Gamma", 2000, None)  # week of 11-09
        t.at("2026-11-11").run("move", "acme", "connecting")
        t.at("2026-11-12", who="bob").run("log", "beta", "call", "intro", "--outcome", "replied")
        t.at("2026-11-17").run("set", "beta", "expected_close=2027-01-20")  # slipped, 11-16 week
        t.at("2026-11-18").run("log", "acme", "email", "proposal", "--outcome", "no-reply")
        t.at("2026-11-19").run("log", "acme", "call", "follow-up", "--outcome", "replied")
        t.at("2026-11-24").run("won", "acme")  # the last week
        t.at("2026-11-24", who="bob").run(
            "log", "gamma", "meeting", "demo", "--outcome", "positive"
        )
    finally:
        mp.undo()
    return root


def trends(root: Path, weeks: int = 4) -> dict:
    r = Cli(root)("report", "--json", "--today", TODAY, "--weeks", str(weeks))
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["trends"]


def test_each_week_counts_the_open_deals_at_its_end(story: Path) -> None:
    weeks = {w["week"]: w for w in trends(story)["weeks"]}
    assert list(weeks) == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    stages = {
        day: {s: v["count"] for s, v in w["stages"].items() if v["count"]}
        for day, w in weeks.items()
    }
    assert stages == {
        "2026-11-02": {"prospecting": 2},  # Acme and Beta
        "2026-11-09": {"prospecting": 2, "connecting": 1},  # Gamma in, Acme moved on
        "2026-11-16": {"prospecting": 2, "connecting": 1},
        "2026-11-23": {"prospecting": 2},  # Acme won
    }
    assert weeks["2026-11-09"]["open_value"] == 10000 + 5000 + 2000
    assert weeks["2026-11-23"]["open_count"] == 2


def test_new_deals_slips_and_touchpoints_per_week(story: Path) -> None:
    weeks = {w["week"]: w for w in trends(story)["weeks"]}
    assert [weeks[d]["new_count"] for d in sorted(weeks)] == [2, 1, 0, 0]
    assert weeks["2026-11-02"]["new_value"] == 15000
    assert [weeks[d]["slipped"] for d in sorted(weeks)] == [0, 0, 1, 0]
    assert [weeks[d]["touchpoints"] for d in sorted(weeks)] == [0, 1, 2, 1]


def test_activity_per_rep_per_week_names_who_logged_it(story: Path) -> None:
    rows = {(a["week"], a["rep"]): a for a in trends(story)["activity"]}
    assert set(rows) == {("2026-11-09", "bob"), ("2026-11-16", "alice"), ("2026-11-23", "bob")}
    alice = rows[("2026-11-16", "alice")]
    assert alice["count"] == 2
    assert alice["kinds"] == {"call": 1, "email": 1}
    assert alice["outcomes"] == {"no-reply": 1, "replied": 1}


def test_median_days_in_stage_per_quarter(story: Path) -> None:
    rows = trends(story)["stage_time"]
    # Acme: prospecting 11-03 → 11-11 (8 days), connecting 11-11 → 11-24 (13 days)
    assert rows == [
        {"quarter": "2026-Q4", "stage": "prospecting", "count": 1, "median_days": 8.0},
        {"quarter": "2026-Q4", "stage": "connecting", "count": 1, "median_days": 13.0},
    ]


def test_text_report_shows_the_weeks(story: Path) -> None:
    r = Cli(story)("report", "--today", TODAY, "--weeks", "4")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    at = lines.index("Trends by week (open deals at each week's end, at their value today)")
    assert lines[at + 1].split() == ["WEEK", "OPEN", "VALUE", "NEW", "SLIPPED", "TOUCHPOINTS"]
    assert lines[at + 2].split() == ["2026-11-02", "2", "15,000", "2", "0", "0"]


def test_without_weeks_there_are_no_trends(story: Path) -> None:
    r = Cli(story)("report", "--json", "--today", TODAY)
    assert json.loads(r.stdout)["trends"] is None
    bad = Cli(story)("report", "--weeks", "0")
    assert bad.exit_code == 2 and "--weeks" in bad.stderr


def test_the_month_view_counts_each_calendar_month_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week across a month's end is counted in each month for its own days (the months had
    been the weeks grouped by their Mondays: December's deal and touchpoint under November)."""
    import html
    import re

    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.at("2026-11-02").run("init")
    t.at("2026-11-02").add("Acme", 1000, None)
    t.at("2026-12-01").add("Beta", 500, None)  # Tuesday: the week of Monday 11-30
    t.at("2026-12-02").run("log", "acme", "call", "hi", "--outcome", "replied")
    page = tmp_path / "r.html"
    r = Cli(root)("report", "--html", str(page), "--today", "2026-12-04", "--weeks", "6")
    assert r.exit_code == 0, r.output
    points = re.findall(r'<g class="point"([^>]*)>', page.read_text(encoding="utf-8"))
    months = {}
    for attrs in points:
        data = {
            k: json.loads(html.unescape(v))
            for k, v in re.findall(r'data-([\w-]+)="([^"]*)"', attrs)
        }
        if str(data.get("period", "")).count("-") == 1:  # "2026-11", not a week's Monday
            months[data["period"]] = (
                data["open-count"],
                data["open-value"],
                data["new"],
                data["touchpoints"],
            )
    assert months == {
        "2026-10": (0, 0, 0, 0),
        "2026-11": (1, 1000, 1, 0),
        "2026-12": (2, 1500, 1, 1),
    }


def test_outside_git_the_trends_say_their_activity_comes_from_git(tmp_path: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pipeline.yaml").write_text("currency: EUR\n")
    (plain / "prospecting").mkdir()
    (plain / "prospecting" / "acme.md").write_text(
        "---\ntitle: Acme\nvalue: 100\ncreated: 2026-11-20\ntouchpoints:\n"
        "- {date: 2026-11-24, kind: call, summary: Intro}\n---\n"
    )
    result = Cli(plain)("report", "--weeks", "2", "--today", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert "not in a git repository: the trends' touchpoints per rep" in result.stderr
    assert "git" not in Cli(plain)("report", "--today", "2026-11-27").stderr
