"""What the server does for memory after a large answer (no protocol: the functions)."""

from __future__ import annotations

import json

from erd_lsp import server as srv


class _Writer:
    def __init__(self):
        self.data = b""

    def write(self, data: bytes):
        self.data += data


def _sent(result, monkeypatch):
    """What ErdProtocol writes for a response with ``result``, and the collections made."""
    from pygls.protocol import JsonRPCResponseMessage

    calls = []
    monkeypatch.setattr(srv.gc, "collect", lambda *a: calls.append(len(w.data)) or 0)
    proto = srv.server.protocol
    w = _Writer()
    monkeypatch.setattr(proto, "writer", w)
    monkeypatch.setattr(proto, "_include_headers", True, raising=False)
    proto._send_data(JsonRPCResponseMessage(id=7, result=result, jsonrpc="2.0"))
    head, _, body = w.data.partition(b"\r\n\r\n")
    assert int(head.split(b"\r\n")[0].split(b":")[1]) == len(body)  # Content-Length in bytes
    return json.loads(body), calls


def test_json_text_is_sent_as_it_is_and_a_large_one_is_followed_by_a_collection(monkeypatch):
    small = srv.JsonText('[{"name": "caf\\u00e9"}]')
    msg, calls = _sent(small, monkeypatch)
    assert msg == {"id": 7, "jsonrpc": "2.0", "result": [{"name": "café"}]} and calls == []
    large = srv.JsonText("[" + ", ".join(["1"] * 30_000) + "]")
    large.collect_after = True
    msg, calls = _sent(large, monkeypatch)
    assert msg["result"] == [1] * 30_000
    assert len(calls) == 1 and calls[0] > 60_000  # after the answer was written
    msg, calls = _sent([1, 2], monkeypatch)  # anything else: pygls's own way
    assert msg["result"] == [1, 2] and calls == []


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
