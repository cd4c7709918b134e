"""Workspace rules: what only the pipelines of a workspace seen together can show (an id used
in two pipelines). `pipectl lint --all` runs them over every pipeline's deals, their paths
relative to the workspace root (pipectl/lint/workspace.py); in a run over one pipeline every
deal is of that pipeline, so they find nothing there. Read-only; never prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from pipectl.deal import Deal
from pipectl.lint.context import Context
from pipectl.lint.model import Finding, Rule, rule


def pipeline_of(path: str) -> str:
    """The pipeline of a deal file in a workspace run: its path without `STAGE/ID.md`."""
    parts = PurePosixPath(path).parts
    return PurePosixPath(*parts[:-2]).as_posix() if len(parts) > 2 else "."


@rule(
    "PL110",
    "id-in-two-pipelines",
    "error",
    "the same deal id in two pipelines of a workspace (lint --all)",
    scope="all",
)
def id_in_two_pipelines(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A deal's id names it across the whole workspace, not only in its pipeline: `pipectl
    move DEAL PIPELINE/STAGE` keeps the id, commands run from the workspace's root find a
    deal by it, and `pipectl history` follows a deal from one pipeline into another by it.
    Two pipelines holding one id usually mean a file copied instead of moved. Checked by
    `pipectl lint --all` (a run over one pipeline sees only its own deals; two files of one
    id there are PL104). Keep one, or give the other a new id with `pipectl -C PIPELINE
    rename DEAL NEW-ID`."""
    by_id: dict[str, list[Deal]] = {}
    for deal in ctx.deals:
        by_id.setdefault(deal.id, []).append(deal)
    for deal_id, deals in by_id.items():
        # an id of one file needs no path taken apart (every id, in a run over one pipeline)
        if len(deals) < 2 or len({pipeline_of(d.path.as_posix()) for d in deals}) < 2:
            continue
        for deal in deals:
            here = pipeline_of(deal.path.as_posix())
            others = ", ".join(
                d.path.as_posix() for d in deals if pipeline_of(d.path.as_posix()) != here
            )
            yield ctx.finding(r, deal, f"id {deal_id!r} is also used by {others}", line=1)


RULES = (id_in_two_pipelines,)
