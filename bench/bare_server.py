"""The protocol floor for the benchmarks: a bare pygls 2 server over stdio.

It does no work at all, so a round trip against it is what JSON-RPC framing,
lsprotocol/cattrs (de)serialisation, asyncio and pygls dispatch cost by themselves:

* ``didOpen`` / ``didChange`` publish an empty diagnostics list carrying the document
  version. The text is *not* kept: like erd-lsp (which has its own document store), the
  protocol handlers skip pygls's workspace, so pygls's O(file) ``TextDocument`` update is
  not counted in the floor. Pass ``--keep-text`` to use pygls's default document sync.
* completion, definition, references, hover, rename answer an empty result
  (an empty list, ``[]``, ``[]``, ``null``, an empty workspace edit); semantic tokens
  (full, delta, range) no tokens (an empty ``data``, no edits).

Run: ``python bench/bare_server.py [--keep-text]``
"""

from __future__ import annotations

import sys

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol.language_server import LanguageServerProtocol, lsp_method

KEEP_TEXT = "--keep-text" in sys.argv[1:]


class FloorProtocol(LanguageServerProtocol):
    """didOpen/didChange/didClose go straight to the handlers, without the workspace."""

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        if KEEP_TEXT:
            self.workspace.put_text_document(params.text_document)
        if (h := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield h, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        if KEEP_TEXT:
            for change in params.content_changes:
                self.workspace.update_text_document(params.text_document, change)
        if (h := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield h, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        if KEEP_TEXT:
            self.workspace.remove_text_document(params.text_document.uri)
        if (h := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield h, (params,), None


server = LanguageServer("erd-bench-bare", "0.1", protocol_cls=FloorProtocol)


def _publish(ls: LanguageServer, uri: str, version) -> None:
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[], version=version))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri, None)


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[" "]))
def completion(ls: LanguageServer, params: types.CompletionParams):
    return types.CompletionList(is_incomplete=False, items=[])


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: types.DefinitionParams):
    return []


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def references(ls: LanguageServer, params: types.ReferenceParams):
    return []


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
def highlight(ls, params):
    return None


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: types.HoverParams):
    return None


@server.feature(types.TEXT_DOCUMENT_RENAME)
def rename(ls: LanguageServer, params: types.RenameParams):
    return types.WorkspaceEdit(changes={})


@server.feature(
    types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
    types.SemanticTokensRegistrationOptions(
        legend=types.SemanticTokensLegend(token_types=["class"], token_modifiers=[]),
        full=types.SemanticTokensFullDelta(delta=True),
        range=True,
        document_selector=[{"language": "mermaid"}],
    ),
)
def semantic_tokens(ls: LanguageServer, params: types.SemanticTokensParams):
    return types.SemanticTokens(data=[], result_id="0")


@server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL_DELTA)
def semantic_tokens_delta(ls: LanguageServer, params: types.SemanticTokensDeltaParams):
    return types.SemanticTokensDelta(edits=[], result_id="0")


@server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE)
def semantic_tokens_range(ls: LanguageServer, params: types.SemanticTokensRangeParams):
    return types.SemanticTokens(data=[])


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: LanguageServer, params: types.DocumentSymbolParams):
    return []


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: LanguageServer, params: types.DocumentFormattingParams):
    return []


@server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
def folding_range(ls: LanguageServer, params: types.FoldingRangeParams):
    return []


if __name__ == "__main__":
    server.start_io()
