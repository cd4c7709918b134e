"""The semantic three-way merge of deal files: touchpoints united, fields three-way, body by text.

Pure functions over texts: no git, no files, no printing. The caller supplies the line-based
text merge (git's own, in practice) used for bodies and for files that are not deals, and the
pipeline's schema: a merge never writes silently a frontmatter the schema refuses that
neither side had (one side's `closed` before the other's new `created`); it leaves a conflict.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from pipectl import yamlio
from pipectl.deal import DealText, parse_yaml, split
from pipectl.dealedit import REMOVE, append_item, flow, parses_to, set_fields
from pipectl.errors import DealError
from pipectl.schema import Schema
from pipectl.yamltext import find_pair, line_end, pair_range, same_value

# (ours, base, theirs): the names written after the conflict markers
Labels = tuple[str, str, str]
# (base, ours, theirs, labels) -> (merged text, clean?)
TextMerge = Callable[[str, str, str, Labels], tuple[str, bool]]

DEFAULT_LABELS: Labels = ("ours", "base", "theirs")
_MISSING: Any = object()


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
        touchpoints: list[Any] | None = None
        b, o, t = self.b.fields, self.o.fields, self.t.fields
        for key in _ordered_keys(o, t, b):
            bv, ov, tv = b.get(key, _MISSING), o.get(key, _MISSING), t.get(key, _MISSING)
            if key == "touchpoints" and all(_is_list(v) for v in (bv, ov, tv)):
                merged = merge_items(_as_list(bv), _as_list(ov), _as_list(tv), self.no_base)
                if merged != _as_list(ov):
                    touchpoints = merged
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
        text = self._checked(changes, touchpoints)
        body, body_clean = self._merge_body()
        if self.conflicts:
            text = text.with_yaml(self._mark_conflicts(text))
        text = DealText(text.bom, text.head, text.yaml, text.tail, body, text.newline)
        names = [".".join(c) for c in self.conflicts]
        if not body_clean:
            names.append("body")
        return MergeResult(text.render(), tuple(names), tuple(self.refused))

    def _apply(self, changes: dict[str, Any], touchpoints: list[Any] | None) -> DealText:
        text = apply_changes(self.o.text, self.t.text, changes)
        if touchpoints is not None:
            text = set_touchpoints(text, touchpoints, self.t.text)
        return text

    def _checked(self, changes: dict[str, Any], touchpoints: list[Any] | None) -> DealText:
        """Ours with theirs' changes, less those that together with ours make a frontmatter
        the schema refuses and neither side had: their fields keep ours' value and become
        conflicts, so a person decides (git's line merge would take both silently)."""
        text = self._apply(changes, touchpoints)
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
                if key == "touchpoints":
                    touchpoints = None
                # the whole field is the conflict: one marked block, not one per sub-key
                self.conflicts = [c for c in self.conflicts if c[0] != key or len(c) == 1]
                if (key,) not in self.conflicts:
                    self.conflicts.append((_settable(key),))
            text = self._apply(changes, touchpoints)

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
        ours_root, theirs_root = _compose(s), _compose(theirs)
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
            theirs_text = _with_break(theirs[theirs_at[0] : theirs_at[1]], nl)
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


def apply_changes(text: DealText, theirs: DealText, changes: dict[str, Any]) -> DealText:
    """Take theirs' changed keys into ours: theirs' own lines where they fit, else dealedit's."""
    for key, value in changes.items():
        spliced = None if value is REMOVE else _splice(text, theirs, tuple(key.split(".")), value)
        text = spliced if spliced is not None else set_fields(text, {key: value})
    return text


def _splice(text: DealText, theirs: DealText, path: tuple[str, ...], value: Any) -> DealText | None:
    """Ours with theirs' lines for `path` in place of its own, if that reads as `value`."""
    mine = pair_range(text.yaml, _compose(text.yaml), path)
    other = pair_range(theirs.yaml, _compose(theirs.yaml), path)
    if mine is None or other is None or other[0] == other[1]:
        return None
    if mine[0] == mine[1] and len(path) == 1:
        return None  # a new top-level key: dealedit knows where new keys go
    expected = parse_yaml(text)
    _set_path(expected, path, value)
    chunk = _with_break(theirs.yaml[other[0] : other[1]], text.newline)
    candidate = text.with_yaml(text.yaml[: mine[0]] + chunk + text.yaml[mine[1] :])
    return candidate if parses_to(candidate, expected) else None


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    if len(path) == 1:
        data[path[0]] = value
        return
    inner = data.get(path[0])
    if not isinstance(inner, dict):
        inner = data[path[0]] = {}
    inner[path[1]] = value


# --- touchpoints ----------------------------------------------------------------------------


def item_key(item: Any) -> str:
    """Two touchpoints are the same entry when all their fields are equal."""
    return json.dumps(item, sort_keys=True, default=str, ensure_ascii=False)


def merge_items(
    base: Sequence[Any], ours: Sequence[Any], theirs: Sequence[Any], no_base: bool = False
) -> list[Any]:
    """Touchpoints of both sides united, ordered by date.

    Three-way per entry, counting equal entries: what each side logged is kept, also when both
    logged the same entry (two people made the same call: two touchpoints, as README promises);
    an entry of the common ancestor is never doubled; one deleted (or edited) on a side is gone,
    and deleted on both sides is deleted once. `no_base`: the deal was added on both sides (no
    ancestor), so an entry both have is taken as their common origin, kept once. Entries of the
    same date keep ours' order first.
    """
    cb, co, ct = (Counter(item_key(x) for x in side) for side in (base, ours, theirs))
    want = {}
    for k in co.keys() | ct.keys():
        b, o, t = cb[k], co[k], ct[k]
        if no_base:
            want[k] = max(o, t)
            continue
        added = max(o - b, 0) + max(t - b, 0)
        deleted = max(b - o, b - t, 0)  # the same base entry deleted on both sides: once
        want[k] = b + added - deleted
    out: list[Any] = []
    for item in (*ours, *theirs):
        k = item_key(item)
        if want.get(k, 0) > 0:
            want[k] -= 1
            out.append(item)
    kept = sum(1 for item in out[: len(ours)] if any(item is o for o in ours))
    if _by_date(list(base)) != list(base):  # the file kept its own order already: respect it
        return out[:kept] + _by_date(out[kept:])
    return _by_date(out)


def _by_date(items: list[Any]) -> list[Any]:
    """Stable sort by date; an entry without a readable date stays after its predecessor."""
    keyed = []
    last = dt.date.min
    for i, item in enumerate(items):
        when = yamlio.to_date(item.get("date")) if isinstance(item, dict) else None
        last = when or last
        keyed.append((last, i, item))
    return [item for _d, _i, item in sorted(keyed, key=lambda x: (x[0], x[1]))]


def set_touchpoints(text: DealText, merged: list[Any], theirs: DealText) -> DealText:
    """Write the merged touchpoints into `text`, reusing each entry's own lines where it can."""
    expected = parse_yaml(text)
    if not expected.get("touchpoints"):
        for item in merged:
            text = append_item(text, "touchpoints", item)
        return text
    expected["touchpoints"] = merged
    candidate = _rewrite_block(text, merged, theirs)
    if candidate is not None and parses_to(candidate, expected):
        return candidate
    # ours has no block list to reuse (absent, empty, flow style): dealedit writes it
    return set_fields(text, {"touchpoints": merged})


def _chunks(yaml_text: str) -> tuple[list[tuple[str, str, str]], int, int, str] | None:
    """Each entry of the block `touchpoints:` list as (key, text, dash prefix).

    Also the range of the whole list and the prefix of its first entry. Comment lines after
    an entry travel with it.
    """
    root = _compose(yaml_text)
    if root is None:
        return None
    pair = find_pair(root, "touchpoints")
    if pair is None or not isinstance(pair[1], yaml.SequenceNode) or pair[1].flow_style:
        return None
    nodes = pair[1].value
    if not nodes:
        return None
    starts = [yaml_text.rfind("\n", 0, n.start_mark.index) + 1 for n in nodes]
    end = line_end(yaml_text, nodes[-1].end_mark.index)
    out = []
    data = yamlio.load(yaml_text)["touchpoints"]
    for i, node in enumerate(nodes):
        stop = starts[i + 1] if i + 1 < len(nodes) else end
        chunk = yaml_text[starts[i] : stop]
        prefix = yaml_text[starts[i] : node.start_mark.index]
        if prefix.strip() != "-":
            return None
        out.append((item_key(data[i]), chunk, prefix))
    return out, starts[0], end, out[0][2]


def _rewrite_block(text: DealText, merged: list[Any], theirs: DealText) -> DealText | None:
    mine = _chunks(text.yaml)
    if mine is None:
        return None
    entries, start, end, prefix = mine
    other = _chunks(theirs.yaml)
    pool: dict[str, list[str]] = {}
    for k, chunk, _p in entries:
        pool.setdefault(k, []).append(chunk)
    for k, chunk, p in other[0] if other else []:
        if p == prefix:
            pool.setdefault(k, []).append(_with_break(chunk, text.newline))
    lines = []
    for item in merged:
        k = item_key(item)
        if pool.get(k):
            lines.append(pool[k].pop(0))
        else:
            lines.append(f"{prefix}{flow(item)}{text.newline}")
    s = text.yaml
    return text.with_yaml(s[:start] + "".join(lines) + s[end:])


# --- frontmatter text: its pairs are located by pipectl/yamltext.py ------------------------


def _compose(yaml_text: str) -> Any:
    """The mapping node of a text, with the marks yamltext reads; None when it has none."""
    node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    return node if isinstance(node, yaml.MappingNode) else None


def _with_break(chunk: str, nl: str) -> str:
    """Another side's lines in our line-break style, ending with a break."""
    if not chunk:
        return chunk
    if not chunk.endswith("\n"):
        chunk += "\n"
    return chunk.replace("\r\n", "\n").replace("\n", nl)
