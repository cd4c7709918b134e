"""The report's figures: frozen values, each computed by a pure function over the deals' lives.

A life (pipectl/lives.py) is a deal with its stays in stages, from its git history;
docs/reports.md defines every figure (tests recompute them from raw data, so change both
together). pipectl/report.py puts them together into one Report. Never reads files, runs git,
or prints.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.lives import Life

NO_REASON = "(none)"
# why a finished stay has no start: git's history of it was cut
CUT_STAY = "began before the first commit of this shallow clone"

# Money as JSON shows it: whole amounts as integers, else two decimals (see `num`).
Money: TypeAlias = int | float | None


@dataclass(frozen=True)
class StageFigures:
    """One stage today: its deals, their value and weighted value."""

    stage: str
    count: int
    value: Money
    weighted_value: Money
    probability: float
    closed: str | None
    no_value_count: int
    unconverted_count: int = 0  # deals whose value has no rate (in no sum, nor in no_value)


@dataclass(frozen=True)
class Outcomes:
    """Won and lost deals closed in the window, and the sales cycle of the won."""

    won_count: int
    lost_count: int
    won_value: Money
    lost_value: Money
    win_rate: float | None
    avg_cycle_days: float | None
    median_cycle_days: float | None
    cycle_count: int
    avg_won_value: float | None  # not rounded: velocity rounds what it shows


@dataclass(frozen=True)
class ForecastMonth:
    """Open deals expected to close in one month (`month` None: no expected date)."""

    month: str | None
    count: int
    value: Money
    weighted_value: Money
    past: bool


@dataclass(frozen=True)
class StageTime:
    """Days in one open stage: finished stays (ended in the window) and current ones. An
    average over stays some of whose starts are unknown would be a guess: it is None, and
    `why_unknown` says why."""

    stage: str
    count: int
    avg_days: float | None
    median_days: float | None
    open_count: int
    open_avg_days: float | None
    unknown_count: int = 0  # finished stays whose start is unknown
    open_unknown_count: int = 0  # current stays whose start is unknown
    why_unknown: str | None = None


@dataclass(frozen=True)
class FunnelStage:
    """Deals (created in the window) that reached a funnel stage, and their value."""

    stage: str
    reached: int
    value: Money


@dataclass(frozen=True)
class ConversionStep:
    """Of the deals that reached `from_stage`, how many reached `to_stage` or went further."""

    from_stage: str = field(metadata={"json": "from"})
    to_stage: str = field(metadata={"json": "to"})
    reached: int
    advanced: int
    rate: float | None
    why_unknown: str | None = None  # why `rate` is None


@dataclass(frozen=True)
class LostReason:
    """Lost deals (closed in the window) that give one reason."""

    reason: str
    count: int
    value: Money


@dataclass(frozen=True)
class TrendMonth:
    """Deals closed in one month: won, lost, win rate and the won deals' sales cycle."""

    month: str
    won_count: int
    lost_count: int
    won_value: Money
    win_rate: float | None
    avg_cycle_days: float | None


# --- helpers --------------------------------------------------------------------------------


def _in(day: dt.date | None, since: dt.date | None, until: dt.date | None) -> bool:
    if since is None and until is None:
        return True
    if day is None:
        return False
    return (since is None or day >= since) and (until is None or day <= until)


def num(value: float | None) -> Money:
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


def value_of(deals: Iterable[Deal]) -> Money:
    """The sum of the deals' known values (a deal without one adds nothing)."""
    return num(sum(d.value or 0.0 for d in deals))


Weigh: TypeAlias = Callable[[Deal], float]  # a deal's probability, as `probability` finds it


class Weights:
    """`probability` of each deal, found once: a report weighs an open deal five times (its
    stage, the open total, the forecast, its owner, the quotas), and reading a deal's own
    `probability:` is most of the cost. Lives as long as one report; the deals are kept, so
    no id is reused while it does."""

    def __init__(self, config: Config):
        self.config = config
        self._found: dict[int, tuple[Deal, float]] = {}

    def __call__(self, deal: Deal) -> float:
        found = self._found.get(id(deal))
        if found is None:
            found = self._found[id(deal)] = (deal, probability(deal, self.config))
        return found[1]


def weighted_value_of(deals: Iterable[Deal], weigh: Weigh) -> Money:
    """The sum of each deal's value times its probability (`weigh`: `Weights`)."""
    return num(sum((d.value or 0.0) * weigh(d) for d in deals))


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def stage_kinds(config: Config) -> dict[str, str | None]:
    """Each stage's kind by name: `won`, `lost`, None for an open one; a stage pipeline.yaml
    does not name is in none (`.get` gives None, as for an open stage). Made once per figure:
    a report asks it of every deal a dozen times."""
    return {s.name: s.closed for s in config.stages}


def is_renewal(deal: Deal) -> bool:
    """A deal that renews a won one (`renewal_of:` names it)."""
    mark = deal.fields.get("renewal_of")
    return isinstance(mark, str) and bool(mark.strip())


def open_lives(all_lives: Sequence[Life], config: Config) -> list[Life]:
    """The deals in open (not won or lost) stages."""
    kinds = stage_kinds(config)
    return [lf for lf in all_lives if kinds.get(lf.deal.stage) is None]


# --- the figures ----------------------------------------------------------------------------


def stage_figures(
    all_lives: Sequence[Life],
    config: Config,
    unconverted: frozenset[str] = frozenset(),
    weigh: Weigh | None = None,
) -> tuple[StageFigures, ...]:
    """Per stage (config order): count, value (sum of known values), weighted value; the
    deals of `unconverted` (ids: a value without a rate) are counted apart from those
    without a value."""
    weigh = weigh or Weights(config)
    # the deals of each stage in one pass over the lives, not one pass a stage
    in_stage: dict[str, list[Deal]] = {s.name: [] for s in config.stages}
    for lf in all_lives:
        found = in_stage.get(lf.deal.stage)
        if found is not None:
            found.append(lf.deal)
    out = []
    for stage in config.stages:
        deals = in_stage[stage.name]
        lacking = sum(1 for d in deals if d.id in unconverted)
        out.append(
            StageFigures(
                stage=stage.name,
                count=len(deals),
                value=value_of(deals),
                weighted_value=weighted_value_of(deals, weigh),
                probability=stage.probability,
                closed=stage.closed,
                no_value_count=sum(1 for d in deals if d.value is None) - lacking,
                unconverted_count=lacking,
            )
        )
    return tuple(out)


def outcome_figures(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> Outcomes:
    """Won and lost deals closed in the window: counts, values, win rate, sales cycle. New
    business only: a renewal (`renewal_of:`) is retention's, and a lost one churn."""
    new = [lf for lf in all_lives if not is_renewal(lf.deal)]
    kinds = stage_kinds(config)
    won = [lf for lf in new if kinds.get(lf.deal.stage) == "won"]
    lost = [lf for lf in new if kinds.get(lf.deal.stage) == "lost"]
    won = [lf for lf in won if _in(lf.closed, since, until)]
    lost = [lf for lf in lost if _in(lf.closed, since, until)]
    cycles = cycle_days(won)
    return Outcomes(
        won_count=len(won),
        lost_count=len(lost),
        won_value=value_of(lf.deal for lf in won),
        lost_value=value_of(lf.deal for lf in lost),
        win_rate=_ratio(len(won), len(won) + len(lost)),
        avg_cycle_days=_avg(cycles),
        median_cycle_days=_median(cycles),
        cycle_count=len(cycles),
        avg_won_value=_avg([lf.deal.value for lf in won if lf.deal.value is not None]),
    )


def cycle_days(won: Iterable[Life]) -> list[float]:
    """Sales cycle of each won deal with both dates: closed - created, in days."""
    return [
        float((lf.closed - lf.created).days)
        for lf in won
        if lf.closed is not None and lf.created is not None
    ]


def forecast(
    all_lives: Sequence[Life], config: Config, today: dt.date, weigh: Weigh | None = None
) -> tuple[ForecastMonth, ...]:
    """Open deals by expected-close month; deals without a date last (month None)."""
    weigh = weigh or Weights(config)
    buckets: dict[str | None, list[Deal]] = defaultdict(list)
    kinds = stage_kinds(config)
    for lf in all_lives:
        stage = lf.deal.stage
        if stage in kinds and kinds[stage] is None:  # open, and a stage pipeline.yaml names
            close = lf.deal.date("expected_close")
            buckets[_month(close) if close else None].append(lf.deal)
    this_month = _month(today)
    return tuple(
        ForecastMonth(
            month=month,
            count=len(buckets[month]),
            value=value_of(buckets[month]),
            weighted_value=weighted_value_of(buckets[month], weigh),
            past=month is not None and month < this_month,
        )
        for month in sorted(buckets, key=lambda m: (m is None, m or ""))
    )


def time_in_stage(
    all_lives: Sequence[Life],
    config: Config,
    today: dt.date,
    since: dt.date | None,
    until: dt.date | None,
) -> tuple[StageTime, ...]:
    """Per open stage: days of finished stays (ending in the window) and of current ones."""
    done: dict[str, list[float]] = defaultdict(list)
    current: dict[str, list[float]] = defaultdict(list)
    cut: dict[str, int] = defaultdict(int)  # finished stays without a start
    unknown: dict[str, list[str]] = defaultdict(list)  # why each current stay has no start
    windowed = since is not None or until is not None
    for lf in all_lives:
        for stage, start, end in lf.stays:  # unpacked: ~50,000 stays in a large report
            if end is not None:
                if windowed and not _in(end, since, until):
                    continue
                if start is None:
                    cut[stage] += 1
                else:
                    # commit dates out of order (a wrong clock, a rebase) end a stay before
                    # it began: no time spent there, never negative days
                    done[stage].append(float(max(0, (end - start).days)))
            elif start is None:
                unknown[stage].append(lf.why_unknown or "unknown")
            elif start <= today:  # a pinned past --today: not there yet
                current[stage].append(float((today - start).days))
    out = []
    for st in config.open_stages:
        name = st.name
        finished, there = done[name], current[name]
        out.append(
            StageTime(
                stage=name,
                count=len(finished) + cut[name],
                avg_days=None if cut[name] else _avg(finished),
                median_days=None if cut[name] else _median(finished),
                open_count=len(there) + len(unknown[name]),
                open_avg_days=None if unknown[name] else _avg(there),
                unknown_count=cut[name],
                open_unknown_count=len(unknown[name]),
                why_unknown=_why_days(cut[name], unknown[name]),
            )
        )
    return tuple(out)


def _why_days(cut: int, unknown: Sequence[str]) -> str | None:
    """Why a stage's days cannot be told: counts and reasons, most frequent reason first."""
    parts = []
    if cut:
        parts.append(f"{count_of(cut, 'finished stay')} {CUT_STAY}")
    for why, n in Counter(unknown).most_common():
        parts.append(f"{count_of(n, 'deal')} there now: {why}")
    return "; ".join(parts) or None


def count_of(n: int, word: str) -> str:  # `1 deal`, `3 deals`
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def funnel_stages(config: Config) -> list[str]:
    """The stages a deal advances through: open stages in order, then won."""
    names = [s.name for s in config.open_stages]
    if config.won_stage is not None:
        names.append(config.won_stage.name)
    return names


def furthest(life: Life, places: Mapping[str, int]) -> int:
    """Index in the funnel of the furthest stage a deal reached (0 when it never showed one);
    `places`: each funnel stage's index by name (`funnel_places`), made once per figure."""
    top = 0
    for stay in life.stays:
        place = places.get(stay.stage, 0)
        if place > top:
            top = place
    return top


def funnel_places(config: Config) -> dict[str, int]:
    """Each funnel stage's index by name (stage names are unique: pipeline.yaml is checked)."""
    return {name: i for i, name in enumerate(funnel_stages(config))}


def _reached(reach: Iterable[int], stages: int) -> list[int]:
    """How many of the deals reached each funnel stage or further, from their furthest."""
    counts = Counter(reach)
    out, total = [0] * stages, 0
    for i in reversed(range(stages)):
        total += counts[i]
        out[i] = total
    return out


def conversion(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> tuple[ConversionStep, ...]:
    """Stage to next stage: of the deals (created in the window) that reached a stage, how
    many reached the next one or went further."""
    names = funnel_stages(config)
    places = funnel_places(config)
    cohort = [lf for lf in all_lives if _in(lf.created, since, until)]
    reached = _reached((furthest(lf, places) for lf in cohort), len(names))
    # a stage no deal was ever seen in (an import puts deals past it) converts nothing: all
    # that "reached" it skipped it, and 100% would be a figure about no one
    seen = {s.stage for lf in cohort for s in lf.stays}
    rows = []
    for i in range(len(names) - 1):
        rate, why = _ratio(reached[i + 1], reached[i]), None
        if not reached[i]:
            why = f"no deal reached {names[i]}" + (" in the window" if since or until else "")
        elif names[i] not in seen:
            rate, why = None, f"no deal passed through {names[i]}"
        rows.append(ConversionStep(names[i], names[i + 1], reached[i], reached[i + 1], rate, why))
    return tuple(rows)


def funnel(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> tuple[FunnelStage, ...]:
    """How many deals (created in the window) reached each funnel stage, and their value."""
    names = funnel_stages(config)
    places = funnel_places(config)
    cohort = [(furthest(lf, places), lf.deal) for lf in all_lives if _in(lf.created, since, until)]
    reached = _reached((f for f, _ in cohort), len(names))
    return tuple(
        FunnelStage(
            stage=name,
            reached=reached[i],
            value=value_of(d for f, d in cohort if f >= i),
        )
        for i, name in enumerate(names)
    )


def lost_reasons(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> tuple[LostReason, ...]:
    """Lost deals closed in the window, by reason, most frequent first."""
    counts: dict[str, list[Deal]] = defaultdict(list)
    kinds = stage_kinds(config)
    for lf in all_lives:
        if kinds.get(lf.deal.stage) == "lost" and _in(lf.closed, since, until):
            counts[lf.deal.lost_reason or NO_REASON].append(lf.deal)
    rows = [LostReason(r, len(ds), value_of(ds)) for r, ds in counts.items()]
    return tuple(sorted(rows, key=lambda r: (-r.count, r.reason)))


def trend(
    all_lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> tuple[TrendMonth, ...]:
    """Per month of closing: won, lost, win rate and average sales cycle of the won."""
    months: dict[str, dict[str, list[Life]]] = defaultdict(lambda: {"won": [], "lost": []})
    kinds = stage_kinds(config)
    for lf in all_lives:
        kind = kinds.get(lf.deal.stage)
        if kind in ("won", "lost") and lf.closed is not None and _in(lf.closed, since, until):
            months[_month(lf.closed)][kind].append(lf)
    rows = []
    for month in sorted(months):
        won, lost = months[month]["won"], months[month]["lost"]
        rows.append(
            TrendMonth(
                month=month,
                won_count=len(won),
                lost_count=len(lost),
                won_value=value_of(lf.deal for lf in won),
                win_rate=_ratio(len(won), len(won) + len(lost)),
                avg_cycle_days=_avg(cycle_days(won)),
            )
        )
    return tuple(rows)
