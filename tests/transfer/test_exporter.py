"""`pipectl export` as CSV and JSON, and the round trip: export, import into an empty
pipeline, and get the same deals back."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Cli, make_repo

ACME = """\
---
title: Acme Corp — 50-seat rollout
company: Acme Corp
contact: Jane Doe <jane@acme.example>
owner: alice
value: 12000.5
currency: EUR
created: 2026-11-02
stage_entered: 2026-11-20
expected_close: 2026-12-15
next_step: Send pricing proposal
next_step_due: 2026-11-30
qualification:          # criteria named in pipeline.yaml
  budget: 15k approved for Q1
  need: replace spreadsheet tracking
  fit: yes
tags: [enterprise, emea]
seats: 50
renewal: 2027-11-01
region: "Nord: Ost"
touchpoints:
  - {date: 2026-11-02, kind: email, summary: Intro email, outcome: no-reply}
  - {date: 2026-11-05, kind: call, summary: "Discovery call, wants 50 seats", outcome: replied}
---
# Acme Corp

Free-form notes, with "quotes", commas, and
several lines.
"""

MULLER = """\
---
title: Müller & Söhne GmbH
owner: bob
value: 900
created: 2026-10-01
closed: 2026-11-10
lost_reason: price
---
# Müller
"""

BARE = "---\ntitle: Just a lead\n---\n"


@pytest.fixture
def filled(pipeline: Path, write_deal: Callable[..., Path]) -> Path:
    write_deal(pipeline, "connecting", "acme-corp", ACME)
    write_deal(pipeline, "lost", "muller-sohne", MULLER)
    write_deal(pipeline, "prospecting", "lead", BARE)
    return pipeline


def fields_of(root: Path) -> dict[str, tuple[str, dict[str, Any], str]]:
    """Every deal: (stage, parsed frontmatter, body), by id."""
    out = {}
    for path in root.glob("*/*.md"):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        out[path.stem] = (path.parent.name, yaml.safe_load(front) or {}, body)
    return out


def empty_pipeline(tmp_path: Path) -> tuple[Path, Cli]:
    root = make_repo(tmp_path / "other")
    cli = Cli(root)
    assert cli("init").exit_code == 0
    return root, cli


def test_csv_has_one_row_per_deal_with_flattened_touchpoints(cli: Cli, filled: Path) -> None:
    result = cli("export")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["lead", "acme-corp", "muller-sohne"]  # stage order
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert header[:4] == ["id", "stage", "title", "company"]
    assert header[-3:] == ["touchpoint_count", "last_touch", "body"]
    assert "touchpoints" not in header
    acme = rows[1]
    assert acme["stage"] == "connecting"
    assert acme["value"] == "12000.5"
    assert acme["created"] == "2026-11-02"
    assert acme["qualification.budget"] == "15k approved for Q1"
    assert acme["qualification.fit"] == "true"  # YAML 1.1 reads `yes` as true
    assert acme["tags"] == "enterprise, emea"
    assert acme["seats"] == "50" and acme["region"] == "Nord: Ost"
    assert acme["touchpoint_count"] == "2" and acme["last_touch"] == "2026-11-05"
    assert acme["body"].startswith("# Acme Corp\n\nFree-form notes")
    assert rows[0]["touchpoint_count"] == "0" and rows[0]["value"] == ""
    assert rows[2]["lost_reason"] == "price"


def test_json_keeps_everything(cli: Cli, filled: Path) -> None:
    result = cli("export", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    acme = next(d for d in data if d["id"] == "acme-corp")
    assert acme["stage"] == "connecting"
    assert acme["fields"]["touchpoints"][1] == {
        "date": "2026-11-05",
        "kind": "call",
        "summary": "Discovery call, wants 50 seats",
        "outcome": "replied",
    }
    assert acme["fields"]["qualification"]["fit"] is True
    assert acme["body"] == ACME.split("---\n", 2)[2]


def test_json_round_trip_reproduces_the_same_deals(cli: Cli, filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "deals.json"
    result = cli("export", "--format", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "exported 3 deals" in result.stderr
    root, other = empty_pipeline(tmp_path)
    result = other("import", str(out))
    assert result.exit_code == 0, result.output
    assert fields_of(root) == fields_of(filled)
    again = other("export", "--format", "json")
    assert json.loads(again.stdout) == json.loads(out.read_text())


def test_csv_round_trip_reproduces_the_same_deals_but_touchpoints(
    cli: Cli, filled: Path, tmp_path: Path
) -> None:
    out = tmp_path / "deals.csv"
    assert cli("export", "-o", str(out)).exit_code == 0
    root, other = empty_pipeline(tmp_path)
    result = other("import", str(out))
    assert result.exit_code == 0, result.output
    expected = fields_of(filled)
    for _stage, front, _body in expected.values():
        front.pop("touchpoints", None)  # a count and a date in CSV; whole only in JSON
    assert fields_of(root) == expected
    # and importing the export once more is a no-op
    result = other("import", str(out))
    assert result.exit_code == 0 and result.stdout.startswith("no changes: 3 deals")


def test_export_of_one_stage_and_bad_format(cli: Cli, filled: Path) -> None:
    result = cli("export", "--stage", "lost", "--format", "json")
    assert [d["id"] for d in json.loads(result.stdout)] == ["muller-sohne"]
    result = cli("export", "--format", "xml")
    assert result.exit_code == 2 and "--format 'xml'" in result.stderr
    result = cli("export", "--stage", "nowhere")
    assert result.exit_code == 2 and "unknown stage 'nowhere'" in result.stderr


def test_unreadable_deals_are_named_left_out_and_the_export_fails(
    cli: Cli, filled: Path, write_deal: Callable[..., Path], tmp_path: Path
) -> None:
    write_deal(filled, "closing", "broken", "---\ntitle: x\nvalue: [unclosed\n---\n")
    (filled / "prospecting" / "folder.md").mkdir()  # a deal file that cannot be read at all
    result = cli("export", "--format", "json")
    # what could be read is written; the exit code says the export is not whole
    assert result.exit_code == 2, result.output
    assert [d["id"] for d in json.loads(result.stdout)] == ["lead", "acme-corp", "muller-sohne"]
    lines = result.stderr.splitlines()
    assert len(lines) == 3, lines  # one line per file, then the summary
    assert re.match(
        r"pipectl: warning: skipped \S*prospecting/folder\.md:1: is a directory", lines[0]
    )
    assert re.match(
        r"pipectl: warning: skipped \S*closing/broken\.md:[2-4]: invalid YAML", lines[1]
    )
    assert "export incomplete: 2 deal files could not be read" in lines[2]
    assert "3 deals exported" in lines[2]
    assert "Traceback" not in result.output
    # to a file: the same, and the file holds the readable deals
    out = tmp_path / "deals.csv"
    result = cli("export", "-o", str(out))
    assert result.exit_code == 2
    assert [r["id"] for r in csv.DictReader(io.StringIO(out.read_text()))] == [
        "lead",
        "acme-corp",
        "muller-sohne",
    ]
    assert f"exported 3 deals to {out}" in result.stderr
    assert result.stderr.count("skipped ") == 2 and "export incomplete" in result.stderr


def test_a_whole_export_exits_0(cli: Cli, filled: Path) -> None:
    result = cli("export", "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""
