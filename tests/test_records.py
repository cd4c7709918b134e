"""Accounts and contacts as records: add (one commit each), show, list, the account's figures
in the base currency, customers, and lint leaving record folders alone."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import commit_count, git, last_commit_paths


def test_account_and_contact_add_commit_one_file_each(cli, pipeline: Path):
    before = commit_count(pipeline)
    r = cli("account", "add", "Acme Corp", "--owner", "alice", "--domain", "acme.example")
    assert r.exit_code == 0, r.output
    assert last_commit_paths(pipeline) == ["accounts/acme-corp.md"]
    r = cli("contact", "add", "Jane Doe", "--account", "acme", "--email", "jane@acme.example")
    assert r.exit_code == 0, r.output
    assert last_commit_paths(pipeline) == ["contacts/jane-doe.md"]
    assert commit_count(pipeline) == before + 2
    assert (pipeline / "accounts/acme-corp.md").read_text() == (
        "---\nname: Acme Corp\ndomains: [acme.example]\nowner: alice\n---\n# Acme Corp\n"
    )
    assert "account: acme-corp" in (pipeline / "contacts/jane-doe.md").read_text()
    subject = git(pipeline, "log", "-1", "--format=%B")
    assert subject.startswith("contact add jane-doe: Jane Doe")
    assert "Pipectl-Action: contact-add" in subject


def test_add_refuses_a_twin_and_an_unknown_account(cli, pipeline: Path):
    assert cli("account", "add", "Acme Corp").exit_code == 0
    before = commit_count(pipeline)
    r = cli("account", "add", "Acme Corp")
    assert r.exit_code == 2 and "exists already" in r.output
    r = cli("contact", "add", "Jane", "--account", "nobody")
    assert r.exit_code == 2 and "no account 'nobody'" in r.output
    assert commit_count(pipeline) == before
    assert not (pipeline / "contacts").exists()


def _deal(write_deal, root: Path, stage: str, deal_id: str, extra: str) -> None:
    text = f"---\ntitle: {deal_id}\ncreated: 2026-01-05\n{extra}---\n"
    write_deal(root, stage, deal_id, text)


def test_account_show_sums_won_and_open_in_the_base_currency(cli, pipeline: Path, write_deal):
    assert cli("account", "add", "Acme Corp", "--owner", "alice").exit_code == 0
    (pipeline / "rates.csv").write_text("currency,from,rate\nEUR,2026-01-01,1.5\n")
    _deal(
        write_deal, pipeline, "won", "a1", "account: acme-corp\nvalue: 1000\nclosed: 2026-02-01\n"
    )
    _deal(
        write_deal,
        pipeline,
        "won",
        "a2",
        "account: acme-corp\nvalue: 100\ncurrency: EUR\nclosed: 2026-02-03\n"
        "renewal_date: 2027-02-03\n",
    )
    _deal(
        write_deal, pipeline, "lost", "a3", "account: acme-corp\nvalue: 9999\nclosed: 2026-02-01\n"
    )
    _deal(
        write_deal,
        pipeline,
        "qualifying",
        "a4",
        "account: acme-corp\nvalue: 700\nnext_step: Send the quote\nnext_step_due: 2026-03-01\n"
        "touchpoints:\n  - {date: 2026-02-20, kind: call, summary: Intro}\n",
    )
    _deal(write_deal, pipeline, "qualifying", "other", "value: 5\n")
    r = cli("account", "show", "acme", "--today", "2026-03-01", "--format", "json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["won"] == 1150.0 and got["won_deals"] == 2
    assert got["open_pipeline"] == 700.0 and got["open_deals"] == 1
    assert got["last_touch"] == "2026-02-20"
    assert got["next_step"] == {"deal": "a4", "step": "Send the quote", "due": "2026-03-01"}
    assert got["next_renewal"] == "2027-02-03"
    assert sorted(d["id"] for d in got["deals"]) == ["a1", "a2", "a3", "a4"]
    text = cli("account", "show", "acme-corp", "--today", "2026-03-01")
    assert "won revenue: 1,150 USD (2 deals)" in text.output
    assert "next step: Send the quote (due 2026-03-01) [a4]" in text.output
    r = cli("customers", "--today", "2026-03-01", "--format", "json")
    rows = json.loads(r.output)
    assert [(c["id"], c["won"], c["next_renewal"]) for c in rows] == [
        ("acme-corp", 1150.0, "2027-02-03")
    ]


def test_list_formats_and_contact_show(cli, pipeline: Path, write_deal):
    cli("account", "add", "Acme Corp")
    cli("contact", "add", "Jane Doe", "--account", "acme-corp", "--role", "CTO")
    _deal(write_deal, pipeline, "qualifying", "d1", "contacts: [jane-doe, {name: Raj}]\n")
    csv = cli("contact", "list", "--format", "csv")
    assert csv.output.splitlines()[0] == "id,name,account,role,emails,phone,path"
    assert csv.output.splitlines()[1].startswith("jane-doe,Jane Doe,acme-corp,CTO")
    table = cli("account", "list")
    assert "acme-corp" in table.output and "Acme Corp" in table.output
    shown = json.loads(cli("contact", "show", "jane", "--format", "json").output)
    assert shown["deals"] == ["d1"] and shown["account"] == "acme-corp"


def test_record_folders_are_not_stray_deal_files_and_a_bad_record_is_refused(cli, pipeline):
    cli("account", "add", "Acme Corp", "--owner", "alice")
    r = cli("lint", "--select", "PL105")
    assert r.exit_code == 0, r.output
    (pipeline / "elsewhere").mkdir()
    (pipeline / "elsewhere/x.md").write_text("---\ntitle: x\n---\n")
    r = cli("lint", "--select", "PL105")
    assert "elsewhere/" in r.output and "accounts" not in r.output
    r = cli("account", "add", "  ")
    assert r.exit_code == 2


def test_deal_contacts_may_name_a_record_id(cli, pipeline: Path):
    r = cli("add", "Big deal", "--set", "contacts=[jane-doe]", "--set", "account=acme-corp")
    assert r.exit_code == 0, r.output
    r = cli("add", "Bad deal", "--set", "contacts=[Jane Doe]")
    assert r.exit_code != 0 and "not a contact's id" in r.output


def test_lint_flags_dangling_links_no_owner_bad_records_and_renewals(cli, pipeline, write_deal):
    cli("account", "add", "Acme Corp")  # no owner: PL207
    cli("contact", "add", "Jane Doe", "--account", "acme-corp")
    (pipeline / "contacts/ghost.md").write_text("---\nname: Ghost\naccount: nowhere\n---\n")
    (pipeline / "accounts/broken.md").write_text("---\nname: Broken\ndomains: acme.example\n---\n")
    _deal(
        write_deal, pipeline, "qualifying", "d1", "account: acme-crop\ncontacts: [jane-doe, jon]\n"
    )
    _deal(write_deal, pipeline, "won", "w1", "closed: 2026-01-01\nrenewal_date: 2026-04-01\n")
    _deal(write_deal, pipeline, "won", "w2", "closed: 2026-01-01\nrenewal_date: 2026-09-01\n")
    select = "PL108,PL109,PL207,PL309"
    r = cli("lint", "--select", select, "--today", "2026-03-01", "--format", "json")
    found = sorted((f["code"], f["path"], f["line"]) for f in json.loads(r.output))
    assert found == [
        ("PL108", "accounts/broken.md", 3),
        ("PL109", "contacts/ghost.md", 3),
        ("PL109", "qualifying/d1.md", 4),
        ("PL109", "qualifying/d1.md", 5),
        ("PL207", "accounts/acme-corp.md", 1),
        ("PL207", "accounts/broken.md", 1),
        ("PL309", "won/w1.md", 5),
    ]
    config = (pipeline / "pipeline.yaml").read_text()
    assert "\nrules: {}\n" in config
    config = config.replace("\nrules: {}\n", "\nrules: {renewal-due: {lead_days: 200}}\n")
    (pipeline / "pipeline.yaml").write_text(config)
    r = cli("lint", "--select", "PL309", "--today", "2026-03-01", "--format", "json")
    assert sorted(f["path"] for f in json.loads(r.output)) == ["won/w1.md", "won/w2.md"]


def test_accounts_extract_dry_run_then_one_commit_then_nothing(cli, pipeline: Path, write_deal):
    deal = (
        "---\ntitle: Big one\ncompany: Acme Corp  # the buyer\n"
        "contact: Jane Doe <jane@acme.example>\n"
        "created: 2026-01-05\n---\n# Notes\r\nkept\n"
    )
    write_deal(pipeline, "qualifying", "big", deal)
    write_deal(
        pipeline, "won", "old", "---\ntitle: Old\ncompany: acme corp\ncreated: 2026-01-01\n---\n"
    )
    git(pipeline, "add", ".")
    git(pipeline, "commit", "-qm", "deals")
    before = commit_count(pipeline)
    r = cli("accounts", "extract")
    assert r.exit_code == 0, r.output
    assert "would write 1 new accounts, 1 new contacts, 2 deals linked" in r.output
    assert commit_count(pipeline) == before and not (pipeline / "accounts").exists()
    r = cli("accounts", "extract", "--write")
    assert r.exit_code == 0, r.output
    assert commit_count(pipeline) == before + 1
    assert last_commit_paths(pipeline) == [
        "accounts/acme-corp.md",
        "contacts/jane-doe.md",
        "qualifying/big.md",
        "won/old.md",
    ]
    text = (pipeline / "qualifying/big.md").read_bytes().decode()
    assert text == deal.replace(
        "created: 2026-01-05\n", "created: 2026-01-05\naccount: acme-corp\ncontacts: [jane-doe]\n"
    )
    jane = (pipeline / "contacts/jane-doe.md").read_text()
    assert "emails: [jane@acme.example]" in jane and "account: acme-corp" in jane
    assert "account: acme-corp" in (pipeline / "won/old.md").read_text()
    r = cli("accounts", "extract", "--write")
    assert "no changes" in r.output and commit_count(pipeline) == before + 1
    r = cli("lint", "--select", "PL108,PL109", "--format", "json")
    assert json.loads(r.output) == []


def test_a_contact_email_must_be_an_address(cli, pipeline: Path):
    r = cli("contact", "add", "X", "--email", "not-an-address")
    assert r.exit_code == 2 and "is not an email address" in r.output
    assert not (pipeline / "contacts").exists()
