"""The history index: every command that needs git's history pays only for the commits that
are new since the last one, as git's own commit-graph does for git.

The records of the commits (pipectl/gitlog.py) are kept in the canonical order and folded
(pipectl/histfold.py). A new commit on top of the indexed tip, or a merge whose first parent
is the tip, only appends to that order: ONE `git log HEAD ^TIP` pass, and the fold goes on
from its stored state. Any other change (a rebase, an amend, a reset, a force-pull: HEAD no
longer descends from the tip along first parents) is found from the new commits' parents:
the indexed commits HEAD still reaches are kept, the new ones walked (the same one pass),
and all of them folded again in the order of the new graph, with no more git. A new shallow
boundary, changed grafts, or an index that does not check out (pipectl/caches/history.py)
is read afresh: built in bounded memory by pipectl/histbuild.py, straight into the store.

The same order and the same fold make the answer without an index (PIPECTL_NO_CACHE, no
place to store one), so the figures are the same either way. Never prints.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipectl import blobkeys, dates, gitlog, histbuild, histfold
from pipectl.caches import framed
from pipectl.caches import history as stored
from pipectl.commitdays import grafts_of
from pipectl.errors import GitError
from pipectl.gitlog import R_ACTION, R_EVENTS, R_PARENTS, R_SHA, Ev, Pick, Record
from pipectl.gitrepo import GitRepo
from pipectl.histfold import Fold, order, unref
from pipectl.version import __version__

FORMAT = 3  # a new number for each change in what a record or the fold's state holds


# --- a snapshot: the index after HEAD, on disk or in memory ---------------------------------


@dataclass
class Snapshot:
    """What history says after HEAD: the fold's state, and where the records are."""

    fold: Fold
    partial: bool
    records: list[Record] | None = None  # in canonical order, when not (only) on disk
    store: stored.Store | None = None
    head: dict[str, Any] | None = None  # the stored head the records are read through
    # `--as-of`: only the records before this position of HEAD's index count (a commit's
    # history is a prefix of HEAD's order: see snapshot_at); nothing is written back then
    limit: int | None = None
    # with `limit`: segments (by their first position) whose events gained fields, not kept
    cut: dict[int, list[Any]] = field(default_factory=dict)
    # the stored summaries not read yet (`changes`, `history DEAL` want none of them)
    pending: list[str] | None = None

    def summarised(self) -> Fold:
        """The fold with each deal's summary, read from the store on first use."""
        if self.pending is not None:
            assert self.store is not None
            got = self.store.summaries(self.pending)
            if got is None:
                raise IndexDamaged(self.pending[-1])
            self.fold.summaries, self.pending = got, None
        return self.fold

    def segments(
        self,
        since: int | None = None,
        until: int | None = None,
        fill: tuple[GitRepo, Pick] | None = None,
    ) -> list[list[Any]]:
        """The records in order, by segment; only the segments holding an event from day
        `since` to day `until` (ordinals) when given. `fill`: the events its pick chooses
        come with their fields, read by one `git cat-file --batch` and stored back (the next
        run need not read them again). A segment gone bad raises IndexDamaged."""
        if self.records is not None:
            chosen = [(None, self.records)]
        else:
            assert self.store is not None and self.head is not None
            chosen = []
            for entry in self.head["segments"]:
                first, last = entry[3], entry[4]
                if (since is not None and last < since) or (until is not None and first > until):
                    continue
                if self.limit is not None and entry[1] >= self.limit:
                    break
                got = self.cut.get(entry[1]) or self.store.segment(entry)
                if got is None:
                    raise IndexDamaged(entry[0])
                if self.limit is not None and entry[1] + len(got) > self.limit:
                    got = got[: self.limit - entry[1]]
                chosen.append((entry, got))
        if fill is not None:
            chosen = self._filled(chosen, *fill)
        return [records for _entry, records in chosen]

    def _filled(self, chosen: list[Any], git: GitRepo, pick: Pick) -> list[Any]:
        def wanted(rec: Record) -> list[Ev]:
            action = rec[R_ACTION]
            return [e for e in rec[R_EVENTS] if gitlog.needs_diff(action, e) and pick(rec, e)]

        blobs = {
            b
            for _entry, records in chosen
            for rec in records
            for e in wanted(rec)
            for b in (e[gitlog.E_OLD_BLOB], e[gitlog.E_NEW_BLOB])
        }
        if not blobs:
            return chosen
        keys = blobkeys.read_keys(git, blobs)
        out = []
        for entry, records in chosen:
            filled = [gitlog.detailed(rec, keys, pick) for rec in records]
            if entry is not None and self.limit is not None:  # `--as-of`: kept in memory only
                self.cut[entry[1]] = filled
            elif entry is not None and self.store is not None and filled != records:
                self.store.write_segment(entry[1], filled, (entry[3], entry[4]))
            out.append((entry, filled))
        if self.records is not None:
            self.records = out[0][1]
        return out

    def life(self, deal: str, git: GitRepo | None = None) -> list[tuple[Record, Ev]]:
        """Every event of one deal's life, in order, read from the segments that hold one;
        with `git`, every event of it comes with its fields (read once, then stored)."""
        refs = self.fold.refs.get(deal)
        if refs is None and self.store is not None and self.head is not None and not self.limit:
            lives = self.store.lives(self.head["lives"])
            if lives is None:
                raise IndexDamaged(self.head["lives"])
            refs = lives.get(deal)
        if not refs:
            return []
        places = [unref(r) for r in (array("q", refs) if isinstance(refs, bytes) else refs)]
        # a rename onto an id that had a life puts older events after newer ones: each
        # segment needed is read once, one at a time, and the events put back in life order
        wanted: dict[int, list[int]] = {}
        starts = self._starts()
        for n, (pos, _i) in enumerate(places):
            wanted.setdefault(bisect.bisect_right(starts, pos) - 1, []).append(n)
        found: list[Any] = [None] * len(places)
        for at in sorted(wanted):
            got = self._segment(at)
            for n in wanted[at]:
                pos, i = places[n]
                rec = got[pos - starts[at]]
                found[n] = (rec, rec[R_EVENTS][i])
        missing = [n for n, (rec, e) in enumerate(found) if gitlog.needs_diff(rec[R_ACTION], e)]
        if git is None or not missing:
            return found
        blobs = slice(gitlog.E_OLD_BLOB, gitlog.E_NEW_BLOB + 1)
        keys = blobkeys.read_keys(git, {b for n in missing for b in found[n][1][blobs]})
        for at in sorted({bisect.bisect_right(starts, places[n][0]) - 1 for n in missing}):
            records = list(self._segment(at))
            for n in missing:
                pos, i = places[n]
                if starts[at] <= pos < starts[at] + len(records):
                    rec = records[pos - starts[at]]
                    events = list(rec[R_EVENTS])
                    events[i] = gitlog.with_fields(events[i], keys)
                    records[pos - starts[at]] = (*rec[:R_EVENTS], tuple(events))
                    found[n] = (records[pos - starts[at]], events[i])
            self._put(at, records)
        return found

    def _starts(self) -> list[int]:
        if self.records is not None:
            return [0]
        assert self.head is not None
        return [entry[1] for entry in self.head["segments"]]

    def _segment(self, at: int) -> list[Any]:
        if self.records is not None:
            return self.records
        assert self.store is not None and self.head is not None
        entry = self.head["segments"][at]
        got = self.cut.get(entry[1]) or self.store.segment(entry)
        if got is None:
            raise IndexDamaged(self.head["segments"][at][0])
        return got

    def _put(self, at: int, records: list[Any]) -> None:
        """Keep records that gained fields: in memory, or stored again."""
        if self.records is not None:
            self.records[:] = records
            return
        if self.limit is not None:  # HEAD's segment, read for a commit before HEAD: not kept
            assert self.head is not None
            self.cut[self.head["segments"][at][1]] = records
            return
        assert self.store is not None and self.head is not None
        entry = self.head["segments"][at]
        self.store.write_segment(entry[1], records, (entry[3], entry[4]))


class IndexDamaged(Exception):
    """A file the index's head names is gone or does not check out."""


# --- building and bringing up to date -------------------------------------------------------


def store_for(git: GitRepo, root: Path, prefix: str) -> stored.Store | None:
    """The index of the pipeline at `root`, or None when caches are off."""
    if os.environ.get(framed.DISABLE_ENV):
        return None
    try:
        directory = framed.default_dir(root, git.git_dir()) / "history"
    except GitError:  # a `.git` file naming no git directory: nothing is stored there
        return None
    parts = (FORMAT, __version__, _code(), prefix, sys.version)
    key = framed.digest_of(parts)
    return stored.Store(directory, key)


# Packs past this size hold a long history (a generated one of 120,000 commits packs to
# 0.3 GB, one of a million to 2.2 GB)
LONG_HISTORY_BYTES = 1 << 30


def long_first_walk(git: GitRepo, root: Path) -> bool:
    """Whether the next run builds the index of a long history from nothing: no index of
    the pipeline at `root` on disk (its head file; whether it checks out is known only once
    read) and object packs past LONG_HISTORY_BYTES, told by `stat` alone. A run that knows
    can keep its other large reads apart from the build (`cli/reports.figures_of`)."""
    try:
        head = framed.default_dir(root, git.git_dir()) / "history" / "head"
        if not os.environ.get(framed.DISABLE_ENV) and head.is_file():
            return False
        with os.scandir(git.common_dir() / "objects" / "pack") as found:
            packs = [
                e.stat(follow_symlinks=False).st_size for e in found if e.name.endswith(".pack")
            ]
    except (GitError, OSError):
        return False
    return sum(packs) > LONG_HISTORY_BYTES


def snapshot(
    git: GitRepo,
    root: Path,
    prefix: str,
    boundary: frozenset[str],
    head: str,
    pick: Pick | None = None,
    fresh: bool = False,
) -> Snapshot:
    """History after commit `head`, from the index brought up to date (and stored), or when
    there is none to use, from one walk of all of it; the new events `pick` chooses come with
    their fields. `fresh`: the index is not read, only written (a file it names went bad)."""
    store = store_for(git, root, prefix)
    partial = bool(boundary)
    meta = store.head() if store is not None and not fresh else None
    grafts = grafts_of(git) if store is not None else ()
    if meta is not None and (meta["boundary"] != sorted(boundary) or meta["grafts"] != grafts):
        meta = None  # a deepened or cut clone, other grafts: parents changed under the index
    if meta is not None and store is not None:
        if meta["tip"] == head:
            return _from_head(store, meta, partial)
        try:
            new = gitlog.walk(git, prefix, [head, "^" + meta["tip"]], boundary, pick)
        except GitError:
            new = None  # the tip is gone from the repository (a rewrite, then gc): start over
        if new is not None:
            try:
                return _update(store, meta, new, head, boundary, grafts)
            except (IndexDamaged, *_BAD):
                pass
    if store is not None:  # built in bounded memory, straight into the store
        fold, meta, records = histbuild.build(store, git, prefix, head, boundary, grafts, pick)
        if meta is not None:
            return Snapshot(fold, partial, store=store, head=meta)
        return Snapshot(fold, partial, records=records)
    ordered = _ordered(head, gitlog.walk(git, prefix, [head], boundary, pick))
    return Snapshot(_fold(ordered), partial, records=ordered)


def snapshot_at(
    git: GitRepo,
    root: Path,
    prefix: str,
    boundary: frozenset[str],
    head: str,
    commit: str,
    pick: Pick | None = None,
    fresh: bool = False,
) -> Snapshot:
    """History after `commit`, a commit on HEAD's first-parent line (`--as-of`), as a
    checkout of `commit` would read it.

    The canonical order walks first parents first, so the commits before `commit` in HEAD's
    order are exactly those `commit` reaches, in `commit`'s own order: HEAD's index (brought
    up to date as any command brings it) is cut there and folded again. That fold is kept
    for the last commit asked (`asof-fold`, beside the index: a commit's history never
    changes), so asking again after new commits reads no segment. Without an index, one
    walk from `commit`; nothing is stored then."""
    if commit == head:
        return snapshot(git, root, prefix, boundary, head, pick, fresh)
    store = store_for(git, root, prefix)
    partial = bool(boundary)
    if store is not None:
        snap = snapshot(git, root, prefix, boundary, head, pick, fresh)
        memo_key = framed.digest(
            store.key + framed.digest_of((commit, sorted(boundary), grafts_of(git)))
        )
        memo = store.directory.parent / "asof-fold"
        try:
            if snap.records is None and not fresh:
                kept = _kept_fold(framed.read(memo, _ASOF, memo_key))
                if kept is not None and _at(snap, kept[0]) == commit:
                    return Snapshot(
                        kept[1], partial, store=snap.store, head=snap.head, limit=kept[0] + 1
                    )
            records = snap.records
            if records is None:
                assert snap.store is not None and snap.head is not None
                records = _all(snap.store, snap.head)
            at = next((i for i, r in enumerate(records) if r[R_SHA] == commit), None)
            cut = None if at is None else records[: at + 1]
        except (IndexDamaged, *_BAD):
            cut = None
        if cut is not None:
            fold = _fold(cut)
            summaries = fold.stored_summaries()
            state = (len(cut) - 1, summaries, fold.stored_refs(), fold.dates, fold.hand)
            framed.write(memo, _ASOF, memo_key, state)
            return Snapshot(fold, partial, records=cut)
    # no index, one gone bad, or `commit` not on HEAD's line after all
    ordered = _ordered(commit, gitlog.walk(git, prefix, [commit], boundary, pick))
    return Snapshot(_fold(ordered), partial, records=ordered)


_ASOF = framed.Kind(b"PIPECTL-ASOFFOLD\x00", 2)  # 2: summaries as stored


def _fold(ordered: list[Record]) -> Fold:
    fold = Fold()
    for pos, rec in enumerate(ordered):
        fold.add(pos, rec)
    return fold


def _kept_fold(data: Any) -> tuple[int, Fold] | None:
    """The (position, fold) `snapshot_at` kept, if it has the shape it writes."""
    if not (isinstance(data, tuple) and len(data) == 5 and isinstance(data[0], int)):
        return None
    at, summaries, refs, dates, hand = data
    if not all(isinstance(v, t) for v, t in ((summaries, dict), (refs, dict), (dates, dict))):
        return None
    return (at, Fold(summaries, refs, dates, hand)) if isinstance(hand, set) else None


def _at(snap: Snapshot, pos: int) -> str | None:
    """The commit at position `pos` of a stored index (one segment read), or None."""
    assert snap.head is not None
    for n, entry in enumerate(snap.head["segments"]):
        if entry[1] <= pos < entry[1] + entry[2]:
            got = snap._segment(n)
            return str(got[pos - entry[1]][R_SHA])
    return None


_BAD = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def _from_head(store: stored.Store, meta: dict[str, Any], partial: bool) -> Snapshot:
    fold = Fold({}, {}, meta["dates"], meta["hand"])
    return Snapshot(fold, partial, store=store, head=meta, pending=meta["summaries"])


def _ordered(head: str, records: list[Record]) -> list[Record]:
    by_sha = {r[R_SHA]: r for r in records}
    shas = order(head, {sha: r[R_PARENTS] for sha, r in by_sha.items()})
    return [by_sha[s] for s in shas]


def _update(
    store: stored.Store,
    meta: dict[str, Any],
    new: list[Record],
    head: str,
    boundary: frozenset[str],
    grafts: tuple[Any, ...],
) -> Snapshot:
    by_sha = {r[R_SHA]: r for r in new}
    partial = bool(boundary)
    if new and histfold.extends(head, meta["tip"], by_sha):
        # the usual case: commits on top of the tip, appended; the fold goes on from its state
        added = _ordered(head, new)
        lives, summaries = store.lives(meta["lives"]), store.summaries(meta["summaries"])
        if lives is None or summaries is None:
            raise IndexDamaged(meta["lives"] if lives is None else meta["summaries"][-1])
        fold = Fold(summaries, dict(lives), meta["dates"], meta["hand"])
        for pos, rec in enumerate(added, meta["count"]):
            fold.add(pos, rec)
        segments = list(meta["segments"])
        carry: list[Any] = []
        if segments and segments[-1][2] < stored.SEGMENT_COMMITS:
            last = store.segment(segments[-1])
            if last is None:
                raise IndexDamaged(segments[-1][0])
            carry = last
            segments.pop()
        start = meta["count"] - len(carry)
        head_meta = _store(
            store, head, boundary, grafts, fold, carry + added, segments, start,
            read_from=meta["summaries"],
        )  # fmt: skip
        if head_meta is None:
            return Snapshot(fold, partial, records=_all(store, meta) + added)
        return Snapshot(fold, partial, store=store, head=head_meta)
    # HEAD left the tip's line: keep the indexed commits it still reaches, fold all again
    old = _all(store, meta)
    known = {r[R_SHA]: r for r in old}
    if not new and head not in known:
        raise IndexDamaged("head")
    roots = [p for r in new for p in r[R_PARENTS] if p not in by_sha] if new else [head]
    kept: dict[str, Record] = {}
    todo = [p for p in roots if p in known]
    while todo:
        sha = todo.pop()
        if sha not in kept:
            kept[sha] = known[sha]
            todo.extend(p for p in known[sha][R_PARENTS] if p in known and p not in kept)
    kept.update(by_sha)
    ordered = _ordered(head, list(kept.values()))
    fold = Fold()
    for pos, rec in enumerate(ordered):
        fold.add(pos, rec)
    whole = frozenset(entry[0] for entry in meta["segments"])  # each read whole just now
    _store(store, head, boundary, grafts, fold, ordered, [], 0, whole)
    return Snapshot(fold, partial, records=ordered)


def _all(store: stored.Store, meta: dict[str, Any]) -> list[Record]:
    out: list[Record] = []
    for entry in meta["segments"]:
        got = store.segment(entry)
        if got is None:
            raise IndexDamaged(entry[0])
        out.extend(got)
    return out


def _store(
    store: stored.Store,
    tip: str,
    boundary: frozenset[str],
    grafts: tuple[Any, ...],
    fold: Fold,
    records: list[Record],
    segments: list[Any],
    start: int,
    kept: frozenset[str] = frozenset(),
    read_from: list[str] | None = None,
) -> dict[str, Any] | None:
    """Write `records` (from position `start`, after `segments`) and the head; the head, or
    None when it could not all be stored. `read_from`: the summary files the fold went on
    from (histbuild.write_head)."""
    segments = list(segments)
    size = stored.SEGMENT_COMMITS
    for at in range(0, len(records), size):
        chunk = records[at : at + size]
        entry = store.write_segment(start + at, chunk, histbuild.days(chunk), kept)
        if entry is None:
            return None
        segments.append(entry)
    count = start + len(records)
    return histbuild.write_head(store, tip, boundary, grafts, fold, segments, count, read_from)


_CODE: list[bytes] = []


def _code() -> bytes:
    """The code that makes records and folds them: an index made by other code is not read."""
    if not _CODE:
        parts = []
        for module in (gitlog, histfold, sys.modules[__name__]):
            try:
                parts.append(Path(module.__file__ or "").read_bytes())
            except OSError:
                parts.append(b"")
        _CODE.append(framed.digest(b"\0".join(parts)))
    return _CODE[0]


def day(ordinal: int) -> dt.date:
    return dates.from_ordinal(ordinal)
