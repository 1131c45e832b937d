"""The lossless syntax tree.

A diagram's tree is a ``DIAGRAM`` root whose children, the *items*, are its top-level
statements, newlines and trivia, in order. Inside an item, tokens are ``(kind, start,
end)`` tuples whose offsets are relative to the item's start, so that an incremental
reparse can reuse the items after an edit unchanged; :class:`Parse` keeps the absolute
start of every item. Nodes carry no semantic information.

Invariant: the tokens of all items, in order, cover the diagram source exactly once, so
the tree's text is the source, for every input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, NamedTuple, Optional, Union

from erd_lsp.syntax import kinds as K
from erd_lsp.text import Chunked, TextRange, flat

Token = tuple  # (kind: str, start: int, end: int), offsets relative to the item


class Node:
    """An inner node: a kind and its children (nodes and tokens), in source order."""

    __slots__ = ("kind", "children", "errors", "unbounded", "facts")

    def __init__(self, kind: str, children: list, errors: tuple = (), unbounded: bool = False) -> None:
        self.kind = kind
        self.children = children
        self.errors = errors  # ((rel_start, rel_end, message), ...) on top-level items only
        self.unbounded = unbounded  # its parse looked at the whole rest of the text
        self.facts = None  # what the model read from this item (a cache owned by model.py)

    @property
    def start(self) -> int:
        for c in self.children:
            return c.start if isinstance(c, Node) else c[1]
        return 0

    @property
    def end(self) -> int:
        for c in reversed(self.children):
            return c.end if isinstance(c, Node) else c[2]
        return 0

    def tokens(self) -> Iterator[Token]:
        for c in self.children:
            if isinstance(c, Node):
                yield from c.tokens()
            else:
                yield c

    def nodes(self, kind: str | None = None) -> Iterator["Node"]:
        """Child nodes (of one kind when given)."""
        for c in self.children:
            if isinstance(c, Node) and (kind is None or c.kind == kind):
                yield c

    def node(self, kind: str) -> Optional["Node"]:
        for c in self.children:
            if isinstance(c, Node) and c.kind == kind:
                return c
        return None

    def child_tokens(self, kinds=None) -> Iterator[Token]:
        for c in self.children:
            if not isinstance(c, Node) and (kinds is None or c[0] in kinds):
                yield c

    def __repr__(self) -> str:
        return f"Node({self.kind}, {self.start}..{self.end})"


Item = Union[Node, Token]


class Attribute(NamedTuple):
    """One attribute of an entity block, ``type name [keys] ["comment"]``: what the model
    (``erd_lsp.model.Attribute``) records. The parser's fast path creates these directly,
    the model does for other statements: one object per attribute, no copy.

    Offsets are small numbers (Python shares their objects): ``at`` is the attribute's
    start relative to its statement, the other spans are relative to ``at``; ``base`` is
    the statement's start. A statement that moves gets new objects with its new
    ``base``; the ranges are made absolute on access."""

    type: str
    name: str
    keys: tuple
    comment: Optional[str]
    at: int
    length: int
    type_at: int
    type_end: int
    name_at: int
    name_end: int
    key_spans: tuple  # ((start, end), ...) relative to ``at``
    comment_span: Optional[tuple]
    entity: str
    base: int

    @property
    def range(self) -> "TextRange":
        b = self.base + self.at
        return TextRange(b, b + self.length)

    @property
    def type_range(self) -> "TextRange":
        b = self.base + self.at
        return TextRange(b + self.type_at, b + self.type_end)

    @property
    def name_range(self) -> "TextRange":
        b = self.base + self.at
        return TextRange(b + self.name_at, b + self.name_end)

    @property
    def key_ranges(self) -> tuple:
        b = self.base + self.at
        return tuple(TextRange(b + s, b + e) for s, e in self.key_spans)

    @property
    def comment_range(self) -> "Optional[TextRange]":
        c = self.comment_span
        if c is None:
            return None
        b = self.base + self.at
        return TextRange(b + c[0], b + c[1])

    def moved(self, base: int) -> "Attribute":
        return tuple.__new__(Attribute, self[:13] + (base,))


@dataclass(frozen=True, slots=True)
class SyntaxError:
    start: int
    end: int
    message: str
    code: str = "E001"


@dataclass
class Parse:
    """A parsed diagram: the source, its items with their absolute starts, and the errors.

    ``items``, ``starts``, ``states`` and ``extents`` are :class:`~erd_lsp.text.Chunked`
    sequences (lists given to the constructor are converted), so that an incremental
    reparse makes the next version's by replacing the chunks it touched and sharing the
    rest. ``extents`` is chunked as ``starts`` is (the reparse caches per chunk how far
    its items reach)."""

    src: object  # the source: a str, or a Rope after an incremental reparse
    items: list
    starts: list
    errors: list = field(default_factory=list)
    pre: object = None  # the Preprocessed text the lexer read
    states: list = field(default_factory=list)  # parser state before each item (for reparse)
    global_errors: list = field(default_factory=list)
    _extents: Optional[list] = None  # per item: how far past its start its parse looked (lazy)
    final_subgraphs: tuple = ()  # subgraphs still open at the end
    item_errors: list = field(default_factory=list)  # errors inside items, absolute, in item order
    conflicts: frozenset = frozenset()  # lexer-text offsets of Git conflict marker lines
    # after an incremental reparse: (first new item, end of the new items, end of the old
    # items they replaced); the items before and after are the old parse's
    window: Optional[tuple] = None

    def __post_init__(self) -> None:
        if self.items.__class__ is not Chunked:
            self.items = Chunked(self.items)
        if self.starts.__class__ is not Chunked:
            self.starts = Chunked(self.starts, offsets=True)
        if self.states.__class__ is not Chunked:
            self.states = Chunked(self.states)

    @property
    def extents(self) -> Chunked:
        """Per item, how far past the item's start the furthest source offset its parse
        depended on lies (see extents.py)."""
        ext = self._extents
        if ext is None:
            from erd_lsp.syntax.extents import item_extents

            ext = item_extents(self, 0, len(self.items))
        if not self.starts.aligned(ext):
            ext = Chunked.like(self.starts, ext) if len(ext) == len(self.starts) else Chunked(ext)
        self._extents = ext
        return ext

    @extents.setter
    def extents(self, value) -> None:
        self._extents = value

    @property
    def source(self) -> str:
        """The source as one ``str`` (made on first use after an edit; the incremental
        paths read :attr:`src`)."""
        return flat(self.src)

    def item_index_at(self, offset: int) -> int:
        """Index of the item containing ``offset`` (the last one starting at or before it)."""
        return max(0, self.starts.bisect_right(offset) - 1)

    def text(self) -> str:
        """The text of the tree, rebuilt from its tokens (equals ``source``)."""
        parts = []
        for item, base in zip(self.items, self.starts):
            for _k, s, e in iter_tokens(item):
                parts.append(self.source[base + s : base + e])
        return "".join(parts)

    def tokens(self) -> Iterator[tuple[str, int, int]]:
        """Every token with absolute offsets, in order."""
        for item, base in zip(self.items, self.starts):
            for k, s, e in iter_tokens(item):
                yield k, base + s, base + e


def iter_tokens(item: Item) -> Iterator[Token]:
    if isinstance(item, Node):
        yield from item.tokens()
    else:
        yield item


def dump(parse: Parse) -> str:
    """A readable dump of the tree (for tests and debugging)."""
    out: list[str] = []
    src = parse.source

    def rec(node, base, depth):
        pad = "  " * depth
        if isinstance(node, Node):
            out.append(f"{pad}{node.kind}@{base + node.start}..{base + node.end}")
            for c in node.children:
                rec(c, base, depth + 1)
        else:
            k, s, e = node
            out.append(f"{pad}{k}@{base + s}..{base + e} {src[base + s : base + e]!r}")

    out.append(f"DIAGRAM@0..{len(src)}")
    for item, base in zip(parse.items, parse.starts):
        rec(item, base, 1)
    for e in parse.errors:
        out.append(f"error {e.start}..{e.end}: {e.message}")
    return "\n".join(out)
