"""Validation of pipeline.yaml's `rules:` section against the registry's rules and options.

Every command that reads thresholds validates through here, so a bad setting is one error
with pipeline.yaml's line wherever it is met. Raises ConfigError; never prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipectl.config import Config
from pipectl.errors import ConfigError
from pipectl.lint.model import Rule
from pipectl.lint.registry import RULES, get_rule
from pipectl.lint.settings import (
    SEVERITY_KEY,
    SEVERITY_VALUES,
    STAGES_KEY,
    config_text,
    severity_word,
    type_problem,
)
from pipectl.yamltext import line_of

# Configs already validated in this process, by id; the Config is kept so that an id is never
# reused by another one (a command has one config; the tests make many)
_VALID: dict[int, Config] = {}


def ensure_valid(config: Config) -> Config:
    """Validate `rules:` once per config: every command that reads a threshold (lint, board,
    agenda, sweep, list --overdue) refuses a bad setting the same way, with its line."""
    if _VALID.get(id(config)) is not config:
        validate(config)
        _VALID[id(config)] = config
    return config


def validate(config: Config) -> None:
    """Check the `rules:` section; a bad setting raises ConfigError with pipeline.yaml's line."""
    text = config_text(config)
    rules = config.rules or {}
    seen: dict[str, str] = {}

    def fail(keys: list[str], message: str) -> ConfigError:
        return ConfigError(message, config.path, line_of(text, ["rules", *keys]))

    for rule_key, section in rules.items():
        key = str(rule_key)
        try:
            r = get_rule(key)
        except KeyError:
            names = ", ".join(r.name for r in RULES)
            raise fail([key], f"rules: unknown rule {key!r} (rules: {names})") from None
        if r.code in seen:
            raise fail([key], f"rules: {key} and {seen[r.code]} both configure {r.code}")
        seen[r.code] = key
        if section is None:
            continue
        if not isinstance(section, Mapping):
            raise fail([key], f"rules.{key}: must be a mapping of settings")
        for opt_key, value in section.items():
            name = str(opt_key)
            if name == STAGES_KEY:
                _validate_stages(config, r, key, value, fail)
            else:
                _validate_value(r, name, value, f"rules.{key}", [key, name], fail, stage=False)
                _validate_stage_name(config, r, name, value, [key, name], fail)


def _validate_stages(config: Config, r: Rule, key: str, value: Any, fail: Any) -> None:
    where = f"rules.{key}.stages"
    if not isinstance(value, Mapping):
        raise fail([key, STAGES_KEY], f"{where}: must map stage names to settings")
    for stage, settings in value.items():
        if config.stage(str(stage)) is None:
            stages = ", ".join(config.stage_names)
            raise fail(
                [key, STAGES_KEY, str(stage)], f"{where}: unknown stage {stage!r} ({stages})"
            )
        if not isinstance(settings, Mapping):
            raise fail([key, STAGES_KEY, str(stage)], f"{where}.{stage}: must be a mapping")
        for opt_key, v in settings.items():
            _validate_value(
                r,
                str(opt_key),
                v,
                f"{where}.{stage}",
                [key, STAGES_KEY, str(stage), str(opt_key)],
                fail,
                stage=True,
            )


def _validate_value(
    r: Rule, key: str, value: Any, where: str, keys: list[str], fail: Any, *, stage: bool
) -> None:
    if key == SEVERITY_KEY:
        if severity_word(value) not in SEVERITY_VALUES:
            raise fail(keys, f"{where}.severity: must be one of {', '.join(SEVERITY_VALUES)}")
        return
    try:
        opt = r.option(key)
    except KeyError:
        known = [o.key for o in r.options if o.per_stage or not stage] + [SEVERITY_KEY]
        if not stage:
            known.append(STAGES_KEY)
        raise fail(
            keys, f"{where}: unknown setting {key!r} for {r.name} (known: {', '.join(known)})"
        ) from None
    if stage and not opt.per_stage:
        raise fail(keys, f"{where}.{key}: cannot be set per stage")
    problem = type_problem(opt, value)
    if problem:
        raise fail(keys, f"{where}.{key}: {problem}")


def _validate_stage_name(
    config: Config, r: Rule, key: str, value: Any, keys: list[str], fail: Any
) -> None:
    opts = [o for o in r.options if o.key == key and o.kind == "stage"]
    if opts and value and config.stage(str(value)) is None:
        stages = ", ".join(config.stage_names)
        raise fail(keys, f"rules.{keys[0]}.{key}: unknown stage {value!r} ({stages})")
