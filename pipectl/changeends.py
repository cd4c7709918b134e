"""What `pipectl changes` reads of each end of its window (pipectl/changes.py): one row per
deal file, with all that the waterfall, the stale list and the currency notes read of it, in
plain data, so a later run over the same window keeps the rows of the files whose blobs did
not change (caches/windows.py) and re-reads only the others.

A row is (id, stage, state, value, owner, idle since, stale from, converted from, no rate):
the waterfall's state (`waterfall.mark`: absent, in, out, won, lost) and the value in the base
currency (the report's rule: an open deal at the end's day's rate, a closed one at its close
date's), lint's PL301 days of an open deal as ordinals (None: the rule does not apply), the
currency its value was converted from, whether no rate was found. A file that did not parse
has for its row a list: its id and the error's text. Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from pipectl import rates
from pipectl.asof import PipelineAt
from pipectl.caches.briefs import BriefCache
from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.errors import DealError
from pipectl.figures import Life
from pipectl.report import convert_lives
from pipectl.store import DealRef
from pipectl.waterfall import mark

Row = tuple[Any, ...] | list[str]
# lint's PL301 for a deal, told by the caller (the kernel does not import lint): the day its
# idleness counts from and the first day it is stale; None when the rule does not apply
StaleFrom = Callable[[Deal, Config], "tuple[dt.date, dt.date] | None"]
ID, STAGE, STATE, VALUE, OWNER, IDLE, STALE, CONVERTED, NO_RATE = range(9)


def rows(
    end: PipelineAt,
    refs: Sequence[DealRef],
    briefs: BriefCache,
    day: dt.date,
    close_by: dt.date | None,
    stale_from: StaleFrom,
) -> list[Row]:
    """The rows of these deal files of `end`, in order; values in the base currency at `day`."""
    items = end.brief_items(refs, briefs)
    deals = [d for d in items if isinstance(d, Deal)]
    based = iter(_in_base(end, deals, end.config, day))
    out: list[Row] = []
    for ref, item in zip(refs, items, strict=True):
        if isinstance(item, DealError):
            out.append([ref.id, str(item)])
            continue
        deal, converted, no_rate = next(based)
        state, value = mark(deal, end.config, close_by)
        idle = stale_from(deal, end.config) if state in ("in", "out") else None
        since, stale = (None, None) if idle is None else (idle[0], idle[1])
        out.append(
            (
                deal.id,
                deal.stage,
                state,
                value,
                deal.owner,
                None if since is None else since.toordinal(),
                None if stale is None else stale.toordinal(),
                converted,
                no_rate,
            )
        )
    return out


def _in_base(
    pipeline: PipelineAt, deals: Sequence[Deal], config: Config, day: dt.date
) -> list[tuple[Deal, str | None, bool]]:
    """Each deal with its value in the base currency, the currency converted from (None: it
    was in the base currency, or had no value), whether no rate was found (value None: counted,
    in no sum)."""
    if not deals:
        return []
    converter = rates.Converter(rates.read_rates(pipeline).checked(), config.currency)
    target = rates.norm(converter.target)
    out: list[tuple[Deal, str | None, bool]] = []
    for deal in deals:
        # most deals are in the base currency already: only the others go through the
        # report's conversion (one at a time, so each row knows its own currency)
        if rates.deal_currency(deal.fields, config.currency) == target:
            out.append((deal, None, False))
            continue
        life = Life(deal, (), None, deal.date("closed"))
        lives, missing, converted = convert_lives([life], config, converter, day)
        out.append((lives[0].deal, converted[0] if converted else None, bool(missing)))
    return out
