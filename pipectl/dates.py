"""Dates as pipectl reads them from users: "today" and ISO dates given on the command line.

Import-cheap on purpose (lint's start-up path uses it); it never prints.
"""

from __future__ import annotations

import datetime as dt
import os

from pipectl.errors import UsageError


def today(explicit: str | dt.date | None = None) -> dt.date:
    """ "Now" for pipectl: an explicit date, else PIPECTL_TODAY, else the local date."""
    if isinstance(explicit, dt.date):
        return explicit
    value = explicit or os.environ.get("PIPECTL_TODAY")
    if value:
        return parse_date(value, "--today" if explicit else "PIPECTL_TODAY")
    return dt.date.today()


def parse_date(value: str, what: str) -> dt.date:
    """An ISO date a user typed; anything else is a usage error naming where it came from."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{what}: {value!r} is not a date (use YYYY-MM-DD)") from None


def recorded(value: str | None, what: str = "--date") -> dt.date:
    """The date something happened (`--date`): today when not given; a date more than a day
    ahead is refused (a day of slack for time zones): nothing has happened in the future."""
    now = today()
    if not value:
        return now
    date = parse_date(value, what)
    if date > now + dt.timedelta(days=1):
        raise UsageError(
            f"{what}: {date.isoformat()} is in the future; record what has happened (today is "
            f"{now.isoformat()})"
        )
    return date
