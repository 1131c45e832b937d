"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import mermaid_oracle as _mermaid_oracle


@pytest.fixture(scope="session")
def mermaid_oracle() -> Iterator[_mermaid_oracle.MermaidOracle]:
    """The real Mermaid parser (tests/mermaid/dump.mjs), one node process per session.

    ``mermaid_oracle.run(texts)`` -> one result dict per text, see tests/mermaid_oracle.py.
    Skips when node or tests/mermaid/node_modules is missing, unless ERD_REQUIRE_MERMAID=1,
    in which case that is an error.
    """
    reason = _mermaid_oracle.unavailable_reason()
    if reason is not None:
        if _mermaid_oracle.mermaid_required():
            pytest.fail(f"{_mermaid_oracle.REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(f"Mermaid oracle unavailable: {reason}")
    oracle = _mermaid_oracle.MermaidOracle()
    try:
        yield oracle
    finally:
        oracle.close()


@pytest.fixture(params=["flat", "ropes"])
def edited_texts(request, monkeypatch) -> str:
    """Run a test two ways: with edited texts as the flat strings a small document's
    edits make, and as the ropes a large document's make (``text.Rope``), which the
    lexer and the parser's fast path read in windows, here windows of a few characters
    (so that a window ends inside nearly every token, line and statement, and every
    growing and restarting case is met)."""
    if request.param == "ropes":
        from erd_lsp import text
        from erd_lsp.syntax import fastpath, lexer

        monkeypatch.setattr(text.Rope, "FLAT_BELOW", 0)
        monkeypatch.setattr(lexer, "WINDOW", 4)
        monkeypatch.setattr(fastpath, "_WINDOW", 40)
        monkeypatch.setattr(fastpath, "_MARGIN", 10)
    return request.param
