"""`asof.commit_on` asks git only for the commits old enough to end the day in some zone
(`--until` two days on, in UTC): whatever zone each commit was made in, the answer is the
newest commit of HEAD's first-parent line whose own local day is the day or earlier."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

from conftest import git, make_repo

from pipectl import asof
from pipectl.gitrepo import GitRepo

# (committer date in its own zone, oldest first): local days 11-20, 11-20 (+14:00: 11-19 in
# UTC), 11-21, 11-21 (-12:00: 11-22 in UTC, so a bound of a day would miss the day's last),
# 11-23 (+14:00: 11-22 in UTC)
STAMPS = [
    "2026-11-20T01:00:00+00:00",
    "2026-11-20T02:00:00+14:00",
    "2026-11-21T05:00:00+00:00",
    "2026-11-21T23:30:00-12:00",
    "2026-11-23T08:00:00+14:00",
]


def _commit(root: Path, stamp: str, n: int) -> str:
    (root / "f.txt").write_text(f"{n}\n", encoding="utf-8")
    git(root, "add", "f.txt")
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "commit", "-q", "-m", f"c{n}"], cwd=root, env=env, check=True)
    return git(root, "rev-parse", "HEAD").strip()


def _by_hand(shas: list[str], day: dt.date) -> str | None:
    """The newest commit whose local day is `day` or earlier (the list is oldest first)."""
    newest = [s for s, st in zip(shas, STAMPS, strict=True) if st[:10] <= day.isoformat()]
    return newest[-1] if newest else None


def test_each_commit_counts_on_its_own_local_day(tmp_path: Path):
    root = make_repo(tmp_path / "repo")
    shas = [_commit(root, stamp, n) for n, stamp in enumerate(STAMPS)]
    repo = GitRepo(root)
    for offset in range(-2, 6):
        day = dt.date(2026, 11, 19) + dt.timedelta(days=offset)
        assert asof.commit_on(repo, day) == _by_hand(shas, day), day
