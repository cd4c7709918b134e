"""The parsed-deal cache: repeated read-only runs skip YAML parsing of unchanged deal files.

One file per stage folder, kept outside the committed tree (`<git dir>/pipectl/cache/`, else
the user's cache dir). An entry is used only when the file's (mtime_ns, ctime_ns, size, inode)
match exactly; files changed in the last few seconds are never stored (a rewrite within one
timestamp tick would look unchanged). Only parse results are cached, never findings, so
"today" and pipeline.yaml always apply afresh. The files are framed (pipectl/caches/framed.py),
keyed on the stage and the environment that parsed them; the entries are plain data (marshal of
str, int, bytes; dates as ISO text). Anything that does not check out is ignored and rebuilt.
It must never be trusted, never hold pickles, never print.
Large cold loads parse in a process pool across the machine's cores.
"""

from __future__ import annotations

import datetime as dt
import gc
import marshal
import os
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, TypeVar, overload

from pipectl.caches import framed
from pipectl.deal import Deal, parse_deal
from pipectl.errors import DealError
from pipectl.version import __version__

MAGIC = b"PIPECTL-DEALCACHE\x00"
KIND = framed.Kind(MAGIC, 2)  # a new version for each new payload layout
MAX_BYTES = 32 << 20  # larger files take the store's reader, which refuses them
# Below this many files to parse, a process pool costs more than it saves.
PARALLEL_MIN = 1500

StatKey = tuple[int, int, int, int]


class Ref(Protocol):
    """What the cache needs of a deal reference (store.DealRef)."""

    @property
    def id(self) -> str: ...
    @property
    def stage(self) -> str: ...
    @property
    def path(self) -> Path: ...
    @property
    def folder(self) -> str: ...  # the stage folder's text (`path`'s parent)
    @property
    def name(self) -> str: ...  # the file's name (`path`'s)


R = TypeVar("R", bound=Ref)


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
    import yaml

    env = (sys.version, marshal.version, yaml.__version__, hasattr(yaml, "CSafeLoader"))
    return framed.digest_of((env, __version__, stage))


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
    ) -> list[Deal | DealError]:
        """Each ref parsed (from the cache where valid), in order; bad files as DealError.

        `display` turns a stage folder into the path users read (a deal's is that / name).
        Anything but a plain regular file (links, folders, FIFOs, devices, files too large
        or unreadable) goes to `fallback`, the store's careful reader, and is never stored.
        """
        # hundreds of thousands of new containers, none in a cycle: the cyclic collector would
        # walk them again and again while they are made (about a fifth of this process's time)
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._read(refs, display, fallback)
        finally:
            if collecting:
                gc.enable()

    def _read(
        self,
        refs: Sequence[R],
        display: Callable[[Path], Path],
        fallback: Callable[[R], Deal],
    ) -> list[Deal | DealError]:
        start_ns = time.time_ns()
        out: list[Deal | DealError | None] = [None] * len(refs)
        todo: list[tuple[int, StatKey]] = []
        slow: list[int] = []
        stages: dict[str, tuple[dict[str, Any], dict[str, Any], Path]] = {}
        # where each stage's refs end: there its stage file's entries are let go (a warm run
        # held every stage's file until the last deal was decoded, a third of its peak)
        ends = {ref.stage: i for i, ref in enumerate(refs)}
        parsing: set[str] = set()
        for i, ref in enumerate(refs):
            if ref.stage not in stages:
                stages[ref.stage] = (self._load(ref.stage), {}, display(Path(ref.folder)))
            old, new, folder = stages[ref.stage]
            key = self._look(i, ref, old, new, folder, out, slow)
            if key is not None:
                todo.append((i, key))
                parsing.add(ref.stage)
            if ends[ref.stage] == i:
                stages[ref.stage] = self._settle(ref.stage, stages[ref.stage], ref.stage in parsing)
        racy_after = start_ns - framed.RACY_WINDOW_NS
        # a stage's file is written as soon as its last file is parsed, and its payloads let go
        last = {refs[i].stage: n for n, (i, _key) in enumerate(todo)}
        folders = {stage: where for stage, (_old, _new, where) in stages.items()}
        parsed = self._parse(refs, todo, folders)
        for n, ((i, key), (payload, item)) in enumerate(zip(todo, parsed, strict=True)):
            stage = refs[i].stage
            if item is None:
                slow.append(i)
            else:
                out[i] = item
                if payload is not None and max(key[0], key[1]) < racy_after:
                    stages[stage][1][refs[i].name] = (key, payload)
            if last[stage] == n:
                folder = stages[stage][2]
                self._save_if_changed(stage, stages.pop(stage)[:2])
                stages[stage] = ({}, {}, folder)  # the folder, for slow files' messages
        for i in slow:
            out[i] = _careful(fallback, refs[i], stages[refs[i].stage][2])
        self.stats["parsed"] = len(todo) + len(slow)
        return [item for item in out if item is not None]

    def _look(
        self,
        i: int,
        ref: Ref,
        old: dict[str, Any],
        new: dict[str, Any],
        folder: Path,
        out: list[Any],
        slow: list[int],
    ) -> StatKey | None:
        """None when ref `i` is answered here (from its stage file's entry into `out`, or
        sent to the careful reader by `slow`); else the stat key of the file to parse."""
        name = ref.name
        try:
            st = os.lstat(os.path.join(ref.folder, name))
        except OSError:
            slow.append(i)
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            slow.append(i)
            return None
        key = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
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

    def _parse(
        self, refs: Sequence[Ref], todo: list[tuple[int, StatKey]], folders: Mapping[str, Path]
    ) -> Iterator[tuple[bytes | None, Deal | DealError | None]]:
        """Each file of `todo` parsed; `folders`: each stage's folder as shown."""
        store = self.directory is not None
        workers = _workers(len(todo))
        if workers > 1:
            jobs = _Jobs(refs, todo, folders)
            pooled = _parse_parallel(jobs, workers, True)  # the compact form travels best
            if pooled is not None:
                self.stats["workers"] = workers
                for (i, _key), (kind, data, _) in zip(todo, pooled, strict=True):
                    ref = refs[i]
                    yield _from_worker(kind, data, ref, folders[ref.stage])
                return
        for i, _key in todo:
            ref = refs[i]
            folder = folders[ref.stage]
            job = (os.path.join(ref.folder, ref.name), folder / ref.name, ref.stage)
            kind, data, item = _parse_one(job, store, True)
            if isinstance(item, Deal):  # held at its folder, as the cache's deals are
                item = Deal.at(ref.id, ref.stage, folder, item.fields, item.lines)
            yield (data if kind in (0, 2) else None), item

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


# --- encoding: plain data only; dates travel as ISO text with the paths to them ---------------

_PLAIN = (str, int, float, bool, type(None), bytes)
_SCALAR = frozenset(_PLAIN) - {str}
_SHARED_LEN = 24
_LAYOUTS: dict[tuple[Any, ...], Mapping[str, int]] = {}
_DAYS: dict[str, dt.date] = {}  # one object per distinct date: a pipeline repeats them a lot
_KINDS = {dt.date: 0, dt.datetime: 1}


class _NotPlain(Exception):
    """A value the cache does not store (sets, pairs, dates as keys): parse it every time."""


def _encode(value: Any, path: tuple[Any, ...], dates: list[tuple[Any, ...]]) -> Any:
    kind = type(value)
    if kind is str:
        # interned text is stored once per payload and loaded as one shared object: keys and
        # short words (kinds, outcomes, owners, currencies) repeat across every deal
        return sys.intern(value) if len(value) <= _SHARED_LEN else value
    if kind is dict:
        out = {}
        for k, v in value.items():
            if type(k) not in _PLAIN:
                raise _NotPlain
            kind = type(v)  # plain values inline: no path is built for them
            if kind is str:
                v = sys.intern(v) if len(v) <= _SHARED_LEN else v
            elif kind in _SCALAR:
                pass
            else:
                v = _encode(v, (*path, k), dates)
            out[sys.intern(k) if type(k) is str else k] = v
        return out
    if kind is list:
        items = []
        for i, v in enumerate(value):
            kind = type(v)
            if kind is str:
                v = sys.intern(v) if len(v) <= _SHARED_LEN else v
            elif kind not in _SCALAR:
                v = _encode(v, (*path, i), dates)
            items.append(v)
        return items
    if kind in _KINDS:
        dates.append((*path, _KINDS[kind]))
        return value.isoformat()
    if kind in _PLAIN:
        return value
    raise _NotPlain


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def encode_deal(deal: Deal) -> bytes | None:
    """A deal's parse result as marshal bytes, or None when it holds a value we do not store."""
    dates: list[tuple[Any, ...]] = []
    try:
        fields = _encode(dict(deal.fields), (), dates)
    except (_NotPlain, RecursionError):
        return None
    lines = {sys.intern(k): v for k, v in deal.lines.items()}
    return marshal.dumps((0, fields, tuple(dates), lines))


def encode_error(exc: DealError) -> bytes:
    return marshal.dumps((1, exc.message, exc.line))


def _decode(payload: bytes, ref: Ref, shown: Path) -> Deal | DealError | None:
    """The Deal (or DealError) a payload stands for, at `shown`; None when it does not decode
    cleanly."""
    data = _unpack(payload)
    if data is None or isinstance(data, DealError):
        return None if data is None else DealError(data.message, shown, data.line)
    fields, lines = data
    return Deal(ref.id, ref.stage, shown, fields, lines)


def _decode_at(payload: bytes, ref: Ref, folder: Path) -> Deal | DealError | None:
    """`_decode` of a deal listed in a stage folder shown as `folder`: the Deal keeps the
    folder (shared by the stage), not a `Path` of its own."""
    data = _unpack(payload)
    if data is None or isinstance(data, DealError):
        return None if data is None else DealError(data.message, folder / ref.name, data.line)
    fields, lines = data
    return Deal.at(ref.id, ref.stage, folder, fields, lines)


def _unpack(payload: bytes) -> tuple[dict[str, Any], Mapping[str, int]] | DealError | None:
    """A payload's (fields, lines), or its DealError (without a path); None when it does not
    decode cleanly."""
    try:
        data = marshal.loads(payload)
        if data[0] == 1:
            _kind, message, line = data
            if type(message) is not str or not (line is None or type(line) is int):
                return None
            return DealError(message, None, line)
        _kind, fields, dates, lines = data
        if type(fields) is not dict or type(lines) is not dict:
            return None
        for *keys, last, kind in dates:
            node = fields
            for k in keys:
                node = node[k]
            text = node[last]
            if kind:
                node[last] = dt.datetime.fromisoformat(text)
            else:
                day = _DAYS.get(text)
                node[last] = day if day is not None else _DAYS.setdefault(text, _day(text))
        layout = tuple(lines.items())  # most deals share a key layout: share one read-only map
        shared = _LAYOUTS.get(layout)
        if shared is None:
            shared = _LAYOUTS[layout] = MappingProxyType(lines)
        return fields, shared
    except Exception:
        return None


# --- parsing, in this process or a pool ------------------------------------------------------

Job = tuple[str, "str | Path", str]  # file path, path as shown, stage


def _parse_one(job: Job, store: bool, keep: bool) -> tuple[int, Any, Deal | DealError | None]:
    """Parse one file into (kind, data, the Deal or DealError when `keep`). Kinds: 0 a payload
    to store, 1 (fields, lines) that cannot be stored, 2 an error payload (the same bytes give
    the same error), 3 the store's careful reader must look (not a plain file, unreadable)."""
    path, shown, stage = job
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return 3, None, None
            data = f.read(MAX_BYTES + 1)
    except OSError:
        return 3, None, None
    if len(data) > MAX_BYTES:
        return 3, None, None
    try:
        deal = parse_deal(data, shown if isinstance(shown, Path) else Path(shown), stage)
    except DealError as exc:
        return 2, encode_error(exc), exc if keep else None
    except (RecursionError, ValueError, TypeError) as exc:
        # a pathological file must become an error for this file, never a crash of the run
        error = DealError(f"cannot parse: {type(exc).__name__}", shown, 1)
        return 2, encode_error(error), error if keep else None
    payload = encode_deal(deal) if store else None
    if payload is None:
        return 1, None if keep else (deal.fields, deal.lines), deal if keep else None
    return 0, payload, deal if keep else None


def _parse_chunk(jobs: Sequence[Job], store: bool) -> list[tuple[int, Any, Any]]:
    return [_parse_one(job, store, False) for job in jobs]


def _from_worker(kind: int, data: Any, ref: Ref, folder: Path) -> tuple[bytes | None, Any]:
    """A parse result as (payload to store or None, Deal or DealError or None: read carefully)."""
    if kind == 3:
        return None, None
    if kind == 1:
        fields, lines = data
        return None, Deal.at(ref.id, ref.stage, folder, fields, lines)
    return data, _decode_at(data, ref, folder)


def _workers(jobs: int) -> int:
    if jobs < PARALLEL_MIN:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, jobs // (PARALLEL_MIN // 2)))


class _Jobs(Sequence[Job]):
    """The jobs of a pool, made a chunk at a time as the pool sends them (100,000 at once
    would sit in memory beside the deals)."""

    def __init__(
        self, refs: Sequence[Ref], todo: list[tuple[int, StatKey]], folders: Mapping[str, Path]
    ):
        self.refs, self.todo, self.folders = refs, todo, folders

    def __len__(self) -> int:
        return len(self.todo)

    @overload
    def __getitem__(self, index: int) -> Job: ...
    @overload
    def __getitem__(self, index: slice) -> list[Job]: ...

    def __getitem__(self, index: int | slice) -> Job | list[Job]:
        if isinstance(index, slice):
            return [self._job(t) for t in self.todo[index]]
        return self._job(self.todo[index])

    def _job(self, item: tuple[int, StatKey]) -> Job:
        ref = self.refs[item[0]]
        shown = str(self.folders[ref.stage] / ref.name)
        return (os.path.join(ref.folder, ref.name), shown, ref.stage)


def _parse_parallel(jobs: Sequence[Job], workers: int, store: bool) -> Iterator[Any] | None:
    """Parse in `workers` forked processes, results in order as chunks finish; None when a
    pool cannot be had here."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    size = max(1, min(500, -(-len(jobs) // (workers * 4))))
    chunks = (jobs[i : i + size] for i in range(0, len(jobs), size))  # made as sent
    try:
        pool = multiprocessing.get_context("fork").Pool(workers)
    except (OSError, ImportError):
        return None
    return _stream(pool, chunks, store)


def _stream(pool: Any, chunks: Iterable[Sequence[Job]], store: bool) -> Iterator[Any]:
    from functools import partial

    with pool:
        for part in pool.imap(partial(_parse_chunk, store=store), chunks):
            yield from part
