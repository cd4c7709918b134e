"""What happened to the pipeline between two commits (`pipectl changes`): every move, value
change, slipped close date, owner change and touchpoint the commits in between made, the
deals that went stale, and the waterfall from the open pipeline at the start to the one at
the end, which balances exactly by construction (docs/review.md defines every bucket).

The events come from the history index (pipectl/history.py: one `git log` over the commits
new since the last run); what each did from pipectl/eventfacts.py (kept across runs by its two
blob ids; the rest from ONE `git cat-file --batch` over the blobs they touched); the two ends
from the commits' trees (pipectl/asof.py). `read` gathers those; `compute` is a pure function
of them. Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipectl import asof, changeends, history
from pipectl.caches import framed
from pipectl.caches.briefs import BriefCache
from pipectl.caches.windows import WindowMemo
from pipectl.changeends import CONVERTED, ID, IDLE, NO_RATE, STAGE, STALE, STATE, VALUE
from pipectl.config import Config
from pipectl.deal import Touchpoint
from pipectl.errors import GitError, UsageError
from pipectl.eventfacts import Facts, Side, facts_of
from pipectl.gitrepo import GitRepo
from pipectl.history import CREATED, DELETED, MOVED, RENAMED, Event
from pipectl.owners import owner_key, roster_handle
from pipectl.store import Pipeline
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
class Window:
    """The two ends compared: `base` (None: before the first commit) and `tip`, the days
    they stand for, and the close date the waterfall's pipeline is due by (None: any)."""

    since: dt.date | None  # the first day after `base`
    until: dt.date  # the day of `tip`
    base: str | None
    tip: str
    rev_range: str | None = None  # as typed, when the ends came from a revision range
    close_by: dt.date | None = None


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


StaleFrom = changeends.StaleFrom


# --- the two ends -------------------------------------------------------------------------


def window(
    git: GitRepo,
    since: dt.date | None,
    until: dt.date,
    rev_range: str | None = None,
    close_by: dt.date | None = None,
) -> Window:
    """The ends of a date window (the last commit of the day before `since`, the last of
    `until`) or of a revision range `A..B` / `A...B` (from their merge base) / `A` (A..HEAD)."""
    if rev_range is not None:
        base, tip = _range(git, rev_range)
        days = _commit_days(git, [c for c in (base, tip) if c])
        # the days after base's, or its own when both ends are of one day (a quick PR)
        start = min(days[base] + dt.timedelta(days=1), days[tip]) if base else None
        return Window(start, days[tip], base, tip, rev_range, close_by)
    tip_ = asof.commit_on(git, until)
    if tip_ is None:
        raise UsageError(f"--until {until.isoformat()} is before the first commit")
    base_ = asof.commit_on(git, since - dt.timedelta(days=1)) if since else None
    return Window(since, until, base_, tip_, None, close_by)


def _range(git: GitRepo, text: str) -> tuple[str | None, str]:
    left, dots, right = text.partition("...")
    if not dots:
        left, dots, right = text.partition("..")
    if not dots:
        left, right = text, "HEAD"
    base, tip = _commit(git, left or "HEAD"), _commit(git, right or "HEAD")
    if dots == "...":
        proc = git.run(["merge-base", base, tip], check=False)
        base = proc.stdout.strip()
        if proc.returncode != 0 or not base:
            raise UsageError(f"{text}: its two sides have no commit in common")
    on_head = git.run(["merge-base", "--is-ancestor", tip, "HEAD"], check=False)
    if on_head.returncode != 0:
        raise UsageError(
            f"{text}: {right or 'HEAD'} is not in HEAD's history (check it out, then run again)"
        )
    return base, tip


def _commit(git: GitRepo, rev: str) -> str:
    if rev.startswith("-"):
        raise UsageError(f"{rev!r} is not a revision")
    proc = git.run(
        ["rev-parse", "--verify", "-q", "--end-of-options", rev + "^{commit}"], check=False
    )
    if proc.returncode != 0:
        raise UsageError(f"{rev!r} names no commit here")
    return proc.stdout.strip()


def _commit_days(git: GitRepo, shas: Sequence[str]) -> dict[str, dt.date]:
    """Each commit's committer day, in its own zone (as `asof.commit_on` reads days)."""
    out = git.run(["show", "-s", "--no-show-signature", "--format=%H %cI", *shas]).stdout
    found = {}
    for line in out.splitlines():
        sha, _, when = line.partition(" ")
        if sha in shas and when:
            found[sha] = dt.date.fromisoformat(when[:10])
    return found


def _commits_between(git: GitRepo, w: Window) -> tuple[set[str], dt.date | None, dt.date | None]:
    """The commits `base..tip` and the first and last author day among them (the segments of
    the history index to read)."""
    revs = [w.tip] if w.base is None else [w.tip, "^" + w.base]
    out = git.run(["log", "--no-show-signature", "--format=%H %aI", *revs, "--"]).stdout
    shas, days = set(), []
    for line in out.splitlines():
        sha, _, when = line.partition(" ")
        if when:
            shas.add(sha)
            days.append(dt.date.fromisoformat(when[:10]))
    return shas, min(days, default=None), max(days, default=None)


# --- reading ------------------------------------------------------------------------------


def read(pipeline: Pipeline, w: Window, stale_from: StaleFrom) -> Changes:
    """Everything `compute` needs, read from git: the history index's events of the commits
    in the window, the blobs they touched (one cat-file), the two ends' trees; from what the
    last run over the same window kept (caches/windows.py) when the tip has only moved on."""
    git = pipeline.git
    if git is None:
        raise UsageError("not inside a git repository: there is no history to compare")
    hist = history.read(git, pipeline.root)
    memo = WindowMemo(_git_dir(git), _memo_key(git, pipeline.root, w))
    kept = memo.read()
    parts = None
    if kept is not None:
        try:
            parts = _onward(pipeline, w, hist, kept, stale_from)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            parts = None  # not the shape this code writes: read the window whole
    if parts is None:
        parts = _whole(pipeline, w, hist, stale_from)
    if parts is not kept:
        memo.write(parts)
    return compute(w, parts, hist.partial)


def _whole(pipeline: Pipeline, w: Window, hist: history.History, stale_from: StaleFrom) -> Parts:
    git = pipeline.git
    assert git is not None
    shas, lo, hi = _commits_between(git, w)
    events = [e for e in history.window(hist.events, lo, hi) if e.commit in shas] if shas else []
    facts = facts_of(git, events)
    cache = asof.blob_cache(pipeline.root, git)  # both ends: most deals are decoded once
    end = asof.pipeline_at(pipeline.root, git, w.tip, cache)
    start = _start(pipeline.root, git, w.base, cache)
    briefs = _briefs(git)  # what the two ends' figures read of a deal, kept by blob
    # each end in the base currency at that end's day and rate table, as `report --as-of`
    start_day = w.since - dt.timedelta(days=1) if w.since else w.until
    before = None
    if start is not None:
        before = changeends.rows(
            start, start.deal_refs(), briefs, start_day, w.close_by, stale_from
        )
    refs = end.deal_refs()
    after = changeends.rows(end, refs, briefs, w.until, w.close_by, stale_from)
    briefs.save()
    names = [f"{r.stage}/{r.name}" for r in refs]
    return {
        "tip": w.tip,
        "stages": list(end.config.stage_names),
        "env": _env(end.tree, names),
        "currency": end.config.currency,
        "start": before,
        "end": [names, [end.tree[n] for n in names], after],
        **_of_events(events, facts, end.config, w),
    }


def _onward(
    pipeline: Pipeline, w: Window, hist: history.History, kept: Parts, stale_from: StaleFrom
) -> Parts | None:
    """The parts of this run from those of the last run over the same window, whose tip this
    one's first-parent line passes through: its events and the new commits', its start, its
    end with the deal files whose blobs changed re-read. None when that cannot be."""
    git = pipeline.git
    assert git is not None
    if kept["tip"] == w.tip:
        return kept
    new = _new_commits(git, w, kept["tip"])
    if new is None:
        return None
    tree = asof.tree_of(pipeline.root, git, w.tip)
    stages = kept["stages"]
    names = [f"{s}/{n}" for s, n in asof.deal_names(tree, stages)]
    if _env(tree, names) != kept["env"]:
        return None  # pipeline.yaml, the rates or any other file changed: read it whole
    old_names, old_oids, old_rows = kept["end"]
    was = {n: (o, r) for n, o, r in zip(old_names, old_oids, old_rows, strict=True)}
    changed = [n for n in names if was.get(n, ("",))[0] != tree[n]]
    end = asof.narrow(pipeline.root, git, w.tip, tree, changed)
    if list(end.config.stage_names) != stages:
        return None
    fresh = dict(zip(changed, _rows_of(end, changed, w, stale_from), strict=True))
    shas, lo, hi = new
    events = [e for e in history.window(hist.events, lo, hi) if e.commit in shas] if shas else []
    more = _of_events(events, facts_of(git, events), end.config, w)
    return {
        **kept,
        "tip": w.tip,
        "end": [names, [tree[n] for n in names], [fresh.get(n) or was[n][1] for n in names]],
        "changes": kept["changes"] + more["changes"],
        "logged": kept["logged"] + more["logged"],
        "renames": kept["renames"] + more["renames"],
    }


def _rows_of(
    end: asof.PipelineAt, names: Sequence[str], w: Window, stale_from: StaleFrom
) -> list[changeends.Row]:
    refs = asof.refs_of(end.root, [tuple(n.split("/", 1)) for n in names])  # type: ignore[misc]
    return changeends.rows(end, refs, BriefCache(None), w.until, w.close_by, stale_from)


def _new_commits(
    git: GitRepo, w: Window, old_tip: str
) -> tuple[set[str], dt.date | None, dt.date | None] | None:
    """The commits `w.tip` adds to `old_tip`'s window, with their first and last author day,
    when old_tip is on w.tip's first-parent line through them (then the window's events are
    old_tip's and theirs after); else None."""
    revs = [w.tip, "^" + old_tip, *(["^" + w.base] if w.base else [])]
    fmt = "--format=%H %aI %P"
    out = git.run(["log", "--no-show-signature", fmt, *revs, "--"], check=False)
    if out.returncode != 0:
        return None  # the old tip is gone (a gc after a rewrite)
    first: dict[str, str | None] = {}
    days = []
    for line in out.stdout.splitlines():
        sha, when, *parents = line.split(" ")
        first[sha] = parents[0] if parents else None
        days.append(dt.date.fromisoformat(when[:10]))
    at: str | None = w.tip
    while at in first:
        at = first[at]
    if at != old_tip:
        return None
    return set(first), min(days, default=None), max(days, default=None)


def _env(tree: Mapping[str, str], deal_names: Sequence[str]) -> bytes:
    """A digest of every file of an end's tree that is not one of its deal files."""
    deals = set(deal_names)
    return framed.digest_of(sorted((p, o) for p, o in tree.items() if p not in deals))


def _memo_key(git: GitRepo, root: Path, w: Window) -> tuple[Any, ...]:
    """What the kept parts of a window depend on besides what they name: the window, where
    the pipeline is in the repository, the shallow boundary (a deepened clone's oldest commit
    has other changes)."""
    ordinal = [None if d is None else d.toordinal() for d in (w.since, w.until, w.close_by)]
    try:
        shallow = (git.git_dir() / "shallow").read_bytes()
    except (OSError, GitError):
        shallow = b""
    return (FORMAT, git.rel(root), w.base, w.rev_range, *ordinal, shallow)


def _git_dir(git: GitRepo) -> Path | None:
    try:
        return git.git_dir()
    except GitError:  # no git dir to keep a cache in
        return None


def _briefs(git: GitRepo) -> BriefCache:
    return BriefCache(_git_dir(git))


def _start(
    root: Path, git: GitRepo, base: str | None, cache: asof.BlobCache
) -> asof.PipelineAt | None:
    if base is None:
        return None
    try:
        return asof.pipeline_at(root, git, base, cache)
    except UsageError:  # the commit is older than the pipeline: it starts empty
        return None


# --- the pure part ------------------------------------------------------------------------


def _of_events(
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
    renames = _renames(parts["renames"])
    logged = tuple(_logged(g) for g in parts["logged"])
    wf = of_marks(
        {renames.get(r[ID]) or r[ID]: (r[STATE], r[VALUE]) for r in before},
        {r[ID]: (r[STATE], r[VALUE]) for r in after},
    )
    ends = ((w.base, parts["start"]), (w.tip, parts["end"][2]))
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
            f"{r} (at {c[:8]})"
            for c, rs in ends
            if c and rs is not None
            for r in rs
            if type(r) is str
        ),
        unconverted=tuple(sorted({r[ID] for r in (*before, *after) if r[NO_RATE]})),
    )


def _within(day: dt.date, w: Window) -> bool:
    if w.rev_range is not None:
        return True  # a range is its commits, whatever days their touchpoints name
    return (w.since is None or day >= w.since) and day <= w.until


def _changes_of(e: Event, old: Side | None, new: Side | None, config: Config) -> list[Change]:
    def made(kind: str, was: Any = None, now: Any = None, amount: Any = None) -> Change:
        return Change(e.deal, kind, e.date, e.author, e.commit, e.by_hand, was, now, amount)

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


def _day(ordinal: int) -> dt.date:
    return dt.date.fromordinal(ordinal)


def _renames(pairs: Sequence[Sequence[str]]) -> dict[str, str]:
    """Each id the window renamed, to the id it ended as."""
    to: dict[str, str] = {}
    for old, new in pairs:
        to[old] = new
        for k, v in list(to.items()):
            if v == old:
                to[k] = new
    return to
