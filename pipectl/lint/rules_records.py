"""Account and contact rules: record files that cannot be used (PL108), deals linking to no
record (PL109), accounts without an owner (PL207), won deals coming up for renewal (PL309).
Read-only; never prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipectl import recordstore
from pipectl.asof import PipelineAt
from pipectl.errors import DealError
from pipectl.lint.context import Context
from pipectl.lint.model import Finding, Option, Rule, rule
from pipectl.records import ACCOUNT, CONTACT, Kind, kind_of_path, link_ids, parse_record, problems
from pipectl.recordstore import Records


def _records(ctx: Context, kind: Kind) -> Records | None:
    """The records of the run's pipeline, an editor's unsaved record files read from their
    buffers; None for `--as-of` (records are read from the worktree only)."""
    if isinstance(ctx.pipeline, PipelineAt):
        return None
    found = recordstore.load(ctx.pipeline, kind, relative=True)
    for rel, data in ctx.unsaved.items():
        path = Path(rel)
        if kind_of_path(Path(), path) is not kind:
            continue
        found.records = [r for r in found.records if r.path != path]
        found.errors = [e for e in found.errors if Path(str(e.path)) != path]
        try:
            found.records.append(parse_record(data, path, kind))
        except DealError as exc:
            found.errors.append(exc)
    return found


@rule(
    "PL108",
    "invalid-record",
    "error",
    "an account or contact file that cannot be read, or holds a value its kind refuses",
    scope="all",
)
def invalid_record(ctx: Context, r: Rule) -> Iterator[Finding]:
    """The files of `accounts/` and `contacts/` are records (docs/accounts.md): Markdown
    with YAML frontmatter, as deals are, holding the fields their kind declares (an
    account's `name`, `domains`, `industry`, `size`, `owner`; a contact's `name`, `emails`,
    `phone`, `role`, `account`). A file that does not parse, or has no `name`, or a value
    of the wrong type (`domains: acme.example` for `[acme.example]`) is left out of every
    account view: fix the line named."""
    for kind in (ACCOUNT, CONTACT):
        found = _records(ctx, kind)
        if found is None:
            return
        for err in found.errors:
            yield ctx.finding(r, str(err.path), err.message, line=err.line or 1)
        for record in found.records:
            for key, why in problems(kind, record.fields):
                yield ctx.finding(r, record.path.as_posix(), why, line=record.line_of(key))


@rule(
    "PL109",
    "dangling-link",
    "error",
    "a deal's `account:` or a contact id in `contacts:` that names no record",
    scope="all",
)
def dangling_link(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A deal links to its account by id (`account: acme-corp`, the file
    `accounts/acme-corp.md`) and to its people by contact id (`contacts: [jane-doe]`). A
    link naming no record, a typo or a record renamed, drops the deal from its account's
    revenue and view without a word. So does a contact's own `account:`. Add the record
    (`pipectl account add`, `pipectl contact add`) or fix the id."""
    accounts, contacts = _records(ctx, ACCOUNT), _records(ctx, CONTACT)
    if accounts is None or contacts is None:
        return
    known_accounts = accounts.by_id().keys() | _broken(accounts)
    known_contacts = contacts.by_id().keys() | _broken(contacts)
    for deal in ctx.deals:
        for account in link_ids(deal.fields.get("account")):
            if account not in known_accounts:
                msg = f"account {account!r} names no record in accounts/"
                yield ctx.finding(r, deal, msg, key="account")
        for contact in link_ids(deal.fields.get("contacts")):
            if contact not in known_contacts:
                msg = f"contact {contact!r} names no record in contacts/"
                yield ctx.finding(r, deal, msg, key="contacts", anchor=f"contacts.{contact}")
    for person in contacts.records:
        for account in link_ids(person.get("account")):
            if account not in known_accounts:
                msg = f"account {account!r} names no record in accounts/"
                yield ctx.finding(r, person.path.as_posix(), msg, line=person.line_of("account"))


def _broken(found: Records) -> set[str]:
    """The ids of record files that do not parse: they exist (PL108 says what is wrong)."""
    return {str(err.path).rsplit("/", 1)[-1].removesuffix(".md") for err in found.errors}


@rule(
    "PL207",
    "account-no-owner",
    "warning",
    "an account record with no owner",
    scope="all",
)
def account_no_owner(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Every account needs one rep who answers for it, across all its deals: renewals and
    expansions fall through the cracks otherwise. Set `owner:` in the account's file (a
    `team:` handle when there is a roster)."""
    found = _records(ctx, ACCOUNT)
    for account in found.records if found is not None else ():
        owner = account.get("owner")
        if owner is None or (isinstance(owner, str) and not owner.strip()):
            yield ctx.finding(r, account.path.as_posix(), f"account {account.id} has no owner")


@rule(
    "PL309",
    "renewal-due",
    "warning",
    "a won deal whose `renewal_date` is near (or past, not renewed)",
    scope="all",
    options=(Option("lead_days", "int", 60, "Days before `renewal_date` the renewal is flagged."),),
)
def renewal_due(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A customer's contract ends on its `renewal_date`: start the renewal conversation
    well before (60 days by default; `rules: {renewal-due: {lead_days: 90}}` in
    pipeline.yaml). A won deal whose renewal date is within the lead time, or has passed,
    is flagged: open the renewal deal, then move the renewal date on (`pipectl set DEAL
    renewal_date=…`), or remove it once the customer has left (docs/accounts.md)."""
    won = {s.name for s in ctx.config.stages if s.closed == "won"}
    lead = ctx.setting(r, "lead_days")
    for deal in ctx.deals:
        if deal.stage not in won:
            continue
        day = deal.date("renewal_date")
        if day is None:
            continue
        left = (day - ctx.today).days
        if left < 0:
            msg = f"renewal was due {day} ({-left} days ago): renew it or record the churn"
            yield ctx.finding(r, deal, msg, key="renewal_date")
        elif left <= lead:
            msg = f"renewal due {day} (in {left} days, lead time {lead}): start the renewal"
            yield ctx.finding(r, deal, msg, key="renewal_date")


RULES = (invalid_record, dangling_link, account_no_owner, renewal_due)
