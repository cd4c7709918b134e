"""`capped.read_capped` reads a file whole up to its cap, sized by the file, not the cap."""

from __future__ import annotations

import io
import os
from pathlib import Path

from pipectl.capped import read_capped


def test_a_file_is_read_whole_and_a_large_one_past_its_cap(tmp_path: Path) -> None:
    for size in (0, 1, 99, 100, 101, 5000):
        path = tmp_path / f"f{size}"
        path.write_bytes(b"x" * size)
        with open(path, "rb") as f:
            data = read_capped(f, os.fstat(f.fileno()).st_size, 100)
        assert data == b"x" * min(size, 101)  # more than the cap: one byte past it


def test_a_file_that_grew_since_its_fstat_is_read_on_up_to_the_cap() -> None:
    for actual, told in ((50, 10), (500, 10), (100, 0), (100, -1)):
        data = read_capped(io.BytesIO(b"y" * actual), told, 100)
        assert data == b"y" * min(actual, 101), (actual, told)


def test_the_buffer_is_the_files_size_not_the_caps() -> None:
    asked: list[int] = []

    class Counting(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            asked.append(-1 if n is None else n)
            return super().read(n)

    read_capped(Counting(b"z" * 300), 300, 32 << 20)
    assert asked == [301]  # one read, of the file's size and one byte: never 32 MB
