"""The team roster as pipeline.yaml's `team:` lists it: who each member is, and their quotas.

Parsed here with plain errors (configspec turns them into its own); how an owner name finds
its member is owners.py's job. Never reads a file or prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipectl.fieldtypes import is_field_name
from pipectl.targets import TargetError, parse_quotas


@dataclass(frozen=True)
class Member:
    """One person of the team roster: the handle deals name as `owner`, and who they are.

    `emails` and `aliases` are the git identities (author emails, names) that are this person;
    `manager` is another member's handle; `quotas` their targets by period, in base currency
    (docs/forecast.md).
    """

    handle: str
    name: str = ""
    emails: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    manager: str | None = None
    active: bool = True
    quotas: tuple[tuple[str, float], ...] = ()


_MEMBER_KEYS = ("handle", "name", "emails", "aliases", "manager", "active", "quotas")


def parse_team(value: Any) -> tuple[Member, ...]:
    """`team:`, a list of {handle, name, emails, aliases, manager, active, quotas}."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TargetError("must be a list of members {handle, name, emails, aliases, manager}")
    members: list[Member] = []
    for i, item in enumerate(value):
        where = f"item {i + 1}"
        if not isinstance(item, Mapping):
            raise TargetError(f"{where}: must be a mapping with at least a handle")
        for k in item:
            if k not in _MEMBER_KEYS:
                raise TargetError(f"{where}: unknown key {k!r} (known: {', '.join(_MEMBER_KEYS)})")
        handle = item.get("handle")
        if not isinstance(handle, str) or not is_field_name(handle.strip()):
            raise TargetError(f"{where}: handle must be a word such as alice, got {handle!r}")
        handle = handle.strip()
        if any(m.handle.casefold() == handle.casefold() for m in members):
            raise TargetError(f"{handle}: listed twice")
        name = item.get("name") or ""
        if not isinstance(name, str):
            raise TargetError(f"{handle}: name must be text")
        lists = {}
        for k in ("emails", "aliases"):
            words = item.get(k) or []
            words = [words] if isinstance(words, str) else words
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise TargetError(f"{handle}: {k} must be a list of text")
            lists[k] = tuple(w.strip() for w in words if w.strip())
        manager = item.get("manager")
        if manager is not None and not isinstance(manager, str):
            raise TargetError(f"{handle}: manager must be a member's handle")
        active = item.get("active", True)
        if not isinstance(active, bool):
            raise TargetError(f"{handle}: active must be true or false")
        try:
            quotas = parse_quotas(item.get("quotas"))
        except TargetError as exc:
            raise TargetError(f"{handle}: quotas: {exc.message}") from None
        members.append(
            Member(handle, name.strip(), lists["emails"], lists["aliases"], manager, active, quotas)
        )
    handles = {m.handle.casefold() for m in members}
    for m in members:
        if m.manager is not None and m.manager.strip().casefold() not in handles:
            raise TargetError(f"{m.handle}: manager {m.manager!r} is not a handle in team")
    return tuple(members)
