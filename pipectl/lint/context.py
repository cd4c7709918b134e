"""What a rule sees: the loaded deals, the config, "today", settings and finding helpers.

Built once per run by the runner; rules only read it. It never prints, and touches git only
when a history rule asks for arrival dates (one `git log` pass, cached here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import yamlio
from ..config import Config
from ..deal import Deal, decode, split
from ..errors import DealError
from ..store import Pipeline
from . import settings
from .history import Arrivals, read_arrivals
from .model import Finding, Rule

CONFIG_PATH = "pipeline.yaml"


@dataclass
class Context:
    """One lint run's inputs. Deal paths are relative to the pipeline root (posix)."""

    pipeline: Pipeline
    config: Config
    today: dt.date
    deals: list[Deal]
    errors: list[DealError]
    stages_read: tuple[str, ...]
    _arrivals: Arrivals | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        return self.pipeline.root

    @property
    def open_deals(self) -> list[Deal]:
        open_names = {s.name for s in self.config.open_stages}
        return [d for d in self.deals if d.stage in open_names]

    def setting(self, rule: Rule, key: str, stage: str | None = None) -> Any:
        return settings.setting(self.config, rule, key, stage)

    def finding(
        self,
        rule: Rule,
        where: Deal | str,
        message: str,
        *,
        key: str | None = None,
        line: int | None = None,
        column: int = 1,
    ) -> Finding:
        """A finding on a deal (at `key`'s line, or `line`) or on a path such as pipeline.yaml.

        Its severity is the rule's for the deal's stage; "off" findings are dropped later.
        """
        if isinstance(where, Deal):
            path, deal_id, stage = where.path.as_posix(), where.id, where.stage
            if line is None:
                line = where.line_of(key) if key else 1
        else:
            path, deal_id, stage = where, None, None
        sev = settings.severity(self.config, rule, stage)
        return Finding(
            rule.code, rule.name, sev, path, max(1, line or 1), max(1, column), message, deal_id
        )

    def config_line(self, *keys: str) -> int:
        """The line of a key path in pipeline.yaml (1 when absent), for pipeline-wide findings."""
        text = settings._config_text(self.config)
        return settings._line_of(text, list(keys)) or 1

    def locate(self, deal: Deal, keys: Sequence[str | int]) -> int | None:
        """The file line of a nested value, e.g. ("touchpoints", 2); read only on a finding."""
        try:
            data = (self.root / deal.path).read_bytes()
            text = split(decode(data))
            node = yamlio.compose(text.yaml)
        except (OSError, DealError, yamlio.YAMLError, RecursionError):
            return None
        line = None
        for key in keys:
            value = getattr(node, "value", None)
            if not isinstance(value, list):
                break
            if isinstance(key, int):
                if key >= len(value) or isinstance(value[key], tuple):
                    break
                node = value[key]
                line = node.start_mark.line
            else:
                match = next(
                    (kv for kv in value if isinstance(kv, tuple) and kv[0].value == key), None
                )
                if match is None:
                    break
                line = match[0].start_mark.line
                node = match[1]
        return None if line is None else line + text.yaml_first_line

    def arrivals(self) -> Arrivals:
        """When each deal file entered its folder, from one git log pass (read on first use)."""
        if self._arrivals is None:
            self._arrivals = read_arrivals(self.pipeline.git, self.root)
        return self._arrivals

    def stage_entered(self, deal: Deal) -> tuple[dt.date | None, str | None]:
        """(date the deal entered its stage, None) or (None, why it cannot be told)."""
        entered = deal.date("stage_entered")
        if entered is not None:
            return entered, None
        if deal.fields.get("stage_entered") is not None:
            return None, "stage_entered is not a date"
        first = self.config.stage_names[0] if self.config.stages else None
        created = deal.date("created")
        if deal.stage == first and created is not None:
            # `pipectl add` sets no stage_entered in the first stage: it entered on creation
            return created, None
        arrivals = self.arrivals()
        date = arrivals.get(deal.path.as_posix())
        if date is not None:
            return date, None
        why = arrivals.unavailable or "the file has no committed history at this path"
        return None, f"no stage_entered and {why}"
