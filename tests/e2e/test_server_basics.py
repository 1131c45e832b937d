"""End-to-end over stdio with pytest-lsp: a real server process and real client capabilities."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

DATA = Path(__file__).resolve().parents[1] / "data"
SEED_003 = (DATA / "seeds" / "003_1a83fdde10ac1a71.txt").read_text(encoding="utf-8")

# emoji = 4 UTF-8 / 2 UTF-16 / 1 UTF-32 units before the name
CLIENTS = {"visual-studio-code": "utf-16", "neovim": "utf-8", "emacs": "utf-32"}


@pytest_lsp.fixture(params=list(CLIENTS), config=ClientServerConfig(server_command=[sys.executable, "-m", "erd_lsp"]))
async def client(lsp_client: LanguageClient, request):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=pytest_lsp.client_capabilities(request.param)))
    lsp_client.spec = request.param
    yield
    await lsp_client.shutdown_session()


async def diagnostics(client: LanguageClient, uri: str):
    if client.capabilities.text_document.diagnostic is not None:
        report = await client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        return list(report.items)
    await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 10)
    return list(client.diagnostics[uri])


def open_doc(client, uri, text, lang="mermaid", version=1):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id=lang, version=version, text=text))
    )


async def test_encoding_crlf_and_non_bmp(client: LanguageClient):
    uri = "file:///tmp/erd-e2e/enc.mmd"
    text = "erDiagram\r\n    ORDER { int id }\r\n    \U0001F600X ||--o{ ORDRE : places\r\n"
    open_doc(client, uri, text)
    diags = await diagnostics(client, uri)
    w = [d for d in diags if d.code == "W101"]
    assert len(w) == 2  # `😀X` and `ORDRE` are both undeclared
    ordre = next(d for d in w if "ORDRE" in d.message)
    col = {"utf-16": 4 + 2 + 1 + 8, "utf-8": 4 + 4 + 1 + 8, "utf-32": 4 + 1 + 1 + 8}[CLIENTS[client.spec]]
    assert (ordre.range.start.line, ordre.range.start.character) == (2, col)
    assert ordre.range.end.character - ordre.range.start.character == 5
    assert ordre.source == "erd-lsp"


async def test_seed_003_conflicts_and_incremental_change(client: LanguageClient):
    uri = "file:///tmp/erd-e2e/state.md"
    open_doc(client, uri, SEED_003, lang="markdown")
    diags = await diagnostics(client, uri)
    assert [(d.code, d.range.start.line) for d in diags] == [("E002", 79), ("E002", 113)]
    # resolve the second conflict by deleting its seven lines (114-120, 0-based 113..119)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=113, character=0), end=types.Position(line=120, character=0)),
                    text="",
                )
            ],
        )
    )
    diags = await diagnostics(client, uri)
    assert [(d.code, d.range.start.line) for d in diags] == [("E002", 79)]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diags[0].range,
            context=types.CodeActionContext(diagnostics=diags),
        )
    )
    assert [a.title for a in actions] == ["Keep ours (the first side)", "Keep theirs (the second side)", "Keep both sides"]


async def test_hover_symbols_folding_tokens(client: LanguageClient):
    uri = "file:///tmp/erd-e2e/claiflow.md"
    text = (DATA / "seeds" / "001_b6d60fa196b8b2d8.txt").read_text(encoding="utf-8")
    open_doc(client, uri, text, lang="markdown")
    await diagnostics(client, uri)
    lines = text.split("\n")
    line = next(i for i, l in enumerate(lines) if l.strip().startswith("cluster_token {"))
    h = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=6))
    )
    assert "cluster_token" in h.contents.value and "exactly one cluster" in h.contents.value
    syms = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert len(syms) == 1 and syms[0].name == "claiflow entities"
    assert {c.name for c in syms[0].children if c.kind == types.SymbolKind.Class} >= {"cluster", "cluster_token", "webhook"}
    folds = await client.text_document_folding_range_async(types.FoldingRangeParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert any(f.start_line == line for f in folds)
    toks = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert len(toks.data) % 5 == 0 and len(toks.data) > 100


async def test_completion_navigation_rename(client: LanguageClient):
    uri = "file:///tmp/erd-e2e/nav.mmd"
    text = "erDiagram\r\n    \U0001F600 { int id PK }\r\n    ORDER { int id PK }\r\n    \U0001F600 ||--o{ ORDER : places\r\n    ORDER }o--|| \r\n"
    open_doc(client, uri, text)
    await diagnostics(client, uri)
    enc = CLIENTS[client.spec]
    emoji = {"utf-16": 2, "utf-8": 4, "utf-32": 1}[enc]
    # completion after the second cardinality
    c = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=4, character=17))
    )
    labels = [i.label for i in c.items]
    assert "ORDER" in labels and "\U0001F600" in labels
    # definition from `ORDER` in the relationship (line 3, after `    😀 ||--o{ `)
    col = 4 + emoji + 1 + 6 + 1
    d = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=col + 1))
    )
    assert [(x.range.start.line, x.range.start.character) for x in d] == [(2, 4)]
    refs = await client.text_document_references_async(
        types.ReferenceParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=5), context=types.ReferenceContext(include_declaration=True))
    )
    assert sorted(r.range.start.line for r in refs) == [2, 3, 4]
    # rename the emoji entity: its uses change, with the column in the client's units
    ren = await client.text_document_rename_async(
        types.RenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=4), new_name="Kunde")
    )
    edits = ren.changes[uri]
    assert sorted((e.range.start.line, e.range.start.character, e.range.end.character, e.new_text) for e in edits) == [
        (1, 4, 4 + emoji, "Kunde"), (3, 4, 4 + emoji, "Kunde")
    ]
    # a keyword cannot be renamed: the client is told why
    with pytest.raises(Exception) as err:
        await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=4 + emoji + 2))
        )
    assert "cardinality" in str(err.value)


async def test_long_completion_lists_defer_documentation_to_resolve(client: LanguageClient):
    uri = "file:///tmp/erd-e2e/many.mmd"
    blocks = "".join(f"    E{i:02d} {{\r\n        int id_{i} PK\r\n    }}\r\n" for i in range(30))
    text = "erDiagram\r\n" + blocks + "    E00 ||--o{ \r\n"
    open_doc(client, uri, text)
    await diagnostics(client, uri)
    line = text.count("\r\n") - 1
    c = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=17))
    )
    items = [i for i in c.items if i.label.startswith("E")]
    assert len(items) == 30
    # the replaced range: once in itemDefaults for clients that read it (Neovim 0.11),
    # else on every item
    here = types.Range(start=types.Position(line=line, character=15), end=types.Position(line=line, character=15))  # the line's end
    cl = client.capabilities.text_document.completion.completion_list
    if cl is not None and "editRange" in (cl.item_defaults or []):
        assert c.item_defaults.edit_range == here and all(i.text_edit is None for i in c.items)
    else:
        assert all(i.text_edit.range == here for i in items)
    caps = client.capabilities.text_document.completion.completion_item
    resolves = caps.resolve_support is not None and "documentation" in (caps.resolve_support.properties or [])
    item = next(i for i in items if i.label == "E07")
    if resolves:
        assert item.documentation is None and item.data is not None
        item = await client.completion_item_resolve_async(item)
    doc = item.documentation.value if isinstance(item.documentation, types.MarkupContent) else item.documentation
    assert "id_7" in doc


async def test_semantic_tokens_delta_and_range(client: LanguageClient):
    uri = "file:///tmp/erd-e2e/tokens.mmd"
    blocks = "".join(f"    E{i} {{\n        int id PK\n        string \U0001F600name{i}\n    }}\n" for i in range(30))
    rels = "".join(f"    E{i} ||--o{{ E{i + 1} : next\n" for i in range(29))
    text = "erDiagram\n" + blocks + rels + "    E3 }o--|| LATER : uses\n"
    open_doc(client, uri, text)
    await diagnostics(client, uri)
    td = types.TextDocumentIdentifier(uri=uri)
    first = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(text_document=td))
    assert first.result_id and len(first.data) > 5 * 200
    lines = text.split("\n")
    row = next(i for i, l in enumerate(lines) if "name15" in l)
    decl = next(i for i, l in enumerate(lines) if l.startswith("    E3 {"))

    async def change(version, line, a, b, new):
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=types.Position(line=line, character=a), end=types.Position(line=line, character=b)), text=new)],
            )
        )
        await diagnostics(client, uri)

    data, rid = list(first.data), first.result_id
    # a keystroke in an attribute; then two edits before asking (renaming E3's declaration:
    # the relationships naming E3 become implicit ones)
    for edits in ([(2, row, 8, 8, "big")], [(3, decl, 5, 5, "Z"), (4, row, 8, 11, "")]):
        for e in edits:
            await change(*e)
        delta = await client.text_document_semantic_tokens_full_delta_async(types.SemanticTokensDeltaParams(text_document=td, previous_result_id=rid))
        assert isinstance(delta, types.SemanticTokensDelta) and delta.result_id != rid
        assert 0 < sum(len(x.data or []) for x in delta.edits) < len(data) // 4  # not the whole document again
        for x in sorted(delta.edits, key=lambda x: x.start, reverse=True):
            data[x.start : x.start + x.delete_count] = list(x.data or [])
        rid = delta.result_id
        full = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(text_document=td))
        assert data == list(full.data)
        rid = full.result_id
    # a stale result id gets the whole document
    stale = await client.text_document_semantic_tokens_full_delta_async(types.SemanticTokensDeltaParams(text_document=td, previous_result_id="nope"))
    assert isinstance(stale, types.SemanticTokens) and list(stale.data) == data
    # a range: the tokens starting on its lines, the first placed absolutely
    rng = types.Range(start=types.Position(line=row, character=0), end=types.Position(line=row + 1, character=0))
    part = await client.text_document_semantic_tokens_range_async(types.SemanticTokensRangeParams(text_document=td, range=rng))
    assert part.data[0] == row and len(part.data) == 5 * 2  # the type and the attribute name


def _large_text() -> str:
    """A diagram over the size from which edits keep ropes (64 KB), with a non-BMP
    character before the places the test types at."""
    parts = ["erDiagram", '    "PLANET_\U0001F30D" {', "        int id PK", "    }"]
    for i in range(700):
        parts += [f"    ENTITY_{i} {{", "        int id PK", f"        string name_{i}", "        date created_at", "    }"]
        if i:
            parts.append(f"    ENTITY_{i - 1} ||--o{{ ENTITY_{i} : has")
    return "\n".join(parts) + "\n"


async def test_typing_in_a_large_document_answers_as_a_fresh_open(client: LanguageClient):
    """Keystrokes in a document whose edits are kept as ropes: the diagnostics (with
    their positions in the client's units), the outline, hover and completion after them
    are those of the final text opened afresh."""
    text = _large_text()
    assert len(text) > 70_000
    uri, fresh_uri = "file:///tmp/erd-e2e/large-typed.mmd", "file:///tmp/erd-e2e/large-fresh.mmd"
    open_doc(client, uri, text)
    await diagnostics(client, uri)
    lines = text.split("\n")
    at = next(i for i, l in enumerate(lines) if l == "    ENTITY_350 ||--o{ ENTITY_351 : has")
    typed = "\n    \U0001F30D_X ||--o{ ENTITY_35 : typo"
    col = len(lines[at])  # in code points (and every unit: the line is ASCII)
    version = 1
    for ch in typed:
        version += 1
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=types.Position(line=at, character=col), end=types.Position(line=at, character=col)),
                        text=ch,
                    )
                ],
            )
        )
        if ch == "\n":
            at, col = at + 1, 0
        else:
            col += {"utf-16": 2, "utf-8": 4, "utf-32": 1}[CLIENTS[client.spec]] if ord(ch) > 0xFFFF else 1
        if client.capabilities.text_document.diagnostic is None:
            await diagnostics(client, uri)  # each version's, as an editor receives them
    final = "\n".join(lines[: at]) + "\n" + "    \U0001F30D_X ||--o{ ENTITY_35 : typo" + "\n" + "\n".join(lines[at:])
    pulls = client.capabilities.text_document.diagnostic is not None
    got = await diagnostics(client, uri) if pulls else list(client.diagnostics[uri])  # pushed after the last change
    open_doc(client, fresh_uri, final)
    want = await diagnostics(client, fresh_uri)
    assert [(d.code, d.range, d.message) for d in got] == [(d.code, d.range, d.message) for d in want]
    typo = next(d for d in got if d.code == "W101" and "\U0001F30D_X" in d.message)
    width = {"utf-16": 2, "utf-8": 4, "utf-32": 1}[CLIENTS[client.spec]] + 2
    assert (typo.range.start.line, typo.range.start.character, typo.range.end.character) == (at, 4, 4 + width)
    ident = lambda u: types.TextDocumentIdentifier(uri=u)  # noqa: E731
    syms = [await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=ident(u))) for u in (uri, fresh_uri)]
    assert syms[0] == syms[1] and len(syms[0]) > 1400
    pos = types.Position(line=at, character=1 + {"utf-16": 2, "utf-8": 4, "utf-32": 1}[CLIENTS[client.spec]] + 3)
    hovers = [await client.text_document_hover_async(types.HoverParams(text_document=ident(u), position=pos)) for u in (uri, fresh_uri)]
    assert hovers[0] == hovers[1] and hovers[0] is not None
    end = types.Position(line=at, character=pos.character + len("X ||--o{ ENTITY_35") - 1)
    comps = [await client.text_document_completion_async(types.CompletionParams(text_document=ident(u), position=end)) for u in (uri, fresh_uri)]
    assert [i.label for i in comps[0].items] == [i.label for i in comps[1].items] and comps[0].items
