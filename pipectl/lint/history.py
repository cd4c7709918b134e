"""When each deal file arrived at its current path, read from git in one `git log` pass.

Used only for deals without `stage_entered`. Never one git process per file; never guesses
in a shallow clone (the oldest commit there would claim every file was added that day).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pipectl.errors import GitError
from pipectl.gitrepo import GitRepo


@dataclass(frozen=True)
class Arrivals:
    """Date each path (relative to the pipeline root) entered its folder; or why unknown."""

    dates: dict[str, dt.date] = field(default_factory=dict)
    unavailable: str | None = None

    def get(self, rel_path: str) -> dt.date | None:
        return self.dates.get(rel_path)


def read_arrivals(git: GitRepo | None, root: Path) -> Arrivals:
    """One pass over the log: for each current path, its newest add or rename-into date."""
    if git is None:
        return Arrivals(unavailable="not a git repository")
    try:
        shallow = git.run(["rev-parse", "--is-shallow-repository"], check=False)
        if shallow.stdout.strip() == "true":
            return Arrivals(unavailable="shallow git clone")
        prefix = git.rel(root)
        spec = "." if prefix in ("", ".") else prefix
        proc = git.run(
            ["log", "-M", "--name-status", "-z", "--diff-filter=AR", "--format=%x01%as",
             "--", spec],
            check=False,
        )  # fmt: skip
    except (GitError, OSError, ValueError):
        return Arrivals(unavailable="git history could not be read")
    if proc.returncode != 0:
        # a repository without commits yet has no history to offer
        return Arrivals(unavailable="no git history")
    base = "" if prefix in ("", ".") else prefix + "/"
    dates: dict[str, dt.date] = {}
    for chunk in proc.stdout.split("\x01"):
        if not chunk:
            continue
        head, _, rest = chunk.partition("\0")
        try:
            when = dt.date.fromisoformat(head.strip())
        except ValueError:
            continue
        tokens = rest.lstrip("\n").split("\0")
        i = 0
        while i < len(tokens):
            status = tokens[i]
            if not status:
                i += 1
                continue
            if status.startswith(("R", "C")):
                path = tokens[i + 2] if i + 2 < len(tokens) else ""
                i += 3
            else:
                path = tokens[i + 1] if i + 1 < len(tokens) else ""
                i += 2
            if path.startswith(base):
                # the log runs newest first: the first arrival seen is the current one
                dates.setdefault(path[len(base) :], when)
    return Arrivals(dates)
