"""The formatter: one canonical layout for ER diagrams (``erd-lsp format``, LSP formatting).

The layout::

    ---                                    front matter, directives: as written
    title: Orders
    ---
    erDiagram
        direction LR                       4 spaces per level, one statement per line
        %% the customers                   comments stay where they are
        CUSTOMER["Customer"]:::vip {
            string   name     PK     "the name"      attributes in aligned columns:
            string?  nickname UK, FK                 type, name, keys, comment
        }
        CUSTOMER ||--o{ ORDER : places     single spaces around the relationship and `:`
                                           a run of blank lines becomes one
        subgraph billing [Billing area]
            INVOICE }|..|| ORDER : bills   subgraph bodies one level deeper
        end
        style INVOICE fill:#eee

Names, labels, types, keys and comments are kept exactly as written (quoted or not); only
the whitespace between them changes, and only where Mermaid's lexer ignores it. The
formatter refuses diagrams with syntax errors (like ruff, it does not format broken
code), and it checks its own work: the result is parsed again and must give the same
model (:func:`erd_lsp.analysis.export.diagram_model` and ``diagram_extras``) with no
error, or the diagram is left alone. Formatting is idempotent.

Statements the formatter has no canonical form for (a multi-line ``accDescr { ... }``, a
statement with a ``%%`` comment inside it) are kept as written, re-indented on their
first line.

Pure: no I/O, never raises (a bug yields "not formatted", not an exception).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Optional

from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.fastpath import FastNode
from erd_lsp.syntax.tree import Node
from erd_lsp.text import TextEdit, TextRange

__all__ = [
    "INDENT",
    "FormatResult",
    "DiagramFormat",
    "format_diagram",
    "format_source",
    "format_parse",
    "format_document",
    "format_document_report",
    "format_range",
]

INDENT = "    "

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SKIP = frozenset({K.WHITESPACE, K.NEWLINE, K.COMMENT, K.DIRECTIVE, K.FRONT_MATTER, K.EOF, K.END_OF_INPUT})


class _Refuse(Exception):
    """A construct the formatter will not touch (internal: becomes FormatResult.error)."""


@dataclass(frozen=True)
class Element:
    """One top-level element of the output: its source span and its output lines."""

    start: int
    end: int
    first_line: int  # index of its first line in the output
    last_line: int  # index of its last line (inclusive)


@dataclass(frozen=True)
class FormatResult:
    """The formatted diagram (None when it was not formatted, with the reason)."""

    text: Optional[str]
    error: Optional[str] = None
    elements: tuple = ()  # Element, ... (top level, in order)
    newline: str = "\n"

    @property
    def ok(self) -> bool:
        return self.text is not None


# ---------------------------------------------------------------------------
# entry points


def format_diagram(source: str, *, browser_trim: bool = False) -> Optional[str]:
    """The canonical form of one diagram's source, or None when it has syntax errors
    (or cannot be formatted without changing its model)."""
    return format_source(source, browser_trim=browser_trim).text


def format_source(source: str, *, browser_trim: bool = False) -> FormatResult:
    from erd_lsp.syntax.parser import parse

    return format_parse(parse(source, browser_trim=browser_trim))


def format_parse(parse, diagram=None) -> FormatResult:
    """Format a parsed diagram (see the module docstring); ``diagram`` is its model when
    the caller has it already (it is built otherwise)."""
    if parse.errors or getattr(parse, "internal_error", False) or parse.pre is None:
        n = len(parse.errors)
        return FormatResult(None, f"the diagram has {n} syntax error{'s' if n != 1 else ''}" if n else "the diagram could not be read")
    try:
        f = _Formatter(parse)
        text, elements = f.run()
    except _Refuse as e:
        return FormatResult(None, str(e))
    except Exception as e:  # pragma: no cover - a formatter bug must not take a caller down
        return FormatResult(None, f"internal error in the formatter ({type(e).__name__}: {e}); please report it")
    problem = _verify(parse, text, diagram)
    if problem is not None:
        return FormatResult(None, problem)
    return FormatResult(text, None, tuple(elements), f.nl)


def _model_key(parse, diagram=None):
    """What Mermaid records of a diagram, to compare (see ``export``)."""
    from erd_lsp.analysis.export import diagram_extras, model_facts
    from erd_lsp.model import build

    d = diagram if diagram is not None else build(parse)
    return model_facts(d), diagram_extras(d), d.title


def _verify(parse, text: str, diagram=None) -> Optional[str]:
    from erd_lsp.syntax.parser import parse as parse_text

    again = parse_text(text, browser_trim=parse.pre.browser_trim)
    if again.errors:
        return "the canonical layout would change how Mermaid reads this diagram (it would no longer parse), so it was left as it is; please report it"
    if _model_key(again) != _model_key(parse, diagram):
        return "the canonical layout would change this diagram's model, so it was left as it is; please report it"
    return None


# ---------------------------------------------------------------------------
# the formatter


def _width(s: str) -> int:
    """Columns ``s`` takes in a monospace editor (wide East Asian characters two,
    combining marks none)."""
    if s.isascii():
        return len(s)
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def _pad(s: str, width: int) -> str:
    return s + " " * max(0, width - _width(s))


@dataclass
class _El:
    start: int
    end: int
    kind: str  # "stmt" | "comment" | "directive" | "front_matter"
    node: Optional[Node] = None
    base: int = 0
    text: str = ""
    extras: list = field(default_factory=list)  # comments/directives inside (block or verbatim)


class _Formatter:
    def __init__(self, parse) -> None:
        self.depth = 0
        self.parse = parse
        self.src = parse.source
        self.pre = parse.pre
        self.nl = "\r\n" if "\r\n" in self.src else "\n"

    # -- tokens --------------------------------------------------------------------------
    def toks(self, node: Node, base: int):
        for k, s, e in node.tokens():
            yield k, base + s, base + e

    def sig(self, node: Node, base: int):
        return [t for t in self.toks(node, base) if t[0] not in _SKIP]

    def text(self, t) -> str:
        return self.src[t[1] : t[2]]

    # -- elements ------------------------------------------------------------------------
    def statement_span(self, node: Node, base: int) -> tuple[int, int]:
        if node.__class__ is FastNode:
            # its text runs from its first significant token to its last (the name or
            # the left entity; the `}`, the name or the label)
            return base, base + len(node.text)
        toks = self.sig(node, base)
        if not toks:
            raise _Refuse("an empty statement")
        k0, s0, e0 = toks[0]
        start = s0
        if k0 == K.DIRECTION:
            raw = self.src[s0:e0]
            start = s0 + len(raw) - len(raw.lstrip())
        k1, s1, e1 = toks[-1]
        end = e1
        if k1 == K.END:
            end = s1 + 3
        elif k1 in (K.DIRECTION, K.ACC_TITLE_VALUE, K.ACC_DESCR_VALUE, K.ACC_DESCR_MULTI_VALUE):
            raw = self.src[s1:e1]
            end = s1 + len(raw.rstrip())
        if k1 == K.STYLE_TEXT or node.kind in (K.STYLE_STMT, K.CLASSDEF_STMT):
            # a `;` that Mermaid's preprocessing removes belongs to its style line
            for r in self.pre.removed:
                if r.kind == "style_semicolon" and r.start >= end and self.src[end : r.start].strip(" \t") == "":
                    end = r.end
                    break
        return start, end

    def extras(self) -> list[_El]:
        out = []
        src = self.src
        comments = [(r.start, r.end) for r in self.pre.removed if r.kind == "comment"]
        for r in self.pre.removed:
            if r.kind == "directive" and any(a <= r.start and r.end <= b for a, b in comments):
                continue  # a directive inside a comment line: the comment's text holds it
            if r.kind == "comment":
                at = src.find("%%", r.start, r.end)
                if at < 0:
                    continue
                end = r.end
                while end > at and src[end - 1] in "\r\n":
                    end -= 1
                text = src[at:end].rstrip()
                if len(text) <= 2:
                    # `%%` and spaces: Mermaid needs a character after `%%` for a comment
                    text = src[at:end]
                out.append(_El(at, at + len(text), "comment", text=text))
            elif r.kind == "directive":
                text = src[r.start : r.end]
                s = r.start + len(text) - len(text.lstrip())
                out.append(_El(s, s + len(text.strip()), "directive", text=text.strip()))
            elif r.kind == "front_matter":
                text = src[r.start : r.end]
                stripped = text.rstrip("\r\n")
                out.append(_El(r.start, r.start + len(stripped), "front_matter", text=stripped))
        return out

    def elements(self) -> list[_El]:
        stmts = []
        for item, base in zip(self.parse.items, self.parse.starts):
            if not isinstance(item, Node):
                k = item[0]
                if k not in _SKIP and k != K.REMOVED_SEMI:
                    raise _Refuse(f"unexpected {k} outside a statement")
                continue
            if item.kind == K.EOF_ITEM:
                continue
            s, e = self.statement_span(item, base)
            stmts.append(_El(s, e, "stmt", node=item, base=base))
        top = list(stmts)
        starts = [st.start for st in stmts]
        for x in self.extras():
            i = bisect_left(starts, x.start) - 1  # the last statement starting before it
            owner = stmts[i] if i >= 0 and stmts[i].start < x.start < stmts[i].end else None
            if owner is None:
                top.append(x)
            else:
                owner.extras.append(x)
        top.sort(key=lambda el: (el.start, el.end))
        # every character outside the elements must be whitespace Mermaid ignores
        pos = 0
        for el in top:
            gap = self.src[pos : el.start]
            if pos < el.start and gap.replace("\ufeff", "").strip() and not all(r.kind == "style_semicolon" for r in self._removed_in(pos, el.start)):
                raise _Refuse(f"text the formatter does not place: {gap.strip()[:20]!r}")
            pos = max(pos, el.end)
        return top

    def _removed_in(self, a: int, b: int):
        return [r for r in self.pre.removed if a <= r.start < b]

    # -- layout --------------------------------------------------------------------------
    def breaks(self, a: int, b: int) -> int:
        """Line breaks in the source between two offsets."""
        if b <= a:
            return 0
        return len(_LINE_BREAK.findall(self.src, a, b))

    def run(self) -> tuple[str, list[Element]]:
        lines: list[str] = []
        elements: list[Element] = []
        depth = 0
        prev: Optional[_El] = None
        prev_opens = True
        for el in self.elements():
            kind = el.node.kind if el.kind == "stmt" else el.kind
            if kind == K.SUBGRAPH_END:
                depth = max(1, depth - 1)
            if prev is not None and not prev_opens and kind != K.SUBGRAPH_END and self.breaks(prev.end, el.start) >= 2:
                lines.append("")
            first = len(lines)
            lines.extend(self.render(el, depth))
            elements.append(Element(el.start, el.end, first, len(lines) - 1))
            prev_opens = kind in (K.HEADER, K.SUBGRAPH_START)
            if kind == K.HEADER:
                depth = 1
            elif kind == K.SUBGRAPH_START:
                depth += 1
            prev = el
        bom = "\ufeff" if self.src.startswith("\ufeff") and not (lines and lines[0].startswith("\ufeff")) else ""
        return bom + self.nl.join(lines) + self.nl, elements

    def render(self, el: _El, depth: int) -> list[str]:
        """The element's output lines, indented for ``depth``. Lines that continue a
        token across a line break (a quoted string, a kept-as-written statement) are
        left as they are."""
        indent = INDENT * depth
        if el.kind != "stmt":
            body = _LINE_BREAK.split(el.text)
        elif el.extras and not self._block_only_extras(el):
            body = self.verbatim(el)
        else:
            method = getattr(self, "r_" + el.node.kind.lower(), None)
            self.depth = depth
            body = method(el) if method is not None else None
            if body is None:
                body = self.verbatim(el)
        return [indent + body[0], *body[1:]]

    def _block_only_extras(self, el: _El) -> bool:
        if el.node.__class__ is FastNode:
            return False  # (the fast path takes no statement with removed text inside)
        block = el.node.node(K.ATTR_BLOCK)
        if block is None:
            return False
        b0, b1 = el.base + block.start, el.base + block.end
        attrs = [(el.base + a.start, el.base + a.end) for a in block.nodes(K.ATTRIBUTE)]
        for x in el.extras:
            if not (b0 < x.start and x.end < b1):
                return False
            if any(s <= x.start < e for s, e in attrs):
                return False
        return True

    def verbatim(self, el: _El) -> list[str]:
        return _LINE_BREAK.split(self.src[el.start : el.end])

    # -- statements ----------------------------------------------------------------------
    def joined(self, toks) -> str:
        """Tokens with the whitespace between them kept as one space where there was any."""
        out = []
        prev_end = None
        for k, s, e in toks:
            if prev_end is not None and s > prev_end:
                out.append(" ")
            out.append(self.src[s:e])
            prev_end = e
        return "".join(out)

    def ref(self, node: Node, base: int) -> str:
        toks = self.sig(node, base)
        if len(toks) != 1:
            raise _Refuse("an entity reference of several tokens")
        return self.text(toks[0])

    def class_list(self, node: Node, base: int) -> str:
        ids = node.node(K.ID_LIST)
        names = [self.text(t) for t in self.sig(ids, base) if t[0] != K.COMMA] if ids is not None else []
        return ":::" + ",".join(names)

    def id_list(self, node: Node, base: int) -> str:
        return ",".join(self.text(t) for t in self.sig(node, base) if t[0] != K.COMMA)

    def r_header(self, el: _El) -> list[str]:
        toks = self.sig(el.node, el.base)
        return [self.text(toks[0])]

    def r_direction_stmt(self, el: _El) -> list[str]:
        return [self.src[el.start : el.end]]

    def r_acc_title_stmt(self, el: _El) -> Optional[list[str]]:
        return self._acc(el, K.ACC_TITLE, K.ACC_TITLE_VALUE)

    def r_acc_descr_stmt(self, el: _El) -> Optional[list[str]]:
        toks = self.sig(el.node, el.base)
        if toks and toks[0][0] == K.ACC_DESCR_OPEN:
            return self._acc_descr_block(toks)
        return self._acc(el, K.ACC_DESCR, K.ACC_DESCR_VALUE)

    def _acc_descr_block(self, toks) -> Optional[list[str]]:
        """``accDescr {`` on its line, the description's lines one level deeper, ``}``.
        Mermaid strips the description and the indentation after each line break (and
        blank lines), so only those change. Inside a subgraph Mermaid also records the
        raw text as a member, so there it is kept as written."""
        if self.depth != 1 or len(toks) != 3 or toks[1][0] != K.ACC_DESCR_MULTI_VALUE or toks[2][0] != K.ACC_DESCR_CLOSE:
            return None
        m = re.match(r"[A-Za-z]+", self.text(toks[0]))
        value = self.text(toks[1]).strip()
        if m is None or not value:
            return None
        pad = INDENT * (self.depth + 1)
        body = [pad + line.lstrip() for line in _LINE_BREAK.split(value) if line.strip()]
        return [f"{m.group()} {{", *body, INDENT * self.depth + "}"]

    def _acc(self, el: _El, kw_kind: str, value_kind: str) -> Optional[list[str]]:
        toks = self.sig(el.node, el.base)
        if len(toks) != 2 or toks[0][0] != kw_kind or toks[1][0] != value_kind:
            return None
        value = self.text(toks[1]).strip()
        m = re.match(r"[A-Za-z]+", self.text(toks[0]))
        if not value or m is None or "\n" in self.text(toks[0]) or "\r" in self.text(toks[0]):
            return None
        return [f"{m.group()}: {value}"]

    def r_subgraph_start(self, el: _El) -> Optional[list[str]]:
        node, base = el.node, el.base
        kw = next(node.child_tokens({K.SUBGRAPH}), None)
        ref = node.node(K.ENTITY_REF)
        if kw is None or ref is None:
            return None
        line = f"{self.src[base + kw[1] : base + kw[2]]} {self.ref(ref, base)}"
        title = node.node(K.SUBGRAPH_TITLE)
        if title is not None:
            words = [self.text(t) for t in self.sig(title, base) if t[0] not in (K.SQS, K.SQE)]
            line += " [" + " ".join(words) + "]"
        return [line]

    def r_subgraph_end(self, el: _El) -> list[str]:
        return [self.src[el.start : el.end]]

    def r_class_stmt(self, el: _El) -> Optional[list[str]]:
        node, base = el.node, el.base
        lists = list(node.nodes(K.ID_LIST))
        kw = next(node.child_tokens({K.CLASS}), None)
        if kw is None or len(lists) != 2:
            return None
        return [f"{self.src[base + kw[1] : base + kw[2]]} {self.id_list(lists[0], base)} {self.id_list(lists[1], base)}"]

    def r_style_stmt(self, el: _El) -> Optional[list[str]]:
        return self._style(el)

    def r_classdef_stmt(self, el: _El) -> Optional[list[str]]:
        return self._style(el)

    def _style(self, el: _El) -> Optional[list[str]]:
        node, base = el.node, el.base
        kw = next(node.child_tokens({K.STYLE, K.CLASSDEF}), None)
        ids = node.node(K.ID_LIST)
        styles = node.node(K.STYLE_LIST)
        if kw is None or ids is None or styles is None:
            return None
        decls = [self.joined(self.sig(d, base)) for d in styles.nodes(K.STYLE_DECL)]
        line = f"{self.src[base + kw[1] : base + kw[2]]} {self.id_list(ids, base)} {','.join(decls)}"
        # a `;` at the end (kept by the lexer, or removed by Mermaid's preprocessing)
        tail = [t for t in self.sig(node, base) if t[2] > base + styles.end]
        semis = [t for t in tail if t[0] == K.SEMI]
        if len(tail) != len(semis) or len(semis) > 1:
            return None
        after = base + styles.end
        if semis:
            line += (" " if semis[0][1] > after else "") + ";"
            after = semis[0][2]
        if el.end > after:
            rest = self.src[after : el.end]
            if rest.strip() != ";":
                return None
            line += (" " if rest[0] in " \t" else "") + ";"
        return [line]

    def r_rel_stmt(self, el: _El) -> Optional[list[str]]:
        node, base = el.node, el.base
        if node.__class__ is FastNode:
            return [_fast_relationship(node)]
        refs = list(node.nodes(K.ENTITY_REF))
        spec = node.node(K.REL_SPEC)
        label = node.node(K.LABEL)
        if len(refs) != 2 or spec is None or label is None:
            return None
        left = self.ref(refs[0], base)
        right = self.ref(refs[1], base)
        for cl in node.nodes(K.CLASS_LIST):
            if cl.start < spec.start:
                left += self.class_list(cl, base)
            else:
                right += self.class_list(cl, base)
        lab = self.sig(label, base)
        if len(lab) != 1:
            return None
        return [f"{left} {self.joined(self.sig(spec, base))} {right} : {self.text(lab[0])}"]

    def r_entity_stmt(self, el: _El) -> Optional[list[str]]:
        node, base = el.node, el.base
        if node.__class__ is FastNode:
            (_, name_end), block, attrs = node.fast
            head = node.text[:name_end]
            if block is None:
                return [head]
            return [head + " {", *self._lines(el, _fast_cells(node, base)), INDENT * self.depth + "}"]
        ref = node.node(K.ENTITY_REF)
        if ref is None:
            return None
        head = self.ref(ref, base)
        alias = node.node(K.ALIAS)
        if alias is not None:
            inner = [t for t in self.sig(alias, base) if t[0] not in (K.SQS, K.SQE)]
            if len(inner) != 1:
                return None
            head += "[" + self.text(inner[0]) + "]"
        cl = node.node(K.CLASS_LIST)
        if cl is not None:
            head += self.class_list(cl, base)
        block = node.node(K.ATTR_BLOCK)
        if block is None:
            return [head]
        return [head + " {", *self.block_lines(el, block), INDENT * self.depth + "}"]

    # -- attribute blocks ----------------------------------------------------------------
    def column(self, node: Optional[Node], base: int, sep: str = "") -> str:
        if node is None:
            return ""
        parts = []
        for k, s, e in self.sig(node, base):
            if k == K.BACKTICK:
                continue
            t = self.src[s:e]
            if k == K.ATTRIBUTE_WORD and s > 0 and self.src[s - 1] == "`" and self.src[e : e + 1] == "`":
                t = "`" + t + "`"
            if k == K.CHAR and t == ",":
                continue
            parts.append(t)
        return sep.join(parts)

    def block_lines(self, el: _El, block: Node) -> list[str]:
        base = el.base
        items = []  # (start, end, cells or None, text)
        for a in block.nodes(K.ATTRIBUTE):
            t = self.column(a.node(K.ATTR_TYPE), base)
            n = self.column(a.node(K.ATTR_NAME), base)
            keys = self.column(a.node(K.KEY_LIST), base, ", ")
            comment = self.column(a.node(K.ATTR_COMMENT), base)
            start = base + a.start
            if start > 0 and self.src[start - 1] == "`":
                start -= 1
            items.append((start, base + a.end, (t, n, keys, comment), ""))
        return self._lines(el, items)

    def _lines(self, el: _El, items: list) -> list[str]:
        """The lines of a block's attributes (``(start, end, cells, "")``) and of the
        comments inside it, aligned in columns."""
        for x in el.extras:
            items.append((x.start, x.end, None, x.text))
        items.sort(key=lambda i: i[0])
        cells = [i[2] for i in items if i[2] is not None]
        widths = [max((_width(c[j]) for c in cells), default=0) for j in range(4)]
        lines = []
        prev_end = None
        pad = INDENT * (self.depth + 1)
        for start, end, row, text in items:
            if prev_end is not None and self.breaks(prev_end, start) >= 2:
                lines.append("")
            if row is None:
                parts = _LINE_BREAK.split(text)
                lines.append(pad + parts[0])
                lines.extend(parts[1:])
            else:
                cols = []
                for j in range(4):
                    if widths[j] == 0:
                        continue
                    cols.append(_pad(row[j], widths[j]) if j < 3 else row[j])
                line = " ".join(cols).rstrip()
                first, *rest = _LINE_BREAK.split(line)
                lines.append(pad + first)
                lines.extend(rest)
            prev_end = end
        return lines



def _fast_relationship(node: FastNode) -> str:
    """A relationship the parser's fast path took, in the canonical layout, from the
    spans it recorded (what ``r_rel_stmt`` makes of its tokens: bare names, the
    cardinalities and line joined as written, with one space where there was any, and a
    one-token label)."""
    text = node.text
    r = node.fast[0]
    spec = text[r[6] : r[7]] + (" " if r[10] > r[7] else "") + text[r[10] : r[11]]
    spec += (" " if r[8] > r[11] else "") + text[r[8] : r[9]]
    return f"{text[r[2] : r[3]]} {spec} {text[r[4] : r[5]]} : {text[r[12] : r[13]]}"


def _fast_cells(node: FastNode, base: int) -> list:
    """``(start, end, (type, name, keys, comment), "")`` of each attribute of a fast block
    (single words, no backticks, keys as written, the comment with its quotes)."""
    text = node.text
    out = []
    for a in node.fast[2]:
        at = a.at
        keys = ", ".join(text[at + ks : at + ke] for ks, ke in a.key_spans)
        cs = a.comment_span
        comment = text[at + cs[0] : at + cs[1]] if cs is not None else ""
        cells = (text[at + a.type_at : at + a.type_end], text[at + a.name_at : at + a.name_end], keys, comment)
        out.append((base + at, base + at + a.length, cells, ""))
    return out


# ---------------------------------------------------------------------------
# host documents


@dataclass(frozen=True)
class DiagramFormat:
    """The formatting of one diagram of a document: the host edit (None when the
    diagram is already formatted or could not be formatted) and, if it could not, why."""

    unit: int  # index of the diagram in the document
    line: int  # 0-based host line of its first line
    edit: Optional[TextEdit]
    error: Optional[str] = None


def _trim_edit(old: str, new: str, start: int) -> Optional[TextEdit]:
    """The smallest edit turning ``old`` (at host offset ``start``) into ``new``."""
    if old == new:
        return None
    p = 0
    n = min(len(old), len(new))
    while p < n and old[p] == new[p]:
        p += 1
    q = 0
    while q < n - p and old[len(old) - 1 - q] == new[len(new) - 1 - q]:
        q += 1
    return TextEdit(TextRange(start + p, start + len(old) - q), new[p : len(new) - q])


def _content_region(text: str) -> Optional[tuple[int, int]]:
    """The part of a fenced diagram's text the formatter rewrites: from the start of
    its first non-blank line to the end of its last non-blank character."""
    stripped = text.rstrip()
    if not stripped:
        return None
    first = len(text) - len(text.lstrip())
    s = max(text.rfind("\n", 0, first), text.rfind("\r", 0, first)) + 1
    return s, len(stripped)


def _prefix(doc, host_offset: int) -> str:
    """The container prefix of a host line: what precedes ``host_offset`` on its line."""
    index = doc.line_index
    line = index.line_of(host_offset)
    return doc.text[index.line_start(line) : host_offset]


def _unit_format(doc, unit) -> DiagramFormat:
    result = format_parse(unit.parse, unit.diagram if not unit.parse.errors else None)
    line = unit.first_line
    if result.text is None:
        return DiagramFormat(unit.index, line, None, result.error)
    block = unit.block
    text = unit.source
    if block.map.is_identity and doc.kind == "mermaid":
        return DiagramFormat(unit.index, line, _trim_edit(text, result.text, 0))
    region = _content_region(text)
    if region is None:
        return DiagramFormat(unit.index, line, None)
    s, e = region
    host_s = unit.to_host_offset(s)
    host_e = block.map.to_source_end(e)
    prefix = _prefix(doc, host_s)
    new_lines = _LINE_BREAK.split(result.text.rstrip("\r\n"))
    nl = result.newline
    out = [new_lines[0]]
    for ln in new_lines[1:]:
        out.append((prefix + ln) if ln else prefix.rstrip())
    new = nl.join(out)
    return DiagramFormat(unit.index, line, _trim_edit(doc.text[host_s:host_e], new, host_s))


def format_document_report(doc) -> list[DiagramFormat]:
    """Per ER diagram of ``doc`` (an :class:`erd_lsp.analysis.Document`), its edit or
    why it could not be formatted."""
    return [_unit_format(doc, u) for u in doc.units]


def format_document(doc) -> list[TextEdit]:
    """The host edits that format every ER diagram of ``doc`` (diagrams with syntax
    errors are left alone). Front matter, directives and everything outside the
    diagrams stay as they are; in Markdown the fences' container prefixes are kept."""
    return [r.edit for r in format_document_report(doc) if r.edit is not None]


def format_range(doc, rng: TextRange) -> list[TextEdit]:
    """Edits that format the statements the host range ``rng`` touches (whole
    statements: an entity's block goes with it)."""
    edits = []
    for unit in doc.units:
        a = unit.from_host(rng.start)
        b = unit.from_host(rng.end)
        if a is None and b is None:
            # the range may cover the whole diagram
            host = unit.to_host(TextRange(0, len(unit.source)))
            if not (rng.start <= host.start and host.end <= rng.end):
                continue
            a, b = 0, len(unit.source)
        a = 0 if a is None else a
        b = len(unit.source) if b is None else b
        result = format_parse(unit.parse, unit.diagram if not unit.parse.errors else None)
        if result.text is None:
            continue
        touched = [el for el in result.elements if el.start <= b and a <= el.end]
        if not touched:
            continue
        src = unit.source
        first = result.elements.index(touched[0])
        last = result.elements.index(touched[-1])
        # statements that share a line with the touched ones go with them
        while first > 0 and _same_line(src, result.elements[first - 1].end, touched[0].start):
            first -= 1
        while last + 1 < len(result.elements) and _same_line(src, touched[-1].end, result.elements[last + 1].start):
            last += 1
        els = result.elements
        s = _line_start(src, els[first].start)
        e = _line_end(src, els[last].end)
        out_lines = _LINE_BREAK.split(result.text)[els[first].first_line : els[last].last_line + 1]
        host_s = unit.to_host_offset(s)
        host_e = unit.block.map.to_source_end(e) if e > s else host_s
        prefix = "" if unit.block.map.is_identity else _prefix(doc, host_s)
        joined = [out_lines[0]] + [(prefix + ln) if ln else prefix.rstrip() for ln in out_lines[1:]]
        edit = _trim_edit(doc.text[host_s:host_e], result.newline.join(joined), host_s)
        if edit is not None:
            edits.append(edit)
    return edits


def _line_start(src: str, offset: int) -> int:
    return max(src.rfind("\n", 0, offset), src.rfind("\r", 0, offset)) + 1


def _line_end(src: str, offset: int) -> int:
    m = _LINE_BREAK.search(src, offset)
    return m.start() if m else len(src)


def _same_line(src: str, a: int, b: int) -> bool:
    lo, hi = min(a, b), max(a, b)
    return _LINE_BREAK.search(src, lo, hi) is None
