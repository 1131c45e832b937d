"""The server over stdio with a workspace folder: unopened files are indexed for
workspace symbols and definitions; closing a document clears its pushed diagnostics."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "billing.md").write_text(
        "# Billing\n\n```mermaid\nerDiagram\n    INVOICE {\n        int id PK\n        date issued_on\n    }\n```\n", encoding="utf-8"
    )
    (tmp_path / "orders.mmd").write_text("erDiagram\n    ORDER { int id PK }\n    ORDER ||--o{ INVOICE : billed\n", encoding="utf-8")
    return tmp_path


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "erd_lsp"]))
async def client(lsp_client: LanguageClient, folder):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),  # 1.65 caps: push diagnostics
            root_uri=folder.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="w")],
        )
    )
    lsp_client.folder = folder
    yield
    await lsp_client.shutdown_session()


async def test_unopened_files_are_indexed_and_close_clears(client: LanguageClient):
    folder = client.folder
    uri = (folder / "orders.mmd").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="mermaid", version=1, text=(folder / "orders.mmd").read_text())
        )
    )
    await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 10)
    assert [d.code for d in client.diagnostics[uri]] == ["W101"]  # INVOICE has no block in this diagram
    # workspace symbols find the entity declared in the unopened Markdown file
    syms = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="INVOICE"))
    assert any(s.name == "INVOICE" and s.location.uri.endswith("docs/billing.md") for s in syms)
    # definition from this file jumps into the unopened one
    locs = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=22))
    )
    assert [(l.uri.endswith("docs/billing.md"), l.range.start.line) for l in locs] == [(True, 4)]
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 10)
    assert len(client.diagnostics[uri]) == 0


@pytest.fixture
def configured(tmp_path):
    (tmp_path / "erd-lsp.toml").write_text('ignore = ["W101"]\nseverity = { W102 = "error" }\n', encoding="utf-8")
    text = "erDiagram\n  A {\n  int id\n      int id\n  }\n  A ||--o{ B:x\n"
    (tmp_path / "a.mmd").write_text(text, encoding="utf-8")
    return tmp_path


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "erd_lsp"]))
async def cclient(lsp_client: LanguageClient, configured):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=pytest_lsp.client_capabilities("neovim"), root_uri=configured.as_uri())
    )
    lsp_client.folder = configured
    yield
    await lsp_client.shutdown_session()


async def test_configuration_file_and_formatting(cclient: LanguageClient):
    path = cclient.folder / "a.mmd"
    uri = path.as_uri()
    cclient.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id="mermaid", version=1, text=path.read_text()))
    )
    report = await cclient.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    # erd-lsp.toml: W101 ignored, W102 raised to an error
    assert [(d.code, d.severity) for d in report.items] == [("W102", types.DiagnosticSeverity.Error)]
    edits = await cclient.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=types.TextDocumentIdentifier(uri=uri), options=types.FormattingOptions(tab_size=4, insert_spaces=True))
    )
    lines = path.read_text().split("\n")
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = "\n".join(lines)
        offs = [sum(len(l) + 1 for l in lines[: p.line]) + p.character for p in (e.range.start, e.range.end)]
        lines = (text[: offs[0]] + e.new_text + text[offs[1] :]).split("\n")
    assert "\n".join(lines) == "erDiagram\n    A {\n        int id\n        int id\n    }\n    A ||--o{ B : x\n"
