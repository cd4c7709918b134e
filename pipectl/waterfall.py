"""The waterfall of `pipectl changes`: from the open pipeline at one commit to the open
pipeline at another, deal by deal, in count and value, in buckets that partition the
difference, so start + every bucket = end exactly (sums in Decimal, never floats).

"Open pipeline" is the open deals due by a close date (the period; undated deals included):
a deal whose expected close moves past it has slipped out. docs/review.md defines every
bucket. A pure function of the deals at both ends; never reads files or prints.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pipectl.config import Config
from pipectl.deal import Deal

# The buckets, in the order the waterfall adds them up: what came in, what changed, what left.
BUCKETS = (
    "new", "pulled_in", "reopened", "increased", "decreased", "won", "lost", "slipped", "removed"
)  # fmt: skip
# Sums of money stay exact: Decimal, wide enough for any amount pipectl counts (<= 1e24)
EXACT = decimal.Context(prec=60)
# (the deals at one end, the pipeline.yaml of that end)
State = tuple[Sequence[Deal], Config]
# a deal at one end as the waterfall sees it: absent, in, out, won or lost (`_state`), and its
# value (None: none, counted as 0)
Mark = tuple[str, "float | None"]
_ABSENT: Mark = ("absent", None)


@dataclass(frozen=True)
class Bucket:
    """One step of the waterfall: the deals in it and what they add to the open pipeline."""

    name: str
    deals: tuple[str, ...]
    count_delta: int  # what it adds to the open count (negative: what it takes away)
    value_delta: Decimal


@dataclass(frozen=True)
class Ends:
    """The open pipeline at one end: how many deals, their value."""

    count: int
    value: Decimal


@dataclass(frozen=True)
class Waterfall:
    """start + every bucket's deltas = end, in count and in value (see `balanced`)."""

    start: Ends
    buckets: tuple[Bucket, ...]
    end: Ends

    @property
    def balanced(self) -> bool:
        count = self.start.count + sum(b.count_delta for b in self.buckets)
        with decimal.localcontext(EXACT):
            value = self.start.value + sum((b.value_delta for b in self.buckets), Decimal())
        return count == self.end.count and value == self.end.value


def money(value: float | None) -> Decimal:
    """An amount as an exact decimal (the shortest text that reads back as the float)."""
    return Decimal(repr(value)) if value is not None else Decimal(0)


def _state(deal: Deal | None, config: Config, close_by: dt.date | None) -> str:
    """absent, in (open and due by close_by, or undated), out (open, due later), won, lost."""
    if deal is None:
        return "absent"
    stage = config.stage(deal.stage)
    if stage is None:
        return "absent"  # not in a stage folder this commit's pipeline.yaml names
    if stage.closed is not None:
        return stage.closed
    due = deal.date("expected_close")
    return "out" if close_by is not None and due is not None and due > close_by else "in"


def waterfall(
    start: State, end: State, renames: Mapping[str, str], close_by: dt.date | None
) -> Waterfall:
    """From the open pipeline at the start (due by `close_by`, undated deals included) to the
    one at the end, deal by deal, so the buckets partition the difference exactly:

    - in at both ends: the value's change is `increased` or `decreased`;
    - in at the start, not at the end: the change of value first, then `won`, `lost` or
      `slipped` (open, now due after close_by) take its end value away; `removed` (deleted,
      or out of every stage folder) takes the start value;
    - in at the end only: `new` (no such deal at the start), `pulled_in` (open but due later
      at the start), `reopened` (closed at the start) add its end value;
    - in at neither, but closed in the window: it came in and left (`new` then `won`...).
    """
    start_deals, start_config = start
    end_deals, end_config = end
    # by id at both ends (a duplicate id is lint's PL104): each deal counted once, so the ends
    # are the sums of what the buckets move
    before = {renames.get(d.id, d.id): mark(d, start_config, close_by) for d in start_deals}
    after = {d.id: mark(d, end_config, close_by) for d in end_deals}
    return of_marks(before, after)


def mark(deal: Deal, config: Config, close_by: dt.date | None) -> Mark:
    """What the waterfall reads of a deal at one end: its state and its value."""
    return _state(deal, config, close_by), deal.value


def of_marks(before: Mapping[str, Mark], after: Mapping[str, Mark]) -> Waterfall:
    """The waterfall of the deals' marks at the two ends, by id (the start's ids already as
    the window renamed them)."""
    with decimal.localcontext(EXACT):
        return _waterfall(before, after)


def _waterfall(before: Mapping[str, Mark], after: Mapping[str, Mark]) -> Waterfall:
    moves: dict[str, list[tuple[str, int, Decimal]]] = {b: [] for b in BUCKETS}

    def put(bucket: str, deal: str, count: int, value: Decimal) -> None:
        moves[bucket].append((deal, count, value))

    entry = {"absent": "new", "out": "pulled_in", "won": "reopened", "lost": "reopened"}
    for deal in sorted(before.keys() | after.keys()):
        s, was = before.get(deal, _ABSENT)
        e, now = after.get(deal, _ABSENT)
        v_s = money(was) if s == "in" else Decimal(0)
        v_e = money(now) if e != "absent" else Decimal(0)
        if s == "in":
            if e == "absent":
                put("removed", deal, -1, -v_s)
                continue
            delta = v_e - v_s
            if delta:
                put("increased" if delta > 0 else "decreased", deal, 0, delta)
            if e != "in":
                put({"out": "slipped"}.get(e, e), deal, -1, -v_e)
        elif e == "in":
            put(entry[s], deal, 1, v_e)
        elif e in ("won", "lost") and s != e:
            put(entry[s], deal, 1, v_e)
            put(e, deal, -1, -v_e)
    buckets = tuple(
        Bucket(
            name,
            tuple(d for d, _, _ in moves[name]),
            sum(c for _, c, _ in moves[name]),
            sum((v for _, _, v in moves[name]), Decimal()),
        )
        for name in BUCKETS
    )
    return Waterfall(_ends(before.values()), buckets, _ends(after.values()))


def _ends(marks: Iterable[Mark]) -> Ends:
    inside = [value for state, value in marks if state == "in"]
    return Ends(len(inside), sum((money(v) for v in inside), Decimal()))
