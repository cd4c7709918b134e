"""Which deal a message or an invitation is about: the one reading of the deals' addresses.

A deal's side is its `contact`, the emails of its `contacts` and its company's domains (the
`domains:` field, and the domains of those emails unless they are public mail providers); the
rep's side is the team roster's emails. A party matches by its exact address first, then by its
domain; several open deals at that level are narrowed to those the rep in the message owns,
and what is still not one deal is left unmatched with the reason, never guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from pipectl import owners
from pipectl.deal import Deal
from pipectl.roster import Member

# Domains that are no company's: a contact's gmail address says nothing of who else writes from
# gmail. `domains:` may still list one on purpose.
PUBLIC_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com",
        "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.ru", "fastmail.com",
        "zoho.com",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Match:
    """The deal a message is about (`deal` None: unmatched, `reason` says why) and whether the
    rep sent it (`sent`) or received it."""

    deal: Deal | None
    sent: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Book:
    """The addresses of the open deals and of the team, folded, for matching."""

    team: tuple[Member, ...]
    reps: Mapping[str, str]
    emails: Mapping[str, tuple[Deal, ...]]
    domains: Mapping[str, tuple[Deal, ...]]
    closed: Mapping[str, tuple[str, ...]]
    twice: Mapping[str, tuple[str, ...]]

    def match(
        self, author: str | None, parties: Sequence[str], reply_to: Sequence[str] = ()
    ) -> Match:
        """The deal of a message from `author` naming `parties` (Reply-To included)."""
        outside = [p for p in parties if p not in self.reps]
        if not outside:
            return Match(None, reason="only the team's addresses")
        reps = [self.reps[p] for p in parties if p in self.reps]
        found = self._best(outside)
        if not found:
            closed = sorted({d for p in outside for d in _both(self.closed, p)})
            twice = sorted({d for p in outside for d in _both(self.twice, p)})
            why = f" (closed deals only: {', '.join(closed)})" if closed else ""
            why += f" (in two stages, lint PL104: {', '.join(twice)})" if twice else ""
            return Match(None, reason=f"no open deal's contact or domain{why}")
        if len(found) > 1 and reps:
            mine = [d for d in found if any(owners.owner_matches(d, r, self.team) for r in reps)]
            found = mine or found
        if len(found) > 1:
            return Match(None, reason=f"several deals: {', '.join(sorted(d.id for d in found))}")
        deal = found[0]
        theirs = (author, *reply_to) if author and author not in self.reps else ()
        received = any(self._of(p, deal) for p in theirs if p)
        return Match(deal, sent=not received)

    def _best(self, outside: Sequence[str]) -> list[Deal]:
        by_email = _unique(d for p in outside for d in self.emails.get(p, ()))
        if by_email:
            return by_email
        return _unique(d for p in outside for d in self.domains.get(_domain(p), ()))

    def _of(self, address: str, deal: Deal) -> bool:
        near = (*self.emails.get(address, ()), *self.domains.get(_domain(address), ()))
        return any(d.id == deal.id for d in near)


def book(deals: Iterable[Deal], closed_stages: Iterable[str], team: Sequence[Member]) -> Book:
    """The matching book of `deals`: open ones matched; closed ones, and an id in two stages
    (which file would be "the" deal?), only named."""
    shut = set(closed_stages)
    deals = list(deals)
    seen = Counter(d.id for d in deals)
    emails: dict[str, list[Deal]] = {}
    domains: dict[str, list[Deal]] = {}
    closed: dict[str, list[str]] = {}
    twice: dict[str, list[str]] = {}
    for deal in deals:
        addresses = deal_emails(deal)
        names = {_domain(a) for a in addresses} - PUBLIC_DOMAINS | set(deal_domains(deal))
        aside = twice if seen[deal.id] > 1 else closed if deal.stage in shut else None
        if aside is not None:
            for key in (*addresses, *names):
                aside.setdefault(key, []).append(deal.id)
            continue
        for a in addresses:
            emails.setdefault(a, []).append(deal)
        for n in names:
            domains.setdefault(n, []).append(deal)
    reps = {e.lower(): m.handle for m in team for e in m.emails if "@" in e}
    return Book(
        tuple(team),
        reps,
        {k: tuple(v) for k, v in emails.items()},
        {k: tuple(v) for k, v in domains.items()},
        {k: tuple(v) for k, v in closed.items()},
        {k: tuple(v) for k, v in twice.items()},
    )


def deal_emails(deal: Deal) -> tuple[str, ...]:
    """The deal's people's addresses, lower-cased: `contact` first, then `contacts`."""
    out = [a for _, a in getaddresses([deal.contact or ""]) if "@" in a]
    people = deal.fields.get("contacts")
    for person in people if isinstance(people, list) else ():
        if isinstance(person, Mapping) and isinstance(person.get("email"), str):
            out.append(person["email"])
    return tuple(dict.fromkeys(a.strip().lower() for a in out))


def contact_of(deal: Deal) -> tuple[str, str] | None:
    """(name, address) of the person messages go to: `contact`, else the first of `contacts`."""
    found = [(n, a) for n, a in getaddresses([deal.contact or ""]) if "@" in a]
    if found:
        return found[0]
    people = deal.fields.get("contacts")
    for person in people if isinstance(people, list) else ():
        if isinstance(person, Mapping) and isinstance(person.get("email"), str):
            return (str(person.get("name") or ""), person["email"])
    return None


def deal_domains(deal: Deal) -> tuple[str, ...]:
    """The `domains:` field: a list of domains (or one), lower-cased, without a leading `@`."""
    raw: Any = deal.fields.get("domains")
    words = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return tuple(str(w).strip().lstrip("@").lower() for w in words if str(w).strip())


def _both(named: Mapping[str, tuple[str, ...]], address: str) -> tuple[str, ...]:
    return named.get(address, ()) + named.get(_domain(address), ())


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


def _unique(deals: Iterable[Deal]) -> list[Deal]:
    return list({d.id: d for d in deals}.values())
