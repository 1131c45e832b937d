"""What the server does for memory after a large answer (no protocol: the functions)."""

from __future__ import annotations

import asyncio

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


def test_count_symbols_counts_every_level():
    leaf = {"name": "a"}
    entity = {"name": "E", "children": [leaf, leaf, leaf]}
    diagram = {"name": "d", "children": [entity, entity]}
    assert srv._count_symbols([diagram, {"name": "x", "children": []}]) == 2 + 2 + 6
