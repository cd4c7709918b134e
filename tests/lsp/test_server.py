"""`pipectl lsp` end to end over stdio, driven by a real LSP client (pytest-lsp).

Diagnostics are exactly `pipectl lint --format json`'s for the saved file, then follow the
unsaved text; completion offers criteria, stages, owners, kinds and ISO dates; hover shows a
rule's docs; a code action's edit gives the bytes `pipectl log` / `next` / `set` write. One
server process for the module.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from world import (
    CLEAN,
    ENV,
    PROBLEMS,
    TODAY,
    apply_edits,
    as_findings,
    copy_world,
    lint_findings,
    lint_json,
    make_world,
    pipectl,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_world(tmp_path_factory.mktemp("lsp"))


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "pipectl", "lsp"], server_env=ENV
    ),
)
async def client(lsp_client: LanguageClient, world: Path):
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=world.as_uri()
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


_versions: dict[str, int] = {}


async def published(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    """The next diagnostics published for `uri` (a closed document's clearing may come first)."""
    while True:
        params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri:
            return list(params.diagnostics)


async def open_doc(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    uri = path.as_uri()
    _versions[uri] = 1
    item = types.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=text)
    waiting = published(client, uri)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
    return await waiting


async def change_doc(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    uri = path.as_uri()
    _versions[uri] += 1
    whole = types.TextDocumentContentChangeWholeDocument(text=text)
    doc = types.VersionedTextDocumentIdentifier(uri=uri, version=_versions[uri])
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(text_document=doc, content_changes=[whole])
    )
    return await published(client, uri)


async def close_doc(client: LanguageClient, path: Path) -> None:
    """Close, and wait for the server to clear the document's diagnostics."""
    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    waiting = published(client, doc.uri)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc))
    assert await waiting == []


async def test_open_gives_exactly_lints_findings(client: LanguageClient, world: Path) -> None:
    rel = "prospecting/acme.md"
    expected = lint_findings(lint_json(world, rel))
    assert {f[0] for f in expected} >= {"PL102", "PL202"}  # the deal is as bad as meant
    found = await open_doc(client, world / rel, PROBLEMS)
    assert as_findings(found) == expected
    for d in found:
        assert d.source == "pipectl"
        assert d.code_description is not None
        assert d.code_description.href.endswith("docs/lint.md")
    await close_doc(client, world / rel)


async def test_a_clean_deal_has_no_diagnostics(client: LanguageClient, world: Path) -> None:
    rel = "qualifying/globex.md"
    assert lint_json(world, rel) == []
    assert await open_doc(client, world / rel, CLEAN) == []
    await close_doc(client, world / rel)


async def test_changes_in_memory_are_linted(client: LanguageClient, world: Path) -> None:
    path = world / "prospecting" / "acme.md"
    await open_doc(client, path, PROBLEMS)
    fixed = PROBLEMS.replace("value: 12000\n", "value: 12000\nowner: carol\ncreated: 2026-11-20\n")
    codes = {d.code for d in await change_doc(client, path, fixed)}
    assert "PL202" not in codes and "PL102" not in codes
    broken = fixed.replace("need: yes", "need: [yes")
    after = await change_doc(client, path, broken)
    assert [d.code for d in after] == ["PL101"]
    assert path.read_text(encoding="utf-8") == PROBLEMS  # the server never writes
    # the unsaved text, saved, is what lint then reports: the two agree
    copy = copy_world(world, path.parents[2] / "saved")
    (copy / "prospecting" / "acme.md").write_text(fixed, encoding="utf-8")
    again = await change_doc(client, path, fixed)
    assert as_findings(again) == lint_findings(lint_json(copy, "prospecting/acme.md"))
    await close_doc(client, path)


async def test_a_lint_ignore_in_the_buffer_is_obeyed(client: LanguageClient, world: Path) -> None:
    path = world / "prospecting" / "acme.md"
    await open_doc(client, path, PROBLEMS)
    ignored = PROBLEMS.replace("value: 12000\n", "value: 12000\nlint-ignore: {PL202: shared}\n")
    codes = [d.code for d in await change_doc(client, path, ignored)]
    assert "PL202" not in codes and "PL102" in codes
    await close_doc(client, path)


async def test_pipeline_yaml_refusal_at_its_line(client: LanguageClient, world: Path) -> None:
    path = world / "pipeline.yaml"
    text = path.read_text(encoding="utf-8")
    found = await open_doc(client, path, text)  # the pipeline-wide rules' findings
    assert as_findings(found) == lint_findings(lint_json(world, "pipeline.yaml"))
    assert [d.code for d in found] == ["PL603"]
    bad = text.replace("  gate: connecting", "  gate: nowhere")
    assert bad != text
    (found,) = await change_doc(client, path, bad)
    assert found.code == "config" and "qualification.gate" in found.message, found.message
    row = next(i for i, ln in enumerate(bad.splitlines()) if ln.startswith("  gate: nowhere"))
    assert found.range.start.line == row
    # a valid change is linted as the buffer says (tests/lsp/test_focus.py: never a replay)
    quiet = text.replace("rules: {}", "rules: {thin-funnel: {min_deals: 1}}")
    assert quiet != text
    assert await change_doc(client, path, quiet) == []
    await close_doc(client, path)


async def complete_at(
    client: LanguageClient, path: Path, text: str, line: int, character: int
) -> list[types.CompletionItem]:
    await open_doc(client, path, text)
    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=types.Position(line, character))
    )
    await close_doc(client, path)
    assert isinstance(result, types.CompletionList)
    return result.items


async def test_completion_offers_criteria_and_fields(client: LanguageClient, world: Path) -> None:
    path = world / "prospecting" / "acme.md"
    text = PROBLEMS.replace("  need: yes\n", "  need: yes\n  ti\n")
    row = text.split("\n").index("  ti")
    labels = [i.label for i in await complete_at(client, path, text, row, 4)]
    assert labels == ["budget", "need", "fit", "timeline"]
    text = PROBLEMS.replace("value: 12000\n", "value: 12000\now\n")
    row = text.split("\n").index("ow")
    items = await complete_at(client, path, text, row, 2)
    labels = [i.label for i in items]
    assert "owner" in labels and "created" in labels and "title" not in labels
    owner = next(i for i in items if i.label == "owner")
    assert owner.text_edit is not None and owner.text_edit.new_text == "owner: "


async def test_completion_of_values(client: LanguageClient, world: Path) -> None:
    path = world / "prospecting" / "acme.md"
    text = PROBLEMS.replace("value: 12000\n", "value: 12000\nowner: \n")
    row = text.split("\n").index("owner: ")
    owners = await complete_at(client, path, text, row, 7)
    assert [i.label for i in owners] == ["carol", "dmitri"]
    text = PROBLEMS.replace("next_step_due: 2026-11-01", "next_step_due: tomorrow")
    row = text.split("\n").index("next_step_due: tomorrow")
    items = await complete_at(client, path, text, row, len("next_step_due: tomorrow"))
    tomorrow = next(i for i in items if i.label == "tomorrow")
    assert tomorrow.text_edit is not None
    assert tomorrow.text_edit.new_text == "2026-12-03"  # TODAY + 1
    assert tomorrow.text_edit.range.start.character == len("next_step_due: ")
    line = "  - {date: 2026-11-20, kind: "
    text = PROBLEMS.replace("touchpoints:\n", f"touchpoints:\n{line}\n")
    row = text.split("\n").index(line)
    kinds = [i.label for i in await complete_at(client, path, text, row, len(line))]
    assert kinds[:3] == ["call", "email", "meeting"]
    line = "  - {date: 2026-11-20, kind: call, summary: Demo, outcome: "
    text = PROBLEMS.replace("touchpoints:\n", f"touchpoints:\n{line}\n")
    row = text.split("\n").index(line)
    outcomes = [i.label for i in await complete_at(client, path, text, row, len(line))]
    assert outcomes[:2] == ["replied", "no-reply"]
    text = PROBLEMS.replace("value: 12000\n", "value: 12000\nlost_reason: \n")
    row = text.split("\n").index("lost_reason: ")
    reasons = [i.label for i in await complete_at(client, path, text, row, len("lost_reason: "))]
    assert reasons[:3] == ["price", "competitor", "no-budget"]  # the enum's values
    line = "lint-ignore: {PL202: shared, PL3"
    text = PROBLEMS.replace("value: 12000\n", f"value: 12000\n{line}\n")
    row = text.split("\n").index(line)
    codes = [i.label for i in await complete_at(client, path, text, row, len(line))]
    assert "PL301" in codes and "PL202" in codes
    assert TODAY == "2026-12-02"


async def test_completion_offers_stages_in_pipeline_yaml(
    client: LanguageClient, world: Path
) -> None:
    path = world / "pipeline.yaml"
    text = path.read_text(encoding="utf-8")
    row = next(i for i, ln in enumerate(text.split("\n")) if ln.startswith("  gate: "))
    items = await complete_at(client, path, text, row, len("  gate: "))
    stages = [i.label for i in items]
    assert stages == ["prospecting", "qualifying", "connecting", "closing", "won", "lost"]


async def test_hover_on_a_rule_code_and_a_field(client: LanguageClient, world: Path) -> None:
    path = world / "prospecting" / "acme.md"
    text = PROBLEMS.replace("value: 12000\n", "value: 12000\nlint-ignore: {PL202: shared}\n")
    await open_doc(client, path, text)
    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    row = text.split("\n").index("lint-ignore: {PL202: shared}")
    rule = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=types.Position(row, 16))
    )
    expected = pipectl(world, "rule", "PL202").stdout.strip()
    assert rule is not None and expected in rule.contents.value  # type: ignore[union-attr]
    row = text.split("\n").index("next_step_due: 2026-11-01")
    field = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=types.Position(row, 3))
    )
    assert field is not None and "When the next step is due." in field.contents.value  # type: ignore[union-attr]
    row = text.split("\n").index("  need: yes")
    criterion = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=types.Position(row, 3))
    )
    assert criterion is not None and "qualification criterion" in criterion.contents.value  # type: ignore[union-attr]
    await close_doc(client, path)


async def test_hover_on_a_rule_name_in_pipeline_yaml(client: LanguageClient, world: Path) -> None:
    path = world / "pipeline.yaml"
    text = path.read_text(encoding="utf-8").replace("rules: {}", "rules:\n  stale: {days: 10}")
    await open_doc(client, path, text)
    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    row = text.split("\n").index("  stale: {days: 10}")
    found = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=types.Position(row, 4))
    )
    expected = pipectl(world, "rule", "stale").stdout.strip()
    assert found is not None and expected in found.contents.value  # type: ignore[union-attr]
    await close_doc(client, path)


async def code_actions(
    client: LanguageClient, path: Path, text: str, diagnostics: list[types.Diagnostic]
) -> dict[str, str]:
    """Each action's title and the text its edit makes of `text`."""
    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    span = types.Range(types.Position(0, 0), types.Position(0, 0))
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc, range=span, context=types.CodeActionContext(diagnostics=diagnostics)
        )
    )
    out = {}
    for action in result or []:
        assert isinstance(action, types.CodeAction) and action.edit is not None
        assert action.edit.changes is not None
        out[action.title] = apply_edits(text, list(action.edit.changes[path.as_uri()]))
    return out


async def test_code_actions_write_the_clis_bytes(
    client: LanguageClient, world: Path, tmp_path: Path
) -> None:
    path = world / "prospecting" / "acme.md"
    found = await open_doc(client, path, PROBLEMS)
    made = await code_actions(client, path, PROBLEMS, found)
    await close_doc(client, path)
    copy = copy_world(world, tmp_path)
    target = copy / "prospecting" / "acme.md"

    def cli_writes(*args: str) -> str:
        target.write_text(PROBLEMS, encoding="utf-8")
        done = pipectl(copy, *args, "--no-commit")
        assert done.returncode == 0, done.stderr
        return target.read_bytes().decode("utf-8")

    summary = "Send the pricing proposal"
    assert made[f"Log a call today: {summary}"] == cli_writes("log", "acme", "call", summary)
    assert made[f"Log a meeting today: {summary}"] == cli_writes("log", "acme", "meeting", summary)
    assert made["Set next step due 2026-12-09"] == cli_writes(
        "next", "acme", summary, "--due", "+1w"
    )
    assert made["Add missing required field created"] == cli_writes(
        "set", "acme", "created=2026-11-20"
    )
    assert made["Snooze 2 weeks (until 2026-12-16)"] == cli_writes(
        "snooze", "acme", "--until", "+2w"
    )
    reason = "lint-ignore.PL202=why this deal is an exception"
    assert made["Add lint-ignore for PL202 (no-owner)"] == cli_writes("set", "acme", reason)
    assert path.read_text(encoding="utf-8") == PROBLEMS  # applied by the editor, not the server
