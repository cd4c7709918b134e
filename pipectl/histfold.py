"""The canonical order of the commits and the fold over it: pure functions of the records
(pipectl/gitlog.py), shared by the history index and a walk without one, so both give the
same answer by construction.

The order is a function of the commit graph alone: parents first, a merge's first parent's
history before its second's (a depth-first walk from HEAD), so new commits on top of a tip,
or a merge whose first parent is the tip, only append to it. The fold gives each deal's life
(its events, followed across renames, as references; and its summary: the first event, then
every creation, move and deletion, all the report's figures read) and each path's arrival in
its folder (time in stage). Never reads files, runs git, or prints.
"""

from __future__ import annotations

import marshal
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipectl import gitlog
from pipectl.gitlog import (
    CREATED,
    DELETED,
    E_DEAL,
    E_FROM,
    E_KIND,
    E_OLD_DEAL,
    E_OLD_PATH,
    E_PATH,
    E_STAGE,
    MOVED,
    R_ACTION,
    R_DATE,
    R_EVENTS,
    R_PARENTS,
    RENAMED,
    Ev,
    Record,
)

LIFECYCLE = frozenset({CREATED, MOVED, DELETED})
_REF_BITS = 24  # an event's reference: its commit's position << 24 | its place in the commit
Row = tuple[tuple[Any, ...], Ev]  # (the commit's header, the event): a summary's item
# a summary's stops: (kind, stage, from stage, day as an ordinal), all the report reads of it
Stops = tuple[tuple[str, "str | None", "str | None", int], ...]
# a summary as stored: its stops, and its rows' marshal bytes, decoded only when asked for (a
# report reads every deal's stops and no row; a new commit changes a few deals' rows)
Stored = tuple[Stops, bytes]


# --- the canonical order --------------------------------------------------------------------


def order(head: str, parents: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The commits of `parents` that `head` reaches, parents first, a commit's first parent's
    history before its second's; a parent not in `parents` counts as placed already."""
    if head not in parents:
        return []
    out: list[str] = []
    seen = {head}
    stack: list[tuple[str, Iterator[str]]] = [(head, iter(parents[head]))]
    while stack:
        sha, todo = stack[-1]
        for p in todo:
            if p not in seen and p in parents:
                seen.add(p)
                stack.append((p, iter(parents[p])))
                break
        else:
            stack.pop()
            out.append(sha)
    return out


def extends(head: str, tip: str, new: Mapping[str, Record]) -> bool:
    """Whether `tip` is on HEAD's first-parent line through the new commits: then the order
    of the whole graph is the indexed order with the new commits' order after it."""
    sha = head
    while sha in new:
        parents = new[sha][R_PARENTS]
        if not parents:
            return False
        sha = parents[0]
    return sha == tip


# --- the fold -------------------------------------------------------------------------------


@dataclass
class Fold:
    """Each deal's life and each path's arrival after a prefix of the canonical order."""

    # id -> its rows, or (as stored) its stops and the rows' bytes, decoded when first used
    summaries: dict[str, list[Row] | Stored] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)  # id -> array('q') (bytes when stored)
    dates: dict[str, int] = field(default_factory=dict)  # path -> day of arrival (ordinal)
    hand: set[str] = field(default_factory=set)  # paths that arrived by a move made by hand
    # the deals whose summaries the commits folded in changed (stored as a layer)
    touched: set[str] = field(default_factory=set)

    def summary(self, deal: str) -> list[Row] | None:
        """The deal's summary rows (decoded from their stored bytes the first time)."""
        got = self.summaries.get(deal)
        if isinstance(got, tuple):
            rows = self.summaries[deal] = _rows(got[1])
            return rows
        return got

    def stops(self, deal: str) -> Stops:
        """The deal's stops: as stored, or from its rows (a deal the new commits touched)."""
        got = self.summaries.get(deal)
        if got is None:
            return ()
        return got[0] if isinstance(got, tuple) else stops_of(got)

    def stored_summaries(self, only: set[str] | None = None) -> dict[str, Stored | None]:
        """Every summary as stored (the ones never decoded as they were read); `only`: just
        those deals', None for a deal that has none any more."""
        chosen = self.summaries if only is None else {d: self.summaries.get(d) for d in only}
        return {
            k: v if v is None or isinstance(v, tuple) else _stored(v) for k, v in chosen.items()
        }

    def storing(self) -> Iterator[tuple[str, Stored]]:
        """Every summary as stored, each deal's decoded rows replaced by their stored form as
        it goes (a cold build's summaries, written out, are let go one by one)."""
        summaries = self.summaries
        for k, v in summaries.items():  # only values change: the dict may be walked meanwhile
            if not isinstance(v, tuple):
                v = summaries[k] = _stored(v)
            yield k, v

    def _refs(self, deal: str) -> array[int]:
        got = self.refs.get(deal)
        if not isinstance(got, array):
            got = self.refs[deal] = array("q", got or b"")
        return got

    def add(self, pos: int, rec: Record) -> None:
        """Fold in the commit at position `pos` (each deal's life as history.py's `_build`
        gave it: a rename carries the old id's life over to the new id)."""
        events = rec[R_EVENTS]
        if not events:
            return
        header = (rec[0], (), *rec[2:R_EVENTS])  # a record without parents or events
        by_hand = rec[R_ACTION] is None
        day = gitlog.when(rec[R_DATE]).date().toordinal()
        summaries, touched = self.summaries, self.touched
        for i, e in enumerate(events):
            deal, old = e[E_DEAL], e[E_OLD_DEAL]
            if old is not None:
                carried = self.summary(old)
                if summaries.pop(old, None) is not None:
                    touched.add(old)
                if carried:
                    touched.add(deal)
                    mine = self.summary(deal)
                    if mine:
                        mine.extend(r for r in carried if r[1][E_KIND] in LIFECYCLE)
                    else:
                        summaries[deal] = carried
                if old in self.refs:
                    moved = self._refs(old)
                    del self.refs[old]
                    self._refs(deal).extend(moved)
            self._refs(deal).append(pos << _REF_BITS | i)
            # a summary changes with a deal's first event and its creations, moves and
            # deletions; a stored one is decoded only then (most commits log a touchpoint)
            summary = summaries.get(deal)
            if not (summary[0] if isinstance(summary, tuple) else summary):
                summaries[deal] = [(header, e)]
                touched.add(deal)
            elif e[E_KIND] in LIFECYCLE:
                rows = self.summary(deal)
                assert rows is not None
                rows.append((header, e))
                touched.add(deal)
            self._arrive(e, day, by_hand)

    def _arrive(self, e: Ev, day: int, by_hand: bool) -> None:
        """The newest creation or move into a path is its arrival; a rename inside a folder
        keeps the arrival the old path had; a deletion forgets it."""
        kind, path, dates, hand = e[E_KIND], e[E_PATH], self.dates, self.hand
        if kind in (CREATED, MOVED):
            dates[path] = day
            if kind == MOVED and by_hand:
                hand.add(path)
            else:
                hand.discard(path)
        elif kind == RENAMED and e[E_OLD_PATH] is not None:
            old = e[E_OLD_PATH]
            if old in dates:
                dates[path] = dates.pop(old)
            else:
                dates.pop(path, None)
            if old in hand:
                hand.discard(old)
                hand.add(path)
            else:
                hand.discard(path)
        elif kind == DELETED:
            dates.pop(path, None)
            hand.discard(path)

    def stored_refs(self) -> dict[str, bytes]:
        return {k: v.tobytes() if isinstance(v, array) else v for k, v in self.refs.items()}


def stops_of(rows: list[Row]) -> Stops:
    """What the report reads of a summary: each row's kind, stages and day."""
    when = gitlog.when
    return tuple(
        (e[E_KIND], e[E_STAGE], e[E_FROM], when(h[R_DATE]).date().toordinal()) for h, e in rows
    )


def _stored(rows: list[Row]) -> Stored:
    """A summary as stored (marshal version 2: the same bytes for the same rows)."""
    return stops_of(rows), marshal.dumps(rows, 2)


def _rows(data: bytes) -> list[Row]:
    """A stored summary's rows; what does not decode to a list is a damaged index."""
    try:
        rows = marshal.loads(data)
    except Exception as exc:  # EOFError, ValueError, TypeError: all mean the same here
        raise ValueError("a stored summary does not decode") from exc
    if type(rows) is not list:
        raise ValueError("a stored summary is not a list")
    return rows


def unref(ref: int) -> tuple[int, int]:
    """(position of the commit, place of the event in it)."""
    return ref >> _REF_BITS, ref & ((1 << _REF_BITS) - 1)
