"""Deal blobs cut into their keys (blobkeys.key_chunks), by git blob id, across runs: a weekly
`pipectl changes` or `history DEAL` after one new commit cuts only the new commit's blobs.

Keyed by content (a blob id names its bytes), so an entry is never stale; one framed file in
the git dir (blob ids are the repository's, not a pipeline's), kept as caches/facts.py's
`EntryCache` keeps its entries. Never trusted, never prints.
"""

from __future__ import annotations

from pathlib import Path

from pipectl.caches import framed
from pipectl.caches.facts import EntryCache

KIND = framed.Kind(b"PIPECTL-BLOBKEYS\x00", 2)  # 2: each entry its marshal bytes
_WHAT = "\0keys"  # not a stage: the key of the environment alone (caches.deals._key)

Keys = dict[str, str]  # as blobkeys.Keys: a top-level key (or "body") -> its text


class KeyCache(EntryCache):
    """`get` what earlier runs cut, `put` what this one cut, `save` once."""

    def __init__(self, git_dir: Path | None):
        super().__init__(git_dir, "keys.bin", KIND, _WHAT, _valid)

    def get(self, key: str) -> Keys | None:
        found: Keys | None = super().get(key)
        return found


def _valid(oid: object, keys: object) -> bool:
    return (
        type(oid) is str
        and type(keys) is dict
        and all(type(a) is str and type(b) is str for a, b in keys.items())
    )
