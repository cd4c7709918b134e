"""`pipectl ingest`: messages and invitations logged as touchpoints, all of one run one commit.

The plan is made from the files and the deals alone (a dry run shows it); applying it appends
each new touchpoint with the same byte-exact append `pipectl log` uses and turns an outreach's
`no-reply` into `replied` when its answer comes. A touchpoint keeps the message's id (or the
event's), so a second run over the same files logs nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipectl.deal import Deal
from pipectl.dealedit import append_item, set_item_field
from pipectl.errors import DealError, UsageError
from pipectl.mail.invites import Event
from pipectl.mail.matching import Book, book
from pipectl.mail.messages import Mail
from pipectl.schema import DIRECTIONS, SOURCE_IDS
from pipectl.store import DealRef, Pipeline

# The touchpoint keys that carry where a touchpoint came from (docs/mail.md).
MESSAGE_ID, EVENT_ID = SOURCE_IDS
DIRECTION = "direction"
SENT, RECEIVED = DIRECTIONS
EMAIL, MEETING = "email", "meeting"
REPLIED, NO_REPLY = "replied", "no-reply"
# The longest summary a message's subject becomes: a line to read, not a body to keep.
SUMMARY_MAX = 200


@dataclass(frozen=True)
class Entry:
    """One touchpoint to log on `deal`, read from `where`."""

    deal: str
    item: Mapping[str, Any]
    where: str


@dataclass(frozen=True)
class Update:
    """An outreach logged before whose answer came: its outcome becomes `replied`."""

    deal: str
    index: int
    summary: str
    message_id: str


@dataclass(frozen=True)
class Unmatched:
    """A message or event not logged, and why."""

    where: str
    subject: str
    reason: str


@dataclass
class Plan:
    """What a run logs, updates, already knew, and leaves out."""

    new: list[Entry] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    known: int = 0
    cancelled: int = 0
    later: int = 0
    unmatched: list[Unmatched] = field(default_factory=list)
    errors: tuple[DealError, ...] = ()
    committed: bool = False

    @property
    def deals(self) -> list[str]:
        """The deals the plan changes, in order."""
        return sorted({e.deal for e in self.new} | {u.deal for u in self.updates})


def address_book(pipeline: Pipeline) -> tuple[Book, list[Deal], tuple[DealError, ...]]:
    """The matching book of every deal of the pipeline, the deals, and the files that failed."""
    loaded = pipeline.load()
    config = pipeline.config
    closed = [s.name for s in config.stages if s.closed]
    return book(loaded.deals, closed, config.team), loaded.deals, tuple(loaded.errors)


def logged(deals: Iterable[Deal], key: str) -> dict[str, tuple[str, int, Any]]:
    """Each id under touchpoint key `key` already logged: (deal, index, outcome)."""
    found: dict[str, tuple[str, int, Any]] = {}
    for deal in deals:
        raw = deal.fields.get("touchpoints")
        for i, item in enumerate(raw if isinstance(raw, list) else ()):
            if isinstance(item, Mapping) and isinstance(item.get(key), str):
                found.setdefault(item[key], (deal.id, i, item.get("outcome")))
    return found


def plan(
    pipeline: Pipeline, mails: Sequence[Mail], events: Sequence[Event], today: dt.date
) -> Plan:
    """What ingesting `mails` and `events` would do to the pipeline (nothing is written)."""
    if mails:
        _check_words(pipeline, EMAIL, (REPLIED, NO_REPLY))
    if events:
        _check_words(pipeline, MEETING, ())
    matcher, deals, errors = address_book(pipeline)
    found = Plan(errors=errors)
    _plan_mails(found, matcher, deals, mails)
    _plan_events(found, matcher, deals, events, today)
    found.new.sort(key=lambda e: (e.deal, e.item["date"]))
    return found


def _plan_events(
    plan: Plan, matcher: Book, deals: Sequence[Deal], events: Sequence[Event], today: dt.date
) -> None:
    known = logged(deals, EVENT_ID)
    seen: set[str] = set()
    for event in events:
        if event.event_id in seen:  # one invitation saved twice, or an update after it
            continue
        seen.add(event.event_id)
        if event.cancelled:
            plan.cancelled += 1
            continue
        if event.event_id in known:
            plan.known += 1
            continue
        if event.day > today:  # a touchpoint is what took place: logged once it has
            plan.later += 1
            continue
        label = event.summary or "(no title)"
        found = matcher.match(event.organizer, event.parties)
        if found.deal is None:
            plan.unmatched.append(Unmatched(event.where, _summary(label), found.reason))
            continue
        early = _early(found.deal, event.day)
        if early:
            plan.unmatched.append(Unmatched(event.where, _summary(label), early))
            continue
        item = {"date": event.day, "kind": MEETING, "summary": _summary(label)}
        item[EVENT_ID] = event.event_id
        plan.new.append(Entry(found.deal.id, item, event.where))


def _plan_mails(plan: Plan, matcher: Book, deals: Sequence[Deal], mails: Sequence[Mail]) -> None:
    known = logged(deals, MESSAGE_ID)
    matched: list[tuple[Mail, Any]] = []
    seen: set[str] = set()
    for mail in mails:
        label = mail.subject or "(no subject)"
        if mail.message_id is None:
            plan.unmatched.append(Unmatched(mail.where, _summary(label), "no Message-ID"))
            continue
        if mail.message_id in seen:  # one message in two folders (Sent and a Cc to oneself)
            continue
        seen.add(mail.message_id)
        if mail.date is None:
            plan.unmatched.append(Unmatched(mail.where, _summary(label), "no readable Date"))
            continue
        found = matcher.match(mail.sender, mail.parties, mail.reply_to)
        if found.deal is None:
            plan.unmatched.append(Unmatched(mail.where, _summary(label), found.reason))
            continue
        matched.append((mail, found))
    # an answer is a message from the deal's side that names the outreach in its thread
    answered = {(f.deal.id, r) for m, f in matched if not f.sent for r in m.refs}
    for mail, found in matched:
        deal_id, mid = found.deal.id, mail.message_id
        assert mid is not None and mail.date is not None
        if mid in known:
            plan.known += 1
            where, index, outcome = known[mid]
            if outcome == NO_REPLY and (where, mid) in answered:
                plan.updates.append(Update(where, index, _summary(mail.subject), mid))
            continue
        early = _early(found.deal, mail.date.date())
        if early:
            plan.unmatched.append(Unmatched(mail.where, _summary(mail.subject), early))
            continue
        outcome = REPLIED if not found.sent or (deal_id, mid) in answered else NO_REPLY
        item = {
            "date": mail.date.date(),
            "kind": EMAIL,
            "summary": _summary(mail.subject),
            "outcome": outcome,
            DIRECTION: SENT if found.sent else RECEIVED,
            MESSAGE_ID: mid,
        }
        plan.new.append(Entry(deal_id, item, mail.where))


def apply(pipeline: Pipeline, plan: Plan, commit: bool = True) -> Plan:
    """Write the plan: every deal it touches, in one commit (nothing when it is empty)."""
    if not plan.new and not plan.updates:
        return plan
    with pipeline.change(commit) as ch:
        for deal_id in plan.deals:
            ref = _ref(pipeline, deal_id)
            text = pipeline.read_text(ref)
            # read again under the lock (a broken file is refused with its line): a touchpoint
            # may have moved or come since the plan was made
            current = pipeline.read_deal(ref)
            now = logged([current], MESSAGE_ID) | logged([current], EVENT_ID)
            for u in (u for u in plan.updates if u.deal == deal_id and u.message_id in now):
                index = now[u.message_id][1]
                text = set_item_field(text, "touchpoints", index, "outcome", REPLIED)
            for e in (e for e in plan.new if e.deal == deal_id):
                if str(e.item.get(MESSAGE_ID) or e.item.get(EVENT_ID)) not in now:
                    text = append_item(text, "touchpoints", e.item)
            ch.write(ref.path, text.render())
        lines = [
            f"{e.deal}: {e.item['kind']} {e.item['date']} {e.item['summary']}" for e in plan.new
        ]
        lines += [f"{u.deal}: replied to {u.summary}" for u in plan.updates]
        kinds = Counter(str(e.item["kind"]) for e in plan.new)
        parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(kinds.items())]
        parts += [f"{len(plan.updates)} replied"] if plan.updates else []
        many = "s" if len(plan.deals) != 1 else ""
        subject = f"ingest: {', '.join(parts)} on {len(plan.deals)} deal{many}"
        ch.set_message(subject, "ingest", plan.deals, body=[lines], shorten=True)
    plan.committed = ch.committed
    return plan


def _ref(pipeline: Pipeline, deal_id: str) -> DealRef:
    refs = pipeline.exact(deal_id)
    if len(refs) != 1:  # gone, or in two stages (lint PL104) since the plan was made
        raise UsageError(f"deal {deal_id}: not one file any more; run ingest again")
    return refs[0]


def _early(deal: Deal, day: dt.date) -> str | None:
    """Why a touchpoint on `day` cannot go on `deal`: it is before the deal was created
    (the schema refuses that date; one old message must not stop the run)."""
    created = deal.date("created")
    if created is not None and day < created:
        return f"before {deal.id} was created ({created})"
    return None


def _summary(subject: str) -> str:
    """A subject as a touchpoint's summary: printable, valid UTF-8 (a header's undecodable
    bytes become U+FFFD), and no longer than a summary needs."""
    text = subject.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = " ".join("".join(c for c in text if c.isprintable()).split())
    if len(text) > SUMMARY_MAX:
        text = text[: SUMMARY_MAX - 1].rstrip() + "…"
    return text or "(no subject)"


def _check_words(pipeline: Pipeline, kind: str, outcomes: Sequence[str]) -> None:
    config = pipeline.config
    if config.touchpoint_kinds and kind not in config.touchpoint_kinds:
        raise UsageError(f"touchpoint kind {kind!r} is not in pipeline.yaml's touchpoint_kinds")
    for word in outcomes:
        if config.touchpoint_outcomes and word not in config.touchpoint_outcomes:
            raise UsageError(f"outcome {word!r} is not in pipeline.yaml's touchpoint_outcomes")
