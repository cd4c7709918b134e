"""Read a CSV file into rows keyed by header, each with the file line it starts on, one row
at a time (memory never grows with the file).

Cells with line breaks inside quotes are kept whole, and the line numbers stay the file's own.
It never interprets a cell (that is mapping.py's job) and never writes anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pipectl.errors import UsageError
from pipectl.store import MAX_DEAL_BYTES

Record = tuple[int, "dict[str, str] | str"]
"""(line, cells by column) or (line, why the row cannot be read)."""


# A cell a spreadsheet would run as a formula starts with one of these (OWASP, "CSV
# injection"); a safe export writes it after a `'`, which spreadsheets show as nothing.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: str, formulas: bool = True) -> str:
    """A cell as a safe export writes it: `'` before a formula's first character (`formulas`)
    and always before a cell that starts `'` followed by such a character or another `'`, so
    that `restore` gives every cell back exactly."""
    if cell[:1] == "'" and cell[1:2] in (*FORMULA_START, "'"):
        return "'" + cell
    if formulas and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """The cell `defuse` was given: one `'` dropped before a formula character or a `'`."""
    if cell[:1] == "'" and cell[1:2] in (*FORMULA_START, "'"):
        return cell[1:]
    return cell


def sniff_delimiter(first_line: str) -> str:
    """`,` unless the header clearly uses `;` or a tab (spreadsheets in many locales)."""
    if "," in first_line:
        return ","
    for candidate in (";", "\t", "|"):
        if candidate in first_line:
            return candidate
    return ","


@dataclass(frozen=True)
class CsvFile:
    """A CSV file's header and delimiter; `records()` reads its rows one at a time."""

    path: Path
    shown: Path | str
    encoding: str
    delimiter: str
    header: list[str]
    restore: bool = True  # undo a safe export's `'` (see `defuse`)

    def records(self) -> Iterator[Record]:
        """Every non-blank row, read as it is used (a file of a million rows is never held);
        a row with too many cells is an error record. Each call reads the file again."""
        import csv

        # a cell holds what a deal file may hold: export writes bodies of any size a deal has
        csv.field_size_limit(max(csv.field_size_limit(), MAX_DEAL_BYTES))
        header = self.header
        line = 1
        try:
            with _open(self.path, self.encoding, self.shown) as f:
                reader = csv.reader(f, delimiter=self.delimiter, strict=True)
                next(reader, None)
                line = reader.line_num + 1
                for cells in reader:
                    start, line = line, reader.line_num + 1
                    if not any(c.strip() for c in cells):
                        continue
                    if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                        yield start, f"{len(cells)} cells but the header has {len(header)} columns"
                        continue
                    cells = (cells + [""] * (len(header) - len(cells)))[: len(header)]
                    if self.restore:
                        cells = [restore(c) for c in cells]
                    yield start, dict(zip(header, cells, strict=True))
        except UnicodeDecodeError as exc:
            raise _undecodable(exc, self.path, self.encoding, self.shown) from None
        except csv.Error as exc:
            raise UsageError(f"not valid CSV: {exc}", self.shown, line) from None


def open_csv(
    path: Path,
    encoding: str,
    delimiter: str | None,
    shown: Path | str | None = None,
    restore: bool = True,
) -> CsvFile:
    """The file's header (checked) and delimiter: given, or sniffed from the header line;
    `restore`: cells read as a safe export wrote them (`'` before a formula dropped)."""
    import csv

    shown = shown or path
    if delimiter is not None and len(delimiter) != 1:
        raise UsageError(f"--delimiter {delimiter!r}: a delimiter is one character, e.g. ';'")
    csv.field_size_limit(max(csv.field_size_limit(), MAX_DEAL_BYTES))
    try:
        with _open(path, encoding, shown) as f:
            first = f.readline()
            f.seek(0)
            delimiter = delimiter or sniff_delimiter(first)
            reader = csv.reader(f, delimiter=delimiter, strict=True)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                raise UsageError("is empty: expected a header row", shown) from None
    except UnicodeDecodeError as exc:
        raise _undecodable(exc, path, encoding, shown) from None
    except csv.Error as exc:
        raise UsageError(f"not valid CSV: {exc}", shown, 1) from None
    while header and not header[-1]:
        header.pop()  # spreadsheets often end the header with empty cells
    _check_header(header, shown)
    return CsvFile(path, shown, encoding, delimiter, header, restore)


def _open(path: Path, encoding: str, shown: Path | str) -> TextIO:
    try:
        return open(path, newline="", encoding=encoding)
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", shown) from None
    except LookupError:
        raise UsageError(f"--encoding {encoding!r}: no such encoding") from None


def _undecodable(
    exc: UnicodeDecodeError, path: Path, encoding: str, shown: Path | str
) -> UsageError:
    return UsageError(
        f"not {encoding} text ({exc.reason}); pass --encoding (e.g. cp1252)",
        shown,
        _undecodable_line(path, encoding),
    )


def _check_header(header: list[str], path: Path | str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(header, 1):
        if not name:
            raise UsageError(f"column {i} of the header has no name", path, 1)
        if name in seen:
            raise UsageError(f"column {name!r} appears twice in the header", path, 1)
        seen.add(name)


def _undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line that does not decode: the reader fails a whole buffer ahead of it."""
    import codecs

    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        with open(path, "rb") as f:
            for number, raw in enumerate(f, 1):  # line by line: the file may be large
                try:
                    decoder.decode(raw)
                except UnicodeDecodeError:
                    return number
    except OSError:
        return None
    return None
