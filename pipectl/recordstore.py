"""Account and contact records on disk: the one loader of them, lookup by id, and `add`.

Reads go through the pipeline's careful reader (`Pipeline.read_bytes`'s refusals: links out,
FIFOs, devices, huge files); a file that does not parse is an error in the result, never an
exception. `add` writes through `Pipeline.change()`: one commit, the usual message.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipectl import owners
from pipectl.deal import slugify
from pipectl.dealedit import new_deal_text
from pipectl.errors import DealError, UsageError
from pipectl.records import Kind, Record, check_id, parse_record, problems
from pipectl.store import DealRef, Pipeline


@dataclass
class Records:
    """The records of one kind that parsed, and the files that did not."""

    records: list[Record] = field(default_factory=list)
    errors: list[DealError] = field(default_factory=list)

    def by_id(self) -> dict[str, Record]:
        return {r.id: r for r in self.records}


def folder(pipeline: Pipeline, kind: Kind) -> Path:
    return pipeline.root / kind.folder


def path_of(pipeline: Pipeline, kind: Kind, record_id: str) -> Path:
    return folder(pipeline, kind) / f"{record_id}.md"


def load(pipeline: Pipeline, kind: Kind, relative: bool = False) -> Records:
    """Every record of `kind`, sorted by id; paths as `display` shows them, or relative to
    the root when `relative` (lint's)."""
    out = Records()
    show = (lambda p: p.relative_to(pipeline.root)) if relative else pipeline.display
    where = folder(pipeline, kind)
    if not pipeline.inside(where):
        out.errors.append(DealError("is linked to outside the pipeline; not read", where, 1))
        return out
    try:
        entries = sorted(os.scandir(where), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return out
    except OSError as exc:
        out.errors.append(DealError(f"cannot read folder: {exc.strerror}", where, 1))
        return out
    for entry in entries:
        if not entry.name.endswith(".md") or entry.name.startswith("."):
            continue
        path = Path(entry.path)
        ref = DealRef(path.stem, kind.folder, path)
        try:
            out.records.append(parse_record(pipeline.read_bytes(ref), show(path), kind))
        except DealError as exc:
            out.errors.append(DealError(exc.message, show(path), exc.line or 1))
    return out


def get(pipeline: Pipeline, kind: Kind, ref: str) -> Record:
    """One record by id or unique id prefix; unknown or ambiguous refs say what there is."""
    found = load(pipeline, kind)
    ids = found.by_id()
    if ref in ids:
        return ids[ref]
    matches = [i for i in ids if ref and i.startswith(ref)]
    if len(matches) == 1:
        return ids[matches[0]]
    if matches:
        raise UsageError(f"{ref!r} is ambiguous: {', '.join(matches[:10])}")
    for err in found.errors:
        if err.path is not None and Path(str(err.path)).stem == ref:
            raise err
    close = difflib.get_close_matches(ref, list(ids), n=5, cutoff=0.6)
    hint = f"did you mean: {', '.join(close)}?" if close else f"`pipectl {kind.name} list`"
    raise UsageError(f"no {kind.name} {ref!r}; {hint}")


def record_text(kind: Kind, fields: Mapping[str, Any], body: str | None = None) -> str:
    """A new record file in pipectl's own tidy style, the kind's fields first."""
    order = [f.name for f in kind.fields]
    ordered = {k: fields[k] for k in order if k in fields}
    ordered |= {k: v for k, v in fields.items() if k not in ordered}
    name = str(fields.get("name", "")).strip()
    return new_deal_text(ordered, body if body is not None else f"# {name}\n")


def add(
    pipeline: Pipeline,
    kind: Kind,
    name: str,
    *,
    record_id: str | None = None,
    fields: Mapping[str, Any] | None = None,
    commit: bool = True,
) -> tuple[Path, bool]:
    """A new record file, its id slugged from the name; one commit. (path, committed)."""
    if not name.strip():
        raise UsageError(f"a {kind.name} needs a name")
    record_id = record_id if record_id is not None else slugify(name)
    if not record_id:
        raise UsageError(f"cannot make an id from {name!r}; pass --id")
    why = check_id(kind, record_id)
    if why:
        raise UsageError(why)
    path = path_of(pipeline, kind, record_id)
    if os.path.lexists(path):
        raise UsageError(f"a {kind.name} {record_id!r} exists already ({pipeline.display(path)})")
    data: dict[str, Any] = {"name": name.strip()}
    data |= {k: v for k, v in (fields or {}).items() if v is not None and v != []}
    if kind.name == "account" and data.get("owner") is not None:
        settled, _ = owners.settle_owner(pipeline.config.team, {"owner": data["owner"]})
        data["owner"] = settled.get("owner", data["owner"])
    for _key, why in problems(kind, data):
        raise UsageError(f"{kind.name} {record_id}: {why}")
    with pipeline.change(commit) as ch:
        ch.create(path, record_text(kind, data))
        ch.set_message(
            f"{kind.name} add {record_id}: {name.strip()}",
            f"{kind.name}-add",
            trailers={kind.name.capitalize(): record_id},
        )
    return path, ch.committed
