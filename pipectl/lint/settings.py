"""Rule settings from pipeline.yaml: a rule's effective thresholds and severity per stage.

Pure lookups on a Rule and a Config, below the registry (a rule's own check asks here);
other commands ask by rule code through `pipectl.lint.setting`. Never reads files or prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipectl.config import Config
from pipectl.lint.model import SEVERITIES, Option, Rule

SEVERITY_KEY = "severity"
STAGES_KEY = "stages"
SEVERITY_VALUES = (*SEVERITIES, "off")


def _section(config: Config, rule: Rule) -> Mapping[str, Any]:
    return config.rule_section(rule.name, rule.code)


def _stage_section(config: Config, rule: Rule, stage: str | None) -> Mapping[str, Any]:
    if stage is None:
        return {}
    per_stage = _section(config, rule).get(STAGES_KEY)
    if not isinstance(per_stage, Mapping):
        return {}
    found = per_stage.get(stage)
    return found if isinstance(found, Mapping) else {}


def setting(config: Config, rule: Rule, key: str, stage: str | None = None) -> Any:
    """A rule's effective setting, e.g. `setting(cfg, "PL301", "days", stage="closing")`.

    Precedence: the stage's override in pipeline.yaml, then the rule's value in pipeline.yaml,
    then the built-in default for that stage, then the built-in default. `rule` is a code or
    a name; an unknown key raises KeyError (a programming error, not a user's).
    """
    r = rule
    opt = r.option(key)
    if opt.per_stage:
        stage_section = _stage_section(config, r, stage)
        if key in stage_section:
            return stage_section[key]
    section = _section(config, r)
    if key in section:
        return section[key]
    if stage is not None and stage in opt.stage_defaults:
        return opt.stage_defaults[stage]
    return opt.default


def severity(config: Config, rule: Rule, stage: str | None = None) -> str:
    """The rule's severity for a stage: error, warning, info, or "off"."""
    r = rule
    stage_section = _stage_section(config, r, stage)
    if SEVERITY_KEY in stage_section:
        return severity_word(stage_section[SEVERITY_KEY])
    return severity_word(_section(config, r).get(SEVERITY_KEY, r.severity))


def severity_word(value: Any) -> str:
    # YAML 1.1 (PyYAML) reads an unquoted `off` as false: that is what the user meant
    return "off" if value is False else str(value)


def enabled_anywhere(config: Config, rule: Rule) -> bool:
    """False only when the rule is off everywhere (so the runner can skip it entirely)."""
    if severity(config, rule) != "off":
        return True
    per_stage = _section(config, rule).get(STAGES_KEY)
    if isinstance(per_stage, Mapping):
        return any(
            isinstance(s, Mapping) and severity_word(s.get(SEVERITY_KEY, "off")) != "off"
            for s in per_stage.values()
        )
    return False


def type_problem(opt: Option, value: Any) -> str | None:
    """Why `value` does not fit the option, or None when it does."""
    if opt.kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else f"must be a whole number ≥ 0, got {value!r}"
    if opt.kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        return None if ok else f"must be a number ≥ 0, got {value!r}"
    if opt.kind == "bool":
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if opt.kind in ("str", "stage"):
        return None if isinstance(value, str) else f"must be a word, got {value!r}"
    if opt.kind == "words":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else f"must be a list of words, got {value!r}"
    return f"has an unknown kind {opt.kind!r}"  # pragma: no cover - a registry bug


def config_text(config: Config) -> str:
    """pipeline.yaml as text, to find lines in: as it was read (empty when there is none),
    never read again (a pipeline of another day has no file on disk)."""
    return config.text
