"""pipectl board on a real pipeline: layout at fixed widths, counts and values, lint flags."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import Cli

from pipectl import history, lint
from pipectl.daily import board as daily_board
from pipectl.render import board as render_board
from pipectl.store import Pipeline

TODAY = "2026-11-27"

CLEAN = """\
---
title: Clean Co
company: Clean Co
owner: bob
value: 3000
created: 2026-11-25
next_step: Call back
next_step_due: 2026-12-01
touchpoints:
  - {date: 2026-11-26, kind: call, summary: Intro call, outcome: replied}
---
"""


def deal(company: str, owner: str, value: int | None, **dates: str) -> str:
    lines = ["---", f"title: {company}", f"company: {company}", f"owner: {owner}"]
    if value is not None:
        lines.append(f"value: {value}")
    lines += [f"{k}: {v}" for k, v in dates.items()]
    return "\n".join([*lines, "---", ""])


@pytest.fixture
def board_repo(pipeline: Path, write_deal) -> Path:
    write_deal(
        pipeline, "prospecting", "acme", deal("Acme Corp", "alice", 12000, created="2026-11-20")
    )
    write_deal(pipeline, "prospecting", "clean", CLEAN)
    write_deal(
        pipeline,
        "qualifying",
        "hooli",
        deal("Hooli", "alice", 7000, created="2026-10-01", stage_entered="2026-10-05"),
    )
    write_deal(
        pipeline,
        "closing",
        "globex",
        deal("Globex", "bob", 40000, created="2026-09-01", stage_entered="2026-11-01"),
    )
    write_deal(pipeline, "closing", "nova", deal("Nova", "alice", None, created="2026-11-01"))
    write_deal(
        pipeline,
        "won",
        "wonco",
        deal("Won Co", "bob", 9000, created="2026-09-01", closed="2026-11-02"),
    )
    return pipeline


def board(root: Path, *args: str, columns: int = 80) -> str:
    result = Cli(root)("board", "--today", TODAY, "--width", str(columns), *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_layout_at_80_columns_wraps_stages_onto_two_rows(board_repo: Path) -> None:
    assert (
        board(board_repo)
        == """\
PROSPECTING                         QUALIFYING
2 deals · 15,000 USD                1 deal · 7,000 USD
----------------------------------  ----------------------------------
acme                            !2  hooli                           !4
  Acme Corp                           Hooli
  12,000 · 7d · alice                 7,000 · 53d · alice

clean
  Clean Co
  3,000 · 2d · bob

CONNECTING                          CLOSING
0 deals · 0 USD                     2 deals · 40,000 USD
----------------------------------  ----------------------------------
                                    globex                          !5
                                      Globex
                                      40,000 · 26d · bob

                                    nova                            !5
                                      Nova
                                      - · ?d · alice

open: 5 deals · 62,000 USD
!N: N lint warnings or errors (pipectl lint)
?d: days in stage unknown for 1 deal: no stage_entered and the file has no
  committed history at this path
"""
    )


def test_wide_terminal_puts_every_stage_on_one_row(board_repo: Path) -> None:
    out = board(board_repo, columns=200)
    first = out.splitlines()[0].split()
    assert first == ["PROSPECTING", "QUALIFYING", "CONNECTING", "CLOSING"]
    assert out.splitlines()[1].split("  ")[0] == "2 deals · 15,000 USD"
    assert all(len(line) <= 200 for line in out.splitlines())


def test_narrow_terminal_stacks_the_stages(board_repo: Path) -> None:
    out = board(board_repo, columns=30)
    headers = [line for line in out.splitlines() if line.isupper()]
    assert headers == ["PROSPECTING", "QUALIFYING", "CONNECTING", "CLOSING"]
    assert all(len(line) <= 30 for line in out.splitlines())


def test_columns_env_sets_the_width(board_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = Cli(board_repo)("board", "--today", TODAY)
    assert result.output.splitlines()[0].split() == [
        "PROSPECTING",
        "QUALIFYING",
        "CONNECTING",
        "CLOSING",
    ]
    monkeypatch.setenv("COLUMNS", "80")
    result = Cli(board_repo)("board", "--today", TODAY)
    assert result.output.splitlines()[0].split() == ["PROSPECTING", "QUALIFYING"]


def test_flag_counts_match_lint(board_repo: Path) -> None:
    found = lint.run(Pipeline(board_repo), dt.date.fromisoformat(TODAY)).findings
    per_deal = {
        deal_id: sum(1 for f in found if f.deal_id == deal_id and f.severity != "info")
        for deal_id in ("acme", "clean", "hooli", "globex", "nova")
    }
    assert per_deal["clean"] == 0 and per_deal["acme"] > 0
    lines = board(board_repo, columns=200).splitlines()
    for deal_id, count in per_deal.items():
        line = next(x for x in lines if deal_id in x.split())
        if count:
            assert re.search(rf"\b{deal_id} +!{count}( |$)", line), line
    clean = next(x for x in lines if x.startswith("clean "))
    assert "!" not in clean[: render_board.MAX_COLUMN]  # its own column: no flag


def test_owner_filter(board_repo: Path) -> None:
    out = board(board_repo, "--owner", "bob", columns=200)
    assert "clean" in out and "globex" in out
    assert "acme" not in out and "hooli" not in out and "nova" not in out
    assert out.splitlines()[1].split("  ")[0] == "1 deal · 3,000 USD"
    assert "open: 2 deals · 43,000 USD" in out
    assert "· bob" not in out  # the owner is not repeated on every card


def test_all_adds_won_and_lost_and_only_then_reads_them(board_repo: Path, write_deal) -> None:
    write_deal(board_repo, "lost", "broken", "---\ntitle: [unclosed\n---\n")
    result = Cli(board_repo)("board", "--today", TODAY, "--width", "200")
    assert result.exit_code == 0
    assert "WON" not in result.output and "broken" not in result.output
    result = Cli(board_repo)("board", "--today", TODAY, "--width", "240", "--all")
    assert result.exit_code == 0
    header = next(line for line in result.output.splitlines() if line.startswith("PROSPECTING"))
    assert header.split()[-2:] == ["WON", "LOST"]
    assert "wonco" in result.output and "9,000 · 25d · bob" in result.output  # days since closed
    assert "lost/broken.md:3: invalid YAML" in result.output  # the warning (stderr)
    assert "open: 5 deals · 62,000 USD" in result.output  # closed stages are not open value


def test_plain_output_when_not_a_tty(board_repo: Path) -> None:
    assert "\x1b[" not in board(board_repo)


def test_colour_only_when_asked(board_repo: Path) -> None:
    pipeline = Pipeline(board_repo)
    loaded = pipeline.load()
    flags = daily_board.flags_by_deal(lint.run(pipeline, dt.date(2026, 11, 27)).findings)
    arrivals = history.read_arrivals(pipeline.git, pipeline.root)
    columns = daily_board.board(
        loaded.deals,
        pipeline.config.open_stages,
        dt.date(2026, 11, 27),
        flags,
        config=pipeline.config,
        arrivals=arrivals,
    )
    plain = render_board.board(columns, 80, currency="USD")
    painted = render_board.board(columns, 80, currency="USD", color=True)
    assert "\x1b[" not in plain and "\x1b[1mPROSPECTING\x1b[0m" in painted
    strip = painted
    for code in ("\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[0m"):
        strip = strip.replace(code, "")
    assert strip == plain  # colour never moves a character


def test_colour_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pipectl.cli.common import use_color

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert use_color() is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color() is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert use_color() is False


def test_days_in_stage_from_the_file_in_the_stages_it_may_tell() -> None:
    from pipectl.config import default_config
    from pipectl.deal import parse_deal

    def days(text: str, stage: str = "prospecting") -> int | None:
        d = parse_deal(text.encode(), Path(f"{stage}/x.md"), stage)
        columns = daily_board.board(
            [d],
            default_config().stages,
            dt.date(2026, 11, 27),
            config=default_config(),
            arrivals=history.Arrivals(unavailable="not a git repository"),
        )
        (card,) = [k for c in columns for k in c.cards]
        assert (card.days_in_stage is None) == (card.days_unknown is not None)
        return card.days_in_stage

    assert days("---\ncreated: 2026-11-01\nstage_entered: 2026-11-20\n---\n") == 7
    assert days("---\ncreated: 2026-11-01\n---\n") == 26  # the first stage: since created
    assert days("---\ncreated: 2026-11-01\n---\n", "closing") is None  # not there
    assert days("---\ncreated: 2026-11-01\nclosed: 2026-11-25\n---\n", "won") == 2
    assert days("---\ntitle: x\n---\n") is None


def test_empty_pipeline(pipeline: Path) -> None:
    out = board(pipeline)
    assert "0 deals · 0 USD" in out and "open: 0 deals · 0 USD" in out


def test_limit_shows_the_biggest_cards_and_counts_the_rest(board_repo: Path) -> None:
    out = board(board_repo, "--limit", "1", columns=200)
    assert "acme" in out and "clean" not in out  # 12,000 before 3,000
    assert "globex" in out and "nova" not in out
    assert out.count("… 1 more") == 2
    assert "2 deals · 15,000 USD" in out  # the header still counts every deal
    assert "clean" in board(board_repo, "--limit", "0", columns=200)


def test_json_has_every_stage_and_card(board_repo: Path) -> None:
    import json

    result = Cli(board_repo)("board", "--today", TODAY, "--json", "--limit", "1")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["today"] == TODAY and data["owner"] is None and data["currency"] == "USD"
    summary = [(s["stage"], s["count"], s["value"]) for s in data["stages"]]
    assert summary == [
        ("prospecting", 2, 15000),
        ("qualifying", 1, 7000),
        ("connecting", 0, 0),
        ("closing", 2, 40000),
    ]
    acme = data["stages"][0]["cards"][0]
    assert acme == {
        "id": "acme",
        "company": "Acme Corp",
        "owner": "alice",
        "value": 12000,
        "currency": None,  # the base currency's: no amount of its own
        "amount": None,
        "unconverted": False,
        "days_in_stage": 7,
        "days_unknown": None,
        "lint_findings": 2,
        "worst": "warning",
        "snoozed_until": None,
        "open_tasks": 0,
        "next_due": None,
    }
    assert [c["id"] for c in data["stages"][3]["cards"]] == ["globex", "nova"]  # --limit: text only
