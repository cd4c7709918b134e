"""Import maps product columns to `line_items:` (issue 16): each part a column, numbers read
as numbers, a discount also as a percentage; the deal is worth its items; export and import
again give the same files, byte for byte."""

from __future__ import annotations

from pathlib import Path

from transfer.test_contacts_import import front, new_pipeline

CRM = (
    "Deal,Product,Seats,Price,Off,Billing,Setup\n"
    'Acme rollout,Analytics seat,20,"1,200.50",10%,monthly,Onboarding\n'
    "Globex pilot,Analytics seat,,45,,monthly,\n"
)
MAPS = (
    *("--map", "title=Deal", "--map", "line_items.1.product=Product"),
    *("--map", "line_items.1.quantity=Seats", "--map", "line_items.1.unit_price=Price"),
    *("--map", "line_items.1.discount=Off", "--map", "line_items.1.recurring=Billing"),
    *("--map", "line_items.2.product=Setup"),
)


def test_product_columns_become_line_items_and_come_back_the_same(tmp_path: Path) -> None:
    root, cli = new_pipeline(tmp_path / "p")
    source = tmp_path / "crm.csv"
    source.write_text(CRM)
    r = cli("import", str(source), *MAPS)
    assert r.exit_code == 0, r.output
    acme = front(root / "prospecting" / "acme-rollout.md")
    assert acme["line_items"] == [
        {
            "product": "Analytics seat",
            "quantity": 20,
            "unit_price": 1200.5,
            "discount": 0.1,
            "recurring": "monthly",
        },
        {"product": "Onboarding"},  # no price: PL206 asks for one
    ]
    globex = front(root / "prospecting" / "globex-pilot.md")
    assert globex["line_items"] == [
        {"product": "Analytics seat", "unit_price": 45, "recurring": "monthly"}
    ]
    listed = cli("list", "--format", "tsv").stdout.splitlines()
    at = listed[0].split("\t").index("value")
    values = {row.split("\t")[0]: row.split("\t")[at] for row in listed[1:]}
    assert values == {"acme-rollout": "", "globex-pilot": str(45 * 12)}
    out = tmp_path / "out.csv"
    assert cli("export", "--format", "csv", "-o", str(out)).exit_code == 0
    other, other_cli = new_pipeline(tmp_path / "q")
    assert other_cli("import", str(out)).exit_code == 0
    for name in ("acme-rollout", "globex-pilot"):
        mine = (root / "prospecting" / f"{name}.md").read_bytes()
        assert (other / "prospecting" / f"{name}.md").read_bytes() == mine


def test_a_bad_line_item_cell_names_its_row_and_writes_nothing(tmp_path: Path) -> None:
    root, cli = new_pipeline(tmp_path / "p")
    source = tmp_path / "crm.csv"
    source.write_text("Deal,Product,Seats\nAcme,Seat,many\n")
    r = cli(
        "import",
        str(source),
        "--map",
        "title=Deal",
        "--map",
        "line_items.1.product=Product",
        "--map",
        "line_items.1.quantity=Seats",
    )
    assert r.exit_code == 2, r.output
    assert "crm.csv:2" in r.stderr and "Seats" in r.stderr and "Traceback" not in r.output
    assert not (root / "prospecting" / "acme.md").exists()
