"""What `pipectl changes` reads of a deal at either end of its window, by git blob id, across
runs: a busy week changes most deals, so each end holds some 20,000 blobs the other lacks, and
decoding each as a whole deal (fields, touchpoints, key lines) was a third of the run. The
ends' figures need nine things of a deal; a brief holds them and decodes in a twentieth of the
time.

A brief is what the deal's own readers answer (`Deal.title`, `.owner`, `.value`, `.date`,
`.last_touch`, the raw `currency`), so a `light` deal made from it answers those readers
exactly as the deal did: the waterfall, the base-currency conversion and the stale rule read
nothing else. A deal whose currency is not plain data gets no brief (its reader uses the
whole deal). Kept as caches/facts.py's `EntryCache` keeps its entries (keyed by content, so
never stale; checked for shape when read). Never trusted, never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pipectl import dates
from pipectl.caches import framed
from pipectl.caches.facts import EntryCache
from pipectl.deal import Deal

KIND = framed.Kind(b"PIPECTL-DEALBRIEF\x00", 1)
_WHAT = "\0briefs"  # not a stage: the key of the environment alone (caches.deals._key)
_DATES = ("expected_close", "stage_entered", "created", "closed")
# a raw currency of these types is kept as it is: what deal_currency and changes' currency
# list make of it (its text, its truth) survives marshal
_PLAIN = (str, int, float, bool, type(None))

# (title, owner, currency, value, expected_close, stage_entered, created, closed, last_touch),
# the dates as ordinals
Brief = tuple[Any, ...]


def brief(deal: Deal) -> Brief | None:
    """The brief of a deal, or None when its currency is not plain data."""
    currency = deal.fields.get("currency")
    if type(currency) not in _PLAIN:
        return None
    title = deal.title
    days = [_ordinal(deal.date(key)) for key in _DATES]
    return (
        None if title == deal.id else title,
        deal.owner,
        currency,
        deal.value,
        *days,
        _ordinal(deal.last_touch),
    )


def light(found: Brief, deal_id: str, stage: str, folder: Path) -> Deal:
    """A deal that answers the brief's readers as the deal it was made from, its file
    `<deal_id>.md` in `folder` (shared by the stage's deals: no Path made per deal)."""
    title, owner, currency, value, *days, last = found
    fields: dict[str, Any] = {"value": value}
    if title is not None:
        fields["title"] = title
    if owner is not None:
        fields["owner"] = owner
    if currency is not None:
        fields["currency"] = currency
    for key, day in zip(_DATES, days, strict=True):
        if day is not None:
            fields[key] = _day(day)
    if last is not None:
        fields["touchpoints"] = [{"date": _day(last)}]
    return Deal.at(deal_id, stage, folder, fields, _NO_LINES)


_NO_LINES: Mapping[str, int] = MappingProxyType({})


_day = dates.from_ordinal


def _ordinal(day: dt.date | None) -> int | None:
    return None if day is None else day.toordinal()


_TEXT, _NUMBER, _DAY = {str, type(None)}, {float, type(None)}, {int, type(None)}
_SHAPE = (_TEXT, _TEXT, set(_PLAIN), _NUMBER, _DAY, _DAY, _DAY, _DAY, _DAY)
_MAX_DAY = dt.date.max.toordinal()


def _valid(_oid: str, found: Any) -> bool:
    if type(found) is not tuple or len(found) != len(_SHAPE):
        return False
    if not all(type(v) in allowed for v, allowed in zip(found, _SHAPE, strict=True)):
        return False
    return all(d is None or 0 < d <= _MAX_DAY for d in found[4:])


class BriefCache(EntryCache):
    """`get` a blob's brief an earlier run made, `put` this run's, `save` once."""

    def __init__(self, git_dir: Path | None):
        super().__init__(git_dir, "briefs.bin", KIND, _WHAT, _valid)
