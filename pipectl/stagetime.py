"""Time in stage: the one answer to "since when is this deal in its stage?", for lint, the
board, the report and the dashboard alike.

The file says when: `stage_entered` (set by `pipectl move`), else in a closed stage `closed`,
else in the first stage `created` (`pipectl add` sets no `stage_entered` there). A move made
by hand (`git mv` and a commit) leaves `stage_entered` as it was, so when git saw the file
arrive in its folder by hand later than the file says, git's arrival is the truth. With
nothing in the file, git's arrival at the path tells; where git cannot (a shallow clone,
outside git, a file never committed), the answer is None and the reason, never a guess.
Never runs git or prints.
"""

from __future__ import annotations

import datetime as dt

from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.history import CREATED, DELETED, MOVED, RENAMED, Arrivals, History

# (the day the deal entered its stage, None) or (None, why that cannot be told)
Entered = tuple[dt.date | None, str | None]


def claimed(deal: Deal, config: Config) -> Entered:
    """What the file alone says. Lint asks this first: a move by hand only ever makes a stay
    shorter, so a stay the file says is short enough needs no git history."""
    entered = deal.date("stage_entered")
    if entered is not None:
        return entered, None
    if deal.fields.get("stage_entered") is not None:
        return None, "stage_entered is not a date"
    stage = config.stage(deal.stage)
    closed = deal.date("closed")
    if stage is not None and stage.closed is not None and closed is not None:
        return closed, None  # a closed deal entered its closed stage when it closed
    created = deal.date("created")
    if config.stages and deal.stage == config.stage_names[0] and created is not None:
        return created, None
    return None, None


def entered(deal: Deal, config: Config, arrivals: Arrivals) -> Entered:
    """(the day the deal entered its stage, None), or (None, why it cannot be told)."""
    day, why = claimed(deal, config)
    if why is not None:
        return None, why
    path = f"{deal.stage}/{deal.id}.md"  # as git names it under the pipeline root
    arrived = arrivals.get(path)
    if day is not None:
        if arrived is not None and path in arrivals.moved_by_hand and arrived > day:
            return arrived, None  # moved by hand since: `stage_entered` names the old stage's
        return day, None
    if arrived is not None:
        return arrived, None
    reason = arrivals.unavailable or "the file has no committed history at this path"
    return None, f"no stage_entered and {reason}"


def arrivals_of(hist: History) -> Arrivals:
    """The arrivals `history.read_arrivals` would give, from a history already read (the
    report reads git once): per current path, the newest creation or move into it; a rename
    inside a folder keeps the arrival it had."""
    if not hist.available:
        return Arrivals(unavailable="not a git repository")
    if hist.arrivals is not None:  # read with the history, by the same rule (histindex.Fold)
        return hist.arrivals
    dates: dict[str, dt.date] = {}
    by_hand: set[str] = set()
    for e in hist.events:  # oldest first: a later arrival replaces an earlier one
        if e.kind in (CREATED, MOVED):
            dates[e.path] = e.day
            if e.kind == MOVED and e.by_hand:
                by_hand.add(e.path)
            else:
                by_hand.discard(e.path)
        elif e.kind == RENAMED and e.old_path is not None:
            if e.old_path in dates:
                dates[e.path] = dates.pop(e.old_path)
            else:
                dates.pop(e.path, None)
            if e.old_path in by_hand:
                by_hand.discard(e.old_path)
                by_hand.add(e.path)
            else:
                by_hand.discard(e.path)
        elif e.kind == DELETED:
            dates.pop(e.path, None)
            by_hand.discard(e.path)
    return Arrivals(dates, "shallow git clone" if hist.partial else None, frozenset(by_hand))
