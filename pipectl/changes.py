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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipectl import asof, history, rates
from pipectl.caches.briefs import BriefCache
from pipectl.config import Config
from pipectl.deal import Deal, Touchpoint
from pipectl.errors import GitError, UsageError
from pipectl.eventfacts import Facts, Side, facts_of
from pipectl.figures import Life
from pipectl.gitrepo import GitRepo
from pipectl.history import CREATED, DELETED, MOVED, RENAMED, Event
from pipectl.owners import owner_key, roster_handle
from pipectl.report import convert_lives
from pipectl.store import Pipeline
from pipectl.waterfall import EXACT, State, Waterfall, money, waterfall

# Kinds of change, in the words JSON and the tables use; KINDS in the order summaries list them.
ADDED, ADVANCED, MOVED_BACK, MOVED_TO, WON, LOST, REOPENED = (
    "added", "advanced", "moved_back", "moved", "won", "lost", "reopened"
)  # fmt: skip
VALUE_UP, VALUE_DOWN, OWNER, RENAMED_TO, REMOVED = (
    "value_up", "value_down", "owner", "renamed", "removed"
)  # fmt: skip
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


# lint's PL301 for a deal, told by the caller (the kernel does not import lint): the day its
# idleness counts from and the first day it is stale; None when the rule does not apply
StaleFrom = Callable[[Deal, Config], "tuple[dt.date, dt.date] | None"]


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
    in the window, the blobs they touched (one cat-file), the two ends' trees."""
    git = pipeline.git
    if git is None:
        raise UsageError("not inside a git repository: there is no history to compare")
    shas, lo, hi = _commits_between(git, w)
    hist = history.read(git, pipeline.root)
    events = [e for e in history.window(hist.events, lo, hi) if e.commit in shas] if shas else []
    facts = facts_of(git, events)
    cache = asof.blob_cache(pipeline.root, git)  # both ends: most deals are decoded once
    end = asof.pipeline_at(pipeline.root, git, w.tip, cache)
    start = _start(pipeline.root, git, w.base, cache)
    briefs = _briefs(git)  # what the two ends' figures read of a deal, kept by blob
    before = start.load_briefs(briefs) if start is not None else None
    after = end.load_briefs(briefs)
    briefs.save()
    start_config = start.config if start else end.config
    # each end in the base currency at that end's day and rate table, as `report --as-of`
    start_day = w.since - dt.timedelta(days=1) if w.since else w.until
    old, no_rate, from_old = _in_base(
        start, before.deals if before else [], start_config, start_day
    )
    new, no_rate_now, from_new = _in_base(end, after.deals, end.config, w.until)
    found = compute(w, (old, start_config), (new, end.config), events, facts, stale_from)
    found = replace(
        found,
        other_currencies=tuple(sorted({*from_old, *from_new})),
        unconverted=tuple(sorted({*no_rate, *no_rate_now})),
        partial=hist.partial,
    )
    # a file that does not parse at an end is neither in nor out there: said, not guessed
    skipped = [
        f"{e} (at {c[:8]})"
        for c, r in ((w.base, before), (w.tip, after))
        if c and r
        for e in r.errors
    ]
    return replace(found, skipped=tuple(skipped))


def _in_base(
    pipeline: Pipeline | None, deals: Sequence[Deal], config: Config, day: dt.date
) -> tuple[list[Deal], tuple[str, ...], tuple[str, ...]]:
    """The deals with their values in the base currency (open ones at `day`'s rate, closed
    ones at their close date's: the report's rule), the ids of those with no rate (value
    None: counted, in no sum), the currencies converted from."""
    if pipeline is None or not deals:
        return list(deals), (), ()
    converter = rates.Converter(rates.read_rates(pipeline).checked(), config.currency)
    target = rates.norm(converter.target)
    # most deals are in the base currency already: only the others go through convert_lives
    # (which keeps one in the target as it is, so the answer is the same)
    at = [
        i for i, d in enumerate(deals) if rates.deal_currency(d.fields, config.currency) != target
    ]
    lives = [Life(deals[i], (), None, deals[i].date("closed")) for i in at]
    out, missing, converted = convert_lives(lives, config, converter, day)
    found = list(deals)
    for i, lf in zip(at, out, strict=True):
        found[i] = lf.deal
    return found, tuple(u.id for u in missing), converted


def _briefs(git: GitRepo) -> BriefCache:
    try:
        return BriefCache(git.git_dir())
    except GitError:  # no git dir to keep a cache in: every deal is read whole
        return BriefCache(None)


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


def compute(
    w: Window,
    start: State,
    end: State,
    events: Sequence[Event],
    facts: Sequence[Facts],
    stale_from: StaleFrom,
    partial: bool = False,
) -> Changes:
    """The changes of the window's events (`facts`: what each did, eventfacts.facts_of), the
    stale deals and the waterfall."""
    end_deals, config = end
    found: list[Change] = []
    logged: list[Logged] = []
    for e, (old, new, added) in zip(events, facts, strict=True):
        found += _changes_of(e, old, new, config)
        for tp in added:
            if tp.date is not None and _within(tp.date, w):
                rep = roster_handle(config.team, e.author, e.email) or e.author
                logged.append(Logged(e.deal, rep, tp, e.commit, e.by_hand))
    currencies = {str(c) for d in (*start[0], *end_deals) if (c := d.fields.get("currency"))}
    return Changes(
        window=w,
        currency=config.currency,
        other_currencies=tuple(sorted(currencies - {config.currency})),
        changes=tuple(found),
        logged=tuple(logged),
        reps=_reps(logged),
        stale=_stale(end_deals, config, w, stale_from),
        waterfall=waterfall(start, end, _renames(events), w.close_by),
        partial=partial,
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


def _stale(
    deals: Sequence[Deal], config: Config, w: Window, stale_from: StaleFrom
) -> tuple[Stale, ...]:
    """Open deals at the end whose first stale day (lint's PL301) lies in the window."""
    out = []
    for d in deals:
        stage = config.stage(d.stage)
        if stage is None or stage.closed is not None:
            continue
        found = stale_from(d, config)
        if found is None:
            continue
        last, day = found
        if (w.since is None or day >= w.since) and day <= w.until:
            out.append(Stale(d.id, d.stage, d.owner, last, day))
    return tuple(sorted(out, key=lambda s: (s.stale_from, s.deal)))


def _renames(events: Sequence[Event]) -> dict[str, str]:
    """Each id the window renamed, to the id it ended as."""
    to: dict[str, str] = {}
    for e in events:
        if e.old_deal and e.old_deal != e.deal:
            to[e.old_deal] = e.deal
            for k, v in list(to.items()):
                if v == e.old_deal:
                    to[k] = e.deal
    return to
