"""The semantic model of one ER diagram: what Mermaid's ``ErDB`` records, plus ranges.

:func:`build` walks a :class:`~erd_lsp.syntax.tree.Parse` and applies Mermaid 12.3.0's
semantic actions in source order: entities in order of first mention (created by entity
statements and by relationships alike), the first alias wins, attributes of repeated
blocks are appended, ``class``/``style`` only reach entities that exist at that moment,
the last top-level ``direction`` wins, subgraph members are deduplicated. It also records
what Mermaid does not: the range of every name, which entities were declared by a
statement and which only by a relationship, and every reference.

It works on trees with syntax errors too (what parsed is modelled). It never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from sys import intern
from typing import NamedTuple, Optional, Sequence

from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.fastpath import AttrBlock, FastNode
from erd_lsp.syntax.tree import Attribute, Node, Parse
from erd_lsp.text import TextRange, paused_gc

_new = tuple.__new__  # makes a named tuple without its (Python-level) constructor

ZERO_OR_ONE = "ZERO_OR_ONE"
ZERO_OR_MORE = "ZERO_OR_MORE"
ONE_OR_MORE = "ONE_OR_MORE"
ONLY_ONE = "ONLY_ONE"
MD_PARENT = "MD_PARENT"


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    alias: Optional[str]
    implicit: bool  # never named by an entity statement, only by relationships
    # a tuple, or a fast block's AttrBlock (read as the tuple of its records)
    attributes: Sequence[Attribute]
    definitions: tuple[TextRange, ...]  # name ranges of its entity statements
    blocks: tuple[TextRange, ...]  # ranges of its `{ ... }` blocks
    references: tuple[TextRange, ...]  # every other use of its name
    alias_range: Optional[TextRange]
    classes: tuple[str, ...]
    styles: tuple[str, ...]
    first_mention: TextRange

    @property
    def has_block(self) -> bool:
        return bool(self.blocks)

    @property
    def display_name(self) -> str:
        return self.alias or self.name


class Relationship(NamedTuple):
    """``left <left_cardinality><line><right_cardinality> right : label``. Ranges are kept
    relative to the statement (``base`` is its start) and made absolute on access."""

    left: str
    right: str
    left_cardinality: str
    right_cardinality: str
    identifying: bool
    label: str
    left_is_subgraph: bool
    right_is_subgraph: bool
    base: int
    # (start, end) of the statement, left, right, left card, right card, line, label: 14 ints
    rel: tuple

    def _r(self, i: int) -> TextRange:
        b = self.base
        r = self.rel
        return TextRange(b + r[2 * i], b + r[2 * i + 1])

    @property
    def range(self) -> TextRange:
        return self._r(0)

    @property
    def left_range(self) -> TextRange:
        return self._r(1)

    @property
    def right_range(self) -> TextRange:
        return self._r(2)

    @property
    def left_card_range(self) -> TextRange:
        return self._r(3)

    @property
    def right_card_range(self) -> TextRange:
        return self._r(4)

    @property
    def line_range(self) -> TextRange:
        return self._r(5)

    @property
    def label_range(self) -> TextRange:
        return self._r(6)


@dataclass(frozen=True, slots=True)
class ClassDef:
    name: str
    styles: tuple[str, ...]
    text_styles: tuple[str, ...]
    ranges: tuple[TextRange, ...]


@dataclass(frozen=True, slots=True)
class Subgraph:
    id: str
    title: str
    nodes: tuple[str, ...]
    direction: Optional[str]
    range: TextRange  # from `subgraph` to `end`
    name_range: TextRange
    classes: tuple[str, ...]
    styles: tuple[str, ...]


class Reference(NamedTuple):
    """One use of a name: an entity (or subgraph) name, where, and in what role (a tuple:
    a large diagram has tens of thousands, and tuples are the cheapest to make)."""

    name: str
    range: TextRange
    role: str  # "definition" | "relationship" | "class" | "style" | "alias-target"


@dataclass(frozen=True)
class Diagram:
    entities: dict  # name -> Entity, in Mermaid's order
    relationships: tuple[Relationship, ...]
    classes: dict  # classDef name -> ClassDef
    direction: str
    acc_title: str
    acc_descr: str
    subgraphs: tuple[Subgraph, ...]
    title: Optional[str]
    references: tuple[Reference, ...]  # every entity name occurrence, in source order
    class_uses: tuple[tuple[str, TextRange], ...]  # class names used by `class` and `:::`

    def entity(self, name: str) -> Optional[Entity]:
        return self.entities.get(name)

    @property
    def declares_blocks(self) -> bool:
        return any(e.blocks for e in self.entities.values())


class _E:
    __slots__ = ("name", "alias", "implicit", "attributes", "definitions", "blocks", "references", "alias_range", "classes", "styles", "first")

    def __init__(self, name, first):
        self.name = name
        self.alias = ""
        self.implicit = True
        self.attributes = []
        self.definitions = []
        self.blocks = []
        self.references = []
        self.alias_range = None
        self.classes = []
        self.styles = []
        self.first = first


_CARD = {
    K.ZERO_OR_ONE: ZERO_OR_ONE,
    K.ZERO_OR_MORE: ZERO_OR_MORE,
    K.ONE_OR_MORE: ONE_OR_MORE,
    K.ONLY_ONE: ONLY_ONE,
    K.MD_PARENT: MD_PARENT,
}


class _Builder:
    def __init__(self, parse: Parse) -> None:
        self.parse = parse
        self.pre = parse.pre
        self.entities: dict[str, _E] = {}
        self.relationships: list[Relationship] = []
        self.classes: dict[str, list] = {}
        self.direction = "TB"
        self.acc_title = ""
        self.acc_descr = ""
        self.subgraphs: list[dict] = []
        self.subgraph_lookup: dict[str, dict] = {}
        self.open_subgraphs: list[dict] = []
        self.refs: list[Reference] = []
        self.class_uses: list = []

    # -- values -------------------------------------------------------------------------
    def value(self, tok, base) -> str:
        return self.pre.clean(base + tok[1], base + tok[2])

    def name_value(self, tok, base) -> str:
        v = self.value(tok, base)
        if tok[0] in (K.ENTITY_NAME, K.WORD):
            v = v.replace('"', "")
        return v

    def rng(self, tok, base) -> TextRange:
        return TextRange(base + tok[1], base + tok[2])

    # -- ErDB ---------------------------------------------------------------------------
    def add_entity(self, name: str, rng: TextRange, alias: str = "") -> _E:
        e = self.entities.get(name)
        if e is None:
            e = _E(name, rng)
            e.alias = alias
            self.entities[name] = e
        elif not e.alias and alias:
            e.alias = alias
        return e

    def set_class(self, ids, classes) -> None:
        for i in ids:
            e = self.entities.get(i)
            if e is not None:
                e.classes.extend(classes)
            sg = self.subgraph_lookup.get(i)
            if sg is not None:
                sg["classes"].extend(classes)

    def member(self, value) -> None:
        if self.open_subgraphs:
            self.open_subgraphs[-1]["members"].append(value)

    # -- walk ---------------------------------------------------------------------------
    def run(self) -> Diagram:
        for item, base in zip(self.parse.items, self.parse.starts):
            if item.__class__ is tuple:  # a token between statements
                continue
            k = item.kind
            if k == K.ENTITY_STMT:
                self.entity_stmt(item, base)
            elif k == K.REL_STMT:
                self.rel_stmt(item, base)
            elif k == K.CLASS_STMT:
                self.class_stmt(item, base)
            elif k == K.STYLE_STMT:
                self.style_stmt(item, base)
            elif k == K.CLASSDEF_STMT:
                self.classdef_stmt(item, base)
            elif k == K.DIRECTION_STMT:
                self.direction_stmt(item, base)
            elif k == K.ACC_TITLE_STMT:
                v = self.acc_value(item, base, K.ACC_TITLE_VALUE)
                if v is not None:
                    self.acc_title = _sanitize(v.strip()).lstrip()
                    self.member(v.strip())
            elif k == K.ACC_DESCR_STMT:
                multi = any(t[0] == K.ACC_DESCR_MULTI_VALUE for t in item.child_tokens())
                v = self.acc_value(item, base, K.ACC_DESCR_MULTI_VALUE if multi else K.ACC_DESCR_VALUE)
                if v is not None:
                    self.acc_descr = _collapse_newlines(_sanitize(v.strip()))
                    self.member(v.strip())
            elif k == K.SUBGRAPH_START:
                self.subgraph_start(item, base)
            elif k == K.SUBGRAPH_END:
                if item.errors:
                    continue
                self.subgraph_end(item, base)
        return self.finish()

    def acc_value(self, item, base, kind) -> Optional[str]:
        vals = [self.value(t, base) for t in item.child_tokens({kind})]
        if not vals:
            return None
        return vals[-1]

    def entity_cache(self, node: Node, base: int) -> list:
        """``[facts, the base the attributes were placed at, those attributes]`` of an
        entity statement, kept on the node: an unchanged statement is read once."""
        cache = node.facts
        if cache is None:
            cache = node.facts = [self.entity_facts(node, base), None, ()]
        return cache

    def rel_facts_of(self, node: Node, base: int):
        """What a relationship statement says (kept on the node, but for a fast statement,
        whose reading costs next to nothing)."""
        if node.__class__ is FastNode:
            return _fast_rel_facts(node)
        facts = node.facts
        if facts is None:
            facts = node.facts = self.rel_facts(node, base)
        return facts

    def entity_stmt(self, node: Node, base: int) -> None:
        cache = self.entity_cache(node, base)
        facts = cache[0]
        if not facts:
            return
        name, (ns, ne), alias, alias_rel, block_rel, attrs, classes, class_uses = facts
        r = _new(TextRange, (base + ns, base + ne))
        e = self.add_entity(name, r, alias)
        if alias and e.alias == alias and e.alias_range is None:
            e.alias_range = _new(TextRange, (base + alias_rel[0], base + alias_rel[1]))
        e.implicit = False
        e.definitions.append(r)
        self.refs.append(_new(Reference, (name, r, "definition")))
        if block_rel is not None:
            e.blocks.append(_new(TextRange, (base + block_rel[0], base + block_rel[1])))
            if cache[1] != base:  # new, or the statement moved: its attributes follow
                have = cache[2] if cache[1] is not None else attrs
                if have.__class__ is AttrBlock:  # a fast block: moved without decoding
                    have = have.moved(base)
                elif have and have[0].base != base:
                    have = tuple([a.moved(base) for a in have])
                cache[2] = have
                cache[1] = base
            if cache[2]:
                e.attributes.append(cache[2])
        if classes is not None:
            for v, (cs, ce) in class_uses:
                self.class_uses.append((v, _new(TextRange, (base + cs, base + ce))))
            self.set_class([name], classes)
        if self.open_subgraphs:
            self.member(name)

    def entity_facts(self, node: Node, base: int):
        """What an entity statement says, with offsets relative to the statement (cached on
        the node: an unchanged statement is read once)."""
        if node.__class__ is FastNode:
            return _fast_entity_facts(node)
        ref = node.node(K.ENTITY_REF)
        if ref is None:
            return ()
        tok = next(ref.child_tokens(), None)
        if tok is None:
            return ()
        name = self.name_value(tok, base)
        alias = ""
        alias_rel = None
        alias_node = node.node(K.ALIAS)
        if alias_node is not None:
            toks = [t for t in alias_node.child_tokens(K.ENTITY_NAMES)]
            if toks and not node.errors:
                alias = self.name_value(toks[0], base)
                alias_rel = (toks[0][1], toks[0][2])
        block_rel = None
        attrs = []
        block = node.node(K.ATTR_BLOCK)
        if block is not None:
            block_rel = (block.start, block.end)
            for attr in block.nodes(K.ATTRIBUTE):
                a = self.attribute_facts(attr, base, name)
                if a is not None:
                    attrs.append(a)
        classes = None
        class_uses = []
        cl = node.node(K.CLASS_LIST)
        if cl is not None:
            idl = cl.node(K.ID_LIST)
            classes = []
            if idl is not None:
                for t in idl.child_tokens({K.UNICODE_TEXT, K.STYLE_TEXT}):
                    v = self.value(t, base)
                    classes.append(v)
                    class_uses.append((v, (t[1], t[2])))
        return (name, (tok[1], tok[2]), alias, alias_rel, block_rel, tuple(attrs), classes, tuple(class_uses))

    def id_values(self, holder: Node, base: int) -> list[str]:
        idl = holder if holder.kind == K.ID_LIST else holder.node(K.ID_LIST)
        if idl is None:
            return []
        out = []
        for t in idl.child_tokens({K.UNICODE_TEXT, K.STYLE_TEXT}):
            v = self.value(t, base)
            out.append(v)
            if holder.kind == K.CLASS_LIST:
                self.class_uses.append((v, self.rng(t, base)))
        return out

    def attribute_facts(self, node: Node, base: int, entity: str):
        """``(type, name, keys, comment, relative ranges)`` of an attribute, or None."""
        tnode = node.node(K.ATTR_TYPE)
        nnode = node.node(K.ATTR_NAME)
        if tnode is None or nnode is None:
            return None
        ttoks = list(tnode.child_tokens({K.ATTRIBUTE_WORD, K.CHAR}))
        ntoks = list(nnode.child_tokens({K.ATTRIBUTE_WORD}))
        if not ttoks or not ntoks:
            return None
        typ = "".join(self.value(t, base) for t in ttoks)
        name = self.value(ntoks[0], base)
        a0 = node.start
        keys = []
        key_rels = []
        kl = node.node(K.KEY_LIST)
        if kl is not None:
            for t in kl.child_tokens({K.ATTRIBUTE_KEY}):
                keys.append(intern(self.value(t, base)))
                key_rels.append((t[1] - a0, t[2] - a0))
        comment = None
        comment_rel = None
        cn = node.node(K.ATTR_COMMENT)
        if cn is not None:
            ct = next(cn.child_tokens({K.COMMENT_STRING}), None)
            if ct is not None:
                comment = self.value(ct, base).replace('"', "")
                comment_rel = (ct[1] - a0, ct[2] - a0)
        # the type range spans the word (and '?'); backticks stay outside
        return Attribute(
            intern(typ), intern(name), tuple(keys), comment if comment else None,
            a0, node.end - a0, ttoks[0][1] - a0, ttoks[-1][2] - a0, ntoks[0][1] - a0, ntoks[0][2] - a0,
            tuple(key_rels), comment_rel, entity, base,
        )

    def rel_stmt(self, node: Node, base: int) -> None:
        facts = self.rel_facts_of(node, base)
        if not facts:
            return
        if facts[0] == "broken":
            # an incomplete relationship still names its entities (for navigation), but
            # records no relationship
            for name, (s0, e0) in facts[1]:
                r = _new(TextRange, (base + s0, base + e0))
                self.add_entity(name, r).references.append(r)
                self.refs.append(Reference(name, r, "relationship"))
            return
        _, left, right, lc, rc, ident, label, rel, class_lists = facts
        lr = _new(TextRange, (base + rel[2], base + rel[3]))
        rr = _new(TextRange, (base + rel[4], base + rel[5]))
        self.add_entity(left, lr).references.append(lr)
        self.add_entity(right, rr).references.append(rr)
        self.refs.append(_new(Reference, (left, lr, "relationship")))
        self.refs.append(_new(Reference, (right, rr, "relationship")))
        lookup = self.subgraph_lookup
        self.relationships.append(
            _new(Relationship, (left, right, lc, rc, ident, label, left in lookup, right in lookup, base, rel))
        )
        # classes: `A:::x ||--o{ B:::y`
        for owner, classes, uses in class_lists:
            for v, (cs, ce) in uses:
                self.class_uses.append((v, _new(TextRange, (base + cs, base + ce))))
            self.set_class([owner], classes)
        if self.open_subgraphs:
            self.member(left)
            self.member(right)

    def rel_facts(self, node: Node, base: int):
        """What a relationship statement says, relative to the statement (cached)."""
        if node.errors:
            names = []
            for ref in node.nodes(K.ENTITY_REF):
                tok = next(ref.child_tokens(), None)
                if tok is not None:
                    names.append((self.name_value(tok, base), (tok[1], tok[2])))
            return ("broken", tuple(names))
        refs = list(node.nodes(K.ENTITY_REF))
        spec = node.node(K.REL_SPEC)
        label = node.node(K.LABEL)
        if len(refs) != 2 or spec is None or label is None:
            return ()
        lt = next(refs[0].child_tokens())
        rt = next(refs[1].child_tokens())
        left = self.name_value(lt, base)
        right = self.name_value(rt, base)
        sp = list(spec.child_tokens(K.CARDINALITIES | K.REL_TYPES))
        lab = next(label.child_tokens(K.ROLES), None)
        if len(sp) != 3 or lab is None:
            return ()
        rel = (
            node.start, node.end, lt[1], lt[2], rt[1], rt[2], sp[0][1], sp[0][2], sp[2][1], sp[2][2],
            sp[1][1], sp[1][2], lab[1], lab[2],
        )
        class_lists = []
        for cl in node.nodes(K.CLASS_LIST):
            owner = left if cl.start < refs[1].start else right
            idl = cl.node(K.ID_LIST)
            classes, uses = [], []
            if idl is not None:
                for t in idl.child_tokens({K.UNICODE_TEXT, K.STYLE_TEXT}):
                    v = self.value(t, base)
                    classes.append(v)
                    uses.append((v, (t[1], t[2])))
            class_lists.append((owner, classes, tuple(uses)))
        return (
            "ok", left, right, _CARD[sp[0][0]], _CARD[sp[2][0]], sp[1][0] == K.IDENTIFYING,
            self.name_value(lab, base), rel, tuple(class_lists),
        )

    def class_stmt(self, node: Node, base: int) -> None:
        if node.errors:
            return
        lists = list(node.nodes(K.ID_LIST))
        if len(lists) != 2:
            return
        ids = [self.value(t, base) for t in lists[0].child_tokens({K.UNICODE_TEXT})]
        classes = [self.value(t, base) for t in lists[1].child_tokens({K.UNICODE_TEXT})]
        for t in lists[0].child_tokens({K.UNICODE_TEXT}):
            v = self.value(t, base)
            e = self.entities.get(v)
            if e is not None:
                r = self.rng(t, base)
                e.references.append(r)
                self.refs.append(Reference(v, r, "class"))
        for t in lists[1].child_tokens({K.UNICODE_TEXT}):
            self.class_uses.append((self.value(t, base), self.rng(t, base)))
        self.set_class(ids, classes)
        kw = next(node.child_tokens({K.CLASS}))
        self.member(self.value(kw, base))

    def styles(self, node: Node, base: int) -> list[str]:
        sl = node.node(K.STYLE_LIST)
        if sl is None:
            return []
        out = []
        for decl in sl.nodes(K.STYLE_DECL):
            out.append("".join(self.value(t, base) for t in decl.child_tokens({K.STYLE_TEXT, K.NUM, K.COLON, K.BRKT})))
        return out

    def style_stmt(self, node: Node, base: int) -> None:
        if node.errors:
            return
        idl = node.node(K.ID_LIST)
        if idl is None:
            return
        styles = self.styles(node, base)
        for t in idl.child_tokens({K.STYLE_TEXT, K.UNICODE_TEXT}):
            i = self.value(t, base)
            e = self.entities.get(i)
            if e is not None:
                e.styles.extend(styles)
                r = self.rng(t, base)
                e.references.append(r)
                self.refs.append(Reference(i, r, "style"))
            sg = self.subgraph_lookup.get(i)
            if sg is not None:
                sg["styles"].extend(styles)
        kw = next(node.child_tokens({K.STYLE}))
        self.member(self.value(kw, base))

    def classdef_stmt(self, node: Node, base: int) -> None:
        if node.errors:
            return
        idl = node.node(K.ID_LIST)
        if idl is None:
            return
        styles = self.styles(node, base)
        for t in idl.child_tokens({K.STYLE_TEXT, K.UNICODE_TEXT}):
            i = self.value(t, base)
            c = self.classes.get(i)
            if c is None:
                c = self.classes[i] = [[], [], []]
            for s in styles:
                if "color" in s:
                    c[1].append(s.replace("fill", "bgFill", 1))
                c[0].append(s)
            c[2].append(self.rng(t, base))
        kw = next(node.child_tokens({K.CLASSDEF}))
        self.member(self.value(kw, base))

    def direction_stmt(self, node: Node, base: int) -> None:
        tok = next(node.child_tokens({K.DIRECTION}))
        text = self.value(tok, base)
        d = direction_of(text)
        if self.open_subgraphs:
            self.open_subgraphs[-1]["members"].append({"dir": d})
        else:
            self.direction = d

    def subgraph_start(self, node: Node, base: int) -> None:
        ref = node.node(K.ENTITY_REF)
        kw = next(node.child_tokens({K.SUBGRAPH}))
        sid = ""
        name_range = self.rng(kw, base)
        if ref is not None:
            tok = next(ref.child_tokens())
            sid = self.name_value(tok, base)
            name_range = self.rng(tok, base)
        title = sid
        tn = node.node(K.SUBGRAPH_TITLE)
        if tn is not None:
            words = [self.name_value(t, base) for t in tn.child_tokens(K.ENTITY_NAMES)]
            title = " ".join(words)
        self.open_subgraphs.append(
            {"id": sid.strip(), "title": title, "members": [], "start": base + node.start, "name_range": name_range, "classes": [], "styles": []}
        )

    def subgraph_end(self, node: Node, base: int) -> None:
        if not self.open_subgraphs:
            return
        sg = self.open_subgraphs.pop()
        seen = set()
        nodes = []
        d = None
        for m in sg["members"]:
            if isinstance(m, dict):
                d = m["dir"]
                continue
            m2 = m.strip()
            if not m2 or m2 in seen:
                continue
            seen.add(m2)
            nodes.append(m2)
        taken = set()
        for other in self.subgraphs:
            taken.update(other["nodes"])
        nodes = [n for n in nodes if n not in taken]
        sg["nodes"] = nodes
        sg["dir"] = d
        sg["end"] = base + node.end
        sg["title"] = _sanitize(sg["title"]).strip()
        self.subgraphs.append(sg)
        self.subgraph_lookup[sg["id"]] = sg
        self.member(sg["id"])

    def finish(self) -> Diagram:
        # each entity's other uses were collected as the walk met them, in source order
        entities = {}
        for name, e in self.entities.items():
            # one block's attributes as they are (a fast block stays undecoded), else joined
            at = e.attributes
            at = () if not at else at[0] if len(at) == 1 else tuple(chain.from_iterable(at))
            entities[name] = Entity(
                name, e.alias or None, e.implicit, at, tuple(e.definitions), tuple(e.blocks),
                tuple(e.references), e.alias_range, tuple(e.classes), tuple(e.styles), e.first,
            )
        classes = {n: ClassDef(n, tuple(c[0]), tuple(c[1]), tuple(c[2])) for n, c in self.classes.items()}
        subgraphs = tuple(
            Subgraph(
                id=s["id"],
                title=s["title"],
                nodes=tuple(s["nodes"]),
                direction=s["dir"],
                range=TextRange(s["start"], s.get("end", s["start"])),
                name_range=s["name_range"],
                classes=tuple(s["classes"]),
                styles=tuple(s["styles"]),
            )
            for s in self.subgraphs
        )
        return Diagram(
            entities=entities,
            relationships=tuple(self.relationships),
            classes=classes,
            direction=self.direction,
            acc_title=self.acc_title,
            acc_descr=self.acc_descr,
            subgraphs=subgraphs,
            title=getattr(self.pre, "title", None),
            references=tuple(self.refs),  # collected in source order
            class_uses=tuple(self.class_uses),
        )


def attribute_names(entity: Entity) -> list:
    """The names of an entity's attributes, in order; a fast block's are read without
    decoding its records."""
    attrs = entity.attributes
    if attrs.__class__ is AttrBlock:
        return attrs.names()
    return [a.name for a in attrs]


def attribute_facts(entity: Entity) -> list:
    """``(type, name, keys, comment or None)`` of each of an entity's attributes, in
    order; a fast block's are read without decoding its records."""
    attrs = entity.attributes
    if attrs.__class__ is AttrBlock:
        return attrs.facts()
    return [(a.type, a.name, tuple(a.keys), a.comment) for a in attrs]


def _fast_entity_facts(node: FastNode):
    """``entity_facts`` of a statement the parser's fast path took (it recorded the
    values and spans the model reads)."""
    (ns, ne), block, attrs = node.fast
    return (intern(node.text[ns:ne]), (ns, ne), "", None, block, attrs, None, ())


def _fast_rel_facts(node: FastNode):
    text = node.text
    rel, lck, lk, rck = node.fast
    lab = text[rel[12] : rel[13]]
    if lab.startswith('"'):
        lab = lab[1:-1]
    left = intern(text[rel[2] : rel[3]])
    right = intern(text[rel[4] : rel[5]])
    return ("ok", left, right, _CARD[lck], _CARD[rck], lk == K.IDENTIFYING, intern(lab), rel, ())


def direction_of(text: str) -> str:
    """Which of Mermaid's four direction rules (tried in the order TB, BT, RL, LR) a
    swallowed line matched."""
    import re

    for d in ("TB", "BT", "RL", "LR"):
        if re.search(r"direction[\s]+" + d, text, re.IGNORECASE):
            return d
    return "TB"


def _sanitize(text: str) -> str:
    """Mermaid sanitises accessibility text and subgraph titles (HTML tags are removed)."""
    if "<" not in text:
        return text
    import re

    return re.sub(r"<[^>]*>", "", text)


def _collapse_newlines(text: str) -> str:
    import re

    return re.sub(r"\n\s+", "\n", text)


def statement_identity(parse: Optional[Parse], node: Node, base: Optional[int]):
    """What an entity statement says besides its attributes, ``(name, alias, has a
    block, classes)``, or what a relationship says, without positions; None when not
    known. Without ``parse`` only what the node already holds is read."""
    fast = node.__class__ is FastNode
    if node.kind == K.REL_STMT:
        if parse is not None:
            facts = _Builder(parse).rel_facts_of(node, base)
        else:
            facts = _fast_rel_facts(node) if fast else node.facts
        if not facts:
            return None
        if facts[0] == "broken":
            return ("broken", tuple(n for n, _ in facts[1]))
        _ok, left, right, lc, rc, ident, label, _rel, class_lists = facts
        return (left, right, lc, rc, ident, label, tuple((o, tuple(c)) for o, c, _u in class_lists))
    if parse is not None:
        facts = _Builder(parse).entity_cache(node, base)[0]
    elif node.facts is not None:
        facts = node.facts[0]
    elif fast:
        facts = _fast_entity_facts(node)
    else:
        return None
    if not facts:
        return None
    name, _span, alias, _alias_rel, block_rel, _attrs, classes, _uses = facts
    return (name, alias, block_rel is not None, None if classes is None else tuple(classes))


def relationship_facts(parse: Parse, node: Node, base: int):
    """What a relationship statement says: ``("ok", left, right, left cardinality,
    right cardinality, identifying, label, spans, class lists)`` (the 14 ints of
    :class:`Relationship`'s ``rel``, relative to the statement), ``("broken", names)``
    or ``()``."""
    return _Builder(parse).rel_facts_of(node, base)


class Names:
    """Which names the entity statements declare and which relationships mention them:
    what the rules of scope ``"entity"`` and ``"names"`` read, kept up to date across
    edits (:meth:`edited`) without building the model.

    ``decl``: name -> its entity statements (a tuple of nodes, in source order; only
    names that have one); ``rels``: name -> the complete relationship statements naming
    it (a tuple, a node once per end that names it, in no particular order); ``broken``:
    the same for incomplete relationships; ``blocks``: how many entity statements have a
    ``{ }`` block; ``dotted``; ``classy``; ``mentions`` (None until completion first asks
    for the order): for each item of the parse, the names it mentions if it is an entity
    statement or a complete relationship, else ``()`` (so the names in order of first
    mention by a complete statement are one pass in C: :meth:`order`). Diagrams with
    subgraphs have no summary (a subgraph id is a name too): :meth:`of` returns None for
    them."""

    __slots__ = ("decl", "rels", "blocks", "mentions", "flipped", "memo", "_order", "classy", "broken", "dotted")

    def __init__(self, decl, rels, blocks: int, broken, dotted: frozenset, classy: int, flipped: frozenset = frozenset()) -> None:
        self.decl = decl
        self.rels = rels
        self.blocks = blocks
        # name -> the incomplete relationships naming it; the relationship statements whose
        # label may mention `entity.column` (a '.' after their ':'), by id
        self.broken = broken
        self.dotted = dotted
        self.classy = classy  # class, style and classDef statements (an edit window holds none)
        self.mentions: Optional[list] = None
        self._order = [None]  # shared with the versions whose windows named what they named
        self.flipped = flipped  # names declared before the last edit and not after, or the reverse
        # what rules derive from the set of declared names, kept while it stays the same;
        # after it changed, "previous" holds (the memo before, names added, names removed)
        self.memo: dict = {}

    @classmethod
    def of(cls, parse: Parse, memo: Optional[dict] = None) -> "Optional[Names]":
        decl: dict = {}
        rels: dict = {}
        blocks = 0
        classy = 0
        broken: dict = {}
        dotted: set = set()
        b = _Builder(parse)
        for item, base in zip(parse.items, parse.starts):
            if item.__class__ is tuple:
                continue
            k = item.kind
            if k == K.ENTITY_STMT:
                facts = b.entity_cache(item, base)[0]
                if facts:
                    name = facts[0]
                    decl[name] = decl.get(name, ()) + (item,)
                    if facts[4] is not None:
                        blocks += 1
            elif k == K.REL_STMT:
                facts = b.rel_facts_of(item, base)
                if facts and facts[0] == "ok":
                    # tuples (most names have one statement and two or three relationships)
                    rels[facts[1]] = rels.get(facts[1], ()) + (item,)
                    rels[facts[2]] = rels.get(facts[2], ()) + (item,)
                elif facts:
                    for name, _span in facts[1]:
                        broken[name] = broken.get(name, ()) + (item,)
                if _dotted(parse.source, item, base):
                    dotted.add(id(item))
            elif k == K.SUBGRAPH_START or k == K.SUBGRAPH_END:
                return None
            elif k == K.CLASS_STMT or k == K.STYLE_STMT or k == K.CLASSDEF_STMT:
                classy += 1
        out = cls(Layered(decl), Layered(rels), blocks, Layered(broken), frozenset(dotted), classy)
        if memo is not None:
            out.memo = memo
        return out

    @staticmethod
    def mentions_of(parse: Parse) -> list:
        """``mentions`` for a parse (made when completion first asks for the order)."""
        b = _Builder(parse)
        out = []
        none = ()
        for item, base in zip(parse.items, parse.starts):
            m = none
            if item.__class__ is not tuple:
                k = item.kind
                if k == K.ENTITY_STMT:
                    facts = b.entity_cache(item, base)[0]
                    if facts:
                        m = (facts[0],)
                elif k == K.REL_STMT:
                    facts = b.rel_facts_of(item, base)
                    if facts and facts[0] == "ok":
                        m = (facts[1], facts[2])
            out.append(m)
        return out

    def order(self, parse: Parse) -> list:
        """The names entity statements and complete relationships mention, in order of
        first mention (``parse``: the one this summary is of)."""
        cell = self._order
        if cell[0] is None:
            if self.mentions is None:
                self.mentions = self.mentions_of(parse)
            cell[0] = list(dict.fromkeys(chain.from_iterable(self.mentions)))
        return cell[0]

    def undeclared(self) -> list:
        """Names that relationships mention and no entity statement declares."""
        decl = self.decl
        return [n for n in self.rels if n not in decl]

    def edited(self, olds: list, news: list, base_of, window: tuple, items: list, source: str = "") -> "Names":
        """The summary after the statements ``olds`` (old nodes with their identities, see
        :func:`statement_identity`, prefixed by their kind) were replaced by ``news``
        (new nodes, identities, starts) in one window, ``(first item, its end in the new
        items, its end in the old)``; ``items``: the new parse's; ``base_of(node)`` gives
        the start of a node of the new parse outside the window. Shares what did not
        change."""
        decl = self.decl
        blocks = self.blocks
        new_decl = None
        slots: dict = {}
        flipped: set = set()
        for node, ident, _ in olds:
            if ident[0] == K.ENTITY_STMT:
                name = ident[1]
                if new_decl is None:
                    new_decl = decl.edit()
                lst = new_decl.get(name, ())
                for i, n in enumerate(lst):
                    if n is node:
                        slots.setdefault(name, i)
                        break
                if not _drop(new_decl, name, node):
                    flipped.add(name)
                if ident[3]:
                    blocks -= 1
        added: dict = {}
        for node, ident, base in news:
            if ident[0] == K.ENTITY_STMT:
                added.setdefault(ident[1], []).append(node)
                if ident[3]:
                    blocks += 1
        for name, nodes in added.items():
            if new_decl is None:
                new_decl = decl.edit()
            lst = new_decl.get(name, ())
            if not lst:
                flipped.symmetric_difference_update((name,))
            slot = slots.get(name)
            if slot is None:
                if not lst:
                    slot = 0
                else:  # a name the window did not declare before: place by position
                    start = base_of(nodes[0])
                    slot = 0
                    while slot < len(lst) and base_of(lst[slot]) < start:
                        slot += 1
            new_decl[name] = lst[:slot] + tuple(nodes) + lst[slot:]
        rels, brk, dotted = self.rels, self.broken, self.dotted
        for node, ident, _ in olds:
            if ident[0] == K.REL_STMT:
                dotted = dotted - {id(node)} if id(node) in dotted else dotted
                if broken_identity(ident):
                    brk = brk if brk is not self.broken else brk.edit()
                    for name in set(ident[2]):
                        _drop(brk, name, node)
                else:
                    rels = rels if rels is not self.rels else rels.edit()
                    for name in {ident[1], ident[2]}:
                        _drop(rels, name, node)
        for node, ident, base in news:
            if ident[0] == K.REL_STMT:
                if _dotted(source, node, base):
                    dotted = dotted | {id(node)}
                if broken_identity(ident):
                    brk = target = brk if brk is not self.broken else brk.edit()
                    names = ident[2]
                else:
                    rels = target = rels if rels is not self.rels else rels.edit()
                    names = (ident[1], ident[2])
                for name in names:
                    target[name] = target.get(name, ()) + (node,)
        out = Names(decl if new_decl is None else new_decl, rels, blocks, brk, dotted, self.classy, frozenset(flipped))
        if not flipped:
            out.memo = self.memo
        else:
            before = {k: v for k, v in self.memo.items() if k != "previous"}
            added = frozenset(n for n in flipped if n in out.decl)
            out.memo = {"previous": (before, added, out.flipped - added)}
        if self.mentions is None:
            return out  # completion has not asked for the order yet
        r, new_end, old_end = window
        said = {id(node): ident for node, ident, _ in news}
        mid = []
        for item in items[r:new_end]:
            ident = said.get(id(item))
            if ident is None or (ident[0] == K.REL_STMT and broken_identity(ident)):
                mid.append(())
            elif ident[0] == K.ENTITY_STMT:
                mid.append((ident[1],))
            else:
                mid.append((ident[1], ident[2]))
        ment = self.mentions
        was = ment[r:old_end]
        same = mid == was
        out.mentions = ment if same else ment[:r] + mid + ment[old_end:]
        if same or [m for m in mid if m] == [m for m in was if m]:
            out._order = self._order  # the window names what it named, in order: so does the diagram
        return out


_MISSING = object()
_GONE = object()


class Layered:
    """A mapping shared between versions, with the changes of the last edits on top:
    :meth:`edit` gives a new version to write to for the cost of the changes (copying
    a 5,000-name dict on every keystroke cost more than the rest of the update). The
    changes are folded into a new base once there are more than a few dozen."""

    __slots__ = ("base", "top")

    def __init__(self, base: dict, top: Optional[dict] = None) -> None:
        self.base = base
        self.top = top if top is not None else {}

    def edit(self) -> "Layered":
        if len(self.top) > 48:
            return Layered(dict(self.items()))
        return Layered(self.base, dict(self.top))

    def get(self, key, default=None):
        v = self.top.get(key, _MISSING)
        if v is _MISSING:
            return self.base.get(key, default)
        return default if v is _GONE else v

    def __getitem__(self, key):
        v = self.get(key, _MISSING)
        if v is _MISSING:
            raise KeyError(key)
        return v

    def __contains__(self, key) -> bool:
        v = self.top.get(key, _MISSING)
        if v is _MISSING:
            return key in self.base
        return v is not _GONE

    def __setitem__(self, key, value) -> None:
        self.top[key] = value

    def pop(self, key, default=None):
        v = self.get(key, _MISSING)
        if v is _MISSING:
            return default
        self.top[key] = _GONE
        return v

    def items(self):
        top = self.top
        if not top:
            return self.base.items()
        out = [(k, v) for k, v in self.base.items() if k not in top]
        out.extend((k, v) for k, v in top.items() if v is not _GONE)
        return out

    def keys(self):
        return self.base.keys() if not self.top else {k for k, _ in self.items()}

    def values(self):
        return [v for _, v in self.items()]

    def __iter__(self):
        return iter(self.base) if not self.top else iter([k for k, _ in self.items()])

    def __len__(self) -> int:
        return len(self.base) if not self.top else len(self.items())


def _drop(names: "Layered", name: str, node) -> tuple:
    """Take ``node`` out of the tuple ``names`` holds for ``name`` (the name goes when
    none is left); what is left."""
    lst = tuple([n for n in names.get(name, ()) if n is not node])
    if lst:
        names[name] = lst
    else:
        names.pop(name, None)
    return lst


def _dotted(source: str, node, base: int) -> bool:
    """Whether a relationship statement has a '.' after its first ':' (its label may
    mention ``entity.column``; names and cardinalities hold no ':', lines do hold dots)."""
    if node.__class__ is FastNode:
        text = node.text
        colon = text.find(":")
        return colon >= 0 and text.find(".", colon) >= 0
    a, b = base + node.start, base + node.end
    colon = source.find(":", a, b)
    return colon >= 0 and source.find(".", colon, b) >= 0


def broken_identity(ident) -> bool:
    """Whether a relationship's identity (kind first) is that of an incomplete one."""
    return len(ident) == 3 and ident[1] == "broken" and isinstance(ident[2], tuple)


def partial(parse: Parse, statements: list) -> Diagram:
    """The model of just these entity and relationship statements (``(node, start)``, in
    source order): what rules of scope ``"entity"`` need about the entities they declare,
    and what hover needs about the entities of one statement."""
    with paused_gc():
        b = _Builder(parse)
        for node, base in statements:
            if node.kind == K.REL_STMT:
                b.rel_stmt(node, base)
            else:
                b.entity_stmt(node, base)
        return b.finish()


def build(parse: Parse) -> Diagram:
    """The model of a parsed diagram."""
    with paused_gc():
        return _Builder(parse).run()
