"""What a team aims at, as pipeline.yaml sets it: quota periods, quotas, forecast categories.

Parsed here (plain ValueErrors, which configspec turns into its own Invalid, so this module
needs nothing of configspec's) and answered here: which period a name spells, which category a
stage or a deal is in. The figures over them are quotas.py's. Never reads a file or prints.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipectl.fieldtypes import FORECAST_CATEGORIES, is_number

# The forecast categories, surest first. `omitted` counts in no forecast total.
CATEGORIES = FORECAST_CATEGORIES
# An open stage's default category by its probability: at least this much is that category.
_BY_PROBABILITY = ((0.7, "commit"), (0.4, "best_case"), (1e-9, "pipeline"))

_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


class TargetError(ValueError):
    """A setting refused; `key` names the key below the setting's own, when the fault is there."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.message = message
        self.key = key


@dataclass(frozen=True)
class Period:
    """A quota period: a quarter (`2026-Q4`), a month (`2026-11`) or a year (`2026`)."""

    name: str
    start: dt.date
    end: dt.date  # inclusive

    def holds(self, day: dt.date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def period(name: str) -> Period | None:
    """The period a name spells, or None when it spells none."""
    m = _PERIOD.match(name.strip())
    if m is None:
        return None
    year = int(m.group(1))
    if m.group(2):
        first = 3 * int(m.group(2)) - 2
        return Period(name.strip(), dt.date(year, first, 1), _month_end(year, first + 2))
    if m.group(3):
        month = int(m.group(3))
        return Period(name.strip(), dt.date(year, month, 1), _month_end(year, month))
    return Period(name.strip(), dt.date(year, 1, 1), dt.date(year, 12, 31))


def quarter_of(day: dt.date) -> Period:
    """The calendar quarter that holds `day`."""
    first = 3 * ((day.month - 1) // 3) + 1
    return Period(
        f"{day.year}-Q{(first + 2) // 3}",
        dt.date(day.year, first, 1),
        _month_end(day.year, first + 2),
    )


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def parse_quotas(value: Any) -> tuple[tuple[str, float], ...]:
    """`quotas:`, a mapping of period (`2026-Q4`, `2026-11`, `2026`) to an amount, in order."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise TargetError("must be a mapping of period (such as 2026-Q4) to amount")
    out: dict[str, float] = {}
    for key, amount in value.items():
        found = period(str(key))
        if found is None:
            raise TargetError(f"{str(key)!r} is not a period (such as 2026-Q4, 2026-11 or 2026)")
        if not is_number(amount) or amount < 0:
            raise TargetError(f"{found.name}: a quota is an amount of at least 0")
        out[found.name] = float(amount)
    return tuple(out.items())


def parse_categories(value: Any, open_stages: Sequence[str]) -> Mapping[str, str]:
    """`forecast_categories:`, a mapping of open stage to category."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TargetError("must be a mapping of open stage to category")
    out: dict[str, str] = {}
    for stage, cat in value.items():
        key = f"forecast_categories.{stage}"
        if stage not in open_stages:
            raise TargetError(f"{stage!r} is not an open stage", key)
        if cat not in CATEGORIES:
            raise TargetError(f"must be one of {', '.join(CATEGORIES)}, got {cat!r}", key)
        out[str(stage)] = str(cat)
    return out


def stage_category(name: str, probability: float, explicit: Mapping[str, str]) -> str:
    """An open stage's category: pipeline.yaml's, else by its probability."""
    if name in explicit:
        return explicit[name]
    return next((c for p, c in _BY_PROBABILITY if probability >= p), "omitted")


def category(own: Any, stage_default: str) -> str:
    """An open deal's category: its own `forecast:` when it names one, else its stage's
    (`stage_category`, found once per stage by the caller: the report asks for every deal)."""
    return own if own in CATEGORIES else stage_default
