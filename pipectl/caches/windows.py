"""What a run made of the past, kept for the next run that asks the same (a few framed files in
the git dir's cache folder, each kind's most recently written kept):

- `WindowMemo`: what `pipectl changes` made of a window (pipectl/changesread.py). A busy week
  holds tens of thousands of events and two ends of some 20,000 deals each, and a manager
  runs the review again after each few commits. The next run with the same start (same base
  commit, days and period) reads this, adds what the new commits did and re-reads only the
  deal files whose blobs changed at the end.
- `Memo(git_dir, "days-", 1, key)` and the others: any other such part (pipectl/commitdays.py
  keeps the commit that ends each day asked, pipectl/pastmemo.py a past day's report and a
  window's answer, as printed).

The key is every input the parts depend on that the parts do not name themselves (for a
window: the window, the pipeline's place, the clone's shallow boundary, pipectl and Python);
what the parts name (a window's tip, the tree's other files, each deal's blob) their reader
checks. Plain marshal data; a file that fails its frame check reads as none, and parts that
are not of the shape the reader takes apart make it work the answer out afresh. Never
prints.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from pipectl.caches import framed
from pipectl.version import __version__

KIND = framed.Kind(b"PIPECTL-WINDOW\x00", 2)  # 2: a skipped file's row names its id
KEEP = 4  # windows: this week's, last week's, the dashboard's, a pull request's


class Memo:
    """`read` the parts an earlier run stored under `key` (with this file-name `prefix`),
    `write` this run's; only the `keep` files of the prefix written last stay."""

    def __init__(self, git_dir: Path | None, prefix: str, keep: int, key: Any):
        off = git_dir is None or os.environ.get(framed.DISABLE_ENV)
        self.prefix, self.keep = prefix, keep
        self.key = framed.digest_of((framed.written_by(), __version__, "\0" + prefix, key))
        name = f"{prefix}{self.key[:12].hex()}.bin"
        self.path = None if off or git_dir is None else git_dir / "pipectl" / "cache" / name

    def read(self) -> dict[str, Any] | None:
        if self.path is None:
            return None
        found = framed.read(self.path, KIND, self.key)
        return found if type(found) is dict else None

    def write(self, parts: dict[str, Any]) -> None:
        if self.path is None or not framed.write(self.path, KIND, self.key, parts):
            return
        self._prune(self.path.parent)

    def _prune(self, folder: Path) -> None:
        """Only the newest `keep` stay: a window a manager left is not kept forever."""
        try:
            found = [p for p in folder.iterdir() if p.name.startswith(self.prefix)]
            found.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
        except OSError:
            return
        for old in found[self.keep :]:
            with contextlib.suppress(OSError):
                old.unlink()


class WindowMemo(Memo):
    """The parts of one `changes` window (pipectl/changesread.py)."""

    def __init__(self, git_dir: Path | None, key: Any):
        super().__init__(git_dir, "window-", KEEP, key)
