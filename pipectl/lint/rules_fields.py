"""Completeness rules (PL2xx): an open deal needs a value, an owner (of the team) and a next
step; a value agrees with its line items, and they with the products catalogue.

Read-only checks over parsed deals; never prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipectl import lineitems, tasks
from pipectl.errors import ConfigError
from pipectl.lineitems import MAX_PRODUCTS_BYTES, PRODUCTS_FILE
from pipectl.lint.context import Context
from pipectl.lint.model import Finding, Rule, rule
from pipectl.owners import roster_problem
from pipectl.rates import beside_text


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@rule("PL201", "no-value", "warning", "an open deal without a value")
def no_value(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Every opportunity needs a value, even a rough one: without it the deal counts for
    nothing in the forecast, the coverage check and the board's totals, and nobody can
    tell a big deal from a small one when choosing where to spend the day. Set an
    estimate with `pipectl set DEAL value=12000` and refine it as you learn more; priced
    `line_items:` give the deal its value too."""
    for deal in ctx.open_deals:
        if _absent(deal.fields.get("value")) and lineitems.items_value(deal.fields) is None:
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


@rule(
    "PL205",
    "value-disagrees",
    "warning",
    "a deal whose value is not what its line items come to",
    scope="all",
)
def value_disagrees(ctx: Context, r: Rule) -> Iterator[Finding]:
    """With `line_items:`, a deal is worth what its items come to (one-off items once,
    monthly ones for `term_months`, 12 by default): a `value:` that says otherwise leaves two
    answers to what the deal is worth, and every figure takes the stated one. Remove `value`
    (the items then decide) or mend the items. See docs/forecast.md."""
    for deal in ctx.deals:
        if "line_items" in deal.fields:
            problem = lineitems.value_problem(deal.fields, _stated(deal.fields.get("value")))
            if problem is not None:
                yield ctx.finding(r, deal, problem, key="value")


def _stated(value: Any) -> float | None:
    return None if isinstance(value, bool) or not isinstance(value, int | float) else value


@rule(
    "PL206",
    "unbacked-line-item",
    "warning",
    "a line item with no price, or one the products catalogue does not list",
    scope="all",
)
def unbacked_line_item(ctx: Context, r: Rule) -> Iterator[Finding]:
    """An item without `unit_price` gives the deal no value (the file must say what it
    sells for: the price agreed, not a list price that may change). With a catalogue,
    `products.csv` beside pipeline.yaml (`product,unit_price,recurring`), every item must
    name one of its products and be billed as it is (`monthly` or `one-off`); a row of the
    catalogue that cannot be read is reported at its line. Add the price, or the product."""
    try:
        text = beside_text(ctx.pipeline, PRODUCTS_FILE, MAX_PRODUCTS_BYTES, "products catalogue")
    except ConfigError as exc:
        yield ctx.finding(r, PRODUCTS_FILE, exc.message, line=1)
        return
    products, bad = lineitems.load_products(text or "")
    for line, message in bad:
        yield ctx.finding(r, PRODUCTS_FILE, message, line=line)
    for deal in ctx.deals:
        for i, message in lineitems.catalogue_problems(deal.fields.get("line_items"), products):
            yield ctx.finding(r, deal, message, line=ctx.locate(deal, ("line_items", i)))


RULES = (no_value, no_owner, no_next_step, unknown_owner, value_disagrees, unbacked_line_item)
