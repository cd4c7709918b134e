"""`pipectl ingest` of .ics files: invitations and exports as `meeting` touchpoints, matched by
attendees, once each by UID and RECURRENCE-ID; cancelled and future events not logged."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import Cli, commit_count, git
from mail_fixtures import setup_sales


@pytest.fixture
def sales(pipeline: Path, write_deal) -> Path:
    return setup_sales(pipeline, write_deal)


@pytest.fixture
def sales_cli(sales: Path) -> Cli:
    return Cli(sales)


def ics(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


# As Outlook sends an invitation: METHOD:REQUEST, a zoned start, MAILTO in capitals, CN params,
# a folded ATTENDEE line.
INVITE = ics(
    "BEGIN:VCALENDAR",
    "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
    "VERSION:2.0",
    "METHOD:REQUEST",
    "BEGIN:VTIMEZONE",
    "TZID:W. Europe Standard Time",
    "BEGIN:STANDARD",
    "DTSTART:16011028T030000",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "END:STANDARD",
    "END:VTIMEZONE",
    "BEGIN:VEVENT",
    "UID:040000008200E00074C5B7101A82E008",
    'ORGANIZER;CN="Alice Smith":MAILTO:alice@ourco.example',
    'ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN="Jane Doe":MAILTO:Ja',
    " ne@Acme.example",
    "SUMMARY:Pricing review",
    "DESCRIPTION:Private agenda that must never be stored",
    "DTSTART;TZID=W. Europe Standard Time:20261124T140000",
    "DTEND;TZID=W. Europe Standard Time:20261124T150000",
    "DTSTAMP:20261120T090000Z",
    "END:VEVENT",
    "END:VCALENDAR",
)

# A weekly series with one moved occurrence, a cancelled event, one still to come, a stranger's.
EXPORT = ics(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//example//export//EN",
    "BEGIN:VEVENT",
    "UID:weekly-globex@ourco.example",
    "DTSTART:20261102T100000Z",
    "RRULE:FREQ=WEEKLY;COUNT=10",
    "SUMMARY:Globex weekly",
    "ORGANIZER:mailto:carol@ourco.example",
    "ATTENDEE:mailto:bob@globex.example",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:weekly-globex@ourco.example",
    "RECURRENCE-ID:20261109T100000Z",
    "DTSTART:20261110T100000Z",
    "SUMMARY:Globex weekly (moved)",
    "ORGANIZER:mailto:carol@ourco.example",
    "ATTENDEE:mailto:bob@globex.example",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:off@ourco.example",
    "DTSTART:20261112T100000Z",
    "STATUS:CANCELLED",
    "SUMMARY:Called off",
    "ATTENDEE:mailto:jane@acme.example",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:future@ourco.example",
    "DTSTART;VALUE=DATE:20261215",
    "SUMMARY:Kick-off",
    "ATTENDEE:mailto:jane@acme.example",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:stranger@ourco.example",
    "DTSTART:20261113T100000Z",
    "SUMMARY:Coffee with a stranger",
    "ATTENDEE:mailto:someone@unknown.example",
    "END:VEVENT",
    "END:VCALENDAR",
)

CANCEL = ics(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "METHOD:CANCEL",
    "BEGIN:VEVENT",
    "UID:cancelled-invite@ourco.example",
    "DTSTART:20261120T100000Z",
    "SUMMARY:Cancelled: demo",
    "ATTENDEE:mailto:jane@acme.example",
    "END:VEVENT",
    "END:VCALENDAR",
)


def meetings(repo: Path, path: str) -> dict[str, dict]:
    items = yaml.safe_load((repo / path).read_text().split("---")[1]).get("touchpoints") or []
    return {t["event_id"]: t for t in items if t.get("kind") == "meeting"}


def test_events_are_meetings_once_each_cancelled_and_future_ones_not_logged(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    cal = tmp_path / "calendar"  # a vdirsyncer folder: one file per item
    cal.mkdir()
    (cal / "invite.ics").write_bytes(INVITE)
    (cal / "export.ics").write_bytes(EXPORT)
    (cal / "cancel.ics").write_bytes(CANCEL)
    before = commit_count(sales)
    result = sales_cli("ingest", "--today", "2026-12-01", str(cal))
    assert result.exit_code == 0, result.output
    assert commit_count(sales) == before + 1
    assert git(sales, "log", "-1", "--format=%s").strip() == "ingest: 3 meetings on 2 deals"

    acme = meetings(sales, "prospecting/acme.md")
    assert list(acme) == ["040000008200E00074C5B7101A82E008"]
    invite = acme["040000008200E00074C5B7101A82E008"]
    assert (invite["summary"], str(invite["date"])) == ("Pricing review", "2026-11-24")
    assert "Private agenda" not in (sales / "prospecting" / "acme.md").read_text()

    globex = meetings(sales, "qualifying/globex.md")
    assert set(globex) == {
        "weekly-globex@ourco.example",
        "weekly-globex@ourco.example/20261109T100000Z",
    }
    moved = globex["weekly-globex@ourco.example/20261109T100000Z"]
    assert (moved["summary"], str(moved["date"])) == ("Globex weekly (moved)", "2026-11-10")

    assert "Coffee with a stranger — no open deal's contact or domain" in result.output
    assert "2 cancelled, 1 still to come" in result.output

    again = sales_cli("ingest", "--today", "2026-12-01", str(cal))
    assert again.exit_code == 0, again.output
    assert commit_count(sales) == before + 1
    assert "0 changes, 3 already logged" in again.output


def test_mail_and_calendar_of_one_run_are_one_commit(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    (tmp_path / "invite.ics").write_bytes(INVITE)
    (tmp_path / "note.eml").write_bytes(
        b"From: jane@acme.example\r\nTo: alice@ourco.example\r\nSubject: See you then\r\n"
        b"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nMessage-ID: <n1@acme.example>\r\n\r\nBody\r\n"
    )
    before = commit_count(sales)
    result = sales_cli(
        "ingest", "--today", "2026-12-01", str(tmp_path / "note.eml"), str(tmp_path / "invite.ics")
    )
    assert result.exit_code == 0, result.output
    assert commit_count(sales) == before + 1
    assert git(sales, "log", "-1", "--format=%s").strip() == "ingest: 1 email, 1 meeting on 1 deal"


def test_a_broken_ics_is_one_line_and_nothing_written(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.ics"
    bad.write_bytes(b"BEGIN:VCALENDAR\r\nthis is not a content line\r\n")
    before = commit_count(sales)
    result = sales_cli("ingest", str(bad))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("pipectl: error:") and "bad.ics" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert commit_count(sales) == before


def test_a_property_that_does_not_parse_is_one_line(sales_cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "date.ics"
    bad.write_bytes(
        ics(
            "BEGIN:VCALENDAR",
            "BEGIN:VEVENT",
            "UID:u1",
            "DTSTART:2026XX01",
            "END:VEVENT",
            "END:VCALENDAR",
        )
    )
    result = sales_cli("ingest", str(bad))
    assert result.exit_code == 2, result.output
    assert (
        result.output.startswith("pipectl: error: ")
        and "date.ics: not an iCalendar file" in result.output
    )
    none = tmp_path / "nouid.ics"
    none.write_bytes(
        ics(
            "BEGIN:VCALENDAR",
            "BEGIN:VEVENT",
            "DTSTART:20261101T100000Z",
            "END:VEVENT",
            "END:VCALENDAR",
        )
    )
    result = sales_cli("ingest", str(none))
    assert result.exit_code == 2 and "nouid.ics: event 1 has no UID" in result.output
