"""Hypothesis: every write path agrees with the schema. A value the schema accepts is written,
reads back as the same value and lints clean of type findings (PL103), whichever path wrote
it; a value it refuses is refused by every path, with every byte left as it was."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipectl import fieldinput, lint, ops
from pipectl.config import CONFIG_FILE
from pipectl.dealedit import scalar
from pipectl.errors import PipectlError
from pipectl.schema import for_config
from pipectl.store import Pipeline
from pipectl.yamltext import same_value

FIELDS = """\
fields:
  t_text: text
  t_number: {type: number, min: 0, max: 100}
  t_integer: integer
  t_money: money
  t_date: date
  t_enum: {type: enum, values: [a, b]}
  t_list: {type: list}
  t_email: email
  t_url: url
  t_bool: bool
"""
WHEN = dt.date(2026, 3, 1)
WORDS = ["a", "b", "c", "yes", "x@y.example", "https://a.example/p", "2026-01-05", "2026-02-31"]
VALUES = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
    st.booleans(),
    st.dates(dt.date(2025, 1, 1), dt.date(2027, 1, 1)),
    st.lists(st.sampled_from([*WORDS, 3]), max_size=3),
    st.dictionaries(st.sampled_from(["k", "m"]), st.integers(0, 3), max_size=2),
)
KEYS = st.sampled_from([line.split(":")[0].strip() for line in FIELDS.splitlines()[1:]])
_ids = itertools.count()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    root = tmp_path_factory.mktemp("schema-prop")  # no git: the paths under test, not commits
    (root / CONFIG_FILE).write_text(FIELDS)
    return Pipeline(root)


def expected_ok(pipeline: Pipeline, key: str, written: Any) -> bool:
    """The oracle: what the schema says of the value as YAML reads it back."""
    return for_config(pipeline.config).fields[key].problem(written) is None


def type_findings(pipeline: Pipeline, deal_id: str) -> list[str]:
    result = lint.run(pipeline, WHEN, select=("PL103",))
    return [f.message for f in result.findings if f.path.stem == deal_id]


def as_read(value: Any) -> Any:
    """The value as a deal file holds it once written in YAML and read back."""
    return yaml.safe_load(scalar(value))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=KEYS, value=VALUES)
def test_add_and_edit_agree_with_the_schema(pipeline: Pipeline, key: str, value: Any) -> None:
    written = as_read(value)
    ok = expected_ok(pipeline, key, written)
    if key == "t_date" and isinstance(value, str) and ok:
        written = dt.date.fromisoformat(value)  # add reads a typed date as a date

    # path 1: add with the field
    deal_id = f"d{next(_ids)}"
    folder = pipeline.root / "prospecting"
    before = set(folder.glob("*.md")) if folder.exists() else set()
    try:
        ops.add(pipeline, "Deal", deal_id=deal_id, fields={key: value}, when=WHEN)
        added = True
    except PipectlError as exc:
        assert exc.exit_code == 2
        added = False
    assert added == ok, (key, value)
    if not added:
        after = set(folder.glob("*.md")) if folder.exists() else set()
        assert after == before
    else:
        deal = pipeline.read_deal(pipeline.resolve(deal_id))
        assert same_value(deal.fields[key], written), (key, value, deal.fields[key])
        assert type_findings(pipeline, deal_id) == []

    # path 2: an edit that writes the line `key: value` into a clean deal
    edit_id = f"d{next(_ids)}"
    ops.add(pipeline, "Deal", deal_id=edit_id, when=WHEN)
    ref = pipeline.resolve(edit_id)
    old = pipeline.read_bytes(ref)
    new = old.replace(b"\n---\n", f"\n{key}: {scalar(value)}\n---\n".encode(), 1)
    try:
        ops.save_edit(pipeline, ref, old, new)
        saved = True
    except PipectlError as exc:
        assert exc.exit_code == 2
        saved = False
    assert saved == expected_ok(pipeline, key, as_read(value)), (key, value)
    if saved:
        assert pipeline.read_bytes(ref) == new
        assert type_findings(pipeline, edit_id) == []
    else:
        assert pipeline.read_bytes(ref) == old
        assert type_findings(pipeline, edit_id) == []  # nothing was written


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=KEYS, word=st.sampled_from([*WORDS, "5", "-1", "1.5", ".nan", "[a, b]", "true"]))
def test_set_agrees_with_the_schema_and_lint(pipeline: Pipeline, key: str, word: str) -> None:
    deal_id = f"d{next(_ids)}"
    ops.add(pipeline, "Deal", deal_id=deal_id, when=WHEN)
    ref = pipeline.resolve(deal_id)
    old = pipeline.read_bytes(ref)
    rules = for_config(pipeline.config)
    meant = rules.cli_value(key, word, fieldinput.parse_cli_value(word))
    ok = rules.fields[key].problem(meant) is None
    try:
        ops.set_values(pipeline, deal_id, [f"{key}={word}"])
        done = True
    except PipectlError as exc:
        assert exc.exit_code == 2
        done = False
    if key == "t_date" and done:  # a date field's word is read as a date
        meant = dt.date.fromisoformat(word)
    assert done == ok, (key, word, meant)
    if done:
        assert same_value(pipeline.read_deal(ref).fields[key], meant)
        assert type_findings(pipeline, deal_id) == []
    else:
        assert pipeline.read_bytes(ref) == old


def test_the_generator_covers_both_sides() -> None:
    """Guard against an oracle that only ever says yes (or no) for a type."""
    config_root = Path(__file__)  # unused: the schema needs only the config
    del config_root
    from pipectl.config import parse_config

    schema = for_config(parse_config(yaml.safe_load(FIELDS), None, FIELDS))
    samples = [5, 5.5, -1, "a", "x@y.example", "https://a.example", True, WHEN, ["a"], {"k": 1}]
    for name, decl in schema.fields.items():
        if not name.startswith("t_"):
            continue
        verdicts = {decl.problem(v) is None for v in samples}
        assert verdicts == {True, False}, name
