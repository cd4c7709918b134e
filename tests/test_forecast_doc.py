"""docs/forecast.md's worked example: the pipeline is built from the page (its rate table and
its deals), `pipectl report` is run in both currencies, and every number the page states is
recomputed here from the page's own tables."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from conftest import REPO_ROOT, Cli, git, make_repo

DOC = (REPO_ROOT / "docs" / "forecast.md").read_text(encoding="utf-8")
TODAY = "2026-09-15"
PROB = {"prospecting": 0.1, "qualifying": 0.2, "connecting": 0.4, "closing": 0.7}
CENT = Decimal("0.01")


def rate_table() -> str:
    return DOC.split("```csv\n", 1)[1].split("```", 1)[0]


def table(first_header: str) -> list[dict[str, str]]:
    """The Markdown table whose first column is `first_header`, as rows of cells."""
    lines = DOC[DOC.index(f"| {first_header} |") :].split("\n\n", 1)[0].splitlines()
    names = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return [dict(zip(names, row, strict=True)) for row in rows]


def number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def rate(rows: list[list[str]], currency: str, day: str) -> Decimal | None:
    if currency == "USD":
        return Decimal(1)
    held = [(start, Decimal(r)) for c, start, r in rows if c == currency and start <= day]
    return max(held)[1] if held else None


def by_hand(target: str) -> dict[str, Decimal | list[str]]:
    rows = [
        line.split(",")
        for line in rate_table().splitlines()[1:]
        if line and not line.startswith(("#", "currency,"))
    ]
    sums = {k: Decimal(0) for k in ("open_value", "weighted_value", "won_value", "lost_value")}
    lacking = []
    for deal in table("deal"):
        day = deal["closed"] or TODAY
        into, per = rate(rows, deal["currency"], day), rate(rows, target, day)
        value = number(deal["value"])
        if deal["currency"] != target:
            if into is None or per is None:
                lacking.append(deal["deal"])
                continue
            value = (value * into / per).quantize(CENT, rounding=ROUND_HALF_UP)
        if deal["stage"] in PROB:
            sums["open_value"] += value
            sums["weighted_value"] += value * Decimal(str(PROB[deal["stage"]]))
        else:
            sums[f"{deal['stage']}_value"] += value
    out: dict[str, Decimal | list[str]] = {
        k: v.quantize(CENT, rounding=ROUND_HALF_UP) for k, v in sums.items()
    }
    out["unconverted"] = lacking
    return out


def test_the_worked_example_is_what_pipectl_computes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    assert Cli(root)("init").exit_code == 0
    (root / "rates.csv").write_text(rate_table())
    for deal in table("deal"):
        lines = ["---", f"title: {deal['deal']}", "created: 2026-01-01"]
        lines.append(f"value: {number(deal['value'])}")
        if deal["currency"] != "USD":
            lines.append(f"currency: {deal['currency']}")
        if deal["closed"]:
            lines.append(f"closed: {deal['closed']}")
        if deal["stage"] == "lost":
            lines.append("lost_reason: price")
        path = root / deal["stage"] / f"{deal['deal']}.md"
        path.write_text("\n".join([*lines, "---", ""]))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the example")
    stated = {row["figure"].strip("`"): row for row in table("figure")}
    assert set(stated) == {"open_value", "weighted_value", "won_value", "lost_value", "unconverted"}
    for column, args in (("USD", ()), ("EUR", ("--currency", "EUR"))):
        r = Cli(root)("report", "--json", "--today", TODAY, *args)
        assert r.exit_code == 0, r.output
        fig = json.loads(r.stdout)
        hand = by_hand(column)
        for key in ("open_value", "weighted_value", "won_value", "lost_value"):
            page = number(stated[key][column])
            assert page == hand[key] == Decimal(str(fig[key])), (column, key)
        assert [u["id"] for u in fig["unconverted"]] == hand["unconverted"]
        assert hand["unconverted"] == re.findall(r"\w+", stated["unconverted"][column])
