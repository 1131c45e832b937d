"""The parser's fast path: the common statement lines, recognised a line at a time.

Most of a real diagram is plain ``A ||--o{ B : label`` lines and ``NAME {`` blocks of
``type name [PK, FK] ["comment"]`` lines. For those, the general parser's token-at-a-time
work (a lexer match, a mapping to source offsets and node bookkeeping per token) is the
whole cost of a parse. Here one regular expression recognises such a statement, together
with the whitespace and newline items around it, and the statement becomes a
:class:`FastNode`: it records only the spans the model reads and its source text, and
builds its children (by running the general parser on that text) the first time a
feature asks for them.

The fast path is *exact*: a statement is taken only when its text is unchanged by
Mermaid's preprocessing and every token in it is one the lexer would produce at that
place, in the same state, with the same first-match rule (no keyword prefixes, no
``direction`` on the line, no ``%``, ``#``, ``<``, ``~``, quotes inside names, or
conflict markers). Anything else is left to the general parser, which resumes at
that item. The items, restart states and extents are those of the general parser;
``tests/test_fastpath.py`` checks it on every corpus the suite has.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from gc import disable, enable, isenabled
from sys import intern

from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.lexer import find_direction
from erd_lsp.syntax.preprocess import REMOVED_TOKEN
from erd_lsp.syntax.tree import Attribute, Node


ENABLED = True  # tests switch it off to compare with the general parser

_INITIAL_STACK = ("INITIAL",)

# what continues a UNICODE_TEXT token (so a name must not be followed by it)
# (written as a negated ASCII class: a class up to U+10FFFF takes milliseconds to compile)
_NAME_CONT = r"^\x00-\x29\x2b-\x2c\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f"
# a name the INITIAL lexer reads as UNICODE_TEXT: no earlier rule may match where it starts
_NAME = (
    r"(?!(?i:acctitle|accdescr|direction|erdiagram\b|style\b|classdef\b|class\b|subgraph\b|end\b"
    r"|one\b|zero\b|many\b|only\b|optionally\b|to\b|[ou]\b))"
    r"[A-Za-z_][A-Za-z0-9_\-*.]*(?![" + _NAME_CONT + r"])"
)
_CARD = r"\|o(?![A-Za-z0-9_])|\}o(?![A-Za-z0-9_])|\}\||\|\||o\||o\{|\|\{"
_LINE = r"--|\.\.|\.-|-\."
# a label: a name, a quoted name (ENTITY_NAME) or "" (WORD)
_LABEL = _NAME + r'|"[^"%\r\n\x0b\x08\\<#~]+"|""'

_STEP = re.compile(
    r"(?P<ws>[ \t]+)?"
    r"(?:(?P<nl>\n+)"
    r"|(?P<l>" + _NAME + r")[ \t]*(?P<lc>" + _CARD + r")[ \t]*(?P<ln>" + _LINE + r")[ \t]*(?P<rc>" + _CARD + r")"
    r"[ \t]*(?P<r>" + _NAME + r")[ \t]*:[ \t]*(?P<lb>" + _LABEL + r")(?=[ \t]*\n)"
    r"|(?P<en>" + _NAME + r")(?:[ \t]*(?P<br>\{)|(?=[ \t]*\n)))",
    re.ASCII,
)

# an attribute word (block state): not a key, no `~`, no backtick, ASCII
_WORD = r"(?!(?i:pk|fk|uk)(?![A-Za-z0-9_]))[*A-Za-z_][A-Za-z0-9\-_\[\]().,*]*"
_KEY = r"(?i:pk|fk|uk)(?![A-Za-z0-9_])"
_ATTR_LINE = (
    r"[ \t]*\n[ \t\n]*(?P<t>" + _WORD + r")[ \t]+(?P<n>" + _WORD + r")"
    r"(?P<k>[ \t]+" + _KEY + r"(?:[ \t]*,[ \t]*" + _KEY + r")*)?"
    r'(?:[ \t]+(?P<c>"[^"\n\r%#<~]*"))?(?=[ \t]*\n)'
)
_ATTR = re.compile(_ATTR_LINE, re.ASCII)
# the same lines, capturing only the names (the lines of a recognised block follow each
# other, so a search from its `{` meets them in order)
_ATTR_NAMES = re.compile(
    re.sub(r"\(\?P<n>", "(", re.sub(r"\(\?P<[tkc]>", "(?:", _ATTR_LINE)), re.ASCII
)
# a whole block of plain attribute lines and its `}`, in one match (the parse recognises
# it; its records are decoded from the statement's text when first read: AttrBlock)
_BLOCK = re.compile(
    r"(?:" + re.sub(r"\(\?P<\w+>", "(?:", _ATTR_LINE) + r")*(?P<tail>[ \t\n]*)\}(?=[ \t]*\n)", re.ASCII
)
_KEYS = re.compile(_KEY, re.ASCII)
_NEWLINES = re.compile(r"\n+")
_ABSENT = (-1, -1)  # a group that took part in no match, as ``Match.regs`` gives it
_PRESENT = (0, 0)  # one that did (only its start's sign is read)

_CARD_KIND = {
    "|o": K.ZERO_OR_ONE,
    "o|": K.ZERO_OR_ONE,
    "||": K.ONLY_ONE,
    "}o": K.ZERO_OR_MORE,
    "o{": K.ZERO_OR_MORE,
    "}|": K.ONE_OR_MORE,
    "|{": K.ONE_OR_MORE,
}


class FastNode(Node):
    """A statement taken by the fast path. ``fast`` holds its spans (relative to its
    start): for a relationship ``(spans, left card kind, line kind, right card kind)``
    with ``spans`` the 14 offsets ``model.Relationship.rel`` has (statement, left, right,
    left card, right card, line, label); for an entity ``((name start, name end), (block
    start, block end) or None, attributes)`` with the
    :class:`AttrBlock` of its block (``()`` without one; the records are placed at the
    start the statement had when it was parsed; their spans are relative). Values are as Mermaid
    reads them: the text of a fast statement is never rewritten by preprocessing.
    Its children are built on first use."""

    __slots__ = ("text", "fast", "_kids")

    def __init__(self, kind: str, text: str, fast: tuple) -> None:
        self.kind = kind
        self.text = text
        self.fast = fast
        self.errors = ()
        self.unbounded = False
        self.facts = None
        self._kids = None

    @property
    def children(self) -> list:
        kids = self._kids
        if kids is None:
            kids = self._kids = _materialize(self.kind, self.text)
            # at most so many statements keep their children: a feature that walks every
            # token of a large diagram must not keep a tree of it alive (the features that
            # run on every edit read the recorded spans instead)
            _BUILT[id(self)] = self
            if len(_BUILT) > _MAX_BUILT:
                _, oldest = _BUILT.popitem(last=False)
                oldest._kids = None
        return kids

    @property
    def start(self) -> int:
        return 0

    @property
    def end(self) -> int:
        return len(self.text)


def _materialize(kind: str, text: str) -> list:
    """The children the general parser gives this statement's text."""
    from erd_lsp.syntax.lexer import INITIAL
    from erd_lsp.syntax.parser import Parser, TokenStream
    from erd_lsp.syntax.preprocess import preprocess

    pre = preprocess(text)
    p = Parser(pre, TokenStream(pre, 0, (INITIAL,), 0, frozenset()))
    p.parse_item()
    item = p.items[0] if p.items else None
    if isinstance(item, Node) and item.kind == kind and not item.errors:
        return item.children
    # not reachable when the fast path is exact (tests/test_fastpath.py): keep the text
    return [(K.LEX_ERROR, 0, len(text))]  # pragma: no cover


def item_extent(src: str, base: int, node: FastNode) -> tuple[int, int]:
    """``(extent, extent of the first significant token)`` of a fast statement, as
    ``extents.item_extents`` computes them from its tokens: every token looks to the end
    of its line, and no token of a fast statement looks further."""
    n = len(src)
    end = base + len(node.text)
    le = src.find("\n", end)
    le = n if le < 0 else le + 1
    first_end = base + (node.fast[0][3] if node.kind == K.REL_STMT else node.fast[0][1])
    fe = src.find("\n", base)
    fe = n if fe < 0 else fe + 1
    return max(end + 1, le), max(first_end + 1, fe)


class AttrBlock(Sequence):
    """The :class:`~erd_lsp.syntax.tree.Attribute` records of a fast statement's block.

    The parse recognises the block's lines with one pattern (``_BLOCK``: every line a
    plain attribute, then the ``}``), which is what exactness needs; the records (two
    interned strings and a 14-field tuple per attribute) are decoded from the
    statement's text the first time anything reads them, and then kept. Reading a
    diagram's entities, relationships and names (the model, the names summary, the
    keystroke path) never decodes a block; hover, completion, W102, the outline do, for
    the entities they look at. It reads as the tuple of its records: ``len``, indexing,
    slicing (a tuple), iteration, ``==`` and ``hash`` as that tuple.

    ``text`` is the statement's text, ``at`` where its ``{`` ends in it, ``base`` the
    statement's start the records are placed at (:meth:`moved` places them elsewhere)."""

    __slots__ = ("text", "at", "entity", "base", "empty", "_items")

    def __init__(self, text: str, at: int, entity: str, base: int, empty: bool) -> None:
        self.text = text
        self.at = at
        self.entity = entity
        self.base = base
        self.empty = empty
        self._items = () if empty else None

    def items(self) -> tuple:
        """The records (decoded on the first call)."""
        items = self._items
        if items is None:
            # a reader may decode thousands of blocks in a row: the cyclic collector would
            # walk the new records again and again (tuples of strings and ints, no cycles);
            # not text.paused_gc: an object per block made decoding all of large 30% slower
            if isenabled():
                disable()
                try:
                    items = self._items = _decode(self.text, self.at, self.entity, self.base)
                finally:
                    enable()
            else:
                items = self._items = _decode(self.text, self.at, self.entity, self.base)
        return items

    def names(self) -> list:
        """The attributes' names, in order, without decoding the records (when they are
        not decoded yet): what a check for repeated names needs."""
        if self._items is not None:
            return [a.name for a in self._items]
        return _ATTR_NAMES.findall(self.text, self.at)

    def facts(self) -> list:
        """Each attribute's ``(type, name, keys, comment or None)``, in order, without
        decoding the records when they are not decoded yet: what comparing two models
        needs (the formatter proves its layout keeps the model so)."""
        if self._items is not None:
            return [(a.type, a.name, a.keys, a.comment) for a in self._items]
        return [
            (typ, name, _keys_at(keys, 0)[0] if keys else (), comment[1:-1] or None)
            for typ, name, keys, comment in _ATTR.findall(self.text, self.at)
        ]

    def spans(self):
        """Each attribute's ``(at, type end, name start, name end, key spans, comment span
        or None)``, as its record has them (``at`` relative to the statement, where the
        type starts; the others relative to ``at``), without decoding the records when
        they are not decoded yet: what highlighting reads, for every block, and need not
        keep."""
        if self._items is not None:
            for a in self._items:
                yield a.at, a.type_end, a.name_at, a.name_end, a.key_spans, a.comment_span
            return
        for m in _ATTR.finditer(self.text, self.at):
            t0, te = m.span(1)
            ns, ne = m.span(2)
            keys = m.group(3)
            key_spans = () if keys is None else _keys_at(keys, ne - t0)[1]
            cs = m.start(4)
            yield t0, te - t0, ns - t0, ne - t0, key_spans, None if cs < 0 else (cs - t0, m.end(4) - t0)

    def moved(self, base: int) -> "AttrBlock":
        """The same block placed at another statement start (decoded records move too)."""
        if base == self.base:
            return self
        new = AttrBlock(self.text, self.at, self.entity, base, self.empty)
        if self._items is not None:
            new._items = tuple([a.moved(base) for a in self._items])
        return new

    def __len__(self) -> int:
        return 0 if self.empty else len(self.items())

    def __bool__(self) -> bool:
        return not self.empty

    def __getitem__(self, i):
        return self.items()[i]

    def __iter__(self):
        return iter(self.items())

    def __eq__(self, other) -> bool:
        if other.__class__ is AttrBlock:
            return self.items() == other.items()
        if isinstance(other, tuple):
            return self.items() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.items())

    def __repr__(self) -> str:
        return repr(self.items())


def _decode(text: str, pos: int, entity: str, base: int) -> tuple:
    """The records of the attribute lines from ``pos`` (where a block's ``{`` ends) of a
    statement's ``text`` (the statement starts at ``base`` of the source)."""
    attrs = []
    add = attrs.append
    match = _ATTR.match
    shared = _SHARED.setdefault
    new = tuple.__new__
    while True:
        m = match(text, pos)
        if m is None:
            break
        # the groups follow each other from the type on: the spans are their lengths
        typ, name, keys, comment = m.groups()
        t0 = m.start(1)
        pos = m.end()
        name_at = m.start(2) - t0
        name_end = name_at + len(name)
        key_list = key_spans = ()
        if keys is not None:
            # the same few key lists (` PK`, ` PK, FK`) at the same few offsets: cached
            key_list, key_spans = _keys_at(keys, name_end)
        span = None
        if comment is not None:
            span = (pos - t0 - len(comment), pos - t0)
            span = shared(span, span)
            comment = comment[1:-1] or None
        add(
            new(
                Attribute,
                (
                    intern(typ), intern(name), key_list, comment, t0, pos - t0, 0, len(typ), name_at, name_end,
                    key_spans, span, entity, base,
                ),
            )
        )
    return tuple(attrs)


def _keys_at(written: str, at: int) -> tuple:
    """:func:`_key_list`, remembered (the same few key lists at the same few offsets)."""
    got = _KEY_LISTS.get((written, at))
    if got is None:
        got = _KEY_LISTS[(written, at)] = _key_list(written, at)
    return got


def _key_list(written: str, at: int) -> tuple:
    """``(keys, spans)`` of a written key list (its leading space included) that starts
    at ``at`` of its attribute; each tuple is one shared object."""
    shared = _SHARED.setdefault
    found = [(k.start(), k.end()) for k in _KEYS.finditer(written)]
    keys = tuple([intern(written[a:b]) for a, b in found])
    spans = tuple([(a + at, b + at) for a, b in found])
    return shared(keys, keys), shared(spans, spans)


_BUILT: "OrderedDict[int, FastNode]" = OrderedDict()  # statements whose children are built
_MAX_BUILT = 1024

_TOKENS: dict = {}  # (kind, length) -> one shared whitespace or newline item
# one object for each distinct small tuple of keys or relative spans (they repeat a lot)
_SHARED: dict = {}
_KEY_LISTS: dict = {}  # (written key list, its offset in the attribute) -> (keys, spans)


def _token(kind: str, length: int) -> tuple:
    t = (kind, 0, length)
    if length < 64:
        _TOKENS[(kind, length)] = t
    return t


def _exact_run(pre, n: int, src_pos: int):
    """``(shift, limit)`` of the map run that maps lexer offset ``n`` to ``src_pos``
    character by character (``limit``: where that stops, also at a rewritten
    character), or None."""
    smap = pre.map
    r = bisect_right(smap.dst, n) - 1
    if r < 0 or smap.dlen[r] != smap.slen[r] or smap.src[r] - smap.dst[r] != src_pos - n:
        return None
    shift = src_pos - n
    limit = smap.dst[r] + smap.dlen[r]
    if pre.replaced:
        offs = pre._replaced_offsets
        j = bisect_left(offs, src_pos)
        if j < len(offs):
            limit = min(limit, offs[j] - shift)
    return shift, limit


def _removed_at(pre, a: int) -> list:
    """The removed pieces that follow each other from source offset ``a`` on."""
    removed = pre.removed
    if not removed:
        return []
    i = bisect_right(pre._removed_ends, a)
    out = []
    while i < len(removed) and removed[i].start == a:
        r = removed[i]
        out.append(r)
        a = r.end
        i += 1
    return out


def run_fast(p, states: list, stop) -> bool:
    """Take as many items as the fast path can, from the parser's next item on. Returns
    False when ``stop`` said the parse has converged (as ``run_items`` does), else True
    (the parser's token stream then resumes after the last item taken).

    A lexer text that is a rope (after an edit) is read in windows: positions in the
    loop are relative to the window (``wb`` is its start in the lexer text, ``lsh`` maps
    them to the source), and a statement is taken only when it ends before the window's
    last character (every statement's pattern ends by looking at the line end after it)."""
    ts = p.ts
    if ts.conflicts or not ENABLED:
        return True
    t = ts.get(p.i)
    n = t[3]
    if n is None or t[4] != _INITIAL_STACK:
        return True
    pre = p.pre
    run = _exact_run(pre, n, t[1])
    if run is None:
        return True
    shift, limit = run
    lexed = pre.lexed
    total = len(lexed)
    if lexed.__class__ is str:
        wb, text, cut = 0, lexed, False
    else:
        wb, n, text, cut = n, 0, "", True  # the loop takes the first window
    wcut = len(text)  # a statement must end by here
    lsh = wb + shift  # window offset -> source offset
    src = pre.src
    items = p.items
    starts = p.starts
    sub = tuple(p.subgraphs) if p.subgraphs else ()
    step = _STEP.match
    block = _BLOCK.match
    newlines = _NEWLINES.match
    last = None  # the last token taken, as the token stream would have it
    resume = n + lsh  # source offset after the last item taken
    dir_at = -1  # no `direction` in the source before this offset
    last_st = None
    token = _TOKENS.get
    window = 512
    while True:
        if cut and n + _MARGIN > len(text):
            # near the end of the window (or before the first): the next one starts here
            wb += n
            n = 0
            text = lexed[wb : wb + _WINDOW]
            cut = wb + len(text) < total
            wcut = len(text) - 1 if cut else len(text)
            lsh = wb + shift
        pending = ()  # removed text (comment lines, '\r') before this item
        if n + wb >= limit:
            pending = _removed_at(pre, n + lsh)
            if not pending:
                break
            run = _exact_run(pre, n + wb, pending[-1].end)
            if run is None:
                break
            shift, limit = run
            lsh = wb + shift
        if text.startswith("\n", n):
            # the newlines after a statement (half the items): no need of the whole step
            end = newlines(text, n).end()
            s0 = n
            ws = br = _ABSENT
            nl = _PRESENT
        else:
            m = step(text, n)
            if m is None:
                break
            _, ws, nl, l, lc, ln, rc, r, lb, en, br = m.regs
            end = m.end()
            s0 = n if ws[0] < 0 else ws[1]
        if br[0] >= 0:
            blk = block(text, end)
            if blk is None:
                break
            opened = end
            empty = blk.start(1) == end
            end = blk.end()
        if end + wb > limit or end > wcut:
            break
        # `direction` on a line changes how the lexer reads it, and how far its tokens
        # look (extents.py, on the source): none may occur up to the end of the line
        sle = src.find("\n", end + lsh)
        if sle < 0:
            sle = len(src)
        if dir_at < sle:
            # windows that grow: a reparse looks little ahead, a full parse few times
            window = min(window * 2, 65536)
            d = find_direction(src, resume, sle + window)
            dir_at = d if d >= 0 else sle + window - 8
            if dir_at < sle:
                break
        # the restart state before this item, and the convergence check of a reparse
        first = pending[0].start if pending else n + lsh
        st = (n + wb - first, _INITIAL_STACK, sub)
        if st == last_st:
            st = last_st  # one object for the many equal states
        else:
            last_st = st
        if stop is not None and stop(p, st, first):
            return False
        for rm in pending:
            items.append((REMOVED_TOKEN.get(rm.kind, K.WHITESPACE), 0, rm.end - rm.start))
            starts.append(rm.start)
            states.append(st)
            st = None
        if ws[0] >= 0:
            items.append(token((K.WHITESPACE, s0 - n)) or _token(K.WHITESPACE, s0 - n))
            starts.append(n + lsh)
            states.append(st)
            st = None
        if nl[0] >= 0:
            items.append(token((K.NEWLINE, end - s0)) or _token(K.NEWLINE, end - s0))
            last = (K.NEWLINE, s0 + lsh, end + lsh, s0 + wb, _INITIAL_STACK)
        elif l[0] >= 0:
            node = FastNode(
                K.REL_STMT,
                text[s0:end],
                (
                    (
                        0, end - s0, 0, l[1] - s0, r[0] - s0, r[1] - s0, lc[0] - s0, lc[1] - s0,
                        rc[0] - s0, rc[1] - s0, ln[0] - s0, ln[1] - s0, lb[0] - s0, lb[1] - s0,
                    ),
                    _CARD_KIND[text[lc[0] : lc[1]]],
                    K.IDENTIFYING if text[ln[0] : ln[1]] == "--" else K.NON_IDENTIFYING,
                    _CARD_KIND[text[rc[0] : rc[1]]],
                ),
            )
            items.append(node)
            last = (K.UNICODE_TEXT, s0 + lsh, end + lsh, s0 + wb, _INITIAL_STACK)
        else:
            name = (0, en[1] - s0)
            stext = text[s0:end]
            if br[0] >= 0:
                attrs = AttrBlock(stext, opened - s0, intern(stext[: en[1] - s0]), s0 + lsh, empty)
                fast = (name, (br[0] - s0, end - s0), attrs)
                last = (K.BLOCK_STOP, end - 1 + lsh, end + lsh, end - 1 + wb, ("INITIAL", "block"))
            else:
                fast = (name, None, ())
                last = (K.UNICODE_TEXT, s0 + lsh, end + lsh, s0 + wb, _INITIAL_STACK)
            items.append(FastNode(K.ENTITY_STMT, stext, fast))
        starts.append(s0 + lsh)
        states.append(st)
        n = end
        resume = end + lsh
    if last is not None:
        # the stream resumes after the last item taken (the token before it is kept for
        # the parser's "how far was consumed" question)
        del ts.buf[p.i :]
        ts.buf.append(last)
        p.i = len(ts.buf)
        ts.restart(p.i, n + wb, _INITIAL_STACK, resume)
        p._peek_at = -1
    return True


_WINDOW = 8192  # how much of a rope's lexer text one window holds
_MARGIN = 2048  # a new window starts when fewer characters than this are left
