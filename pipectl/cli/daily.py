"""The day's commands: board (the pipeline as columns), agenda (a plan), sweep (dead leads)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pipectl.cli.app import app
from pipectl.cli.common import (
    NO_COMMIT_HELP,
    AllOpt,
    AsOfOpt,
    FormatOpt,
    TodayOpt,
    as_of,
    list_format,
    open_pipeline,
    screen_width,
    use_color,
    warn,
)

if TYPE_CHECKING:
    import datetime as dt

    from pipectl.store import Pipeline

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of text.")


@app.command()
def board(
    ctx: typer.Context,
    owner: str = typer.Option(None, "--owner", help="Only this owner's deals ('all': everyone)."),
    all_stages: bool = typer.Option(False, "--all", help="Show the won and lost stages too."),
    today: str = TodayOpt,
    as_of_day: str = AsOfOpt,
    width: int = typer.Option(None, "--width", help="Lay out for this many columns of text."),
    limit: int = typer.Option(
        10, "--limit", min=0, help="Cards shown per stage, biggest value first (0: all)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print every stage and card as JSON."),
    fmt: str = typer.Option(
        None, "--format", metavar="FORMAT", help="table (default) or json (as --json)."
    ),
    workspace: bool = typer.Option(
        False,
        "--workspace",
        help="Every pipeline of the workspace, one board each under its name (`pipeline` in "
        "JSON); --all here means the closed stages (docs/workspace.md).",
    ),
) -> None:
    """Show the pipeline as columns: count and value per stage, a card per deal.

    Each card shows the deal's id, company, value, days in its stage and `!N` when lint has
    N warnings or errors on it. Stages that do not fit the terminal's width wrap onto more
    rows. Open stages only, unless --all; at most --limit cards per stage. --as-of DATE: the
    board as it stood at the end of that day, from git. --workspace: a board per pipeline.
    """
    shape = list_format(fmt, as_json, ("table", "json"))
    if workspace:
        from pipectl.cli.workspace import heading, json_each, pipelines

        parts = []
        for name, opened in pipelines(ctx):
            pipeline, now = as_of(opened, as_of_day, today)
            parts.append((name, _board(pipeline, now, owner, all_stages, shape, width, limit)))
        if shape == "json":
            from pipectl.jsonout import dumps

            typer.echo(dumps(json_each(parts)))
        else:
            typer.echo("\n".join(f"{heading(n, i == 0)}\n{t}" for i, (n, t) in enumerate(parts)))
        return
    pipeline, now = as_of(open_pipeline(ctx), as_of_day, today)
    out = _board(pipeline, now, owner, all_stages, shape, width, limit)
    if shape == "json":
        from pipectl.jsonout import dumps

        typer.echo(dumps(out))
    else:
        typer.echo(out)


def _board(
    pipeline: Pipeline,
    now: dt.date,
    owner: str | None,
    all_stages: bool,
    shape: str,
    width: int | None,
    limit: int,
) -> Any:
    """One pipeline's board: its JSON data, or its text."""
    from pipectl import lint
    from pipectl.daily import board as daily_board
    from pipectl.render import board as render_board

    config = pipeline.config
    stages = config.stages if all_stages else config.open_stages
    loaded = pipeline.load([s.name for s in stages])
    for err in loaded.errors:
        warn(f"skipped {err}")
    from pipectl.history import read_arrivals

    # one git log pass for the whole board: each card's days in stage, and lint's
    arrivals = read_arrivals(pipeline.git, pipeline.root, pipeline.at)
    # every rule, so a card's !N is exactly what `pipectl lint` says about that deal
    findings = lint.run(pipeline, now, arrivals=arrivals).findings
    from pipectl.owners import owner_filter

    who = owner_filter(owner, config.team)
    flags = daily_board.flags_by_deal(findings)
    from pipectl.rates import read_rates

    rates = read_rates(pipeline).checked()  # totals in the base currency, as the report's
    columns = daily_board.board(
        loaded.deals, stages, now, flags, who, config=config, arrivals=arrivals, rates=rates
    )
    if shape == "json":
        return daily_board.board_json(columns, now, who, config.currency)
    return render_board.board(
        columns,
        screen_width(width, piped=100),
        currency=config.currency,
        color=use_color(),
        show_owner=who is None,
        limit=limit,
    )


def _default_owner(pipeline: Pipeline, owner: str | None) -> str | None:
    """--owner, else $PIPECTL_OWNER, else the roster handle of git's author identity, else its
    name (owners.default_owner); 'all' (or none known) is everyone."""
    import os

    from pipectl.owners import default_owner, owner_filter

    team = pipeline.config.team
    if owner is None:
        git = pipeline.git
        owner = default_owner(team, os.environ.get("PIPECTL_OWNER"), git.identity if git else None)
        if owner is None:
            warn("no owner known (--owner, $PIPECTL_OWNER or git's author): showing everyone")
    return owner_filter(owner, team)


@app.command()
def agenda(
    ctx: typer.Context,
    owner: str = typer.Option(
        None,
        "--owner",
        help="Whose plan: a name, or 'all' (default: $PIPECTL_OWNER, else your team handle or "
        "git author name).",
    ),
    today: str = TodayOpt,
    as_of_day: str = AsOfOpt,
    as_json: bool = JsonOpt,
    fmt: str = FormatOpt,
    all_pipelines: bool = AllOpt,
) -> None:
    """Show the day's plan, most urgent first.

    Overdue next steps, steps due today, deals in the closing stage, stale deals to nudge
    (lint's stale limit), new leads not yet contacted, and last-chance candidates for
    `pipectl sweep`. Each deal appears once, under its most urgent heading. --format tsv or
    csv prints one item a line, its section first. --all: every pipeline of the workspace,
    each plan under its pipeline's name (a pipeline column first in tsv/csv, a `pipeline`
    key in JSON). --as-of DATE: the plan as it stood at the end of that day, from git.
    """
    from pipectl.daily import agenda as daily_agenda
    from pipectl.render import agenda as render_agenda

    shape = list_format(fmt, as_json)
    if all_pipelines:
        from pipectl.cli.workspace import pipelines

        pairs: list[tuple[str | None, Pipeline]] = list(pipelines(ctx))
    else:
        pairs = [(None, open_pipeline(ctx))]
    plans = []
    for name, opened in pairs:
        pipeline, now = as_of(opened, as_of_day, today)
        who = _default_owner(pipeline, owner)
        loaded = pipeline.load([s.name for s in pipeline.config.open_stages])
        for err in loaded.errors:
            warn(f"skipped {err}")
        plans.append((name, daily_agenda.agenda(loaded.deals, pipeline.config, now, who)))
    if shape == "json":
        from pipectl.jsonout import dumps

        data = [daily_agenda.agenda_json(r) for _n, r in plans]
        named = [{"pipeline": n, **d} for (n, _r), d in zip(plans, data, strict=True)]
        typer.echo(dumps(named if all_pipelines else data[0]))
        return
    if shape != "table":
        from pipectl.render.text import delimited

        fields = render_agenda.AGENDA_FIELDS
        rows = [
            [n, *row] if all_pipelines else row
            for n, r in plans
            for row in render_agenda.agenda_records(r)
        ]
        typer.echo(delimited(("pipeline", *fields) if all_pipelines else fields, rows, shape))
        return
    width = screen_width(None)
    texts = [(n, render_agenda.agenda(r, width, color=use_color())) for n, r in plans]
    if not all_pipelines:
        typer.echo(texts[0][1])
        return
    from pipectl.cli.workspace import heading

    typer.echo("\n".join(f"{heading(str(n), i == 0)}\n{t}" for i, (n, t) in enumerate(texts)))


@app.command()
def sweep(
    ctx: typer.Context,
    last_chance: bool = typer.Option(
        False,
        "--last-chance",
        help="Log a last-chance message on each candidate without one, with a next step due "
        "after the grace days (sweep.grace_days); the plan names any next step it replaces.",
    ),
    close: bool = typer.Option(
        False,
        "--close",
        help="Move candidates whose last chance expired unanswered to lost (no-response).",
    ),
    owner: str = typer.Option(None, "--owner", help="Only this owner's deals (default: all)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", "-n", help="Show what --last-chance/--close would do; change nothing."
    ),
    today: str = TodayOpt,
    as_json: bool = JsonOpt,
    no_commit: bool = typer.Option(False, "--no-commit", help=NO_COMMIT_HELP),
    drafts: Path = typer.Option(
        None,
        "--drafts",
        metavar="DIR",
        help="With --last-chance: write each last-chance message as an .eml draft to the "
        "deal's contact in DIR, from templates/last-chance.md (docs/mail.md).",
    ),
) -> None:
    """Clear dead leads: deals past the sales cycle or out of outreach attempts.

    Only deals lint's PL305 or PL501 selects; one that replied within that rule's window, or
    whose lint-ignore silences it, is listed and left alone. Without --last-chance or
    --close it is a dry run that lists the candidates and what would happen. --last-chance
    logs a last-chance message and sets a next step with a due date (saying which next step
    it replaces); --close moves those whose last chance expired with no answer to lost. One
    commit for the whole run.
    """
    from pipectl import dates
    from pipectl.daily import sweep as daily_sweep
    from pipectl.render import sweep as render_sweep
    from pipectl.store import NO_GIT_WARNING

    pipeline = open_pipeline(ctx)
    now = dates.today(today)
    from pipectl.owners import owner_filter

    who = owner_filter(owner)
    write_drafts = None
    if drafts is not None:
        from pipectl.cli.mail import sweep_drafts
        from pipectl.errors import UsageError

        if not last_chance:
            raise UsageError("--drafts writes the last-chance messages: add --last-chance")
        plan = daily_sweep.sweep(pipeline, now, last_chance=True, owner=who, dry_run=True)
        found = [c.deal for c in plan.candidates]
        write_drafts = sweep_drafts(pipeline, drafts, plan.sent, found, dry_run)
    result = daily_sweep.sweep(
        pipeline,
        now,
        last_chance=last_chance,
        close=close,
        owner=who,
        dry_run=dry_run,
        commit=not no_commit,
    )
    for err in result.errors:
        warn(f"skipped {err}")
    if as_json:
        from pipectl.jsonout import dumps

        typer.echo(dumps(daily_sweep.sweep_json(result)))
    else:
        config = pipeline.config
        typer.echo(
            render_sweep.sweep(
                result, screen_width(None), config.sweep_kind, config.sweep_lost_reason
            )
        )
    if write_drafts is not None:
        for line in write_drafts(result.sent):
            typer.echo(line, err=as_json)  # --json's stdout stays one JSON document
    acted = result.sent or result.closed
    if acted and not result.dry_run and pipeline.git is None and not no_commit:
        warn(NO_GIT_WARNING)
