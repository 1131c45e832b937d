"""Incremental reparsing gives exactly what a full parse gives, and does little work."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from erd_lsp.syntax import parse
from erd_lsp.syntax.hosts import find_blocks
from erd_lsp.syntax.reparse import reparse
from erd_lsp.syntax.tree import dump
from erd_lsp.text import TextEdit, TextRange
from support import SEEDS, conformance_cases

GEN = Path(__file__).resolve().parents[2] / "shared" / "tools" / "perf" / "gen_erd.py"

SNIPPETS = [
    "", "x", "\n", '"', "{", "}", " ", "||--o{", " : ", "%%", "%% c\n", "1", "\n1\n", "direction LR", "A", "end",
    "subgraph g\n", "`", "PK", ",", "<<<<<<< HEAD\n", "=======\n", ">>>>>>> main\n", "~", "accDescr {", "#quot;",
    "style A fill:#f00  \n", "\r\n", "%%{init: {}}%%", "---\n",
]


def _corpus() -> list[tuple[str, bool]]:
    out = []
    for f in SEEDS:
        for b in find_blocks(f.read_text(encoding="utf-8"), "markdown"):
            if b.is_er:
                out.append((b.text, True))
    out += [(c["text"], False) for c in conformance_cases()]
    if GEN.exists():
        for args in (["--size", "small"], ["--size", "small", "--inject-errors", "5", "--seed", "2"]):
            out.append((subprocess.run([sys.executable, str(GEN), *args], capture_output=True, text=True, check=True).stdout, False))
    return out


def _same(a, b) -> bool:
    return dump(a) == dump(b) and a.extents == b.extents and a.states == b.states and a.errors == b.errors


@pytest.mark.parametrize("seed", range(3))
def test_random_edit_sequences_equal_full_parse(seed, edited_texts):
    rng = random.Random(seed)
    checked = 0
    for text, trim in _corpus():
        p = parse(text, browser_trim=trim)
        for _ in range(12):
            n = len(p.source)
            a = rng.randint(0, n)
            b = min(n, a + rng.choice([0, 0, 1, 2, 5, 20]))
            new = rng.choice(SNIPPETS) if rng.random() < 0.7 else p.source[rng.randint(0, n) :][: rng.randint(0, 30)]
            q = reparse(p, TextEdit(TextRange(a, b), new))
            full = parse(q.source, browser_trim=trim)
            assert _same(q, full), (p.source, a, b, new)
            p = q  # keep going from the incremental result
            checked += 1
    assert checked > 3000


def test_typing_a_diagram_character_by_character(edited_texts):
    text = (Path(__file__).parent / "data" / "parser" / "kitchen-sink.mmd").read_text(encoding="utf-8")
    p = parse("")
    for i, ch in enumerate(text):
        p = reparse(p, TextEdit(TextRange(i, i), ch))
    assert _same(p, parse(text))


@pytest.mark.skipif(not GEN.exists(), reason="gen_erd.py not available")
def test_an_edit_in_a_large_diagram_reparses_one_statement():
    text = subprocess.run([sys.executable, str(GEN), "--size", "medium"], capture_output=True, text=True, check=True).stdout
    p = parse(text)
    # an edit inside an attribute block in the middle of the diagram
    at = text.index("{", len(text) // 2) + 1
    at = text.index("\n", at) + 9
    q = reparse(p, TextEdit(TextRange(at, at), "x"))
    assert _same(q, parse(q.source))
    head = next(i for i, (x, y) in enumerate(zip(p.items, q.items)) if x is not y)
    tail = next(i for i, (x, y) in enumerate(zip(reversed(p.items), reversed(q.items))) if x is not y)
    new_items = len(q.items) - head - tail
    assert 1 <= new_items <= 3, f"{new_items} of {len(q.items)} items re-parsed"


@pytest.mark.parametrize(
    "text,a,b,new",
    [
        ("erDiagram\naccTitle:\nA\n", 20, 22, "%%{init: {}}%%"),
        ("erDiagr>>>>>>> main\nam\naccTitle:\nA\n", 33, 35, "\n"),
    ],
)
def test_an_edit_that_leaves_a_value_at_the_very_end(text, a, b, new):
    """At the end of the text the lexer's last token (EOF or END_OF_INPUT) depends on
    whether it had already stood there, which no restart state records: the reparse must
    not restart there."""
    p = parse(text)
    p.extents
    q = reparse(p, TextEdit(TextRange(a, b), new))
    assert _same(q, parse(q.source))


def _commented_diagram(n: int = 40) -> str:
    lines = ["erDiagram"]
    for i in range(n):
        lines += [f"    %% entity {i}", f"    E{i} {{", "        int id PK", f"        %% note {i}", "        string name", "        string email", "    }"]
        if i:
            lines.append(f"    E{i - 1} ||--o{{ E{i} : has")
    return "\n".join(lines) + "\n"


def test_typing_between_comments_keeps_the_removed_pieces_exact(edited_texts):
    """Keystrokes in a diagram with comment lines: the preprocessed text derived after each
    edit (whose removed pieces move without being made again: RemovedSpans) equals a fresh
    preprocessing, piece for piece, and so does the parse; more edits than the spans keep
    breakpoints for, at scattered places, with inserts and deletes."""
    from erd_lsp.syntax.preprocess import RemovedSpans, preprocess

    p = parse(_commented_diagram())
    p.extents
    rng = random.Random(7)
    lazy = 0
    for k in range(3 * RemovedSpans.MAX_BREAKS):
        src = p.source
        # inside an attribute line with no comment line next to it
        spots = [src.rfind("\n", 0, i) + 1 for i in range(len(src)) if src.startswith(" email\n", i)]
        at = rng.choice(spots) + 9
        edit = TextEdit(TextRange(at, at), "xy"[: rng.randint(1, 2)]) if k % 3 else TextEdit(TextRange(at, at + 1), "")
        q = reparse(p, edit)
        fresh = preprocess(q.source)
        assert q.pre.removed == fresh.removed and tuple(q.pre.removed) == fresh.removed
        assert [q.pre.removed[i] for i in range(len(fresh.removed))] == list(fresh.removed)
        ends = q.pre._removed_ends
        assert [ends[i] for i in range(len(ends))] == [r.end for r in fresh.removed]
        assert _same(q, parse(q.source))
        lazy += isinstance(q.pre.removed, RemovedSpans)
        p = q
    assert lazy > RemovedSpans.MAX_BREAKS  # the edits did take the derived path


def test_removed_spans_shift_like_a_tuple():
    from erd_lsp.syntax.preprocess import Removed, RemovedSpans

    rng = random.Random(3)
    plain = [Removed(10 * i, 10 * i + 4, "comment") for i in range(50)]
    spans = RemovedSpans(tuple(plain))
    for _ in range(200):
        j, d = rng.randint(0, 49), rng.choice([-2, -1, 1, 3])
        plain = plain[:j] + [Removed(a + d, b + d, k) for a, b, k in plain[j:]]
        spans = spans.shifted(j, d)
        assert spans == tuple(plain) and list(spans) == plain and len(spans) == len(plain)
        assert spans[j] == plain[j] and spans[-1] == plain[-1] and spans[3:9] == tuple(plain[3:9])
        assert len(spans._js) <= RemovedSpans.MAX_BREAKS
        e = spans.ends()
        assert [e[i] for i in range(len(e))] == [r.end for r in plain]


def test_a_reparse_frees_the_old_texts_without_the_cyclic_collector():
    """Nothing of a parse (its lexer text: megabytes on a large file) waits for Python's
    cyclic garbage collector: the token stream's generator does not hold the stream."""
    import gc
    import weakref

    p = parse(_commented_diagram())
    p.extents
    at = p.source.index("int id") + 3
    was = gc.isenabled()
    gc.disable()
    try:
        q = reparse(p, TextEdit(TextRange(at, at), "x"))
        r = reparse(q, TextEdit(TextRange(at, at), "y"))
        ref = weakref.ref(q.pre)
        del q
        assert ref() is None
        assert _same(r, parse(r.source))
    finally:
        if was:
            gc.enable()


@pytest.mark.parametrize(
    "text",
    [
        # a `direction` whose value is on a later line: its rule looks past the line end
        "erDiagram\n    A ||--o{ B : has\n    direction\n\n      TB\n    B {\n        int id\n    }\n",
        # runs of blank lines longer than the fast path's margin, between plain statements
        "erDiagram\n    A ||--o{ B : has" + "\n" * 30 + "    B ||--o{ C : has\n" + "\n" * 13 + "    C {\n        int id\n    }\n",
        # a lone quote: the string it may open ends anywhere after it
        'erDiagram\n    A ||--o{ B : has\n    A {\n        int "x\n    }\n    B ||--o{ C : "has\n',
        # `1` looks past whitespace (and blank lines) for what follows
        "erDiagram\n    A ||--o{ B : has\n    A 1 \n\n   \n  only one B : x\n",
    ],
)
def test_every_edit_near_a_far_looking_token_in_tiny_windows(text, monkeypatch):
    """Tokens whose lexing looks beyond their line, read in windows of a few characters:
    an edit at every offset before them (insert and delete) gives the full parse."""
    from erd_lsp import text as text_module
    from erd_lsp.syntax import fastpath, lexer

    monkeypatch.setattr(text_module.Rope, "FLAT_BELOW", 0)
    for window, fast_window, margin in ((4, 40, 10), (16, 64, 12), (32, 128, 30)):
        monkeypatch.setattr(lexer, "WINDOW", window)
        monkeypatch.setattr(fastpath, "_WINDOW", fast_window)
        monkeypatch.setattr(fastpath, "_MARGIN", margin)
        p = parse(text)
        p.extents
        for at in range(len("erDiagram\n"), len(text)):
            for edit in (TextEdit(TextRange(at, at), "x"), TextEdit(TextRange(at, at), " "), TextEdit(TextRange(at, at + 1), "")):
                q = reparse(p, edit)
                assert _same(q, parse(q.source)), (window, at, edit)
