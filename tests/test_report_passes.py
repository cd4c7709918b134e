"""The report's figures computed in fewer passes (issue 14, P8) give what the plain definition
gives: each figure here is recomputed the long way (every row made, sorted, summed in the
deals' order) over many generated lives with ties, unknown starts, odd fields and duplicate
ids, and must be equal to the last digit."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipectl.aging import OLDEST_SHOWN, AgedDeal, aging
from pipectl.config import default_config
from pipectl.deal import Deal
from pipectl.figures import (
    Weights,
    conversion,
    forecast,
    funnel,
    funnel_stages,
    lost_reasons,
    num,
    open_lives,
    outcome_figures,
    probability,
    stage_figures,
    time_in_stage,
    trend,
)
from pipectl.lives import Life, Stay
from pipectl.owners import owner_key, owner_label
from pipectl.quotas import Scored, category_rows, score
from pipectl.report import owner_figures
from pipectl.roster import Member
from pipectl.targets import CATEGORIES, quarter_of, stage_category

TODAY = dt.date(2026, 11, 27)
CONFIG = default_config()
STAGES = [*CONFIG.stage_names, "archived"]  # a folder pipeline.yaml does not name


def _fields(rnd: random.Random, i: int) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": f"Deal {i % 7}"}
    if rnd.random() < 0.8:
        fields["value"] = rnd.choice([1000, 2500.5, 0.1, 0.2, 1e6 / 3, 7, "lots", True])
    if rnd.random() < 0.5:
        fields["owner"] = rnd.choice(["alice", "Alice ", "bob", "", None, 3, ["x"]])
    if rnd.random() < 0.3:
        fields["probability"] = rnd.choice([0.15, 0.5, 1, 2, -1, "high", False])
    day = TODAY - dt.timedelta(days=rnd.randrange(0, 400))
    for key in ("expected_close", "closed", "created"):
        if rnd.random() < 0.5:
            fields[key] = rnd.choice([day, day.isoformat(), "soon", None])
    if rnd.random() < 0.2:
        fields["renewal_of"] = rnd.choice(["old-deal", " ", 5])
    if rnd.random() < 0.2:
        fields["forecast"] = rnd.choice(["commit", "best_case", "pipeline", "omitted", "x"])
    if rnd.random() < 0.2:
        fields["lost_reason"] = rnd.choice(["price", "timing", None])
    return fields


def generated_lives(seed: int, n: int = 600) -> list[Life]:
    """Lives with few distinct days (ties on every sort key), some ids twice."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        stage = rnd.choice(STAGES)
        deal_id = f"d{rnd.randrange(n // 2)}"  # ids repeat, as a deal copied into two folders
        deal = Deal(deal_id, stage, Path(f"{stage}/{deal_id}.md"), _fields(rnd, i))
        stays = []
        start: dt.date | None = TODAY - dt.timedelta(days=rnd.randrange(0, 200, 10))
        for _ in range(rnd.randrange(0, 3)):
            end = start + dt.timedelta(days=rnd.randrange(0, 40)) if start else TODAY
            stays.append(Stay(rnd.choice(STAGES), start, end))
            start = end
        current = None if rnd.random() < 0.1 else start
        if rnd.random() < 0.05:
            current = TODAY + dt.timedelta(days=3)  # a pinned past --today
        stays.append(Stay(stage, current))
        created = rnd.choice([None, TODAY - dt.timedelta(days=rnd.randrange(0, 300, 30))])
        closed = rnd.choice([None, TODAY - dt.timedelta(days=rnd.randrange(0, 300, 15))])
        why = None if current is not None else rnd.choice([None, "shallow git clone"])
        out.append(Life(deal, tuple(stays), created, closed, why))
    return out


SEEDS = range(6)


@pytest.mark.parametrize("seed", SEEDS)
def test_aging_oldest_are_the_first_rows_of_all_sorted(seed: int) -> None:
    all_lives = generated_lives(seed)
    open_names = {s.name for s in CONFIG.open_stages}
    rows = []
    for lf in all_lives:
        cur = lf.current
        if cur is None or lf.deal.stage not in open_names:
            continue
        days = None if cur.start is None else max(0, (TODAY - cur.start).days)
        age = None if lf.created is None else max(0, (TODAY - lf.created).days)
        d = lf.deal
        rows.append(AgedDeal(d.id, d.title, d.stage, d.owner, num(d.value), days, age))
    rows.sort(key=lambda r: (-(r.days_in_stage or 0), r.id))
    got = aging(all_lives, CONFIG, TODAY)
    assert got.oldest == tuple(rows[:OLDEST_SHOWN])
    assert sum(sum(s.counts) for s in got.stages) + got.unknown_count == len(rows)


def _scored_long_way(all_lives: list[Life]) -> list[Scored]:
    out = []
    for lf in all_lives:
        deal, stage = lf.deal, CONFIG.stage(lf.deal.stage)
        if deal.value is None or stage is None or stage.closed == "lost":
            continue
        won = stage.closed == "won"
        own = deal.fields.get("forecast")
        default = stage_category(stage.name, stage.probability, CONFIG.forecast_categories)
        out.append(
            Scored(
                deal,
                float(deal.value),
                1.0 if won else probability(deal, CONFIG),
                None if won else own if own in CATEGORIES else default,
                won,
                lf.closed if won else None,
                None if won else deal.date("expected_close"),
            )
        )
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_scores_and_category_rows_as_the_long_way(seed: int) -> None:
    all_lives = generated_lives(seed)
    scored = score(all_lives, CONFIG)
    assert scored == _scored_long_way(all_lives)
    start = quarter_of(TODAY).start
    for by in ("month", "quarter"):
        sums: dict[str, dict[str, float]] = {}
        for s in scored:
            day = s.closed if s.won else s.expected
            if day is None or (s.won and day < start):
                continue
            day = max(day, start)
            key = quarter_of(day).name if by == "quarter" else f"{day:%Y-%m}"
            row = sums.setdefault(key, dict.fromkeys(("won", *CATEGORIES), 0.0))
            row["won" if s.won else s.category or "omitted"] += s.value
        rows = category_rows(scored, TODAY, by)
        assert [r.period for r in rows] == sorted(sums)
        for r in rows:
            want = sums[r.period]
            assert (r.won, r.commit, r.best_case, r.pipeline, r.omitted) == (
                want["won"],
                want["commit"],
                want["best_case"],
                want["pipeline"],
                want["omitted"],
            )


@pytest.mark.parametrize("seed", SEEDS)
def test_stage_kinds_as_the_config_tells_them(seed: int) -> None:
    all_lives = generated_lives(seed)

    def kind(lf: Life) -> str | None:
        stage = CONFIG.stage(lf.deal.stage)
        return None if stage is None else stage.closed

    assert open_lives(all_lives, CONFIG) == [lf for lf in all_lives if kind(lf) is None]
    known_open = [
        lf for lf in all_lives if kind(lf) is None and lf.deal.stage in CONFIG.stage_names
    ]
    assert sum(m.count for m in forecast(all_lives, CONFIG, TODAY)) == len(known_open)
    lost = [lf for lf in all_lives if kind(lf) == "lost"]
    assert sum(r.count for r in lost_reasons(all_lives, CONFIG, None, None)) == len(lost)
    closed = [lf for lf in all_lives if kind(lf) in ("won", "lost") and lf.closed is not None]
    rows = trend(all_lives, CONFIG, None, None)
    assert sum(t.won_count + t.lost_count for t in rows) == len(closed)


@pytest.mark.parametrize("seed", SEEDS)
def test_owner_groups_as_the_owner_rule_makes_them(seed: int) -> None:
    all_lives = generated_lives(seed)
    team = (Member("alice", name="Alice Smith", aliases=("al",)),)
    config = replace(CONFIG, team=team)
    groups: dict[str, list[Life]] = {}
    shown: dict[str, str] = {}
    for lf in all_lives:
        key = owner_key(lf.deal.owner, team)
        shown.setdefault(key, owner_label(lf.deal.owner, team))
        groups.setdefault(key, []).append(lf)
    rows = owner_figures(all_lives, config, None, None)
    order = sorted(shown, key=lambda k: (k == "", shown[k].lower()))  # no owner last
    assert [o.owner for o in rows] == [shown[k] for k in order]
    for o in rows:
        (key,) = [k for k, label in shown.items() if label == o.owner]
        mine = groups[key]
        assert o.open_count == len(open_lives(mine, config))
        assert o.outcomes == outcome_figures(mine, config, None, None)


@pytest.mark.parametrize("seed", SEEDS)
def test_funnel_and_conversion_as_the_long_way(seed: int) -> None:
    all_lives = generated_lives(seed)
    names = funnel_stages(CONFIG)
    since, until = TODAY - dt.timedelta(days=200), TODAY
    for window in ((None, None), (since, until)):
        cohort = [lf for lf in all_lives if in_window(lf.created, *window)]
        reach = []
        for lf in cohort:
            seen = [names.index(s.stage) for s in lf.stays if s.stage in names]
            reach.append(max(seen) if seen else 0)
        got = funnel(all_lives, CONFIG, *window)
        assert [f.reached for f in got] == [sum(1 for r in reach if r >= i) for i in range(5)]
        values = [
            sum(lf.deal.value or 0.0 for lf, r in zip(cohort, reach, strict=True) if r >= i)
            for i in range(5)
        ]
        assert [f.value for f in got] == [num(v) for v in values]
        steps = conversion(all_lives, CONFIG, *window)
        assert [(c.reached, c.advanced) for c in steps] == [
            (sum(1 for r in reach if r >= i), sum(1 for r in reach if r > i)) for i in range(4)
        ]


def in_window(day: dt.date | None, since: dt.date | None, until: dt.date | None) -> bool:
    if since is None and until is None:
        return True
    return day is not None and since is not None and until is not None and since <= day <= until


@pytest.mark.parametrize("seed", SEEDS)
def test_one_weights_for_every_figure_weighs_as_probability(seed: int) -> None:
    all_lives = generated_lives(seed)
    weigh = Weights(CONFIG)
    for _ in range(2):  # found, then kept
        assert [weigh(lf.deal) for lf in all_lives] == [
            probability(lf.deal, CONFIG) for lf in all_lives
        ]
    shared = stage_figures(all_lives, CONFIG, frozenset(), weigh)
    assert shared == stage_figures(all_lives, CONFIG)
    for st in shared:
        deals = [lf.deal for lf in all_lives if lf.deal.stage == st.stage]
        weighted = sum((d.value or 0.0) * probability(d, CONFIG) for d in deals)
        assert (st.count, st.weighted_value) == (len(deals), num(weighted))
    assert forecast(all_lives, CONFIG, TODAY, weigh) == forecast(all_lives, CONFIG, TODAY)


@pytest.mark.parametrize("seed", SEEDS)
def test_time_in_stage_as_the_long_way(seed: int) -> None:
    all_lives = generated_lives(seed)
    since = TODAY - dt.timedelta(days=120)
    for window in ((None, None), (since, TODAY), (since, None), (None, since)):
        got = {t.stage: t for t in time_in_stage(all_lives, CONFIG, TODAY, *window)}
        for name in got:
            stays = [s for lf in all_lives for s in lf.stays if s.stage == name]
            ended = [s for s in stays if s.end is not None]
            if window != (None, None):
                lo, hi = window
                ended = [
                    s for s in ended if (lo is None or s.end >= lo) and (hi is None or s.end <= hi)
                ]
            cut = sum(1 for s in ended if s.start is None)
            days = [max(0, (s.end - s.start).days) for s in ended if s.start is not None]
            now = [s for s in stays if s.end is None and s.start is not None and s.start <= TODAY]
            assert (got[name].count, got[name].unknown_count) == (len(days) + cut, cut)
            if not cut and days:
                assert got[name].avg_days == sum(days) / len(days)
            assert got[name].open_count - got[name].open_unknown_count == len(now)
