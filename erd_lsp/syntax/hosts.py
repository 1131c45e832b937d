"""Find Mermaid diagrams inside host documents and map them back to the host.

A *host* is the file an editor or CI job hands us. Two kinds exist:

``"mermaid"``
    ``.mmd`` / ``.mermaid`` files: the whole file is one diagram (identity map).
``"markdown"``
    ``.md`` / ``.markdown`` / ``.mdx`` files: every fenced code block whose info
    string's first word is ``mermaid`` (any case) or the MyST form ``{mermaid}``,
    with backtick or tilde fences, plus Azure DevOps ``::: mermaid`` ... ``:::``
    blocks (the MyST colon form ``:::{mermaid}`` is accepted too).

How Markdown is scanned
-----------------------
We use a small line scanner of our own rather than a CommonMark library. The
reason is position fidelity: diagnostics, hovers and edits must land on the exact
host character, and a diagram inside ``> - ```mermaid`` has a container prefix on
every content line. markdown-it-py and mistune hand back the code block's content
as one string with those prefixes already removed and at best a line range, so the
per-character link back to the host is lost. The scanner implements the
CommonMark block rules that decide where a fence starts and ends, and nothing more:

* containers: block quotes (``>`` with its optional space, nested ``> >``) and list
  items (bullet ``-+*`` and ordered ``1.``/``1)`` markers, content indentation
  measured in columns with tabs to multiples of 4, blank lines inside items, an
  item that starts blank ends at a blank line); a line that does not continue a
  container closes it, and with it any fence opened inside it (lazy continuation
  applies only to paragraphs); containers nest at most 32 deep, deeper markers
  are read as text;
* fences: 3+ backticks or tildes indented at most 3 columns inside their
  container; backtick info strings may not contain a backtick; the closing fence
  uses the same character, is at least as long, has only spaces/tabs after it and
  sits in the same container; an unclosed fence runs to the end of the document
  (or of its container);
* the blocks that can hide a fence-looking line: other code fences (their
  content is skipped), indented code (4+ columns is never a fence), HTML blocks
  (e.g. a commented-out diagram inside ``<!-- ... -->``), and the paragraph rules
  that decide whether a list marker starts an item.

Everything works on whole lines with ``str.find`` and anchored regexes, so a scan
is linear in the size of the document. Where the spec's prose and the reference
implementations differ (a lone ``</pre>`` line starts an HTML block in cmark and
markdown-it), we follow the implementations.

``Block.text`` and line endings
-------------------------------
For a Markdown block, ``text`` is the concatenation of its content lines, each
with its original line ending (``\\n``, ``\\r\\n`` or a lone ``\\r``) *except the last
content line, whose line ending is dropped* (it belongs to the closing fence's
line structure, not to the diagram). Container prefixes and up to the opening
fence's indentation (in columns) are removed from each line; everything else is
the exact host characters, so ``host[block.map.to_source_start(i)] == block.text[i]``
for every ``i``. A tab that a prefix would only partly consume (CommonMark turns
the rest into spaces) is kept whole, to keep that guarantee. A block without
content lines has ``text == ""`` and a map anchored at ``content_start``.

For a ``.mmd`` host the text is the whole file, unchanged (trailing newline
included), with an identity map.

``Block.is_er`` mirrors Mermaid's own detection: for Markdown blocks the text is
first dedented and trimmed as ``mermaid.run()`` does with a page element; then the
front matter, ``%%{...}%%`` directives, ``%%`` comment lines and whitespace are
skipped and the rest must start with ``erDiagram``.

The module is pure: no I/O, and no input makes it raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from erd_lsp.text import MapBuilder, SourceMap, flat

__all__ = ["HOST_KINDS", "Block", "host_kind_for_path", "find_blocks"]

HOST_KINDS: tuple[str, ...] = ("mermaid", "markdown")

_SUFFIXES = {
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
}


def host_kind_for_path(path: str) -> str | None:
    """The host kind of a file path (by suffix, case-insensitive), or None when the
    file is not one we read."""
    if not isinstance(path, str):
        return None
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    if dot < 0:
        return None
    return _SUFFIXES.get(name[dot:].lower())


@dataclass(frozen=True)
class Block:
    """One Mermaid diagram found in a host document (offsets are host offsets)."""

    info: str  # the fence's language word as written ("mermaid", "{mermaid}"); "" for a .mmd file
    start: int  # start of the opening fence's line (0 for a .mmd file)
    end: int  # just after the closing fence line; end of the content when unclosed
    content_start: int  # start of the line after the opening fence (prefixes included)
    closed: bool  # False when the fence is never closed
    body: object  # the diagram source (see the module docstring): a str, or a Rope after an edit
    map: SourceMap  # offsets in ``text`` -> host offsets
    line: int  # 0-based host line of the first content line
    is_er: bool  # Mermaid would detect an ER diagram
    browser_trim: bool  # renderers dedent + trim the text (Markdown); False for .mmd
    # .mmd: the offset just after the `erDiagram` the detection found (with no '\r'
    # before it), -1 otherwise; an edit from there on cannot change the detection
    header_end: int = -1

    @property
    def text(self) -> str:
        """The diagram source as one ``str`` (made on first use after an edit)."""
        return flat(self.body)


def find_blocks(host: str, kind: str) -> list[Block]:
    """All Mermaid diagrams of ``host``, a document of the given host kind, in order.

    Unknown kinds and non-string input give an empty list."""
    if not isinstance(host, str) or not isinstance(kind, str):
        return []
    if kind == "mermaid":
        end = _er_header_end(host)
        return [_mermaid_block(host, end >= 0 or _is_er(host, False), end)]
    if kind == "markdown":
        return _scan_markdown(host)
    return []


# ---------------------------------------------------------------------------
# Mermaid diagram type detection

# Mermaid's frontMatterRegex (mermaid 11), on text whose line endings are "\n".
_FRONT_MATTER = re.compile(r"\ufeff?[\t ]*-{3}[\t ]*\n[\s\S]*?\n {0,2}-{3}[\t ]*(?:\n|\Z)")
# Mermaid's directiveRegex.
_DIRECTIVE = re.compile(
    r"%%\{\s*(?:\w+\s*:|\w+)\s*(?:\w+|(?:(?!\}%%)[^\n]|\n)*)?\s*(?:\}%%)?", re.IGNORECASE
)
_SPACE = re.compile(r"[\s\ufeff]*")
_DEDENT_INDENTS = re.compile(r"\n([\t ]+|(?!\s).)")
_DEDENT_HEAD = re.compile(r"\A\r?\n")


def _dedent(s: str) -> str:
    """What ts-dedent (used by ``mermaid.run``) does to an element's text."""
    t = s.rstrip(" \t")  # the last line break and the blanks after it
    if t.endswith("\n"):
        s = t[:-2] if t.endswith("\r\n") else t[:-1]
    width = -1
    for g in _DEDENT_INDENTS.findall(s):
        k = len(g) if g[0] in " \t" else 0
        if width < 0 or k < width:
            width = k
            if not k:
                break
    if width > 0:
        s = re.sub("\n[\t ]{%d}" % width, "\n", s)
    return _DEDENT_HEAD.sub("", s)


def _js_trim(s: str) -> str:
    """JavaScript's String.prototype.trim (which also strips a BOM)."""
    s = s.strip()
    while s[:1] == "\ufeff" or s[-1:] == "\ufeff":
        s = s.strip("\ufeff").strip()
    return s


def _mermaid_block(host: str, is_er: bool, header_end: int) -> Block:
    n = len(host)
    return Block(
        info="",
        start=0,
        end=n,
        content_start=0,
        closed=True,
        body=host,
        map=SourceMap.identity(n),
        line=0,
        is_er=is_er,
        browser_trim=False,
        header_end=header_end,
    )


def edited_mermaid_block(old: Block, host: str, start: int) -> Block:
    """``find_blocks(host, "mermaid")[0]`` for ``host``, the text of ``old`` (a ``.mmd``
    block) after an edit that starts at ``start``: an edit after the `erDiagram` the
    detection found leaves the detection as it was, so the text is not examined again
    (which would cost a scan of the whole text for '\r')."""
    if old.header_end >= 0 and start >= old.header_end and old.is_er and not old.info:
        return _mermaid_block(host, True, old.header_end)
    return find_blocks(flat(host), "mermaid")[0]


def _er_header_end(text: str) -> int:
    """The offset just after `erDiagram` where :func:`_is_er` finds it in a ``.mmd`` text,
    when no '\r' comes before it (then the text's offsets are the normalised text's);
    -1 otherwise (not ER, or a '\r' first: :func:`_is_er` decides)."""
    pos = _detect_at(text)
    if pos < 0 or "\r" in text[: pos + 9]:
        return -1
    return pos + 9


def _is_er(text: str, browser_trim: bool) -> bool:
    t = text
    if browser_trim:
        t = _js_trim(_dedent(t))
    if "\r" in t:
        t = t.replace("\r\n", "\n").replace("\r", "\n")
    return _detect_at(t) >= 0


def _detect_at(t: str) -> int:
    """Where the detection finds `erDiagram` in ``t`` (with '\n' line endings), or -1."""
    m = _FRONT_MATTER.match(t)
    pos = m.end() if m else 0
    n = len(t)
    while pos < n:
        pos = _SPACE.match(t, pos).end()
        if t.startswith("%%", pos):
            d = _DIRECTIVE.match(t, pos) if t.startswith("%%{", pos) else None
            if d is not None:
                pos = d.end()
                continue
            nl = t.find("\n", pos)
            if nl < 0:
                return -1
            pos = nl + 1
            continue
        break
    return pos if t.startswith("erDiagram", pos) else -1


# ---------------------------------------------------------------------------
# Markdown scanner

_EOL = re.compile(r"\r\n|\r|\n")
_WS = re.compile(r"[ \t]*")
_OPEN = re.compile(r"(`{3,}|~{3,})(.*)\Z", re.DOTALL)
_COLON_OPEN = re.compile(r"(:{3,})[ \t]*(mermaid|\{mermaid\})(?:[ \t].*)?\Z", re.IGNORECASE | re.DOTALL)
_CLOSE = {
    "`": re.compile(r"(`+)[ \t]*\Z"),
    "~": re.compile(r"(~+)[ \t]*\Z"),
    ":": re.compile(r"(:+)[ \t]*\Z"),
}
_FIRST_WORD = re.compile(r"[^ \t]+")
_MERMAID_WORDS = ("mermaid", "{mermaid}")
_ATX = re.compile(r"#{1,6}(?:[ \t]|\Z)")
_SETEXT = re.compile(r"(?:=+|-+)[ \t]*\Z")
_LIST = re.compile(r"([0-9]{1,9})[.)](?=[ \t]|\Z)|[-+*](?=[ \t]|\Z)")

_HTML1 = re.compile(r"<(?:script|pre|textarea|style)(?:[ \t>]|\Z)", re.IGNORECASE)
_HTML6 = re.compile(
    r"</?(?:address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd"
    r"|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset"
    r"|h[1-6]|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol"
    r"|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead|title|tr"
    r"|track|ul)(?:[ \t]|/?>|\Z)",
    re.IGNORECASE,
)
_HTML7 = re.compile(
    r"(?:<[A-Za-z][A-Za-z0-9-]*(?:[ \t]+[A-Za-z_:][A-Za-z0-9_.:-]*"
    r"(?:[ \t]*=[ \t]*(?:[^ \t\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*[ \t]*/?>"
    r"|</[A-Za-z][A-Za-z0-9-]*[ \t]*>)[ \t]*\Z"
)
_HTML_END = {
    1: re.compile(r"</(?:script|pre|textarea|style)>", re.IGNORECASE),
    2: re.compile(re.escape("-->")),
    3: re.compile(re.escape("?>")),
    4: re.compile(">"),
    5: re.compile(re.escape("]]>")),
}

_P = "paragraph"  # leaf state: an open paragraph (html blocks are ints 1..7)
# Container stack entries: _QUOTE for a block quote; a list item stores its content
# width in columns, negated while the item is still empty because it started with a
# blank marker line ("-" alone): such an item is closed by a blank line (CommonMark:
# "a list item can begin with at most one blank line").
_QUOTE = 0
# Containers nested deeper than this are read as text (like markdown-it's maxNesting),
# which keeps the work per line bounded on adversarial input.
_MAX_DEPTH = 32


def _lines(host: str):
    """Yield (start, end without line ending, start of next line) for every line."""
    n = len(host)
    pos = 0
    if "\r" not in host:
        find = host.find
        while pos < n:
            j = find("\n", pos)
            if j < 0:
                yield pos, n, n
                return
            yield pos, j, j + 1
            pos = j + 1
    else:
        for m in _EOL.finditer(host):
            yield pos, m.start(), m.end()
            pos = m.end()
        if pos < n:
            yield pos, n, n


def _ws(line: str, pos: int, col: int) -> tuple[int, int]:
    """Skip spaces and tabs: the position and column of the next other character."""
    end = _WS.match(line, pos).end()
    if end == pos:
        return pos, col
    if "\t" not in line[pos:end]:
        return end, col + (end - pos)
    for ch in line[pos:end]:
        col = col + 1 if ch == " " else (col // 4 + 1) * 4
    return end, col


def _advance(line: str, pos: int, col: int, cols: int) -> tuple[int, int]:
    """Consume up to ``cols`` columns of spaces/tabs. A tab that only partly fits is
    left in place (``pos`` stays on it) while ``col`` moves into it."""
    n = len(line)
    while cols > 0 and pos < n:
        ch = line[pos]
        if ch == " ":
            pos += 1
            col += 1
            cols -= 1
        elif ch == "\t":
            w = (col // 4 + 1) * 4 - col
            if w <= cols:
                pos += 1
                col += w
                cols -= w
            else:
                col += cols
                cols = 0
        else:
            break
    return pos, col


def _thematic_break(line: str, p: int) -> bool:
    """``line[p:]`` is 3+ of the same ``*``, ``-`` or ``_``, with only spaces/tabs between."""
    rest = line[p:].replace(" ", "").replace("\t", "")
    return len(rest) >= 3 and rest == rest[0] * len(rest)


def _after_quote_marker(line: str, pos: int, col: int) -> tuple[int, int]:
    """Position and column after a block quote's ``>`` and its optional blank (a tab
    counts as one column of it, and is consumed only when it spans exactly that column)."""
    if pos < len(line):
        ch = line[pos]
        if ch == " ":
            return pos + 1, col + 1
        if ch == "\t":
            return (pos + 1 if (col // 4 + 1) * 4 - col == 1 else pos), col + 1
    return pos, col


def _html_start(line: str, p: int, in_paragraph: bool) -> int:
    """The CommonMark HTML block type (1-7) starting at ``line[p] == "<"``, or 0."""
    if _HTML1.match(line, p):
        return 1
    if line.startswith("<!--", p):
        return 2
    if line.startswith("<?", p):
        return 3
    if line.startswith("<![CDATA[", p):
        return 5
    if line.startswith("<!", p) and p + 2 < len(line) and line[p + 2].isascii() and line[p + 2].isalpha():
        return 4
    if _HTML6.match(line, p):
        return 6
    # (the spec's prose excludes pre/script/style/textarea here, but cmark, cmark-gfm,
    # commonmark.js and markdown-it all accept e.g. a lone "</pre>": so do we)
    if not in_paragraph and _HTML7.match(line, p):
        return 7
    return 0


class _Fence:
    __slots__ = ("char", "length", "indent", "info", "mermaid", "start", "content_start", "line", "pieces")

    def __init__(self, char, length, indent, info, mermaid, start, content_start, line):
        self.char = char
        self.length = length
        self.indent = indent
        self.info = info
        self.mermaid = mermaid
        self.start = start
        self.content_start = content_start
        self.line = line
        self.pieces: list[tuple[int, int, int]] = []  # (kept start, line end, next line start)


def _block(host: str, f: _Fence, end: int, closed: bool) -> Block:
    pieces = f.pieces
    n = len(host)
    text = ""
    smap = None
    if pieces:
        b = MapBuilder()
        last = len(pieces) - 1
        run_start = run_end = -1
        for k, (a, le, ne) in enumerate(pieces):
            e = le if k == last else ne
            if a != run_end:  # a prefix was removed: start a new piece
                b.copy(host, run_start, run_end)
                run_start = a
            run_end = e
        b.copy(host, run_start, run_end)
        text, smap = b.finish(n)
    if not text:
        anchor = pieces[0][0] if pieces else f.content_start
        smap = SourceMap([(0, 0, anchor, 0)], 0, n)
    return Block(
        info=f.info,
        start=f.start,
        end=end,
        content_start=f.content_start,
        closed=closed,
        body=text,
        map=smap,
        line=f.line,
        is_er=_is_er(text, True),
        browser_trim=True,
    )


def _scan_markdown(host: str) -> list[Block]:
    blocks: list[Block] = []
    stack: list[int] = []  # open containers, outermost first
    leaf = None  # None, _P or an HTML block type
    fence: _Fence | None = None
    index = -1
    for ls, le, ne in _lines(host):
        index += 1
        line = host[ls:le]
        n = le - ls
        pos = col = 0
        matched = 0

        # 1. continue the open containers
        for k, c in enumerate(stack):
            p, cc = _ws(line, pos, col)
            if c == _QUOTE:
                if cc - col > 3 or p >= n or line[p] != ">":
                    break
                pos, col = _after_quote_marker(line, p + 1, cc + 1)
            elif c > 0:
                if p < n and cc - col < c:
                    break
                pos, col = _advance(line, pos, col, c)
            else:  # an item that is still empty
                if p >= n or cc - col < -c:
                    break
                stack[k] = c = -c
                pos, col = _advance(line, pos, col, c)
            matched += 1
        all_matched = matched == len(stack)

        # 2. continue the open leaf block
        if fence is not None:
            if all_matched:
                if pos < n and (line[pos] == " " or line[pos] == "\t"):
                    p, cc = _ws(line, pos, col)
                else:
                    p, cc = pos, col
                if p < n and line[p] == fence.char and cc - col <= 3:
                    m = _CLOSE[fence.char].match(line, p)
                    if m is not None and len(m.group(1)) >= fence.length:
                        if fence.mermaid:
                            blocks.append(_block(host, fence, ne, True))
                        fence = None
                        leaf = None
                        continue
                if fence.mermaid:
                    if fence.indent:
                        pos, col = _advance(line, pos, col, fence.indent)
                    fence.pieces.append((ls + pos, le, ne))
                continue
            # the fence's container ended: so does the fence
            if fence.mermaid:
                blocks.append(_block(host, fence, ls, False))
            fence = None
            leaf = None
            del stack[matched:]
            all_matched = True
        elif leaf is not None and leaf is not _P:
            if all_matched:
                if leaf >= 6:
                    if _ws(line, pos, col)[0] >= n:
                        leaf = None
                elif _HTML_END[leaf].search(line, pos):
                    leaf = None
                continue
            leaf = None
            del stack[matched:]
            all_matched = True

        # 3. new blocks
        while True:
            p, cc = _ws(line, pos, col)
            if p >= n:  # blank line
                if not all_matched:
                    del stack[matched:]
                leaf = None
                break
            indent = cc - col
            if indent >= 4:  # indented code or paragraph continuation
                if leaf is not _P:
                    del stack[matched:]
                    leaf = None
                break
            ch = line[p]
            if ch == ">" and matched < _MAX_DEPTH:
                del stack[matched:]
                stack.append(_QUOTE)
                matched += 1
                all_matched = True
                leaf = None
                pos, col = _after_quote_marker(line, p + 1, cc + 1)
                continue
            if ch == "`" or ch == "~" or ch == ":":
                m = _OPEN.match(line, p) if ch != ":" else _COLON_OPEN.match(line, p)
                if m is not None and (ch != "`" or "`" not in m.group(2)):
                    del stack[matched:]
                    if ch == ":":
                        word = m.group(2)
                    else:
                        w = _FIRST_WORD.search(m.group(2))
                        word = w.group() if w else ""
                    fence = _Fence(
                        ch,
                        len(m.group(1)),
                        indent,
                        word,
                        word.lower() in _MERMAID_WORDS,
                        ls,
                        ne,
                        index + 1 if ne > le else index,
                    )
                    leaf = None
                    break
            elif ch == "<":
                t = _html_start(line, p, leaf is _P)
                if t:
                    del stack[matched:]
                    leaf = t
                    if t <= 5 and _HTML_END[t].search(line, p + 2):
                        leaf = None
                    break
            elif ch == "#":
                if _ATX.match(line, p):
                    del stack[matched:]
                    leaf = None
                    break
            if ch in "=-" and leaf is _P and all_matched and _SETEXT.match(line, p):
                leaf = None  # setext heading underline
                break
            if ch in "-*_" and _thematic_break(line, p):
                del stack[matched:]
                leaf = None
                break
            if ch in "-+*0123456789" and matched < _MAX_DEPTH:
                m = _LIST.match(line, p)
                if m is not None:
                    mc = cc + (m.end() - p)
                    q, qc = _ws(line, m.end(), mc)
                    blank_item = q >= n
                    interrupts = leaf is _P and all_matched
                    if not (interrupts and (blank_item or (m.group(1) is not None and int(m.group(1)) != 1))):
                        del stack[matched:]
                        base = col
                        if blank_item:
                            width = mc + 1 - base
                            pos, col = q, qc
                        elif qc - mc > 4:
                            width = mc + 1 - base
                            pos, col = _advance(line, m.end(), mc, 1)
                        else:
                            width = qc - base
                            pos, col = q, qc
                        stack.append(-width if blank_item else width)
                        matched += 1
                        all_matched = True
                        leaf = None
                        continue
            # paragraph text (a lazy continuation keeps unmatched containers open)
            if leaf is not _P:
                del stack[matched:]
                leaf = _P
            break

    if fence is not None and fence.mermaid:
        blocks.append(_block(host, fence, len(host), False))
    return blocks
