"""`pipectl lint --all`: every pipeline of a workspace linted as it is alone (the runner, its
cache and settings), then the workspace rules (rules_workspace.py) over all their deals at
once; one result whose paths are relative to the workspace root, so every output format
reads it as it reads one pipeline's. Never prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipectl.deal import Deal
from pipectl.gitrepo import find_git_root
from pipectl.lint.context import Context
from pipectl.lint.model import Finding, Rule
from pipectl.lint.registry import get_rule, select_rules
from pipectl.lint.rules_workspace import RULES as WORKSPACE_RULES
from pipectl.lint.rules_workspace import pipeline_of
from pipectl.lint.runner import LintResult, run
from pipectl.store import Pipeline


@dataclass(frozen=True)
class WorkspaceLint:
    """The whole workspace's findings, and each pipeline's own run (its paths its own)."""

    result: LintResult
    parts: tuple[tuple[str, LintResult], ...]
    # findings of the workspace rules, by pipeline: they are in no pipeline's own run
    across: tuple[tuple[str, int], ...] = ()


def lint_all(
    root: Path,
    pipelines: Sequence[tuple[str, Pipeline]],
    today: dt.date,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> WorkspaceLint:
    """Lint each pipeline (named by its folder relative to `root`), then the workspace rules
    `select`/`ignore` leave in, over every pipeline's deal files."""
    select, ignore = tuple(select), tuple(ignore)
    findings: list[Finding] = []
    parts: list[tuple[str, LintResult]] = []
    deals: list[Deal] = []
    rules: dict[str, Rule] = {}
    for name, pipeline in pipelines:
        result = run(pipeline, today, select, ignore)
        parts.append((name, result))
        rules.update({r.code: r for r in result.rules})
        findings.extend(dataclasses.replace(f, path=_under(name, f.path)) for f in result.findings)
        # the workspace rules need ids and places only: the folders are listed, not parsed
        deals.extend(
            Deal(ref.id, ref.stage, Path(_under(name, f"{ref.stage}/{ref.path.name}")), {})
            for ref in pipeline.deal_refs()
        )
    chosen = [r for r in select_rules(select, ignore) if r in WORKSPACE_RULES]
    across: dict[str, int] = {}
    if chosen and pipelines:
        first = pipelines[0][1]  # its `rules:` settings give the workspace rules' severity
        ctx = Context(first, first.config, today, deals, [], (), get_rule)
        for r in chosen:
            for f in r.check(ctx, r):
                if f.severity != "off":
                    findings.append(f)
                    owner = pipeline_of(f.path)
                    across[owner] = across.get(owner, 0) + 1
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.code))
    combined = LintResult(
        findings=tuple(findings),
        root=root,
        git_root=find_git_root(root),
        rules=tuple(rules.values()),
        deals_checked=sum(res.deals_checked for _n, res in parts),
        today=today,
    )
    return WorkspaceLint(combined, tuple(parts), tuple(sorted(across.items())))


def _under(name: str, path: str) -> str:
    return path if name == "." else f"{name}/{path}"
