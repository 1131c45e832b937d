"""Plain text utilities: ranges, line indexes and source maps.

Everything in the core speaks *offsets*: indexes into a Python ``str`` (code points).
Line/column pairs and the UTF-8/UTF-16 units that editors negotiate are computed
here, at the edge, and nowhere else.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, islice
from typing import NamedTuple, Optional

__all__ = ["TextRange", "TextEdit", "LineIndex", "SourceMap", "Chunked", "Rope", "flat"]


class TextRange(NamedTuple):
    """A half-open range ``[start, end)`` of offsets into a text.

    A named tuple (immutable, ordered by start then end, hashable) rather than a frozen
    dataclass: the model makes tens of thousands per diagram, and ``tuple.__new__``
    makes one several times faster than a frozen dataclass's constructor. Its ``len`` is
    the length of the range, not 2 (so ``_make`` and ``_replace`` are not for it)."""

    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start

    def contains(self, offset: int) -> bool:
        """True when ``offset`` lies inside the range or touches its end (cursor semantics)."""
        return self.start <= offset <= self.end

    def shift(self, delta: int) -> "TextRange":
        return _new(TextRange, (self.start + delta, self.end + delta))


_new = tuple.__new__


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace the text in ``range`` by ``new_text``."""

    range: TextRange
    new_text: str


class Rope:
    """A text kept as slices of other strings (a piece table), so that a version with an
    edit applied (:meth:`spliced`) costs O(pieces + edit), not a copy of the whole text:
    a keystroke in a 2 MB document made two such copies (the document and the text the
    lexer reads), the largest cost of the keystroke on a shared machine's memory.

    It reads as the ``str`` methods the incremental paths use: ``len``, indexing and
    slicing (to a ``str``), ``find`` / ``rfind``, ``startswith``; :meth:`flat` is the whole
    text as one ``str`` (made once, on first use, and kept). A rope of more than
    ``MAX_PIECES`` pieces is flattened by the edit that would make it longer, so a run of
    edits copies the text once per some dozens of them, however nobody asks for it; a
    text shorter than ``FLAT_BELOW`` is flattened by every edit (copying it costs less
    than reading it in windows).
    Immutable: every edit makes a new rope and the old one stays valid."""

    __slots__ = ("_strs", "_los", "_ends", "_flat")

    MAX_PIECES = 48
    FLAT_BELOW = 1 << 16  # a shorter text is copied at once (cheaper than windows)

    def __init__(self, text: str = "") -> None:
        self._strs = [text] if text else []
        self._los = [0] if text else []
        self._ends = [len(text)] if text else []
        self._flat = text

    @staticmethod
    def of(text) -> "Rope":
        return text if text.__class__ is Rope else Rope(text)

    def __len__(self) -> int:
        ends = self._ends
        return ends[-1] if ends else 0

    def __repr__(self) -> str:
        return f"Rope({len(self._ends)} pieces, {len(self)} chars)"

    def flat(self) -> str:
        """The whole text as one ``str``."""
        f = self._flat
        if f is None:
            parts = []
            prev = 0
            for s, lo, e in zip(self._strs, self._los, self._ends):
                parts.append(s[lo : lo + e - prev])
                prev = e
            f = "".join(parts)
            self._flat = f
            # from now on one piece: later edits slice the flat text
            self._strs, self._los, self._ends = [f], [0], [len(f)]
        return f

    __str__ = flat

    def __eq__(self, other) -> bool:
        if isinstance(other, (Rope, str)):
            return len(self) == len(other) and self.flat() == flat(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, key):
        f = self._flat
        if f is not None:
            return f[key]
        n = self._ends[-1]
        if key.__class__ is int:
            i = key + n if key < 0 else key
            if not 0 <= i < n:
                raise IndexError("rope index out of range")
            k = bisect_right(self._ends, i)
            return self._strs[k][self._los[k] + i - (self._ends[k - 1] if k else 0)]
        a, b, step = key.indices(n)
        if step != 1:
            return self.flat()[key]
        if a >= b:
            return ""
        ends, strs, los = self._ends, self._strs, self._los
        k = bisect_right(ends, a)
        start = ends[k - 1] if k else 0
        if b <= ends[k]:  # inside one piece
            lo = los[k] - start
            return strs[k][lo + a : lo + b]
        parts = []
        while a < b:
            end = ends[k]
            lo = los[k] - start
            parts.append(strs[k][lo + a : lo + min(b, end)])
            a = start = end
            k += 1
        return "".join(parts)

    def _bounds(self, start: int, end: Optional[int]) -> tuple[int, int]:
        """``start`` and ``end`` as ``str.find`` reads them (negative from the end, clamped)."""
        n = self._ends[-1]
        end = n if end is None else (end + n if end < 0 else min(end, n))
        return max(0, start + n if start < 0 else start), end

    def find(self, sub: str, start: int = 0, end: Optional[int] = None) -> int:
        f = self._flat
        if f is not None:
            return f.find(sub, start, len(f) if end is None else end)
        start, end = self._bounds(start, end)
        if len(sub) != 1:
            return _moved(self[start:end].find(sub), start)
        ends, strs, los = self._ends, self._strs, self._los
        k = bisect_right(ends, start)
        while start < end and k < len(ends):
            pstart = ends[k - 1] if k else 0
            lo = los[k] - pstart
            i = strs[k].find(sub, lo + start, lo + min(end, ends[k]))
            if i >= 0:
                return i - lo
            start = ends[k]
            k += 1
        return -1

    def rfind(self, sub: str, start: int = 0, end: Optional[int] = None) -> int:
        f = self._flat
        if f is not None:
            return f.rfind(sub, start, len(f) if end is None else end)
        start, end = self._bounds(start, end)
        if len(sub) != 1:
            return _moved(self[start:end].rfind(sub), start)
        ends, strs, los = self._ends, self._strs, self._los
        k = bisect_right(ends, end - 1) if end > 0 else -1
        while k >= 0 and end > start:
            pstart = ends[k - 1] if k else 0
            lo = los[k] - pstart
            i = strs[k].rfind(sub, lo + max(start, pstart), lo + end)
            if i >= 0:
                return i - lo
            end = pstart
            k -= 1
        return -1

    def __contains__(self, sub: str) -> bool:
        return self.find(sub) >= 0

    def startswith(self, prefix, start: int = 0) -> bool:
        f = self._flat
        if f is not None:
            return f.startswith(prefix, start)
        longest = len(prefix) if isinstance(prefix, str) else max(map(len, prefix), default=0)
        return self[start : start + longest].startswith(prefix)

    def spliced(self, start: int, end: int, new: str) -> "Rope":
        """This text with ``[start, end)`` replaced by ``new``; shares every piece the edit
        leaves alone."""
        ends, strs, los = self._ends, self._strs, self._los
        n = ends[-1] if ends else 0
        start = max(0, min(start, n))
        end = max(start, min(end, n))
        out = Rope.__new__(Rope)
        out._flat = None
        ka = bisect_right(ends, start)  # the piece holding start (or none, at the end)
        kb = bisect_right(ends, end)  # the piece holding end
        nstrs = strs[:ka]
        nlos = los[:ka]
        nends = ends[:ka]
        if ka < len(ends):
            pstart = ends[ka - 1] if ka else 0
            if start > pstart:  # the head of the piece holding start
                nstrs.append(strs[ka])
                nlos.append(los[ka])
                nends.append(start)
        if new:
            nstrs.append(new)
            nlos.append(0)
            nends.append(start + len(new))
        delta = len(new) - (end - start)
        if kb < len(ends):
            pstart = ends[kb - 1] if kb else 0
            nstrs.append(strs[kb])
            nlos.append(los[kb] + end - pstart)
            nends.append(ends[kb] + delta)
            nstrs += strs[kb + 1 :]
            nlos += los[kb + 1 :]
            nends += [e + delta for e in ends[kb + 1 :]] if delta else ends[kb + 1 :]
        out._strs, out._los, out._ends = nstrs, nlos, nends
        if not nends:
            out._flat = ""
        elif len(nends) > self.MAX_PIECES or nends[-1] < self.FLAT_BELOW:
            out.flat()
        return out


def _moved(i: int, by: int) -> int:
    return i if i < 0 else i + by


def flat(text) -> str:
    """``text`` as a ``str`` (a :class:`Rope`'s flat text)."""
    return text if text.__class__ is str else text.flat()


class LineIndex:
    """Converts offsets to (line, column) and back, in code points, UTF-16 or UTF-8 units.

    Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (what LSP and Mermaid both count).
    The line starts are kept in chunks of about ``CHUNK`` lines, each an array of offsets
    relative to the chunk's base: an edit rewrites the chunks it touches and moves the
    bases of the later ones, so it costs O(lines touched + chunks), not O(lines).
    """

    __slots__ = ("text", "_chunks", "_bases", "_first", "_ascii")

    CHUNK = 256

    def __init__(self, text) -> None:
        text = flat(text)
        self.text = text
        starts = [0]
        if "\r" in text:
            i = 0
            n = len(text)
            while True:
                j = text.find("\n", i)
                k = text.find("\r", i)
                if j < 0 and k < 0:
                    break
                if k >= 0 and (j < 0 or k < j):
                    if k + 1 < n and text[k + 1] == "\n":
                        i = k + 2
                    else:
                        i = k + 1
                else:
                    i = j + 1
                starts.append(i)
        else:
            find = text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
        self._chunks, self._bases = self._chunked(starts)
        self._first = self._firsts(self._chunks, [], 0)
        self._ascii = text.isascii()

    @classmethod
    def _chunked(cls, starts: list) -> tuple[list, list]:
        """``starts`` (absolute, sorted) as chunks of relative offsets and their bases;
        one chunk while short, so that edits in one place do not splinter it."""
        size = cls.CHUNK
        if len(starts) <= 2 * size:
            size = max(1, len(starts))
        chunks, bases = [], []
        for a in range(0, len(starts), size):
            part = starts[a : a + size]
            b = part[0]
            chunks.append(array("q", [x - b for x in part]))
            bases.append(b)
        return chunks, bases

    @staticmethod
    def _firsts(chunks: list, first: list, n: int) -> list:
        """``first`` (the first line of each earlier chunk; ``n`` lines before
        ``chunks``) extended over ``chunks``."""
        for c in chunks:
            first.append(n)
            n += len(c)
        return first

    @property
    def line_starts(self) -> list:
        """Every line's start offset (a fresh list: O(lines); queries use ``line_start``)."""
        out = []
        for b, c in zip(self._bases, self._chunks):
            out.extend(b + x for x in c)
        return out

    def line_start(self, line: int) -> int:
        """Start offset of the 0-based ``line`` (which must exist)."""
        c = bisect_right(self._first, line) - 1
        return self._bases[c] + self._chunks[c][line - self._first[c]]

    def edited(self, edit: "TextEdit", new_text) -> "LineIndex":
        """The index of ``new_text`` (a ``str`` or a :class:`Rope`, kept as it is), which
        is this index's text with ``edit`` applied: only the chunks holding the lines the
        edit touches are scanned again (needs '\\n' line endings around the edit;
        otherwise the whole text is scanned)."""
        s, e = edit.range.start, edit.range.end
        text = self.text
        if "\r" in edit.new_text or "\r" in text[max(0, s - 1) : e + 1]:
            return LineIndex(new_text)
        bases = self._bases
        chunks = self._chunks
        # the chunks from the one holding s to the one holding e
        ca = max(0, bisect_right(bases, s) - 1)
        cb = max(ca, bisect_right(bases, e) - 1)
        delta = len(edit.new_text) - (e - s)
        region = []
        for c in range(ca, cb + 1):
            b = bases[c]
            region.extend(b + x for x in chunks[c])
        a = bisect_right(region, s)  # lines starting at or before s stay
        b2 = bisect_right(region, e)  # lines starting after e move
        mid = []
        find = edit.new_text.find
        i = find("\n")
        while i >= 0:
            mid.append(s + i + 1)
            i = find("\n", i + 1)
        new_chunks, new_bases = self._chunked(region[:a] + mid + [x + delta for x in region[b2:]])
        idx = LineIndex.__new__(LineIndex)
        idx.text = new_text
        idx._ascii = self._ascii and edit.new_text.isascii()
        idx._chunks = chunks[:ca] + new_chunks + chunks[cb + 1 :]
        tail = bases[cb + 1 :]
        idx._bases = bases[:ca] + new_bases + ([x + delta for x in tail] if delta else tail)
        n = self._first[ca - 1] + len(chunks[ca - 1]) if ca else 0
        idx._first = self._firsts(idx._chunks[ca:], self._first[:ca], n)
        return idx

    @property
    def is_ascii(self) -> bool:
        """Whether the text is ASCII (then every unit count is a code point count)."""
        return self._ascii

    @property
    def line_count(self) -> int:
        return self._first[-1] + len(self._chunks[-1])

    def line_of(self, offset: int) -> int:
        """0-based line containing ``offset`` (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        c = bisect_right(self._bases, offset) - 1
        return self._first[c] + bisect_right(self._chunks[c], offset - self._bases[c]) - 1

    def line_range(self, line: int, *, with_eol: bool = False) -> TextRange:
        """The range of a 0-based line, without its line ending unless asked."""
        count = self.line_count
        line = max(0, min(line, count - 1))
        start = self.line_start(line)
        end = self.line_start(line + 1) if line + 1 < count else len(self.text)
        if not with_eol:
            while end > start and self.text[end - 1] in "\r\n":
                end -= 1
        return TextRange(start, end)

    def line_col(self, offset: int) -> tuple[int, int]:
        """0-based (line, column) in code points."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        return line, offset - self.line_start(line)

    def position(self, offset: int, encoding: str = "utf-16") -> tuple[int, int]:
        """0-based (line, character) with the character counted in ``encoding`` units
        (``"utf-16"``, ``"utf-8"`` or ``"utf-32"``)."""
        line, col = self.line_col(offset)
        if self._ascii or encoding == "utf-32" or col == 0:
            return line, col
        start = offset - col
        return line, units(self.text[start : start + col], encoding)

    def positions(self, encoding: str = "utf-16"):
        """:meth:`position` as a function for offsets that come nearly in order (tokens,
        an outline): in a text whose units are code points it remembers the line it
        found last and answers the offsets on that line without looking again."""
        if not (self._ascii or encoding == "utf-32"):
            return lambda offset: self.position(offset, encoding)
        n = len(self.text)
        bases, chunks, first = self._bases, self._chunks, self._first
        nch = len(chunks)
        # [line start, next line's start, line, its chunk, the chunk's start, the next's]
        last = [0, -1, 0, 0, bases[0], bases[1] if nch > 1 else n + 1]

        def position(offset: int) -> tuple:
            if last[0] <= offset < last[1]:
                return last[2], offset - last[0]
            if not 0 <= offset <= n:
                return self.position(offset, encoding)  # clamped
            c = last[3]
            if not last[4] <= offset < last[5]:  # another chunk of lines
                c = bisect_right(bases, offset) - 1
                last[3], last[4] = c, bases[c]
                last[5] = bases[c + 1] if c + 1 < nch else n + 1
            b = last[4]
            chunk = chunks[c]
            i = bisect_right(chunk, offset - b) - 1
            start = b + chunk[i]
            last[0] = start
            last[1] = b + chunk[i + 1] if i + 1 < len(chunk) else last[5]
            last[2] = line = first[c] + i
            return line, offset - start

        return position

    def offset(self, line: int, character: int, encoding: str = "utf-16") -> int:
        """The offset of a 0-based (line, character) position; out-of-range positions clamp
        to the end of the line (as LSP asks) or of the text."""
        if line < 0:
            return 0
        if line >= self.line_count:
            return len(self.text)
        rng = self.line_range(line)
        if character <= 0:
            return rng.start
        if self._ascii or encoding == "utf-32":
            return min(rng.start + character, rng.end)
        count = 0
        for i in range(rng.start, rng.end):
            if count >= character:
                return i
            count += units(self.text[i], encoding)
        return rng.end


def units(s: str, encoding: str) -> int:
    """Length of ``s`` in code units of ``encoding``."""
    if encoding == "utf-32" or s.isascii():
        return len(s)
    if encoding == "utf-8":
        return len(s.encode("utf-8", "surrogatepass"))
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


class Chunked(Sequence):
    """An immutable sequence kept in chunks, so that a version with a stretch replaced
    (:meth:`spliced`) shares every chunk the edit leaves alone: it costs O(chunks +
    chunk size + replacement), not O(length), and freeing either version frees little.
    It reads as a sequence: ``len``, indexing, slicing (to a list), iteration,
    ``reversed``, ``index``, ``==`` with any list, tuple or ``Chunked``.

    A sequence of *offsets* (``offsets=True``) keeps each chunk's values relative to a
    base of its own, as the line index does: a splice that changes the length moves the
    later chunks' bases, not their values. Sorted offsets answer :meth:`bisect_left` and
    :meth:`bisect_right` in O(log n).

    ``aux`` holds one value per chunk for the sequence's owner to cache what it computed
    from that chunk (None until then); a splice keeps the values of the chunks it shares.

    With a ``typecode`` (``"q"``: signed 64-bit integers) the chunks are arrays: the
    values are not kept as objects of their own (a long-lived sequence of large numbers
    made among many short-lived objects would otherwise pin the memory those took).
    """

    __slots__ = ("_chunks", "_bases", "_first", "_len", "_heads", "aux")

    CHUNK = 256

    def __init__(self, values=(), offsets: bool = False, typecode: Optional[str] = None) -> None:
        values = values if isinstance(values, list) else list(values)
        size = self.CHUNK
        if typecode is None:
            chunks = [values[a : a + size] for a in range(0, len(values), size)]
        else:
            chunks = [array(typecode, values[a : a + size]) for a in range(0, len(values), size)]
        self._set(chunks, [0] * len(chunks) if offsets else None)

    def _set(self, chunks: list, bases, first=None, aux=None) -> "Chunked":
        self._chunks = chunks
        self._bases = bases
        if first is None:
            first = list(accumulate(map(len, chunks), initial=0))
            first.pop()
        self._first = first  # the index of each chunk's first value
        self._len = first[-1] + len(chunks[-1]) if chunks else 0
        self._heads = None  # each chunk's first value (offsets, computed on first bisect)
        self.aux = aux if aux is not None else [None] * len(chunks)
        return self

    @classmethod
    def like(cls, template: "Chunked", values) -> "Chunked":
        """``values`` (as many as ``template`` holds) chunked as ``template`` is: the two
        sequences' chunks hold the same indexes, and keep doing so when spliced alike."""
        values = values if isinstance(values, list) else list(values)
        chunks = [values[a : a + len(c)] for a, c in zip(template._first, template._chunks)]
        return cls.__new__(cls)._set(chunks, None, list(template._first))

    def aligned(self, other) -> bool:
        """Whether ``other`` is a ``Chunked`` whose chunks hold the same indexes."""
        return isinstance(other, Chunked) and self._len == other._len and self._first == other._first

    # -- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i):
        if i.__class__ is not int:
            if isinstance(i, slice):
                a, b, step = i.indices(self._len)
                if step != 1:
                    return list(self)[i]
                return list(self.iter_from(a, b))
            i = i.__index__()
        if i < 0:
            i += self._len
            if i < 0:
                raise IndexError("index out of range")
        elif i >= self._len:
            raise IndexError("index out of range")
        first = self._first
        c = bisect_right(first, i) - 1
        v = self._chunks[c][i - first[c]]
        return v if self._bases is None else v + self._bases[c]

    def iter_from(self, a: int, b: Optional[int] = None):
        """An iterator over the values of indexes ``a`` to ``b`` (default: the end); it
        visits the chunks as it goes, so taking a few values costs a few."""
        a = max(0, a)
        b = self._len if b is None else min(b, self._len)
        if a >= b:
            return iter(())
        return chain.from_iterable(self._parts(a, b))

    def _parts(self, a: int, b: int):
        first, chunks, bases = self._first, self._chunks, self._bases
        c = bisect_right(first, a) - 1
        d = bisect_right(first, b - 1)  # chunks c..d-1 hold a..b-1
        for k in range(c, d):
            chunk = chunks[k]
            lo = a - first[k] if k == c else 0
            hi = b - first[k] if k == d - 1 else len(chunk)
            part = chunk if lo == 0 and hi == len(chunk) else islice(chunk, lo, hi)
            yield map(bases[k].__add__, part) if bases is not None and bases[k] else part

    def __iter__(self):
        bases = self._bases
        if bases is None:
            return chain.from_iterable(self._chunks)
        return chain.from_iterable([map(b.__add__, c) if b else c for c, b in zip(self._chunks, bases)])

    def __reversed__(self):
        bases = self._bases
        for k in range(len(self._chunks) - 1, -1, -1):
            c = reversed(self._chunks[k])
            yield from (map(bases[k].__add__, c) if bases is not None and bases[k] else c)

    def index(self, value, start: int = 0, stop: Optional[int] = None) -> int:
        start = max(0, start)
        stop = self._len if stop is None else min(stop, self._len)
        if self._bases is None and start < stop:
            # chunk by chunk with list.index (in C: finding a node among 30,000 items
            # one by one in Python took milliseconds)
            first, chunks = self._first, self._chunks
            c = bisect_right(first, start) - 1
            for k in range(c, len(chunks)):
                f = first[k]
                if f >= stop:
                    break
                chunk = chunks[k]
                try:
                    return f + chunk.index(value, max(0, start - f), max(0, min(len(chunk), stop - f)))
                except ValueError:
                    continue
            raise ValueError(f"{value!r} is not in the sequence")
        for i, v in enumerate(self.iter_from(start, stop), start):
            if v is value or v == value:
                return i
        raise ValueError(f"{value!r} is not in the sequence")

    def __eq__(self, other) -> bool:
        if isinstance(other, (Chunked, list, tuple)):
            return len(self) == len(other) and all(x is y or x == y for x, y in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Chunked({list(self)!r})"

    def _chunk_heads(self) -> list:
        heads = self._heads
        if heads is None:
            heads = self._heads = [b + c[0] for b, c in zip(self._bases, self._chunks)]
        return heads

    def bisect_left(self, x, lo: int = 0) -> int:
        """``bisect.bisect_left(self, x, lo)`` on sorted offsets."""
        c = bisect_left(self._chunk_heads(), x) - 1
        if c < 0:
            return lo
        return max(lo, self._first[c] + bisect_left(self._chunks[c], x - self._bases[c]))

    def bisect_right(self, x) -> int:
        """``bisect.bisect_right(self, x)`` on sorted offsets."""
        c = bisect_right(self._chunk_heads(), x) - 1
        if c < 0:
            return 0
        return self._first[c] + bisect_right(self._chunks[c], x - self._bases[c])

    # -- new versions ----------------------------------------------------------------------
    def spliced(self, a: int, b: int, new, delta: int = 0) -> "Chunked":
        """This sequence with the values of indexes ``a..b`` replaced by ``new`` and, for
        offsets, ``delta`` added to every value after them. Only the chunks holding
        ``a..b`` are built again; the others are shared with this version."""
        n = self._len
        a = max(0, min(a, n))
        b = max(a, min(b, n))
        new = new if isinstance(new, list) else list(new)
        chunks, bases, first = self._chunks, self._bases, self._first
        offsets = bases is not None
        if not chunks:
            return Chunked(new, offsets)
        typecode = getattr(chunks[0], "typecode", None)  # array chunks stay arrays
        ca = bisect_right(first, a) - 1
        cb = bisect_right(first, b - 1) - 1 if b > a else ca
        end = first[cb] + len(chunks[cb])
        if (a - first[ca]) + len(new) + (end - b) < self.CHUNK // 4 and cb + 1 < len(chunks):
            # a small remainder takes the next chunk in, so that chunks do not splinter
            cb += 1
            end = first[cb] + len(chunks[cb])
        region = chunks[ca][: a - first[ca]]
        if typecode is not None:
            region = region.tolist()
        base = 0
        if not offsets:
            region += new
            region.extend(self.iter_from(b, end))
        else:
            base = bases[ca]
            region += [x - base for x in new] if base else new
            if b < end:
                for k in range(bisect_right(first, b) - 1, cb + 1):
                    c = chunks[k]
                    lo = b - first[k]
                    part = c[lo:] if lo > 0 else c
                    off = bases[k] + delta - base
                    region += [x + off for x in part] if off else part
        pieces = []
        k = max(1, round(len(region) / self.CHUNK)) if region else 0
        if k:
            step, extra = divmod(len(region), k)
            pos = 0
            for i in range(k):
                m = step + (i < extra)
                pieces.append(region[pos : pos + m] if typecode is None else array(typecode, region[pos : pos + m]))
                pos += m
        new_chunks = chunks[:ca] + pieces + chunks[cb + 1 :]
        new_bases = None
        if offsets:
            tail = bases[cb + 1 :]
            new_bases = bases[:ca] + [base] * len(pieces) + ([x + delta for x in tail] if delta else tail)
        new_first = first[:ca]
        new_first += accumulate(map(len, new_chunks[ca:-1] if len(new_chunks) > ca else ()), initial=first[ca])
        if len(new_first) > len(new_chunks):  # only when nothing is left from ca on
            del new_first[len(new_chunks) :]
        aux = self.aux
        new_aux = aux[:ca] + [None] * len(pieces) + aux[cb + 1 :]
        return Chunked.__new__(Chunked)._set(new_chunks, new_bases, new_first, new_aux)


class SourceMap:
    """Maps offsets of a derived text back to the text it was derived from.

    The derived text is covered by *runs* ``(dst_start, dst_len, src_start, src_len)``
    in order. A run with ``dst_len == src_len`` maps character by character; any other
    run (a replacement) maps as a whole. Source text that no run covers was removed.
    """

    __slots__ = ("dst", "dlen", "src", "slen", "derived_len", "source_len")

    def __init__(self, runs: list[tuple[int, int, int, int]], derived_len: int, source_len: int):
        self.dst = [r[0] for r in runs]
        self.dlen = [r[1] for r in runs]
        self.src = [r[2] for r in runs]
        self.slen = [r[3] for r in runs]
        self.derived_len = derived_len
        self.source_len = source_len

    @classmethod
    def identity(cls, length: int) -> "SourceMap":
        return cls([(0, length, 0, length)] if length else [], length, length)

    @property
    def is_identity(self) -> bool:
        return (
            len(self.dst) <= 1
            and self.derived_len == self.source_len
            and (not self.dst or (self.src[0] == 0 and self.dlen[0] == self.derived_len))
        )

    def spliced(self, i: int, ddelta: int, sdelta: int) -> "SourceMap":
        """This map after run ``i`` grew by ``ddelta`` derived and ``sdelta`` source
        characters (an edit inside it): the later runs move."""
        m = SourceMap.__new__(SourceMap)
        m.dst = self.dst[: i + 1] + [x + ddelta for x in self.dst[i + 1 :]]
        m.dlen = self.dlen[:i] + [self.dlen[i] + ddelta] + self.dlen[i + 1 :]
        m.src = self.src[: i + 1] + [x + sdelta for x in self.src[i + 1 :]]
        m.slen = self.slen[:i] + [self.slen[i] + sdelta] + self.slen[i + 1 :]
        m.derived_len = self.derived_len + ddelta
        m.source_len = self.source_len + sdelta
        return m

    def runs(self) -> list[tuple[int, int, int, int]]:
        return list(zip(self.dst, self.dlen, self.src, self.slen))

    def to_source_start(self, pos: int) -> int:
        """Source offset where a range starting at derived ``pos`` starts."""
        if not self.dst:
            return 0
        i = bisect_right(self.dst, pos) - 1
        if i < 0:
            return self.src[0]
        d, dl, s, sl = self.dst[i], self.dlen[i], self.src[i], self.slen[i]
        if pos >= d + dl:
            # past the last run (only at the very end)
            return s + sl
        if dl == sl:
            return s + (pos - d)
        return s

    def to_source_end(self, pos: int) -> int:
        """Source offset where a range ending at derived ``pos`` ends."""
        if not self.dst:
            return 0
        i = bisect_right(self.dst, pos - 1) - 1 if pos > 0 else 0
        if i < 0:
            return self.src[0]
        d, dl, s, sl = self.dst[i], self.dlen[i], self.src[i], self.slen[i]
        if pos <= d:
            return s
        if dl == sl:
            return s + min(pos - d, dl)
        return s + sl

    def to_derived(self, pos: int) -> int:
        """The smallest derived offset whose source offset is at or after source ``pos``
        (the map is monotonic: a binary search)."""
        lo, hi = 0, self.derived_len
        while lo < hi:
            mid = (lo + hi) // 2
            if self.to_source_start(mid) < pos:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def compose(self, outer: "SourceMap") -> "SourceMap":
        """A map from this map's derived text to ``outer``'s source, where this map's
        source is ``outer``'s derived text."""
        runs: list[tuple[int, int, int, int]] = []
        for d, dl, s, sl in zip(self.dst, self.dlen, self.src, self.slen):
            if dl == sl and dl:
                # split the exact run wherever the outer map changes run
                pos = 0
                while pos < dl:
                    sp = s + pos
                    j = bisect_right(outer.dst, sp) - 1
                    od, odl, os_, osl = outer.dst[j], outer.dlen[j], outer.src[j], outer.slen[j]
                    take = min(dl - pos, od + odl - sp)
                    if odl == osl:
                        runs.append((d + pos, take, os_ + (sp - od), take))
                    else:
                        a = outer.to_source_start(sp)
                        b = outer.to_source_end(sp + take)
                        runs.append((d + pos, take, a, b - a))
                    pos += take
            else:
                a = outer.to_source_start(s)
                b = outer.to_source_end(s + sl) if sl else a
                runs.append((d, dl, a, b - a))
        return SourceMap(runs, self.derived_len, outer.source_len)


class MapBuilder:
    """Builds the text and source map of a derived text piece by piece."""

    __slots__ = ("parts", "runs", "pos")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.runs: list[tuple[int, int, int, int]] = []
        self.pos = 0

    def copy(self, text: str, start: int, end: int) -> None:
        """Append ``text[start:end]`` unchanged."""
        if end <= start:
            return
        n = end - start
        self.parts.append(text[start:end])
        runs = self.runs
        if runs:
            d, dl, s, sl = runs[-1]
            if dl == sl and d + dl == self.pos and s + sl == start:
                runs[-1] = (d, dl + n, s, sl + n)
                self.pos += n
                return
        runs.append((self.pos, n, start, n))
        self.pos += n

    def replace(self, new: str, src_start: int, src_end: int) -> None:
        """Append ``new`` standing for the source range ``[src_start, src_end)``."""
        if new == "" :
            return
        if len(new) == src_end - src_start:
            # same length: keep the character-by-character mapping
            self.parts.append(new)
            self.runs.append((self.pos, len(new), src_start, len(new)))
            self.pos += len(new)
            return
        self.parts.append(new)
        self.runs.append((self.pos, len(new), src_start, src_end - src_start))
        self.pos += len(new)

    def finish(self, source_len: int) -> tuple[str, SourceMap]:
        return "".join(self.parts), SourceMap(self.runs, self.pos, source_len)


class paused_gc:
    """Pause Python's cyclic garbage collector while building large acyclic structures
    (syntax trees, models): they create millions of objects and no cycles, and every
    collection would walk all of them. Re-entrant; restores the previous state."""

    __slots__ = ("was_enabled",)

    def __enter__(self) -> "paused_gc":
        import gc

        self.was_enabled = gc.isenabled()
        if self.was_enabled:
            gc.disable()
        return self

    def __exit__(self, *exc) -> None:
        if self.was_enabled:
            import gc

            gc.enable()
