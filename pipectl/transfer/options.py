"""What an import is asked to do, and how it tells its progress: shared by rows and importer.

Plain values only: it imports nothing from pipectl, so rows.py and importer.py both depend on
it and never on each other's callers. It never reads a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Progress = Callable[[str, int, int], None]
"""Told (phase, done, total) as an import runs: phases "checking", "writing", "committing"."""

STEP = 250  # rows between progress reports


@dataclass(frozen=True)
class Options:
    """How to read the source (mapping file, mapping options) and what to do with its rows."""

    mapping_file: Path | None = None
    maps: tuple[str, ...] = ()
    stage_maps: tuple[str, ...] = ()
    date_format: str | None = None
    encoding: str = "utf-8-sig"
    delimiter: str | None = None
    safe_csv: bool = True  # undo the `'` a safe export put before formula-like cells
    skip_invalid: bool = False
    create_only: bool = False
    dry_run: bool = False
    commit: bool = True
