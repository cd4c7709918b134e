"""A deal crossing from one pipeline to another of the same repository: the move, and the
deal's whole life read back across the pipelines it lived in.

The move is one commit that renames the file (git follows it: `git log --follow`), edited as
any move (`ops.move_in`, the target's gate), its message naming both pipelines in trailers
(`Pipectl-From-Pipeline`, `Pipectl-To-Pipeline`: folders relative to the git work tree).
Each pipeline's history reads only its own folder, where the crossing is a deletion on one
side and a creation on the other; `whole_life` joins them through those trailers. Never
prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

from pipectl import history, ops
from pipectl.errors import UsageError
from pipectl.history import CREATED, DELETED, MOVED, Event
from pipectl.store import Pipeline

FROM_TRAILER, TO_TRAILER = "From-Pipeline", "To-Pipeline"
_TRAILER_RE = re.compile(r"^Pipectl-(From-Pipeline|To-Pipeline):(.*)$", re.M)  # as gitlog's
# the pipelines one deal's life is read from, at most (each read is a history of its own)
MAX_PIPELINES = 64
# the actions whose commit can move a deal between pipelines (crossing.move's)
CROSSING_ACTIONS = frozenset({"move", "won", "lost"})


def name_of(pipeline: Pipeline) -> str:
    """A pipeline's folder relative to its git work tree (`.` for the work tree itself): how
    the crossing's trailers and a crossed life's stages name it."""
    if pipeline.git is None:
        return pipeline.root.name
    return pipeline.git.rel(pipeline.root / "pipeline.yaml").rpartition("/")[0] or "."


def move(
    source: Pipeline,
    dest: Pipeline,
    ref_text: str,
    stage: str,
    *,
    when: dt.date,
    reason: str | None = None,
    reopen: bool = False,
    force: bool = False,
    commit: bool = True,
) -> ops.Outcome:
    """Move a deal into `stage` of the pipeline `dest`, one commit renaming its file.

    The id must be free in `dest` (ids stay unique across a workspace); the target stage's
    gate applies unless `force`; a closed deal moves only with `reopen`; a lost stage takes
    `dest`'s lost reasons."""
    if source.root.resolve() == dest.root.resolve():
        raise UsageError("that is this deal's own pipeline: `pipectl move DEAL STAGE`")
    if (source.git is None) != (dest.git is None) or (
        source.git is not None and dest.git is not None and source.git.root != dest.git.root
    ):
        raise UsageError("a deal moves only between pipelines of one git repository")
    target = dest.config.stage(dest.require_stage(stage))
    assert target is not None
    if target.closed == "lost":
        reason = ops._check_reason(dest, reason)
    elif reason is not None:
        raise UsageError("--reason applies only when a deal is lost")
    here, there = name_of(source), name_of(dest)
    with source.change(commit) as ch:
        ch.also.append(dest)
        ch.force = force
        ref = source.resolve(ref_text)
        taken = dest.exact(ref.id)
        if taken:
            shown = dest.display(taken[0].path)
            raise UsageError(
                f"{there} has a deal {ref.id!r} already ({shown}): ids are unique across the "
                "workspace; `pipectl rename` one of them first"
            )
        origin = source.config.stage(ref.stage)
        if origin is not None and not origin.is_open and not reopen:
            raise UsageError(f"{ref.id} is {origin.closed} (in {ref.stage}): pass --reopen")
        if reopen and (origin is None or origin.is_open):
            raise UsageError(f"{ref.id} is open ({ref.stage}): --reopen is for closed deals")
        moved = ops.move_in(ch, ref, target.name, when=when, reason=reason, force=force, into=dest)
        action = target.closed or "move"
        subject = f"{action} {ref.id}: {here}/{ref.stage} -> {there}/{target.name}"
        if reason:
            subject += f" ({reason})"
        trailers = {FROM_TRAILER: here, TO_TRAILER: there}
        if reopen:
            trailers["Reopened"] = "yes"
        if force:
            trailers["Forced"] = "yes"
        ch.set_message(subject, action, ref.id, trailers=trailers)
    return ops.Outcome(moved, ch.committed, subject)


def whole_life(pipeline: Pipeline, events: Sequence[Event]) -> list[Event]:
    """One deal's events in `pipeline` (oldest first), joined with its events in every
    pipeline a crossing took it to or from (found through the crossing commits' trailers).

    The deal lives in one pipeline at a time: the lists are merged in their own orders, a
    deletion in one pipeline and a creation in another by one commit (the move, or the undo
    of one) becoming one `moved` event at that point. When it crossed, each stage and path is
    named with its pipeline (`partners/qualifying`)."""
    git = pipeline.git
    if git is None or not events:
        return list(events)
    deal = events[-1].deal
    here = name_of(pipeline)
    lives: dict[str, list[Event]] = {here: list(events)}
    todo = [here]
    while todo and len(lives) <= MAX_PIPELINES:  # every pipeline a crossing names, once
        for e in lives[todo.pop()]:
            if e.kind not in (CREATED, DELETED) or e.action not in CROSSING_ACTIONS:
                continue
            found = _trailers(pipeline, e.commit)
            for name in (found.get(FROM_TRAILER), found.get(TO_TRAILER)):
                if name is None or name in lives or not _safe(name):
                    continue
                root = git.root / name
                if not (root / "pipeline.yaml").is_file():
                    continue  # gone from the work tree: its part of the life cannot be read
                other = Pipeline(root)
                lives[name] = list(history.read(other.git, other.root).of(deal))
                todo.append(name)
    if len(lives) == 1:
        return list(events)
    return merged({n: [named(e, n) for e in life] for n, life in lives.items() if life})


def merged(lives: dict[str, list[Event]]) -> list[Event]:
    """The pipelines' lists of one deal's events as one: each in its own order, a deletion
    and a creation of one commit in two pipelines joined, the earliest free head first."""
    at = dict.fromkeys(lives, 0)
    pairs: dict[tuple[str, int], tuple[str, int]] = {}  # a deletion -> its creation elsewhere
    created = {
        (e.commit, n): i
        for n, life in lives.items()
        for i, e in enumerate(life)
        if e.kind == CREATED
    }
    for n, life in lives.items():
        for i, e in enumerate(life):
            if e.kind == DELETED:
                other = next((m for m in lives if m != n and (e.commit, m) in created), None)
                if other is not None:
                    pairs[(n, i)] = (other, created[(e.commit, other)])
    waiting = {v: k for k, v in pairs.items()}  # a creation waits for its deletion
    out: list[Event] = []
    while any(at[n] < len(life) for n, life in lives.items()):
        heads = [(n, at[n]) for n, life in lives.items() if at[n] < len(life)]
        free = [h for h in heads if h not in waiting or at[waiting[h][0]] == waiting[h][1]]
        n, i = min(free or heads, key=lambda h: lives[h[0]][h[1]].date)
        if (n, i) in waiting and at[waiting[(n, i)][0]] == waiting[(n, i)][1]:
            n, i = waiting[(n, i)]  # the deletion comes first: the pair is one event
        e = lives[n][i]
        at[n] += 1
        pair = pairs.get((n, i))
        if pair is not None and at[pair[0]] == pair[1]:
            out.append(_joined(e, lives[pair[0]][pair[1]]))
            at[pair[0]] += 1
        else:
            out.append(e)
    return out


def others(pipeline: Pipeline, sha: str) -> list[Pipeline]:
    """The other pipelines a crossing commit moved a deal between (none for any other
    commit): what `pipectl undo` of that move may write into besides `pipeline`."""
    if pipeline.git is None:
        return []
    found = _trailers(pipeline, sha)
    out = []
    for key in (FROM_TRAILER, TO_TRAILER):
        name = found.get(key)
        if name is None or not _safe(name):
            continue
        root = pipeline.git.root / name
        if (root / "pipeline.yaml").is_file() and root.resolve() != pipeline.root.resolve():
            out.append(Pipeline(root))
    return out


def _trailers(pipeline: Pipeline, sha: str) -> dict[str, str]:
    assert pipeline.git is not None
    message = pipeline.git.run(["show", "-s", "--format=%B", sha], check=False).stdout
    found = ((m.group(1), m.group(2).strip()) for m in _TRAILER_RE.finditer(message or ""))
    return {name: value for name, value in found if value}


def _safe(name: str) -> bool:
    """A trailer's pipeline folder that stays inside the work tree."""
    return ".." not in Path(name).parts and not Path(name).is_absolute()


def named(e: Event, name: str) -> Event:
    """The event with its stages and paths named with the pipeline `name` (`sales/won`)."""
    if name == ".":
        return e
    return dataclasses.replace(
        e,
        stage=e.stage and f"{name}/{e.stage}",
        from_stage=e.from_stage and f"{name}/{e.from_stage}",
        path=e.path and f"{name}/{e.path}",
        old_path=e.old_path and f"{name}/{e.old_path}",
    )


def _joined(gone: Event, came: Event) -> Event:
    """The deletion on one side and the creation on the other as the one move they were."""
    return dataclasses.replace(
        came,
        kind=MOVED,
        from_stage=gone.stage,
        old_path=gone.path,
        old_blob=gone.old_blob,
        content_changed=True,
    )
