"""pipectl agenda on a real pipeline: urgency order, sections, owner defaults, thresholds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import Cli, git
from hypothesis import given, settings
from hypothesis import strategies as st

TODAY = "2026-11-27"


def deal(owner: str = "alice", created: str = "2026-11-01", **extra: str) -> str:
    """A deal's text; `touch` is a touchpoint date, the rest are frontmatter lines."""
    touch = extra.pop("touch", None)
    lines = ["---", "title: T", f"owner: {owner}", "value: 1000", f"created: {created}"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    if touch:
        lines += [
            "touchpoints:",
            f"  - {{date: {touch}, kind: call, summary: c, outcome: replied}}",
        ]
    return "\n".join([*lines, "---", ""])


@pytest.fixture
def day(pipeline: Path, write_deal) -> Path:
    w = lambda stage, name, text: write_deal(pipeline, stage, name, text)  # noqa: E731
    w(
        "prospecting",
        "overdue-b",
        deal(next_step="Send deck", next_step_due="2026-11-24", touch="2026-11-25"),
    )
    w(
        "qualifying",
        "overdue-a",
        deal(next_step="Call CFO", next_step_due="2026-11-20", touch="2026-11-01"),
    )
    w("prospecting", "due-today", deal(next_step="Demo", next_step_due=TODAY, touch="2026-11-25"))
    w(
        "closing",
        "closing-deal",
        deal(
            stage_entered="2026-11-20",
            expected_close="2026-12-10",
            next_step="Negotiate",
            touch="2026-11-25",
        ),
    )
    w("qualifying", "stale-deal", deal(touch="2026-11-01"))
    w("prospecting", "new-lead", deal(created="2026-11-26"))
    # past the cycle and silent: a reply within the cycle would keep it off sweep's list
    silent = deal(created="2026-07-01", touch="2026-11-20").replace("replied", "no-reply")
    w("prospecting", "lc-deal", silent)
    w(
        "prospecting",
        "bobs-deal",
        deal(owner="bob", next_step="x", next_step_due="2026-11-01", touch="2026-11-25"),
    )
    w("prospecting", "quiet", deal(touch="2026-11-25"))
    w("won", "won-deal", deal(next_step_due="2026-11-01"))
    return pipeline


def items(cli: Cli, *args: str) -> list[tuple[str, str]]:
    result = cli("agenda", "--today", TODAY, "--json", *args)
    assert result.exit_code == 0, result.output
    return [(i["section"], i["id"]) for i in json.loads(result.output)["items"]]


def test_most_urgent_first(day: Path) -> None:
    assert items(Cli(day), "--owner", "alice") == [
        ("overdue", "overdue-a"),  # due longest ago first
        ("overdue", "overdue-b"),
        ("due-today", "due-today"),
        ("closing", "closing-deal"),
        ("stale", "stale-deal"),
        ("uncontacted", "new-lead"),
        ("last-chance", "lc-deal"),
    ]


def test_each_deal_once_under_its_most_urgent_heading(day: Path) -> None:
    result = Cli(day)("agenda", "--today", TODAY, "--json", "--owner", "alice")
    data = json.loads(result.output)
    overdue_a = next(i for i in data["items"] if i["id"] == "overdue-a")
    assert overdue_a["also"] == ["stale"]
    assert overdue_a["detail"] == "Call CFO — due 2026-11-20 (7 days late)"
    assert data["counts"] == {
        "overdue": 2,
        "due-today": 1,
        "closing": 1,
        "stale": 1,
        "uncontacted": 1,
        "last-chance": 1,
        "snoozed": 0,
    }
    assert data["owner"] == "alice" and data["today"] == TODAY


def test_text_shows_the_sections_in_order(day: Path) -> None:
    result = Cli(day)("agenda", "--today", TODAY, "--owner", "alice")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Agenda for alice, 2026-11-27: 7 items\n")
    headings = [
        "Overdue next steps (2)",
        "Due today (1)",
        "In the closing stage (1)",
        "Stale deals to nudge (1)",
        "New leads not yet contacted (1)",
        "Last-chance candidates (pipectl sweep) (1)",
    ]
    positions = [out.index(h) for h in headings]
    assert positions == sorted(positions)
    assert "no touchpoint for 26 days (nudge after 14)" in out
    assert "came in yesterday, no contact yet" in out
    assert "open 149 days, past the 90-day cycle: send a last chance" in out
    assert "bobs-deal" not in out and "quiet" not in out and "won-deal" not in out


def test_owner_defaults_to_pipectl_owner(day: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPECTL_OWNER", "bob")
    assert items(Cli(day)) == [("overdue", "bobs-deal")]


def test_owner_defaults_to_git_user_name(day: Path, write_deal) -> None:
    # the repo fixture's user.name is "Test User"; names match regardless of case
    write_deal(day, "prospecting", "mine", deal(owner="test user", created="2026-11-25"))
    assert items(Cli(day)) == [("uncontacted", "mine")]


def test_owner_all_and_no_owner_known_show_everyone(day: Path) -> None:
    everyone = items(Cli(day), "--owner", "all")
    assert ("overdue", "bobs-deal") in everyone and ("stale", "stale-deal") in everyone
    git(day, "config", "--unset", "user.name")
    result = Cli(day)("agenda", "--today", TODAY, "--json")
    assert result.exit_code == 0
    assert "showing everyone" in result.output  # the warning, on stderr (mixed here)
    data = json.loads(result.output[result.output.index("{") :])
    assert data["owner"] is None and len(data["items"]) == len(everyone)


def test_stale_limit_comes_from_lint_settings(day: Path) -> None:
    (day / "pipeline.yaml").write_text("rules:\n  stale: {days: 30}\n")
    found = items(Cli(day), "--owner", "alice")
    assert ("stale", "stale-deal") not in found
    assert ("overdue", "overdue-a") in found


def test_closing_stage_uses_its_own_stale_limit(pipeline: Path, write_deal) -> None:
    # PL301 allows 7 days in closing: 10 days of silence is stale there, not in qualifying
    write_deal(pipeline, "closing", "hot", deal(touch="2026-11-17", stage_entered="2026-11-10"))
    write_deal(pipeline, "qualifying", "warm", deal(touch="2026-11-17"))
    result = Cli(pipeline)("agenda", "--today", TODAY, "--owner", "alice", "--json")
    data = json.loads(result.output)
    assert [(i["id"], i["section"], i["also"]) for i in data["items"]] == [
        ("hot", "closing", ["stale"])
    ]


def test_nothing_to_do(pipeline: Path) -> None:
    result = Cli(pipeline)("agenda", "--today", TODAY, "--owner", "alice")
    assert result.exit_code == 0
    assert result.output == "Nothing on the agenda for alice on 2026-11-27.\n"


def test_bad_today_is_a_usage_error(pipeline: Path) -> None:
    result = Cli(pipeline)("agenda", "--today", "someday")
    assert result.exit_code == 2
    assert "not a date" in result.output


def test_narrow_terminal_puts_details_on_their_own_line(
    day: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    out = Cli(day)("agenda", "--today", TODAY, "--owner", "alice").output
    assert all(len(line) <= 60 for line in out.splitlines())
    two_lines = "  overdue-a     qualifying   1,000\n      Call CFO — due 2026-11-20 (7 days late)"
    assert two_lines in out
    monkeypatch.setenv("COLUMNS", "120")
    out = Cli(day)("agenda", "--today", TODAY, "--owner", "alice").output
    assert "  overdue-a     qualifying   1,000  Call CFO — due 2026-11-20 (7 days late)" in out


def test_agenda_and_lint_agree_on_stale_and_last_chance(day: Path) -> None:
    from pipectl import lint
    from pipectl.store import Pipeline

    codes = ("PL301", "PL305", "PL501")
    found = lint.run(Pipeline(day), dt.date.fromisoformat(TODAY), select=codes)
    flagged = {code: {f.deal_id for f in found.findings if f.code == code} for code in codes}
    data = json.loads(Cli(day)("agenda", "--today", TODAY, "--owner", "all", "--json").output)
    marked = {
        key: {i["id"] for i in data["items"] if key == i["section"] or key in i["also"]}
        for key in ("stale", "last-chance")
    }
    assert marked["stale"] == flagged["PL301"] and marked["stale"]
    assert marked["last-chance"] == flagged["PL305"] | flagged["PL501"]


# --- any frontmatter at all: the daily views never crash ------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.sampled_from([float("nan"), float("inf"), -1.5, 10**30]),
    st.text(max_size=12),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
)
_touchpoint = st.one_of(
    _scalars,
    st.fixed_dictionaries(
        {},
        optional={
            "date": _scalars,
            "kind": st.sampled_from(["call", "email", "note", "meeting", 7]),
            "summary": st.one_of(_scalars, st.just("Last chance: bye")),
            "outcome": st.sampled_from(["replied", "no-reply", None, 3]),
        },
    ),
)
_fields = st.fixed_dictionaries(
    {},
    optional={
        key: _scalars
        for key in (
            "title",
            "company",
            "owner",
            "value",
            "created",
            "stage_entered",
            "next_step",
            "next_step_due",
            "expected_close",
            "closed",
        )
    }
    | {"touchpoints": st.one_of(_scalars, st.lists(_touchpoint, max_size=8))},
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["prospecting", "closing", "won"]), _fields), max_size=6))
def test_daily_views_never_crash(deals: list[tuple[str, dict]]) -> None:
    from pipectl.config import default_config
    from pipectl.daily import agenda as daily_agenda
    from pipectl.daily import board as daily_board
    from pipectl.daily.sweep import SweepResult, candidates
    from pipectl.deal import Deal
    from pipectl.history import Arrivals
    from pipectl.render import agenda as render_agenda
    from pipectl.render import board as render_board
    from pipectl.render import sweep as render_sweep
    from pipectl.textsafe import visible

    config = default_config()
    today = dt.date(2026, 11, 27)
    parsed = [
        Deal(f"d{i}", stage, Path(f"{stage}/d{i}.md"), fields)
        for i, (stage, fields) in enumerate(deals)
    ]
    open_ids = {d.id for d in parsed if d.stage != "won"}

    def shown_safely(text: str) -> None:  # user text reaches the screen only escaped
        assert [c for c in text if c != "\n" and visible(c) != c] == []

    unknown = Arrivals(unavailable="not a git repository")
    columns = daily_board.board(parsed, config.stages, today, config=config, arrivals=unknown)
    on_board = [(c.stage, k.id) for c in columns for k in c.cards]
    assert sorted(on_board) == sorted((d.stage, d.id) for d in parsed)  # each deal once
    board_text = render_board.board(columns, 80, currency="USD")
    shown_safely(board_text)
    board_data = json.loads(json.dumps(daily_board.board_json(columns, today, None)))
    assert [k["id"] for c in board_data["stages"] for k in c["cards"]] == [i for _s, i in on_board]

    plan = daily_agenda.agenda(parsed, config, today)
    ids = [i.deal.id for i in plan.items]
    assert len(ids) == len(set(ids)) and set(ids) <= open_ids  # once each, open deals only
    agenda_text = render_agenda.agenda(plan, 80)
    shown_safely(agenda_text)
    assert all(f"  {i}  " in agenda_text for i in ids)
    agenda_data = json.loads(json.dumps(daily_agenda.agenda_json(plan)))
    assert [i["id"] for i in agenda_data["items"]] == ids

    found = candidates(parsed, config, today)
    assert {c.deal.id for c in found} <= open_ids
    result = SweepResult(today, found, dry_run=True)
    sweep_text = render_sweep.sweep(result, 80, "email", "no-response")
    shown_safely(sweep_text)
    # a line per candidate, then its fate (indented, on one line or more)
    rows = [line for line in sweep_text.splitlines() if not line.startswith(" ")][: len(found)]
    assert all(line.startswith(f"{c.deal.id} ") for c, line in zip(found, rows, strict=True))
