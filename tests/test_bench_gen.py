"""bench/gen.py: the stream reaches fast-import whole (every commit, a sound repository), the
same seed makes the same repository, and --cycle-days keeps a closed deal's events within it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gen


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def test_stream_makes_every_commit_and_the_same_repo_for_a_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gen, "FLUSH", 50)  # the stream goes to git in many writes
    stats = gen.generate(tmp_path / "a", 60, closed_ratio=1, events_per_deal=8, seed=3)
    a = tmp_path / "a"
    assert stats["commits"] == int(_git(a, "rev-list", "--count", "HEAD"))
    _git(a, "fsck", "--no-progress")
    assert _git(a, "status", "--porcelain") == ""
    assert sum(1 for _ in a.glob("*/*.md")) == stats["files"] == 120
    gen.generate(tmp_path / "b", 60, closed_ratio=1, events_per_deal=8, seed=3)
    assert _git(a, "rev-parse", "HEAD") == _git(tmp_path / "b", "rev-parse", "HEAD")


def test_cycle_days_bounds_a_closed_deals_events(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    gen.generate(repo, 10, closed_ratio=4, events_per_deal=10, seed=5, cycle_days=40)
    days: dict[str, list[dt.date]] = {}
    log = _git(repo, "log", "--format=%as %(trailers:key=Pipectl-Deal,valueonly)")
    for line in log.splitlines():
        if line.strip():
            day, _, deal = line.partition(" ")
            if deal:
                days.setdefault(deal.strip(), []).append(dt.date.fromisoformat(day))
    closed = {p.stem for s in gen.CLOSED_STAGES for p in (repo / s).glob("*.md")}
    assert len(closed) == 40
    for deal in closed:
        assert len(days[deal]) >= 2
        assert (max(days[deal]) - min(days[deal])).days <= 40, deal
