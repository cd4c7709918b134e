"""Aging: the open deals by days in their current stage, per stage, and the ones waiting
longest (the report's `aging`, the dashboard's chart). Pure, over the deals' lives
(lives.Life); never prints.
"""

from __future__ import annotations

import datetime as dt
import heapq
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
    # (longest first, id, place) of every open deal: only the few shown become rows (the
    # place keeps a stable sort's order between equal keys)
    waiting: list[tuple[int, str, int, int | None]] = []
    unknown: list[str] = []
    for i, lf in enumerate(all_lives):
        cur = lf.current
        stage = lf.deal.stage
        if cur is None or stage not in per_stage:
            continue
        days = None if cur.start is None else max(0, (today - cur.start).days)
        if days is not None:
            per_stage[stage][_bucket(days)] += 1
        else:
            unknown.append(lf.why_unknown or "unknown")
        waiting.append((-(days or 0), lf.deal.id, i, days))
    oldest = []
    for _key, _id, i, days in heapq.nsmallest(OLDEST_SHOWN, waiting):
        lf = all_lives[i]
        deal = lf.deal
        age = None if lf.created is None else max(0, (today - lf.created).days)
        oldest.append(
            AgedDeal(deal.id, deal.title, deal.stage, deal.owner, num(deal.value), days, age)
        )
    return Aging(
        buckets=tuple(name for name, _ in AGING_BUCKETS),
        stages=tuple(StageAging(stage, tuple(counts)) for stage, counts in per_stage.items()),
        oldest=tuple(oldest),
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
