"""Answers about a past commit, kept: `report --as-of DAY` reads that day's commit whole (every
deal blob, its history cut and folded), 2-3 s on 20,000 deals, and `changes` over a window
reads its two ends and every commit between; each gets the same answer every time, because a
commit never changes. So the answer is kept (caches/windows.py's `Memo`, the KEEP written last)
under everything it is a function of:

- the commit, and how git reaches its past: the clone's shallow boundary and its grafts or
  replace refs (a deepened clone or a graft gives the same commit another history);
- where the pipeline sits in the repository and how its paths are shown from the working
  directory (a file that does not parse is named so in a warning);
- pipectl's own version and source files (caches/results.py's `code_state`), and Python's;
- what the caller says the answer depends on besides (`what`: the command, its options, its
  days; a window's other end).

It is found from the commit alone: the caller reads the commit's tree only in `make`, when
the answer was not kept (on the CRM's 8,800 deals, reading the tree and importing what
reads it were 0.07 s of a 0.17 s `report --as-of`). The caller must not pass anything that
reads past the commit: the worktree, HEAD's newer commits (so `report --as-of` keeps
nothing when `--today` judges the trends of a later day from commits after it). Nothing is
kept for a pipeline outside git.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipectl.caches.results import code_state
from pipectl.caches.windows import Memo
from pipectl.commitdays import git_dir_of, grafts_of
from pipectl.config import CONFIG_FILE
from pipectl.errors import GitError
from pipectl.store import Pipeline

KEEP = 16  # answers: a review's few days and windows, each as text, JSON or Markdown
# An answer whose printed `out` has more characters is not kept: a month of a 120,000-commit
# history is 17 MB of JSON (sixteen would be a quarter of a GB in .git), and writing it was a
# tenth of the 1.2 s run that made it; a week of it is 6 MB, the CRM's month 0.4 MB.
MAX_KEPT = 8_000_000
_FORMAT = 1


def past(
    pipeline: Pipeline,
    commit: str,
    what: tuple[Any, ...],
    make: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """`make()`, an answer as printed (`out`, the output; `said`, its warnings), for
    `commit`'s pipeline at `pipeline`'s root (the worktree's or the commit's own: only its
    place and its git are read) and `what`; from the last run that made it when it was kept
    and is of that shape (kept unless `out` is longer than MAX_KEPT). The commit's tree is
    not read here: `make` reads it when the answer was not kept."""
    git = pipeline.git
    if git is None:
        return make()
    try:
        boundary = sorted(git.shallow_boundary())
        where = (git.rel(pipeline.root), str(pipeline.display(pipeline.root / CONFIG_FILE)))
        key = (_FORMAT, commit, boundary, grafts_of(git), where, code_state(), what)
    except (GitError, OSError):
        return make()
    memo = Memo(git_dir_of(git), "past-", KEEP, key)
    found = memo.read()
    if found is not None and _printable(found):
        return found
    made = make()
    if len(made["out"]) <= MAX_KEPT:
        memo.write(made)
    return made


def _printable(kept: dict[str, Any]) -> bool:
    """Whether a kept file holds an answer as printed: `out` and `said`, text."""
    said = kept.get("said")
    return (
        kept.keys() == {"out", "said"}
        and isinstance(kept["out"], str)
        and isinstance(said, list)
        and all(isinstance(m, str) for m in said)
    )
