"""LineIndex: positions in code points, UTF-16 and UTF-8, with CRLF; incremental update.
Rope: reads as the string it stands for."""

from __future__ import annotations

import random

import pytest

from erd_lsp.text import LineIndex, TextEdit, TextRange


def test_positions_in_each_encoding_with_crlf_and_non_bmp():
    text = "erDiagram\r\n  \U0001F600X ||--o{ B : x\r\nlast"
    li = LineIndex(text)
    off = text.index("X")
    assert li.line_col(off) == (1, 3)
    assert li.position(off, "utf-32") == (1, 3)
    assert li.position(off, "utf-16") == (1, 4)
    assert li.position(off, "utf-8") == (1, 6)
    for enc in ("utf-8", "utf-16", "utf-32"):
        assert li.offset(*li.position(off, enc), enc) == off
    # past the end of a line clamps to its end (before the CRLF)
    assert li.offset(0, 99, "utf-16") == text.index("\r")
    assert li.line_count == 3


def test_edited_index_equals_a_fresh_one():
    rng = random.Random(3)
    t = "ab\ncd\n\nef"
    li = LineIndex(t)
    for _ in range(3000):
        a = rng.randint(0, len(t))
        b = min(len(t), a + rng.randint(0, 4))
        new = rng.choice(["", "x", "\n", "\n\n", "é\n", "\r\n", "yy", "\U0001F600"])
        t2 = t[:a] + new + t[b:]
        li2 = li.edited(TextEdit(TextRange(a, b), new), t2)
        ref = LineIndex(t2)
        assert li2.line_starts == ref.line_starts, (t, a, b, new)
        assert not li2._ascii or t2.isascii()
        for off in range(0, len(t2) + 1, 3):
            assert li2.position(off, "utf-16") == ref.position(off, "utf-16")
        t, li = t2, li2


def test_chunked_index_stays_exact_over_many_edits(monkeypatch):
    """With tiny chunks, edits split, merge and shift chunks: every query must still
    agree with a flat list of line starts."""
    monkeypatch.setattr(LineIndex, "CHUNK", 4)
    rng = random.Random(11)
    t = "".join(rng.choice(["a", "bb", "\n", "\n\n", "ccc\n"]) for _ in range(120))
    li = LineIndex(t)
    for _ in range(1500):
        a = rng.randint(0, len(t))
        b = min(len(t), a + rng.choice([0, 1, 3, 10, 40]))
        new = rng.choice(["", "x", "\n", "\n\n", "q\nr\ns\nt\nu\n", "\n" * 13, "é"])
        t2 = t[:a] + new + t[b:]
        li2 = li.edited(TextEdit(TextRange(a, b), new), t2)
        flat = [0] + [i + 1 for i, ch in enumerate(t2) if ch == "\n"]
        assert li2.line_starts == flat
        assert li2.line_count == len(flat)
        for line in range(len(flat)):
            assert li2.line_start(line) == flat[line]
        for off in range(0, len(t2) + 1, 5):
            line = max(i for i, x in enumerate(flat) if x <= off)
            assert li2.line_of(off) == line
            assert li2.line_col(off) == (line, off - flat[line])
        t, li = t2, li2


@pytest.mark.parametrize("seed", range(4))
def test_a_rope_reads_as_the_string_it_stands_for_through_random_edits(seed, monkeypatch):
    from erd_lsp.text import Rope

    monkeypatch.setattr(Rope, "FLAT_BELOW", 0)  # keep every version a rope of pieces
    rng = random.Random(seed)
    for _ in range(60):
        s = "".join(rng.choice("ab\n c") for _ in range(rng.randint(0, 60)))
        r = Rope(s)
        for _ in range(70):
            a = rng.randint(0, len(s))
            b = rng.randint(a, len(s))
            new = "".join(rng.choice("ab\nx") for _ in range(rng.randint(0, 4)))
            old, old_r = s, r
            s = s[:a] + new + s[b:]
            r = r.spliced(a, b, new)
            assert len(r) == len(s) and len(r._ends) <= Rope.MAX_PIECES
            for _ in range(4):
                i, j = rng.randint(-3, len(s) + 3), rng.randint(-3, len(s) + 3)
                assert r[i:j] == s[i:j]
                if 0 <= i < len(s):
                    assert r[i] == s[i] and r[i - len(s)] == s[i]
                for sub in ("\n", "a", "ab", "b\n"):
                    assert r.find(sub, i) == s.find(sub, i)
                    assert r.find(sub, i, j) == s.find(sub, i, j)
                    assert r.rfind(sub, i, j) == s.rfind(sub, i, j)
                    assert r.rfind(sub, 0, j) == s.rfind(sub, 0, j)
                    assert r.startswith(sub, max(i, 0)) == s.startswith(sub, max(i, 0))
                    assert (sub in r) == (sub in s)
            assert old_r == old  # an edit leaves the version it was made from as it was
        assert r.flat() == s and r == s and str(r) == s
        assert r[0 : len(s)] == s  # and reads the flat text from then on


def test_a_rope_shorter_than_the_threshold_is_flat_after_every_edit():
    from erd_lsp.text import Rope

    r = Rope("erDiagram\n").spliced(3, 3, "x")
    assert r._flat == "erDxiagram\n" and len(r._ends) == 1


@pytest.mark.parametrize(
    "text",
    ["a\nbb\n\nccc\n", "é😀\nx\r\ny😀z\n", "x" * 50 + "\n" + "y" * 3, "".join("ab"[i % 2] * (i % 7) + "\n" for i in range(3000)), ""],
)
@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_the_remembering_position_function_equals_position(text, encoding):
    """``LineIndex.positions`` (for tokens and outlines, whose offsets come nearly in
    order) remembers the last line: the same answers as ``position``, in any order, at
    line ends and past the end."""
    li = LineIndex(text)
    position = li.positions(encoding)
    rng = random.Random(len(text))
    offsets = list(range(-1, len(text) + 3)) + [rng.randint(-2, len(text) + 2) for _ in range(200)]
    # nearly in order, with jumps back and across chunks of lines (as an outline asks)
    offsets += [max(0, i + rng.choice([0, 0, 1, -40, 300, -2000])) for i in range(0, len(text) + 2, 3)]
    for off in offsets:
        assert position(off) == li.position(off, encoding), off
