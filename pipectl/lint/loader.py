"""Read the deal files a lint run needs, fast: PyYAML's C loader, never ruamel or git.

Paths in the returned deals and errors are relative to the pipeline root. Never raises on
a file's content (a bad file becomes a DealError in the result); never prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipectl.deal import Deal
from pipectl.errors import DealError
from pipectl.store import Pipeline


def load(pipeline: Pipeline, stages: Sequence[str]) -> tuple[list[Deal], list[DealError]]:
    # through the parsed-deal cache (pipectl/caches/deals.py): same results, parsed once per change
    try:
        result = pipeline.load(stages, relative=True)
        return result.deals, result.errors
    except OSError:
        pass
    # a stage folder that cannot be listed must not hide the others: go one stage at a time
    deals: list[Deal] = []
    errors: list[DealError] = []
    for stage in stages:
        try:
            one = pipeline.load([stage], relative=True)
        except OSError as exc:
            errors.append(DealError(f"cannot read folder: {exc.strerror}", Path(stage), 1))
            continue
        deals.extend(one.deals)
        errors.extend(one.errors)
    return deals, errors
