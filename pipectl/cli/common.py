"""Helpers shared by the command modules: open the pipeline, report outcomes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pipectl.textsafe import visible

if TYPE_CHECKING:
    from pipectl.ops import Outcome
    from pipectl.store import Pipeline

NO_COMMIT_HELP = "Change the files but make no commit."

# one --today for every command that judges dates, so they all read "now" the same way
TodayOpt = typer.Option(
    None,
    "--today",
    metavar="DATE",
    help="Pin today's date (YYYY-MM-DD, or relative to the real date: yesterday, -1w, …); "
    "default $PIPECTL_TODAY or today.",
)


def start_dir(ctx: typer.Context) -> Path:
    obj = ctx.find_root().obj or {}
    directory = obj.get("directory")
    return Path(directory) if directory else Path.cwd()


def open_pipeline(ctx: typer.Context) -> Pipeline:
    """The pipeline at or above the start folder; from a workspace's root (pipelines below,
    none above) the error says how to pick one or read them all."""
    from pipectl.errors import UsageError
    from pipectl.store import Pipeline

    start = start_dir(ctx)
    try:
        return Pipeline.open(start)
    except UsageError:
        if not start.is_dir():
            raise
        from pipectl import workspace

        found = workspace.find(start)
        if found is None or not found.members:
            raise
        first = found.names[0]
        raise UsageError(
            f"{start.resolve()} is a workspace of pipelines ({found.listing}), not one: pass "
            f"-C PIPELINE for one (`pipectl -C {first} list`), or --all to read them all "
            f"(list, board --workspace, agenda, search, lint, report)"
        ) from None


# `--all` of the reading commands: every pipeline of the workspace (pipectl/workspace.py)
AllOpt = typer.Option(
    False,
    "--all",
    "--workspace",
    help="Every pipeline of the workspace (those pipectl.yaml lists, else every pipeline.yaml "
    "below the repository's root), each deal shown with its pipeline (docs/workspace.md).",
)


AsOfOpt = typer.Option(
    None,
    "--as-of",
    metavar="DATE",
    help="The pipeline as it stood at the end of that day, rebuilt from git (nothing is "
    "checked out or written); today is that day unless --today says otherwise.",
)


def as_of(pipeline: Pipeline, day: str | None, today: str | None) -> tuple[Pipeline, dt.date]:
    """The pipeline and "today" a reading command works with: with --as-of DAY, the pipeline
    of DAY's last commit (pipectl.asof) and DAY (or --today, when given too: the past
    pipeline judged on another day); else the pipeline as it is, and --today."""
    from pipectl import dates

    if day is None:
        return pipeline, dates.today(today)
    from pipectl import asof

    commit, now = past_commit(pipeline, day, today)
    assert pipeline.git is not None  # past_commit refuses a pipeline outside git
    return asof.pipeline_at(pipeline.root, pipeline.git, commit), now


def past_commit(pipeline: Pipeline, day: str, today: str | None) -> tuple[str, dt.date]:
    """`as_of` without reading the commit's tree: the commit of `day` and "today"."""
    from pipectl import asof, dates

    when = dates.parse_date(day, "--as-of")
    return asof.commit_as_of(pipeline, when), dates.today(today) if today else when


def warn(message: str) -> None:
    typer.echo(f"pipectl: warning: {visible(message)}", err=True)


def report(pipeline: Pipeline, outcome: Outcome, no_commit: bool) -> None:
    """Print what a changing command did; warn when there is no audit trail."""
    from pipectl.store import NO_GIT_WARNING

    typer.echo(visible(outcome.message))
    if pipeline.git is None and not no_commit:
        warn(NO_GIT_WARNING)


# the help of every option that takes a date (docs/dates.md has the table of forms)
DATE_FORMS = "YYYY-MM-DD or relative: today, tomorrow, fri, +3d, -2w, +1m, eow, eom, next week"


def date_option(value: str | None, what: str, now: dt.date | None = None) -> dt.date | None:
    """A date option, ISO or relative to `now` (default: $PIPECTL_TODAY, else the date)."""
    from pipectl.dates import parse_date

    return None if value is None else parse_date(value, what, now)


def window(
    since: str | None, until: str | None, now: dt.date | None = None
) -> tuple[dt.date | None, dt.date | None]:
    """A --since/--until pair (relative dates count from `now`); a window that ends before
    it starts is a usage error."""
    from pipectl.errors import UsageError

    start, end = date_option(since, "--since", now), date_option(until, "--until", now)
    if start and end and end < start:
        raise UsageError(f"--until {end} is before --since {start}")
    return start, end


def when(value: str | None) -> dt.date:
    """`--date`: the day something happened, today by default, never the future."""
    from pipectl.dates import recorded

    return recorded(value)


# Lists piped into a file or another program are not clipped to any width.
UNCLIPPED = 1 << 20


def screen_width(explicit: int | None = None, piped: int = UNCLIPPED) -> int:
    """--width, else $COLUMNS, else the terminal's width; `piped` when there is no terminal
    (a pipe gets every value in full unless a width is asked for)."""
    import os
    import shutil
    import sys

    if explicit is not None:
        return max(20, explicit)
    if not os.environ.get("COLUMNS", "").strip().isdigit() and not sys.stdout.isatty():
        return piped
    return shutil.get_terminal_size((piped, 24)).columns


def use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    import os
    import sys

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


# `--format` of the lists (list, agenda): a table for people, the others for programs
FORMATS = ("table", "tsv", "csv", "json")
FormatOpt = typer.Option(
    None,
    "--format",
    metavar="FORMAT",
    help="table (default: fits a terminal, every value in full when piped), tsv, csv or json.",
)


def list_format(chosen: str | None, as_json: bool, allowed: tuple[str, ...] = FORMATS) -> str:
    """--format (one of `allowed`, the first by default), with --json kept as the short way to
    say `--format json`."""
    from pipectl.errors import UsageError

    if chosen is None:
        return "json" if as_json else allowed[0]
    name = chosen.strip().lower()
    if name not in allowed:
        raise UsageError(f"--format: {chosen!r} is not one of {', '.join(allowed)}")
    if as_json and name != "json":
        raise UsageError(f"--json and --format {name} ask for two formats: pick one")
    return name
