"""The Typer app object, its global options and the one boundary that turns errors into exits."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from pipectl.errors import EXIT_USAGE, PipectlError
from pipectl.version import __version__


class _Group(TyperGroup):
    """Every PipectlError becomes one line on stderr and its exit code; never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PipectlError as exc:
            typer.echo(f"pipectl: error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except OSError as exc:  # last resort: the file system said no somewhere unforeseen
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"pipectl: error: {where}{exc.strerror or exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None


app = typer.Typer(
    cls=_Group,
    name="pipectl",
    help="A sales pipeline kept as plain text in a git repository.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pipectl {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    directory: Path = typer.Option(
        None,
        "-C",
        "--directory",
        help="Run as if started in DIR (the pipeline is found from there upwards).",
        file_okay=False,
    ),
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """pipectl keeps each deal as a Markdown file in a folder named after its stage.

    Every change is one git commit. Exit codes: 0 ok, 1 lint findings at the fail level,
    2 usage, config or input error, 3 a git operation failed (the change was rolled back).
    """
    ctx.obj = {"directory": directory}


def run(argv: list[str]) -> int:
    """Run the CLI and return its exit code (the console script's body)."""
    command = typer.main.get_command(_only_needed(argv))
    try:
        command.main(args=argv, prog_name="pipectl", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return EXIT_USAGE
    return 0


def _only_needed(argv: list[str]) -> typer.Typer:
    """The app with only the command `argv` runs: typer builds the parser of every registered
    command on each run (about 1 ms each, 30 ms in all), and a run needs one. Help, unknown
    names and anything unusual get the full app, so what users see does not change."""
    name = _command_name(argv)
    if name is None:
        return app
    found = [
        c
        for c in app.registered_commands
        if (c.name or typer.main.get_command_name(getattr(c.callback, "__name__", ""))) == name
    ]
    if len(found) != 1 or app.registered_groups:
        return app
    slim = copy.copy(app)
    slim.registered_commands = found
    return slim


def _command_name(argv: list[str]) -> str | None:
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ("-C", "--directory"):
            skip = True
        elif token.startswith("--directory=") or (token.startswith("-C") and len(token) > 2):
            continue
        elif token.startswith("-"):
            return None
        else:
            return token
    return None
