"""Navigation: what is under the cursor, where it is defined, where it is used.

The unit of meaning is one diagram. Mermaid renders every diagram on its own, so an entity
``A`` of one diagram and an ``A`` of another diagram are different entities as far as
Mermaid is concerned. We follow that, with one exception: *go to definition* falls back
to other diagrams (of the same document, then of the workspace) when the entity has no
block in its own diagram, because Markdown documents commonly draw an overview diagram
of bare relationships and declare the columns elsewhere. References, highlights and
rename stay in the cursor's diagram (``references`` can be widened with ``scope``).

What counts as a name
---------------------
Entity names and subgraph ids share one namespace (a relationship end, a ``class`` or a
``style`` id may name either). An *occurrence* of an entity name is

* the name of an entity statement (a declaration: ``A``, ``A { ... }``, ``A["alias"]``),
* a relationship end (with or without ``:::classes`` after it),
* an id of a ``class`` statement's first list or of a ``style`` statement,
* the id of a ``subgraph`` header (a declaration),
* the ``entity`` part of an ``entity.column`` mention in a relationship label.

An alias (``A["Customer"]``) is not an occurrence of the name ``A``; with the cursor on
it, ``symbol_at`` still answers the entity ``A``. Class names (``:::vip``, ``classDef``,
the second list of ``class``) are not entity names.

Label mentions
--------------
A relationship label is free text, but data-model diagrams often name the joined columns
in it: ``"cluster.uuid=>cluster_token.cluster_uuid"``. The label is split into *pieces*:
runs of letters, digits, ``_`` (and other non-ASCII letters, marks, numbers and symbols),
joined by ``.`` or ``-`` when those stand between two such characters; everything else
(spaces, ``=>``, ``->``, ``,``, ``(`` ...) separates. A piece ``X.Y`` where ``X`` is an
entity of the diagram (or the alias of one) mentions attribute ``Y`` of ``X``. When a
piece has several dots, the split where ``Y`` is an attribute of ``X`` wins, else the
longest ``X``. Names with spaces or other separators cannot be mentioned this way.

All public functions take and return *host* offsets, are pure and never raise: on any
input they answer ``None`` or an empty list.
"""

from __future__ import annotations

import unicodedata
import weakref
from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Optional

from erd_lsp.analysis import DiagramUnit, Document
from erd_lsp.analysis.workspace import Location, Workspace
from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.fastpath import FastNode
from erd_lsp.syntax.tree import Node
from erd_lsp.text import TextRange

__all__ = [
    "Symbol",
    "Occurrence",
    "symbol_at",
    "definition",
    "references",
    "highlights",
    "label_mentions",
]

# Symbol kinds
ENTITY = "entity"
ATTRIBUTE = "attribute"
SUBGRAPH = "subgraph"
TYPE = "type"


@dataclass(frozen=True)
class Symbol:
    """The named thing under the cursor.

    ``kind`` is ``"entity"``, ``"attribute"``, ``"subgraph"`` or ``"type"`` (the type of an
    attribute; navigable, not renamable). ``name`` is the entity name (unquoted), subgraph
    id, attribute name or type text; ``entity`` the owning entity of an attribute or type.
    ``range`` is the host range of the name under the cursor (quotes included; for an
    ``entity.column`` label mention, only the part under the cursor). ``unit`` is the
    index of the diagram in its document. ``role`` says where the cursor is:
    ``"statement"``, ``"relationship"``, ``"subgraph"``, ``"class"``, ``"style"``,
    ``"label"``, ``"alias"``, ``"attribute"`` or ``"type"``; ``declaration`` whether that
    place declares the symbol. ``via_alias`` is set when a label mention names the
    entity through its alias."""

    kind: str
    name: str
    range: TextRange
    unit: int
    entity: Optional[str] = None
    role: str = ""
    declaration: bool = False
    via_alias: bool = False


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One place a name is written, in *diagram* offsets (internal index entry).

    ``space`` is ``"entity"`` (entity names and subgraph ids), ``"attribute"`` or
    ``"type"``. ``range`` covers the written name (quotes included), ``inner`` the name
    without quotes. For label mentions ``label`` is the label token's range and
    ``label_quoted`` whether the label is a quoted string; ``column`` is the ``Y`` of the
    mention (on the entity part) or ``entity`` the resolved entity (on the column part)."""

    space: str
    name: str
    range: TextRange
    inner: TextRange
    role: str
    declaration: bool = False
    entity: Optional[str] = None
    has_block: bool = False
    token: str = ""
    label: Optional[TextRange] = None
    label_quoted: bool = False
    via_alias: bool = False
    written: str = ""  # the text as written in a label (alias or name), for messages
    column: str = ""


class UnitIndex:
    """Every occurrence of a name in one diagram, by position and by name."""

    def __init__(self, unit: DiagramUnit, build: bool = True) -> None:
        self.unit = unit
        self.occurrences: list[Occurrence] = []
        self.entity_names: set[str] = set()
        self.subgraph_ids: set[str] = set()
        self.statement_names: set[str] = set()
        self.aliases: dict[str, str] = {}
        self.attribute_names: dict[str, set[str]] = {}
        self.by_entity: dict[str, list[Occurrence]] = {}
        self.by_attribute: dict[tuple[str, str], list[Occurrence]] = {}
        self.by_type: dict[str, list[Occurrence]] = {}
        self._starts: list[int] = []
        if build:
            self._build()

    # -- building -------------------------------------------------------------------------
    def _value(self, tok, base: int) -> str:
        pre = self.unit.parse.pre
        s, e = base + tok[1], base + tok[2]
        v = pre.clean(s, e) if pre is not None else self.unit.parse.src[s:e]
        if tok[0] in (K.ENTITY_NAME, K.WORD):
            v = v.replace('"', "")
        return v

    def _name_occ(self, tok, base: int, role: str, declaration: bool, **kw) -> Optional[Occurrence]:
        if tok is None or tok[0] not in K.ENTITY_NAMES and tok[0] not in (K.STYLE_TEXT,):
            return None
        s, e = base + tok[1], base + tok[2]
        name = self._value(tok, base)
        if role == "subgraph":
            name = name.strip()
        if not name:
            return None
        inner = TextRange(s, e)
        if tok[0] == K.ENTITY_NAME and e - s >= 2:
            inner = TextRange(s + 1, e - 1)
        return Occurrence(ENTITY, name, TextRange(s, e), inner, role, declaration, token=tok[0], **kw)

    def _build(self) -> None:
        parse = self.unit.parse
        occs: list[Occurrence] = []
        labels: list[tuple] = []
        for item, base in zip(parse.items, parse.starts):
            if isinstance(item, Node):
                self._item(item, base, occs, labels)
        self._finish(occs, labels)

    def _item(self, item: Node, base: int, occs: list, labels: list) -> None:
        """The occurrences of one item (labels only noted: reading them needs every
        entity name)."""
        if True:
            k = item.kind
            if item.__class__ is FastNode:
                # what the fast path recorded (building its children would cost a parse
                # of the statement, and their memory, for every statement)
                self._fast(item, base, occs, labels)
                return
            if k == K.ENTITY_STMT:
                ref = item.node(K.ENTITY_REF)
                if ref is None:
                    return
                block = item.node(K.ATTR_BLOCK)
                o = self._name_occ(next(ref.child_tokens(), None), base, "statement", True, has_block=block is not None)
                if o is None:
                    return
                occs.append(o)
                self.statement_names.add(o.name)
                alias = item.node(K.ALIAS)
                if alias is not None:
                    at = next(alias.child_tokens(K.ENTITY_NAMES), None)
                    if at is not None:
                        s, e = base + at[1], base + at[2]
                        inner = TextRange(s + 1, e - 1) if at[0] == K.ENTITY_NAME and e - s >= 2 else TextRange(s, e)
                        occs.append(Occurrence(ENTITY, o.name, TextRange(s, e), inner, "alias", token=at[0], written=self._value(at, base)))
                if block is not None:
                    self._attributes(block, base, o.name, occs)
            elif k == K.REL_STMT:
                for ref in item.nodes(K.ENTITY_REF):
                    o = self._name_occ(next(ref.child_tokens(), None), base, "relationship", False)
                    if o is not None:
                        occs.append(o)
                label = item.node(K.LABEL)
                if label is not None:
                    lt = next(label.child_tokens(K.ROLES), None)
                    if lt is not None:
                        labels.append((lt, base))
            elif k == K.SUBGRAPH_START:
                ref = item.node(K.ENTITY_REF)
                if ref is not None:
                    o = self._name_occ(next(ref.child_tokens(), None), base, "subgraph", True)
                    if o is not None:
                        occs.append(o)
                        self.subgraph_ids.add(o.name)
            elif k == K.CLASS_STMT:
                lists = list(item.nodes(K.ID_LIST))
                if lists:
                    for t in lists[0].child_tokens({K.UNICODE_TEXT}):
                        o = self._name_occ(t, base, "class", False)
                        if o is not None:
                            occs.append(o)
            elif k == K.STYLE_STMT:
                idl = item.node(K.ID_LIST)
                if idl is not None:
                    for t in idl.child_tokens({K.STYLE_TEXT, K.UNICODE_TEXT}):
                        o = self._name_occ(t, base, "style", False)
                        if o is not None:
                            occs.append(o)

    def _finish(self, occs: list, labels: list) -> None:
        # the names the label mentions may use
        try:
            diagram = self.unit.diagram
            self.entity_names.update(diagram.entities)
            for e in diagram.entities.values():
                if e.alias and e.alias not in self.aliases:
                    self.aliases[e.alias] = e.name
        except Exception:  # pragma: no cover - build never raises
            pass
        for o in occs:
            if o.role in ("statement", "relationship"):
                self.entity_names.add(o.name)
        for lt, base in labels:
            self._label(lt, base, occs)
        occs.sort(key=lambda o: (o.range.start, o.range.end))
        self.occurrences = occs
        self._starts = [o.range.start for o in occs]
        for o in occs:
            if o.space == ENTITY:
                if o.role != "alias":
                    self.by_entity.setdefault(o.name, []).append(o)
            elif o.space == ATTRIBUTE:
                self.by_attribute.setdefault((o.entity or "", o.name), []).append(o)
            elif o.space == TYPE:
                self.by_type.setdefault(o.name, []).append(o)

    def _fast(self, item: FastNode, base: int, occs: list, labels: list) -> None:
        """The occurrences in a statement the parser's fast path took: its names are bare
        (UNICODE_TEXT), attribute types and names single words, a label a name or a
        quoted string."""
        if item.kind == K.REL_STMT:
            rel = item.fast[0]
            for a, b in ((rel[2], rel[3]), (rel[4], rel[5])):
                o = self._name_occ((K.UNICODE_TEXT, a, b), base, "relationship", False)
                if o is not None:
                    occs.append(o)
            a, b = rel[12], rel[13]
            kind = K.UNICODE_TEXT if item.text[a] != '"' else (K.WORD if b - a == 2 else K.ENTITY_NAME)
            labels.append(((kind, a, b), base))
            return
        (ns, ne), block, attrs = item.fast
        o = self._name_occ((K.UNICODE_TEXT, ns, ne), base, "statement", True, has_block=block is not None)
        if o is None:
            return
        occs.append(o)
        self.statement_names.add(o.name)
        if block is None:
            return
        entity = o.name
        names = self.attribute_names.setdefault(entity, set())
        for a in attrs:  # their spans are relative: placed at this statement's start
            b = base + a.at
            r = TextRange(b + a.type_at, b + a.type_end)
            occs.append(Occurrence(TYPE, a.type, r, r, "type", entity=entity, token=K.ATTRIBUTE_WORD))
            r = TextRange(b + a.name_at, b + a.name_end)
            occs.append(Occurrence(ATTRIBUTE, a.name, r, r, "attribute", True, entity=entity, token=K.ATTRIBUTE_WORD))
            names.add(a.name)

    def _attributes(self, block: Node, base: int, entity: str, occs: list) -> None:
        names = self.attribute_names.setdefault(entity, set())
        for attr in block.nodes(K.ATTRIBUTE):
            tnode = attr.node(K.ATTR_TYPE)
            if tnode is not None:
                ttoks = list(tnode.child_tokens({K.ATTRIBUTE_WORD, K.CHAR}))
                if ttoks:
                    typ = "".join(self._value(t, base) for t in ttoks)
                    r = TextRange(base + ttoks[0][1], base + ttoks[-1][2])
                    occs.append(Occurrence(TYPE, typ, r, r, "type", entity=entity, token=ttoks[0][0]))
            nnode = attr.node(K.ATTR_NAME)
            if nnode is not None:
                nt = next(nnode.child_tokens({K.ATTRIBUTE_WORD}), None)
                if nt is not None:
                    name = self._value(nt, base)
                    r = TextRange(base + nt[1], base + nt[2])
                    occs.append(Occurrence(ATTRIBUTE, name, r, r, "attribute", True, entity=entity, token=nt[0]))
                    names.add(name)

    def _label(self, tok, base: int, occs: list) -> None:
        src = self.unit.parse.src
        s, e = base + tok[1], base + tok[2]
        quoted = tok[0] in (K.ENTITY_NAME, K.WORD)
        a, b = s, e
        if quoted:
            a = s + 1
            if b > a and src[b - 1] == '"':
                b -= 1
        label = TextRange(s, e)
        for ps, pe in label_pieces(src, a, b):
            m = self._split_mention(src[ps:pe])
            if m is None:
                continue
            k, entity, via_alias = m
            xr = TextRange(ps, ps + k)
            yr = TextRange(ps + k + 1, pe)
            written = src[ps : ps + k]
            column = src[ps + k + 1 : pe]
            occs.append(
                Occurrence(ENTITY, entity, xr, xr, "label", False, token=tok[0], label=label, label_quoted=quoted,
                           via_alias=via_alias, written=written, column=column)
            )
            occs.append(
                Occurrence(ATTRIBUTE, column, yr, yr, "label", False, entity=entity, token=tok[0], label=label,
                           label_quoted=quoted, via_alias=via_alias, written=written)
            )

    def _split_mention(self, piece: str) -> Optional[tuple[int, str, bool]]:
        """``(dot offset, entity, via_alias)`` for a piece ``X.Y`` naming an entity."""
        best = None
        best_is_attr = False
        k = piece.find(".")
        while k > 0:
            x, y = piece[:k], piece[k + 1 :]
            if y:
                if x in self.entity_names:
                    ent, via = x, False
                elif x in self.aliases:
                    ent, via = self.aliases[x], True
                else:
                    ent = None
                if ent is not None:
                    is_attr = y in self.attribute_names.get(ent, ())
                    # later (longer) candidates win unless only an earlier one names an attribute
                    if best is None or is_attr or not best_is_attr:
                        best, best_is_attr = (k, ent, via), is_attr
            k = piece.find(".", k + 1)
        return best

    # -- queries ----------------------------------------------------------------------------
    def at(self, offset: int) -> Optional[Occurrence]:
        """The occurrence under a diagram offset: one containing it, else one ending there."""
        i = bisect_right(self._starts, offset)
        touching = None
        for j in range(i - 1, max(-1, i - 8), -1):
            o = self.occurrences[j]
            if o.range.start <= offset < o.range.end:
                return o
            if o.range.end == offset and touching is None:
                touching = o
        return touching

    def entity_occurrences(self, name: str) -> list[Occurrence]:
        return list(self.by_entity.get(name, ()))

    def entity_kind(self, name: str, role: str = "") -> str:
        if role == "subgraph":
            return SUBGRAPH
        if name in self.subgraph_ids and name not in self.statement_names:
            return SUBGRAPH
        return ENTITY

    def declarations(self, name: str, with_block: bool = True) -> list[Occurrence]:
        return [o for o in self.by_entity.get(name, ()) if o.role == "statement" and (o.has_block or not with_block)]

    def label_mentions(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.role == "label" and o.space == ENTITY]

    # -- what a rename asks --------------------------------------------------------------------
    def names_something(self, name: str) -> bool:
        """Whether ``name`` names an entity or subgraph of the diagram (or is used as one)."""
        return name in self.entity_names or name in self.subgraph_ids or name in self.by_entity

    def alias_owner(self, alias: str) -> Optional[str]:
        """The entity whose alias ``alias`` is, or None."""
        return self.aliases.get(alias)

    def attributes_of(self, entity: str) -> set:
        return self.attribute_names.get(entity, set())

    def attribute_occurrences(self, entity: str, name: str) -> list[Occurrence]:
        return list(self.by_attribute.get((entity, name), ()))


_INDEXES: "weakref.WeakKeyDictionary[DiagramUnit, UnitIndex]" = weakref.WeakKeyDictionary()


class _Unanswered(Exception):
    """The local index cannot answer exactly: the whole index must."""


class LocalIndex:
    """What *go to definition*, references and highlights need of a diagram, read near
    the cursor and from the names summary (:class:`erd_lsp.model.Names`) instead of
    every occurrence of the diagram: right after an edit, the full index (a second on
    66k lines) is not built for them. It answers only what it can answer exactly — an
    occurrence outside labels, the declarations of an entity, the attributes of its
    blocks, every attribute of a type, and every use of an entity or attribute when no
    ``class``/``style`` statement names entities and no relationship label can mention
    one — and raises
    :class:`_Unanswered` for the rest, which the full index then answers."""

    def __init__(self, unit: DiagramUnit, summary) -> None:
        self.unit = unit
        self.summary = summary
        self._reader = UnitIndex(unit, build=False)
        self._occs: dict = {}

    def _of(self, i: int) -> list:
        """The occurrences of item ``i`` (raises on a label: its reading needs the
        diagram's entity names)."""
        parse = self.unit.parse
        item = parse.items[i]
        if not isinstance(item, Node):
            return [], []
        got = self._occs.get(id(item))
        if got is None:
            occs: list = []
            labels: list = []
            self._reader._item(item, parse.starts[i], occs, labels)
            got = self._occs[id(item)] = (occs, labels)
        return got

    def at(self, offset: int) -> Optional[Occurrence]:
        parse = self.unit.parse
        starts = parse.starts
        i = bisect_right(starts, offset) - 1
        occs: list = []
        for j in (i - 1, i):  # the item holding the offset, and the one ending there
            if 0 <= j < len(parse.items):
                o, labels = self._of(j)
                for lt, base in labels:
                    if base + lt[1] <= offset <= base + lt[2]:
                        raise _Unanswered
                occs += o
        occs.sort(key=lambda o: (o.range.start, o.range.end))
        k = bisect_right([o.range.start for o in occs], offset)
        touching = None
        for j in range(k - 1, max(-1, k - 8), -1):
            o = occs[j]
            if o.range.start <= offset < o.range.end:
                return o
            if o.range.end == offset and touching is None:
                touching = o
        return touching

    def entity_kind(self, name: str, role: str = "") -> str:
        return ENTITY  # a diagram with subgraphs has no summary

    def _statements(self, name: str) -> list:
        """The occurrences in the entity statements declaring ``name``, in source order."""
        parse = self.unit.parse
        out = []
        for node in self.summary.decl.get(name, ()):
            out += self._of(parse.items.index(node))[0]
        return out

    def declarations(self, name: str, with_block: bool = True) -> list[Occurrence]:
        found = [o for o in self._statements(name) if o.space == ENTITY and o.role == "statement" and o.name == name]
        if not found:
            raise _Unanswered  # a name no statement declares: its first mention is wanted
        return [o for o in found if o.has_block or not with_block]

    def attribute_declarations(self, entity: str, name: str) -> list[Occurrence]:
        return [o for o in self._statements(entity) if o.space == ATTRIBUTE and o.name == name and o.entity == entity and o.declaration]

    def _exact_uses(self) -> None:
        """Every use of a name is in its statements and relationships only when no
        ``class``/``style`` statement names entities and no label can mention one."""
        if self.summary.classy or self.summary.dotted:
            raise _Unanswered

    def entity_occurrences(self, name: str) -> list[Occurrence]:
        self._exact_uses()
        s = self.summary
        parse = self.unit.parse
        seen = set()
        out = []
        for node in tuple(s.decl.get(name, ())) + tuple(s.rels.get(name, ())) + tuple(s.broken.get(name, ())):
            if id(node) in seen:
                continue
            seen.add(id(node))
            out += [o for o in self._of(parse.items.index(node))[0] if o.space == ENTITY and o.name == name and o.role != "alias"]
        out.sort(key=lambda o: (o.range.start, o.range.end))
        return out

    def type_occurrences(self, name: str) -> list[Occurrence]:
        """The attributes of that type, in every block of the diagram: one pass over the
        statements, reading only those whose recorded attributes have it (the fast
        path's) or that the fast path did not take."""
        parse = self.unit.parse
        out = []
        for i, item in enumerate(parse.items):
            if item.__class__ is tuple or item.kind != K.ENTITY_STMT:
                continue
            if item.__class__ is FastNode and not any(a.type == name for a in item.fast[2]):
                continue
            out += [o for o in self._of(i)[0] if o.space == TYPE and o.name == name]
        return out

    def attribute_occurrences(self, entity: str, name: str) -> list[Occurrence]:
        self._exact_uses()
        return [o for o in self._statements(entity) if o.space == ATTRIBUTE and o.name == name and o.entity == entity]

    # -- what a rename asks (see UnitIndex) ------------------------------------------------------
    def names_something(self, name: str) -> bool:
        self._exact_uses()  # else `class`/`style` ids and label mentions use names too
        s = self.summary
        return name in s.decl or name in s.rels or name in s.broken

    def alias_owner(self, alias: str) -> Optional[str]:
        """None when no entity has this alias (only statements the fast path did not
        take can give one; an entity keeps its first); which entity has it is the full
        index's answer (the model's entity order decides between two)."""
        aliases = self.__dict__.get("_aliases")
        if aliases is None:
            first: dict = {}
            parse = self.unit.parse
            for i, item in enumerate(parse.items):
                if item.__class__ is tuple or item.__class__ is FastNode or item.kind != K.ENTITY_STMT:
                    continue
                for o in self._of(i)[0]:
                    if o.role == "alias" and o.written:
                        first.setdefault(o.name, o.written)
            aliases = self._aliases = set(first.values())
        if alias in aliases:
            raise _Unanswered
        return None

    def attributes_of(self, entity: str) -> set:
        return {o.name for o in self._statements(entity) if o.space == ATTRIBUTE and o.entity == entity}


def index_of(unit: DiagramUnit) -> UnitIndex:
    """The (cached) occurrence index of a diagram."""
    idx = _INDEXES.get(unit)
    if idx is None:
        idx = UnitIndex(unit)
        _INDEXES[unit] = idx
    return idx


# --- label pieces ------------------------------------------------------------------------------
def _is_core(ch: str) -> bool:
    if ch.isascii():
        return ch.isalnum() or ch == "_"
    cat = unicodedata.category(ch)
    return cat[0] in "LMN" or cat in ("So", "Sk", "Sc", "Co")


def label_pieces(text: str, start: int = 0, end: Optional[int] = None) -> Iterable[tuple[int, int]]:
    """The pieces (maximal name-like runs, see the module docstring) of ``text[start:end]``."""
    end = len(text) if end is None else end
    i = start
    while i < end:
        if not _is_core(text[i]):
            i += 1
            continue
        j = i + 1
        while j < end:
            ch = text[j]
            if _is_core(ch):
                j += 1
            elif ch in ".-" and j + 1 < end and _is_core(text[j + 1]):
                j += 2
            else:
                break
        yield i, j
        i = j


def is_label_word(name: str) -> bool:
    """Whether ``name`` reads back as one piece of a label (so that ``name.column`` or
    ``entity.name`` is recognised as a mention)."""
    return bool(name) and list(label_pieces(name)) == [(0, len(name))]


# --- locating the cursor ----------------------------------------------------------------------
def locate(doc: Document, offset: int) -> Optional[tuple[DiagramUnit, int]]:
    """The diagram under a host offset and the diagram offset there (None when the offset is
    outside every diagram, or on text the diagram does not contain, like a ``> `` prefix)."""
    if not isinstance(doc, Document):
        return None
    return doc.locate(offset, strict=True)


def occurrence_at(doc: Document, offset: int, local: bool = False) -> Optional[tuple[DiagramUnit, UnitIndex, Occurrence]]:
    """``(unit, index, occurrence)`` under the cursor; ``local``: from
    :func:`_local_index` (which may raise ``_Unanswered``) instead of the full index."""
    loc = locate(doc, offset)
    if loc is None:
        return None
    unit, d = loc
    idx = _local_index(unit) if local else index_of(unit)
    o = idx.at(d)
    if o is None:
        return None
    return unit, idx, o


def _symbol(unit: DiagramUnit, idx: UnitIndex, o: Occurrence) -> Symbol:
    r = unit.to_host(o.range)
    if o.space == ENTITY:
        kind = idx.entity_kind(o.name, o.role)
        return Symbol(kind, o.name, r, unit.index, None, o.role, o.declaration, o.via_alias)
    if o.space == ATTRIBUTE:
        return Symbol(ATTRIBUTE, o.name, r, unit.index, o.entity, o.role, o.declaration, o.via_alias)
    return Symbol(TYPE, o.name, r, unit.index, o.entity, o.role, False)


def symbol_at(doc: Document, offset: int) -> Optional[Symbol]:
    """The symbol under the host ``offset`` (a cursor touching the end of a name counts),
    or None."""
    try:
        found = occurrence_at(doc, offset)
        if found is None:
            return None
        return _symbol(*found)
    except Exception:
        return None


# --- definition ------------------------------------------------------------------------------
def _key(doc: Document) -> str:
    return doc.path if isinstance(doc.path, str) else ""


def _others(workspace: Optional[Workspace], doc: Document) -> list[tuple[str, Document]]:
    if not isinstance(workspace, Workspace):
        return []
    me = _key(doc)
    return [(k, d) for k, d in workspace.items() if d is not doc and k != me]


def _locs(key: str, unit: DiagramUnit, occs: Iterable[Occurrence]) -> list[Location]:
    return [Location(key, unit.to_host(o.range)) for o in occs]


def _attribute_decls(idx: UnitIndex, entity: str, name: str) -> list[Occurrence]:
    if isinstance(idx, LocalIndex):
        return idx.attribute_declarations(entity, name)
    return [o for o in idx.by_attribute.get((entity, name), ()) if o.declaration]


def definition(workspace: Optional[Workspace], doc: Document, offset: int) -> list[Location]:
    """Where the symbol under the cursor is defined.

    * An entity: the names of its entity statements that have a block, in the same
      diagram; else those in the other diagrams of the same document; else those in the
      other documents of the workspace (by key). Entities of other diagrams are only
      ever *the same entity* here, as a fallback: Mermaid draws each diagram alone.
      Without any block anywhere: its statements without a block in the same diagram,
      else its first mention there.
    * An attribute (its name, or the ``column`` of an ``entity.column`` label mention):
      the names of the attributes with that name in the entity's blocks, with the same
      fallback to other diagrams and documents.
    * A subgraph: its header(s). A type: nothing.
    """
    try:
        return local_first(_definition, workspace, doc, offset)
    except Exception:
        return []


def local_first(fn, *args, local: bool = True):
    """``fn(*args, True)``, which starts from :func:`_local_index`, or, when that cannot
    answer exactly (it raised ``_Unanswered``) or ``local`` is False, ``fn(*args, False)``
    from the full index."""
    if local:
        try:
            return fn(*args, True)
        except _Unanswered:
            pass
    return fn(*args, False)


def _local_index(unit: DiagramUnit):
    """The index to start from: the full one when it is built, else a local one when
    the diagram has a names summary."""
    idx = _INDEXES.get(unit)
    if idx is not None:
        return idx
    summary = unit.names() if hasattr(unit, "names") else None
    return LocalIndex(unit, summary) if summary is not None else index_of(unit)


def _cascade(workspace, doc, unit, find, idx=None) -> list[Location]:
    """``find(index) -> occurrences``, tried on the unit (on ``idx`` when given), the
    document's other units, then the workspace's other documents; the first level that
    finds anything wins."""
    key = _key(doc)
    found = find(idx if idx is not None else index_of(unit))
    if found:
        return _locs(key, unit, found)
    out: list[Location] = []
    for u in doc.units:
        if u is not unit:
            out += _locs(key, u, find(index_of(u)))
    if out:
        return out
    for k, d in _others(workspace, doc):
        for u in d.units:
            out += _locs(k, u, find(index_of(u)))
    return out


def _definition(workspace, doc, offset, local: bool) -> list[Location]:
    """(``local``: start from :func:`_local_index`, which may raise ``_Unanswered``.)"""
    found = occurrence_at(doc, offset, local)
    if found is None:
        return []
    unit, idx, o = found
    key = _key(doc)
    if o.space == ENTITY:
        name = o.name
        if idx.entity_kind(name, o.role) == SUBGRAPH:
            return _locs(key, unit, [x for x in idx.by_entity.get(name, ()) if x.role == "subgraph"])
        own = idx.declarations(name)
        out = _cascade(workspace, doc, unit, lambda ix: own if ix is idx else ix.declarations(name), idx)
        if out:
            return out
        bare = idx.declarations(name, with_block=False)
        if bare:
            return _locs(key, unit, bare)
        first = idx.by_entity.get(name)
        return _locs(key, unit, first[:1]) if first else []
    if o.space == ATTRIBUTE:
        entity, name = o.entity or "", o.name
        return _cascade(workspace, doc, unit, lambda ix: _attribute_decls(ix, entity, name), idx)
    return []


# --- references and highlights ------------------------------------------------------------
def _same_symbol(idx: UnitIndex, o: Occurrence) -> list[Occurrence]:
    if o.space == ENTITY:
        return idx.entity_occurrences(o.name)
    if isinstance(idx, LocalIndex):
        if o.space == ATTRIBUTE:
            return idx.attribute_occurrences(o.entity or "", o.name)
        return idx.type_occurrences(o.name)
    if o.space == ATTRIBUTE:
        return list(idx.by_attribute.get((o.entity or "", o.name), ()))
    return list(idx.by_type.get(o.name, ()))


def _lookup(idx: UnitIndex, space: str, name: str, entity: Optional[str]) -> list[Occurrence]:
    if space == ENTITY:
        return idx.entity_occurrences(name)
    if space == ATTRIBUTE:
        return list(idx.by_attribute.get((entity or "", name), ()))
    return list(idx.by_type.get(name, ()))


def references(
    workspace: Optional[Workspace],
    doc: Document,
    offset: int,
    include_declaration: bool = True,
    scope: str = "diagram",
) -> list[Location]:
    """Every occurrence of the symbol under the cursor, in source order.

    For an entity (or subgraph): entity statements (declarations), relationship ends,
    ``class``/``style`` ids, subgraph headers and the ``entity`` part of ``entity.column``
    label mentions (also those that name it through its alias); the alias itself is not
    an occurrence of the name. For an attribute: its names in the entity's blocks
    (declarations) and the ``column`` part of label mentions. For a type: the attributes
    of the diagram with that type.

    ``scope`` is ``"diagram"`` (the default: Mermaid draws each diagram alone, so an
    entity of another diagram is another entity), ``"document"`` (every diagram of the
    document) or ``"workspace"`` (also every document of the workspace, by key): the wider
    scopes match by name.
    """
    try:
        return local_first(_references, workspace, doc, offset, include_declaration, scope, local=scope == "diagram")
    except Exception:
        return []


def _references(workspace, doc, offset, include_declaration, scope, local: bool) -> list[Location]:
    found = occurrence_at(doc, offset, local)
    if found is None:
        return []
    unit, idx, o = found
    key = _key(doc)
    targets: list[tuple[str, DiagramUnit]] = [(key, unit)]
    if scope in ("document", "workspace"):
        targets = [(key, u) for u in doc.units]
    if scope == "workspace":
        for k, d in _others(workspace, doc):
            targets += [(k, u) for u in d.units]
    out: list[Location] = []
    for k, u in targets:
        occs = _same_symbol(idx, o) if u is unit else _lookup(index_of(u), o.space, o.name, o.entity)
        if not include_declaration:
            occs = [x for x in occs if not x.declaration]
        out += _locs(k, u, occs)
    return out


def highlights(doc: Document, offset: int) -> list[tuple[TextRange, str]]:
    """The occurrences of the symbol under the cursor in its diagram, as ``(host range,
    "write" | "read")``: declarations (entity statements, subgraph headers, attribute
    names in blocks) are writes, every other use a read."""
    try:
        return local_first(_highlights, doc, offset)
    except Exception:
        return []


def _highlights(doc: Document, offset: int, local: bool) -> list[tuple[TextRange, str]]:
    found = occurrence_at(doc, offset, local)
    if found is None:
        return []
    unit, idx, o = found
    return [(unit.to_host(x.range), "write" if x.declaration else "read") for x in _same_symbol(idx, o)]


def label_mentions(doc: Document) -> list[tuple[Symbol, Symbol]]:
    """Every ``entity.column`` label mention of the document as ``(entity part, column
    part)`` symbols (host ranges)."""
    try:
        out = []
        for u in doc.units:
            idx = index_of(u)
            parts = [o for o in idx.occurrences if o.role == "label"]
            for a, b in zip(parts[0::2], parts[1::2]):
                out.append((_symbol(u, idx, a), _symbol(u, idx, b)))
        return out
    except Exception:
        return []
