"""Syntax: Mermaid's preprocessing, the lexer, the resilient parser and the lossless tree.

``parse(source)`` is the entry point; it never raises and returns a
:class:`~erd_lsp.syntax.tree.Parse` (items, errors). Nothing here knows about semantics
or LSP.
"""

from __future__ import annotations

from erd_lsp.syntax.parser import parse
from erd_lsp.syntax.tree import Parse, SyntaxError

__all__ = ["parse", "Parse", "SyntaxError", "spell_entity_name"]

def spell_entity_name(name: str) -> str:
    """How to write ``name`` so that Mermaid reads it back as that entity: bare when it
    lexes as one name token, quoted otherwise (names cannot contain ``"``)."""
    from erd_lsp.syntax import kinds as K
    from erd_lsp.syntax.lexer import lex

    if name:
        toks = [t for t in lex(name + "\n") if t[0] not in (K.WHITESPACE,)]
        first = toks[0]
        if first[0] in (K.UNICODE_TEXT, K.NUM, K.DECIMAL_NUM, K.ENTITY_ONE) and first[1] == 0 and first[2] == len(name):
            return name
    return '"' + name + '"'
