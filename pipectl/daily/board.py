"""The board: a pipeline's deals as columns, one per stage, with their lint flags.

Pure functions over deals, config, lint findings, git's arrivals and "today", returning frozen
values. Never reads files, runs git or prints: the CLI loads the deals and the arrivals (one
`git log` pass for the whole board) and `render.board` lays them out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pipectl import lint, stagetime, tasks
from pipectl.config import Config, Stage
from pipectl.deal import Deal
from pipectl.history import Arrivals
from pipectl.jsonout import amount
from pipectl.owners import owner_matches
from pipectl.rates import Converter, Rates, deal_currency, norm

# Severities that put a flag on a card (info findings do not).
FLAG_SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Card:
    """One deal on the board."""

    id: str
    company: str | None
    owner: str | None
    value: float | None
    days_in_stage: int | None
    warnings: int  # lint findings at warning or error
    worst: str | None  # "error", "warning" or None
    days_unknown: str | None = None  # why days_in_stage is None
    # `value` is in the base currency; a deal in another one keeps its own amount here
    currency: str | None = None  # the deal's currency when it is not the base
    amount: float | None = None  # the deal's value in `currency`
    unconverted: bool = False  # no rate on its day: `value` is None, in no total
    snoozed_until: dt.date | None = None  # asleep until then (the time rules silent)
    open_tasks: int = 0  # the next step and the open entries of `tasks:`
    next_due: dt.date | None = None  # the soonest due date among them


@dataclass(frozen=True)
class Column:
    """One stage of the board with its cards, biggest value first."""

    stage: str
    closed: str | None
    cards: tuple[Card, ...]

    @property
    def count(self) -> int:
        return len(self.cards)

    @property
    def value(self) -> float:
        """The sum of the values the cards have (a card without a value adds nothing)."""
        return float(sum(c.value for c in self.cards if c.value is not None))

    @property
    def unconverted_count(self) -> int:
        return sum(1 for c in self.cards if c.unconverted)


def flags_by_deal(findings: Iterable[lint.Finding]) -> dict[str, tuple[lint.Finding, ...]]:
    """Warnings and errors grouped by deal id; pipeline-wide findings are left out."""
    out: dict[str, list[lint.Finding]] = {}
    for f in findings:
        if f.deal_id is not None and f.severity in FLAG_SEVERITIES:
            out.setdefault(f.deal_id, []).append(f)
    return {k: tuple(v) for k, v in out.items()}


def board(
    deals: Iterable[Deal],
    stages: Sequence[Stage],
    today: dt.date,
    flags: Mapping[str, Sequence[lint.Finding]] | None = None,
    owner: str | None = None,
    *,
    config: Config,
    arrivals: Arrivals,
    rates: Rates | None = None,
) -> tuple[Column, ...]:
    """A column per stage in pipeline order, empty stages included, cards biggest first.

    Days in stage are `stagetime`'s, as lint and the report count them. Values are in the
    base currency through `rates`, at the report's days: today for an open deal, its close
    date for a closed one (`closed:`, else the day it entered its stage). A snoozed deal's
    card says until when (lint, which gives its flags, is silent on its time rules)."""
    flags = flags or {}
    base = norm(config.currency)
    converter = Converter(rates or Rates(base), base)
    by_stage: dict[str, list[Card]] = {s.name: [] for s in stages}
    for d in deals:
        if d.stage not in by_stage or not owner_matches(d, owner, config.team):
            continue
        found = flags.get(d.id, ())
        severities = {f.severity for f in found}
        worst = next((s for s in FLAG_SEVERITIES if s in severities), None)
        entered, why = stagetime.entered(d, config, arrivals)
        days = None if entered is None else max(0, (today - entered).days)
        card = Card(d.id, d.company, d.owner, d.value, days, len(found), worst, why)
        cur = deal_currency(d.fields, base)
        if cur != base and d.value is not None:
            closed = next((s.closed for s in stages if s.name == d.stage), None)
            day = today if closed is None else (d.date("closed") or entered or today)
            value = converter.convert(d.value, cur, day)
            card = Card(
                *(card.id, card.company, card.owner, value, days, len(found), worst, why),
                currency=cur,
                amount=d.value,
                unconverted=value is None,
            )
        soonest = tasks.first_due(d)
        card = replace(
            card,
            snoozed_until=tasks.snoozed_until(d) if tasks.is_snoozed(d, today) else None,
            open_tasks=len(tasks.open_tasks(d)),
            next_due=None if soonest is None else soonest.due,
        )
        by_stage[d.stage].append(card)
    return tuple(
        Column(s.name, s.closed, tuple(sorted(by_stage[s.name], key=_card_order))) for s in stages
    )


def board_json(
    columns: Sequence[Column], today: dt.date, owner: str | None, currency: str = ""
) -> dict[str, Any]:
    """The board as JSON-ready data with stable keys: every stage and every card. Values are
    in `currency` (the base); a card in another currency has its own `amount` too."""
    stages = [
        {
            "stage": c.stage,
            "closed": c.closed,
            "count": c.count,
            "value": amount(c.value),
            "unconverted_count": c.unconverted_count,
            "cards": [
                {
                    "id": k.id,
                    "company": k.company,
                    "owner": k.owner,
                    "value": amount(k.value),
                    "currency": k.currency,
                    "amount": amount(k.amount),
                    "unconverted": k.unconverted,
                    "days_in_stage": k.days_in_stage,
                    "days_unknown": k.days_unknown,
                    "lint_findings": k.warnings,
                    "worst": k.worst,
                    "snoozed_until": None if k.snoozed_until is None else str(k.snoozed_until),
                    "open_tasks": k.open_tasks,
                    "next_due": None if k.next_due is None else str(k.next_due),
                }
                for k in c.cards
            ],
        }
        for c in columns
    ]
    return {"today": today.isoformat(), "owner": owner, "currency": currency, "stages": stages}


def _card_order(card: Card) -> tuple[float, str]:
    return (-(card.value or 0.0), card.id)
