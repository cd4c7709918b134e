"""Deal files parsed by their git blob id, for `--as-of` (pipectl/asof.py): a past tree holds
mostly the blobs of the day before, or of HEAD, so only the blobs not seen yet are read from
git and parsed.

Keyed by content (a blob id names its bytes), so an entry is never stale; the file is framed
(pipectl/caches/framed.py) and keyed on the environment that parsed it, as the parsed-deal
cache is, with the same plain-data payloads (`caches.deals.encode_deal`). It holds the blobs
the last runs used, at most KEEP times one tree's deals. Never trusted, never prints; the
worktree's own caches are never touched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pipectl.caches import framed
from pipectl.caches.deals import Ref, _decode, _key, encode_deal, encode_error
from pipectl.deal import Deal, parse_deal
from pipectl.errors import DealError

KIND = framed.Kind(b"PIPECTL-BLOBDEALS\x00", 1)
# what one run uses, times this, is kept: a few days' trees (each day shares most blobs)
KEEP = 3
_STAGE = "\0blobs"  # not a stage: the key of the environment alone (caches.deals._key)


class BlobCache:
    """Parses of deal blobs by id: `known` before reading any blob, `parse` each, `save` once."""

    def __init__(self, directory: Path | None):
        off = directory is None or os.environ.get(framed.DISABLE_ENV)
        self.path = None if off or directory is None else directory / "blobs.bin"
        found = None if self.path is None else framed.read(self.path, KIND, _key(_STAGE))
        self.old: dict[str, bytes] = found if type(found) is dict and _valid(found) else {}
        self.used: dict[str, bytes] = {}
        # what this run decoded, by blob and place (the reader's key): two trees of one run
        # (`changes`'s two ends) share many deals, and a Deal is never changed once made
        self.seen: dict[tuple[str, ...], Deal | DealError] = {}

    def known(self, oid: str) -> bool:
        return oid in self.old

    def keep(self, oid: str) -> None:
        """A blob this run wants kept without reading it (`changes` read its brief)."""
        payload = self.old.get(oid)
        if payload is not None:
            self.used.setdefault(oid, payload)

    def parse(self, oid: str, read: Callable[[], bytes], ref: Ref, shown: Path) -> Deal | DealError:
        """The deal (or why it is not one) in blob `oid` at `ref`, shown as `shown`; `read()`
        gives the blob's bytes when the cache does not know it."""
        payload = self.old.get(oid) or self.used.get(oid)
        if payload is not None:
            item = _decode(payload, ref, shown)
            if item is not None:
                self.used[oid] = payload
                return item
        try:
            data = read()
        except DealError as exc:  # unreadable (too large, gone): said, never kept
            return DealError(exc.message, shown, exc.line)
        try:
            deal = parse_deal(data, shown, ref.stage)
        except DealError as exc:
            error = DealError(exc.message, shown, exc.line)
            self.used[oid] = encode_error(error)
            return error
        except (RecursionError, ValueError, TypeError) as exc:  # as the deal cache says it
            return DealError(f"cannot parse: {type(exc).__name__}", shown, 1)
        stored = encode_deal(deal)
        if stored is not None:
            self.used[oid] = stored
        return deal

    def save(self) -> None:
        """Keep what this run used and, up to KEEP times as many, what earlier runs used (a
        manager goes back and forth between a few days), when that is news to the file."""
        if self.path is None or self.used.keys() <= self.old.keys():
            return
        kept = dict(self.used)
        room = KEEP * len(self.used) - len(kept)
        for oid, payload in self.old.items():
            if room <= 0:
                break
            if oid not in kept:
                kept[oid] = payload
                room -= 1
        framed.write(self.path, KIND, _key(_STAGE), kept)


def _valid(found: dict[object, object]) -> bool:
    return all(type(k) is str and type(v) is bytes for k, v in found.items())
