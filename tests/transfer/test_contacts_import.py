"""Import maps a currency column and several contact columns (issue 16); export writes them
back as the same columns, and the report converts the imported currencies."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import Cli, git, make_repo

CRM = (
    "Deal,Amount,Cur,Buyer,Buyer Email,Champion,Champion Phone,CFO Email\n"
    'Acme rollout,"20,000",EUR,Jane Doe,jane@acme.example,Raj Patel,+1 555 0100,\n'
    "Globex pilot,5000,USD,,,Ann Lee,,cfo@globex.example\n"
)
MAPS = (
    *("--map", "title=Deal", "--map", "value=Amount", "--map", "currency=Cur"),
    *("--map", "contacts.1.name=Buyer", "--map", "contacts.1.email=Buyer Email"),
    *("--map", "contacts.2.name=Champion", "--map", "contacts.2.phone=Champion Phone"),
    *("--map", "contacts.3.email=CFO Email"),
)


def front(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def new_pipeline(path: Path) -> tuple[Path, Cli]:
    root = make_repo(path)
    cli = Cli(root)
    assert cli("init").exit_code == 0
    return root, cli


def test_a_currency_column_and_contact_columns_become_fields(tmp_path: Path) -> None:
    root, cli = new_pipeline(tmp_path / "p")
    source = tmp_path / "crm.csv"
    source.write_text(CRM)
    r = cli("import", str(source), *MAPS)
    assert r.exit_code == 0, r.output
    acme = front(root / "prospecting" / "acme-rollout.md")
    assert (acme["value"], acme["currency"]) == (20000, "EUR")
    assert acme["contacts"] == [
        {"name": "Jane Doe", "email": "jane@acme.example"},
        {"name": "Raj Patel", "phone": "+1 555 0100"},
    ]
    globex = front(root / "prospecting" / "globex-pilot.md")
    # an empty contact (1) is none: the others keep their order
    assert globex["contacts"] == [{"name": "Ann Lee"}, {"email": "cfo@globex.example"}]
    shown = cli("show", "acme-rollout").stdout
    assert "contacts (2):" in shown and "Jane Doe <jane@acme.example>" in shown
    # export writes the same columns back, and importing them elsewhere gives the same deals
    out = tmp_path / "out.csv"
    assert cli("export", "--format", "csv", "-o", str(out)).exit_code == 0
    assert "contacts.2.phone" in out.read_text().splitlines()[0]
    other, other_cli = new_pipeline(tmp_path / "q")
    assert other_cli("import", str(out)).exit_code == 0
    for name in ("acme-rollout", "globex-pilot"):
        a = (root / "prospecting" / f"{name}.md").read_text()
        assert (other / "prospecting" / f"{name}.md").read_text() == a
    # the imported EUR deal converts through the rate table
    (root / "rates.csv").write_text("currency,from,rate\nEUR,2020-01-01,1.1\n")
    git(root, "add", "rates.csv")
    git(root, "commit", "-q", "-m", "rates")
    fig = json.loads(cli("report", "--json").stdout)
    assert fig["open_value"] == 20000 * 1.1 + 5000


def test_a_bad_contact_cell_names_its_row_and_nothing_is_written(tmp_path: Path) -> None:
    root, cli = new_pipeline(tmp_path / "p")
    source = tmp_path / "crm.csv"
    source.write_text(CRM.replace("jane@acme.example", "jane at acme"))
    r = cli("import", str(source), *MAPS)
    assert r.exit_code == 2
    assert "crm.csv:2: contact 1: email: 'jane at acme' is not an email address" in r.output
    assert not list((root / "prospecting").glob("*.md"))
    bad = cli("import", str(source), "--map", "contacts.0.email=Buyer Email")
    assert bad.exit_code == 2 and "contacts.N.PART" in bad.output


def test_an_amount_that_names_its_currency_sets_the_deals(tmp_path: Path) -> None:
    root, cli = new_pipeline(tmp_path / "p")
    source = tmp_path / "crm.csv"
    source.write_text('title,value\nAcme,"20,000 EUR"\nBistro,£300\nCorp,USD 1200\nDelta,$50\n')
    assert cli("import", str(source)).exit_code == 0
    got = {
        p.stem: (front(p)["value"], front(p).get("currency"))
        for p in (root / "prospecting").glob("*.md")
    }
    # the base currency (USD) and an ambiguous `$` add nothing
    assert got == {
        "acme": (20000, "EUR"),
        "bistro": (300, "GBP"),
        "corp": (1200, None),
        "delta": (50, None),
    }
    clash = tmp_path / "clash.csv"
    clash.write_text('title,value,currency\nEcho,"20,000 EUR",USD\n')
    r = cli("import", str(clash))
    assert r.exit_code == 2
    assert "clash.csv:2: value: '20,000 EUR' is in EUR, its currency is USD" in r.output
