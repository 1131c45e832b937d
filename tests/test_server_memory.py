"""What the server does for memory after a large answer (no protocol: the functions)."""

from __future__ import annotations

import asyncio
import json

from erd_lsp import server as srv


def test_a_large_outline_is_followed_by_a_full_collection_once_sent(monkeypatch):
    calls = []
    monkeypatch.setattr(srv.gc, "collect", lambda *a: calls.append(a) or 0)
    srv.release_free_lists_after(None, 19_999)
    assert calls == []
    srv.release_free_lists_after(None, 20_000)  # no loop running: at once
    assert calls == [()]

    async def in_a_handler():
        srv.release_free_lists_after(None, 60_000)
        assert len(calls) == 1  # not yet: after the answer is written
        await asyncio.sleep(0)
        return len(calls)

    assert asyncio.run(in_a_handler()) == 2


def _reference(doc, sym, enc):
    """A DocumentSymbol as LSP spells it, made the plain way (objects, then json)."""

    def rng(r):
        a, b = doc.line_index.position(r.start, enc), doc.line_index.position(r.end, enc)
        return {"start": {"line": a[0], "character": a[1]}, "end": {"line": b[0], "character": b[1]}}

    out = {"name": sym.name or "?", "kind": int(srv._SYMBOL_KINDS[sym.kind]), "range": rng(sym.range), "selectionRange": rng(sym.selection_range)}
    if sym.detail:
        out["detail"] = sym.detail
    if sym.children:
        out["children"] = [_reference(doc, c, enc) for c in sym.children]
    return out


def test_the_outline_written_as_json_text_equals_the_symbols_as_objects():
    from erd_lsp.analysis import Document, structure
    from support import SEEDS

    docs = [Document(f.read_text(encoding="utf-8"), "markdown") for f in SEEDS]
    docs.append(
        Document(
            'erDiagram\r\n    A["Café 😀 \\ tab\there"] {\r\n        int x PK "ü"\r\n    }\r\n'
            '    A ||--o{ "B c" : "has \\ a"\r\n    subgraph S["Sub 😀"]\r\n      C\r\n    end\r\n',
            "mermaid",
        )
    )
    written = 0
    for doc in docs:
        for enc in ("utf-16", "utf-8", "utf-32"):
            syms = structure.document_symbols(doc)
            parts: list = []
            n = srv._write_symbols(doc.line_index.positions(enc), syms, parts, {})
            text = srv.JsonText("".join(parts))
            assert text.isascii()
            assert json.loads(text) == [_reference(doc, s, enc) for s in syms]
            assert n == _count(syms)
            written += n
    assert written > 1000


def _count(syms) -> int:
    return len(syms) + sum(_count(s.children) for s in syms)
