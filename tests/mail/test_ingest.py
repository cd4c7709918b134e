"""`pipectl ingest` on real mail files: a Maildir and an mbox written with the standard library,
and .eml files as mail clients write them; matches, directions, outcomes, idempotence."""

from __future__ import annotations

import difflib
import mailbox
import os
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from conftest import Cli, commit_count, git, last_commit_paths
from mail_fixtures import setup_sales


@pytest.fixture
def sales(pipeline: Path, write_deal) -> Path:
    return setup_sales(pipeline, write_deal)


@pytest.fixture
def sales_cli(sales: Path) -> Cli:
    return Cli(sales)


# Thunderbird-style: multipart/alternative, a UTF-8 encoded-word subject, a folded To header.
GLOBEX_UTF8 = b"""\
Message-ID: <c0ffee.1@globex.de>
Date: Tue, 24 Nov 2026 09:15:00 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
From: Greta Vogel <greta@globex.de>
To: Carol Jones <carol@ourco.example>,
 Alice Smith <alice@ourco.example>
Subject: =?UTF-8?B?QW5nZWJvdCBmw7xyIE3DvGxsZXIgJiBTw7ZobmU=?=
Content-Type: multipart/alternative;
 boundary="------------abc123"

This is a multi-part message in MIME format.
--------------abc123
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Secret pricing body text that must never be stored.

--------------abc123
Content-Type: text/html; charset=UTF-8

<p>Secret pricing body text that must never be stored.</p>
--------------abc123--
"""

# A scheduling service writes for Jane: the From is the service's, the Reply-To is hers;
# ISO-8859-1 quoted-printable encoded-word subject, folded across two lines.
ACME_REPLY_TO = b"""\
From: "Jane Doe via Booker" <notifications@booker.example>
Reply-To: Jane Doe <jane@acme.example>
To: alice@ourco.example
Subject: =?ISO-8859-1?Q?R=E9union_pr=E9vue?=
 =?ISO-8859-1?Q?_=E0_Paris?=
Date: Wed, 25 Nov 2026 16:00:00 +0000
Message-ID: <booking-77@booker.example>
Content-Type: text/plain; charset=ISO-8859-1

Body.
"""

# Alice forwards a message from another company to Jane: only the outer headers count.
FORWARD = b"""\
From: Alice Smith <alice@ourco.example>
To: Jane Doe <jane@acme.example>
Subject: Fwd: Case study
Date: Thu, 26 Nov 2026 10:00:00 +0000
Message-ID: <fwd-1@ourco.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XYZ"

--XYZ
Content-Type: text/plain

See below.
--XYZ
Content-Type: message/rfc822

From: Peter <peter@initech.example>
To: someone@elsewhere.example
Subject: The original
Message-ID: <inner@initech.example>

Inner body.
--XYZ--
"""


def message(mid: str, sender: str, to: str, subject: str, date: str, **extra: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Message-ID"] = mid
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = date
    for key, value in extra.items():
        msg[key.replace("_", "-")] = value
    msg.set_content("A body pipectl never reads.\n")
    return msg


def write_mail(tmp: Path) -> Path:
    """~/Mail: a Maildir of what Alice sent, an mbox inbox, and .eml files from clients."""
    root = tmp / "Mail"
    root.mkdir()
    sent = mailbox.Maildir(root / "Sent", create=True)
    sent.add(
        message(
            "<m1@ourco.example>",
            "Alice Smith <alice@ourco.example>",
            "Jane Doe <jane@acme.example>",
            "Pricing for 50 seats",
            "Fri, 20 Nov 2026 10:00:00 +0000",
        )
    )
    sent.add(
        message(
            "<m2@ourco.example>",
            "Carol Jones <carol@ourco.example>",
            "Bob Stone <bob@globex.example>",
            "Intro",
            "Sat, 21 Nov 2026 10:00:00 +0000",
        )
    )
    sent.add(  # only the team: no deal's
        message(
            "<m3@ourco.example>",
            "alice@ourco.example",
            "carol@ourco.example",
            "Lunch?",
            "Sat, 21 Nov 2026 12:00:00 +0000",
        )
    )
    sent.close()
    inbox = mailbox.mbox(root / "INBOX", create=True)
    inbox.add(
        message(
            "<r1@acme.example>",
            "Jane Doe <JANE@Acme.Example>",
            "alice@ourco.example",
            "Re: Pricing for 50 seats",
            "Mon, 23 Nov 2026 08:30:00 -0500",
            In_Reply_To="<m1@ourco.example>",
            References="<m1@ourco.example>",
        )
    )
    inbox.add(
        message(
            "<spam@unknown.example>",
            "stranger@unknown.example",
            "alice@ourco.example",
            "Buy now",
            "Mon, 23 Nov 2026 09:00:00 +0000",
        )
    )
    inbox.add(  # gmail is nobody's company: Zed's address matches, his provider does not
        message(
            "<g1@gmail.com>",
            "someone.else@gmail.com",
            "alice@ourco.example",
            "Hello",
            "Mon, 23 Nov 2026 09:30:00 +0000",
        )
    )
    inbox.add(
        message(
            "<p1@initech.example>",
            "peter@initech.example",
            "alice@ourco.example",
            "Back again",
            "Mon, 23 Nov 2026 10:00:00 +0000",
        )
    )
    inbox.flush()
    inbox.close()
    (root / "clients").mkdir()
    (root / "clients" / "globex.eml").write_bytes(GLOBEX_UTF8)
    (root / "clients" / "booking.eml").write_bytes(ACME_REPLY_TO)
    (root / "clients" / "forward.eml").write_bytes(FORWARD)
    return root


def touchpoints(repo: Path, path: str) -> list[dict]:
    text = (repo / path).read_text()
    return yaml.safe_load(text.split("---")[1])["touchpoints"]


def test_ingest_matches_directions_outcomes_and_a_second_run_changes_nothing(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    mail = write_mail(tmp_path)
    before = commit_count(sales)
    result = sales_cli("ingest", str(mail))
    assert result.exit_code == 0, result.output
    assert commit_count(sales) == before + 1  # one run, one commit
    assert last_commit_paths(sales) == ["prospecting/acme.md", "qualifying/globex.md"]
    message = git(sales, "log", "-1", "--format=%B")
    assert "Pipectl-Action: ingest" in message
    assert "Pipectl-Deal: acme" in message and "Pipectl-Deal: globex" in message

    acme = touchpoints(sales, "prospecting/acme.md")
    assert acme[0] == {
        "date": __import__("datetime").date(2026, 11, 2),
        "kind": "call",
        "summary": "Discovery call",
        "outcome": "replied",
    }
    logged = {t["message_id"]: t for t in acme[1:]}
    assert set(logged) == {
        "<m1@ourco.example>",
        "<r1@acme.example>",
        "<booking-77@booker.example>",
        "<fwd-1@ourco.example>",
    }
    m1 = logged["<m1@ourco.example>"]
    assert (m1["direction"], m1["outcome"], m1["kind"]) == ("sent", "replied", "email")
    assert m1["summary"] == "Pricing for 50 seats"
    assert str(m1["date"]) == "2026-11-20"
    r1 = logged["<r1@acme.example>"]
    assert (r1["direction"], r1["outcome"], str(r1["date"])) == (
        "received",
        "replied",
        "2026-11-23",
    )
    booking = logged["<booking-77@booker.example>"]  # matched through Reply-To, decoded, unfolded
    assert booking["summary"] == "Réunion prévue à Paris"
    assert booking["direction"] == "received"
    fwd = logged["<fwd-1@ourco.example>"]
    assert (fwd["direction"], fwd["outcome"]) == ("sent", "no-reply")

    globex = {t["message_id"]: t for t in touchpoints(sales, "qualifying/globex.md")}
    assert globex["<m2@ourco.example>"]["outcome"] == "no-reply"
    greta = globex["<c0ffee.1@globex.de>"]  # by the domains: field
    assert greta["summary"] == "Angebot für Müller & Söhne"
    assert (greta["direction"], str(greta["date"])) == ("received", "2026-11-24")

    text = (sales / "qualifying" / "globex.md").read_text()
    assert "Secret pricing" not in text  # headers only: bodies are never stored
    assert "initech" not in (sales / "prospecting" / "acme.md").read_text()

    out = result.output
    assert "unmatched (4):" in out
    assert "Lunch? — only the team's addresses" in out
    assert "Buy now — no open deal's contact or domain" in out
    assert "Hello — no open deal's contact or domain" in out
    assert "Back again — no open deal's contact or domain (closed deals only: initech)" in out

    files = {p: (sales / p).read_bytes() for p in ("prospecting/acme.md", "qualifying/globex.md")}
    again = sales_cli("ingest", str(mail))
    assert again.exit_code == 0, again.output
    assert commit_count(sales) == before + 1
    assert {p: (sales / p).read_bytes() for p in files} == files
    assert "0 changes, 6 already logged, 4 unmatched" in again.output


def test_a_late_reply_marks_the_outreach_replied_changing_only_its_outcome(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    mail = write_mail(tmp_path)
    assert sales_cli("ingest", str(mail)).exit_code == 0
    path = sales / "qualifying" / "globex.md"
    before = path.read_text()
    reply = message(
        "<r2@globex.example>",
        "Bob Stone <bob@globex.example>",
        "carol@ourco.example",
        "Re: Intro",
        "Mon, 30 Nov 2026 09:00:00 +0000",
        In_Reply_To="<m2@ourco.example>",
    )
    late = tmp_path / "late.eml"
    late.write_bytes(reply.as_bytes())
    result = sales_cli("ingest", str(mail), str(late))
    assert result.exit_code == 0, result.output
    assert "marked globex: Intro replied" in result.output
    after = path.read_text()
    diff = [ln for ln in difflib.ndiff(before.splitlines(), after.splitlines()) if ln[:1] in "+-"]
    gone, added = [ln[2:] for ln in diff if ln[0] == "-"], [ln[2:] for ln in diff if ln[0] == "+"]
    assert len(gone) == 1 and gone[0].replace("outcome: no-reply", "outcome: replied") == added[0]
    assert len(added) == 2 and "message_id: <r2@globex.example>" in added[1]


def test_dry_run_shows_the_plan_and_writes_nothing(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    mail = write_mail(tmp_path)
    before = commit_count(sales)
    result = sales_cli("ingest", "--dry-run", str(mail / "Sent"))
    assert result.exit_code == 0, result.output
    assert "would log acme: email sent 2026-11-20 Pricing for 50 seats (no-reply)" in result.output
    assert "would log globex: email sent 2026-11-21 Intro (no-reply)" in result.output
    assert "dry run: nothing written" in result.output
    assert commit_count(sales) == before
    assert git(sales, "status", "--porcelain") == ""


def test_several_deals_on_one_address_are_narrowed_by_owner_or_left_unmatched(
    sales_cli: Cli, sales: Path, tmp_path: Path, write_deal
) -> None:
    write_deal(
        sales,
        "prospecting",
        "acme-upsell",
        "---\ntitle: Acme upsell\ncontact: jane@acme.example\nowner: carol\n"
        "created: 2026-11-01\n---\n",
    )
    git(sales, "add", "-A")
    git(sales, "commit", "-q", "-m", "upsell")
    carol = tmp_path / "carol.eml"
    carol.write_bytes(
        message(
            "<c1@ourco.example>",
            "carol@ourco.example",
            "jane@acme.example",
            "Upsell",
            "Tue, 1 Dec 2026 10:00:00 +0000",
        ).as_bytes()
    )
    outside = tmp_path / "outside.eml"
    outside.write_bytes(
        message(
            "<o1@acme.example>",
            "jane@acme.example",
            "info@ourco.example",
            "Hi all",
            "Tue, 1 Dec 2026 11:00:00 +0000",
        ).as_bytes()
    )
    result = sales_cli("ingest", str(carol), str(outside))
    assert result.exit_code == 0, result.output
    assert "logged acme-upsell: email sent 2026-12-01 Upsell" in result.output
    assert "Hi all — several deals: acme, acme-upsell" in result.output


def test_bad_paths_are_one_line_errors(sales_cli: Cli, tmp_path: Path) -> None:
    result = sales_cli("ingest", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("pipectl: error:")
    assert "nope: no such file or folder" in result.output


def test_the_schema_checks_what_ingest_keeps(sales_cli: Cli, sales: Path, write_deal) -> None:
    write_deal(
        sales,
        "prospecting",
        "odd",
        "---\ntitle: Odd\ncreated: 2026-11-01\ndomains: [odd.example]\ntouchpoints:\n"
        "  - {date: 2026-11-02, kind: email, summary: x, direction: sideways}\n"
        "  - {date: 2026-11-03, kind: email, summary: y, message_id: [1, 2]}\n---\n",
    )
    result = sales_cli("lint", "--select", "PL103", "--today", "2026-12-01")
    assert "touchpoint 1: direction 'sideways' is not one of sent, received" in result.output
    assert "touchpoint 2: message_id must be text on one line" in result.output
    assert "domains" not in result.output


def test_a_fifo_is_never_opened(sales_cli: Cli, sales: Path, tmp_path: Path) -> None:
    folder = tmp_path / "box"
    folder.mkdir()
    os.mkfifo(folder / "stuck.eml")
    os.mkfifo(folder / "stuck.ics")
    (folder / "ok.eml").write_bytes(ACME_REPLY_TO)
    result = sales_cli("ingest", str(folder))  # in a folder: passed over, never a hang
    assert result.exit_code == 0, result.output
    assert "1 change" in result.output
    direct = sales_cli("ingest", str(folder / "stuck.eml"))
    assert direct.exit_code == 2 and "stuck.eml: not a regular file; not read" in direct.output
    cal = sales_cli("ingest", str(folder / "stuck.ics"))
    assert cal.exit_code == 2 and "stuck.ics: not a regular file; not read" in cal.output


def test_hostile_headers_are_logged_safely_or_listed(
    sales_cli: Cli, sales: Path, tmp_path: Path
) -> None:
    box = tmp_path / "hostile"
    box.mkdir()
    (box / "random.eml").write_bytes(bytes(range(256)) * 8)
    (box / "raw.eml").write_bytes(  # an unencoded Latin-1 byte and a control character
        b"Message-ID: <raw@acme.example>\nDate: Tue, 24 Nov 2026 09:15:00 +0100\n"
        b"From: jane@acme.example\nTo: alice@ourco.example\nSubject: caf\xe9 \x01 "
        + b"x" * 5000
        + b"\n\nbody\n"
    )
    (box / "old.eml").write_bytes(
        b"Message-ID: <old@acme.example>\nDate: Mon, 5 Oct 2026 09:15:00 +0000\n"
        b"From: jane@acme.example\nTo: alice@ourco.example\nSubject: Long ago\n\n"
    )
    result = sales_cli("ingest", str(box))
    assert result.exit_code == 0, result.output
    assert "Long ago — before acme was created (2026-11-01)" in result.output
    assert "(no subject) — no Message-ID" in result.output
    logged = {t.get("message_id"): t for t in touchpoints(sales, "prospecting/acme.md")}
    summary = logged["<raw@acme.example>"]["summary"]
    assert summary.startswith("caf\ufffd x") and summary.endswith("…") and len(summary) == 200
    assert "<old@acme.example>" not in logged
    lint = sales_cli("lint", "--select", "PL103", "--today", "2026-12-01")
    assert "PL103" not in lint.output


def test_a_deal_in_two_stages_is_named_not_logged_on(
    sales_cli: Cli, sales: Path, tmp_path: Path, write_deal
) -> None:
    write_deal(
        sales, "qualifying", "acme", "---\ntitle: Acme again\ncontact: jane@acme.example\n---\n"
    )
    mail = tmp_path / "m.eml"
    mail.write_bytes(ACME_REPLY_TO)
    result = sales_cli("ingest", str(mail))
    assert result.exit_code == 0, result.output
    assert "no open deal's contact or domain (in two stages, lint PL104: acme)" in result.output
    assert "0 changes" in result.output
