"""Rename: entity names, subgraph ids and attribute names, within one diagram.

Scope
-----
A rename changes the cursor's diagram only. Mermaid draws every diagram alone, so an
entity ``A`` of another diagram (or another document) is another entity, even though
*go to definition* may jump to it as a fallback; renaming it too would be a guess. (The
server can offer a wider rename later by calling :func:`rename` per diagram.)

What is rewritten
-----------------
* An entity (or subgraph id): every occurrence of the name in the diagram (see
  :mod:`erd_lsp.analysis.navigation`): entity statements, both relationship ends,
  subgraph headers, ``class`` and ``style`` id lists, and the ``entity`` part of
  ``entity.column`` label mentions. Aliases are left alone, and so are label mentions
  written with the alias. The new name is written with
  :func:`~erd_lsp.syntax.spell_entity_name` (bare when Mermaid reads it as one name,
  quoted otherwise); a name that was quoted stays quoted. Where a name can only be bare
  (a ``class`` or ``style`` id, a label mention) and the new name cannot be written bare
  there, the rename is refused with a message. The new name may be given quoted
  (``"Order Line"``); it cannot contain ``"`` or line breaks, be empty, or start or end
  with spaces. Keywords are fine as names once quoted (``"end"``).
* An attribute: its name in every block of its entity in the diagram and the ``column``
  part of every ``entity.column`` label mention. The new name must be one attribute word
  (Mermaid's block rule: ``[*A-Za-z_]`` or a character from U+00C0 first, then
  ``[A-Za-z0-9\\-_\\[\\]().,*]`` or from U+00C0; not ``PK``/``FK``/``UK``).

A new name that is already taken in the diagram (another entity, subgraph or alias; an
attribute of the same entity) is refused. Finally the edited diagram is parsed again and
must model the same diagram with only the name changed (and no new syntax errors);
otherwise the rename is refused rather than silently changing the diagram.

Everything is pure, host offsets in and out, and nothing raises: errors are returned as
strings (messages for the user).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

from erd_lsp.analysis import DiagramUnit, Document
from erd_lsp.analysis.navigation import (
    ATTRIBUTE,
    ENTITY,
    SUBGRAPH,
    TYPE,
    Occurrence,
    UnitIndex,
    _local_index,
    local_first,
    is_label_word,
    locate,
    index_of,
)
from erd_lsp.model import build
from erd_lsp.syntax import kinds as K
from erd_lsp.syntax import spell_entity_name
from erd_lsp.syntax.lexer import ATTR_WORD, BLOCK, INITIAL, lex
from erd_lsp.syntax.parser import parse as parse_diagram
from erd_lsp.syntax.reparse import _has_subgraphs, reparse
from erd_lsp.syntax.tree import Node, Parse
from erd_lsp.text import TextEdit, TextRange

__all__ = ["RenameResult", "prepare_rename", "rename", "check_entity_name", "check_attribute_name"]


@dataclass(frozen=True)
class RenameResult:
    """The edits of a rename, host offsets, sorted, not overlapping."""

    edits: tuple[TextEdit, ...]


# --- prepare --------------------------------------------------------------------------------------
def prepare_rename(doc: Document, offset: int) -> Union[TextRange, None, str]:
    """The host range of the name under the cursor that a rename would replace (without
    quotes; for an ``entity.column`` label mention only the part under the cursor), a
    message when the cursor is on something that cannot be renamed (a keyword, a
    cardinality, label text, a comment, a class name, ...), or None when there is nothing
    there (whitespace, punctuation, outside every diagram)."""
    try:
        r = local_first(_target, doc, offset)
        if isinstance(r, str) or r is None:
            return r
        unit, _idx, o = r
        return unit.to_host(o.inner)
    except Exception:
        return None


def _target(doc: Document, offset: int, local: bool = False):
    """``(unit, index, occurrence)`` under the cursor, or a message, or None. ``local``:
    right after an edit, the index read from the names summary when the diagram has one
    (it raises ``_Unanswered`` for what only the full index answers exactly)."""
    loc = locate(doc, offset)
    if loc is None:
        return None
    unit, d = loc
    idx = _local_index(unit) if local else index_of(unit)
    o = idx.at(d)
    if o is not None:
        if o.role == "alias":
            return f"`{o.written}` is the alias of `{o.name}`: rename the entity from its name, or edit the alias text"
        if o.via_alias:
            if o.space == ENTITY:
                return f"`{o.written}` names `{o.name}` through its alias: rename the entity from its name, or edit the alias"
        if o.space == TYPE:
            return f"`{o.name}` is an attribute type, not a name: only entity, attribute and subgraph names can be renamed"
        return unit, idx, o
    return _why_not(unit, d)


def _why_not(unit: DiagramUnit, d: int) -> Optional[str]:
    """Why the token under diagram offset ``d`` cannot be renamed (None: nothing there)."""
    best = None
    parse = unit.parse
    i = parse.item_index_at(d)
    for j in (i - 1, i):
        if j < 0 or j >= len(parse.items):
            continue
        item, base = parse.items[j], parse.starts[j]
        for tok, path in _walk(item, ()):
            s, e = base + tok[1], base + tok[2]
            if not (s <= d <= e) or s == e:
                continue
            rank = 0 if tok[0] in (K.WHITESPACE, K.NEWLINE) else (2 if s <= d < e else 1)
            if best is None or rank > best[0]:
                best = (rank, tok, s, e, path)
    if best is None or best[0] == 0:
        return None
    _, tok, s, e, path = best
    k = tok[0]
    text = unit.source[s:e]
    short = " ".join(text.split())
    if len(short) > 40:
        short = short[:37] + "..."
    kinds = [n.kind for n in path]
    if k in K.KEYWORD_SPELLING:
        return f"`{K.KEYWORD_SPELLING[k]}` is a keyword, not a name"
    if k in K.CARDINALITIES:
        return f"`{short}` is a cardinality, not a name"
    if k in K.REL_TYPES:
        return f"`{short}` is a relationship line, not a name"
    if k == K.ATTRIBUTE_KEY:
        return f"`{short}` is a key marker, not a name"
    if k == K.COMMENT_STRING:
        return "an attribute comment is free text, not a name"
    if k == K.COMMENT:
        return "a `%%` comment is not a name"
    if k == K.DIRECTIVE:
        return "a `%%{...}%%` directive is not a name"
    if k == K.FRONT_MATTER:
        return "the front matter is not part of the diagram's names"
    if k in (K.ACC_TITLE_VALUE, K.ACC_DESCR_VALUE, K.ACC_DESCR_MULTI_VALUE):
        return "accessibility text is free text, not a name"
    if k == K.CONFLICT_MARKER:
        return "a conflict marker is not a name"
    if K.LABEL in kinds:
        return "a relationship label is free text: only `entity.column` mentions in it can be renamed"
    if K.SUBGRAPH_TITLE in kinds:
        return "a subgraph title is free text, not a name"
    if K.STYLE_LIST in kinds:
        return f"`{short}` is a style declaration, not a name"
    if K.ID_LIST in kinds and (K.CLASS_LIST in kinds or K.CLASSDEF_STMT in kinds or K.CLASS_STMT in kinds):
        return f"`{short}` is a class name; renaming classes is not supported"
    return None


def _walk(node, path):
    if isinstance(node, Node):
        p = path + (node,)
        for c in node.children:
            yield from _walk(c, p)
    else:
        yield node, path


# --- name checks --------------------------------------------------------------------------------
_ATTR_WORD = re.compile(ATTR_WORD)


def _tokens(text: str, stack=(INITIAL,)) -> list[tuple[str, int, int]]:
    out = []
    for k, s, e, _st in lex(text, 0, stack):
        if k not in (K.WHITESPACE,):
            out.append((k, s, e))
        if len(out) > 8:
            break
    return out


def _unquote(new_name: str) -> str:
    if len(new_name) >= 2 and new_name[0] == '"' and new_name[-1] == '"':
        return new_name[1:-1]
    return new_name


def check_entity_name(name: str) -> Optional[str]:
    """Why ``name`` cannot be an entity name written in a statement or relationship (None
    when it can, possibly quoted)."""
    if not isinstance(name, str) or not name:
        return "a name cannot be empty"
    if not name.strip():
        return "a name cannot be only spaces"
    if '"' in name:
        return "an entity name cannot contain `\"`"
    if any(c in name for c in "\r\n\u2028\u2029"):
        return "an entity name cannot contain line breaks"
    if name != name.strip():
        return "an entity name cannot start or end with spaces"
    spelled = spell_entity_name(name)
    toks = _tokens(spelled + "\n")
    if not toks or toks[0][0] not in K.ENTITY_NAMES or toks[0][1:] != (0, len(spelled)):
        bad = "".join(sorted({c for c in name if c in "%\\\x0b\x08"}))
        why = f" (a quoted name cannot contain {', '.join('`' + repr(c)[1:-1] + '`' for c in bad)})" if bad else ""
        return f"`{name}` cannot be written as an entity name in Mermaid{why}"
    return None


def check_attribute_name(name: str) -> Optional[str]:
    """Why ``name`` cannot be an attribute name (None when it can)."""
    if not isinstance(name, str) or not name:
        return "a name cannot be empty"
    if name.lower() in ("pk", "fk", "uk"):
        return f"`{name}` is a key marker (`PK`, `FK`, `UK`) and cannot be an attribute name"
    if not _ATTR_WORD.fullmatch(name):
        return (
            f"`{name}` is not an attribute name: it must start with a letter, `_` or `*` and go on with "
            "letters, digits or `-_[]().,*` (no spaces or quotes)"
        )
    toks = _tokens(name + "\n", (INITIAL, BLOCK))
    if not toks or toks[0][0] != K.ATTRIBUTE_WORD or toks[0][1:] != (0, len(name)):
        return f"`{name}` is not read as one attribute name by Mermaid (a key marker `PK`/`FK`/`UK` at its start?)"
    return None


def _class_id_ok(name: str) -> bool:
    pre = "class "
    toks = _tokens(pre + name + " x\n")
    return len(toks) >= 2 and toks[1] == (K.UNICODE_TEXT, len(pre), len(pre) + len(name))


def _style_id_ok(name: str) -> bool:
    pre = "style "
    toks = _tokens(pre + name + " fill:#fff\n")
    return len(toks) >= 2 and toks[1][0] in (K.STYLE_TEXT, K.UNICODE_TEXT) and toks[1][1:] == (len(pre), len(pre) + len(name))


def _bare_label_ok(text: str) -> bool:
    toks = _tokens(text + "\n")
    return bool(toks) and toks[0] == (K.UNICODE_TEXT, 0, len(text))


# --- rename ---------------------------------------------------------------------------------------
def rename(doc: Document, offset: int, new_name: str) -> Union[RenameResult, str]:
    """Rename the symbol under the cursor in its diagram (see the module docstring).
    Returns the edits (host offsets) or a message saying why not."""
    try:
        return local_first(_rename, doc, offset, new_name)
    except Exception as e:  # pragma: no cover - a bug must not take the server down
        return f"rename failed: {e!r}"


def _rename(doc: Document, offset: int, new_name: str, local: bool) -> Union[RenameResult, str]:
    t = _target(doc, offset, local)
    if t is None:
        return "there is no name to rename here"
    if isinstance(t, str):
        return t
    if not isinstance(new_name, str):
        return "the new name must be text"
    unit, idx, o = t
    if o.space == ATTRIBUTE:
        return _rename_attribute(unit, idx, o.entity or "", o.name, new_name)
    return _rename_entity(unit, idx, o, new_name)


def _line(unit: DiagramUnit, offset: int) -> int:
    return unit.line_of(offset) + 1


def _rename_entity(unit: DiagramUnit, idx: UnitIndex, o: Occurrence, new_name: str) -> Union[RenameResult, str]:
    old = o.name
    what = "subgraph" if idx.entity_kind(old, o.role) == SUBGRAPH else "entity"
    new = _unquote(new_name)
    err = check_entity_name(new)
    if err:
        return err
    if new == old:
        return RenameResult(())
    if idx.names_something(new):
        return f"`{new}` already names an entity or subgraph in this diagram"
    owner = idx.alias_owner(new)
    if owner is not None:
        return f"`{new}` is already the alias of `{owner}` in this diagram"
    spelled = spell_entity_name(new)
    edits: list[tuple[TextRange, str]] = []
    labels: dict[TextRange, list] = {}
    for x in idx.entity_occurrences(old):
        if x.role in ("statement", "relationship", "subgraph"):
            text = '"' + new + '"' if x.token == K.ENTITY_NAME else spelled
            edits.append((x.range, text))
        elif x.role == "class":
            if not _class_id_ok(new):
                return (
                    f"`{new}` cannot be written in the `class` statement on line {_line(unit, x.range.start)}: "
                    "a `class` id list takes bare names only (no quotes, spaces or punctuation)"
                )
            edits.append((x.range, new))
        elif x.role == "style":
            if not _style_id_ok(new):
                return (
                    f"`{new}` cannot be written in the `style` statement on line {_line(unit, x.range.start)}: "
                    "a `style` id is a bare name of letters, digits, `_`, `-` or `*` (no `.`, spaces or quotes)"
                )
            edits.append((x.range, new))
        elif x.role == "label":
            if x.via_alias:
                continue
            if not is_label_word(new):
                return (
                    f"`{new}` cannot be written in the label mention `{x.written}.{x.column}` on line "
                    f"{_line(unit, x.range.start)}: an `entity.column` mention needs a name of letters, digits "
                    "and `_` (with `.` or `-` only between them)"
                )
            labels.setdefault(x.label, []).append((x, new))
    err = _label_edits(unit, labels, edits)
    if err:
        return err
    return _finish(unit, idx, edits, {old: new}, {}, what, new)


def _rename_attribute(unit: DiagramUnit, idx: UnitIndex, entity: str, old: str, new: str) -> Union[RenameResult, str]:
    err = check_attribute_name(new)
    if err:
        return err
    if new == old:
        return RenameResult(())
    if new in idx.attributes_of(entity):
        return f"`{entity}` already has an attribute `{new}`"
    edits: list[tuple[TextRange, str]] = []
    labels: dict[TextRange, list] = {}
    for x in idx.attribute_occurrences(entity, old):
        if x.role == "label":
            if not is_label_word(new):
                return (
                    f"`{new}` cannot be written in the label mention `{x.written}.{old}` on line "
                    f"{_line(unit, x.range.start)}: an `entity.column` mention needs a name of letters, digits "
                    "and `_` (with `.` or `-` only between them)"
                )
            labels.setdefault(x.label, []).append((x, new))
        else:
            edits.append((x.range, new))
    err = _label_edits(unit, labels, edits)
    if err:
        return err
    return _finish(unit, idx, edits, {}, {(entity, old): new}, "attribute", new)


def _label_edits(unit: DiagramUnit, labels: dict, edits: list) -> Optional[str]:
    """Edits for label mentions: piece by piece in a quoted label; a bare label is
    rewritten whole (and quoted when the new text is no longer one bare word)."""
    src = unit.source
    for label, parts in labels.items():
        quoted = parts[0][0].label_quoted
        if quoted:
            for x, text in parts:
                edits.append((x.range, text))
            continue
        parts = sorted(parts, key=lambda p: p[0].range.start)
        out = []
        pos = label.start
        for x, text in parts:
            out.append(src[pos : x.range.start])
            out.append(text)
            pos = x.range.end
        out.append(src[pos : label.end])
        new_label = "".join(out)
        if not _bare_label_ok(new_label):
            if '"' in new_label:
                return f"the label on line {_line(unit, label.start)} cannot be rewritten"
            new_label = '"' + new_label + '"'
        edits.append((label, new_label))
    return None


def _finish(unit, idx, edits, ent_map, attr_map, what, new) -> Union[RenameResult, str]:
    edits = sorted(edits, key=lambda e: (e[0].start, e[0].end))
    for (a, _), (b, _) in zip(edits, edits[1:]):
        if b.start < a.end:  # pragma: no cover - occurrences never overlap
            return "rename failed: overlapping edits"
    problem = _verify(unit, idx, edits, ent_map, attr_map)
    if problem:
        return f"renaming the {what} to `{new}` would change how Mermaid reads the diagram ({problem}); rename refused"
    return RenameResult(tuple(TextEdit(unit.to_host(r), t) for r, t in edits))


# --- verification -----------------------------------------------------------------------------------
def _view(diagram, ent_map: dict, attr_map: dict):
    E = lambda n: ent_map.get(n, n)  # noqa: E731
    entities = [
        (
            E(e.name),
            e.alias,
            e.implicit,
            tuple((a.type, attr_map.get((e.name, a.name), a.name), a.keys, a.comment) for a in e.attributes),
            e.classes,
            e.styles,
        )
        for e in diagram.entities.values()
    ]
    rels = [(E(r.left), E(r.right), r.left_cardinality, r.right_cardinality, r.identifying) for r in diagram.relationships]
    classes = sorted((n, c.styles, c.text_styles) for n, c in diagram.classes.items())
    subgraphs = [(E(s.id), tuple(E(n) for n in s.nodes), s.direction, s.classes, s.styles) for s in diagram.subgraphs]
    return entities, rels, classes, diagram.direction, diagram.acc_title, diagram.acc_descr, subgraphs, diagram.title


def _mentions(idx: UnitIndex, ent_map: dict, attr_map: dict) -> list:
    out = []
    for o in idx.label_mentions():
        out.append((ent_map.get(o.name, o.name), attr_map.get((o.name, o.column), o.column), o.via_alias))
    return out


class _Unit:
    """Just enough of a DiagramUnit to index a re-parsed diagram."""

    def __init__(self, parse, index: int = 0) -> None:
        self.parse = parse
        self.index = index
        self.diagram = build(parse)

    @property
    def source(self) -> str:
        return self.parse.source


def _verify(unit: DiagramUnit, idx: UnitIndex, edits, ent_map: dict, attr_map: dict) -> Optional[str]:
    """Why the edited diagram would not be the same diagram with only the name changed
    (None: it would be)."""
    local = _verify_local(unit, edits, ent_map, attr_map)
    if local is not None:
        return local or None
    return _verify_whole(unit, index_of(unit), edits, ent_map, attr_map)


# statements a rename may touch whose meaning a model of just the touched statements shows
_LOCAL_KINDS = frozenset({K.ENTITY_STMT, K.REL_STMT, K.CLASS_STMT, K.STYLE_STMT})


def _verify_local(unit: DiagramUnit, edits, ent_map: dict, attr_map: dict) -> Optional[str]:
    """The verification from the statements the edits touch: the edits are applied by
    incremental reparses (each parses again only the statements around its name), and
    the statements that changed must pair up with the ones they replace, kind for kind,
    and model (with their label mentions) as those did with only the name changed.
    Every other statement is the same object as before and names neither the old name
    (all its occurrences are edited) nor the new one (refused earlier), so the whole
    model is then the old one renamed. '' when that holds, the problem when not, None
    when it cannot be shown this way (subgraphs, whose members span statements; any
    other kind of statement touched; an edit the reparse took whole): the caller then
    parses and models the whole edited diagram."""
    old = unit.parse
    if old.final_subgraphs or _has_subgraphs(old) or not edits:
        return None
    p = old
    for r, t in reversed(edits):
        p = reparse(p, TextEdit(r, t))
        if p.window is None:
            return None
    if len(p.errors) + len(p.global_errors) > len(old.errors) + len(old.global_errors):
        return "it introduces a syntax error"
    # the statements (trivia tokens are shared between parses, and model nothing)
    kept = set(map(id, old.items))
    new_items = [(x, b) for x, b in zip(p.items, p.starts) if id(x) not in kept and x.__class__ is not tuple]
    kept = set(map(id, p.items))
    old_items = [(x, b) for x, b in zip(old.items, old.starts) if id(x) not in kept and x.__class__ is not tuple]
    if [x.kind for x, _ in new_items] != [x.kind for x, _ in old_items]:
        return "the statements would be read differently"
    if any(x.kind not in _LOCAL_KINDS for x, _ in new_items):
        return None
    before = _Unit(_part(old, old_items), unit.index)
    after = _Unit(_part(p, new_items), unit.index)
    if _view(after.diagram, {}, {}) != _view(before.diagram, ent_map, attr_map):
        return "the entities, attributes or relationships would differ"
    if _mentions(UnitIndex(after), {}, {}) != _mentions(UnitIndex(before), ent_map, attr_map):  # type: ignore[arg-type]
        return "the `entity.column` label mentions would be read differently"
    return ""


def _part(parse, items: list):
    """A parse of just ``items`` (``(item, start)``) over the source of ``parse``."""
    return Parse(src=parse.src, items=[x for x, _ in items], starts=[b for _, b in items], pre=parse.pre)


def _verify_whole(unit: DiagramUnit, idx: UnitIndex, edits, ent_map: dict, attr_map: dict) -> Optional[str]:
    src = unit.source
    parts = []
    pos = 0
    for r, t in edits:
        parts.append(src[pos : r.start])
        parts.append(t)
        pos = r.end
    parts.append(src[pos:])
    new_src = "".join(parts)
    p = parse_diagram(new_src, browser_trim=unit.block.browser_trim)
    old_errors = len(unit.parse.errors) + len(unit.parse.global_errors)
    if len(p.errors) + len(p.global_errors) > old_errors:
        return "it introduces a syntax error"
    new_unit = _Unit(p, unit.index)
    if _view(new_unit.diagram, {}, {}) != _view(unit.diagram, ent_map, attr_map):
        return "the entities, attributes or relationships would differ"
    new_idx = UnitIndex(new_unit)  # type: ignore[arg-type]
    if _mentions(new_idx, {}, {}) != _mentions(idx, ent_map, attr_map):
        return "the `entity.column` label mentions would be read differently"
    return None
