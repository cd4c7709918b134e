"""The history index built from nothing, in bounded memory: a million commits must not be
held at once (they were: about 1.2 KB a commit, the walk's list, then the order's, then the
fold over all).

Two passes. The walk (ONE `git log`, as always) hands each record to a spill file as git
gives it, keeping only the commits' ids, packed, and which parent each names (mostly just
"the next commit walked"). The canonical order (histfold.order, the same function as any
other path) is computed over their numbers. Then the records are read back in that order, a
few chunks of the spill at a time, folded, and written out segment by segment as they fill;
what stays in memory is the fold's state (the same as any warm run holds) and one segment.

`write_head` and `days` are shared with histindex's other writers, so an index built here is
byte for byte the one the in-memory build writes. Never prints.
"""

from __future__ import annotations

import marshal
import tempfile
from array import array
from collections.abc import Iterator, Mapping
from typing import IO, Any

from pipectl import gitlog, histfold
from pipectl.caches import history as stored
from pipectl.gitlog import R_DATE, R_EVENTS, R_PARENTS, R_SHA, Pick, Record
from pipectl.gitrepo import GitRepo
from pipectl.histfold import Fold

CHUNK = 4096  # records a chunk of the spill holds
MAX_LAYERS = 8  # summary files a head names at most: a base and the layers of changes after it
_CACHED = 4  # chunks read back at once: the canonical order mostly runs down the spill


def build(
    store: stored.Store,
    git: GitRepo,
    prefix: str,
    head: str,
    boundary: frozenset[str],
    grafts: tuple[Any, ...],
    pick: Pick | None,
) -> tuple[Fold, dict[str, Any] | None, list[Record] | None]:
    """The index of everything `head` reaches, written to `store`: the fold and the head.
    When the store cannot take it all (a read-only or full disk), the head is None and the
    records come back in order instead, to be held as a run without an index holds them."""
    with _spill_file(store) as file:
        spill = _Spill(file)
        picked = bytearray()  # 1 for a commit with an event `pick` chose: only those detailed

        def picking(rec: Record, e: gitlog.Ev) -> bool:
            assert pick is not None
            if not pick(rec, e):
                return False
            n = spill.count - 1  # walk_into asks after handing the record to the spill
            picked.extend(bytes(n + 1 - len(picked)))
            picked[n] = 1
            return True

        keys = gitlog.walk_into(spill.add, git, prefix, [head], boundary, pick and picking)
        spill.close()
        shas = _order(head, spill)

        def read(n: int) -> Record:
            rec = spill.get(n)
            if keys is None or pick is None or n >= len(picked) or not picked[n]:
                return rec
            return gitlog.detailed(rec, keys, pick)

        fold = Fold()
        segments: list[Any] = []
        chunk: list[Record] = []
        stored_all = True
        for pos, n in enumerate(shas):
            rec = read(n)
            fold.add(pos, rec)
            chunk.append(rec)
            if len(chunk) == stored.SEGMENT_COMMITS or pos == len(shas) - 1:
                stored_all = stored_all and _write(store, segments, pos + 1 - len(chunk), chunk)
                chunk = []
        meta = write_head(store, head, boundary, grafts, fold, segments, len(shas))
        if stored_all and meta is not None:
            return fold, meta, None
        return fold, None, [read(n) for n in shas]


def _spill_file(store: stored.Store) -> IO[bytes]:
    """A temporary file beside the index (the disk the index is written to, where /tmp may
    be memory), else in the system's temporary folder."""
    try:
        store.directory.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryFile(prefix=".spill-", dir=store.directory)
    except OSError:
        return tempfile.TemporaryFile(prefix="pipectl-history-")


def _write(store: stored.Store, segments: list[Any], start: int, chunk: list[Record]) -> bool:
    entry = store.write_segment(start, chunk, days(chunk))
    if entry is None:
        return False
    segments.append(entry)
    return True


def _order(head: str, spill: _Spill) -> array[int]:
    """The canonical order of the spilled commits, as their numbers in the spill (the spill
    itself is not read: the parents were kept as the walk went)."""
    first = array("q")  # each commit's first parent's number, -1 for none walked
    more: dict[int, tuple[int, ...]] = {}  # a merge's other parents
    number = spill.numbers(bytes.fromhex(head))
    following, named = spill.following, spill.named
    for n in range(spill.count):
        known = [n + 1] if following[n] else []
        for p in named.get(n, ()):
            got = number.get(p)
            if got is not None:
                known.append(got)
        first.append(known[0] if known else -1)
        if len(known) > 1:
            more[n] = tuple(known[1:])
    top = number.get(bytes.fromhex(head))
    if top is None:
        return array("q")
    return array("q", histfold.order(top, _Parents(first, more)))  # type: ignore[arg-type]


class _Parents(Mapping[int, tuple[int, ...]]):
    """Commits by number -> their walked parents' numbers, for histfold.order: a parent
    outside the walk is left out, as `order` leaves out a parent it was not given."""

    def __init__(self, first: array[int], more: dict[int, tuple[int, ...]]):
        self.first, self.more = first, more

    def __getitem__(self, n: int) -> tuple[int, ...]:
        p = self.first[n]
        return () if p < 0 else (p, *self.more.get(n, ()))

    def __contains__(self, n: object) -> bool:
        return isinstance(n, int) and 0 <= n < len(self.first)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.first)))

    def __len__(self) -> int:
        return len(self.first)


class _Spill:
    """Records in walk order on a temporary file, in marshal chunks; read back by number."""

    def __init__(self, file: IO[bytes]):
        self.file = file
        # Each commit's number is its place in the walk; what names a commit is its parents.
        # A dict of every id was the largest thing a million commits' build held (~130 MB),
        # so only the ids are kept, packed, and the numbers looked up are those of the ids
        # named as a parent by any but the commit just before them: git walks a line of
        # history parent after child, so most first parents are simply the next commit.
        self.ids = bytearray()  # the ids (20 or 32 bytes: one width a repository), in order
        self.width = 0
        self.following = bytearray()  # 1 where a commit's first parent is the next commit
        self.named: dict[int, tuple[bytes, ...]] = {}  # by number: the other parents named
        self.wanted: set[bytes] = set()  # all of those
        self.last: tuple[str, ...] = ()  # the parents of the commit walked last
        self.count = 0
        self.spans: list[tuple[int, int]] = []  # each chunk's (offset, length)
        self.pending: list[Record] = []
        self.cached: dict[int, list[Record]] = {}

    def add(self, rec: Record) -> None:
        sha = bytes.fromhex(rec[R_SHA])
        if not self.width:
            self.width = len(sha)
        elif len(sha) != self.width:  # never from one repository; kept findable all the same
            self.width = -1
        if self.count:
            self._named(sha)
        self.last = tuple(rec[R_PARENTS])
        self.ids += sha
        self.count += 1
        self.pending.append(rec)
        if len(self.pending) == CHUNK:
            self._flush()

    def _named(self, next_id: bytes | None) -> None:
        """The previous commit's parents: the first is the commit after it, or is wanted."""
        parents = [bytes.fromhex(p) for p in self.last]
        follows = bool(parents) and parents[0] == next_id
        self.following.append(follows)
        others = tuple(parents[1:] if follows else parents)
        if others:
            self.named[self.count - 1] = others
            self.wanted.update(others)

    def close(self) -> None:
        if self.count:
            self._named(None)
        if self.pending:
            self._flush()

    def numbers(self, also: bytes) -> dict[bytes, int]:
        """The numbers of the ids wanted as parents, and of `also`; an id walked twice is its
        last record, as in histindex._ordered's dict (git's walk shows a commit once)."""
        wanted = self.wanted | {also}
        ids, self.ids = bytes(self.ids), bytearray()
        width = self.width
        found: dict[bytes, int] = {}
        if width > 0:
            for n in range(self.count):
                one = ids[n * width : (n + 1) * width]
                if one in wanted:
                    found[one] = n
            return found
        # ids of more than one width: read back from the records themselves
        for n in range(self.count):
            one = bytes.fromhex(self.get(n)[R_SHA])
            if one in wanted:
                found[one] = n
        return found

    def _flush(self) -> None:
        data = marshal.dumps(self.pending)
        self.spans.append((self.file.tell(), len(data)))
        self.file.write(data)
        self.pending = []

    def _chunk(self, at: int) -> list[Record]:
        got = self.cached.get(at)
        if got is None:
            if len(self.cached) >= _CACHED:
                del self.cached[next(iter(self.cached))]  # the oldest read
            offset, size = self.spans[at]
            self.file.seek(offset)
            got = self.cached[at] = marshal.loads(self.file.read(size))
        return got

    def get(self, n: int) -> Record:
        rec: Record = self._chunk(n // CHUNK)[n % CHUNK]
        return rec


# --- the head, shared by every writer of the index ------------------------------------------


def write_head(
    store: stored.Store,
    tip: str,
    boundary: frozenset[str],
    grafts: tuple[Any, ...],
    fold: Fold,
    segments: list[Any],
    count: int,
    read_from: list[str] | None = None,
) -> dict[str, Any] | None:
    """The lives and the head, after the segments; the head, or None if not all stored.
    `read_from`: the summary files the fold went on from (its `touched` deals are then what
    changed): those changes are one more layer after them, until the layers are many or the
    changes large, when all the summaries are written again as a new base."""
    lives = store.write_lives(tip, count, fold.stored_refs())
    layered = (
        read_from is not None
        and len(read_from) < MAX_LAYERS
        and len(fold.touched) * 8 <= len(fold.summaries)
    )
    if layered and not fold.touched:
        summaries = read_from  # no summary changed (touchpoints logged): the same files
    elif layered:
        summaries = store.write_summaries(
            tip, count, fold.stored_summaries(fold.touched).items(), read_from
        )
    else:  # streamed, the rows let go as they are stored: no second copy of them all
        summaries = store.write_summaries(tip, count, fold.storing())
    if lives is None or summaries is None:
        return None
    head = {
        "tip": tip,
        "boundary": sorted(boundary),
        "grafts": grafts,
        "count": count,
        "segments": segments,
        "lives": lives,
        "summaries": summaries,
        "dates": fold.dates,
        "hand": fold.hand,
    }
    return head if store.write_head(head) else None


def days(records: list[Record]) -> tuple[int, int]:
    """The first and last day of an event among these records (ordinals; (0, 0) if none)."""
    found = [gitlog.when(r[R_DATE]).date().toordinal() for r in records if r[R_EVENTS]]
    return (min(found), max(found)) if found else (0, 0)
