"""`pipectl import` and `pipectl export`: parse options, call the core, show progress, results."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from pipectl.cli.app import app
from pipectl.cli.common import NO_COMMIT_HELP, open_pipeline, warn

_MAX_SHOWN = 100  # invalid rows listed one per line before the rest are counted


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        help="CSV file to import (or a JSON file written by `pipectl export`).",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
    mapping: Path = typer.Option(
        None,
        "--mapping",
        metavar="FILE",
        help="YAML mapping file with fields:, stages: and date_format:.",
        exists=True,
        dir_okay=False,
    ),
    maps: list[str] = typer.Option(
        None,
        "--map",
        metavar="FIELD=COLUMN",
        help="Feed a deal field from a column (repeatable). COLUMN may be a template such as "
        "'{account} — {product}' or fallbacks 'close_date|engage_date'.",
    ),
    stage_maps: list[str] = typer.Option(
        None,
        "--stage-map",
        metavar="VALUE=STAGE",
        help="A stage value in the file to a pipeline stage (repeatable); values that "
        "name a stage need no mapping.",
    ),
    date_format: str = typer.Option(
        None,
        "--date-format",
        metavar="FORMAT",
        help="How dates are written: ISO (default), M/D/YYYY, D.M.YYYY "
        "or another order of D, M, YYYY. ISO dates are always understood.",
    ),
    encoding: str = typer.Option(
        "utf-8-sig", "--encoding", metavar="ENCODING", help="Text encoding of the file."
    ),
    delimiter: str = typer.Option(
        None,
        "--delimiter",
        metavar="CHAR",
        help="Cell separator (default: ',' or what the header uses).",
    ),
    safe_csv: bool = typer.Option(
        True,
        "--safe-csv/--no-safe-csv",
        help="Drop the ' that `export --safe-csv` puts before a cell starting =, +, -, @, "
        "tab, CR or ' (default); --no-safe-csv keeps every cell as it is.",
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid rows and list the invalid ones."
    ),
    new_only: bool = typer.Option(
        False, "--new-only", help="Refuse rows whose deal exists already instead of updating it."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check every row and say what would change; write nothing."
    ),
    no_commit: bool = typer.Option(False, "--no-commit", help=NO_COMMIT_HELP),
    accounts_csv: Path = typer.Option(
        None,
        "--accounts",
        metavar="CSV",
        help="Then link each deal's company to an account record, made from this accounts "
        "CSV (joined on the account name; see docs/accounts.md): a second commit.",
    ),
) -> None:
    """Import deals from a CSV file: every row is checked first, then one commit.

    Columns map to deal fields by name, or through --map / --mapping. A row whose id exists
    updates only the mapped fields of that deal (and moves it if its stage changed), so running
    the same import twice changes nothing. Any invalid row stops the import with FILE:LINE and
    nothing is written, unless --skip-invalid.
    """
    from pipectl.store import NO_GIT_WARNING
    from pipectl.transfer.importer import InvalidRows, Options, import_file

    pipeline = open_pipeline(ctx)
    options = Options(
        mapping_file=mapping,
        maps=tuple(maps or ()),
        stage_maps=tuple(stage_maps or ()),
        date_format=date_format,
        encoding=encoding,
        delimiter=delimiter,
        safe_csv=safe_csv,
        skip_invalid=skip_invalid,
        create_only=new_only,
        dry_run=dry_run,
        commit=not no_commit,
    )
    with _progress(file) as progress:
        try:
            result = import_file(pipeline, file, options, progress=progress)
        except InvalidRows as exc:
            progress.clear()
            for line in exc.lines()[:_MAX_SHOWN]:
                typer.echo(line, err=True)
            if len(exc.errors) > _MAX_SHOWN:
                typer.echo(f"… and {len(exc.errors) - _MAX_SHOWN} more", err=True)
            n = len(exc.errors)
            typer.echo(
                f"pipectl: error: {n} invalid row{'s' if n != 1 else ''}; nothing imported "
                "(--skip-invalid imports the valid rows)",
                err=True,
            )
            raise typer.Exit(exc.exit_code) from None
    for line in result.skipped_lines():
        warn(f"skipped {line}")
    if not result.changed:
        skipped = f"; {len(result.skipped):,} invalid rows skipped" if result.skipped else ""
        typer.echo(
            f"no changes: {result.unchanged:,} deals in {result.source} match the pipeline"
            + skipped
        )
        if accounts_csv is not None:
            from pipectl.cli.records import extract_and_report

            extract_and_report(pipeline, accounts_csv, dry_run, no_commit)
        return
    verb = "would import" if result.dry_run else "imported"
    counts = [f"{n:,} {what}" for n, what in result.counts()]
    typer.echo(f"{verb} {result.source}: {', '.join(counts)}")
    width = max(len(s) for s in result.by_stage)
    for stage, n in result.by_stage.items():
        typer.echo(f"  {stage:<{width}}  {n:>6,}")
    if pipeline.git is None and not no_commit and not dry_run:
        warn(NO_GIT_WARNING)
    if accounts_csv is not None:
        from pipectl.cli.records import extract_and_report

        extract_and_report(pipeline, accounts_csv, dry_run, no_commit)


class _Progress:
    """A one-line counter on stderr, only when stderr is a terminal and the file is large."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.shown = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if total > 1:
            text = f"{phase} {done:,}/{total:,}"
        else:  # rows are checked as they are read: their number is known at the end
            text = f"{phase} {done:,}…" if done else f"{phase}…"
        sys.stderr.write(f"\r\x1b[K{text}")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


@contextmanager
def _progress(file: Path) -> Iterator[_Progress]:
    large = file.stat().st_size > 64 * 1024
    progress = _Progress(large and sys.stderr.isatty())
    try:
        yield progress
    finally:
        progress.clear()


@app.command()
def export(
    ctx: typer.Context,
    fmt: str = typer.Option(
        "csv",
        "--format",
        "-f",
        metavar="csv|json",
        help="csv (touchpoints as a count and last date) or json (everything).",
    ),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FILE",
        help="Write to FILE instead of standard output.",
        dir_okay=False,
    ),
    stage: list[str] = typer.Option(
        None, "--stage", metavar="STAGE", help="Only deals in STAGE (repeatable)."
    ),
    safe_csv: bool = typer.Option(
        None,
        "--safe-csv/--no-safe-csv",
        help="Write a ' before each cell starting =, +, -, @, tab or CR, so a spreadsheet "
        "never runs it as a formula (import drops it). Default: on for -o FILE.csv.",
        show_default=False,
    ),
) -> None:
    """Export every deal with its stage, fields and notes as CSV or JSON.

    `pipectl import` reads either back: the JSON export reproduces deals exactly, touchpoints
    included. A deal file that cannot be read, or could not come back the same, is left out
    and named on stderr (file and line); the others are still written, and the exit code is 2.
    """
    from pipectl.transfer.exporter import export as run_export

    pipeline = open_pipeline(ctx)
    if safe_csv is None:  # a .csv file is for a spreadsheet; a pipe is for a program
        safe_csv = output is not None and output.suffix.lower() == ".csv"
    result = run_export(pipeline, fmt.lower(), list(stage) if stage else None, safe_csv)
    for err in result.errors:
        # a file that cannot be read at all is wrong as a whole: its first line
        warn(f"skipped {err.path}:{err.line or 1}: {err.message}")
    if output is None:
        sys.stdout.write(result.text)
        sys.stdout.flush()  # what could be exported is out before the error is said
    else:
        try:
            output.write_text(result.text, encoding="utf-8")
        except OSError as exc:
            from pipectl.errors import UsageError

            raise UsageError(f"cannot write: {exc.strerror}", output) from None
        typer.echo(f"exported {result.count:,} deals to {output}", err=True)
    if result.errors:
        from pipectl.errors import DealError

        # a partial export must not pass for a whole one (a script or CI checks the exit code)
        skipped = len(result.errors)
        files = "1 deal file" if skipped == 1 else f"{skipped:,} deal files"
        raise DealError(
            f"export incomplete: {files} could not be read or exported as they are and "
            f"{'is' if skipped == 1 else 'are'} "
            f"left out (listed above); {result.count:,} deals exported"
        )
