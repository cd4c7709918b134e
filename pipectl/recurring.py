"""Recurring revenue figures: MRR won per month, the open pipeline's ARR, and totals both ways
(one-off plus first-year recurring), from each deal's line items or `mrr:` (lineitems.py).

Pure: the caller brings the lives and a conversion into the report's currency (amounts are
in each deal's own currency until converted). Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipectl.config import Config
from pipectl.figures import Life, Money, num
from pipectl.lineitems import Amounts, amounts

# (amount in the deal's currency, its life) -> the amount in the report's, None: no rate
Convert = Callable[[float, Life], float | None]


@dataclass(frozen=True)
class RecurringMonth:
    """Won deals closed in one month: the monthly recurring revenue they add, their one-off
    revenue and first-year total."""

    month: str
    deals: int
    new_mrr: Money
    one_off: Money
    first_year: Money


@dataclass(frozen=True)
class Recurring:
    """The open pipeline's recurring revenue (MRR, and ARR = 12 × MRR), its one-off part and
    its first-year total (one-off plus up to 12 months of recurring, fewer for a shorter
    term), and what won deals added, per month of their close date."""

    open_mrr: Money
    open_arr: Money
    open_one_off: Money
    open_first_year: Money
    won: tuple[RecurringMonth, ...]


def recurring(
    lives: Sequence[Life],
    config: Config,
    convert: Convert,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Recurring:
    """The figures over the deals that state amounts (line items or `mrr:`); a deal whose
    amounts have no rate into the report's currency counts in none (the report lists it)."""
    open_m = open_once = open_first = 0.0

    def since_ok(day: dt.date) -> bool:
        return since is None or day >= since

    def until_ok(day: dt.date) -> bool:
        return until is None or day <= until

    won: dict[str, list[Amounts]] = defaultdict(list)
    for lf in lives:
        stage = config.stage(lf.deal.stage)
        found = amounts(lf.deal.fields)
        if stage is None or found is None or stage.closed == "lost":
            continue
        monthly, once = convert(found.monthly, lf), convert(found.one_off, lf)
        if monthly is None or once is None:
            continue
        mine = Amounts(once, monthly, found.term_months)
        if stage.closed is None:
            open_m += mine.monthly
            open_once += mine.one_off
            open_first += mine.first_year
        elif lf.closed is not None and since_ok(lf.closed) and until_ok(lf.closed):
            won[f"{lf.closed.year:04d}-{lf.closed.month:02d}"].append(mine)
    return Recurring(
        open_mrr=num(open_m),
        open_arr=num(open_m * 12),
        open_one_off=num(open_once),
        open_first_year=num(open_first),
        won=tuple(
            RecurringMonth(
                month,
                len(rows),
                num(sum(a.monthly for a in rows)),
                num(sum(a.one_off for a in rows)),
                num(sum(a.first_year for a in rows)),
            )
            for month, rows in sorted(won.items())
        ),
    )
