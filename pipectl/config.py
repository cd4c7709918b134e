"""pipeline.yaml: read it, validate it against `CONFIG_SPEC`, and fill in the defaults.

`CONFIG_SPEC` (configspec.py) is the single source of truth for the keys, their defaults and
checks; this module runs it and generates docs/config.md and `pipectl init`'s file from it.
Rule thresholds live under `rules:` and are validated by the lint registry that owns them.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pipectl import yamlio
from pipectl.capped import read_capped
from pipectl.configspec import (
    CONFIG_SPEC,
    DEFAULT_STAGES,
    SECTIONS,
    SPEC_BY_KEY,
    Invalid,
    Member,
    Stage,
)
from pipectl.errors import ConfigError
from pipectl.fieldtypes import FieldDecl
from pipectl.yamltext import line_of

CONFIG_FILE = "pipeline.yaml"

# A settings file of a few kilobytes; anything this big is refused rather than read.
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Config:
    """A validated pipeline.yaml with every default filled in.

    One field per CONFIG_SPEC entry (its `attr`), filled by `parse_config`: no defaults here.
    """

    path: Path | None
    stages: tuple[Stage, ...]
    currency: str  # the base currency (`base_currency`, or the older `currency`)
    legacy_currency: str | None
    qualification_criteria: tuple[str, ...]
    qualification_gate: str | None
    touchpoint_kinds: tuple[str, ...]
    touchpoint_outcomes: tuple[str, ...]
    reply_outcomes: tuple[str, ...]
    lost_reasons: tuple[str, ...]
    require_lost_reason: bool
    required_fields: tuple[str, ...]
    required_fields_by_stage: Mapping[str, tuple[str, ...]]
    quota: float | None
    quotas: tuple[tuple[str, float], ...]
    forecast_categories: Mapping[str, str]
    sweep_grace_days: int
    sweep_kind: str
    sweep_lost_reason: str
    snooze_max_days: int
    fields: tuple[FieldDecl, ...]
    team: tuple[Member, ...]
    rules: Mapping[str, Any]
    raw: Mapping[str, Any]
    # the file's text as read, to find lines in (lint's findings on it): a pipeline of another
    # day (`--as-of`) has no file on disk to read it again from
    text: str = field(repr=False, compare=False)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.is_open)

    @property
    def won_stage(self) -> Stage | None:
        return next((s for s in self.stages if s.closed == "won"), None)

    @property
    def lost_stage(self) -> Stage | None:
        return next((s for s in self.stages if s.closed == "lost"), None)

    def stage(self, name: str) -> Stage | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> Mapping[str, Stage]:
        """The stages by name: figures ask for a deal's stage hundreds of thousands of times."""
        return {s.name: s for s in self.stages}

    def stage_index(self, name: str) -> int:
        return self.stage_names.index(name)

    def rule_section(self, name: str, code: str) -> Mapping[str, Any]:
        """The settings of one rule, looked up by name or by code."""
        section = self.rules.get(name, self.rules.get(code, {}))
        return section if isinstance(section, Mapping) else {}

    def rule_option(
        self, name: str, code: str, key: str, default: Any, stage: str | None = None
    ) -> Any:
        """A rule threshold: the stage's override, else the rule's value, else the default."""
        section = self.rule_section(name, code)
        if stage is not None:
            per_stage = section.get("stages")
            if isinstance(per_stage, Mapping):
                stage_section = per_stage.get(stage)
                if isinstance(stage_section, Mapping) and key in stage_section:
                    return stage_section[key]
        return section.get(key, default)


def default_config() -> Config:
    """The configuration a pipeline gets when pipeline.yaml sets nothing."""
    return parse_config({}, None, "")


def load_config(path: Path) -> Config:
    """Read and validate pipeline.yaml; every error names the file, line and key."""
    return config_from_bytes(_read_capped(path, _display(path)), path)


def config_from_bytes(content: bytes, path: Path) -> Config:
    """pipeline.yaml from its bytes (as git stored them, for `--as-of`), validated as
    `load_config` validates the file at `path`."""
    data, text = yaml_mapping(content, _display(path))
    return parse_config(data, path, text)


def yaml_mapping(content: bytes, shown: Path) -> tuple[dict[str, Any], str]:
    """A YAML file of settings (pipeline.yaml, a workspace's pipectl.yaml) from its bytes:
    its mapping (empty for an empty file) and its text; a ConfigError with the line when it
    is not UTF-8, not YAML, or not a mapping."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 ({exc.reason})", shown) from None
    try:
        data = yamlio.load(text) if text.strip() else {}
    except yamlio.YAMLError as exc:
        line, _col, problem = yamlio.error_position(exc)
        raise ConfigError(
            f"invalid YAML: {problem}", shown, None if line is None else line + 1
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping of keys to values", shown, 1)
    return data, text


def _read_capped(path: Path, shown: Path) -> bytes:
    """pipeline.yaml's bytes, read as a deal is (store.read_regular, out of reach: the store
    imports this module): a link may point only inside the pipeline's folder, and only a
    regular file of at most MAX_CONFIG_BYTES is read (a FIFO or /dev/zero never blocks)."""
    root = os.path.realpath(path.parent)
    real = os.path.realpath(path)
    if os.path.dirname(real) != root and not real.startswith(root + os.sep):
        raise ConfigError("is a symbolic link to outside the pipeline; not read", shown)
    try:
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ConfigError("is not a regular file; not read", shown)
            data = read_capped(f, info.st_size, MAX_CONFIG_BYTES)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", shown) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"is larger than {MAX_CONFIG_BYTES >> 20} MB; not read", shown)
    return data


def _display(path: Path) -> Path:
    """The path as users should read it: relative to the working directory when inside it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def parse_config(data: Mapping[str, Any], path: Path | None, text: str) -> Config:
    """Every CONFIG_SPEC entry checked, in the spec's order; the first fault is the error."""

    def fail(key: str, message: str) -> ConfigError:
        shown = None if path is None else _display(path)
        return ConfigError(f"{key}: {message}", shown, line_of(text, key.split(".")))

    for section in SECTIONS:
        if section in data and not isinstance(data[section], Mapping | type(None)):
            raise fail(section, "must be a mapping")
    known = {e.key.split(".")[0] for e in CONFIG_SPEC}
    for key in data:
        if key not in known:
            raise fail(str(key), f"unknown key (known: {', '.join(sorted(known))})")

    values: dict[str, Any] = {}
    stages: tuple[Stage, ...] = ()
    for entry in CONFIG_SPEC:
        found, value = _lookup(data, entry.key)
        if not found:
            value = entry.default_for(stages) if entry.default_for else entry.default
        try:
            values[entry.attr] = entry.check(value, stages)
        except Invalid as exc:
            raise fail(exc.key or entry.key, exc.message) from None
        if entry.key == "stages":  # the first entry: later checks name the stages
            stages = values[entry.attr]
    # `currency` is the older name of `base_currency`: read when alone, refused when it differs
    legacy = values["legacy_currency"]
    if legacy is not None:
        if _lookup(data, "base_currency")[0] and legacy != values["currency"]:
            raise fail("currency", f"{legacy!r} disagrees with base_currency; keep one")
        values["currency"] = legacy
    return Config(path=path, raw=dict(data), text=text, **values)


def _lookup(data: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """(True, value) for a dotted key set in the file; (False, None) when it is not."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def spec_markdown() -> str:
    """The reference of pipeline.yaml's keys, generated from CONFIG_SPEC (docs/config.md)."""
    import json

    lines = [
        "# pipeline.yaml reference",
        "",
        "<!-- generated from pipectl/configspec.py CONFIG_SPEC by "
        "`python -m pipectl.config > docs/config.md`; do not edit by hand -->",
        "",
        "`pipeline.yaml` marks the root of a pipeline. Every key is optional; a missing key "
        "takes its default. A bad value is reported with the file, line and key (exit 2).",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for e in CONFIG_SPEC:
        default = json.dumps(e.default, ensure_ascii=False)
        doc = e.doc.replace("|", "\\|")
        lines.append(f"| `{e.key}` | {e.kind} | `{default}` | {doc} |")
    init = default_config_text().rstrip()
    lines += ["", "The file `pipectl init` writes:", "", "```yaml", init, "```"]
    return "\n".join(lines) + "\n"


def default_config_text() -> str:
    """The commented pipeline.yaml that `pipectl init` writes: CONFIG_SPEC's defaults."""

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "stages":
            return "\n".join(_stage_line(*stage) for stage in DEFAULT_STAGES)
        return _plain(SPEC_BY_KEY[key].default)

    return _PLACEHOLDER_RE.sub(value, _INIT_TEMPLATE)


def _stage_line(name: str, probability: float, closed: str | None) -> str:
    closing = f", closed: {closed}" if closed else ""
    line = f"  - {{name: {name}, probability: {probability}{closing}}}"
    return line + (f"    # {_STAGE_NOTES[name]}" if name in _STAGE_NOTES else "")


def _plain(value: Any) -> str:
    """A default as flow YAML; the defaults are plain words, so none needs quotes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    return str(value)


_STAGE_NOTES = {"closing": "proposal / negotiation"}

# Each `{key}` is filled with that key's default from CONFIG_SPEC; the rest is commentary.
_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)?)\}")
_INIT_TEMPLATE = """\
# pipectl pipeline configuration. Every key is optional; these are the defaults.
# Reference: `pipectl rules` for rule settings, docs/config.md for every key.
base_currency: {base_currency}    # totals are in it; rates.csv converts the others

# Stages in order. The folder a deal sits in is its stage.
stages:
{stages}

qualification:
  criteria: {qualification.criteria}
  gate: {qualification.gate}      # every criterion must be met from this stage on

touchpoints:
  kinds: {touchpoints.kinds}
  outcomes: {touchpoints.outcomes}
  reply_outcomes: {touchpoints.reply_outcomes}

lost_reasons: {lost_reasons}
require_lost_reason: {require_lost_reason}

# Rule thresholds, by rule name; per-stage overrides under `stages:`. For example:
# rules:
#   stale: {days: 14, stages: {closing: {days: 7}}}
#   stage-over-capacity: {stages: {closing: {max_open: 10}}}
rules: {rules}
"""


if __name__ == "__main__":
    import sys

    sys.stdout.write(spec_markdown())
