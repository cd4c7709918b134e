"""Entries keyed by content (git blob ids), kept across runs in one framed file of the git dir,
keyed on the environment that made them (caches.deals._key): what one change of a deal file did
(facts.bin, for `pipectl changes`: pipectl/eventfacts.py, by the pair of blob ids it went
between) and deal blobs cut into keys (keys.bin, caches/keys.py).

A content key names its bytes, so an entry is never stale. Each entry is stored as its own
marshal bytes, decoded when a run asks for it: a run uses a few of tens of thousands, and
decoding them all had cost more than the run's own work. The file keeps the entries the last
run used and, up to KEEP times as many, earlier ones. Never trusted (an entry of the wrong shape
reads as missing), never prints.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipectl.caches import framed
from pipectl.caches.deals import _key

KIND = framed.Kind(b"PIPECTL-PAIRFACTS\x00", 2)  # 2: unparsable keys change nothing
KEEP = 3
_WHAT = "\0facts"  # not a stage: the key of the environment alone (caches.deals._key)


class EntryCache:
    """`get` what earlier runs made, `put` what this one made, `save` once. A value is plain
    marshal data; `get` hands back only what `valid` accepts."""

    def __init__(
        self,
        git_dir: Path | None,
        name: str = "facts.bin",
        kind: framed.Kind = KIND,
        what: str = _WHAT,
        valid: Callable[[str, Any], bool] = lambda key, value: True,
    ):
        off = git_dir is None or os.environ.get(framed.DISABLE_ENV)
        self.path = None if off or git_dir is None else git_dir / "pipectl" / "cache" / name
        self.kind, self.env, self.valid = kind, _key(what), valid
        found = None if self.path is None else framed.read(self.path, kind, self.env)
        self.old: dict[str, bytes] = found if type(found) is dict else {}
        self.used: dict[str, bytes] = {}  # entries of the file this run read
        self.fresh: dict[str, Any] = {}  # entries this run derived (plain marshal data)

    def get(self, key: str) -> Any | None:
        raw = self.old.get(key)
        if type(raw) is not bytes:
            return None
        try:
            found = marshal.loads(raw)
        except (EOFError, ValueError, TypeError):
            return None
        if not self.valid(key, found):
            return None
        self.used[key] = raw
        return found

    def put(self, key: str, value: Any) -> None:
        """What this run derived for `key` (also over an entry of the wrong shape)."""
        self.used.pop(key, None)
        self.fresh[key] = value

    def save(self) -> None:
        if self.path is None or not self.fresh:
            return
        kept = dict(self.used)
        kept.update((key, marshal.dumps(value)) for key, value in self.fresh.items())
        room = (KEEP - 1) * len(kept)
        for key, raw in self.old.items():
            if room <= 0:
                break
            if key not in kept and type(key) is str and type(raw) is bytes:
                kept[key] = raw  # checked when a run decodes it
                room -= 1
        framed.write(self.path, self.kind, self.env, kept)
