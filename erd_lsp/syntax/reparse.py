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

from erd_lsp.syntax.extents import item_extents
from erd_lsp.syntax.lexer import conflict_lines
from erd_lsp.syntax.parser import (
    Parser,
    TokenStream,
    collect_errors,
    finish_errors,
    parse_preprocessed,
    run_items,
)
from erd_lsp.syntax.preprocess import preprocess
from erd_lsp.syntax.tree import Parse
from erd_lsp.text import TextEdit


def reparse(old: Parse, edit: TextEdit) -> Parse:
    """The parse of ``old.source`` with ``edit`` applied."""
    src = old.source
    s, e = edit.range.start, edit.range.end
    new_src = src[:s] + edit.new_text + src[e:]
    pre = preprocess(new_src, browser_trim=getattr(old.pre, "browser_trim", False))
    result = _incremental(old, pre, s, e, len(edit.new_text))
    if result is None:
        return parse_preprocessed(pre)
    return result


def _shift_removed(removed, s, e, delta):
    before = [r for r in removed if r.end <= s]
    after = [(r.start + delta, r.end + delta, r.kind) for r in removed if r.start >= e]
    return before, after


def _incremental(old: Parse, pre, s: int, e: int, new_len: int):
    opre = old.pre
    delta = new_len - (e - s)
    ne = s + new_len
    # 1. preprocessing must agree outside the edit
    if (opre.front_matter is None) != (pre.front_matter is None):
        return None
    if opre.front_matter is not None and (opre.front_matter[1] >= s or pre.front_matter != opre.front_matter):
        return None
    if opre.is_er != pre.is_er or opre.header_offset != pre.header_offset or opre.front_matter_error != pre.front_matter_error:
        return None
    ob, oa = _shift_removed(opre.removed, s, e, delta)
    nb, na = _shift_removed(pre.removed, s, ne, 0)
    if [(r.start, r.end, r.kind) for r in ob] != [(r.start, r.end, r.kind) for r in nb] or oa != na:
        return None
    if any(r.start < e and r.end > s for r in opre.removed) or any(r.start < ne and r.end > s for r in pre.removed):
        # an edit inside a comment or directive: fine as long as the spans agree elsewhere
        pass
    orep = [(o, c) for o, c in opre.replaced if o < s] + [(o + delta, c) for o, c in opre.replaced if o >= e]
    nrep = [(o, c) for o, c in pre.replaced if o < s or o >= ne]
    if orep != nrep:
        return None
    # the lexer's text must agree before and after the edit too
    onorm_s = _to_norm(opre, s)
    nnorm_s = _to_norm(pre, s)
    if onorm_s != nnorm_s or opre.text[:onorm_s] != pre.text[:nnorm_s]:
        return None
    onorm_e = _to_norm(opre, e)
    nnorm_e = _to_norm(pre, ne)
    if opre.text[onorm_e:] != pre.text[nnorm_e:]:
        return None
    ndelta = nnorm_e - onorm_e

    # 2. the first item whose parse depended on the edited text
    extents = old.extents
    r = None
    running = -1
    for i, x in enumerate(extents):
        if x > running:
            running = x
        if running >= s:
            r = i
            break
    if r is None:
        r = len(old.items)
    # back to an item with a restart state that lexes from before the edit
    while r > 0 and (r >= len(old.states) or old.states[r] is None or old.states[r][0] > onorm_s):
        r -= 1
    if r <= 0:
        return None
    state = old.states[r]
    norm, stack, subgraphs, src_pos = state
    if src_pos > s:
        return None

    # 3. parse from there until we meet the old parse again
    conflicts = conflict_lines(pre.text)
    stream = TokenStream(pre, norm, stack, src_pos, conflicts)
    p = Parser(pre, stream, subgraphs)
    old_starts = old.starts
    old_states = old.states

    def shift_sub(sg):
        return tuple(x if x < s else x + delta for x in sg)

    meet = {}

    def stop(p, st):
        pos = st[3]
        if pos < ne or not p.items:
            return False
        opos = pos - delta
        j = bisect_left(old_starts, opos, r)
        if j >= len(old_starts) or old_starts[j] != opos:
            return False
        ost = old_states[j]
        if ost is None or ost[0] < onorm_e or st[0] < nnorm_e:
            return False
        if ost[0] + ndelta != st[0] or ost[1] != st[1] or shift_sub(ost[2]) != st[2]:
            return False
        # conflict markers are recognised only at the start of a line
        if (st[0] == 0 or pre.text[st[0] - 1] == "\n") != (ost[0] == 0 or opre.text[ost[0] - 1] == "\n"):
            return False
        meet["j"] = j
        return True

    states: list = []
    finished = run_items(p, states, stop)
    new_items = p.items
    new_starts = p.starts
    if finished:
        items = old.items[:r] + new_items
        starts = old.starts[:r] + new_starts
        all_states = old.states[:r] + states
        final_sub = tuple(p.subgraphs)
        tail_ext = []
    else:
        j = meet["j"]
        items = old.items[:r] + new_items + old.items[j:]
        starts = old.starts[:r] + new_starts + [x + delta for x in old.starts[j:]]
        tail_states = [
            None if st is None else (st[0] + ndelta, st[1], shift_sub(st[2]), st[3] + delta) for st in old.states[j:]
        ]
        all_states = old.states[:r] + states + tail_states
        final_sub = shift_sub(old.final_subgraphs)
        tail_ext = [x + delta for x in old.extents[j:]]
    result = Parse(source=pre.source, items=items, starts=starts, pre=pre, states=all_states)
    head_ext = old.extents[:r]
    mid = item_extents(result, r, r + len(new_items))
    result.extents = head_ext + mid + tail_ext
    result.final_subgraphs = final_sub
    result.global_errors = finish_errors(final_sub, pre)
    result.errors = collect_errors(result)
    return result


def _to_norm(pre, src_pos: int) -> int:
    """The smallest lexer-text offset whose source offset is at or after ``src_pos``."""
    smap = pre.map
    if smap.is_identity and not pre.removed:
        return min(src_pos, len(pre.text))
    lo, hi = 0, len(pre.text)
    while lo < hi:
        mid = (lo + hi) // 2
        if smap.to_source_start(mid) < src_pos:
            lo = mid + 1
        else:
            hi = mid
    return lo
