"""The deal file: split it into its exact parts, parse its frontmatter, and the Deal value.

The split keeps every byte (BOM, line endings, fences, body) so that a save that changes
nothing is byte-identical. Parsing here is read-only and fast (PyYAML's C loader); edits that
must keep the user's formatting live in `dealedit.py`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import FrozenInstanceError, dataclass, replace
from pathlib import Path
from typing import Any

from pipectl import yamlio
from pipectl.errors import DealError
from pipectl.fieldtypes import MAX_AMOUNT
from pipectl.lineitems import items_value
from pipectl.yamltext import key_lines

BOM = "\ufeff"
_FENCE_RE = re.compile(r"(---|\.\.\.)[ \t]*(\r\n|\n|$)")
# The closing fence: the first later line that is a whole fence line, found by one search
# instead of a match per line (a line ends at "\n" only, as everywhere in pipectl).
_CLOSING_RE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r\n|\n|\Z)", re.MULTILINE)


@dataclass(frozen=True)
class DealText:
    """A deal file cut into exact parts; `render()` gives back the same text."""

    bom: str
    head: str  # the opening fence line with its line break
    yaml: str  # the frontmatter, every line with its own line break
    tail: str  # the closing fence line, with its line break when there is one
    body: str
    newline: str  # the line break style of the opening fence, used for new lines

    def render(self) -> str:
        return self.bom + self.head + self.yaml + self.tail + self.body

    def with_yaml(self, yaml: str) -> DealText:
        return replace(self, yaml=yaml)

    @property
    def yaml_first_line(self) -> int:
        """1-based file line of the first frontmatter line."""
        return 2


def decode(data: bytes, path: Path | str | None = None) -> str:
    """UTF-8 text of a deal file (a BOM is kept as a character); bad bytes name their line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DealError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", path, line) from None


def split(text: str, path: Path | str | None = None) -> DealText:
    """Cut a deal file into its parts; no frontmatter or no closing fence is a DealError."""
    bom = BOM if text.startswith(BOM) else ""
    rest = text[len(bom) :]
    first = _FENCE_RE.match(rest)
    if not first or first.group(1) != "---" or not first.group(2):
        raise DealError("no frontmatter: a deal file starts with a '---' line", path, 1)
    newline = first.group(2)
    head = rest[: first.end()]
    fence = _CLOSING_RE.search(rest, first.end())
    if fence is None:
        raise DealError("frontmatter never closed: add a '---' line after it", path, 1)
    pos, line_end = fence.span()
    return DealText(
        bom, head, rest[first.end() : pos], rest[pos:line_end], rest[line_end:], newline
    )


def parse_yaml(text: DealText, path: Path | str | None = None) -> dict[str, Any]:
    """The frontmatter as a dict; YAML errors carry the file's own 1-based line."""
    try:
        data = yamlio.load(text.yaml) if text.yaml.strip() else {}
    except yamlio.YAMLError as exc:
        conflict = conflict_line(text)
        if conflict is not None:
            raise DealError(CONFLICT_PROBLEM, path, conflict) from None
        line, _col, problem = yamlio.error_position(exc)
        file_line = None if line is None else line + text.yaml_first_line
        raise DealError(f"invalid YAML: {problem}", path, file_line) from None
    except RecursionError:
        raise DealError("invalid YAML: nested too deeply", path, text.yaml_first_line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DealError("frontmatter must be a mapping of keys to values", path, 2)
    return data


CONFLICT_PROBLEM = (
    "unresolved merge conflict: keep the right lines between <<<<<<< and >>>>>>>, "
    "delete the marker lines"
)


def conflict_line(text: DealText) -> int | None:
    """1-based file line of a git conflict marker in the frontmatter (a merge left it)."""
    for i, line in enumerate(text.yaml.splitlines()):
        if line.startswith("<<<<<<<"):
            return i + text.yaml_first_line
    return None


@dataclass(frozen=True, slots=True)  # slots: a deal's rules build them all, 100,000s in a lint
class Touchpoint:
    """One recorded call, email, meeting or note."""

    date: dt.date | None
    kind: str
    summary: str
    outcome: str | None = None


_UNREAD: Any = object()  # a lazily read attribute not read yet


class Deal:
    """A parsed deal: its id (file name), stage (folder), frontmatter and where keys sit.

    Immutable, compared, hashed and shown as (id, stage, path, fields, lines). A large
    pipeline holds 100,000s of these for a whole lint, so one read through the parse cache
    (`Deal.at`) keeps its stage folder's `Path`, shared by the stage, instead of a `Path` of
    its own; `path` makes that when asked (a `Path` is about 300 bytes, a fifth of a deal).
    """

    __slots__ = ("_path", "_value", "fields", "folder", "id", "lines", "stage")
    id: str
    stage: str
    fields: Mapping[str, Any]
    lines: Mapping[str, int]
    # the folder shared by the deals of a stage (its file is `<id>.md` there), or None when
    # the path was given whole
    folder: Path | None
    _path: Path | None
    # the value, read once: every figure asks for it, a dozen times a deal in a report
    _value: Any

    def __init__(
        self,
        id: str,
        stage: str,
        path: Path,
        fields: Mapping[str, Any],
        lines: Mapping[str, int] | None = None,
    ):
        self._fill(id, stage, path, None, fields, {} if lines is None else lines)

    @classmethod
    def at(
        cls, id: str, stage: str, folder: Path, fields: Mapping[str, Any], lines: Mapping[str, int]
    ) -> Deal:
        """The deal of the file `<id>.md` in `folder` (shared by its stage's deals)."""
        deal = cls.__new__(cls)
        deal._fill(id, stage, None, folder, fields, lines)
        return deal

    def _fill(
        self,
        id: str,
        stage: str,
        path: Path | None,
        folder: Path | None,
        fields: Mapping[str, Any],
        lines: Mapping[str, int],
    ) -> None:
        """Every slot set once, past the frozen `__setattr__`: a deal has its path, or its
        folder."""
        put = object.__setattr__
        put(self, "id", id)
        put(self, "stage", stage)
        put(self, "_path", path)
        put(self, "folder", folder)
        put(self, "fields", fields)
        put(self, "lines", lines)
        put(self, "_value", _UNREAD)

    @property
    def path(self) -> Path:
        """The file as the loader shows it (made anew each time for a deal read `at` a folder:
        kept, it would cost the memory it saves)."""
        found = self._path
        if found is None:
            assert self.folder is not None
            return self.folder / f"{self.id}.md"
        return found

    @property
    def posix(self) -> str:
        """`path.as_posix()`, without making the `Path` when the deal was read at a folder."""
        folder = self.folder
        if folder is None:
            return self.path.as_posix()
        text = folder.as_posix()
        if text == "." or text.endswith("/"):
            return (folder / f"{self.id}.md").as_posix()
        return f"{text}/{self.id}.md"

    def moved(self, path: Path) -> Deal:
        """The same deal shown at `path`."""
        return Deal(self.id, self.stage, path, self.fields, self.lines)

    def _key(self) -> tuple[Any, ...]:
        return (self.id, self.stage, self.path, self.fields, self.lines)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Deal)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Deal(id={self.id!r}, stage={self.stage!r}, path={self.path!r}, "
            f"fields={self.fields!r}, lines={self.lines!r})"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Deal, (self.id, self.stage, self.path, self.fields, self.lines))

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)

    def _str(self, key: str) -> str | None:
        value = self.fields.get(key)
        if value is None or isinstance(value, Mapping | list):
            return None
        return str(value)

    @property
    def title(self) -> str:
        return self._str("title") or self.id

    @property
    def company(self) -> str | None:
        return self._str("company")

    @property
    def owner(self) -> str | None:
        return self._str("owner")

    @property
    def contact(self) -> str | None:
        return self._str("contact")

    @property
    def next_step(self) -> str | None:
        return self._str("next_step")

    @property
    def lost_reason(self) -> str | None:
        return self._str("lost_reason")

    @property
    def value(self) -> float | None:
        """`value:`, else what the line items come to (lineitems.py); None when neither."""
        found = self._value
        if found is _UNREAD:
            found = self._read_value()
            object.__setattr__(self, "_value", found)
        return found

    def _read_value(self) -> float | None:
        value = self.fields.get("value")
        if value is None and "line_items" in self.fields:
            value = items_value(self.fields)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        try:  # `.nan`, `.inf`, a 401-digit integer and a negative are no amount (lint's PL103
            amount = float(value)  # says so), as `value: lots` is none: in no sum, counted apart
        except OverflowError:
            return None
        return amount if math.isfinite(amount) and 0 <= amount <= MAX_AMOUNT else None

    @property
    def probability(self) -> float | None:
        p = self.fields.get("probability")
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            return None
        return float(p)

    def date(self, key: str) -> dt.date | None:
        return yamlio.to_date(self.fields.get(key))

    @property
    def tags(self) -> tuple[str, ...]:
        tags = self.fields.get("tags")
        if isinstance(tags, list):
            return tuple(str(t) for t in tags if t is not None)
        return (str(tags),) if isinstance(tags, str) else ()

    @property
    def qualification(self) -> Mapping[str, Any]:
        q = self.fields.get("qualification")
        return q if isinstance(q, Mapping) else {}

    @property
    def touchpoints(self) -> tuple[Touchpoint, ...]:
        """Well-formed touchpoints in file order; malformed ones are lint's to report."""
        # made anew on each call, never kept: kept on every deal, a lint of 100,000 deals
        # held 29 MB of them to its end for three rules that each look once
        raw = self.fields.get("touchpoints")
        if not isinstance(raw, list):
            return ()
        # a third less time than the plain form: a lint builds them three times a deal
        to_date, made = yamlio.to_date, []
        for item in raw:
            if type(item) is dict or isinstance(item, Mapping):
                get = item.get
                kind, summary, outcome = get("kind", ""), get("summary", ""), get("outcome")
                made.append(
                    Touchpoint(
                        to_date(get("date")),
                        kind if type(kind) is str else str(kind),
                        summary if type(summary) is str else str(summary),
                        outcome if outcome is None or type(outcome) is str else str(outcome),
                    )
                )
        return tuple(made)

    @property
    def last_touch(self) -> dt.date | None:
        # the stale rule over every open deal wants only this: no Touchpoint built
        raw = self.fields.get("touchpoints")
        items = raw if isinstance(raw, list) else ()
        on = [yamlio.to_date(i.get("date")) for i in items if isinstance(i, Mapping)]
        dates = [d for d in on if d is not None]
        return max(dates) if dates else None


def parse_deal(data: bytes, path: Path, stage: str) -> Deal:
    """A Deal from a file's bytes; raises DealError with the file line on bad input."""
    fields, lines = parse_fields(data, path)
    return Deal(id=path.stem, stage=stage, path=path, fields=fields, lines=lines)


def parse_fields(data: bytes, path: Path | str) -> tuple[dict[str, Any], dict[str, int]]:
    """`parse_deal`'s fields and key lines, without the Deal (a parse pool's worker sends
    only these on, and names the file in errors by its text)."""
    text = split(decode(data, path), path)
    return parse_yaml(text, path), key_lines(text.yaml, text.yaml_first_line)


def slugify(title: str) -> str:
    """A lowercase ASCII slug: "Müller & Söhne GmbH" -> "muller-sohne-gmbh"."""
    ascii_text = (
        unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:80].rstrip("-")


_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def is_valid_id(deal_id: str) -> bool:
    """Ids are file names inside a stage folder: no separators, no dot-dot, no hidden files."""
    return bool(_ID_RE.match(deal_id)) and ".." not in deal_id and len(deal_id) <= 120
