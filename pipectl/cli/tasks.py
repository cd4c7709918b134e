"""A deal's tasks and snooze: `task add|done|list`, `snooze`, `unsnooze` (docs/daily.md)."""

from __future__ import annotations

import typer

from pipectl.cli.app import _Group, app
from pipectl.cli.common import (
    DATE_FORMS,
    NO_COMMIT_HELP,
    FormatOpt,
    TodayOpt,
    date_option,
    list_format,
    open_pipeline,
    report,
    screen_width,
    use_color,
    warn,
    when,
)
from pipectl.cli.deals import _words  # the summary's words, read as `log` reads them

NoCommit = typer.Option(False, "--no-commit", help=NO_COMMIT_HELP)

task_app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    help="Dated tasks beside a deal's next step: add, done, list.",
)
app.add_typer(task_app, name="task")


@task_app.command("add")
def task_add(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    summary: list[str] = typer.Argument(
        ..., help="What to do, e.g. Call legal about the DPA (the words need no quotes)."
    ),
    due: str = typer.Option(
        "today", "--due", metavar="DATE", help=f"Due date ({DATE_FORMS}); default today."
    ),
    owner: str = typer.Option(None, "--owner", help="Whose task (a handle); default the deal's."),
    no_commit: bool = NoCommit,
) -> None:
    """Add a dated task to a deal.

    The entry goes on one line at the end of its `tasks:` list (the key made when the deal
    has none); nothing else in the file changes. One commit."""
    from pipectl import ops
    from pipectl.daily import tasks

    pipeline = open_pipeline(ctx)
    with ops.about_deal(pipeline, deal):  # a bad date names the deal's file
        due_date = date_option(due, "--due")
    assert due_date is not None
    outcome = tasks.add(
        pipeline, deal, _words(summary), due=due_date, owner=owner, commit=not no_commit
    )
    report(pipeline, outcome, no_commit)


@task_app.command("done")
def task_done(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    which: list[str] = typer.Argument(
        None, help="The task's number in `task list`, or words of its summary (one open: none)."
    ),
    kind: str = typer.Option(
        None, "--log", metavar="KIND", help="Log the touchpoint the task was (call, email, …)."
    ),
    outcome: str = typer.Option(None, "--outcome", "-o", help="Its outcome: replied, …"),
    date: str = typer.Option(
        None, "--date", metavar="DATE", help=f"When it was done ({DATE_FORMS}); default today."
    ),
    no_commit: bool = NoCommit,
) -> None:
    """Mark a task done, optionally logging it.

    N is the task's number in `task list` (the next step is 1), or give words of its summary;
    neither is needed when the deal has one open task. An entry of `tasks:` gets `done:
    DATE`; the next step is cleared. `--log call -o replied` appends the touchpoint the task
    was, in the same commit."""
    from pipectl import ops
    from pipectl.daily import tasks

    pipeline = open_pipeline(ctx)
    with ops.about_deal(pipeline, deal):
        day = when(date)
    result = tasks.done(
        pipeline,
        deal,
        _words(which) if which else None,
        when=day,
        log_kind=kind,
        outcome=outcome,
        commit=not no_commit,
    )
    report(pipeline, result, no_commit)


@task_app.command("list")
def task_list(
    ctx: typer.Context,
    owner: str = typer.Option(None, "--owner", help="Only this owner's tasks ('all': everyone)."),
    overdue: bool = typer.Option(False, "--overdue", help="Only tasks past due (as PL303)."),
    today: str = TodayOpt,
    fmt: str = FormatOpt,
    width: int = typer.Option(None, "--width", help="Fit the table to this many columns."),
) -> None:
    """List the open tasks, soonest due first.

    Each open deal's next step (task 1) and its `tasks:` entries without a `done:` date. N is
    the number `task done` takes; --overdue keeps what lint's PL303 reports."""
    from pipectl.cli.common import UNCLIPPED
    from pipectl.daily import tasks
    from pipectl.dates import today as today_of
    from pipectl.owners import owner_filter
    from pipectl.render import tasks as render

    shape = list_format(fmt, False)
    pipeline = open_pipeline(ctx)
    now = today_of(today)
    cfg = pipeline.config
    loaded = pipeline.load([s.name for s in cfg.open_stages])
    for err in loaded.errors:
        warn(f"skipped {err}")
    found = tasks.rows(loaded.deals, cfg, now, owner=owner_filter(owner, cfg.team), overdue=overdue)
    records = tasks.row_records(found)
    if shape == "json":
        from pipectl.jsonout import dumps

        typer.echo(dumps(records))
        return
    if shape != "table":
        from pipectl.render.text import delimited

        fields = tasks.ROW_FIELDS
        typer.echo(delimited(fields, [[r[k] for k in fields] for r in records], shape))
        return
    if not found:
        typer.echo("no open tasks")
        return
    fit = screen_width(width)
    typer.echo(render.task_table(found, None if fit >= UNCLIPPED else fit, color=use_color()))


@app.command()
def snooze(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    until: str = typer.Option(
        ..., "--until", metavar="DATE", help=f"The day it wakes ({DATE_FORMS}); after today."
    ),
    why: str = typer.Option(None, "--reason", help="Why it sleeps (one line)."),
    today: str = TodayOpt,
    no_commit: bool = NoCommit,
) -> None:
    """Pause a deal's time rules until a date.

    Until --until the time rules (stale, stuck, overdue, missed close, sales cycle, first
    contact, outreach) stay silent for the deal in lint, agenda, sweep and board, which show
    it as snoozed; from that day they apply again. One commit."""
    from pipectl import ops
    from pipectl.daily import tasks
    from pipectl.dates import today as today_of

    pipeline = open_pipeline(ctx)
    now = today_of(today)
    with ops.about_deal(pipeline, deal):
        day = date_option(until, "--until", now)
    assert day is not None
    outcome = tasks.snooze(pipeline, deal, day, today=now, reason=why, commit=not no_commit)
    report(pipeline, outcome, no_commit)


@app.command()
def unsnooze(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    no_commit: bool = NoCommit,
) -> None:
    """Wake a snoozed deal now.

    Removes snoozed_until and snooze_reason; one commit."""
    from pipectl.daily import tasks

    pipeline = open_pipeline(ctx)
    outcome = tasks.unsnooze(pipeline, deal, commit=not no_commit)
    report(pipeline, outcome, no_commit)
