"""An account's business: its deals, won revenue, open pipeline, last touch, next step;
and the customers (accounts with won deals) with their next renewal.

Amounts are in the base currency through the report's own conversion (`report.convert_lives`:
open deals at today's rate, closed ones at their close day's). Pure reading, nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipectl import rates
from pipectl.deal import Deal
from pipectl.figures import Life
from pipectl.records import Record, link_ids
from pipectl.report import convert_lives
from pipectl.store import Pipeline


@dataclass(frozen=True)
class NextStep:
    deal: str
    step: str
    due: dt.date | None


@dataclass(frozen=True)
class AccountView:
    """One account's figures; `deals` carry their values in the base currency (None: no
    rate, counted in no sum, its id in `unconverted`)."""

    account: Record
    deals: tuple[Deal, ...]
    won: float
    open_pipeline: float
    won_deals: int
    open_deals: int
    last_touch: dt.date | None
    next_step: NextStep | None
    next_renewal: dt.date | None
    currency: str
    unconverted: tuple[str, ...]


def account_of(deal: Deal) -> str | None:
    """The account id a deal links to (`account:`), or None."""
    ids = link_ids(deal.fields.get("account"))
    return ids[0] if ids else None


def in_base(
    pipeline: Pipeline, deals: Sequence[Deal], today: dt.date
) -> tuple[list[Deal], tuple[str, ...]]:
    """The deals with their values in the base currency, and the ids of those with no rate."""
    if not deals:
        return [], ()
    config = pipeline.config
    converter = rates.Converter(rates.read_rates(pipeline).checked(), config.currency)
    lives = [Life(d, (), None, d.date("closed")) for d in deals]
    out, missing, _ = convert_lives(lives, config, converter, today)
    return [lf.deal for lf in out], tuple(u.id for u in missing)


def views(
    pipeline: Pipeline, accounts: Iterable[Record], deals: Sequence[Deal], today: dt.date
) -> list[AccountView]:
    """Each account's view, over the deals that link to it."""
    converted, missing = in_base(pipeline, [d for d in deals if account_of(d)], today)
    by_account: dict[str, list[Deal]] = {}
    for deal in converted:
        by_account.setdefault(account_of(deal) or "", []).append(deal)
    return [_view(pipeline, a, by_account.get(a.id, []), set(missing), today) for a in accounts]


def _view(
    pipeline: Pipeline, account: Record, deals: list[Deal], missing: set[str], today: dt.date
) -> AccountView:
    config = pipeline.config
    won = [d for d in deals if _closed(pipeline, d) == "won"]
    open_ = [d for d in deals if _closed(pipeline, d) is None]
    touches = [d.last_touch for d in deals if d.last_touch is not None]
    steps = [NextStep(d.id, d.next_step, d.date("next_step_due")) for d in open_ if d.next_step]
    steps.sort(key=lambda s: (s.due is None, s.due or dt.date.max, s.deal))
    renewals = [r for d in won if (r := d.date("renewal_date")) is not None and r >= today]
    return AccountView(
        account,
        tuple(deals),
        sum(d.value or 0.0 for d in won),
        sum(d.value or 0.0 for d in open_),
        len(won),
        len(open_),
        max(touches) if touches else None,
        steps[0] if steps else None,
        min(renewals) if renewals else None,
        config.currency,
        tuple(sorted(d.id for d in deals if d.id in missing)),
    )


def _closed(pipeline: Pipeline, deal: Deal) -> str | None:
    stage = pipeline.config.stage(deal.stage)
    return stage.closed if stage is not None else None


def customers(views_: Iterable[AccountView]) -> list[AccountView]:
    """The accounts that have won deals, most won revenue first."""
    return sorted((v for v in views_ if v.won_deals), key=lambda v: (-v.won, v.account.id))
