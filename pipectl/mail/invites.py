"""Calendar files (`.ics`: invitations, exports, a vdirsyncer folder) read into event records.

`icalendar` is imported inside `read_calendars`, the only function that needs it, so the rest
of pipectl never pays for it (an optional extra: `pip install pipectl[calendar]`). Only the
fields a touchpoint needs are kept: never the description, the location or attachments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipectl.errors import UsageError
from pipectl.mail.messages import is_calendar

CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Event:
    """One event (or one changed occurrence of a series): its stable id, its day, its title,
    who organises it and who is invited (lower-cased addresses), and whether it is off."""

    where: str
    event_id: str
    day: dt.date
    summary: str
    organizer: str | None
    attendees: tuple[str, ...]
    cancelled: bool

    @property
    def parties(self) -> tuple[str, ...]:
        first = (self.organizer,) if self.organizer else ()
        return tuple(dict.fromkeys((*first, *self.attendees)))


def calendar_files(paths: Sequence[Path]) -> list[Path]:
    """The `.ics` files among `paths` and in the folders among them, in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_calendar(p)))
        elif is_calendar(path):
            if not path.is_file():  # opening a FIFO would wait for a writer forever
                raise UsageError(f"{path}: not a regular file; not read")
            found.append(path)
    return found


def read_calendars(paths: Sequence[Path]) -> list[Event]:
    """Every event of the `.ics` files among `paths` (see calendar_files)."""
    files = calendar_files(paths)
    if not files:
        return []
    try:
        import icalendar
    except ImportError:
        raise UsageError(
            "reading .ics files needs the calendar extra: pip install 'pipectl[calendar]'"
        ) from None
    events: list[Event] = []
    for path in files:
        try:
            calendar = icalendar.Calendar.from_ical(path.read_bytes())
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
        except ValueError as exc:
            raise UsageError(f"{path}: not an iCalendar file ({exc})") from None
        off = str(calendar.get("METHOD", "")).upper() == "CANCEL"
        try:  # a property that does not parse is found when it is read (`2026XX01`)
            events.extend(_events(calendar, str(path), off))
        except ValueError as exc:
            raise UsageError(f"{path}: not an iCalendar file ({exc})") from None
    return events


def _events(calendar: Any, where: str, off: bool) -> Iterator[Event]:
    for n, vevent in enumerate(calendar.walk("VEVENT"), 1):
        uid = str(vevent.get("UID", "")).strip()
        start = _day(vevent.get("DTSTART"))
        if not uid or start is None:
            raise UsageError(f"{where}: event {n} has no {'UID' if not uid else 'DTSTART'}")
        again = vevent.get("RECURRENCE-ID")
        occurrence = _stamp(again) if again is not None else None
        yield Event(
            where=where,
            event_id=f"{uid}/{occurrence}" if occurrence else uid,
            day=start,
            summary=" ".join(str(vevent.get("SUMMARY", "")).split()),
            organizer=_address(vevent.get("ORGANIZER")),
            attendees=tuple(a for a in map(_address, _list(vevent.get("ATTENDEE"))) if a),
            cancelled=off or str(vevent.get("STATUS", "")).upper() == CANCELLED,
        )


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _address(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.lower() if "@" in text else None


def _day(prop: Any) -> dt.date | None:
    when = getattr(prop, "dt", None)
    if isinstance(when, dt.datetime):
        return when.date()
    return when if isinstance(when, dt.date) else None


def _stamp(prop: Any) -> str:
    """RECURRENCE-ID as one word: the occurrence it replaces, in UTC when it has a zone."""
    when = getattr(prop, "dt", None)
    if isinstance(when, dt.datetime):
        if when.tzinfo is not None:
            return when.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return when.strftime("%Y%m%dT%H%M%S")
    if isinstance(when, dt.date):
        return when.strftime("%Y%m%d")
    return str(prop)
