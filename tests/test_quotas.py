"""Quotas and forecast categories (issue 16): two reps over two quarters, through the CLI on a
real git repo. Every expected figure is worked out here by hand from the deals below (and a
EUR rate), never from pipectl's own output; PL604 fires on the rep below coverage."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, git, make_repo

TODAY = "2026-11-10"  # in 2026-Q4
PROB = {"prospecting": 0.1, "qualifying": 0.2, "connecting": 0.4, "closing": 0.7}
EUR = Decimal("1.25")  # USD per EUR from 2026-01-01
QUOTAS = {  # (rep, period): quota in USD
    ("alice", "2026-Q4"): 100000,
    ("alice", "2027-Q1"): 80000,
    ("bob", "2026-Q4"): 60000,
    ("bob", "2027-Q1"): 50000,
}
TEAM_Q4 = 150000  # the team's own quota for 2026-Q4; 2027-Q1 is the sum of its reps'
# id: (stage, owner, value, currency, closed or expected_close, own forecast category)
DEALS = {
    "a-won-oct": ("won", "alice", "30000", None, "2026-10-05", None),
    "a-won-eur": ("won", "alice", "8000", "EUR", "2026-11-02", None),  # 10,000 USD
    "a-won-sep": ("won", "alice", "99999", None, "2026-09-30", None),  # Q3: in no Q4 figure
    "a-closing": ("closing", "alice", "50000", None, "2026-12-15", None),  # commit
    "a-connect": ("connecting", "alice", "40000", None, "2026-12-20", None),  # best case
    "a-q1": ("connecting", "alice", "20000", None, "2027-02-01", "commit"),  # forced commit
    "a-nodate": ("qualifying", "alice", "70000", None, None, None),  # no close date: no period
    "b-won": ("won", "bob", "10000", None, "2026-11-01", None),
    "b-qual": ("qualifying", "bob", "25000", None, "2026-12-01", None),  # pipeline
    "b-omit": ("closing", "bob", "9000", None, "2026-12-05", "omitted"),
    "b-lost": ("lost", "bob", "40000", None, "2026-11-03", None),
}


def _deal_text(deal_id: str) -> str:
    stage, owner, value, currency, day, category = DEALS[deal_id]
    lines = ["---", f"title: {deal_id}", "created: 2026-01-01", f"owner: {owner}"]
    lines.append(f"value: {value}")
    if currency:
        lines.append(f"currency: {currency}")
    if day:
        lines.append(f"{'closed' if stage in ('won', 'lost') else 'expected_close'}: {day}")
    if stage == "lost":
        lines.append("lost_reason: price")
    if category:
        lines.append(f"forecast: {category}")
    if stage in ("connecting", "closing"):
        lines.append("qualification: {budget: y, need: y, fit: y, timeline: y}")
    return "\n".join([*lines, "---", "", "Notes.", ""])


PIPELINE_YAML = f"""\
base_currency: USD
quotas:
  2026-Q4: {TEAM_Q4}   # the team's own
team:
  - {{handle: alice, name: Alice A, quotas: {{2026-Q4: 100000, 2027-Q1: 80000}}}}
  - {{handle: bob, name: Bob B, quotas: {{2026-Q4: 60000, 2027-Q1: 50000}}}}
rules:
  low-coverage: {{ratio: 1.5}}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("quotas") / "repo")


def build(path: Path) -> Path:
    """The two reps' pipeline, committed (the dashboard's test opens it too)."""
    root = make_repo(path)
    (root / "pipeline.yaml").write_text(PIPELINE_YAML)
    (root / "rates.csv").write_text("currency,from,rate\nEUR,2026-01-01,1.25\n")
    for deal_id, (stage, *_rest) in DEALS.items():
        (root / stage).mkdir(exist_ok=True)
        (root / stage / f"{deal_id}.md").write_text(_deal_text(deal_id))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "deals")
    return root


def _usd(deal_id: str) -> Decimal:
    _s, _o, value, currency, _d, _c = DEALS[deal_id]
    return Decimal(value) * (EUR if currency == "EUR" else 1)


def _in(day: str | None, period: str) -> bool:
    if day is None:
        return False
    year, q = period.split("-Q")
    month = int(day[5:7])
    return day[:4] == year and (month - 1) // 3 + 1 == int(q)


def _category(deal_id: str) -> str:
    stage, *_r, own = DEALS[deal_id]
    if own:
        return own
    p = PROB[stage]
    return "commit" if p >= 0.7 else "best_case" if p >= 0.4 else "pipeline"


def expected(owner: str | None, period: str, quota: float) -> dict[str, object]:
    """A quota row worked out from DEALS: won in the period, open expected in it."""
    mine = [d for d, v in DEALS.items() if owner is None or v[1] == owner]
    won = sum(
        (_usd(d) for d in mine if DEALS[d][0] == "won" and _in(DEALS[d][4], period)), Decimal(0)
    )
    open_ = [d for d in mine if DEALS[d][0] in PROB and _in(DEALS[d][4], period)]
    weighted = sum((_usd(d) * Decimal(str(PROB[DEALS[d][0]])) for d in open_), Decimal(0))
    remaining = max(Decimal(quota) - won, Decimal(0))
    return {
        "quota": float(quota),
        "won": float(won),
        "attainment": round(float(won / Decimal(quota)), 4),
        "open_value": float(sum((_usd(d) for d in open_), Decimal(0))),
        "weighted_open": float(weighted),
        "commit": float(sum((_usd(d) for d in open_ if _category(d) == "commit"), Decimal(0))),
        "best_case": float(
            sum((_usd(d) for d in open_ if _category(d) == "best_case"), Decimal(0))
        ),
        "remaining": float(remaining),
        "coverage": round(float(weighted / remaining), 4) if remaining else None,
        "gap": float(max(remaining - weighted, Decimal(0))),
    }


def report(root: Path, *args: str) -> dict:
    r = Cli(root)("report", "--json", "--today", TODAY, *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_attainment_coverage_and_gap_equal_the_hand_computed_figures(built: Path) -> None:
    rows = {(q["owner"], q["period"]): q for q in report(built)["quotas"]}
    want = {
        **{key: expected(key[0], key[1], quota) for key, quota in QUOTAS.items()},
        ("team", "2026-Q4"): expected(None, "2026-Q4", TEAM_Q4),
        ("team", "2027-Q1"): expected(None, "2027-Q1", 80000 + 50000),
    }
    assert set(rows) == set(want)
    for key, figures in want.items():
        got = {k: rows[key][k] for k in figures}
        assert got == pytest.approx(figures), key
        assert rows[key]["current"] is (key[1] == "2026-Q4")
    # spot checks a reader can follow: alice won 30,000 + 8,000 EUR × 1.25 in Q4
    assert rows[("alice", "2026-Q4")]["won"] == 40000
    assert rows[("alice", "2026-Q4")]["attainment"] == 0.4
    # 50,000 × 0.7 + 40,000 × 0.4 = 51,000 against 60,000 still to win
    assert rows[("alice", "2026-Q4")]["coverage"] == 0.85
    assert rows[("alice", "2026-Q4")]["gap"] == 9000


def test_owner_filter_keeps_that_reps_rows_only(built: Path) -> None:
    rows = report(built, "--owner", "bob")["quotas"]
    assert {(q["owner"], q["period"]) for q in rows} == {("bob", "2026-Q4"), ("bob", "2027-Q1")}


def test_low_coverage_fires_on_the_rep_below_coverage(built: Path) -> None:
    r = Cli(built)("lint", "--format", "json", "--today", TODAY, "--select", "PL604")
    findings = [f for f in json.loads(r.stdout) if f["code"] == "PL604"]
    # ratio 1.5: alice 51,000 / 60,000 = 0.85; bob 25,000 × 0.2 + 9,000 × 0.7 = 11,300 of
    # 50,000 still to win: 0.23; the team 62,300 / 100,000 = 0.62: all three below
    who = sorted(f["message"].split(":")[0] for f in findings)
    assert who == ["alice", "bob", "team"], findings
    lines = (built / "pipeline.yaml").read_text().splitlines()
    bob = next(f for f in findings if f["message"].startswith("bob:"))
    assert "bob" in lines[bob["line"] - 1]
    assert "0.23× the 50,000 USD still to win of the 60,000 USD quota" in bob["message"]


def test_a_rep_above_coverage_is_silent(built: Path) -> None:
    r = Cli(built)("lint", "--format", "json", "--today", TODAY, "--select", "PL604")
    assert r.exit_code in (0, 1)
    text = (built / "pipeline.yaml").read_text()
    low = text.replace("{ratio: 1.5}", "{ratio: 0.5}")
    (built / "pipeline.yaml").write_text(low)
    try:
        r = Cli(built)("lint", "--format", "json", "--today", TODAY, "--select", "PL604")
        who = sorted(f["message"].split(":")[0] for f in json.loads(r.stdout))
        assert who == ["bob"]  # 0.85 and 0.62 clear 0.5; bob's 0.23 does not
    finally:
        (built / "pipeline.yaml").write_text(text)


def test_forecast_by_category_and_its_running_total(built: Path) -> None:
    data = report(built)["forecast_categories"]
    q4, q1 = data["quarter"]
    assert q4["period"] == "2026-Q4" and q1["period"] == "2027-Q1"
    assert q4["won"] == 30000 + 10000 + 10000
    assert q4["commit"] == 50000 and q4["best_case"] == 40000
    assert q4["pipeline"] == 25000 and q4["omitted"] == 9000
    assert q4["total"] == 50000 + 50000 + 40000
    assert q1["commit"] == 20000 and q1["running_total"] == q4["total"] + 20000
    months = {m["period"]: m for m in data["month"]}
    assert sorted(months) == ["2026-10", "2026-11", "2026-12", "2027-02"]
    assert months["2026-12"]["commit"] == 50000
    assert data["month"][-1]["running_total"] == q1["running_total"]


def test_text_report_shows_the_quotas(built: Path) -> None:
    r = Cli(built)("report", "--today", TODAY)
    assert r.exit_code == 0, r.output
    assert "Quotas (USD; * the period of today)" in r.stdout
    row = next(line for line in r.stdout.splitlines() if line.startswith("2026-Q4 *  alice"))
    assert row.split()[3:7] == ["100,000", "40,000", "40%", "51,000"]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("quotas: {2026-Q5: 10}", "'2026-Q5' is not a period"),
        ("quotas: {2026-Q4: -1}", "a quota is an amount of at least 0"),
        ("forecast_categories: {won: commit}", "'won' is not an open stage"),
        ("forecast_categories: {closing: maybe}", "must be one of commit, best_case"),
        ("team:\n  - {handle: al, quotas: {Q4: 1}}", "al: quotas: 'Q4' is not a period"),
    ],
)
def test_bad_settings_get_one_line_naming_the_file(
    tmp_path: Path, setting: str, message: str
) -> None:
    root = make_repo(tmp_path / "r")
    (root / "pipeline.yaml").write_text(setting + "\n")
    r = Cli(root)("report", "--today", TODAY)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"pipectl: error: {root / 'pipeline.yaml'}:") and message in line


def test_a_deals_forecast_category_is_checked_on_write(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    assert Cli(root)("init").exit_code == 0
    assert Cli(root)("add", "Acme", "--id", "acme").exit_code == 0
    before = (root / "prospecting" / "acme.md").read_bytes()
    r = Cli(root)("set", "acme", "forecast=maybe")
    assert r.exit_code == 2 and "forecast" in r.stderr and "commit" in r.stderr
    assert (root / "prospecting" / "acme.md").read_bytes() == before
    assert Cli(root)("set", "acme", "forecast=commit").exit_code == 0


# --- docs/forecast.md's worked quota example, built from the page and recomputed ------------

DOC = (Path(__file__).parent.parent / "docs" / "forecast.md").read_text(encoding="utf-8")
DOC_TODAY = "2026-11-10"


def _doc_table(first_header: str) -> list[dict[str, str]]:
    section = DOC[DOC.index("## A worked quota example") :]
    lines = section[section.index(f"| {first_header} |") :].split("\n\n", 1)[0].splitlines()
    names = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return [dict(zip(names, row, strict=True)) for row in rows]


def _num(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_the_worked_quota_example_in_docs_forecast_md(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "doc")
    yaml_block = DOC[DOC.index("## Quotas and attainment") :].split("```yaml\n", 1)[1]
    (root / "pipeline.yaml").write_text(yaml_block.split("```", 1)[0])
    deals = _doc_table("deal")
    for d in deals:
        key = "closed" if d["stage"] == "won" else "expected_close"
        qualified = "qualification: {budget: y, need: y, fit: y, timeline: y}\n"
        text = (
            f"---\ntitle: {d['deal']}\nowner: {d['owner']}\ncreated: 2026-01-01\n"
            f"value: {_num(d['value'])}\n{key}: {d['date']}\n"
            + (qualified if d["stage"] in ("connecting", "closing") else "")
            + "---\n"
        )
        (root / d["stage"]).mkdir(exist_ok=True)
        (root / d["stage"] / f"{d['deal']}.md").write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "doc example")
    r = Cli(root)("report", "--json", "--today", DOC_TODAY)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    rows = {q["owner"]: q for q in data["quotas"] if q["period"] == "2026-Q4"}
    quota = {"alice": 100000, "bob": 60000, "team": 150000}
    for stated in _doc_table("row"):
        who = stated["row"]
        mine = [d for d in deals if who == "team" or d["owner"] == who]
        won = sum((_num(d["value"]) for d in mine if d["stage"] == "won"), Decimal(0))
        weighted = sum(
            (_num(d["value"]) * Decimal(str(PROB[d["stage"]])) for d in mine if d["stage"] in PROB),
            Decimal(0),
        )
        remaining = quota[who] - won
        by_hand = {
            "won": won,
            "attainment": round(won / quota[who], 4),
            "weighted_open": weighted,
            "remaining": remaining,
            "coverage": round(weighted / remaining, 4),
            "gap": remaining - weighted,
        }
        for key, value in by_hand.items():
            assert _num(stated[key]) == value, (who, key)  # the page says what is true
            assert Decimal(str(rows[who][key])) == value, (who, key)  # and pipectl agrees
    q4 = data["forecast_categories"]["quarter"][0]
    assert (q4["won"], q4["commit"], q4["best_case"], q4["pipeline"]) == (
        40000,
        50000,
        40000,
        25000,
    )
    assert q4["total"] == 130000
    assert "a total of 130,000" in DOC


def test_quotas_convert_into_the_reports_currency(built: Path) -> None:
    # quotas are in the base currency (USD); in EUR at 1.25 USD per EUR each is 0.8 of it
    rows = {(q["owner"], q["period"]): q for q in report(built, "--currency", "EUR")["quotas"]}
    alice = rows[("alice", "2026-Q4")]
    assert alice["quota"] == 80000
    assert alice["won"] == 30000 / 1.25 + 8000  # the EUR deal is in EUR already
    assert alice["attainment"] == round((24000 + 8000) / 80000, 4)
