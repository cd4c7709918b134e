"""Deal blobs cut into their keys (blobkeys.key_chunks), by git blob id, across runs: a weekly
`pipectl changes` or `history DEAL` after one new commit cuts only the new commit's blobs.

Keyed by content (a blob id names its bytes), so an entry is never stale; one framed file in
the git dir (blob ids are the repository's, not a pipeline's), keyed on the environment that
cut them. It keeps the blobs the last run used and, up to KEEP times as many, earlier ones.
Each entry is stored as its own marshal bytes, decoded when a run asks for it: a run uses a
few of tens of thousands, and decoding them all had cost more time and memory than the run's
own work. Never trusted, never prints.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path

from pipectl.caches import framed
from pipectl.caches.deals import _key

KIND = framed.Kind(b"PIPECTL-BLOBKEYS\x00", 2)  # 2: each entry its marshal bytes
KEEP = 3
_WHAT = "\0keys"  # not a stage: the key of the environment alone (caches.deals._key)

Keys = dict[str, str]  # as blobkeys.Keys: a top-level key (or "body") -> its text


class KeyCache:
    """`get` what earlier runs cut, `put` what this one cut, `save` once."""

    def __init__(self, git_dir: Path | None):
        off = git_dir is None or os.environ.get(framed.DISABLE_ENV)
        self.path = None if off or git_dir is None else git_dir / "pipectl" / "cache" / "keys.bin"
        found = None if self.path is None else framed.read(self.path, KIND, _key(_WHAT))
        self.old: dict[str, bytes] = found if type(found) is dict else {}
        self.used: dict[str, dict[str, str]] = {}

    def get(self, oid: str) -> Keys | None:
        raw = self.old.get(oid)
        if type(raw) is not bytes:
            return None
        try:
            found = marshal.loads(raw)
        except (EOFError, ValueError, TypeError):
            return None
        if not _valid(oid, found):
            return None
        self.used[oid] = found
        return found

    def put(self, oid: str, keys: Keys) -> None:
        self.used[oid] = keys

    def save(self) -> None:
        if self.path is None or self.used.keys() <= self.old.keys():
            return
        kept = {oid: marshal.dumps(keys) for oid, keys in self.used.items()}
        room = KEEP * len(self.used) - len(kept)
        for oid, raw in self.old.items():
            if room <= 0:
                break
            if oid not in kept and type(oid) is str and type(raw) is bytes:
                kept[oid] = raw  # checked when a run decodes it
                room -= 1
        framed.write(self.path, KIND, _key(_WHAT), kept)


def _valid(oid: object, keys: object) -> bool:
    return (
        type(oid) is str
        and type(keys) is dict
        and all(type(a) is str and type(b) is str for a, b in keys.items())
    )
