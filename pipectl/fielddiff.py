"""Old → new: the values of the fields a commit changed in a deal file, read from the two
blobs (the file before and after), for `pipectl history DEAL` and `pipectl changes`.

The blobs of many events at once come from ONE `git cat-file --batch` (pipectl/blobkeys.py
cuts each into its top-level keys); each key's text is parsed on its own, so a file whose YAML
broke elsewhere still shows the values that did change. Never prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from pipectl import blobkeys, yamlio
from pipectl.gitrepo import GitRepo
from pipectl.history import CREATED, DELETED, Event
from pipectl.yamltext import same_value

BODY = "body"  # the notes below the frontmatter: shown as changed, never as a value


class _Unparsed:
    """A key's text that is no YAML (a file broken by hand): said so, never shown as its
    raw text as though that were the value."""

    def __str__(self) -> str:
        return "(does not parse)"

    __repr__ = __str__


UNPARSED = _Unparsed()


@dataclass(frozen=True)
class FieldChange:
    """One field one commit changed: its value before and after (None: absent). A mapping
    (qualification) is shown one changed entry at a time, as `qualification.budget`."""

    field: str
    old: Any
    new: Any


def fields_of(chunks: Mapping[str, str] | None, names: Iterable[str]) -> dict[str, Any]:
    """These keys' values from a blob cut into keys (blobkeys.key_chunks), each parsed on
    its own; a key whose text is no YAML reads as its text."""
    out: dict[str, Any] = {}
    for name in names:
        text = (chunks or {}).get(name)
        if text is None:
            continue
        out[name] = text if name == BODY else _parsed(name, text)
    return out


def unreadable(chunks: Mapping[str, str] | None, name: str) -> bool:
    """Whether this key's text in a blob cut into keys is no YAML (a file broken by hand)."""
    text = (chunks or {}).get(name)
    return text is not None and name != BODY and not _load(name, text)[0]


def _parsed(name: str, text: str) -> Any:
    """One key's text parsed; a text that is no YAML reads as itself."""
    ok, value = _load(name, text)
    return value if ok else text


@lru_cache(maxsize=1 << 16)
def _load(name: str, text: str) -> tuple[bool, Any]:
    """(whether the text is YAML holding the key, its value). Kept for the run: an event's
    file after is the next event's file before, so most texts come twice (the values are
    read, never changed)."""
    try:
        data = yamlio.load(text)
    except (yaml.YAMLError, ValueError, RecursionError):
        return False, None
    return (True, data[name]) if isinstance(data, dict) and name in data else (False, None)


def read_blobs(git: GitRepo | None, events: Sequence[Event]) -> dict[str, blobkeys.Keys]:
    """Every blob the events name, cut into keys, by ONE `git cat-file --batch`."""
    wanted = {b for e in events for b in (e.old_blob, e.new_blob) if b}
    return blobkeys.read_keys(git, wanted) if git is not None and wanted else {}


def of_event(e: Event, keys: Mapping[str, blobkeys.Keys]) -> tuple[FieldChange, ...]:
    """The fields `e` changed, old → new, in the new file's order (then removed ones); none
    for a creation or a deletion (the whole file is new or gone)."""
    if e.kind in (CREATED, DELETED) or not e.old_blob or not e.new_blob:
        return ()
    if e.old_blob == e.new_blob:
        return ()
    old = keys.get(e.old_blob) or blobkeys.EMPTY
    new = keys.get(e.new_blob) or blobkeys.EMPTY
    names = blobkeys.changed_keys(old, new)
    before, after = fields_of(old, names), fields_of(new, names)
    out: list[FieldChange] = []
    for name in names:
        if name == BODY:
            out.append(FieldChange(BODY, None, None))
            continue
        was = UNPARSED if unreadable(old, name) else before.get(name)
        now = UNPARSED if unreadable(new, name) else after.get(name)
        if isinstance(was, Mapping | None) and isinstance(now, Mapping | None):
            out += _entries(name, was or {}, now or {})  # a mapping added or gone: each entry
        elif not same_value(was, now):
            out.append(FieldChange(name, was, now))
    return tuple(out)


def _entries(name: str, was: Mapping[Any, Any], now: Mapping[Any, Any]) -> list[FieldChange]:
    keys = [*now, *(k for k in was if k not in now)]
    return [
        FieldChange(f"{name}.{k}", was.get(k), now.get(k))
        for k in keys
        if not same_value(was.get(k), now.get(k))
    ]
