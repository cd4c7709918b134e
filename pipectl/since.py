"""The files changed since a revision (`lint --changed-since REV`): committed since it, staged
or not, and new files git does not know yet; from three git calls whatever the pipeline's
size. Never prints.
"""

from __future__ import annotations

from pathlib import Path

from pipectl.errors import UsageError
from pipectl.gitrepo import GitRepo


def changed_since(git: GitRepo, rev: str) -> frozenset[Path]:
    """The resolved paths of every file that differs from `rev` in the work tree (a file
    deleted since is in too: it has nothing left to report)."""
    if not rev or rev.startswith("-"):
        raise UsageError(f"--changed-since: {rev!r} is not a revision")
    found = git.run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], check=False)
    if found.returncode != 0:
        raise UsageError(f"--changed-since: no commit {rev!r} in this repository")
    sha = found.stdout.strip()
    diff = git.run(["diff", "--name-only", "-z", "--no-renames", sha, "--"]).stdout
    new = git.run(["ls-files", "-z", "--others", "--exclude-standard"]).stdout
    root = git.root.resolve()
    return frozenset(root / name for name in (*diff.split("\0"), *new.split("\0")) if name)
