"""A lint whose time-in-stage rule will ask git reads the arrivals before it loads the deals
(a cold history index holds the whole walk for a moment: not on top of every deal), and a
failing read still becomes that rule's PL000, as when the rule itself asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from pipectl import history
from pipectl.lint import runner
from pipectl.store import Pipeline

DEAL = "---\ntitle: Acme\nowner: me\nvalue: 5\nnext_step: call\n---\n"


def _pipeline(pipeline: Path, write_deal: Callable[..., Path]) -> Pipeline:
    p = Pipeline.open(pipeline)
    write_deal(pipeline, p.config.stage_names[0], "acme", DEAL)  # no stage_entered: ask git
    return p


def test_the_arrivals_are_read_before_the_deals(
    pipeline: Path, write_deal: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    p = _pipeline(pipeline, write_deal)
    calls: list[str] = []
    read, load = history.read_arrivals, Pipeline.load

    def reading(*args: object) -> history.Arrivals:
        calls.append("arrivals")
        return read(*args)  # type: ignore[arg-type]

    def loading(self: Pipeline, *args: object, **kw: object) -> object:
        calls.append("load")
        return load(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "read_arrivals", reading)
    monkeypatch.setattr("pipectl.lint.context.read_arrivals", reading)
    monkeypatch.setattr(Pipeline, "load", loading)
    result = runner.run(p, dt.date(2026, 11, 27))
    assert calls == ["arrivals", "load"]  # once, first
    assert any(f.code == "PL302" for f in result.findings)
    calls.clear()
    runner.run(p, dt.date(2026, 11, 27), ignore=["PL302"])
    assert calls == ["load"]  # no rule asks: git is not read


def test_a_failing_read_is_still_the_rules_own_crash(
    pipeline: Path, write_deal: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    p = _pipeline(pipeline, write_deal)

    def broken(*args: object) -> history.Arrivals:
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "read_arrivals", broken)
    monkeypatch.setattr("pipectl.lint.context.read_arrivals", broken)
    found = [f for f in runner.run(p, dt.date(2026, 11, 27)).findings if f.code == "PL000"]
    assert len(found) == 1 and "PL302" in found[0].message and "boom" in found[0].message
