"""The language server: pygls over stdio, each feature a few lines over pipectl's core.

Diagnostics on open and on change (debounced), completion, hover and code actions. The
server never writes a file and never commits: a code action is a workspace edit that the
editor applies, and saving and committing stay the user's. Never prints (stdout is the
protocol).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from pipectl import dates
from pipectl.lsp import actions, complete, diagnostics
from pipectl.version import __version__

# An editor's own debounce is about this long: the last keystroke of a burst is linted, the
# ones before it are not
DEBOUNCE_SECONDS = 0.3


class PipectlServer(LanguageServer):
    """The server, with the pending lint of each document (one at a time per document)."""

    def __init__(self) -> None:
        super().__init__("pipectl", __version__)
        self.pending: dict[str, asyncio.Task[None]] = {}


server = PipectlServer()


def _place(uri: str) -> diagnostics.Place | None:
    path = to_fs_path(uri)
    if path is None or not path.endswith((".md", ".yaml")):
        return None
    where = diagnostics.place(Path(path))
    if where is None or not (where.rel.endswith(".md") or where.is_config):
        return None
    return where


def publish(ls: PipectlServer, uri: str) -> None:
    """Lint the document's text as it is now and send the editor its diagnostics."""
    where = _place(uri)
    if where is None:
        return
    doc = ls.workspace.get_text_document(uri)
    found = diagnostics.diagnostics(where, doc.source, dates.today())
    for d in found:  # code points to the units the client and server agreed on
        d.range = doc.position_codec.range_to_client_units(doc.lines, d.range)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=found, version=doc.version)
    )


def _later(ls: PipectlServer, uri: str) -> None:
    old = ls.pending.pop(uri, None)
    if old is not None:
        old.cancel()

    async def run() -> None:
        await asyncio.sleep(DEBOUNCE_SECONDS)
        ls.pending.pop(uri, None)
        publish(ls, uri)

    ls.pending[uri] = asyncio.get_running_loop().create_task(run())


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PipectlServer, params: types.DidOpenTextDocumentParams) -> None:
    publish(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: PipectlServer, params: types.DidChangeTextDocumentParams) -> None:
    _later(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: PipectlServer, params: types.DidSaveTextDocumentParams) -> None:
    # another file of the pipeline may have changed with it (a duplicate id, the config)
    publish(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: PipectlServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    pending = ls.pending.pop(uri, None)
    if pending is not None:
        pending.cancel()
    if _place(uri) is not None:  # a closed file's findings are lint's to show, not the editor's
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=[":", " ", "-"]),
)
def completion(ls: PipectlServer, params: types.CompletionParams) -> types.CompletionList | None:
    where = _place(params.text_document.uri)
    if where is None:
        return None
    doc = ls.workspace.get_text_document(params.text_document.uri)
    pos = doc.position_codec.position_from_client_units(doc.lines, params.position)
    items = complete.completions(where, doc.source, pos.line, pos.character, dates.today())
    for item in items:  # code points to the client's units
        if isinstance(item.text_edit, types.TextEdit):
            span = doc.position_codec.range_to_client_units(doc.lines, item.text_edit.range)
            item.text_edit.range = span
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: PipectlServer, params: types.HoverParams) -> types.Hover | None:
    where = _place(params.text_document.uri)
    if where is None:
        return None
    doc = ls.workspace.get_text_document(params.text_document.uri)
    pos = doc.position_codec.position_from_client_units(doc.lines, params.position)
    text = complete.hover_text(where, doc.source, pos.line, pos.character)
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(types.MarkupKind.Markdown, text))


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def code_action(ls: PipectlServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    where = _place(uri)
    if where is None or where.is_config:
        return []
    doc = ls.workspace.get_text_document(uri)
    codes = {str(d.code) for d in params.context.diagnostics if d.code is not None}
    found = []
    for title, new_text in actions.actions(where, doc.source, codes, dates.today()):
        edit = types.WorkspaceEdit(changes={uri: [_text_edit(doc, new_text)]})
        found.append(types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, edit=edit))
    return found


def _text_edit(doc: TextDocument, new: str) -> types.TextEdit:
    """The one span that differs between the buffer and `new`, as an edit in client units."""
    old = doc.source
    start, most = 0, min(len(old), len(new))
    while start < most and old[start] == new[start]:
        start += 1
    tail = 0
    while tail < most - start and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    span = types.Range(_position(doc, start), _position(doc, len(old) - tail))
    return types.TextEdit(range=span, new_text=new[start : len(new) - tail])


def _position(doc: TextDocument, offset: int) -> types.Position:
    text = doc.source
    line = text.count("\n", 0, offset)
    where = types.Position(line, offset - (text.rfind("\n", 0, offset) + 1))
    if line >= len(doc.lines):  # the end of a text that ends with a line break
        return where
    return doc.position_codec.position_to_client_units(doc.lines, where)


def main() -> None:
    """Serve over stdin and stdout until the editor says exit."""
    server.start_io()
