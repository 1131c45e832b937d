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
def test_random_edit_sequences_equal_full_parse(seed):
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


def test_typing_a_diagram_character_by_character():
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
