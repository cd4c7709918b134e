"""Commands that read the pipeline and its git history: history and report (text, JSON, HTML)."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pipectl.cli.app import app
from pipectl.cli.common import (
    AllOpt,
    AsOfOpt,
    TodayOpt,
    as_of,
    open_pipeline,
    past_commit,
    warn,
    window,
)

if TYPE_CHECKING:
    from pipectl import report as report_mod
    from pipectl.store import Pipeline

SinceOpt = typer.Option(
    None,
    "--since",
    metavar="DATE",
    help="Only from this date on (YYYY-MM-DD or relative: -4w, -1m, mon, …; docs/dates.md).",
)
UntilOpt = typer.Option(
    None, "--until", metavar="DATE", help="Only up to this date, inclusive (as --since)."
)
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of text.")


def _acyclic(ctx: typer.Context) -> None:
    """The cyclic collector off until the command ends: history and report make hundreds of
    thousands of objects in no cycle (events, rows, lives), which it walked again and again
    (a sixth of a warm `history`'s time on 120,000 commits, a tenth of `report`'s)."""
    if gc.isenabled():
        gc.disable()
        ctx.call_on_close(gc.enable)


@app.command()
def history(
    ctx: typer.Context,
    deal: str = typer.Argument(None, help="Deal id or unique prefix (default: every deal)."),
    since: str = SinceOpt,
    until: str = UntilOpt,
    as_of_day: str = typer.Option(
        None,
        "--as-of",
        metavar="DATE",
        help="The history as it stood at the end of that day, from git: the commits up to "
        "that day's last one (a deal deleted since is found by its id).",
    ),
    as_json: bool = JsonOpt,
    all_pipelines: bool = AllOpt,
) -> None:
    """Show the audit trail from git: created, moved, logged, edited — who and when.

    Follows a deal across its moves between stage folders, and shows commits made by hand
    (a `git mv`, an edit in an editor) as well as pipectl's own. Reads git in one pass. For
    one DEAL, every changed field with its old → new value, and its whole life across the
    pipelines of a workspace it moved between (stages then named PIPELINE/STAGE). --all:
    every pipeline's events, oldest first, each stage named PIPELINE/STAGE (with DEAL: the
    deal looked up in every pipeline). --as-of DATE: the history as it stood at the end of
    that day (its last commit on the first-parent line; a deal of that day is found by id).
    """
    _acyclic(ctx)
    from pipectl import history as hist_mod
    from pipectl.errors import UsageError
    from pipectl.jsonout import dumps
    from pipectl.render.report import event_json, history_text

    if all_pipelines:
        from pipectl.cli.workspace import history_all, holder

        if as_of_day is not None:
            raise UsageError("--as-of reads one pipeline's past: pass -C PIPELINE, not --all")
        if deal is None:
            history_all(ctx, window(since, until), as_json)
            return
        pipeline = holder(ctx, deal)
    else:
        pipeline = open_pipeline(ctx)
    if pipeline.git is None:
        raise UsageError("not inside a git repository: there is no history to show")
    start, end = window(since, until)
    here = pipeline
    if as_of_day is not None:
        pipeline, day = as_of(pipeline, as_of_day, None)
        end = day if end is None else min(end, day)

    def shown(e: hist_mod.Event) -> bool:
        return (start is None or e.day >= start) and (end is None or e.day <= end)

    # every deal: the fields of the events shown are read while git walks the log; one deal:
    # afterwards, only that deal's (with_fields below does nothing for events already read)
    hist = hist_mod.read(pipeline.git, pipeline.root, shown if deal is None else None, pipeline.at)
    deal_id = None
    if deal is not None:
        try:
            deal_id = pipeline.resolve(deal).id
        except UsageError:
            deal_id = deal if deal in hist.by_deal else _renamed(hist, deal)
            if deal_id is not None and deal_id != deal:
                warn(f"{deal} was renamed to {deal_id}: its history follows")
            deal_id = deal_id or _gone(hist, deal)
            if deal_id is None and here is not pipeline:
                _later(here, deal, as_of_day)
            if deal_id is None:  # a deleted deal still has its history; a renamed one, its new
                raise
    if deal_id is None and not as_json:  # every deal's rows: those of unchanged segments kept
        from pipectl.render.report import history_rows, history_table, rows_made_by

        def make(found: list[hist_mod.Event]) -> list[list[str]]:
            return history_rows(found, False)

        rows = hist_mod.rendered(hist, start, end, make, rows_made_by())
        if rows:
            typer.echo(history_table(rows, False, hist.partial, _width()))
            return
    chosen: Sequence[hist_mod.Event] = hist.of(deal_id) if deal_id is not None else hist.events
    if deal_id is not None:  # its life in the pipelines it came from and went to, too
        from pipectl import crossing

        chosen = crossing.whole_life(pipeline, chosen)
    events = hist_mod.with_fields(pipeline.git, hist_mod.window(chosen, start, end))
    changes = None  # one deal: each field's old → new, from its blobs (one cat-file)
    if deal_id is not None:
        from pipectl import fielddiff

        keys = fielddiff.read_blobs(pipeline.git, events)
        changes = [fielddiff.of_event(e, keys) for e in events]
    if as_json:
        rows = [event_json(e, changes[i] if changes else None) for i, e in enumerate(events)]
        typer.echo(dumps({"deal": deal_id, "partial": hist.partial, "events": rows}))
        return
    if not events:
        if deal_id:
            typer.echo(f"no commits for {deal_id} yet")
        else:
            typer.echo("no commits in that window" if start or end else "no commits yet")
        if hist.partial:
            from pipectl.render.report import PARTIAL_NOTE

            typer.echo(PARTIAL_NOTE)
        return
    typer.echo(history_text(events, deal_id is not None, hist.partial, changes, _width()))


def _renamed(hist: Any, old: str) -> str | None:
    """The id a deal known as `old` has now, following its renames (None: never renamed)."""
    from pipectl.changes import renamed_to

    pairs = [(e.old_deal, e.deal) for e in hist.events if e.old_deal and e.old_deal != e.deal]
    now = renamed_to(pairs).get(old)
    return None if now == old else now


def _gone(hist: Any, prefix: str) -> str | None:
    """The one deal no longer in a stage (deleted, moved out of the stages) whose id starts
    with `prefix`, as a deal in a stage is found by a unique prefix; None if not just one."""
    found = [d for d in hist.by_deal if d.startswith(prefix)]
    return found[0] if len(found) == 1 else None


def _width() -> int:
    """History's lines: in full into a pipe (or as wide as $COLUMNS asks), else clipped at
    160 columns or the terminal's width, whichever is more (a line may wrap)."""
    from pipectl.cli.common import screen_width

    return max(160, screen_width())


@app.command()
def report(
    ctx: typer.Context,
    since: str = typer.Option(
        None, "--since", metavar="DATE", help="Count deals closed (and stays ended) from then on."
    ),
    until: str = UntilOpt,
    owner: str = typer.Option(None, "--owner", metavar="NAME", help="Only this owner's deals."),
    today: str = TodayOpt,
    as_of_day: str = AsOfOpt,
    as_json: bool = JsonOpt,
    html: Path = typer.Option(
        None,
        "--html",
        metavar="FILE",
        dir_okay=False,
        help="Write a self-contained HTML dashboard (charts, lint findings) to FILE (a "
        "relative FILE is from where pipectl runs, not from -C).",
    ),
    currency: str = typer.Option(
        None,
        "--currency",
        metavar="CODE",
        help="Every amount in this currency, through rates.csv (default: base_currency).",
    ),
    weeks: int = typer.Option(
        None,
        "--weeks",
        metavar="N",
        min=1,
        max=520,
        help="Add the trends of the last N weeks: open deals per stage, new deals, slipped "
        "close dates, touchpoints per rep, median days in stage per quarter (the dashboard "
        "shows 12 unless told; docs/review.md).",
    ),
    all_pipelines: bool = typer.Option(
        False,
        "--all",
        "--workspace",
        help="Every pipeline of the workspace: each one's report, then the total of the "
        "amounts and counts; their base currencies must agree, or --currency names one "
        "(docs/workspace.md).",
    ),
) -> None:
    """Figures: value per stage, forecast, win rate, cycle, conversion; text, JSON or HTML.

    Per stage and per owner: open count, value and weighted value, forecast by expected-close
    month, win rate, sales cycle, days in stage, conversion, lost reasons and velocity.

    Stage counts, values and the forecast describe today; --since/--until narrow the figures
    about closing (won, lost, cycle), stays in a stage and conversion. --as-of DATE: every
    figure as it stood at the end of that day, from git. Amounts are in base_currency (or
    --currency), converted through rates.csv: open deals at today's rate, closed ones at their
    close date's; a deal with no rate is listed and in no sum. See docs/reports.md and
    docs/forecast.md. --all: every pipeline of the workspace, then their total
    (docs/workspace.md).
    """
    _acyclic(ctx)
    if all_pipelines:
        from pipectl.cli.workspace import report_all

        if html is not None:
            from pipectl.errors import UsageError

            raise UsageError("--html draws one pipeline's dashboard: pass -C PIPELINE, not --all")
        report_all(ctx, figures_of, (since, until, owner, today, as_of_day, currency), as_json)
        return
    here = open_pipeline(ctx)
    if html is None and as_of_day is not None and not (today and weeks):
        # a commit's report is the same every time: kept (pipectl/pastmemo.py), unless
        # --today judges trends of a later day, from commits after it
        commit, now = past_commit(here, as_of_day, today)
        _past_report(here, commit, now, (since, until, owner, currency, weeks or 0), as_json)
        return
    pipeline, now = as_of(here, as_of_day, today)
    if weeks is None and html is not None:
        from pipectl.trends import DEFAULT_WEEKS

        weeks = DEFAULT_WEEKS
    figures = figures_of(pipeline, now, since, until, owner, currency, weeks or 0)
    if html is not None:
        from pipectl.errors import UsageError
        from pipectl.render.html import dashboard

        page = dashboard(figures, _lint_findings(pipeline, now), _this_week(pipeline, now))
        try:
            html.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {html}: {exc.strerror}") from None
        typer.echo(f"wrote {html}")
        return
    if as_json:
        from pipectl import report as report_mod
        from pipectl.jsonout import dumps

        typer.echo(dumps(report_mod.report_json(figures)))
        return
    from pipectl.render.report import report_text

    typer.echo(report_text(figures))


def _past_report(
    here: Pipeline, commit: str, now: dt.date, options: tuple[Any, ...], as_json: bool
) -> None:
    """`report` of `commit`'s pipeline (--as-of), printed as made or as kept: its tree is
    read only to make it."""
    from pipectl import pastmemo

    def make() -> dict[str, Any]:
        from pipectl.asof import pipeline_at

        assert here.git is not None  # past_commit refuses a pipeline outside git
        pipeline = pipeline_at(here.root, here.git, commit)
        said: list[str] = []
        since, until, owner, currency, weeks = options
        figures = figures_of(pipeline, now, since, until, owner, currency, weeks, said.append)
        if as_json:
            from pipectl import report as report_mod
            from pipectl.jsonout import dumps

            return {"out": dumps(report_mod.report_json(figures)), "said": said}
        from pipectl.render.report import report_text

        return {"out": report_text(figures), "said": said}

    what = ("report", as_json, now.toordinal(), options)
    done = pastmemo.past(here, commit, what, make)
    for message in done["said"]:
        warn(message)
    typer.echo(done["out"])


def _later(here: Pipeline, deal: str, day: str | None) -> None:
    """`history DEAL --as-of DAY` of a deal the pipeline holds now but did not then: say so."""
    from pipectl.errors import UsageError

    try:
        found = here.resolve(deal).id
    except UsageError:
        return
    raise UsageError(f"no deal {deal!r} as of {day}: {found} came later (drop --as-of to see it)")


def figures_of(
    pipeline: Pipeline,
    now: dt.date,
    since: str | None,
    until: str | None,
    owner: str | None,
    currency: str | None,
    weeks: int = 0,
    said: Callable[[str], None] = warn,
) -> report_mod.Report:
    """The report of one pipeline as `pipectl report` computes it (`report --all` too);
    `weeks`: with the trends of that many weeks, whose slips and touchpoints git tells;
    `said`: where its warnings go."""
    from concurrent.futures import ThreadPoolExecutor

    from pipectl import history as hist_mod
    from pipectl import report as report_mod

    start, end = window(since, until, now)  # `--since -4w` counts from the report's today
    if _long_first_walk(pipeline):  # the walk's state and the deals not held at once
        hist = hist_mod.read(pipeline.git, pipeline.root, None, pipeline.at)
        loaded = pipeline.load()
    else:  # git walks the log on one core while this process parses the deal files
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(hist_mod.read, pipeline.git, pipeline.root, None, pipeline.at)
            loaded = pipeline.load()
            hist = pending.result()
    for err in loaded.errors:
        said(f"skipped {err}")
    from pipectl.rates import read_rates

    rates = read_rates(pipeline).checked()  # a bad row would convert at the wrong rate
    if currency is not None and rates.rate(currency, now) is None:
        from pipectl.errors import UsageError

        raise UsageError(f"--currency {currency}: {rates.path} has no rate for it on {now}")
    activity = _activity(pipeline, now, weeks) if weeks else None
    if weeks and pipeline.git is None:
        said(
            "not in a git repository: the trends' touchpoints per rep and slipped close dates "
            "are read from git's history, so they show none"
        )
    return report_mod.report(
        loaded.deals, pipeline.config, hist, now, start, end, owner, rates, currency, weeks,
        activity,
    )  # fmt: skip


def _long_first_walk(pipeline: Pipeline) -> bool:
    """Whether this run builds the history index of a long history from nothing. Its deals
    are then read after the build, not while git walks: the build's state (every commit's
    id, the order, each deal's summary) grows with the commits, and held beside 40,000
    deals it was the peak of a million-commit report, while reading them meanwhile saves a
    second or two of a build of minutes. Otherwise the walk is short, or only new
    commits', and the two overlap."""
    from pipectl import histindex

    return pipeline.git is not None and histindex.long_first_walk(pipeline.git, pipeline.root)


def _this_week(pipeline: Pipeline, now: dt.date) -> Any:
    """What `pipectl changes` says of the last seven days (its waterfall over the quarter's
    deals, as it draws it), for the dashboard; None without git or before the first commit."""
    from pipectl import changesread
    from pipectl.cli.changes import StaleRule, window_of
    from pipectl.errors import UsageError

    if pipeline.git is None:
        return None
    try:
        w = window_of(pipeline, now - dt.timedelta(days=6), now, None, None, now)
        return changesread.read(pipeline, w, StaleRule())
    except UsageError:  # the week ends before the first commit
        return None


def _activity(pipeline: Pipeline, now: dt.date, weeks: int) -> Any:
    """The slipped close dates and the logged touchpoints of the trend window, as
    `pipectl changes` reads them from the same commits; none without git."""
    from pipectl import changes, changesread, changewindow
    from pipectl.errors import UsageError
    from pipectl.trends import Activity, window

    if pipeline.git is None:
        return Activity()
    first, last = window(now, weeks)
    try:
        span = changewindow.window(pipeline.git, first, last, at=pipeline.at)
    except UsageError:  # the weeks end before the first commit: git has nothing to tell
        return Activity()
    found = changesread.read(pipeline, span, None)  # no stale rows: the trends read none
    return Activity(
        tuple(c.date.date() for c in found.changes if c.kind == changes.SLIPPED),
        tuple((entry.rep, entry.touchpoint) for entry in found.logged),
    )


def _lint_findings(pipeline: Pipeline, today: dt.date) -> list[dict[str, Any]] | None:
    """The current lint findings, as plain data for the dashboard; None when lint cannot run
    (a bad rule setting): the figures are still worth a page."""
    from dataclasses import asdict

    from pipectl import lint
    from pipectl.errors import PipectlError

    try:
        return [asdict(f) for f in lint.run(pipeline, today).findings]
    except PipectlError as exc:
        warn(f"lint could not run, the dashboard shows no findings: {exc}")
        return None
