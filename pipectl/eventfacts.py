"""What one event did to the keys a weekly review reads (value, expected close, owner,
touchpoints), for `pipectl changes` (pipectl/changes.py): each side's value, close date and
owner, and the touchpoints the event added.

An event's facts depend only on the two blobs it went between, so they are kept across runs by
that pair of ids (pipectl/caches/facts.py): a window's events that an earlier run read cost a
lookup; only the rest have their blobs read, by ONE `git cat-file --batch`
(pipectl/fielddiff.py), and parsed. A long window holds tens of thousands of events, and parsing
them had been most of what `changes` cost. Never prints.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pipectl import blobkeys
from pipectl.deal import Deal, Touchpoint
from pipectl.errors import GitError
from pipectl.fielddiff import fields_of, read_blobs, unreadable
from pipectl.gitrepo import GitRepo
from pipectl.history import CREATED, DELETED, Event

TOUCHPOINTS = "touchpoints"
# the keys a change is read from (the rest of a file does not change the pipeline's figures)
TRACKED = ("value", "expected_close", "owner", TOUCHPOINTS)
# an entry of a block list written on one line, as `pipectl log` writes it: `  - {date: …}`
_ONE_LINE_ITEM = re.compile(r"\s*- \{.*\}\s*")
_NOWHERE = Path()


class Side(NamedTuple):
    """A deal file's tracked keys as an event's change reads them (each None when the key is
    absent, is no such value, or did not change in the event)."""

    value: float | None
    expected_close: dt.date | None
    owner: str | None


class Facts(NamedTuple):
    """The deal before and after an event (None: created, deleted) and the touchpoints it added."""

    before: Side | None
    after: Side | None
    added: tuple[Touchpoint, ...]


_NONE = Facts(None, None, ())  # a place held in facts_of until the blobs are read


def facts_of(git: GitRepo | None, events: Sequence[Event]) -> list[Facts]:
    """Each event's facts, in order: kept ones from the cache, the rest from their blobs."""
    from pipectl.caches.facts import EntryCache

    try:
        cache = EntryCache(git.git_dir() if git is not None else None)
    except GitError:  # no git dir to keep a cache in: every event is read from its blobs
        cache = EntryCache(None)
    out: list[Facts] = []
    missing: list[tuple[int, str]] = []  # (place in `out`, cache key)
    for i, e in enumerate(events):
        key = _key(e)
        found = _decode(cache.get(key))
        if found is None:
            missing.append((i, key))
            found = _NONE  # its place, filled below
        out.append(found)
    if missing:
        keys = read_blobs(git, [events[i] for i, _key_ in missing])
        for i, key in missing:
            out[i] = pair(events[i], keys)
            cache.put(key, _encode(out[i]))
    cache.save()
    return out


def _key(e: Event) -> str:
    side = "c" if e.kind == CREATED else "d" if e.kind == DELETED else "m"
    return f"{side}{e.old_blob or ''}:{e.new_blob or ''}"


def pair(e: Event, keys: Mapping[str, blobkeys.Keys]) -> Facts:
    """The facts of `e` from its blobs cut into keys: each side holds only the tracked keys
    whose text `e` changed (a key whose text is the same in both files changed nothing)."""
    before = keys.get(e.old_blob or "", blobkeys.EMPTY) if e.kind != CREATED else None
    after = keys.get(e.new_blob or "", blobkeys.EMPTY) if e.kind != DELETED else None
    if before is None or after is None:
        names: tuple[str, ...] = ("value", TOUCHPOINTS)
    else:
        names = tuple(k for k in TRACKED if before.get(k) != after.get(k))
    # a key whose text is no YAML on either side (a file broken by hand) says nothing of
    # what changed: the file is reported as skipped, not as a value gone
    names = tuple(k for k in names if not (unreadable(before, k) or unreadable(after, k)))
    added = None
    if TOUCHPOINTS in names and before is not None and after is not None:
        added = _appended(before.get(TOUCHPOINTS), after.get(TOUCHPOINTS))
        if added is not None:
            names = tuple(k for k in names if k != TOUCHPOINTS)
    old = None if before is None else _deal(fields_of(before, names))
    new = None if after is None else _deal(fields_of(after, names))
    if added is None:
        added = _added_touchpoints(old, new)
    return Facts(_side(old), _side(new), tuple(added))


def _deal(fields: dict[str, Any]) -> Deal:
    return Deal("", "", _NOWHERE, fields)


def _side(deal: Deal | None) -> Side | None:
    if deal is None:
        return None
    return Side(deal.value, deal.date("expected_close"), deal.owner)


def _appended(old: str | None, new: str | None) -> list[Touchpoint] | None:
    """The touchpoints of lines appended to a block list of one-line entries (what `log`
    and most hand edits do), parsed alone; None when the change is any other (an entry
    edited, removed or written over several lines): then both lists are read whole."""
    if old is None or new is None:
        return None
    head, *old_lines = old.splitlines()
    new_head, *new_lines = new.splitlines()
    if head.strip() != f"{TOUCHPOINTS}:" or new_head.strip() != head.strip():
        return None
    kept = Counter(old_lines)
    added = []
    for line in new_lines:
        if kept[line] > 0:
            kept[line] -= 1
        else:
            added.append(line)
    if any(kept.values()):
        return None  # a line of the old list is gone
    if not all(_ONE_LINE_ITEM.fullmatch(line) for line in added):
        return None
    if not added:
        return []
    text = "\n".join([f"{TOUCHPOINTS}:", *added])
    return list(_deal(fields_of({TOUCHPOINTS: text}, [TOUCHPOINTS])).touchpoints)


def _added_touchpoints(old: Deal | None, new: Deal | None) -> list[Touchpoint]:
    """The touchpoints the new file has that the old one had not (as many times as added)."""
    if new is None:
        return []
    before = Counter(old.touchpoints if old is not None else ())
    out = []
    for tp in new.touchpoints:
        if before[tp] > 0:
            before[tp] -= 1
        else:
            out.append(tp)
    return out


# --- the cache's plain data: dates as day numbers, touchpoints as tuples ----------------------


def _encode(f: Facts) -> tuple[Any, ...]:
    return (_encode_side(f.before), _encode_side(f.after), tuple(_encode_tp(t) for t in f.added))


def _encode_side(s: Side | None) -> tuple[Any, ...] | None:
    if s is None:
        return None
    close = s.expected_close.toordinal() if s.expected_close is not None else None
    return (s.value, close, s.owner)


def _encode_tp(t: Touchpoint) -> tuple[Any, ...]:
    return (t.date.toordinal() if t.date is not None else None, t.kind, t.summary, t.outcome)


def _decode(raw: object) -> Facts | None:
    """An entry back, or None when it is not of the shape `_encode` writes."""
    if type(raw) is not tuple or len(raw) != 3 or type(raw[2]) is not tuple:
        return None
    try:
        before, after = _decode_side(raw[0]), _decode_side(raw[1])
        added = tuple(_decode_tp(t) for t in raw[2])
    except (TypeError, ValueError, OverflowError):
        return None
    return Facts(before, after, added)


def _decode_side(raw: object) -> Side | None:
    if raw is None:
        return None
    if type(raw) is not tuple or len(raw) != 3:
        raise ValueError("not a side")
    value, close, owner = raw
    if value is not None and type(value) is not float:
        raise ValueError("not a value")
    if owner is not None and type(owner) is not str:
        raise ValueError("not an owner")
    return Side(value, _day(close), owner)


def _decode_tp(raw: object) -> Touchpoint:
    if type(raw) is not tuple or len(raw) != 4:
        raise ValueError("not a touchpoint")
    day, kind, summary, outcome = raw
    if type(kind) is not str or type(summary) is not str:
        raise ValueError("not a touchpoint")
    if outcome is not None and type(outcome) is not str:
        raise ValueError("not an outcome")
    return Touchpoint(_day(day), kind, summary, outcome)


def _day(raw: object) -> dt.date | None:
    if raw is None:
        return None
    if type(raw) is not int:
        raise ValueError("not a day")
    return dt.date.fromordinal(raw)
