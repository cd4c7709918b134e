"""Who owns a deal: the one rule every `--owner` filter matches by.

Owner names are typed by people and taken from git identities, so `Alice` and `alice ` are the
same rep; every command that filters or groups by owner asks here, never compares by itself.
"""

from __future__ import annotations

from pipectl.deal import Deal


def owner_key(name: str | None) -> str:
    """The form two owner names are compared in: trimmed, without regard to case."""
    return (name or "").strip().casefold()


# How figures and filters name the deals that have no owner (`--owner "(none)"`).
NO_OWNER = "(none)"
# `--owner all`: every owner's deals, where a command would otherwise pick one.
EVERYONE = "all"


def owner_filter(option: str | None) -> str | None:
    """What an `--owner` option asks for: None (every deal) for no option or `all` in any
    case; otherwise the owner (or `(none)`) to match with `owner_matches`."""
    if option is None or owner_key(option) == EVERYONE:
        return None
    return option


def owner_matches(deal: Deal, owner: str | None) -> bool:
    """No owner asked for matches every deal; `(none)` matches deals without an owner;
    names compare without regard to case or surrounding blanks."""
    if owner is None:
        return True
    if owner == NO_OWNER:
        return not owner_key(deal.owner)
    return owner_key(deal.owner) == owner_key(owner)
