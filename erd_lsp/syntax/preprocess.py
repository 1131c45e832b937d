"""Mermaid's text preprocessing, reproduced with a source map.

Before its ER grammar sees a diagram, Mermaid 12.3.0 rewrites the text in this order
(``mermaid-er-syntax.md`` §1):

1. ``\\r\\n`` and lone ``\\r`` become ``\\n``; inside ``<tag attr="v">`` the attribute
   quotes become ``'``;
2. YAML front matter at the very start is cut off (and must be valid YAML);
3. every ``%%{ ... }%%`` directive is removed, wherever it is (an unclosed one eats the rest);
4. whole-line ``%%`` comments are removed with their newline, then leading whitespace;
5. ``style``/``classDef`` lines lose a final ``;`` and ``#word;`` entities become marker
   characters; a ``\\n`` is appended.

:func:`preprocess` does the same and records, for every removed piece of the source, a
:class:`Removed` span (so the syntax tree can keep it as trivia) and a :class:`SourceMap`
from the text the lexer reads back to the diagram source. Nothing here raises.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from collections.abc import Sequence
from typing import NamedTuple, Optional

from erd_lsp.syntax import kinds as K
from erd_lsp.text import MapBuilder, Rope, SourceMap, flat

# JavaScript's \s, \w and '.' (no unicode flag), which differ from Python's.
JS_WS = "\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
JS_DOT = "[^\n\r\u2028\u2029]"
JS_WS_RUN = re.compile("[" + JS_WS + "]*")  # a run of JavaScript whitespace (what lookaheads skip)

_DIRECTIVE = re.compile(
    r"%{2}\{[" + JS_WS + r"]*(?:([A-Za-z0-9_]+)[" + JS_WS + r"]*:|([A-Za-z0-9_]+))[" + JS_WS
    + r"]*(?:([A-Za-z0-9_]+)|((?:(?!\}%{2})" + JS_DOT + r"|\r?\n)*))?[" + JS_WS + r"]*(?:\}%{2})?",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"^[" + JS_WS + r"]*%%(?!\{)[^\n]+\n?", re.MULTILINE)
_TAG = re.compile(r"<([A-Za-z0-9_]+)([^>]*)>")
_TAG_ATTR = re.compile(r'="([^"]*)"')
_STYLE_SEMI = re.compile(r"style" + JS_DOT + r"*:[^" + JS_WS + r"]*#" + JS_DOT + r"*;")
_CLASSDEF_SEMI = re.compile(r"classDef" + JS_DOT + r"*:[^" + JS_WS + r"]*#" + JS_DOT + r"*;")
_ENTITY = re.compile(r"#[A-Za-z0-9_]+;")
_INT = re.compile(r"\+?[0-9]+")
_LEADING_WS = re.compile(r"[" + JS_WS + r"]*")
_DETECT_ER = re.compile(r"[" + JS_WS + r"]*erDiagram")
_WS_CHARS = frozenset(
    "\t\n\x0b\x0c\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)

MARK_OPEN = "\ufb02\u00b0"
MARK_OPEN_INT = "\ufb02\u00b0\u00b0"
MARK_CLOSE = "\u00b6\u00df"

# Kinds of removed source text.
FRONT_MATTER = "front_matter"
DIRECTIVE = "directive"
COMMENT = "comment"
WHITESPACE = "whitespace"  # trimmed leading whitespace, dedent indentation, '\r' of CRLF
STYLE_SEMI = "style_semicolon"

# the token kind of each kind of removed text (trivia in the syntax tree)
REMOVED_TOKEN = {
    FRONT_MATTER: K.FRONT_MATTER,
    DIRECTIVE: K.DIRECTIVE,
    COMMENT: K.COMMENT,
    WHITESPACE: K.WHITESPACE,
    STYLE_SEMI: K.REMOVED_SEMI,
}


class Removed(NamedTuple):
    """A piece of the diagram source that Mermaid deletes before lexing (a tuple: an
    edit moves every later piece, and tuples are the cheapest objects to make)."""

    start: int
    end: int
    kind: str


class RemovedSpans(Sequence):
    """The removed pieces of a text derived by :func:`preprocess_edit`: a sequence of
    :class:`Removed` that reads like the tuple :func:`preprocess` makes, but moves the
    pieces after an edit without making them again. It keeps a tuple of pieces (shared by
    the versions derived from it) and the shift of each stretch of it, as breakpoints
    ``(first index, shift)``: an edit adds one (O(breakpoints), not O(pieces)); after
    ``MAX_BREAKS`` of them the pieces are made once more (a new shared tuple)."""

    __slots__ = ("_base", "_ends", "_js", "_ds")

    MAX_BREAKS = 24

    def __init__(self, base: tuple, ends: Optional[list] = None, js: Optional[list] = None, ds: Optional[list] = None) -> None:
        self._base = base
        self._ends = ends if ends is not None else [r[1] for r in base]  # shared with `base`
        self._js = js if js is not None else [0]  # breakpoints: the first index of each stretch
        self._ds = ds if ds is not None else [0]  # the shift of each stretch

    def shifted(self, j: int, delta: int) -> "RemovedSpans":
        """These pieces with ``delta`` added to the offsets of those from index ``j`` on."""
        js, ds = list(self._js), list(self._ds)
        k = bisect_right(js, j) - 1
        if js[k] != j:
            k += 1
            js.insert(k, j)
            ds.insert(k, ds[k - 1])
        for m in range(k, len(ds)):
            ds[m] += delta
        if k > 0 and ds[k] == ds[k - 1]:
            del js[k], ds[k]
        if len(js) > self.MAX_BREAKS:
            base = tuple(_shifted_pieces(self._base, js, ds))
            return RemovedSpans(base)
        return RemovedSpans(self._base, self._ends, js, ds)

    def __len__(self) -> int:
        return len(self._base)

    def __getitem__(self, i):
        if i.__class__ is not int:
            if isinstance(i, slice):
                return tuple(self)[i]
            i = i.__index__()
        r = self._base[i]  # raises IndexError as a tuple would
        if i < 0:
            i += len(self._base)
        d = self._ds[bisect_right(self._js, i) - 1]
        return r if not d else tuple.__new__(Removed, (r[0] + d, r[1] + d, r[2]))

    def __iter__(self):
        return _shifted_pieces(self._base, self._js, self._ds)

    def ends(self) -> list:
        """The pieces' end offsets (a list for ``bisect``, made a stretch at a time:
        a few microseconds where a sequence computing each on access cost tens)."""
        ends, js, ds = self._ends, self._js, self._ds
        out: list = []
        for k, (j, d) in enumerate(zip(js, ds)):
            part = ends[j : js[k + 1]] if k + 1 < len(js) else ends[j:]
            out.extend(map(d.__add__, part) if d else part)
        return out

    def __eq__(self, other) -> bool:
        if isinstance(other, (RemovedSpans, tuple, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"RemovedSpans({tuple(self)!r})"


def _shifted_pieces(base: tuple, js: list, ds: list):
    new = tuple.__new__
    for k, (j, d) in enumerate(zip(js, ds)):
        end = js[k + 1] if k + 1 < len(js) else len(base)
        if not d:
            yield from base[j:end]
        else:
            for a, b, kind in base[j:end]:
                yield new(Removed, (a + d, b + d, kind))


@dataclass(frozen=True, slots=True)
class FrontMatterError:
    start: int
    end: int
    message: str


@dataclass(frozen=True)
class Preprocessed:
    src: object  # the diagram source (lossless tree text): a str, or a Rope after an edit
    lexed: object  # what the lexer reads: a str, or a Rope after an edit
    map: SourceMap  # lexer text -> source
    removed: Sequence  # of Removed, sorted, source offsets (a tuple, or RemovedSpans)
    replaced: tuple[tuple[int, str], ...]  # same-length rewrites: (source offset, new char)
    front_matter: Optional[tuple[int, int]]  # source range of the front matter block
    front_matter_body: Optional[tuple[int, int]]
    front_matter_error: Optional[FrontMatterError]
    title: Optional[str]
    is_er: bool  # Mermaid's detector would pick the ER diagram
    header_offset: int  # source offset where detection expects `erDiagram`
    browser_trim: bool = False

    @property
    def source(self) -> str:
        """The diagram source as one ``str`` (made on first use after an edit)."""
        return flat(self.src)

    @property
    def text(self) -> str:
        """The text the lexer reads as one ``str`` (made on first use after an edit; the
        incremental paths read :attr:`lexed` a window at a time)."""
        return flat(self.lexed)

    def clean(self, start: int, end: int) -> str:
        """The value Mermaid sees for the source range ``[start, end)``: removed pieces
        cut out, line endings normalised, rewrites applied (entities stay as written)."""
        src = self.src
        removed = self.removed
        replaced = self.replaced
        inside = []
        if removed:
            i = bisect_right(self._removed_ends, start)
            while i < len(removed) and removed[i].start < end:
                inside.append(removed[i])
                i += 1
        reps = []
        if replaced:
            i = bisect_left(self._replaced_offsets, start)
            while i < len(replaced) and replaced[i][0] < end:
                reps.append(replaced[i])
                i += 1
        if not inside and not reps:
            s = src[start:end]
            return s if "\r" not in s else s.replace("\r\n", "\n").replace("\r", "\n")
        chars = list(src[start:end])
        for off, ch in reps:
            chars[off - start] = ch
        for r in inside:
            for k in range(max(r.start, start), min(r.end, end)):
                chars[k - start] = ""
        out = "".join(chars)
        return out.replace("\r\n", "\n").replace("\r", "\n")

    @property
    def _removed_ends(self) -> list:
        v = self.__dict__.get("_re_cache")
        if v is None:
            removed = self.removed
            v = removed.ends() if isinstance(removed, RemovedSpans) else [r.end for r in removed]
            object.__setattr__(self, "_re_cache", v)
        return v

    @property
    def _replaced_offsets(self) -> list:
        v = self.__dict__.get("_ro_cache")
        if v is None:
            v = [o for o, _ in self.replaced]
            object.__setattr__(self, "_ro_cache", v)
        return v


class _Stage:
    """One text plus its map back to the source, and the edits made so far."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.text = source
        self.map: Optional[SourceMap] = None  # None = identity
        self.removed: list[Removed] = []
        self.replaced: list[tuple[int, str]] = []

    def src_start(self, pos: int) -> int:
        return pos if self.map is None else self.map.to_source_start(pos)

    def src_end(self, pos: int) -> int:
        return pos if self.map is None else self.map.to_source_end(pos)

    def edit(self, edits: list[tuple[int, int, str, str]]) -> None:
        """Apply ``(start, end, replacement, kind)`` edits (sorted, non-overlapping)."""
        if not edits:
            return
        text = self.text
        b = MapBuilder()
        pos = 0
        for start, end, new, kind in edits:
            b.copy(text, pos, start)
            if new:
                b.replace(new, start, end)
                if len(new) == end - start and kind == "rewrite":
                    for i, (a, c) in enumerate(zip(text[start:end], new)):
                        if a != c:
                            self.replaced.append((self.src_start(start + i), c))
            elif end > start:
                s0, s1 = self.src_start(start), self.src_end(end)
                if s1 > s0:
                    self.removed.append(Removed(s0, s1, kind))
            pos = end
        b.copy(text, pos, len(text))
        new_text, step = b.finish(len(text))
        self.map = step if self.map is None else step.compose(self.map)
        self.text = new_text


def match_front_matter(text: str) -> Optional[tuple[str, int, int, int]]:
    """Mermaid's front matter rule: ``(indent, body_start, body_end, length)`` or None.

    The text (after optional spaces/tabs) must start with ``---`` and only whitespace may
    follow it on that line; the block ends at the last-chance ``---`` line with the same
    indentation, followed by whitespace up to a line break."""
    n = len(text)
    cursor = 0
    while cursor < n and text[cursor] in _WS_CHARS and text[cursor] not in "\r\n":
        cursor += 1
    indent = text[:cursor]
    if not text.startswith("---", cursor):
        return None
    opening_ends = []
    i = cursor + 3
    while i < n and text[i] in _WS_CHARS:
        if text[i] in "\r\n":
            opening_ends.append(i)
        i += 1
    if not opening_ends:
        return None
    fence = "\n" + indent + "---"

    def closing_end(i: int) -> int:
        # i is the index of a '\n' followed by the closing fence
        j = i + len(fence)
        last = -1
        while j < n and text[j] in _WS_CHARS:
            if text[j] in "\r\n":
                last = j
            j += 1
        return last

    earliest = opening_ends[0] + 1
    # find every candidate closing fence position
    candidates = []
    i = text.find(fence, max(earliest - 1, 0))
    while i >= 0:
        if i >= earliest and closing_end(i) != -1:
            candidates.append(i)
        i = text.find(fence, i + 1)
    if not candidates:
        return None
    last_closing = candidates[-1]
    opening_end = opening_ends[0]
    for c in opening_ends:
        if c < last_closing:
            opening_end = c
    body_start = opening_end + 1
    for c in candidates:
        if body_start <= c <= last_closing:
            return indent, body_start, c, closing_end(c) + 1
    return None


def _check_yaml(body: str) -> tuple[Optional[str], Optional[int], Optional[str]]:
    """(error message, 0-based line in body, title) of the front matter YAML."""
    try:
        import yaml  # PyYAML: a real YAML parser, so that invalid front matter is caught
    except ImportError:  # pragma: no cover - declared dependency
        return None, None, None
    try:
        try:
            data = yaml.safe_load(body)
        except yaml.YAMLError:
            if "\t" not in body:
                raise
            # js-yaml (Mermaid's parser) tolerates tabs where PyYAML does not
            data = yaml.safe_load(body.replace("\t", " "))
    except yaml.YAMLError as e:  # type: ignore[attr-defined]
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line if mark is not None else 0
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        return f"invalid YAML in front matter: {problem}", line, None
    except Exception as e:  # noqa: BLE001 - any YAML failure is a diagnostic, never a crash
        return f"invalid YAML in front matter: {e}", 0, None
    title = None
    if isinstance(data, dict) and data.get("title") not in (None, ""):
        title = str(data.get("title"))
    return None, None, title


def comment_lines(text: str) -> list:
    """The spans ``_COMMENT.finditer(text)`` finds, found faster: only where a ``%%``
    is the first non-blank character after a line start is the expression tried, from
    the earliest line start it can match at (its leading blanks span lines)."""
    out = []
    pos = 0
    ws = _WS_CHARS
    match = _COMMENT.match
    find = text.find
    while True:
        i = find("%%", pos)
        if i < 0:
            return out
        j = i
        while j > pos and text[j - 1] in ws:
            j -= 1
        if j == 0 or text[j - 1] == "\n":
            start = j
        else:
            k = find("\n", j, i)
            if k < 0:  # something else precedes it on its line
                pos = i + 2
                continue
            start = k + 1
        m = match(text, start)
        if m is None:
            pos = i + 2
            continue
        out.append((start, m.end()))
        pos = m.end()


def _dedent_trim(stage: _Stage) -> None:
    """What ``mermaid.run()`` does to the text of a ``<pre class="mermaid">``: remove the
    common indentation of the non-blank lines, then trim the whole text."""
    text = stage.text
    lines = []
    pos = 0
    n = len(text)
    while pos <= n:
        j = text.find("\n", pos)
        if j < 0:
            lines.append((pos, n))
            break
        lines.append((pos, j))
        pos = j + 1
    indent = None
    for a, b in lines:
        line = text[a:b]
        if line.strip(JS_WS_STR) == "":
            continue
        k = len(line) - len(line.lstrip(" \t"))
        indent = k if indent is None else min(indent, k)
    edits = []
    if indent:
        for a, b in lines:
            line = text[a:b]
            k = min(indent, len(line) - len(line.lstrip(" \t")))
            if k:
                edits.append((a, a + k, "", WHITESPACE))
    stage.edit(edits)
    text = stage.text
    lead = len(text) - len(text.lstrip(JS_WS_STR))
    trail = len(text) - len(text.rstrip(JS_WS_STR))
    edits = []
    if lead == len(text):
        if text:
            edits.append((0, len(text), "", WHITESPACE))
    else:
        if lead:
            edits.append((0, lead, "", WHITESPACE))
        if trail:
            edits.append((len(text) - trail, len(text), "", WHITESPACE))
    stage.edit(edits)


JS_WS_STR = "".join(sorted(_WS_CHARS))


def preprocess(source: str, *, browser_trim: bool = False) -> Preprocessed:
    """Reproduce Mermaid's preprocessing of ``source`` (one diagram's text)."""
    st = _Stage(source)

    # 1. line endings: '\r\n' loses its '\r'; a lone '\r' becomes '\n'
    if "\r" in source:
        edits = []
        for m in re.finditer(r"\r\n?", source):
            if m.end() - m.start() == 2:
                edits.append((m.start(), m.start() + 1, "", WHITESPACE))
            else:
                edits.append((m.start(), m.end(), "\n", "rewrite"))
        st.edit(edits)
    if browser_trim:
        _dedent_trim(st)
    # ... and attribute quotes inside <tags> become single quotes
    if "<" in st.text:
        edits = []
        for m in _TAG.finditer(st.text):
            attrs = m.group(2)
            if '="' in attrs:
                new = _TAG_ATTR.sub(lambda a: "='" + a.group(1) + "'", attrs)
                if new != attrs:
                    edits.append((m.start(2), m.end(2), new, "rewrite"))
        st.edit(edits)

    # 2. front matter
    fm_range = fm_body = None
    fm_error = None
    title = None
    fm = match_front_matter(st.text)
    if fm is not None:
        indent, b0, b1, length = fm
        body = st.text[b0:b1]
        if indent:
            body = "\n".join(l[len(indent):] if l.startswith(indent) else l for l in body.split("\n"))
        msg, line, title = _check_yaml(body)
        fm_range = (st.src_start(0), st.src_end(length))
        fm_body = (st.src_start(b0), st.src_end(b1))
        if msg is not None:
            # point at the offending line of the body
            lines = st.text[b0:b1].split("\n")
            line = max(0, min(line or 0, len(lines) - 1))
            a = b0 + sum(len(x) + 1 for x in lines[:line])
            fm_error = FrontMatterError(st.src_start(a), st.src_end(a + len(lines[line])), msg)
        st.edit([(0, length, "", FRONT_MATTER)])

    # 3. directives
    if "%%" in st.text:
        if "%%{" in st.text:  # every directive starts so
            st.edit([(m.start(), m.end(), "", DIRECTIVE) for m in _DIRECTIVE.finditer(st.text) if m.end() > m.start()])
        # 4. comment lines
        if "%%" in st.text:
            st.edit([(a, b, "", COMMENT) for a, b in comment_lines(st.text)])
    lead = _LEADING_WS.match(st.text).end()
    if lead:
        st.edit([(0, lead, "", WHITESPACE)])

    header_offset = st.src_start(0)
    is_er = _detect_er(st.text)

    # 5. entity encoding
    edits = []
    if "style" in st.text or "classDef" in st.text:
        semis = []
        for rx in (_STYLE_SEMI, _CLASSDEF_SEMI):
            for m in rx.finditer(st.text):
                semis.append(m.end() - 1)
        # a ';' may be dropped only once even if both patterns end there
        for p in sorted(set(semis)):
            edits.append((p, p + 1, "", STYLE_SEMI))
        st.edit(edits)
        edits = []
    if "#" in st.text:
        for m in _ENTITY.finditer(st.text):
            inner = m.group()[1:-1]
            opener = MARK_OPEN_INT if _INT.fullmatch(inner) else MARK_OPEN
            edits.append((m.start(), m.end(), opener + inner + MARK_CLOSE, "entity"))
        st.edit(edits)

    text = st.text + "\n"
    smap = st.map if st.map is not None else SourceMap.identity(len(source))
    # the appended '\n' stands for the end of the source
    runs = smap.runs()
    runs.append((len(st.text), 1, len(source), 0))
    smap = SourceMap(runs, len(text), len(source))
    removed = tuple(sorted(st.removed, key=lambda r: (r.start, r.end)))
    return Preprocessed(
        src=source,
        lexed=text,
        map=smap,
        removed=removed,
        replaced=tuple(sorted(st.replaced)),
        front_matter=fm_range,
        front_matter_body=fm_body,
        front_matter_error=fm_error,
        title=title,
        is_er=is_er,
        header_offset=header_offset,
        browser_trim=browser_trim,
    )


def _strip_any_comments(text: str) -> str:
    """Mermaid's detector-side comment stripping: from every ``%%`` (and the whitespace
    before it) to the end of its line."""
    out = []
    consumed = 0
    search = 0
    n = len(text)
    while search < n:
        marker = text.find("%%", search)
        if marker < 0:
            break
        line_end = text.find("\n", marker)
        if line_end < 0:
            break
        start = marker
        while start > consumed and text[start - 1] in _WS_CHARS:
            start -= 1
        out.append(text[consumed:start] + "\n")
        consumed = line_end + 1
        search = consumed
    out.append(text[consumed:])
    return "".join(out)


def _detect_er(cleaned: str) -> bool:
    t = cleaned
    fm = match_front_matter(t)
    if fm is not None:
        t = t[fm[3] :]
    if "%%" in t:
        t = _strip_any_comments(_DIRECTIVE.sub("", t))
    return _DETECT_ER.match(t) is not None


OTHER_DIAGRAM_KEYWORDS = frozenset(
    """graph flowchart flowchart-v2 flowchart-elk sequenceDiagram classDiagram classDiagram-v2
    stateDiagram stateDiagram-v2 gantt pie journey gitGraph requirementDiagram requirement
    C4Context C4Container C4Component C4Dynamic C4Deployment mindmap timeline quadrantChart
    sankey sankey-beta xychart xychart-beta block block-beta packet packet-beta architecture
    architecture-beta kanban radar radar-beta treemap treemap-beta info zenuml venn venn-beta
    ishikawa ishikawa-beta""".split()
)


# characters some preprocessing step reacts to (`<`: anywhere in the text already refuses)
_SPECIAL = ("%", "#", "<", "\r", "\u2028", "\u2029")


def preprocess_edit(
    old: Preprocessed, start: int, end: int, new_text: str, new_source=None
) -> Optional[Preprocessed]:
    """``old`` after replacing source ``[start, end)`` by ``new_text``, without running the
    preprocessing again, when the edit provably changes nothing but text: its lines (and
    the blank lines after them, which a comment line below would take with it) hold none
    of the characters preprocessing reacts to, and no removed or rewritten text is near.
    None when that cannot be shown; the caller then preprocesses the whole text.

    The new source and lexer text are :class:`~erd_lsp.text.Rope` s sharing the old ones'
    text (``new_source``, the edited source, when the caller has it already): nothing here
    costs a copy of the text."""
    if old.browser_trim or not _no_angle(old):
        return None
    src = old.src
    n = len(src)
    if not (0 <= start <= end <= n):
        return None
    ls = src.rfind("\n", 0, start) + 1
    # the old region: the edited lines plus following blank lines and the next line
    le = src.find("\n", end)
    le = n if le < 0 else le
    k = le
    while k < n:
        nxt = src.find("\n", k + 1)
        nxt = n if nxt < 0 else nxt
        line = src[k + 1 : nxt]
        k = nxt
        if line.strip(JS_WS_STR):
            break
    region_old = src[ls:k]
    region_new = src[ls:start] + new_text + src[end:k]
    for ch in _SPECIAL:
        if ch in region_old or ch in region_new:
            return None
    if old.front_matter is not None and ls <= old.front_matter[1]:
        return None
    if ls <= old.header_offset + len("erDiagram"):
        return None
    # a `---` line can close (or open) front matter only in a text that starts with one
    # (the start is before the header, which the edit does not reach)
    if ("-" in region_old or "-" in region_new) and _dash_head(old):
        return None
    removed = old.removed
    if removed:
        i = bisect_left(old._removed_ends, ls)  # the first removed piece ending at or after ls
        if i < len(removed) and removed[i].start <= k:
            return None
    for off, _c in old.replaced:
        if ls <= off <= k:
            return None
    delta = len(new_text) - (end - start)
    smap = old.map
    # the region must sit inside one exact run of the map
    i = bisect_right(smap.src, ls) - 1
    if i < 0:
        return None
    d, dl, s, sl = smap.dst[i], smap.dlen[i], smap.src[i], smap.slen[i]
    if dl != sl or not (s <= ls and k <= s + sl):
        return None
    nstart = d + (start - s)
    nend = d + (end - s)
    text = Rope.of(old.lexed).spliced(nstart, nend, new_text)
    new_map = smap.spliced(i, delta, delta)
    if new_source is None:
        new_source = Rope.of(src).spliced(start, end, new_text)
    if delta and removed:
        j = bisect_right(old._removed_ends, start)  # pieces ending after the edit start move
        if j < len(removed):
            if not isinstance(removed, RemovedSpans):
                removed = RemovedSpans(removed)
            removed = removed.shifted(j, delta)
    replaced = old.replaced
    if replaced and delta:
        replaced = tuple((o, c) if o < start else (o + delta, c) for o, c in replaced)
    out = Preprocessed(
        src=new_source,
        lexed=text,
        map=new_map,
        removed=removed,
        replaced=replaced,
        front_matter=old.front_matter,
        front_matter_body=old.front_matter_body,
        front_matter_error=old.front_matter_error,
        title=old.title,
        is_er=old.is_er,
        header_offset=old.header_offset,
        browser_trim=old.browser_trim,
    )
    # what this edit provably left as it was (the region holds no `<`; the head of the
    # text is before the edit)
    object.__setattr__(out, "_no_lt", True)
    object.__setattr__(out, "_dashes", _dash_head(old))
    plain = old.__dict__.get("_plain")
    if plain is not None:  # the runs are the old ones, one longer or shorter
        object.__setattr__(out, "_plain", plain)
    marks = old.__dict__.get("_marks")
    if marks:  # every removed piece is still there, in order, with its text
        object.__setattr__(out, "_marks", dict(marks))
    return out


def _no_angle(pre: Preprocessed) -> bool:
    """Whether the source holds no `<` (cached: an edit that keeps it so carries it on)."""
    v = pre.__dict__.get("_no_lt")
    if v is None:
        v = "<" not in pre.source
        object.__setattr__(pre, "_no_lt", v)
    return v


def _dash_head(pre: Preprocessed) -> bool:
    """Whether the source starts (after whitespace) with `---` (cached)."""
    v = pre.__dict__.get("_dashes")
    if v is None:
        src = pre.source
        v = src.startswith("---", _LEADING_WS.match(src).end())
        object.__setattr__(pre, "_dashes", v)
    return v


def removed_where(pre: Preprocessed, name: str, test) -> tuple:
    """The indexes in ``pre.removed`` of the pieces for which ``test(source, piece)``
    holds, where ``test`` reads only the piece's own text. Cached under ``name``, and
    carried to the next version by :func:`preprocess_edit` (the edits it takes leave
    every removed piece and its text as they are), so that asking again after a
    keystroke costs nothing."""
    marks = pre.__dict__.get("_marks")
    if marks is None:
        marks = {}
        object.__setattr__(pre, "_marks", marks)
    found = marks.get(name)
    if found is None:
        src = pre.source
        found = marks[name] = tuple(i for i, r in enumerate(pre.removed) if test(src, r))
    return found
