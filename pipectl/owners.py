"""Who owns a deal: the one rule every `--owner` filter, grouping and write goes by.

Owner names are typed by people and taken from git identities, so `Alice` and `alice ` are the
same rep, and with a roster (`team:` in pipeline.yaml) so are `Alice Smith` and `alice@x.com`:
every command asks here, never compares by itself. Pure: the caller brings the team and the git
identity; nothing here reads git, files or the environment.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pipectl.configspec import Member
from pipectl.deal import Deal
from pipectl.errors import UsageError
from pipectl.gitidentity import GitIdentity

# How figures and filters name the deals that have no owner (`--owner "(none)"`).
NO_OWNER = "(none)"
# `--owner all`: every owner's deals, where a command would otherwise pick one.
EVERYONE = "all"
# Where the roster is, as messages name it.
TEAM = "pipeline.yaml's team"

Team = Sequence[Member]
Identity = tuple[str | None, str | None]  # a git identity: (name, email)


def _fold(word: str | None) -> str:
    return (word or "").strip().casefold()


def _names(team: Team) -> Mapping[str, Member | None]:
    """Every word naming a member (handle, name, email, alias), folded, to that member.

    A word two members share names neither (None), so a shared first name never picks one
    at random; a handle always names its own member, whoever else lists it. Kept for the last
    few rosters by identity: a filter asks once per deal, and hashing a roster costs more.
    """
    for seen, names in _RECENT:
        if seen is team:
            return names
    found: dict[str, Member | None] = {}
    for m in team:
        for word in {_fold(w) for w in _words(m)[1:]} - {""}:
            found[word] = m if found.get(word, m) is m else None
    for m in team:
        found[_fold(m.handle)] = m
    _RECENT[:] = [(team, found), *_RECENT[:3]]
    return found


_RECENT: list[tuple[Team, Mapping[str, Member | None]]] = []


def member(team: Team, word: str | None) -> Member | None:
    """The one member `word` names: their handle, name, an email or an alias, in any case."""
    if not team or not _fold(word):
        return None
    return _names(team).get(_fold(word))


def roster_handle(
    team: Team, name: str | None, email: str | None = None, name_first: bool = False
) -> str | None:
    """The handle of the member a git identity is: by its email (the surer), then its name;
    by the name first when it was set more specifically than the email (`name_first`: git
    takes $GIT_AUTHOR_NAME over the config, and so does the roster)."""
    for word in (name, email) if name_first else (email, name):
        found = member(team, word)
        if found is not None:
            return found.handle
    return None


def default_owner(
    team: Team, env_owner: str | None, identity: Callable[[], Identity] | None
) -> str | None:
    """Whose deals when no `--owner` is given: $PIPECTL_OWNER, else the roster handle of the
    committing identity as git resolves it (`GitRepo.identity`, name or email, whichever is
    set more specifically), else (no roster match) its git name; None when none is known.

    `identity` is asked only when $PIPECTL_OWNER is unset (it starts git).
    """
    if env_owner and env_owner.strip():
        return env_owner
    who = identity() if identity is not None else (None, None)
    name, email = who
    first = isinstance(who, GitIdentity) and who.name_first
    return roster_handle(team, name, email, first) or name


def owner_key(name: str | None, team: Team = ()) -> str:
    """The form two owner names are compared in: a roster member's handle for any word that
    names them, else the name trimmed; without regard to case either way."""
    found = member(team, name)
    return _fold(found.handle if found is not None else name)


def owner_label(name: str | None, team: Team = ()) -> str:
    """How figures show an owner: the member's handle, else the name trimmed, else `(none)`."""
    found = member(team, name)
    return found.handle if found is not None else ((name or "").strip() or NO_OWNER)


def owner_filter(option: str | None, team: Team = ()) -> str | None:
    """What an `--owner` option asks for: None (every deal) for no option or `all` in any
    case; `(none)`; a member's handle for any word that names them; otherwise the option,
    to match with `owner_matches`."""
    if option is None or _fold(option) == EVERYONE:
        return None
    if option == NO_OWNER:
        return option
    found = member(team, option)
    return found.handle if found is not None else option


def owner_matches(deal: Deal, owner: str | None, team: Team = ()) -> bool:
    """No owner asked for matches every deal; `(none)` matches deals without an owner;
    otherwise the deal's owner and the one asked for compare by `owner_key`."""
    return name_matches(deal.owner, owner, team)


def name_matches(name: str | None, owner: str | None, team: Team = ()) -> bool:
    """`owner_matches` for an owner's name by itself (a task's own owner, else its deal's)."""
    if owner is None:
        return True
    if owner == NO_OWNER:
        return not _fold(name)
    return owner_key(name, team) == owner_key(owner, team)


def roster_problem(team: Team, owner: str) -> str | None:
    """Why `owner` cannot own a deal under this roster (None: it can, or there is no roster):
    it names no member, several, or an inactive one. Lint and every write say the same."""
    if not team:
        return None
    found = member(team, owner)
    if found is not None:
        who = "" if _fold(owner) == _fold(found.handle) else f" ({found.handle})"
        return None if found.active else f"owner {owner!r}{who} is inactive in {TEAM}"
    sharing = [m.handle for m in team if _fold(owner) in map(_fold, _words(m))]
    if sharing:
        return f"owner {owner!r} names several members of {TEAM} ({', '.join(sharing)})"
    return f"owner {owner!r} is not in {TEAM}" + _close(team, owner)


def _words(m: Member) -> tuple[str, ...]:
    return (m.handle, m.name, *m.emails, *m.aliases)


def _close(team: Team, owner: str) -> str:
    names = _names(team)
    words = difflib.get_close_matches(_fold(owner), list(names), n=6, cutoff=0.6)
    handles = list(dict.fromkeys(m.handle for w in words if (m := names[w]) is not None))
    return f" (close: {', '.join(handles[:3])})" if handles else ""


def settle_owner(team: Team, fields: Mapping[str, Any] | None) -> tuple[dict[str, Any], str]:
    """Fields about to be written, their `owner` as the handle of the member it names, and a
    note saying so ("" when there is nothing to say). With a roster, an owner that names no
    active member is refused (exit 2); without one, owners are written as given."""
    out = dict(fields or {})
    owner = out.get("owner")
    if not team or not isinstance(owner, str) or not owner.strip():
        return out, ""
    problem = roster_problem(team, owner)
    found = member(team, owner)
    if problem is not None or found is None:
        raise UsageError(problem or f"owner {owner!r} is not in {TEAM}")
    out["owner"] = found.handle
    if found.handle == owner:
        return out, ""
    return out, f"; owner {owner!r} is {found.handle} in the team roster"
