"""Time rules (PL3xx): stale deals, deals stuck in a stage, overdue tasks, missed close
dates, deals past the sales cycle, new leads not contacted; snoozed deals, and snoozes too
long. A snoozed deal is silent to the time rules until its `snoozed_until` (tasks.py): they
see `ctx.awake_deals`. Read-only; never prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

from pipectl import stagetime, tasks
from pipectl.deal import Deal
from pipectl.lint.context import Context
from pipectl.lint.model import Finding, Option, Rule, rule


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def last_activity(deal: Deal) -> dt.date | None:
    """The last touchpoint, else the day the deal entered its stage, else its creation."""
    return deal.last_touch or deal.date("stage_entered") or deal.date("created")


@rule(
    "PL301",
    "stale",
    "warning",
    "no touchpoint for longer than the stage allows (rotting)",
    options=(
        Option(
            "days",
            "int",
            14,
            "Days without a touchpoint before an open deal counts as stale.",
            stage_defaults={"closing": 7},
        ),
    ),
)
def stale(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A deal nobody has touched for weeks is rotting: the buyer's attention has moved on.
    Keep a cadence of touchpoints and record every one. The clock runs from the last
    touchpoint (or, with none, from `stage_entered`, else `created`); the limit is 14 days,
    7 in closing, where silence costs most. Log the next contact with `pipectl log`; if the
    deal is dead, close it as lost."""
    for deal in ctx.awake_deals:
        since = last_activity(deal)
        limit = ctx.setting(r, "days", deal.stage)
        if since is None or limit <= 0:
            continue
        idle = (ctx.today - since).days
        if idle > limit:
            msg = f"no touchpoint for {idle} days (limit {limit} in {deal.stage}): follow up"
            key = "touchpoints" if deal.last_touch else "created"
            yield ctx.finding(r, deal, msg, key=key)


@rule(
    "PL302",
    "stuck-in-stage",
    "warning",
    "in its stage longer than the stage's limit (proposals must not linger)",
    options=(
        Option(
            "days",
            "int",
            30,
            "Days a deal may stay in one stage; 0 means no limit.",
            stage_defaults={"closing": 14},
        ),
    ),
    history=True,
)
def stuck_in_stage(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Deals should keep moving between stages; a proposal or negotiation that lingers
    is usually lost without anyone saying so. Time in stage comes from `stage_entered`
    (set by `pipectl move`); in the first stage from `created`; failing both, from the
    git history (one `git log` pass). A move made by hand (`git mv`) leaves
    `stage_entered` behind: when git saw the file arrive in its folder by hand later, that
    arrival counts. When none of these can tell, for instance in a shallow CI clone, the
    rule says so as an info finding instead of guessing. Limits: 30 days per stage, 14 in
    closing. Advance the deal, or close it."""
    for deal in ctx.awake_deals:
        limit = ctx.setting(r, "days", deal.stage)
        if limit <= 0:
            continue
        claim, _ = stagetime.claimed(deal, ctx.config)
        if claim is not None and (ctx.today - claim).days <= limit:
            continue  # a move by hand only shortens the stay: no need to ask git
        entered, why = ctx.stage_entered(deal)
        if entered is None:
            f = ctx.finding(r, deal, f"cannot tell time in {deal.stage}: {why}", line=1)
            if f.severity != "off":
                yield dataclasses.replace(f, severity="info")
            continue
        days = (ctx.today - entered).days
        if days > limit:
            msg = f"{_plural(days, 'day')} in {deal.stage} (limit {limit}): advance or close it"
            key = "stage_entered" if "stage_entered" in deal.lines else "created"
            yield ctx.finding(r, deal, msg, key=key)


@rule(
    "PL303",
    "overdue-next-step",
    "warning",
    "a task's due date has passed (the next step or one of `tasks:`)",
    options=(
        Option(
            "grace_days", "int", 0, "Days after the due date before the step counts as overdue."
        ),
    ),
)
def overdue_next_step(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A task past its due date is a promise to the buyer that was not kept. Every open task
    counts: the next step (`next_step_due`) and each entry of `tasks:` without a `done:`
    date, one finding each, at its line. Do it and mark it done (`pipectl task done DEAL N
    --log call`), or agree a new date: `pipectl next DEAL STEP --due DATE`."""
    for deal in ctx.awake_deals:
        for task in tasks.overdue_tasks(deal, ctx.today, ctx.setting(r, "grace_days", deal.stage)):
            late = task.days_late(ctx.today) or 0
            msg = f"{task.summary!r} was due {task.due} ({_plural(late, 'day')} ago)"
            line = None if task.index is None else ctx.locate(deal, (tasks.TASKS_KEY, task.index))
            yield ctx.finding(r, deal, msg, key=task.key, line=line)


def days_overdue(deal: Deal, today: dt.date, grace_days: int) -> int | None:
    """Days the deal's latest open task is late, when that is more than the grace; else None.
    PL303's test, shared by `pipectl list --overdue` (through `lint.is_overdue`)."""
    late = [t.days_late(today) or 0 for t in tasks.overdue_tasks(deal, today, grace_days)]
    return max(late) if late else None


@rule(
    "PL304",
    "missed-close-date",
    "warning",
    "expected close date passed, deal still open",
    options=(
        Option("grace_days", "int", 0, "Days after expected_close before the deal counts as late."),
    ),
)
def missed_close_date(ctx: Context, r: Rule) -> Iterator[Finding]:
    """The expected close date drives the forecast. When it passes and the deal is still
    open, the forecast is wrong: close the deal as won or lost, or set a new date that you
    believe with `pipectl set DEAL expected_close=DATE`."""
    for deal in ctx.awake_deals:
        close = deal.date("expected_close")
        if close is None:
            continue
        late = (ctx.today - close).days
        if late > ctx.setting(r, "grace_days", deal.stage):
            msg = f"expected to close {close.isoformat()} ({_plural(late, 'day')} ago), still open"
            yield ctx.finding(r, deal, msg, key="expected_close")


@rule(
    "PL305",
    "past-sales-cycle",
    "warning",
    "older than the accepted sales cycle: send a last chance, then let go",
    options=(
        Option("days", "int", 90, "Accepted length of the sales cycle, counted from `created`."),
    ),
)
def past_sales_cycle(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Deals older than the usual sales cycle rarely close, and they crowd the pipeline and
    inflate the forecast. Clear out dead leads on a regular cadence: send a last-chance
    message ("should I close your file?"), and if nothing comes back, close the deal as
    lost (`pipectl sweep` does both). The cycle is 90 days from `created` by default."""
    for deal in ctx.awake_deals:
        created = deal.date("created")
        limit = ctx.setting(r, "days", deal.stage)
        if created is None or limit <= 0:
            continue
        age = (ctx.today - created).days
        if age > limit:
            msg = (
                f"open for {age} days, past the {limit}-day sales cycle: "
                "send a last-chance message, then close it"
            )
            yield ctx.finding(r, deal, msg, key="created")


@rule(
    "PL306",
    "slow-first-contact",
    "warning",
    "a new lead not contacted within the speed-to-lead window",
    options=(
        Option("days", "int", 2, "Days from `created` within which a new lead must be contacted."),
        Option(
            "ignore_kinds",
            "words",
            ["note"],
            "Touchpoint kinds that are not contact with the lead.",
            per_stage=False,
        ),
    ),
)
def slow_first_contact(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Speed to lead: the odds of reaching a new lead fall sharply after the first day or
    two. An open deal with no contact (a touchpoint other than a note) more than 2 days
    after `created` fires this rule. Call or write to the lead today and log it."""
    ignore = set(ctx.setting(r, "ignore_kinds"))
    for deal in ctx.awake_deals:
        created = deal.date("created")
        if created is None or any(t.kind not in ignore for t in deal.touchpoints):
            continue
        limit = ctx.setting(r, "days", deal.stage)
        waited = (ctx.today - created).days
        if waited > limit:
            msg = f"not contacted {_plural(waited, 'day')} after it came in (limit {limit})"
            yield ctx.finding(r, deal, msg, key="created")


@rule("PL307", "snoozed", "info", "snoozed: the time rules are silent for it until a date")
def snoozed(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A deal snoozed with `pipectl snooze DEAL --until DATE` is paused on purpose (a budget
    frozen until January, a buyer on leave): until that day the time rules (PL301 to PL306,
    PL501) stay silent for it, and lint says so here instead. From that day they apply
    again. Wake it early with `pipectl unsnooze DEAL`."""
    for deal in ctx.open_deals:
        if tasks.is_snoozed(deal, ctx.today):
            yield ctx.finding(r, deal, tasks.snooze_note(deal), key=tasks.SNOOZED_UNTIL)


@rule("PL308", "long-snooze", "warning", "snoozed further ahead than `snooze.max_days` allows")
def long_snooze(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A snooze hides a deal from every time rule; a long one is how deals die unseen.
    `snooze.max_days` in pipeline.yaml (90 by default, 0: no limit) is the longest a deal
    may be snoozed ahead of today. Snooze it for less and look again then, or close it."""
    limit = ctx.config.snooze_max_days
    for deal in ctx.open_deals:
        until = tasks.snoozed_until(deal)
        if limit <= 0 or until is None or (until - ctx.today).days <= limit:
            continue
        ahead = (until - ctx.today).days
        msg = f"snoozed {ahead} days ahead (until {until}), longer than snooze.max_days {limit}"
        yield ctx.finding(r, deal, msg, key=tasks.SNOOZED_UNTIL)


RULES = (
    stale,
    stuck_in_stage,
    overdue_next_step,
    missed_close_date,
    past_sales_cycle,
    slow_first_contact,
    snoozed,
    long_snooze,
)
