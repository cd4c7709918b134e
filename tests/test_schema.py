"""The deal schema as other tools see it: `pipectl schema` is valid JSON Schema 2020-12, agrees
with lint on the example pipeline, carries a team's own fields, and docs/fields.md is current."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
from conftest import REPO_ROOT, Cli

from pipectl.config import default_config, parse_config
from pipectl.deal import parse_deal
from pipectl.errors import DealError
from pipectl.fielddoc import fields_markdown
from pipectl.schema import SCHEMA_ID, Schema

EXAMPLE = REPO_ROOT / "example_pipeline"
TODAY = "2026-11-27"
FIELD_RULES = ("PL102", "PL103")


def as_json(value: Any) -> Any:
    """A parsed frontmatter as an editor's YAML support sees it: dates are text."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def stage_validator(schema: dict[str, Any], stage: str) -> jsonschema.Draft202012Validator:
    resource = referencing.Resource.from_contents(schema)
    registry = referencing.Registry().with_resource(SCHEMA_ID, resource)
    wrapper = {"$ref": f"{SCHEMA_ID}#/$defs/stage-{stage}"}
    return jsonschema.Draft202012Validator(
        wrapper, registry=registry, format_checker=jsonschema.FormatChecker()
    )


def printed_schema(*args: str, cwd: Path = EXAMPLE) -> dict[str, Any]:
    r = Cli(cwd)("schema", *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_the_schema_is_valid_json_schema_2020_12() -> None:
    schema = printed_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"title", "value", "touchpoints", "qualification"} <= set(schema["properties"])


def test_it_accepts_every_example_deal_lint_finds_no_field_error_in_and_rejects_the_rest():
    schema = printed_schema()
    r = Cli(EXAMPLE)("lint", "--today", TODAY, "-f", "json", "--exit-zero")
    flagged = {f["path"] for f in json.loads(r.stdout) if f["code"] in FIELD_RULES}
    assert flagged, "the example keeps broken deals to show lint at work"
    accepted, rejected = set(), set()
    for path in sorted(EXAMPLE.glob("*/*.md")):
        stage = path.parent.name
        if f"stage-{stage}" not in schema["$defs"]:
            continue  # not in a stage folder: a stray file, lint's PL105
        try:
            deal = parse_deal(path.read_bytes(), path, stage)
        except DealError:
            continue  # YAML that does not parse: PL101, before any schema
        rel = path.relative_to(EXAMPLE).as_posix()
        errors = list(stage_validator(schema, stage).iter_errors(as_json(dict(deal.fields))))
        (rejected if errors else accepted).add(rel)
    assert rejected == flagged
    assert len(accepted) > 25


def test_a_teams_own_fields_are_in_the_schema(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(
        "fields:\n"
        "  seats: {type: integer, min: 1, help: Licences, required: [closing]}\n"
        "  segment: {type: enum, values: [smb, mid, enterprise]}\n"
        "  site: url\n"
    )
    schema = printed_schema(cwd=tmp_path)
    props = schema["properties"]
    assert props["seats"]["type"] == ["integer", "null"] and props["seats"]["minimum"] == 1
    assert props["seats"]["description"] == "Licences"
    assert props["segment"]["enum"] == ["smb", "mid", "enterprise", None]
    assert "seats" in schema["$defs"]["stage-closing"]["required"]
    assert "seats" not in schema["$defs"]["stage-qualifying"]["required"]
    check = stage_validator(schema, "closing")
    base = {"title": "A", "created": "2026-01-01"}
    assert check.is_valid({**base, "seats": 5, "segment": "mid", "site": "https://a.example"})
    assert not check.is_valid({**base, "seats": "fifty"})
    assert not check.is_valid({**base, "seats": 0})
    assert not check.is_valid(base)  # closing requires seats
    assert not check.is_valid({**base, "seats": 5, "segment": "huge"})
    assert not check.is_valid({**base, "seats": 5, "created": "2026-02-31"})


def test_outside_a_pipeline_it_prints_the_defaults(tmp_path: Path) -> None:
    assert printed_schema(cwd=tmp_path) == Schema(default_config()).json_schema()


def test_docs_fields_md_is_generated_from_the_schema() -> None:
    doc = (REPO_ROOT / "docs" / "fields.md").read_text(encoding="utf-8")
    assert doc == fields_markdown(Schema(default_config())), (
        "docs/fields.md is stale: python -m pipectl.fielddoc > docs/fields.md"
    )
    r = Cli(Path("/"))("schema", "--markdown")
    assert r.stdout == doc


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("seats: {type: integr}", "fields.seats.type: type 'integr' is not one of"),
        ("title: text", "fields.title: is one of pipectl's own fields"),
        ("tier: {type: enum}", "fields.tier: an enum field lists its allowed words"),
        ("seats: {type: integer, required: [closng]}", "fields.seats.required: must be"),
        ("seats: {type: text, min: 1}", "fields.seats.min: `min` applies to number"),
        ("seats: {type: integer, colour: red}", "fields.seats: unknown key 'colour'"),
    ],
)
def test_bad_field_declarations_name_their_line(fields: str, message: str) -> None:
    from pipectl.errors import ConfigError

    text = "currency: USD\nfields:\n  " + fields + "\n"
    import yaml

    with pytest.raises(ConfigError) as err:
        parse_config(yaml.safe_load(text), Path("pipeline.yaml"), text)
    assert message in str(err.value)
    assert str(err.value).startswith("pipeline.yaml:3:")
