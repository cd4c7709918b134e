"""A large cold lint shares its rules with one forked child (lint/forked.py): the findings are
those of one process, in the same order; the child reads the arrivals, and only it; a child
that fails leaves its rules to the parent, with the same findings again."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from pipectl.lint import forked, runner
from pipectl.lint.model import Finding
from pipectl.lint.registry import select_rules
from pipectl.store import Pipeline
from tests.conftest import git, make_repo
from tests.lint.lintlab import DROP, Lab, T, day, touch

TODAY = T


def _lab(tmp_path: Path) -> Pipeline:
    """A committed pipeline whose deals break most rules, some without `stage_entered` (git
    is asked when they arrived), one that does not parse and one with a `lint-ignore`."""
    root = make_repo(tmp_path / "repo")
    lab = Lab(root)
    for i in range(12):
        lab.add("prospecting", f"p{i}", stage_entered=DROP if i % 2 else day(-200 - i))
        lab.add("qualifying", f"q{i}", owner=DROP, touchpoints=[touch(-90)], next_step_due=day(-i))
        lab.add("connecting", f"c{i}", qualification={"budget": "no"}, next_step=DROP)
        lab.add("closing", f"k{i}", expected_close=day(-5 - i), value="lots", stage_entered=DROP)
        lab.add("won", f"w{i}", closed=day(-30 - i), stage_entered=DROP)
    lab.add(
        "closing",
        "ignored",
        next_step_due=day(-9),
        lint_ignore={"PL303": "waiting", "PL202": "has one"},
    )
    lab.add("prospecting", "broken", "---\ntitle: [unclosed\n---\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "deals")
    return Pipeline(root)


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any number of deals is enough to fork; threads another test left running (the suite
    shares one process) do not count: the child only checks rules."""
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    monkeypatch.setattr(forked, "FORK_MIN", 1)
    monkeypatch.setattr(forked.threading, "active_count", lambda: 1)


def _alone(p: Pipeline, monkeypatch: pytest.MonkeyPatch) -> tuple[Finding, ...]:
    with monkeypatch.context() as m:
        m.setattr(forked, "possible", lambda n: False)
        return runner.run(p, TODAY).findings


def _checked_where(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Each rule's code and the process that checked it, appended to `log` (a file: the
    child's memory does not come back)."""
    check = runner._findings

    def logged(ctx: object, r: object) -> list[Finding]:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {r.code}\n")  # type: ignore[attr-defined]
        return check(ctx, r)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "_findings", logged)


def test_the_findings_are_one_processs_and_the_child_checked_its_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: None
) -> None:
    p = _lab(tmp_path)
    alone = _alone(p, monkeypatch)
    assert {"PL302", "PL303", "PL202", "PL401", "PL101", "PL106"} <= {f.code for f in alone}
    log = tmp_path / "where.log"
    _checked_where(monkeypatch, log)
    assert runner.run(p, TODAY).findings == alone
    where: dict[str, set[str]] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        pid, code = line.split()
        where.setdefault(pid, set()).add(code)
    assert str(os.getpid()) in where and len(where) == 2
    child = next(codes for pid, codes in where.items() if pid != str(os.getpid()))
    mine = where[str(os.getpid())]
    assert forked.ARRIVAL_RULES & {r.code for r in select_rules((), ())} <= child
    assert child and mine and not child & mine  # each rule checked once


def _reading_logged(monkeypatch: pytest.MonkeyPatch, log: Path) -> Callable[..., object]:
    """The arrivals read as before, each read's process appended to `log`."""
    read = runner.read_arrivals

    def reading(*args: object) -> object:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
        return read(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "read_arrivals", reading)
    monkeypatch.setattr("pipectl.lint.context.read_arrivals", reading)
    return reading


def test_the_arrivals_are_read_in_the_child_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: None
) -> None:
    p = _lab(tmp_path)
    alone = _alone(p, monkeypatch)
    log = tmp_path / "arrivals.log"
    _reading_logged(monkeypatch, log)
    assert runner.run(p, TODAY).findings == alone
    readers = log.read_text(encoding="utf-8").split()
    assert len(readers) == 1 and readers[0] != str(os.getpid())


@pytest.mark.parametrize("how", ["exits", "raises"])
def test_a_failing_child_leaves_its_rules_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: None, how: str
) -> None:
    p = _lab(tmp_path)
    alone = _alone(p, monkeypatch)
    parent = os.getpid()
    check = runner._findings

    def failing(ctx: object, r: object) -> list[Finding]:
        if os.getpid() != parent:
            if how == "exits":
                os._exit(3)
            raise KeyboardInterrupt  # not a rule's crash: the child's whole share fails
        return check(ctx, r)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "_findings", failing)
    assert runner.run(p, TODAY).findings == alone


def test_the_shares_and_when_a_child_is_forked() -> None:
    rules = select_rules((), ())
    theirs, ours = forked.split(rules, 12_500, arrivals=True)
    assert {r.code for r in theirs} >= forked.ARRIVAL_RULES & {r.code for r in rules}
    assert sorted(r.code for r in [*theirs, *ours]) == sorted(r.code for r in rules)
    cost = lambda share: sum(forked._COSTS.get(r.code, forked._COST) for r in share)  # noqa: E731
    child = cost(theirs) + forked._ARRIVALS_COST * 10_000 // 12_500
    assert abs(child - cost(ours)) <= max(forked._COSTS.values())  # about even
    assert forked.possible(10_000) and not forked.possible(forked.FORK_MIN - 1)
    assert not forked.possible(forked.FORK_CAP)  # the memory of a very large run
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not forked.possible(10_000)  # a fork would copy this thread's locks, not it
    finally:
        stop.set()
        other.join()


def test_a_small_run_forks_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    p = _lab(tmp_path)

    def no_fork() -> int:
        raise AssertionError("forked")

    monkeypatch.setattr(forked.os, "fork", no_fork)
    assert runner.run(p, TODAY, select=["PL3"]).findings  # 62 files: below FORK_MIN


def test_a_large_run_reads_the_arrivals_in_a_child_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past FORK_CAP no child checks rules, but the arrivals are read in one forked first
    (its memory is given back when it ends): the same findings, read by another process; a
    child that fails leaves them to this process, which reads them itself."""
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    monkeypatch.setattr(forked.threading, "active_count", lambda: 1)
    p = _lab(tmp_path)
    alone = _alone(p, monkeypatch)
    monkeypatch.setattr(forked, "FORK_CAP", 10)  # the lab's 62 files are "large"
    log = tmp_path / "arrivals.log"
    reading = _reading_logged(monkeypatch, log)
    assert runner.run(p, TODAY).findings == alone
    readers = log.read_text(encoding="utf-8").split()
    assert len(readers) == 1 and readers[0] != str(os.getpid())
    log.unlink()
    parent = os.getpid()

    def failing(*args: object) -> object:
        if os.getpid() != parent:
            os._exit(3)
        return reading(*args)

    monkeypatch.setattr(runner, "read_arrivals", failing)
    monkeypatch.setattr("pipectl.lint.context.read_arrivals", failing)
    assert runner.run(p, TODAY).findings == alone
    assert log.read_text(encoding="utf-8").split() == [str(parent)]  # read here, once
