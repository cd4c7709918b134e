"""pipectl serve end to end in a real headless Chromium (Playwright driving the system's
/usr/bin/chromium; no browser is downloaded): one browser and one server for the module."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from conftest import QUALIFIED, Cli, commit_count, git, make_repo
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pipectl.serve import run
from pipectl.serve.app import create_app

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("served") / "repo")
    cli = Cli(repo)
    assert cli("init").exit_code == 0
    for args in (
        ("Acme", "--value", "12000", "--owner", "alice"),
        ("Globex", "--value", "30000", "--owner", "bob", *QUALIFIED),
        ("Initech", "--value", "5000", "--owner", "alice"),
    ):
        result = cli("add", *args, "--stage", "qualifying")
        assert result.exit_code == 0, result.output
    assert cli("log", "initech", "email", "Intro sent").exit_code == 0
    return repo


@pytest.fixture(scope="module")
def url(root: Path) -> Iterator[str]:
    """The app served by uvicorn in a thread of this process, as `pipectl serve` runs it."""
    port = free_port()
    app = create_app(root, run.names("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if "Security Policy" in m.text else None)
    yield page
    context.close()
    assert not errors, errors  # no script error, nothing the CSP had to refuse


def test_drag_a_card_to_the_next_column_is_one_commit(page: Page, url: str, root: Path) -> None:
    before = commit_count(root)
    page.goto(url + "/")
    page.drag_and_drop('.card[data-deal="globex"]', '.column[data-stage="connecting"]')
    expect(
        page.locator('.column[data-stage="connecting"] .card[data-deal="globex"]')
    ).to_be_visible()
    expect(page.locator("#flash")).to_contain_text("qualifying -> connecting")
    assert commit_count(root) == before + 1
    assert (root / "connecting" / "globex.md").exists()
    assert not (root / "qualifying" / "globex.md").exists()
    message = git(root, "log", "-1", "--format=%B")
    assert message.startswith("move globex: qualifying -> connecting")
    assert "Pipectl-Action: move" in message and "Pipectl-Deal: globex" in message


def test_a_refused_gate_shows_the_missing_fields_and_changes_nothing(
    page: Page, url: str, root: Path
) -> None:
    before, head = commit_count(root), (root / "qualifying" / "acme.md").read_bytes()
    page.goto(url + "/")
    page.drag_and_drop('.card[data-deal="acme"]', '.column[data-stage="connecting"]')
    dialog = page.locator("dialog#gate")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".missing")).to_contain_text("qualification.budget")
    expect(dialog.locator(".why")).to_contain_text("cannot enter connecting")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert commit_count(root) == before
    assert (root / "qualifying" / "acme.md").read_bytes() == head
    expect(page.locator('.column[data-stage="qualifying"] .card[data-deal="acme"]')).to_be_visible()


def test_log_a_touchpoint_from_the_deal_page_adds_one_line(
    page: Page, url: str, root: Path
) -> None:
    path = root / "qualifying" / "initech.md"
    before = path.read_text().splitlines(keepends=True)
    page.goto(url + "/deal/initech")
    form = page.locator('form[data-action="log"]')
    form.locator('select[name="kind"]').select_option("call")
    form.locator('select[name="outcome"]').select_option("positive")
    form.locator('input[name="summary"]').fill("Talked budget <b>really</b>")
    form.get_by_role("button", name="Log").click()
    expect(page.locator("#flash")).to_contain_text("logged call on initech")
    expect(page.locator("table.touchpoints")).to_contain_text("Talked budget <b>really</b>")
    after = path.read_text().splitlines(keepends=True)
    added = [line for line in after if line not in before]
    assert len(after) == len(before) + 1 and len(added) == 1, added
    assert "Talked budget <b>really</b>" in added[0] and "positive" in added[0]
    assert [line for line in after if line != added[0]] == before  # every other byte kept
    assert git(root, "log", "-1", "--format=%s").startswith("log initech: call")


def test_a_field_edited_through_its_widget_is_one_set_commit(
    page: Page, url: str, root: Path
) -> None:
    before = commit_count(root)
    page.goto(url + "/deal/acme")
    form = page.locator('form[data-action="set"]')
    form.locator('input[name="value"]').fill("14500")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#flash")).to_contain_text("updated acme (value)")
    assert commit_count(root) == before + 1
    assert "value: 14500\n" in (root / "qualifying" / "acme.md").read_text()
    expect(page.locator("table.fields")).to_contain_text("14500")


def test_a_hand_edit_appears_in_the_open_page(page: Page, url: str, root: Path) -> None:
    page.goto(url + "/")
    card = page.locator('.card[data-deal="initech"]')
    expect(card).to_contain_text("5,000")
    path = root / "qualifying" / "initech.md"
    path.write_text(re.sub(r"value: 5000", "value: 7500", path.read_text()))
    expect(card).to_contain_text("7,500", timeout=10_000)


@pytest.mark.parametrize("path", ["/", "/deal/globex", "/agenda", "/search?q=acme"])
def test_a_phone_width_page_does_not_overflow(browser: Browser, url: str, path: str) -> None:
    """At 390 px every page fits: no sideways scrolling, no text cut at the edge."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
    finally:
        context.close()
