"""Deal files parsed into the parse cache's payloads and back: plain data only (str, int,
bytes; dates as ISO text with the paths to them), parsed in this process or, for a large cold
load, in a pool of forked processes across the machine's cores. It never touches a cache file
(that is `caches/deals.py`), never holds pickles, never prints.
"""

from __future__ import annotations

import datetime as dt
import marshal
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, overload

from pipectl.capped import read_capped
from pipectl.deal import Deal, parse_deal, parse_fields
from pipectl.errors import DealError

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
    return _encode_parts(deal.fields, deal.lines)


def _encode_parts(fields: Mapping[str, Any], lines: Mapping[str, int]) -> bytes | None:
    dates: list[tuple[Any, ...]] = []
    try:
        plain = _encode(dict(fields), (), dates)
    except (_NotPlain, RecursionError):
        return None
    kept = {sys.intern(k): v for k, v in lines.items()}
    return marshal.dumps((0, plain, tuple(dates), kept))


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
        days = _DAYS
        for path in dates:  # (*keys, last key, kind)
            size = len(path)
            if size == 2:  # a top-level date: created, expected_close, …
                node, last = fields, path[0]
            elif size == 4:  # one in a list of mappings: a touchpoint's, a task's
                node, last = fields[path[0]][path[1]], path[2]
            else:
                node = fields
                for k in path[:-2]:
                    node = node[k]
                last = path[-2]
            text = node[last]
            if path[-1]:
                node[last] = dt.datetime.fromisoformat(text)
            else:
                day = days.get(text)
                node[last] = day if day is not None else days.setdefault(text, _day(text))
        layout = tuple(lines.items())  # most deals share a key layout: share one read-only map
        shared = _LAYOUTS.get(layout)
        if shared is None:
            shared = _LAYOUTS[layout] = MappingProxyType(lines)
        return fields, shared
    except Exception:
        return None


# --- parsing, in this process or a pool ------------------------------------------------------


def parse(
    refs: Sequence[Ref],
    todo: Sequence[int],
    folders: Mapping[str, Path],
    store: bool,
    stats: dict[str, int],
) -> Iterator[tuple[bytes | None, Deal | DealError | None]]:
    """Each file of `todo` (by ref index) parsed, as (payload to store or None, Deal or
    DealError or None: read carefully); `folders`: each stage's folder as shown; `store`:
    payloads wanted; `stats["workers"]`: the pool's size, when one parsed them."""
    workers = _workers(len(todo))
    if workers > 1:
        jobs = _Jobs(refs, todo, folders)
        pooled = _parse_parallel(jobs, workers, True)  # the compact form travels best
        if pooled is not None:
            stats["workers"] = workers
            for i, (kind, data, _) in zip(todo, pooled, strict=True):
                ref = refs[i]
                yield _from_worker(kind, data, ref, folders[ref.stage])
            return
    for i in todo:
        ref = refs[i]
        folder = folders[ref.stage]
        job = (os.path.join(ref.folder, ref.name), folder / ref.name, ref.stage)
        kind, data, item = _parse_one(job, store, True)
        if isinstance(item, Deal):  # held at its folder, as the cache's deals are
            item = Deal.at(ref.id, ref.stage, folder, item.fields, item.lines)
        yield (data if kind in (0, 2) else None), item


Job = tuple[str, "str | Path", str]  # file path, path as shown, stage


def _parse_one(job: Job, store: bool, keep: bool) -> tuple[int, Any, Deal | DealError | None]:
    """Parse one file into (kind, data, the Deal or DealError when `keep`). Kinds: 0 a payload
    to store, 1 (fields, lines) that cannot be stored, 2 an error payload (the same bytes give
    the same error), 3 the store's careful reader must look (not a plain file, unreadable)."""
    path, shown, stage = job
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with open(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                return 3, None, None
            data = read_capped(f, info.st_size, MAX_BYTES)
    except OSError:
        return 3, None, None
    if len(data) > MAX_BYTES:
        return 3, None, None
    try:
        if not keep:  # a pool's worker: the parts only, no Deal nor Path made for them
            fields, lines = parse_fields(data, shown)
            payload = _encode_parts(fields, lines) if store else None
            return (1, (fields, lines), None) if payload is None else (0, payload, None)
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

    def __init__(self, refs: Sequence[Ref], todo: Sequence[int], folders: Mapping[str, Path]):
        self.refs, self.todo, self.folders = refs, todo, folders
        # each stage folder as shown, as text, made once (a `Path` joined per file was 4 µs)
        self.shown = {stage: str(folder) for stage, folder in folders.items()}

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

    def _job(self, index: int) -> Job:
        ref = self.refs[index]
        shown = os.path.join(self.shown[ref.stage], ref.name)
        return (os.path.join(ref.folder, ref.name), shown, ref.stage)


def _parse_parallel(jobs: Sequence[Job], workers: int, store: bool) -> Iterator[Any] | None:
    """Parse in `workers` forked processes, results in order as chunks finish; None when a
    pool cannot be had here."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    size = max(1, min(500, -(-len(jobs) // (workers * 4))))
    chunks = (jobs[i : i + size] for i in range(0, len(jobs), size))  # made as sent
    keep_heap()  # before the fork: the workers have it too
    try:
        pool = multiprocessing.get_context("fork").Pool(workers)
    except (OSError, ImportError):
        return None
    return _stream(pool, chunks, store, 2 * workers)


def _stream(pool: Any, chunks: Iterable[Sequence[Job]], store: bool, ahead: int) -> Iterator[Any]:
    """The chunks' results in order, at most `ahead` chunks sent and not yet taken: the
    pool's own `imap` keeps every result that comes in before it is taken, and the workers ran
    ahead by tens of thousands of payloads while this process wrote a stage's file."""
    from collections import deque

    waiting: deque[Any] = deque()
    with pool:
        for chunk in chunks:
            waiting.append(pool.apply_async(_parse_chunk, (chunk, store)))
            if len(waiting) >= ahead:
                yield from waiting.popleft().get()
        while waiting:
            yield from waiting.popleft().get()


_TRIM_AT, _TOP_PAD = 64 << 20, 16 << 20  # bytes; glibc's defaults are 128 KB and none


def keep_heap() -> None:
    """Tell glibc's malloc to keep freed memory at the top of its heap (up to 64 MB) instead
    of giving it back to the system whenever 128 KB are free: a large load makes and frees
    a file's objects thousands of times a second, and each give-back was taken again at once,
    page by page (at 100,000 deals, 1.4 s of a 24 s cold lint, mostly system time). Where
    malloc is not glibc's (no `mallopt`), nothing is done. A process that loaded a large
    pipeline keeps the setting."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, ImportError):
        return
    mallopt(-1, _TRIM_AT)  # M_TRIM_THRESHOLD
    mallopt(-2, _TOP_PAD)  # M_TOP_PAD
