"""`pipectl changes`: the weekly review from git (what moved, what slipped, who did what, and
the waterfall), as text, JSON or Markdown."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import typer

from pipectl.cli.app import app
from pipectl.cli.common import TodayOpt, list_format, open_pipeline, warn

if TYPE_CHECKING:
    from pipectl.changes import Changes
    from pipectl.changewindow import Window
    from pipectl.config import Config
    from pipectl.deal import Deal
    from pipectl.store import Pipeline

FORMATS = ("text", "json", "markdown")
# `--since 7d`: the last seven days, today included (`-7d`, as everywhere, is a date); so
# `1m`, `1y`: the last month, year
_LAST = re.compile(r"\s*([0-9]{1,4})\s*([dwmy])\s*", re.IGNORECASE)


@app.command()
def changes(
    ctx: typer.Context,
    rev_range: str = typer.Argument(
        None,
        metavar="[REV_RANGE]",
        help="Compare two revisions instead of two days: A..B, A...B (from their merge base, "
        "as for a pull request: main...HEAD), or A (A..HEAD).",
    ),
    since: str = typer.Option(
        None,
        "--since",
        metavar="DATE",
        help="The first day of the window: a date, 7d / 2w / 1m for the last 7 days / 2 "
        "weeks / month up to --until, that day included (default 7d), or a weekday (mon: "
        "the last Monday, --until's day if it is one).",
    ),
    until: str = typer.Option(
        None, "--until", metavar="DATE", help="The last day of the window (default today)."
    ),
    close_by: str = typer.Option(
        None,
        "--close-by",
        metavar="DATE",
        help="The waterfall's period: open deals due by this day (and undated ones); a deal "
        "pushed past it slipped out. Default: the end of the quarter of the window's last "
        "day; `all` for every open deal.",
    ),
    today: str = TodayOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (as --format json)."),
    fmt: str = typer.Option(
        None, "--format", metavar="FORMAT", help="text (default), json or markdown."
    ),
) -> None:
    """What happened to the pipeline in a window, from git; and its waterfall.

    Deals added, advanced, moved back, won, lost and reopened; values up and down and close
    dates pushed out or pulled in (old → new); owner changes; deals that went stale; the
    touchpoints each rep logged. Commits made by hand count as pipectl's own. The waterfall
    goes from the open pipeline at the start to the one at the end: + new, pulled in,
    reopened, increased; - decreased, won, lost, slipped out, removed. See docs/review.md.
    """
    from pipectl import dates, pastmemo
    from pipectl.errors import UsageError

    chosen = list_format(fmt, as_json, FORMATS)
    pipeline = open_pipeline(ctx)
    if pipeline.git is None:
        raise UsageError("not inside a git repository: there is no history to compare")
    now = dates.today(today)
    if rev_range is not None and (since or until):
        raise UsageError("give either REV_RANGE or --since/--until, not both")
    end = dates.parse_date(until, "--until", now) if until else now
    if end > now:  # nothing has happened there yet: a window ends today at the latest
        raise UsageError(f"--until {end} is in the future (today is {now})")
    start = _since(since or "7d", end, now)
    if start > end and until is None:
        raise UsageError(
            f"--since {start} is after today ({now}): a window ends today at the latest"
        )
    if start > end:
        raise UsageError(f"--until {end} is before --since {start}")
    w = window_of(pipeline, start, end, rev_range, close_by, now)

    def make() -> dict[str, Any]:
        from pipectl import changesread

        found = changesread.read(pipeline, w, StaleRule())
        return {"out": _shown(found, chosen), "said": [f"skipped {why}" for why in found.skipped]}

    # two commits' window is the same every time: its answer is kept (pipectl/pastmemo.py)
    done = pastmemo.past(pipeline, w.tip, ("changes", chosen, *w.key()), make)
    for message in done["said"]:
        warn(message)
    typer.echo(done["out"], nl=False)


def _shown(found: Changes, chosen: str) -> str:
    """The changes as printed in the format `chosen`, its last line ended."""
    from pipectl.render import changes as render

    if chosen == "json":
        from pipectl.jsonout import dumps

        return dumps(render.changes_json(found)) + "\n"
    if chosen == "markdown":
        return render.changes_markdown(found)
    return render.changes_text(found) + "\n"


def window_of(
    pipeline: Pipeline,
    start: dt.date | None,
    end: dt.date,
    rev_range: str | None,
    close_by: str | None,
    now: dt.date,
) -> Window:
    """The window `pipectl changes` reads: its two ends (the last commit before `start`
    and the last of `end`, or a revision range's) and the waterfall's period (`--close-by`,
    by default the quarter's end)."""
    from pipectl import changewindow

    assert pipeline.git is not None  # the callers have said why not, without git
    w = changewindow.window(pipeline.git, start, end, rev_range, at=pipeline.at)
    period = _close_by(close_by, w.until, now)
    return changewindow.Window(w.since, w.until, w.base, w.tip, w.rev_range, period)


def _since(text: str, end: dt.date, now: dt.date) -> dt.date:
    """`7d`, `2w`, `1m`: that many days (weeks, months), the window's last day (`end`) the
    last of them, so weekly runs neither overlap nor miss a day; a weekday, the last one up
    to `end` (everywhere else `mon` is the next Monday: a window cannot start after it
    ends); anything else as any date (relative to `now`)."""
    from pipectl import dates
    from pipectl.errors import UsageError

    weekday = dates.weekday(text)
    if weekday is not None:
        return end - dt.timedelta(days=(end.weekday() - weekday) % 7)
    last = _LAST.fullmatch(text)
    if last is None:
        return dates.parse_date(text, "--since", now)
    count, unit = max(int(last.group(1)), 1), last.group(2).lower()
    if unit in "my":
        try:
            return dates.parse_date(f"-{count}{unit}", "--since", end) + dt.timedelta(days=1)
        except UsageError:  # before year 1: said as typed, not as the offset asked for
            raise UsageError(f"--since {text.strip()}: that goes back before year 1") from None
    return end - dt.timedelta(days=count * (7 if unit == "w" else 1) - 1)


def _close_by(text: str | None, last: dt.date, now: dt.date) -> dt.date | None:
    """--close-by: a date, `all` (None: no period), by default the end of `last`'s quarter."""
    from pipectl import dates

    if text is not None and text.strip().lower() == "all":
        return None
    if text is not None:
        return dates.parse_date(text, "--close-by", now)
    month = (last.month - 1) // 3 * 3 + 3
    first_after = dt.date(last.year + month // 12, month % 12 + 1, 1)
    return first_after - dt.timedelta(days=1)


class StaleRule:
    """The day lint's PL301 counts a deal's idleness from, and the first day it calls it
    stale (idle longer than its stage's limit); None when the rule is off there or the deal
    has no date to count from. The limit is
    looked up once per stage (a pipeline has thousands of deals and a handful of stages).

    Public: `pipectl changes` and the mail digest (cli/mail.py) both pass one to
    `changesread.read`, so a digest counts a deal stale on the same day `changes` does."""

    def __init__(self) -> None:
        self.limits: dict[tuple[int, str], int] = {}

    def __call__(self, deal: Deal, config: Config) -> tuple[dt.date, dt.date] | None:
        from pipectl import lint

        key = (id(config), deal.stage)
        limit = self.limits.get(key)
        if limit is None:
            off = lint.severity(config, "PL301", deal.stage) == "off"
            found = lint.setting(config, "PL301", "days", stage=deal.stage)
            limit = self.limits[key] = 0 if off or not isinstance(found, int) else found
        since = lint.last_activity(deal)
        if since is None or limit <= 0:
            return None
        return since, since + dt.timedelta(days=limit + 1)
