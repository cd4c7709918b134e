"""pipectl serve through Starlette's TestClient: the pages read what the CLI reads, every
change is the CLI's operation (one commit), and the guards refuse what is not our own page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import QUALIFIED, Cli, commit_count, git
from starlette.testclient import TestClient

from pipectl.errors import UsageError
from pipectl.serve import run
from pipectl.serve.app import create_app

BASE = "http://127.0.0.1:8765"
HOSTS = run.names("127.0.0.1", 8765)


@pytest.fixture
def served(cli: Cli, pipeline: Path) -> TestClient:
    assert cli("add", "Acme", "--stage", "qualifying", "--value", "12000", "--owner", "alice")
    assert cli("add", "Globex", "--stage", "qualifying", *QUALIFIED).exit_code == 0
    return TestClient(create_app(pipeline, HOSTS), base_url=BASE)


def token_of(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    assert found
    return found.group(1)


def version_of(client: TestClient, deal: str) -> str:
    found = re.search(
        r'data-deal="' + deal + r'" data-version="([0-9a-f]+)"', client.get(f"/deal/{deal}").text
    )
    assert found
    return found.group(1)


def post(client: TestClient, action: str, body: dict, **headers: str):
    return client.post(f"/api/{action}", json=body, headers={"Origin": BASE, **headers})


def test_board_shows_columns_with_counts_totals_and_cards(served: TestClient) -> None:
    page = served.get("/")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: the CSP would refuse it anyway
    column = re.search(r'data-stage="qualifying">(.*?)</section>', page.text).group(1)
    assert '<span class="count">2</span>' in column and "12,000 USD" in column
    assert 'data-deal="acme"' in column and 'href="/deal/globex"' in column


def test_a_move_is_one_commit_with_the_cli_trailers(served: TestClient, pipeline: Path) -> None:
    token = token_of(served)
    before = commit_count(pipeline)
    res = post(
        served,
        "move",
        {"deal": "globex", "version": version_of(served, "globex"), "stage": "connecting"},
        **{"X-CSRF-Token": token},
    )
    assert res.status_code == 200, res.text
    assert commit_count(pipeline) == before + 1
    assert (pipeline / "connecting" / "globex.md").exists()
    message = git(pipeline, "log", "-1", "--format=%B")
    assert message.startswith("move globex: qualifying -> connecting")
    assert "Pipectl-Action: move" in message and "Pipectl-Deal: globex" in message


def test_a_gate_refuses_with_the_missing_fields_then_force(
    served: TestClient, pipeline: Path
) -> None:
    token = {"X-CSRF-Token": token_of(served)}
    before = commit_count(pipeline)
    body = {"deal": "acme", "version": version_of(served, "acme"), "stage": "connecting"}
    res = post(served, "move", body, **token)
    assert res.status_code == 409
    assert "qualification.budget" in res.json()["missing"]
    assert commit_count(pipeline) == before and (pipeline / "qualifying" / "acme.md").exists()
    res = post(served, "move", {**body, "force": True}, **token)
    assert res.status_code == 200, res.text
    assert "Pipectl-Forced: yes" in git(pipeline, "log", "-1", "--format=%B")


def test_a_change_on_stale_data_is_refused(served: TestClient, pipeline: Path) -> None:
    token = {"X-CSRF-Token": token_of(served)}
    old = version_of(served, "acme")
    path = pipeline / "qualifying" / "acme.md"
    path.write_text(path.read_text().replace("value: 12000", "value: 13000"))
    res = post(
        served, "log", {"deal": "acme", "version": old, "kind": "call", "summary": "Hi"}, **token
    )
    assert res.status_code == 409 and res.json()["stale"] is True
    assert res.json()["version"] == version_of(served, "acme")
    assert "Hi" not in path.read_text()


def test_log_next_and_lost_are_the_cli_operations(served: TestClient, pipeline: Path) -> None:
    token = {"X-CSRF-Token": token_of(served)}
    path = pipeline / "qualifying" / "acme.md"
    before = path.read_bytes()
    res = post(
        served,
        "log",
        {
            "deal": "acme",
            "version": version_of(served, "acme"),
            "kind": "call",
            "summary": "Discovery",
            "outcome": "positive",
        },
        **token,
    )
    assert res.status_code == 200, res.text
    added = path.read_bytes()
    assert added.startswith(before.split(b"\n---")[0]) and b"Discovery" in added
    assert git(pipeline, "log", "-1", "--format=%s").startswith("log acme: call")
    res = post(
        served,
        "next",
        {
            "deal": "acme",
            "version": version_of(served, "acme"),
            "step": "Send proposal",
            "due": "2030-01-02",
        },
        **token,
    )
    assert res.status_code == 200, res.text
    assert "next_step_due: 2030-01-02" in path.read_text()
    res = post(
        served,
        "lost",
        {"deal": "acme", "version": version_of(served, "acme"), "reason": "nope"},
        **token,
    )
    assert res.status_code == 400 and "unknown lost reason" in res.json()["error"]
    res = post(
        served,
        "lost",
        {"deal": "acme", "version": version_of(served, "acme"), "reason": "price"},
        **token,
    )
    assert res.status_code == 200 and (pipeline / "lost" / "acme.md").exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},  # a foreign page
        {"Origin": BASE, "X-CSRF-Token": "0" * 64},  # a wrong token
        {"Origin": BASE},  # no token
        {},  # no Origin at all
    ],
)
def test_a_post_not_from_our_page_is_refused(
    served: TestClient, pipeline: Path, headers: dict[str, str]
) -> None:
    token = token_of(served)
    if "X-CSRF-Token" not in headers and headers.get("Origin") != BASE:
        headers = {**headers, "X-CSRF-Token": token}  # the token alone does not do
    before = commit_count(pipeline)
    body = {"deal": "globex", "version": version_of(served, "globex"), "stage": "connecting"}
    res = served.post("/api/move", json=body, headers=headers)
    assert res.status_code == 403
    assert commit_count(pipeline) == before and (pipeline / "qualifying" / "globex.md").exists()


def test_a_foreign_host_is_refused_reads_and_writes(served: TestClient, pipeline: Path) -> None:
    token = token_of(served)
    rebound = TestClient(served.app, base_url="http://attacker.example:8765")
    assert rebound.get("/").status_code == 403
    rebound.cookies = served.cookies
    res = rebound.post(
        "/api/move",
        json={"deal": "globex", "stage": "connecting"},
        headers={"Origin": "http://attacker.example:8765", "X-CSRF-Token": token},
    )
    assert res.status_code == 403 and (pipeline / "qualifying" / "globex.md").exists()


def test_script_in_a_title_or_a_note_is_text(
    pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    write_deal(
        pipeline,
        "prospecting",
        "evil",
        (
            "---\ntitle: <script>alert(1)</script>\ncompany: <img src=x onerror=alert(2)>\n"
            "created: 2026-11-02\n---\n# Notes\n\n<script>alert(3)</script>\n\n"
            "[click](javascript:alert(4)) **bold**\n"
        ),
    )
    client = TestClient(create_app(pipeline, HOSTS), base_url=BASE)
    board = client.get("/").text
    assert "<img src=x" not in board and "&lt;img src=x onerror=alert(2)&gt;" in board
    page = client.get("/deal/evil").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page and "<strong>bold</strong>" in page


def test_the_deal_page_has_fields_touchpoints_history_and_findings(
    served: TestClient, cli: Cli
) -> None:
    assert cli("log", "acme", "call", "Discovery call").exit_code == 0
    assert cli("set", "acme", "value=15000").exit_code == 0
    page = served.get("/deal/acme").text
    assert "Discovery call" in page and "<th>owner</th><td>alice</td>" in page
    assert "12,000 → 15,000" in page  # the history's old → new, as `history acme` says
    assert "PL" in page.split("Findings")[1]  # lint's findings on it (unqualified, no next step)
    assert served.get("/deal/nope").status_code == 404


def test_agenda_search_report_and_version(served: TestClient, pipeline: Path) -> None:
    assert "Agenda" in served.get("/agenda?owner=alice").text
    hits = served.get("/search?q=acme").text
    assert 'href="/deal/acme"' in hits and "1 deals" in hits
    report = served.get("/report")
    assert report.status_code == 200 and "Pipeline dashboard" in report.text
    assert "sha256-" in report.headers["content-security-policy"]
    first = served.get("/api/version").json()["version"]
    path = pipeline / "qualifying" / "acme.md"
    path.write_text(path.read_text() + "\nA hand edit.\n")
    assert served.get("/api/version").json()["version"] != first


def test_static_assets_come_from_the_package(served: TestClient) -> None:
    script = served.get("/static/app.js")
    assert "addEventListener" in script.text
    assert script.headers["x-content-type-options"] == "nosniff"
    assert script.headers["content-security-policy"].startswith("default-src 'none'")
    assert served.get("/static/app.css").status_code == 200


def test_non_loopback_needs_host_and_warns() -> None:
    with pytest.raises(UsageError, match=r"--host 0\.0\.0\.0"):
        run.check_bind("0.0.0.0", explicit=False)
    with pytest.raises(UsageError):
        run.serve(Path("."), "192.168.1.5", 8765, explicit=False, warn=print, started=print)
    assert "no authentication" in (run.check_bind("192.168.1.5", explicit=True) or "")
    with pytest.raises(UsageError, match="answers to no name"):
        run.check_bind("::", explicit=True)
    assert run.check_bind("127.0.0.1", explicit=False) is None
    assert run.check_bind("localhost", explicit=False) is None
    assert run.check_bind("::1", explicit=False) is None


def test_set_fields_and_add_a_task_are_the_cli_operations(
    served: TestClient, pipeline: Path
) -> None:
    token = {"X-CSRF-Token": token_of(served)}
    path = pipeline / "qualifying" / "acme.md"
    page = served.get("/deal/acme").text
    assert 'type="number" step="any" name="value" data-initial="12000"' in page
    assert 'type="date" name="expected_close"' in page
    body = {"deal": "acme", "version": version_of(served, "acme")}
    res = post(served, "set", {**body, "values": {"value": "not money"}}, **token)
    assert res.status_code == 400 and "value" in res.json()["error"]
    res = post(
        served, "set", {**body, "values": {"value": "15000", "company": "Acme Inc"}}, **token
    )
    assert res.status_code == 200, res.text
    assert "value: 15000" in path.read_text() and "company: Acme Inc" in path.read_text()
    assert git(pipeline, "log", "-1", "--format=%s").strip() == "set acme: value, company"
    res = post(
        served,
        "task",
        {
            "deal": "acme",
            "version": version_of(served, "acme"),
            "summary": "Call legal",
            "due": "2030-01-05",
        },
        **token,
    )
    assert res.status_code == 200, res.text
    assert "summary: Call legal" in path.read_text()
    assert git(pipeline, "log", "-1", "--format=%s").startswith("task acme: Call legal")


def test_a_writer_between_the_check_and_the_lock_changes_nothing(
    served: TestClient, pipeline: Path
) -> None:
    """The operation's own read, under the clone's lock, is held to the page's version."""
    from pipectl import ops
    from pipectl.serve.actions import Pinned, Refused
    from pipectl.store import Pipeline

    old = version_of(served, "acme")
    path = pipeline / "qualifying" / "acme.md"
    path.write_text(path.read_text().replace("value: 12000", "value: 13000"))
    git(pipeline, "commit", "-qam", "another writer")
    before, data = commit_count(pipeline), path.read_bytes()
    pinned = Pinned(Pipeline.open(pipeline), "acme", old)
    with pytest.raises(Refused, match="changed while this change waited"):
        ops.log(pinned, "acme", "call", "Late", when=dt.date(2026, 12, 1))
    assert commit_count(pipeline) == before and path.read_bytes() == data


def test_cards_show_snoozed_and_overdue_marks(served: TestClient, cli: Cli) -> None:
    assert cli("snooze", "acme", "--until", "+2w").exit_code == 0
    assert cli("next", "globex", "Call back", "--due", "-3d").exit_code == 0
    board = served.get("/").text
    acme = re.search(r'data-deal="acme".*?</li>', board).group(0)
    globex = re.search(r'data-deal="globex".*?</li>', board).group(0)
    assert "snoozed to " in acme and "overdue" not in acme
    assert "overdue" in globex and "snoozed" not in globex


def test_a_broken_file_is_listed_and_bad_requests_are_one_error(
    served: TestClient, pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    write_deal(pipeline, "prospecting", "broken", "---\ntitle: [unclosed\n---\n")
    board = served.get("/")
    assert board.status_code == 200 and "1 files skipped" in board.text
    assert "prospecting/broken.md" in board.text
    assert served.get("/deal/broken").status_code == 404
    token = {"X-CSRF-Token": token_of(served)}
    res = served.post("/api/move", content=b"not json", headers={"Origin": BASE, **token})
    assert res.status_code == 400 and "JSON" in res.json()["error"]
    assert post(served, "explode", {"deal": "acme"}, **token).status_code == 404
    res = post(served, "move", {"deal": "nope", "version": "x", "stage": "closing"}, **token)
    assert res.status_code == 400 and "nope" in res.json()["error"]
