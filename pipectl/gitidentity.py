"""Who commits: git's author identity, (name, email), resolved as git resolves each of them on
its own. Pure: gitrepo.py reads the config (one `git config` only when the environment does
not name both) and hands it here.
"""

from __future__ import annotations

from collections.abc import Mapping


class GitIdentity(tuple[str | None, str | None]):
    """A git author identity, (name, email) as git resolves each of them on its own;
    `name_first` when the name was set more specifically than the email (say
    $GIT_AUTHOR_NAME over a configured user.email): the two may then be two people, and
    the name is the one meant."""

    name_first: bool

    def __new__(cls, name: str | None, email: str | None, name_first: bool = False) -> GitIdentity:
        made = super().__new__(cls, (name, email))
        made.name_first = name_first
        return made


def _first(*values: str | None) -> tuple[str | None, int]:
    """The first value set, and its level (1 for the first place asked); None if none is."""
    for level, value in enumerate(values, 1):
        if value:
            return value, level
    return None, len(values) + 1


def resolve(env: Mapping[str, str], config: Mapping[str, str]) -> GitIdentity:
    """$GIT_AUTHOR_NAME and $GIT_AUTHOR_EMAIL before the config's author.* and then user.*
    ($EMAIL last for the email); None for what none of them gives. `config`: the lower-cased
    keys git's config gives. Git picks the two apart, so this also says which of them was set
    more specifically."""
    name = env.get("GIT_AUTHOR_NAME", "").strip() or None
    email = env.get("GIT_AUTHOR_EMAIL", "").strip() or None
    name_level = email_level = 0  # 0: the environment, 1: author.*, 2: user.*, 3: $EMAIL
    if name is None:
        name, name_level = _first(config.get("author.name"), config.get("user.name"))
    if email is None:
        email, email_level = _first(
            config.get("author.email"), config.get("user.email"), env.get("EMAIL", "").strip()
        )
    return GitIdentity(name, email, name_first=name_level < email_level)
