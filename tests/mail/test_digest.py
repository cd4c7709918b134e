"""`pipectl digest`: the agenda and what changed since the last working day; --format email is
an RFC 5322 message (text and HTML parts, To from the roster) that email.parser reads."""

from __future__ import annotations

import email.policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from conftest import Cli
from mail_fixtures import setup_sales


def at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """Commits from now on are made at `when` (git's author and committer dates)."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", when)
    monkeypatch.setenv("GIT_COMMITTER_DATE", when)


@pytest.fixture
def week(repo: Path, write_deal, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The sales pipeline made on 2026-11-20, a call logged on Thursday the 26th, an email on
    Friday the 27th."""
    cli = Cli(repo)
    at(monkeypatch, "2026-11-20T10:00:00+00:00")
    assert cli("init").exit_code == 0
    setup_sales(repo, write_deal)
    at(monkeypatch, "2026-11-26T10:00:00+00:00")
    assert cli("log", "acme", "call", "Thursday call", "--date", "2026-11-26").exit_code == 0
    at(monkeypatch, "2026-11-27T10:00:00+00:00")
    logged = cli("log", "globex", "email", "Friday note", "--date", "2026-11-27")
    assert logged.exit_code == 0, logged.output
    return cli


def test_monday_digest_has_the_agenda_and_fridays_changes(week: Cli) -> None:
    result = week("digest", "--today", "2026-11-30")  # a Monday: since Friday
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Agenda for everyone, 2026-11-30")
    assert "Pipeline changes 2026-11-27 to 2026-11-30" in out
    logged = out.split("Touchpoints logged by rep")[1]
    assert "email 1" in logged and "call" not in logged  # Friday's, not Thursday's


def test_tuesday_digest_is_since_monday(week: Cli) -> None:
    result = week("digest", "--today", "2026-11-27", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Digest for everyone, 2026-11-27\n")
    assert "## Pipeline changes 2026-11-26 to 2026-11-27" in result.output
    assert "| Test User | 2 | call 1, email 1 |" in result.output


def test_email_digest_parses_with_to_from_the_roster(week: Cli) -> None:
    result = week("digest", "--today", "2026-11-30", "--owner", "alice", "--format", "email")
    assert result.exit_code == 0, result.output
    msg = BytesParser(policy=email.policy.default).parsebytes(result.stdout_bytes)
    assert not msg.defects
    assert [a.addr_spec for a in msg["To"].addresses] == ["alice@ourco.example"]
    assert msg["To"].addresses[0].display_name == "Alice Smith"
    assert msg["Subject"].startswith("Digest for alice, 2026-11-30: ")
    assert msg["Date"].datetime is not None and msg["Message-ID"]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Agenda for alice, 2026-11-30")
    assert "zed-consulting" in text.split("Pipeline changes")[0]  # alice's deal to nudge
    assert "<h1>Digest for alice, 2026-11-30</h1>" in html and "email 1" in html


def test_email_digest_for_everyone_goes_to_the_team(week: Cli) -> None:
    result = week("digest", "--today", "2026-11-30", "--format", "email")
    assert result.exit_code == 0, result.output
    msg = BytesParser(policy=email.policy.default).parsebytes(result.stdout_bytes)
    assert [a.addr_spec for a in msg["To"].addresses] == [
        "alice@ourco.example",
        "carol@ourco.example",
    ]


def test_email_digest_for_someone_without_an_address_is_refused(week: Cli) -> None:
    result = week("digest", "--owner", "zoe", "--format", "email")
    assert result.exit_code == 2
    assert result.output.startswith("pipectl: error: --format email: 'zoe' is no one")
    bad = week("digest", "--format", "pdf")
    assert bad.exit_code == 2 and "--format must be one of text, markdown, email" in bad.output
