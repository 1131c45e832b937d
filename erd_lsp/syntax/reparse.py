"""Incremental reparsing: after an edit, lex and parse only what the edit can affect.

The parse of a diagram is a sequence of items, each parsed from a state (offset in the
lexer's text, lexer state stack, open subgraphs). After an edit:

1. Mermaid's preprocessing is redone (a few regex passes in C); if it changed anything
   outside the edit (front matter, a directive that now swallows the rest, comment
   lines), the whole diagram is parsed again.
2. Parsing restarts at the first item whose parse *looked at* the edited text: every
   item records how far its tokens' lexer rules and the parser's lookahead reached
   (``Parse.extents``), so an unclosed quote or a ``1`` followed by a blank line are
   handled exactly.
3. Items are parsed until one starts, after the edit, at the same place and in the same
   state as an item of the old parse; from there on the old items are reused unchanged
   (their offsets are relative to their start, so reuse costs nothing per token).

The result equals a full parse of the new text, item for item and error for error; the
test suite checks this on random edit sequences.
"""

from __future__ import annotations

from bisect import bisect_left
from operator import add

from erd_lsp.syntax.extents import item_extents
from erd_lsp.syntax.lexer import conflict_lines
from erd_lsp.syntax.parser import (
    Parser,
    TokenStream,
    collect_errors,
    finish_errors,
    item_errors,
    parse_preprocessed,
    run_items,
)
from erd_lsp.syntax.tree import SyntaxError
from erd_lsp.syntax.preprocess import preprocess, preprocess_edit
from erd_lsp.syntax.tree import Parse
from erd_lsp.text import Chunked, TextEdit, flat, paused_gc


def reparse(old: Parse, edit: TextEdit, new_source=None) -> Parse:
    """The parse of ``old.source`` with ``edit`` applied (``new_source``, a ``str`` or a
    :class:`~erd_lsp.text.Rope`, when the caller has it already). When the edit is local
    to the preprocessing (almost every keystroke), the new parse's source and lexer text
    are ropes that share the old texts: nothing here copies the text."""
    with paused_gc():
        return _reparse(old, edit, new_source)


def _reparse(old: Parse, edit: TextEdit, new_source=None) -> Parse:
    s, e = edit.range.start, edit.range.end
    pre = preprocess_edit(old.pre, s, e, edit.new_text, new_source)
    known_local = pre is not None
    if pre is None:
        src = old.source
        new_src = flat(new_source) if new_source is not None else src[:s] + edit.new_text + src[e:]
        pre = preprocess(new_src, browser_trim=getattr(old.pre, "browser_trim", False))
    if not _plain_map(pre) or not _plain_map(old.pre):
        # rewritten text (entity markers) maps to source offsets only as a whole, so the
        # dependency bookkeeping cannot be trusted: parse everything
        return parse_preprocessed(pre)
    result = _incremental(old, pre, s, e, len(edit.new_text), known_local)
    if result is None:
        return parse_preprocessed(pre)
    return result


def _shift_removed(removed, s, e, delta):
    before = [r for r in removed if r.end <= s]
    after = [(r.start + delta, r.end + delta, r.kind) for r in removed if r.start >= e]
    return before, after


def _incremental(old: Parse, pre, s: int, e: int, new_len: int, known_local: bool = False):
    opre = old.pre
    delta = new_len - (e - s)
    ne = s + new_len
    # 1. preprocessing must agree outside the edit (known when it was derived from the old)
    if known_local:
        onorm_s = nnorm_s = _to_norm(opre, s)
        onorm_e = _to_norm(opre, e)
        nnorm_e = onorm_e + delta
        ndelta = delta
    elif not _agree(opre, pre, s, e, ne, delta):
        return None
    else:
        onorm_s = _to_norm(opre, s)
        nnorm_s = _to_norm(pre, s)
        if onorm_s != nnorm_s or opre.text[:onorm_s] != pre.text[:nnorm_s]:
            return None
        onorm_e = _to_norm(opre, e)
        nnorm_e = _to_norm(pre, ne)
        if opre.text[onorm_e:] != pre.text[nnorm_e:]:
            return None
        ndelta = nnorm_e - onorm_e
    return _reparse_items(old, pre, s, e, ne, delta, onorm_s, onorm_e, nnorm_e, ndelta)


def _agree(opre, pre, s: int, e: int, ne: int, delta: int) -> bool:
    """Whether two preprocessings agree outside the edit."""
    if (opre.front_matter is None) != (pre.front_matter is None):
        return False
    if opre.front_matter is not None and (opre.front_matter[1] >= s or pre.front_matter != opre.front_matter):
        return False
    if opre.is_er != pre.is_er or opre.header_offset != pre.header_offset or opre.front_matter_error != pre.front_matter_error:
        return False
    ob, oa = _shift_removed(opre.removed, s, e, delta)
    nb, na = _shift_removed(pre.removed, s, ne, 0)
    if [(r.start, r.end, r.kind) for r in ob] != [(r.start, r.end, r.kind) for r in nb] or oa != na:
        return False
    orep = [(o, c) for o, c in opre.replaced if o < s] + [(o + delta, c) for o, c in opre.replaced if o >= e]
    nrep = [(o, c) for o, c in pre.replaced if o < s or o >= ne]
    return orep == nrep


def _reparse_items(old: Parse, pre, s, e, ne, delta, onorm_s, onorm_e, nnorm_e, ndelta):
    opre = old.pre

    # 2. the first item whose parse depended on the edited text
    r = _first_reaching(old, s)
    # back to an item with a restart state that lexes from before the edit
    starts0 = old.starts
    while r > 0 and (r >= len(old.states) or old.states[r] is None or starts0[r] + old.states[r][0] > onorm_s):
        r -= 1
    if r <= 0:
        return None
    norm_off, stack, subgraphs = old.states[r]
    src_pos = starts0[r]
    if src_pos > s:
        return None

    # 3. parse from there until we meet the old parse again
    conflicts = _conflicts(old, pre, onorm_s, nnorm_e)
    stream = TokenStream(pre, src_pos + norm_off, stack, src_pos, conflicts)
    p = Parser(pre, stream, subgraphs)
    old_states = old.states
    shift = ndelta - delta  # how the lexer/source offset difference moves after the edit

    def shift_sub(sg):
        return tuple(x if x < s else x + delta for x in sg)

    meet = {}

    def stop(p, st, pos):
        if pos < ne or not p.items:
            return False
        opos = pos - delta
        j = starts0.bisect_left(opos, r)
        if j >= len(starts0) or starts0[j] != opos:
            return False
        ost = old_states[j]
        if ost is None:
            return False
        onorm = opos + ost[0]
        nnorm = pos + st[0]
        if onorm < onorm_e or nnorm < nnorm_e:
            return False
        if onorm + ndelta != nnorm or ost[1] != st[1] or shift_sub(ost[2]) != st[2]:
            return False
        # conflict markers are recognised only at the start of a line
        if (nnorm == 0 or pre.lexed[nnorm - 1] == "\n") != (onorm == 0 or opre.lexed[onorm - 1] == "\n"):
            return False
        meet["j"] = j
        return True

    states: list = []
    finished = run_items(p, states, stop)
    new_items = p.items
    new_starts = p.starts
    old_errs = old.item_errors
    head_errors = old_errs[: bisect_left(old_errs, r, key=_index)] if old_errs else []
    mid_errors = item_errors(new_items, new_starts, r)
    old_ext = old.extents
    if finished:
        j = len(old.items)
        starts = old.starts.spliced(r, j, new_starts)
        all_states = old.states.spliced(r, j, states)
        final_sub = tuple(p.subgraphs)
        tail_errors = []
    else:
        j = meet["j"]
        starts = old.starts.spliced(r, j, new_starts, delta)
        old_states = old.states
        if shift or old.final_subgraphs or (j < len(old_states) and old_states[j] is not None and old_states[j][2]) or _has_subgraphs(old):
            # the restart states after the window change too (rare: subgraphs, or an edit
            # that changed how lexer and source offsets differ): rebuilt whole
            tail = [None if st is None else (st[0] + shift, st[1], shift_sub(st[2])) for st in old_states.iter_from(j)]
            all_states = Chunked(old_states[:r] + states + tail)
        else:
            all_states = old_states.spliced(r, j, states)
        final_sub = shift_sub(old.final_subgraphs)
        moved = r + len(new_items) - j
        tail_errors = [
            (i + moved, SyntaxError(e2.start + delta, e2.end + delta, e2.message, e2.code))
            for i, e2 in old_errs[bisect_left(old_errs, j, key=_index) :]
        ] if old_errs else []
    items = old.items.spliced(r, j, new_items)
    result = Parse(src=pre.src, items=items, starts=starts, pre=pre, states=all_states, conflicts=conflicts)
    result.window = (r, r + len(new_items), j)
    mid = item_extents(result, r, r + len(new_items))
    # extents are relative to their items: the later ones move with them unchanged
    result.extents = old_ext.spliced(r, j, mid)
    result.final_subgraphs = final_sub
    result.global_errors = finish_errors(final_sub, pre)
    result.errors = collect_errors(result, head_errors + mid_errors + tail_errors)
    result._subgraph_states = _has_subgraphs(old) or any(st is not None and st[2] for st in states)
    return result


def _index(item_error) -> int:
    return item_error[0]


def _first_reaching(old: Parse, s: int) -> int:
    """The first item whose extent reaches ``s``. Each chunk of the extents caches
    (``aux``) the furthest its items reach relative to the chunk's base in ``starts``
    (the two sequences are chunked alike, and a reparse splices them alike, so a chunk
    it shares keeps its value): only the chunks before the answer are looked at, and
    only the first chunk that reaches ``s`` is searched item by item."""
    ext = old.extents  # relative to the item starts
    starts = old.starts
    schunks, bases = starts._chunks, starts._bases
    echunks, aux = ext._chunks, ext.aux
    for c in range(len(echunks)):
        m = aux[c]
        if m is None:
            m = aux[c] = max(map(add, schunks[c], echunks[c]))
        if bases[c] + m >= s:
            at = s - bases[c]
            for k, x in enumerate(map(add, schunks[c], echunks[c])):
                if x >= at:
                    return starts._first[c] + k
    return len(ext)


def _conflicts(old: Parse, pre, nnorm_s: int, nnorm_e: int) -> frozenset:
    """The conflict marker lines of the new lexer text. When the old text had none, a
    marker can only be on a line the edit touched: only those lines are scanned."""
    if old.conflicts:
        return conflict_lines(pre.text)
    text = pre.lexed
    ls = text.rfind("\n", 0, nnorm_s) + 1
    le = text.find("\n", nnorm_e)
    le = len(text) if le < 0 else le
    if not conflict_lines(text[ls:le]):
        return frozenset()
    return conflict_lines(pre.text)


def _plain_map(pre) -> bool:
    """Every run of the map but the appended final newline maps character by character."""
    v = pre.__dict__.get("_plain")
    if v is None:
        m = pre.map
        v = all(dl == sl for dl, sl in zip(m.dlen[:-1], m.slen[:-1]))
        object.__setattr__(pre, "_plain", v)
    return v


def _has_subgraphs(parse: Parse) -> bool:
    """Whether any restart state records an open subgraph (cached on the parse)."""
    v = getattr(parse, "_subgraph_states", None)
    if v is None:
        v = any(st is not None and st[2] for st in parse.states)
        parse._subgraph_states = v
    return v


def _to_norm(pre, src_pos: int) -> int:
    """The smallest lexer-text offset whose source offset is at or after ``src_pos``."""
    smap = pre.map
    if smap.is_identity and not pre.removed:
        return min(src_pos, len(pre.lexed))
    return smap.to_derived(src_pos)
