"""Sweep: clear dead leads on a cadence. Find open deals past the sales cycle (PL305) or out
of outreach attempts (PL501), send each one last chance, close those that never answered.

A deal is only ever acted on when one of those rules selects it, no reply came within that
rule's window and no `lint-ignore` silences the rule on it; the others are listed with why
they are left alone. Selection is a pure function of deals, config and today; `sweep()`
changes every deal it touches in one `Pipeline.change()`, so a run is one commit. Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pipectl import lint, tasks
from pipectl.config import Config
from pipectl.deal import Deal, Touchpoint, parse_yaml
from pipectl.dealedit import append_item, set_fields
from pipectl.errors import ConfigError, DealError, UsageError
from pipectl.lint import suppress
from pipectl.ops import closing_stage, move_in
from pipectl.owners import owner_matches
from pipectl.store import DealRef, Pipeline
from pipectl.writes import Change

# A touchpoint whose summary starts with these words is a last-chance message, whether
# sweep logged it or a rep did by hand.
LAST_CHANCE = "Last chance"
NEXT_STEP = "Close as lost unless they answer the last chance"
CADENCE_RULES = ("PL305", "PL501")

# Where a candidate stands: no last chance yet; sent and waiting for an answer until the
# deadline; deadline passed with no answer; answered after the last chance (kept). Two more
# are left alone without a word sent: a reply came within the selecting rule's window
# (replied), or `lint-ignore` silences every rule that selects it (skipped).
DUE, WAITING, EXPIRED, ANSWERED = "due", "waiting", "expired", "answered"
REPLIED, SKIPPED = "replied", "skipped"
STATES = (DUE, WAITING, EXPIRED, ANSWERED, REPLIED, SKIPPED)
LEFT_ALONE = (REPLIED, SKIPPED)


@dataclass(frozen=True)
class Candidate:
    """A deal sweep is about: why (rule codes and words) and where its last chance stands.

    `codes` are the rules that select it and are not silenced; `ignored` the selecting rules
    its `lint-ignore` silences, with their reasons; `held` says in words why a deal that is
    replied or skipped is left alone.
    """

    deal: Deal
    codes: tuple[str, ...]
    reasons: tuple[str, ...]
    state: str
    last_chance: dt.date | None = None  # the day the last chance went out
    deadline: dt.date | None = None  # after this day, no answer means closed as lost
    answered: dt.date | None = None  # the day of the answer after the last chance
    ignored: tuple[tuple[str, str], ...] = ()
    replied: dt.date | None = None  # the latest reply within a selecting rule's window
    held: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class _Selection:
    """One cadence rule selecting a deal, and whether a reply inside its window holds it."""

    code: str
    reason: str
    replied: bool = False
    reply_date: dt.date | None = None
    held: str = ""


def is_last_chance(t: Touchpoint) -> bool:
    return t.summary.strip().casefold().startswith(LAST_CHANCE.casefold())


def replaced_step(deal: Deal) -> tuple[str | None, dt.date | None] | None:
    """The next step (text, due date) a last chance would overwrite; None when it has none.

    Sweep never overwrites one without saying so: the plan, the JSON and the commit name it.
    """
    step = (deal.next_step or "").strip() or None
    due = deal.date("next_step_due")
    raw_due = deal.fields.get("next_step_due")
    if step is None and due is None and raw_due in (None, ""):
        return None
    return step, due


def candidates(deals: Iterable[Deal], config: Config, today: dt.date) -> tuple[Candidate, ...]:
    """Open deals PL305 or PL501 selects, in file order, with their state.

    Thresholds and severities are lint's, per stage (a rule turned off for a stage picks
    nothing there); a rule selects exactly the deals lint reports it on. A deal with a reply
    inside the rule's window, whose `lint-ignore` names the rule, or that is snoozed
    (`pipectl snooze`) is listed as left alone.
    """
    kinds = set(lint.setting(config, "PL501", "attempt_kinds"))
    replies = set(config.reply_outcomes)
    open_names = {s.name for s in config.open_stages}
    out: list[Candidate] = []
    for d in deals:
        if d.stage not in open_names:
            continue
        selected = _selections(d, config, today, kinds, replies)
        if not selected:
            continue
        if tasks.is_snoozed(d, today):  # asleep: no rule acts on it before it wakes
            why = tuple(s.reason for s in selected)
            out.append(Candidate(d, (), why, SKIPPED, held=(tasks.snooze_note(d),)))
            continue
        silenced = _ignored(d)
        ignored = tuple((s.code, silenced[s.code]) for s in selected if s.code in silenced)
        heard = [s for s in selected if s.code not in silenced]
        active = [s for s in heard if not s.replied]
        codes = tuple(s.code for s in (active or heard))
        reasons = tuple(s.reason for s in (active or heard or selected))
        if active:
            c = _standing(d, codes, reasons, config, kinds, replies, today)
        elif heard:  # a recent reply: the lead is alive, whatever its age or attempts
            held = tuple(s.held for s in heard)
            dates = [s.reply_date for s in heard if s.reply_date is not None]
            c = _standing(d, codes, reasons, config, kinds, replies, today, again=False)
            if c.state != ANSWERED:  # an answer to a last chance is told as such
                c = Candidate(d, codes, reasons, REPLIED, replied=max(dates, default=None))
            c = replace(c, held=held)
        else:
            held = tuple(f"lint-ignore {code} — {why}" for code, why in ignored)
            c = Candidate(d, (), reasons, SKIPPED, held=held)
        out.append(replace(c, ignored=ignored))
    return tuple(out)


def _selections(
    d: Deal, config: Config, today: dt.date, kinds: set[str], replies: set[str]
) -> list[_Selection]:
    """The cadence rules that select the deal, each with the reply its window holds, if any.

    PL305 and PL501 select as their lint rules do (`rules_time.past_sales_cycle`,
    `rules_qualify.unanswered_outreach`, the run through `lint.unanswered_run`). PL305's
    window is its cycle, the last `days` days; PL501's is the run of attempts, from its first
    one on (a reply there can only be a note, or a touchpoint logged out of order).
    """
    out: list[_Selection] = []
    tps = d.touchpoints
    cycle = lint.setting(config, "PL305", "days", stage=d.stage)
    created = d.date("created")
    if _on(config, "PL305", d.stage) and created and 0 < cycle < (today - created).days:
        since = _days_before(today, cycle)
        # an undated reply counts: sweep never acts on a deal it cannot tell is silent
        answers = [t for t in tps if _is_reply(t, replies) and (t.date is None or t.date >= since)]
        reason = f"open {(today - created).days} days, past the {cycle}-day cycle"
        out.append(_held("PL305", reason, answers, f"within PL305's {cycle}-day window"))
    attempts = lint.setting(config, "PL501", "attempts", stage=d.stage)
    run = lint.unanswered_run(d, kinds, replies)
    if _on(config, "PL501", d.stage) and 0 < attempts <= run:
        # the run is the latest `run` touchpoints that are not notes (unanswered_run's count);
        # its window opens at the first of them, in the file and in dates
        first = [i for i, t in enumerate(tps) if t.kind != "note"][-run]
        start = min((t.date for t in tps[first:] if t.date is not None), default=None)
        answers = [
            t
            for i, t in enumerate(tps)
            if _is_reply(t, replies)
            and (i >= first or (start is not None and t.date is not None and t.date >= start))
        ]
        reason = f"{run} attempts in a row without a reply"
        out.append(_held("PL501", reason, answers, f"during the {run} unanswered attempts"))
    return out


def _held(code: str, reason: str, answers: Sequence[Touchpoint], where: str) -> _Selection:
    """The rule's selection, held back when `answers` (replies inside its window) is not empty."""
    if not answers:
        return _Selection(code, reason)
    when = max((t.date for t in answers if t.date is not None), default=None)
    said = f"replied {when}" if when is not None else "replied (a reply with no date)"
    return _Selection(code, reason, True, when, f"{said}, {where}")


def _is_reply(t: Touchpoint, replies: set[str]) -> bool:
    return t.outcome is not None and t.outcome in replies


def _ignored(d: Deal) -> dict[str, str]:
    """The deal's `lint-ignore` reasons for the cadence rules, parsed as lint parses them."""
    reasons = suppress.parse(d, lint.get_rule).reasons
    return {code: reasons[code] for code in CADENCE_RULES if code in reasons}


def _days_before(day: dt.date, days: int) -> dt.date:
    try:
        return day - dt.timedelta(days=days)
    except OverflowError:  # a cycle longer than the calendar: the window is all of time
        return dt.date.min


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
    again: bool = True,
) -> Candidate:
    """Where the deal's latest last chance stands (an answer after it keeps the deal).

    A deal that answered and then let a new run of attempts go unanswered (PL501 again,
    when `again`) is due another last chance.
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
        if (answered or engaged) and again and "PL501" in codes:
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
        replaced = [(i, replaced_step(by_id[i].deal)) for i in sent]
        _set_message(ch, sent, closed, config.sweep_lost_reason, replaced)
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
    mine = [d for d in loaded.deals if owner_matches(d, owner, pipeline.config.team)]
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


def _set_message(
    ch: Change,
    sent: Sequence[str],
    closed: Sequence[str],
    reason: str,
    replaced: Sequence[tuple[str, tuple[str | None, dt.date | None] | None]],
) -> None:
    """`sweep: 2 last chances sent, 1 closed as lost`, the deals by action, the next steps a
    last chance replaced (named, so that a log search finds them), one trailer per deal."""
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
    steps = [f"{i}: replaced next step {_step_words(old)}" for i, old in replaced if old]
    ch.set_message(f"sweep: {', '.join(parts)}", "sweep", (*sent, *closed), body=[body, steps])


def _step_words(old: tuple[str | None, dt.date | None]) -> str:
    step, due = old
    return (repr(step) if step else "(no text)") + (f" (due {due})" if due else "")


def sweep_json(result: SweepResult) -> dict[str, Any]:
    """A sweep as JSON-ready data with stable keys; `action` says what was (or would be) done."""
    from pipectl.jsonout import plain

    def action(c: Candidate) -> str | None:
        if c.deal.id in result.sent:
            return "last-chance"
        return "close" if c.deal.id in result.closed else None

    def replaces(c: Candidate) -> dict[str, Any] | None:
        old = replaced_step(c.deal) if c.deal.id in result.sent else None
        return None if old is None else {"next_step": old[0], "next_step_due": old[1]}

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
                "contact": c.deal.contact,  # whom the last chance goes to (or its draft)
                "codes": list(c.codes),
                "reasons": list(c.reasons),
                "state": c.state,
                "last_chance": c.last_chance,
                "deadline": c.deadline,
                "answered": c.answered,
                "action": action(c),
                "replaces_next_step": replaces(c),
                "ignored": dict(c.ignored),
                "replied": c.replied,
                "left_alone": list(c.held),
            }
            for c in result.candidates
        ],
    }
    return dict(plain(data))
