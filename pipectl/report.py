"""Pipeline figures: pure functions over the current deals and their history from git.

The definitions here are the ones docs/reports.md documents (other tests recompute them from
raw data, so change both together). Never reads files, runs git, or prints.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.history import CREATED, DELETED, MOVED, Event, History
from pipectl.owners import NO_OWNER, owner_matches

AGING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-7", 7), ("8-30", 30), ("31-90", 90), ("91+", None),
)  # fmt: skip
NO_REASON = "(none)"
OLDEST_SHOWN = 10


@dataclass(frozen=True)
class Stay:
    """A deal's time in one stage: from `start` until `end` (None: it is still there)."""

    stage: str
    start: dt.date | None
    end: dt.date | None = None


@dataclass(frozen=True)
class Life:
    """What the figures need of one deal: the deal, its stays, created and closed dates."""

    deal: Deal
    stays: tuple[Stay, ...]
    created: dt.date | None
    closed: dt.date | None

    @property
    def current(self) -> Stay | None:
        return self.stays[-1] if self.stays and self.stays[-1].end is None else None


def lives(deals: Iterable[Deal], hist: History) -> list[Life]:
    """Each deal with its stays from git moves, the current stay starting at `stage_entered`."""
    return [life_of(d, hist.of(d.id)) for d in deals]


def life_of(deal: Deal, events: Sequence[Event]) -> Life:
    stays: list[Stay] = []
    open_stay: Stay | None = None
    created_field = deal.date("created")
    for e in events:
        if e.kind == CREATED and e.stage is not None:
            # the file's `created` says when the deal began (an import commits it later)
            start = created_field if created_field and created_field <= e.day else e.day
            open_stay = Stay(e.stage, start)
        elif e.kind == MOVED and e.stage is not None:
            if open_stay is not None:
                stays.append(Stay(open_stay.stage, open_stay.start, e.day))
            open_stay = Stay(e.stage, e.day)
        elif e.kind == DELETED:
            open_stay = None  # a deleted file did not leave its stage in the funnel's sense
    entered = deal.date("stage_entered")
    if open_stay is None or open_stay.stage != deal.stage:
        # no history (outside git, shallow, uncommitted): the file says what it can
        open_stay = Stay(deal.stage, entered or deal.date("created"))
    elif entered is not None:
        open_stay = Stay(deal.stage, entered)
    stays.append(open_stay)
    created = created_field or (events[0].day if events else None)
    # for a closed deal without `closed:`, entering its closed stage is when it closed
    closed = deal.date("closed") or stays[-1].start
    return Life(deal, tuple(stays), created, closed)


# --- helpers --------------------------------------------------------------------------------


def _in(day: dt.date | None, since: dt.date | None, until: dt.date | None) -> bool:
    if since is None and until is None:
        return True
    if day is None:
        return False
    return (since is None or day >= since) and (until is None or day <= until)


def num(value: float | None) -> float | int | None:
    """Money as JSON shows it: whole numbers as integers, else two decimals."""
    if value is None:
        return None
    return int(value) if value == int(value) else round(value, 2)


def _avg(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def probability(deal: Deal, config: Config) -> float:
    own = deal.probability
    if own is not None:
        return own
    stage = config.stage(deal.stage)
    return stage.probability if stage is not None else 0.0


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _kind(config: Config, stage: str) -> str | None:
    s = config.stage(stage)
    return None if s is None else s.closed


# --- the figures ----------------------------------------------------------------------------


def stage_figures(all_lives: Sequence[Life], config: Config) -> dict[str, dict[str, Any]]:
    """Per stage (config order): count, value (sum of known values), weighted value."""
    out: dict[str, dict[str, Any]] = {}
    for stage in config.stages:
        deals = [lf.deal for lf in all_lives if lf.deal.stage == stage.name]
        value = sum(d.value or 0.0 for d in deals)
        weighted = sum((d.value or 0.0) * probability(d, config) for d in deals)
        out[stage.name] = {
            "count": len(deals),
            "value": num(value),
            "weighted_value": num(weighted),
            "probability": stage.probability,
            "closed": stage.closed,
            "no_value_count": sum(1 for d in deals if d.value is None),
        }
    return out


def outcome_figures(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> dict[str, Any]:
    """Won and lost deals closed in the window: counts, values, win rate, sales cycle."""
    won = [lf for lf in all_lives if _kind(config, lf.deal.stage) == "won"]
    lost = [lf for lf in all_lives if _kind(config, lf.deal.stage) == "lost"]
    won = [lf for lf in won if _in(lf.closed, since, until)]
    lost = [lf for lf in lost if _in(lf.closed, since, until)]
    cycles = cycle_days(won)
    won_value = sum(lf.deal.value or 0.0 for lf in won)
    return {
        "won_count": len(won),
        "lost_count": len(lost),
        "won_value": num(won_value),
        "lost_value": num(sum(lf.deal.value or 0.0 for lf in lost)),
        "win_rate": _ratio(len(won), len(won) + len(lost)),
        "avg_cycle_days": _avg(cycles),
        "median_cycle_days": _median(cycles),
        "cycle_count": len(cycles),
        "avg_won_value": _avg([lf.deal.value for lf in won if lf.deal.value is not None]),
    }


def cycle_days(won: Iterable[Life]) -> list[float]:
    """Sales cycle of each won deal with both dates: closed - created, in days."""
    return [
        float((lf.closed - lf.created).days)
        for lf in won
        if lf.closed is not None and lf.created is not None
    ]


def forecast(all_lives: Sequence[Life], config: Config, today: dt.date) -> list[dict[str, Any]]:
    """Open deals by expected-close month; deals without a date last (month null)."""
    buckets: dict[str | None, list[Deal]] = defaultdict(list)
    for lf in all_lives:
        if _kind(config, lf.deal.stage) is None and config.stage(lf.deal.stage) is not None:
            close = lf.deal.date("expected_close")
            buckets[_month(close) if close else None].append(lf.deal)
    this_month = _month(today)
    rows = []
    for month in sorted(buckets, key=lambda m: (m is None, m or "")):
        deals = buckets[month]
        rows.append(
            {
                "month": month,
                "count": len(deals),
                "value": num(sum(d.value or 0.0 for d in deals)),
                "weighted_value": num(
                    sum((d.value or 0.0) * probability(d, config) for d in deals)
                ),
                "past": month is not None and month < this_month,
            }
        )
    return rows


def time_in_stage(
    all_lives: Sequence[Life],
    config: Config,
    today: dt.date,
    since: dt.date | None,
    until: dt.date | None,
) -> dict[str, dict[str, Any]]:
    """Per open stage: days of finished stays (ending in the window) and of current ones."""
    done: dict[str, list[float]] = defaultdict(list)
    current: dict[str, list[float]] = defaultdict(list)
    for lf in all_lives:
        for s in lf.stays:
            if s.start is None:
                continue
            if s.end is not None and _in(s.end, since, until):
                done[s.stage].append(float((s.end - s.start).days))
            elif s.end is None and s.start <= today:  # a pinned past --today: not there yet
                current[s.stage].append(float((today - s.start).days))
    return {
        st.name: {
            "count": len(done[st.name]),
            "avg_days": _avg(done[st.name]),
            "median_days": _median(done[st.name]),
            "open_count": len(current[st.name]),
            "open_avg_days": _avg(current[st.name]),
        }
        for st in config.open_stages
    }


def funnel_stages(config: Config) -> list[str]:
    """The stages a deal advances through: open stages in order, then won."""
    names = [s.name for s in config.open_stages]
    if config.won_stage is not None:
        names.append(config.won_stage.name)
    return names


def furthest(life: Life, funnel: Sequence[str]) -> int:
    """Index in the funnel of the furthest stage a deal reached (0 when it never showed one)."""
    seen = [funnel.index(s.stage) for s in life.stays if s.stage in funnel]
    return max(seen) if seen else 0


def conversion(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> list[dict[str, Any]]:
    """Stage to next stage: of the deals (created in the window) that reached a stage, how
    many reached the next one or went further."""
    funnel = funnel_stages(config)
    cohort = [furthest(lf, funnel) for lf in all_lives if _in(lf.created, since, until)]
    rows = []
    for i in range(len(funnel) - 1):
        reached = sum(1 for f in cohort if f >= i)
        advanced = sum(1 for f in cohort if f >= i + 1)
        rows.append(
            {
                "from": funnel[i],
                "to": funnel[i + 1],
                "reached": reached,
                "advanced": advanced,
                "rate": _ratio(advanced, reached),
            }
        )
    return rows


def funnel(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> list[dict[str, Any]]:
    """How many deals (created in the window) reached each funnel stage, and their value."""
    names = funnel_stages(config)
    cohort = [(furthest(lf, names), lf.deal) for lf in all_lives if _in(lf.created, since, until)]
    return [
        {
            "stage": name,
            "reached": sum(1 for f, _ in cohort if f >= i),
            "value": num(sum(d.value or 0.0 for f, d in cohort if f >= i)),
        }
        for i, name in enumerate(names)
    ]


def lost_reasons(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> list[dict[str, Any]]:
    """Lost deals closed in the window, by reason, most frequent first."""
    counts: dict[str, list[Deal]] = defaultdict(list)
    for lf in all_lives:
        if _kind(config, lf.deal.stage) == "lost" and _in(lf.closed, since, until):
            counts[lf.deal.lost_reason or NO_REASON].append(lf.deal)
    rows = [
        {"reason": r, "count": len(ds), "value": num(sum(d.value or 0.0 for d in ds))}
        for r, ds in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r["count"], r["reason"]))


def velocity(open_count: int, outcomes: Mapping[str, Any]) -> dict[str, Any]:
    """Pipeline velocity: open deals x average won value x win rate / average cycle (per day)."""
    avg_value, rate = outcomes["avg_won_value"], outcomes["win_rate"]
    cycle = outcomes["avg_cycle_days"]
    per_day = None
    if avg_value is not None and rate is not None and cycle:
        per_day = open_count * avg_value * rate / cycle
    return {
        "open_count": open_count,
        "avg_won_value": None if avg_value is None else num(avg_value),
        "win_rate": rate,
        "avg_cycle_days": cycle,
        "per_day": None if per_day is None else round(per_day, 2),
    }


def aging(all_lives: Sequence[Life], config: Config, today: dt.date) -> dict[str, Any]:
    """Open deals by days in their current stage, per stage, and the longest-waiting ones."""
    per_stage: dict[str, list[int]] = {s.name: [0] * len(AGING_BUCKETS) for s in config.open_stages}
    rows = []
    for lf in all_lives:
        cur = lf.current
        if cur is None or lf.deal.stage not in per_stage:
            continue
        days = None if cur.start is None else max(0, (today - cur.start).days)
        age = None if lf.created is None else max(0, (today - lf.created).days)
        if days is not None:
            per_stage[lf.deal.stage][_bucket(days)] += 1
        rows.append(
            {
                "id": lf.deal.id,
                "title": lf.deal.title,
                "stage": lf.deal.stage,
                "owner": lf.deal.owner,
                "value": num(lf.deal.value),
                "days_in_stage": days,
                "age_days": age,
            }
        )
    rows.sort(key=lambda r: (-int(r["days_in_stage"] or 0), str(r["id"])))
    return {
        "buckets": [name for name, _ in AGING_BUCKETS],
        "stages": per_stage,
        "oldest": rows[:OLDEST_SHOWN],
    }


def _bucket(days: int) -> int:
    for i, (_, limit) in enumerate(AGING_BUCKETS):
        if limit is None or days <= limit:
            return i
    return len(AGING_BUCKETS) - 1


def trend(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> list[dict[str, Any]]:
    """Per month of closing: won, lost, win rate and average sales cycle of the won."""
    months: dict[str, dict[str, list[Life]]] = defaultdict(lambda: {"won": [], "lost": []})
    for lf in all_lives:
        kind = _kind(config, lf.deal.stage)
        if kind in ("won", "lost") and lf.closed is not None and _in(lf.closed, since, until):
            months[_month(lf.closed)][kind].append(lf)
    rows = []
    for month in sorted(months):
        won, lost = months[month]["won"], months[month]["lost"]
        rows.append(
            {
                "month": month,
                "won_count": len(won),
                "lost_count": len(lost),
                "won_value": num(sum(lf.deal.value or 0.0 for lf in won)),
                "win_rate": _ratio(len(won), len(won) + len(lost)),
                "avg_cycle_days": _avg(cycle_days(won)),
            }
        )
    return rows


def owner_figures(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> dict[str, dict[str, Any]]:
    """The headline figures again for each owner's deals, owners in name order."""
    by_owner: dict[str, list[Life]] = defaultdict(list)
    for lf in all_lives:
        by_owner[lf.deal.owner or NO_OWNER].append(lf)
    out = {}
    for owner in sorted(by_owner, key=lambda o: (o == NO_OWNER, o.lower())):
        mine = by_owner[owner]
        opened = _open(mine, config)
        outcomes = outcome_figures(mine, config, since, until)
        out[owner] = {
            "open_count": len(opened),
            "open_value": num(sum(lf.deal.value or 0.0 for lf in opened)),
            "weighted_value": num(
                sum((lf.deal.value or 0.0) * probability(lf.deal, config) for lf in opened)
            ),
            **{k: v for k, v in outcomes.items() if k not in ("avg_won_value", "cycle_count")},
            "lost_reasons": {
                r["reason"]: r["count"] for r in lost_reasons(mine, config, since, until)
            },
            "velocity_per_day": velocity(len(opened), outcomes)["per_day"],
        }
    return out


def _open(all_lives: Sequence[Life], config: Config) -> list[Life]:
    return [lf for lf in all_lives if _kind(config, lf.deal.stage) is None]


def report(
    deals: Sequence[Deal],
    config: Config,
    hist: History,
    today: dt.date,
    since: dt.date | None = None,
    until: dt.date | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """Every figure of `pipectl report`, as JSON-ready data with stable keys."""
    all_lives = lives(deals, hist)
    if owner is not None:
        all_lives = [lf for lf in all_lives if owner_matches(lf.deal, owner)]
    stages = stage_figures(all_lives, config)
    opened = _open(all_lives, config)
    outcomes = outcome_figures(all_lives, config, since, until)
    currencies = sorted({str(c) for lf in all_lives if (c := lf.deal.fields.get("currency"))})
    figures: dict[str, Any] = {
        "as_of": today.isoformat(),
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "owner": owner,
        "currency": config.currency,
        "other_currencies": [c for c in currencies if c != config.currency],
        "history": hist.available,
        "partial": hist.partial,
        "deal_count": len(all_lives),
        "open_count": len(opened),
        "open_value": num(sum(lf.deal.value or 0.0 for lf in opened)),
        "weighted_value": num(
            sum((lf.deal.value or 0.0) * probability(lf.deal, config) for lf in opened)
        ),
        "stages": stages,
        **{k: v for k, v in outcomes.items() if k != "avg_won_value"},
        "velocity": velocity(len(opened), outcomes),
        "forecast": forecast(all_lives, config, today),
        "funnel": funnel(all_lives, config, since, until),
        "conversion": conversion(all_lives, config, since, until),
        "time_in_stage": time_in_stage(all_lives, config, today, since, until),
        "lost_reasons": lost_reasons(all_lives, config, since, until),
        "aging": aging(all_lives, config, today),
        "trend": trend(all_lives, config, since, until),
        "owners": owner_figures(all_lives, config, since, until),
    }
    return figures
