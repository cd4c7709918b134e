"""Relative dates (pipectl/dates.py, docs/dates.md): every form against a pinned today, month
ends and leap years included; the docs' examples are what the parser says; through the CLI
the ISO date is what gets stored, and a bad date is one line listing the forms, exit 2."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from conftest import REPO_ROOT, Cli

from pipectl import dates
from pipectl.errors import EXIT_USAGE, UsageError

D = dt.date
FRI = D(2026, 1, 30)  # a Friday
SUN = D(2026, 2, 1)  # a Sunday, the last day of its ISO week
MON = D(2026, 2, 2)

CASES = [
    # (today, typed, expected)
    (FRI, "2026-02-14", D(2026, 2, 14)),
    (FRI, " 2026-02-14 ", D(2026, 2, 14)),
    (FRI, "today", FRI),
    (FRI, "yesterday", D(2026, 1, 29)),
    (FRI, "tomorrow", D(2026, 1, 31)),
    (D(2026, 12, 31), "tomorrow", D(2027, 1, 1)),
    (D(2026, 3, 1), "yesterday", D(2026, 2, 28)),
    (D(2028, 3, 1), "yesterday", D(2028, 2, 29)),
    # weekdays: the next one strictly after today
    (FRI, "monday", MON),
    (FRI, "mon", MON),
    (FRI, "tue", D(2026, 2, 3)),
    (FRI, "wednesday", D(2026, 2, 4)),
    (FRI, "thu", D(2026, 2, 5)),
    (FRI, "fri", D(2026, 2, 6)),
    (FRI, "friday", D(2026, 2, 6)),
    (FRI, "sat", D(2026, 1, 31)),
    (FRI, "sunday", SUN),
    (SUN, "sun", D(2026, 2, 8)),
    (SUN, "mon", MON),
    (D(2026, 12, 31), "fri", D(2027, 1, 1)),  # a Thursday: the next day, in the next year
    # offsets
    (FRI, "+3d", MON),
    (FRI, "3d", MON),
    (FRI, "-3d", D(2026, 1, 27)),
    (FRI, "+0d", FRI),
    (FRI, "+2w", D(2026, 2, 13)),
    (FRI, "-2w", D(2026, 1, 16)),
    (D(2028, 2, 27), "+2d", D(2028, 2, 29)),
    (D(2027, 2, 27), "+2d", D(2027, 3, 1)),
    (D(2026, 12, 30), "+1w", D(2027, 1, 6)),
    # calendar months, clamped to the end of a shorter month
    (D(2026, 1, 31), "+1m", D(2026, 2, 28)),
    (D(2028, 1, 31), "+1m", D(2028, 2, 29)),
    (D(2026, 3, 31), "-1m", D(2026, 2, 28)),
    (D(2026, 3, 31), "+1m", D(2026, 4, 30)),
    (D(2026, 1, 15), "+1m", D(2026, 2, 15)),
    (D(2026, 11, 30), "+3m", D(2027, 2, 28)),
    (D(2026, 12, 15), "+1m", D(2027, 1, 15)),
    (D(2026, 1, 15), "-1m", D(2025, 12, 15)),
    (D(2026, 8, 31), "+18m", D(2028, 2, 29)),
    (D(2028, 2, 29), "+1y", D(2029, 2, 28)),
    (D(2028, 2, 29), "+4y", D(2032, 2, 29)),
    (D(2026, 5, 5), "-1y", D(2025, 5, 5)),
    # end of week (its Sunday; today on a Sunday), end of month (today on its last day)
    (FRI, "eow", SUN),
    (MON, "eow", D(2026, 2, 8)),
    (SUN, "eow", SUN),
    (D(2026, 12, 31), "eow", D(2027, 1, 3)),
    (FRI, "eom", D(2026, 1, 31)),
    (D(2026, 1, 31), "eom", D(2026, 1, 31)),
    (D(2026, 2, 1), "eom", D(2026, 2, 28)),
    (D(2028, 2, 10), "eom", D(2028, 2, 29)),
    (D(2100, 2, 10), "eom", D(2100, 2, 28)),  # not a leap year
    (D(2000, 2, 10), "eom", D(2000, 2, 29)),  # a leap year
    (D(2026, 4, 2), "eom", D(2026, 4, 30)),
    (D(2026, 12, 2), "eom", D(2026, 12, 31)),
    # next week: next Monday
    (FRI, "next week", MON),
    (MON, "next week", D(2026, 2, 9)),
    (SUN, "next week", MON),
    (D(2026, 12, 30), "next week", D(2027, 1, 4)),
    # case and spaces
    (FRI, "Tomorrow", D(2026, 1, 31)),
    (FRI, "FRI", D(2026, 2, 6)),
    (FRI, "  Next   Week ", MON),
    (FRI, "+1M", D(2026, 2, 28)),
]


@pytest.mark.parametrize(("now", "typed", "expected"), CASES)
def test_every_form_against_a_pinned_today(now: dt.date, typed: str, expected: dt.date) -> None:
    assert dates.parse_date(typed, "--due", now) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "someday",
        "tomorow",
        "next",
        "next friday",
        "+3",
        "d",
        "+3x",
        "++3d",
        "+3 d",
        "3.5d",
        "2026-02-30",
        "2026-13-01",
        "+99999y",
        "+١d",  # an Arabic-Indic digit: not typed as a number
        "eoy",
    ],
)
def test_anything_else_is_one_line_listing_the_forms(typed: str) -> None:
    with pytest.raises(UsageError) as caught:
        dates.parse_date(typed, "--due", FRI)
    message = caught.value.message
    assert message.startswith(f"--due: {typed!r} is not a date (use YYYY-MM-DD, ")
    assert "\n" not in message
    for form in ("tomorrow", "+3d", "-2w", "+1m", "eow", "eom", "next week"):
        assert form in message


def test_the_ends_of_the_calendar_are_no_date() -> None:
    with pytest.raises(UsageError):
        dates.parse_date("tomorrow", "--due", D(9999, 12, 31))
    with pytest.raises(UsageError):
        dates.parse_date("-1m", "--due", D(1, 1, 15))
    assert dates.parse_date("eom", "--due", D(9999, 12, 1)) == D(9999, 12, 31)


def test_relative_dates_count_from_pipectl_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPECTL_TODAY", "2026-01-30")
    assert dates.parse_date("tomorrow", "--due") == D(2026, 1, 31)
    assert dates.recorded("yesterday") == D(2026, 1, 29)
    with pytest.raises(UsageError, match="is in the future"):
        dates.recorded("+2d")


def test_a_relative_pin_counts_from_the_real_date(monkeypatch: pytest.MonkeyPatch) -> None:
    real = dt.date.today()
    assert dates.today("yesterday") == real - dt.timedelta(days=1)
    monkeypatch.setenv("PIPECTL_TODAY", "-1w")
    assert dates.today() == real - dt.timedelta(weeks=1)
    assert dates.today("2026-01-30") == FRI  # --today wins over PIPECTL_TODAY


def test_the_docs_examples_are_what_the_parser_says() -> None:
    text = (REPO_ROOT / "docs" / "dates.md").read_text()
    examples = re.findall(r"`([^`]+)` → (\d{4}-\d\d-\d\d)", text)
    assert len(examples) >= 10
    for typed, expected in examples:
        assert dates.parse_date(typed, "x", FRI) == D.fromisoformat(expected), typed
    assert dates.parse_date("+1m", "x", D(2028, 1, 31)) == D(2028, 2, 29)  # its leap-year note
    readme = (REPO_ROOT / "README.md").read_text()
    assert "(docs/dates.md)" in readme


def test_cli_stores_the_iso_date(cli: Cli, pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPECTL_TODAY", "2026-01-30")
    assert cli("add", "Acme", "--date", "-1w").exit_code == 0
    assert "created: 2026-01-23\n" in (pipeline / "prospecting" / "acme.md").read_text()
    r = cli("next", "acme", "call", "--due", "tomorrow")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "next step for acme: call (due 2026-01-31)"
    text = (pipeline / "prospecting" / "acme.md").read_text()
    assert "next_step_due: 2026-01-31\n" in text and "tomorrow" not in text
    r = cli("set", "acme", "expected_close=eom", "next_step_due=fri")
    assert r.exit_code == 0, r.output
    text = (pipeline / "prospecting" / "acme.md").read_text()
    assert "expected_close: 2026-01-31\n" in text and "next_step_due: 2026-02-06\n" in text
    r = cli("log", "acme", "call", "done", "--date", "yesterday")
    assert r.exit_code == 0, r.output
    assert (
        "{date: 2026-01-29, kind: call, summary: done}"
        in (pipeline / "prospecting" / "acme.md").read_text()
    )


def test_cli_refuses_a_bad_date_on_one_line(cli: Cli, monkeypatch) -> None:
    monkeypatch.setenv("PIPECTL_TODAY", "2026-01-30")
    assert cli("add", "Acme").exit_code == 0
    r = cli("next", "acme", "call", "--due", "someday")
    assert r.exit_code == EXIT_USAGE
    assert r.stderr.startswith("pipectl: error: ")
    assert "acme.md: --due: 'someday' is not a date (use YYYY-MM-DD, today, " in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_a_report_window_counts_from_the_reports_today(cli: Cli, monkeypatch) -> None:
    monkeypatch.setenv("PIPECTL_TODAY", "2026-11-20")
    assert cli("add", "Acme", "--value", "100").exit_code == 0
    assert cli("won", "acme").exit_code == 0
    monkeypatch.setenv("PIPECTL_TODAY", "2026-01-01")  # --today, not this, is the report's day
    pinned = ("report", "--json", "--today", "2026-11-27")
    relative = cli(*pinned, "--since", "-4w", "--until", "yesterday")
    absolute = cli(*pinned, "--since", "2026-10-30", "--until", "2026-11-26")
    assert relative.exit_code == 0, relative.output
    assert json.loads(relative.stdout) == json.loads(absolute.stdout)
    assert json.loads(relative.stdout) != json.loads(cli(*pinned, "--since", "-3d").stdout)
