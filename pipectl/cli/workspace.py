"""The workspace side of the commands: a move into another pipeline, and `--all` of the
reading commands (every pipeline of pipectl/workspace.py's workspace, each deal shown with its
pipeline). The commands stay in their own modules and hand over here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from pipectl.cli.common import start_dir

if TYPE_CHECKING:
    from pipectl.deal import Deal
    from pipectl.ops import Outcome
    from pipectl.store import Pipeline
    from pipectl.workspace import Workspace


def open_workspace(ctx: typer.Context) -> Workspace:
    from pipectl import workspace

    return workspace.require(start_dir(ctx))


def pipelines(ctx: typer.Context) -> list[tuple[str, Pipeline]]:
    """Every pipeline of the workspace, opened, in its order."""
    return list(open_workspace(ctx).pipelines())


def move_across(
    ctx: typer.Context,
    deal: str,
    target: str,
    run: Callable[[Pipeline, Pipeline | None, str], Outcome],
) -> tuple[Pipeline, Outcome] | None:
    """`move DEAL PIPELINE/STAGE` when TARGET names another pipeline's stage: `run(source,
    dest, stage)` moves (dest None: a stage of the deal's own pipeline after all); None when
    TARGET is a plain stage of the current pipeline (ops.move's own case)."""
    from pipectl import workspace
    from pipectl.errors import UsageError
    from pipectl.store import Pipeline

    start = start_dir(ctx)
    try:
        here: Pipeline | None = Pipeline.open(start)
    except UsageError:
        here = None
    if "/" not in target or (here is not None and here.config.stage(target) is not None):
        return None
    space = workspace.require(start)
    split = space.split_target(target)
    if split is None:
        head = target.rpartition("/")[0]
        raise UsageError(f"no pipeline {head!r} in this workspace (pipelines: {space.listing})")
    member, stage = split
    source = here if here is not None else _holder(space, deal)
    dest = member.open()
    same = source.root.resolve() == dest.root.resolve()
    return source, run(source, None if same else dest, stage)


def _holder(space: Workspace, deal: str) -> Pipeline:
    """The one pipeline holding DEAL (an id or unique prefix), from a workspace's root."""
    from pipectl.errors import UsageError

    found: list[Pipeline] = []
    for _name, pipeline in space.pipelines():
        try:
            pipeline.resolve(deal)
        except UsageError:
            continue
        found.append(pipeline)
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(f"no deal {deal!r} in any pipeline ({space.listing})")
    names = ", ".join(str(p.display(p.root)) for p in found)
    raise UsageError(f"{deal!r} names deals in several pipelines ({names}): pass -C PIPELINE")


# --- list --all -----------------------------------------------------------------------------


def list_all(
    ctx: typer.Context,
    pick: Callable[[Pipeline, dt.date], list[Deal] | None],
    shape: str,
    as_of_day: str | None,
    today: str | None,
    width: int | None,
    stage: Sequence[str],
) -> None:
    """`list --all`: each pipeline's deals as `pick` filters them (None: the pipeline has
    none of the --stage asked for), a PIPELINE column first (a `pipeline` key in JSON)."""
    from pipectl.cli.common import UNCLIPPED, as_of, screen_width, use_color
    from pipectl.errors import UsageError
    from pipectl.render import text as render

    rows: list[tuple[str, Pipeline, Deal]] = []
    known = False
    for name, opened in pipelines(ctx):
        pipeline, now = as_of(opened, as_of_day, today)
        deals = pick(pipeline, now)
        if deals is None:
            continue
        known = True
        rows.extend((name, pipeline, d) for d in deals)
    if stage and not known:
        raise UsageError(f"no pipeline of the workspace has a stage {', '.join(stage)}")
    if shape == "json":
        from pipectl.jsonout import deal_json, dumps

        typer.echo(dumps([{"pipeline": n, **deal_json(d, p)} for n, p, d in rows]))
        return
    if shape != "table":
        records = render.deal_records([d for _n, _p, d in rows])
        lines = [[n, *r] for (n, _p, _d), r in zip(rows, records, strict=True)]
        typer.echo(render.delimited(("pipeline", *render.DEAL_FIELDS), lines, shape))
        return
    if not rows:
        typer.echo("no deals")
        return
    fit = screen_width(width)
    deals = [d for _n, _p, d in rows]
    names = [n for n, _p, _d in rows]
    table = render.deal_table(
        deals, None if fit >= UNCLIPPED else fit, color=use_color(), pipelines=names
    )
    typer.echo(table)


def heading(name: str, first: bool) -> str:
    """The line that starts one pipeline's part of a text output."""
    return ("" if first else "\n") + f"== {name} =="


def json_each(parts: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"pipeline": name, **data} for name, data in parts]


# --- lint --all, report --all ---------------------------------------------------------------


def lint_all(
    ctx: typer.Context,
    today: str | None,
    as_of_day: str | None,
    select: Sequence[str],
    ignore: Sequence[str],
    color: bool,
    statistics: bool,
) -> tuple[Any, str]:
    """`lint --all`: the workspace's one result, and its text report: every finding (paths
    from the workspace root), each pipeline's summary line, then the total's."""
    from pathlib import Path

    from pipectl.cli.common import as_of
    from pipectl.lint import formats
    from pipectl.lint.workspace import lint_all as run_all

    space = open_workspace(ctx)
    pairs, now = [], None
    for name, opened in space.pipelines():
        pipeline, now = as_of(opened, as_of_day, today)
        pairs.append((name, pipeline))
    if now is None:
        from pipectl import dates

        now = dates.today(today)
    done = run_all(space.root, pairs, now, select, ignore)
    text = formats.text(done.result, Path.cwd(), color=color, statistics=statistics, summary=False)
    lines = [text.rstrip("\n")] if done.result.findings or statistics else []
    if lines:
        lines.append("")
    width = max((len(n) for n in space.names), default=0)
    lines += [f"{name:<{width}}  {formats.summary_line(part)}" for name, part in done.parts]
    for name, count in done.across:
        lines.append(f"{name:<{width}}  and {count} across pipelines (PL110: an id in two)")
    lines += ["", formats.summary_line(done.result)]
    return done.result, "\n".join(lines) + "\n"
