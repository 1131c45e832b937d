"""Hover: what the thing under the cursor means, as Markdown.

:func:`hover` explains entity names (declaration, attributes, relationships read as
sentences), cardinalities, relationship lines, keys, attributes, keywords, class names,
subgraphs, relationship labels and rule codes in ``%%`` comments.
:func:`rule_documentation` is a rule's documentation (also used for diagnostic code
descriptions). Pure: no I/O, never raises, ranges are host offsets.
"""

from __future__ import annotations

import inspect
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Optional

from erd_lsp.analysis.rules import BY_CODE, BY_NAME
from erd_lsp.analysis.structure import Role, relationship_name, token_at, token_role
from erd_lsp.model import MD_PARENT, ONE_OR_MORE, ONLY_ONE, ZERO_OR_MORE, ZERO_OR_ONE, partial, statement_identity
from erd_lsp.syntax import kinds as K
from erd_lsp.text import TextRange

__all__ = ["Hover", "hover", "rule_documentation", "reading", "CARDINALITY_WORDS"]


@dataclass(frozen=True)
class Hover:
    contents_markdown: str
    range: TextRange  # host offsets


CARDINALITY_WORDS = {
    ZERO_OR_ONE: "zero or one",
    ONLY_ONE: "exactly one",
    ZERO_OR_MORE: "zero or more",
    ONE_OR_MORE: "one or more",
    MD_PARENT: "a parent",
}

_CARD_MEANING = {
    ZERO_OR_ONE: "the entity on this side appears at most once: once, or not at all (optional)",
    ONLY_ONE: "the entity on this side appears exactly once (mandatory)",
    ZERO_OR_MORE: "the entity on this side may appear any number of times, or not at all",
    ONE_OR_MORE: "the entity on this side appears at least once, possibly many times",
    MD_PARENT: "Mermaid's `u` end (`MD_PARENT`, undocumented): the entity on this side is drawn as a parent; no count is implied",
}

_CARD_SPELLINGS = {
    ZERO_OR_ONE: "`|o` / `o|`, `zero or one`, `one or zero`",
    ONLY_ONE: "`||`, `one`, `only one`, `1`",
    ZERO_OR_MORE: "`}o` / `o{`, `zero or more`, `zero or many`, `many(0)`, `many`, `0+`",
    ONE_OR_MORE: "`}|` / `|{`, `one or more`, `one or many`, `many(1)`, `1+`",
    MD_PARENT: "`u`",
}

_KIND_OF_CARD_TOKEN = {
    "ZERO_OR_ONE": ZERO_OR_ONE,
    "ONLY_ONE": ONLY_ONE,
    "ZERO_OR_MORE": ZERO_OR_MORE,
    "ONE_OR_MORE": ONE_OR_MORE,
    "MD_PARENT": MD_PARENT,
}

_IDENTIFYING = (
    "**identifying relationship** (solid line; written `--` or `to`): the entity on the "
    "child side cannot be identified on its own: its identity (key) includes the other "
    "entity's, as an order line belongs to its order. Write `..` or `optionally to` for a "
    "non-identifying relationship (dashed line)."
)
_NON_IDENTIFYING = (
    "**non-identifying relationship** (dashed line; written `..`, `.-`, `-.` or "
    "`optionally to`): both entities exist and are identified independently; the "
    "relationship only links them. Write `--` or `to` for an identifying relationship "
    "(solid line)."
)

_KEYS = {
    "PK": "**PK — primary key**: this attribute identifies each instance of the entity (with several `PK` attributes, they identify it together); its value is unique and never empty.",
    "FK": "**FK — foreign key**: this attribute holds the key of another entity, the one a relationship links this entity to.",
    "UK": "**UK — unique key**: no two instances of the entity share this attribute's value; unlike the primary key it is not the entity's identifier.",
}

_KEYWORDS = {
    "erDiagram": "**`erDiagram`** — the header of an entity–relationship diagram. It comes first, on its own line (only front matter `---`…`---`, `%%{init: …}%%` directives and `%%` comments may precede it; it is case-sensitive), followed by one statement per line: entities `NAME { type name PK \"comment\" }`, relationships `A ||--o{ B : label`, and `style`, `classDef`, `class`, `direction`, `accTitle`, `accDescr`.",
    "style": "**`style`** — sets CSS styles on entities (or subgraphs) directly: `style NAME[,NAME…] fill:#f9f,stroke:#333,stroke-width:2px`. It only reaches entities that already exist at that line; values may hold letters, digits, `-`, `*`, `#`, `:` and `,`.",
    "classDef": "**`classDef`** — defines a named set of CSS styles: `classDef name[,name…] fill:#f9f,stroke:#333`. Apply it with `class NAME name` or `NAME:::name`; a class named `default` applies to every entity.",
    "class": "**`class`** — assigns `classDef` classes to entities: `class NAME[,NAME…] className[,className…]`. It only reaches entities that already exist at that line. The short form is `NAME:::className` in an entity statement or a relationship.",
    "direction": "**`direction`** — the layout direction: `direction TB` (top to bottom, the default), `BT`, `LR` or `RL`. The last top-level `direction` wins; inside a `subgraph` it sets that subgraph's direction.",
    "subgraph": "**`subgraph`** — groups statements in a box: `subgraph id` or `subgraph id [Title words]`, then statements, one per line, then `end`. The entities first named inside belong to it; subgraphs nest.",
    "end": "**`end`** — closes the innermost open `subgraph`. It is a keyword: `end` cannot name an entity.",
    "accTitle": "**`accTitle`** — the accessible title of the diagram (the SVG's `<title>`, read by screen readers): `accTitle: Orders and customers`, on one line.",
    "accDescr": "**`accDescr`** — the accessible description of the diagram (the SVG's `<desc>`, read by screen readers): `accDescr: one line` or, over several lines, `accDescr { … }`.",
}

_RULE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def rule_documentation(code: str) -> Optional[str]:
    """The Markdown documentation of a rule (by code, case-insensitive, or by name):
    a ``CODE name`` title, the severity, then the rule's docstring."""
    try:
        rule = BY_CODE.get(str(code).upper()) or BY_NAME.get(str(code).lower())
        if rule is None:
            return None
        doc = inspect.cleandoc(rule.__doc__ or "")
        sev = getattr(rule.SEVERITY, "label", str(rule.SEVERITY))
        return f"**{rule.CODE} {rule.NAME}** ({sev})\n\n{doc}"
    except Exception:  # pragma: no cover
        return None


def hover(doc, offset: int) -> Optional[Hover]:
    """The hover at host ``offset``, or None when there is nothing to explain."""
    try:
        return _hover(doc, offset)
    except Exception:  # pragma: no cover - never take the editor down
        return None


class _Near:
    """A diagram as hover sees it when its model is not built (right after an edit): the
    model of just the statement under the cursor and of every statement and complete
    relationship naming the entities it names, read from the names summary. Exact for
    what hover says about them when the diagram has no ``class``, ``style`` or
    ``classDef`` statement (those reach entities by timing), the statement has no
    ``:::`` classes (a class's hover lists its uses) and names no entity that only
    incomplete statements mention: else None. Elsewhere (trivia, the header, keywords,
    comments, errors) hover reads no model: an empty one serves."""

    def __init__(self, unit, diagram) -> None:
        self.parse = unit.parse
        self.diagram = diagram
        self.to_host = unit.to_host

    @classmethod
    def of(cls, unit, pos: int) -> "Optional[_Near]":
        if "diagram" in unit.__dict__ or not hasattr(unit, "names"):
            return None
        summary = unit.names()
        if summary is None or summary.classy:
            return None
        parse = unit.parse
        i = bisect_right(parse.starts, pos) - 1
        nodes = {}
        for j in (i - 1, i):  # the statement holding the cursor, or ending at it
            if not 0 <= j < len(parse.items):
                continue
            item = parse.items[j]
            if item.__class__ is tuple or item.kind not in (K.ENTITY_STMT, K.REL_STMT):
                continue  # trivia, the header, keywords, errors: nothing of the model is read
            ident = statement_identity(parse, item, parse.starts[j])
            if ident is None or (item.kind == K.ENTITY_STMT and ident[3] is not None) or (ident[0] != "broken" and item.kind == K.REL_STMT and ident[6]):
                return None  # unknown, or `:::` classes (a class's hover lists all its uses)
            names = [ident[0]] if item.kind == K.ENTITY_STMT else list(ident[1]) if ident[0] == "broken" else ident[:2]
            nodes[id(item)] = (item, parse.starts[j])
            for name in names:
                if name not in summary.decl and name not in summary.rels:
                    return None  # only incomplete statements name it
                for node in tuple(summary.decl.get(name, ())) + tuple(summary.rels.get(name, ())):
                    if id(node) not in nodes:
                        nodes[id(node)] = (node, parse.starts[parse.items.index(node)])
        if len(nodes) > 64:
            return None
        return cls(unit, partial(parse, sorted(nodes.values(), key=lambda x: x[1])))


def _hover(doc, offset: int) -> Optional[Hover]:
    loc = doc.locate(offset)
    if loc is None:
        return None
    unit, pos = loc
    near = _Near.of(unit, pos)
    if near is not None:
        unit = near
    h = _comment_hover(unit, pos)
    if h is not None:
        return h
    tok = token_at(unit.parse, pos)
    if tok is None:
        return None
    role = token_role(unit, tok)
    if role is None or not role.start <= pos <= role.end:
        return None  # e.g. the spaces a `direction` or `end` token carries
    text = _explain(unit, role, tok)
    if not text:
        return None
    return Hover(text, unit.to_host(TextRange(role.start, role.end)))


# --- comments -----------------------------------------------------------------------


def _comment_hover(unit, pos: int) -> Optional[Hover]:
    pre = unit.parse.pre
    if pre is None:
        return None
    for r in pre.removed:
        if r.kind != "comment" or not (r.start <= pos <= r.end):
            continue
        src = unit.parse.source
        body = src.find("%%", r.start, r.end)
        if body < 0:
            continue
        for m in _RULE_WORD.finditer(src, body + 2, r.end):
            if m.start() <= pos <= m.end():
                word = m.group(0)
                rule = BY_CODE.get(word.upper()) if re.fullmatch(r"[A-Za-z]\d{3}", word) else BY_NAME.get(word)
                if rule is None:
                    return None
                text = rule_documentation(rule.CODE)
                if text is None:
                    return None
                return Hover(text, unit.to_host(TextRange(m.start(), m.end())))
    return None


# --- explanations -------------------------------------------------------------------


def _explain(unit, role: Role, tok) -> str:
    d = unit.diagram
    w = role.what
    if w in ("entity", "alias"):
        e = d.entities.get(role.name)
        if e is None:
            if w == "entity":
                return f"**{_md(role.name)}**\n\nNo entity of this name exists at this point: Mermaid ignores the name here."
            return ""
        return _entity_markdown(d, e)
    if w == "subgraph":
        return _subgraph_markdown(d, role.name)
    if w == "card":
        return _card_markdown(role, tok, unit.parse.src[role.start : role.end])
    if w == "line":
        text = _IDENTIFYING if tok[0] == "IDENTIFYING" else _NON_IDENTIFYING
        rel = role.relationship
        if rel is not None:
            text += f"\n\n`{_code(_rel_statement(rel))}`:\n\n{_readings(rel)}"
        return text
    if w == "label":
        rel = role.relationship
        if rel is None:
            return ""
        kind = "identifying (solid line)" if rel.identifying else "non-identifying (dashed line)"
        return f"**relationship** `{_code(_rel_statement(rel))}` — {kind}\n\n{_readings(rel)}"
    if w == "key":
        text = _KEYS.get(role.name, "")
        a = role.attribute
        if text and a is not None:
            text += f"\n\nOn `{_code(a.entity)}.{_code(a.name)}` (`{_code(a.type)}`)."
        return text
    if w in ("attr_name", "attr_type", "attr_comment"):
        a = role.attribute
        if a is None:
            return ""
        return _attribute_markdown(d, a)
    if w == "keyword":
        return _KEYWORDS.get(role.name, "")
    if w == "class_name":
        return _class_markdown(d, role.name)
    return ""


def _entity_markdown(d, e) -> str:
    head = f"**{_md(e.name)}**"
    if e.alias:
        head += f" — alias “{_md(e.alias)}”"
    lines = [head, ""]
    if e.has_block:
        n = len(e.attributes)
        lines.append(f"Entity declared with a block ({n} attribute{'' if n == 1 else 's'}).")
    elif not e.implicit:
        lines.append("Entity declared by a statement, without an attribute block.")
    else:
        lines.append("Implicit entity: created by a relationship, never declared by an entity statement.")
    extra = []
    if e.classes:
        extra.append("classes: " + ", ".join(f"`{_code(c)}`" for c in e.classes))
    if e.styles:
        extra.append("styles: " + ", ".join(f"`{_code(s)}`" for s in e.styles))
    if extra:
        lines.append("")
        joined = "; ".join(extra)
        lines.append(joined[0].upper() + joined[1:] + ".")
    if e.attributes:
        lines += ["", "| type | name | keys | comment |", "| --- | --- | --- | --- |"]
        for a in e.attributes:
            lines.append(f"| {_cell(a.type)} | {_cell(a.name)} | {_cell(', '.join(a.keys))} | {_cell(a.comment or '')} |")
    rels = [r for r in d.relationships if r.left == e.name or r.right == e.name]
    if rels:
        lines += ["", "**Relationships**", ""]
        for r in rels[:50]:
            kind = "identifying, solid line" if r.identifying else "non-identifying, dashed line"
            lines.append(f"- `{_code(_rel_statement(r))}` ({kind})")
            for s in _reading_lines(r):
                lines.append(f"  - {s}")
        if len(rels) > 50:
            lines.append(f"- … and {len(rels) - 50} more")
    return "\n".join(lines)


def _rel_statement(rel) -> str:
    label = rel.label
    shown = label if label and re.fullmatch(r"[A-Za-z0-9_\-*.]+", label) else f'"{label}"'
    return f"{relationship_name(rel)} : {shown}"


def reading(rel) -> tuple[str, str]:
    """The relationship read both ways: ``(forward, reverse)``. The forward reading uses
    the label (``each CUSTOMER places zero or more ORDER``), the reverse one a generic
    verb (``each ORDER is related to exactly one CUSTOMER``)."""
    verb = rel.label.strip() if rel.label and rel.label.strip() else "is related to"
    fwd = f"each {rel.left} {verb} {CARDINALITY_WORDS.get(rel.right_cardinality, '?')} {rel.right}"
    rev = f"each {rel.right} is related to {CARDINALITY_WORDS.get(rel.left_cardinality, '?')} {rel.left}"
    return fwd, rev


def _reading_lines(rel) -> list[str]:
    return [_md(s) for s in reading(rel)]


def _readings(rel) -> str:
    return "\n".join(f"- {s}" for s in _reading_lines(rel))


def _card_markdown(role: Role, tok, written: str) -> str:
    card = _KIND_OF_CARD_TOKEN.get(tok[0])
    if card is None:
        return ""
    rel = role.relationship
    words = CARDINALITY_WORDS[card] if card != MD_PARENT else "parent"
    lines = [f"**{words}** (`{_code(written)}`): {_CARD_MEANING[card]}."]
    if rel is not None and role.side:
        if role.side == "left":
            this, other = rel.left, rel.right
            sentence = reading(rel)[1]
        else:
            this, other = rel.right, rel.left
            sentence = reading(rel)[0]
        lines += ["", f"It applies to **{_md(this)}**, the {role.side} side of `{_code(relationship_name(rel))}`: {_md(sentence)}."]
    elif role.side:
        lines += ["", f"It applies to the entity on the {role.side} side."]
    lines += ["", f"Also written: {_CARD_SPELLINGS[card]}."]
    return "\n".join(lines)


def _attribute_markdown(d, a) -> str:
    e = d.entities.get(a.entity)
    lines = [f"**{_md(a.entity)}.{_md(a.name)}** — attribute", "", f"- entity: {_md(a.entity)}" + (f" (“{_md(e.alias)}”)" if e is not None and e.alias else "")]
    lines.append(f"- type: `{_code(a.type)}`")
    if a.keys:
        names = {"PK": "primary key", "FK": "foreign key", "UK": "unique key"}
        lines.append("- keys: " + ", ".join(f"{k} ({names.get(k.upper(), k)})" for k in a.keys))
    else:
        lines.append("- keys: none")
    if a.comment:
        lines.append(f"- comment: {_md(a.comment)}")
    return "\n".join(lines)


def _subgraph_markdown(d, sid: str) -> str:
    sg = next((s for s in d.subgraphs if s.id == sid), None)
    if sg is None:
        return f"**subgraph** `{_code(sid)}`"
    head = f"**subgraph** `{_code(sg.id)}`"
    if sg.title and sg.title != sg.id:
        head += f" — “{_md(sg.title)}”"
    lines = [head, ""]
    if sg.nodes:
        lines.append("Members: " + ", ".join(_md(n) for n in sg.nodes) + ".")
    else:
        lines.append("No members.")
    if sg.direction:
        lines.append(f"\nDirection: `{sg.direction}`.")
    return "\n".join(lines)


def _class_markdown(d, name: str) -> str:
    c = d.classes.get(name)
    lines = [f"**class** `{_code(name)}`", ""]
    if c is None:
        lines.append("No `classDef` defines this class." if name != "default" else "The default class of every entity.")
    else:
        styles = ", ".join(f"`{_code(s)}`" for s in c.styles) or "no styles"
        lines.append(f"Defined by `classDef {_code(name)}`: {styles}.")
    users = [e.name for e in d.entities.values() if name in e.classes]
    if users:
        lines += ["", "Used by: " + ", ".join(_md(u) for u in users) + "."]
    return "\n".join(lines)


# --- Markdown escaping --------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*\[\]<|])")


def _md(text: str) -> str:
    """Escape text for inline Markdown (underscores are left alone: inside words they
    never emphasise)."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _code(text: str) -> str:
    """Text for inside single backticks."""
    return text.replace("`", "'").replace("\n", " ")


def _cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return _md(text)
