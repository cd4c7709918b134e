"""What a rule sees: the loaded deals, the config, "today", settings and finding helpers.

Built once per run by the runner; rules only read it. It never prints, and touches git only
when a history rule asks for arrival dates (one `git log` pass, cached here, or handed in by
a command that read them already).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipectl import stagetime, tasks
from pipectl.config import Config
from pipectl.deal import Deal, decode, split
from pipectl.errors import DealError
from pipectl.history import Arrivals, read_arrivals
from pipectl.lint import settings, suppress
from pipectl.lint.model import Finding, Rule
from pipectl.rates import Rates, read_rates
from pipectl.store import DealRef, Pipeline
from pipectl.yamltext import item_line, line_of

CONFIG_PATH = "pipeline.yaml"
_NONE = suppress.Suppressions({}, ())


@dataclass
class Context:
    """One lint run's inputs. Deal paths are relative to the pipeline root (posix)."""

    pipeline: Pipeline
    config: Config
    today: dt.date
    deals: list[Deal]
    errors: list[DealError]
    stages_read: tuple[str, ...]
    # the registry's lookup by code or name, handed in so that rules never import the registry
    get_rule: Callable[[str], Rule]
    # when each file entered its folder: read on first use, unless the caller read it already
    arrivals_read: Arrivals | None = field(default=None, repr=False)
    # thresholds and severities are asked for once per deal and rule: remember them
    _memo: dict[tuple[str, str, str | None], Any] = field(default_factory=dict, repr=False)
    _open: list[Deal] | None = field(default=None, repr=False)
    _awake: list[Deal] | None = field(default=None, repr=False)
    _rates: Rates | None = field(default=None, repr=False)
    _suppressions: dict[int, suppress.Suppressions] = field(default_factory=dict, repr=False)
    # deal files read from an editor's buffer instead of the disk, by relative posix path
    unsaved: dict[str, bytes] = field(default_factory=dict, repr=False)
    # a run about the unsaved files only (`lint.run(focus=True)`): rules whose findings are
    # never on those files (deal files in stage folders) need not look
    focus: bool = False
    # each message text and file path once: a large run's findings repeat a few thousand
    # texts and name each file about twice (163,000 findings of 100,000 deals, 3,300 texts,
    # 75,000 files)
    _texts: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def root(self) -> Path:
        return self.pipeline.root

    @property
    def open_deals(self) -> list[Deal]:
        if self._open is None:
            open_names = {s.name for s in self.config.open_stages}
            self._open = [d for d in self.deals if d.stage in open_names]
        return self._open

    @property
    def awake_deals(self) -> list[Deal]:
        """The open deals not snoozed today: the ones the time rules (tasks.SNOOZED_RULES) see."""
        if self._awake is None:
            self._awake = [d for d in self.open_deals if not tasks.is_snoozed(d, self.today)]
        return self._awake

    def rates(self) -> Rates:
        """The rate table (rates.csv, of the commit for `--as-of`), read once per run; an
        unreadable file raises its ConfigError."""
        if self._rates is None:
            self._rates = read_rates(self.pipeline)
        return self._rates

    def suppressions(self, deal: Deal) -> suppress.Suppressions:
        """The deal's `lint-ignore` entries, parsed once per run (a rule and the runner ask)."""
        if deal.fields.get(suppress.KEY) is None:
            return _NONE
        try:
            return self._suppressions[id(deal)]
        except KeyError:
            found = self._suppressions[id(deal)] = suppress.parse(deal, self.get_rule)
            return found

    def setting(self, rule: Rule, key: str, stage: str | None = None) -> Any:
        memo_key = (rule.code, key, stage)
        try:
            return self._memo[memo_key]
        except KeyError:
            value = self._memo[memo_key] = settings.setting(self.config, rule, key, stage)
            return value

    def severity(self, rule: Rule, stage: str | None) -> str:
        memo_key = (rule.code, "\0severity", stage)
        try:
            return str(self._memo[memo_key])
        except KeyError:
            value = self._memo[memo_key] = settings.severity(self.config, rule, stage)
            return value

    def finding(
        self,
        rule: Rule,
        where: Deal | str,
        message: str,
        *,
        key: str | None = None,
        line: int | None = None,
        column: int = 1,
        anchor: str | None = None,
    ) -> Finding:
        """A finding on a deal (at `key`'s line, or `line`) or on a path such as pipeline.yaml.

        Its severity is the rule's for the deal's stage; "off" findings are dropped later.
        `anchor` (default: the key) is what it is about, for its fingerprint.
        """
        if isinstance(where, Deal):
            posix = where.posix
            path = self._texts.setdefault(posix, posix)
            deal_id, stage = where.id, where.stage
            if line is None:
                line = where.line_of(key) if key else 1
        else:
            path, deal_id, stage = where, None, None
        sev = self.severity(rule, stage)
        where_line, col = max(1, line or 1), max(1, column)
        about = (key or "") if anchor is None else anchor
        message = self._texts.setdefault(message, message)
        return Finding(rule.code, rule.name, sev, path, where_line, col, message, deal_id, about)

    def config_line(self, *keys: str | int) -> int:
        """The line of a key path in pipeline.yaml (1 when absent), for pipeline-wide findings."""
        text = settings.config_text(self.config)
        return line_of(text, list(keys)) or 1

    def locate(self, deal: Deal, keys: Sequence[str | int]) -> int | None:
        """The file line of a nested value, e.g. ("touchpoints", 2); read only on a finding."""
        try:
            data = self.unsaved.get(deal.posix)
            if data is None:
                ref = DealRef(deal.id, deal.stage, self.root / deal.path)
                data = self.pipeline.read_bytes(ref)  # from git, for `--as-of`
            text = split(decode(data))
        except (OSError, DealError):
            return None
        first = text.yaml_first_line
        if len(keys) == 2 and isinstance(keys[0], str) and isinstance(keys[1], int):
            items = deal.fields.get(keys[0])
            if isinstance(items, list):  # the text scan costs microseconds, composing a millisecond
                quick = item_line(text.yaml, keys[0], keys[1], len(items), first)
                if quick is not None:
                    return quick
        try:
            return line_of(text.yaml, keys, first)
        except RecursionError:
            return None

    def arrivals(self) -> Arrivals:
        """When each deal file entered its folder, from one git log pass (read on first use)."""
        if self.arrivals_read is None:
            self.arrivals_read = read_arrivals(self.pipeline.git, self.root, self.pipeline.at)
        return self.arrivals_read

    def stage_entered(self, deal: Deal) -> tuple[dt.date | None, str | None]:
        """(date the deal entered its stage, None) or (None, why it cannot be told): the one
        answer of `stagetime.entered`, over the arrivals read once per run."""
        return stagetime.entered(deal, self.config, self.arrivals())
