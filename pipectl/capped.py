"""A file read whole up to a cap, with a buffer the size of the file, not of the cap.

`f.read(cap + 1)` makes a buffer of `cap + 1` bytes before it reads one: 32 MB for every deal
file, a fresh `mmap` and `munmap` each time (a third of a cold lint's system time, and its
page faults). The size `fstat` gave is the buffer; a file that grew since is read on, up to
the cap. Kernel: imports nothing from pipectl, never prints.
"""

from __future__ import annotations

from typing import BinaryIO


def read_capped(f: BinaryIO, size: int, cap: int) -> bytes:
    """At most `cap + 1` bytes of `f` (more than `cap` means too large), `size` its size as
    `fstat` gave it."""
    want = min(max(size, 0), cap) + 1
    data = f.read(want)
    if len(data) == want and want <= cap:  # it grew since: the rest, up to the cap
        data += f.read(cap + 1 - want)
    return data
