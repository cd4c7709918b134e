"""Accounts, contacts and customers on a screen: their lists' rows (one record a line, for
the table and for tsv, csv and json) and one account's view. Values in, text out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipectl.accounts import AccountView
from pipectl.money import money
from pipectl.records import Record
from pipectl.render.text import table
from pipectl.textsafe import visible

ACCOUNT_FIELDS = ("id", "name", "owner", "industry", "size", "domains", "path")
CONTACT_FIELDS = ("id", "name", "account", "role", "emails", "phone", "path")
CUSTOMER_FIELDS = (
    "id",
    "name",
    "owner",
    "won_deals",
    "won",
    "open_pipeline",
    "currency",
    "last_touch",
    "next_renewal",
)


def record_rows(records: Sequence[Record], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Each record as a mapping of `keys` (JSON-ready: lists stay lists, missing is None)."""
    out = []
    for r in records:
        row: dict[str, Any] = {}
        for key in keys:
            if key == "id":
                row[key] = r.id
            elif key == "path":
                row[key] = r.path.as_posix()
            else:
                value = r.get(key)
                row[key] = value if value is None or isinstance(value, list) else str(value)
        out.append(row)
    return out


def customer_rows(views: Sequence[AccountView]) -> list[dict[str, Any]]:
    return [
        {
            "id": v.account.id,
            "name": v.account.name,
            "owner": _str(v.account.get("owner")),
            "won_deals": v.won_deals,
            "won": v.won,
            "open_pipeline": v.open_pipeline,
            "currency": v.currency,
            "last_touch": v.last_touch.isoformat() if v.last_touch else None,
            "next_renewal": v.next_renewal.isoformat() if v.next_renewal else None,
        }
        for v in views
    ]


def rows_table(rows: Sequence[dict[str, Any]], keys: Sequence[str], width: int) -> str:
    """The rows as a table of `keys` (lists joined by commas, None blank)."""
    cells = [[visible(_cell(row[k])) for k in keys] for row in rows]
    return table([k.upper().replace("_", " ") for k in keys], cells, width)


def account_detail(view: AccountView) -> str:
    """One account: its fields, figures, and each of its deals on a line."""
    a = view.account
    lines = [f"{a.name} ({a.id})"]
    for key in ("owner", "industry", "size", "domains"):
        value = a.get(key)
        if value is not None and value != []:
            lines.append(f"{key}: {_cell(value)}")
    cur = view.currency
    lines.append(f"won revenue: {money(view.won)} {cur} ({view.won_deals} deals)")
    lines.append(f"open pipeline: {money(view.open_pipeline)} {cur} ({view.open_deals} deals)")
    lines.append(f"last touch: {view.last_touch or '-'}")
    step = view.next_step
    if step is not None:
        due = f" (due {step.due})" if step.due else ""
        lines.append(f"next step: {step.step}{due} [{step.deal}]")
    else:
        lines.append("next step: -")
    if view.next_renewal is not None:
        lines.append(f"next renewal: {view.next_renewal}")
    if view.unconverted:
        lines.append(f"no rate (in no sum): {', '.join(view.unconverted)}")
    lines.append(f"deals ({len(view.deals)}):")
    for d in view.deals:
        value = "-" if d.value is None else f"{money(d.value)} {cur}"
        lines.append(f"  {d.id}  {d.stage}  {value}  {d.title}")
    return "\n".join(visible(line) for line in lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return money(value)
    return str(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
