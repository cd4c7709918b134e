"""The everyday loop: init, add, move, won, lost, log, next, set, show, edit, list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    import datetime as dt

    from pipectl.configspec import Member
    from pipectl.deal import Deal
    from pipectl.store import Pipeline

from pipectl.cli.app import app
from pipectl.cli.common import (
    DATE_FORMS,
    NO_COMMIT_HELP,
    AllOpt,
    AsOfOpt,
    FormatOpt,
    TodayOpt,
    as_of,
    date_option,
    list_format,
    open_pipeline,
    report,
    start_dir,
    warn,
    when,
)

NoCommit = typer.Option(False, "--no-commit", help=NO_COMMIT_HELP)
DateOpt = typer.Option(
    None,
    "--date",
    metavar="DATE",
    help=f"Date it happened ({DATE_FORMS}); default today, never the future.",
)
ForceOpt = typer.Option(
    False, "--force", help="Enter the stage without what it requires (lint keeps flagging it)."
)
ReopenOpt = typer.Option(False, "--reopen", help="Move a won or lost deal (recorded in git).")


@app.command()
def init(
    ctx: typer.Context,
    directory: Path = typer.Argument(None, help="Folder for the pipeline (default: here)."),
    no_commit: bool = NoCommit,
) -> None:
    """Create pipeline.yaml and the stage folders (and a git repo if outside one)."""
    from pipectl import ops

    folder = directory if directory is not None else start_dir(ctx)
    outcome, made_repo = ops.init(folder, commit=not no_commit)
    if made_repo:
        typer.echo(f"initialised an empty git repository in {folder}")
    typer.echo(outcome.message)


@app.command()
def add(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="The deal's title, e.g. 'Acme Corp — 50 seats'."),
    company: str = typer.Option(None, help="Customer company."),
    contact: str = typer.Option(None, help="Main contact, e.g. 'Jane Doe <jane@acme.example>'."),
    owner: str = typer.Option(
        None,
        help="Owner: a team handle (default: $PIPECTL_OWNER, else your roster handle, else "
        "git's author name).",
    ),
    value: float = typer.Option(None, help="Expected deal value (a number)."),
    stage: str = typer.Option(None, help="Stage to start in (default: the first)."),
    next_step: str = typer.Option(None, "--next-step", help="The next action to take."),
    due: str = typer.Option(
        None, metavar="DATE", help=f"Due date of the next step ({DATE_FORMS})."
    ),
    expected_close: str = typer.Option(
        None, "--expected-close", metavar="DATE", help="Expected close date (as --due)."
    ),
    tag: list[str] = typer.Option(None, "--tag", help="A tag (repeatable)."),
    assignments: list[str] = typer.Option(
        None, "--set", help="Any field as KEY=VALUE, as `pipectl set` takes it (repeatable)."
    ),
    deal_id: str = typer.Option(None, "--id", help="Id (file name) instead of the title's slug."),
    date: str = DateOpt,
    edit: bool = typer.Option(False, "--edit", help="Open the new deal in your editor first."),
    force: bool = ForceOpt,
    no_commit: bool = NoCommit,
) -> None:
    """Add a deal to the first stage (or --stage); its id is slugged from the title.

    A later stage must get what it requires (its required fields and, from the
    qualification gate on, every criterion: `--set qualification.budget=...`) or `--force`.
    """
    import os

    from pipectl import fieldinput, ops

    pipeline = open_pipeline(ctx)
    if owner is None:
        from pipectl.owners import default_owner

        git = pipeline.git
        team = pipeline.config.team
        owner = default_owner(team, os.environ.get("PIPECTL_OWNER"), git.identity if git else None)
        if team and owner is not None and not os.environ.get("PIPECTL_OWNER"):
            _known_default(team, owner)
    with ops.about_new_deal(pipeline, title, deal_id, stage):  # a bad date names the file
        fields = {
            "company": company,
            "contact": contact,
            "owner": owner,
            "value": _whole(value),
            "expected_close": date_option(expected_close, "--expected-close"),
            "next_step": next_step,
            "next_step_due": date_option(due, "--due"),
            "tags": list(tag) if tag else None,
            **fieldinput.assigned(pipeline, assignments or ()),
        }
        day = when(date)
    with ExitStack() as stack:

        def review(text: str) -> str:
            validate = lambda b: ops.validate_text(pipeline, None, b)  # noqa: E731
            return stack.enter_context(editing(text.encode(), "new", validate)).decode()

        outcome = ops.add(
            pipeline,
            title,
            deal_id=deal_id,
            stage=stage,
            fields=fields,
            when=day,
            review=review if edit else None,
            force=force,
            commit=not no_commit,
        )
    report(pipeline, outcome, no_commit)


def _known_default(team: tuple[Member, ...], owner: str) -> None:
    """A default owner from the git identity that the roster does not know is refused with
    the ways out, not stored as a name nobody's `--owner` matches."""
    from pipectl.errors import UsageError
    from pipectl.owners import member

    if member(team, owner) is None:
        raise UsageError(
            f"your git identity {owner!r} is no one in pipeline.yaml's team: pass --owner "
            "HANDLE, or add the name or email to your entry's aliases or emails"
        )


def _whole(value: float | None) -> float | int | None:
    """12000.0 typed as --value 12000 is written 12000; NaN and infinities stay as they are
    for the schema to refuse with the file's line."""
    import math

    if value is not None and math.isfinite(value) and value == int(value):
        return int(value)
    return value


@app.command()
def move(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    stage: str = typer.Argument(
        ..., help="Target stage, or PIPELINE/STAGE: a stage of another pipeline of the workspace."
    ),
    reason: str = typer.Option(None, help="Lost reason, when the target is the lost stage."),
    date: str = DateOpt,
    force: bool = ForceOpt,
    reopen: bool = ReopenOpt,
    no_commit: bool = NoCommit,
) -> None:
    """Move a deal to another stage (sets stage_entered); one commit.

    Entering a stage needs its required fields and, from the qualification gate on, every
    criterion met; the refusal lists what is missing. A won or lost deal moves only with
    --reopen. PIPELINE/STAGE moves it into another pipeline of the workspace: the file is
    renamed in one commit (git and `pipectl history` follow it), the target stage's gate
    applies, and its id must be free there (docs/workspace.md).
    """
    from pipectl import ops
    from pipectl.cli.workspace import move_across

    how = (reason, reopen, force, not no_commit)
    crossed = move_across(ctx, deal, stage, lambda p: _when_of(p, deal, date), how)
    if crossed is not None:
        report(crossed[0], crossed[1], no_commit)
        return
    pipeline = open_pipeline(ctx)
    outcome = ops.move(
        pipeline,
        deal,
        stage,
        when=_when_of(pipeline, deal, date),
        reason=reason,
        reopen=reopen,
        force=force,
        commit=not no_commit,
    )
    report(pipeline, outcome, no_commit)


@app.command()
def won(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    date: str = DateOpt,
    reopen: bool = typer.Option(False, "--reopen", help="Mark a lost deal won after all."),
    no_commit: bool = NoCommit,
) -> None:
    """Close a deal as won (moves it to the won stage, sets closed, clears the next step)."""
    from pipectl import ops

    pipeline = open_pipeline(ctx)
    stage = ops.closing_stage(pipeline, "won")
    outcome = ops.move(
        pipeline,
        deal,
        stage,
        when=_when_of(pipeline, deal, date),
        reopen=reopen,
        commit=not no_commit,
    )
    report(pipeline, outcome, no_commit)


@app.command()
def lost(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    reason: str = typer.Option(None, "--reason", "-r", help="Why it was lost (see pipeline.yaml)."),
    date: str = DateOpt,
    reopen: bool = typer.Option(False, "--reopen", help="Mark a won deal lost after all."),
    no_commit: bool = NoCommit,
) -> None:
    """Close a deal as lost with a reason (moves it to the lost stage, sets closed, clears
    the next step)."""
    from pipectl import ops

    pipeline = open_pipeline(ctx)
    stage = ops.closing_stage(pipeline, "lost")
    outcome = ops.move(
        pipeline,
        deal,
        stage,
        when=_when_of(pipeline, deal, date),
        reason=reason,
        reopen=reopen,
        commit=not no_commit,
    )
    report(pipeline, outcome, no_commit)


@app.command()
def log(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    kind: str = typer.Argument(..., help="call, email, meeting, message, note, …"),
    summary: list[str] = typer.Argument(
        ..., help="One line on what happened; the words need no quotes."
    ),
    outcome: str = typer.Option(None, "--outcome", "-o", help="replied, no-reply, …"),
    date: str = DateOpt,
    no_commit: bool = NoCommit,
) -> None:
    """Log a touchpoint (call, email, meeting…) on a deal; one commit."""
    from pipectl import ops

    pipeline = open_pipeline(ctx)
    result = ops.log(
        pipeline,
        deal,
        kind,
        _words(summary),
        when=_when_of(pipeline, deal, date),
        outcome=outcome,
        commit=not no_commit,
    )
    report(pipeline, result, no_commit)


@app.command("next")
def next_(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    step: list[str] = typer.Argument(
        ..., help="The next action, e.g. Send pricing proposal (the words need no quotes)."
    ),
    due: str = typer.Option(None, "--due", metavar="DATE", help=f"Due date ({DATE_FORMS})."),
    no_commit: bool = NoCommit,
) -> None:
    """Set a deal's next step and its due date."""
    from pipectl import ops

    pipeline = open_pipeline(ctx)
    with ops.about_deal(pipeline, deal):  # a bad date names the deal's file
        due_date = date_option(due, "--due")
    outcome = ops.next_step(pipeline, deal, _words(step), due_date, not no_commit)
    report(pipeline, outcome, no_commit)


def _when_of(pipeline: Pipeline, deal: str, date: str | None) -> dt.date:
    """`--date` read for a deal: a refusal names the deal's file."""
    from pipectl import ops

    with ops.about_deal(pipeline, deal):
        return when(date)


def _words(words: list[str]) -> str:
    """The words after the fixed arguments, as one text: `log acme call went well` and
    `log acme call "went well"` say the same; one quoted argument keeps its spacing."""
    return words[0] if len(words) == 1 else " ".join(words)


@app.command("set")
def set_(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    assignments: list[str] = typer.Argument(
        None, help="key=value pairs, e.g. value=15000 qualification.budget='15k approved'."
    ),
    unset: list[str] = typer.Option(None, "--unset", help="Remove a field (repeatable)."),
    no_commit: bool = NoCommit,
) -> None:
    """Set frontmatter fields, qualification criteria included; only those lines change."""
    from pipectl import ops

    pipeline = open_pipeline(ctx)
    outcome = ops.set_values(pipeline, deal, assignments or [], unset or [], not no_commit)
    report(pipeline, outcome, no_commit)


@app.command()
def show(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    raw: bool = typer.Option(False, "--raw", help="Print the file exactly as it is."),
    as_json: bool = typer.Option(False, "--json", help="Print the deal as JSON."),
) -> None:
    """Print a deal: its fields, qualification, touchpoints and notes."""
    from pipectl.render import text as render

    pipeline = open_pipeline(ctx)
    ref = pipeline.resolve(deal)
    if raw:
        typer.echo(pipeline.read_bytes(ref).decode("utf-8", "replace"), nl=False)
        return
    text = pipeline.read_text(ref)
    d = pipeline.read_deal(ref)
    if as_json:
        from pipectl.jsonout import deal_json, dumps

        typer.echo(dumps(deal_json(d, pipeline)))
        return
    typer.echo(render.deal_detail(d, text.body, pipeline.config.currency))


@app.command("list")
def list_(
    ctx: typer.Context,
    stage: list[str] = typer.Option(None, "--stage", "-s", help="Only this stage (repeatable)."),
    owner: str = typer.Option(None, "--owner", help="Only deals of this owner."),
    tag: str = typer.Option(None, "--tag", help="Only deals with this tag."),
    open_only: bool = typer.Option(False, "--open", help="Only open deals."),
    closed_only: bool = typer.Option(False, "--closed", help="Only won or lost deals."),
    overdue: bool = typer.Option(False, "--overdue", help="Only deals whose next step is late."),
    today: str = TodayOpt,
    as_of_day: str = AsOfOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (as --format json)."),
    fmt: str = FormatOpt,
    width: int = typer.Option(None, "--width", help="Fit the table to this many columns."),
    all_pipelines: bool = AllOpt,
) -> None:
    """List deals, one a line, filtered by stage, owner, tag or flags.

    On a terminal the table fits its width: titles are shortened first, then next steps and
    companies, then those columns left out; ids are never cut. Piped, every value is in
    full (`pipectl list | awk '{print $1}'` gives ids); --format tsv, csv or json for
    programs. --as-of DATE lists the deals as they stood at the end of that day, from git.
    --all lists every pipeline of the workspace, a PIPELINE column first (`pipeline` in JSON).
    """
    from pipectl import lint
    from pipectl.owners import owner_filter, owner_matches

    shape = list_format(fmt, as_json)

    def pick(pipeline: Pipeline, now: dt.date) -> list[Deal] | None:
        cfg = pipeline.config
        if all_pipelines:  # each pipeline its own stages: --stage picks those it has
            asked = [s for s in stage or [] if cfg.stage(s) is not None]
            if stage and not asked:
                return None
        else:
            asked = [pipeline.require_stage(s) for s in stage or []]
        stages = asked or list(cfg.stage_names)
        if open_only:
            stages = [s for s in stages if cfg.stage(s) and cfg.stage(s).is_open]  # type: ignore[union-attr]
        if closed_only:
            stages = [s for s in stages if cfg.stage(s) and not cfg.stage(s).is_open]  # type: ignore[union-attr]
        loaded = pipeline.load(stages)
        for err in loaded.errors:
            warn(f"skipped {err}")
        return [
            d
            for d in loaded.deals
            if owner_matches(d, owner_filter(owner, cfg.team), cfg.team)
            and (tag is None or tag in d.tags)
            and (not overdue or lint.is_overdue(cfg, d, now))
        ]

    from pipectl.cli.workspace import list_all, show_deals

    if all_pipelines:
        list_all(ctx, pick, shape, as_of_day, today, width, stage or [])
        return
    pipeline, now = as_of(open_pipeline(ctx), as_of_day, today)
    show_deals([(None, pipeline, d) for d in pick(pipeline, now) or []], shape, width)


@app.command()
def edit(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    no_commit: bool = NoCommit,
) -> None:
    """Open a deal in $VISUAL/$EDITOR; validate and commit it if it changed."""
    from pipectl import ops

    pipeline = open_pipeline(ctx)
    ref = pipeline.resolve(deal)
    before = pipeline.read_bytes(ref)
    with editing(before, ref.id, lambda b: ops.validate_text(pipeline, ref, b)) as after:
        outcome = ops.save_edit(pipeline, ref, before, after, commit=not no_commit)
    report(pipeline, outcome, no_commit)


@contextmanager
def editing(initial: bytes, name: str, validate: Callable[[bytes], None]) -> Iterator[bytes]:
    """Edit a copy in the user's editor until it validates; yield the result.

    A broken edit never reaches the deal: it is offered for another try, and kept in the
    temp file (whose path is shown) if the user gives up or the save fails.
    """
    import os
    import shlex
    import subprocess
    import tempfile

    from pipectl.errors import DealError, UsageError

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, tmp_name = tempfile.mkstemp(prefix=f"pipectl-{name}-", suffix=".md")
    tmp = Path(tmp_name)
    with os.fdopen(fd, "wb") as f:
        f.write(initial)
    while True:
        try:
            code = subprocess.call([*shlex.split(editor), str(tmp)])
        except ValueError as exc:  # shlex: an unbalanced quote in $EDITOR
            tmp.unlink(missing_ok=True)
            raise UsageError(f"cannot read $VISUAL/$EDITOR {editor!r}: {exc}") from None
        except FileNotFoundError:
            tmp.unlink(missing_ok=True)
            raise UsageError(f"editor {editor!r} not found; set $VISUAL or $EDITOR") from None
        if code != 0:
            raise UsageError(f"editor exited with status {code}; your text is kept in {tmp}")
        after = tmp.read_bytes()
        try:
            validate(after)
        except DealError as exc:
            warn(str(exc))
            if os.isatty(0) and typer.confirm("Edit again?", default=True):
                continue
            raise UsageError(f"not saved; your text is kept in {tmp}") from None
        break
    try:
        yield after
    except BaseException:
        warn(f"your text is kept in {tmp}")
        raise
    tmp.unlink(missing_ok=True)
