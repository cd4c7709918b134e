"""Mail files read into header records: `.eml` files, Maildir folders and mbox files.

Only headers are parsed (the standard library's header parser stops at the blank line): a
message's body and attachments are never read, so nothing of them can be stored.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import mailbox
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import IO, Any

from pipectl.errors import UsageError

_PARSER = BytesHeaderParser(policy=email.policy.default)
_ID_RE = re.compile(r"<[^<>\s]+>")
# How many bytes of a file tell an mbox ("From " line) from one message.
_SNIFF = 5
# The names a folder's message files have (an mbox may have none: it is told by its start).
_SUFFIXES = (".eml", ".mbox", ".mbx")


@dataclass(frozen=True)
class Mail:
    """One message's headers, as much as a touchpoint and its thread need.

    Addresses are lower-cased `local@domain`; `refs` holds the ids it answers (In-Reply-To
    and References); `where` says where it was read (`FILE` or `MBOX#N` or `MAILDIR/KEY`).
    """

    where: str
    message_id: str | None
    date: dt.datetime | None
    subject: str
    sender: str | None
    reply_to: tuple[str, ...]
    recipients: tuple[str, ...]
    refs: tuple[str, ...]

    @property
    def parties(self) -> tuple[str, ...]:
        """Everyone the message names: its author, Reply-To, To and Cc."""
        first = (self.sender,) if self.sender else ()
        return tuple(dict.fromkeys((*first, *self.reply_to, *self.recipients)))


def read_paths(paths: Sequence[Path]) -> list[Mail]:
    """Every message under `paths`, in the order given (a folder's entries sorted by name)."""
    found: list[Mail] = []
    for path in paths:
        found.extend(_read(path))
    return found


def is_calendar(path: Path) -> bool:
    """Whether `path` is an iCalendar file (by its name), for the calendar reader."""
    return path.suffix.lower() == ".ics"


def _read(path: Path) -> Iterator[Mail]:
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if path.is_dir():
        if any((path / sub).is_dir() for sub in ("cur", "new")):
            yield from _maildir(path)
            return
        for child in _entries(path):
            if child.name.startswith(".") or is_calendar(child):
                continue
            if child.is_dir() or (
                child.is_file() and (child.suffix.lower() in _SUFFIXES or _is_mbox(child))
            ):
                yield from _read(child)  # a FIFO or a device in a folder is passed over
        return
    if not path.is_file():  # opening a FIFO would wait for a writer forever
        raise UsageError(f"{path}: not a regular file; not read")
    if is_calendar(path):  # the calendar reader's (invites.py)
        return
    if _is_mbox(path):
        yield from _mbox(path)
        return
    with _open(path) as f:
        yield _mail(_headers(f, str(path)), str(path))


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        raise UsageError(f"{folder}: cannot list ({exc.strerror})") from None


def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None


def _is_mbox(path: Path) -> bool:
    if not path.is_file():
        return False
    with _open(path) as f:
        return f.read(_SNIFF) == b"From "


def _maildir(path: Path) -> Iterator[Mail]:
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.keys()):
        where = f"{path}/{key}"
        with box.get_file(key) as f:
            yield _mail(_headers(f, where), where)


def _mbox(path: Path) -> Iterator[Mail]:
    box = mailbox.mbox(path, create=False)
    try:
        for n, key in enumerate(box.keys(), 1):
            where = f"{path}#{n}"
            with box.get_file(key) as f:
                yield _mail(_headers(f, where), where)
    finally:
        box.close()


def _headers(f: Any, where: str) -> EmailMessage:
    try:
        msg = _PARSER.parse(f)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{where}: cannot read this message ({exc})") from None
    assert isinstance(msg, EmailMessage)  # policy.default builds EmailMessage
    return msg


def _mail(msg: EmailMessage, where: str) -> Mail:
    return Mail(
        where=where,
        message_id=_first_id(msg, "Message-ID"),
        date=_date(msg),
        subject=_text(msg, "Subject"),
        sender=next(iter(_addresses(msg, "From")), None),
        reply_to=_addresses(msg, "Reply-To"),
        recipients=tuple(dict.fromkeys((*_addresses(msg, "To"), *_addresses(msg, "Cc")))),
        refs=tuple(dict.fromkeys((*_ids(msg, "In-Reply-To"), *_ids(msg, "References")))),
    )


def _header(msg: EmailMessage, name: str) -> Any:
    try:
        return msg[name]
    except (ValueError, IndexError, TypeError):  # a header too broken to parse is no header
        return None


def _text(msg: EmailMessage, name: str) -> str:
    value = _header(msg, name)
    return " ".join(str(value).split()) if value is not None else ""


def _addresses(msg: EmailMessage, name: str) -> tuple[str, ...]:
    value = _header(msg, name)
    out = []
    for address in getattr(value, "addresses", ()):
        spec = address.addr_spec.strip().lower()
        if "@" in spec:
            out.append(spec)
    return tuple(dict.fromkeys(out))


def _ids(msg: EmailMessage, name: str) -> tuple[str, ...]:
    return tuple(_ID_RE.findall(_text(msg, name)))


def _first_id(msg: EmailMessage, name: str) -> str | None:
    found = _ids(msg, name)
    return found[0] if found else None


def _date(msg: EmailMessage) -> dt.datetime | None:
    value = _header(msg, "Date")
    when = getattr(value, "datetime", None)
    return when if isinstance(when, dt.datetime) else None
