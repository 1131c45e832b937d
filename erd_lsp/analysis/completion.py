"""Completion: what may be typed at a cursor in an ER diagram.

:func:`complete` looks at the text *before* the cursor in the statement being typed (the
normal case is a broken statement) and decides the context from it:

* the syntax tree says whether the cursor is inside an attribute block (``{ ... }``, also
  an unclosed one), a comment, the front matter, the header or an ``accDescr { }``;
* outside blocks, the current line up to the cursor is lexed with the real lexer and
  walked by a small state machine (entity, cardinality, line, cardinality, entity, ``:``,
  label; ``style``/``class``/``:::`` lists); inside blocks the current attribute line
  is lexed in the block state (type, name, keys, comment).

Only the current line is lexed, and the model of the diagram (``unit.diagram``, cached by
the unit) is indexed once per diagram (names, lower-cased names, relationships per entity,
type frequencies), so a request costs about the size of the line plus one scan of the
entity names when a prefix is typed: candidates are matched by the typed prefix
(case-insensitive prefix matches first, then substring matches) and only the first
``limit`` are turned into items.

Foreign keys implied by relationships (offered inside blocks):

* the *holder* of the foreign key is the entity on the many side (``}o``, ``}|``, ``o{``,
  ``|{`` next to it); a many-to-many relationship implies none (it needs a join table);
* in a one-to-one relationship the side written ``|o``/``o|`` (zero or one, the optional
  dependent) holds it; next to a ``u`` (parent) the other side holds it; when both sides
  have the same cardinality the right-hand (second-named) entity holds it;
* the column is the one the relationship label names when the label says so: a label
  ``"cluster.uuid=>cluster_token.cluster_uuid"`` (``=``, ``=>``, ``->`` too, either
  direction) names ``cluster_uuid`` for ``cluster_token``; a label that is a single
  identifier ending in ``id`` or naming an attribute of the referenced entity
  (``run ||--o{ logs : run_id``) is the column itself; otherwise the column is
  ``<referenced entity lower-cased>_<its PK>`` (PK ``id`` -> ``customer_id``, PK ``uuid`` ->
  ``cluster_uuid``; a PK already prefixed, ``customer_id``, is kept), ``<entity>_id`` without a PK;
* its type is the referenced column's type (the PK's), ``int`` when unknown;
* a column the entity already has (by name, case-insensitive) is not suggested.

Pure: no I/O; it never raises (anything odd gives an empty list).
"""

from __future__ import annotations

import copy
import re
import weakref
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field, replace as _with
from functools import lru_cache, partial as _later
from typing import Callable, Iterable, Optional

from erd_lsp.model import MD_PARENT, ONE_OR_MORE, ONLY_ONE, ZERO_OR_MORE, ZERO_OR_ONE, Diagram, Entity
from erd_lsp.syntax import kinds as K
from erd_lsp.syntax import spell_entity_name
from erd_lsp.syntax.lexer import BLOCK, INITIAL, lex
from erd_lsp.syntax.tree import Node
from erd_lsp.text import TextRange

__all__ = ["CompletionItem", "CompletionList", "complete", "COMMON_TYPES"]


@dataclass(frozen=True, slots=True)
class CompletionItem:
    label: str
    kind: str  # "entity"|"keyword"|"cardinality"|"operator"|"type"|"key"|"attribute"|"column"|"snippet"|"class"
    detail: Optional[str] = None
    documentation: Optional[str] = None
    insert_text: Optional[str] = None  # None: insert the label
    is_snippet: bool = False  # insert_text uses LSP snippet syntax ($1, ${1:x}, $0)
    replace: TextRange = TextRange(0, 0)  # host range replaced: the partial word and the rest of it
    sort_text: Optional[str] = None
    filter_text: Optional[str] = None
    # documentation left to be written when it is asked for (``complete(lazy=True)``):
    # a list of 100 entities would otherwise format 100 attribute lists no client shows
    lazy_documentation: Optional[Callable[[], Optional[str]]] = field(default=None, compare=False, repr=False)

    def full_documentation(self) -> Optional[str]:
        """The documentation, written now if it was left for later."""
        if self.documentation is None and self.lazy_documentation is not None:
            return self.lazy_documentation()
        return self.documentation


@dataclass(frozen=True, slots=True)
class CompletionList:
    items: tuple[CompletionItem, ...]
    incomplete: bool  # more candidates existed than ``limit``


EMPTY = CompletionList((), False)

COMMON_TYPES = (
    "string",
    "int",
    "bigint",
    "float",
    "decimal(10,2)",
    "bool",
    "date",
    "datetime",
    "timestamp",
    "uuid",
    "text",
    "json",
    "varchar(255)",
)

_WORDS = {
    ONLY_ONE: "exactly one",
    ZERO_OR_ONE: "zero or one",
    ZERO_OR_MORE: "zero or more",
    ONE_OR_MORE: "one or more",
}
_LEFT_CARDS = (("||", ONLY_ONE), ("|o", ZERO_OR_ONE), ("}o", ZERO_OR_MORE), ("}|", ONE_OR_MORE))
_RIGHT_CARDS = (("||", ONLY_ONE), ("o|", ZERO_OR_ONE), ("o{", ZERO_OR_MORE), ("|{", ONE_OR_MORE))
_MIRROR = {"||": "||", "|o": "o|", "}o": "o{", "}|": "|{", "o|": "|o", "o{": "}o", "|{": "}|"}
_WORD_CARDS = (
    ("one", ONLY_ONE),
    ("only one", ONLY_ONE),
    ("zero or one", ZERO_OR_ONE),
    ("zero or more", ZERO_OR_MORE),
    ("one or more", ONE_OR_MORE),
    ("many", ZERO_OR_MORE),
    ("1+", ONE_OR_MORE),
    ("0+", ZERO_OR_MORE),
)
_WORD_LINES = ("to", "optionally to")
_WORD_FORMS = {
    "entity": tuple(w for w, _ in _WORD_CARDS),
    "line": tuple(w for w, _ in _WORD_CARDS),
    "left_card": _WORD_LINES,
}
_KEYS = ("PK", "FK", "UK")
_KEY_DOCS = {"PK": "primary key", "FK": "foreign key", "UK": "unique key"}

# characters of a name (Mermaid's unquoted name class), of an attribute word, of a label word
# (non-ASCII ranges are written as negated ASCII classes: a class up to U+10FFFF takes
# milliseconds to compile)
_NAME_CHAR = re.compile(r"[^\x00-\x29\x2b-\x2c\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]")
_ATTR_CHAR = re.compile(r"[A-Za-z0-9\-_\[\]().,*]|[^\x00-\xbf]")
_IDENT_CHAR = re.compile(r"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]")
_LABEL_COLUMN = re.compile(r"([^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]+)\.([^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*)$")
_LABEL_WORD = re.compile(r"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*$")
_LABEL_JOIN = re.compile(
    r"\s*([^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]+)\.([^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]+)\s*(?:=>|->|<=|<-|==|=)\s*"
    r"([^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]+)\.([^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]+)\s*"
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOT_IDENT = re.compile(r"[\x00-\x2f\x3a-\x5e\x60\x7b-\x7f]+")

_SKIP_INSIDE = frozenset({K.COMMENT, K.DIRECTIVE, K.FRONT_MATTER, K.CONFLICT_MARKER, K.ACC_TITLE_VALUE, K.ACC_DESCR_VALUE})
_WS = " \t\r\x0b\x0c\u00a0\ufeff"


def complete(doc, offset: int, workspace_types: Iterable[str] = (), limit: int = 100, lazy: bool = False) -> CompletionList:
    """Completion items at host ``offset`` of ``doc`` (an :class:`~erd_lsp.analysis.Document`),
    best first, at most ``limit``. With ``lazy``, an item's documentation may be left for
    :meth:`CompletionItem.full_documentation` (a server whose client resolves items one by
    one); without, every item has its documentation. Never raises."""
    try:
        result = _complete(doc, offset, workspace_types, limit)
        if not lazy and any(it.lazy_documentation is not None for it in result.items):
            result = CompletionList(
                tuple(
                    _with(it, documentation=it.full_documentation(), lazy_documentation=None)
                    if it.lazy_documentation is not None
                    else it
                    for it in result.items
                ),
                result.incomplete,
            )
        return result
    except Exception:  # completion must never take the server down
        return EMPTY


# --- candidates and selection ---------------------------------------------------------


class _Group:
    """Candidates of one kind: match keys (lower-cased) in order and a factory building
    the item of candidate ``i`` (only called for the selected ones)."""

    __slots__ = ("keys", "make", "small", "skip")

    def __init__(self, keys, make: Callable[[int], Optional[CompletionItem]], small: bool = True, skip=()) -> None:
        self.keys = keys
        self.make = make
        self.small = small
        self.skip = skip


def _select(groups: list, prefix: str, limit: int, replace: TextRange) -> CompletionList:
    """The first ``limit`` candidates by (prefix match before substring match, group
    order, order in the group). Small groups are matched in full and always kept; large
    ones are scanned only until the remaining room is full."""
    if limit <= 0:
        limit = 0
    p = prefix.lower()
    found: list = []
    small_n = 0
    for gi, g in enumerate(groups):
        if not g.small:
            continue
        skip = g.skip
        for i, key in enumerate(g.keys):
            if skip and i in skip:
                continue
            if not p or key.startswith(p):
                found.append((0, gi, i))
            elif p in key:
                found.append((1, gi, i))
        small_n = len(found)
    room = max(0, limit - small_n) + 1  # one more than fits tells that the list was cut
    for tier in (0, 1) if p else (0,):
        for gi, g in enumerate(groups):
            if g.small or room <= 0:
                continue
            keys = g.keys
            if not p:
                hits = range(len(keys))
            elif isinstance(keys, _Keys):
                hits = keys.prefix_hits(p) if tier == 0 else keys.substring_hits(p)
            elif tier == 0:
                hits = [i for i, k in enumerate(keys) if k.startswith(p)]
            else:
                hits = [i for i, k in enumerate(keys) if p in k and not k.startswith(p)]
            skip = g.skip
            for i in hits:
                if skip and i in skip:
                    continue
                found.append((tier, gi, i))
                room -= 1
                if room <= 0:
                    break
    big = found[small_n:]
    keep = max(0, limit - small_n)
    incomplete = len(big) > keep or small_n > limit
    found = found[:small_n] + big[:keep]
    found.sort()
    items = []
    for tier, gi, i in found[:limit]:
        item = groups[gi].make(i)
        if item is None:
            continue
        items.append(item)
    out = []
    for n, it in enumerate(items):
        out.append(
            CompletionItem(
                it.label,
                it.kind,
                it.detail,
                it.documentation,
                it.insert_text,
                it.is_snippet,
                replace,
                f"{n:05d}",
                it.filter_text,
                it.lazy_documentation,
            )
        )
    return CompletionList(tuple(out), incomplete)


class _Keys(list):
    """Lower-cased match keys of a large group, searched in one string (``str.find`` runs
    in C, so a prefix that matches nothing costs next to nothing)."""

    def __init__(self, keys) -> None:
        super().__init__(keys)
        self.blob = "\n" + "\n".join(k.replace("\n", " ") for k in self) + "\n"
        starts = []
        pos = 1
        for k in self:
            starts.append(pos)
            pos += len(k) + 1
        self.starts = starts

    def prefix_hits(self, p: str):
        if not p:
            yield from range(len(self))
            return
        blob = self.blob
        needle = "\n" + p
        starts = self.starts
        pos = blob.find(needle)
        while pos >= 0:
            yield bisect_right(starts, pos + 1) - 1
            pos = blob.find(needle, pos + 1)

    def substring_hits(self, p: str):
        blob = self.blob
        starts = self.starts
        last = -1
        pos = blob.find(p, 1)
        while pos >= 0:
            i = bisect_right(starts, pos) - 1
            if i != last and not self[i].startswith(p):
                last = i
                yield i
                pos = blob.find(p, starts[i + 1] if i + 1 < len(starts) else len(blob))
            else:
                pos = blob.find(p, pos + 1)


def _fixed(items: list) -> _Group:
    return _Group([(it.filter_text or it.label).lower() for it in items], lambda i: items[i])


# --- per-diagram index ----------------------------------------------------------------


class _Index:
    """What completion needs from one diagram's model, computed once per diagram."""

    def __init__(self, d: Diagram) -> None:
        self.entities: dict = d.entities
        self._rels = None
        self._rels_src = d.relationships
        # the candidates: what entity statements and complete relationships name (an
        # incomplete statement, the one being typed, creates no entity to offer)
        rel = self._by_name()
        self.names = [n for n, e in d.entities.items() if not e.implicit or n in rel]
        self.lowers = _Keys(n.lower() for n in self.names)
        self.position = {n: i for i, n in enumerate(self.names)}
        self._target_order = None
        self._target_lowers = None
        self._types = None
        self._lookup = None
        self.class_names = self._classes(d)
        self.class_lowers = [c.lower() for c, _ in self.class_names]
        self.class_uses = d.class_uses
        self.classdefs = d.classes
        self.subgraphs = d.subgraphs
        self.indent = None

    @staticmethod
    def _classes(d: Diagram) -> list:
        out = []
        seen = set()
        for name, c in d.classes.items():
            if name not in seen:
                seen.add(name)
                out.append((name, c))
        for name, _r in d.class_uses:
            if name not in seen:
                seen.add(name)
                out.append((name, None))
        return out

    def spell(self, name: str) -> str:
        return _spell(name)

    def _by_name(self) -> dict:
        if self._rels is None:
            by: dict = {}
            for r in self._rels_src:
                by.setdefault(r.left, []).append(r)
                if r.right != r.left:
                    by.setdefault(r.right, []).append(r)
            self._rels = by
        return self._rels

    def rels_of(self, name: str) -> list:
        return self._by_name().get(name, [])

    def info(self, name: str):
        """What an entity's completion item shows (``alias``, ``implicit``, ``blocks``,
        ``attributes``)."""
        return self.entities[name]

    def self_only(self, name: str, ranges: tuple, off: int) -> bool:
        """Whether the entity ``name`` exists only because of the word being typed (at
        one of ``ranges``; the cursor at diagram offset ``off``)."""
        e = self.entities.get(name)
        return e is not None and _self_only(e, ranges)

    def target_order(self) -> list:
        """Entity indexes for the second entity of a relationship: declared entities that
        relate to nothing yet, then other unrelated ones, then the rest (in order of
        first mention)."""
        if self._target_order is None:
            self._target_order = _target_order(self.names, self._by_name(), lambda n: self.entities[n].implicit)
        return self._target_order

    def target_lowers(self) -> list:
        if self._target_lowers is None:
            lowers = self.lowers
            self._target_lowers = _Keys(lowers[i] for i in self.target_order())
        return self._target_lowers

    def types(self) -> list:
        """Attribute types of the diagram, most used first."""
        if self._types is None:
            cnt: Counter = Counter()
            for e in self.entities.values():
                for at in e.attributes:
                    cnt[at.type] += 1
            self._types = cnt.most_common()
        return self._types

    def resolve(self, word: str) -> Optional[Entity]:
        """The entity a word of a label names: by name, alias, then case-insensitively."""
        e = self.entities.get(word)
        if e is not None:
            return e
        if self._lookup is None:
            alias, lower, alias_lower = {}, {}, {}
            for n, ent in self.entities.items():
                lower.setdefault(n.lower(), ent)
                if ent.alias:
                    alias.setdefault(ent.alias, ent)
                    alias_lower.setdefault(ent.alias.lower(), ent)
            self._lookup = (alias, lower, alias_lower)
        alias, lower, alias_lower = self._lookup
        w = word.lower()
        return alias.get(word) or lower.get(w) or alias_lower.get(w)


_INDEXES: dict = {}


def _index(unit) -> _Index:
    d = unit.diagram
    key = id(d)
    hit = _INDEXES.get(key)
    if hit is not None and hit[0]() is d:
        return hit[1]
    ix = _Index(d)
    if len(_INDEXES) >= 32:
        for k in [k for k, (ref, _) in _INDEXES.items() if ref() is None] or list(_INDEXES)[:16]:
            _INDEXES.pop(k, None)
    _INDEXES[key] = (weakref.ref(d), ix)
    return ix


def _target_order(names: list, related, implicit) -> list:
    a, b, c = [], [], []
    for i, n in enumerate(names):
        if n in related:
            c.append(i)
        elif not implicit(n):
            a.append(i)
        else:
            b.append(i)
    return a + b + c


class _Info:
    """An entity as a completion item shows it, read from its statements' facts."""

    __slots__ = ("name", "alias", "implicit", "blocks", "attributes")

    def __init__(self, name: str, statements: list) -> None:
        self.name = name
        self.alias = ""
        self.implicit = not statements
        blocks = []
        attributes: list = []
        for node in statements:
            facts = node.facts[0]  # cached by the summary (Names reads every statement)
            if facts[2] and not self.alias:
                self.alias = facts[2]
            if facts[4] is not None:
                blocks.append(facts[4])
                attributes.extend(facts[5])
        self.blocks = blocks
        self.attributes = attributes


@lru_cache(maxsize=1 << 15)
def _spell(name: str) -> str:
    return spell_entity_name(name)


class _NamesIndex:
    """The index of entity-name completion read from the diagram's names summary
    (:class:`erd_lsp.model.Names`, which the incremental diagnostics keep up to date),
    so that completing an entity name right after a keystroke does not build the model.
    What else completion asks of an index (exact entities with their ranges,
    relationships, types, classes) comes from the model's index, built on first use.
    The candidates, their order and their items are those of :class:`_Index` for a
    diagram whose incomplete statements name no entity first (a test compares them)."""

    def __init__(self, unit, summary) -> None:
        self._unit = unit
        self._summary = summary
        self._full = None
        self.indent = None
        self.subgraphs = ()  # a diagram with subgraphs has no summary
        order = summary.order(unit.parse)
        memo = summary.memo
        cached = memo.get("completion")
        rels = summary.rels
        if cached is not None and cached[0] == order:
            self.names, self.lowers, self.position = cached[0], cached[1], cached[2]
            target = cached[4] if cached[3] is rels or cached[3].keys() == rels.keys() else None
        else:
            self.names = order
            self.lowers = _Keys(n.lower() for n in order)
            self.position = {n: i for i, n in enumerate(order)}
            target = None
        self._target = target
        self._target_lowers = cached[5] if target is not None else None
        memo["completion"] = [self.names, self.lowers, self.position, rels, target, self._target_lowers]

    def full(self) -> _Index:
        if self._full is None:
            self._full = _index(self._unit)
        return self._full

    def __getattr__(self, attr: str):
        return getattr(self.full(), attr)

    def spell(self, name: str) -> str:
        return _spell(name)

    def info(self, name: str) -> _Info:
        return _Info(name, self._summary.decl.get(name, ()))

    def self_only(self, name: str, ranges: tuple, off: int) -> bool:
        # no other statement names it: its only mention is the statement at the cursor
        summary = self._summary
        if not name or name not in self.position:
            return False
        nodes = list(summary.decl.get(name, ())) + list(summary.rels.get(name, ()))
        if len(nodes) != 1:
            return False
        parse = self._unit.parse
        for r in ranges:  # the statement holding the word (after a quote, when quoted)
            i = bisect_right(parse.starts, r.start) - 1
            if 0 <= i < len(parse.items) and parse.items[i] is nodes[0]:
                return True
        return False

    def target_order(self) -> list:
        if self._target is None:
            decl = self._summary.decl
            self._target = _target_order(self.names, self._summary.rels, lambda n: n not in decl)
            self._summary.memo["completion"][4] = self._target
        return self._target

    def target_lowers(self) -> list:
        if self._target_lowers is None:
            lowers = self.lowers
            self._target_lowers = _Keys(lowers[i] for i in self.target_order())
            self._summary.memo["completion"][5] = self._target_lowers
        return self._target_lowers


# --- the request ----------------------------------------------------------------------


class _Req:
    """One request: the unit, its source and the cursor (diagram offset)."""

    def __init__(self, unit, off: int, workspace_types, limit: int) -> None:
        self.unit = unit
        self.src = unit.parse.src  # a str, or a rope after an edit (slices, find, rfind)
        self.parse = unit.parse
        self.off = off
        self.workspace_types = workspace_types
        self.limit = limit
        self._ix = None

    @property
    def ix(self) -> _Index:
        if self._ix is None:
            unit = self.unit
            summary = unit.names() if hasattr(unit, "names") else None
            if summary is None and "diagram" not in unit.__dict__:
                unit.diagram  # noqa: B018 - the summary is made from a built model
                summary = unit.names() if hasattr(unit, "names") else None
            self._ix = _NamesIndex(unit, summary) if summary is not None else _index(unit)
        return self._ix

    def host(self, a: int, b: int) -> TextRange:
        return self.unit.to_host(TextRange(a, b))

    def line_start(self) -> int:
        return self.src.rfind("\n", 0, self.off) + 1

    def rest(self, pattern) -> int:
        """End of the word continuing after the cursor."""
        src = self.src
        off = self.off
        le = src.find("\n", off)
        line = src[off : le if le >= 0 else len(src)]
        i = 0
        while i < len(line) and pattern.match(line, i):
            i += 1
        return off + i

    def indent_unit(self) -> str:
        ix = self.ix
        if ix.indent is None:
            ix.indent = _detect_indent(self.parse, self.src)
        return ix.indent


def _complete(doc, offset: int, workspace_types, limit: int) -> CompletionList:
    loc = doc.locate(offset)
    if loc is None:
        return EMPTY
    unit, off = loc
    req = _Req(unit, off, workspace_types, limit)
    parse = req.parse
    if not parse.items or getattr(parse, "internal_error", False):
        return EMPTY
    if _before_header(parse, off) or _in_trivia(req):
        return EMPTY
    blk = _block_at(req)
    if blk is not None:
        return _in_block(req, *blk)
    return _top_level(req)


def _before_header(parse, off: int) -> bool:
    for item, base in zip(parse.items, parse.starts):
        if isinstance(item, Node) and item.kind == K.HEADER:
            toks = list(item.child_tokens({K.ER_DIAGRAM}))
            if not toks:
                return False
            return off <= base + toks[-1][2] or "\n" not in parse.src[base + toks[-1][2] : off]
        if isinstance(item, Node):
            return False
    return True


def _in_trivia(req: _Req) -> bool:
    """The cursor is in a comment, directive, front matter, conflict marker or an
    accessibility text."""
    parse = req.parse
    off = req.off
    i = parse.item_index_at(off)
    src = req.src
    for j in (i - 1, i):
        if j < 0 or j >= len(parse.items):
            continue
        item, base = parse.items[j], parse.starts[j]
        if isinstance(item, Node):
            if item.kind == K.ACC_DESCR_STMT and base + item.start < off:
                closed = [t for t in item.child_tokens({K.ACC_DESCR_CLOSE})]
                if not closed or off <= base + closed[-1][1]:
                    if any(t[0] in (K.ACC_DESCR_OPEN, K.ACC_DESCR_MULTI_VALUE) for t in item.child_tokens()):
                        return True
            toks = item.tokens()
        else:
            toks = (item,)
        for k, s, e in toks:
            if k not in _SKIP_INSIDE:
                continue
            s += base
            e += base
            if s < off < e or (off == e and s < off and not src[e - 1 : e] == "\n"):
                return True
    return False


# --- attribute blocks -----------------------------------------------------------------


def _block_at(req: _Req):
    """``(item, base, block node)`` when the cursor is inside an attribute block."""
    parse = req.parse
    off = req.off
    src = req.src
    j = parse.item_index_at(off)
    while j >= 0:
        item = parse.items[j]
        base = parse.starts[j]
        if isinstance(item, Node):
            if base + item.start >= off and j > 0:
                j -= 1
                continue
            break
        if item[0] not in (K.WHITESPACE, K.COMMENT, K.DIRECTIVE, K.END_OF_INPUT, K.EOF):
            return None
        j -= 1
    if j < 0:
        return None
    item = parse.items[j]
    base = parse.starts[j]
    block = item.node(K.ATTR_BLOCK)
    if block is None:
        if item.kind == K.ERROR:
            for n in item.nodes():
                if n.kind == K.ATTR_BLOCK:
                    block = n
        if block is None:
            return None
    brace = next(block.child_tokens({K.BLOCK_START}), None)
    if brace is None or off < base + brace[2]:
        return None
    stop = None
    for t in block.child_tokens({K.BLOCK_STOP}):
        stop = t
    if stop is not None:
        return (item, base, block) if off <= base + stop[1] else None
    end = base + block.end
    if off <= end:
        return item, base, block
    between = src[end:off]
    if "\n" not in between:
        return item, base, block
    ls = req.line_start()
    if src[ls:off].strip(_WS) == "":
        bl = src.rfind("\n", 0, base + brace[1]) + 1
        if _indent(src, ls, off) > _indent(src, bl, len(src)):
            return item, base, block
    return None


def _indent(src: str, ls: int, stop: int) -> int:
    i = ls
    while i < stop and i < len(src) and src[i] in " \t":
        i += 1
    return i - ls


def _significant(text: str, stack) -> list:
    out = []
    for k, s, e, _st in lex(text, 0, stack):
        if k in (K.EOF, K.END_OF_INPUT):
            break
        if k in K.TRIVIA:
            continue
        out.append((k, s, e))
    return out


def _in_block(req: _Req, item, base: int, block) -> CompletionList:
    src = req.src
    off = req.off
    brace = next(block.child_tokens({K.BLOCK_START}))
    seg_start = max(req.line_start(), base + brace[2])
    seg = src[seg_start:off]
    toks = _significant(seg, (INITIAL, BLOCK))
    ends_ws = not seg or seg[-1] in _WS
    partial = ""
    if toks and not ends_ws and toks[-1][2] == len(seg) and toks[-1][0] in (K.ATTRIBUTE_WORD, K.ATTRIBUTE_KEY):
        partial = seg[toks[-1][1] :]
        toks = toks[:-1]
    state = "type"
    typ = None
    name = None
    keys: list = []
    for k, s, e in toks:
        text = seg[s:e]
        if state == "type":
            if k == K.ATTRIBUTE_WORD:
                state, typ = "name", text
            else:
                return EMPTY
        elif state == "name":
            if k == K.CHAR and text == "?":
                continue
            if k == K.ATTRIBUTE_WORD:
                state, name, keys = "after_name", text, []
            else:
                return EMPTY
        elif state in ("after_name", "after_key", "after_comment"):
            if k == K.ATTRIBUTE_KEY and state == "after_name":
                state = "after_key"
                keys.append(text.upper())
            elif k == K.CHAR and text == "," and state == "after_key":
                state = "key"
            elif k == K.COMMENT_STRING and state != "after_comment":
                state = "after_comment"
            elif k == K.ATTRIBUTE_WORD:
                state, typ, name, keys = "name", text, None, []
            else:
                return EMPTY
        elif state == "key":
            if k == K.ATTRIBUTE_KEY:
                state = "after_key"
                keys.append(text.upper())
            else:
                return EMPTY
    if state == "after_comment":
        return EMPTY
    start = off - len(partial)
    end = req.rest(_ATTR_CHAR)
    replace = req.host(start, end)
    entity = _block_entity(req, item, base)
    groups: list = []
    if state == "type":
        fks = _missing_fks(req, entity)
        fk_items = [
            CompletionItem(
                f"{fk.type} {fk.column} FK",
                "attribute",
                fk.detail,
                fk.documentation,
                f"{fk.type} {fk.column} FK",
                filter_text=f"{fk.type} {fk.column} FK",
            )
            for fk in fks
        ]
        groups.append(_fixed(fk_items))
        groups.append(_type_group(req))
    elif state == "name":
        fks = _missing_fks(req, entity)
        if typ is not None:
            fks.sort(key=lambda f: f.type.lower() != typ.lower())
        items = [CompletionItem(f"{fk.column} FK", "attribute", fk.detail, fk.documentation, f"{fk.column} FK", filter_text=fk.column) for fk in fks]
        if entity is not None and not _has_pk(entity, off) and not any(fk.column.lower() == "id" for fk in fks):
            items.append(CompletionItem("id PK", "attribute", "primary key", f"`{entity.name}` has no primary key yet.", "id PK", filter_text="id"))
        groups.append(_fixed(items))
    elif state == "after_name":
        fk_cols = {fk.column.lower() for fk in _implied_fks(req, entity)} if entity is not None else set()
        order = ["FK", "PK", "UK"] if name is not None and name.lower() in fk_cols else ["PK", "FK", "UK"]
        items = [CompletionItem(k, "key", _KEY_DOCS[k]) for k in order]
        items.append(CompletionItem("PK, FK", "key", "primary key and foreign key", "Mermaid writes several keys with commas: `PK, FK`."))
        items.append(CompletionItem('"comment"', "snippet", "attribute comment", None, '"${1:comment}"', True))
        groups.append(_fixed(items))
    elif state == "after_key":
        if partial:
            return EMPTY
        groups.append(_fixed([CompletionItem('"comment"', "snippet", "attribute comment", None, '"${1:comment}"', True)]))
    elif state == "key":
        items = [CompletionItem(k, "key", _KEY_DOCS[k]) for k in _KEYS if k not in keys]
        groups.append(_fixed(items))
    return _select(groups, partial, req.limit, replace)


def _block_entity(req: _Req, item, base: int) -> Optional[Entity]:
    ref = item.node(K.ENTITY_REF)
    if ref is None:
        return None
    tok = next(ref.child_tokens(), None)
    if tok is None:
        return None
    name = req.src[base + tok[1] : base + tok[2]].replace('"', "")
    return req.ix.entities.get(name)


def _has_pk(entity: Entity, off: int) -> bool:
    return any("PK" in (k.upper() for k in a.keys) for a in entity.attributes if not a.range.start <= off <= a.range.end)


def _type_group(req: _Req) -> _Group:
    seen = set()
    entries = []
    ws = req.workspace_types
    if isinstance(ws, str):
        ws = (ws,)
    elif isinstance(ws, dict):  # type -> count
        ws = [t for t, _ in sorted(ws.items(), key=lambda kv: -kv[1] if isinstance(kv[1], (int, float)) else 0)]
    for t in ws or ():
        if isinstance(t, str) and t and t not in seen:
            seen.add(t)
            entries.append((t, "used in the workspace"))
    for t, n in req.ix.types():
        if t not in seen:
            seen.add(t)
            entries.append((t, f"used {n}× in this diagram"))
    for t in COMMON_TYPES:
        if t not in seen:
            seen.add(t)
            entries.append((t, "common type"))
    return _Group([t.lower() for t, _ in entries], lambda i: CompletionItem(entries[i][0], "type", entries[i][1]), small=False)


class _Fk:
    __slots__ = ("column", "type", "target", "target_column", "from_label")

    def __init__(self, column, type_, target, target_column, from_label) -> None:
        self.column = column
        self.type = type_
        self.target = target
        self.target_column = target_column
        self.from_label = from_label

    @property
    def detail(self) -> str:
        tc = f".{self.target_column}" if self.target_column else ""
        return f"FK → {self.target}{tc} ({self.type})"

    @property
    def documentation(self) -> str:
        why = "named by the relationship label" if self.from_label else "implied by the relationship"
        return f"Foreign key to `{self.target}`, {why}."


def _holder(rel) -> Optional[tuple[str, str]]:
    """``(entity holding the foreign key, referenced entity)`` of a relationship."""
    many = (ZERO_OR_MORE, ONE_OR_MORE)
    lc, rc = rel.left_cardinality, rel.right_cardinality
    lm, rm = lc in many, rc in many
    if lm and rm:
        return None
    if lm:
        return rel.left, rel.right
    if rm:
        return rel.right, rel.left
    if lc == MD_PARENT:
        return rel.right, rel.left
    if rc == MD_PARENT:
        return rel.left, rel.right
    if lc == ZERO_OR_ONE and rc == ONLY_ONE:
        return rel.left, rel.right
    return rel.right, rel.left


def _attr(entity: Optional[Entity], name: str):
    if entity is None:
        return None
    lo = name.lower()
    for a in entity.attributes:
        if a.name.lower() == lo:
            return a
    return None


def _pk(entity: Optional[Entity]):
    if entity is None:
        return None
    for a in entity.attributes:
        if any(k.upper() == "PK" for k in a.keys):
            return a
    return None


def _implied_fks(req: _Req, entity: Optional[Entity]) -> list:
    if entity is None:
        return []
    ix = req.ix
    out = []
    seen = set()
    for rel in ix.rels_of(entity.name):
        h = _holder(rel)
        if h is None or h[0] != entity.name:
            continue
        target = ix.entities.get(h[1])
        fk = _derive_fk(ix, rel, entity, h[1], target)
        if fk is not None and fk.column.lower() not in seen:
            seen.add(fk.column.lower())
            out.append(fk)
    return out


def _derive_fk(ix: _Index, rel, holder: Entity, target_name: str, target: Optional[Entity]) -> Optional[_Fk]:
    label = rel.label or ""
    pk = _pk(target)
    m = _LABEL_JOIN.fullmatch(label)
    if m:
        e1, c1, e2, c2 = m.groups()
        r1, r2 = ix.resolve(e1), ix.resolve(e2)
        n1 = r1.name if r1 is not None else None
        n2 = r2.name if r2 is not None else None
        side = None
        if n2 == holder.name and n1 == target_name:
            side = (c2, c1)
        elif n1 == holder.name and n2 == target_name:
            side = (c1, c2)
        if side is not None:
            ref = _attr(target, side[1])
            return _Fk(side[0], ref.type if ref is not None else (pk.type if pk is not None else "int"), target_name, side[1], True)
    if _IDENT.fullmatch(label) and (label.lower().endswith("id") or _attr(target, label) is not None):
        ref = _attr(target, label)
        if ref is None:
            ref = pk
        return _Fk(label, ref.type if ref is not None else "int", target_name, ref.name if ref is not None else None, True)
    base = _NOT_IDENT.sub("_", target_name.lower()).strip("_") or "ref"
    if pk is not None:
        pname = pk.name
        col = pname if pname.lower().startswith(base + "_") else f"{base}_{pname}"
        return _Fk(col, pk.type, target_name, pname, False)
    return _Fk(f"{base}_id", "int", target_name, None, False)


def _missing_fks(req: _Req, entity: Optional[Entity]) -> list:
    if entity is None:
        return []
    off = req.off
    have = {a.name.lower() for a in entity.attributes if not a.range.start <= off <= a.range.end}
    return [fk for fk in _implied_fks(req, entity) if fk.column.lower() not in have]


def _detect_indent(parse, src: str) -> str:
    """The indentation of attributes relative to their entity line (the first block with
    an attribute on its own line), a tab when the diagram has none."""
    for item, base in zip(parse.items, parse.starts):
        if not isinstance(item, Node) or item.kind != K.ENTITY_STMT:
            continue
        block = item.node(K.ATTR_BLOCK)
        if block is None:
            continue
        for a in block.nodes(K.ATTRIBUTE):
            s = base + a.start
            ls = src.rfind("\n", 0, s) + 1
            bl = src.rfind("\n", 0, base + block.start) + 1
            if ls == bl:
                continue
            ind = src[ls:s]
            outer = src[bl : bl + _indent(src, bl, len(src))]
            if ind.startswith(outer) and len(ind) > len(outer) and ind.strip(" \t") == "":
                return ind[len(outer) :]
            return "\t"
    return "\t"


# --- top level ------------------------------------------------------------------------


def _top_level(req: _Req) -> CompletionList:
    src = req.src
    off = req.off
    ls = req.line_start()
    seg = src[ls:off]
    toks = _significant(seg, (INITIAL,))
    ends_ws = not seg or seg[-1] in _WS
    # an unterminated quote: the quoted text up to the cursor is the partial word
    quote = None
    for n, t in enumerate(toks):
        if t[0] == K.CHAR and seg[t[1] : t[2]] == '"':
            quote = n
            break
    partial_tok = None
    if quote is not None:
        partial_tok = (K.WORD, toks[quote][1], len(seg))
        toks = toks[:quote]
    elif toks and not ends_ws and toks[-1][2] == len(seg) and _is_partial(toks[-1], seg):
        partial_tok = toks[-1]
        toks = toks[:-1]
    st = _Machine(seg)
    snapshots = []
    failed = False
    for t in toks:
        snapshots.append(copy.copy(st))
        if not st.step(t):
            failed = True
            break
    if quote is None:
        # a cardinality or line in several words being typed (`zero or m`, `optionally t`)
        n = len(snapshots)
        for j in range(max(0, n - 4), n):
            snap = snapshots[j]
            forms = _WORD_FORMS.get(snap.state)
            rest = seg[toks[j][1] :].lower()
            if forms and " " in rest.strip() and any(w.startswith(rest) and w != rest for w in forms):
                st, failed = snap, False
                partial_tok = (K.UNICODE_TEXT, toks[j][1], len(seg))
                break
    if failed:
        return EMPTY
    return _contexts(req, st, seg, ls, partial_tok, quote is not None)


def _is_words(text: str) -> bool:
    """A cardinality or line written in words (``one``, ``zero or more``, ``to``)."""
    return text.replace(" ", "").isalpha() and len(text) > 1


def _is_partial(tok, seg: str) -> bool:
    k = tok[0]
    text = seg[tok[1] : tok[2]]
    if k in K.ENTITY_NAMES or k in (K.CHAR, K.STYLE_TEXT, K.WORD, K.STYLE, K.CLASS, K.CLASSDEF, K.SUBGRAPH, K.DIRECTION):
        return True
    if k in K.CARDINALITIES or k in K.REL_TYPES:
        return _is_words(text)
    if k == K.END:
        return True
    return False


class _Machine:
    """The statement on the line up to the cursor, token by token."""

    def __init__(self, seg: str) -> None:
        self.seg = seg
        self.state = "start"
        self.left = None  # (start, end) of the first entity name
        self.right = None
        self.aliased = False
        self.owner = "left"  # whose classes a ':::' list gives
        self.word_form = False  # the last cardinality / line was written in words
        self.class_ids = 0

    def step(self, t) -> bool:
        k, s, e = t
        st = self.state
        text = self.seg[s:e]
        if st == "start":
            if k in K.ENTITY_NAMES:
                self.left = (s, e)
                self.state = "entity"
            elif k == K.STYLE:
                self.state = "style_ids"
            elif k == K.CLASS:
                self.state = "class_ids"
            else:
                return False
        elif st == "entity":
            if k == K.SQS and not self.aliased:
                self.state = "alias"
            elif k == K.STYLE_SEPARATOR:
                self.state, self.owner = "classes", "left"
            elif k in K.CARDINALITIES or (k == K.ENTITY_ONE and not self.aliased):
                if self.aliased:
                    return False
                self.word_form = _is_words(text)
                self.state = "left_card"
            else:
                return False
        elif st == "alias":
            if k in K.ENTITY_NAMES:
                self.state = "alias_name"
            else:
                return False
        elif st == "alias_name":
            if k == K.SQE:
                self.state, self.aliased = "entity", True
            else:
                return False
        elif st == "classes":
            if k == K.UNICODE_TEXT:
                self.state = "classes_done"
            else:
                return False
        elif st == "classes_done":
            if k == K.COMMA:
                self.state = "classes"
            elif self.owner == "left" and (k in K.CARDINALITIES) and not self.aliased:
                self.word_form = _is_words(text)
                self.state = "left_card"
            elif self.owner == "right" and k == K.COLON:
                self.state = "label"
            else:
                return False
        elif st == "left_card":
            if k in K.REL_TYPES:
                self.word_form = _is_words(text)
                self.state = "line"
            else:
                return False
        elif st == "line":
            if k in K.CARDINALITIES or k == K.ENTITY_ONE:
                self.state = "right_card"
            else:
                return False
        elif st == "right_card":
            if k in K.ENTITY_NAMES:
                self.right = (s, e)
                self.state = "right_entity"
            else:
                return False
        elif st == "right_entity":
            if k == K.STYLE_SEPARATOR:
                self.state, self.owner = "classes", "right"
            elif k == K.COLON:
                self.state = "label"
            else:
                return False
        elif st == "label":
            if k in K.ROLES:
                self.state = "done"
            else:
                return False
        elif st == "style_ids":
            if k in (K.STYLE_TEXT, K.UNICODE_TEXT):
                self.state = "style_id_done"
            else:
                return False
        elif st == "style_id_done":
            if k == K.COMMA:
                self.state = "style_ids"
            else:
                return False
        elif st == "class_ids":
            if k == K.UNICODE_TEXT:
                self.state = "class_id_done"
            else:
                return False
        elif st == "class_id_done":
            if k == K.COMMA:
                self.state = "class_ids"
            elif k == K.UNICODE_TEXT:
                self.state = "class_name_done"
            else:
                return False
        elif st == "class_names":
            if k == K.UNICODE_TEXT:
                self.state = "class_name_done"
            else:
                return False
        elif st == "class_name_done":
            if k == K.COMMA:
                self.state = "class_names"
            else:
                return False
        else:
            return False
        return True


def _contexts(req: _Req, m: _Machine, seg: str, ls: int, partial_tok, quoted: bool) -> CompletionList:
    off = req.off
    src = req.src
    ps = ls + partial_tok[1] if partial_tok is not None else off
    partial = src[ps:off]
    st = m.state
    ends_ws = not seg or seg[-1] in _WS

    def name_replace() -> TextRange:
        if quoted:
            i = off
            while i < len(src) and src[i] not in '"\n':
                i += 1
            if i < len(src) and src[i] == '"':
                i += 1
            return req.host(ps, i)
        return req.host(ps, req.rest(_NAME_CHAR))

    def sym_replace(chars: str, maxlen: int) -> TextRange:
        i = off
        while i < len(src) and src[i] in chars and i - ps < maxlen:
            i += 1
        return req.host(ps, i)

    prefix = partial[1:] if quoted else partial
    if st == "label":
        return _label(req, m, seg, ls, partial_tok, quoted)
    if quoted and st not in ("start", "right_card"):
        return EMPTY
    if st == "start":
        return _statement_start(req, prefix, name_replace(), quoted, ps)
    if st in ("entity", "classes_done") and (ends_ws or partial):
        if st == "classes_done" and m.owner == "right":
            return _select([_fixed(_after_right_items())], partial, req.limit, req.host(ps, req.rest(_NAME_CHAR)))
        return _after_entity(req, m, partial, ps, st == "classes_done")
    if st == "left_card":
        r = sym_replace("-.", 2) if _is_symbols(partial) else req.host(ps, req.rest(_NAME_CHAR))
        return _select([_fixed(_line_items(m.word_form))], partial, req.limit, r)
    if st == "line":
        r = sym_replace("|o{}", 2) if _is_symbols(partial) else req.host(ps, req.rest(_NAME_CHAR))
        return _select([_fixed(_card_items(_RIGHT_CARDS, m.word_form, right=True))], partial, req.limit, r)
    if st == "right_card":
        lead = "" if (ends_ws or partial) else " "
        left = seg[m.left[0] : m.left[1]].strip('"') if m.left else None
        return _entities(req, prefix, name_replace(), quoted, ps, order="target", demote=left, lead=lead)
    if st == "right_entity" and (ends_ws or partial):
        return _select([_fixed(_after_right_items())], partial, req.limit, req.host(ps, req.rest(_NAME_CHAR)))
    if st in ("style_ids", "class_ids"):
        return _entities(req, prefix, name_replace(), quoted, ps)
    if st == "classes" or st == "class_names" or (st == "class_id_done" and (ends_ws or partial)):
        return _classes(req, partial, ps)
    return EMPTY


def _is_symbols(partial: str) -> bool:
    """The partial word is (the start of) a cardinality or line in symbols."""
    return all(c in "|o{}-." for c in partial)


def _card_items(cards, word_form: bool, right: bool) -> list:
    sym = [
        CompletionItem(
            c,
            "cardinality",
            _WORDS[k],
            f"{_WORDS[k].capitalize()} (`{c}`; written `{_MIRROR[c]}` on the {'left' if right else 'right'} side).",
        )
        for c, k in cards
    ]
    words = [CompletionItem(w, "cardinality", _WORDS[k], f"{_WORDS[k].capitalize()}, written in words (same as `{_symbol(k, right)}`).") for w, k in _WORD_CARDS]
    return words + sym if word_form else sym + words


def _symbol(kind: str, right: bool) -> str:
    for c, k in _RIGHT_CARDS if right else _LEFT_CARDS:
        if k == kind:
            return c
    return "||"


def _line_items(word_form: bool) -> list:
    ident = "identifying (solid line): the child cannot exist without the parent"
    non = "non-identifying (dashed line): both can exist on their own"
    items = [
        CompletionItem("--", "operator", "identifying (solid line)", ident.capitalize() + "."),
        CompletionItem("..", "operator", "non-identifying (dashed line)", non.capitalize() + "."),
    ]
    for line, what in (("--", "identifying"), ("..", "non-identifying")):
        for c in ("o{", "|{", "||", "o|"):
            k = dict(_RIGHT_CARDS)[c]
            items.append(CompletionItem(line + c, "operator", f"{what}, {_WORDS[k]}", f"A {what} line, then {_WORDS[k]} on the right side."))
    words = [
        CompletionItem("to", "operator", "identifying (solid line)", "Same as `--`."),
        CompletionItem("optionally to", "operator", "non-identifying (dashed line)", "Same as `..`."),
    ]
    return words + items if word_form else items


def _after_right_items() -> list:
    return [
        CompletionItem(":", "operator", "label", 'Every relationship needs a label (`""` for none).', ': "${1:label}"', True),
        CompletionItem(":::", "operator", "CSS class", "Assign classes to the entity: `B:::someclass`."),
    ]


def _after_entity(req: _Req, m: _Machine, partial: str, ps: int, classed: bool) -> CompletionList:
    if m.left is not None and m.seg[m.left[0] : m.left[1]].lower() == "direction" and not m.aliased and not classed:
        items = [CompletionItem(d, "keyword", w) for d, w in (("TB", "top to bottom"), ("BT", "bottom to top"), ("LR", "left to right"), ("RL", "right to left"))]
        return _select([_fixed(items)], partial, req.limit, req.host(ps, req.rest(_NAME_CHAR)))
    unit = req.indent_unit()
    items = []
    if not m.aliased:
        items += _card_items(_LEFT_CARDS, False, right=False)
    items.append(CompletionItem("{", "operator", "attribute block", "Declare the entity's attributes.", "{\n" + unit + "$0\n}", True))
    if not m.aliased and not classed:
        items.append(CompletionItem("[", "operator", "alias", "A display name: `CUSTOMER[\"Customer\"]`.", '["${1:alias}"]', True))
    if not classed:
        items.append(CompletionItem(":::", "operator", "CSS class", "Assign classes: `A:::someclass`."))
    if not _is_symbols(partial):
        r = req.host(ps, req.rest(_NAME_CHAR))
    else:
        i = req.off
        while i < len(req.src) and req.src[i] in "|o{}" and i - ps < 2:
            i += 1
        r = req.host(ps, i)
    return _select([_fixed(items)], partial, req.limit, r)


def _entity_detail(e) -> str:
    parts = []
    if e.alias:
        parts.append(f"alias: {e.alias}")
    if e.implicit:
        parts.append("implicit (no block)")
    elif not e.blocks:
        parts.append("no block")
    else:
        n = len(e.attributes)
        parts.append(f"{n} attribute{'' if n == 1 else 's'}")
    return " · ".join(parts)


def _entity_doc(e) -> Optional[str]:
    if not e.attributes:
        return None
    lines = []
    for a in e.attributes[:20]:
        keys = (" " + ", ".join(a.keys)) if a.keys else ""
        lines.append(f"{a.type} {a.name}{keys}")
    if len(e.attributes) > 20:
        lines.append(f"… {len(e.attributes) - 20} more")
    return "\n".join(lines)


def _self_only(e: Entity, ranges) -> bool:
    """The entity exists only because of the word being typed (at one of ``ranges``)."""
    rs = list(e.definitions) + list(e.references)
    return all(x in ranges for x in rs) and e.first_mention in ranges


def _entity_group(req: _Req, prefix: str, quoted: bool, ps: int, order=None, demote=None, lead: str = "") -> list:
    ix = req.ix
    names = ix.names
    skip = set()
    # the word being typed may have created an entity of its own name: leave it out
    word = req.src[ps : req.rest(_NAME_CHAR)]
    word_name = word.replace('"', "")
    ranges = (TextRange(ps, ps + len(word)), TextRange(ps + 1, ps + 1 + len(word_name)))
    if word_name in ix.position and ix.self_only(word_name, ranges, ps):
        skip.add(ix.position[word_name])
    tail = []
    if demote is not None and demote in ix.position:
        skip.add(ix.position[demote])
        tail = [ix.position[demote]]
    idxs = ix.target_order() if order == "target" else None

    def make(i: int) -> CompletionItem:
        n = names[idxs[i]] if idxs is not None else names[i]
        return _entity_item(ix, n, quoted, lead)

    if idxs is not None:
        keys = ix.target_lowers()
        skip_pos = {idxs.index(i) for i in skip} if skip else set()  # (a few; index runs in C)
    else:
        keys = ix.lowers
        skip_pos = skip
    groups = [_Group(keys, make, small=False, skip=skip_pos)]
    if tail:
        groups.append(_Group([ix.lowers[i] for i in tail], lambda j: _entity_item(ix, names[tail[j]], quoted, lead)))
    return groups


def _entity_item(ix: _Index, name: str, quoted: bool, lead: str = "") -> CompletionItem:
    e = ix.info(name)
    spelled = ix.spell(name)
    return CompletionItem(
        name,
        "entity",
        _entity_detail(e),
        None,
        lead + spelled if (lead or spelled != name) else None,
        filter_text=('"' + name) if quoted else None,
        lazy_documentation=_later(_entity_doc, e) if e.attributes else None,
    )


def _entities(req: _Req, prefix: str, replace: TextRange, quoted: bool, ps: int, order=None, demote=None, lead: str = "") -> CompletionList:
    return _select(_entity_group(req, prefix, quoted, ps, order, demote, lead), prefix, req.limit, replace)


def _in_subgraph(req: _Req) -> bool:
    off = req.off
    for sg in req.ix.subgraphs:
        if sg.range.start < off < sg.range.end:
            return True
    return any(s < off for s in req.parse.final_subgraphs)


def _statement_start(req: _Req, prefix: str, replace: TextRange, quoted: bool, ps: int) -> CompletionList:
    groups = _entity_group(req, prefix, quoted, ps)
    if quoted:
        return _select(groups, prefix, req.limit, replace)
    unit = req.indent_unit()
    kw = [
        CompletionItem("style", "keyword", "style ENTITY fill:#f9f,stroke:#333", "Style one entity.", "style "),
        CompletionItem("classDef", "keyword", "classDef NAME fill:#f9f", "Define a CSS class.", "classDef "),
        CompletionItem("class", "keyword", "class A,B NAME", "Assign a class to entities.", "class "),
        CompletionItem("direction", "keyword", "direction TB|BT|LR|RL", "The layout direction.", "direction ${1|TB,BT,LR,RL|}", True),
        CompletionItem("subgraph", "keyword", "subgraph ID [title] … end", "Group entities.", "subgraph ${1:name}\n" + unit + "$0\nend", True),
    ]
    if _in_subgraph(req):
        kw.append(CompletionItem("end", "keyword", "close the subgraph", None, "end"))
    kw += [
        CompletionItem("accTitle:", "keyword", "accessible title", None, "accTitle: "),
        CompletionItem("accDescr:", "keyword", "accessible description", None, "accDescr: "),
    ]
    snippets = [
        CompletionItem("entity block", "snippet", "NAME { type name }", "An entity with its attributes.", "${1:NAME} {\n" + unit + "${2:string} ${3:name}\n}", True),
        CompletionItem("relationship", "snippet", 'A ||--o{ B : "label"', "A relationship between two entities.", '${1:A} ||--o{ ${2:B} : "${3:label}"', True),
    ]
    groups.insert(1, _fixed(kw))
    groups.insert(2, _fixed(snippets))
    return _select(groups, prefix, req.limit, replace)


def _classes(req: _Req, partial: str, ps: int) -> CompletionList:
    ix = req.ix
    end = req.rest(_NAME_CHAR)
    word = req.src[ps:end]
    r = TextRange(ps, end)
    skip = set()
    if word and word not in ix.classdefs:
        uses = [u for u in ix.class_uses if u[0] == word]
        if uses and all(x[1] == r for x in uses):
            skip = {i for i, (n, _c) in enumerate(ix.class_names) if n == word}

    def make(i: int) -> Optional[CompletionItem]:
        n, c = ix.class_names[i]
        if c is not None:
            return CompletionItem(n, "class", "classDef", ", ".join(c.styles) or None)
        return CompletionItem(n, "class", "class (no classDef)")

    return _select([_Group(ix.class_lowers, make, skip=skip)], partial, req.limit, req.host(ps, end))


def _label(req: _Req, m: _Machine, seg: str, ls: int, partial_tok, quoted: bool) -> CompletionList:
    off = req.off
    src = req.src
    if partial_tok is None:
        return EMPTY
    tail = src[ls + partial_tok[1] + (1 if quoted else 0) : off]
    ix = req.ix
    cm = _LABEL_COLUMN.search(tail)
    if cm:
        ent = ix.resolve(cm.group(1))
        if ent is None:
            return EMPTY
        part = cm.group(2)
        start = off - len(part)
        end = req.rest(_IDENT_CHAR)
        items = []
        for a in ent.attributes:
            keys = (" · " + ", ".join(a.keys)) if a.keys else ""
            items.append(CompletionItem(a.name, "column", f"{a.type}{keys}", a.comment, None))
        return _select([_fixed(items)], part, req.limit, req.host(start, end))
    if not quoted:
        return EMPTY
    wm = _LABEL_WORD.search(tail)
    part = wm.group(0)
    before = tail[: wm.start()]
    if before and not before.endswith(("=", ">")):
        return EMPTY
    start = off - len(part)
    end = req.rest(_IDENT_CHAR)
    if end < len(src) and src[end] == ".":
        end += 1
    first = []
    for r in (m.left, m.right):
        if r is not None:
            n = seg[r[0] : r[1]].strip('"')
            if n in ix.position and n not in first:
                first.append(n)
    names = ix.names
    skip = {ix.position[n] for n in first}

    def make(i: int) -> CompletionItem:
        n = names[i]
        return CompletionItem(n, "entity", _entity_detail(ix.entities[n]), None, n + ".")

    groups = [
        _Group([n.lower() for n in first], lambda j: CompletionItem(first[j], "entity", _entity_detail(ix.entities[first[j]]), None, first[j] + ".")),
        _Group(ix.lowers, make, small=False, skip=skip),
    ]
    return _select(groups, part, req.limit, req.host(start, end))
