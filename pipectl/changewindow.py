"""The two ends `pipectl changes` compares (`Window`), found from dates or a revision range
(`window`): the last commit of the day before the window starts and the last of its last day
on HEAD's first-parent line (pipectl/commitdays.py), or a range's two commits. Light on
purpose: a window read before is answered from what was kept of it (pipectl/pastmemo.py)
before anything of the history is imported. Starts git only through `gitrepo.GitRepo`.
Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pipectl.commitdays import before_first, commit_on
from pipectl.errors import UsageError
from pipectl.gitrepo import GitRepo


@dataclass(frozen=True)
class Window:
    """The two ends compared: `base` (None: before the first commit) and `tip`, the days
    they stand for, and the close date the waterfall's pipeline is due by (None: any)."""

    since: dt.date | None  # the first day after `base`
    until: dt.date  # the day of `tip`
    base: str | None
    tip: str
    rev_range: str | None = None  # as typed, when the ends came from a revision range
    close_by: dt.date | None = None

    def key(self) -> tuple[str | int | None, ...]:
        """The window but its tip, as plain data: what an answer kept for its tip is also
        a function of (pipectl/pastmemo.py, caches/windows.py)."""
        days = [
            None if d is None else d.toordinal() for d in (self.since, self.until, self.close_by)
        ]
        return (self.base, self.rev_range, *days)


def window(
    git: GitRepo,
    since: dt.date | None,
    until: dt.date,
    rev_range: str | None = None,
    close_by: dt.date | None = None,
    at: str | None = None,
) -> Window:
    """The ends of a date window (the last commit of the day before `since`, the last of
    `until`) or of a revision range `A..B` / `A...B` (from their merge base) / `A` (A..HEAD).
    `at` (`--as-of`: a commit on HEAD's first-parent line): no end later than it, as in a
    checkout of it, whatever day `until` is (`--today` after the as-of day)."""
    if rev_range is not None:
        base, tip = _range(git, rev_range)
        days = _commit_days(git, [c for c in (base, tip) if c])
        # the days after base's, or its own when both ends are of one day (a quick PR)
        start = min(days[base] + dt.timedelta(days=1), days[tip]) if base else None
        return Window(start, days[tip], base, tip, rev_range, close_by)
    last = _commit_days(git, [at])[at] if at is not None else None

    def on(day: dt.date) -> str | None:
        return at if at is not None and last is not None and day >= last else commit_on(git, day)

    tip_ = on(until)
    if tip_ is None:
        raise UsageError(before_first(git, f"--until {until.isoformat()}"))
    base_ = on(since - dt.timedelta(days=1)) if since else None
    return Window(since, until, base_, tip_, None, close_by)


def _range(git: GitRepo, text: str) -> tuple[str | None, str]:
    left, dots, right = text.partition("...")
    if not dots:
        left, dots, right = text.partition("..")
    if not dots:
        left, right = text, "HEAD"
    base, tip = _commit(git, left or "HEAD"), _commit(git, right or "HEAD")
    if dots == "...":
        proc = git.run(["merge-base", base, tip], check=False)
        base = proc.stdout.strip()
        if proc.returncode != 0 or not base:
            raise UsageError(f"{text}: its two sides have no commit in common")
    elif git.run(["merge-base", "--is-ancestor", base, tip], check=False).returncode != 0:
        # A..B compares A's tree with B's: backwards (B older) or across a fork, the waterfall
        # would move by what the changes never did
        a, b = left or "HEAD", right or "HEAD"
        backwards = git.run(["merge-base", "--is-ancestor", tip, base], check=False)
        hint = (
            f"the older revision goes first: {b}..{a}"
            if backwards.returncode == 0
            else f"they forked: {a}...{b} compares from their merge base"
        )
        raise UsageError(f"{text}: {a} is not an ancestor of {b} ({hint})")
    on_head = git.run(["merge-base", "--is-ancestor", tip, "HEAD"], check=False)
    if on_head.returncode != 0:
        raise UsageError(
            f"{text}: {right or 'HEAD'} is not in HEAD's history (check it out, then run again)"
        )
    return base, tip


def _commit(git: GitRepo, rev: str) -> str:
    if rev.startswith("-"):
        raise UsageError(f"{rev!r} is not a revision")
    proc = git.run(
        ["rev-parse", "--verify", "-q", "--end-of-options", rev + "^{commit}"], check=False
    )
    if proc.returncode != 0:
        raise UsageError(f"{rev!r} names no commit here")
    return proc.stdout.strip()


def _commit_days(git: GitRepo, shas: Sequence[str]) -> dict[str, dt.date]:
    """Each commit's committer day, in its own zone (as `asof.commit_on` reads days)."""
    out = git.run(["show", "-s", "--no-show-signature", "--format=%H %cI", *shas]).stdout
    found = {}
    for line in out.splitlines():
        sha, _, when = line.partition(" ")
        if sha in shas and when:
            found[sha] = dt.date.fromisoformat(when[:10])
    return found
