"""Mail and calendar commands: ingest (messages and invitations into touchpoints)."""

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
