"""The report: every figure of `pipectl report` in one frozen `Report`, and its JSON form.

The figures are computed in pipectl/figures.py; here they are put together (per owner too),
and `report_json` is the one place that names the JSON keys, a stable contract that
docs/reports.md documents. Never reads files, runs git, or prints.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from pipectl.aging import Aging, aging
from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.figures import (
    ConversionStep,
    ForecastMonth,
    FunnelStage,
    LostReason,
    Money,
    Outcomes,
    StageFigures,
    StageTime,
    TrendMonth,
    Weigh,
    Weights,
    conversion,
    forecast,
    funnel,
    lost_reasons,
    num,
    open_lives,
    outcome_figures,
    stage_figures,
    time_in_stage,
    trend,
    value_of,
    weighted_value_of,
)
from pipectl.history import History
from pipectl.lives import Life, closed_day, lives
from pipectl.owners import owner_filter, owner_key, owner_label, owner_matches
from pipectl.quotas import Attainment, CategoryRow, category_rows, quota_rows, score
from pipectl.rates import Converter, Rates, deal_currency, norm
from pipectl.recurring import Recurring, recurring
from pipectl.retention import Retention, retention
from pipectl.trends import Activity, Trends, trends


@dataclass(frozen=True)
class Velocity:
    """Value per day the pipeline turns into won deals, with its four inputs."""

    open_count: int
    avg_won_value: Money
    win_rate: float | None
    avg_cycle_days: float | None
    per_day: float | None


@dataclass(frozen=True)
class Unconverted:
    """A deal whose value has no rate into the report's currency on the day it converts at
    (today when open, its close date when closed): counted, listed, in no sum."""

    id: str
    title: str
    stage: str
    owner: str | None
    currency: str
    value: Money
    rate_date: dt.date


@dataclass(frozen=True)
class OwnerFigures:
    """The headline figures again, for one owner's deals."""

    owner: str
    open_count: int
    open_value: Money
    weighted_value: Money
    outcomes: Outcomes
    lost_reasons: tuple[LostReason, ...]
    velocity_per_day: float | None


@dataclass(frozen=True)
class Report:
    """Every figure of `pipectl report`: the snapshot of today, and what closed and moved in
    the window `since`..`until` (either None: open on that side)."""

    as_of: dt.date
    since: dt.date | None
    until: dt.date | None
    owner: str | None
    currency: str  # every amount is in it
    base_currency: str
    other_currencies: tuple[str, ...]  # the deals' other currencies
    converted_currencies: tuple[str, ...]  # those of them some deal was converted from
    unconverted: tuple[Unconverted, ...]
    history: bool
    partial: bool
    deal_count: int
    open_count: int
    open_value: Money
    weighted_value: Money
    stages: tuple[StageFigures, ...]
    outcomes: Outcomes
    velocity: Velocity
    forecast: tuple[ForecastMonth, ...]
    funnel: tuple[FunnelStage, ...]
    conversion: tuple[ConversionStep, ...]
    time_in_stage: tuple[StageTime, ...]
    lost_reasons: tuple[LostReason, ...]
    aging: Aging
    trend: tuple[TrendMonth, ...]
    owners: tuple[OwnerFigures, ...]
    quotas: tuple[Attainment, ...] = ()
    categories_by_month: tuple[CategoryRow, ...] = ()
    categories_by_quarter: tuple[CategoryRow, ...] = ()
    recurring: Recurring | None = None
    trends: Trends | None = None  # with report(weeks=N): week by week (pipectl/trends.py)
    retention: Retention | None = None  # renewals renewed and churned (pipectl/retention.py)


def velocity(open_count: int, outcomes: Outcomes) -> Velocity:
    """Pipeline velocity: open deals x average won value x win rate / average cycle (per day)."""
    avg_value, rate = outcomes.avg_won_value, outcomes.win_rate
    cycle = outcomes.avg_cycle_days
    per_day = None
    if avg_value is not None and rate is not None and cycle:
        per_day = open_count * avg_value * rate / cycle
    return Velocity(
        open_count=open_count,
        avg_won_value=num(avg_value),
        win_rate=rate,
        avg_cycle_days=cycle,
        per_day=None if per_day is None else round(per_day, 2),
    )


def owner_figures(
    all_lives: Sequence[Life],
    config: Config,
    since: dt.date | None,
    until: dt.date | None,
    weigh: Weigh | None = None,
) -> tuple[OwnerFigures, ...]:
    """The headline figures again for each owner's deals, owners in name order."""
    weigh = weigh or Weights(config)
    # one rep however the name is spelt (the one owner rule), shown as first spelt
    by_owner: dict[str, list[Life]] = defaultdict(list)
    shown: dict[str, str] = {}
    keys: dict[str | None, str] = {}  # each spelling's key, found once: names repeat
    for lf in all_lives:
        name = lf.deal.owner
        key = keys.get(name)
        if key is None:
            key = keys[name] = owner_key(name, config.team)
            shown.setdefault(key, owner_label(name, config.team))
        by_owner[key].append(lf)
    out = []
    for key in sorted(by_owner, key=lambda k: (k == "", shown[k].lower())):
        owner, mine = shown[key], by_owner[key]
        opened = [lf.deal for lf in open_lives(mine, config)]
        outcomes = outcome_figures(mine, config, since, until)
        out.append(
            OwnerFigures(
                owner=owner,
                open_count=len(opened),
                open_value=value_of(opened),
                weighted_value=weighted_value_of(opened, weigh),
                outcomes=outcomes,
                lost_reasons=lost_reasons(mine, config, since, until),
                velocity_per_day=velocity(len(opened), outcomes).per_day,
            )
        )
    return tuple(out)


def report(
    deals: Sequence[Deal],
    config: Config,
    hist: History,
    today: dt.date,
    since: dt.date | None = None,
    until: dt.date | None = None,
    owner: str | None = None,
    rates: Rates | None = None,
    currency: str | None = None,
    weeks: int = 0,
    activity: Activity | None = None,
) -> Report:
    """Every figure of `pipectl report`, over the deals (of `owner`, when given), every amount
    in `currency` (default the base currency) through the rate table `rates`."""
    all_lives = lives(deals, hist, config)
    owner = owner_filter(owner)  # `all` asks for everyone
    if owner is not None:
        all_lives = [lf for lf in all_lives if owner_matches(lf.deal, owner, config.team)]
    target = norm(currency or config.currency)
    currencies = sorted({deal_currency(lf.deal.fields, config.currency) for lf in all_lives})
    converter = Converter(rates or Rates(config.currency), target)

    def in_target(amount: float, lf: Life) -> float | None:
        cur = deal_currency(lf.deal.fields, config.currency)
        if cur == target:
            return amount
        return converter.convert(amount, cur, conversion_day(lf, config, today))

    revenue = recurring(all_lives, config, in_target, since, until)  # before: each in its own
    all_lives, unconverted, converted = convert_lives(all_lives, config, converter, today)
    opened = [lf.deal for lf in open_lives(all_lives, config)]
    outcomes = outcome_figures(all_lives, config, since, until)
    missing = frozenset(u.id for u in unconverted)
    weigh = Weights(config)  # each deal's probability found once, for every figure
    scored = score(all_lives, config, weigh)
    base = norm(config.currency)

    def quota_in(amount: float) -> float | None:
        return amount if base == target else converter.convert(amount, base, today)

    return Report(
        as_of=today,
        since=since,
        until=until,
        owner=owner,
        currency=target,
        base_currency=norm(config.currency),
        other_currencies=tuple(c for c in currencies if c != target),
        converted_currencies=converted,
        unconverted=unconverted,
        history=hist.available,
        partial=hist.partial,
        deal_count=len(all_lives),
        open_count=len(opened),
        open_value=value_of(opened),
        weighted_value=weighted_value_of(opened, weigh),
        stages=stage_figures(all_lives, config, missing, weigh),
        outcomes=outcomes,
        velocity=velocity(len(opened), outcomes),
        forecast=forecast(all_lives, config, today, weigh),
        funnel=funnel(all_lives, config, since, until),
        conversion=conversion(all_lives, config, since, until),
        time_in_stage=time_in_stage(all_lives, config, today, since, until),
        lost_reasons=lost_reasons(all_lives, config, since, until),
        aging=aging(all_lives, config, today),
        trend=trend(all_lives, config, since, until),
        owners=owner_figures(all_lives, config, since, until, weigh),
        quotas=quota_rows(config.quotas, config.team, scored, today, owner, quota_in),
        categories_by_month=category_rows(scored, today, "month"),
        categories_by_quarter=category_rows(scored, today, "quarter"),
        recurring=revenue,
        retention=retention(all_lives, config, since, until),
        trends=trends(all_lives, config, today, weeks, activity or Activity()) if weeks else None,
    )


def quota_figures(
    deals: Sequence[Deal],
    config: Config,
    rates: Rates,
    today: dt.date,
    entered: Callable[[Deal], dt.date | None],
) -> tuple[Attainment, ...]:
    """The quota rows as `report` computes them, from the deals alone (`entered`: the day a
    deal entered its stage, for a closed one without `closed:`): lint's PL604 asks here."""
    bare = [Life(d, (), None, closed_day(d, entered(d))) for d in deals]
    converted, _missing, _from = convert_lives(
        bare, config, Converter(rates, config.currency), today
    )
    return quota_rows(config.quotas, config.team, score(converted, config), today)


def conversion_day(life: Life, config: Config, today: dt.date) -> dt.date:
    """The day a deal's value converts at: today while open, its close date once closed
    (today when that is unknown)."""
    stage = config.stage(life.deal.stage)
    if stage is None or stage.closed is None:
        return today
    return life.closed or today


def convert_lives(
    all_lives: Sequence[Life], config: Config, converter: Converter, today: dt.date
) -> tuple[list[Life], tuple[Unconverted, ...], tuple[str, ...]]:
    """Each deal with its value in the converter's currency (a deal already in it kept as it
    is); the deals with no rate (their value None, so that no sum holds them); the
    currencies some value was converted from."""
    out, missing, converted_from = [], [], set()
    target = norm(converter.target)
    for lf in all_lives:
        deal, value = lf.deal, lf.deal.value
        cur = deal_currency(deal.fields, config.currency)
        if value is None or cur == target:
            out.append(lf)
            continue
        day = conversion_day(lf, config, today)
        converted = converter.convert(value, cur, day)
        if converted is not None:
            converted_from.add(cur)
        else:
            missing.append(
                Unconverted(deal.id, deal.title, deal.stage, deal.owner, cur, num(value), day)
            )
        fields_ = {**deal.fields, "value": converted, "currency": target}
        out.append(replace(lf, deal=Deal(deal.id, deal.stage, deal.path, fields_, deal.lines)))
    return out, tuple(missing), tuple(sorted(converted_from))


# --- JSON -----------------------------------------------------------------------------------


def _keys(figure: Any, *skip: str) -> dict[str, Any]:
    """A figure's fields in their declared order, named as JSON names them (a field's `json`
    metadata, else its own name); `skip` leaves out the ones JSON shows elsewhere or not."""
    return {
        f.metadata.get("json", f.name): getattr(figure, f.name)
        for f in fields(figure)
        if f.name not in skip
    }


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def report_json(r: Report) -> dict[str, Any]:
    """The report as `pipectl report --json` prints it: these keys, in this order."""
    return {
        "as_of": r.as_of.isoformat(),
        "since": _iso(r.since),
        "until": _iso(r.until),
        "owner": r.owner,
        "currency": r.currency,
        "base_currency": r.base_currency,
        "other_currencies": list(r.other_currencies),
        "converted_currencies": list(r.converted_currencies),
        "unconverted": [{**_keys(u), "rate_date": u.rate_date.isoformat()} for u in r.unconverted],
        "history": r.history,
        "partial": r.partial,
        "deal_count": r.deal_count,
        "open_count": r.open_count,
        "open_value": r.open_value,
        "weighted_value": r.weighted_value,
        "stages": {s.stage: _keys(s, "stage") for s in r.stages},
        **_keys(r.outcomes, "avg_won_value"),  # velocity shows it, rounded
        "velocity": _keys(r.velocity),
        "forecast": [_keys(f) for f in r.forecast],
        "funnel": [_keys(f) for f in r.funnel],
        "conversion": [_keys(c) for c in r.conversion],
        "time_in_stage": {t.stage: _keys(t, "stage") for t in r.time_in_stage},
        "lost_reasons": [_keys(x) for x in r.lost_reasons],
        "aging": {
            "buckets": list(r.aging.buckets),
            "stages": {s.stage: list(s.counts) for s in r.aging.stages},
            "oldest": [_keys(d) for d in r.aging.oldest],
            "unknown_count": r.aging.unknown_count,
            "why_unknown": r.aging.why_unknown,
        },
        "trend": [_keys(t) for t in r.trend],
        "owners": {o.owner: _owner_json(o) for o in r.owners},
        "quotas": [_amounts(q) for q in r.quotas],
        "recurring": None
        if r.recurring is None
        else {**_keys(r.recurring, "won"), "won": [_keys(m) for m in r.recurring.won]},
        "retention": None if r.retention is None else _amounts(r.retention),
        "trends": None if r.trends is None else trends_json(r.trends),
        "forecast_categories": {
            "month": [_amounts(c) for c in r.categories_by_month],
            "quarter": [_amounts(c) for c in r.categories_by_quarter],
        },
    }


def _amounts(figure: Any) -> dict[str, Any]:
    """A figure's fields with amounts as JSON shows money and ratios to four places."""
    out = {}
    for k, v in _keys(figure).items():
        ratio = k in ("attainment", "coverage")
        out[k] = v if not isinstance(v, float) else round(v, 4) if ratio else num(v)
    return out


def _owner_json(o: OwnerFigures) -> dict[str, Any]:
    return {
        "open_count": o.open_count,
        "open_value": o.open_value,
        "weighted_value": o.weighted_value,
        **_keys(o.outcomes, "avg_won_value", "cycle_count"),
        "lost_reasons": {x.reason: x.count for x in o.lost_reasons},
        "velocity_per_day": o.velocity_per_day,
    }


def trends_json(t: Trends) -> dict[str, Any]:
    """The trends as `report --json --weeks N` prints them under `trends`."""
    return {
        "weeks": [
            {
                "week": w.start.isoformat(),
                **_keys(w, "start", "stages"),
                "stages": {s.stage: _keys(s, "stage") for s in w.stages},
            }
            for w in t.weeks
        ],
        "stage_time": [_keys(q) for q in t.stage_time],
        "activity": [
            {
                "week": a.start.isoformat(),
                "rep": a.rep,
                "count": a.count,
                "kinds": dict(a.kinds),
                "outcomes": dict(a.outcomes),
            }
            for a in t.activity
        ],
    }
