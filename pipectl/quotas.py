"""Quotas, attainment and the forecast by category: the figures a manager forecasts with.

Pure figures over deals whose values are already in one currency (report.convert_lives does
that); the settings they read are targets.py's. How each figure is computed is spelled out in
docs/forecast.md, whose worked example a test recomputes. Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.figures import Weigh, Weights
from pipectl.lives import Life
from pipectl.owners import owner_key, owner_matches
from pipectl.roster import Member
from pipectl.targets import CATEGORIES, Period, category, period, quarter_of, stage_category

TEAM_ROW = "team"  # the name the whole team's row goes by in figures and JSON


# --- the figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attainment:
    """One period's quota for a rep (or the team) and how far it is met.

    `won` is the value won with a close date in the period; `weighted_open` the open deals
    expected to close in it, each weighted by its probability; `remaining` what is still to
    win; `coverage` is weighted_open ÷ remaining (None when nothing remains); `gap` what even
    the weighted pipeline leaves short.
    """

    period: str
    owner: str  # a handle, or TEAM_ROW
    quota: float
    won: float
    attainment: float | None
    open_value: float
    weighted_open: float
    commit: float
    best_case: float
    remaining: float
    coverage: float | None
    gap: float
    current: bool  # the period holds today


@dataclass(frozen=True)
class Scored:
    """What the figures need of one deal: its value (converted), category, dates."""

    deal: Deal
    value: float
    probability: float
    category: str | None  # None: won or lost
    won: bool
    closed: dt.date | None  # for a won deal
    expected: dt.date | None  # for an open deal


def quota_rows(
    team_quotas: Sequence[tuple[str, float]],
    team: Sequence[Member],
    scored: Sequence[Scored],
    today: dt.date,
    owner: str | None = None,
    to_currency: Callable[[float], float | None] = lambda x: x,
) -> tuple[Attainment, ...]:
    """A row per period and rep with a quota, and one per period for the team (its own
    quota, else the sum of its reps'); with `owner`, only that rep's rows. Quotas are in the
    base currency; `to_currency` turns them into the figures' (None: no rate, row left out)."""
    by_period: dict[str, list[tuple[str, float]]] = {}
    team_quota = dict(team_quotas)
    for m in team:
        for name, amount in m.quotas:
            by_period.setdefault(name, []).append((m.handle, amount))
    names = sorted(set(by_period) | set(team_quota), key=lambda n: (period(n).start, n))  # type: ignore[union-attr]
    rows: list[Attainment] = []
    for name in names:
        p = period(name)
        assert p is not None  # checked when pipeline.yaml was read
        reps = by_period.get(name, [])
        chosen = [(h, a) for h, a in reps if owner is None or _same(h, owner, team)]
        for handle, amount in chosen:
            mine = [s for s in scored if owner_matches(s.deal, handle, team)]
            row = _row(p, handle, amount, mine, today, to_currency)
            if row is not None:
                rows.append(row)
        if owner is None and (name in team_quota or reps):
            amount = team_quota.get(name, sum(a for _h, a in reps))
            row = _row(p, TEAM_ROW, amount, scored, today, to_currency)
            if row is not None:
                rows.append(row)
    return tuple(rows)


def _same(handle: str, owner: str, team: Sequence[Member]) -> bool:
    """Whether the rep `handle` is the one `--owner` names (the rule deals go by)."""
    return owner_key(handle, team) == owner_key(owner, team)


def score(lives: Iterable[Life], config: Config, weigh: Weigh | None = None) -> list[Scored]:
    """Each deal as the quota and category figures see it; a deal with no value (or none
    converted) or in no known stage counts nothing."""
    weigh = weigh or Weights(config)
    out = []
    explicit = config.forecast_categories
    defaults: dict[str, str] = {}  # an open stage's own category, found once
    for lf in lives:
        deal = lf.deal
        stage = config.stage(deal.stage)
        value = deal.value
        if value is None or stage is None or stage.closed == "lost":
            continue
        if stage.closed == "won":
            out.append(Scored(deal, float(value), 1.0, None, True, lf.closed, None))
            continue
        default = defaults.get(stage.name)
        if default is None:
            default = defaults[stage.name] = stage_category(stage.name, stage.probability, explicit)
        cat = category(deal.fields.get("forecast"), default)
        out.append(
            Scored(deal, float(value), weigh(deal), cat, False, None, deal.date("expected_close"))
        )
    return out


def _row(
    p: Period,
    owner: str,
    amount: float,
    scored: Iterable[Scored],
    today: dt.date,
    to_currency: Callable[[float], float | None],
) -> Attainment | None:
    quota = to_currency(amount)
    if quota is None:
        return None
    won = weighted = open_value = commit = best = 0.0
    for s in scored:
        if s.won and p.holds(s.closed):
            won += s.value
        elif s.category is not None and p.holds(s.expected):
            open_value += s.value
            weighted += s.value * s.probability
            commit += s.value if s.category == "commit" else 0.0
            best += s.value if s.category == "best_case" else 0.0
    remaining = max(quota - won, 0.0)
    return Attainment(
        period=p.name,
        owner=owner,
        quota=quota,
        won=won,
        attainment=won / quota if quota else None,
        open_value=open_value,
        weighted_open=weighted,
        commit=commit,
        best_case=best,
        remaining=remaining,
        coverage=weighted / remaining if remaining else None,
        gap=max(remaining - weighted, 0.0),
        current=p.holds(today),
    )


@dataclass(frozen=True)
class CategoryRow:
    """One month or quarter of the forecast by category.

    `total` is won + commit + best case of the row; `running_total` adds up the rows from
    the first (the start of today's quarter) to this one.
    """

    period: str
    won: float
    commit: float
    best_case: float
    pipeline: float
    omitted: float
    total: float
    running_total: float


def category_rows(scored: Sequence[Scored], today: dt.date, by: str) -> tuple[CategoryRow, ...]:
    """The forecast by category from the start of today's quarter, by `month` or `quarter`.

    Won deals count in the month they closed; open ones in the month they are expected to
    close, and those expected before the first row (overdue yet open) in the first row, since
    they are still to close. Open deals with no expected close are in no row.
    """
    start = quarter_of(today).start
    sums: dict[str, dict[str, float]] = {}
    rows_of: dict[dt.date, dict[str, float]] = {}  # a day's row, found once: days repeat
    for s in scored:
        day = s.closed if s.won else s.expected
        if day is None or (s.won and day < start):
            continue
        row = rows_of.get(day)
        if row is None:
            key = _bucket(max(day, start), by)
            row = rows_of[day] = sums.setdefault(key, dict.fromkeys(("won", *CATEGORIES), 0.0))
        row["won" if s.won else s.category or "omitted"] += s.value
    out, running = [], 0.0
    for key in sorted(sums):
        r = sums[key]
        total = r["won"] + r["commit"] + r["best_case"]
        running += total
        out.append(
            CategoryRow(
                key,
                r["won"],
                r["commit"],
                r["best_case"],
                r["pipeline"],
                r["omitted"],
                total,
                running,
            )
        )
    return tuple(out)


def _bucket(day: dt.date, by: str) -> str:
    if by == "quarter":
        return quarter_of(day).name
    return f"{day.year:04d}-{day.month:02d}"
