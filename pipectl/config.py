"""pipeline.yaml: a declarative spec of its keys, their defaults, and validation.

`CONFIG_SPEC` is the single source of truth for the keys; the docs are generated from it.
Rule thresholds live under `rules:` and are validated by the lint registry that owns them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipectl import yamlio
from pipectl.errors import ConfigError
from pipectl.yamltext import line_of

CONFIG_FILE = "pipeline.yaml"

DEFAULT_STAGES: tuple[tuple[str, float, str | None], ...] = (
    ("prospecting", 0.1, None),
    ("qualifying", 0.2, None),
    ("connecting", 0.4, None),
    ("closing", 0.7, None),
    ("won", 1.0, "won"),
    ("lost", 0.0, "lost"),
)


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline, in order; `closed` is "won", "lost" or None (open)."""

    name: str
    probability: float
    closed: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed is None


@dataclass(frozen=True)
class SpecEntry:
    """One top-level key of pipeline.yaml: its name, kind, default and meaning."""

    key: str
    kind: str
    default: Any
    doc: str


CONFIG_SPEC: tuple[SpecEntry, ...] = (
    SpecEntry(
        "stages",
        "list",
        [s[0] for s in DEFAULT_STAGES],
        "Stages in pipeline order. Each item is a name or a mapping "
        "`{name, probability, closed: won|lost}`. The folder of a deal is its stage.",
    ),
    SpecEntry("currency", "str", "USD", "Currency of deals that do not name their own."),
    SpecEntry(
        "qualification.criteria",
        "list",
        ["budget", "need", "fit", "timeline"],
        "Criteria a deal must meet to be qualified; a criterion is met when its key is present "
        "under `qualification:` and not false, no or empty.",
    ),
    SpecEntry(
        "qualification.gate",
        "str",
        "connecting",
        "First stage at which every criterion must be met (PL401).",
    ),
    SpecEntry(
        "touchpoints.kinds",
        "list",
        ["call", "email", "meeting", "message", "note", "demo", "proposal"],
        "Kinds of touchpoint `pipectl log` accepts.",
    ),
    SpecEntry(
        "touchpoints.outcomes",
        "list",
        ["replied", "no-reply", "meeting-booked", "positive", "negative", "voicemail", "bounced"],
        "Outcomes a touchpoint may record.",
    ),
    SpecEntry(
        "touchpoints.reply_outcomes",
        "list",
        ["replied", "meeting-booked", "positive", "negative"],
        "Outcomes that count as an answer from the customer (PL501 counts the others).",
    ),
    SpecEntry(
        "lost_reasons",
        "list",
        ["price", "competitor", "no-budget", "no-decision", "timing", "no-response", "other"],
        "Allowed reasons for `pipectl lost --reason`.",
    ),
    SpecEntry("require_lost_reason", "bool", True, "Whether `pipectl lost` requires `--reason`."),
    SpecEntry(
        "required_fields",
        "list",
        ["title", "created"],
        "Fields every deal must have (PL102); `required_fields_by_stage` adds per stage.",
    ),
    SpecEntry(
        "required_fields_by_stage",
        "map",
        {"won": ["closed"], "lost": ["closed", "lost_reason"]},
        "Extra required fields per stage, e.g. `{closing: [expected_close]}`. When absent: "
        "`closed` in the closed-won stage, `closed` and `lost_reason` in the closed-lost stage.",
    ),
    SpecEntry(
        "quota",
        "number",
        None,
        "Sales target for the coming period; enables the coverage rule (PL604).",
    ),
    SpecEntry(
        "sweep.grace_days",
        "number",
        7,
        "Days `pipectl sweep --last-chance` gives a lead to answer before `--close` may close "
        "it as lost (the due date of the next step it sets).",
    ),
    SpecEntry(
        "sweep.kind",
        "str",
        "email",
        "Touchpoint kind of the last-chance message `pipectl sweep --last-chance` logs.",
    ),
    SpecEntry(
        "sweep.lost_reason",
        "str",
        "no-response",
        "Lost reason `pipectl sweep --close` records (one of `lost_reasons`).",
    ),
    SpecEntry(
        "rules",
        "map",
        {},
        "Rule settings by rule name or code: thresholds, `severity` (error, warning, info, off) "
        "and per-stage overrides under `stages:`. See `pipectl rules`.",
    ),
)

_SPEC_BY_KEY = {e.key: e for e in CONFIG_SPEC}


@dataclass(frozen=True)
class Config:
    """A validated pipeline.yaml with every default filled in."""

    path: Path | None
    stages: tuple[Stage, ...]
    currency: str = "USD"
    qualification_criteria: tuple[str, ...] = ()
    qualification_gate: str | None = None
    touchpoint_kinds: tuple[str, ...] = ()
    touchpoint_outcomes: tuple[str, ...] = ()
    reply_outcomes: tuple[str, ...] = ()
    lost_reasons: tuple[str, ...] = ()
    require_lost_reason: bool = True
    required_fields: tuple[str, ...] = ()
    required_fields_by_stage: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    quota: float | None = None
    sweep_grace_days: int = 7
    sweep_kind: str = "email"
    sweep_lost_reason: str = "no-response"
    rules: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

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
        return next((s for s in self.stages if s.name == name), None)

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
    shown = _display(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 ({exc.reason})", shown) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", shown) from None
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
    return parse_config(data, path, text)


def _display(path: Path) -> Path:
    """The path as users should read it: relative to the working directory when inside it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def parse_config(data: Mapping[str, Any], path: Path | None, text: str) -> Config:
    def fail(key: str, message: str) -> ConfigError:
        shown = None if path is None else _display(path)
        return ConfigError(f"{key}: {message}", shown, line_of(text, key.split(".")))

    def get(key: str) -> Any:
        node: Any = data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return _SPEC_BY_KEY[key].default
            node = node[part]
        return node

    for section in ("qualification", "touchpoints", "rules", "required_fields_by_stage",
                    "sweep"):  # fmt: skip
        if section in data and not isinstance(data[section], Mapping | type(None)):
            raise fail(section, "must be a mapping")
    known = {e.key.split(".")[0] for e in CONFIG_SPEC}
    for key in data:
        if key not in known:
            raise fail(str(key), f"unknown key (known: {', '.join(sorted(known))})")

    stages = _parse_stages(get("stages"), fail)
    names = {s.name for s in stages}

    def words(key: str) -> tuple[str, ...]:
        value = get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise fail(key, "must be a list of words")
        return tuple(str(v) for v in value)

    gate = get("qualification.gate")
    if gate is not None and gate not in names:
        raise fail("qualification.gate", f"{gate!r} is not a stage")
    if "required_fields_by_stage" in data:
        by_stage_raw = data["required_fields_by_stage"] or {}
    else:
        by_stage_raw = {s.name: ["closed"] + (["lost_reason"] if s.closed == "lost" else [])
                        for s in stages if s.closed}  # fmt: skip
    by_stage: dict[str, tuple[str, ...]] = {}
    for stage_name, fields in by_stage_raw.items():
        if stage_name not in names:
            raise fail(f"required_fields_by_stage.{stage_name}", "is not a stage")
        if not isinstance(fields, list):
            raise fail(f"required_fields_by_stage.{stage_name}", "must be a list of field names")
        by_stage[str(stage_name)] = tuple(str(f) for f in fields)
    quota = get("quota")
    if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int | float)):
        raise fail("quota", "must be a number")
    grace = get("sweep.grace_days")
    if isinstance(grace, bool) or not isinstance(grace, int) or grace < 0:
        raise fail("sweep.grace_days", "must be a whole number of days ≥ 0")
    for key in ("sweep.kind", "sweep.lost_reason"):
        if not isinstance(get(key), str) or not get(key).strip():
            raise fail(key, "must be a word")
    require = get("require_lost_reason")
    if not isinstance(require, bool):
        raise fail("require_lost_reason", "must be true or false")
    currency = get("currency")
    if not isinstance(currency, str):
        raise fail("currency", "must be a currency code such as USD")
    rules = get("rules") or {}
    return Config(
        path=path,
        stages=stages,
        currency=currency,
        qualification_criteria=words("qualification.criteria"),
        qualification_gate=gate,
        touchpoint_kinds=words("touchpoints.kinds"),
        touchpoint_outcomes=words("touchpoints.outcomes"),
        reply_outcomes=words("touchpoints.reply_outcomes"),
        lost_reasons=words("lost_reasons"),
        require_lost_reason=require,
        required_fields=words("required_fields"),
        required_fields_by_stage=by_stage,
        quota=None if quota is None else float(quota),
        sweep_grace_days=grace,
        sweep_kind=get("sweep.kind").strip(),
        sweep_lost_reason=get("sweep.lost_reason").strip(),
        rules=rules,
        raw=dict(data),
    )


def _parse_stages(value: Any, fail: Callable[[str, str], ConfigError]) -> tuple[Stage, ...]:
    if not isinstance(value, list) or not value:
        raise fail("stages", "must be a non-empty list")
    defaults = {name: (prob, closed) for name, prob, closed in DEFAULT_STAGES}
    stages: list[Stage] = []
    for i, item in enumerate(value):
        entry = item if isinstance(item, Mapping) else {"name": item}
        name = entry.get("name")
        if not isinstance(name, str) or not _is_slug(name):
            raise fail(
                "stages",
                f"item {i + 1}: a stage name must be a lowercase word, got {name!r}",
            )
        prob_default, closed_default = defaults.get(name, (None, None))
        closed = entry.get("closed", closed_default)
        if closed not in (None, "won", "lost"):
            raise fail("stages", f"{name}: closed must be won or lost, got {closed!r}")
        probability = entry.get("probability", prob_default)
        if probability is None:
            probability = 1.0 if closed == "won" else 0.0 if closed == "lost" else 0.5
        if isinstance(probability, bool) or not isinstance(probability, int | float):
            raise fail("stages", f"{name}: probability must be a number between 0 and 1")
        if not 0 <= probability <= 1:
            raise fail("stages", f"{name}: probability must be between 0 and 1")
        if any(s.name == name for s in stages):
            raise fail("stages", f"{name}: listed twice")
        stages.append(Stage(name, float(probability), closed))
    return tuple(stages)


def _is_slug(name: str) -> bool:
    return (
        bool(name)
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
        and (name == name.lower())
        and not name.startswith(("-", "_", "."))
    )


def spec_markdown() -> str:
    """The reference of pipeline.yaml's keys, generated from CONFIG_SPEC (docs/config.md)."""
    import json

    lines = [
        "# pipeline.yaml reference",
        "",
        "<!-- generated from pipectl/config.py CONFIG_SPEC by "
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
    lines += ["", "The file `pipectl init` writes:", "", "```yaml", _DEFAULT_TEXT.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def default_config_text() -> str:
    """The commented pipeline.yaml that `pipectl init` writes."""
    return _DEFAULT_TEXT


_DEFAULT_TEXT = """\
# pipectl pipeline configuration. Every key is optional; these are the defaults.
# Reference: `pipectl rules` for rule settings, docs/config.md for every key.
currency: USD

# Stages in order. The folder a deal sits in is its stage.
stages:
  - {name: prospecting, probability: 0.1}
  - {name: qualifying, probability: 0.2}
  - {name: connecting, probability: 0.4}
  - {name: closing, probability: 0.7}    # proposal / negotiation
  - {name: won, probability: 1.0, closed: won}
  - {name: lost, probability: 0.0, closed: lost}

qualification:
  criteria: [budget, need, fit, timeline]
  gate: connecting      # every criterion must be met from this stage on

touchpoints:
  kinds: [call, email, meeting, message, note, demo, proposal]
  outcomes: [replied, no-reply, meeting-booked, positive, negative, voicemail, bounced]
  reply_outcomes: [replied, meeting-booked, positive, negative]

lost_reasons: [price, competitor, no-budget, no-decision, timing, no-response, other]
require_lost_reason: true

# Rule thresholds, by rule name; per-stage overrides under `stages:`. For example:
# rules:
#   stale: {days: 14, stages: {closing: {days: 7}}}
#   stage-over-capacity: {stages: {closing: {max_open: 10}}}
rules: {}
"""


if __name__ == "__main__":
    import sys

    sys.stdout.write(spec_markdown())
