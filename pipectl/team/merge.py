"""The semantic three-way merge of deal files: touchpoints and tasks united, fields three-way,
body by text.

Pure functions over texts: no git, no files, no printing. The caller supplies the line-based
text merge (git's own, in practice) used for bodies and for files that are not deals, and the
pipeline's schema: a merge never writes silently a frontmatter the schema refuses that
neither side had (one side's `closed` before the other's new `created`); it leaves a conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pipectl.deal import DealText, parse_yaml, split
from pipectl.dealedit import REMOVE
from pipectl.errors import DealError
from pipectl.schema import Schema
from pipectl.team.mergetext import (
    apply_changes,
    compose,
    merge_items,
    set_touchpoints,
    with_break,
)
from pipectl.yamltext import pair_range, same_value

# (ours, base, theirs): the names written after the conflict markers
Labels = tuple[str, str, str]
# (base, ours, theirs, labels) -> (merged text, clean?)
TextMerge = Callable[[str, str, str, Labels], tuple[str, bool]]

DEFAULT_LABELS: Labels = ("ours", "base", "theirs")
_MISSING: Any = object()
# Lists whose entries both sides add to: united entry by entry (merge_items), never a
# conflict. A task marked done on one side is that side's edit of the entry.
UNITED = ("touchpoints", "tasks")


@dataclass(frozen=True)
class MergeResult:
    """The merged text and what, if anything, conflicted (conflict markers are in the text).

    `refused`: what the schema refuses in the merge of both sides that neither side had; the
    fields it comes from are among the conflicts, left for a person to decide.
    """

    text: str
    conflicts: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.conflicts

    def describe(self) -> str:
        """The conflicts in one line: the fields, and why a merge of them is refused."""
        names = ", ".join(self.conflicts)
        if self.refused:
            names += f" (the merge of both sides is refused: {'; '.join(self.refused)})"
        return names


class _Fallback(Exception):
    """The semantic merge does not apply; merge the whole file as text."""


def merge_deal(
    base: str,
    ours: str,
    theirs: str,
    text_merge: TextMerge,
    labels: Labels = DEFAULT_LABELS,
    marker_size: int = 7,
    schema: Schema | None = None,
) -> MergeResult:
    """Merge three versions of a deal file; the result keeps the formatting of `ours`.

    `base` may be empty (both sides added the file). Files that are not readable deals on
    every side are merged as plain text by `text_merge`. With the pipeline's `schema`, a
    merged value it refuses that neither side had is a conflict, never written silently.
    """
    if ours == theirs or base == theirs:
        return MergeResult(ours)
    if base == ours:
        return MergeResult(theirs)
    try:
        return _Merger(base, ours, theirs, text_merge, labels, marker_size, schema).run()
    except (_Fallback, DealError):
        text, clean = text_merge(base, ours, theirs, labels)
        refused = _refused_text(schema, text, ours, theirs) if clean else ()
        if refused:  # no key to mark in a file merged as text: the whole file is the conflict
            return MergeResult(text, ("file (merged as text)",), refused)
        return MergeResult(text, () if clean else ("file (merged as text)",))


def _refused_text(schema: Schema | None, merged: str, *sides: str) -> tuple[str, ...]:
    """What the schema refuses in a text-merged deal that no side had; () for no deal."""
    if schema is None:
        return ()
    try:
        had = {p.message for side in sides for p in schema.problems(parse_yaml(split(side)))}
        return tuple(
            p.message for p in schema.problems(parse_yaml(split(merged))) if p.message not in had
        )
    except DealError:
        return ()


@dataclass
class _Side:
    text: DealText
    fields: dict[str, Any]

    @classmethod
    def parse(cls, raw: str, empty_ok: bool = False) -> _Side:
        if empty_ok and raw == "":
            return cls(DealText("", "", "", "", "", "\n"), {})
        text = split(raw)
        return cls(text, parse_yaml(text))


class _Merger:
    def __init__(
        self,
        base: str,
        ours: str,
        theirs: str,
        text_merge: TextMerge,
        labels: Labels,
        marker_size: int,
        schema: Schema | None = None,
    ):
        self.b = _Side.parse(base, empty_ok=True)
        self.no_base = base == ""  # the file was added on both sides: no ancestor to count from
        self.o = _Side.parse(ours)
        self.t = _Side.parse(theirs)
        self.text_merge = text_merge
        self.labels = labels
        self.marker_size = marker_size
        self.schema = schema
        self.conflicts: list[tuple[str, ...]] = []
        self.refused: list[str] = []

    def run(self) -> MergeResult:
        changes: dict[str, Any] = {}
        lists: dict[str, list[Any]] = {}  # touchpoints and tasks, united entry by entry
        b, o, t = self.b.fields, self.o.fields, self.t.fields
        for key in _ordered_keys(o, t, b):
            bv, ov, tv = b.get(key, _MISSING), o.get(key, _MISSING), t.get(key, _MISSING)
            if key in UNITED and all(_is_list(v) for v in (bv, ov, tv)):
                merged = merge_items(_as_list(bv), _as_list(ov), _as_list(tv), self.no_base)
                if merged != _as_list(ov):
                    lists[key] = merged
                continue
            pick = _three_way(bv, ov, tv)
            if pick is _KEEP:
                continue
            if pick is not _CONFLICT:
                changes[_settable(key)] = REMOVE if tv is _MISSING else tv
            elif isinstance(ov, dict) and isinstance(tv, dict) and _is_dict(bv):
                self._merge_mapping(key, {} if bv is _MISSING else bv, ov, tv, changes)
            elif key == "tags" and all(_is_scalar_list(v) for v in (bv, ov, tv)):
                changes["tags"] = _merge_set(_as_list(bv), _as_list(ov), _as_list(tv))
            else:
                self.conflicts.append((_settable(key),))
        text = self._checked(changes, lists)
        body, body_clean = self._merge_body()
        if self.conflicts:
            text = text.with_yaml(self._mark_conflicts(text))
        text = DealText(text.bom, text.head, text.yaml, text.tail, body, text.newline)
        names = [".".join(c) for c in self.conflicts]
        if not body_clean:
            names.append("body")
        return MergeResult(text.render(), tuple(names), tuple(self.refused))

    def _apply(self, changes: dict[str, Any], lists: dict[str, list[Any]]) -> DealText:
        text = apply_changes(self.o.text, self.t.text, changes)
        for key, merged in lists.items():
            text = set_touchpoints(text, merged, self.t.text, key)
        return text

    def _checked(self, changes: dict[str, Any], lists: dict[str, list[Any]]) -> DealText:
        """Ours with theirs' changes, less those that together with ours make a frontmatter
        the schema refuses and neither side had: their fields keep ours' value and become
        conflicts, so a person decides (git's line merge would take both silently)."""
        text = self._apply(changes, lists)
        if self.schema is None:
            return text
        known = {p.message for side in (self.o, self.t) for p in self.schema.problems(side.fields)}
        while True:
            merged = parse_yaml(text)
            new = [p for p in self.schema.problems(merged) if p.message not in known]
            if not new:
                return text
            problem = new[0]
            known.add(problem.message)  # each once: the loop ends
            self.refused.append(problem.message)
            sides = (self.o.fields, self.t.fields)
            for key in _involved(self.schema, merged, sides, problem.message) or [problem.key]:
                for name in [k for k in changes if k == key or k.startswith(f"{key}.")]:
                    del changes[name]
                lists.pop(key, None)
                # the whole field is the conflict: one marked block, not one per sub-key
                self.conflicts = [c for c in self.conflicts if c[0] != key or len(c) == 1]
                if (key,) not in self.conflicts:
                    self.conflicts.append((_settable(key),))
            text = self._apply(changes, lists)

    def _merge_mapping(
        self, key: str, bm: dict[str, Any], om: dict[str, Any], tm: dict[str, Any], changes: dict
    ) -> None:
        for sub in _ordered_keys(om, tm, bm):
            pick = _three_way(bm.get(sub, _MISSING), om.get(sub, _MISSING), tm.get(sub, _MISSING))
            if pick is _KEEP:
                continue
            if pick is _CONFLICT:
                self.conflicts.append((key, _settable(sub)))
            else:
                tv = tm.get(sub, _MISSING)
                changes[f"{_settable(key)}.{_settable(sub)}"] = REMOVE if tv is _MISSING else tv

    def _merge_body(self) -> tuple[str, bool]:
        bb, ob, tb = self.b.text.body, self.o.text.body, self.t.text.body
        if ob == tb or tb == bb:
            return ob, True
        if ob == bb:
            return tb, True
        return self.text_merge(bb, ob, tb, self.labels)

    def _mark_conflicts(self, text: DealText) -> str:
        """Wrap each conflicting pair in git-style markers: invalid YAML until resolved."""
        s, nl = text.yaml, text.newline
        theirs = self.t.text.yaml
        ours_root, theirs_root = compose(s), compose(theirs)
        edits: dict[tuple[int, int], tuple[str, str]] = {}
        for path in self.conflicts:
            ours_at = pair_range(s, ours_root, path)
            theirs_at = pair_range(theirs, theirs_root, path)
            if ours_at is None or theirs_at is None:
                # a flow-style mapping: the conflict covers the whole top-level key
                path = path[:1]
                ours_at = pair_range(s, ours_root, path)
                theirs_at = pair_range(theirs, theirs_root, path)
            if ours_at is None or theirs_at is None:
                raise _Fallback
            theirs_text = with_break(theirs[theirs_at[0] : theirs_at[1]], nl)
            # pairs missing on our side all go where the mapping ends: one block for them
            mine, other = edits.get(ours_at, ("", ""))
            if not mine:
                mine = s[ours_at[0] : ours_at[1]]
            if theirs_text not in other:
                other += theirs_text
            edits[ours_at] = (mine, other)
        out = s
        ours_label, _base_label, theirs_label = self.labels
        for (start, end), (mine, other) in sorted(edits.items(), reverse=True):
            block = (
                f"{'<' * self.marker_size} {ours_label}{nl}"
                + mine
                + f"{'=' * self.marker_size}{nl}"
                + other
                + f"{'>' * self.marker_size} {theirs_label}{nl}"
            )
            out = out[:start] + block + out[end:]
        return out


def _involved(schema: Schema, merged: dict[str, Any], sides: Sequence[dict], msg: str) -> list[str]:
    """The fields whose value, put back to either side's, makes the problem `msg` go away."""
    out = []
    for key in _ordered_keys(merged, *sides):
        for side in sides if isinstance(key, str) else ():
            other = side.get(key, _MISSING)
            if _same(merged.get(key, _MISSING), other):
                continue
            trial = {k: v for k, v in merged.items() if k != key}
            if other is not _MISSING:
                trial[key] = other
            if all(p.message != msg for p in schema.problems(trial)):
                out.append(key)
                break
    return out


# --- values, three ways ---------------------------------------------------------------------

_KEEP: Any = object()
_TAKE: Any = object()
_CONFLICT: Any = object()


def _three_way(base: Any, ours: Any, theirs: Any) -> Any:
    if _same(ours, theirs) or _same(base, theirs):
        return _KEEP
    if _same(base, ours):
        return _TAKE
    return _CONFLICT


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    return same_value(a, b)


def _ordered_keys(*maps: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for m in maps:
        for k in m:
            seen.setdefault(k, None)
    return list(seen)


def _settable(key: Any) -> str:
    """A key that set_fields can address; anything else is merged as text."""
    if not isinstance(key, str) or "." in key or not key:
        raise _Fallback
    return key


def _is_list(v: Any) -> bool:
    return v is _MISSING or v is None or isinstance(v, list)


def _is_dict(v: Any) -> bool:
    return v is _MISSING or isinstance(v, dict)


def _is_scalar_list(v: Any) -> bool:
    return _is_list(v) and all(isinstance(x, str | int | float) for x in _as_list(v))


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _merge_set(base: list[Any], ours: list[Any], theirs: list[Any]) -> list[Any]:
    """Tags as a set: ours' order, plus what theirs added, minus what either removed."""
    removed = {x for x in base if x not in ours or x not in theirs}
    out = [x for x in ours if x not in removed]
    out += [x for x in theirs if x not in out and x not in removed]
    return out
