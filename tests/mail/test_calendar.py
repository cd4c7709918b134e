"""`pipectl calendar`: the feed is read by a real calendar program (khal) with every event, and
by icalendar; regenerating it after one change keeps every other UID."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import icalendar
import pytest
from conftest import Cli, git
from mail_fixtures import setup_sales

KHAL_CONF = """\
[calendars]
[[pipeline]]
path = {cal}
type = calendar
[locale]
local_timezone = UTC
default_timezone = UTC
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
[default]
default_calendar = pipeline
[sqlite]
path = {db}
"""


@pytest.fixture
def sales(pipeline: Path, write_deal) -> Path:
    root = setup_sales(pipeline, write_deal)
    write_deal(
        root,
        "connecting",
        "hooli",
        """---
title: Hooli, expansion; phase 2
company: Hooli
owner: carol
value: 30000
created: 2026-11-01
next_step: Send the order form
next_step_due: 2026-12-07
expected_close: 2026-12-31
qualification: {budget: yes, need: yes, fit: yes, timeline: yes}
tasks:
  - {due: 2026-12-02, summary: Call legal, owner: alice}
  - {due: 2026-12-09, summary: Book the demo, done: 2026-12-01}
  - {due: 2026-12-10, summary: Ask for references}
snoozed_until: 2026-12-15
snooze_reason: Board meeting first
---
""",
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "hooli")
    return root


@pytest.fixture
def sales_cli(sales: Path) -> Cli:
    return Cli(sales)


# Every event the fixture's open deals have, by UID: what it is and its day.
EXPECTED = {
    "next-step.acme@pipectl": "2026-12-04",
    "expected-close.acme@pipectl": "2026-12-20",
    "expected-close.globex@pipectl": "2027-01-15",
    "next-step.hooli@pipectl": "2026-12-07",
    "task-0.hooli@pipectl": "2026-12-02",
    "task-2.hooli@pipectl": "2026-12-10",
    "expected-close.hooli@pipectl": "2026-12-31",
    "snooze-end.hooli@pipectl": "2026-12-15",
}


def khal(tmp_path: Path, *args: str) -> str:
    exe = shutil.which("khal")
    assert exe, "khal is not installed: scripts/install-dev installs it (the dev extra)"
    conf = tmp_path / "khal.conf"
    if not conf.exists():
        (tmp_path / "khal-cal").mkdir()
        conf.write_text(KHAL_CONF.format(cal=tmp_path / "khal-cal", db=tmp_path / "khal.db"))
    done = subprocess.run(
        [exe, "-c", str(conf), *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def feed_uids(path: Path) -> dict[str, str]:
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return {str(e["UID"]): e.decoded("DTSTART").isoformat() for e in cal.walk("VEVENT")}


def test_khal_and_icalendar_read_every_event(sales_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "deals.ics"
    result = sales_cli("calendar", "--today", "2026-12-01", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (8 events)" in result.output
    assert feed_uids(out) == EXPECTED

    cal = icalendar.Calendar.from_ical(out.read_bytes())
    hooli = next(e for e in cal.walk("VEVENT") if str(e["UID"]) == "task-0.hooli@pipectl")
    assert str(hooli["SUMMARY"]) == "Task: Call legal (hooli)"
    close = next(e for e in cal.walk("VEVENT") if str(e["UID"]) == "expected-close.hooli@pipectl")
    assert str(close["SUMMARY"]) == "Expected close: Hooli, expansion; phase 2 (hooli)"
    assert all(len(line) <= 75 for line in out.read_bytes().split(b"\r\n"))

    printed = khal(tmp_path, "printics", "-f", "{uid}|{start-date}|{title}", str(out))
    assert printed.splitlines()[0] == f"{len(EXPECTED)} events found in {out}"
    rows = {line.split("|")[0]: line.split("|")[1] for line in printed.splitlines()[1:]}
    assert rows == EXPECTED

    khal(tmp_path, "import", "--batch", str(out))  # into a real calendar, without a question
    listed = khal(tmp_path, "list", "-f", "{uid}", "--day-format", "", "2026-11-01", "400d")
    assert sorted(line for line in listed.splitlines() if line) == sorted(EXPECTED)


def test_one_change_moves_one_event_and_keeps_every_uid(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.ics", tmp_path / "second.ics"
    assert sales_cli("calendar", "--today", "2026-12-01", "-o", str(first)).exit_code == 0
    again = sales_cli("calendar", "--today", "2026-12-01")
    assert again.stdout_bytes == first.read_bytes()  # a day's feed is the same bytes
    moved = sales_cli("next", "acme", "Send the revised pricing", "--due", "2026-12-11")
    assert moved.exit_code == 0, moved.output
    assert sales_cli("calendar", "--today", "2026-12-01", "-o", str(second)).exit_code == 0
    before, after = feed_uids(first), feed_uids(second)
    assert set(after) == set(before)
    assert {u for u in after if after[u] != before[u]} == {"next-step.acme@pipectl"}
    assert after["next-step.acme@pipectl"] == "2026-12-11"


def test_owner_keeps_their_deals_and_tasks(sales_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "alice.ics"
    result = sales_cli(
        "calendar", "--today", "2026-12-01", "--owner", "Alice Smith", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert set(feed_uids(out)) == {
        "next-step.acme@pipectl",
        "expected-close.acme@pipectl",
        "task-0.hooli@pipectl",  # carol's deal, alice's task
    }
