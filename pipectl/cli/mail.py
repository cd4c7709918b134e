"""Mail and calendar commands: ingest (messages and invitations into touchpoints), calendar
(the deals' dates as a feed), digest and draft (messages to send)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pipectl.cli.app import app
from pipectl.cli.common import NO_COMMIT_HELP, TodayOpt, open_pipeline, warn
from pipectl.errors import UsageError

if TYPE_CHECKING:
    from email.headerregistry import Address

    from pipectl.deal import Deal
    from pipectl.roster import Member
    from pipectl.store import Pipeline


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


DIGEST_FORMATS = ("text", "markdown", "email")


@app.command()
def digest(
    ctx: typer.Context,
    owner: str = typer.Option(None, "--owner", help="This owner's agenda ('all': everyone)."),
    fmt: str = typer.Option(
        "text", "--format", metavar="FORMAT", help="text (default), markdown or email."
    ),
    today: str = TodayOpt,
) -> None:
    """Print the day's plan and what changed since the last working day, for a cron job.

    The agenda (as `pipectl agenda` shows it) then the changes from the last working day
    (Friday on a Monday) to today (as `pipectl changes` shows them). --format email prints
    an RFC 5322 message with a text and an HTML part, addressed to the owner's emails in
    pipeline.yaml's team (everyone's without --owner), for `sendmail -t` or any MTA.
    """
    import datetime as dt

    from pipectl import changesread, changewindow, dates
    from pipectl.cli.changes import StaleRule
    from pipectl.daily import agenda as daily_agenda
    from pipectl.owners import member, owner_filter
    from pipectl.render import mail as render_mail

    if fmt not in DIGEST_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(DIGEST_FORMATS)}, not {fmt!r}")
    pipeline = open_pipeline(ctx)
    config = pipeline.config
    now = dates.today(today)
    who = owner_filter(owner, config.team)
    to = _recipients(config.team, who) if fmt == "email" else []
    loaded = pipeline.load([s.name for s in config.open_stages])
    for err in loaded.errors:
        warn(f"skipped {err}")
    plan = daily_agenda.agenda(loaded.deals, config, now, who)
    changed = None
    if pipeline.git is not None and pipeline.git.head_commit() is not None:
        since = now - dt.timedelta(days={0: 3, 6: 2}.get(now.weekday(), 1))
        w = changewindow.window(pipeline.git, since, now)
        changed = changesread.read(pipeline, w, StaleRule())
        for why in changed.skipped:
            warn(f"skipped {why}")
    if fmt == "markdown":
        typer.echo(render_mail.digest_markdown(plan, changed), nl=False)
        return
    text = render_mail.digest_text(plan, changed, 100)
    if fmt == "text":
        typer.echo(text, nl=False)
        return
    from pipectl.mail import compose

    git = pipeline.git
    me = git.identity() if git is not None else None
    sender = member(config.team, me[1]) if me and me[1] else None
    sender_address = compose.member_address(sender) if sender else None
    if sender_address is None and me and me[1]:
        sender_address = compose.address(me[0] or "", me[1])
    msg = compose.message(
        to,
        render_mail.digest_subject(plan, changed),
        text,
        render_mail.digest_html(plan, changed),
        sender=sender_address,
    )
    typer.echo(msg.as_string(), nl=False)


def _recipients(team: Sequence[Member], who: str | None) -> list[Address]:
    """The digest's To: the owner's first email in the roster, or every active member's."""
    from pipectl.mail import compose
    from pipectl.owners import TEAM, member

    chosen = [m for m in team if m.active] if who is None else [member(team, who)]
    if who is not None and chosen[0] is None:
        raise UsageError(f"--format email: {who!r} is no one in {TEAM}: no address to send to")
    found = [a for m in chosen if m is not None for a in [compose.member_address(m)] if a]
    if not found:
        whose = "anyone" if who is None else who
        raise UsageError(f"--format email: {TEAM} lists no email for {whose}")
    return found


@app.command()
def draft(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="The deal (id or unique prefix)."),
    template: str = typer.Argument(..., help="A template of the pipeline: templates/NAME.md."),
    output: Path = typer.Option(
        None, "--output", "-o", metavar="FILE.eml", help="Write the draft here (default: stdout)."
    ),
) -> None:
    """Write a message draft (.eml) from a template, addressed to the deal's contact.

    The template's first line is `Subject: …`, then a blank line and the body; `{title}`,
    `{company}` and any other field of the deal, `{contact.name}`, `{contact.first_name}`,
    `{rep.name}` and `{rep.first_name}` are filled in (docs/mail.md). A placeholder the deal
    has no value for is an error naming it. A mail client opens the file as a draft to send.
    """
    from pipectl.mail import drafts

    pipeline = open_pipeline(ctx)
    chosen = drafts.load(pipeline, template)
    ref = pipeline.resolve(deal)
    found = drafts.draft(
        chosen, pipeline.read_deal(ref), pipeline.config.team, str(pipeline.display(ref.path))
    )
    if output is None:
        typer.echo(found.as_string(), nl=False)
        return
    write_out(output, found.as_string())
    typer.echo(f"wrote {output}")


def sweep_drafts(
    pipeline: Pipeline, folder: Path, ids: Sequence[str], deals: Sequence[Deal], dry_run: bool
) -> Callable[[Sequence[str]], list[str]]:
    """For `sweep --last-chance --drafts DIR`: refuse before the sweep what a draft of
    templates/last-chance.md would refuse for the deals it is about to send to (`ids` of
    `deals`); then the function that writes each one's draft after it (and says what it
    wrote)."""
    from pipectl.mail import drafts

    template = drafts.load(pipeline, "last-chance")
    chosen = [d for d in deals if d.id in set(ids)]
    # the sweep sets the next step and its due date (the deadline) before the drafts
    drafts.check(template, chosen, pipeline.config.team, extra=("next_step", "next_step_due"))

    def write(sent: Sequence[str]) -> list[str]:
        said = []
        if not dry_run and sent:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot make {folder}: {exc.strerror}") from None
        for deal_id in sent:
            path = drafts.path_in(folder, deal_id, template)
            if dry_run:
                said.append(f"would write {path}")
                continue
            ref = pipeline.resolve(deal_id)
            where = str(pipeline.display(ref.path))
            found = drafts.draft(template, pipeline.read_deal(ref), pipeline.config.team, where)
            write_out(path, found.as_string())
            said.append(f"wrote {path}")
        return said

    return write
