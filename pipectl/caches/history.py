"""The history index on disk: the records of every commit and what they say about each deal,
kept beside the parsed-deal cache (`<git dir>/pipectl/cache/<pipeline>/history/`), never
committed, never trusted.

Five kinds of framed file (pipectl/caches/framed.py), each bound to the index's key (the
code and version that made it, the pipeline's place in the repository) and to its own name:

- `head`: what every command reads first: the commit it was made for (tip), the shallow
  boundary and grafts it saw, the segments in order, the names of the lives and summary
  files, and the rest of the fold's state (each path's arrival), O(deals), not O(commits);
- `seg-*`: the records of one run of commits in the index's order, written once and never
  changed (named by their position and their commits), read one at a time;
- `lives-*`: each deal's events, as references into the segments (for one deal's history);
- `sums-*`: each deal's summary (the report's stops, and the rows' bytes), a base and then
  layers of the summaries later runs changed (None: gone), read in order;
- `rows-*`: what a command made of one segment's events (`history`'s table rows), keyed by
  the segment's payload digest and the code that made them, so a segment whose records are
  the same is not read again to make them; remade when either changes.

Writers write segments and lives first and the head last (an atomic rename), so a reader
sees one whole index or the one before; files no head names are removed once they are a
minute old (a concurrent writer may still be about to name them). Anything that does not
check out reads as None; nothing here raises over a file, prints, or knows git.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipectl.caches import framed

HEAD = framed.Kind(b"PIPECTL-HISTORY\x00", 1)
SEGMENT = framed.Kind(b"PIPECTL-HISTSEG\x00", 1)
LIVES = framed.Kind(b"PIPECTL-HISTLIV\x00", 1)
SUMMARIES = framed.Kind(b"PIPECTL-HISTSUM\x00", 2)  # 2: (stops, rows' bytes) a deal
ROWS = framed.Kind(b"PIPECTL-HISTROW\x00", 1)
SEGMENT_COMMITS = 4096  # commits per segment: a warm run rewrites at most one of them
_STALE_S = 60
_HEAD_KEYS = {
    "tip": str,
    "boundary": list,
    "grafts": tuple,
    "count": int,
    "segments": list,
    "lives": str,
    "summaries": list,  # the files of each deal's summary (a base, then layers of changes)
    "dates": dict,
    "hand": set,
}


class Store:
    """One pipeline's history index; `key` digests everything its records depend on."""

    def __init__(self, directory: Path, key: bytes):
        self.directory = directory
        self.key = key

    def _key(self, name: str) -> bytes:
        return framed.digest(self.key + name.encode("ascii", "replace"))

    def head(self) -> dict[str, Any] | None:
        """The head, if it checks out and has the shape this module writes."""
        data = framed.read(self.directory / "head", HEAD, self._key("head"))
        if not isinstance(data, dict) or data.keys() != _HEAD_KEYS.keys():
            return None
        if not all(isinstance(data[k], t) for k, t in _HEAD_KEYS.items()):
            return None
        if not (data["summaries"] and all(type(n) is str for n in data["summaries"])):
            return None
        start = 0
        for seg in data["segments"]:  # (name, start, count, first day, last day)
            if not (isinstance(seg, tuple) and len(seg) == 5 and seg[1] == start):
                return None
            start += seg[2]
        return data if start == data["count"] else None

    def segment(self, entry: tuple[Any, ...]) -> list[Any] | None:
        """The records of one segment the head names, or None."""
        name, _start, count = entry[0], entry[1], entry[2]
        data = framed.read(self.directory / name, SEGMENT, self._key(name))
        if not isinstance(data, list) or len(data) != count:
            return None
        return data

    def segment_digest(self, entry: tuple[Any, ...]) -> bytes | None:
        """The digest of a segment's records, from its file's header (nothing else read)."""
        name = entry[0]
        return framed.stored_digest(self.directory / name, SEGMENT, self._key(name))

    def rows(self, entry: tuple[Any, ...], made_by: bytes) -> tuple[list[int], list[Any]] | None:
        """(days, rows) kept for a segment with the records it has now, made by `made_by`."""
        name = "rows-" + entry[0]
        seg = self.segment_digest(entry)
        if seg is None:
            return None
        data = framed.read(
            self.directory / name, ROWS, framed.digest(self._key(name) + seg + made_by)
        )
        if not (isinstance(data, tuple) and len(data) == 2):
            return None
        days, rows = data
        ok = isinstance(days, list) and isinstance(rows, list) and len(days) == len(rows)
        return (days, rows) if ok else None

    def write_rows(
        self, entry: tuple[Any, ...], seg: bytes, made_by: bytes, days: list[int], rows: list[Any]
    ) -> bool:
        """Keep what `made_by` made of a segment whose header said digest `seg`."""
        name = "rows-" + entry[0]
        key = framed.digest(self._key(name) + seg + made_by)
        return framed.write(self.directory / name, ROWS, key, (days, rows))

    def lives(self, name: str) -> dict[str, bytes] | None:
        data = framed.read(self.directory / name, LIVES, self._key(name))
        return data if isinstance(data, dict) else None

    def summaries(self, names: list[str]) -> dict[str, Any] | None:
        """Each deal's summary as stored, (its stops, its rows' marshal bytes), from the base
        file and the layers after it (in a layer, None: the deal has no summary any more)."""
        out: dict[str, Any] = {}
        for n, name in enumerate(names):
            data = framed.read(self.directory / name, SUMMARIES, self._key(name))
            if not isinstance(data, dict):
                return None
            for value in data.values():
                if not (
                    (value is None and n)
                    or (
                        type(value) is tuple
                        and len(value) == 2
                        and type(value[0]) is tuple
                        and type(value[1]) is bytes
                    )
                ):
                    return None
            out.update(data)
        if len(names) > 1:
            for deal in [k for k, v in out.items() if v is None]:
                del out[deal]
        return out

    def write_segment(
        self,
        start: int,
        records: list[Any],
        days: tuple[int, int],
        kept: frozenset[str] = frozenset(),
    ) -> tuple[Any, ...] | None:
        """Store one segment, unless it is one of `kept` (read whole just now: the same
        commits at the same place); its entry for the head, None if it could not be stored."""
        ids = framed.digest_of((start, [r[0] for r in records]))
        name = f"seg-{start}-{ids[:10].hex()}"
        # otherwise written again even when a file of that name exists: it may be damaged
        if name not in kept and not framed.write(
            self.directory / name, SEGMENT, self._key(name), records
        ):
            return None
        return (name, start, len(records), days[0], days[1])

    def write_lives(self, tip: str, count: int, lives: dict[str, bytes]) -> str | None:
        name = f"lives-{tip[:16]}-{count}"
        return name if framed.write(self.directory / name, LIVES, self._key(name), lives) else None

    def write_summaries(
        self,
        tip: str,
        count: int,
        summaries: Iterable[tuple[str, Any]],
        after: list[str] | None = None,
    ) -> list[str] | None:
        """Store the summaries, (deal, summary) pairs: all of them in a new base, or, `after`
        the files they were read from, only those that changed, as one more layer (a new
        commit changes a few of 20,000: the whole file was most of a warm report's writing).
        Written as the pairs come. The names to read them by, or None if not stored."""
        # named by what it is and what it follows: two writers at one tip may write a base
        # and a layer, or layers after different files, and must not replace each other's
        role = "base" if after is None else framed.digest_of(after)[:6].hex()
        name = f"sums-{tip[:16]}-{count}-{role}"
        writer = framed.DictWriter(self.directory / name, SUMMARIES, self._key(name))
        for deal, summary in summaries:
            writer.add(deal, summary)
        if not writer.close():
            return None
        return [*after, name] if after is not None else [name]

    def write_head(self, head: dict[str, Any]) -> bool:
        """Store the head (last: it names the rest), then remove what no head names."""
        if not framed.write(self.directory / "head", HEAD, self._key("head"), head):
            return False
        segments = [seg[0] for seg in head["segments"]]
        named = {"head", head["lives"], *head["summaries"], *segments}
        named.update("rows-" + seg for seg in segments)
        now = time.time()
        with contextlib.suppress(OSError), os.scandir(self.directory) as it:
            for entry in it:
                if entry.name in named or entry.name.startswith("."):
                    continue
                with contextlib.suppress(OSError):
                    if now - entry.stat(follow_symlinks=False).st_mtime > _STALE_S:
                        os.unlink(entry.path)
        return True
