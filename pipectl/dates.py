"""Dates as pipectl reads them from users: "today", and the one parser of dates typed on the
command line (ISO dates and the relative forms of docs/dates.md: `tomorrow`, `fri`, `+3d`,
`eom`, …), always turned into a plain date before anything stores it.

Import-cheap on purpose (lint's start-up path uses it); it never prints.
"""

from __future__ import annotations

import datetime as dt
import os
import re

from pipectl.errors import UsageError

# What a bad date's message lists; docs/dates.md has the table (a test keeps them in step).
ACCEPTED = (
    "YYYY-MM-DD, today, yesterday, tomorrow, a weekday (mon, friday), +3d, -2w, +1m, +1y, "
    "eow, eom, next week"
)

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_OFFSET = re.compile(r"([+-]?)([0-9]{1,5})([dwmy])")
_NAMED = {"today": 0, "yesterday": -1, "tomorrow": 1}


def today(explicit: str | dt.date | None = None) -> dt.date:
    """ "Now" for pipectl: an explicit date, else PIPECTL_TODAY, else the local date.

    A relative pin (`--today yesterday`) counts from the real date: it is what pins "today".
    """
    if isinstance(explicit, dt.date):
        return explicit
    value = explicit or os.environ.get("PIPECTL_TODAY")
    if value:
        return parse_date(value, "--today" if explicit else "PIPECTL_TODAY", dt.date.today())
    return dt.date.today()


def parse_date(value: str, what: str, base: dt.date | None = None) -> dt.date:
    """A date a user typed, ISO or relative to `base` (default: pipectl's today); anything
    else is a usage error naming where it came from and listing the forms accepted."""
    date = relative(value, base)
    if date is None:
        raise UsageError(f"{what}: {value!r} is not a date (use {ACCEPTED})")
    return date


def relative(value: str, base: dt.date | None = None) -> dt.date | None:
    """The date `value` names (see FORMS), or None when it names none. `base` is "today";
    it is only looked up (PIPECTL_TODAY) when the value is not an ISO date."""
    text = " ".join(value.strip().lower().split())
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    now = base if base is not None else today()
    try:
        return _from(text, now)
    except OverflowError:  # past year 9999 or before year 1: no date
        return None


def _from(text: str, now: dt.date) -> dt.date | None:
    if text in _NAMED:
        return now + dt.timedelta(days=_NAMED[text])
    weekday = _weekday(text)
    if weekday is not None:
        return now + dt.timedelta(days=(weekday - now.weekday() - 1) % 7 + 1)
    if text == "eow":
        return now + dt.timedelta(days=6 - now.weekday())
    if text == "eom":
        return now.replace(day=_days_in(now.year, now.month))
    if text == "next week":
        return now + dt.timedelta(days=7 - now.weekday())
    match = _OFFSET.fullmatch(text)
    if match is None:
        return None
    sign, count, unit = match.groups()
    n = -int(count) if sign == "-" else int(count)
    if unit == "d":
        return now + dt.timedelta(days=n)
    if unit == "w":
        return now + dt.timedelta(weeks=n)
    return _add_months(now, n * (12 if unit == "y" else 1))


def weekday(text: str) -> int | None:
    """The weekday a text names (`mon`, `Friday`: 0 for Monday), or None."""
    return _weekday(" ".join(text.lower().split()))


def _weekday(text: str) -> int | None:
    for number, name in enumerate(_WEEKDAYS):
        if text in (name, name[:3]):
            return number
    return None


def _add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later (or earlier), the day clamped to the end of a shorter month."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError("date out of range")
    return dt.date(year, month0 + 1, min(day.day, _days_in(year, month0 + 1)))


def _days_in(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.timedelta(days=1)).day


def recorded(value: str | None, what: str = "--date") -> dt.date:
    """The date something happened (`--date`): today when not given; a date more than a day
    ahead is refused (a day of slack for time zones): nothing has happened in the future."""
    now = today()
    if not value:
        return now
    date = parse_date(value, what, now)
    if date > now + dt.timedelta(days=1):
        raise UsageError(
            f"{what}: {date.isoformat()} is in the future; record what has happened (today is "
            f"{now.isoformat()})"
        )
    return date


_BY_ORDINAL: dict[int, dt.date] = {}  # a pipeline's dates are a few thousand days at most


def from_ordinal(ordinal: int) -> dt.date:
    """The date of a proleptic ordinal, each made once: caches and the history index keep
    days as ordinals, and a run turns tens of thousands back into dates."""
    day = _BY_ORDINAL.get(ordinal)
    if day is None:
        day = _BY_ORDINAL[ordinal] = dt.date.fromordinal(ordinal)
    return day
