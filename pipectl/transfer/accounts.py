"""Accounts and contacts from what the deals already say: each deal's `company` becomes an
account record and its `account:` link, its `contact` a contact record named in `contacts:`;
an accounts CSV (a CRM's `accounts.csv`) joined on the account's name fills their fields.

Planned first (`plan`, nothing written: the dry run), then written in one commit (`apply`).
Idempotent: a record that exists is kept as it is, a deal already linked is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from pipectl import recordstore
from pipectl.deal import slugify
from pipectl.dealedit import set_fields
from pipectl.errors import UsageError
from pipectl.records import ACCOUNT, CONTACT, link_ids
from pipectl.store import DealRef, Pipeline
from pipectl.transfer.csvread import open_csv

# Account fields and the columns of the accounts CSV they come from: the Maven CRM export's
# own names (tests/data/maven-crm/accounts.csv); `name` is the column the join is on.
ACCOUNT_COLUMNS: Mapping[str, str] = {"name": "account", "industry": "sector", "size": "employees"}


@dataclass
class Plan:
    """What `apply` writes: new records by id, and each deal's new links."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: list[tuple[DealRef, dict[str, Any]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.accounts or self.contacts or self.links)

    def summary(self) -> str:
        return (
            f"{len(self.accounts)} new accounts, {len(self.contacts)} new contacts, "
            f"{len(self.links)} deals linked"
        )


def read_join(
    pipeline: Pipeline, path: Path, columns: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The accounts CSV's rows by the folded account name, as account fields."""
    shown = pipeline.display(path)
    table = open_csv(path, "utf-8-sig", None, shown)
    missing = [c for c in columns.values() if c not in table.header]
    if missing:
        raise UsageError(f"no column {missing[0]!r} (columns: {', '.join(table.header)})", shown, 1)
    out: dict[str, dict[str, Any]] = {}
    for line, row in table.records():
        if isinstance(row, str):
            raise UsageError(row, shown, line)
        fields = {k: row[c].strip() for k, c in columns.items() if row[c].strip()}
        name = fields.get("name")
        if name:
            out.setdefault(_fold(name), fields)
    return out


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def plan(pipeline: Pipeline, join: Mapping[str, Mapping[str, Any]] | None = None) -> Plan:
    """The records and links the deals' `company` and `contact` strings call for (and every
    row of `join`, an account of its own)."""
    out = Plan()
    have_accounts = recordstore.load(pipeline, ACCOUNT).by_id()
    have_contacts = recordstore.load(pipeline, CONTACT).by_id()
    by_name = {_fold(a.name): a.id for a in have_accounts.values()}

    def account_for(name: str) -> str | None:
        key = _fold(name)
        if key in by_name:
            return by_name[key]
        record_id = slugify(name)
        if not record_id:
            return None
        fields = {"name": " ".join(name.split()), **(join or {}).get(key, {})}
        fields["name"] = " ".join(name.split())
        if record_id not in have_accounts:
            out.accounts.setdefault(record_id, fields)
        by_name[key] = record_id
        return record_id

    for fields in (join or {}).values():
        account_for(str(fields["name"]))
    loaded = pipeline.load()
    for err in loaded.errors:
        raise err
    for deal in loaded.deals:
        changes: dict[str, Any] = {}
        company = deal.fields.get("company")
        account = deal.fields.get("account")
        if account is None and isinstance(company, str) and company.strip():
            found = account_for(company)
            if found is not None:
                changes["account"] = account = found
        person = deal.fields.get("contact")
        if isinstance(person, str) and person.strip():
            contact_id = _contact(out, have_contacts, person, account)
            people = deal.fields.get("contacts")
            listed = people if isinstance(people, list) else []
            if contact_id and contact_id not in link_ids(listed) and people in (None, *[listed]):
                changes["contacts"] = [*listed, contact_id]
        if changes:
            out.links.append((DealRef(deal.id, deal.stage, _abs(pipeline, deal.path)), changes))
    return out


def _abs(pipeline: Pipeline, shown: Path) -> Path:
    return shown if shown.is_absolute() else Path.cwd() / shown


def _contact(out: Plan, have: Mapping[str, Any], person: str, account: Any) -> str | None:
    name, email = parseaddr(person)
    name = " ".join((name or ("" if "@" in person else person)).split())
    record_id = slugify(name or email.split("@")[0])
    if not record_id:
        return None
    if record_id not in have and record_id not in out.contacts:
        fields: dict[str, Any] = {"name": name or email}
        if email and "@" in email:
            fields["emails"] = [email]
        if isinstance(account, str):
            fields["account"] = account
        out.contacts[record_id] = fields
    return record_id


def apply(pipeline: Pipeline, todo: Plan, commit: bool = True, subject: str = "") -> bool:
    """Write the plan: every new record and every deal's links, in one commit."""
    with pipeline.change(commit) as ch:
        ch.sync = False  # thousands of small files; git's own durability covers them
        for kind, records in ((ACCOUNT, todo.accounts), (CONTACT, todo.contacts)):
            for record_id, fields in records.items():
                path = recordstore.path_of(pipeline, kind, record_id)
                ch.create(path, recordstore.record_text(kind, fields))
        for ref, changes in todo.links:
            text = pipeline.read_text(ref)
            ch.write(ref.path, set_fields(text, changes).render())
        ch.set_message(
            subject or f"accounts extract: {todo.summary()}",
            "accounts-extract",
            [ref.id for ref, _ in todo.links],
        )
    return ch.committed
