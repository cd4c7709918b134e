"""`pipectl search`: deals whose frontmatter or notes hold a text, ranked, with the lines.

Matching ignores case and accents: both sides are folded (NFKD, combining marks dropped,
casefold), so `cafe` finds `Café` and `STRASSE` finds `Straße`. The frontmatter comes from
the parsed-deal cache (`Pipeline.load`); the notes are read from the files, and a file is
folded only when its raw text, lowercased, could hold the text (ASCII queries: most files
are never folded at all).

Ranking: a hit in the id or the title first, then one in another field, then one in the
notes; among equals, more hits higher, then by id.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipectl.deal import Deal

NOTES = "notes"
# the weight of a hit by where it is: the rank is the sum, so one title hit outranks any
# number of note hits a deal is likely to have
ID_WEIGHT = 10_000
TITLE_WEIGHT = 1_000
FIELD_WEIGHT = 100
NOTE_WEIGHT = 1
# lines shown per deal (the count still says how many there were)
MAX_LINES = 5


def fold(text: str) -> str:
    """Text as search compares it: accents and case gone, compatibility forms unified."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class Hit:
    """One matching line: the field (dotted; `notes` for the body), its line in the file, the
    line's text as it is in the file (not folded)."""

    field: str
    line: int
    text: str


@dataclass(frozen=True)
class Found:
    deal: Deal
    score: int
    hits: tuple[Hit, ...]
    count: int  # hits in all, shown or not


def search(
    deals: Iterable[Deal],
    query: str,
    read_text: Any,
    field: str | None = None,
) -> list[Found]:
    """The deals matching `query`, best first. `read_text(deal)` gives the file's text (None:
    unreadable, then only its frontmatter is searched); `field` limits the search to one
    field (dotted prefix: `qualification` takes its criteria) or to the notes."""
    needle = fold(query.strip())
    if not needle:
        return []
    found = []
    for deal in deals:
        one = _match(deal, needle, read_text, field)
        if one is not None:
            found.append(one)
    found.sort(key=lambda f: (-f.score, f.deal.id, f.deal.stage))
    return found


def _match(deal: Deal, needle: str, read_text: Any, field: str | None) -> Found | None:
    score = 0
    hits: list[Hit] = []
    if field is None and needle in fold(deal.id):
        score += ID_WEIGHT
        hits.append(Hit("id", 0, deal.id))
    if field != NOTES:
        for key, value in _values(deal.fields):
            if field is not None and key != field and not key.startswith(field + "."):
                continue
            if needle in fold(value):
                score += TITLE_WEIGHT if key == "title" else FIELD_WEIGHT
                top = key.split(".", 1)[0]
                hits.append(Hit(key, deal.line_of(top), f"{key}: {value}"))
    if field is None or field == NOTES:
        text = read_text(deal)
        if text is not None:
            for line, body_line in _note_hits(text, needle):
                score += NOTE_WEIGHT
                hits.append(Hit(NOTES, line, body_line))
    if not hits:
        return None
    return Found(deal, score, tuple(hits[:MAX_LINES]), len(hits))


def _values(fields: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    """Every scalar of the frontmatter as (dotted key, text); list items keep their parent's
    key (`touchpoints.summary`), so --field names them without an index."""
    for key, value in fields.items():
        name = f"{prefix}{key}"
        yield from _scalars(name, value)


def _scalars(name: str, value: Any) -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        yield from _values(value, name + ".")
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _scalars(name, item)
    elif value is not None:
        yield name, str(value)


def _note_hits(text: str, needle: str) -> Iterable[tuple[int, str]]:
    """(file line, line) of each line of the body holding `needle`."""
    # the cheap look first: an ASCII needle is in the folded text only if it is in the raw
    # text lowercased, or the text has non-ASCII letters that fold into ASCII ones
    lowered = text.lower()
    if needle.isascii() and needle not in lowered and lowered.isascii():
        return
    lines = text.split("\n")
    start = _body_start(lines)
    for n in range(start, len(lines)):
        if needle in fold(lines[n]):
            yield n + 1, lines[n].rstrip("\r")


def _body_start(lines: Sequence[str]) -> int:
    """The index of the body's first line: after the frontmatter's closing fence."""
    if not lines or lines[0].lstrip("\ufeff").rstrip("\r") != "---":
        return 0
    for n in range(1, len(lines)):
        if lines[n].rstrip("\r") in ("---", "..."):
            return n + 1
    return len(lines)
