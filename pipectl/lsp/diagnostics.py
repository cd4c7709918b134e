"""What the editor shows on a document: `pipectl lint`'s findings on its unsaved text.

One lint run over the pipeline with the document's buffer in place of its file (lint's own
`unsaved`), so codes, severities, messages, suppressions and settings are lint's; for
`pipeline.yaml`, the config spec's refusal at the bad setting's line, else lint's findings on
it. Returns lsprotocol values; never writes, never prints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from pipectl import lint
from pipectl.config import CONFIG_FILE, Config, config_from_bytes
from pipectl.errors import ConfigError, PipectlError
from pipectl.history import Arrivals, read_arrivals
from pipectl.lint.model import Finding
from pipectl.store import Pipeline, find_root

SOURCE = "pipectl"

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}

# The rule reference beside the package (an editable install, a clone); the hover holds the
# whole text of a rule wherever the docs are not
_LINT_DOC = Path(__file__).resolve().parents[2] / "docs" / "lint.md"


@dataclass(frozen=True)
class Place:
    """A document's pipeline: its root and the document's pipeline-relative posix path."""

    root: Path
    rel: str

    @property
    def is_config(self) -> bool:
        return self.rel == CONFIG_FILE


def place(path: Path) -> Place | None:
    """The pipeline a file is in, found from its folder up as the CLI finds it (None: none)."""
    try:
        root = find_root(path.parent)
    except PipectlError:
        return None
    try:
        rel = path.resolve().relative_to(root).as_posix()
    except ValueError:
        return None
    return Place(root, rel)


def findings(where: Place, text: str, today: dt.date) -> tuple[Finding, ...]:
    """Lint's findings on the document, read from `text` rather than from the disk.

    A pipeline.yaml that the config spec refuses, in the document or on disk, is one finding
    (code "config") at its line."""
    data = text.encode("utf-8")
    try:
        if where.is_config:
            config: Config = config_from_bytes(data, where.root / CONFIG_FILE)
            # pipeline.yaml as unsaved: the findings of the config on disk are not replayed
            result = lint.run(Pipeline(where.root, config), today, unsaved={where.rel: data})
        else:
            pipeline = Pipeline(where.root)
            result = lint.run(
                pipeline, today, arrivals=_arrivals(pipeline), unsaved={where.rel: data}, focus=True
            )
    except ConfigError as exc:
        return (_config_finding(where, exc),)
    return tuple(f for f in result.findings if f.path == where.rel)


CONFIG_CODE = "config"

# When each file entered its folder, by pipeline root, for the commit HEAD was at: git's
# history changes only with HEAD, and a keystroke must not read it again
_ARRIVALS: dict[Path, tuple[str, Arrivals]] = {}


def _arrivals(pipeline: Pipeline) -> Arrivals | None:
    """The pipeline's arrivals, read again only when HEAD moved (None: lint reads them if a
    rule asks, as when HEAD cannot be told from git's files)."""
    head = pipeline.git.head_commit() if pipeline.git is not None else None
    if head is None:
        return None
    known = _ARRIVALS.get(pipeline.root)
    if known is None or known[0] != head:
        known = _ARRIVALS[pipeline.root] = (head, read_arrivals(pipeline.git, pipeline.root))
    return known[1]


def _config_finding(where: Place, exc: ConfigError) -> Finding:
    """A refused pipeline.yaml as a finding: at the setting's line in pipeline.yaml itself,
    on the first line of a deal (which lint cannot check until the config is fixed)."""
    if where.is_config:
        return Finding(CONFIG_CODE, CONFIG_CODE, "error", where.rel, exc.line or 1, 1, exc.message)
    return Finding(CONFIG_CODE, CONFIG_CODE, "error", where.rel, 1, 1, str(exc))


def diagnostic(f: Finding, lines: list[str]) -> types.Diagnostic:
    """A finding as the editor shows it: from its column to the end of its line (in code
    points: the server turns them into the client's units)."""
    row = min(max(f.line - 1, 0), max(len(lines) - 1, 0))
    line = lines[row] if lines else ""
    start = min(max(f.column - 1, 0), len(line))
    end = len(line)
    href = None
    if f.code != CONFIG_CODE and _LINT_DOC.is_file():
        href = types.CodeDescription(href=_LINT_DOC.as_uri())
    return types.Diagnostic(
        range=types.Range(types.Position(row, start), types.Position(row, end)),
        message=f.message,
        severity=_SEVERITY.get(f.severity, types.DiagnosticSeverity.Warning),
        code=f.code,
        code_description=href,
        source=SOURCE,
    )


def diagnostics(where: Place, text: str, today: dt.date) -> list[types.Diagnostic]:
    lines = text.replace("\r\n", "\n").split("\n")  # LSP's lines, not str.splitlines'
    return [diagnostic(f, lines) for f in findings(where, text, today)]
