"""Shell completion (bash, zsh, fish): typer's protocol, pipectl's values.

Imported only when a shell asks for completions (`_PIPECTL_COMPLETE` is set) or for the
script (`--show-completion`, `--install-completion`), so no other run pays for it. The
completers are attached by parameter name to the built click command, so the command
modules need no completion code: a `deal` argument completes deal ids, `stage` the stages,
`--owner` the roster, and so on (`COMPLETERS`).

The protocol is typer's (typer/_completion_classes.py): bash runs
`_PIPECTL_COMPLETE=complete_bash COMP_WORDS=... COMP_CWORD=N pipectl`, zsh and fish
`_PIPECTL_COMPLETE=complete_zsh|complete_fish _TYPER_COMPLETE_ARGS='pipectl show ac'`. A
completer never fails: outside a pipeline, or on a broken pipeline.yaml, it offers nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from pipectl.store import Pipeline

PROG = "pipectl"
COMPLETE_VAR = "_PIPECTL_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
# Past this many matching deals no titles are read: a shell shows a few dozen at best, and
# bash never shows descriptions; ids alone come from the folders' listings.
TITLES_UP_TO = 200

Item = tuple[str, str | None]  # a value and its description


def _pipeline(ctx: Any) -> Pipeline | None:
    from pipectl.store import Pipeline

    directory = ctx.find_root().params.get("directory")
    try:
        return Pipeline.open(Path(directory) if directory else Path.cwd())
    except Exception:  # no pipeline here, a broken pipeline.yaml: nothing to offer
        return None


def deal_ids(pipeline: Pipeline, incomplete: str) -> list[Item]:
    """Deal ids starting with `incomplete` (ids are file names: the stage folders' listings
    answer, no deal is parsed), each with its title when few match."""
    refs = _refs(pipeline, incomplete)
    if len(refs) > TITLES_UP_TO:
        return [(r.id, None) for r in refs]
    items = []
    for ref in refs:
        try:
            title = pipeline.read_deal(ref).title
        except Exception:  # a broken file still completes, without its title
            title = None
        items.append((ref.id, title))
    return items


def _refs(pipeline: Pipeline, prefix: str) -> list[Any]:
    """The deal files whose id starts with `prefix`: each folder's names filtered before any
    path or ref is made (10,000 deals: a tenth of `deal_refs`' time)."""
    from pipectl.store import DealRef

    found = []
    for stage in pipeline.config.stage_names:
        folder = pipeline.stage_dir(stage)
        try:
            names = sorted(
                n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(".md")
            )
        except OSError:
            continue
        found += [DealRef(n[:-3], stage, folder / n) for n in names if not n.startswith(".")]
    return found


def stages(pipeline: Pipeline, incomplete: str) -> list[Item]:
    return [(s.name, "open" if s.is_open else s.closed) for s in pipeline.config.stages]


def owners(pipeline: Pipeline, incomplete: str) -> list[Item]:
    """The roster's handles (with the person's name); without a roster, the deals' owners."""
    team = pipeline.config.team
    if team:
        return [(m.handle, m.name or None) for m in team if m.active]
    seen = {d.owner for d in pipeline.load().deals if d.owner}
    return [(o, None) for o in sorted(seen)]


def kinds(pipeline: Pipeline, incomplete: str) -> list[Item]:
    return [(k, None) for k in pipeline.config.touchpoint_kinds]


def outcomes(pipeline: Pipeline, incomplete: str) -> list[Item]:
    return [(o, None) for o in pipeline.config.touchpoint_outcomes]


def lost_reasons(pipeline: Pipeline, incomplete: str) -> list[Item]:
    return [(r, None) for r in pipeline.config.lost_reasons]


def rule_codes(pipeline: Pipeline | None, incomplete: str) -> list[Item]:
    from pipectl.lint.registry import RULES

    codes: list[Item] = [(r.code, r.name) for r in RULES]
    names: list[Item] = [(r.name, r.code) for r in RULES]
    return codes + names if incomplete[:1].isalpha() and not incomplete[:2].isupper() else codes


def field_names(pipeline: Pipeline) -> list[Item]:
    from pipectl.fieldtypes import STRUCTURED
    from pipectl.schema import Schema

    items: list[Item] = [
        (name, decl.type)
        for name, decl in Schema(pipeline.config).fields.items()
        if name not in STRUCTURED
    ]
    items += [(f"qualification.{c}", "criterion") for c in pipeline.config.qualification_criteria]
    return items


def fields(pipeline: Pipeline, incomplete: str) -> list[Item]:
    return field_names(pipeline)


def assignments(pipeline: Pipeline, incomplete: str) -> list[Item]:
    """`set DEAL KEY=VALUE`: the field names with `=`; after it, a stage's or an owner's."""
    key, eq, _value = incomplete.partition("=")
    if not eq:
        return [(f"{name}=", kind) for name, kind in field_names(pipeline)]
    values = owners(pipeline, "") if key == "owner" else []
    if key == "lost_reason":
        values = lost_reasons(pipeline, "")
    return [(f"{key}={v}", d) for v, d in values]


def search_fields(pipeline: Pipeline, incomplete: str) -> list[Item]:
    return [*field_names(pipeline), ("notes", "the text below the frontmatter")]


# parameter name -> completer; `None` completers need no pipeline
COMPLETERS: dict[str, Callable[[Any, str], list[Item]]] = {
    "deal": deal_ids,
    "stage": stages,
    "owner": owners,
    "kind": kinds,
    "outcome": outcomes,
    "reason": lost_reasons,
    "code": rule_codes,
    "select": rule_codes,
    "ignore": rule_codes,
    "assignments": assignments,
    "unset": fields,
    "field": search_fields,
}
NO_PIPELINE = {"code", "select", "ignore"}


def _completer(name: str) -> Callable[[Any, Any, str], list[Any]]:
    def complete(ctx: Any, param: Any, incomplete: str) -> list[Any]:
        from typer._completion_classes import CompletionItem  # typer's click, whichever

        try:
            pipeline = None if name in NO_PIPELINE else _pipeline(ctx)
            if pipeline is None and name not in NO_PIPELINE:
                return []
            items = COMPLETERS[name](pipeline, incomplete)
        except Exception:  # completion must never print a traceback into a prompt
            return []
        return [
            CompletionItem(value, help=_one_line(help_))
            for value, help_ in items
            if value.startswith(incomplete)
        ]

    return complete


def _one_line(text: str | None) -> str | None:
    from pipectl.textsafe import visible

    return None if not text else " ".join(visible(text).split())


def attach(command: Any) -> None:
    """Give every parameter of the command tree named in COMPLETERS its completer, and make
    typer's completion classes (not click's own, whose protocol differs) the ones used."""
    from typer._completion_classes import completion_init

    completion_init()
    for cmd in _commands(command):
        for param in cmd.params:
            if param.name in COMPLETERS:
                param._custom_shell_complete = _completer(param.name)


def _commands(command: Any) -> Iterable[Any]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


# --- the scripts ---------------------------------------------------------------------------


def shell_name() -> str:
    """The shell pipectl runs under (the parent processes, as typer finds it), else $SHELL's
    name; a shell pipectl has no completion for is a usage error."""
    from pipectl.errors import UsageError

    name: str | None = None
    try:
        from typer._completion_shared import _get_shell_name

        name = _get_shell_name()
    except Exception:  # shellingham cannot tell (no /proc, an unusual parent)
        name = None
    if name not in SHELLS:
        name = Path(os.environ.get("SHELL", "")).name or name
    if name not in SHELLS:
        raise UsageError(
            f"no completion for the shell {name or '(unknown)'}: bash, zsh and fish have one"
        )
    return name


def script(shell: str) -> str:
    """The completion script for `shell` (typer's, calling back `pipectl`)."""
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell)


def install(shell: str) -> Path:
    """Write the script where the shell reads it (typer's places: ~/.bash_completions/ with
    a `source` line in ~/.bashrc, ~/.zfunc/ for zsh, ~/.config/fish/completions/)."""
    from typer._completion_shared import install as typer_install

    _shell, path = typer_install(shell=shell, prog_name=PROG, complete_var=COMPLETE_VAR)
    return path


def show_option(value: bool) -> None:
    if value:
        typer.echo(script(shell_name()))
        raise typer.Exit()


def install_option(value: bool) -> None:
    if value:
        shell = shell_name()
        path = install(shell)
        typer.echo(f"{shell} completion installed in {path}; it takes effect in a new shell")
        raise typer.Exit()
