"""The real Maven CRM export (8,800 rows), imported as it is with docs/maven-mapping.yaml.

One import for the whole module; every check reads its result. Figures are computed from the
CSV here, independently of pipectl, and compared with the deal files and `pipectl report`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import statistics
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DATA, REPO_ROOT, Cli, commit_count, git, make_repo

REPO = REPO_ROOT
# The Maven Analytics "CRM + Sales Opportunities" sample, kept in the repo (its README).
MAVEN = DATA / "maven-crm"
CSV_FILE = MAVEN / "sales_pipeline.csv"
MAPPING = REPO / "docs" / "maven-mapping.yaml"
STAGES = {"Prospecting": "prospecting", "Engaging": "connecting", "Won": "won", "Lost": "lost"}


def _us(text: str) -> dt.date:
    month, day, year = (int(p) for p in text.split("/"))
    return dt.date(year, month, day)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    assert CSV_FILE.is_file(), f"the CRM sample is missing: {CSV_FILE}"
    with CSV_FILE.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]]) -> Any:
    """A fresh pipeline with the CSV imported once; the CLI result and the repo."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:  # module scope: conftest's isolation is not on yet
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.delenv("PIPECTL_TODAY", raising=False)
        root = make_repo(tmp_path_factory.mktemp("maven") / "pipeline")
        cli = Cli(root)
        assert cli("init").exit_code == 0
        result = cli("import", str(CSV_FILE), "--mapping", str(MAPPING))
    return root, cli, result


def _front(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    return yaml.load(text.split("---\n")[1], Loader=yaml.CSafeLoader)


def test_every_row_is_a_deal_in_its_stage(imported: Any, rows: list[dict[str, str]]) -> None:
    root, _cli, result = imported
    assert result.exit_code == 0, result.output
    assert "8,800 added" in result.output
    counts = {s: len(list((root / s).glob("*.md"))) for s in STAGES.values()}
    assert counts == {"prospecting": 500, "connecting": 1589, "won": 4238, "lost": 2473}
    assert sum(counts.values()) == len(rows) == 8800
    assert not list((root / "qualifying").glob("*.md"))
    assert not list((root / "closing").glob("*.md"))


def test_one_commit_holds_every_deal_and_says_what_it_did(imported: Any) -> None:
    root, _cli, _result = imported
    assert commit_count(root) == 2  # init, import
    message = git(root, "log", "-1", "--format=%B")
    assert message.startswith("import sales_pipeline.csv: 8800 added\n")
    assert "won: 4238" in message and "prospecting: 500" in message
    assert "Pipectl-Action: import" in message
    files = git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert len(files) == 8800
    assert git(root, "status", "--porcelain") == ""


def test_a_won_deal_is_backdated_from_the_data(imported: Any) -> None:
    root, _cli, _result = imported
    # 1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,10/20/2016,3/1/2017,1054
    text = (root / "won" / "1c1i7a6r.md").read_text(encoding="utf-8")
    assert text == (
        "---\n"
        "title: Cancity — GTX Plus Basic\n"
        "company: Cancity\n"
        "owner: Moses Frase\n"
        "value: 1054\n"
        "created: 2016-10-20\n"
        "stage_entered: 2017-03-01\n"
        "closed: 2017-03-01\n"
        "product: GTX Plus Basic\n"
        "---\n"
        "# Cancity — GTX Plus Basic\n"
    )


def test_row_quirks_leave_fields_absent(imported: Any, rows: list[dict[str, str]]) -> None:
    root, _cli, _result = imported
    prospect = next(r for r in rows if r["deal_stage"] == "Prospecting" and not r["account"])
    fields = _front(root / "prospecting" / f"{prospect['opportunity_id'].lower()}.md")
    assert fields["title"] == prospect["product"]  # no account: the title falls back
    for absent in ("company", "created", "stage_entered", "closed", "value"):
        assert absent not in fields
    engaging = next(r for r in rows if r["deal_stage"] == "Engaging" and r["account"])
    fields = _front(root / "connecting" / f"{engaging['opportunity_id'].lower()}.md")
    assert fields["created"] == fields["stage_entered"] == _us(engaging["engage_date"])
    assert "closed" not in fields and "value" not in fields
    gtx = next(r for r in rows if r["product"] == "GTXPro")
    stage = STAGES[gtx["deal_stage"]]
    assert _front(root / stage / f"{gtx['opportunity_id'].lower()}.md")["product"] == "GTXPro"


def test_values_dates_and_owners_match_the_csv(imported: Any, rows: list[dict[str, str]]) -> None:
    root, _cli, _result = imported
    mismatches = []
    for row in rows:
        path = root / STAGES[row["deal_stage"]] / f"{row['opportunity_id'].lower()}.md"
        fields = _front(path)
        expected = {
            "owner": row["sales_agent"],
            "value": int(row["close_value"]) if row["close_value"] else None,
            "closed": _us(row["close_date"]) if row["close_date"] else None,
            "created": _us(row["engage_date"]) if row["engage_date"] else None,
            "company": row["account"] or None,
        }
        got = {k: fields.get(k) for k in expected}
        if got != expected:
            mismatches.append((row["opportunity_id"], got, expected))
    assert mismatches == []


def _csv_figures(rows: list[dict[str, str]]) -> dict[str, Any]:
    won = [r for r in rows if r["deal_stage"] == "Won"]
    lost = [r for r in rows if r["deal_stage"] == "Lost"]
    cycles = [(_us(r["close_date"]) - _us(r["engage_date"])).days for r in won]
    return {
        "won_count": len(won),
        "lost_count": len(lost),
        "won_value": sum(int(r["close_value"]) for r in won),
        "win_rate": len(won) / (len(won) + len(lost)),
        "avg_cycle_days": statistics.mean(cycles),
        "median_cycle_days": statistics.median(cycles),
    }


def test_report_agrees_with_figures_computed_from_the_csv(
    imported: Any, rows: list[dict[str, str]]
) -> None:
    _root, cli, _result = imported
    result = cli("report", "--json", "--today", "2018-01-01")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = _csv_figures(rows)
    assert expected["won_value"] == 10_005_534  # the data set's known total
    assert report["won_count"] == expected["won_count"] == 4238
    assert report["lost_count"] == expected["lost_count"] == 2473
    assert report["won_value"] == expected["won_value"]
    assert report["win_rate"] == pytest.approx(expected["win_rate"])
    assert report["avg_cycle_days"] == pytest.approx(expected["avg_cycle_days"])
    assert report["median_cycle_days"] == pytest.approx(expected["median_cycle_days"])
    counts = {name: figures["count"] for name, figures in report["stages"].items()}
    assert counts == {
        "prospecting": 500,
        "qualifying": 0,
        "connecting": 1589,
        "closing": 0,
        "won": 4238,
        "lost": 2473,
    }


def test_the_dashboard_of_the_import_says_why_where_figures_are_missing(
    imported: Any, tmp_path: Path
) -> None:
    import re

    _root, cli, _result = imported
    out = tmp_path / "dashboard.html"
    result = cli("report", "--html", str(out), "--today", "2018-01-01")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")

    def card(ident: str) -> str:
        found = re.search(rf'<section class="card[^"]*" id="{ident}">(.*?)</section>', page, re.S)
        assert found is not None, ident
        return found.group(1)

    # no deal was ever in qualifying or closing (the CSV has no such stage): "–", not 100%
    conversion = card("funnel").split('data-chart="conversion"')[1]
    steps = re.findall(r'data-from="&quot;(\w+)&quot;"[^>]*data-rate="([^"]*)"', conversion)
    assert [(name, rate) for name, rate in steps if rate == "null"] == [
        ("qualifying", "null"),
        ("closing", "null"),
    ]
    assert "100%" not in conversion
    assert "qualifying → connecting: no deal passed through qualifying" in conversion
    # the open deals carry no value and no expected close date: the zeros say so
    assert "no open deal has a value" in card("stages")
    assert "no open deal has a value" in card("forecast")
    assert "no open deal has an expected close date" in card("forecast")
    assert "no finished stay yet" in card("time-in-stage")
    kpi = re.search(r'data-key="open_value".*?</div>', page, re.S)
    assert kpi is not None and "no open deal has a value" in kpi.group(0)


def test_importing_again_changes_nothing(imported: Any) -> None:
    root, cli, _result = imported
    result = cli("import", str(CSV_FILE), "--mapping", str(MAPPING))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("no changes: 8,800 deals")
    assert commit_count(root) == 2
    assert git(root, "status", "--porcelain") == ""
