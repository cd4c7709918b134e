"""The one format of pipectl's cache files, where they live, and when a stat may be trusted.

A file is a frame: magic (what kind of cache), version (of the payload's layout), key (a
digest of every input the payload was computed from), BLAKE2 digest of the payload, payload
(`marshal` of plain data). It is written to a temp file and renamed into place, and read back
only when every part checks out and the file is a regular file of ours that no one else may
write. A file that does not check out (absent, foreign, stale, truncated, damaged, a folder, a
FIFO, unreadable) reads as None, and a cache that cannot be written is skipped: this module
never raises over a cache file, never prints, and never holds pickles.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DISABLE_ENV = "PIPECTL_NO_CACHE"
# Files whose mtime or ctime is this recent when a run starts are never trusted to a cache keyed
# on their stat: filesystems keep time in ticks (up to 2 s on some), and a rewrite inside the
# tick of the stored mtime, with the same size and inode, would otherwise be served stale.
RACY_WINDOW_NS = 3_000_000_000
DIGEST = 32


@dataclass(frozen=True)
class Kind:
    """What a cache file holds: its magic, and the version of its payload's layout."""

    magic: bytes
    version: int

    @property
    def header(self) -> bytes:
        return self.magic + self.version.to_bytes(2, "big")


def written_by() -> tuple[Any, ...]:
    """What a payload of parsed deals was made by besides pipectl: Python, marshal and the
    YAML parser (its version, and whether its C loader is there)."""
    import yaml  # imported by any run that reads a pipeline.yaml: no cost of its own here

    return (sys.version, marshal.version, yaml.__version__, hasattr(yaml, "CSafeLoader"))


def digest(data: bytes) -> bytes:
    """The key of a payload: a digest of the (marshal) bytes of every input it depends on."""
    return hashlib.blake2b(data, digest_size=DIGEST).digest()


def digest_of(value: Any) -> bytes:
    """The key of plain data: its marshal bytes' digest, in marshal version 2, which has no
    back-references (their flags follow each object's refcount, so the default encoding of
    the same value differs from one caller to the next: a cache written by one command was
    missed by the next)."""
    return digest(marshal.dumps(value, 2))


def default_dir(pipeline_root: Path, git_dir: Path | None) -> Path:
    """Where a pipeline's caches live: inside the git dir, else the user's cache dir."""
    root = pipeline_root.resolve()
    if git_dir is not None:
        try:
            rel = root.relative_to(git_dir.resolve().parent).as_posix()
        except ValueError:
            rel = str(root)
        name = hashlib.sha1(rel.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        return git_dir / "pipectl" / "cache" / name
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    name = hashlib.sha1(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(base) / "pipectl" / name


def read(path: Path, kind: Kind, key: bytes) -> Any | None:
    """The payload stored at `path` for exactly this kind and key, or None."""
    try:
        # no following links, no waiting on a FIFO; unbuffered, so the payload is read
        # straight into one bytes object (a buffered read would copy it once more)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with open(fd, "rb", buffering=0) as f:
            frame = _header(f, kind, key)
            if frame is None:
                return None
            body = f.readall()
    except OSError:
        return None
    if digest(body) != frame[-DIGEST:]:
        return None
    try:
        return marshal.loads(body)
    except Exception:
        return None


def stored_digest(path: Path, kind: Kind, key: bytes) -> bytes | None:
    """The digest of the payload a frame at `path` of this kind and key says it holds, from
    its header alone (the payload is neither read nor checked): what another cache made from
    that payload is keyed by, without reading it. None when the header does not match."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with open(fd, "rb", buffering=0) as f:
            frame = _header(f, kind, key)
    except OSError:
        return None
    return None if frame is None else frame[-DIGEST:]


def _header(f: Any, kind: Kind, key: bytes) -> bytes | None:
    """The frame's header (magic, version, key, payload digest) of an open file of ours that
    no one else may write, when it is this kind's with this key; else None."""
    st = os.fstat(f.fileno())
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        return None
    head = kind.header
    size = len(head) + 2 * DIGEST
    frame = f.read(size)
    if len(frame) != size or frame[: len(head) + DIGEST] != head + key:
        return None
    return bytes(frame)


class DictWriter:
    """A frame holding one dict, written entry by entry as the entries come: none is held once
    written, and no copy of the whole payload is made (a stage of 30,000 deals held its
    payloads and then their marshal copy, the peak of a cold load). The entries are marshal
    version 2, which has no back-references, so each one's bytes stand alone in the stream;
    the digest goes into the header last. `close` puts the file in place; a writer never
    closed (or one that met an error) leaves nothing behind, and never raises over it."""

    def __init__(self, path: Path, kind: Kind, key: bytes):
        if len(key) != DIGEST:
            raise ValueError(f"a cache key is a {DIGEST}-byte digest, not {len(key)} bytes")
        self.path, self.count = path, 0
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.hash = hashlib.blake2b(digest_size=DIGEST)
        self.at = len(kind.header) + DIGEST  # where the payload's digest goes
        self.file: Any = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self.file = os.fdopen(fd, "wb")
            self.file.write(kind.header + key + bytes(DIGEST))
            self._put(b"{")  # marshal's dict: its pairs, then the null that ends them
        except OSError:
            self.abort()

    def _put(self, data: bytes) -> None:
        self.hash.update(data)
        self.file.write(data)

    def add(self, name: Any, value: Any) -> None:
        """One entry (plain data); one that marshal refuses spoils the file, not the run."""
        if self.file is None:
            return
        try:
            self._put(marshal.dumps(name, 2) + marshal.dumps(value, 2))
            self.count += 1
        except (OSError, ValueError):
            self.abort()

    def close(self) -> bool:
        """The file put in place; False when it could not be written."""
        if self.file is None:
            return False
        try:
            self._put(b"0")
            self.file.seek(self.at)
            self.file.write(self.hash.digest())
            self.file.close()
            self.file = None
            os.replace(self.tmp, self.path)
        except OSError:
            self.abort()
            return False
        return True

    def abort(self) -> None:
        """Nothing written after all: the temp file removed."""
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None
        with contextlib.suppress(OSError):  # e.g. a folder we may not even search
            self.tmp.unlink(missing_ok=True)


def write(path: Path, kind: Kind, key: bytes, value: Any) -> bool:
    """Store `value` (plain data) at `path` atomically; False when it could not be stored."""
    if len(key) != DIGEST:
        raise ValueError(f"a cache key is a {DIGEST}-byte digest, not {len(key)} bytes")
    try:
        body = marshal.dumps(value)
    except ValueError:
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:  # in parts: no second copy of a large body
            f.write(kind.header)
            f.write(key)
            f.write(digest(body))
            f.write(body)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):  # e.g. a folder we may not even search
            tmp.unlink(missing_ok=True)
        return False
    return True
