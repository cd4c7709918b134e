"""Line items, recurring revenue and the products catalogue (issue 16), through the CLI on a
real git repo: line items compute `value`, a disagreeing `value` is flagged (PL205), the
catalogue backs the items (PL206), and the MRR figures equal sums worked out here by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, git, make_repo
from hypothesis import given
from hypothesis import strategies as st

from pipectl.lineitems import amounts, items_value

TODAY = "2026-11-10"
SEATS = """\
---
title: Seats
owner: alice
created: 2026-01-01
expected_close: 2026-12-10
line_items:
  - {product: Analytics seat, quantity: 20, unit_price: 45, recurring: monthly}
  - {product: Onboarding, unit_price: 3000, discount: 0.1}   # agreed on the call
---

Twenty seats and onboarding.
"""
EU = """\
---
title: EU seats
owner: bob
created: 2026-01-01
currency: EUR
value: 2400
expected_close: 2027-01-15
mrr: 400
term_months: 6
---
"""
WON = """\
---
title: Won seats
owner: bob
created: 2026-01-01
closed: 2026-11-04
line_items:
  - {product: Analytics seat, quantity: 10, unit_price: 40, recurring: monthly}
  - {product: Training, unit_price: 1500}
term_months: 24
---
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    (root / "pipeline.yaml").write_text("base_currency: USD\n")
    (root / "rates.csv").write_text("currency,from,rate\nEUR,2026-01-01,1.25\n")
    for stage, name, text in (
        ("qualifying", "seats", SEATS),
        ("qualifying", "eu", EU),
        ("won", "won-seats", WON),
    ):
        (root / stage).mkdir(exist_ok=True)
        (root / stage / f"{name}.md").write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "deals")
    return root


def lint(root: Path, codes: str) -> list[dict]:
    r = Cli(root)("lint", "--format", "json", "--today", TODAY, "--select", codes)
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.stdout)


def list_values(root: Path) -> dict[str, str]:
    r = Cli(root)("list", "--format", "tsv", "--today", TODAY, "-s", "qualifying", "-s", "won")
    assert r.exit_code == 0, r.output
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    at = lines[0].index("value")
    return {row[0]: row[at] for row in lines[1:]}


def test_line_items_compute_the_value(root: Path) -> None:
    # 20 × 45 a month for 12 months + 3,000 less 10% once
    seats = Decimal(20 * 45 * 12) + Decimal(3000) * Decimal("0.9")
    values = list_values(root)
    assert Decimal(values["seats"]) == seats == Decimal(13500)
    # 10 × 40 a month for 24 months + 1,500
    assert values["won-seats"] == str(10 * 40 * 24 + 1500)
    report = json.loads(Cli(root)("report", "--json", "--today", TODAY).stdout)
    # the EUR deal states its value: 2,400 EUR = 3,000 USD (its `mrr:` is for the MRR figures)
    assert report["stages"]["qualifying"]["value"] == 13500 + 3000
    assert lint(root, "PL201,PL205") == []  # priced by its items: not a deal without a value


def test_the_recurring_figures_equal_hand_sums(root: Path) -> None:
    data = json.loads(Cli(root)("report", "--json", "--today", TODAY).stdout)["recurring"]
    eur = Decimal("1.25")
    open_mrr = Decimal(20 * 45) + 400 * eur  # seats + the EUR deal's mrr, in USD
    assert Decimal(str(data["open_mrr"])) == open_mrr == Decimal(1400)
    assert data["open_arr"] == 1400 * 12
    assert data["open_one_off"] == 2700
    # first year: seats 2,700 + 12 × 900; the EUR deal's term is 6 months: 6 × 500
    assert data["open_first_year"] == 2700 + 12 * 900 + 6 * 500
    assert data["won"] == [
        {"month": "2026-11", "deals": 1, "new_mrr": 400, "one_off": 1500, "first_year": 6300}
    ]
    text = Cli(root)("report", "--today", TODAY).stdout
    assert "Recurring (USD): open MRR 1,400, ARR 16,800; one-off 2,700; first year 16,500" in text


def test_a_value_the_items_disagree_with_is_flagged_at_its_line(root: Path) -> None:
    path = root / "qualifying" / "seats.md"
    path.write_text(SEATS.replace("owner: alice\n", "owner: alice\nvalue: 10000\n"))
    (finding,) = lint(root, "PL205")
    assert finding["path"] == "qualifying/seats.md" and finding["line"] == 4
    assert "value 10,000.00 is not what the line items come to (13,500.00)" in finding["message"]
    path.write_text(SEATS.replace("owner: alice\n", "owner: alice\nvalue: 13500\n"))
    assert lint(root, "PL205") == []


def test_the_catalogue_backs_the_items(root: Path) -> None:
    (root / "products.csv").write_text(
        "product,unit_price,recurring\n"
        "Analytics seat,45,monthly\n"
        "Onboarding,3000,monthly\n"  # the item bills it once: flagged
        "Broken,lots,one-off\n"
    )
    (root / "won" / "won-seats.md").write_text(
        WON.replace("{product: Training, unit_price: 1500}", "{product: Training}")
    )
    found = {(f["path"], f["line"], f["message"]) for f in lint(root, "PL206")}
    assert found == {
        ("products.csv", 4, "unit_price: 'lots' is not an amount"),
        (
            "qualifying/seats.md",
            8,
            "line item 2: 'Onboarding' is billed monthly in the catalogue, the item says one-off",
        ),
        (
            "won/won-seats.md",
            8,
            "line item 2: product 'Training' is not in products.csv (Analytics seat, Onboarding)",
        ),
    }


def test_an_item_without_a_price_gives_no_value_and_is_flagged(root: Path) -> None:
    (root / "won" / "won-seats.md").write_text(
        WON.replace("{product: Training, unit_price: 1500}", "{product: Training}")
    )
    (finding,) = lint(root, "PL206")
    assert "no unit_price, so the deal has no value from it" in finding["message"]
    assert list_values(root)["won-seats"] == ""


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("{product: X, unit_price: 10, discount: 1.5}", "discount: must be a fraction from 0 to 1"),
        ("{product: X, unit_price: -1}", "unit_price: must be a number of at least 0"),
        ("{product: X, colour: red}", "'colour' is not one of product, quantity"),
        ("{product: X, recurring: weekly}", "recurring: must be monthly or one-off"),
        ("{unit_price: 3}", "product: must be a name on one line"),
    ],
)
def test_a_bad_item_is_refused_by_the_schema(root: Path, item: str, message: str) -> None:
    (root / "qualifying" / "bad.md").write_text(
        f"---\ntitle: Bad\ncreated: 2026-01-01\nline_items:\n  - {item}\n---\n"
    )
    (finding,) = [f for f in lint(root, "PL103") if f["path"] == "qualifying/bad.md"]
    assert finding["line"] == 5 and f"line item 1: {message}" in finding["message"]


def test_set_refuses_a_bad_mrr_and_leaves_the_file(root: Path) -> None:
    path = root / "qualifying" / "eu.md"
    before = path.read_bytes()
    r = Cli(root)("set", "eu", "term_months=0")
    assert r.exit_code == 2 and "term_months" in r.stderr
    assert path.read_bytes() == before


items = st.lists(
    st.fixed_dictionaries(
        {
            "product": st.sampled_from(["a", "b", "c"]),
            "unit_price": st.integers(0, 10_000),
        },
        optional={
            "quantity": st.integers(1, 50),
            "discount": st.sampled_from([0, 0.1, 0.25, 0.5]),
            "recurring": st.sampled_from(["monthly", "one-off"]),
        },
    ),
    min_size=1,
    max_size=6,
)


@given(items, st.one_of(st.none(), st.integers(1, 60)))
def test_the_value_is_one_off_plus_monthly_for_the_term(raw: list, term: int | None) -> None:
    fields = {"line_items": raw, **({"term_months": term} if term else {})}
    once = monthly = Decimal(0)
    for item in raw:
        amount = Decimal(item["unit_price"]) * item.get("quantity", 1)
        amount *= 1 - Decimal(str(item.get("discount", 0)))
        if item.get("recurring") == "monthly":
            monthly += amount
        else:
            once += amount
    found = amounts(fields)
    assert found is not None
    assert found.one_off == pytest.approx(float(once))
    assert found.monthly == pytest.approx(float(monthly))
    assert items_value(fields) == pytest.approx(float(once + monthly * (term or 12)), abs=0.01)
