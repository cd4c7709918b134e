"""The one reader of `git log`: ONE streamed pass, renames found, each commit turned at once
into a compact record of what it did to deal files (plain tuples, as the history index
stores them), its changed fields read by ONE `git cat-file --batch` while git still walks.

A record is `(sha, parents, author, email, date, action, subject, events)`, `date` the author
date as git printed it; an event is `(kind, deal, stage, from_stage, old_deal, path,
old_path, fields, old_blob, new_blob, content_changed)`, paths relative to the pipeline
root, `fields` None until read. Every commit is listed (the history index needs the whole
graph), but a pathspec keeps git's diffs inside the pipeline. Starts git only through
`gitrepo.GitRepo`. Never prints.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import re
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipectl import blobkeys
from pipectl.gitrepo import BOUNDED_PACK, GitRepo

# Kinds of event, in the words `pipectl history` prints.
CREATED, MOVED, LOGGED, CHANGED, EDITED, RENAMED, DELETED = (
    "created",
    "moved",
    "logged",
    "changed",
    "edited",
    "renamed",
    "deleted",
)
# The places of a record's and an event's parts.
R_SHA, R_PARENTS, R_AUTHOR, R_EMAIL, R_DATE, R_ACTION, R_SUBJECT, R_EVENTS = range(8)
E_KIND, E_DEAL, E_STAGE, E_FROM, E_OLD_DEAL, E_PATH, E_OLD_PATH, E_FIELDS = range(8)
E_OLD_BLOB, E_NEW_BLOB, E_CHANGED = 8, 9, 10

Record = tuple[Any, ...]
Ev = tuple[Any, ...]

# the value is stripped in Python: `(\S.*?)\s*$` cost the square of a run of blanks (a trailer
# of 150,000 spaces took minutes; tests/robustness/test_bounded.py)
_TRAILER_RE = re.compile(r"^Pipectl-(Action|Deal):(.*)$", re.MULTILINE)
_MARK = "\x1e"  # starts each commit header in the log stream
# Fields of the header, NUL-separated because -z output cannot contain NUL elsewhere.
_FORMAT = f"{_MARK}%H%x00%P%x00%an%x00%ae%x00%aI%x00%B"
_HEADER_FIELDS = 6
# pipectl's own actions whose commit says everything: no blob diff needed to describe them.
SELF_DESCRIBING = frozenset({"add", "log", "move", "won", "lost", "init"})
_NULL = "0" * 40
# Ids, paths, stages, names and object ids recur from commit to commit (a blob is one event's
# new blob and the next one's old): one object each keeps a long history's records small, in
# memory and in the index (marshal writes a repeated object once)
_intern = sys.intern


@dataclass
class Commit:
    """One commit as git's log printed it, with its raw entries."""

    sha: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: str  # the author date, ISO 8601 as git printed it
    message: str
    entries: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)

    @property
    def when(self) -> dt.datetime:
        return when(self.date)


def log(git: GitRepo, prefix: str, revisions: Sequence[str]) -> Iterator[Commit]:
    """Every commit reachable from `revisions`, newest first as git walks, with its entries
    under the pipeline `prefix` (renames found there), parsed while git is still walking."""
    # the user's log settings must not change what is read: no --follow, the root commit's
    # files shown, paths unquoted
    config = ["-c", "log.follow=false", "-c", "log.showRoot=true", "-c", "core.quotePath=false"]
    config += [*BOUNDED_PACK]  # its memory does not follow the pack's size
    shape = ["-M", "--raw", "--no-abbrev", "-z", "--diff-merges=off", "--no-color"]
    header = ["--no-show-signature", "--encoding=UTF-8", f"--format={_FORMAT}"]
    # a pathspec limits git's diffs to the pipeline; --full-history --sparse keep every commit
    # with its true parents (git would otherwise drop the commits of a side branch whose
    # changes a merge discarded). No pathspec for a pipeline that is the whole repository:
    # one would double git's work (TREESAME checks)
    spec = ["--full-history", "--sparse", "--", prefix] if prefix else []
    return commits(git.stream([*config, "log", *shape, *header, *revisions, *spec]))


def commits(chunks: Iterable[bytes]) -> Iterator[Commit]:
    """Commits from git's -z output, each chunk decoded and split at NULs as it arrives; a
    header or raw entry cut by a chunk's end waits for the next chunk."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    current: Commit | None = None
    pending: list[str] = []
    rest = ""
    for chunk in chunks:
        parts = (rest + decoder.decode(chunk)).split("\0")
        rest = parts.pop()
        pending = pending + parts if pending else parts
        current, used = yield from _fields(pending, current, False)
        pending = pending[used:]
    rest += decoder.decode(b"", final=True)
    if rest:
        pending.append(rest)
    current, _ = yield from _fields(pending, current, True)
    if current is not None:
        yield current


def _fields(
    tokens: list[str], current: Commit | None, final: bool
) -> Generator[Commit, None, tuple[Commit | None, int]]:
    """Parse what `tokens` holds whole; returns the open commit and how many tokens it used."""
    n, i = len(tokens), 0
    while i < n:
        token = tokens[i]
        if token[:1] == "\n":
            token = token.lstrip("\n")
        if token[:1] == _MARK:
            if i + _HEADER_FIELDS > n and not final:
                break
            if current is not None:
                yield current
            par, name, mail, date, body = (tokens[i + 1 : i + _HEADER_FIELDS] + [""] * 5)[:5]
            parents = tuple(_intern(p) for p in par.split())
            sha, date = _intern(token[1:]), date.strip()
            current = Commit(sha, parents, _intern(name), _intern(mail), date, body)
            i += _HEADER_FIELDS
        elif token[:1] == ":" and current is not None:
            # ":old_mode new_mode old_sha new_sha STATUS" then one or two paths
            parts = token[1:].split(" ")
            status = parts[4] if len(parts) > 4 else "M"
            two = status[:1] in ("R", "C")
            if i + (3 if two else 2) > n and not final:
                break
            path = tokens[i + 1] if i + 1 < n else ""
            path2 = (tokens[i + 2] if i + 2 < n else "") if two else None
            current.entries.append((status, _intern(parts[2]), _intern(parts[3]), path, path2))
            i += 3 if two else 2
        else:
            i += 1
    return current, i


def when(text: str) -> dt.datetime:
    """An author date as git printed it; the epoch for one that cannot be read."""
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return dt.datetime.fromtimestamp(0, dt.timezone.utc)


def trailers(message: str) -> tuple[str | None, str | None]:
    found: dict[str, str] = {}
    for m in _TRAILER_RE.finditer(message):
        value = m.group(2).strip()
        if value:
            found[m.group(1)] = value
    return found.get("Action"), found.get("Deal")


def deal_path(path: str, prefix: str) -> tuple[str, str] | None:
    """(stage, id) for `STAGE/ID.md` directly under the pipeline root, else None."""
    if not path.startswith(prefix):
        return None
    parts = path[len(prefix) :].split("/")
    if len(parts) != 2 or not parts[1].endswith(".md") or parts[1].startswith("."):
        return None
    return _intern(parts[0]), _intern(parts[1][:-3])


# --- from a commit to its record ------------------------------------------------------------


def record(c: Commit, prefix: str, boundary: bool = False) -> Record:
    """The commit's record. A boundary commit of a shallow clone diffs against nothing: it
    would claim that every file was created that day, so it says nothing about any deal."""
    action = trailers(c.message)[0]
    subject = c.message.split("\n", 1)[0].strip()
    events = () if boundary else tuple(_events(c, prefix, action))
    action = action and _intern(action)
    return (c.sha, c.parents, c.author, c.email, c.date, action, subject, events)


def _events(c: Commit, prefix: str, action: str | None) -> list[Ev]:
    n = len(prefix)

    def ev(kind: str, deal: str, stage: str, path: str, src: tuple[Any, ...] = ()) -> Ev:
        # src: (from_stage, old_deal, old_path, old_blob, new_blob, content_changed)
        f, od, op, ob, nb, changed = src or (None, None, None, None, None, True)
        here, before = _intern(path[n:]), op and _intern(op)
        return (kind, deal, stage, f, od, here, before, None, ob, nb, changed)

    added: dict[str, tuple[str, str, str]] = {}  # id -> (stage, path, blob)
    deleted: dict[str, tuple[str, str, str]] = {}
    out: list[Ev] = []
    for status, old_blob, new_blob, path, path2 in c.entries:
        if status[:1] == "R" and path2 is not None:
            src, dst = deal_path(path, prefix), deal_path(path2, prefix)
            if src and dst:
                kind = MOVED if src[0] != dst[0] else RENAMED
                old_deal = src[1] if src[1] != dst[1] else None
                more = (src[0], old_deal, path[n:], old_blob, new_blob, status != "R100")
                out.append(ev(kind, dst[1], dst[0], path2, more))
            elif dst:  # moved in from outside the pipeline: new here
                added[dst[1]] = (dst[0], path2, new_blob)
            elif src:
                deleted[src[1]] = (src[0], path, old_blob)
            continue
        where = deal_path(path, prefix)
        if where is None:
            continue
        stage, deal_id = where
        if status[:1] == "A" or old_blob == _NULL:
            added[deal_id] = (stage, path, new_blob)
        elif status[:1] == "D":
            deleted[deal_id] = (stage, path, old_blob)
        else:
            kind = _modified_kind(action)
            out.append(ev(kind, deal_id, stage, path, (None, None, None, old_blob, new_blob, True)))
    if action == "rename" and len(added) == 1 and len(deleted) == 1:
        # `pipectl rename` of a small file whose `id:` line changed too: below git's rename
        # similarity, still one deal (its commit says so)
        ((new_id, (stage, path, blob)),) = added.items()
        ((old_id, (old_stage, old_path, old_blob)),) = deleted.items()
        if new_id != old_id:
            more = (old_stage, old_id, old_path[n:], old_blob, blob, True)
            out.append(ev(RENAMED, new_id, stage, path, more))
            added.clear()
            deleted.clear()
    for deal_id, (stage, path, blob) in added.items():
        gone = deleted.pop(deal_id, None)
        if gone is None:
            out.append(ev(CREATED, deal_id, stage, path, (None, None, None, None, blob, True)))
        else:  # a move git's rename detection missed: the same id in another folder
            more = (gone[0], None, gone[1][n:], gone[2], blob, True)
            out.append(ev(MOVED, deal_id, stage, path, more))
    for deal_id, (stage, path, blob) in deleted.items():
        out.append(ev(DELETED, deal_id, stage, path, (None, None, None, blob, None, True)))
    return out


def _modified_kind(action: str | None) -> str:
    return LOGGED if action == "log" else EDITED if action in (None, "edit") else CHANGED


def needs_diff(action: str | None, e: Ev) -> bool:
    """Whether the changed fields must be read from the blobs to describe this event."""
    if e[E_FIELDS] is not None or not e[E_CHANGED] or not e[E_OLD_BLOB] or not e[E_NEW_BLOB]:
        return False
    return action not in SELF_DESCRIBING


# --- the walk -------------------------------------------------------------------------------

Pick = Callable[[Record, Ev], bool]


def walk(
    git: GitRepo,
    prefix: str,
    revisions: Sequence[str],
    boundary: frozenset[str],
    pick: Pick | None = None,
) -> list[Record]:
    """The records of every commit `revisions` reach, newest first; the events `pick` chooses
    among those that need a diff come with their fields, read by ONE `git cat-file --batch`
    while git is still walking the log (non-blocking pipes, no thread)."""
    out: list[Record] = []
    keys = walk_into(out.append, git, prefix, revisions, boundary, pick)
    if keys is not None and pick is not None:
        out = [detailed(rec, keys, pick) for rec in out]
    return out


def walk_into(
    put: Callable[[Record], object],
    git: GitRepo,
    prefix: str,
    revisions: Sequence[str],
    boundary: frozenset[str],
    pick: Pick | None = None,
) -> Mapping[str, blobkeys.Keys] | None:
    """`walk`, each record handed to `put` as git gives it (none held here) and without the
    fields `pick` wants: those come back as the blobs' keys, for `detailed`; None when no
    event wanted any."""
    with contextlib.ExitStack() as stack:
        blobs: blobkeys.KeyReader | None = None
        for c in log(git, prefix, revisions):
            # turned into a record at once: this work overlaps git's walk to the next commit
            rec = record(c, prefix, c.sha in boundary)
            put(rec)
            if pick is None:
                continue
            wanted = [e for e in rec[R_EVENTS] if needs_diff(rec[R_ACTION], e) and pick(rec, e)]
            if wanted:
                if blobs is None:  # started at the first blob wanted: often none is
                    pipes = stack.enter_context(git.pipes([*BOUNDED_PACK, "cat-file", "--batch"]))
                    blobs = blobkeys.KeyReader(pipes)
                blobs.want(b for e in wanted for b in (e[E_OLD_BLOB], e[E_NEW_BLOB]))
        return blobs.finish() if blobs is not None else None


def detailed(rec: Record, keys: Mapping[str, blobkeys.Keys], pick: Pick) -> Record:
    """The record with the fields of the events `pick` chooses among those needing them."""
    events = rec[R_EVENTS]
    action = rec[R_ACTION]
    chosen = [needs_diff(action, e) and pick(rec, e) for e in events]  # `pick` once an event
    if not any(chosen):
        return rec
    new = tuple(with_fields(e, keys) if c else e for e, c in zip(events, chosen, strict=True))
    return (*rec[:R_EVENTS], new)


def with_fields(e: Ev, keys: Mapping[str, blobkeys.Keys]) -> Ev:
    """The event with the keys it changed; a blob gone from a shallow clone reads as empty."""
    old = keys.get(e[E_OLD_BLOB] or "") or blobkeys.EMPTY
    new = keys.get(e[E_NEW_BLOB] or "") or blobkeys.EMPTY
    return (*e[:E_FIELDS], blobkeys.changed_keys(old, new), *e[E_FIELDS + 1 :])
