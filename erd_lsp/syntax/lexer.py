"""The ER lexer: Mermaid 12.3.0's lexer rules, state by state, in Mermaid's priority order.

Like Mermaid's (jison) lexer it is a set of states, each an ordered list of rules, where
the *first* rule that matches at the current position wins, not the longest. Python's
regex alternation has exactly that semantics, so each state is one compiled alternation.
Differences between JavaScript and Python regexes are spelled out: JavaScript's ``\\s``,
``\\w`` and ``.`` are written as explicit classes, matching is ASCII-case-insensitive, and
the implicit ``\\b`` jison appends to rules that end in a word character is written out.

The lexer is total: text that no rule matches (only possible in the ``style`` state) becomes
a ``LEX_ERROR`` token and lexing goes on. It never raises.

Tokens are ``(kind, start, end)`` triples over the preprocessed text. The lexer is
restartable at any token boundary given the state stack there (see ``lex``), which the
incremental reparser uses.
"""

from __future__ import annotations

import re
from typing import Iterator

from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.preprocess import JS_DOT, JS_WS, JS_WS_RUN

WS = "[" + JS_WS + "]"
NWS = "[^" + JS_WS + "]"
# characters above U+007F that JavaScript's case-insensitive [\u00C0-\uFFFF] also accepts
_FOLDS = "".join(
    chr(c) for c in range(0x80, 0xC0) if len(chr(c).upper()) == 1 and ord(chr(c).upper()) >= 0xC0
)
# an attribute word (the block state's second word rule); [^\x00-\xbf] is \u00c0-\U0010ffff,
# written so because a class up to U+10FFFF takes milliseconds to compile (under
# re.ASCII, IGNORECASE does not touch non-ASCII characters, so the two are the same)
ATTR_WORD = (
    r"(?:[*A-Za-z_" + _FOLDS + r"]|[^\x00-\xbf])(?:[A-Za-z0-9\-_\[\]().,*" + _FOLDS + r"]|[^\x00-\xbf])*"
)

# (regex, token kind or None for "no token", state action)
# state action: None, ("push", state) or ("pop",)
PUSH = "push"
POP = "pop"

INITIAL = "INITIAL"
BLOCK = "block"
BLOCK_BQ = "block_bq"
STYLE = "style"
ACC_TITLE = "acc_title"
ACC_DESCR = "acc_descr"
ACC_DESCR_MULTI = "acc_descr_multiline"

_DIRECTION_RULES = [
    (r"" + JS_DOT + r"*direction" + WS + r"+TB[^\n]*", K.DIRECTION, None),
    (r"" + JS_DOT + r"*direction" + WS + r"+BT[^\n]*", K.DIRECTION, None),
    (r"" + JS_DOT + r"*direction" + WS + r"+RL[^\n]*", K.DIRECTION, None),
    (r"" + JS_DOT + r"*direction" + WS + r"+LR[^\n]*", K.DIRECTION, None),
]

_INITIAL_HEAD = [
    (r"accTitle" + WS + r"*:" + WS + r"*", K.ACC_TITLE, (PUSH, ACC_TITLE)),
    (r"accDescr" + WS + r"*:" + WS + r"*", K.ACC_DESCR, (PUSH, ACC_DESCR)),
    (r"accDescr" + WS + r"*\{" + WS + r"*", K.ACC_DESCR_OPEN, (PUSH, ACC_DESCR_MULTI)),
]

_INITIAL_TAIL = [
    (r"[ \t\r]+", K.WHITESPACE, None),
    (r"\n+", K.NEWLINE, None),
    (r'"[^"%\r\n\x0b\x08\\]+"', K.ENTITY_NAME, None),
    (r'"[^"]*"', K.WORD, None),
    (r"erDiagram\b", K.ER_DIAGRAM, None),
    (r"\{", K.BLOCK_START, (PUSH, BLOCK)),
    (r"\#", K.BRKT, None),
    (r",", K.COMMA, None),
    (r":::", K.STYLE_SEPARATOR, None),
    (r":", K.COLON, None),
    (r"\[", K.SQS, None),
    (r"\]", K.SQE, None),
    (r"style\b", K.STYLE, (PUSH, STYLE)),
    (r"classDef\b", K.CLASSDEF, (PUSH, STYLE)),
    (r"class\b", K.CLASS, None),
    (r"subgraph\b", K.SUBGRAPH, None),
    (r"end\b" + WS + r"*", K.END, None),
    (r"one\ or\ zero\b", K.ZERO_OR_ONE, None),
    (r"one\ or\ more\b", K.ONE_OR_MORE, None),
    (r"one\ or\ many\b", K.ONE_OR_MORE, None),
    (r"1\+", K.ONE_OR_MORE, None),
    (r"\|o\b", K.ZERO_OR_ONE, None),
    (r"zero\ or\ one\b", K.ZERO_OR_ONE, None),
    (r"zero\ or\ more\b", K.ZERO_OR_MORE, None),
    (r"zero\ or\ many\b", K.ZERO_OR_MORE, None),
    (r"0\+", K.ZERO_OR_MORE, None),
    (r"\}o\b", K.ZERO_OR_MORE, None),
    (r"many\(0\)", K.ZERO_OR_MORE, None),
    (r"many\(1\)", K.ONE_OR_MORE, None),
    (r"many\b", K.ZERO_OR_MORE, None),
    (r"\}\|", K.ONE_OR_MORE, None),
    (r"one\b", K.ONLY_ONE, None),
    (r"only\ one\b", K.ONLY_ONE, None),
    (r"[0-9]+\.[0-9]+", K.DECIMAL_NUM, None),
    (r"1(?=" + WS + r"+[A-Za-z_\"'])", K.ONLY_ONE, None),
    (r"1(?=" + WS + r"+[0-9])", K.ONLY_ONE, None),
    (r"1(?=(?:--|\.\.|\.-|-\.))", K.ONLY_ONE, None),
    (r"1\b", K.ENTITY_ONE, None),
    (r"[0-9]+", K.NUM, None),
    (r"\|\|", K.ONLY_ONE, None),
    (r"o\|", K.ZERO_OR_ONE, None),
    (r"o\{", K.ZERO_OR_MORE, None),
    (r"\|\{", K.ONE_OR_MORE, None),
    (r"u(?=[.\-|])", K.MD_PARENT, None),
    (r"\.\.", K.NON_IDENTIFYING, None),
    (r"--", K.IDENTIFYING, None),
    (r"to\b", K.IDENTIFYING, None),
    (r"optionally\ to\b", K.NON_IDENTIFYING, None),
    (r"\.-", K.NON_IDENTIFYING, None),
    (r"-\.", K.NON_IDENTIFYING, None),
    (r"(?:[^\x00-\x7f]|[A-Za-z0-9_]|-|\*|\.)+", K.UNICODE_TEXT, None),
    (JS_DOT, K.CHAR, None),
    (r"\Z", K.EOF, None),
]

_BLOCK = [
    (WS + r"+", K.WHITESPACE, None),
    # jison's leading \b is always true at the start of its remaining input
    (r"(?:PK|FK|UK)\b", K.ATTRIBUTE_KEY, None),
    (NWS + r"*~" + JS_DOT + r"*~" + NWS + r"*", K.ATTRIBUTE_WORD, None),
    (ATTR_WORD, K.ATTRIBUTE_WORD, None),
    (r"`", K.BACKTICK, (PUSH, BLOCK_BQ)),
    (r'"[^"]*"', K.COMMENT_STRING, None),
    (r"\}", K.BLOCK_STOP, (POP,)),
    (JS_DOT, K.CHAR, None),
]

_BLOCK_BQ = [
    (r"[^`]+", K.ATTRIBUTE_WORD, None),
    (r"`", K.BACKTICK, (POP,)),
]

_STYLE = [
    (r"\n+", K.NEWLINE, (POP,)),
    (WS + r"+", K.WHITESPACE, None),
    (r":", K.COLON, None),
    (r",", K.COMMA, None),
    (r"\#", K.BRKT, None),
    (r"(?:[^\x00-\x7f]|[A-Za-z0-9_]|-|\*)+", K.STYLE_TEXT, None),
    (r";", K.SEMI, None),
]

_ACC_TITLE = [(r"[^\n]*", K.ACC_TITLE_VALUE, (POP,))]
_ACC_DESCR = [(r"[^\n]*", K.ACC_DESCR_VALUE, (POP,))]
_ACC_DESCR_MULTI = [
    (r"\}", K.ACC_DESCR_CLOSE, (POP,)),
    (r"[^}]*", K.ACC_DESCR_MULTI_VALUE, None),
]

_CONFLICT = re.compile(r"(?:<{7}|={7}|>{7}|\|{7})(?=[ \t\n]|$)[^\n]*")


def _compile(rules):
    parts = []
    actions = []
    for i, (rx, kind, action) in enumerate(rules):
        parts.append(f"(?P<r{i}>{rx})")
        actions.append((kind, action))
    return re.compile("|".join(parts), re.IGNORECASE | re.ASCII), actions


_RULES = {
    INITIAL: _INITIAL_HEAD + _DIRECTION_RULES + _INITIAL_TAIL,
    "INITIAL_NODIR": _INITIAL_HEAD + _INITIAL_TAIL,
    BLOCK: _BLOCK,
    BLOCK_BQ: _BLOCK_BQ,
    STYLE: _STYLE,
    ACC_TITLE: _ACC_TITLE,
    ACC_DESCR: _ACC_DESCR,
    ACC_DESCR_MULTI: _ACC_DESCR_MULTI,
}
# state -> (compiled alternation, actions, group name -> rule index); compiled on first use
# (compiling them all costs more than lexing a small diagram)
_STATES: dict = {}


def _state(key: str):
    v = _STATES.get(key)
    if v is None:
        rx, actions = _compile(_RULES[key])
        v = _STATES[key] = (rx, actions, {f"r{i}": i for i in range(len(actions))})
    return v


_LOWER_DIRECTION = "direction"
# where the direction rules can match: only on a line with this word (the rules are
# ASCII-case-insensitive, so is the search); the fast path checks lines with it too
DIRECTION_WORD = re.compile(_LOWER_DIRECTION, re.IGNORECASE | re.ASCII)


def find_direction(text, start: int, end: int) -> int:
    """Where :data:`DIRECTION_WORD` first matches in ``text[start:end]`` (a ``str`` or a
    rope), or -1. An ASCII piece is lowered and searched as a plain string (ten times
    the speed of a case-insensitive pattern, which has no literal to skip ahead by; on
    ASCII text lowering changes only A-Z, and no offset)."""
    piece = text[start:end]
    if piece.isascii():
        i = piece.lower().find(_LOWER_DIRECTION)
    else:
        m = DIRECTION_WORD.search(piece)
        i = -1 if m is None else m.start()
    return i if i < 0 else start + i


def lex(text, pos: int = 0, stack: tuple[str, ...] = (INITIAL,), conflicts: frozenset[int] | None = None) -> Iterator[tuple[str, int, int, tuple[str, ...]]]:
    """Yield ``(kind, start, end, stack_before)`` for every token from ``pos`` to the end.

    ``stack`` is the lexer's state stack at ``pos`` (innermost last). ``conflicts`` holds
    the offsets of lines that are Git conflict markers (see :func:`conflict_lines`).
    The last token is ``EOF`` (or ``END_OF_INPUT`` when a state without an end rule
    reaches the end of the text, as in an unclosed block).

    ``text`` is a ``str`` or a :class:`~erd_lsp.text.Rope`; a rope is read a window at a
    time (see :func:`_windows`), so that lexing a few lines after an edit never copies
    the whole text.
    """
    if text.__class__ is str:
        return _lex(text, pos, stack, conflicts or frozenset(), 0, False)
    return _windows(text, pos, stack, conflicts or frozenset())


WINDOW = 4096  # the first window a rope is read in (doubled while a token needs more)


def _windows(rope, pos: int, stack, conflicts):
    """The tokens of a rope, lexed in windows of its text. A token is taken from a window
    only when everything its rules can have looked at lies inside it (see ``_lex``);
    otherwise lexing restarts at that token in a window twice as large."""
    n = len(rope)
    size = WINDOW
    while True:
        end = min(n, pos + size)
        for kind, s, e, st in _lex(rope[pos:end], 0, stack, conflicts, pos, end < n):
            if kind is None:
                break
            yield kind, s + pos, e + pos, st
        else:
            return
        pos += s
        stack = st
        size *= 2


def _lex(text: str, pos, stack, conflicts, base: int, windowed: bool):
    """The lexer proper over ``text``, which starts at ``base`` of the whole text (for the
    conflict marker offsets). ``windowed``: ``text`` is a window that ends before the
    whole text does. Then a token is yielded only when its line ends inside the window,
    a character follows it there, and, for the rules that look further, the text they
    look at is there too (a lone `"` would have been a string up to the next `"` anywhere
    after it; `1` looks past whitespace for a word, `direction` past whitespace for its
    value); else ``(None, pos, pos, stack)`` says where a larger window must resume."""
    n = len(text)
    stack = list(stack)
    cur = tuple(stack)  # the stack as a tuple, rebuilt only when it changes
    next_dir = -1  # offset of the next "direction" at or after pos, if known
    dir_clear = -1  # no "direction" starts before this offset (searched in windows)
    line_end = -1
    wline = -1  # (windowed) the end of the line holding pos
    done = False
    while True:
        state = stack[-1]
        if conflicts and pos + base in conflicts and state in (INITIAL, BLOCK):
            m = _CONFLICT.match(text, pos)
            if m is not None:
                if windowed and (text.find("\n", pos) < 0):
                    yield None, pos, pos, cur
                    return
                yield K.CONFLICT_MARKER, pos, m.end(), cur
                pos = m.end()
                continue
        if state == INITIAL:
            if pos > line_end:
                line_end = text.find("\n", pos)
                if line_end < 0:
                    line_end = n
            if next_dir < pos and pos >= dir_clear:
                # the direction rules can match only on a line with "direction" on it
                d = find_direction(text, pos, pos + 8192)
                if d >= 0:
                    next_dir = d
                else:
                    dir_clear = min(pos + 8192, n) - len(_LOWER_DIRECTION)
            key = INITIAL if pos <= next_dir < line_end else "INITIAL_NODIR"
        else:
            key = state
        compiled = _STATES.get(key)
        rx, actions, groups = compiled if compiled is not None else _state(key)
        if pos >= n:
            if windowed:
                yield None, pos, pos, cur
                return
            if done:
                yield K.END_OF_INPUT, n, n, cur
                return
            done = True  # as in jison: the next token after this one is the end of input
        m = rx.match(text, pos)
        if windowed:
            # what the rules at pos may have looked at must lie inside the window
            if pos > wline:
                wline = text.find("\n", pos)
            end = m.end() if m is not None else pos + 1
            c = text[pos]
            if (
                wline < 0
                or end >= n
                or (c == '"' and (m is None or actions[groups[m.lastgroup]][0] == K.CHAR))
                or (c == "1" and JS_WS_RUN.match(text, pos + 1).end() >= n)
                or (key == INITIAL and text.find("\n", JS_WS_RUN.match(text, wline).end()) < 0)
            ):
                yield None, pos, pos, cur
                return
        if m is None:
            if pos >= n:
                yield K.END_OF_INPUT, n, n, cur
                return
            # no rule matches (only in the style state): a lexical error
            end = pos + 1
            while end < n and text[end] not in " \t\n,:;#" and rx.match(text, end) is None:
                end += 1
            if windowed and end >= n:
                yield None, pos, pos, cur
                return
            yield K.LEX_ERROR, pos, end, cur
            pos = end
            continue
        kind, action = actions[groups[m.lastgroup]]
        end = m.end()
        before = cur
        if kind == K.EOF:
            yield K.EOF, pos, pos, before
            return
        if end == pos and pos < n:
            # only '[^}]*' can match nothing before the end, and the '}' rule precedes it;
            # never loop: make the character an error token
            yield K.LEX_ERROR, pos, pos + 1, before
            pos += 1
            continue
        if action is not None:
            if action[0] == PUSH:
                stack.append(action[1])
            elif len(stack) > 1:
                stack.pop()
            cur = tuple(stack)
        yield kind, pos, end, before
        pos = end


def conflict_lines(text: str) -> frozenset[int]:
    """Offsets of lines that are Git conflict markers (``<<<<<<<``, ``|||||||``,
    ``=======``, ``>>>>>>>`` at the start of a line)."""
    if "<<<<<<<" not in text and "=======" not in text and ">>>>>>>" not in text and "|||||||" not in text:
        return frozenset()
    return frozenset(m.start() for m in re.finditer(r"^(?:<{7}|={7}|>{7}|\|{7})(?=[ \t\n]|$)", text, re.MULTILINE))
