"""Drafts: `pipectl draft DEAL TEMPLATE` and `sweep --last-chance --drafts DIR` write .eml files
that email.parser reads, addressed to the deal's contact; a missing placeholder is an error."""

from __future__ import annotations

import email.policy
import json
from email.parser import BytesParser
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git
from mail_fixtures import setup_sales

LAST_CHANCE = """\
Subject: Dernière chance, {contact.first_name}?

Bonjour {contact.first_name},

We have not heard back about {title} ({company}). Unless we hear from you by
{next_step_due}, we will close the file. {{Braces}} stay braces.

Best,
{rep.name}
"""


@pytest.fixture
def sales(pipeline: Path, write_deal) -> Path:
    root = setup_sales(pipeline, write_deal)
    (root / "templates").mkdir()
    (root / "templates" / "last-chance.md").write_text(LAST_CHANCE)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "templates")
    return root


@pytest.fixture
def sales_cli(sales: Path) -> Cli:
    return Cli(sales)


def parse(data: bytes):
    msg = BytesParser(policy=email.policy.default).parsebytes(data)
    assert not msg.defects
    return msg


def test_draft_is_addressed_to_the_contact_from_the_rep(sales_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "acme.eml"
    result = sales_cli("draft", "acm", "last-chance", "-o", str(out))
    assert result.exit_code == 0, result.output
    msg = parse(out.read_bytes())
    (to,) = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Jane Doe", "jane@acme.example")
    assert msg["From"].addresses[0].addr_spec == "alice@ourco.example"
    assert msg["Subject"] == "Dernière chance, Jane?"
    assert msg["X-Unsent"] == "1"  # mail clients open it as a draft to send
    body = msg.get_content()
    assert body.startswith("Bonjour Jane,\n")
    assert "about Acme rollout (Acme). Unless we hear from you by\n2026-12-04," in body
    assert "{Braces} stay braces." in body and body.rstrip().endswith("Alice Smith")


def test_draft_to_the_first_of_contacts_on_stdout(sales_cli: Cli, sales: Path) -> None:
    (sales / "templates" / "hello.md").write_text("Subject: Hello {contact.name}\n\nHi\n")
    result = sales_cli("draft", "globex", "hello.md")
    assert result.exit_code == 0, result.output
    msg = parse(result.stdout_bytes)
    assert [a.addr_spec for a in msg["To"].addresses] == ["bob@globex.example"]
    assert msg["From"].addresses[0].addr_spec == "carol@ourco.example"
    assert msg["Subject"] == "Hello Bob Stone"


def test_a_missing_placeholder_is_an_error_naming_it(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    (sales / "templates" / "pricing.md").write_text(
        "Subject: Pricing for {company}\n\nHi {contact.name},\nyour budget: {qualification}\n"
    )
    out = tmp_path / "x.eml"
    result = sales_cli("draft", "acme", "pricing", "-o", str(out))
    assert result.exit_code == 2
    assert result.output.startswith("pipectl: error: ") and result.output.count("\n") == 1
    assert result.output.endswith(
        "templates/pricing.md:4: placeholder {qualification}: the deal has no qualification\n"
    )
    assert not out.exists()
    missing = sales_cli("draft", "acme", "nope")
    assert missing.exit_code == 2
    assert "templates/nope.md: no such template (there: last-chance, pricing)" in missing.output


def test_a_deal_without_a_contact_email_is_refused(sales_cli: Cli, sales: Path, write_deal) -> None:
    write_deal(sales, "prospecting", "lonely", "---\ntitle: Lonely\ncreated: 2026-11-01\n---\n")
    result = sales_cli("draft", "lonely", "last-chance")
    assert result.exit_code == 2
    assert "prospecting/lonely.md: no contact email to address a draft to" in result.output


def test_sweep_last_chance_writes_a_draft_per_deal(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "drafts"  # Zed Consulting has no company: a template without it
    (sales / "templates" / "last-chance.md").write_text(LAST_CHANCE.replace(" ({company})", ""))
    dry = sales_cli(
        "sweep", "--last-chance", "--dry-run", "--drafts", str(folder), "--today", "2027-09-01"
    )
    assert dry.exit_code == 0, dry.output
    assert f"would write {folder / 'acme-last-chance.eml'}" in dry.output and not folder.exists()
    before = commit_count(sales)
    result = sales_cli("sweep", "--last-chance", "--drafts", str(folder), "--today", "2027-09-01")
    assert result.exit_code == 0, result.output
    assert commit_count(sales) == before + 1
    written = sorted(p.name for p in folder.iterdir())
    assert written == [
        "acme-last-chance.eml",
        "globex-last-chance.eml",
        "zed-consulting-last-chance.eml",
    ]
    msg = parse((folder / "zed-consulting-last-chance.eml").read_bytes())
    assert [a.addr_spec for a in msg["To"].addresses] == ["zed@gmail.com"]
    deadline = git(sales, "show", "HEAD:prospecting/zed-consulting.md").split("next_step_due: ")[1]
    assert f"by\n{deadline.split()[0]}," in msg.get_content()  # the deadline the sweep set


def test_sweep_drafts_refused_before_anything_is_done(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    (sales / "templates" / "last-chance.md").write_text("Subject: {budget}\n\nHi\n")
    before = commit_count(sales)
    result = sales_cli(
        "sweep", "--last-chance", "--drafts", str(tmp_path / "d"), "--today", "2027-09-01"
    )
    assert result.exit_code == 2
    assert "templates/last-chance.md:1: placeholder {budget}" in result.output
    assert commit_count(sales) == before and not (tmp_path / "d").exists()
    alone = sales_cli("sweep", "--drafts", str(tmp_path / "d"))
    assert alone.exit_code == 2 and "add --last-chance" in alone.output


def test_sweep_json_names_the_contact(sales_cli: Cli) -> None:
    result = sales_cli("sweep", "--json", "--today", "2027-09-01")
    assert result.exit_code == 0, result.output
    by_id = {c["id"]: c for c in json.loads(result.stdout)["candidates"]}
    assert by_id["acme"]["contact"] == "Jane Doe <jane@acme.example>"
    assert by_id["globex"]["contact"] is None
