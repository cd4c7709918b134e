"""Trends for the weekly review: the pipeline week by week and quarter by quarter, from git.

Per week (Monday to Sunday, the last one holding today): the open deals in each stage at the
week's end and their value, the deals created in it, the close dates slipped in it and the
touchpoints dated in it, per rep; per quarter: the median days of the stays in each stage
that ended in it. Stays come from the history index (lives.Life), slips and who logged a
touchpoint from `pipectl changes`' reading of the same commits (the caller brings them as an
`Activity`, so this stays a pure function). docs/review.md defines each figure. Never prints.
"""

from __future__ import annotations

import bisect
import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pipectl.config import Config
from pipectl.deal import Touchpoint
from pipectl.figures import Life, Money, num
from pipectl.targets import quarter_of

DEFAULT_WEEKS = 12
MAX_WEEKS = 520  # ten years of Mondays: a bound, not a target


@dataclass(frozen=True)
class Activity:
    """What git says happened in the trend window: the days close dates slipped, and each
    touchpoint logged with the rep who logged it (their roster handle when they have one)."""

    slipped: tuple[dt.date, ...] = ()
    logged: tuple[tuple[str, Touchpoint], ...] = ()


@dataclass(frozen=True)
class StageCount:
    stage: str
    count: int
    value: Money


@dataclass(frozen=True)
class Week:
    """One week (or month: `Trends.months`): `start` is its Monday; `open` the open deals per
    stage at its end (today for the week that holds today), each at its value today; `new`,
    created in it."""

    start: dt.date
    open_count: int
    open_value: Money
    stages: tuple[StageCount, ...]
    new_count: int
    new_value: Money
    slipped: int
    touchpoints: int


@dataclass(frozen=True)
class QuarterStage:
    """The stays in one open stage that ended in one quarter: how many, and their median."""

    quarter: str
    stage: str
    count: int
    median_days: float | None


@dataclass(frozen=True)
class RepWeek:
    """The touchpoints one rep logged that are dated in one week, by kind and outcome."""

    start: dt.date
    rep: str
    count: int
    kinds: tuple[tuple[str, int], ...]
    outcomes: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Trends:
    weeks: tuple[Week, ...]
    stage_time: tuple[QuarterStage, ...]
    activity: tuple[RepWeek, ...]
    # the same figures by calendar month, for a view by month: each month's `start` its first
    # day (the first month's: the first week's Monday), its end today for today's month
    months: tuple[Week, ...] = ()


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def window(today: dt.date, weeks: int) -> tuple[dt.date, dt.date]:
    """The first Monday and the last day (today) of `weeks` weeks ending with today's."""
    return monday(today) - dt.timedelta(weeks=weeks - 1), today


def trends(
    lives: Sequence[Life], config: Config, today: dt.date, weeks: int, activity: Activity
) -> Trends:
    """Every trend over `weeks` weeks up to today, from the lives (values converted)."""
    first, _ = window(today, weeks)
    starts = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    ends = [start + dt.timedelta(days=6) for start in starts]
    out = tuple(_periods(lives, config, starts, ends, activity, today))
    # by calendar month, from the same lives and activity (a week across a month's end is
    # counted in both months, each its own days): the first month from the window's Monday
    month_starts = [first]
    while (nxt := _next_month(month_starts[-1])) <= today:
        month_starts.append(nxt)
    month_ends = [_next_month(m) - dt.timedelta(days=1) for m in month_starts]
    by_month = tuple(_periods(lives, config, month_starts, month_ends, activity, today))
    return Trends(
        out, _stage_time(lives, _open_names(config), first), _activity(activity, first),
        by_month,
    )  # fmt: skip


def _open_names(config: Config) -> list[str]:
    return [s.name for s in config.open_stages]


def _next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day`'s."""
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _periods(
    lives: Sequence[Life],
    config: Config,
    starts: Sequence[dt.date],
    ends: Sequence[dt.date],
    activity: Activity,
    today: dt.date,
) -> list[Week]:
    """Each period from its start to its last day: the open deals at its end (today, for
    the period holding today), the deals created to then, the close dates slipped and the
    touchpoints dated in it."""
    open_names = _open_names(config)
    slips = sorted(activity.slipped)
    touched = sorted(tp.date for _rep, tp in activity.logged if tp.date is not None)
    out = []
    for start, last in zip(starts, ends, strict=True):
        end = min(last, today)
        per: dict[str, list[Life]] = {n: [] for n in open_names}
        for lf in lives:
            stage = _stage_on(lf, end)
            if stage in per:
                per[stage].append(lf)
        new = [lf for lf in lives if lf.created is not None and start <= lf.created <= end]
        stages = tuple(StageCount(n, len(per[n]), _value(per[n])) for n in open_names)
        out.append(
            Week(
                start=start,
                open_count=sum(s.count for s in stages),
                open_value=_value([lf for n in open_names for lf in per[n]]),
                stages=stages,
                new_count=len(new),
                new_value=_value(new),
                slipped=_within(slips, start, last),
                touchpoints=_within(touched, start, last),
            )
        )
    return out


def _within(days: Sequence[dt.date], start: dt.date, end: dt.date) -> int:
    """How many of the sorted `days` fall from `start` to `end`, both included."""
    return bisect.bisect_right(days, end) - bisect.bisect_left(days, start)


def _stage_on(lf: Life, day: dt.date) -> str | None:
    """The stage the deal was in at the end of `day`, from its stays; None before it began
    (or after its file went). A stay of unknown start began before git's history."""
    if lf.created is not None and lf.created > day:
        return None
    for stay in lf.stays:
        if (stay.start is None or stay.start <= day) and (stay.end is None or stay.end > day):
            return stay.stage
    return None


def _value(lives: Sequence[Life]) -> Money:
    return num(sum(lf.deal.value or 0.0 for lf in lives))


def _stage_time(
    lives: Sequence[Life], open_names: Sequence[str], first: dt.date
) -> tuple[QuarterStage, ...]:
    days: dict[tuple[str, str], list[int]] = defaultdict(list)
    since = quarter_of(first).start
    for lf in lives:
        for stay in lf.stays:
            start, end = stay.start, stay.end
            if stay.stage in open_names and start and end and end >= since:
                days[(quarter_of(end).name, stay.stage)].append(max((end - start).days, 0))
    order = {n: i for i, n in enumerate(open_names)}
    return tuple(
        QuarterStage(q, s, len(v), float(statistics.median(v)) if v else None)
        for (q, s), v in sorted(days.items(), key=lambda kv: (kv[0][0], order[kv[0][1]]))
    )


def _activity(activity: Activity, first: dt.date) -> tuple[RepWeek, ...]:
    rows: dict[tuple[dt.date, str], list[Touchpoint]] = defaultdict(list)
    for rep, tp in activity.logged:
        if tp.date is not None and tp.date >= first:
            rows[(monday(tp.date), rep)].append(tp)
    out = []
    for (start, rep), tps in sorted(rows.items()):
        kinds = Counter(tp.kind or "(none)" for tp in tps)
        outcomes = Counter(tp.outcome or "(none)" for tp in tps)
        out.append(
            RepWeek(
                start, rep, len(tps), tuple(sorted(kinds.items())), tuple(sorted(outcomes.items()))
            )
        )
    return tuple(out)
