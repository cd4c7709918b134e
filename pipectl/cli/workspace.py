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
    when_of: Callable[[Pipeline], dt.date],
    how: tuple[str | None, bool, bool, bool],
) -> tuple[Pipeline, Outcome] | None:
    """`move DEAL PIPELINE/STAGE` when TARGET names a stage of a pipeline of the workspace
    (`how`: reason, reopen, force, commit; `when_of`: --date read for the deal's pipeline);
    None when TARGET is a plain stage of the current pipeline (ops.move's own case)."""
    from pipectl import crossing, ops, workspace
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
    reason, reopen, force, commit = how
    day = when_of(source)
    if source.root.resolve() == dest.root.resolve():  # PIPELINE/STAGE named its own pipeline
        done = ops.move(
            source, deal, stage, when=day, reason=reason, reopen=reopen, force=force, commit=commit
        )
    else:
        done = crossing.move(
            source,
            dest,
            deal,
            stage,
            when=day,
            reason=reason,
            reopen=reopen,
            force=force,
            commit=commit,
        )
    return source, done


def holder(ctx: typer.Context, deal: str) -> Pipeline:
    """The pipeline of the workspace holding DEAL; for a deal no pipeline holds now (deleted),
    the one whose history knows that id."""
    from pipectl import history
    from pipectl.errors import UsageError

    space = open_workspace(ctx)
    try:
        return _holder(space, deal)
    except UsageError:
        for _name, pipeline in space.pipelines():
            if (
                pipeline.git is not None
                and deal in history.read(pipeline.git, pipeline.root).by_deal
            ):
                return pipeline
        raise


def history_all(
    ctx: typer.Context, span: tuple[dt.date | None, dt.date | None], as_json: bool
) -> None:
    """`history --all`: every pipeline's events in the window, oldest first, each stage and
    path named with its pipeline (a `pipeline` key in JSON)."""
    from pipectl import crossing
    from pipectl import history as hist_mod
    from pipectl.errors import UsageError
    from pipectl.jsonout import dumps
    from pipectl.render.report import PARTIAL_NOTE, event_json, history_text

    start, end = span
    by_deal: dict[str, dict[str, list[hist_mod.Event]]] = {}
    partial = False
    git = None
    for name, pipeline in pipelines(ctx):
        if pipeline.git is None:
            raise UsageError("not inside a git repository: there is no history to show")

        def shown(e: hist_mod.Event) -> bool:
            return (start is None or e.day >= start) and (end is None or e.day <= end)

        git = pipeline.git  # one repository: any pipeline's git orders the commits
        hist = hist_mod.read(pipeline.git, pipeline.root, shown)
        partial = partial or hist.partial
        events = hist_mod.with_fields(pipeline.git, hist_mod.window(hist.events, start, end))
        for e in events:
            by_deal.setdefault(e.deal, {}).setdefault(name, []).append(crossing.named(e, name))
    # a deal's events in every pipeline as one life (a crossing: one moved event), then all
    # deals in the order of their commits, parents first (stable: each life's order kept)
    found = [(_pipeline_of(e), e) for lives in by_deal.values() for e in crossing.merged(lives)]
    if found and git is not None:
        listed = git.run(["rev-list", "--reverse", "--topo-order", "HEAD"], check=False).stdout
        order = {sha: i for i, sha in enumerate(listed.split())}
        found.sort(key=lambda pair: order.get(pair[1].commit, len(order)))
    if as_json:
        rows = [{"pipeline": n, **event_json(e)} for n, e in found]
        typer.echo(dumps({"deal": None, "partial": partial, "events": rows}))
        return
    if not found:
        typer.echo("no commits in that window" if start or end else "no commits yet")
        if partial:
            typer.echo(PARTIAL_NOTE)
        return
    typer.echo(history_text([e for _n, e in found], False, partial))


def _pipeline_of(e: Any) -> str:
    """The pipeline an event named by `crossing.named` happened in (where it ended up)."""
    return str(e.path).rsplit("/", 2)[0] if str(e.path).count("/") >= 2 else "."


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
    from pipectl.cli.common import as_of
    from pipectl.errors import UsageError

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
    show_deals(rows, shape, width, named=True)


def show_deals(
    rows: Sequence[tuple[str | None, Pipeline, Deal]],
    shape: str,
    width: int | None,
    named: bool = False,
) -> None:
    """`pipectl list`'s output in `shape`: each row a deal with its pipeline's name; `named`:
    a PIPELINE column first (a `pipeline` key in JSON), as `list --all` shows them."""
    from pipectl.cli.common import UNCLIPPED, screen_width, use_color
    from pipectl.render import text as render

    if shape == "json":
        from pipectl.jsonout import deal_json, dumps

        data = [({"pipeline": n} if named else {}) | deal_json(d, p) for n, p, d in rows]
        typer.echo(dumps(data))
        return
    records = render.deal_records([d for _n, _p, d in rows])
    if shape != "table":
        headers = ("pipeline", *render.DEAL_FIELDS) if named else render.DEAL_FIELDS
        lines = [[n, *r] if named else r for (n, _p, _d), r in zip(rows, records, strict=True)]
        typer.echo(render.delimited(headers, lines, shape))
        return
    if not rows:
        typer.echo("no deals")
        return
    fit = screen_width(width)
    names = [str(n) for n, _p, _d in rows] if named else None
    deals = [d for _n, _p, d in rows]
    typer.echo(
        render.deal_table(
            deals, None if fit >= UNCLIPPED else fit, color=use_color(), pipelines=names
        )
    )


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


def report_all(
    ctx: typer.Context,
    figures_of: Callable[..., Any],
    options: tuple[str | None, str | None, str | None, str | None, str | None, str | None],
    as_json: bool,
) -> None:
    """`report --all`: each pipeline's report (`figures_of`, the one `pipectl report`
    computes), then the workspace's total (pipectl.workspace.total)."""
    from pipectl import report as report_mod
    from pipectl import workspace
    from pipectl.cli.common import as_of
    from pipectl.jsonout import dumps
    from pipectl.render.report import report_text

    since, until, owner, today, as_of_day, currency = options
    parts = []
    for name, opened in pipelines(ctx):
        pipeline, now = as_of(opened, as_of_day, today)
        parts.append((name, figures_of(pipeline, now, since, until, owner, currency)))
    whole = workspace.total(parts)
    if as_json:
        from dataclasses import asdict

        typer.echo(
            dumps(
                {
                    "currency": whole.currency,
                    "pipelines": {n: report_mod.report_json(r) for n, r in parts},
                    "total": {k: v for k, v in asdict(whole).items() if k != "pipelines"},
                }
            )
        )
        return
    out = [
        f"{heading(name, i == 0)}\n{report_text(r).rstrip()}" for i, (name, r) in enumerate(parts)
    ]
    out.append(heading("total", False) + "\n" + total_text(whole))
    typer.echo("\n".join(out))


def total_text(t: Any) -> str:
    """The workspace's total as text: one line a figure, amounts in its currency."""
    from pipectl.money import money

    rate = "-" if t.win_rate is None else f"{t.win_rate * 100:.0f}%"
    lines = [
        f"pipelines: {', '.join(t.pipelines)} (amounts in {t.currency})",
        f"deals: {t.deal_count}, open: {t.open_count}",
        f"open value: {money(t.open_value)}, weighted: {money(t.weighted_value)}",
        f"won: {t.won_count} ({money(t.won_value)}), lost: {t.lost_count} "
        f"({money(t.lost_value)}), win rate: {rate}",
    ]
    if t.unconverted_count:
        lines.append(f"deals with no rate into {t.currency}: {t.unconverted_count} (in no sum)")
    return "\n".join(lines)
