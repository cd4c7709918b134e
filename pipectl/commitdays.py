"""Which commit ends a day (`--as-of`, `changes`' window ends): the newest on HEAD's
first-parent line (the branch's own story, not a side branch's) whose committer date is the
day or earlier, read in the commit's own time zone; None when HEAD has none.

The commit's own zone, not UTC: pipectl dates every event by its local day (an event at
23:30 +02:00 is that day's), so a commit made in the evening of a day belongs to it wherever
it was made. The committer date is when the commit joined the branch (a rebase or a
cherry-pick dates it anew).

Finding it walks the line from HEAD down to the day, which is every commit since: on a
repository of 120,000 commits, a month back is 0.6 s of git. So the answers are kept
(caches/windows.py's `Memo`, one small file) with the HEAD they were found from. When HEAD
has moved on along its first-parent line from that tip, only the new commits are walked: an
answer changes only if one of them is dated on or before its day, and the first such is the
new answer. Anything else (HEAD reset back or rewritten, the tip gone, other grafts or a
deepened clone, a damaged file) walks from HEAD as if nothing were kept.

Starts git only through `gitrepo.GitRepo`. Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from pathlib import Path
from typing import Any, cast

from pipectl.caches.windows import Memo
from pipectl.errors import GitError
from pipectl.gitrepo import GitRepo

KEEP_DAYS = 64  # days asked that are kept: a review's weeks, a trend's points
_FORMAT = 1


def commit_on(git: GitRepo, day: dt.date) -> str | None:
    """The last commit of `day` on HEAD's first-parent line, or None (see the module)."""
    head = head_of(git)
    if head is None:
        return None  # no commit yet: HEAD names nothing
    memo = Memo(git_dir_of(git), "days-", 1, (_FORMAT, _boundary(git), grafts_of(git)))
    kept = _kept(memo.read())
    wanted = day.toordinal()
    if kept is not None and kept[0] == head and wanted in kept[1]:
        return kept[1][wanted]
    days = _onward(git, head, kept) if kept is not None else None
    if days is None:
        days = {}
    if wanted not in days:
        days[wanted] = _walk(git, day)
    while len(days) > KEEP_DAYS:  # the oldest asked go first (a dict keeps its order)
        days.pop(next(iter(days)))
    memo.write({"tip": head, "days": days})
    return days[wanted]


def _onward(
    git: GitRepo, head: str, kept: tuple[str, dict[int, str | None]]
) -> dict[int, str | None] | None:
    """The kept answers as they stand at `head`, from the commits since the kept tip; None
    when `head` is not that tip's first-parent line carried on."""
    tip, days = kept
    if head == tip:
        return dict(days)
    try:
        args = ["log", "--first-parent", "--no-show-signature", "--format=%H %P %cI"]
        lines = git.run([*args, head, "^" + tip, "--"]).stdout.splitlines()
    except GitError:  # the tip is gone from the repository
        return None
    if not lines or lines[-1].split(" ")[1:2] != [tip]:
        return None  # HEAD went back, or its line leaves the tip's: walk afresh
    new = [(line.split(" ")[0], line.rsplit(" ", 1)[1][:10]) for line in lines]
    out: dict[int, str | None] = {}
    for ordinal, sha in days.items():
        wanted = dt.date.fromordinal(ordinal).isoformat()
        out[ordinal] = next((s for s, when in new if when <= wanted), sha)
    return out


def _walk(git: GitRepo, day: dt.date) -> str | None:
    """One `git log` pass down HEAD's first-parent line, stopped at the first commit found."""
    # git skips the commits too new to be the day's in any zone (more than a day later in
    # UTC): only the candidates come through the pipe, the first is mostly the answer
    bound = f"--until={day + dt.timedelta(days=2)} 00:00:00 +0000"
    args = ["log", "--first-parent", "--no-show-signature", "--format=%H %cI", bound, "HEAD"]
    args.append("--")
    wanted = day.isoformat()
    rest = b""
    # stopped early, git is killed at once (the stream's own cleanup), not read to the end
    chunks = cast(Generator[bytes, None, None], git.stream(args))
    try:
        for chunk in chunks:
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                sha, _, when = line.decode("ascii", "replace").partition(" ")
                if when[:10] <= wanted:
                    return sha
    except GitError:  # no commit yet: HEAD names nothing
        return None
    finally:
        chunks.close()
    sha, _, when = rest.decode("ascii", "replace").partition(" ")
    return sha if sha and when[:10] <= wanted else None


def _kept(found: object) -> tuple[str, dict[int, str | None]] | None:
    """(tip, answers by day ordinal), if `found` is of the shape `commit_on` writes."""
    if not isinstance(found, dict) or found.keys() != {"tip", "days"}:
        return None
    tip, days = found["tip"], found["days"]
    if not isinstance(tip, str) or not isinstance(days, dict):
        return None
    if not all(type(k) is int and (v is None or type(v) is str) for k, v in days.items()):
        return None
    return tip, days


def head_of(git: GitRepo) -> str | None:
    """The commit HEAD is at, from git's files, else from git; None before the first commit."""
    sha = git.head_commit()
    if sha is None:
        proc = git.run(["rev-parse", "--verify", "-q", "HEAD^{commit}"], check=False)
        sha = proc.stdout.strip() if proc.returncode == 0 else None
    return sha or None


def git_dir_of(git: GitRepo) -> Path | None:
    """Where pipectl may keep its caches for this repository; None when git cannot say."""
    try:
        return git.git_dir()
    except GitError:
        return None


def _boundary(git: GitRepo) -> list[str]:
    try:
        return sorted(git.shallow_boundary())
    except GitError:
        return []


def grafts_of(git: GitRepo) -> tuple[Any, ...]:
    """What may give commits other parents than they were made with: git's grafts file and
    replace refs (loose ones; packed ones are not seen, a documented limit), in the git dir
    every worktree shares (a linked worktree's own has neither)."""
    git_dir = git.common_dir()
    out: list[Any] = []
    for path in (git_dir / "info" / "grafts", git_dir / "refs" / "replace"):
        try:
            st = path.stat()
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def before_first(git: GitRepo, what: str) -> str:
    """Why no commit ends the day `what` names (`commit_on` gave None): there is no commit
    yet, the day is before the first, or before the first that a shallow clone holds."""
    if head_of(git) is None:
        return "no commits yet: there is no history to read"
    if _boundary(git):
        return (
            f"{what} is before the first commit of this shallow clone (`git fetch --deepen N`"
            " or `--unshallow` brings the older ones)"
        )
    return f"{what} is before the first commit"
