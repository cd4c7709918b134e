"""What one change of a deal file did to the keys `pipectl changes` reads (pipectl/eventfacts.py),
by the pair of git blob ids it went between, across runs: a weekly `changes` after one new
commit reads and parses only the new commit's blobs.

Keyed by content (two blob ids name both files' bytes), so an entry is never stale; one framed
file in the git dir, keyed on the environment that parsed the blobs (caches.deals._key). Each
entry is stored as its own marshal bytes, decoded when a run asks for it, as keys.bin does. It
keeps the entries the last run used and, up to KEEP times as many, earlier ones. Never trusted
(an entry of the wrong shape reads as missing), never prints.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path
from typing import Any

from pipectl.caches import framed
from pipectl.caches.deals import _key

KIND = framed.Kind(b"PIPECTL-PAIRFACTS\x00", 1)
KEEP = 3
_WHAT = "\0facts"  # not a stage: the key of the environment alone (caches.deals._key)


class FactCache:
    """`get` what earlier runs derived, `put` what this one derived, `save` once. A value is
    plain marshal data; its shape is the caller's to check (`valid`)."""

    def __init__(self, git_dir: Path | None):
        off = git_dir is None or os.environ.get(framed.DISABLE_ENV)
        self.path = None if off or git_dir is None else git_dir / "pipectl" / "cache" / "facts.bin"
        found = None if self.path is None else framed.read(self.path, KIND, _key(_WHAT))
        self.old: dict[str, bytes] = found if type(found) is dict else {}
        self.used: dict[str, bytes] = {}  # entries of the file this run read
        self.fresh: dict[str, Any] = {}  # entries this run derived (plain marshal data)

    def get(self, key: str) -> object | None:
        raw = self.old.get(key)
        if type(raw) is not bytes:
            return None
        try:
            found = marshal.loads(raw)
        except (EOFError, ValueError, TypeError):
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
        framed.write(self.path, KIND, _key(_WHAT), kept)
