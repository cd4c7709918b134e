"""The merged values written back into a deal's text: theirs' own lines where they fit.

Pure text work for pipectl/team/merge.py, which decides what the merged frontmatter holds;
this module only finds a text that reads as it, reusing each side's lines so a merge changes
no byte it need not. No git, no files, no printing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import yaml

from pipectl import yamlio
from pipectl.deal import DealText, parse_yaml
from pipectl.dealedit import REMOVE, append_item, flow, parses_to, set_fields
from pipectl.yamltext import find_pair, line_end, pair_range


def apply_changes(text: DealText, theirs: DealText, changes: dict[str, Any]) -> DealText:
    """Take theirs' changed keys into ours: theirs' own lines where they fit, else dealedit's."""
    for key, value in changes.items():
        spliced = None if value is REMOVE else _splice(text, theirs, tuple(key.split(".")), value)
        text = spliced if spliced is not None else set_fields(text, {key: value})
    return text


def _splice(text: DealText, theirs: DealText, path: tuple[str, ...], value: Any) -> DealText | None:
    """Ours with theirs' lines for `path` in place of its own, if that reads as `value`."""
    mine = pair_range(text.yaml, compose(text.yaml), path)
    other = pair_range(theirs.yaml, compose(theirs.yaml), path)
    if mine is None or other is None or other[0] == other[1]:
        return None
    if mine[0] == mine[1] and len(path) == 1:
        return None  # a new top-level key: dealedit knows where new keys go
    expected = parse_yaml(text)
    _set_path(expected, path, value)
    chunk = with_break(theirs.yaml[other[0] : other[1]], text.newline)
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


def set_touchpoints(
    text: DealText, merged: list[Any], theirs: DealText, key: str = "touchpoints"
) -> DealText:
    """Write the merged entries of the list `key` (touchpoints, tasks) into `text`, reusing
    each entry's own lines where it can."""
    expected = parse_yaml(text)
    if not expected.get(key):
        for item in merged:
            text = append_item(text, key, item)
        return text
    expected[key] = merged
    candidate = _rewrite_block(text, merged, theirs, key)
    if candidate is not None and parses_to(candidate, expected):
        return candidate
    # ours has no block list to reuse (absent, empty, flow style): dealedit writes it
    return set_fields(text, {key: merged})


def _chunks(
    yaml_text: str, key: str = "touchpoints"
) -> tuple[list[tuple[str, str, str]], int, int, str] | None:
    """Each entry of the block list `key` (`touchpoints:`) as (key, text, dash prefix).

    Also the range of the whole list and the prefix of its first entry. Comment lines after
    an entry travel with it.
    """
    root = compose(yaml_text)
    if root is None:
        return None
    pair = find_pair(root, key)
    if pair is None or not isinstance(pair[1], yaml.SequenceNode) or pair[1].flow_style:
        return None
    nodes = pair[1].value
    if not nodes:
        return None
    starts = [yaml_text.rfind("\n", 0, n.start_mark.index) + 1 for n in nodes]
    end = line_end(yaml_text, nodes[-1].end_mark.index)
    out = []
    data = yamlio.load(yaml_text)[key]
    for i, node in enumerate(nodes):
        stop = starts[i + 1] if i + 1 < len(nodes) else end
        chunk = yaml_text[starts[i] : stop]
        prefix = yaml_text[starts[i] : node.start_mark.index]
        if prefix.strip() != "-":
            return None
        out.append((item_key(data[i]), chunk, prefix))
    return out, starts[0], end, out[0][2]


def _rewrite_block(
    text: DealText, merged: list[Any], theirs: DealText, key: str
) -> DealText | None:
    mine = _chunks(text.yaml, key)
    if mine is None:
        return None
    entries, start, end, prefix = mine
    other = _chunks(theirs.yaml, key)
    pool: dict[str, list[str]] = {}
    for k, chunk, _p in entries:
        pool.setdefault(k, []).append(chunk)
    for k, chunk, p in other[0] if other else []:
        if p == prefix:
            pool.setdefault(k, []).append(with_break(chunk, text.newline))
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


def compose(yaml_text: str) -> Any:
    """The mapping node of a text, with the marks yamltext reads; None when it has none."""
    node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    return node if isinstance(node, yaml.MappingNode) else None


def with_break(chunk: str, nl: str) -> str:
    """Another side's lines in our line-break style, ending with a break."""
    if not chunk:
        return chunk
    if not chunk.endswith("\n"):
        chunk += "\n"
    return chunk.replace("\r\n", "\n").replace("\n", nl)
