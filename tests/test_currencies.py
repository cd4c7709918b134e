"""Currencies (issue 16): USD, EUR (two rates over time) and JPY (no rate) deals, open, won
and lost, through the CLI on a real git repo. Every expected figure is worked out here by
hand from the rate table's rows, never from pipectl's output."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from conftest import Cli, git, make_repo

TODAY = "2026-09-15"
# the rate table: units of USD per unit, from the day on
RATES = [("EUR", "2026-01-01", "1.10"), ("EUR", "2026-06-01", "1.20")]
PROB = {"prospecting": 0.1, "qualifying": 0.2, "connecting": 0.4, "closing": 0.7}
# id: (stage, value, currency or None for the base, closed date for a closed deal)
DEALS = {
    "us-open": ("closing", "10000", None, None),
    "eu-open": ("qualifying", "20000", "EUR", None),
    "jp-open": ("prospecting", "5000000", "JPY", None),
    "us-won": ("won", "3000", None, "2026-03-10"),
    "eu-won": ("won", "1000", "EUR", "2026-03-15"),
    "eu-won-late": ("won", "2500.50", "EUR", "2026-07-01"),
    "eu-early": ("won", "500", "EUR", "2025-12-20"),  # before EUR's first rate: a gap
    "eu-lost": ("lost", "7000", "EUR", "2026-05-31"),
    "us-lost": ("lost", "400", None, "2026-08-01"),
    "jp-lost": ("lost", "100000", "JPY", "2026-04-01"),
}
CENT = Decimal("0.01")


def rate(currency: str, day: str) -> Decimal | None:
    """The table's rate in force on `day` (USD: 1), by reading RATES as a person would."""
    if currency == "USD":
        return Decimal(1)
    held = [Decimal(r) for c, start, r in RATES if c == currency and start <= day]
    return held[-1] if held else None


def in_currency(deal: str, target: str) -> Decimal | None:
    """A deal's value in `target` on its day (today open, its close date closed), to the cent."""
    _stage, value, currency, closed = DEALS[deal]
    currency = currency or "USD"
    if currency == target:
        return Decimal(value)
    day = closed or TODAY
    into, per = rate(currency, day), rate(target, day)
    if into is None or per is None:
        return None
    return (Decimal(value) * into / per).quantize(CENT, rounding=ROUND_HALF_UP)


def total(target: str, stages: set[str], weighted: bool = False) -> Decimal:
    out = Decimal(0)
    for deal, (stage, _v, _c, _d) in DEALS.items():
        amount = in_currency(deal, target)
        if stage in stages and amount is not None:
            out += amount * Decimal(str(PROB[stage])) if weighted else amount
    return out.quantize(CENT, rounding=ROUND_HALF_UP)


def deal_file(stage: str, value: str, currency: str | None, closed: str | None) -> str:
    lines = ["---", "title: A deal", "owner: alice", f"value: {value}", "created: 2025-11-01"]
    if currency:
        lines.append(f"currency: {currency}")
    if closed:
        lines.append(f"closed: {closed}")
    if stage == "lost":
        lines.append("lost_reason: price")
    return "\n".join([*lines, "next_step: Call", "next_step_due: 2026-09-20", "---", ""])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    assert Cli(root)("init").exit_code == 0
    for deal, (stage, value, currency, closed) in DEALS.items():
        path = root / stage / f"{deal}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text(deal_file(stage, value, currency, closed))
    rows = "\n".join(",".join(r) for r in RATES)
    (root / "rates.csv").write_text(f"# USD per unit\ncurrency,from,rate\n{rows}\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "deals in three currencies")
    return root


def report(root: Path, *args: str) -> dict:
    r = Cli(root)("report", "--json", "--today", TODAY, *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def money(d: Decimal) -> float | int:
    return int(d) if d == d.to_integral() else float(d)


def test_report_totals_are_the_hand_converted_sums(repo: Path) -> None:
    fig = report(repo)
    assert (fig["currency"], fig["base_currency"]) == ("USD", "USD")
    open_stages = set(PROB)
    assert fig["open_value"] == money(total("USD", open_stages)) == 34000
    assert fig["weighted_value"] == money(total("USD", open_stages, weighted=True)) == 11800
    assert fig["won_value"] == money(total("USD", {"won"})) == 7100.6  # eu-early in no sum
    assert fig["lost_value"] == money(total("USD", {"lost"})) == 8100
    assert (fig["won_count"], fig["lost_count"], fig["open_count"]) == (4, 3, 3)  # all counted
    for stage in ("prospecting", "qualifying", "closing", "won", "lost"):
        assert fig["stages"][stage]["value"] == money(total("USD", {stage})), stage
    unconverted = {u["id"]: u for u in fig["unconverted"]}
    assert sorted(unconverted) == ["eu-early", "jp-lost", "jp-open"]
    assert unconverted["jp-open"] == {
        "id": "jp-open",
        "title": "A deal",
        "stage": "prospecting",
        "owner": "alice",
        "currency": "JPY",
        "value": 5000000,
        "rate_date": TODAY,
    }
    assert unconverted["eu-early"]["rate_date"] == "2025-12-20"
    prospecting = fig["stages"]["prospecting"]
    # the JPY deal is counted, its 5,000,000 in no sum, and it is no deal without a value
    assert (prospecting["count"], prospecting["value"], prospecting["weighted_value"]) == (1, 0, 0)
    assert (prospecting["no_value_count"], prospecting["unconverted_count"]) == (0, 1)
    assert fig["converted_currencies"] == ["EUR"] and fig["other_currencies"] == ["EUR", "JPY"]
    # the owner's figures are the same sums
    assert fig["owners"]["alice"]["open_value"] == 34000
    assert fig["owners"]["alice"]["won_value"] == 7100.6


def test_report_text_says_the_currency_and_lists_the_unconverted(repo: Path) -> None:
    r = Cli(repo)("report", "--today", TODAY)
    assert r.exit_code == 0, r.output
    assert "Open: 3 deals, 34,000 USD, weighted 11,800 USD" in r.stdout
    assert "Won 4 (7,100.60 USD)" in r.stdout
    assert "amounts in USD: EUR converted through rates.csv" in r.stdout
    assert "jp-open (prospecting): 5,000,000 JPY, no rate into USD on 2026-09-15" in r.stdout
    assert "summed as is" not in r.stdout


def test_report_in_eur(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    fig = report(repo, "--currency", "eur")
    assert fig["currency"] == "EUR"
    open_stages = set(PROB)
    # by hand: 10,000 USD / 1.20 = 8,333.33; 20,000 EUR as it is
    assert fig["open_value"] == money(total("EUR", open_stages)) == 28333.33
    # 8,333.33 x 0.7 + 20,000 x 0.2
    assert fig["weighted_value"] == money(total("EUR", open_stages, weighted=True)) == 9833.33
    # 3,000 USD / 1.10 (March) = 2,727.27; 1,000 + 2,500.50 + 500 (EUR needs no rate in EUR)
    assert fig["won_value"] == money(total("EUR", {"won"})) == 6727.77
    # 7,000 EUR; 400 USD / 1.20 (August) = 333.33
    assert fig["lost_value"] == money(total("EUR", {"lost"})) == 7333.33
    assert sorted(u["id"] for u in fig["unconverted"]) == ["jp-lost", "jp-open"]
    text = Cli(repo)("report", "--today", TODAY, "--currency", "EUR").stdout
    assert "Open: 3 deals, 28,333.33 EUR, weighted 9,833.33 EUR" in text
    refused = Cli(repo)("report", "--today", TODAY, "--currency", "JPY")
    assert refused.exit_code == 2 and "--currency JPY: rates.csv has no rate" in refused.output


def test_board_column_totals_agree_with_the_report(repo: Path) -> None:
    fig = report(repo)
    r = Cli(repo)("board", "--all", "--json", "--today", TODAY)
    assert r.exit_code == 0, r.output
    board = json.loads(r.stdout)
    assert board["currency"] == "USD"
    for column in board["stages"]:
        assert column["value"] == fig["stages"][column["stage"]]["value"], column["stage"]
        assert column["count"] == fig["stages"][column["stage"]]["count"]
    cards = {c["id"]: c for col in board["stages"] for c in col["cards"]}
    assert (cards["eu-open"]["value"], cards["eu-open"]["amount"]) == (24000, 20000)
    assert cards["eu-open"]["currency"] == "EUR" and not cards["eu-open"]["unconverted"]
    assert cards["jp-open"]["unconverted"] and cards["jp-open"]["value"] is None
    text = Cli(repo)("board", "--all", "--today", TODAY, "--width", "200").stdout
    assert "open: 3 deals · 34,000 USD" in text
    assert "unconverted (no rate, in no total): jp-open (JPY), eu-early (EUR), jp-lost (JPY)" in (
        " ".join(text.split())
    )


def test_dashboard_says_what_was_converted(repo: Path, tmp_path: Path) -> None:
    page = tmp_path / "d.html"
    assert Cli(repo)("report", "--today", TODAY, "--html", str(page)).exit_code == 0
    html = page.read_text()
    assert "Every amount is in USD: deals in EUR are converted through rates.csv" in html
    assert "Unconverted, in no sum: jp-open (prospecting), 5,000,000 JPY" in html


def test_lint_flags_the_currency_without_a_rate_and_a_negative_rate(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)  # paths shown as from the pipeline's folder
    with (repo / "rates.csv").open("a") as f:
        f.write("GBP,2026-01-01,-1.27\n")
    r = Cli(repo)("lint", "--today", TODAY, "--select", "PL605,PL107")
    assert r.exit_code == 1
    lines = sorted(r.stdout.splitlines()[:-2])
    assert lines == [
        "lost/jp-lost.md:6:1: PL605 rates.csv has no rate for JPY: its value is in no total",
        "prospecting/jp-open.md:6:1: PL605 rates.csv has no rate for JPY: its value is in no total",
        "rates.csv:5:1: PL107 rate: '-1.27' is not a positive number (units of USD per GBP)",
        "won/eu-early.md:6:1: PL605 EUR has no rate on 2025-12-20 (its first in rates.csv holds "
        "from 2026-01-01): its value is in no total",
    ]
    # a figure converted at a wrong row is never shown: the report refuses, naming the line
    refused = Cli(repo)("report", "--today", TODAY)
    assert refused.exit_code == 2
    assert "rates.csv:5: rate: '-1.27' is not a positive number" in refused.output
    assert Cli(repo)("board", "--today", TODAY).exit_code == 2


def test_as_of_reads_the_commits_rate_table(repo: Path) -> None:
    """--as-of reads the commit's rates.csv: a rate added later does not convert the past."""
    from pipectl.asof import pipeline_at
    from pipectl.rates import read_rates
    from pipectl.store import Pipeline

    first = git(repo, "rev-parse", "HEAD").strip()
    with (repo / "rates.csv").open("a") as f:
        f.write("JPY,2026-01-01,0.007\n")
    git(repo, "commit", "-q", "-am", "JPY rate")
    now = report(repo)
    assert "jp-open" not in {u["id"] for u in now["unconverted"]}
    assert now["open_value"] == 34000 + 35000  # 5,000,000 x 0.007
    worktree = Pipeline(repo)
    assert worktree.git is not None
    then = read_rates(pipeline_at(repo, worktree.git, first))
    assert then.rate("JPY", date(2026, 9, 15)) is None
    assert then.rate("EUR", date(2026, 9, 15)) == Decimal("1.20")
    assert read_rates(worktree).rate("JPY", date(2026, 9, 15)) == Decimal("0.007")


def test_base_currency_and_the_older_currency_key(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    (root / "pipeline.yaml").write_text("base_currency: EUR\n")
    assert report(root)["currency"] == "EUR"
    (root / "pipeline.yaml").write_text("currency: GBP\n")
    assert report(root)["currency"] == "GBP"
    (root / "pipeline.yaml").write_text("base_currency: EUR\ncurrency: GBP\n")
    r = Cli(root)("report", "--today", TODAY)
    assert r.exit_code == 2 and "pipeline.yaml:2: currency: 'GBP' disagrees" in r.output


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"\xff\xfe"), "rates.csv: not UTF-8"),
        (lambda p: os.mkfifo(p), "rates.csv: is not a regular file; not read"),
        (lambda p: p.symlink_to("/etc/passwd"), "rates.csv: is a symbolic link to outside"),
        (lambda p: p.mkdir(), "rates.csv: is a directory, not a rate table"),
    ],
    ids=["not-utf8", "fifo", "link-out", "folder"],
)
def test_a_rate_table_that_cannot_be_read_is_one_line_never_a_hang(
    repo: Path, monkeypatch: pytest.MonkeyPatch, make, message: str
) -> None:
    monkeypatch.chdir(repo)
    (repo / "rates.csv").unlink()
    make(repo / "rates.csv")
    for command in ("report", "board"):
        r = Cli(repo)(command, "--today", TODAY)
        assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
    lint = Cli(repo)("lint", "--today", TODAY, "--select", "PL107")
    assert lint.exit_code == 1 and lint.stdout.startswith(f"rates.csv:1:1: PL107 {message[11:]}")


def test_list_says_a_deals_own_currency(repo: Path) -> None:
    r = Cli(repo)("list", "--width", "200")
    assert r.exit_code == 0, r.output
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[1:]}
    assert "20,000 EUR" in rows["eu-open"] and "5,000,000 JPY" in rows["jp-open"]
    assert "10,000" in rows["us-open"] and "USD" not in rows["us-open"]
