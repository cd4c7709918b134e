"""Read a CSV file into rows keyed by header, each with the file line it starts on.

Cells with line breaks inside quotes are kept whole, and the line numbers stay the file's own.
It never interprets a cell (that is mapping.py's job) and never writes anything.
"""

from __future__ import annotations

from pathlib import Path

from pipectl.errors import UsageError

Record = tuple[int, "dict[str, str] | str"]
"""(line, cells by column) or (line, why the row cannot be read)."""


def sniff_delimiter(first_line: str) -> str:
    """`,` unless the header clearly uses `;` or a tab (spreadsheets in many locales)."""
    if "," in first_line:
        return ","
    for candidate in (";", "\t", "|"):
        if candidate in first_line:
            return candidate
    return ","


def read_csv(
    path: Path, encoding: str, delimiter: str | None, shown: Path | str | None = None
) -> tuple[list[str], list[Record]]:
    """The header and every non-blank row; a row with too many cells is an error record."""
    import csv

    shown = shown or path
    if delimiter is not None and len(delimiter) != 1:
        raise UsageError(f"--delimiter {delimiter!r}: a delimiter is one character, e.g. ';'")

    try:
        f = open(path, newline="", encoding=encoding)  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", shown) from None
    except LookupError:
        raise UsageError(f"--encoding {encoding!r}: no such encoding") from None
    records: list[Record] = []
    line = 1
    try:
        with f:
            first = f.readline()
            f.seek(0)
            reader = csv.reader(f, delimiter=delimiter or sniff_delimiter(first), strict=True)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                raise UsageError("is empty: expected a header row", shown) from None
            while header and not header[-1]:
                header.pop()  # spreadsheets often end the header with empty cells
            _check_header(header, shown)
            line = reader.line_num + 1
            for cells in reader:
                start, line = line, reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                    records.append(
                        (start, f"{len(cells)} cells but the header has {len(header)} columns")
                    )
                    continue
                cells = (cells + [""] * (len(header) - len(cells)))[: len(header)]
                records.append((start, dict(zip(header, cells, strict=True))))
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"not {encoding} text ({exc.reason}); pass --encoding (e.g. cp1252)",
            shown,
            _undecodable_line(path, encoding),
        ) from None
    except csv.Error as exc:
        raise UsageError(f"not valid CSV: {exc}", shown, line) from None
    return header, records


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
    try:
        data = path.read_bytes()
    except OSError:
        return None
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            return number
    return None
