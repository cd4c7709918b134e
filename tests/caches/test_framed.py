"""The framed cache-file format: what is written reads back; a file damaged, foreign, stale or
not a plain file of ours reads as None, never raises; a write that cannot happen is skipped
and leaves the previous file whole."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pipectl.caches import framed

KIND = framed.Kind(b"PIPECTL-TEST\x00", 3)
KEY = framed.digest(b"every input")
VALUE = {"deal": (1, 2, 3, 4), "payload": b"\x00\x01", "text": "é", "none": None}


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "cache" / "one.bin"
    assert framed.write(path, KIND, KEY, VALUE)
    return path


def test_round_trip(stored: Path) -> None:
    assert framed.read(stored, KIND, KEY) == VALUE
    assert stored.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in stored.parent.iterdir()] == ["one.bin"]  # no temp file left


def test_a_new_write_replaces_the_old(stored: Path) -> None:
    assert framed.write(stored, KIND, KEY, [1, 2])
    assert framed.read(stored, KIND, KEY) == [1, 2]


def test_truncated_at_every_byte_reads_as_none(stored: Path) -> None:
    data = stored.read_bytes()
    for size in range(len(data)):
        stored.write_bytes(data[:size])
        assert framed.read(stored, KIND, KEY) is None, size


def test_a_flipped_byte_anywhere_reads_as_none(stored: Path) -> None:
    data = stored.read_bytes()
    for at in range(len(data)):
        stored.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :])
        assert framed.read(stored, KIND, KEY) is None, at


def test_bytes_added_at_the_end_read_as_none(stored: Path) -> None:
    stored.write_bytes(stored.read_bytes() + b"\x00")
    assert framed.read(stored, KIND, KEY) is None


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        (framed.Kind(b"PIPECTL-OTHER\x00", 3), KEY),
        (framed.Kind(KIND.magic, 4), KEY),
        (KIND, framed.digest(b"another input")),
    ],
    ids=["other-magic", "other-version", "other-key"],
)
def test_another_kind_or_key_reads_as_none(stored: Path, kind: framed.Kind, key: bytes) -> None:
    assert framed.read(stored, kind, key) is None


def test_a_payload_that_is_not_marshal_reads_as_none(tmp_path: Path) -> None:
    """Even with a digest that matches: the payload is never trusted to load."""
    body = b"\xff not marshal"
    path = tmp_path / "one.bin"
    path.write_bytes(KIND.header + KEY + framed.digest(body) + body)
    path.chmod(0o600)
    assert framed.read(path, KIND, KEY) is None


def test_absent_or_empty_reads_as_none(tmp_path: Path) -> None:
    assert framed.read(tmp_path / "absent.bin", KIND, KEY) is None
    (tmp_path / "empty.bin").write_bytes(b"")
    assert framed.read(tmp_path / "empty.bin", KIND, KEY) is None


def test_a_folder_fifo_or_link_in_its_place_reads_as_none(stored: Path, tmp_path: Path) -> None:
    folder, fifo, link = tmp_path / "folder.bin", tmp_path / "fifo.bin", tmp_path / "link.bin"
    folder.mkdir()
    os.mkfifo(fifo)  # opened for reading with no writer: must not wait
    link.symlink_to(stored)  # a cache file is never a link; what it points at is not ours to read
    for path in (folder, fifo, link):
        assert framed.read(path, KIND, KEY) is None, path.name


def test_a_file_others_may_write_reads_as_none(stored: Path) -> None:
    stored.chmod(0o620)
    assert framed.read(stored, KIND, KEY) is None
    stored.chmod(0o602)
    assert framed.read(stored, KIND, KEY) is None


def test_a_file_of_another_user_reads_as_none(
    stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if another user ran pipectl on this clone (any user can run this test)."""
    monkeypatch.setattr(framed.os, "geteuid", lambda: os.stat(stored).st_uid + 1)
    assert framed.read(stored, KIND, KEY) is None


def test_a_refused_open_reads_as_none(stored: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreadable file, also where the test runs as root and modes do not bind."""

    def refused(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(framed.os, "open", refused)
    assert framed.read(stored, KIND, KEY) is None


@pytest.mark.parametrize("failing", ["open", "replace"])
def test_a_refused_write_is_skipped_and_keeps_the_old_file(
    stored: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A read-only cache dir, also where the test runs as root and modes do not bind."""

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(framed.os, failing, refused)
    assert not framed.write(stored, KIND, KEY, [1, 2])
    monkeypatch.undo()
    assert framed.read(stored, KIND, KEY) == VALUE
    assert [p.name for p in stored.parent.iterdir()] == ["one.bin"]


def test_a_cache_dir_that_cannot_be_made_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the folder would go")
    assert not framed.write(tmp_path / "cache" / "one.bin", KIND, KEY, VALUE)


def test_a_folder_in_the_files_place_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "one.bin").mkdir()
    assert not framed.write(tmp_path / "one.bin", KIND, KEY, VALUE)
    assert (tmp_path / "one.bin").is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["one.bin"]


def test_a_value_marshal_cannot_store_is_not_written(tmp_path: Path) -> None:
    assert not framed.write(tmp_path / "one.bin", KIND, KEY, {"odd": object()})
    assert list(tmp_path.iterdir()) == []


def test_a_key_must_be_a_digest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="32-byte"):
        framed.write(tmp_path / "one.bin", KIND, b"short", VALUE)
