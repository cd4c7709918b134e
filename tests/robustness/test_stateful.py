"""A model-based test of the everyday loop: random sequences of commands and hand edits on a
real git repository, checked after every step against a model a few dozen lines long.

After each step: every deal is in the folder the model says, with the fields the model says
and exactly the body the model says; every other deal's bytes are untouched; a changing
command made exactly one commit holding only the paths it touched, with its trailers; the
work tree is clean. At the end of each run, `pipectl history --json` tells the model's story.

CI runs a bounded number of examples; PIPECTL_STATEFUL_EXAMPLES=N runs more (the figures of a
longer run are in docs/robustness.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from conftest import Cli, git, make_repo
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from pipectl.config import default_config
from pipectl.deal import parse_deal, slugify, split
from pipectl.fieldinput import parse_cli_value
from pipectl.schema import criterion_met, for_config

EXAMPLES = int(os.environ.get("PIPECTL_STATEFUL_EXAMPLES", "6"))
STEPS = int(os.environ.get("PIPECTL_STATEFUL_STEPS", "14"))

OPEN = ("prospecting", "qualifying", "connecting", "closing")
STAGES = (*OPEN, "won", "lost")
TITLES = st.sampled_from(
    [
        "Acme Corp",
        "Müller & Söhne GmbH",
        "Zoë's Bakery",
        "acme corp",
        "Initech 2",
        "Globex",
        "北京 Trading",
        'O\'Brien: "Quotes" # not a comment',
        "Acme",
    ]
)
TEXT = st.sampled_from(
    [
        "Call back",
        "a: b",
        "#not a comment",
        "yes",
        "no",
        "12:30",
        "Zoë & co",
        "[x",
        "{y}",
        "' quoted '",
        "fence ---",
        "line\u2028break",
        "50% off",
        "100",
    ]
)
DATES = st.dates(dt.date(2026, 1, 1), dt.date(2026, 11, 30))  # never the future: refused
SCHEMA = for_config(default_config())
GATED = ("connecting", "closing")  # from `init`'s qualification gate on
CRITERIA = ("budget", "need", "fit", "timeline")
BODY_LINES = st.sampled_from(["More notes.\n", "---\n", "key: value\n", "\r\n", "ü\n", "x"])


@dataclass
class ModelDeal:
    stage: str
    fields: dict[str, Any]
    body: str
    touchpoints: list[dict[str, Any]] = field(default_factory=list)


class PipelineMachine(RuleBasedStateMachine):
    # totals over every run in this process, for the figures of a long run
    totals: ClassVar[dict[str, int]] = {"runs": 0, "steps": 0, "commits": 0, "refused": 0}

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="pipectl-stateful-"))
        self.root = make_repo(self.tmp / "repo")
        self.cli = Cli(self.root)
        assert self.cli("init").exit_code == 0
        self.deals: dict[str, ModelDeal] = {}
        self.story: dict[str, list[tuple[Any, ...]]] = {}
        self.commits = 1
        self.last_touched: set[str] = set()

    def teardown(self) -> None:
        self.totals["runs"] += 1
        self.totals["commits"] += self.commits
        try:
            if self.deals:
                self.check_history()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers ------------------------------------------------------------------------------

    def path(self, deal_id: str) -> Path:
        return self.root / self.deals[deal_id].stage / f"{deal_id}.md"

    def ref(self, data: Any, deal_id: str) -> str:
        """The id, or its shortest unique prefix (DEAL accepts both)."""
        if not data.draw(st.booleans(), label="use a prefix"):
            return deal_id
        for n in range(1, len(deal_id)):
            prefix = deal_id[:n]
            if prefix not in self.deals and [d for d in self.deals if d.startswith(prefix)] == [
                deal_id
            ]:
                return prefix
        return deal_id

    def pick(self, data: Any) -> str:
        return data.draw(st.sampled_from(sorted(self.deals)), label="deal")

    def run(self, *args: str, touched: set[str], changes: bool = True) -> None:
        """Run a command that must succeed; check its commit and that nothing else changed."""
        others = self.bytes_of_others(touched)
        self.totals["steps"] += 1
        r = self.cli(*args)
        assert r.exit_code == 0, (args, r.output)
        assert "Traceback" not in r.output
        self.after_change(touched, others, changes)

    def run_refused(self, *args: str, message: str) -> None:
        before = {d: self.path(d).read_bytes() for d in self.deals}
        self.totals["steps"] += 1
        self.totals["refused"] += 1
        r = self.cli(*args)
        assert r.exit_code == 2, (args, r.output)
        assert message in r.stderr, (args, r.stderr)
        assert {d: self.path(d).read_bytes() for d in self.deals} == before
        self.last_touched = set()

    def bytes_of_others(self, touched: set[str]) -> dict[str, bytes]:
        ids = {p.split("/")[1][:-3] for p in touched}
        return {d: self.path(d).read_bytes() for d in self.deals if d not in ids}

    def after_change(self, touched: set[str], others: dict[str, bytes], changes: bool) -> None:
        for deal_id, data in others.items():
            assert self.path(deal_id).read_bytes() == data, f"{deal_id} changed"
        if changes:
            self.commits += 1
            out = git(self.root, "show", "--no-renames", "--name-only", "--format=", "HEAD")
            assert set(out.split()) == touched
        self.last_touched = touched if changes else set()

    def hand_commit(self, message: str, *paths: str) -> None:
        git(self.root, "add", "--", *(p for p in paths if (self.root / p).exists()))
        git(self.root, "commit", "-q", "-m", message, "--", *paths)
        self.commits += 1
        self.totals["steps"] += 1

    def tell(self, deal_id: str, *event: Any) -> None:
        self.story.setdefault(deal_id, []).append(event)

    def trailers(self) -> tuple[str | None, str | None]:
        body = git(self.root, "log", "-1", "--format=%B")
        action = re.search(r"^Pipectl-Action: (.+)$", body, re.M)
        deal = re.search(r"^Pipectl-Deal: (.+)$", body, re.M)
        return (action and action.group(1)), (deal and deal.group(1))

    # --- pipectl commands -----------------------------------------------------------------------

    @initialize(title=TITLES, when=DATES)
    def first_deal(self, title, when):
        self.add(None, title, None, when, None)

    @rule(
        data=st.data(),
        title=TITLES,
        stage=st.sampled_from((None, *OPEN)),
        when=DATES,
        value=st.none() | st.integers(0, 10**7),
    )
    def add(self, data, title, stage, when, value):
        deal_id = slugify(title)
        args = ["add", title, "--date", when.isoformat()]
        if stage:
            args += ["--stage", stage]
        if value is not None:
            args += ["--value", str(value)]
        if deal_id in self.deals:
            self.run_refused(*args, message=f"a deal {deal_id!r} exists already")
            return
        if stage in GATED:
            if not data.draw(st.booleans(), label="--force"):
                self.run_refused(*args, message=f"cannot enter {stage}: missing qualification.")
                return
            args.append("--force")
        where = stage or "prospecting"
        self.run(*args, touched={f"{where}/{deal_id}.md"})
        fields: dict[str, Any] = {"title": title, "created": when, "owner": "Test User"}
        if value is not None:
            fields["value"] = value
        if stage and stage != "prospecting":
            fields["stage_entered"] = when
        self.deals[deal_id] = ModelDeal(where, fields, f"# {title}\n")
        self.tell(deal_id, "created", where, None, "add")
        assert self.trailers() == ("add", deal_id)

    def _move(self, data, target: str, action: str, args: list[str], when, reason=None):
        deal_id = self.pick(data)
        deal = self.deals[deal_id]
        words = [args[0], self.ref(data, deal_id), *args[1:], "--date", when.isoformat()]
        if deal.stage == target:
            self.run_refused(*words, message=f"{deal_id} is already in {target}")
            return
        source = deal.stage
        if source in ("won", "lost"):  # a closed deal moves only when reopened
            if not data.draw(st.booleans(), label="--reopen"):
                self.run_refused(*words, message="pass --reopen")
                return
            words.append("--reopen")
            action = action if target in ("won", "lost") else "reopen"
        q = deal.fields.get("qualification")
        unmet = [c for c in CRITERIA if not (isinstance(q, dict) and criterion_met(q.get(c)))]
        if target in GATED and unmet:
            if not data.draw(st.booleans(), label="--force"):
                self.run_refused(*words, message=f"cannot enter {target}: missing")
                return
            words.append("--force")
        if when < deal.fields["created"]:
            self.run_refused(*words, message=f"is before created ({deal.fields['created']})")
            return
        touched = {f"{source}/{deal_id}.md", f"{target}/{deal_id}.md"}
        self.run(*words, touched=touched)
        deal.stage = target
        deal.fields["stage_entered"] = when
        if target in ("won", "lost"):
            deal.fields["closed"] = when
            deal.fields.pop("next_step", None)  # a closed deal has no next step
            deal.fields.pop("next_step_due", None)
            if reason:
                deal.fields["lost_reason"] = reason
        else:
            deal.fields.pop("closed", None)
            deal.fields.pop("lost_reason", None)
        self.tell(deal_id, "moved", target, source, action)
        assert self.trailers() == (action, deal_id)

    @precondition(lambda self: self.deals)
    @rule(data=st.data(), to=st.sampled_from((*OPEN, "won")), when=DATES)
    def move(self, data, to, when):
        self._move(data, to, "won" if to == "won" else "move", ["move", to], when)

    @precondition(lambda self: self.deals)
    @rule(data=st.data(), when=DATES)
    def won(self, data, when):
        self._move(data, "won", "won", ["won"], when)

    @precondition(lambda self: self.deals)
    @rule(data=st.data(), reason=st.sampled_from(["price", "competitor", "timing"]), when=DATES)
    def lost(self, data, reason, when):
        self._move(data, "lost", "lost", ["lost", "--reason", reason], when, reason)

    @precondition(lambda self: self.deals)
    @rule(
        data=st.data(),
        kind=st.sampled_from(["call", "email", "meeting"]),
        summary=TEXT,
        outcome=st.none() | st.sampled_from(["replied", "no-reply"]),
        when=DATES,
    )
    def log(self, data, kind, summary, outcome, when):
        deal_id = self.pick(data)
        args = ["log", self.ref(data, deal_id), kind, summary, "--date", when.isoformat()]
        if outcome:
            args += ["--outcome", outcome]
        created = self.deals[deal_id].fields["created"]
        if when < created:
            self.run_refused(*args, message=f"is before created ({created})")
            return
        self.run(*args, touched={f"{self.deals[deal_id].stage}/{deal_id}.md"})
        item = {"date": when, "kind": kind, "summary": summary.strip()}
        if outcome:
            item["outcome"] = outcome
        self.deals[deal_id].touchpoints.append(item)
        self.tell(deal_id, "logged", self.deals[deal_id].stage, None, "log")
        assert self.trailers() == ("log", deal_id)

    @precondition(lambda self: self.deals)
    @rule(data=st.data(), step=TEXT, due=st.none() | DATES)
    def next(self, data, step, due):
        deal_id = self.pick(data)
        deal = self.deals[deal_id]
        args = ["next", self.ref(data, deal_id), step]
        if due:
            args += ["--due", due.isoformat()]
        new = dict(deal.fields, next_step=step.strip())
        if due:
            new["next_step_due"] = due
        else:
            new.pop("next_step_due", None)
        changes = new != deal.fields
        self.run(*args, touched={f"{deal.stage}/{deal_id}.md"}, changes=changes)
        deal.fields = new
        if changes:
            self.tell(deal_id, "changed", deal.stage, None, "next")

    @precondition(lambda self: self.deals)
    @rule(
        data=st.data(),
        key=st.sampled_from(["value", "owner", "region", "qualification.budget"]),
        text=TEXT,
        number=st.integers(0, 10**6),
    )
    def set(self, data, key, text, number):
        deal_id = self.pick(data)
        deal = self.deals[deal_id]
        raw = str(number) if key == "value" else text
        value = SCHEMA.cli_value(key, raw, parse_cli_value(raw))  # owner is text: as typed
        new = dict(deal.fields)
        if "." in key:
            parent, child = key.split(".")
            inner = new.get(parent)
            new[parent] = {**(inner if isinstance(inner, dict) else {}), child: value}
        else:
            new[key] = value
        changes = new != deal.fields
        self.run(
            "set",
            self.ref(data, deal_id),
            f"{key}={raw}",
            touched={f"{deal.stage}/{deal_id}.md"},
            changes=changes,
        )
        deal.fields = new
        if changes:
            self.tell(deal_id, "changed", deal.stage, None, "set")

    @precondition(lambda self: self.deals)
    @rule(data=st.data())
    def unknown_deal_is_refused(self, data):
        self.run_refused("move", "zz-no-such-deal", "won", message="no deal 'zz-no-such-deal'")

    # --- by hand --------------------------------------------------------------------------------

    @precondition(lambda self: self.deals)
    @rule(data=st.data(), lines=st.lists(BODY_LINES, min_size=1, max_size=3))
    def hand_append_to_body(self, data, lines):
        deal_id = self.pick(data)
        path = self.path(deal_id)
        text = "".join(lines)
        with path.open("ab") as f:
            f.write(text.encode())
        self.deals[deal_id].body += text
        self.hand_commit("notes", str(path.relative_to(self.root)))
        self.tell(deal_id, "edited", self.deals[deal_id].stage, None, None)

    @precondition(lambda self: self.deals)
    @rule(data=st.data(), value=st.integers(0, 10**6))
    def hand_change_value(self, data, value):
        deal_id = self.pick(data)
        deal = self.deals[deal_id]
        if deal.fields.get("value") == value:
            return
        path = self.path(deal_id)
        raw = path.read_bytes().decode("utf-8")  # bytes: keep the body's CRLF as it is
        new, n = re.subn(r"(?m)^value:.*$", f"value: {value}", raw, count=1)
        if n == 0:
            new = raw.replace("---\n", f"---\nvalue: {value}\n", 1)
        path.write_bytes(new.encode("utf-8"))
        deal.fields["value"] = value
        self.hand_commit("price changed", str(path.relative_to(self.root)))
        self.tell(deal_id, "edited", deal.stage, None, None)

    @precondition(lambda self: self.deals)
    @rule(data=st.data(), to=st.sampled_from(STAGES))
    def hand_git_mv(self, data, to):
        target = to
        deal_id = self.pick(data)
        deal = self.deals[deal_id]
        if deal.stage == target:
            return
        source = deal.stage
        git(self.root, "mv", f"{source}/{deal_id}.md", f"{target}/")
        deal.stage = target
        self.hand_commit("moved by hand", f"{source}/{deal_id}.md", f"{target}/{deal_id}.md")
        self.tell(deal_id, "moved", target, source, None)

    # --- what must hold after every step --------------------------------------------------------

    @invariant()
    def files_are_where_and_what_the_model_says(self):
        on_disk = {
            (p.parent.name, p.stem) for p in self.root.glob("*/*.md") if p.parent.name in STAGES
        }
        assert on_disk == {(d.stage, i) for i, d in self.deals.items()}
        for deal_id, deal in self.deals.items():
            path = self.path(deal_id)
            data = path.read_bytes()
            parsed = parse_deal(data, path, deal.stage)
            for key, value in deal.fields.items():
                assert parsed.fields.get(key) == value, (deal_id, key)
            for key in ("closed", "lost_reason", "next_step_due"):
                if key not in deal.fields:
                    assert key not in parsed.fields, (deal_id, key)
            assert (parsed.fields.get("touchpoints") or []) == deal.touchpoints
            assert split(data.decode("utf-8")).body == deal.body

    @invariant()
    def one_commit_per_change_and_a_clean_tree(self):
        assert int(git(self.root, "rev-list", "--count", "HEAD")) == self.commits
        assert git(self.root, "status", "--porcelain") == ""

    def check_history(self):
        r = self.cli("history", "--json")
        assert r.exit_code == 0, r.output
        told: dict[str, list[tuple[Any, ...]]] = {}
        for e in json.loads(r.stdout)["events"]:
            told.setdefault(e["deal"], []).append(
                (e["kind"], e["stage"], e["from_stage"], e["action"])
            )
        assert told == self.story


PipelineMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
test_pipeline_against_its_model = PipelineMachine.TestCase
