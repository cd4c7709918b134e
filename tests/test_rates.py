"""pipectl/rates.py and the report's conversion, as properties: for any rate table and any
deals, each total is the sum of the deals' values converted by hand at their day's row, and a
deal with no rate is counted, listed and in no sum."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.config import default_config
from pipectl.deal import Deal
from pipectl.history import History
from pipectl.rates import load_rates
from pipectl.report import report

START = dt.date(2026, 1, 1)
TODAY = dt.date(2026, 12, 31)
PROB = {"prospecting": 0.1, "closing": 0.7}
CENT = Decimal("0.01")

ROWS = st.dictionaries(
    st.tuples(st.sampled_from(["EUR", "GBP"]), st.integers(0, 400)),
    st.decimals(Decimal("0.001"), Decimal("200"), places=3),
    max_size=6,
)
DEALS = st.lists(
    st.tuples(
        st.sampled_from(["prospecting", "closing", "won", "lost"]),
        st.integers(0, 10**6) | st.decimals(Decimal(0), Decimal(10**5), places=2).map(float),
        st.sampled_from(["USD", "EUR", "GBP", "JPY", None]),
        st.integers(-30, 364),  # the close day, from START (before the table's first rows too)
    ),
    max_size=8,
)


def table_text(rows: dict[tuple[str, int], Decimal]) -> str:
    lines = [f"{c},{START + dt.timedelta(days=d)},{r}" for (c, d), r in rows.items()]
    return "currency,from,rate\n" + "\n".join(lines) + "\n"


def hand_rate(rows: dict[tuple[str, int], Decimal], currency: str, day: dt.date) -> Decimal | None:
    if currency == "USD":
        return Decimal(1)
    held = [
        (d, r) for (c, d), r in rows.items() if c == currency and START + dt.timedelta(d) <= day
    ]
    return max(held)[1] if held else None


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, deals=DEALS, target=st.sampled_from(["USD", "EUR"]))
def test_totals_are_the_hand_converted_sums(rows, deals, target) -> None:
    config = default_config()
    rates = load_rates(table_text(rows), "USD")
    assert rates.problems == ()
    made, open_sum, weighted, won, lost, lacking = (
        [],
        Decimal(0),
        Decimal(0),
        Decimal(0),
        Decimal(0),
        [],
    )
    for i, (stage, value, currency, close) in enumerate(deals):
        closed = START + dt.timedelta(days=close)
        fields = {"title": f"d{i}", "value": value, "created": START - dt.timedelta(days=60)}
        if currency is not None:
            fields["currency"] = currency
        if stage in ("won", "lost"):
            fields["closed"] = closed
        made.append(Deal(f"d{i}", stage, Path(stage, f"d{i}.md"), fields))
        day = closed if stage in ("won", "lost") else TODAY
        into = hand_rate(rows, currency or "USD", day)
        per = hand_rate(rows, target, day)
        amount = Decimal(repr(value))
        if (currency or "USD") != target:
            if into is None or per is None:
                lacking.append(f"d{i}")
                continue
            amount = (amount * into / per).quantize(CENT, rounding=ROUND_HALF_UP)
        if stage in PROB:
            open_sum += amount
            weighted += amount * Decimal(str(PROB[stage]))
        elif stage == "won":
            won += amount
        else:
            lost += amount
    fig = report(made, config, History(available=False), TODAY, rates=rates, currency=target)

    def near(got: float | int | None, want: Decimal) -> bool:  # figures sum floats, to the cent
        return abs(Decimal(repr(got or 0)) - want) <= CENT

    assert near(fig.open_value, open_sum)
    assert near(fig.weighted_value, weighted)
    assert near(fig.outcomes.won_value, won)
    assert near(fig.outcomes.lost_value, lost)
    assert sorted(u.id for u in fig.unconverted) == sorted(lacking)
    assert sum(s.count for s in fig.stages) == len(deals)  # every deal counted
    assert sum(s.unconverted_count for s in fig.stages) == len(lacking)
    assert fig.outcomes.won_count == sum(1 for d in deals if d[0] == "won")


@given(rows=ROWS)
def test_the_rate_in_force_is_the_last_row_on_or_before_the_day(rows) -> None:
    rates = load_rates(table_text(rows), "usd")
    for currency in ("EUR", "GBP", "JPY", "USD", "eur"):
        for offset in (-1, 0, 50, 200, 401):
            day = START + dt.timedelta(days=offset)
            assert rates.rate(currency, day) == hand_rate(rows, currency.upper(), day)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("EUR,2026-01-01,0", "rate: '0' is not a positive number (units of USD per EUR)"),
        ("EUR,2026-01-01,-1", "rate: '-1' is not a positive number"),
        ("EUR,2026-01-01,1_000", "rate: '1_000' is not a positive number"),
        ("EUR,2026-01-01,inf", "rate: 'inf' is not a positive number"),
        ("EUR,01/02/2026,1", "from: '01/02/2026' is no date"),
        ("EUR,2026-02-30,1", "from: '2026-02-30' is no date"),
        (",2026-01-01,1", "currency: '' is no currency code"),
        ("E R,2026-01-01,1", "currency: 'E R' is no currency code"),
        ("usd,2026-01-01,1", "USD is the base currency: its rate is always 1"),
        ("EUR,2026-01-01", "2 cells, expected 3"),
    ],
)
def test_a_bad_row_is_a_problem_with_its_line_and_the_figures_refuse_it(row, message) -> None:
    from pipectl.errors import ConfigError

    rates = load_rates(
        f"# note\ncurrency,from,rate\nGBP,2026-01-01,1.25\n\n{row}\n", "USD", "r.csv"
    )
    ((line, said),) = [(p.line, p.message) for p in rates.problems]
    assert line == 5 and said.startswith(message)
    assert rates.rate("GBP", TODAY) == Decimal("1.25")  # the good rows still read
    with pytest.raises(ConfigError) as caught:
        rates.checked()
    assert str(caught.value) == f"r.csv:5: {said}"


def test_columns_in_another_order_and_no_table() -> None:
    rates = load_rates("rate,currency,from\n1.5,EUR,2026-01-01\n", "USD")
    assert rates.problems == () and rates.rate("EUR", TODAY) == Decimal("1.5")
    assert load_rates("", "USD").rate("EUR", TODAY) is None
    assert load_rates("", "USD").rate("USD", TODAY) == 1
