"""Summaries without quotes: `log` and `next` take the rest of the words as the text, with
options before, between or after them, through the CLI on a real repo."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, git


def _deal(pipeline: Path) -> str:
    return (pipeline / "prospecting" / "acme.md").read_text()


def _touchpoints(cli: Cli) -> list[tuple[str, str, str | None]]:
    r = cli("show", "acme", "--json")
    return [
        (t["kind"], t["summary"], t.get("outcome"))
        for t in json.loads(r.stdout)["fields"]["touchpoints"]
    ]


def test_log_takes_the_rest_of_the_words(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Acme").exit_code == 0
    r = cli("log", "acme", "call", "discovery", "went", "well", "--outcome", "replied")
    assert r.exit_code == 0, r.output
    assert "kind: call, summary: discovery went well, outcome: replied}" in _deal(pipeline)
    subject = git(pipeline, "log", "-1", "--format=%s").strip()
    assert subject == "log acme: call — discovery went well"
    r = cli("log", "acme", "email", "--outcome", "no-reply", "sent", "pricing", "-o", "no-reply")
    assert r.exit_code == 0, r.output
    assert "kind: email, summary: sent pricing, outcome: no-reply}" in _deal(pipeline)


def test_one_quoted_summary_is_kept_as_typed(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Acme").exit_code == 0
    assert cli("log", "acme", "note", "two  spaces, kept").exit_code == 0
    assert _touchpoints(cli) == [("note", "two  spaces, kept", None)]


def test_words_that_look_like_options_follow_a_double_dash(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Acme").exit_code == 0
    r = cli("log", "acme", "note", "--outcome", "replied", "--", "-10%", "asked", "--for")
    assert r.exit_code == 0, r.output
    assert _touchpoints(cli) == [("note", "-10% asked --for", "replied")]


def test_next_takes_the_rest_of_the_words(cli: Cli, pipeline: Path, monkeypatch) -> None:
    monkeypatch.setenv("PIPECTL_TODAY", "2026-01-30")
    assert cli("add", "Acme").exit_code == 0
    r = cli("next", "acme", "send", "the", "pricing", "proposal", "--due", "mon")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "next step for acme: send the pricing proposal (due 2026-02-02)"
    text = _deal(pipeline)
    assert "next_step: send the pricing proposal\n" in text
    assert "next_step_due: 2026-02-02\n" in text


def test_no_words_at_all_is_a_usage_error(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Acme").exit_code == 0
    before = _deal(pipeline)
    for args in (("log", "acme", "call"), ("next", "acme", "--due", "tomorrow")):
        r = cli(*args)
        assert r.exit_code == 2, r.output
        assert "missing argument" in r.stderr
    assert _deal(pipeline) == before
