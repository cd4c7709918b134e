"""Sweep: clear dead leads on a cadence. Find open deals past the sales cycle (PL305) or out
of outreach attempts (PL501), send each one last chance, close those that never answered.

Selection is a pure function of deals, config and today; `sweep()` changes every deal it
touches in one `Pipeline.change()`, so a run is one commit. Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipectl import lint
from pipectl.config import Config
from pipectl.deal import Deal, Touchpoint, parse_yaml
from pipectl.dealedit import append_item, set_fields
from pipectl.errors import ConfigError, DealError, UsageError
from pipectl.ops import closing_stage, move_in
from pipectl.owners import owner_matches
from pipectl.store import Change, DealRef, Pipeline

# A touchpoint whose summary starts with these words is a last-chance message, whether
# sweep logged it or a rep did by hand.
LAST_CHANCE = "Last chance"
NEXT_STEP = "Close as lost unless they answer the last chance"

# Where a candidate stands: no last chance yet; sent and waiting for an answer until the
# deadline; deadline passed with no answer; answered after the last chance (kept).
DUE, WAITING, EXPIRED, ANSWERED = "due", "waiting", "expired", "answered"
STATES = (DUE, WAITING, EXPIRED, ANSWERED)


@dataclass(frozen=True)
class Candidate:
    """A deal sweep is about: why (rule codes and words) and where its last chance stands."""

    deal: Deal
    codes: tuple[str, ...]
    reasons: tuple[str, ...]
    state: str
    last_chance: dt.date | None = None  # the day the last chance went out
    deadline: dt.date | None = None  # after this day, no answer means closed as lost
    answered: dt.date | None = None  # the day of the answer after the last chance


@dataclass(frozen=True)
class SweepResult:
    """What a sweep found and did; `sent`/`closed` are deal ids acted on (or, dry, to act on)."""

    today: dt.date
    candidates: tuple[Candidate, ...]
    sent: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()
    deadline: dt.date | None = None  # the deadline a last chance sent today carries
    dry_run: bool = True
    committed: bool = False
    errors: tuple[DealError, ...] = field(default_factory=tuple)


def is_last_chance(t: Touchpoint) -> bool:
    return t.summary.strip().casefold().startswith(LAST_CHANCE.casefold())


def candidates(deals: Iterable[Deal], config: Config, today: dt.date) -> tuple[Candidate, ...]:
    """Open deals past the sales cycle or out of attempts, in file order, with their state.

    Thresholds are lint's (PL305 `days`, PL501 `attempts`), per stage; a rule turned off for
    a stage picks nothing there.
    """
    kinds = set(lint.setting(config, "PL501", "attempt_kinds"))
    replies = set(config.reply_outcomes)
    open_names = {s.name for s in config.open_stages}
    out: list[Candidate] = []
    for d in deals:
        if d.stage not in open_names:
            continue
        codes: list[str] = []
        reasons: list[str] = []
        cycle = lint.setting(config, "PL305", "days", stage=d.stage)
        created = d.date("created")
        if _on(config, "PL305", d.stage) and created and 0 < cycle < (today - created).days:
            codes.append("PL305")
            reasons.append(f"open {(today - created).days} days, past the {cycle}-day cycle")
        attempts = lint.setting(config, "PL501", "attempts", stage=d.stage)
        run = lint.unanswered_run(d, kinds, replies)
        if _on(config, "PL501", d.stage) and 0 < attempts <= run:
            codes.append("PL501")
            reasons.append(f"{run} attempts in a row without a reply")
        if codes:
            out.append(_standing(d, tuple(codes), tuple(reasons), config, kinds, replies, today))
    return tuple(out)


def _on(config: Config, code: str, stage: str) -> bool:
    return lint.severity(config, code, stage) != "off"


def _standing(
    d: Deal,
    codes: tuple[str, ...],
    reasons: tuple[str, ...],
    config: Config,
    kinds: set[str],
    replies: set[str],
    today: dt.date,
) -> Candidate:
    """Where the deal's latest last chance stands (an answer after it keeps the deal).

    A deal that answered and then let a new run of attempts go unanswered (PL501 again)
    is due another last chance.
    """
    touchpoints = d.touchpoints
    sent_at = next(
        (i for i in reversed(range(len(touchpoints))) if is_last_chance(touchpoints[i])), None
    )
    if sent_at is None:
        return Candidate(d, codes, reasons, DUE)
    sent = touchpoints[sent_at]
    for t in touchpoints[sent_at:]:
        answered = t.outcome is not None and t.outcome in replies
        engaged = t is not sent and t.kind != "note" and t.kind not in kinds
        if (answered or engaged) and "PL501" in codes:
            return Candidate(d, codes, reasons, DUE)
        if answered or engaged:
            return Candidate(d, codes, reasons, ANSWERED, sent.date, None, t.date or sent.date)
    due = d.date("next_step_due")
    if sent.date is not None and (due is None or due < sent.date):
        due = _days_after(sent.date, config.sweep_grace_days) or dt.date.max  # never comes
    state = EXPIRED if due is not None and today > due else WAITING
    return Candidate(d, codes, reasons, state, sent.date, due)


def _days_after(day: dt.date, days: int) -> dt.date | None:
    """`days` after `day`; None past the last date a date can hold."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return None


def sweep(
    pipeline: Pipeline,
    today: dt.date,
    *,
    last_chance: bool = False,
    close: bool = False,
    owner: str | None = None,
    dry_run: bool = False,
    commit: bool = True,
) -> SweepResult:
    """Find candidates; with `last_chance` and/or `close` act on them, all in one commit.

    A dry run (the default when neither action is asked for) reads and changes nothing.
    """
    config = pipeline.config
    lost = _check(pipeline, last_chance, close)
    deadline = _days_after(today, config.sweep_grace_days)
    if deadline is None:  # it would be written as the deals' due date: refuse, never clamp
        raise UsageError(
            f"sweep.grace_days: {config.sweep_grace_days} days after {today} is past the last "
            "date there is (9999-12-31)"
        )
    act = (last_chance or close) and not dry_run
    if not act:
        found, errors = _find(pipeline, today, owner)
        sent, closed = _plan(found, last_chance or not close, close or not last_chance)
        return SweepResult(today, found, sent, closed, deadline, True, False, errors)
    with pipeline.change(commit) as ch:  # read under the lock: what we act on is current
        found, errors = _find(pipeline, today, owner)
        ids = [c.deal.id for c in found]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:  # one id, two files: acting on "the" deal would pick one at random
            raise UsageError(
                f"deal id {', '.join(twice)} is in more than one stage (lint PL104); "
                "keep one file, then sweep again"
            )
        sent, closed = _plan(found, last_chance, close)
        by_id = {c.deal.id: c for c in found}
        for deal_id in sent:
            _send(ch, _ref(pipeline, by_id[deal_id].deal), today, deadline)
        for deal_id in closed:
            assert lost is not None
            ref = _ref(pipeline, by_id[deal_id].deal)
            move_in(ch, ref, lost, when=today, reason=config.sweep_lost_reason)
        _set_message(ch, sent, closed, config.sweep_lost_reason)
    return SweepResult(today, found, sent, closed, deadline, False, ch.committed, errors)


def _check(pipeline: Pipeline, last_chance: bool, close: bool) -> str | None:
    """The lost stage, once the sweep settings are known to fit this pipeline."""
    config = pipeline.config
    kinds, reasons = config.touchpoint_kinds, config.lost_reasons
    if last_chance and kinds and config.sweep_kind not in kinds:
        raise ConfigError(
            f"sweep.kind: {config.sweep_kind!r} is not a touchpoint kind ({', '.join(kinds)})",
            config.path,
        )
    if not close:
        return None
    if reasons and config.sweep_lost_reason not in reasons:
        raise ConfigError(
            f"sweep.lost_reason: {config.sweep_lost_reason!r} is not one of lost_reasons "
            f"({', '.join(reasons)})",
            config.path,
        )
    return closing_stage(pipeline, "lost")


def _find(
    pipeline: Pipeline, today: dt.date, owner: str | None
) -> tuple[tuple[Candidate, ...], tuple[DealError, ...]]:
    loaded = pipeline.load([s.name for s in pipeline.config.open_stages])
    mine = [d for d in loaded.deals if owner_matches(d, owner)]
    return candidates(mine, pipeline.config, today), tuple(loaded.errors)


def _plan(
    found: Sequence[Candidate], last_chance: bool, close: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    sent = tuple(c.deal.id for c in found if last_chance and c.state == DUE)
    closed = tuple(c.deal.id for c in found if close and c.state == EXPIRED)
    return sent, closed


def _ref(pipeline: Pipeline, deal: Deal) -> DealRef:
    return DealRef(deal.id, deal.stage, pipeline.stage_dir(deal.stage) / f"{deal.id}.md")


def _send(ch: Change, ref: DealRef, today: dt.date, deadline: dt.date) -> None:
    """Log the last-chance touchpoint and set the next step: two lines of the file change."""
    pipeline = ch.pipeline
    text = pipeline.read_text(ref)
    parse_yaml(text, pipeline.display(ref.path))  # a broken file is refused with its line
    item: dict[str, Any] = {
        "date": today,
        "kind": pipeline.config.sweep_kind,
        "summary": f"{LAST_CHANCE}: closing the file unless we hear back by {deadline}",
    }
    text = append_item(text, "touchpoints", item)
    text = set_fields(text, {"next_step": NEXT_STEP, "next_step_due": deadline})
    ch.write(ref.path, text.render())


def _set_message(ch: Change, sent: Sequence[str], closed: Sequence[str], reason: str) -> None:
    """`sweep: 2 last chances sent, 1 closed as lost`, the deals by action, one trailer each."""
    parts = []
    if sent:
        parts.append(f"{len(sent)} last chance{'s' if len(sent) != 1 else ''} sent")
    if closed:
        parts.append(f"{len(closed)} closed as lost ({reason})")
    body = []
    if sent:
        body.append("last chance: " + ", ".join(sent))
    if closed:
        body.append("lost: " + ", ".join(closed))
    ch.set_message(f"sweep: {', '.join(parts)}", "sweep", (*sent, *closed), body=[body])


def sweep_json(result: SweepResult) -> dict[str, Any]:
    """A sweep as JSON-ready data with stable keys; `action` says what was (or would be) done."""
    from pipectl.jsonout import plain

    def action(c: Candidate) -> str | None:
        if c.deal.id in result.sent:
            return "last-chance"
        return "close" if c.deal.id in result.closed else None

    data = {
        "today": result.today,
        "dry_run": result.dry_run,
        "committed": result.committed,
        "deadline": result.deadline,
        "sent": list(result.sent),
        "closed": list(result.closed),
        "candidates": [
            {
                "id": c.deal.id,
                "stage": c.deal.stage,
                "owner": c.deal.owner,
                "codes": list(c.codes),
                "reasons": list(c.reasons),
                "state": c.state,
                "last_chance": c.last_chance,
                "deadline": c.deadline,
                "answered": c.answered,
                "action": action(c),
            }
            for c in result.candidates
        ],
    }
    return dict(plain(data))
