"""Structure of a host document: outline symbols, workspace symbols, folding ranges,
selection ranges and semantic tokens.

Everything here is a pure function of a :class:`~erd_lsp.analysis.Document` (or of several
for workspace symbols). Ranges are *host* offsets, lines are 0-based *host* lines. No
function raises: on any internal failure it returns an empty result. The LSP encodings
(5-int semantic tokens, positions in the client's units) are the only place where
editors' units appear, in :func:`encode_semantic_tokens`.

The token helpers (:func:`token_at`, :func:`token_role`) are shared with
:mod:`erd_lsp.analysis.hover`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator, NamedTuple, Optional

from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.parser import conflict_regions
from erd_lsp.syntax.fastpath import FastNode
from erd_lsp.syntax.tree import Node, Parse
from erd_lsp.model import partial, statement_identity
from erd_lsp.text import TextRange, paused_gc, units

__all__ = [
    "Symbol",
    "Fold",
    "TOKEN_TYPES",
    "TOKEN_MODIFIERS",
    "document_symbols",
    "workspace_symbols",
    "folding_ranges",
    "selection_ranges",
    "semantic_tokens",
    "encode_semantic_tokens",
    "semantic_tokens_data",
    "semantic_tokens_in",
    "EncodedTokens",
    "TokenState",
    "token_at",
    "token_role",
    "Role",
]


# --- data ---------------------------------------------------------------------------


class Symbol(NamedTuple):
    """One outline entry. ``kind`` is ``"diagram"``, ``"entity"``, ``"attribute"``,
    ``"relationship"`` or ``"subgraph"``; ranges are host offsets; ``selection_range``
    lies inside ``range``. (A named tuple: the outline of a large diagram has tens of
    thousands.)"""

    name: str
    detail: str
    kind: str
    range: TextRange
    selection_range: TextRange
    children: tuple["Symbol", ...] = ()


@dataclass(frozen=True)
class Fold:
    """A folding range over 0-based host lines (both inclusive). ``kind`` is ``"region"``
    (Git conflict regions), ``"comment"`` (runs of ``%%`` comment lines) or None."""

    start_line: int
    end_line: int
    kind: Optional[str] = None


# The semantic token legend the server registers (indexes are the LSP token type numbers).
TOKEN_TYPES: tuple[str, ...] = (
    "class",  # entity names
    "string",  # aliases, labels, accessibility text, subgraph titles
    "property",  # attribute names
    "type",  # attribute types
    "decorator",  # PK / FK / UK
    "operator",  # cardinalities and relationship lines
    "comment",  # %% comments, attribute comments, front matter, conflict markers
    "macro",  # %%{ directives }%%
    "keyword",  # erDiagram, style, classDef, class, direction, subgraph, end, accTitle, accDescr
    "enumMember",  # classDef class names
    "namespace",  # subgraph ids
)
# Bit i of a token's modifier set is TOKEN_MODIFIERS[i]; the last four are custom.
TOKEN_MODIFIERS: tuple[str, ...] = (
    "declaration",  # the entity statement, attribute name, classDef name, subgraph id
    "deprecated",  # Git conflict markers
    "documentation",  # front matter
    "implicit",  # an entity never declared by an entity statement
    "identifying",  # `--` / `to`
    "nonIdentifying",  # `..` / `.-` / `-.` / `optionally to`
)

_CARD_LEFT = {"ZERO_OR_ONE": "|o", "ONLY_ONE": "||", "ZERO_OR_MORE": "}o", "ONE_OR_MORE": "}|", "MD_PARENT": "u"}
_CARD_RIGHT = {"ZERO_OR_ONE": "o|", "ONLY_ONE": "||", "ZERO_OR_MORE": "o{", "ONE_OR_MORE": "|{", "MD_PARENT": "u"}

_WS = " \t\r\n\x0b\x0c"
_DIRECTION_RX = re.compile(r"direction[ \t]+\S+", re.IGNORECASE)
_INSIGNIFICANT = frozenset({K.WHITESPACE, K.NEWLINE, K.EOF, K.END_OF_INPUT, K.REMOVED_SEMI})


# --- tree helpers -------------------------------------------------------------------


def iter_tokens(parse: Parse, lo: int = 0, hi: Optional[int] = None) -> Iterator[tuple]:
    """``(kind, start, end, ancestors)`` for every token of items ``lo..hi`` with absolute
    offsets; ``ancestors`` is a tuple of ``(node, abs_start, abs_end)``, outermost first."""
    items, starts = parse.items, parse.starts
    hi = len(items) if hi is None else min(hi, len(items))
    lo = max(0, lo)
    for item, base in zip(items.iter_from(lo, hi), starts.iter_from(lo, hi)):
        if isinstance(item, Node):
            yield from _rec(item, base, ())
        else:
            yield item[0], base + item[1], base + item[2], ()


def _rec(node: Node, base: int, anc: tuple) -> Iterator[tuple]:
    anc2 = anc + ((node, base + node.start, base + node.end),)
    for c in node.children:
        if isinstance(c, Node):
            yield from _rec(c, base, anc2)
        else:
            yield c[0], base + c[1], base + c[2], anc2


def token_at(parse: Parse, pos: int) -> Optional[tuple]:
    """The token at diagram offset ``pos`` as ``(kind, start, end, ancestors)``.

    A significant token containing ``pos`` wins; then one ending exactly at ``pos`` (the
    cursor just after a word); then any token containing ``pos`` (whitespace)."""
    if not parse.items:
        return None
    i = parse.item_index_at(pos)
    containing = None
    ending = None
    any_containing = None
    for t in iter_tokens(parse, i - 1, i + 2):
        k, s, e = t[0], t[1], t[2]
        if s <= pos < e:
            if k not in _INSIGNIFICANT:
                containing = t
                break
            if any_containing is None:
                any_containing = t
        elif e == pos and s < e and k not in _INSIGNIFICANT:
            ending = t
    return containing or ending or any_containing


def trim(src: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without leading and trailing whitespace (empty stays put)."""
    a, b = start, end
    while a < b and src[a] in _WS:
        a += 1
    while b > a and src[b - 1] in _WS:
        b -= 1
    if a == b:
        return start, start
    return a, b


@dataclass(frozen=True)
class Role:
    """What a token is, for hover and highlighting.

    ``what`` is one of: ``entity`` (name; ``declaration`` when in its entity statement),
    ``alias`` (name = the entity), ``attr_type`` / ``attr_name`` / ``key`` /
    ``attr_comment`` (``attribute`` set when modelled), ``card`` (``side`` "left"/"right"),
    ``line``, ``label``, ``keyword``, ``class_name`` (``declaration`` in a classDef),
    ``subgraph`` (its id), ``subgraph_title``, ``acc_value``, ``conflict``."""

    what: str
    start: int  # diagram offsets of the (trimmed) token
    end: int
    name: str = ""
    declaration: bool = False
    side: str = ""
    relationship: object = None
    attribute: object = None


def token_role(unit, tok) -> Optional[Role]:
    """Classify a token of ``unit`` (from :func:`iter_tokens` / :func:`token_at`)."""
    try:
        return _token_role(unit, tok, _unit_index(unit))
    except Exception:  # pragma: no cover - never take the editor down
        return None


class _Index:
    """Lookups from ranges to model objects, built once per unit."""

    def __init__(self, unit) -> None:
        d = unit.diagram
        self.diagram = d
        self.refs = {}
        for r in d.references:
            self.refs.setdefault(r.range.start, r.name)
        self._attrs = None
        self.rels = {r.range.start: r for r in d.relationships}
        self.subgraph_ids = {s.id for s in d.subgraphs}

    @property
    def attrs(self) -> dict:
        """Attribute start -> its record (made on first use: only a token of a statement
        the fast path did not take asks, and reading every attribute decodes every block)."""
        attrs = self._attrs
        if attrs is None:
            attrs = self._attrs = {}
            for e in self.diagram.entities.values():
                for a in e.attributes:
                    attrs[a.range.start] = a
        return attrs


def _unit_index(unit) -> _Index:
    """The lookups of a diagram, built once per diagram version (hover asks for one token
    at a time; building them is a pass over every reference and attribute)."""
    idx = unit.__dict__.get("_structure_index")
    if idx is None:
        idx = unit.__dict__["_structure_index"] = _Index(unit)
    return idx


def _clean_name(parse: Parse, s: int, e: int) -> str:
    pre = parse.pre
    v = pre.clean(s, e) if pre is not None else parse.src[s:e]
    return v.replace('"', "")


def _token_role(unit, tok, idx: _Index) -> Optional[Role]:
    kind, s, e, anc = tok
    parse = unit.parse
    src = parse.src
    kinds = [a[0].kind for a in anc]
    inner = kinds[-1] if kinds else None
    if K.ERROR in kinds:
        return None
    ts, te = trim(src, s, e)
    if kind in K.CARDINALITIES:
        rel = _rel_of(anc, idx)
        side = ""
        if rel is not None:
            side = "left" if rel.left_card_range.start == s else "right" if rel.right_card_range.start == s else ""
        elif inner == K.REL_SPEC:
            spec = anc[-1][0]
            first = next(spec.child_tokens(K.CARDINALITIES), None)
            side = "left" if first is not None and anc[-1][1] - anc[-1][0].start + first[1] == s else "right"
        return Role("card", ts, te, side=side, relationship=rel)
    if kind in K.REL_TYPES:
        return Role("line", ts, te, relationship=_rel_of(anc, idx))
    if kind == K.DIRECTION:
        # the token is the whole line from where lexing stood: keep the `direction XX` part
        m = _DIRECTION_RX.search(src, s, e)
        if m is None:
            return Role("keyword", ts, te, name="direction")
        return Role("keyword", m.start(), m.end(), name="direction")
    if kind in K.KEYWORD_SPELLING:
        word = K.KEYWORD_SPELLING[kind]
        return Role("keyword", ts, min(te, ts + len(word)), name=word)
    if kind in (K.ACC_TITLE_VALUE, K.ACC_DESCR_VALUE, K.ACC_DESCR_MULTI_VALUE):
        return Role("acc_value", ts, te)
    if kind == K.CONFLICT_MARKER:
        return Role("conflict", ts, te)
    if inner == K.ENTITY_REF:
        outer = kinds[-2] if len(kinds) > 1 else None
        name = idx.refs.get(s) or _clean_name(parse, s, e)
        if outer == K.SUBGRAPH_START:
            return Role("subgraph", ts, te, name=name.strip(), declaration=True)
        if outer == K.REL_STMT:
            return Role("entity", ts, te, name=name, relationship=_rel_of(anc[:-1], idx))
        return Role("entity", ts, te, name=name, declaration=outer == K.ENTITY_STMT)
    if inner == K.ALIAS and kind in K.ENTITY_NAMES:
        stmt = anc[-2] if len(anc) > 1 else None
        name = ""
        if stmt is not None:
            ref = stmt[0].node(K.ENTITY_REF)
            rt = next(ref.child_tokens(), None) if ref is not None else None
            if rt is not None:
                base = stmt[1] - stmt[0].start
                name = idx.refs.get(base + rt[1]) or _clean_name(parse, base + rt[1], base + rt[2])
        return Role("alias", ts, te, name=name)
    if inner == K.SUBGRAPH_TITLE and kind in K.ENTITY_NAMES:
        return Role("subgraph_title", ts, te)
    if inner == K.LABEL:
        return Role("label", ts, te, relationship=_rel_of(anc[:-1], idx))
    if inner == K.ID_LIST and kind in (K.UNICODE_TEXT, K.STYLE_TEXT):
        holder = kinds[-2] if len(kinds) > 1 else None
        value = _clean_name(parse, s, e)
        if holder == K.CLASS_LIST:
            return Role("class_name", ts, te, name=value)
        if holder == K.CLASSDEF_STMT:
            return Role("class_name", ts, te, name=value, declaration=True)
        if holder == K.STYLE_STMT:
            return _entity_or_subgraph(ts, te, value, idx)
        if holder == K.CLASS_STMT:
            stmt = anc[-2]
            first = stmt[0].node(K.ID_LIST)
            if first is anc[-1][0]:
                return _entity_or_subgraph(ts, te, value, idx)
            return Role("class_name", ts, te, name=value)
        return None
    if K.ATTRIBUTE in kinds:
        a_anc = anc[kinds.index(K.ATTRIBUTE)]
        attr = idx.attrs.get(a_anc[1])
        if inner == K.ATTR_TYPE and kind in (K.ATTRIBUTE_WORD, K.CHAR):
            return Role("attr_type", ts, te, attribute=attr)
        if inner == K.ATTR_NAME and kind == K.ATTRIBUTE_WORD:
            return Role("attr_name", ts, te, attribute=attr)
        if inner == K.KEY_LIST and kind == K.ATTRIBUTE_KEY:
            return Role("key", ts, te, name=src[ts:te].upper(), attribute=attr)
        if inner == K.ATTR_COMMENT and kind == K.COMMENT_STRING:
            return Role("attr_comment", ts, te, attribute=attr)
    return None


def _entity_or_subgraph(ts: int, te: int, value: str, idx: _Index) -> Role:
    e = idx.diagram.entities.get(value)
    if value in idx.subgraph_ids and (e is None or e.implicit):
        return Role("subgraph", ts, te, name=value)
    return Role("entity", ts, te, name=value)


def _rel_of(anc, idx: _Index):
    for node, a, _b in anc:
        if node.kind == K.REL_STMT:
            return idx.rels.get(a)
    return None


# --- document symbols ---------------------------------------------------------------


def document_symbols(doc) -> list[Symbol]:
    """The outline: in a Markdown file one ``diagram`` symbol per ER diagram holding its
    entities (with their attributes), relationships and subgraphs; in a ``.mmd`` file
    those symbols at the top level."""
    with paused_gc():  # a symbol and two ranges per attribute: no cycles
        return finish_steps(document_symbol_steps(doc), [])


def document_symbol_steps(doc, every: int = 100):
    """:func:`document_symbols` in steps: a generator that pauses (yields None) after
    about every ``every`` entities it read, so that a server can answer other messages
    meanwhile (the outline of a large diagram takes a few hundred milliseconds), and
    returns the symbols. Drive it with :func:`finish_steps` or ``next``."""
    out: list[Symbol] = []
    for unit in doc.units:
        syms = yield from _unit_symbol_steps(unit, every)
        if doc.kind == "markdown":
            out.append(_diagram_symbol(unit, syms))
        else:
            out.extend(syms)
    return out


def finish_steps(steps, default):
    """Run a generator of steps to its end and return what it returns (``default`` if it
    fails: a feature never takes the editor down)."""
    try:
        while True:
            next(steps)
    except StopIteration as stop:
        return stop.value
    except Exception:  # pragma: no cover
        return default


def _trimmed(unit, start: int, end: int) -> TextRange:
    a, b = trim(unit.parse.source, start, end)
    return unit.to_host(TextRange(a, b))


def _statement_range(parse: Parse, offset: int) -> tuple[int, int]:
    i = parse.item_index_at(offset)
    item, base = parse.items[i], parse.starts[i]
    if isinstance(item, Node):
        return base + item.start, base + item.end
    return base + item[1], base + item[2]


def _attr_detail(a) -> str:
    return a.type + (" " + ", ".join(a.keys) if a.keys else "")


def _entity_symbol(unit, e, children: bool = True) -> Symbol:
    parse = unit.parse
    if e.definitions:
        spans = [_statement_range(parse, r.start) for r in e.definitions]
        spans += [(b.start, b.end) for b in e.blocks]
        start = min(s for s, _ in spans)
        end = max(x for _, x in spans)
        rng = _trimmed(unit, start, end)
        sel = unit.to_host(e.definitions[0])
    else:
        rng = sel = unit.to_host(e.first_mention)
    detail = e.alias if e.alias else ("implicit" if e.implicit else "")
    kids: tuple = ()
    if children and e.attributes:
        # (tens of thousands of them in a large diagram: the ranges are made here directly)
        host = None if unit.block.map.is_identity else unit.to_host
        out = []
        add = out.append
        new = tuple.__new__
        for a in e.attributes:
            b = a.base + a.at
            r, n = new(TextRange, (b, b + a.length)), new(TextRange, (b + a.name_at, b + a.name_end))
            if host is not None:
                r, n = host(r), host(n)
            add(new(Symbol, (a.name, _attr_detail(a), "attribute", r, n, ())))
        kids = tuple(out)
    return Symbol(e.name, detail, "entity", rng, sel, kids)


def relationship_name(rel) -> str:
    """``A ||--o{ B``: the relationship in Mermaid's symbolic notation."""
    line = "--" if rel.identifying else ".."
    return f"{rel.left} {_CARD_LEFT.get(rel.left_cardinality, '?')}{line}{_CARD_RIGHT.get(rel.right_cardinality, '?')} {rel.right}"


def _unit_symbol_steps(unit, every: int):
    d = unit.diagram
    yield
    # the attribute records the outline reads are decoded (and kept) first, before the
    # outline's hundreds of thousands of short-lived objects: kept objects made among
    # those would pin the memory they take (on large: 118 -> 90 MB after the outline)
    for i, e in enumerate(d.entities.values(), 1):
        e.attributes.__len__()
        if i % every == 0:
            yield
    src = unit.parse.source
    # (diagram range, symbol or subgraph spec)
    leaves: list[tuple[tuple[int, int], Symbol]] = []
    for i, e in enumerate(d.entities.values(), 1):
        if i % every == 0:
            yield
        if e.definitions:
            spans = [_statement_range(unit.parse, r.start) for r in e.definitions]
            span = (min(s for s, _ in spans), max(x for _, x in spans))
        else:
            span = (e.first_mention.start, e.first_mention.end)
        leaves.append((span, _entity_symbol(unit, e)))
    for i, rel in enumerate(d.relationships, 1):
        if i % every == 0:
            yield
        a, b = trim(src, rel.range.start, rel.range.end)
        sel = unit.to_host(TextRange(rel.left_range.start, rel.right_range.end))
        leaves.append(((a, b), Symbol(relationship_name(rel), rel.label, "relationship", unit.to_host(TextRange(a, b)), sel)))
    subs = []
    for sg in d.subgraphs:
        a, b = trim(src, sg.range.start, sg.range.end)
        subs.append(((a, b), sg))
    if not subs:
        leaves.sort(key=lambda x: (x[0][0], -x[0][1]))
        return [s for _, s in leaves]
    # nest everything into the smallest subgraph that contains it
    subs.sort(key=lambda x: x[0][1] - x[0][0])

    def parent_of(span, skip=None):
        for j, (sp, _sg) in enumerate(subs):
            if j == skip:
                continue
            if sp[0] <= span[0] and span[1] <= sp[1] and sp != span:
                return j
        return None

    kids: dict = {None: []}
    for span, sym in leaves:
        kids.setdefault(parent_of(span), []).append((span, sym))
    built: dict[int, Symbol] = {}
    for j, (span, sg) in enumerate(subs):  # smallest first: inner subgraphs are built first
        mine = sorted(kids.get(j, []), key=lambda x: (x[0][0], -x[0][1]))
        title = sg.title if sg.title and sg.title != sg.id else ""
        sym = Symbol(
            sg.id or "subgraph",
            title,
            "subgraph",
            unit.to_host(TextRange(*span)),
            unit.to_host(sg.name_range),
            tuple(s for _, s in mine),
        )
        built[j] = sym
        kids.setdefault(parent_of(span, j), []).append((span, sym))
    top = sorted(kids[None], key=lambda x: (x[0][0], -x[0][1]))
    return [s for _, s in top]


def _header_range(unit) -> Optional[TextRange]:
    for k, s, e in unit.parse.tokens():
        if k == K.ER_DIAGRAM:
            return TextRange(s, e)
        if k not in K.TRIVIA and k not in _INSIGNIFICANT:
            return None
    return None


def _diagram_symbol(unit, children: list[Symbol]) -> Symbol:
    doc = unit.document
    block = unit.block
    header = _header_range(unit)
    if header is not None:
        sel = unit.to_host(header)
    else:
        ln = doc.line_index.line_range(doc.line_index.line_of(block.start))
        sel = ln
    title = unit.diagram.title
    name = title if title else f"erDiagram (line {doc.line_index.line_of(sel.start) + 1})"
    a, b = trim(doc.text, block.start, max(block.end, block.start))
    rng = TextRange(min(a, sel.start), max(b, sel.end))
    d = unit.diagram
    n_ent = len(d.entities)
    n_rel = len(d.relationships)
    detail = f"{n_ent} entit{'y' if n_ent == 1 else 'ies'}, {n_rel} relationship{'' if n_rel == 1 else 's'}"
    return Symbol(name, detail, "diagram", rng, sel, tuple(children))


# --- workspace symbols --------------------------------------------------------------


def workspace_symbols(workspace_documents: Iterable, query: str, limit: int = 200) -> list[tuple]:
    """Entities and attributes (named ``ENTITY.attr``) of every ``(key, Document)`` whose
    name matches ``query``: case-insensitive, exact names first, then prefixes (of the
    name or of the attribute part), substrings, and finally subsequences (fuzzy).
    Returns ``(key, Symbol)`` pairs with symbols without children."""
    try:
        q = (query or "").strip().lower()
        found = []
        n = 0
        for key, doc in workspace_documents:
            for unit in doc.units:
                for e in unit.diagram.entities.values():
                    score = _match(q, e.name)
                    if score is not None:
                        found.append((score, 0, len(e.name), n, key, unit, e, None))
                        n += 1
                    for a in e.attributes:
                        full = f"{e.name}.{a.name}"
                        score = _match(q, full, a.name)
                        if score is not None:
                            found.append((score, 1, len(full), n, key, unit, e, a))
                            n += 1
        found.sort(key=lambda x: x[:4])
        out = []
        for _s, _k, _l, _n, key, unit, e, a in found[: max(0, limit)]:
            if a is None:
                out.append((key, _entity_symbol(unit, e, children=False)))
            else:
                out.append(
                    (key, Symbol(f"{e.name}.{a.name}", _attr_detail(a), "attribute", unit.to_host(a.range), unit.to_host(a.name_range)))
                )
        return out
    except Exception:  # pragma: no cover
        return []


def _match(q: str, name: str, part: Optional[str] = None) -> Optional[int]:
    """0 exact, 1 prefix, 2 substring, 3 subsequence, None no match."""
    if not q:
        return 1
    low = name.lower()
    plow = part.lower() if part is not None else None
    if low == q or plow == q:
        return 0
    if low.startswith(q) or (plow is not None and plow.startswith(q)):
        return 1
    if q in low:
        return 2
    i = 0
    for ch in low:
        if ch == q[i]:
            i += 1
            if i == len(q):
                return 3
    return None


# --- folding ------------------------------------------------------------------------


def folding_ranges(doc) -> list[Fold]:
    """Attribute blocks, subgraphs, multi-line ``accDescr { }``, front matter, Git conflict
    regions, runs of two or more ``%%`` comment lines and (in Markdown) each diagram's
    fence. A range whose closing `}` / `end` / fence starts its line stops on the line
    before, so the closer stays visible; only ranges of two lines or more are returned."""
    try:
        folds: set = set()
        li = doc.line_index
        for unit in doc.units:
            _unit_folds(unit, folds)
            b = unit.block
            if b.info and b.text:
                last = unit.to_host_offset(len(b.text.rstrip(_WS)) if b.text.strip(_WS) else 0)
                end_line = li.line_of(max(last - 1, b.content_start))
                folds.add((li.line_of(b.start), end_line, None))
        out = [Fold(s, e, k) for s, e, k in folds if e > s]
        out.sort(key=lambda f: (f.start_line, -f.end_line, f.kind or ""))
        return out
    except Exception:  # pragma: no cover
        return []


def _unit_folds(unit, folds: set) -> None:
    parse = unit.parse
    src = parse.source
    li = unit.document.line_index

    def line(off: int) -> int:
        return li.line_of(unit.to_host_offset(off))

    def closer_line(s: int) -> int:
        """Line of a closing token, minus one when it starts its line."""
        j = s - 1
        while j >= 0 and src[j] in " \t":
            j -= 1
        ln = line(s)
        return ln - 1 if j < 0 or src[j] in "\r\n" else ln

    open_subgraphs: list[int] = []
    for item, base in zip(parse.items, parse.starts):
        if not isinstance(item, Node):
            continue
        k = item.kind
        if k == K.SUBGRAPH_START:
            open_subgraphs.append(base + item.start)
        elif k == K.SUBGRAPH_END and not item.errors and open_subgraphs:
            start = open_subgraphs.pop()
            tok = next(item.child_tokens({K.END}), None)
            if tok is not None:
                folds.add((line(start), closer_line(base + tok[1]), None))
        elif k == K.ACC_DESCR_STMT:
            opener = next(item.child_tokens({K.ACC_DESCR_OPEN}), None)
            if opener is not None:
                close = next(item.child_tokens({K.ACC_DESCR_CLOSE}), None)
                if close is not None:
                    end = closer_line(base + close[1])
                else:
                    a, b = trim(src, base + item.start, base + item.end)
                    end = line(max(a, b - 1))
                folds.add((line(base + opener[1]), end, None))
        if item.__class__ is FastNode:
            block = item.fast[1] if k == K.ENTITY_STMT else None
            if block is not None:  # its `}` ends the block
                folds.add((line(base + block[0]), closer_line(base + block[1] - 1), None))
            continue
        if k in (K.ENTITY_STMT, K.ERROR):
            for blk, bbase in _blocks(item, base):
                stop = next((t for t in blk.child_tokens({K.BLOCK_STOP})), None)
                if stop is not None:
                    end = closer_line(bbase + stop[1])
                else:
                    a, b = trim(src, bbase + blk.start, bbase + blk.end)
                    end = line(max(a, b - 1))
                folds.add((line(bbase + blk.start), end, None))
    # conflict regions: marker to marker, both included
    for (s0, _e0), _mid, closing in conflict_regions(parse):
        if closing is None:
            continue
        e1 = closing[1]
        folds.add((line(s0), line(max(s0, e1 - 1)), "region"))
    pre = parse.pre
    if pre is None:
        return
    comment_lines: list[int] = []
    for r in pre.removed:
        if r.kind == "front_matter":
            a, b = trim(src, r.start, r.end)
            folds.add((line(a), line(max(a, b - 1)), None))
        elif r.kind == "directive":
            a, b = trim(src, r.start, r.end)
            folds.add((line(a), line(max(a, b - 1)), None))
        elif r.kind == "comment":
            a, b = trim(src, r.start, r.end)
            if b > a:
                comment_lines.append(line(a))
    run_start = prev = None
    for ln in comment_lines + [None]:
        if ln is not None and prev is not None and ln == prev + 1:
            prev = ln
            continue
        if run_start is not None and prev > run_start:
            folds.add((run_start, prev, "comment"))
        run_start = prev = ln


def _blocks(node: Node, base: int):
    for c in node.children:
        if isinstance(c, Node):
            if c.kind == K.ATTR_BLOCK:
                yield c, base
            else:
                yield from _blocks(c, base)


# --- selection ranges ---------------------------------------------------------------


def selection_ranges(doc, offsets: Iterable[int]) -> list[list[TextRange]]:
    """For each host offset, the ranges from the innermost token outwards: the token, the
    syntax nodes around it (attribute, block, statement), enclosing subgraphs, the whole
    diagram and, in Markdown, the fence block. Each range strictly contains the previous
    one. An offset outside every diagram gets the empty range at the offset."""
    out = []
    for off in offsets:
        try:
            chain = _selection_chain(doc, off)
        except Exception:  # pragma: no cover
            chain = []
        out.append(chain or [TextRange(off, off)])
    return out


def _selection_chain(doc, off: int) -> list[TextRange]:
    unit = doc.unit_at(off)
    if unit is None:
        # on a fence line: the block only
        for u in doc.units:
            b = u.block
            if b.info and b.start <= off <= b.end:
                a, e = trim(doc.text, b.start, max(b.start, b.end))
                return [TextRange(a, e)] if a <= off <= e else []
        return []
    parse = unit.parse
    src = parse.source
    cands: list[TextRange] = []
    pos = unit.from_host(off)
    if pos is not None:
        tok = token_at(parse, pos)
        if tok is not None:
            kind, s, e, anc = tok
            if kind not in _INSIGNIFICANT:
                if kind in K.TRIVIA or kind == K.CONFLICT_MARKER:
                    a, b = trim(src, s, e)
                    cands.append(TextRange(a, b))
                else:
                    role = token_role(unit, tok)
                    if role is not None:
                        cands.append(TextRange(role.start, role.end))
                    a, b = trim(src, s, e)
                    cands.append(TextRange(a, b))
            for node, a, b in reversed(anc):
                a, b = trim(src, a, b)
                cands.append(TextRange(a, b))
            # enclosing subgraphs (smallest first)
            stmt_start = anc[0][1] if anc else s
            sgs = []
            for sg in unit.diagram.subgraphs:
                a, b = trim(src, sg.range.start, sg.range.end)
                if a <= stmt_start < b:
                    sgs.append(TextRange(a, b))
            cands.extend(sorted(sgs, key=len))
        a, b = trim(src, 0, len(src))
        cands.append(TextRange(a, b))
    host = [unit.to_host(r) for r in cands]
    block = unit.block
    if block.info:
        a, b = trim(doc.text, block.start, max(block.start, block.end))
        host.append(TextRange(a, b))
    chain: list[TextRange] = []
    for r in host:
        if not chain:
            if r.start <= off <= r.end:
                chain.append(r)
            continue
        p = chain[-1]
        if r.start <= p.start and p.end <= r.end and r != p:
            chain.append(r)
    return chain


# --- semantic tokens ----------------------------------------------------------------

_KW = ("keyword", ())


def semantic_tokens(doc) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """``(host start, length, type, modifiers)`` for every highlighted token, sorted,
    non-overlapping, each within one line (multi-line tokens are split per line). Types
    and modifiers are from :data:`TOKEN_TYPES` and :data:`TOKEN_MODIFIERS`."""
    try:
        out = []
        for unit in doc.units:
            out.extend(_unit_tokens(unit))
        out.sort()
        res = []
        last_end = -1
        for s, ln, t, m in out:
            if ln <= 0 or s < last_end:
                continue
            res.append((s, ln, t, m))
            last_end = s + ln
        return res
    except Exception:  # pragma: no cover
        return []


def _unit_tokens(unit) -> list[tuple]:
    parse = unit.parse
    src = parse.source
    d = unit.diagram
    raw: list[tuple[int, int, str, tuple]] = []  # diagram offsets
    idx = _unit_index(unit)
    for i, (item, base) in enumerate(zip(parse.items, parse.starts)):
        if item.__class__ is FastNode:
            _fast_tokens(item, base, idx, raw)
            continue
        for tok in iter_tokens(parse, i, i + 1):
            _add_token(unit, tok, idx, d, raw)
    return _finish_tokens(unit, raw)


def _entity_type(name: str, declaration: bool, idx: _Index) -> tuple:
    e = idx.diagram.entities.get(name)
    if declaration:
        return ("class", ("declaration",))
    if e is not None and e.implicit:
        if name in idx.subgraph_ids:
            return ("namespace", ())
        return ("class", ("implicit",))
    return ("class", ())


def _fast_tokens(item: FastNode, base: int, idx: _Index, raw: list) -> None:
    """The highlighted tokens of a statement the parser's fast path took, from the spans
    it recorded (what :func:`_add_token` gives its tokens; building them would cost a
    parse of every statement, and keep it)."""
    if item.kind == K.REL_STMT:
        rel, _lck, lk, _rck = item.fast
        text = item.text
        raw.append((base + rel[2], base + rel[3], *_entity_type(text[rel[2] : rel[3]], False, idx)))
        raw.append((base + rel[6], base + rel[7], "operator", ()))
        raw.append((base + rel[10], base + rel[11], "operator", ("identifying",) if lk == K.IDENTIFYING else ("nonIdentifying",)))
        raw.append((base + rel[8], base + rel[9], "operator", ()))
        raw.append((base + rel[4], base + rel[5], *_entity_type(text[rel[4] : rel[5]], False, idx)))
        raw.append((base + rel[12], base + rel[13], "string", ()))
        return
    (ns, ne), block, attrs = item.fast
    raw.append((base + ns, base + ne, "class", ("declaration",)))
    if not attrs:
        return
    # their spans are relative: placed at this statement's start (an AttrBlock gives them
    # without decoding its records: highlighting a large diagram need not keep them)
    for at, type_end, name_at, name_end, key_spans, comment_span in attrs.spans():
        b = base + at
        raw.append((b, b + type_end, "type", ()))
        raw.append((b + name_at, b + name_end, "property", ("declaration",)))
        for s, e in key_spans:
            raw.append((b + s, b + e, "decorator", ()))
        if comment_span is not None:
            raw.append((b + comment_span[0], b + comment_span[1], "comment", ()))


def _add_token(unit, tok, idx: _Index, d, raw: list) -> None:
    """Append the highlighted piece of one token (if any) to ``raw``."""
    kind = tok[0]
    if kind in _INSIGNIFICANT or kind in K.TRIVIA and kind not in (K.ACC_DESCR_OPEN,):
        return
    role = _token_role(unit, tok, idx)
    if role is None:
        return
    w = role.what
    typ: Optional[tuple] = None
    if w == "entity":
        typ = _entity_type(role.name, role.declaration, idx)
    elif w == "alias" or w == "label" or w == "subgraph_title" or w == "acc_value":
        typ = ("string", ())
    elif w == "attr_name":
        typ = ("property", ("declaration",))
    elif w == "attr_type":
        typ = ("type", ())
    elif w == "key":
        typ = ("decorator", ())
    elif w == "attr_comment":
        typ = ("comment", ())
    elif w == "card":
        typ = ("operator", ())
    elif w == "line":
        typ = ("operator", ("identifying",) if kind == K.IDENTIFYING else ("nonIdentifying",))
    elif w == "keyword":
        typ = _KW
    elif w == "class_name":
        typ = ("enumMember", ("declaration",) if role.declaration else ())
    elif w == "subgraph":
        typ = ("namespace", ("declaration",) if role.declaration else ())
    elif w == "conflict":
        typ = ("comment", ("deprecated",))
    if typ is not None:
        raw.append((role.start, role.end, typ[0], typ[1]))


def _finish_tokens(unit, raw: list, removed=None) -> list:
    """``raw`` (diagram offsets) as host tokens, one per line, with the removed text
    (``removed``: those pieces of ``pre.removed``, default all) as tokens of its own."""
    parse = unit.parse
    src = parse.src
    pre = parse.pre
    gaps = []  # removed text: a token the lexer read across it must not cover it
    if pre is not None:
        for r in pre.removed if removed is None else removed:
            if r.kind == "comment":
                gaps.append((r.start, r.end, "comment", ()))
            elif r.kind == "directive":
                gaps.append((r.start, r.end, "macro", ()))
            elif r.kind == "front_matter":
                gaps.append((r.start, r.end, "comment", ("documentation",)))
    pieces = []
    ends = [g[1] for g in gaps]  # sorted: the gaps do not overlap
    for s, e, t, m in raw:
        i = bisect_right(ends, s)
        if i >= len(gaps) or gaps[i][0] >= e:
            pieces.append((s, e, t, m))  # no removed text inside
        else:
            for a, b in _minus(s, e, gaps, i):
                pieces.append((a, b, t, m))
    pieces.extend(gaps)
    out = []
    li = unit.document.line_index
    text = unit.document.rope
    identity = unit.block.map.is_identity
    find = src.find
    for s, e, t, m in pieces:
        if identity and find("\n", s, e) < 0 and find("\r", s, e) < 0:
            a, b = trim(src, s, e)  # one line, host offsets are diagram offsets
            if b > a:
                out.append((a, b - a, t, m))
            continue
        for a, b in _line_pieces(src, s, e):
            h = unit.to_host(TextRange(a, b))
            for ha, hb in _host_pieces(li, text, h.start, h.end):
                out.append((ha, hb - ha, t, m))
    return out


def _minus(s: int, e: int, gaps: list, first: int = 0) -> Iterator[tuple[int, int]]:
    """``[s, e)`` without the gap ranges inside it (gaps are sorted; none before
    ``first`` ends after ``s``)."""
    pos = s
    for gs, ge, _t, _m in islice(gaps, first, None):
        if ge <= pos:
            continue
        if gs >= e:
            break
        if gs > pos:
            yield pos, gs
        pos = max(pos, ge)
    if pos < e:
        yield pos, e


def _line_pieces(src: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """The non-blank pieces of ``[s, e)``, one per line, trimmed."""
    i = s
    while i < e:
        j = i
        while j < e and src[j] not in "\r\n":
            j += 1
        a, b = trim(src, i, j)
        if b > a:
            yield a, b
        # skip the line break
        if j < e and src[j] == "\r" and j + 1 < e and src[j + 1] == "\n":
            j += 1
        i = j + 1


def _host_pieces(li, text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    if e <= s:
        return
    if li.line_of(s) == li.line_of(e - 1):
        yield s, e
        return
    yield from _line_pieces(text, s, e)  # pragma: no cover - a diagram line maps to one host line


def encode_semantic_tokens(doc, tokens, encoding: str = "utf-16") -> list[int]:
    """LSP's relative encoding (deltaLine, deltaStart, length, type, modifier bits) of
    :func:`semantic_tokens`' output, with columns and lengths in ``encoding`` units."""
    try:
        return _encode(doc, tokens, encoding)[0]
    except Exception:  # pragma: no cover
        return []


_TYPE_INDEX = {t: i for i, t in enumerate(TOKEN_TYPES)}
_MOD_BITS = {m: 1 << i for i, m in enumerate(TOKEN_MODIFIERS)}


def _bits(modifiers) -> int:
    bits = 0
    for m in modifiers:
        bits |= _MOD_BITS.get(m, 0)
    return bits


def _encode(doc, tokens, encoding: str, prev_line: int = 0, prev_char: int = 0) -> tuple[list[int], list[int]]:
    """The relative encoding of ``tokens`` after a token at ``(prev_line, prev_char)``, and
    the host starts of the tokens encoded (those of a known type and a positive length)."""
    li = doc.line_index
    text = doc.rope
    plain = li.is_ascii or encoding == "utf-32"  # every length in units is the length
    position = li.positions(encoding)  # (the tokens come in order)
    types = _TYPE_INDEX
    data: list[int] = []
    starts: list[int] = []
    for start, length, typ, modifiers in tokens:
        ti = types.get(typ)
        if ti is None or length <= 0:
            continue
        line, char = position(start)
        n = length if plain else units(text[start : start + length], encoding)
        dl = line - prev_line
        dc = char - prev_char if dl == 0 else char
        data += [dl, dc, n, ti, _bits(modifiers)]
        starts.append(start)
        prev_line, prev_char = line, char
    return data, starts


# --- semantic tokens across edits ---------------------------------------------------

# statements whose tokens depend on the whole diagram in ways the token state does not
# follow (subgraph ids are names too; `class`/`style` reach entities by timing)
_UNFOLLOWED = frozenset({K.SUBGRAPH_START, K.SUBGRAPH_END, K.CLASS_STMT, K.STYLE_STMT, K.CLASSDEF_STMT})
# beyond this many items in the changed stretch, computing everything again is as cheap
_MAX_REGION = 2000
# a name whose declaredness changed is looked for in the text; beyond this many
# occurrences outside the stretch, everything is computed again
_MAX_HITS = 2000


class TokenState:
    """The encoded semantic tokens of one version of a ``.mmd`` diagram, and what carries
    them to the next version for the cost of the edit (:func:`semantic_tokens_data`):
    ``data`` (LSP's relative encoding, in ``encoding`` units), the host start of each
    token (``starts``, chunked offsets: a splice moves the later chunks' bases), and how
    many entity statements declare each name and how many relationship ends (complete or
    not) name it (``decl``, ``ment``), which is all an entity name's token reads of the
    rest of the diagram when it has no subgraphs and no ``class``/``style``/``classDef``
    statements (other diagrams have no state). ``plain``: every entity name's text is its
    name (no quotes, no entity codes), so that the occurrences of a name are found in the
    text. A state is handed on, not copied: once a newer version's state is made from it,
    ``live`` is False and it carries nothing further."""

    __slots__ = ("parse", "encoding", "data", "starts", "decl", "ment", "plain", "live")

    def __init__(self, parse, encoding, data, starts, decl, ment, plain) -> None:
        self.parse = parse
        self.encoding = encoding
        self.data = data
        self.starts = starts
        self.decl = decl
        self.ment = ment
        self.plain = plain
        self.live = True


@dataclass
class EncodedTokens:
    """What :func:`semantic_tokens_data` answers: ``data`` (the whole encoding; the
    state's own list, to be copied by whoever keeps it longer than until the next call),
    ``edits`` (``(start, delete count, ints)`` turning the previous state's data into
    ``data``, sorted, on the previous data's indexes; None when the previous state could
    not be carried over) and the ``state`` to hand to the next call (None for a document
    that has none: the next call computes everything)."""

    data: list
    edits: Optional[list]
    state: Optional[TokenState]


def semantic_tokens_data(doc, encoding: str = "utf-16", previous: Optional[TokenState] = None) -> EncodedTokens:
    """:func:`encode_semantic_tokens` of :func:`semantic_tokens` for ``doc``, computed
    from ``previous`` (the state of an earlier version of the same document) when the
    parses show what changed: then the tokens of the changed items are made again, the
    rest is spliced, and only the tokens of names whose declaredness changed are looked
    at elsewhere, so that a keystroke costs about what it changed. Equal to a fresh
    computation in every case (a test checks it)."""
    try:
        unit = _single_unit(doc)
        if previous is not None and previous.live and unit is not None and previous.encoding == encoding:
            if previous.parse is unit.parse:
                return EncodedTokens(previous.data, [], previous)
            edits = _carry(previous, doc, unit)
            if edits is not None:
                return EncodedTokens(previous.data, edits, previous)
        if previous is not None:
            previous.live = False
        return _fresh(doc, unit, encoding)
    except Exception:  # pragma: no cover - never take the editor down
        if previous is not None:
            previous.live = False
        return EncodedTokens(encode_semantic_tokens(doc, semantic_tokens(doc), encoding), None, None)


def semantic_tokens_in(result: Optional[EncodedTokens], doc, start: int, end: int, encoding: str = "utf-16") -> list[int]:
    """The encoded tokens of ``doc`` that start in host ``[start, end)`` (what
    ``textDocument/semanticTokens/range`` answers), read from ``result`` (of ``doc``, in
    ``encoding``) when it has a state."""
    try:
        st = result.state if result is not None else None
        if st is None or st.encoding != encoding:
            toks = [t for t in semantic_tokens(doc) if start <= t[0] < end]
            return encode_semantic_tokens(doc, toks, encoding)
        a = st.starts.bisect_left(start)
        b = st.starts.bisect_left(end)
        if a >= b:
            return []
        out = st.data[5 * a : 5 * b]
        line, char = doc.line_index.position(st.starts[a], st.encoding)
        out[0], out[1] = line, char
        return out
    except Exception:  # pragma: no cover
        return []


def _single_unit(doc):
    """The diagram of a ``.mmd`` document that is one diagram read as it is, else None."""
    if doc.kind != "mermaid":
        return None
    units = doc.units
    if len(units) != 1 or not units[0].block.map.is_identity:
        return None
    return units[0]


def _fresh(doc, unit, encoding: str) -> EncodedTokens:
    tokens = semantic_tokens(doc)
    data, starts = _encode(doc, tokens, encoding)
    if unit is None:
        return EncodedTokens(data, None, None)
    parse = unit.parse
    for item in parse.items:
        if item.__class__ is not tuple and item.kind in _UNFOLLOWED:
            return EncodedTokens(data, None, None)
    d = unit.diagram
    if d.subgraphs:
        return EncodedTokens(data, None, None)
    decl: dict = {}
    ment: dict = {}
    for e in d.entities.values():
        if e.definitions:
            decl[e.name] = len(e.definitions)
        if e.references:
            ment[e.name] = len(e.references)
    st = TokenState(parse, encoding, data, None, decl, ment, _plain_refs(parse.source, d.references))
    from erd_lsp.text import Chunked

    st.starts = Chunked(starts, offsets=True, typecode="q")
    return EncodedTokens(data, None, st)


def _plain_refs(src: str, refs) -> bool:
    for r in refs:
        if src[r.range.start : r.range.end] != r.name:
            return False
    return True


def _changed_items(old: Parse, new: Parse) -> Optional[tuple[int, int, int]]:
    """``(first item, end in the new items, end in the old)`` of the stretch outside which
    the two parses hold the very same item objects: the reparse window when it says so
    (several edits since ``old`` widen it), else found by comparing."""
    from operator import is_

    oi, ni = old.items, new.items
    lo, ln = len(oi), len(ni)
    w = getattr(new, "window", None)
    if w is not None:
        r, ne, oe = w
        if ln - ne == lo - oe and 0 <= r <= ne and r <= oe:
            if all(map(is_, ni.iter_from(0, r), oi.iter_from(0, r))) and all(map(is_, ni.iter_from(ne), oi.iter_from(oe))):
                return r, ne, oe
    p = 0
    for a, b in zip(ni, oi):
        if a is not b:
            break
        p += 1
    q = 0
    limit = min(lo, ln) - p
    for a, b in zip(reversed(ni), reversed(oi)):
        if q >= limit or a is not b:
            break
        q += 1
    return p, ln - q, lo - q


def _mentions(parse: Parse, item, base: int) -> tuple[tuple, tuple]:
    """``(names the statement declares, names its relationship ends name)``."""
    if item.__class__ is tuple or item.kind not in (K.ENTITY_STMT, K.REL_STMT):
        return (), ()
    ident = statement_identity(parse, item, base)
    if ident is None:
        return (), ()
    if item.kind == K.ENTITY_STMT:
        return (ident[0],), ()
    if len(ident) == 2:  # ("broken", names)
        return (), ident[1]
    return (), (ident[0], ident[1])


def _count(counts: dict, names, sign: int) -> None:
    """Add ``sign`` to the count of each of ``names`` (a name at zero goes)."""
    for n in names:
        v = counts.get(n, 0) + sign
        if v:
            counts[n] = v
        else:
            counts.pop(n, None)


class _Counted:
    """An entity as an entity name's token sees it: whether it is implicit."""

    __slots__ = ("implicit",)

    def __init__(self, implicit: bool) -> None:
        self.implicit = implicit


_DECLARED = _Counted(False)
_IMPLICIT = _Counted(True)


class _CountedEntities:
    def __init__(self, decl: dict, ment: dict) -> None:
        self.decl = decl
        self.ment = ment

    def get(self, name, default=None):
        if self.decl.get(name):
            return _DECLARED
        if self.ment.get(name):
            return _IMPLICIT
        return default


class _CountedDiagram:
    def __init__(self, decl: dict, ment: dict) -> None:
        self.entities = _CountedEntities(decl, ment)


class _LocalIndex:
    """:class:`_Index` for the tokens of some statements: their references, and the
    entities of the whole diagram from the counts (what tokens read of them)."""

    def __init__(self, refs: dict, decl: dict, ment: dict) -> None:
        self.diagram = _CountedDiagram(decl, ment)
        self.refs = refs
        self.attrs: dict = {}
        self.rels: dict = {}
        self.subgraph_ids: frozenset = frozenset()


def _carry(st: TokenState, doc, unit) -> Optional[list]:
    """Bring ``st`` to ``unit``'s parse in place; the edits of its data, or None (and
    ``st`` no longer live) when it cannot be done for the cost of the change."""
    old, new = st.parse, unit.parse
    region = _changed_items(old, new)
    st.live = False  # until it is done: a failure below leaves the counts half-updated
    if region is None:
        return None
    r, ne, oe = region
    if (ne - r) + (oe - r) > _MAX_REGION:
        return None
    items, starts = new.items, new.starts
    src = new.src
    delta = len(src) - len(old.src)
    A = starts[r] if r < len(items) else len(src)
    B = starts[ne] if ne < len(items) else len(src)
    window = list(zip(items.iter_from(r, ne), starts.iter_from(r, ne)))
    for item, _b in window:
        if item.__class__ is not tuple and item.kind in _UNFOLLOWED:
            return None
    # the counts, and the names whose tokens elsewhere may change
    decl, ment = st.decl, st.ment
    olds = [_mentions(old, item, base) for item, base in zip(old.items.iter_from(r, oe), old.starts.iter_from(r, oe))]
    news = [_mentions(new, item, base) for item, base in window]
    touched = set()
    for ds, ms in olds + news:
        touched.update(ds)
        touched.update(ms)
    before = {n: bool(not decl.get(n) and ment.get(n)) for n in touched}
    for sign, lst in ((-1, olds), (1, news)):
        for ds, ms in lst:
            _count(decl, ds, sign)
            _count(ment, ms, sign)
    flipped = [n for n in touched if before[n] != bool(not decl.get(n) and ment.get(n))]
    # the tokens of the window
    stmts = [(item, base) for item, base in window if item.__class__ is not tuple and item.kind in (K.ENTITY_STMT, K.REL_STMT)]
    pd = partial(new, stmts)
    refs: dict = {}
    for ref in pd.references:
        refs.setdefault(ref.range.start, ref.name)
    if st.plain and not _plain_refs(src, pd.references):
        st.plain = False
    idx = _LocalIndex(refs, decl, ment)
    raw: list = []
    for i, (item, base) in enumerate(window, r):
        if item.__class__ is FastNode:
            _fast_tokens(item, base, idx, raw)
            continue
        for tok in iter_tokens(new, i, i + 1):
            _add_token(unit, tok, idx, None, raw)
    removed = ()
    pre = new.pre
    if pre is not None and pre.removed:
        rs = pre.removed
        lo = _first_removed(rs, A)
        hi = lo
        while hi < len(rs) and rs[hi].start < B:
            hi += 1
        removed = rs[lo:hi]
        if lo > 0 and rs[lo - 1].end > A:
            return None  # removed text reaching into the window from before it
    toks = _finish_tokens(unit, raw, removed)
    toks.sort()
    ss = st.starts
    ta = ss.bisect_left(A)
    tb = ss.bisect_left(B - delta)
    last_end = -1
    mid = []
    for s, ln, t, m in toks:
        if ln <= 0 or s < last_end:
            continue
        if s < A or s + ln > B:
            return None  # a token reaching out of the window
        mid.append((s, ln, t, m))
        last_end = s + ln
    data = st.data
    if ta > 0:
        pl, pc = doc.line_index.position(ss[ta - 1], st.encoding)
    else:
        pl = pc = 0
    enc, new_starts = _encode(doc, mid, st.encoding, pl, pc)
    n_old = len(ss)
    if tb < n_old:  # the first token after the window: placed after the window's last
        if new_starts:
            pl, pc = doc.line_index.position(new_starts[-1], st.encoding)
        line, char = doc.line_index.position(ss[tb] + delta, st.encoding)
        dl = line - pl
        enc += [dl, char - pc if dl == 0 else char] + data[5 * tb + 2 : 5 * tb + 5]
        cut = 5 * (tb + 1)
    else:
        cut = 5 * tb
    data[5 * ta : cut] = enc
    st.starts = ss = ss.spliced(ta, tb, new_starts, delta)
    shift = len(new_starts) - (tb - ta)
    edits = [(5 * ta, cut - 5 * ta, None)]
    # names declared now and not before, or the reverse: their tokens elsewhere
    changed = []
    for name in flipped:
        if ment.get(name, 0) - sum(ms.count(name) for _ds, ms in news) <= 0:
            continue  # no relationship outside the window names it
        if not st.plain or not name:
            return None
        hits = 0
        p = src.find(name)
        while p >= 0:
            if not A <= p < B:
                hits += 1
                if hits > _MAX_HITS:
                    return None
                k = _flip_token(unit, idx, ss, data, p, name)
                if k is not None:
                    changed.append(k)
            p = src.find(name, p + 1)
    end_mid = ta + len(new_starts)  # the re-encoded first token after is at end_mid
    for k in sorted(set(changed)):
        if ta <= k <= end_mid:
            continue  # inside the first edit (whose ints are read below)
        old_k = k if k < ta else k - shift
        edits.append((5 * old_k + 3, 2, [data[5 * k + 3], data[5 * k + 4]]))
    a0, n0, _ = edits[0]
    edits[0] = (a0, n0, data[5 * ta : 5 * ta + len(enc)])
    edits.sort(key=lambda x: x[0])
    st.parse = new
    st.live = True
    return edits


def _first_removed(rs, x: int) -> int:
    lo, hi = 0, len(rs)
    while lo < hi:
        mid = (lo + hi) // 2
        if rs[mid].start < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _flip_token(unit, idx, ss, data, p: int, name: str) -> Optional[int]:
    """Set the modifiers of the token of entity name ``name`` at ``p`` (if one is there)
    to what the counts say; its index when they changed."""
    k = ss.bisect_left(p)
    if k >= len(ss) or ss[k] != p:
        return None
    tok = token_at(unit.parse, p)
    if tok is None:
        return None
    role = _token_role(unit, tok, idx)
    if role is None or role.what != "entity" or role.declaration or role.name != name or role.start != p:
        return None
    typ, mods = _entity_type(name, False, idx)
    ti, bits = _TYPE_INDEX[typ], _bits(mods)
    if data[5 * k + 3] == ti and data[5 * k + 4] == bits:
        return None
    data[5 * k + 3] = ti
    data[5 * k + 4] = bits
    return k
