"""What happened to the pipeline between two commits (`pipectl changes`): every move, value
change, slipped close date, owner change and touchpoint the commits in between made, the
deals that went stale, and the waterfall from the open pipeline at the start to the one at
the end, which balances exactly by construction (docs/review.md defines every bucket).

pipectl/changesread.py reads a window's parts from git (and from what the last run over it
kept); this module holds what they become and `compute`, a pure function of them, and the
parts' plain-data form. Never prints, never reads.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipectl import changeends, dates
from pipectl.changeends import CONVERTED, ID, IDLE, NO_RATE, STAGE, STALE, STATE, VALUE
from pipectl.changewindow import Window
from pipectl.config import Config
from pipectl.deal import Touchpoint
from pipectl.eventfacts import Facts, Side
from pipectl.history import CREATED, DELETED, MOVED, RENAMED, Event
from pipectl.owners import owner_key, roster_handle
from pipectl.waterfall import EXACT, Waterfall, money, of_marks

# Kinds of change, in the words JSON and the tables use; KINDS in the order summaries list them.
ADDED, ADVANCED, MOVED_BACK, MOVED_TO, WON, LOST, REOPENED = (
    "added", "advanced", "moved_back", "moved", "won", "lost", "reopened"
)  # fmt: skip
VALUE_UP, VALUE_DOWN, OWNER, RENAMED_TO, REMOVED = (
    "value_up", "value_down", "owner", "renamed", "removed"
)  # fmt: skip
# the layout of the parts a window's run keeps (caches/windows.py): bump when it changes
FORMAT = 1
# what `read` gathers of a window, as plain data: tip, stages, env (a digest of the end's other
# files), currency, start (rows, changeends.py), end (names, blob ids, rows), changes, logged,
# renames
Parts = dict[str, Any]
SLIPPED, PULLED_IN, CLOSE_SET, CLOSE_CLEARED = "slipped", "pulled_in", "close_set", "close_cleared"
KINDS = (
    ADDED, ADVANCED, MOVED_BACK, MOVED_TO, WON, LOST, REOPENED, VALUE_UP, VALUE_DOWN, SLIPPED,
    PULLED_IN, CLOSE_SET, CLOSE_CLEARED, OWNER, RENAMED_TO, REMOVED,
)  # fmt: skip


@dataclass(frozen=True)
class Change:
    """One thing one commit did to one deal: `old` → `new` (stages, amounts, dates, owners),
    `amount` the difference (money for values, days for close dates)."""

    deal: str
    kind: str
    date: dt.datetime
    author: str
    commit: str
    by_hand: bool
    old: Any = None
    new: Any = None
    amount: float | int | None = None


@dataclass(frozen=True)
class Logged:
    """A touchpoint a commit in the window added, dated in the window; `rep` logged it."""

    deal: str
    rep: str
    touchpoint: Touchpoint
    commit: str
    by_hand: bool


@dataclass(frozen=True)
class RepActivity:
    """The touchpoints one rep logged in the window: how many, by kind and by outcome."""

    rep: str
    count: int
    kinds: tuple[tuple[str, int], ...]
    outcomes: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Stale:
    """An open deal at the end that crossed lint's stale limit (PL301) inside the window."""

    deal: str
    stage: str
    owner: str | None
    last_activity: dt.date
    stale_from: dt.date


@dataclass(frozen=True)
class Changes:
    """Everything `pipectl changes` shows, in the order of the commits."""

    window: Window
    currency: str
    other_currencies: tuple[str, ...]  # the waterfall's values converted from these
    changes: tuple[Change, ...]
    logged: tuple[Logged, ...]
    reps: tuple[RepActivity, ...]
    stale: tuple[Stale, ...]
    waterfall: Waterfall
    partial: bool = False
    skipped: tuple[str, ...] = ()  # deal files that did not parse at an end, with why
    unconverted: tuple[str, ...] = ()  # deals whose currency had no rate at an end


# --- the pure part ------------------------------------------------------------------------


def of_events(
    events: Sequence[Event], facts: Sequence[Facts], config: Config, w: Window
) -> dict[str, list[Any]]:
    """What the window's events did (`facts`: eventfacts.facts_of), as parts: the changes,
    the touchpoints logged in the window, the ids renamed."""
    found: list[Change] = []
    logged: list[Logged] = []
    for e, (old, new, added) in zip(events, facts, strict=True):
        found += _changes_of(e, old, new, config)
        for tp in added:
            if tp.date is not None and _within(tp.date, w):
                rep = roster_handle(config.team, e.author, e.email) or e.author
                logged.append(Logged(e.deal, rep, tp, e.commit, e.by_hand))
    return {
        "changes": [_plain_change(c) for c in found],
        "logged": [_plain_logged(g) for g in logged],
        "renames": [[e.old_deal, e.deal] for e in events if e.old_deal and e.old_deal != e.deal],
    }


def compute(w: Window, parts: Parts, partial: bool = False) -> Changes:
    """The changes, touchpoints, stale deals and waterfall of a window's parts (`read`)."""
    before = [r for r in parts["start"] or () if type(r) is tuple]
    after = [r for r in parts["end"][2] if type(r) is tuple]
    renames = renamed_to(parts["renames"])
    logged = tuple(_logged(g) for g in parts["logged"])
    ends = ((w.base, parts["start"]), (w.tip, parts["end"][2]))
    # a deal whose file does not parse at an end is in neither end's waterfall: not removed
    # (or added) for a typo, its figures unknown there
    unread = {renames.get(r[0]) or r[0] for _c, rs in ends for r in rs or () if type(r) is list}
    wf = of_marks(
        {
            k: (r[STATE], r[VALUE])
            for r in before
            if (k := renames.get(r[ID]) or r[ID]) not in unread
        },
        {r[ID]: (r[STATE], r[VALUE]) for r in after if r[ID] not in unread},
    )
    return Changes(
        window=w,
        currency=parts["currency"],
        other_currencies=tuple(sorted({r[CONVERTED] for r in (*before, *after) if r[CONVERTED]})),
        changes=_changes(parts["changes"]),
        logged=logged,
        reps=_reps(logged),
        stale=_stale(after, w),
        waterfall=wf,
        partial=partial,
        # a file that does not parse at an end is neither in nor out there: said, not guessed
        skipped=tuple(
            f"{r[1]} (at {c[:8]})"
            for c, rs in ends
            if c and rs is not None
            for r in rs
            if type(r) is list
        ),
        unconverted=tuple(sorted({r[ID] for r in (*before, *after) if r[NO_RATE]})),
    )


def _within(day: dt.date, w: Window) -> bool:
    if w.rev_range is not None:
        return True  # a range is its commits, whatever days their touchpoints name
    return (w.since is None or day >= w.since) and day <= w.until


def _changes_of(e: Event, old: Side | None, new: Side | None, config: Config) -> list[Change]:
    by = roster_handle(config.team, e.author, e.email) or e.author  # as the reps' table

    def made(kind: str, was: Any = None, now: Any = None, amount: Any = None) -> Change:
        return Change(e.deal, kind, e.date, by, e.commit, e.by_hand, was, now, amount)

    if e.kind == CREATED:
        return [made(ADDED, None, e.stage, new.value if new else None)]
    if e.kind == DELETED:
        return [made(REMOVED, e.stage, None, old.value if old else None)]
    out = []
    if e.kind == MOVED and e.from_stage != e.stage:
        out.append(
            made(move_kind(config, e.from_stage or "", e.stage or ""), e.from_stage, e.stage)
        )
    if e.old_deal and e.old_deal != e.deal and e.kind in (MOVED, RENAMED):
        out.append(made(RENAMED_TO, e.old_deal, e.deal))
    if old is None or new is None:
        return out
    delta = float(EXACT.subtract(money(new.value), money(old.value)))
    if delta:  # none -> 0 moves no money (the waterfall counts none as 0): no change
        out.append(made(VALUE_UP if delta > 0 else VALUE_DOWN, old.value, new.value, delta))
    was, now = old.expected_close, new.expected_close
    if was != now:
        if was is None or now is None:
            out.append(made(CLOSE_SET if was is None else CLOSE_CLEARED, was, now))
        else:
            out.append(made(SLIPPED if now > was else PULLED_IN, was, now, (now - was).days))
    if owner_key(old.owner, config.team) != owner_key(new.owner, config.team):
        out.append(made(OWNER, old.owner, new.owner))
    return out


def move_kind(config: Config, before: str, after: str) -> str:
    """A move in the words of a review: won, lost, reopened (out of a closed stage), else
    advanced or moved back by the stages' order in pipeline.yaml."""
    to, frm = config.stage(after), config.stage(before)
    if to is not None and to.closed is not None:
        return WON if to.closed == "won" else LOST
    if frm is not None and frm.closed is not None:
        return REOPENED
    if to is None or frm is None:
        return MOVED_TO
    return ADVANCED if config.stage_index(after) > config.stage_index(before) else MOVED_BACK


def _reps(logged: Sequence[Logged]) -> tuple[RepActivity, ...]:
    by_rep: dict[str, list[Touchpoint]] = {}
    for item in logged:
        by_rep.setdefault(item.rep, []).append(item.touchpoint)
    return tuple(
        RepActivity(
            rep,
            len(tps),
            tuple(sorted(Counter(t.kind for t in tps).items())),
            tuple(sorted(Counter(t.outcome or "(none)" for t in tps).items())),
        )
        for rep, tps in sorted(by_rep.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )


def _stale(rows: Sequence[tuple[Any, ...]], w: Window) -> tuple[Stale, ...]:
    """Open deals at the end whose first stale day (lint's PL301) lies in the window."""
    out = []
    for r in rows:
        if r[STALE] is None:
            continue
        day = _day(r[STALE])
        if (w.since is None or day >= w.since) and day <= w.until:
            out.append(Stale(r[ID], r[STAGE], r[changeends.OWNER], _day(r[IDLE]), day))
    return tuple(sorted(out, key=lambda s: (s.stale_from, s.deal)))


# --- the parts as plain data (caches/windows.py keeps them) ---------------------------------

_DATE = "\0date"  # an old/new value that is a date: (_DATE, ordinal); no value is such a pair


def _plain_change(c: Change) -> tuple[Any, ...]:
    return (
        c.deal, c.kind, c.date.isoformat(), c.author, c.commit, c.by_hand,
        _plain(c.old), _plain(c.new), c.amount,
    )  # fmt: skip


def _changes(plain: Sequence[Sequence[Any]]) -> tuple[Change, ...]:
    when: dict[str, dt.datetime] = {}  # a commit's changes share its date
    out = []
    for deal, kind, date, author, commit, by_hand, old, new, amount in plain:
        stamp = when.get(date)
        if stamp is None:
            stamp = when[date] = dt.datetime.fromisoformat(date)
        out.append(
            Change(deal, kind, stamp, author, commit, by_hand, _value(old), _value(new), amount)
        )
    return tuple(out)


def _plain_logged(g: Logged) -> tuple[Any, ...]:
    tp = g.touchpoint
    return (g.deal, g.rep, _plain(tp.date), tp.kind, tp.summary, tp.outcome, g.commit, g.by_hand)


def _logged(plain: Sequence[Any]) -> Logged:
    deal, rep, date, kind, summary, outcome, commit, by_hand = plain
    return Logged(deal, rep, Touchpoint(_value(date), kind, summary, outcome), commit, by_hand)


def _plain(value: Any) -> Any:
    if type(value) is dt.date:
        return (_DATE, value.toordinal())
    return value  # stages, ids, amounts, owners: marshal keeps them as they are


def _value(plain: Any) -> Any:
    if type(plain) is tuple:
        return _day(plain[1])
    return plain


_day = dates.from_ordinal


def renamed_to(pairs: Sequence[Sequence[str]]) -> dict[str, str]:
    """Each id the (old, new) renames in order renamed, to the id it ended as."""
    to: dict[str, str] = {}
    for old, new in pairs:
        to[old] = new
        for k, v in list(to.items()):
            if v == old:
                to[k] = new
    return to
