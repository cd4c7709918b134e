"""Reading a window of `pipectl changes` from git (pipectl/changes.py holds what it becomes;
pipectl/changewindow.py finds its two ends): `read`: the events of its commits from the history
index (pipectl/history.py: one `git log` over the commits new since the last run), what each
did from pipectl/eventfacts.py (kept across runs by its two blob ids; the rest from ONE
`git cat-file --batch` over the blobs they touched), the two ends' rows from the commits'
trees (pipectl/asof.py, pipectl/changeends.py). A run over a window read before goes on from
what the last one kept (caches/windows.py). Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipectl import asof, changeends, history
from pipectl.caches import framed
from pipectl.caches.briefs import BriefCache
from pipectl.caches.windows import WindowMemo
from pipectl.changes import FORMAT, Changes, Parts, compute, of_events
from pipectl.changewindow import Window
from pipectl.commitdays import git_dir_of, grafts_of
from pipectl.errors import GitError, UsageError
from pipectl.eventfacts import facts_of
from pipectl.gitrepo import GitRepo
from pipectl.store import Pipeline

StaleFrom = changeends.StaleFrom


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


def read(pipeline: Pipeline, w: Window, stale_from: StaleFrom | None) -> Changes:
    """Everything `compute` needs, read from git: the history index's events of the commits
    in the window, the blobs they touched (one cat-file), the two ends' trees; from what the
    last run over the same window kept (caches/windows.py) when the tip has only moved on.
    `stale_from` None: no deal is looked at for going stale (the trends read only the
    changes and touchpoints), and what is kept says so."""
    git = pipeline.git
    if git is None:
        raise UsageError("not inside a git repository: there is no history to compare")
    memo = WindowMemo(git_dir_of(git), _memo_key(pipeline, git, w, stale_from is not None))
    stale_from = stale_from or _never_stale
    kept = memo.read()
    if isinstance(kept, dict) and kept.get("tip") == w.tip:
        # the same two ends: the same answer, and no new commit of the history to index (a
        # shallow clone is partial; the key holds its boundary)
        return compute(w, kept, bool(git.shallow_boundary()))
    hist = history.read(git, pipeline.root)
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
    events = _events(hist, *_commits_between(git, w))
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
        **of_events(events, facts, end.config, w),
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
    events = _events(hist, *new)
    more = of_events(events, facts_of(git, events), end.config, w)
    return {
        **kept,
        "tip": w.tip,
        "end": [names, [tree[n] for n in names], [fresh.get(n) or was[n][1] for n in names]],
        "changes": kept["changes"] + more["changes"],
        "logged": kept["logged"] + more["logged"],
        "renames": kept["renames"] + more["renames"],
    }


def _events(
    hist: history.History, shas: set[str], lo: dt.date | None, hi: dt.date | None
) -> list[history.Event]:
    """The index's events of these commits (of the segments holding their days only)."""
    return [e for e in history.window(hist.events, lo, hi) if e.commit in shas] if shas else []


def _rows_of(
    end: asof.PipelineAt, names: Sequence[str], w: Window, stale_from: StaleFrom
) -> list[changeends.Row]:
    pairs = [(stage, name) for stage, _, name in (n.partition("/") for n in names)]
    refs = asof.refs_of(end.root, pairs)
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


def _never_stale(_deal: Any, _config: Any) -> None:
    return None


def _memo_key(pipeline: Pipeline, git: GitRepo, w: Window, stale: bool) -> tuple[Any, ...]:
    """What the kept parts of a window depend on besides what they name: the window, where
    the pipeline is in the repository and how its paths are shown from here (a file that
    does not parse is named so), whether the ends' rows say which deals went stale, the
    shallow boundary (a deepened clone's oldest commit has other changes) and the grafts and
    replace refs (other parents), as git reads them in any worktree."""
    try:
        shallow = (sorted(git.shallow_boundary()), grafts_of(git))
    except (OSError, GitError):
        shallow = ([], ())
    shown = str(pipeline.display(pipeline.root / "pipeline.yaml"))
    return (FORMAT, git.rel(pipeline.root), shown, *w.key(), stale, shallow)


def _briefs(git: GitRepo) -> BriefCache:
    return BriefCache(git_dir_of(git))


def _start(
    root: Path, git: GitRepo, base: str | None, cache: asof.BlobCache
) -> asof.PipelineAt | None:
    if base is None:
        return None
    try:
        return asof.pipeline_at(root, git, base, cache)
    except UsageError:  # the commit is older than the pipeline: it starts empty
        return None
