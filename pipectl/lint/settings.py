"""Rule settings from pipeline.yaml: effective thresholds and severities, and their validation.

Other commands (sweep, agenda, board) read thresholds through `setting()` so they agree with
lint. Validation raises ConfigError naming pipeline.yaml's line; it never prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipectl.config import Config, line_of
from pipectl.errors import ConfigError
from pipectl.lint.model import SEVERITIES, Option, Rule

SEVERITY_KEY = "severity"
STAGES_KEY = "stages"
SEVERITY_VALUES = (*SEVERITIES, "off")


def _rule(rule: Rule | str) -> Rule:
    if isinstance(rule, Rule):
        return rule
    from pipectl.lint.registry import get_rule

    return get_rule(rule)


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


def setting(config: Config, rule: Rule | str, key: str, stage: str | None = None) -> Any:
    """A rule's effective setting, e.g. `setting(cfg, "PL301", "days", stage="closing")`.

    Precedence: the stage's override in pipeline.yaml, then the rule's value in pipeline.yaml,
    then the built-in default for that stage, then the built-in default. `rule` is a code or
    a name; an unknown rule or key raises KeyError (a programming error, not a user's).
    """
    r = _rule(rule)
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


def severity(config: Config, rule: Rule | str, stage: str | None = None) -> str:
    """The rule's severity for a stage: error, warning, info, or "off"."""
    r = _rule(rule)
    stage_section = _stage_section(config, r, stage)
    if SEVERITY_KEY in stage_section:
        return _severity_word(stage_section[SEVERITY_KEY])
    return _severity_word(_section(config, r).get(SEVERITY_KEY, r.severity))


def _severity_word(value: Any) -> str:
    # YAML 1.1 (PyYAML) reads an unquoted `off` as false: that is what the user meant
    return "off" if value is False else str(value)


def enabled_anywhere(config: Config, rule: Rule) -> bool:
    """False only when the rule is off everywhere (so the runner can skip it entirely)."""
    if severity(config, rule) != "off":
        return True
    per_stage = _section(config, rule).get(STAGES_KEY)
    if isinstance(per_stage, Mapping):
        return any(
            isinstance(s, Mapping) and _severity_word(s.get(SEVERITY_KEY, "off")) != "off"
            for s in per_stage.values()
        )
    return False


# --- validation -----------------------------------------------------------------------------


def validate(config: Config) -> None:
    """Check the `rules:` section; a bad setting raises ConfigError with pipeline.yaml's line."""
    from pipectl.lint.registry import RULES, get_rule

    text = _config_text(config)
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
                r, str(opt_key), v, f"{where}.{stage}",
                [key, STAGES_KEY, str(stage), str(opt_key)], fail, stage=True,
            )  # fmt: skip


def _validate_value(
    r: Rule, key: str, value: Any, where: str, keys: list[str], fail: Any, *, stage: bool
) -> None:
    if key == SEVERITY_KEY:
        if _severity_word(value) not in SEVERITY_VALUES:
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


def _config_text(config: Config) -> str:
    if config.path is None:
        return ""
    try:
        return config.path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""
