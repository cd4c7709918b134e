"""Pipes to a running git: the non-blocking stdin/stdout pair `GitRepo.pipes` hands out, and
the two helpers `GitRepo.stream` uses (a wider pipe, a feeder for stdin). Starts no process:
gitrepo.py does, and reaps it (this module does not import subprocess, tests/test_gitrepo.py).
"""

from __future__ import annotations

import contextlib
import os
import select
from typing import IO, Protocol

try:
    import fcntl
except ImportError:  # not on every system: pipes keep their size there
    fcntl = None  # type: ignore[assignment]


class Process(Protocol):
    """What Pipes needs of the `subprocess.Popen` gitrepo.py started."""

    stdin: IO[bytes] | None
    stdout: IO[bytes] | None

    def wait(self) -> int: ...


class Pipes:
    """A running git's stdin and stdout, both non-blocking: only `wait_ready` and `wait` wait.

    Made by `GitRepo.pipes`, which also reaps the process; a reader thread would wait on the
    GIL and stall whatever the caller does between reads.
    """

    def __init__(self, proc: Process):
        assert proc.stdin is not None and proc.stdout is not None
        self._proc, self._stdin = proc, proc.stdin
        self._in, self._out = proc.stdin.fileno(), proc.stdout.fileno()
        for fd in (self._in, self._out):
            os.set_blocking(fd, False)

    def write(self, data: bytes | bytearray) -> int:
        """How many bytes of `data` git took now: 0 when its pipe is full (BrokenPipeError
        once git has gone)."""
        try:
            return os.write(self._in, data)
        except BlockingIOError:
            return 0

    def read(self) -> bytes | None:
        """Up to 64 KiB of what git wrote: b"" at its end, None when nothing is there yet."""
        try:
            return os.read(self._out, 1 << 16)
        except BlockingIOError:
            return None

    @property
    def input_closed(self) -> bool:
        return self._stdin.closed

    def close_input(self) -> None:
        """Nothing more to ask: git exits once it has answered."""
        self._stdin.close()

    def wait_ready(self, *, to_write: bool) -> None:
        """Sleep until git has written something, or (`to_write`) has room for more input."""
        select.select([self._out], [self._in] if to_write else [], [])

    def wait(self) -> int:
        """git's exit status, once it has exited."""
        return self._proc.wait()


def widen(pipe: IO[bytes] | None) -> None:
    """A pipe from git of 1 MiB instead of 64 KiB where the system allows (Linux): git writes
    on while the reader works on what came before, instead of waiting for it (a long
    `git log` ran about a tenth faster so)."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if pipe is not None and setsize is not None:
        with contextlib.suppress(OSError, ValueError):
            fcntl.fcntl(pipe.fileno(), setsize, 1 << 20)


def feed(pipe: IO[bytes], data: bytes) -> None:
    """Write stdin for `GitRepo.stream`, tolerating a git that exits before reading it all."""
    with contextlib.suppress(OSError):
        pipe.write(data)
        pipe.close()
