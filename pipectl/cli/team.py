"""A team on one pipeline: `setup` (the merge driver, per clone), `sync`, and the driver itself.

Thin: the work lives in team/driver.py, team/sync.py and mergesetup.py; nothing here runs git
or edits files itself.
"""

from __future__ import annotations

from pathlib import Path

import typer

from pipectl.cli.app import app
from pipectl.cli.common import open_pipeline


@app.command()
def setup(
    ctx: typer.Context,
    use_path: bool = typer.Option(
        False,
        "--use-path",
        help="Register the driver as plain `pipectl` found on PATH, instead of this "
        "Python's full path.",
    ),
    no_commit: bool = typer.Option(
        False, "--no-commit", help="If .gitattributes needs the entry, write it but do not commit."
    ),
) -> None:
    """Make this clone merge deal files with pipectl (once per clone; safe to repeat).

    Sets merge.pipectl.driver in the clone's .git/config (git keeps it per clone, never
    shared) and makes sure the pipeline's .gitattributes routes deal files to it.
    """
    from pipectl import mergesetup
    from pipectl.team import driver

    pipeline = open_pipeline(ctx)
    done = driver.setup(pipeline, use_path=use_path, commit=not no_commit)
    typer.echo(f"merge driver registered in this clone: {done.command}")
    if done.attributes_added:
        how = "committed" if done.committed else "not committed"
        typer.echo(
            f"added `{mergesetup.ATTRIBUTES_LINE}` to {pipeline.display(done.attributes)} ({how})"
        )
    else:
        typer.echo(f"{pipeline.display(done.attributes)} routes deal files to it already")


@app.command()
def sync(
    ctx: typer.Context,
    remote: str = typer.Option(
        None, help="Remote to sync with (default: the branch's upstream, else origin)."
    ),
    retries: int = typer.Option(
        5, min=0, max=50, help="How often to retry when someone else pushed first."
    ),
) -> None:
    """Fetch the shared remote, rebase your commits onto it, push; retry if beaten to it.

    Deal files merge with pipectl's merge driver (touchpoints from both sides kept). On a
    real conflict sync stops, lists the files and the steps to finish, and exits 3.
    """
    from pipectl.team import sync as syncing

    result = syncing.sync(open_pipeline(ctx), remote=remote, retries=retries)
    if result.registered_driver:
        typer.echo("registered pipectl's merge driver in this clone (see `pipectl setup`)")
    parts = []
    if result.pulled:
        parts.append(f"took {_commits(result.pulled)} from {result.remote}")
    if result.pushed:
        parts.append(f"pushed {_commits(result.pushed)} to {result.remote}/{result.branch}")
    if result.retries:
        parts.append(f"after {result.retries} lost race{'s' if result.retries > 1 else ''}")
    typer.echo(", ".join(parts) if parts else f"up to date with {result.remote}/{result.branch}")


def _commits(n: int) -> str:
    return f"{n} commit{'s' if n != 1 else ''}"


@app.command("merge-driver", hidden=True)
def merge_driver(
    base: Path = typer.Argument(..., help="%O: the common ancestor's version."),
    ours: Path = typer.Argument(..., help="%A: our version; the result is written here."),
    theirs: Path = typer.Argument(..., help="%B: their version."),
    path: str = typer.Argument("", help="%P: the path the result will have."),
) -> None:
    """git's merge driver for deal files (git runs it; `pipectl setup` registers it).

    Exit 0 when the merge is clean; 1 when conflicts are left in the file for you to resolve.
    """
    from pipectl.team import driver

    name = path or str(ours)
    try:
        result = driver.run_driver(base, ours, theirs, Path.cwd(), path)
    except Exception as exc:  # git needs a verdict, never a traceback: merge as plain text
        typer.echo(f"pipectl merge-driver: {name}: {exc}; merging as plain text", err=True)
        try:
            clean = driver.text_fallback(base, ours, theirs, Path.cwd())
        except Exception:
            raise typer.Exit(2) from None
        raise typer.Exit(0 if clean else 1) from None
    if not result.clean:
        typer.echo(f"pipectl merge-driver: {name}: conflict in {result.describe()}", err=True)
        raise typer.Exit(1)
