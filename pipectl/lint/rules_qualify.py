"""Qualification and outreach rules (PL4xx, PL5xx): deals past the gate without every
criterion met, effort sunk into unqualified deals, outreach nobody answers. Never prints.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.lint.context import Context
from pipectl.lint.model import Finding, Option, Rule, rule
from pipectl.schema import for_config


def unmet_criteria(deal: Deal, config: Config) -> list[str]:
    """The qualification criteria of pipeline.yaml the deal does not meet, in config order."""
    return for_config(config).unmet_criteria(deal.fields)


def _past_gate(deal: Deal, config: Config) -> bool:
    return for_config(config).past_gate(deal.stage)


@rule(
    "PL401", "unqualified", "error", "at or past the qualification gate without every criterion met"
)
def unqualified(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Qualify leads before investing in them. From the gate stage on (`qualification.gate`
    in pipeline.yaml, connecting by default) an open deal must meet every criterion in
    `qualification.criteria` (budget, need, fit, timeline by default). A criterion is met
    when its key under `qualification:` holds evidence: not false, "no", empty or "tbd".
    Record the evidence (`pipectl set DEAL qualification.budget="15k approved"`), or move
    the deal back to qualifying until you have it."""
    for deal in ctx.open_deals:
        if not _past_gate(deal, ctx.config):
            continue
        missing = unmet_criteria(deal, ctx.config)
        if missing:
            msg = f"in {deal.stage} but not qualified: no {', '.join(missing)}"
            key = "qualification" if "qualification" in deal.lines else None
            yield ctx.finding(r, deal, msg, key=key)


@rule(
    "PL402",
    "effort-on-unqualified",
    "warning",
    "many touchpoints invested in a deal that is still unqualified",
    options=(
        Option(
            "max_touchpoints",
            "int",
            5,
            "Touchpoints an unqualified deal may take before this fires.",
        ),
    ),
)
def effort_on_unqualified(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Time is the scarcest thing a rep has. A deal with more than 5 touchpoints that still
    does not meet every qualification criterion is soaking up effort on a lead that may
    never buy. Find out what is missing (budget? timeline?) on the next call, or let the
    deal go."""
    for deal in ctx.open_deals:
        count = len(deal.touchpoints)
        limit = ctx.setting(r, "max_touchpoints", deal.stage)
        if count <= limit:
            continue
        missing = unmet_criteria(deal, ctx.config)
        if missing:
            msg = f"{count} touchpoints (limit {limit}) and still no {', '.join(missing)}"
            yield ctx.finding(r, deal, msg, key="touchpoints")


@rule(
    "PL501",
    "unanswered-outreach",
    "warning",
    "this many attempts in a row without a reply: last chance, then cut",
    options=(
        Option(
            "attempts",
            "int",
            6,
            "Unanswered attempts in a row that make a lead a candidate to cut.",
        ),
        Option(
            "attempt_kinds",
            "words",
            ["call", "email", "message"],
            "Touchpoint kinds that count as an outreach attempt.",
            per_stage=False,
        ),
    ),
)
def unanswered_outreach(ctx: Context, r: Rule) -> Iterator[Finding]:
    """After a handful of calls, emails and messages with no answer, more of the same rarely
    works. When the latest 6 attempts in a row (kinds in `attempt_kinds`) have no reply
    (an outcome not in `touchpoints.reply_outcomes`), send a last-chance message and, if
    that goes unanswered too, close the deal as lost (`pipectl sweep`). A meeting, a demo
    or any reply resets the count; notes are skipped."""
    kinds = set(ctx.setting(r, "attempt_kinds"))
    replies = set(ctx.config.reply_outcomes)
    for deal in ctx.awake_deals:  # a snoozed deal is not chased
        limit = ctx.setting(r, "attempts", deal.stage)
        if limit <= 0:
            continue
        run = unanswered_run(deal, kinds, replies)
        if run >= limit:
            raw = deal.fields.get("touchpoints")
            count = len(raw) if isinstance(raw, list) else 0
            line = ctx.locate(deal, ("touchpoints", count - 1)) if count else None
            msg = f"{run} attempts in a row without a reply: send a last chance, then close it"
            yield ctx.finding(r, deal, msg, key="touchpoints", line=line)


def unanswered_run(deal: Deal, kinds: set[str], replies: set[str]) -> int:
    """How many of the latest touchpoints in a row are attempts nobody answered."""
    run = 0
    for t in reversed(deal.touchpoints):
        if t.kind == "note":
            continue
        if t.kind not in kinds or (t.outcome is not None and t.outcome in replies):
            break
        run += 1
    return run


RULES = (unqualified, effort_on_unqualified, unanswered_outreach)
