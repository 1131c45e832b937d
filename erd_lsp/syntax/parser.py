"""A resilient, hand-written recursive-descent parser for Mermaid's ``erDiagram`` grammar.

The grammar (``grammar/erd.ebnf``) is Mermaid 12.3.0's, rebuilt from its parser: it accepts
exactly what Mermaid accepts, and the first error it reports is at the token where Mermaid
fails. Unlike Mermaid it then goes on: each statement that fails is closed with an
``ERROR`` node holding the tokens skipped to the end of its line (or, in an attribute
block, to the next attribute line), and parsing resumes with the next statement. An
attribute block that is never closed ends at the first line indented no deeper than its
``{`` line, so one missing ``}`` costs one error, not the rest of the diagram.

Items are parsed one at a time from a state ``(offset in the lexer's text, lexer state
stack, open subgraphs)`` so the incremental reparser can restart at any item boundary.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Optional

from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.fastpath import run_fast
from erd_lsp.syntax.lexer import INITIAL, BLOCK, conflict_lines, lex
from erd_lsp.syntax.preprocess import REMOVED_TOKEN, Preprocessed, preprocess
from erd_lsp.syntax.tree import Node, Parse, SyntaxError
from erd_lsp.text import paused_gc


# tokens the grammar does not see: the parser attaches them to the node being built
_INVISIBLE = K.TRIVIA | {K.LEX_ERROR}

_CARD_WORDS = {
    K.ZERO_OR_ONE: "zero or one",
    K.ZERO_OR_MORE: "zero or more",
    K.ONE_OR_MORE: "one or more",
    K.ONLY_ONE: "exactly one",
    K.MD_PARENT: "parent (u)",
}

STATEMENT_START = K.ENTITY_NAMES | {
    K.ACC_TITLE,
    K.ACC_DESCR,
    K.ACC_DESCR_MULTI_VALUE,
    K.DIRECTION,
    K.CLASSDEF,
    K.CLASS,
    K.STYLE,
    K.SUBGRAPH,
}

_LINE_END = frozenset({K.NEWLINE, K.EOF, K.END_OF_INPUT, K.CONFLICT_MARKER})


def _gap(removed, ri: int, pos: int, stop: int, st):
    """Trivia tokens for the source ``[pos, stop)`` that the lexer never saw: the pieces
    preprocessing removed (with their kinds), whitespace between them. Returns the index
    of the first removed span not yet passed."""
    n = len(removed)
    while pos < stop:
        while ri < n and removed[ri].end <= pos:
            ri += 1
        if ri < n and removed[ri].start <= pos:
            r = removed[ri]
            end = min(r.end, stop)
            yield (REMOVED_TOKEN.get(r.kind, K.WHITESPACE), pos, end, None, st)
        else:
            end = min(removed[ri].start if ri < n else stop, stop)
            yield (K.WHITESPACE, pos, end, None, st)
        pos = end
    return ri


def _produce(pre, conflicts, norm_pos, stack, src_pos):
    """The tokens of a :class:`TokenStream` from ``norm_pos`` on."""
    smap = pre.map
    identity = smap.is_identity and not pre.removed
    removed = pre.removed
    # first removed span that ends after src_pos
    ri = bisect_right(pre._removed_ends, src_pos) if removed else 0
    prev_end = src_pos
    to_start = smap.to_source_start
    to_end = smap.to_source_end
    srclen = len(pre.src)
    # runs of the map, walked forward (tokens come in order)
    dst, dlen, srcs, slen = smap.dst, smap.dlen, smap.src, smap.slen
    nruns = len(dst)
    run = max(0, bisect_right(dst, norm_pos) - 1)
    for kind, s, e, st in lex(pre.lexed, norm_pos, stack, conflicts):
        if identity:
            a, b = s, e
            if b > srclen:
                b = srclen
                a = min(a, b)
        else:
            while run + 1 < nruns and dst[run + 1] <= s:
                run += 1
            d0 = dst[run]
            if dlen[run] == slen[run] and d0 <= s and e <= d0 + dlen[run]:
                # inside one exact run: a plain shift
                a = srcs[run] + (s - d0)
                b = a + (e - s)
            else:
                a = to_start(s)
                b = to_end(e)
        if a < prev_end:
            a = prev_end
        if b < a:
            b = a
        if a > prev_end:
            # removed text (comments, directives, front matter, '\r') before this token
            ri = yield from _gap(removed, ri, prev_end, a, st)
        if (kind == K.WHITESPACE or kind == K.NEWLINE) and removed:
            while ri < len(removed) and removed[ri].end <= a:
                ri += 1
            if ri < len(removed) and removed[ri].start < b:
                # removed text (a comment line) inside a run of whitespace: split it so
                # the comment is a token of its own; the first piece keeps the kind
                first = True
                pos = a
                while pos < b:
                    if ri < len(removed) and removed[ri].start <= pos < removed[ri].end:
                        r = removed[ri]
                        stop = min(r.end, b)
                        yield (REMOVED_TOKEN.get(r.kind, K.WHITESPACE), pos, stop, None, st)
                        ri += 1
                    else:
                        stop = removed[ri].start if ri < len(removed) and removed[ri].start < b else b
                        if first and kind == K.NEWLINE:
                            yield (K.NEWLINE, pos, stop, s, st)
                            first = False
                        else:
                            yield (K.WHITESPACE, pos, stop, s if first else None, st)
                            first = False
                    pos = stop
                if first:
                    # the run was all removed text: keep a zero-width token of the kind
                    yield (kind, b, b, s, st)
                prev_end = b
                continue
        yield (kind, a, b, s, st)
        prev_end = b
        if kind == K.EOF or kind == K.END_OF_INPUT:
            # anything the lexer never reached (e.g. after the appended newline)
            yield from _gap(removed, ri, prev_end, srclen, st)
            return


class TokenStream:
    """Lexer tokens mapped to source offsets, with removed source text as trivia.

    Entries are ``(kind, src_start, src_end, norm_start, stack_before)``; trivia made of
    removed text has ``norm_start`` None."""

    def __init__(self, pre: Preprocessed, norm_pos: int, stack: tuple, src_pos: int, conflicts) -> None:
        self.pre = pre
        self.conflicts = conflicts
        self.buf: list = []
        self.i = 0
        self._start(norm_pos, stack, src_pos)

    def _start(self, norm_pos, stack, src_pos):
        # (a function of its own, not a method: a generator holding the stream would make
        # a reference cycle, and the stream, its text among it, would wait for the cyclic
        # collector instead of being freed when the parse is done)
        self._gen = _produce(self.pre, self.conflicts, norm_pos, stack, src_pos)

    def get(self, k: int):
        buf = self.buf
        if k < len(buf):
            return buf[k]
        while len(buf) <= k:
            try:
                buf.append(next(self._gen))
            except StopIteration:
                last = buf[-1] if buf else (K.END_OF_INPUT, len(self.pre.src), len(self.pre.src), None, (INITIAL,))
                buf.append((K.END_OF_INPUT, last[2], last[2], None, last[4]))
        return buf[k]

    def restart(self, k: int, norm_pos: int, stack: tuple, src_pos: int) -> None:
        """Forget tokens from index ``k`` on and lex again from ``norm_pos``."""
        del self.buf[k:]
        self._start(norm_pos, stack, src_pos)


class Parser:
    def __init__(self, pre: Preprocessed, stream: TokenStream, depth: tuple = ()) -> None:
        self.pre = pre
        self.src = pre.src  # a str, or a Rope (slicing, find, rfind, startswith)
        self.ts = stream
        self.i = 0  # index into the stream
        self.subgraphs = list(depth)  # absolute source offsets of open subgraph keywords
        # node building
        self.stack: list[list] = []
        self.kinds: list[str] = []
        self.base = 0
        self.item_errors: list = []
        self.items: list = []
        self.starts: list = []
        self.states: list = []
        self.block_limit: Optional[int] = None  # src offset where an unclosed block stops
        self.item_unbounded = False  # the current item looked ahead to the end of the text
        self._peek_at = -1  # peek() cache: stream index it was computed at
        self._peeked = None

    # -- token access ------------------------------------------------------------------
    def _sig(self, k: int) -> int:
        """Index of the first significant token at or after stream index k."""
        ts = self.ts
        buf = ts.buf
        while True:
            t = buf[k] if k < len(buf) else ts.get(k)
            if t[0] not in _INVISIBLE:
                return k
            k += 1

    def peek(self):
        """The next significant token (kind, start, end, norm, stack)."""
        if self._peek_at == self.i:
            return self._peeked
        t = self.ts.get(self._sig(self.i))
        if self.block_limit is not None and t[1] >= self.block_limit and self.in_block(t):
            t = (K.END_OF_INPUT, self.block_limit, self.block_limit, None, t[4])
        self._peek_at = self.i
        self._peeked = t
        return t

    def in_block(self, t) -> bool:
        return bool(t[4]) and t[4][-1] in (BLOCK, "block_bq")

    def at(self, kinds) -> bool:
        return self.peek()[0] in kinds

    def _flush_trivia(self) -> None:
        ts = self.ts
        buf = ts.buf
        while True:
            i = self.i
            t = buf[i] if i < len(buf) else ts.get(i)
            if t[0] not in _INVISIBLE:
                return
            if self.block_limit is not None and t[1] >= self.block_limit and self.in_block(t):
                return
            self._push_token(t)
            self.i += 1

    def _push_token(self, t) -> None:
        if t[0] == K.LEX_ERROR:
            msg = f"unexpected {describe_text(self.src[t[1]:t[2]])}: `style` and `classDef` values may only hold letters, digits, `-`, `*`, `#`, `:` and `,`"
            if not self.stack:
                n = t[2] - t[1]
                self._add_item(Node(K.ERROR, [(t[0], 0, n)], ((0, n, msg),)), t[1])
                return
            if not any(m.startswith("unexpected") and "values may only hold" in m for _s, _e, m in self.item_errors):
                self.error(t[1], t[2], msg)
        if self.stack:
            self.stack[-1].append((t[0], t[1] - self.base, t[2] - self.base))
        else:
            self._add_item((t[0], 0, t[2] - t[1]), t[1])

    def bump(self):
        """Consume the next significant token (and the trivia before it)."""
        self._flush_trivia()
        t = self.ts.get(self.i)
        self._push_token(t)
        self.i += 1
        return t

    # -- nodes -------------------------------------------------------------------------
    def open(self, kind: str) -> None:
        self._flush_trivia()
        if not self.stack:
            t = self.ts.get(self.i)
            self.base = t[1]
            self.item_errors = []
        self.stack.append([])
        self.kinds.append(kind)

    def close(self) -> Node:
        children = self.stack.pop()
        kind = self.kinds.pop()
        if self.stack:
            node = Node(kind, children)
            self.stack[-1].append(node)
        else:
            node = Node(kind, children, tuple(self.item_errors), self.item_unbounded)
            self.item_unbounded = False
            self._add_item(node, self.base)
        return node

    def _add_item(self, item, start: int) -> None:
        self.items.append(item)
        self.starts.append(start)

    def error(self, start: int, end: int, message: str) -> None:
        if self.stack:
            self.item_errors.append((start - self.base, end - self.base, message))
        else:  # pragma: no cover - every error is reported inside an item
            self._add_item(Node(K.ERROR, [], ((0, 0, message),)), start)

    def error_at(self, t, expected: str, after=None) -> None:
        """Report that ``expected`` was wanted where token ``t`` stands."""
        kind, s, e = t[0], t[1], t[2]
        if kind in (K.NEWLINE, K.EOF, K.END_OF_INPUT) and after is not None:
            where = "at the end of the line" if kind == K.NEWLINE else "at the end of the diagram"
            self.error(after[1], after[2], f"expected {expected}, found nothing {where}")
        else:
            self.error(s, e, f"expected {expected}, found {self.describe(t)}")

    def describe(self, t) -> str:
        kind = t[0]
        text = self.src[t[1] : t[2]]
        if kind == K.NEWLINE:
            return "the end of the line"
        if kind in (K.EOF, K.END_OF_INPUT):
            return "the end of the diagram"
        if kind in K.CARDINALITIES:
            return f"the cardinality `{text.strip()}` ({_CARD_WORDS[kind]})"
        if kind in K.REL_TYPES:
            return f"the relationship line `{text.strip()}`"
        if kind == K.CONFLICT_MARKER:
            return "a Git conflict marker"
        if kind in (K.STYLE, K.CLASSDEF, K.CLASS, K.SUBGRAPH, K.END, K.ER_DIAGRAM):
            return f"the keyword `{text.strip()}`"
        if kind == K.ATTRIBUTE_KEY:
            return f"the key `{text}`"
        if kind in (K.WORD, K.COMMENT_STRING) and len(text) > 40:
            text = text[:37] + "…\""
        return describe_text(text)

    def recover(self, stop=_LINE_END) -> None:
        """Skip tokens to the end of the line into an ERROR node.

        A stray ``{`` or ``accDescr {`` among the skipped tokens switches Mermaid's lexer
        into a state where lines do not end; since the statement is already in error,
        lexing resumes in the normal state at the next line instead."""
        if self.at(stop):
            return
        start = self.peek()[1]
        line_end = self.src.find("\n", start)
        line_end = len(self.src) if line_end < 0 else line_end
        self.open(K.ERROR)
        restart = False
        while not self.at(stop):
            t = self.peek()
            if t[0] == K.END_OF_INPUT:
                restart = t[4][-1] != INITIAL and t[1] > line_end
                break
            if t[1] >= line_end and t[4] and t[4][-1] != INITIAL:
                restart = True
                break
            self.bump()
        self.close()
        if restart:
            self._restart_at(line_end)

    # -- items ------------------------------------------------------------------------
    def parse_item(self) -> bool:
        """Parse one top-level item; False at the end of the diagram."""
        ts = self.ts
        while True:
            t = ts.get(self.i)
            if t[0] == K.ACC_DESCR_OPEN:
                return self.acc_descr_block()
            if t[0] not in _INVISIBLE or (self.block_limit is not None and t[1] >= self.block_limit):
                break
            self._push_token(t)
            self.i += 1
        t = self.peek()
        k = t[0]
        if k in K.ENTITY_NAMES:
            self.entity_or_relationship()
        elif k == K.NEWLINE:
            self.bump()
        elif k == K.DIRECTION:
            self.open(K.DIRECTION_STMT)
            self.bump()
            self.close()
        elif k == K.ACC_TITLE:
            self.open(K.ACC_TITLE_STMT)
            self.bump()
            if self.at({K.ACC_TITLE_VALUE}):
                self.bump()
            self.close()
        elif k == K.ACC_DESCR:
            self.open(K.ACC_DESCR_STMT)
            self.bump()
            if self.at({K.ACC_DESCR_VALUE}):
                self.bump()
            self.close()
        elif k == K.ACC_DESCR_MULTI_VALUE:  # only after an `accDescr {` (handled above)
            self.open(K.ACC_DESCR_STMT)
            self.bump()
            self.close()
        elif k in (K.STYLE, K.CLASSDEF):
            self.style_statement(k)
        elif k == K.CLASS:
            self.class_statement()
        elif k == K.SUBGRAPH:
            self.subgraph_start()
        elif k == K.END:
            self.open(K.SUBGRAPH_END)
            if self.subgraphs:
                self.subgraphs.pop()
                self.bump()
            else:
                self.error(t[1], t[1] + 3, "`end` without a `subgraph` to close (`end` is a keyword and cannot name an entity)")
                self.bump()
            self.close()
        elif k == K.CONFLICT_MARKER:
            self.open(K.CONFLICT)
            self.bump()
            self.close()
        elif k == K.EOF:
            self.bump()
            return False
        elif k == K.END_OF_INPUT:
            self.bump()
            return False
        elif k == K.ER_DIAGRAM:
            self.open(K.ERROR)
            self.error(t[1], t[2], "a second `erDiagram` header: a diagram has only one")
            self.bump()
            self.close()
        elif k == K.BLOCK_START:
            # a block with no entity before it (`A ||--o{ B : x {`, or `{` on its own line)
            self.open(K.ERROR)
            self.error(t[1], t[2], "an attribute block must follow an entity name on the same line (`NAME {`)")
            self.attr_block(t)
            self.close()
        else:
            self.open(K.ERROR)
            self.error(t[1], t[2], f"expected a statement (an entity name, a relationship or a keyword), found {self.describe(t)}")
            self.bump()
            self.close()
            self.recover(_LINE_END | STATEMENT_START)
        return True

    def acc_descr_block(self) -> bool:
        """``accDescr { ... }``: the opener and the ``}`` are invisible to the grammar,
        which sees only the text between them."""
        opener = self.ts.get(self.i)
        self.base = opener[1]
        self.item_errors = []
        self.stack.append([])
        self.kinds.append(K.ACC_DESCR_STMT)
        self._push_token(opener)
        self.i += 1
        ts = self.ts
        closed = False
        while True:
            t = ts.get(self.i)
            if t[0] == K.ACC_DESCR_CLOSE:
                self._push_token(t)
                self.i += 1
                closed = True
                break
            if t[0] in (K.ACC_DESCR_MULTI_VALUE, K.COMMENT, K.DIRECTIVE, K.WHITESPACE):
                self._push_token(t)
                self.i += 1
                continue
            break
        if not closed:
            self.error(opener[1], opener[2], "this `accDescr {` is never closed: expected `}` (the description swallows the rest of the diagram)")
        self.close()
        return closed

    def header(self) -> None:
        t = self.peek()
        if t[0] == K.ER_DIAGRAM:
            self.open(K.HEADER)
            if not self.pre.is_er:
                self.error(t[1], t[2], f"Mermaid does not recognise {self.describe(t)} as a diagram type: write `erDiagram` exactly (the header is case-sensitive)")
            self.bump()
            self.close()
            return
        self.open(K.HEADER)
        if t[0] == K.UNICODE_TEXT and self.src[t[1] : t[2]].lower().startswith("erdiagram"):
            self.error(t[1], t[2], f"expected the header `erDiagram`, found {self.describe(t)}: the keyword must stand alone")
            self.bump()
        else:
            self.error(t[1], t[2], f"expected the header `erDiagram`, found {self.describe(t)}")
        self.close()

    # entityName [SQS entityName SQE] [::: idList] [{ attributes }]
    # entityName [::: idList] relSpec entityName [::: idList] : role
    def entity_or_relationship(self) -> None:
        self.open(K.ENTITY_STMT)
        name = self.entity_ref()
        if self.at({K.STYLE_SEPARATOR}):
            self.class_list()
        nxt = self.peek()
        if nxt[0] in K.CARDINALITIES:
            self.kinds[-1] = K.REL_STMT
            self.relationship_rest(name)
            self.close()
            return
        if nxt[0] == K.SQS:
            if self.stack[-1] and any(isinstance(c, Node) and c.kind == K.CLASS_LIST for c in self.stack[-1]):
                self.error(nxt[1], nxt[2], "expected the alias before `:::`: write `name[alias]:::class`")
                self.recover()
                self.close()
                return
            self.alias()
            if self.at({K.STYLE_SEPARATOR}):
                self.class_list()
            if self.at(K.CARDINALITIES):
                t = self.peek()
                self.error(t[1], t[2], "an alias cannot be given in a relationship: declare it in its own statement (`A[\"alias\"]`), then relate `A`")
                self.recover()
                self.close()
                return
        elif nxt[0] in K.REL_TYPES:
            self.error(nxt[1], nxt[2], f"expected a cardinality such as `||` or `}}o` before {self.describe(nxt)} (after {self.describe(name)})")
            self.recover()
            self.close()
            return
        if self.at({K.BLOCK_START}):
            self.attr_block(name)
        self.close()

    def entity_ref(self):
        self.open(K.ENTITY_REF)
        t = self.bump()
        self.close()
        return t

    def class_list(self) -> None:
        self.open(K.CLASS_LIST)
        sep = self.bump()  # :::
        self.id_list(sep, {K.UNICODE_TEXT}, "a class name")
        self.close()

    def id_list(self, after, kinds, what: str) -> bool:
        self.open(K.ID_LIST)
        ok = True
        t = self.peek()
        if t[0] not in kinds:
            self.error_at(t, what, after)
            ok = False
        else:
            self.bump()
            while self.at({K.COMMA}):
                c = self.bump()
                t = self.peek()
                if t[0] not in kinds:
                    self.error_at(t, what + " after `,`", c)
                    ok = False
                    break
                self.bump()
        self.close()
        return ok

    def alias(self) -> None:
        self.open(K.ALIAS)
        sqs = self.bump()
        t = self.peek()
        if t[0] not in K.ENTITY_NAMES:
            if t[0] == K.SQE:
                self.error(sqs[1], t[2], "an empty alias `[]`: write the alias inside the brackets or remove them")
            elif t[0] == K.WORD:
                self.error(t[1], t[2], f"expected an alias, found {self.describe(t)}: a quoted alias cannot be empty or hold `%` or `\\`")
            else:
                self.error_at(t, "an alias (a name or a quoted string)", sqs)
            self.recover(_LINE_END | {K.SQE})
            if self.at({K.SQE}):
                self.bump()
            self.close()
            return
        name = self.bump()
        t = self.peek()
        if t[0] != K.SQE:
            if t[0] in K.ENTITY_NAMES:
                self.error(t[1], t[2], "expected `]` to close the alias: an alias of several words needs quotes (`[\"Person Name\"]`)")
            else:
                self.error_at(t, "`]` to close the alias", name)
            self.recover(_LINE_END | {K.SQE})
            if self.at({K.SQE}):
                self.bump()
        else:
            self.bump()
        self.close()

    def relationship_rest(self, left) -> None:
        self.open(K.REL_SPEC)
        c1 = self.bump()  # cardinality
        t = self.peek()
        if t[0] not in K.REL_TYPES:
            self.error_at(t, f"a relationship line `--` or `..` after {self.describe(c1)}", c1)
            self.close()
            self.recover()
            return
        line = self.bump()
        t = self.peek()
        if t[0] not in K.CARDINALITIES:
            self.error_at(t, f"a cardinality such as `||` or `o{{` after {self.describe(line)}", line)
            self.close()
            self.recover()
            return
        c2 = self.bump()
        self.close()
        t = self.peek()
        if t[0] not in K.ENTITY_NAMES:
            if t[0] == K.COLON:
                self.error(t[1], t[2], f"expected the name of the second entity after {self.describe(c2)}, found `:`")
            else:
                self.error_at(t, f"the name of the second entity after {self.describe(c2)}", c2)
            self.recover()
            return
        right = self.entity_ref()
        last = right
        if self.at({K.STYLE_SEPARATOR}):
            self.class_list()
            last = None
        t = self.peek()
        if t[0] != K.COLON:
            after = last if last is not None else right
            if t[0] == K.SQS:
                self.error(t[1], t[2], "an alias cannot be given in a relationship: declare it in its own statement")
            elif t[0] == K.BLOCK_START:
                self.error(t[1], t[2], "an attribute block cannot follow a relationship: write `NAME { ... }` as its own statement")
            else:
                self.error_at(t, f"`:` and a label after {self.describe(after)} (every relationship needs one, `\"\"` for none)", after)
            self.recover()
            return
        colon = self.bump()
        self.open(K.LABEL)
        t = self.peek()
        if t[0] in K.ROLES:
            self.bump()
            self.close()
            return
        if t[0] in (K.NEWLINE, K.EOF, K.END_OF_INPUT):
            self.error(colon[1], colon[2], "expected a label after `:` (a word, or a quoted string such as `\"places\"`; `\"\"` for none)")
        else:
            self.error(t[1], t[2], f"expected a label after `:`, found {self.describe(t)}: quote it (`\"{self.src[t[1]:t[2]]}\"`)")
        self.close()
        self.recover()

    # attributes inside { }
    def attr_block(self, name) -> None:
        self.open(K.ATTR_BLOCK)
        brace = self.peek()
        self._check_block_closes(brace)
        self.bump()  # {
        while True:
            t = self.peek()
            k = t[0]
            if k == K.BLOCK_STOP:
                self.bump()
                break
            if k == K.END_OF_INPUT:
                self.error(brace[1], brace[2], f"this `{{` is never closed: expected `}}` to end the attributes of {self.describe(name)}")
                break
            if k == K.CONFLICT_MARKER:
                self.open(K.CONFLICT)
                self.bump()
                self.close()
                continue
            if k != K.ATTRIBUTE_WORD:
                self._block_error(t)
                continue
            self.attribute()
        self.close()
        if self.block_limit is not None:
            # lex again from the recovery line, outside the block
            limit = self.block_limit
            self.block_limit = None
            self._peek_at = -1
            self._restart_at(limit)

    def _restart_at(self, src_pos: int) -> None:
        # never before what was already consumed (a token may run past the limit line)
        src_pos = max(src_pos, self._src_pos_before())
        # lex again from the first position of the lexer's text at or after it
        self.ts.restart(self.i, self.pre.map.to_derived(src_pos), (INITIAL,), self._src_pos_before())
        self._peek_at = -1

    def _src_pos_before(self) -> int:
        if self.i == 0:
            return 0
        return self.ts.get(self.i - 1)[2]

    def _check_block_closes(self, brace) -> None:
        """If the block is never closed, limit it to the lines that look like attributes."""
        k = self.i
        ts = self.ts
        src = self.src
        fails = False  # a character no attribute rule takes: Mermaid rejects the block
        while True:
            t = ts.get(k)
            kind = t[0]
            if kind == K.BLOCK_STOP:
                # closed; but if another `NAME {` opens inside it, the `}` closing it is
                # this block's own missing `}`: the block ends at the first line that reads
                # as a statement before that opener. (A stray statement line in a block
                # that is otherwise whole stays inside it: one error for that line.)
                if not fails:
                    return
                first_statement = None
                pos = src.find("\n", brace[2])
                while 0 <= pos < t[1]:
                    ls = pos + 1
                    le = src.find("\n", ls)
                    line = src[ls : min(le if le >= 0 else len(src), t[1])].strip()
                    if line and _looks_like_statement(line):
                        if first_statement is None:
                            first_statement = ls
                        if _BLOCK_OPENER.match(line) and self._block_fails_after(first_statement, k):
                            self.block_limit = first_statement
                            self._peek_at = -1
                            self.item_unbounded = True
                            return
                    pos = le
                self.item_unbounded = True  # the decision looked at the whole block
                return
            if kind == K.END_OF_INPUT or kind == K.EOF:
                break
            if kind == K.CHAR and not fails and not src.startswith(("?", ","), t[1]):
                fails = True
            k += 1
        self.item_unbounded = True
        line_start = src.rfind("\n", 0, brace[1]) + 1
        indent = _indent(src, line_start)
        pos = src.find("\n", brace[2])
        while pos >= 0:
            ls = pos + 1
            le = src.find("\n", ls)
            line = src[ls : le if le >= 0 else len(src)]
            stripped = line.strip()
            if stripped and not stripped.startswith("%%") and _indent(src, ls) <= indent and not stripped.startswith("}"):
                self.block_limit = ls
                self._peek_at = -1
                return
            if stripped and _looks_like_statement(stripped):
                self.block_limit = ls
                self._peek_at = -1
                return
            pos = le
        self.block_limit = None
        self._peek_at = -1

    def _block_fails_after(self, pos: int, stop: int) -> bool:
        """Whether Mermaid rejects the block because of a token at or after ``pos``
        (any character other than ``?`` and ``,`` that no attribute rule takes)."""
        ts = self.ts
        for k in range(self.i, stop):
            t = ts.get(k)
            if t[1] >= pos and t[0] == K.CHAR and not self.src.startswith(("?", ","), t[1]):
                return True
        return False

    def _block_error(self, t) -> None:
        k = t[0]
        if k == K.ATTRIBUTE_KEY:
            msg = f"expected an attribute type, found the key `{self.src[t[1]:t[2]]}`: `PK`, `FK` and `UK` are reserved inside a block"
        elif k == K.COMMENT_STRING:
            msg = "expected an attribute (`type name`), found a comment string"
        elif k == K.CHAR and self.src[t[1] : t[2]] == "{":
            msg = "expected an attribute, found `{`: blocks cannot be nested"
        elif k == K.CHAR and self.src[t[1] : t[2]] == "%":
            msg = "expected an attribute, found `%`: a `%%` comment must be on a line of its own"
        else:
            msg = f"expected an attribute (`type name`), found {self.describe(t)}"
        self.open(K.ERROR)
        self.error(t[1], t[2], msg)
        self.bump()
        self._skip_attr_line()
        self.close()

    def _skip_attr_line(self) -> None:
        """Skip block tokens up to the next line that starts with an attribute word."""
        while True:
            t = self.peek()
            if t[0] in (K.BLOCK_STOP, K.END_OF_INPUT, K.EOF, K.CONFLICT_MARKER):
                return
            if self._starts_line(t) and t[0] == K.ATTRIBUTE_WORD:
                return
            self.bump()

    def _starts_line(self, t) -> bool:
        src = self.src
        j = t[1] - 1
        while j >= 0 and src[j] in " \t\r":
            j -= 1
        return j < 0 or src[j] == "\n"

    def attribute(self) -> None:
        self.open(K.ATTRIBUTE)
        self.open(K.ATTR_TYPE)
        typ = self.bump()
        if self.at({K.CHAR}) and self.src.startswith("?", self.peek()[1]):
            typ = self.bump()
        self.close()
        t = self.peek()
        if t[0] != K.ATTRIBUTE_WORD:
            if t[0] == K.ATTRIBUTE_KEY:
                self.error(t[1], t[2], f"expected an attribute name after the type {self.describe(typ)}, found the key `{self.src[t[1]:t[2]]}`: `pk`, `fk` and `uk` cannot be names")
            elif t[0] == K.BLOCK_STOP or self._starts_line(t):
                self.error(typ[1], typ[2], f"expected an attribute name after the type {self.describe(typ)}: an attribute is `type name`")
            else:
                self.error_at(t, f"an attribute name after the type {self.describe(typ)}", typ)
            self._recover_attr()
            self.close()
            return
        self.open(K.ATTR_NAME)
        name = self.bump()
        self.close()
        last = name
        if self.at({K.ATTRIBUTE_KEY}):
            self.open(K.KEY_LIST)
            last = self.bump()
            while self.at({K.CHAR}) and self.src.startswith(",", self.peek()[1]):
                comma = self.bump()
                t = self.peek()
                if t[0] != K.ATTRIBUTE_KEY:
                    self.close()
                    self.error_at(t, "a key (`PK`, `FK` or `UK`) after `,`", comma)
                    self._recover_attr()
                    self.close()
                    return
                last = self.bump()
            self.close()
            if self.at({K.ATTRIBUTE_KEY}):
                t = self.peek()
                self.error(t[1], t[2], f"expected `,` between keys, found the key `{self.src[t[1]:t[2]]}`: write `PK, FK`")
                self._recover_attr()
                self.close()
                return
        if self.at({K.COMMENT_STRING}):
            self.open(K.ATTR_COMMENT)
            self.bump()
            self.close()
            t = self.peek()
            if t[0] == K.COMMENT_STRING:
                self.error(t[1], t[2], "an attribute has at most one comment")
                self._recover_attr()
            elif t[0] == K.ATTRIBUTE_KEY:
                self.error(t[1], t[2], "keys come before the comment: `type name PK \"comment\"`")
                self._recover_attr()
        t = self.peek()
        if t[0] == K.ATTRIBUTE_WORD and not self._starts_line(t):
            # Mermaid reads a third word as the type of a new attribute; it then lacks a name
            # unless one follows. Let the loop handle it, as Mermaid does.
            pass
        elif t[0] == K.CHAR:
            ch = self.src[t[1] : t[2]]
            if ch == "%":
                self.error(t[1], t[2], "a `%%` comment must be on a line of its own (after an attribute it is a syntax error)")
            else:
                self.error(t[1], t[2], f"unexpected {self.describe(t)} after the attribute")
            self._recover_attr()
        self.close()

    def _recover_attr(self) -> None:
        t = self.peek()
        if t[0] in (K.BLOCK_STOP, K.END_OF_INPUT, K.EOF) or (self._starts_line(t) and t[0] == K.ATTRIBUTE_WORD):
            return
        self.open(K.ERROR)
        self._skip_attr_line()
        self.close()

    # style ids decls ; | classDef names decls ;
    def style_statement(self, k) -> None:
        self.open(K.STYLE_STMT if k == K.STYLE else K.CLASSDEF_STMT)
        kw = self.bump()
        what = "an entity name" if k == K.STYLE else "a class name"
        if not self.id_list(kw, {K.STYLE_TEXT, K.UNICODE_TEXT}, what):
            self._skip_style()
            self.close()
            return
        self.open(K.STYLE_LIST)
        t = self.peek()
        if t[0] not in (K.STYLE_TEXT, K.NUM, K.COLON, K.BRKT):
            self.error_at(t, "style declarations such as `fill:#f9f,stroke:#333`", kw)
            self.close()
            self._skip_style()
            self.close()
            return
        while True:
            self.open(K.STYLE_DECL)
            while self.at({K.STYLE_TEXT, K.NUM, K.COLON, K.BRKT}):
                self.bump()
            self.close()
            if self.at({K.COMMA}):
                c = self.bump()
                if not self.at({K.STYLE_TEXT, K.NUM, K.COLON, K.BRKT}):
                    self.error_at(self.peek(), "a style declaration after `,`", c)
                    self.close()
                    self._skip_style()
                    self.close()
                    return
                continue
            break
        self.close()
        # text the style lexer rejected belongs to this statement
        while self.ts.get(self.i)[0] in (K.LEX_ERROR, K.WHITESPACE) and any(
            x[0] == K.LEX_ERROR for x in self.ts.buf[self.i : self._sig(self.i)]
        ):
            self._push_token(self.ts.get(self.i))
            self.i += 1
        t = self.peek()
        if t[0] in (K.SEMI, K.NEWLINE, K.EOF):
            if t[0] == K.SEMI:
                self.bump()
                # after ';' the style state lasts to the end of the line
                if not self.at({K.NEWLINE, K.EOF, K.END_OF_INPUT}):
                    t = self.peek()
                    self.error(t[1], t[2], f"unexpected {self.describe(t)} after `;`: one `style`/`classDef` statement per line")
                    self._skip_style()
        elif t[0] == K.END_OF_INPUT:
            # trailing whitespace swallowed the final line break: Mermaid then fails
            end = self._src_pos_before()
            self.error(kw[1], kw[2], f"this `{self.src[kw[1]:kw[2]]}` line ends with spaces, which join it to the next line; here nothing follows and Mermaid fails: remove the trailing spaces")
        else:
            self.error(t[1], t[2], f"unexpected {self.describe(t)} in a style declaration")
            self._skip_style()
        self.close()

    def _skip_style(self) -> None:
        if self.at({K.NEWLINE, K.EOF, K.END_OF_INPUT}):
            return
        self.open(K.ERROR)
        while not self.at({K.NEWLINE, K.EOF, K.END_OF_INPUT}):
            self.bump()
        self.close()

    # class ids classes
    def class_statement(self) -> None:
        self.open(K.CLASS_STMT)
        kw = self.bump()
        if not self.id_list(kw, {K.UNICODE_TEXT}, "an entity name"):
            self.recover()
            self.close()
            return
        t = self.peek()
        if t[0] != K.UNICODE_TEXT:
            self.error_at(t, "the class names to assign (`class A,B myClass`)", kw)
            self.recover()
            self.close()
            return
        self.id_list(kw, {K.UNICODE_TEXT}, "a class name")
        self.close()

    # subgraph name NEWLINE | subgraph id [ words ] NEWLINE
    def subgraph_start(self) -> None:
        self.open(K.SUBGRAPH_START)
        kw = self.bump()
        t = self.peek()
        if t[0] not in K.ENTITY_NAMES:
            self.error_at(t, "a subgraph name", kw)
            self.recover()
            self.close()
            self.subgraphs.append(kw[1])
            return
        self.entity_ref()
        if self.at({K.SQS}):
            self.open(K.SUBGRAPH_TITLE)
            sqs = self.bump()
            if not self.at(K.ENTITY_NAMES):
                self.error_at(self.peek(), "a subgraph title", sqs)
                self.close()
                self.recover()
                self.close()
                self.subgraphs.append(kw[1])
                return
            while self.at(K.ENTITY_NAMES):
                self.bump()
            if not self.at({K.SQE}):
                self.error_at(self.peek(), "`]` to close the subgraph title", sqs)
                self.close()
                self.recover()
                self.close()
                self.subgraphs.append(kw[1])
                return
            self.bump()
            self.close()
        t = self.peek()
        if t[0] not in (K.NEWLINE, K.EOF):
            if t[0] in K.ENTITY_NAMES:
                self.error(t[1], t[2], "a subgraph name of several words needs quotes (`subgraph \"My Group\"`) or an id and a title (`subgraph g [My Group]`)")
            elif t[0] == K.CHAR and self.src[t[1]:t[2]] == ";":
                self.error(t[1], t[2], "a subgraph header must end with a line break, not `;`")
            else:
                self.error_at(t, "a line break after the subgraph header", kw)
            self.recover()
        self.close()
        self.subgraphs.append(kw[1])


def _indent(src: str, line_start: int) -> int:
    i = line_start
    while i < len(src) and src[i] in " \t":
        i += 1
    return i - line_start


_STATEMENT_LIKE = re.compile(
    r"""^(?:[^\s{}]+\s*(?:\|o|\|\||\}o|\}\||o\||o\{|\|\{|u)\s*(?:--|\.\.|\.-|-\.)|[^\s{}]+(?:\s*\[[^\]]*\])?\s*\{\s*$|(?:style|classDef|class|subgraph|direction)\s|end\s*$)""",
    re.IGNORECASE,
)


_BLOCK_OPENER = re.compile(r"""^(?:"[^"]*"|[^\s{}"]+)(?:\s*\[[^\]]*\])?(?:\s*:::\s*[^\s{}]+)?\s*\{""")


def _looks_like_statement(line: str) -> bool:
    """Whether a line inside an unclosed block looks like a top-level statement."""
    return _STATEMENT_LIKE.match(line) is not None


def parse(source: str, *, browser_trim: bool = False) -> Parse:
    """Parse one diagram's source. Never raises; the errors are in ``Parse.errors``."""
    try:
        with paused_gc():
            pre = preprocess(source, browser_trim=browser_trim)
            return parse_preprocessed(pre)
    except Exception as e:  # a bug must not take an editor down: report it as data
        return internal_error_parse(source, e)


def internal_error_parse(source: str, exc: BaseException) -> Parse:
    """A parse that keeps the text (one ERROR item) and reports an internal error."""
    msg = f"internal error in the erd-lsp parser ({type(exc).__name__}: {exc}); please report it"
    item = Node(K.ERROR, [(K.LEX_ERROR, 0, len(source))], ((0, min(len(source), 1), msg),))
    p = Parse(src=source, items=[item] if source else [], starts=[0] if source else [], states=[None] if source else [])
    p._extents = [len(source) + 1] * len(p.items)
    p.errors = [SyntaxError(0, min(len(source), 1), msg, "E000")]
    p.internal_error = True
    return p


def parse_preprocessed(pre: Preprocessed) -> Parse:
    conflicts = conflict_lines(pre.text)
    stream = TokenStream(pre, 0, (INITIAL,), 0, conflicts)
    p = Parser(pre, stream)
    states: list = []
    # leading trivia and the header
    p._flush_trivia()
    while len(states) < len(p.items):
        states.append(None)
    p.header()
    while len(states) < len(p.items):
        states.append(None)
    run_items(p, states)
    result = Parse(src=pre.src, items=p.items, starts=p.starts, pre=pre, states=states, conflicts=conflicts)
    result.final_subgraphs = tuple(p.subgraphs)
    result.global_errors = finish_errors(p.subgraphs, pre)
    result.errors = collect_errors(result)
    return result


def run_items(p: Parser, states: list, stop=None) -> bool:
    """Parse items until the end (True) or until ``stop(p, state, source offset)`` says
    the parse has converged with an earlier one (False). ``states`` gets the restart
    state of each new item. Plain statements go through the fast path (fastpath.py)."""
    while True:
        if p.block_limit is None and not run_fast(p, states, stop):
            return False
        n = len(p.items)
        st = _state_of(p)
        if stop is not None and st is not None and stop(p, st, p.ts.get(p.i)[1]):
            return False
        more = p.parse_item()
        if len(p.items) > n:
            states.append(st)
            while len(states) < len(p.items):
                states.append(None)
        if not more:
            break
    # whatever trivia remains after EOF
    p._flush_trivia()
    while len(states) < len(p.items):
        states.append(None)
    return True


def _state_of(p: Parser):
    """The restart state before the next item: ``(lexer offset - source offset, lexer
    stack, open subgraphs)``, or None when the parser cannot restart there (inside a
    limited block). The offsets are relative so that states survive edits before them."""
    if p.block_limit is not None:
        return None
    k = p.i
    ts = p.ts
    src_pos = ts.get(k)[1]
    while True:
        t = ts.get(k)
        if t[3] is not None or t[0] == K.END_OF_INPUT:
            norm = t[3] if t[3] is not None else len(p.pre.lexed)
            if norm >= len(p.pre.lexed):
                # at the end the lexer's next token depends on whether it already stood
                # there (EOF or END_OF_INPUT), which a state does not record: no restart
                return None
            return (norm - src_pos, t[4], tuple(p.subgraphs) if p.subgraphs else ())
        k += 1




def finish_errors(subgraphs, pre: Preprocessed) -> list:
    """Errors that belong to no item: subgraphs never closed, invalid front matter."""
    errs = []
    for s in subgraphs:
        errs.append(SyntaxError(s, s + len("subgraph"), "this `subgraph` is never closed: expected `end`"))
    if pre.front_matter_error is not None:
        fe = pre.front_matter_error
        errs.append(SyntaxError(fe.start, fe.end, fe.message))
    return errs


def item_errors(items, starts, first_index: int = 0) -> list:
    """The errors recorded in items as ``(item index, SyntaxError)`` with absolute
    offsets, in item order."""
    out = []
    for i, (item, base) in enumerate(zip(items, starts), first_index):
        if item.__class__ is Node and item.errors:
            for s, e, msg in item.errors:
                out.append((i, SyntaxError(base + s, base + e, msg)))
    return out


def collect_errors(parse: Parse, items_errors: list | None = None) -> list:
    """All syntax errors with absolute offsets, in source order, plus one error per
    Git conflict region."""
    if items_errors is None:
        items_errors = item_errors(parse.items, parse.starts)
    parse.item_errors = items_errors
    errs = list(parse.global_errors) + [e for _i, e in items_errors]
    errs.extend(conflict_errors(parse))
    errs.sort(key=lambda e: (e.start, e.end))
    return errs


def conflict_regions(parse: Parse) -> list:
    """The Git conflict markers of a parse, grouped: ``(opening, middles, closing)`` marker
    ranges for each region, ``closing`` None for an opening marker never closed, and
    ``(marker, (), None)`` for a stray ``|||||||``/``=======``/``>>>>>>>``."""
    src = parse.src
    if not parse.conflicts:
        return []
    markers = [(s, e) for k, s, e in parse.tokens() if k == K.CONFLICT_MARKER]
    out = []
    i = 0
    while i < len(markers):
        opening = markers[i]
        if src.startswith("<<<<<<<", opening[0]):
            j = i + 1
            while j < len(markers) and not src.startswith((">>>>>>>", "<<<<<<<"), markers[j][0]):
                j += 1
            if j < len(markers) and src.startswith(">>>>>>>", markers[j][0]):
                out.append((opening, tuple(markers[i + 1 : j]), markers[j]))
                i = j + 1
                continue
            out.append((opening, (), None))
            i += 1
            continue
        out.append((opening, (), None))
        i += 1
    return out


def conflict_errors(parse: Parse) -> list:
    """One error per Git conflict region (``<<<<<<<`` … ``>>>>>>>``), at its opening marker
    (the region itself is folded, not underlined)."""
    src = parse.src
    out = []
    for (s, e), _middles, closing in conflict_regions(parse):
        text = src[s:e]
        if closing is not None:
            ours = text[7:].strip() or "ours"
            theirs = src[closing[0] + 7 : closing[1]].strip() or "theirs"
            msg = f"unresolved Git conflict between `{ours}` and `{theirs}`: keep one side (or both) and delete the markers"
        elif text.startswith("<<<<<<<"):
            msg = f"Git conflict marker `<<<<<<<` ({text[7:].strip() or 'ours'}) without its closing `>>>>>>>`"
        else:
            msg = f"stray Git conflict marker `{text[:7]}`: delete it"
        out.append(SyntaxError(s, e, msg, "E002"))
    return out


def describe_text(text: str) -> str:
    t = text.replace("\n", "\\n")
    if "`" in t:
        return f"'{t}'"
    return f"`{t}`"
