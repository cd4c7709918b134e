"""`pipectl calendar`: the open deals' dates as an iCalendar feed (RFC 5545).

Each event's UID is derived from the deal's id and what the event is (its next step, the
n-th entry of `tasks:`, its expected close, its snooze's end), never from a date or a text, so
a calendar that subscribes to the file moves or renames an event instead of adding a second.
The text is written here (all-day events need no library); nothing is read but the deals.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pipectl import owners, tasks
from pipectl.deal import Deal
from pipectl.money import money
from pipectl.roster import Member

PRODID = "-//pipectl//pipectl calendar//EN"
# The right-hand side of every UID: the feed's events are pipectl's, one per deal and thing.
UID_DOMAIN = "pipectl"
_FOLD = 75  # octets a content line may hold before it is folded (RFC 5545, 3.1)


@dataclass(frozen=True)
class FeedEvent:
    """One all-day event of the feed: its UID, day, title, description and category."""

    uid: str
    day: dt.date
    summary: str
    description: str
    category: str


def events(
    deals: Iterable[Deal], owner: str | None, team: Sequence[Member]
) -> tuple[list[FeedEvent], list[str]]:
    """The feed's events for the open `deals`: open tasks with a due date (the next step
    first), expected close dates and snooze ends, for `owner` (None: everyone); and the ids
    left out for being in two stages at once (lint's PL104: their UIDs would be one)."""
    seen = Counter(d.id for d in deals)
    twice = sorted(i for i, n in seen.items() if n > 1)
    out: list[FeedEvent] = []
    for deal in sorted((d for d in deals if seen[d.id] == 1), key=lambda d: d.id):
        about = _about(deal)
        for task in tasks.open_tasks(deal):
            who = tasks.task_owner(task, deal)
            if task.due is None or not owners.name_matches(who, owner, team):
                continue
            if task.is_next_step:
                uid, label, cat = _uid(deal, "next-step"), "Next step", "next step"
            else:
                uid, label, cat = _uid(deal, f"task-{task.index}"), "Task", "task"
            summary = f"{label}: {task.summary} ({deal.id})"
            out.append(FeedEvent(uid, task.due, summary, about, cat))
        if not owners.name_matches(deal.owner, owner, team):
            continue
        close = deal.date("expected_close")
        if close is not None:
            summary = f"Expected close: {deal.title} ({deal.id})"
            out.append(FeedEvent(_uid(deal, "expected-close"), close, summary, about, "close"))
        wake = tasks.snoozed_until(deal)
        if wake is not None:
            summary = f"Snooze ends: {deal.title} ({deal.id})"
            reason = tasks.snooze_reason(deal)
            note = about + (f"\nSnoozed: {reason}" if reason else "")
            out.append(FeedEvent(_uid(deal, "snooze-end"), wake, summary, note, "snooze"))
    return out, twice


def ical(found: Sequence[FeedEvent], stamp: dt.datetime, name: str = "pipectl") -> str:
    """The feed as RFC 5545 text (CRLF lines, folded at 75 octets); `stamp` is every
    event's DTSTAMP, the time the feed was made (UTC)."""
    when = stamp.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_text(name)}",
    ]
    for e in found:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{when}",
            f"DTSTART;VALUE=DATE:{e.day.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(e.day + dt.timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{_text(e.summary)}",
            f"DESCRIPTION:{_text(e.description)}",
            f"CATEGORIES:{_text(e.category)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(f"{folded}\r\n" for line in lines for folded in _fold(line))


def _about(deal: Deal) -> str:
    parts = [deal.title, f"stage: {deal.stage}"]
    if deal.owner:
        parts.append(f"owner: {deal.owner}")
    if deal.value is not None:
        currency = deal.fields.get("currency")
        parts.append(f"value: {money(deal.value)}" + (f" {currency}" if currency else ""))
    return "\n".join(parts)


def _uid(deal: Deal, what: str) -> str:
    return f"{what}.{deal.id}@{UID_DOMAIN}"


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545, 3.3.11); other control characters dropped."""
    out = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    out = out.replace("\r\n", "\n").replace("\n", "\\n")
    return "".join(c for c in out if c.isprintable())


def _fold(line: str) -> Iterator[str]:
    """A content line cut into pieces of at most 75 octets, never inside a UTF-8 character;
    the pieces after the first begin with a space."""
    piece = ""
    for char in line:
        if len((piece + char).encode()) > _FOLD:
            yield piece
            piece = " "
        piece += char
    yield piece
