"""Mail and calendar commands: ingest (messages and invitations into touchpoints), calendar
(the deals' dates as a feed), digest and draft (messages to send)."""

from __future__ import annotations

from pathlib import Path

import typer

from pipectl.cli.app import app
from pipectl.cli.common import NO_COMMIT_HELP, TodayOpt, open_pipeline, warn


@app.command()
def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ...,
        metavar="PATH...",
        help=".eml files, Maildir folders, mbox files, .ics files, or folders of them.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", "-n", help="Show what would be logged; change nothing."
    ),
    today: str = TodayOpt,
    no_commit: bool = typer.Option(False, "--no-commit", help=NO_COMMIT_HELP),
) -> None:
    """Log emails and meetings from mail and calendar files as touchpoints, in one commit.

    Each message is matched to the open deal whose contact, contacts or domains it names
    (the team roster's emails are the rep's side); it is logged as an `email` touchpoint on
    its date with its subject, sent or received, and `replied` or `no-reply` from its thread
    (an outreach answered later is marked `replied` then). Only headers are read, never
    bodies or attachments. A message already logged (by Message-ID) is skipped, so running
    it again over the same files changes nothing; messages no deal matches are listed.

    Events of .ics files (invitations, exports) are logged as `meeting` touchpoints on the
    deal their organizer and attendees match, once each (by UID and RECURRENCE-ID), when
    they have taken place; cancelled events are not logged.
    """
    from pipectl import dates
    from pipectl.mail import ingest as mail_ingest
    from pipectl.mail.invites import read_calendars
    from pipectl.mail.messages import read_paths
    from pipectl.render import mail as render_mail

    pipeline = open_pipeline(ctx)
    mails, events = read_paths(paths), read_calendars(paths)
    plan = mail_ingest.plan(pipeline, mails, events, dates.today(today))
    for err in plan.errors:
        warn(f"skipped {err}")
    if not dry_run:
        mail_ingest.apply(pipeline, plan, commit=not no_commit)
    typer.echo(render_mail.ingest(plan, dry_run))


def write_out(path: Path, text: str, newline: str | None = None) -> None:
    """Write a file the user asked for (-o, --drafts); a failure is one line, exit 2."""
    from pipectl.errors import UsageError

    try:
        with path.open("w", encoding="utf-8", newline=newline) as f:
            f.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


@app.command()
def calendar(
    ctx: typer.Context,
    output: Path = typer.Option(
        None, "--output", "-o", metavar="FILE.ics", help="Write the feed here (default: stdout)."
    ),
    owner: str = typer.Option(None, "--owner", help="Only this owner's events ('all': everyone)."),
    today: str = TodayOpt,
) -> None:
    """Print the open deals' dates as an iCalendar feed (RFC 5545) for any calendar app.

    One all-day event for each open task with a due date (the next step first), each
    expected close date and each snooze's end. Every event's UID comes from the deal's id
    and what the event is, never from its date or text, so a calendar subscribed to the
    file moves an event when its date changes instead of adding another. The feed of one
    day is the same bytes each time it is made (DTSTAMP is that day, --today).
    """
    import datetime as dt

    from pipectl import dates
    from pipectl.mail import feed
    from pipectl.owners import owner_filter

    pipeline = open_pipeline(ctx)
    config = pipeline.config
    loaded = pipeline.load([s.name for s in config.open_stages])
    for err in loaded.errors:
        warn(f"skipped {err}")
    found, twice = feed.events(loaded.deals, owner_filter(owner, config.team), config.team)
    for deal_id in twice:
        warn(f"left out {deal_id}: in more than one stage (lint PL104)")
    day = dates.today(today)
    stamp = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    text = feed.ical(found, stamp, pipeline.root.name)
    if output is None:
        typer.echo(text, nl=False)
        return
    write_out(output, text, newline="")
    typer.echo(f"wrote {output} ({len(found)} events)")
