"""Completeness rules (PL2xx): an open deal needs a value, an owner (of the team) and a next step.

Read-only checks over parsed deals; never prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipectl import tasks
from pipectl.lint.context import Context
from pipectl.lint.model import Finding, Rule, rule
from pipectl.owners import roster_problem


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@rule("PL201", "no-value", "warning", "an open deal without a value")
def no_value(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Every opportunity needs a value, even a rough one: without it the deal counts for
    nothing in the forecast, the coverage check and the board's totals, and nobody can
    tell a big deal from a small one when choosing where to spend the day. Set an
    estimate with `pipectl set DEAL value=12000` and refine it as you learn more."""
    for deal in ctx.open_deals:
        if _absent(deal.fields.get("value")):
            yield ctx.finding(r, deal, "open deal has no value: set an estimate", key="value")


@rule("PL202", "no-owner", "warning", "an open deal without an owner")
def no_owner(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A deal that belongs to nobody is followed up by nobody. Every open deal needs one
    person who answers for its next step. Set it with `pipectl set DEAL owner=NAME`."""
    for deal in ctx.open_deals:
        if _absent(deal.fields.get("owner")):
            yield ctx.finding(r, deal, "open deal has no owner", key="owner")


@rule("PL203", "no-next-step", "warning", "an open deal without a next step")
def no_next_step(ctx: Context, r: Rule) -> Iterator[Finding]:
    """An open deal without a concrete next step is drifting: the practice is to end
    every touchpoint by agreeing what happens next, and to write it down with a date.
    Set one with `pipectl next DEAL "Send the proposal" --due 2026-12-01`; an open entry of
    `tasks:` (`pipectl task add`) counts as one too."""
    for deal in ctx.open_deals:
        entries = [t for t in tasks.open_tasks(deal) if not t.is_next_step]
        if _absent(deal.fields.get("next_step")) and not entries:
            yield ctx.finding(r, deal, "open deal has no next step", key="next_step")


@rule("PL204", "unknown-owner", "warning", "an open deal whose owner is not in the team roster")
def unknown_owner(ctx: Context, r: Rule) -> Iterator[Finding]:
    """When `pipeline.yaml` lists the team (`team:`), an open deal's owner must be one of
    them: a handle, or a name, email or alias that names exactly one member. Anyone else's
    deals fall out of every `--owner` view, agenda included, and the report counts them
    under a name nobody answers to. An inactive member (`active: false`) no longer takes
    deals: hand them on with `pipectl set DEAL owner=HANDLE`. Quiet without a roster."""
    team = ctx.config.team
    if not team:
        return
    for deal in ctx.open_deals:
        owner = deal.fields.get("owner")
        if _absent(owner):
            continue  # PL202's
        problem = roster_problem(team, str(owner))
        if problem is not None:
            yield ctx.finding(r, deal, problem, key="owner")


RULES = (no_value, no_owner, no_next_step, unknown_owner)
