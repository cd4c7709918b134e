"""Message drafts from the pipeline's templates (`templates/NAME.md`), addressed to a deal's
contact, for `pipectl draft` and `sweep --last-chance --drafts DIR`.

A template's first line is `Subject: …`, then a blank line, then the body; `{placeholders}`
name the deal's fields, its contact and its rep (compose.values). A name the deal does not
have is an error naming it, the template and its line; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from pipectl import owners
from pipectl.deal import Deal
from pipectl.errors import DealError, UsageError
from pipectl.mail import compose
from pipectl.mail.matching import contact_of
from pipectl.roster import Member
from pipectl.store import Pipeline, read_regular

TEMPLATES = "templates"
NO_CONTACT = "no contact email to address a draft to (contact or contacts)"
_LIMIT = 1 << 20  # a template is a message, not a file to stream


@dataclass(frozen=True)
class Template:
    """A template as read: its name, where it is (as shown), its subject and body lines."""

    name: str
    shown: str
    subject: str
    body: str


def load(pipeline: Pipeline, name: str) -> Template:
    """`templates/NAME.md` of the pipeline (NAME with or without `.md`)."""
    stem = name[:-3] if name.endswith(".md") else name
    if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
        raise UsageError(f"template {name!r}: give the name of a file in {TEMPLATES}/")
    path = pipeline.root / TEMPLATES / f"{stem}.md"
    shown = pipeline.display(path)
    if not path.exists():
        found = sorted(p.stem for p in (pipeline.root / TEMPLATES).glob("*.md"))
        known = f" (there: {', '.join(found)})" if found else f" ({TEMPLATES}/ has none)"
        raise UsageError(f"{shown}: no such template{known}")
    try:
        text = read_regular(path, shown, follow=False, limit=_LIMIT, kind="template").decode()
    except UnicodeDecodeError:
        raise UsageError("is not UTF-8 text", shown) from None
    except DealError as exc:
        raise UsageError(exc.message, shown) from None
    text = text.replace("\r\n", "\n")
    head, sep, body = text.partition("\n")
    key, colon, subject = head.partition(":")
    if key.strip().lower() != "subject" or not colon:
        raise UsageError("first line must be `Subject: …`", shown, 1)
    if sep and body.startswith("\n"):
        body = body[1:]
    return Template(stem, str(shown), subject.strip(), body)


def draft(template: Template, deal: Deal, team: Sequence[Member], where: str) -> EmailMessage:
    """The template filled for `deal`, addressed to its contact, from its rep (the roster's
    address of its owner, when it lists one); `where` (the deal's file) names a refusal."""
    person = contact_of(deal)
    if person is None:
        raise UsageError(NO_CONTACT, where)
    rep = owners.member(team, deal.owner)
    known = compose.values(deal, rep)
    # the subject is the template's first line; its body starts on the third
    subject = compose.fill(template.subject, known, template.shown)
    body = compose.fill(template.body, known, template.shown, first_line=3)
    sender = compose.member_address(rep) if rep is not None else None
    to = compose.address(*person)
    return compose.message([to], " ".join(subject.split()), body, sender=sender, draft=True)


def check(
    template: Template, deals: Iterable[Deal], team: Sequence[Member], extra: Iterable[str] = ()
) -> None:
    """Refuse now what `draft` would refuse for any of `deals`, the names in `extra` counted
    as known (fields the command is about to set): nothing is done before every draft can be."""
    for deal in deals:
        known = dict.fromkeys(extra, "") | compose.values(deal, owners.member(team, deal.owner))
        compose.fill(template.subject, known, template.shown)
        compose.fill(template.body, known, template.shown, first_line=3)
        if contact_of(deal) is None:
            raise UsageError(NO_CONTACT, deal.id)


def file_name(deal_id: str, template: Template) -> str:
    """The draft's file name in a drafts folder: `DEAL-TEMPLATE.eml`."""
    return f"{deal_id}-{template.name}.eml"


def path_in(folder: Path, deal_id: str, template: Template) -> Path:
    return folder / file_name(deal_id, template)
