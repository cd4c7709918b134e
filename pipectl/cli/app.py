"""The Typer app object, its global options and the one boundary that turns errors into exits."""

from __future__ import annotations

import copy
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from pipectl.errors import EXIT_INTERNAL, EXIT_USAGE, PipectlError
from pipectl.textsafe import for_log, in_github_actions, visible
from pipectl.version import __version__

# An internal error's own message can hold user text of any size (a value, a path).
_MAX_INTERNAL_MESSAGE = 300

# click's UsageError, whichever click typer runs on (its own copy since typer 0.2x)
_ClickUsageError: type[Exception] = typer.BadParameter.__mro__[1]


class _Group(TyperGroup):
    """Every PipectlError becomes one line on stderr and its exit code; never a traceback.

    Anything else is a bug: exit 4 (never 1, which CI reads as "findings") with one line
    asking for a report; PIPECTL_DEBUG=1 adds the traceback.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:  # the global options (`pipectl --bogus`, a bad -C)
            return super().make_context(*args, **kwargs)
        except _ClickUsageError as exc:
            raise _usage(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _ClickUsageError as exc:  # a command's arguments and options, an unknown name
            name = getattr(ctx, "invoked_subcommand", None)
            raise _usage(exc, " ".join([ctx.command_path, *([name] if name else [])])) from None
        except PipectlError as exc:
            _error(_message(exc))
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except OSError as exc:  # last resort: the file system said no somewhere unforeseen
            where = f"{visible(str(exc.filename))}: " if exc.filename else ""
            _error(f"{where}{visible(str(exc.strerror or exc))}")
            raise typer.Exit(EXIT_USAGE) from None
        except (typer.Exit, typer.Abort, TyperException):
            raise  # the CLI's own exits and usage errors (Exit and Abort are RuntimeErrors)
        except Exception as exc:
            _internal(exc)
            raise typer.Exit(EXIT_INTERNAL) from None


def _usage(exc: Exception, command: str = "pipectl") -> Exception:
    """click's usage error as pipectl's one line with a hint, exit 2; bare `pipectl` (no
    arguments: help, by click's own exception) stays as it is."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        return exc
    text = " ".join(str(getattr(exc, "format_message", exc.__str__)()).split()).rstrip(".")
    # click's sentences ("No such command 'x'. Did you mean 'y'?") as one clause list
    text = re.sub(r"\. ([A-Z])", lambda m: "; " + m.group(1).lower(), text)
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else command  # some errors know no context
    _error(f"{visible(text[:1].lower() + text[1:])} (hint: {where} --help)")
    return typer.Exit(EXIT_USAGE)


def _error(text: str) -> None:
    typer.echo(for_log(f"pipectl: error: {text}"), err=True, nl=not in_github_actions())


def _message(exc: PipectlError) -> str:
    """The error for the user on one line, control characters escaped; an error that is
    several lines by design (a paused sync) keeps its line breaks."""
    text = visible(exc.message, lines=exc.multiline)
    if exc.path is None:
        return text
    where = visible(str(exc.path)) + ("" if exc.line is None else f":{exc.line}")
    return f"{where}: {text}"


def _internal(exc: Exception) -> None:
    if os.environ.get("PIPECTL_DEBUG") == "1":
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    detail = visible(str(exc))
    if len(detail) > _MAX_INTERNAL_MESSAGE:
        detail = detail[:_MAX_INTERNAL_MESSAGE] + "…"
    typer.echo(
        for_log(
            f"pipectl: internal error: {type(exc).__name__}: {detail} — a bug in pipectl; "
            "please report it with the command that failed and `pipectl --version` "
            "(PIPECTL_DEBUG=1 shows the traceback)"
        ),
        err=True,
        nl=not in_github_actions(),
    )


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
    install_completion: bool = typer.Option(
        False,
        "--install-completion",
        callback=lambda value: _completion("install_option", value),
        is_eager=True,
        expose_value=False,
        help="Install completion for the current shell (bash, zsh, fish).",
    ),
    show_completion: bool = typer.Option(
        False,
        "--show-completion",
        callback=lambda value: _completion("show_option", value),
        is_eager=True,
        expose_value=False,
        help="Show the completion script for the current shell, to copy or source it.",
    ),
) -> None:
    """pipectl keeps each deal as a Markdown file in a folder named after its stage.

    Every change is one git commit. Exit codes: 0 ok, 1 lint findings at the fail level,
    2 usage, config or input error, 3 a git operation failed (the change was rolled back),
    4 an internal error (a bug in pipectl: please report it).
    """
    ctx.obj = {"directory": directory}


def _completion(name: str, value: bool) -> None:
    """--show-completion, --install-completion: pipectl/cli/complete.py, imported only then."""
    if not value:
        return
    from pipectl.cli import complete

    try:
        getattr(complete, name)(value)
    except PipectlError as exc:
        _error(_message(exc))
        raise typer.Exit(exc.exit_code) from None


def run(argv: list[str]) -> int:
    """Run the CLI and return its exit code (the console script's body)."""
    command = typer.main.get_command(_only_needed(argv))
    if os.environ.get("_PIPECTL_COMPLETE"):  # a shell asking for completions (typer's protocol)
        from pipectl.cli.complete import attach

        attach(command)
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
    """The app with only the command or group `argv` runs: typer builds the parser of every
    registered command on each run (about 1 ms each, 30 ms in all), and a run needs one.
    Help, unknown names and anything unusual get the full app, so what users see does not
    change."""
    name = _command_name(argv)
    if name is None:
        return app
    commands = [
        c
        for c in app.registered_commands
        if (c.name or typer.main.get_command_name(getattr(c.callback, "__name__", ""))) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if len(commands) + len(groups) != 1:
        return app
    slim = copy.copy(app)
    slim.registered_commands = commands
    slim.registered_groups = groups
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
