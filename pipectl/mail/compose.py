"""Messages pipectl writes: a digest for `sendmail -t`, a draft a mail client opens.

RFC 5322 messages built with the standard library (`EmailMessage`, policy default: encoded
words and line lengths are its job). `fill` puts a deal's values into a template's
`{placeholders}`, refusing one it does not know by name. Nothing here sends or prints.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import re
from collections.abc import Mapping, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from pipectl.deal import Deal
from pipectl.errors import UsageError
from pipectl.mail.matching import contact_of
from pipectl.roster import Member

# `{name}` or `{contact.name}`: a word, a dot, a word; `{{` and `}}` are a brace.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)?)\}|[{}]")


def address(name: str, addr: str) -> Address:
    """One mailbox, as a header holds it (`Jane Doe <jane@acme.example>`)."""
    try:
        return Address(display_name=name.strip(), addr_spec=addr.strip())
    except (ValueError, IndexError) as exc:
        raise UsageError(f"not an email address: {addr!r} ({exc})") from None


def member_address(member: Member) -> Address | None:
    """A roster member's first email as a mailbox, None when they list none."""
    emails = [e for e in member.emails if "@" in e]
    return address(member.name or member.handle, emails[0]) if emails else None


def message(
    to: Sequence[Address],
    subject: str,
    text: str,
    html: str | None = None,
    *,
    sender: Address | None = None,
    when: dt.datetime | None = None,
    draft: bool = False,
) -> EmailMessage:
    """A message with a text part (and an HTML alternative when given). A draft carries
    `X-Unsent: 1`, which mail clients (Outlook, Thunderbird) open as a message to send."""
    msg = EmailMessage(policy=email.policy.default)
    if sender is not None:
        msg["From"] = sender
    msg["To"] = list(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when or dt.datetime.now(dt.timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender.domain if sender else "pipectl.invalid")
    if draft:
        msg["X-Unsent"] = "1"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def values(deal: Deal, rep: Member | None) -> dict[str, str]:
    """What a template may name: every top-level text, number or date field of the deal
    (`{title}`, `{company}`, `{expected_close}`, …), `{id}` and `{stage}`; `{contact.name}`,
    `{contact.first_name}` and `{contact.email}`; `{rep.name}`, `{rep.first_name}`,
    `{rep.email}` from the team roster (the owner's handle when the roster does not know them)."""
    out: dict[str, str] = {"id": deal.id, "stage": deal.stage}
    for key, value in deal.fields.items():
        if value is not None and not isinstance(value, Mapping | list | bool):
            out[str(key)] = str(value)
    person = contact_of(deal)
    if person is not None:
        name, addr = person
        out["contact.name"] = name or addr
        out["contact.first_name"] = (name or addr).split()[0]
        out["contact.email"] = addr
    rep_name = (rep.name or rep.handle) if rep is not None else deal.owner
    if rep_name:
        out["rep.name"] = rep_name
        out["rep.first_name"] = rep_name.split()[0]
    if rep is not None and member_address(rep) is not None:
        out["rep.email"] = str(member_address(rep).addr_spec)  # type: ignore[union-attr]
    return out


def fill(template: str, known: Mapping[str, str], where: str, first_line: int = 1) -> str:
    """`template` with each `{name}` replaced by its value; a name not in `known` (a field
    the deal does not have) is an error naming it and the template's line (`template`
    starting on `first_line` of its file)."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        line = template.count("\n", 0, match.start()) + first_line
        if name is None:
            raise UsageError(f"a lone {token!r} (write {token * 2} for a brace)", where, line)
        if name not in known:
            raise UsageError(f"placeholder {{{name}}}: the deal has no {name}", where, line)
        return known[name]

    return _PLACEHOLDER.sub(one, template)
