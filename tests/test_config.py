"""pipeline.yaml: defaults, overrides, and errors that name the file, line and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipectl.config import Config, default_config, default_config_text, load_config, spec_markdown
from pipectl.configspec import CONFIG_SPEC
from pipectl.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_follow_the_founding_article():
    cfg = default_config()
    assert cfg.stage_names == ("prospecting", "qualifying", "connecting", "closing", "won", "lost")
    assert [s.name for s in cfg.open_stages] == [
        "prospecting",
        "qualifying",
        "connecting",
        "closing",
    ]
    assert cfg.won_stage and cfg.won_stage.name == "won"
    assert cfg.lost_stage and cfg.lost_stage.name == "lost"
    assert cfg.stage("closing").probability == 0.7  # type: ignore[union-attr]


def test_the_init_template_is_the_defaults(tmp_path: Path):
    cfg = load_config(write(tmp_path, default_config_text()))
    base = default_config()
    assert cfg.stages == base.stages
    assert cfg.qualification_criteria == base.qualification_criteria
    assert cfg.touchpoint_kinds == base.touchpoint_kinds


def test_empty_file_is_all_defaults(tmp_path: Path):
    assert load_config(write(tmp_path, "")).stages == default_config().stages


def test_custom_stages_and_closed_markers(tmp_path: Path):
    cfg = load_config(
        write(
            tmp_path,
            "stages:\n  - lead\n  - {name: demo, probability: 0.5}\n"
            "  - {name: signed, closed: won}\n  - {name: dropped, closed: lost}\n"
            "qualification:\n  gate: demo\n",
        )
    )
    assert cfg.stage_names == ("lead", "demo", "signed", "dropped")
    assert cfg.won_stage.name == "signed"  # type: ignore[union-attr]
    assert cfg.stage("signed").probability == 1.0  # type: ignore[union-attr]
    assert cfg.stage("lead").probability == 0.5  # type: ignore[union-attr]


def test_rule_options_with_per_stage_overrides(tmp_path: Path):
    cfg = load_config(
        write(tmp_path, "rules:\n  stale:\n    days: 10\n    stages:\n      closing: {days: 5}\n")
    )
    assert cfg.rule_option("stale", "PL301", "days", 14) == 10
    assert cfg.rule_option("stale", "PL301", "days", 14, stage="closing") == 5
    assert cfg.rule_option("stale", "PL301", "days", 14, stage="qualifying") == 10
    assert cfg.rule_option("stuck-in-stage", "PL302", "days", 14) == 14


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("currency: USD\nstages: []\n", ":2: stages", "non-empty list"),
        ("stages:\n  - prospecting\n  - Bad Name\n", ":1: stages", "lowercase word"),
        ("stages:\n  - {name: a, probability: 2}\n", ":1: stages", "between 0 and 1"),
        ("stages:\n  - {name: a, closed: maybe}\n", ":1: stages", "won or lost"),
        ("stages: [a, a]\n", ":1: stages", "listed twice"),
        ("qualification:\n  gate: nowhere\n", ":2: qualification.gate", "not a stage"),
        ("quota: lots\n", ":1: quota", "must be a number"),
        ("colour: blue\n", ":1: colour", "unknown key"),
        ("touchpoints:\n  kinds: call\n", ":2: touchpoints.kinds", "list of words"),
        ("require_lost_reason: maybe\n", ":1: require_lost_reason", "true or false"),
        ("stages: [a\n", ":2", "invalid YAML"),
        ("- just\n- a list\n", ":1", "mapping"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, where: str, message: str):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    text_of_error = str(info.value)
    assert text_of_error.startswith(str(tmp_path / "pipeline.yaml") + where), text_of_error
    assert message in text_of_error


def test_non_utf8_config(tmp_path: Path):
    path = tmp_path / "pipeline.yaml"
    path.write_bytes(b"currency: \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_every_key_is_documented_and_docs_are_current():
    for entry in CONFIG_SPEC:
        assert entry.doc.strip(), entry.key
    assert (ROOT / "docs" / "config.md").read_text(encoding="utf-8") == spec_markdown(), (
        "docs/config.md is out of date: run `python -m pipectl.config > docs/config.md`"
    )


def test_every_config_field_comes_from_one_spec_entry():
    attrs = [entry.attr for entry in CONFIG_SPEC]
    assert len(attrs) == len(set(attrs))
    assert set(attrs) == set(Config.__dataclass_fields__) - {"path", "raw", "text"}
    for name, f in Config.__dataclass_fields__.items():
        assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, name


def test_the_init_template_holds_every_default_it_names(tmp_path: Path):
    cfg, base = load_config(write(tmp_path, default_config_text())), default_config()
    for entry in CONFIG_SPEC:
        assert getattr(cfg, entry.attr) == getattr(base, entry.attr), entry.key


def test_the_documented_defaults_are_the_defaults():
    base = default_config()
    for entry in CONFIG_SPEC:
        assert entry.check(entry.default, base.stages) == getattr(base, entry.attr), entry.key


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("currency: 5\n", ":1: currency", "must be a currency code such as USD"),
        ("sweep:\n  grace_days: -1\n", ":2: sweep.grace_days", "whole number of days"),
        ("sweep:\n  kind: ''\n", ":2: sweep.kind", "must be a word"),
        ("sweep: 5\n", ":1: sweep", "must be a mapping"),
        (
            "required_fields_by_stage:\n  nowhere: []\n",
            ":2: required_fields_by_stage.nowhere",
            "is not a stage",
        ),
        (
            "required_fields_by_stage:\n  won: closed\n",
            ":2: required_fields_by_stage.won",
            "must be a list of field names",
        ),
        ("stages: [lead, won]\n", ": qualification.gate", "'connecting' is not a stage"),
        ("qualification:\n  gate: [1]\n", ":2: qualification.gate", "[1] is not a stage"),
    ],
)
def test_each_kind_of_value_is_checked_by_its_spec_entry(
    tmp_path: Path, text: str, where: str, message: str
):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    text_of_error = str(info.value)
    assert text_of_error.startswith(str(tmp_path / "pipeline.yaml") + where), text_of_error
    assert message in text_of_error
