"""Commands `lint`, `rules` and `rule CODE`: parse options, run pipectl.lint, print a report.

Thin by design: rules, formats and settings live in pipectl/lint/. Imports stay inside the
commands so `pipectl lint` never loads ruamel, GitPython, frontmatter or rich.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pipectl.cli.app import app
from pipectl.cli.common import AsOfOpt, TodayOpt, as_of, open_pipeline, start_dir

if TYPE_CHECKING:
    from pipectl.lint import Finding, LintResult
    from pipectl.store import Pipeline

FORMAT_HELP = (
    "Report format: text, json, github, gitlab, sarif or markdown (github when GITHUB_ACTIONS)."
)


@app.command()
def lint(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        None,
        metavar="[PATH]...",
        help="Pipeline folders or files to check (default: the pipeline here). With files, "
        "only their findings are reported (for pre-commit).",
    ),
    output_format: str = typer.Option(None, "--format", "-f", metavar="FORMAT", help=FORMAT_HELP),
    select: list[str] = typer.Option(
        None,
        "--select",
        metavar="RULES",
        help="Only these rules: codes, prefixes (PL3) or names; repeatable.",
    ),
    ignore: list[str] = typer.Option(
        None,
        "--ignore",
        metavar="RULES",
        help="Skip these rules: codes, prefixes or names; repeatable.",
    ),
    fail_on: str = typer.Option(
        "warning",
        "--fail-on",
        metavar="LEVEL",
        help="Exit 1 when a finding is at least: error, warning, info.",
    ),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even with findings."),
    statistics: bool = typer.Option(
        False, "--statistics", help="Also print how many findings each rule made."
    ),
    today: str = TodayOpt,
    as_of_day: str = AsOfOpt,
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FILE",
        help="Write the report to FILE (a text summary still prints).",
    ),
    all_pipelines: bool = typer.Option(
        False,
        "--all",
        "--workspace",
        help="Every pipeline of the workspace, paths from its root, each pipeline's count and "
        "the total; also checks that no id is in two pipelines (PL110; docs/workspace.md).",
    ),
    changed_since: str = typer.Option(
        None,
        "--changed-since",
        metavar="REV",
        help="Report only the findings on deal files changed since REV (committed, staged or "
        "not, new), and those on pipeline.yaml and the files beside it (the pipeline's "
        "shape): a large pipeline's pull request (`--changed-since origin/main`).",
    ),
) -> None:
    """Check the pipeline against its rules; exit 1 on findings at the --fail-on level.

    Rules and their settings: `pipectl rules`, `pipectl rule CODE`. Thresholds live under
    `rules:` in pipeline.yaml. Exit codes: 0 clean, 1 findings, 2 bad config or usage.
    --as-of DATE checks the pipeline as it stood at the end of that day, from git.
    """
    from pipectl.errors import UsageError
    from pipectl.lint import SEVERITIES, formats, run
    from pipectl.textsafe import for_log

    fmt = output_format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    if fmt not in formats.FORMATS:
        raise UsageError(f"--format: {fmt!r} is not one of {', '.join(formats.FORMATS)}")
    if fail_on not in SEVERITIES:
        raise UsageError(f"--fail-on: {fail_on!r} is not one of {', '.join(SEVERITIES)}")
    cwd = Path.cwd()
    color = output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    if all_pipelines:
        from pipectl.cli.workspace import lint_all

        if paths:
            raise UsageError("--all lints every pipeline of the workspace: give no PATH")
        if changed_since is not None:
            raise UsageError("--changed-since reads one pipeline: pass -C PIPELINE, not --all")
        result, text = lint_all(
            ctx, today, as_of_day, select or (), ignore or (), color, statistics
        )
    else:
        pipeline, only = _pipeline_for(ctx, paths or [])
        pipeline, now = as_of(pipeline, as_of_day, today)
        result = run(pipeline, now, select or (), ignore or ())
        if only is not None:
            result = _only(result, only)
        if changed_since is not None:
            result = _changed(result, pipeline, changed_since)
        text = formats.text(result, cwd, color=color, statistics=statistics)
    report = text if fmt == "text" else _report(result, fmt)
    # under Actions the text report is fenced off from workflow commands: only the
    # annotations, escaped property by property, are commands
    shown = for_log(text)
    if output is not None:
        try:
            output.write_text(report if report.endswith("\n") else report + "\n", "utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from None
        typer.echo(shown, nl=False)
    elif fmt == "github":
        # annotations for the diff view, and the full report for the job log
        typer.echo(report, nl=False)
        typer.echo(shown, nl=False)
    elif fmt == "text":
        typer.echo(shown, nl=False)
    else:
        typer.echo(report, nl=not report.endswith("\n"))
    if not exit_zero and result.at_least(fail_on):
        raise typer.Exit(1)


def _report(result: LintResult, fmt: str) -> str:
    from pipectl.lint import formats

    if fmt == "json":
        return formats.json_report(result)
    if fmt == "github":
        return formats.github(result)
    if fmt == "gitlab":
        return formats.gitlab(result)
    if fmt == "markdown":
        return formats.markdown(result)
    from pipectl.lint.sarif import sarif

    return sarif(result)


def _pipeline_for(ctx: typer.Context, paths: list[Path]) -> tuple[Pipeline, set[Path] | None]:
    """The one pipeline the paths belong to, and the files to report on (None: all)."""
    from pipectl.errors import UsageError
    from pipectl.store import Pipeline, find_root

    if not paths:
        return open_pipeline(ctx), None  # from a workspace's root: -C or --all
    base = start_dir(ctx)
    roots: dict[Path, list[Path]] = {}
    whole: set[Path] = set()
    for p in paths:
        full = (base / p).resolve()
        if not full.exists():
            raise UsageError(f"{p}: no such file or folder")
        try:
            root = find_root(full if full.is_dir() else full.parent)
        except UsageError:
            if full.is_dir():
                raise
            continue  # a file outside any pipeline (pre-commit passes every changed file)
        roots.setdefault(root, []).append(full)
        if full.is_dir():
            whole.add(root)
    if not roots:
        raise UsageError("none of the given files is inside a pipeline (no pipeline.yaml above)")
    if len(roots) > 1:
        listed = ", ".join(str(r) for r in roots)
        raise UsageError(
            f"the paths belong to several pipelines ({listed}): lint one at a time, or the "
            "whole workspace with --all"
        )
    root, files = next(iter(roots.items()))
    return Pipeline(root), (None if root in whole else set(files))


def _changed(result: LintResult, pipeline: Pipeline, rev: str) -> LintResult:
    """The findings on files changed since `rev`, and the pipeline-wide ones (on the files
    beside pipeline.yaml and itself: the shape rules, the settings, the tables)."""
    import dataclasses

    from pipectl.errors import UsageError
    from pipectl.since import changed_since

    if pipeline.git is None:
        raise UsageError("--changed-since needs git: this pipeline is in no repository")
    changed = changed_since(pipeline.git, rev)

    def kept(f: Finding) -> bool:
        path = Path(f.path)
        return len(path.parts) == 1 or (result.root / path).resolve() in changed

    return dataclasses.replace(result, findings=tuple(f for f in result.findings if kept(f)))


def _only(result: LintResult, files: set[Path]) -> LintResult:
    import dataclasses

    kept = tuple(f for f in result.findings if (result.root / f.path).resolve() in files)
    return dataclasses.replace(result, findings=kept)


@app.command()
def rules(
    as_json: bool = typer.Option(False, "--json", help="Print the rules as JSON."),
) -> None:
    """List every lint rule: code, name, default severity and what it catches."""
    from pipectl.lint import RULES

    if as_json:
        import json

        from pipectl.lint.docs import rule_json

        typer.echo(json.dumps([rule_json(r) for r in RULES], indent=2, ensure_ascii=False))
        return
    from pipectl.render.text import table

    rows = [[r.code, r.name, r.severity, r.summary] for r in RULES]
    typer.echo(table(("CODE", "NAME", "SEVERITY", "FIRES WHEN"), rows, max_width=120))


@app.command()
def rule(code: str = typer.Argument(..., help="A rule code (PL301) or name (stale).")) -> None:
    """Print one rule's documentation: why it matters, how to fix it, its settings."""
    from pipectl.errors import UsageError
    from pipectl.lint import get_rule
    from pipectl.lint.docs import rule_text

    try:
        r = get_rule(code)
    except KeyError:
        raise UsageError(f"no rule {code!r} (see `pipectl rules`)") from None
    typer.echo(rule_text(r))


@app.command()
def schema(
    ctx: typer.Context,
    markdown: bool = typer.Option(
        False, "--markdown", help="The fields as a Markdown reference (docs/fields.md) instead."
    ),
) -> None:
    """Print the deal schema as JSON Schema (draft 2020-12), with this pipeline's own fields.

    Point an editor's YAML support at it for completion and checks as you type; each
    stage's requirements are under `$defs/stage-NAME`. Outside a pipeline, the defaults.
    """
    import json

    from pipectl.config import default_config
    from pipectl.errors import UsageError
    from pipectl.schema import for_config

    try:
        config = open_pipeline(ctx).config
    except UsageError as exc:
        if "no pipeline.yaml" not in str(exc):
            raise
        config = default_config()
    fields = for_config(config)
    if markdown:
        from pipectl.fielddoc import fields_markdown

        typer.echo(fields_markdown(fields), nl=False)
        return
    typer.echo(json.dumps(fields.json_schema(), indent=2, ensure_ascii=False))


@app.command()
def lsp() -> None:
    """Serve the Language Server Protocol over stdin and stdout, for an editor to start.

    Lint's findings on the unsaved text as you type, completion, hover and code actions on
    deal files and pipeline.yaml (docs/editors.md). It never writes a file or commits: a
    code action is an edit the editor applies. Needs the `lsp` extra (pygls).
    """
    from pipectl.errors import UsageError

    try:
        from pipectl.lsp.server import main
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs", "attrs"):
            raise
        raise UsageError("pipectl lsp needs the lsp extra: pip install 'pipectl[lsp]'") from None
    main()
