"""Accounts, contacts and customers: `account add|show|list`, `contact add|show|list`,
`customers` (docs/accounts.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pipectl.cli.app import _Group, app
from pipectl.cli.common import (
    NO_COMMIT_HELP,
    FormatOpt,
    TodayOpt,
    list_format,
    open_pipeline,
    screen_width,
    warn,
)

if TYPE_CHECKING:
    from pipectl.store import Pipeline

NoCommit = typer.Option(False, "--no-commit", help=NO_COMMIT_HELP)
IdOpt = typer.Option(None, "--id", help="The record's id (default: slugged from the name).")
WidthOpt = typer.Option(None, "--width", help="Fit the table to this many columns.")

account_app = typer.Typer(
    cls=_Group, no_args_is_help=True, help="Account records (accounts/): add, show, list."
)
contact_app = typer.Typer(
    cls=_Group, no_args_is_help=True, help="Contact records (contacts/): add, show, list."
)
app.add_typer(account_app, name="account")
app.add_typer(contact_app, name="contact")


def _words(values: list[str] | None) -> list[str]:
    return [w.strip() for v in values or [] for w in v.split(",") if w.strip()]


def _added(pipeline: Pipeline, what: str, path: Any, committed: bool, no_commit: bool) -> None:
    from pipectl.store import NO_GIT_WARNING
    from pipectl.textsafe import visible

    typer.echo(visible(f"added {what} {pipeline.display(path)}"))
    if pipeline.git is None and not no_commit:
        warn(NO_GIT_WARNING)


@account_app.command("add")
def account_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The company's name, e.g. 'Acme Corp'."),
    record_id: str = IdOpt,
    owner: str = typer.Option(None, "--owner", help="The rep who answers for it."),
    domain: list[str] = typer.Option(None, "--domain", help="An email domain (repeatable)."),
    industry: str = typer.Option(None, "--industry", help="What it does."),
    size: str = typer.Option(None, "--size", help="How big it is."),
    no_commit: bool = NoCommit,
) -> None:
    """Add an account record (accounts/ID.md). One commit."""
    from pipectl import recordstore
    from pipectl.records import ACCOUNT

    pipeline = open_pipeline(ctx)
    fields = {"domains": _words(domain), "industry": industry, "size": size, "owner": owner}
    path, committed = recordstore.add(
        pipeline, ACCOUNT, name, record_id=record_id, fields=fields, commit=not no_commit
    )
    _added(pipeline, "account", path, committed, no_commit)


@contact_app.command("add")
def contact_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The person's name, e.g. 'Jane Doe'."),
    record_id: str = IdOpt,
    account: str = typer.Option(None, "--account", help="Their account's id."),
    email: list[str] = typer.Option(None, "--email", help="An email address (repeatable)."),
    phone: str = typer.Option(None, "--phone", help="Their phone number."),
    role: str = typer.Option(None, "--role", help="What they do."),
    no_commit: bool = NoCommit,
) -> None:
    """Add a contact record (contacts/ID.md). One commit.

    --account must name an account record (`pipectl account list`)."""
    from pipectl import recordstore
    from pipectl.records import ACCOUNT, CONTACT

    pipeline = open_pipeline(ctx)
    if account is not None:
        account = recordstore.get(pipeline, ACCOUNT, account).id
    fields = {"emails": _words(email), "phone": phone, "role": role, "account": account}
    path, committed = recordstore.add(
        pipeline, CONTACT, name, record_id=record_id, fields=fields, commit=not no_commit
    )
    _added(pipeline, "contact", path, committed, no_commit)


def _list(ctx: typer.Context, kind_name: str, fmt: str | None, width: int | None) -> None:
    from pipectl import recordstore
    from pipectl.records import KINDS
    from pipectl.render import accounts as render

    shape = list_format(fmt, False)
    pipeline = open_pipeline(ctx)
    kind = KINDS[kind_name]
    found = recordstore.load(pipeline, kind)
    for err in found.errors:
        warn(f"skipped {err}")
    keys = render.ACCOUNT_FIELDS if kind_name == "account" else render.CONTACT_FIELDS
    _emit(render.record_rows(found.records, keys), keys, shape, width, f"no {kind.folder}")


def _emit(
    rows: list[dict[str, Any]], keys: tuple[str, ...], shape: str, width: int | None, none: str
) -> None:
    from pipectl.render import accounts as render

    if shape == "json":
        from pipectl.jsonout import dumps

        typer.echo(dumps(rows))
        return
    if shape != "table":
        from pipectl.render.text import delimited

        flat = [
            [", ".join(map(str, v)) if isinstance(v, list) else v for v in r.values()] for r in rows
        ]
        typer.echo(delimited(keys, flat, shape))
        return
    typer.echo(render.rows_table(rows, keys, screen_width(width)) if rows else none)


@account_app.command("list")
def account_list(ctx: typer.Context, fmt: str = FormatOpt, width: int = WidthOpt) -> None:
    """List the account records, one a line."""
    _list(ctx, "account", fmt, width)


@contact_app.command("list")
def contact_list(ctx: typer.Context, fmt: str = FormatOpt, width: int = WidthOpt) -> None:
    """List the contact records, one a line."""
    _list(ctx, "contact", fmt, width)


def _views(pipeline: Pipeline, today: str | None, only: str | None = None) -> list[Any]:
    from pipectl import accounts, recordstore
    from pipectl.dates import today as today_of
    from pipectl.records import ACCOUNT

    if only is not None:
        chosen = [recordstore.get(pipeline, ACCOUNT, only)]
    else:
        found = recordstore.load(pipeline, ACCOUNT)
        for err in found.errors:
            warn(f"skipped {err}")
        chosen = found.records
    loaded = pipeline.load()
    for err in loaded.errors:
        warn(f"skipped {err}")
    return accounts.views(pipeline, chosen, loaded.deals, today_of(today))


@account_app.command("show")
def account_show(
    ctx: typer.Context,
    account: str = typer.Argument(..., help="Account id or unique prefix."),
    today: str = TodayOpt,
    fmt: str = typer.Option(None, "--format", metavar="FORMAT", help="text (default) or json."),
) -> None:
    """Show an account: its fields, deals, won revenue and open pipeline (in the base
    currency), last touch and next step."""
    from pipectl.render import accounts as render

    shape = list_format(fmt, False, ("text", "json"))
    pipeline = open_pipeline(ctx)
    (view,) = _views(pipeline, today, account)
    if shape == "json":
        from pipectl.jsonout import dumps

        row = render.customer_rows([view])[0]
        row |= {"open_deals": view.open_deals, "unconverted": list(view.unconverted)}
        row["next_step"] = (
            None
            if view.next_step is None
            else {
                "deal": view.next_step.deal,
                "step": view.next_step.step,
                "due": view.next_step.due.isoformat() if view.next_step.due else None,
            }
        )
        row["deals"] = [
            {"id": d.id, "stage": d.stage, "title": d.title, "value": d.value} for d in view.deals
        ]
        typer.echo(dumps(row))
        return
    typer.echo(render.account_detail(view))


@contact_app.command("show")
def contact_show(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Contact id or unique prefix."),
    fmt: str = typer.Option(None, "--format", metavar="FORMAT", help="text (default) or json."),
) -> None:
    """Show a contact record and the deals that name it in `contacts:`."""
    from pipectl import recordstore
    from pipectl.records import CONTACT, link_ids
    from pipectl.render import accounts as render
    from pipectl.textsafe import visible

    shape = list_format(fmt, False, ("text", "json"))
    pipeline = open_pipeline(ctx)
    record = recordstore.get(pipeline, CONTACT, contact)
    deals = [d.id for d in pipeline.load().deals if record.id in link_ids(d.fields.get("contacts"))]
    row = render.record_rows([record], render.CONTACT_FIELDS)[0] | {"deals": deals}
    if shape == "json":
        from pipectl.jsonout import dumps

        typer.echo(dumps(row))
        return
    lines = [f"{record.name} ({record.id})"]
    for key in ("account", "role", "emails", "phone"):
        value = row.get(key)
        if value:
            lines.append(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    lines.append(f"deals: {', '.join(deals) or '-'}")
    typer.echo("\n".join(visible(line) for line in lines))


@app.command()
def customers(
    ctx: typer.Context, today: str = TodayOpt, fmt: str = FormatOpt, width: int = WidthOpt
) -> None:
    """List the customers: accounts with won deals, with their won revenue (base currency),
    last touch and next renewal (`renewal_date` of a won deal), most revenue first."""
    from pipectl import accounts
    from pipectl.render import accounts as render

    shape = list_format(fmt, False)
    pipeline = open_pipeline(ctx)
    rows = render.customer_rows(accounts.customers(_views(pipeline, today)))
    _emit(rows, render.CUSTOMER_FIELDS, shape, width, "no customers: no account has a won deal")


accounts_app = typer.Typer(
    cls=_Group, no_args_is_help=True, help="Accounts and contacts from the deals' own strings."
)
app.add_typer(accounts_app, name="accounts")


def extract_and_report(
    pipeline: Pipeline, join: Path | None, dry_run: bool, no_commit: bool
) -> None:
    """Plan the records and links (joined with `join`, an accounts CSV), print the plan's
    counts, and unless `dry_run` write them in one commit."""
    from pipectl.transfer import accounts

    columns = accounts.ACCOUNT_COLUMNS
    rows = accounts.read_join(pipeline, join, columns) if join is not None else None
    todo = accounts.plan(pipeline, rows)
    if todo.empty:
        typer.echo("no changes: every company and contact is a linked record already")
        return
    if dry_run:
        typer.echo(f"would write {todo.summary()}")
        for record_id in list(todo.accounts)[:20]:
            typer.echo(f"  account {record_id}")
        return
    accounts.apply(pipeline, todo, commit=not no_commit)
    typer.echo(f"wrote {todo.summary()}")


@accounts_app.command("extract")
def accounts_extract(
    ctx: typer.Context,
    join: Path = typer.Option(
        None,
        "--join",
        metavar="CSV",
        help="An accounts CSV (account, sector, employees) joined on the account's name.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say what would be written; write nothing."
    ),
    write: bool = typer.Option(False, "--write", help="Write the records and links (one commit)."),
    no_commit: bool = NoCommit,
) -> None:
    """Turn the deals' `company` and `contact` strings into account and contact records and
    link each deal to them (`account:`, `contacts:`).

    A dry run by default (or --dry-run): it says what it would write. --write writes every new
    record and link in one commit. Run again, it changes nothing."""
    if dry_run and write:
        from pipectl.errors import UsageError

        raise UsageError("--dry-run and --write: pick one")
    extract_and_report(open_pipeline(ctx), join, not write, no_commit)
