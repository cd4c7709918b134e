"""The one reader of git's log: every deal's life, and when each file arrived in its folder,
each from ONE streamed `git log` pass, renames followed.

Never one git process per deal (per-deal `--follow` is hundreds of times slower); field
diffs, when asked for, come from one more `git cat-file --batch` process. Starts git only
through `gitrepo.GitRepo`. Never prints.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipectl import blobkeys
from pipectl.errors import GitError
from pipectl.gitrepo import GitNotFound, GitRepo

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

_TRAILER_RE = re.compile(r"^Pipectl-(Action|Deal):[ \t]*(\S.*?)\s*$", re.MULTILINE)
_MARK = "\x1e"  # starts each commit header in the log stream
# Fields of the header, NUL-separated because -z output cannot contain NUL elsewhere.
_FORMAT = f"{_MARK}%H%x00%P%x00%an%x00%ae%x00%aI%x00%B"
_HEADER_FIELDS = 6
# pipectl's own actions whose commit says everything: no blob diff needed to describe them.
_SELF_DESCRIBING = frozenset({"add", "log", "move", "won", "lost", "init"})


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
        return self.action not in _SELF_DESCRIBING


@dataclass(frozen=True)
class History:
    """Events oldest first, each deal's events by its current id, and whether it is whole."""

    events: tuple[Event, ...] = ()
    by_deal: Mapping[str, tuple[Event, ...]] = field(default_factory=dict)
    partial: bool = False  # a shallow clone: the oldest commits are missing
    available: bool = True  # False outside git: no audit trail at all

    def of(self, deal_id: str) -> tuple[Event, ...]:
        return self.by_deal.get(deal_id, ())


def read(git: GitRepo | None, root: Path, detail: Callable[[Event], bool] | None = None) -> History:
    """The history of every deal under the pipeline `root`, from one `git log` pass; the events
    `detail` picks come with their changed fields (as from `with_fields`), read by ONE `git
    cat-file --batch` while git is still walking the log."""
    if git is None:
        return History(available=False)
    prefix = _prefix(git, root)
    boundary = git.shallow_boundary()

    def picks(e: Event) -> bool:
        return detail is not None and e.needs_diff() and detail(e)

    with contextlib.ExitStack() as stack:
        blobs = None
        if detail is not None:
            blobs = blobkeys.KeyReader(stack.enter_context(git.pipes(["cat-file", "--batch"])))
        try:
            commits = []
            # no pathspec when the pipeline is the whole repository: one doubles git's work
            # (TREESAME checks)
            for c in _log(git, [prefix] if prefix else []):
                # turned into events at once: this work overlaps git's walk to the next commit
                action, _ = _trailers(c.message)
                c.events = _commit_events(c, prefix, action, c.message.split("\n", 1)[0].strip())
                commits.append(c)
                if blobs is not None:
                    blobs.want(_blobs(e for e in c.events if picks(e)))
            if blobs is not None:
                keys = blobs.finish()
                for c in commits:
                    c.events = [_detailed(e, keys) if picks(e) else e for e in c.events]
        except GitError as exc:
            if "does not have any commits" in str(exc):
                return History(partial=bool(boundary))
            raise
    # a boundary commit of a shallow clone diffs against nothing: it would claim that every
    # file was created that day, so it says nothing true about any deal
    commits = [c for c in _parents_first(commits) if c.sha not in boundary]
    return _build(commits, bool(boundary))


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


def read_arrivals(git: GitRepo | None, root: Path) -> Arrivals:
    """For each path under `root`, the date it entered its folder, from one `git log` pass:
    the newest add or move into it (a rename inside its folder keeps the older arrival).

    Never guesses in a shallow clone: the boundary commits would claim that every file was
    added that day, so they are skipped, and a path seen only there has no date.
    """
    if git is None:
        return Arrivals(unavailable="not a git repository")
    boundary = git.shallow_boundary()
    why = "shallow git clone" if boundary else None
    try:
        base = _prefix(git, root)
        log = _log(git, [base.rstrip("/") or "."], "--diff-filter=ADR")
        found = _arrivals(log, base, boundary)
    except (GitNotFound, OSError, ValueError):
        return Arrivals(unavailable="git history could not be read")
    except GitError:
        # git ran and failed: a repository without commits yet has no history to offer
        return Arrivals(unavailable="no git history" if not boundary else why)
    return replace(found, unavailable=why)


def _arrivals(newest_first: Iterable[_Commit], base: str, boundary: frozenset[str]) -> Arrivals:
    dates: dict[str, dt.date] = {}
    by_hand: set[str] = set()
    # a path renamed inside its folder waits for the arrival of the path it had before
    waiting: dict[str, str] = {}
    for c in newest_first:
        if c.sha in boundary:
            continue
        hand = _trailers(c.message)[0] is None
        gone = {}  # id -> stage of a deal file deleted by this commit
        for status, _, _, path, _ in c.entries:
            where = _deal_path(path, base) if status[:1] == "D" else None
            if where:
                gone[where[1]] = where[0]
        for status, _, _, path, path2 in c.entries:
            if status[:1] == "D":
                continue
            arrived = path if path2 is None else path2
            if not arrived.startswith(base):
                continue
            rel = arrived[len(base) :]
            owner = waiting.pop(rel, None)
            if owner is None:
                if rel in dates:  # the log runs newest first: the current arrival is known
                    continue
                owner = rel
            dst = _deal_path(arrived, base)
            src_stage = gone.get(dst[1]) if dst and path2 is None else None
            if path2 is not None:
                src = _deal_path(path, base)
                if src and dst and src[0] == dst[0]:
                    waiting[path[len(base) :]] = owner  # a new name, not a new folder
                    continue
                src_stage = src[0] if src else None
            dates[owner] = c.date.date()
            if hand and dst and src_stage is not None and src_stage != dst[0]:
                by_hand.add(owner)
    return Arrivals(dates, None, frozenset(by_hand))


def _prefix(git: GitRepo, root: Path) -> str:
    rel = git.rel(root)
    return "" if rel == "." else rel + "/"


# --- parsing the log stream -----------------------------------------------------------------


@dataclass
class _Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: dt.datetime
    message: str
    entries: list[tuple[str, str, str, str, str | None]]  # status, old, new blob, path, path2
    events: list[Event] = field(default_factory=list)  # filled while git is still walking


def _log(git: GitRepo, paths: Sequence[str], *options: str) -> Iterator[_Commit]:
    """The commits `git log` shows for `paths` (all if none), newest first as git walks, with
    their raw entries (renames found), parsed while git is still walking."""
    # the user's log settings must not change what is read: no --follow, the root commit's
    # files shown, paths unquoted
    config = ["-c", "log.follow=false", "-c", "log.showRoot=true", "-c", "core.quotePath=false"]
    shape = ["-M", "--raw", "--no-abbrev", "-z", "--diff-merges=off", "--no-color"]
    header = ["--no-show-signature", "--encoding=UTF-8", f"--format={_FORMAT}"]
    spec = ["--", *paths] if paths else []
    return _commits(git.stream([*config, "log", *shape, *header, *options, *spec]))


def _commits(chunks: Iterable[bytes]) -> Iterator[_Commit]:
    """Commits from git's -z output, each chunk decoded and split at NULs as it arrives; a
    header or raw entry cut by a chunk's end waits for the next chunk."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    current: _Commit | None = None
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
    tokens: list[str], current: _Commit | None, final: bool
) -> Generator[_Commit, None, tuple[_Commit | None, int]]:
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
            current = _Commit(token[1:], tuple(par.split()), name, mail, _when(date), body, [])
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
            current.entries.append((status, parts[2], parts[3], path, path2))
            i += 3 if two else 2
        else:
            i += 1
    return current, i


def _parents_first(newest_first: list[_Commit]) -> list[_Commit]:
    """Oldest first with every parent before its children, even when clocks were skewed."""
    pos = {c.sha: i for i, c in enumerate(newest_first)}
    if all(pos.get(p, len(pos)) > i for i, c in enumerate(newest_first) for p in c.parents):
        return newest_first[::-1]  # git's order already holds (the usual case)
    by_sha = {c.sha: c for c in newest_first}
    out: list[_Commit] = []
    seen: set[str] = set()
    for start in reversed(newest_first):
        stack: list[tuple[_Commit, bool]] = [(start, False)]
        while stack:
            c, ready = stack.pop()
            if ready:
                out.append(c)
            elif c.sha not in seen:
                seen.add(c.sha)
                stack.append((c, True))
                stack.extend((by_sha[p], False) for p in c.parents if p in by_sha)
    return out


def _when(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return dt.datetime.fromtimestamp(0, dt.timezone.utc)


def _trailers(message: str) -> tuple[str | None, str | None]:
    found: dict[str, str] = {m.group(1): m.group(2) for m in _TRAILER_RE.finditer(message)}
    return found.get("Action"), found.get("Deal")


def _deal_path(path: str, prefix: str) -> tuple[str, str] | None:
    """(stage, id) for `STAGE/ID.md` directly under the pipeline root, else None."""
    if not path.startswith(prefix):
        return None
    parts = path[len(prefix) :].split("/")
    if len(parts) != 2 or not parts[1].endswith(".md") or parts[1].startswith("."):
        return None
    return parts[0], parts[1][:-3]


# --- from commits to the lives of deals -----------------------------------------------------

_NULL = "0" * 40


def _build(commits: Iterable[_Commit], partial: bool) -> History:
    events: list[Event] = []
    # Each deal's events live in one list, found by the deal's id at each moment; a rename
    # of the file (a new id) carries the list over, as `git log --follow` does.
    lives: dict[str, list[Event]] = {}
    for c in commits:
        for ev in c.events:
            if ev.old_deal is not None:
                carried = lives.pop(ev.old_deal, [])
                lives.setdefault(ev.deal, []).extend(carried)
            lives.setdefault(ev.deal, []).append(ev)
        events.extend(c.events)
    return History(tuple(events), {k: tuple(v) for k, v in lives.items()}, partial, True)


def _commit_events(c: _Commit, prefix: str, action: str | None, subject: str) -> list[Event]:
    def event(kind: str, deal: str, stage: str, path: str, **more: Any) -> Event:
        return Event(
            commit=c.sha,
            date=c.date,
            author=c.author,
            email=c.email,
            action=action,
            subject=subject,
            kind=kind,
            deal=deal,
            stage=stage,
            path=path[len(prefix) :],
            **more,
        )

    added: dict[str, tuple[str, str, str]] = {}  # id -> (stage, path, blob)
    deleted: dict[str, tuple[str, str, str]] = {}
    out: list[Event] = []
    for status, old_blob, new_blob, path, path2 in c.entries:
        if status[:1] == "R" and path2 is not None:
            src, dst = _deal_path(path, prefix), _deal_path(path2, prefix)
            if src and dst:
                out.append(
                    event(
                        MOVED if src[0] != dst[0] else RENAMED,
                        dst[1],
                        dst[0],
                        path2,
                        from_stage=src[0],
                        old_deal=src[1] if src[1] != dst[1] else None,
                        old_path=path[len(prefix) :],
                        old_blob=old_blob,
                        new_blob=new_blob,
                        content_changed=status != "R100",
                    )
                )
            elif dst:  # moved in from outside the pipeline: new here
                added[dst[1]] = (dst[0], path2, new_blob)
            elif src:
                deleted[src[1]] = (src[0], path, old_blob)
            continue
        where = _deal_path(path, prefix)
        if where is None:
            continue
        stage, deal_id = where
        if status[:1] == "A" or old_blob == _NULL:
            added[deal_id] = (stage, path, new_blob)
        elif status[:1] == "D":
            deleted[deal_id] = (stage, path, old_blob)
        else:
            kind = _modified_kind(action)
            out.append(event(kind, deal_id, stage, path, old_blob=old_blob, new_blob=new_blob))
    for deal_id, (stage, path, blob) in added.items():
        gone = deleted.pop(deal_id, None)
        if gone is None:
            out.append(event(CREATED, deal_id, stage, path, new_blob=blob))
        else:  # a move git's rename detection missed: the same id in another folder
            out.append(
                event(
                    MOVED,
                    deal_id,
                    stage,
                    path,
                    from_stage=gone[0],
                    old_path=gone[1][len(prefix) :],
                    old_blob=gone[2],
                    new_blob=blob,
                )
            )
    for deal_id, (stage, path, blob) in deleted.items():
        out.append(event(DELETED, deal_id, stage, path, old_blob=blob))
    return out


def _modified_kind(action: str | None) -> str:
    return LOGGED if action == "log" else EDITED if action in (None, "edit") else CHANGED


# --- narrowing and detail -------------------------------------------------------------------


def window(
    events: Iterable[Event], since: dt.date | None = None, until: dt.date | None = None
) -> list[Event]:
    """Events whose (author's local) date lies in [since, until]."""
    return [
        e for e in events if (since is None or e.day >= since) and (until is None or e.day <= until)
    ]


def with_fields(git: GitRepo | None, events: Sequence[Event]) -> list[Event]:
    """The events with the frontmatter keys each one changed, read by ONE cat-file process."""
    wanted = _blobs(e for e in events if e.needs_diff())
    if git is None or not wanted:
        return list(events)
    keys = blobkeys.read_keys(git, wanted)
    return [_detailed(e, keys) if e.needs_diff() else e for e in events]


def _blobs(events: Iterable[Event]) -> set[str]:
    """The blob ids, before and after, that tell what these events changed."""
    return {b for e in events for b in (e.old_blob, e.new_blob) if b}


def _detailed(e: Event, keys: Mapping[str, Mapping[str, str]]) -> Event:
    """The event with the keys it changed; a blob gone from a shallow clone reads as empty."""
    old = keys.get(e.old_blob or "") or blobkeys.EMPTY
    new = keys.get(e.new_blob or "") or blobkeys.EMPTY
    return replace(e, fields=blobkeys.changed_keys(old, new), fields_read=True)
