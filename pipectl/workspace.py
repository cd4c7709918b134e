"""A workspace: one repository (or folder) holding several pipelines, each a folder with its
own pipeline.yaml (`sales/`, `partners/`).

The pipelines are those a root `pipectl.yaml` lists (`WORKSPACE_SPEC`, docs/workspace.md),
or, when there is none, every folder holding a pipeline.yaml found below the workspace root
(hidden folders skipped, never below a pipeline: its stage folders hold deals). A pipeline's
name is its folder relative to the workspace root (`.` for the root itself). Never prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from pipectl.config import CONFIG_FILE, yaml_mapping
from pipectl.configspec import Invalid, SpecEntry, Stage
from pipectl.errors import ConfigError, UsageError
from pipectl.figures import Money, num
from pipectl.gitrepo import find_git_root
from pipectl.report import Report
from pipectl.store import Pipeline, read_regular
from pipectl.yamltext import line_of

WORKSPACE_FILE = "pipectl.yaml"
# pipectl.yaml is a short list: anything bigger is not one
MAX_WORKSPACE_BYTES = 1 << 20
# discovery looks this many folders deep below the root (`teams/emea/sales/pipeline.yaml`)
DISCOVERY_DEPTH = 4


def _pipelines(value: Any, _stages: tuple[Stage, ...] = ()) -> tuple[str, ...] | None:
    """The listed folders, each a relative path inside the workspace, once each."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise Invalid("must be a non-empty list of folders")
    seen: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise Invalid(f"{item!r} is not a folder name")
        name = PurePosixPath(item.strip().rstrip("/") or ".").as_posix()
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or "\\" in name:
            raise Invalid(f"{item!r} must be a folder inside the workspace (no /, .. or \\)")
        if name in seen:
            raise Invalid(f"{name!r} is listed twice")
        seen.append(name)
    return tuple(seen)


# The keys of pipectl.yaml, as configspec's entries are for pipeline.yaml: the one source of
# the check and of docs/workspace.md's table (`python -m pipectl.workspace`).
WORKSPACE_SPEC: tuple[SpecEntry, ...] = (
    SpecEntry(
        "pipelines",
        "list of folders",
        None,
        "The pipelines of the workspace, each a folder (relative to pipectl.yaml's folder, "
        "`/` between parts) holding its own pipeline.yaml; listed order is the order of "
        "`--all` output. Unset: every pipeline.yaml below the root is found.",
        "pipelines",
        _pipelines,
    ),
)


@dataclass(frozen=True)
class Member:
    """One pipeline of a workspace: its name (folder relative to the root) and folder."""

    name: str
    root: Path

    def open(self) -> Pipeline:
        return Pipeline(self.root)


@dataclass(frozen=True)
class Workspace:
    """The workspace root, its pipelines in order, and whether pipectl.yaml listed them."""

    root: Path
    members: tuple[Member, ...]
    declared: bool

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members)

    def member(self, name: str) -> Member:
        wanted = PurePosixPath(name.strip().rstrip("/") or ".").as_posix()
        for m in self.members:
            if m.name == wanted:
                return m
        raise UsageError(f"no pipeline {name!r} in this workspace (pipelines: {self.listing})")

    def member_of(self, pipeline_root: Path) -> Member | None:
        real = pipeline_root.resolve()
        return next((m for m in self.members if m.root.resolve() == real), None)

    def pipelines(self) -> Iterator[tuple[str, Pipeline]]:
        """Each pipeline opened in order: a bad pipeline.yaml is its own error, named."""
        for m in self.members:
            yield m.name, m.open()

    @property
    def listing(self) -> str:
        """The pipelines' names for a message: the first eight, then how many more."""
        names = self.names
        more = f", and {len(names) - 8} more" if len(names) > 8 else ""
        return ", ".join(names[:8]) + more

    def split_target(self, target: str) -> tuple[Member, str] | None:
        """`PIPELINE/STAGE` as (pipeline, stage); None when no pipeline's name is its head."""
        head, sep, stage = target.rstrip("/").rpartition("/")
        if not sep or not stage:
            return None
        for m in self.members:
            if m.name == PurePosixPath(head).as_posix():
                return m, stage
        return None


def find(start: Path) -> Workspace | None:
    """The workspace around `start`: the nearest folder at or above it holding pipectl.yaml,
    else the pipelines found below its git work tree's root (none outside git); None when
    that finds no pipeline at all."""
    start = start.resolve()
    for folder in (start, *start.parents):
        spec = folder / WORKSPACE_FILE
        if spec.is_symlink() or (spec.exists() and not spec.is_dir()):
            return load(folder)
    root = find_git_root(start)
    if root is None:  # a folder outside git is a workspace only by its pipectl.yaml: no walk
        return None  # of a home or `/` for every pipeline.yaml it holds
    found = discover(root)
    return Workspace(root, found, False) if found else None


def require(start: Path) -> Workspace:
    """`find`, or a usage error saying what a workspace is."""
    found = find(start)
    if found is None:
        raise UsageError(
            f"no pipelines in or below {start.resolve()}: a workspace is a folder whose "
            f"subfolders hold a {CONFIG_FILE} each, or that lists them in {WORKSPACE_FILE}"
        )
    return found


def load(root: Path) -> Workspace:
    """The workspace pipectl.yaml at `root` declares (discovery when it lists none); every
    fault names the file and line."""
    path = root / WORKSPACE_FILE
    shown = _display(path)
    data = read_regular(path, shown, follow=False, limit=MAX_WORKSPACE_BYTES, kind=WORKSPACE_FILE)
    parsed, text = yaml_mapping(data, shown)
    known = {e.key for e in WORKSPACE_SPEC}
    for key in parsed:
        if key not in known:
            where = line_of(text, [str(key)])
            raise ConfigError(
                f"{key}: unknown key (known: {', '.join(sorted(known))})", shown, where
            )
    values: dict[str, Any] = {}
    for entry in WORKSPACE_SPEC:
        try:
            values[entry.attr] = entry.check(parsed.get(entry.key, entry.default), ())
        except Invalid as exc:
            where = line_of(text, [entry.key, *([] if exc.key is None else [exc.key])])
            raise ConfigError(f"{entry.key}: {exc.message}", shown, where) from None
    listed: tuple[str, ...] | None = values["pipelines"]
    if listed is None:
        return Workspace(root, discover(root), True)
    members = []
    for i, name in enumerate(listed):
        folder = root / name
        if not (folder / CONFIG_FILE).is_file():
            where = line_of(text, ["pipelines", i])
            raise ConfigError(f"pipelines: {name!r} holds no {CONFIG_FILE}", shown, where)
        members.append(Member(name, folder))
    return Workspace(root, tuple(members), True)


def discover(root: Path, depth: int = DISCOVERY_DEPTH) -> tuple[Member, ...]:
    """Every folder at or below `root` holding a pipeline.yaml, sorted by name; hidden
    folders and a pipeline's own subfolders are not searched."""
    found: list[Member] = []

    def walk(folder: Path, left: int) -> None:
        try:
            holds = (folder / CONFIG_FILE).is_file()
        except OSError:  # a folder we may not look into (`/proc/1/fdinfo`) holds none we read
            holds = False
        if holds:
            name = folder.relative_to(root).as_posix()
            found.append(Member(name or ".", folder))
            return
        if left == 0:
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return  # a folder that cannot be listed holds no pipeline we could read
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            walk(Path(entry.path), left - 1)

    walk(root, depth)
    return tuple(found)


def _display(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


@dataclass(frozen=True)
class Total:
    """The workspace's figures that add up across pipelines: counts and amounts of the
    pipelines' own reports summed (Decimal, then rounded as the report rounds), the win rate
    of the summed counts. Stage, funnel and cycle figures stay per pipeline: their stages
    differ."""

    currency: str
    pipelines: tuple[str, ...]
    deal_count: int
    open_count: int
    open_value: Money
    weighted_value: Money
    won_count: int
    won_value: Money
    lost_count: int
    lost_value: Money
    win_rate: float | None
    unconverted_count: int  # deals with no rate into `currency`: counted, in no sum


def total(parts: Sequence[tuple[str, Report]]) -> Total:
    """The sum of the pipelines' reports; a usage error when their currencies differ
    (amounts are never added across currencies: `report --all --currency CODE` converts each
    pipeline through its own rates.csv first)."""
    currencies = {name: r.currency for name, r in parts}
    if len(set(currencies.values())) > 1:
        each = ", ".join(f"{n}: {c}" for n, c in currencies.items())
        raise UsageError(
            f"the pipelines report in different currencies ({each}): pass --currency CODE to "
            "convert each through its rates.csv, or set one base_currency in every pipeline.yaml"
        )

    def add(values: Iterable[Money]) -> Money:
        return num(float(sum((Decimal(str(v)) for v in values if v is not None), Decimal(0))))

    reports = [r for _n, r in parts]
    won = sum(r.outcomes.won_count for r in reports)
    lost = sum(r.outcomes.lost_count for r in reports)
    return Total(
        currency=next(iter(currencies.values()), ""),
        pipelines=tuple(n for n, _r in parts),
        deal_count=sum(r.deal_count for r in reports),
        open_count=sum(r.open_count for r in reports),
        open_value=add(r.open_value for r in reports),
        weighted_value=add(r.weighted_value for r in reports),
        won_count=won,
        won_value=add(r.outcomes.won_value for r in reports),
        lost_count=lost,
        lost_value=add(r.outcomes.lost_value for r in reports),
        win_rate=won / (won + lost) if won + lost else None,  # as figures.outcome_figures
        unconverted_count=sum(len(r.unconverted) for r in reports),
    )


def spec_markdown() -> str:
    """The table of pipectl.yaml's keys, from WORKSPACE_SPEC (in docs/workspace.md)."""
    import json

    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for e in WORKSPACE_SPEC:
        doc = e.doc.replace("|", "\\|")
        lines.append(f"| `{e.key}` | {e.kind} | `{json.dumps(e.default)}` | {doc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(spec_markdown(), end="")
