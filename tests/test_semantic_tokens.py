"""Semantic tokens carried across edits (structure.semantic_tokens_data) equal a fresh
document's, and the edits they report turn the previous data into the new.

Random keystrokes and statement-level edits (breaking and repairing blocks, adding and
removing relationships, pasting and deleting blocks, renaming declarations) on the seeds'
diagrams and generated ones, tokens asked for after some edits only (a state then
spans several edits), sometimes after the diagnostics, sometimes before; the carried path
must really have been taken for most of them.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from erd_lsp.analysis import Document
from erd_lsp.analysis import structure
from erd_lsp.text import TextEdit, TextRange
from test_incremental import GEN, SNIPPETS, _block_positions, _statement_edits, _texts, _typos


def _fresh(text: str, encoding: str) -> list[int]:
    d = Document(text)
    return structure.encode_semantic_tokens(d, structure.semantic_tokens(d), encoding)


def _apply(data: list[int], edits) -> list[int]:
    out = list(data)
    for start, count, ints in sorted(edits, key=lambda e: e[0], reverse=True):
        out[start : start + count] = ints
    return out


def _generated(*args: str) -> str:
    if not GEN.exists():
        pytest.skip("../shared/tools/perf/gen_erd.py is not here")
    return subprocess.run([sys.executable, str(GEN), *args], capture_output=True, text=True, check=True).stdout


def _run(texts, rng, steps, edit_of, encoding="utf-16"):
    carried = total = 0
    for text in texts:
        doc = Document(text)
        if rng.random() < 0.7:
            doc.diagnostics()
            doc.prepare_for_edits()
        res = structure.semantic_tokens_data(doc, encoding)
        assert res.data == _fresh(doc.text, encoding)
        prev = list(res.data)
        for _ in range(steps):
            nxt = doc.edited(edit_of(doc.text))
            if rng.random() < 0.5:
                nxt.diagnostics()
            doc.release()
            doc = nxt
            if rng.random() < 0.3:
                continue  # the next state spans this edit and the next
            res = structure.semantic_tokens_data(doc, encoding, res.state)
            want = _fresh(doc.text, encoding)
            assert res.data == want, doc.text
            total += 1
            if res.edits is not None:
                carried += 1
                assert _apply(prev, [(s, n, ints) for s, n, ints in res.edits]) == want
            prev = list(res.data)
    return carried, total


@pytest.mark.parametrize("seed", range(3))
def test_tokens_after_keystrokes_equal_a_fresh_document(seed, edited_texts):
    rng = random.Random(seed)
    snippets = SNIPPETS + ["é", "😀", "%%{init: {}}%%\n", "CUSTOMER", " ||--o{ ", ":::cls"]

    def keystroke(t: str) -> TextEdit:
        spots = _block_positions(t)
        a = rng.choice(spots) if spots and rng.random() < 0.6 else rng.randint(0, len(t))
        b = min(len(t), a + rng.choice([0, 0, 0, 1, 2, 6]))
        return TextEdit(TextRange(a, b), rng.choice(snippets))

    texts = _texts() + [_generated("-n", "300", "-m", "300", "--seed", str(seed))]
    carried, total = _run(texts, rng, 25, keystroke, ["utf-16", "utf-8", "utf-32"][seed])
    assert carried >= 0.5 * total > 0


@pytest.mark.parametrize("seed", range(3))
def test_tokens_after_statement_edits_equal_a_fresh_document(seed, edited_texts):
    rng = random.Random(200 + seed)
    texts = _texts()
    texts = [_typos(t, rng, 4) for t in texts[-2:] + texts[:4]] + [_typos(_generated("-n", "300", "-m", "300"), rng, 6)]
    carried = total = 0
    for text in texts:
        d = Document(text)
        names = list(d.units[0].diagram.entities) or ["A"] if d.units else ["A"]
        c, t = _run([text], rng, 20, lambda t: _statement_edits(t, rng, names))
        carried += c
        total += t
    assert carried >= 0.5 * total > 0


def test_renaming_a_declaration_changes_the_tokens_that_name_it():
    pad = "".join(f"    P{i} ||--o{{ Q{i} : p\n" for i in range(40))
    text = "erDiagram\n    X {\n        int a\n    }\n    A {\n        int id\n    }\n" + pad + "    A ||--o{ B : has\n" + pad + "    B }o--|| A : of\n    C ||--|| A : x\n"
    doc = Document(text)
    doc.diagnostics()
    doc.prepare_for_edits()
    res = structure.semantic_tokens_data(doc)
    at = text.index("A {")
    doc = doc.edited(TextEdit(TextRange(at, at + 1), "Z"))
    res2 = structure.semantic_tokens_data(doc, previous=res.state)
    assert res2.edits is not None and len(res2.edits) > 1  # the window, and the two `A`s after it
    assert res2.data == _fresh(doc.text, "utf-16")
    implicit = 1 << structure.TOKEN_MODIFIERS.index("implicit")
    # every `A` is now implicit (as are the padding's names)
    assert sum(1 for i in range(0, len(res2.data), 5) if res2.data[i + 4] == implicit) == 6 + 160


def test_diagrams_the_state_does_not_follow_are_computed_in_full():
    for text in (
        "erDiagram\n    A ||--o{ B : x\n    style A fill:#f00\n",
        "erDiagram\n    subgraph S\n    A ||--o{ B : x\n    end\n",
        "```mermaid\nerDiagram\n    A ||--o{ B : x\n```\n",
    ):
        doc = Document(text, "markdown" if text.startswith("```") else "mermaid")
        res = structure.semantic_tokens_data(doc)
        assert res.state is None and res.data == structure.encode_semantic_tokens(doc, structure.semantic_tokens(doc))
        at = text.index("B")
        doc2 = doc.edited(TextEdit(TextRange(at, at), "Q"))
        res2 = structure.semantic_tokens_data(doc2, previous=res.state)
        assert res2.edits is None and res2.data == structure.encode_semantic_tokens(doc2, structure.semantic_tokens(doc2))


def test_range_reads_the_tokens_starting_in_it():
    text = "erDiagram\n    A {\n        int id PK\n    }\n    A ||--o{ B : has\n    %% note\n    B }o--|| A : of\n"
    doc = Document(text)
    res = structure.semantic_tokens_data(doc)
    a, b = text.index("    A ||"), text.index("    B }o")
    got = structure.semantic_tokens_in(res, doc, a, b)
    want = structure.encode_semantic_tokens(doc, [t for t in structure.semantic_tokens(doc) if a <= t[0] < b])
    assert got == want and len(got) == 5 * 7  # A, the line, its two cardinalities, B, the label, the comment
    assert structure.semantic_tokens_in(None, doc, a, b) == want
