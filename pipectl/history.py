"""Every deal's life from git, and when each file arrived in its folder: the audit trail of
`pipectl history`, the stays of `pipectl report`, the time in stage of lint and the board.

Read through the history index (pipectl/histindex.py): a command walks only the commits that
are new since the last one, in ONE `git log` pass (pipectl/gitlog.py), field diffs in one
`git cat-file --batch` beside it; never one git process per deal. What a command does not
ask for is not read: the report reads each deal's summary and the arrivals, one deal's
history the segments holding its events, a window the segments holding its days. Starts git
only through `gitrepo.GitRepo`. Never prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, overload

from pipectl import blobkeys, gitlog, histfold, histindex
from pipectl.caches import framed
from pipectl.commitdays import head_of as _head
from pipectl.errors import GitError
from pipectl.gitlog import (
    CHANGED,
    CREATED,
    DELETED,
    EDITED,
    LOGGED,
    MOVED,
    RENAMED,
    SELF_DESCRIBING,
    Ev,
    Record,
)
from pipectl.gitrepo import GitNotFound, GitRepo
from pipectl.version import __version__

__all__ = [
    "CHANGED",
    "CREATED",
    "DELETED",
    "EDITED",
    "LOGGED",
    "MOVED",
    "RENAMED",
    "Arrivals",
    "Event",
    "History",
    "Stop",
    "read",
    "read_arrivals",
    "rendered",
    "window",
    "with_fields",
]


@dataclass(frozen=True)
class Event:
    """One change to one deal file in one commit."""

    commit: str
    date: dt.datetime  # author date, in the author's time zone
    author: str
    email: str
    deal: str  # the deal's id after this change
    kind: str  # created, moved, logged, changed, edited, renamed, deleted
    stage: str | None  # stage folder after the change (before, for a deletion)
    from_stage: str | None = None  # for moves and renames
    old_deal: str | None = None  # for renames: the id before
    action: str | None = None  # the Pipectl-Action trailer; None for commits made by hand
    subject: str = ""
    path: str = ""  # pipeline-relative path after the change
    old_path: str | None = None
    fields: tuple[str, ...] = ()  # frontmatter keys changed ("body" for the notes), if read
    old_blob: str | None = None
    new_blob: str | None = None
    content_changed: bool = True
    fields_read: bool = field(default=False, compare=False)  # `fields` already holds the answer

    @property
    def by_hand(self) -> bool:
        return self.action is None

    @property
    def day(self) -> dt.date:
        return self.date.date()

    def needs_diff(self) -> bool:
        """Whether the changed fields must be read from the blobs to describe this event."""
        if self.fields_read or not self.content_changed or not self.old_blob or not self.new_blob:
            return False
        return self.action not in SELF_DESCRIBING


# A lifecycle event as `lives.life_of` reads it: (kind, stage, from_stage, day). A report
# reads the lives of every deal (20,000 of them, ~50,000 events), and a tuple is a tenth of
# the cost of an Event
Stop = tuple[str, str | None, str | None, dt.date]


@dataclass(frozen=True)
class Arrivals:
    """Date each path (relative to the pipeline root) entered its folder, and which of them
    came by a move made by hand (a `git mv` from another stage, no pipectl trailer).

    `unavailable` says why a path without a date is unknown (a shallow clone, no git); None
    means such a path has no committed history there.
    """

    dates: dict[str, dt.date] = field(default_factory=dict)
    unavailable: str | None = None
    moved_by_hand: frozenset[str] = frozenset()

    def get(self, rel_path: str) -> dt.date | None:
        return self.dates.get(rel_path)


@dataclass(frozen=True)
class History:
    """Events oldest first (parents before children, a merge's first parent's side first),
    each deal's events by its current id, and whether it is whole. Read from the index, the
    sequences are read when first used, and only what is used."""

    events: Sequence[Event] = ()
    by_deal: Mapping[str, Sequence[Event]] = field(default_factory=dict)
    partial: bool = False  # a shallow clone: the oldest commits are missing
    available: bool = True  # False outside git: no audit trail at all
    arrivals: Arrivals | None = None  # None: `stagetime.arrivals_of` reads them from events
    lifecycles: Mapping[str, Sequence[Event]] | None = None  # None: from `by_deal`

    def of(self, deal_id: str) -> tuple[Event, ...]:
        return tuple(self.by_deal.get(deal_id, ()))

    def lifecycle(self, deal_id: str) -> Sequence[Event]:
        """The deal's first event, then every creation, move and deletion of its life: all
        that `lives.life_of` reads of it (the index keeps these per deal)."""
        if self.lifecycles is not None:
            return self.lifecycles.get(deal_id, ())
        life = self.of(deal_id)
        return life[:1] + tuple(e for e in life[1:] if e.kind in histfold.LIFECYCLE)

    def stops(self, deal_id: str) -> Sequence[Stop]:
        """`lifecycle` as (kind, stage, from stage, day): no Event made from the index."""
        if isinstance(self.lifecycles, _Lives):
            return self.lifecycles.stops(deal_id)
        return tuple((e.kind, e.stage, e.from_stage, e.day) for e in self.lifecycle(deal_id))


def read(
    git: GitRepo | None,
    root: Path,
    detail: Callable[[Event], bool] | None = None,
    at: str | None = None,
) -> History:
    """The history of every deal under the pipeline `root`, through the history index; the
    events `detail` picks come with their changed fields (as from `with_fields`): those of new
    commits read by ONE `git cat-file --batch` while git is still walking the log, those the
    index does not hold yet by one more when the events are read, and stored with it.

    `at`: only up to that commit on HEAD's first-parent line, as a checkout of it reads it
    (`--as-of`; `histindex.snapshot_at`); nothing is stored for it."""
    if git is None:
        return History(available=False)
    boundary = git.shallow_boundary()
    head = _head(git)
    if head is None:  # no commit yet
        return History(partial=bool(boundary))
    prefix = _prefix(git, root)

    def picks(rec: Record, e: Ev) -> bool:
        return detail is not None and detail(_event(rec, e))

    pick = None if detail is None else picks

    def snap(fresh: bool = False) -> histindex.Snapshot:
        if at is not None:
            return histindex.snapshot_at(git, root, prefix, boundary, head, at, pick, fresh)
        return histindex.snapshot(git, root, prefix, boundary, head, pick, fresh)

    return _history(_Source(snap, git, pick))


def read_arrivals(git: GitRepo | None, root: Path, at: str | None = None) -> Arrivals:
    """For each deal file under `root`, the date it entered its folder: the newest add or
    move into it (a rename inside its folder keeps the older arrival); from the index (`at`:
    as of that commit, as in `read`).

    Never guesses in a shallow clone: the boundary commits would claim that every file was
    added that day, so they say nothing, and a path seen only there has no date.
    """
    if git is None:
        return Arrivals(unavailable="not a git repository")
    try:
        boundary = git.shallow_boundary()
        why = "shallow git clone" if boundary else None
        if _head(git) is None:
            return Arrivals(unavailable="no git history" if not boundary else why)
        found = read(git, root, at=at).arrivals
    except (GitNotFound, OSError, ValueError):
        return Arrivals(unavailable="git history could not be read")
    except GitError:
        return Arrivals(unavailable="git history could not be read")
    assert found is not None
    return replace(found, unavailable=why)


def _prefix(git: GitRepo, root: Path) -> str:
    rel = git.rel(root)
    return "" if rel == "." else rel + "/"


# --- from records to events, read as they are used ------------------------------------------


def _event(rec: Record, e: Ev, date: dt.datetime | None = None) -> Event:
    # a frozen dataclass's __init__ sets its 18 fields one object.__setattr__ at a time;
    # `history` makes ~120,000 Events, filled in one update of the instance's dict instead
    # (half the cost; the same object: eq, hash and repr are the dataclass's)
    got = e[7]
    event = _new(Event)
    values = (
        rec[0],
        date or gitlog.when(rec[4]),
        rec[2],
        rec[3],
        e[1],
        e[0],
        e[2],
        e[3],
        e[4],
        rec[5],
        rec[6],
        e[5],
        e[6],
        got or (),
        e[8],
        e[9],
        e[10],
        got is not None,
    )
    event.__dict__.update(zip(_EVENT_FIELDS, values, strict=True))
    return event


_new = object.__new__
_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(Event))


def _events(records: Iterable[Record], since: int | None, until: int | None) -> list[Event]:
    out: list[Event] = []
    for rec in records:
        if not rec[7]:
            continue
        date = gitlog.when(rec[4])
        day = date.date().toordinal()
        if (since is None or day >= since) and (until is None or day <= until):
            out.extend(_event(rec, e, date) for e in rec[7])
    return out


class _Source:
    """The snapshot behind one History, read once; a file of the index gone bad while it is
    read makes it read git afresh (and store the index again)."""

    def __init__(
        self, make: Callable[[bool], histindex.Snapshot], git: GitRepo, pick: gitlog.Pick | None
    ):
        self.make, self.git = make, git
        self.snap = make(False)
        self.fill = None if pick is None else (git, pick)

    def use(self, how: Callable[[histindex.Snapshot], Any]) -> Any:
        try:
            return how(self.snap)
        except (histindex.IndexDamaged, *histindex._BAD):
            if self.snap.store is None or self.snap.records is not None:
                raise
            self.snap = self.make(True)
            return how(self.snap)


class _Events(Sequence[Event]):
    """Every event, oldest first, read on first use; `between` reads only a window's days."""

    def __init__(self, source: _Source):
        self.source = source
        self._all: list[Event] | None = None

    def between(self, since: dt.date | None, until: dt.date | None) -> list[Event]:
        lo = since.toordinal() if since else None
        hi = until.toordinal() if until else None
        fill = self.source.fill
        return self.source.use(
            lambda s: [e for seg in s.segments(lo, hi, fill) for e in _events(seg, lo, hi)]
        )

    def _events(self) -> list[Event]:
        if self._all is None:
            self._all = self.between(None, None)
        return self._all

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Event]: ...
    def __getitem__(self, i: int | slice) -> Event | Sequence[Event]:
        return self._events()[i]

    def __len__(self) -> int:
        return len(self._events())

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class _Lives(Mapping[str, Sequence[Event]]):
    """Each deal's events by its current id; one deal's read from the segments holding them.
    `summary`: only the deal's first event, creations, moves and deletions, held in memory."""

    def __init__(self, source: _Source, summary: bool):
        self.source, self.summary = source, summary
        self.done: dict[str, tuple[Event, ...]] = {}

    @property
    def ids(self) -> dict[str, Any]:
        # every deal with a life has its summary; read from the index on first use
        return self.fold.summaries

    @property
    def fold(self) -> histfold.Fold:
        found: histfold.Fold = self.source.use(lambda s: s.summarised())
        return found

    def __getitem__(self, deal: str) -> tuple[Event, ...]:
        got = self.done.get(deal)
        if got is None:
            if self.summary:
                if deal not in self.ids:
                    raise KeyError(deal)
                rows = self.source.use(lambda s: s.summarised().summary(deal))
            else:
                # with every event's fields: one deal's are few, read once and stored; no
                # life, no summary (the fold keeps both by id): all summaries are not read
                rows = self.source.use(lambda s: s.life(deal, self.source.git))
                if not rows:
                    raise KeyError(deal)
            got = self.done[deal] = tuple(_event(rec, e) for rec, e in rows)
        return got

    def stops(self, deal: str) -> tuple[Stop, ...]:
        """The summary's events as `History.stops` gives them, from the stops stored with it
        (its rows are not decoded)."""
        day = histindex.day
        return tuple((kind, stage, came, day(n)) for kind, stage, came, n in self.fold.stops(deal))

    def __contains__(self, deal: object) -> bool:
        return deal in self.ids

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


def _history(source: _Source) -> History:
    snap = source.snap
    fold = snap.fold
    arrivals = Arrivals(
        {path: histindex.day(d) for path, d in fold.dates.items()},
        "shallow git clone" if snap.partial else None,
        frozenset(fold.hand),
    )
    return History(
        _Events(source),
        _Lives(source, False),
        snap.partial,
        True,
        arrivals,
        _Lives(source, True),
    )


# --- what a command makes of the events, kept per segment -----------------------------------


def rendered(
    history: History,
    since: dt.date | None,
    until: dt.date | None,
    make: Callable[[list[Event]], list[Any]],
    made_by: bytes,
) -> list[Any] | None:
    """What `make` (its code digested in `made_by`) makes of the events of days `since` to
    `until` (plain data, an item an event, in order: `history`'s rows), kept per segment of
    the index: only the segments that changed (the newest, a rewritten one) are read and
    made again. None for no stored index (none, `--as-of`): make it from `window` then."""
    events = history.events
    if not isinstance(events, _Events):
        return None
    lo = since.toordinal() if since else None
    hi = until.toordinal() if until else None
    key = framed.digest(made_by + _source_code())

    def of(records: list[Record]) -> tuple[list[int], list[Any]]:
        found = _events(records, None, None)
        return [e.date.date().toordinal() for e in found], make(found)

    return events.source.use(lambda s: _made(s, lo, hi, events.source.fill, of, key))


def _made(
    snap: histindex.Snapshot,
    lo: int | None,
    hi: int | None,
    fill: tuple[GitRepo, gitlog.Pick] | None,
    make: Callable[[list[Record]], tuple[list[int], list[Any]]],
    key: bytes,
) -> list[Any] | None:
    # the segments `Snapshot.segments` reads for the window; a segment is kept only when no
    # event of it lacks its fields: what is kept is then the same whatever `fill` picks
    store = snap.store
    if snap.records is not None or store is None or snap.head is None or snap.limit:
        return None
    entries = [
        entry
        for entry in snap.head["segments"]
        if not ((lo is not None and entry[4] < lo) or (hi is not None and entry[3] > hi))
    ]
    kept = {entry[0]: store.rows(entry, key) for entry in entries}
    missing = [(e, store.segment(e), store.segment_digest(e)) for e in entries if not kept[e[0]]]
    if any(records is None for _e, records, _seg in missing):
        raise histindex.IndexDamaged("segment")
    chosen = [(entry, records) for entry, records, _seg in missing]
    filled = chosen if fill is None else snap._filled(chosen, *fill)
    for (entry, records), (_entry, before, seg) in zip(filled, missing, strict=True):
        days, items = kept[entry[0]] = make(records)
        whole = not any(gitlog.needs_diff(r[gitlog.R_ACTION], e) for r in records for e in r[7])
        if records is before and whole and seg is not None:
            store.write_rows(entry, seg, key, days, items)
    out: list[Any] = []
    for entry in entries:
        days, items = kept[entry[0]] or ([], [])
        pairs = zip(days, items, strict=True)
        out.extend(i for d, i in pairs if (lo is None or d >= lo) and (hi is None or d <= hi))
    return out


@functools.cache
def _source_code() -> bytes:
    """This module's code (it turns records into events); unreadable, the version's."""
    try:
        return framed.digest(Path(__file__).read_bytes())
    except OSError:
        return framed.digest(__version__.encode())


# --- narrowing and detail -------------------------------------------------------------------


def window(
    events: Iterable[Event], since: dt.date | None = None, until: dt.date | None = None
) -> list[Event]:
    """Events whose (author's local) date lies in [since, until]; of every event of a history
    read from the index, only the segments holding those days are read."""
    if isinstance(events, _Events):
        return events.between(since, until)
    return [
        e for e in events if (since is None or e.day >= since) and (until is None or e.day <= until)
    ]


def with_fields(git: GitRepo | None, events: Sequence[Event]) -> list[Event]:
    """The events with the frontmatter keys each one changed, read by ONE cat-file process
    (none when every event already has them, as events from the index do)."""
    wanted = {b for e in events if e.needs_diff() for b in (e.old_blob, e.new_blob) if b}
    if git is None or not wanted:
        return list(events)
    keys = blobkeys.read_keys(git, wanted)
    return [_detailed(e, keys) if e.needs_diff() else e for e in events]


def _detailed(e: Event, keys: Mapping[str, Mapping[str, str]]) -> Event:
    """The event with the keys it changed; a blob gone from a shallow clone reads as empty."""
    old = keys.get(e.old_blob or "") or blobkeys.EMPTY
    new = keys.get(e.new_blob or "") or blobkeys.EMPTY
    return replace(e, fields=blobkeys.changed_keys(old, new), fields_read=True)
