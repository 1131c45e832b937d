"""The server's large answers: the outline written as JSON text and made in steps, sent as
it is, and a collection after it (no protocol: the functions)."""

from __future__ import annotations

import asyncio
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
            parts: list = ["["]
            n = srv._write_symbols(doc.line_index.positions(enc), syms, parts, {})
            parts.append("]")
            text = srv.JsonText("".join(parts))
            assert text.isascii()
            assert json.loads(text) == [_reference(doc, s, enc) for s in syms]
            assert n == _count(syms)
            written += n
    assert written > 1000


def _count(syms) -> int:
    return len(syms) + sum(_count(s.children) for s in syms)


class _Ls:
    encoding = "utf-16"

    def __init__(self, doc):
        self.doc = doc

    def document(self, uri):
        return self.doc


def _outline_doc(n: int):
    from erd_lsp.analysis import Document

    text = "erDiagram\n" + "".join(f"    E{i} {{\n        int id PK\n        string n{i}\n    }}\n    E{i} ||--o{{ E{i + 1} : next\n" for i in range(n))
    return Document(text, "mermaid")


def _params():
    from lsprotocol import types

    return types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri="file:///x.mmd"))


def test_the_outline_is_made_in_steps_and_a_cancel_stops_it_cleanly():
    import gc

    doc = _outline_doc(2_000)
    coro = srv.on_document_symbol(_Ls(doc), _params())
    steps = 0
    try:
        while True:
            coro.send(None)
            steps += 1
            assert not gc.isenabled()  # paused while it is made, pauses included
    except StopIteration as stop:
        out = stop.value
    assert gc.isenabled()
    syms = json.loads(out)
    assert len(syms) == 2_000 + 2_000 + 1 and out.collect_after is False  # entities (+1 implicit), relationships
    assert steps >= 40  # 2,000 entities and 4,001 symbols: pauses every 100
    # cancelled at a pause (what pygls does on $/cancelRequest): it stops there, the collector on again
    coro = srv.on_document_symbol(_Ls(_outline_doc(2_000)), _params())
    for _ in range(5):
        coro.send(None)
    try:
        coro.throw(asyncio.CancelledError())
    except asyncio.CancelledError:
        pass
    else:  # pragma: no cover
        raise AssertionError("the outline went on after its cancellation")
    assert gc.isenabled()
