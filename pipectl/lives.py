"""A deal's life: its stays in stages, from its git history, with the days it was created
and closed; what every figure of the report reads (pipectl/figures.py). Never reads files,
runs git, or prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pipectl import stagetime
from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.history import CREATED, DELETED, MOVED, History, Stop


class Stay(NamedTuple):
    """A deal's time in one stage: from `start` (None: unknown) until `end` (None: it is
    still there). A named tuple, not a dataclass: a report makes one per stay of every deal
    (~50,000), and a frozen dataclass takes twice as long to make."""

    stage: str
    start: dt.date | None
    end: dt.date | None = None


@dataclass(frozen=True)
class Life:
    """What the figures need of one deal: the deal, its stays, created and closed dates."""

    deal: Deal
    stays: tuple[Stay, ...]
    created: dt.date | None
    closed: dt.date | None
    why_unknown: str | None = None  # why the current stay's start is unknown

    @property
    def current(self) -> Stay | None:
        return self.stays[-1] if self.stays and self.stays[-1].end is None else None


def lives(deals: Iterable[Deal], hist: History, config: Config) -> list[Life]:
    """Each deal with its stays from git moves; the current stay starts when `stagetime`
    says the deal entered its stage (over the same history: git is read once)."""
    arrivals = stagetime.arrivals_of(hist)
    return [life_of(d, hist.stops(d.id), stagetime.entered(d, config, arrivals)) for d in deals]


def life_of(deal: Deal, events: Sequence[Stop], entered: stagetime.Entered) -> Life:
    """The deal's stays: finished ones from its git moves (`History.stops`), the current one
    from `entered`.
    The stay the deal left for its current one ends when the current one began, as
    `stagetime` tells it: a move recorded later than it happened (`move --date`, a backdated
    `stage_entered`) ends the stay before it on that day, not on its commit's."""
    stays: list[Stay] = []
    # the stay the events leave the deal in, as two names: a Stay made only once it ends
    open_stage: str | None = None
    open_start: dt.date | None = None
    left: int | None = None  # the stay the deal left by the move into the open one
    created_field = deal.date("created")
    for kind, stage, from_stage, day in events:
        if kind == CREATED and stage is not None:
            # the file's `created` says when the deal began (an import commits it later)
            began = created_field if created_field and created_field <= day else day
            open_stage, open_start, left = stage, began, None
        elif kind == MOVED and stage is not None:
            left = len(stays)
            if open_stage is not None:
                stays.append(Stay(open_stage, open_start, day))
            elif from_stage is not None:  # the stay began before the history git has
                stays.append(Stay(from_stage, None, day))
            else:
                left = None
            open_stage, open_start = stage, day
        elif kind == DELETED:
            open_stage = left = (
                None  # a deleted file did not leave its stage, as the funnel sees it
            )
    start, why = entered
    if start is not None and left is not None and open_stage == deal.stage:
        stays[left] = Stay(stays[left].stage, stays[left].start, start)
    stays.append(Stay(deal.stage, start))
    created = created_field or (events[0][3] if events else None)
    return Life(deal, tuple(stays), created, closed_day(deal, start), why)


def closed_day(deal: Deal, entered: dt.date | None) -> dt.date | None:
    """When a closed deal closed: its `closed:`, else the day it entered its closed stage."""
    return deal.date("closed") or entered
