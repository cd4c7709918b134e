"""pipectl search through the CLI on a real pipeline: accents and case folded, ranked, the
matching lines shown (escaped), --field, the list filters, --json; and the fold itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipectl.search import fold
from tests.conftest import Cli

TEAM = """
team:
  - handle: alice
  - handle: bob
"""


def deal(title: str, owner: str, notes: str = "", **fields: str) -> str:
    extra = "".join(f"{k}: {v}\n" for k, v in fields.items())
    head = f"---\ntitle: {title}\nowner: {owner}\ncreated: 2026-11-02\n{extra}---\n"
    return f"{head}# {title}\n\n{notes}"


@pytest.fixture
def deals(pipeline: Path, write_deal: Callable[..., Path]) -> Path:
    with (pipeline / "pipeline.yaml").open("a", encoding="utf-8") as f:
        f.write(TEAM)
    write_deal(pipeline, "prospecting", "acme", deal("Acme Corp", "alice", "Met at the café.\n"))
    write_deal(pipeline, "qualifying", "nordic", deal("Café Nordique", "bob", "Espresso.\n"))
    write_deal(
        pipeline,
        "prospecting",
        "beta",
        deal("Beta", "alice", "Talked café prices.\nCAFE again.\nNo coffee here.\n"),
    )
    write_deal(
        pipeline, "prospecting", "gamma", deal("Gamma", "bob", "Nothing.\n", company="Cafe Co")
    )
    return pipeline


def ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return [line.split()[0] for line in result.output.splitlines() if not line.startswith(" ")]


def test_fold_drops_case_accents_and_compatibility_forms() -> None:
    assert fold("Café") == fold("CAFE") == "cafe"
    assert fold("Straße") == fold("STRASSE") == "strasse"
    assert fold("Ｆｕｌｌ ｗｉｄｔｈ") == "full width"
    assert fold("Ångström") == "angstrom"
    assert fold("Москва") == "москва"  # letters with no accent stay


def test_ranked_title_then_fields_then_notes_more_hits_higher(cli: Cli, deals: Path) -> None:
    found = ids(cli("search", "cafe"))
    # the title hit, the company field, then notes: beta's two lines before acme's one
    assert found == ["nordic", "gamma", "beta", "acme"]


def test_the_matching_lines_are_shown_with_their_line(cli: Cli, deals: Path) -> None:
    out = cli("search", "CAFÉ").output.splitlines()
    beta = out.index("beta  Beta  (prospecting)")
    assert out[beta + 1 : beta + 3] == ["  8: Talked café prices.", "  9: CAFE again."]
    assert "  title: Café Nordique" in out
    assert "  company: Cafe Co" in out


def test_words_need_no_quotes(cli: Cli, deals: Path) -> None:
    assert ids(cli("search", "talked", "CAFE", "prices")) == ["beta"]


def test_field_limits_the_search(cli: Cli, deals: Path) -> None:
    assert ids(cli("search", "cafe", "--field", "company")) == ["gamma"]
    # nordic's heading (`# Café Nordique`) is in its notes too
    assert ids(cli("search", "cafe", "--field", "notes")) == ["beta", "acme", "nordic"]
    assert ids(cli("search", "cafe", "--field", "title")) == ["nordic"]


def test_filters_as_list_has_them(cli: Cli, deals: Path) -> None:
    assert ids(cli("search", "cafe", "--stage", "prospecting")) == ["gamma", "beta", "acme"]
    assert ids(cli("search", "cafe", "--owner", "bob")) == ["nordic", "gamma"]
    bad = cli("search", "cafe", "--stage", "nowhere")
    assert bad.exit_code == 2 and "unknown stage" in bad.output


def test_no_match_says_so_and_exits_1(cli: Cli, deals: Path) -> None:
    result = cli("search", "zebra")
    assert result.exit_code == 1 and "no deal holds 'zebra'" in result.output


def test_json(cli: Cli, deals: Path) -> None:
    result = cli("search", "cafe", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert [d["id"] for d in data] == ["nordic", "gamma", "beta", "acme"]
    assert data[2]["matches"] == [
        {"field": "notes", "line": 8, "text": "Talked café prices."},
        {"field": "notes", "line": 9, "text": "CAFE again."},
    ]
    assert data[2]["path"].endswith("prospecting/beta.md") and data[2]["count"] == 2
    assert json.loads(cli("search", "zebra", "--json").output) == []


def test_control_characters_are_shown_escaped(
    cli: Cli, deals: Path, write_deal: Callable[..., Path]
) -> None:
    write_deal(deals, "prospecting", "evil", deal("Evil", "bob", "cafe \x1b[2J wipe\n"))
    out = cli("search", "wipe").output
    assert "\x1b" not in out and "\\x1b[2J" in out


def test_a_broken_file_is_skipped_with_a_warning(
    cli: Cli, deals: Path, write_deal: Callable[..., Path]
) -> None:
    write_deal(deals, "prospecting", "broken", "---\ntitle: [cafe\n---\ncafe\n")
    result = cli("search", "cafe")
    assert result.exit_code == 0
    assert "broken" not in ids(result)
    assert "pipectl: warning: skipped" in result.output
