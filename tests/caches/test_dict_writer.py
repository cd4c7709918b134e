"""A frame written entry by entry (`framed.DictWriter`) reads back as the one dict it holds,
exactly as `framed.write` of that dict does; a writer that fails or is abandoned leaves nothing."""

from __future__ import annotations

from pathlib import Path

from pipectl.caches import framed

KIND = framed.Kind(b"PIPECTL-TEST\x00", 1)
KEY = framed.digest(b"the inputs")
ENTRIES = {
    "a.md": ((1_700_000_000_123_456_789, -5, 120, 2**63 + 7), b"\x00payload"),
    "b.md": ((1, 2, 3, 4), b""),
    "ü.md": ((0, 0, 0, 0), bytes(range(256))),
}


def test_a_streamed_frame_reads_back_as_the_dict(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "stage.bin"
    writer = framed.DictWriter(path, KIND, KEY)
    for name, entry in ENTRIES.items():
        writer.add(name, entry)
    assert not path.exists()  # in place only when closed
    assert writer.close() and writer.count == len(ENTRIES)
    assert framed.read(path, KIND, KEY) == ENTRIES
    assert framed.read(path, KIND, framed.digest(b"other inputs")) is None
    assert [p.name for p in path.parent.iterdir()] == ["stage.bin"]  # no temp file left

    whole = tmp_path / "whole.bin"
    assert framed.write(whole, KIND, KEY, ENTRIES)
    assert framed.read(whole, KIND, KEY) == framed.read(path, KIND, KEY)


def test_an_empty_streamed_frame_is_an_empty_dict(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    assert framed.DictWriter(path, KIND, KEY).close()
    assert framed.read(path, KIND, KEY) == {}


def test_a_damaged_streamed_frame_is_never_trusted(tmp_path: Path) -> None:
    path = tmp_path / "stage.bin"
    writer = framed.DictWriter(path, KIND, KEY)
    for name, entry in ENTRIES.items():
        writer.add(name, entry)
    assert writer.close()
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert framed.read(path, KIND, KEY) is None


def test_an_entry_marshal_refuses_spoils_the_file_not_the_run(tmp_path: Path) -> None:
    path = tmp_path / "stage.bin"
    framed.write(path, KIND, KEY, {"old": 1})
    writer = framed.DictWriter(path, KIND, KEY)
    writer.add("a.md", ENTRIES["a.md"])
    writer.add("bad.md", object())  # not plain data
    writer.add("b.md", ENTRIES["b.md"])
    assert not writer.close()
    assert framed.read(path, KIND, KEY) == {"old": 1}  # the old file stands
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stage.bin"]


def test_an_abandoned_writer_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "stage.bin"
    writer = framed.DictWriter(path, KIND, KEY)
    writer.add("a.md", ENTRIES["a.md"])
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    assert not writer.close()


def test_a_folder_that_cannot_be_written_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    writer = framed.DictWriter(blocker / "stage.bin", KIND, KEY)
    writer.add("a.md", ENTRIES["a.md"])
    assert not writer.close()
    assert blocker.read_text() == "a file where the folder should be"
