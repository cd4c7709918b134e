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
_TRAILER_RE = re.compile(r"^Pipectl-(From-Pipeline|To-Pipeline):[ \t]*(\S.*?)[ \t]*$", re.M)
# a deal crossing pipelines back and forth many times is still one walk; a loop is not
MAX_HOPS = 64


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
    """One deal's events in `pipeline` (oldest first), joined with its life in the pipelines
    it came from and went to; when it crossed, each stage and path is named with its
    pipeline (`partners/qualifying`), and the crossing is one `moved` event."""
    git = pipeline.git
    if git is None or not events:
        return list(events)
    here = name_of(pipeline)
    life = [_named(e, here) for e in events]
    crossed = False
    for _ in range(MAX_HOPS):  # backwards: where the first event came from
        first = life[0]
        came = _crossing(pipeline, first, CREATED, FROM_TRAILER)
        if came is None:
            break
        before = _side(git.root / came, first.deal, first.commit, DELETED)
        if before is None:
            break
        *earlier, gone = [_named(e, came) for e in before]
        life = [*earlier, _joined(gone, first), *life[1:]]
        crossed = True
    for _ in range(MAX_HOPS):  # forwards: where the last event went
        last = life[-1]
        went = _crossing(pipeline, last, DELETED, TO_TRAILER)
        if went is None:
            break
        after = _side(git.root / went, last.deal, last.commit, CREATED)
        if after is None:
            break
        arrived, *later = [_named(e, went) for e in after]
        life = [*life[:-1], _joined(last, arrived), *later]
        crossed = True
    return life if crossed else list(events)


def _crossing(pipeline: Pipeline, e: Event, kind: str, trailer: str) -> str | None:
    """The other pipeline a crossing event names, when `e` is one (a creation or deletion
    by a pipectl move whose commit carries the trailer)."""
    if e.kind != kind or e.action in (None, "add", "rm", "rename", "undo", "import"):
        return None
    assert pipeline.git is not None
    message = pipeline.git.run(["show", "-s", "--format=%B", e.commit], check=False).stdout
    found = {m.group(1): m.group(2) for m in _TRAILER_RE.finditer(message or "")}
    other = found.get(trailer)
    if other is None or ".." in Path(other).parts or Path(other).is_absolute():
        return None
    return other


def _side(root: Path, deal: str, sha: str, kind: str) -> list[Event] | None:
    """The deal's events in the pipeline at `root`: up to its `kind` event at commit `sha`
    (DELETED: the life before it left) or from it on (CREATED: the life after it came)."""
    if not (root / "pipeline.yaml").is_file():
        return None  # that pipeline is gone from the work tree: its life cannot be read here
    other = Pipeline(root)
    events = list(history.read(other.git, other.root).of(deal))
    at = next((i for i, e in enumerate(events) if e.commit == sha and e.kind == kind), None)
    if at is None:
        return None
    return events[: at + 1] if kind == DELETED else events[at:]


def _named(e: Event, name: str) -> Event:
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
