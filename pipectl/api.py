"""The library face of pipectl: open a pipeline and read its deals, findings and history.

For scripts and other tools, over the same core the CLI uses (no second implementation of
anything). Read-only; the changing operations are `pipectl.ops`. Never prints.

    import pipectl
    p = pipectl.open("example_pipeline")
    for deal in p.deals(): ...
    for finding in p.lint(today=datetime.date(2026, 11, 27)).findings: ...
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipectl import dates, history, lint
from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.errors import DealError
from pipectl.store import Pipeline


class OpenPipeline:
    """A pipeline opened for reading: its config, deals, lint findings and git history."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline

    @property
    def root(self) -> Path:
        """The folder that holds pipeline.yaml."""
        return self.pipeline.root

    @property
    def config(self) -> Config:
        """pipeline.yaml, validated: stages, qualification criteria, rule settings."""
        return self.pipeline.config

    def deals(self, stages: Sequence[str] | None = None) -> list[Deal]:
        """Every deal that parses, in stage order (default: all stages)."""
        return self.pipeline.load(stages, relative=True).deals

    def errors(self, stages: Sequence[str] | None = None) -> list[DealError]:
        """The deal files that do not parse, each with its file and line."""
        return self.pipeline.load(stages, relative=True).errors

    def deal(self, ref: str) -> Deal:
        """One deal by id or unique id prefix (UsageError when unknown or ambiguous); its path
        is relative to the pipeline's folder, as in `deals()`."""
        found = self.pipeline.read_deal(self.pipeline.resolve(ref))
        return found.moved(found.path.resolve().relative_to(self.root))

    def lint(
        self,
        today: dt.date | None = None,
        select: Iterable[str] = (),
        ignore: Iterable[str] = (),
    ) -> lint.LintResult:
        """The pipeline's findings, as `pipectl lint` reports them (default today: the real
        today, or PIPECTL_TODAY)."""
        return lint.run(self.pipeline, today or dates.today(None), select, ignore)

    def history(self) -> history.History:
        """Every deal's life from git (empty outside git; `partial` in a shallow clone)."""
        return history.read(self.pipeline.git, self.pipeline.root)


def open_pipeline(path: str | os.PathLike[str] = ".") -> OpenPipeline:
    """The pipeline at `path` or the nearest folder above it with a pipeline.yaml."""
    return OpenPipeline(Pipeline.open(Path(path).resolve()))
