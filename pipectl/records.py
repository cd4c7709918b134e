"""Accounts and contacts: Markdown files with YAML frontmatter in `accounts/` and `contacts/`.

A record file is cut and parsed exactly as a deal file is (`deal.split`, `deal.parse_yaml`),
so edits through `dealedit` keep every other byte; its fields are declared here with the same
`FieldDecl` checks as a deal's. Pure values: the disk is `recordstore.py`'s, never this module's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipectl.deal import decode, is_valid_id, parse_yaml, split
from pipectl.fieldtypes import FieldDecl
from pipectl.yamltext import key_lines


@dataclass(frozen=True)
class Kind:
    """A kind of record: its name, the folder its files live in, and its fields."""

    name: str
    folder: str
    fields: tuple[FieldDecl, ...]

    def field(self, name: str) -> FieldDecl | None:
        return next((f for f in self.fields if f.name == name), None)


ACCOUNT = Kind(
    "account",
    "accounts",
    (
        FieldDecl("name", "text", "The company as people call it.", required=("*",)),
        FieldDecl("domains", "list", "Its email domains (`acme.example`)."),
        FieldDecl("industry", "text", "What it does."),
        FieldDecl("size", "text", "How big it is: employees, a band (`50-200`)."),
        FieldDecl("owner", "text", "The rep who answers for the account (a `team:` handle)."),
    ),
)
CONTACT = Kind(
    "contact",
    "contacts",
    (
        FieldDecl("name", "text", "The person's name.", required=("*",)),
        FieldDecl("emails", "list", "Their email addresses."),
        FieldDecl("phone", "text", "Their phone number."),
        FieldDecl("role", "text", "What they do (`CTO`, `buyer`)."),
        FieldDecl("account", "text", "The id of their account (a file in accounts/)."),
    ),
)
KINDS: Mapping[str, Kind] = {k.name: k for k in (ACCOUNT, CONTACT)}
# The folders of a pipeline that hold records, never deals (lint's stray-file rule skips them).
FOLDERS: frozenset[str] = frozenset(k.folder for k in KINDS.values())


@dataclass(frozen=True)
class Record:
    """A parsed account or contact: its kind, id (file name), frontmatter and key lines."""

    kind: Kind
    id: str
    path: Path
    fields: Mapping[str, Any]
    lines: Mapping[str, int]

    @property
    def name(self) -> str:
        value = self.fields.get("name")
        return str(value) if value is not None else self.id

    def get(self, key: str) -> Any:
        return self.fields.get(key)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


def parse_record(data: bytes, path: Path, kind: Kind) -> Record:
    """A Record from a file's bytes; a DealError with the file's line on bad input."""
    text = split(decode(data, path), path)
    fields = parse_yaml(text, path)
    lines = key_lines(text.yaml, text.yaml_first_line)
    return Record(kind, path.stem, path, fields, lines)


def problems(kind: Kind, fields: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, why) for each value of `fields` its kind refuses, and each required key missing."""
    for decl in kind.fields:
        value = fields.get(decl.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if decl.required:
                yield decl.name, f"{kind.name} has no {decl.name}"
            continue
        why = decl.problem(value)
        if why is None and decl.name == "emails":  # a list of words, each an address
            why = next(filter(None, (_EMAIL.problem(v) for v in value)), None)
        if why:
            yield decl.name, f"{decl.name}: {why}"


_EMAIL = FieldDecl("email", "email")


def kind_of_path(root: Path, path: Path) -> Kind | None:
    """The kind of a record file's path (directly in `accounts/` or `contacts/` of `root`);
    None for any other file."""
    if path.suffix != ".md" or path.parent.parent != root or path.name.startswith("."):
        return None
    return next((k for k in KINDS.values() if k.folder == path.parent.name), None)


def check_id(kind: Kind, record_id: str) -> str | None:
    """Why `record_id` cannot name a record file, or None."""
    if not is_valid_id(record_id):
        return (
            f"invalid {kind.name} id {record_id!r}: use lowercase letters, digits, '-', '_' or '.'"
        )
    return None


def link_ids(value: Any) -> list[str]:
    """The record ids a deal's `account:` or `contacts:` names: a text names one; in a list,
    each entry that is a text (a contact's id) does; `{name, email}` entries name none."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []
