"""One lock per pipeline clone, so two pipectl processes never interleave their changes.

An advisory `flock` on a file inside the git directory (never committed): the kernel drops it
when its process dies, so a lock left by a killed process cannot block anyone.

The lock file is opened where the store says (the pipeline's folder or its checked git dir,
`Pipeline.lock_path`), never through a link and only if it is a plain file of its own: a
`.pipectl.lock` in an unpacked archive that links to, or is a hard link of, another file must
not get that file truncated and written.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import math
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from pipectl.errors import LockError

DEFAULT_TIMEOUT = 30.0


def timeout_from_env() -> float:
    try:
        value = float(os.environ.get("PIPECTL_LOCK_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if math.isfinite(value) and value >= 0 else DEFAULT_TIMEOUT


@contextlib.contextmanager
def hold(lock_path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock for the block; wait at most `timeout` seconds, then raise LockError."""
    timeout = timeout_from_env() if timeout is None else timeout
    fd = _open(lock_path)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    raise LockError(
                        f"another pipectl command{holder} is changing this pipeline; "
                        f"gave up after {timeout:g}s (PIPECTL_LOCK_TIMEOUT sets the wait)",
                        lock_path,
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open(lock_path: Path) -> int:
    """The lock file's descriptor: created if absent, in a folder that must exist already."""
    # O_NONBLOCK: a FIFO planted at the name must not hang the open (it is refused below)
    flags = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(lock_path, flags, 0o644)
    except OSError as exc:  # a read-only checkout, a lock path taken by a folder, a link
        if exc.errno == errno.ELOOP:
            why = "is a symbolic link; pipectl does not open its lock through links (remove it)"
        else:
            why = f"cannot open the lock file: {exc.strerror or exc}"
        raise LockError(why, lock_path) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        what = "has other names (hard links)" if stat.S_ISREG(info.st_mode) else "is not a file"
        raise LockError(f"{what}; pipectl does not use it as its lock (remove it)", lock_path)
    os.set_blocking(fd, True)
    return fd


def _holder(fd: int) -> str:
    """The holder as " (pid N)", read from the open file, not through its name."""
    try:
        pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
