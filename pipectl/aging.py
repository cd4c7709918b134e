"""Aging: the open deals by days in their current stage, per stage, and the ones waiting
longest (the report's `aging`, the dashboard's chart). Pure, over the deals' lives
(figures.Life); never prints.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pipectl.config import Config
from pipectl.figures import Life, Money, count_of, num

AGING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-7", 7),
    ("8-30", 30),
    ("31-90", 90),
    ("91+", None),
)
OLDEST_SHOWN = 10


@dataclass(frozen=True)
class AgedDeal:
    """An open deal and how long it has waited in its current stage."""

    id: str
    title: str
    stage: str
    owner: str | None
    value: Money
    days_in_stage: int | None
    age_days: int | None


@dataclass(frozen=True)
class StageAging:
    """One open stage's deals counted per aging bucket (in `AGING_BUCKETS` order)."""

    stage: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Aging:
    """Open deals by days in their current stage, and the ones waiting longest."""

    buckets: tuple[str, ...]
    stages: tuple[StageAging, ...]
    oldest: tuple[AgedDeal, ...]
    unknown_count: int = 0  # open deals whose days in stage are unknown (in no bucket)
    why_unknown: str | None = None


def aging(all_lives: Sequence[Life], config: Config, today: dt.date) -> Aging:
    """Open deals by days in their current stage, per stage, and the longest-waiting ones."""
    per_stage: dict[str, list[int]] = {s.name: [0] * len(AGING_BUCKETS) for s in config.open_stages}
    rows = []
    unknown: list[str] = []
    for lf in all_lives:
        cur = lf.current
        if cur is None or lf.deal.stage not in per_stage:
            continue
        days = None if cur.start is None else max(0, (today - cur.start).days)
        age = None if lf.created is None else max(0, (today - lf.created).days)
        if days is not None:
            per_stage[lf.deal.stage][_bucket(days)] += 1
        else:
            unknown.append(lf.why_unknown or "unknown")
        deal = lf.deal
        rows.append(
            AgedDeal(deal.id, deal.title, deal.stage, deal.owner, num(deal.value), days, age)
        )
    rows.sort(key=lambda r: (-(r.days_in_stage or 0), r.id))
    return Aging(
        buckets=tuple(name for name, _ in AGING_BUCKETS),
        stages=tuple(StageAging(stage, tuple(counts)) for stage, counts in per_stage.items()),
        oldest=tuple(rows[:OLDEST_SHOWN]),
        unknown_count=len(unknown),
        why_unknown="; ".join(
            f"{count_of(n, 'deal')}: {why}" for why, n in Counter(unknown).most_common()
        )
        or None,
    )


def _bucket(days: int) -> int:
    for i, (_, limit) in enumerate(AGING_BUCKETS):
        if limit is None or days <= limit:
            return i
    return len(AGING_BUCKETS) - 1
