"""Seeded synthetic pipelines with realistic deals and git history, built with `git fast-import`.

Used by the benchmark only (never by pipectl or its tests). One fast-import stream per repo:
a bulk "import" commit for the deals without their own history, then one backdated commit per
event (add, log, move, edit, won/lost) for the deals with history, in time order. Must never
start one git process per commit: 100,000 deals are generated in well under a minute.

    python bench/gen.py OUT_DIR --deals 10000 [--history-deals 600] [--seed 7]  (open deals)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

GEN_VERSION = 2
FLUSH = 20_000  # stream pieces written to fast-import at a time (about 2,000 commits)
OPEN_STAGES = ("prospecting", "qualifying", "connecting", "closing")
CLOSED_STAGES = ("won", "lost")
STAGES = OPEN_STAGES + CLOSED_STAGES
TODAY = dt.date(2026, 11, 27)
START = dt.date(2024, 1, 2)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


OWNERS = _words("alice bob carol dave erin frank grace heidi ivan judy")
FIRST = _words(
    "Jane John Maria Wei Aisha Lars Sofia Kenji Olga Pedro Fatima Tom Anna Ravi Chloe "
    "Jonas Mila Omar Ines Paul "
)
LAST = _words(
    "Doe Smith Müller Chen Khan Berg Rossi Tanaka Ivanova Silva Haddad Brown Novak "
    "Patel Martin Weber Kowalski Ali Costa Lee "
)
SYL = _words(
    "ac me glo bex tron ver sa lu nor tek zen qua dy fin gra hol mo rix sol ta vio "
    "wex ly ra cor pix "
)
SUFFIX = _words("Corp GmbH Ltd Inc AG Group Labs Systems Partners SA")
PRODUCTS = (
    "50-seat rollout",
    "pilot",
    "enterprise plan",
    "renewal",
    "upgrade to Pro",
    "data migration",
    "support contract",
    "team licences",
    "annual plan",
    "expansion",
)
KINDS = _words("call email meeting message note demo proposal")
OUTCOMES = _words("replied no-reply no-reply meeting-booked positive voicemail")
SUMMARIES = (
    "Intro email",
    "Discovery call",
    "Sent case study",
    "Follow-up on pricing",
    "Demo for the team",
    "Left a voicemail",
    "Checked in after the trial",
    "Sent the proposal",
    "Negotiated terms",
    "Answered security questions",
    "Intro via LinkedIn",
    "Call with procurement",
    "Reminder about the offer",
)
NEXT_STEPS = (
    "Send pricing proposal",
    "Book a demo",
    "Follow up by phone",
    "Send contract",
    "Ask for budget owner",
    "Schedule kickoff",
    "Share references",
    "Check in",
)
TAGS = _words("enterprise smb inbound outbound partner renewal emea us")
LOST_REASONS = _words("price competitor no-budget no-decision timing no-response")
NOTES = (
    "Met at the regional trade fair; they run everything on spreadsheets today and the "
    "operations lead wants one place for the whole team.",
    "Budget is decided per quarter. The champion is the head of sales, the economic buyer "
    "is the CFO, who wants to see the numbers from the pilot first.",
    "They compared us with two competitors last year and chose none of them: the "
    "integration with their ERP was the blocker. Ours exists since spring.",
    "Procurement needs a security questionnaire and a data processing agreement before "
    "anything is signed. Legal review takes about three weeks.",
    "Small team, fast decisions. The founder answers email on weekends; calls work best "
    "on Tuesday mornings.",
)


@dataclass
class DealState:
    """One synthetic deal: its fields as they stand at a point of its history."""

    id: str
    stage: str
    fields: dict[str, object]
    touchpoints: list[dict[str, object]] = field(default_factory=list)
    notes: str = ""
    comment: bool = False

    def path(self) -> str:
        return f"{self.stage}/{self.id}.md"

    def render(self) -> bytes:
        out = ["---"]
        for key, value in self.fields.items():
            if value is None:
                continue
            if key == "qualification":
                assert isinstance(value, dict)
                if not value:
                    continue
                suffix = "   # criteria from pipeline.yaml" if self.comment else ""
                out.append(f"qualification:{suffix}")
                out.extend(f"  {k}: {v}" for k, v in value.items())
            elif key == "tags":
                assert isinstance(value, list)
                out.append(f"tags: [{', '.join(value)}]")
            else:
                out.append(f"{key}: {_scalar(value)}")
        if self.touchpoints:
            out.append("touchpoints:")
            for t in self.touchpoints:
                inner = ", ".join(f"{k}: {_scalar(v)}" for k, v in t.items())
                out.append(f"  - {{{inner}}}")
        out.append("---")
        out.append(f"# {self.fields['title']}")
        out.append("")
        out.append(self.notes)
        return ("\n".join(out) + "\n").encode("utf-8")


def _scalar(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class Generator:
    """Builds deals and their event histories from one seeded random source."""

    def __init__(self, seed: int, cycle_days: int | None = None):
        self.rng = random.Random(seed)
        self.used: set[str] = set()
        # a closed deal's events within its sales cycle (None: until today, as version 2 did)
        self.cycle_days = cycle_days

    def company(self) -> str:
        r = self.rng
        name = "".join(r.choice(SYL) for _ in range(r.randint(2, 3))).capitalize()
        return f"{name} {r.choice(SUFFIX)}"

    def new_deal(self, created: dt.date) -> DealState:
        r = self.rng
        company = self.company()
        base = company.lower().replace(" ", "-")
        deal_id = base
        n = 2
        while deal_id in self.used:
            deal_id = f"{base}-{n}"
            n += 1
        self.used.add(deal_id)
        first, last = r.choice(FIRST), r.choice(LAST)
        email = f"{first.lower()}@{base.split('-')[0]}.example"
        fields: dict[str, object] = {
            "title": f"{company} — {r.choice(PRODUCTS)}",
            "company": company,
            "contact": f"{first} {last} <{email}>",
            "owner": r.choice(OWNERS) if r.random() > 0.03 else None,
            "value": r.choice((1, 2, 3, 5, 8, 12, 20, 35, 60)) * 1000
            if r.random() > 0.05
            else None,
            "currency": "USD",
            "created": created,
            "stage_entered": None,
            "expected_close": created + dt.timedelta(days=r.randint(30, 150)),
            "next_step": r.choice(NEXT_STEPS) if r.random() > 0.05 else None,
            "next_step_due": created + dt.timedelta(days=r.randint(2, 20)),
            "qualification": {},
            "tags": r.sample(TAGS, r.randint(0, 2)) or None,
        }
        notes = " ".join(r.sample(NOTES, 2))
        return DealState(deal_id, OPEN_STAGES[0], fields, notes=notes, comment=r.random() < 0.1)

    def touch(self, deal: DealState, when: dt.date) -> None:
        r = self.rng
        deal.touchpoints.append(
            {
                "date": when,
                "kind": r.choice(KINDS),
                "summary": r.choice(SUMMARIES),
                "outcome": r.choice(OUTCOMES),
            }
        )

    def qualify(self, deal: DealState) -> None:
        q = deal.fields["qualification"]
        assert isinstance(q, dict)
        for key, text in (
            ("budget", "approved for next quarter"),
            ("need", "replace spreadsheets"),
            ("fit", "yes"),
            ("timeline", "decision this quarter"),
        ):
            if key not in q and self.rng.random() < 0.8:
                q[key] = text
                return

    def move(self, deal: DealState, stage: str, when: dt.date) -> None:
        deal.stage = stage
        deal.fields["stage_entered"] = when
        if stage in OPEN_STAGES:
            self.edit(deal, when)
        if stage in CLOSED_STAGES:
            deal.fields["closed"] = when
            if stage == "lost":
                deal.fields["lost_reason"] = self.rng.choice(LOST_REASONS)

    def edit(self, deal: DealState, when: dt.date) -> None:
        deal.fields["next_step"] = self.rng.choice(NEXT_STEPS)
        deal.fields["next_step_due"] = when + dt.timedelta(days=self.rng.randint(1, 21))

    def history(self, deal: DealState, final: str, n_events: int, start: dt.date) -> list[Event]:
        """The events that take a new deal to its final stage, spread over time."""
        r = self.rng
        target = STAGES.index(final) if final in OPEN_STAGES else r.randint(0, 3)
        kinds = ["move"] * target + (["close"] if final in CLOSED_STAGES else [])
        while len(kinds) < n_events - 1:
            kinds.insert(
                r.randint(0, len(kinds)), r.choice(("log", "log", "log", "qualify", "edit"))
            )
        events = [Event(start, deal, "add")]
        when = start
        span = max(1, (TODAY - start).days)
        if self.cycle_days is not None and final in CLOSED_STAGES:
            span = min(span, r.randint(min(30, self.cycle_days), self.cycle_days))
        step = max(1, span // (len(kinds) + 1))
        for kind in kinds:
            when = min(TODAY, when + dt.timedelta(days=r.randint(1, step)))
            events.append(Event(when, deal, kind, final if kind == "close" else None))
        if final in OPEN_STAGES and r.random() < 0.85:
            # most open deals were worked on lately: a recent touch and a fresh next step
            recent = max(when, TODAY - dt.timedelta(days=int(r.expovariate(1 / 6))))
            events += [Event(recent, deal, "log"), Event(recent, deal, "edit")]
        return events


@dataclass
class Event:
    """One change to one deal, to become one commit."""

    when: dt.date
    deal: DealState
    kind: str
    arg: str | None = None


def created_for(rng: random.Random, final: str) -> dt.date:
    """Open deals are mostly recent (reps keep them moving); closed ones span the years."""
    if final in OPEN_STAGES:
        return TODAY - dt.timedelta(days=int(rng.expovariate(1 / 45)) % 300 + 3)
    return START + dt.timedelta(days=rng.randint(0, (TODAY - START).days - 60))


def final_stages(rng: random.Random, open_deals: int, closed: int) -> list[str]:
    """Exactly `open_deals` deals in open stages (most at the front) and `closed` closed ones."""
    stages = rng.choices(OPEN_STAGES, weights=(40, 25, 20, 15), k=open_deals)
    stages += ["won" if rng.random() < 0.35 else "lost" for _ in range(closed)]
    rng.shuffle(stages)
    return stages


def _data(out: list[bytes], payload: bytes) -> None:
    out.append(b"data %d\n" % len(payload))
    out.append(payload)
    out.append(b"\n")


def _commit(
    out: list[bytes], when: dt.date, who: str, message: str, ops: list[bytes], seconds: int
) -> None:
    day = dt.datetime(when.year, when.month, when.day, 9, tzinfo=dt.timezone.utc)
    ts = int(day.timestamp()) + seconds
    ident = f"{who.capitalize()} <{who}@example.com> {ts} +0000".encode()
    out.append(b"commit refs/heads/main\n")
    out.append(b"author " + ident + b"\n")
    out.append(b"committer " + ident + b"\n")
    _data(out, message.encode("utf-8"))
    out.extend(ops)


def _modify(path: str, content: bytes) -> bytes:
    return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(content), content)


def _message(subject: str, action: str, deal_id: str) -> str:
    return f"{subject}\n\nPipectl-Action: {action}\nPipectl-Deal: {deal_id}\n"


def generate(
    out_dir: Path,
    open_deals: int,
    *,
    closed_ratio: float = 0.25,
    history_deals: int | None = None,
    events_per_deal: int = 5,
    seed: int = 7,
    config_text: str | None = None,
    cycle_days: int | None = None,
) -> dict[str, float]:
    """Write a git repo at `out_dir` (must not exist) holding a pipeline of `open_deals` open
    deals plus `closed_ratio` as many won/lost ones.

    `history_deals` of them (default: all) get one backdated commit per event; the rest arrive
    last, in one bulk import commit (from an old CRM, yesterday): every commit before it
    writes small trees, which keeps fast-import fast at 100,000 deals. `cycle_days`: a closed
    deal's events fall within a sales cycle of 30 days up to that many (default: spread until
    today), so that a long history does not keep years of deals open. Returns counts: open,
    files, commits, seconds.
    """
    t0 = time.monotonic()
    gen = Generator(seed, cycle_days)
    rng = gen.rng
    finals = final_stages(rng, open_deals, int(open_deals * closed_ratio))
    total = len(finals)
    history_deals = total if history_deals is None else min(history_deals, total)
    out_dir.mkdir(parents=True)
    _git(out_dir, "init", "-q", "-b", "main")
    for key, value in (
        ("user.name", "Bench"),
        ("user.email", "bench@example.com"),
        ("gc.auto", "0"),
        ("commit.gpgsign", "false"),
    ):
        _git(out_dir, "config", key, value)
    if config_text is None:
        from pipectl.config import default_config_text

        config_text = default_config_text()

    # The stream goes to fast-import as it is made, a few thousand commits at a time: held
    # whole it was gigabytes at a million commits, and Python's part (about a fifth of the
    # time) now runs beside git's instead of before it. What is left is git's own: it writes
    # the touched stage folder's whole tree for every commit (docs/performance.md, P13).
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done"],
            cwd=out_dir,
            stdin=subprocess.PIPE,
            stderr=errors,
        )
        assert proc.stdin is not None
        commits = 0
        try:
            commits = _stream(proc.stdin, gen, finals, history_deals, events_per_deal, config_text)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # fast-import stopped: its own message says why
        if proc.wait() != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"git fast-import failed: {message}")
    _git(out_dir, "reset", "--hard", "-q")
    return {
        "open": open_deals,
        "files": total,
        "commits": commits,
        "seconds": round(time.monotonic() - t0, 1),
    }


def _stream(
    sink: BinaryIO,
    gen: Generator,
    finals: list[str],
    history_deals: int,
    events_per_deal: int,
    config_text: str,
) -> int:
    """Write the whole fast-import stream to `sink`; return the number of commits."""
    rng = gen.rng
    stream: list[bytes] = []
    init_ops = [_modify("pipeline.yaml", config_text.encode())]
    init_ops += [_modify(f"{s}/.gitkeep", b"") for s in STAGES]
    _commit(stream, START, "alice", "init pipeline\n\nPipectl-Action: init\n", init_ops, 0)
    commits = 1

    events: list[Event] = []
    for stage in finals[:history_deals]:
        created = created_for(rng, stage)
        deal = gen.new_deal(created)
        n = max(1, int(rng.gauss(events_per_deal, 1.5)))
        events.extend(gen.history(deal, stage, n, created))
    events.sort(key=lambda e: e.when)
    for i, ev in enumerate(events):
        deal = ev.deal
        old_path, old_stage = deal.path(), deal.stage
        subject, action = _apply(gen, ev)
        ops = []
        if deal.path() != old_path:
            ops.append(b"D %s\n" % old_path.encode())
            subject = f"{action} {deal.id}: {old_stage} -> {deal.stage}"
        ops.append(_modify(deal.path(), deal.render()))
        who = str(deal.fields.get("owner") or "alice")
        _commit(stream, ev.when, who, _message(subject, action, deal.id), ops, 120 + i % 28000)
        commits += 1
        if len(stream) >= FLUSH:
            sink.write(b"".join(stream))
            stream.clear()

    bulk = finals[history_deals:]
    if bulk:
        ops = []
        for stage in bulk:
            created = created_for(rng, stage)
            deal = gen.new_deal(created)
            for ev in gen.history(deal, stage, events_per_deal, created)[1:]:
                _apply(gen, ev)
            ops.append(_modify(deal.path(), deal.render()))
        message = f"import {len(bulk)} deals from the old CRM\n"
        _commit(stream, TODAY - dt.timedelta(days=1), "bob", message, ops, 60)
        commits += 1

    stream.append(b"done\n")
    sink.write(b"".join(stream))
    return commits


def _apply(gen: Generator, ev: Event) -> tuple[str, str]:
    """Apply one event to its deal; return the commit subject and the action."""
    deal = ev.deal
    if ev.kind == "add":
        return f"add {deal.id}: {deal.fields['title']} ({deal.stage})", "add"
    if ev.kind == "log":
        gen.touch(deal, ev.when)
        t = deal.touchpoints[-1]
        return f"log {deal.id}: {t['kind']} — {t['summary']}", "log"
    if ev.kind == "qualify":
        gen.qualify(deal)
        return f"set {deal.id}: qualification", "set"
    if ev.kind == "edit":
        gen.edit(deal, ev.when)
        return f"next {deal.id}: {deal.fields['next_step']}", "next"
    if ev.kind == "move":
        gen.qualify(deal)
        gen.touch(deal, ev.when)
        gen.move(deal, OPEN_STAGES[min(OPEN_STAGES.index(deal.stage) + 1, 3)], ev.when)
        return "", "move"
    assert ev.kind == "close" and ev.arg is not None
    gen.move(deal, ev.arg, ev.when)
    return "", ev.arg


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--deals", type=int, required=True, help="open deals")
    ap.add_argument("--closed-ratio", type=float, default=0.25)
    ap.add_argument("--history-deals", type=int)
    ap.add_argument("--events-per-deal", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cycle-days", type=int, help="closed deals' longest sales cycle")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    stats = generate(
        args.out,
        args.deals,
        closed_ratio=args.closed_ratio,
        history_deals=args.history_deals,
        events_per_deal=args.events_per_deal,
        seed=args.seed,
        cycle_days=args.cycle_days,
    )
    print(" ".join(f"{k}={v}" for k, v in stats.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LC_ALL", "C")
    sys.exit(main())
