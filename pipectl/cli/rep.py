"""A rep's housekeeping: search, rename, rm, undo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from pipectl.cli.app import app
from pipectl.cli.common import NO_COMMIT_HELP, AllOpt, open_pipeline, report, warn

if TYPE_CHECKING:
    from pipectl.deal import Deal
    from pipectl.store import Pipeline


@app.command()
def search(
    ctx: typer.Context,
    words: list[str] = typer.Argument(..., help="The text to find (the words need no quotes)."),
    field: str = typer.Option(
        None, "--field", help="Only this field (dotted: qualification.budget) or `notes`."
    ),
    stage: list[str] = typer.Option(None, "--stage", "-s", help="Only this stage (repeatable)."),
    owner: str = typer.Option(None, "--owner", help="Only deals of this owner."),
    open_only: bool = typer.Option(False, "--open", help="Only open deals."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    all_pipelines: bool = AllOpt,
) -> None:
    """Find deals by text in their fields and notes, ignoring case and accents.

    Ranked: a match in the id or title first, then in another field, then in the notes;
    more matches rank higher. Each deal is shown with its matching lines. --all searches
    every pipeline of the workspace, ranked together, each deal after its pipeline's name.
    """
    from pipectl import search as kernel
    from pipectl.owners import owner_filter, owner_matches
    from pipectl.textsafe import visible

    if all_pipelines:
        from pipectl.cli.workspace import pipelines

        pairs: list[tuple[str | None, Pipeline]] = list(pipelines(ctx))
    else:
        pairs = [(None, open_pipeline(ctx))]
    query = words[0] if len(words) == 1 else " ".join(words)
    found: list[tuple[str | None, Pipeline, kernel.Found]] = []
    for name, pipeline in pairs:
        cfg = pipeline.config
        # with --all each pipeline has its own stages: --stage picks those it has
        asked = [s for s in stage or [] if not all_pipelines or cfg.stage(s) is not None]
        if stage and not asked:
            continue
        stages = [pipeline.require_stage(s) for s in asked] or list(cfg.stage_names)
        if open_only:
            stages = [s.name for s in cfg.open_stages if s.name in stages]
        loaded = pipeline.load(stages)
        for err in loaded.errors:
            warn(f"skipped {err}")
        who = owner_filter(owner, cfg.team)
        deals = [d for d in loaded.deals if owner_matches(d, who, cfg.team)]
        folders: dict[str, str | None] = {}

        def read(d: Deal, p: Pipeline = pipeline, seen: dict[str, str | None] = folders) -> Any:
            return _text(p, d, seen)

        found += [(name, pipeline, f) for f in kernel.search(deals, query, read, field)]
    # one ranking across pipelines: the kernel's order, then the pipeline's name
    found.sort(key=lambda t: (-t[2].score, t[2].deal.id, t[2].deal.stage, t[0] or ""))
    if as_json:
        from pipectl.jsonout import dumps

        rows = [({"pipeline": n} if all_pipelines else {}) | _json(p, f) for n, p, f in found]
        typer.echo(dumps(rows))
        return
    if not found:
        typer.echo(f"no deal holds {visible(query)!r}", err=True)
        raise typer.Exit(1)
    for name, _p, f in found:
        d = f.deal
        head = f"{visible(name)}  " if name is not None else ""
        typer.echo(f"{head}{visible(d.id)}  {visible(d.title)}  ({visible(d.stage)})")
        for hit in f.hits:
            if hit.field != "id":
                where = f"{hit.line}: " if hit.field == "notes" else ""
                typer.echo(f"  {where}{visible(hit.text.strip())}")
        if f.count > len(f.hits):
            typer.echo(f"  … and {f.count - len(f.hits)} more")


def _text(pipeline: Pipeline, deal: Deal, folders: dict[str, str | None]) -> str | None:
    """A deal's text for its notes. The folder is checked once (cached by the store) and the
    file read without following a link (no path is displayed or resolved per file: a tenth
    of the careful reader's time on 10,000 deals); a link goes through the careful reader."""
    import os
    from pathlib import Path

    from pipectl.errors import PipectlError
    from pipectl.store import DealRef, read_regular

    if deal.stage not in folders:
        folder = pipeline.stage_dir(deal.stage)
        folders[deal.stage] = str(folder) if pipeline.inside(folder) else None
    where = folders[deal.stage]
    if where is None:
        return None
    name = os.path.join(where, f"{deal.id}.md")
    try:
        try:
            data = read_regular(name, name, follow=False)  # type: ignore[arg-type]
        except PipectlError:
            data = pipeline.read_bytes(DealRef(deal.id, deal.stage, Path(name)))
    except (PipectlError, OSError):  # gone or refused since the load: its frontmatter counts
        return None
    return data.decode("utf-8", errors="replace")


def _json(pipeline: Pipeline, found: object) -> dict[str, object]:
    from pipectl.search import Found

    assert isinstance(found, Found)
    d = found.deal
    return {
        "id": d.id,
        "stage": d.stage,
        "title": d.title,
        "path": str(pipeline.display(pipeline.stage_dir(d.stage) / f"{d.id}.md")),
        "score": found.score,
        "count": found.count,
        "matches": [{"field": h.field, "line": h.line, "text": h.text} for h in found.hits],
    }


@app.command()
def rename(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    new_id: str = typer.Argument(..., help="The new id (lowercase letters, digits, dashes)."),
    no_commit: bool = typer.Option(False, "--no-commit", help=NO_COMMIT_HELP),
) -> None:
    """Give a deal a new id: its file renamed (and its id: field); history follows it."""
    from pipectl import lifecycle

    pipeline = open_pipeline(ctx)
    report(pipeline, lifecycle.rename(pipeline, deal, new_id, not no_commit), no_commit)


@app.command("rm")
def rm(
    ctx: typer.Context,
    deal: str = typer.Argument(..., help="Deal id or unique prefix."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask (needed off a terminal)."),
    no_commit: bool = typer.Option(False, "--no-commit", help=NO_COMMIT_HELP),
) -> None:
    """Delete a deal (one commit; `pipectl undo` or git brings it back). Asks first on a
    terminal; elsewhere it needs --yes."""
    import sys

    from pipectl import lifecycle
    from pipectl.errors import PipectlError, UsageError
    from pipectl.textsafe import visible

    pipeline = open_pipeline(ctx)
    ref = pipeline.resolve(deal)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"not removing {ref.id} without asking: pass --yes to remove it")
        try:
            title = visible(pipeline.read_deal(ref).title)
        except PipectlError:  # a broken file can be removed too
            title = "cannot be read"
        if not typer.confirm(f"remove {ref.id} ({title}, {ref.stage})?", default=False):
            typer.echo("nothing removed")
            raise typer.Exit(1)
    report(pipeline, lifecycle.remove(pipeline, ref.id, not no_commit), no_commit)


@app.command()
def undo(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Show what would be undone."),
) -> None:
    """Take back your last pipectl commit with a new commit (the files as they were before
    it), if no commit since touched the same files. Again: the one before."""
    from pipectl import lifecycle
    from pipectl.textsafe import visible

    pipeline = open_pipeline(ctx)
    plan = lifecycle.plan_undo(pipeline)
    if dry_run:
        typer.echo(f"would undo {plan.sha[:10]} {visible(plan.subject)}")
        for line in plan.describe(pipeline):
            typer.echo(f"  {visible(line)}")
        return
    report(pipeline, lifecycle.undo(pipeline, plan), False)
