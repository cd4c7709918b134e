"""One lock per pipeline clone, so two pipectl processes never interleave their changes.

An advisory `flock` on a file inside the git directory (never committed): the kernel drops it
when its process dies, so a lock left by a killed process cannot block anyone.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
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
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # a read-only checkout, a lock path taken by a folder
        raise LockError(f"cannot open the lock file: {exc.strerror or exc}", lock_path) from None
    try:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(lock_path)
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


def _holder(lock_path: Path) -> str:
    try:
        pid = lock_path.read_text().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
