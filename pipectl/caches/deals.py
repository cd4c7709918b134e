"""The parsed-deal cache: repeated read-only runs skip YAML parsing of unchanged deal files.

One file per stage folder, kept outside the committed tree (`<git dir>/pipectl/cache/`, else
the user's cache dir). An entry is used only when the file's (mtime_ns, ctime_ns, size, inode)
match exactly; files changed in the last few seconds are never stored (a rewrite within one
timestamp tick would look unchanged). Only parse results are cached, never findings, so
"today" and pipeline.yaml always apply afresh. The files are framed (pipectl/caches/framed.py),
keyed on the stage and the environment that parsed them; the entries are plain data (marshal of
str, int, bytes; dates as ISO text). Anything that does not check out is ignored and rebuilt.
It must never be trusted, never hold pickles, never print.
The parsing itself, and the payloads' encoding, are `caches/dealparse.py`'s.
"""

from __future__ import annotations

import gc
import os
import stat
import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pipectl.caches import dealparse, framed
from pipectl.caches.dealparse import (  # the payloads' encoding, also for the blob cache
    MAX_BYTES,
    Ref,
    StatKey,
    _decode,
    _decode_at,
    encode_deal,
    encode_error,
)
from pipectl.deal import Deal
from pipectl.errors import DealError
from pipectl.version import __version__

__all__ = ["DealCache", "Ref", "_decode", "_key", "encode_deal", "encode_error"]

MAGIC = b"PIPECTL-DEALCACHE\x00"
KIND = framed.Kind(MAGIC, 2)  # a new version for each new payload layout


R = TypeVar("R", bound=Ref)
# a folder's stat keys of its plain files by name, from a walk just made (or None)
Seen = Callable[[str], "Mapping[str, StatKey] | None"]


def _careful(fallback: Callable[[R], Deal], ref: R, folder: Path) -> Deal | DealError:
    """The store's own reader, with a pathological file turned into an error, never a crash."""
    try:
        return fallback(ref)
    except DealError as exc:
        return exc
    except (RecursionError, ValueError, TypeError) as exc:
        return DealError(f"cannot parse: {type(exc).__name__}", folder / ref.name, 1)


def _key(stage: str) -> bytes:
    """What a stage file must have been written for: this stage, by the same Python, parser
    and pipectl."""
    return framed.digest_of((framed.written_by(), __version__, stage))


class DealCache:
    """Parsed deals of one pipeline, by stage file; `read` is the only entry point."""

    def __init__(self, directory: Path | None):
        self.directory = None if os.environ.get(framed.DISABLE_ENV) else directory
        self.stats = {"hits": 0, "parsed": 0, "stored": 0, "workers": 0}

    def read(
        self,
        refs: Sequence[R],
        display: Callable[[Path], Path],
        fallback: Callable[[R], Deal],
        seen: Seen | None = None,
    ) -> list[Deal | DealError]:
        """Each ref parsed (from the cache where valid), in order; bad files as DealError.

        `display` turns a stage folder into the path users read (a deal's is that / name).
        Anything but a plain regular file (links, folders, FIFOs, devices, files too large
        or unreadable) goes to `fallback`, the store's careful reader, and is never stored.
        `seen`: a folder's stat keys of its plain files by name, taken just before by the
        caller (the result cache's walk), else None: those files are not `lstat` again.
        """
        # hundreds of thousands of new containers, none in a cycle: the cyclic collector would
        # walk them again and again while they are made (about a fifth of this process's time)
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._read(refs, display, fallback, seen)
        finally:
            if collecting:
                gc.enable()

    def _read(
        self,
        refs: Sequence[R],
        display: Callable[[Path], Path],
        fallback: Callable[[R], Deal],
        seen: Seen | None,
    ) -> list[Deal | DealError]:
        start_ns = time.time_ns()
        out: list[Deal | DealError | None] = [None] * len(refs)
        # the files to parse, by ref index, and their stat keys packed four numbers a file:
        # as tuples of ints they were about 270 bytes a file, held for the whole load
        todo = array("q")
        keys = array("q")  # mtime_ns, ctime_ns (signed)
        places = array("Q")  # size, inode (unsigned: an inode may pass 2**63)
        slow: list[int] = []
        stages: dict[str, tuple[dict[str, Any], dict[str, Any], Path]] = {}
        # where each stage's refs end: there its stage file's entries are let go (a warm run
        # held every stage's file until the last deal was decoded, a third of its peak)
        ends = {ref.stage: i for i, ref in enumerate(refs)}
        parsing: set[str] = set()
        # each stage folder opened once, its files' stat read by name within it: no path
        # joined and walked again for each of 20,000 files (a third of the stat calls' time)
        where = _Folders()
        known: dict[str, Mapping[str, StatKey] | None] = {}
        try:
            for i, ref in enumerate(refs):
                if ref.stage not in stages:
                    stages[ref.stage] = (self._load(ref.stage), {}, display(Path(ref.folder)))
                    known[ref.stage] = None if seen is None else seen(ref.folder)
                state = stages[ref.stage]
                key = self._look(i, ref, state, out, slow, where.stat, known[ref.stage])
                if key is not None:
                    todo.append(i)
                    keys.extend(key[:2])
                    places.extend(key[2:])
                    parsing.add(ref.stage)
                if ends[ref.stage] == i:
                    stages[ref.stage] = self._settle(
                        ref.stage, stages[ref.stage], ref.stage in parsing
                    )
                    known[ref.stage] = None  # its stats are in `keys`: not held on
        finally:
            where.close()
        self._take(refs, todo, (keys, places), stages, out, slow, start_ns - framed.RACY_WINDOW_NS)
        for i in slow:
            out[i] = _careful(fallback, refs[i], stages[refs[i].stage][2])
        self.stats["parsed"] = len(todo) + len(slow)
        return [item for item in out if item is not None]

    def _take(
        self,
        refs: Sequence[Ref],
        todo: Sequence[int],
        keys: tuple[Sequence[int], Sequence[int]],
        stages: dict[str, tuple[dict[str, Any], dict[str, Any], Path]],
        out: list[Any],
        slow: list[int],
        racy_after: int,
    ) -> None:
        """The files of `todo` parsed into `out` (or sent to `slow`), each stage's file
        written as its payloads come: a stage with one to store streams them into its new
        file (its kept entries first) and holds none; the file goes in place when the stage's
        last file is parsed, and a stage with none to store is written only if it changed."""
        last = {refs[i].stage: n for n, i in enumerate(todo)}
        times, places = keys
        folders = {stage: where for stage, (_old, _new, where) in stages.items()}
        writers: dict[str, framed.DictWriter] = {}
        store = self.directory is not None
        parsed = dealparse.parse(refs, todo, folders, store, self.stats)
        try:
            for n, (i, (payload, item)) in enumerate(zip(todo, parsed, strict=True)):
                ref = refs[i]
                stage = ref.stage
                if item is None:
                    slow.append(i)
                else:
                    out[i] = item
                    key = (*times[2 * n : 2 * n + 2], *places[2 * n : 2 * n + 2])
                    # a pool sends payloads even when there is no cache: they travel best
                    if store and payload is not None and max(key[0], key[1]) < racy_after:
                        self._writer(stage, stages[stage][1], writers).add(ref.name, (key, payload))
                if last[stage] == n:
                    folder = stages[stage][2]
                    done = writers.pop(stage, None)
                    if done is not None:
                        if done.close():
                            self.stats["stored"] += done.count
                    else:
                        self._save_if_changed(stage, stages[stage][:2])
                    stages[stage] = ({}, {}, folder)  # the folder, for slow files' messages
        finally:
            for left in writers.values():  # an error on the way: no half-written file
                left.abort()

    def _writer(
        self, stage: str, kept: dict[str, Any], writers: dict[str, framed.DictWriter]
    ) -> framed.DictWriter:
        """The stage's new file being written, opened with the entries it keeps."""
        found = writers.get(stage)
        if found is None:
            path = self._file(stage)
            assert path is not None  # only stored when there is a cache
            found = writers[stage] = framed.DictWriter(path, KIND, _key(stage))
            for name, entry in kept.items():
                found.add(name, entry)
        return found

    def _look(
        self,
        i: int,
        ref: Ref,
        stage: tuple[dict[str, Any], dict[str, Any], Path],
        out: list[Any],
        slow: list[int],
        lstat: Callable[[str, str], os.stat_result],
        seen: Mapping[str, StatKey] | None,
    ) -> StatKey | None:
        """None when ref `i` is answered here (from its stage file's entry into `out`, or
        sent to the careful reader by `slow`); else the stat key of the file to parse.
        `stage`: its stage file's old and new entries, and its folder as shown."""
        old, new, folder = stage
        name = ref.name
        key = None if seen is None else seen.get(name)  # a plain file, seen just now
        if key is None:
            try:
                st = lstat(ref.folder, name)
            except OSError:
                slow.append(i)
                return None
            if not stat.S_ISREG(st.st_mode):
                slow.append(i)
                return None
            key = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        if key[2] > MAX_BYTES:
            slow.append(i)
            return None
        entry = old.get(name)
        if entry is not None and entry[0] == key:
            item = _decode_at(entry[1], ref, folder)
            if item is not None:
                out[i] = item
                new[name] = entry
                self.stats["hits"] += 1
                return None
        return key

    def _settle(
        self, stage: str, state: tuple[dict[str, Any], dict[str, Any], Path], parsing: bool
    ) -> tuple[dict[str, Any], dict[str, Any], Path]:
        """A stage whose refs are all seen: with nothing to parse, its file is written if it
        changed and its entries let go; else only the old entries go, the file's fate kept
        (unchanged so far when every old entry was used)."""
        old, new, folder = state
        if not parsing:
            self._save_if_changed(stage, (old, new))
            return {}, {}, folder  # the folder, for slow files' messages
        return (dict(new) if len(new) == len(old) else _STALE), new, folder

    def _save_if_changed(self, stage: str, old_new: tuple[dict[str, Any], dict[str, Any]]) -> None:
        old, new = old_new
        if old is _STALE or new.keys() != old.keys() or any(old[k] is not new[k] for k in new):
            self._save(stage, new)

    # --- the files ---------------------------------------------------------------------

    def _file(self, stage: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{stage}.bin"

    def _load(self, stage: str) -> dict[str, Any]:
        """The entries of one stage file; {} when absent, foreign, corrupt or unsafe."""
        path = self._file(stage)
        entries = None if path is None else framed.read(path, KIND, _key(stage))
        if type(entries) is not dict:
            return {}
        return {
            name: entry
            for name, entry in entries.items()
            if type(name) is str and _valid_entry(entry)
        }

    def _save(self, stage: str, entries: dict[str, Any]) -> None:
        """Replace one stage file atomically; a cache that cannot be written is skipped."""
        path = self._file(stage)
        if path is not None and framed.write(path, KIND, _key(stage), entries):
            self.stats["stored"] += len(entries)


_AT = os.stat in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")
_OPEN_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


class _Folders:
    """`lstat` of a file by its folder and name, through the folder opened once (the last
    one asked: refs come folder by folder); by its whole path where that cannot be."""

    def __init__(self) -> None:
        self.folder: str | None = None
        self.fd: int | None = None

    def stat(self, folder: str, name: str) -> os.stat_result:
        if folder != self.folder:
            self.close()
            self.folder = folder
            try:
                self.fd = os.open(folder, _OPEN_FOLDER) if _AT else None
            except OSError:  # not a folder we may open: each file by its path
                self.fd = None
        if self.fd is None:
            return os.lstat(os.path.join(folder, name))
        return os.stat(name, dir_fd=self.fd, follow_symlinks=False)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# the old entries of a stage that are not all used: its file is written whatever is parsed
_STALE: dict[str, Any] = {}


def _valid_entry(entry: Any) -> bool:
    return (
        type(entry) is tuple
        and len(entry) == 2
        and type(entry[1]) is bytes
        and type(entry[0]) is tuple
        and len(entry[0]) == 4
        and all(type(v) is int for v in entry[0])
    )
