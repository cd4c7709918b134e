"""Read the deal files a lint run needs, fast: PyYAML's C loader, never ruamel or git.

Paths in the returned deals and errors are relative to the pipeline root. Never raises on
a file's content (a bad file becomes a DealError in the result); never prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..deal import Deal, parse_deal
from ..errors import DealError
from ..store import Pipeline


def load(pipeline: Pipeline, stages: Sequence[str]) -> tuple[list[Deal], list[DealError]]:
    deals: list[Deal] = []
    errors: list[DealError] = []
    for ref in pipeline.deal_refs(stages):
        rel = Path(ref.stage, ref.path.name)
        try:
            data = ref.path.read_bytes()
        except IsADirectoryError:
            errors.append(DealError("is a directory, not a deal file", rel, 1))
            continue
        except OSError as exc:
            errors.append(DealError(f"cannot read: {exc.strerror}", rel, 1))
            continue
        try:
            deals.append(parse_deal(data, rel, ref.stage))
        except DealError as exc:
            errors.append(exc)
        except (RecursionError, ValueError, TypeError) as exc:
            # a pathological file must become a finding, never a crash of the whole run
            errors.append(DealError(f"cannot parse: {type(exc).__name__}", rel, 1))
    return deals, errors
