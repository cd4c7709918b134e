"""`asof.commit_on` asks git only for the commits old enough to end the day in some zone
(`--until` two days on, in UTC): whatever zone each commit was made in, the answer is the
newest commit of HEAD's first-parent line whose own local day is the day or earlier. The
answers are kept with their HEAD: a later run walks only the commits since, and anything
else than the line carried on (a reset, an amend, a merge onto another line, a damaged
file) walks afresh; every answer equals a walk with nothing kept."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import git, make_repo

from pipectl import asof
from pipectl.caches import framed
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


# --- the answers kept (pipectl/commitdays.py) ------------------------------------------------

DAYS = [dt.date(2026, 11, 19) + dt.timedelta(days=n) for n in range(-1, 7)]


def _fresh(root: Path, day: dt.date, monkeypatch: pytest.MonkeyPatch) -> str | None:
    with monkeypatch.context() as m:
        m.setenv(framed.DISABLE_ENV, "1")
        return asof.commit_on(GitRepo(root), day)


def _asked(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every day of DAYS asked of one GitRepo (as a run does); the git commands it ran."""
    calls: list[tuple[str, ...]] = []
    repo = GitRepo(root)
    real_run, real_start = repo.run, repo._start

    def run(args: Sequence[str], **kw: Any) -> Any:
        calls.append(tuple(args))
        return real_run(args, **kw)

    def start(args: Sequence[str], **kw: Any) -> Any:
        calls.append(tuple(args))
        return real_start(args, **kw)

    monkeypatch.setattr(repo, "run", run)
    monkeypatch.setattr(repo, "_start", start)
    for day in DAYS:
        assert asof.commit_on(repo, day) == _fresh(root, day, monkeypatch), day
    monkeypatch.undo()
    return calls


def _walks(calls: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return [c for c in calls if c[:1] == ("log",)]


def test_new_commits_on_top_walk_only_themselves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = make_repo(tmp_path / "repo")
    shas = [_commit(root, stamp, n) for n, stamp in enumerate(STAMPS)]
    first = _asked(root, monkeypatch)
    assert len(_walks(first)) == len(DAYS)  # each day walked once from HEAD
    assert _walks(_asked(root, monkeypatch)) == []  # HEAD where it was: all kept
    # on top: a commit of the 24th, then one backdated to the 20th (it ends that day now)
    _commit(root, "2026-11-24T09:00:00+00:00", 7)
    late = _commit(root, "2026-11-20T23:00:00+00:00", 8)
    walks = _walks(_asked(root, monkeypatch))
    assert len(walks) == 1 and ("^" + shas[-1]) in walks[0]  # one walk, of the new commits
    assert asof.commit_on(GitRepo(root), dt.date(2026, 11, 21)) == late


@pytest.mark.parametrize("how", ["reset", "amend", "side", "damaged"])
def test_anything_but_a_line_carried_on_is_walked_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
):
    root = make_repo(tmp_path / "repo")
    shas = [_commit(root, stamp, n) for n, stamp in enumerate(STAMPS)]
    _asked(root, monkeypatch)
    if how == "reset":  # HEAD back: the answers after it are gone
        git(root, "reset", "-q", "--hard", shas[1])
    elif how == "amend":  # the tip rewritten under another date
        env = {**os.environ, "GIT_COMMITTER_DATE": "2026-11-19T12:00:00+00:00"}
        subprocess.run(
            ["git", "commit", "-q", "--amend", "-m", "re"], cwd=root, env=env, check=True
        )
    elif how == "side":  # the old tip merged in as a second parent of a new line
        git(root, "checkout", "-q", "-b", "side", shas[2])
        _commit(root, "2026-11-22T10:00:00+00:00", 9)
        git(root, "merge", "-q", "-s", "ours", "-m", "merge", shas[-1])
    else:
        for kept in (root / ".git" / "pipectl" / "cache").glob("days-*.bin"):
            kept.write_bytes(kept.read_bytes()[:-3] + b"xyz")
    calls = _asked(root, monkeypatch)
    assert len(_walks(calls)) >= len(DAYS) - 1  # walked from HEAD again
