"""What `pipectl changes` made of a window, kept for the next run over the same window
(pipectl/changesread.py): a busy week holds tens of thousands of events and two ends of some
20,000 deals each, and a manager runs the review again after each few commits. The next run
with the same start (same base commit, days and period) reads this, adds what the new commits
did and re-reads only the deal files whose blobs changed at the end.

One framed file per window (`window-<key>.bin` in the git dir's cache folder), the KEEP
most recently written kept. The key is every input the parts depend on that the parts do not
name themselves (the window, the pipeline's place, the clone's shallow boundary, pipectl and
Python); the tip, the tree's other files and each deal's blob are in the parts, and
pipectl/changesread.py checks them. Plain marshal data; a file that fails its frame check reads
as none, and parts that are not of the shape the reader takes apart make it read the window
whole. Never prints.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from pipectl.caches import framed
from pipectl.caches.deals import _key

KIND = framed.Kind(b"PIPECTL-WINDOW\x00", 1)
KEEP = 4  # windows: this week's, last week's, the dashboard's, a pull request's
_PREFIX = "window-"


class WindowMemo:
    """`read` the parts an earlier run stored for this window's key, `write` this run's."""

    def __init__(self, git_dir: Path | None, key: Any):
        off = git_dir is None or os.environ.get(framed.DISABLE_ENV)
        self.key = framed.digest_of((_key("\0window"), key))
        name = f"{_PREFIX}{self.key[:12].hex()}.bin"
        self.path = None if off or git_dir is None else git_dir / "pipectl" / "cache" / name

    def read(self) -> dict[str, Any] | None:
        if self.path is None:
            return None
        found = framed.read(self.path, KIND, self.key)
        return found if type(found) is dict else None

    def write(self, parts: dict[str, Any]) -> None:
        if self.path is None or not framed.write(self.path, KIND, self.key, parts):
            return
        _prune(self.path.parent)


def _prune(folder: Path) -> None:
    """Only the KEEP windows written last stay: a window a manager left is not kept forever."""
    try:
        found = [p for p in folder.iterdir() if p.name.startswith(_PREFIX)]
        found.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    except OSError:
        return
    for old in found[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
