"""Helpers for the lint tests: a pipeline in a tmp folder, deals built from clean defaults.

A clean deal breaks no rule; each test changes the one field its rule is about.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from pipectl import lint
from pipectl.store import Pipeline

T = dt.date(2026, 11, 27)
DROP = object()


def day(offset: int) -> dt.date:
    return T + dt.timedelta(days=offset)


def touch(offset: int, kind: str = "call", outcome: str | None = "replied") -> dict[str, Any]:
    t: dict[str, Any] = {"date": day(offset), "kind": kind, "summary": f"{kind} {offset}"}
    if outcome is not None:
        t["outcome"] = outcome
    return t


def fields(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "Acme",
        "owner": "alice",
        "value": 1000,
        "created": day(-1),
        "stage_entered": day(-1),
        "expected_close": day(20),
        "next_step": "Call",
        "next_step_due": day(3),
        "qualification": {"budget": "ok", "need": "ok", "fit": "ok", "timeline": "ok"},
        "touchpoints": [touch(-1)],
    }
    for key, value in over.items():
        key = key.replace("lint_ignore", "lint-ignore")
        if value is DROP:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def deal_text(**over: Any) -> str:
    dumped = yaml.safe_dump(fields(**over), sort_keys=False, allow_unicode=True)
    return f"---\n{dumped}---\n# Notes\n"


class Lab:
    """A pipeline folder with a pipeline.yaml; add deals, then lint with selected rules."""

    def __init__(self, root: Path, config: str = ""):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "pipeline.yaml").write_text(config or "rules: {}\n", encoding="utf-8")

    def config(self, text: str) -> Lab:
        (self.root / "pipeline.yaml").write_text(text, encoding="utf-8")
        return self

    def add(self, stage: str, deal_id: str, text: str | bytes | None = None, **over: Any) -> Path:
        path = self.root / stage / f"{deal_id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = deal_text(**over) if text is None else text
        path.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
        return path

    def run(self, *select: str, today: dt.date = T) -> lint.LintResult:
        return lint.run(Pipeline(self.root), today, select=select)

    def codes(self, *select: str, today: dt.date = T) -> list[str]:
        return [f.code for f in self.run(*select, today=today).findings]

    def findings(self, *select: str, today: dt.date = T) -> list[lint.Finding]:
        return list(self.run(*select, today=today).findings)
