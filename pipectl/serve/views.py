"""What the pages show, read through the same functions the CLI's commands use.

Plain values for `pages.py`: the board's columns (`daily.board`), a deal with its findings
and history (`history`, `fielddiff`), the agenda (`daily.agenda`), search hits (`search`), the
dashboard (`report`, `render.html`). Never writes; never renders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from pipectl import dates, lint
from pipectl.daily import agenda as daily_agenda
from pipectl.daily import board as daily_board
from pipectl.deal import Deal
from pipectl.lint import Finding
from pipectl.owners import owner_filter
from pipectl.store import DealRef, Pipeline


def deal_version(data: bytes) -> str:
    """The version a page was rendered from: the file's bytes hashed (any edit changes it)."""
    return hashlib.sha256(data).hexdigest()[:16]


def pipeline_version(pipeline: Pipeline) -> str:
    """A cheap fingerprint of the pipeline on disk: every deal file's name, size and mtime,
    pipeline.yaml's, and git's HEAD; a hand edit, a commit or a `git pull` changes it."""
    digest = hashlib.sha256()
    paths = [pipeline.root / "pipeline.yaml"] + [r.path for r in pipeline.deal_refs()]
    if pipeline.git is not None:  # read from git's files, no process
        digest.update((pipeline.git.head_commit() or "-").encode())
    for path in sorted(paths):
        try:
            st = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class BoardView:
    today: dt.date
    columns: tuple[daily_board.Column, ...]
    versions: dict[str, str]  # deal id -> version of its file
    titles: dict[str, str]  # deal id -> its title, for a card without a company
    currency: str
    owner: str | None
    owners: tuple[str, ...]
    overdue: frozenset[str]  # deals with an overdue task
    skipped: tuple[str, ...] = ()  # files that did not parse, each its error's one line


def findings(pipeline: Pipeline, today: dt.date, arrivals: Any = None) -> list[Finding]:
    """Every rule's findings, as `pipectl lint` gives them (the board's badges too)."""
    return list(lint.run(pipeline, today, arrivals=arrivals).findings)


def board(pipeline: Pipeline, owner: str | None = None, all_stages: bool = False) -> BoardView:
    """The board as `pipectl board` computes it: arrivals from one git pass, every rule's
    flags, totals in the base currency through rates.csv."""
    from pipectl import tasks
    from pipectl.history import read_arrivals
    from pipectl.rates import read_rates

    config = pipeline.config
    today = dates.today(None)
    stages = config.stages if all_stages else config.open_stages
    loaded = pipeline.load([s.name for s in stages])
    arrivals = read_arrivals(pipeline.git, pipeline.root, pipeline.at)
    flags = daily_board.flags_by_deal(findings(pipeline, today, arrivals))
    who = owner_filter(owner, config.team)
    rates = read_rates(pipeline).checked()
    columns = daily_board.board(
        loaded.deals, stages, today, flags, who, config=config, arrivals=arrivals, rates=rates
    )
    versions = {d.id: deal_version(pipeline.read_bytes(_ref(d))) for d in loaded.deals}
    overdue = frozenset(d.id for d in loaded.deals if tasks.overdue_tasks(d, today))
    owners = tuple(sorted({d.owner for d in loaded.deals if d.owner}))
    titles = {d.id: d.title for d in loaded.deals}
    skipped = tuple(str(err) for err in loaded.errors)  # as `board` warns "skipped ..."
    return BoardView(
        today, columns, versions, titles, config.currency, who, owners, overdue, skipped
    )


def _ref(deal: Deal) -> DealRef:
    return DealRef(deal.id, deal.stage, deal.path)


@dataclass(frozen=True)
class DealView:
    deal: Deal
    version: str
    body: str
    findings: tuple[Finding, ...]
    history: tuple[tuple[Any, str], ...]  # (event, its words with old → new values)
    today: dt.date


def deal(pipeline: Pipeline, ref_text: str) -> DealView:
    """One deal as `show` and `history DEAL` tell it, with lint's findings on it."""
    ref = pipeline.resolve(ref_text)
    data = pipeline.read_bytes(ref)
    text = pipeline.read_text(ref)
    d = pipeline.read_deal(ref)
    today = dates.today(None)
    mine = tuple(f for f in findings(pipeline, today) if f.deal_id == d.id)
    return DealView(d, deal_version(data), text.body, mine, _history(pipeline, d.id), today)


def _history(pipeline: Pipeline, deal_id: str) -> tuple[tuple[Any, str], ...]:
    """The deal's events, newest first, each field's old → new as `history DEAL` says it."""
    if pipeline.git is None:
        return ()
    from pipectl import fielddiff
    from pipectl import history as hist_mod
    from pipectl.render.report import describe

    hist = hist_mod.read(pipeline.git, pipeline.root, None)
    events = hist_mod.with_fields(pipeline.git, hist.of(deal_id))
    keys = fielddiff.read_blobs(pipeline.git, events)
    told = [(e, describe(e, fielddiff.of_event(e, keys))) for e in events]
    return tuple(reversed(told))


def agenda(pipeline: Pipeline, owner: str | None) -> tuple[daily_agenda.Agenda, tuple[str, ...]]:
    """The day's plan for one owner (None or 'all': everyone), and the owners to pick from."""
    config = pipeline.config
    loaded = pipeline.load([s.name for s in config.open_stages])
    who = owner_filter(owner, config.team)
    owners = tuple(sorted({d.owner for d in loaded.deals if d.owner}))
    return daily_agenda.agenda(loaded.deals, config, dates.today(None), who), owners


def search(pipeline: Pipeline, query: str) -> list[Any]:
    """`pipectl search QUERY` over every stage."""
    from pipectl import search as kernel

    loaded = pipeline.load()

    def read(d: Deal) -> str | None:
        try:
            return pipeline.read_text(_ref(d)).render()
        except Exception:  # an unreadable file: its frontmatter is still searched
            return None

    return kernel.search(loaded.deals, query, read)


def dashboard(pipeline: Pipeline) -> str:
    """The page `pipectl report --html` writes, computed as `report` computes it."""
    from pipectl import history as hist_mod
    from pipectl import report as report_mod
    from pipectl.rates import read_rates
    from pipectl.render.html import dashboard as page

    today = dates.today(None)
    hist = hist_mod.read(pipeline.git, pipeline.root, None, pipeline.at)
    loaded = pipeline.load()
    rates = read_rates(pipeline).checked()
    fig = report_mod.report(loaded.deals, pipeline.config, hist, today, rates=rates)
    return page(fig, [asdict(f) for f in findings(pipeline, today)])
