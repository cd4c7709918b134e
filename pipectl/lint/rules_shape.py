"""Pipeline-shape rules (PL6xx): too many deals in a stage, a bottleneck, a thin top of
the funnel, too little pipeline for the quota. Findings point at pipeline.yaml; never prints.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator

from pipectl.errors import ConfigError
from pipectl.lint.context import CONFIG_PATH, Context
from pipectl.lint.model import Finding, Option, Rule, rule
from pipectl.lint.settings import severity
from pipectl.money import money
from pipectl.quotas import TEAM_ROW, Attainment
from pipectl.rates import RATES_FILE, Converter, Rates, deal_currency, norm
from pipectl.report import quota_figures


def _stage_line(ctx: Context, r: Rule) -> int:
    """Point at the rule's own settings when pipeline.yaml has them, else at `stages:`."""
    for key in (r.name, r.code):
        if key in ctx.config.rules:
            return ctx.config_line("rules", key)
    return ctx.config_line("stages")


@rule(
    "PL601",
    "stage-over-capacity",
    "warning",
    "more open deals in a stage than its limit (e.g. 50 deals in closing at once)",
    options=(
        Option(
            "max_open",
            "int",
            0,
            "Most open deals a stage may hold; 0 means no limit.",
            stage_defaults={"closing": 10},
        ),
    ),
)
def stage_over_capacity(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A team can only give real attention to so many deals at the closing table at once;
    fifty proposals out means most of them are not being worked. Each open stage may have
    a limit (`max_open`): none by default, 10 in closing. Close out or step back the
    deals that are not really closing."""
    counts = Counter(d.stage for d in ctx.open_deals)
    for stage in ctx.config.open_stages:
        limit = ctx.setting(r, "max_open", stage.name)
        if limit and counts[stage.name] > limit:
            msg = f"{counts[stage.name]} open deals in {stage.name} (limit {limit})"
            f = ctx.finding(r, CONFIG_PATH, msg, line=_stage_line(ctx, r))
            yield _at_stage(ctx, r, f, stage.name)


def _at_stage(ctx: Context, r: Rule, f: Finding, stage: str) -> Finding:
    """A pipeline-wide finding takes the severity configured for the stage it is about."""
    return dataclasses.replace(f, severity=severity(ctx.config, r, stage))


@rule(
    "PL602",
    "bottleneck",
    "warning",
    "one stage holds too large a share of all open deals",
    options=(
        Option(
            "max_share",
            "number",
            0.5,
            "Largest share (0 to 1) of all open deals one stage may hold.",
        ),
        Option(
            "min_open",
            "int",
            10,
            "Open deals the pipeline needs before shares mean anything.",
            per_stage=False,
        ),
    ),
)
def bottleneck(ctx: Context, r: Rule) -> Iterator[Finding]:
    """When one stage holds more than half of all open deals, deals are piling up there
    instead of moving: a qualification backlog, proposals nobody follows up. Checked only
    once the pipeline has at least 10 open deals. A healthy funnel is widest at the top;
    if your first stage is meant to hold most deals, raise its `max_share` under `stages:`."""
    open_deals = ctx.open_deals
    total = len(open_deals)
    if total < ctx.setting(r, "min_open") or total == 0:
        return
    counts = Counter(d.stage for d in open_deals)
    for stage in ctx.config.open_stages:
        share = counts[stage.name] / total
        limit = ctx.setting(r, "max_share", stage.name)
        if share > limit:
            msg = (
                f"{stage.name} holds {counts[stage.name]} of {total} open deals "
                f"({share:.0%}, limit {limit:.0%}): deals are piling up there"
            )
            f = ctx.finding(r, CONFIG_PATH, msg, line=_stage_line(ctx, r))
            yield _at_stage(ctx, r, f, stage.name)


@rule(
    "PL603",
    "thin-funnel",
    "warning",
    "too few deals at the front of the pipeline",
    options=(
        Option(
            "min_deals", "int", 5, "Fewest open deals the front stage must hold.", per_stage=False
        ),
        Option(
            "stage",
            "stage",
            "",
            "The front stage to count; empty means the first stage.",
            per_stage=False,
        ),
    ),
)
def thin_funnel(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Keep the front of the pipeline full: most leads never close, so today's prospecting
    is next quarter's revenue. Fires when the first stage (or `stage`) holds fewer than 5
    open deals. Spend time on prospecting before the later stages run dry."""
    front = ctx.setting(r, "stage") or (ctx.config.stage_names[0] if ctx.config.stages else "")
    if ctx.config.stage(front) is None:
        return
    count = sum(1 for d in ctx.open_deals if d.stage == front)
    limit = ctx.setting(r, "min_deals")
    if count < limit:
        deals = "deal" if count == 1 else "deals"
        msg = f"only {count} open {deals} in {front} (at least {limit}): prospect more"
        yield ctx.finding(r, CONFIG_PATH, msg, line=_stage_line(ctx, r))


@rule(
    "PL604",
    "low-coverage",
    "warning",
    "weighted open value below the coverage target for the quota",
    options=(
        Option(
            "ratio", "number", 3.0, "Open value needed, as a multiple of `quota`.", per_stage=False
        ),
        Option(
            "weighted",
            "bool",
            True,
            "Weigh each deal's value by its win probability.",
            per_stage=False,
        ),
    ),
    scope="all",  # a quota's period counts what was won in it
)
def low_coverage(ctx: Context, r: Rule) -> Iterator[Finding]:
    """With a `quota` in pipeline.yaml, the open pipeline must cover it several times over,
    because most deals will not close: by default the open value, each deal weighted by
    its probability (its own `probability`, else its stage's), must reach 3× the quota. Set
    `weighted: false` to compare the plain open value instead. The quota and the sum are in
    `base_currency`: a deal in another currency counts at today's rate from `rates.csv`, one
    with no rate counts nothing (PL605 names it). Without a quota this rule is silent. Fill
    the pipeline, or revisit the quota.

    With quotas by period (`quotas:`, and each rep's under `team:`), the period that holds
    today counts instead, for the team and for each rep: the open deals expected to close in
    it must cover what is still to win of its quota (quota − won so far) by the same ratio;
    these are the figures `pipectl report` shows (docs/forecast.md)."""
    if ctx.config.quotas or any(m.quotas for m in ctx.config.team):
        rows = [q for q in _quota_rows(ctx) if q.current]
        if rows:
            yield from _period_coverage(ctx, r, rows)
            return
    quota = ctx.config.quota
    if not quota:
        return
    weighted = ctx.setting(r, "weighted")
    ratio = ctx.setting(r, "ratio")
    converter = Converter(_rates(ctx), ctx.config.currency)
    total = 0.0
    lacking = 0
    for deal in ctx.open_deals:
        value = deal.value
        if value is None:
            continue
        value = converter.convert(value, deal_currency(deal.fields, ctx.config.currency), ctx.today)
        if value is None:
            lacking += 1
            continue
        stage = ctx.config.stage(deal.stage)
        p = deal.probability
        if p is None:
            p = stage.probability if stage is not None else 0.0
        total += value * p if weighted else value
    target = quota * ratio
    if total < target:
        kind = "weighted open value" if weighted else "open value"
        cur = ctx.config.currency
        msg = (
            f"{kind} {money(total)} {cur} is {total / quota:.2f}× the quota of "
            f"{money(quota)} {cur} (target {ratio:g}×, {money(target)} {cur})"
        )
        if lacking:
            msg += f"; {lacking} open deal{'s' if lacking > 1 else ''} with no rate not counted"
        yield ctx.finding(r, CONFIG_PATH, msg, line=ctx.config_line("quota"))


def _quota_rows(ctx: Context) -> tuple[Attainment, ...]:
    deals = [d for d in ctx.deals if ctx.config.stage(d.stage) is not None]
    entered = lambda d: ctx.stage_entered(d)[0]  # noqa: E731
    return quota_figures(deals, ctx.config, _rates(ctx), ctx.today, entered)


def _period_coverage(ctx: Context, r: Rule, rows: list[Attainment]) -> Iterator[Finding]:
    weighted = ctx.setting(r, "weighted")
    ratio = ctx.setting(r, "ratio")
    cur = ctx.config.currency
    handles = [m.handle for m in ctx.config.team]
    for q in rows:
        have = q.weighted_open if weighted else q.open_value
        if not q.remaining or have >= q.remaining * ratio:
            continue
        kind = "weighted open value" if weighted else "open value"
        msg = (
            f"{q.owner}: {kind} {money(have)} {cur} expected to close in {q.period} is "
            f"{have / q.remaining:.2f}× the {money(q.remaining)} {cur} still to win of the "
            f"{money(q.quota)} {cur} quota (target {ratio:g}×)"
        )
        if q.owner == TEAM_ROW:
            line = ctx.config_line("quotas" if ctx.config.quotas else "team")
        else:
            line = ctx.config_line("team", handles.index(q.owner), "quotas")
        yield ctx.finding(r, CONFIG_PATH, msg, line=line)


def _rates(ctx: Context) -> Rates:
    """The rate table, or an empty one when it cannot be read (PL107 says why)."""
    try:
        return ctx.rates()
    except ConfigError:
        return Rates(ctx.config.currency)


@rule(
    "PL605",
    "no-rate",
    "warning",
    "a deal in a currency that rates.csv has no rate for on the day it converts at",
    scope="all",
)
def no_rate(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Every total is in `base_currency`; a deal in another currency is converted through
    the dated rate table `rates.csv` beside pipeline.yaml, an open deal at today's rate and
    a won or lost one at the rate of its close date. A deal whose currency has no rate on
    that day (none at all, or only rates from a later day: a gap at the start of the
    table) is counted but left out of every sum, so the totals say less than the pipeline
    holds. Add a row `CURRENCY,FROM,RATE` (units of the base currency per unit) from that
    day or earlier. See docs/forecast.md."""
    rates = _rates(ctx)
    base = norm(ctx.config.currency)
    for deal in ctx.deals:
        cur = deal_currency(deal.fields, base)
        if deal.value is None or cur == base:
            continue
        stage = ctx.config.stage(deal.stage)
        day = ctx.today
        if stage is not None and stage.closed is not None:
            day = deal.date("closed") or ctx.stage_entered(deal)[0] or ctx.today
        if rates.rate(cur, day) is not None:
            continue
        first = rates.first_day(cur)
        if first is None:
            why = f"{RATES_FILE} has no rate for {cur}"
        else:
            why = f"{cur} has no rate on {day} (its first in {RATES_FILE} holds from {first})"
        yield ctx.finding(r, deal, f"{why}: its value is in no total", key="currency")


RULES = (stage_over_capacity, bottleneck, thin_funnel, low_coverage, no_rate)
