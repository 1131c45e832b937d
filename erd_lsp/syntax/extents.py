"""How far each item's parse looked: the data that makes incremental reparsing exact.

An item must be parsed again after an edit if any of its tokens' lexer rules, or the
parser's one-token lookahead past it, examined the edited text. Computed lazily, the
first time a parse is edited.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import count, islice

from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.fastpath import FastNode
from erd_lsp.syntax.fastpath import item_extent as fast_extent
from erd_lsp.syntax.preprocess import JS_WS_RUN, Preprocessed
from erd_lsp.syntax.tree import Node, Parse

_INVISIBLE = K.TRIVIA | {K.LEX_ERROR}



def _skip_ws(pre: Preprocessed, pos: int) -> int:
    """Skip whitespace and removed text (what the lexer's lookaheads see through)."""
    src = pre.src
    removed = pre.removed
    ends = pre._removed_ends if removed else None
    while True:
        pos = _ws_end(src, pos)
        if not removed:
            return pos
        i = bisect_right(ends, pos)
        if i < len(removed) and removed[i].start <= pos:
            pos = removed[i].end
            continue
        return pos


def token_extent(pre: Preprocessed, kind: str, s: int, e: int) -> int:
    """How far the lexer may have looked to produce this token (source offsets): the
    rest of its line, and past whitespace for lookaheads; to the end for a lone quote."""
    src = pre.src
    if kind in K.TRIVIA and kind != K.WHITESPACE:
        return e
    if s == e and kind not in (K.WHITESPACE, K.NEWLINE):
        # a token with no source text of its own (its lexer text maps into rewritten or
        # removed source): where its lexing looked cannot be told in source offsets
        return len(src) + 1
    le = src.find("\n", s)
    le = len(src) if le < 0 else le + 1
    ext = max(e + 1, le)
    if kind == K.CHAR and src.startswith('"', s):
        return len(src) + 1
    if kind in (K.ACC_DESCR_MULTI_VALUE, K.END_OF_INPUT, K.EOF):
        return len(src) + 1 if kind != K.ACC_DESCR_MULTI_VALUE else max(ext, e + 1)
    if src.startswith("1", s) or kind in (K.END, K.NEWLINE, K.WHITESPACE):
        ext = max(ext, _skip_ws(pre, e) + 1)
    if "direction" in src[s:le].lower():
        ext = max(ext, _skip_ws(pre, le) + 2)
    return ext


def _ws_end(src, pos: int) -> int:
    """The end of the whitespace run at ``pos`` (a ``str`` or a rope, read in windows)."""
    if src.__class__ is str:
        return JS_WS_RUN.match(src, pos).end()
    n = len(src)
    size = 256
    while True:
        w = src[pos : pos + size]
        end = JS_WS_RUN.match(w).end()
        if end < len(w) or pos + len(w) >= n:
            return pos + end
        pos += end
        size *= 4


def item_extents(parse: Parse, lo: int, hi: int) -> list:
    """For items ``lo..hi``: how far past its start the furthest source offset its parse
    depended on lies (its tokens' lexing extents and the next significant token the
    parser peeked at). Relative, so that an edit before an item leaves its extent as it
    is (and the number small)."""
    pre = parse.pre
    out = []
    pending: list[int] = []
    src = pre.src
    inf = len(src) + 1
    items, starts = parse.items, parse.starts
    for i, item, base in zip(count(lo), _from(items, lo), _from(starts, lo)):
        if i >= hi and not pending:
            break
        ext = 0
        sig = None
        if item.__class__ is FastNode:
            ext, sig = fast_extent(src, base, item)
        else:
            for k, s, e in (item.tokens() if isinstance(item, Node) else (item,)):
                x = token_extent(pre, k, base + s, base + e)
                if x > ext:
                    ext = x
                if sig is None and k not in _INVISIBLE:
                    sig = x
        if sig is not None and pending:
            for j in pending:
                if sig > out[j - lo]:
                    out[j - lo] = sig
            pending = []
        if i < hi:
            if isinstance(item, Node) and item.unbounded:
                ext = inf
            out.append(ext)
            pending.append(i)
    for j in pending:
        out[j - lo] = inf
    return [x - base for x, base in zip(out, _from(starts, lo))]


def _from(seq, lo: int):
    """The values of ``seq`` from index ``lo`` on (a ``Chunked`` or a list)."""
    return seq.iter_from(lo) if hasattr(seq, "iter_from") else islice(seq, lo, None)
