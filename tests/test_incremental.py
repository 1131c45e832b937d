"""Diagnostics derived after an edit (analysis/incremental.py) equal a full run.

Random edit sequences, most of them inside attribute blocks (where the incremental path
applies), some anywhere; after each edit the edited document's diagnostics must equal
those of a fresh document with the same text, and the incremental path must really have
been taken for many of them.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from erd_lsp.analysis import Document, Settings
from erd_lsp.analysis import incremental
from erd_lsp.syntax.hosts import find_blocks
from erd_lsp.text import TextEdit, TextRange
from support import SEEDS

GEN = Path(__file__).resolve().parents[2] / "shared" / "tools" / "perf" / "gen_erd.py"

SNIPPETS = ["x", "id", "_2", " ", "\n", "\n        int id\n", "}", "{", '"', ' "c"', " PK", ", FK", "\n    B {\n", "%% c\n", ""]


def _texts() -> list[str]:
    out = []
    for f in SEEDS:
        out += [b.text for b in find_blocks(f.read_text(encoding="utf-8"), "markdown") if b.is_er]
    if GEN.exists():
        for args in (["--size", "small"], ["--size", "small", "--seed", "5", "--inject-errors", "4"]):
            out.append(subprocess.run([sys.executable, str(GEN), *args], capture_output=True, text=True, check=True).stdout)
    return out


def _block_positions(text: str) -> list[int]:
    """Offsets inside attribute lines (where most keystrokes land)."""
    return [m.start() + random.Random(m.start()).randint(0, len(m.group())) for m in re.finditer(r"(?m)^[ \t]+[A-Za-z][^\n{}]*$", text)]


@pytest.mark.parametrize("seed", range(3))
def test_incremental_diagnostics_equal_a_full_run(seed, monkeypatch):
    taken = []
    real = incremental.update

    def counting(*a, **k):
        r = real(*a, **k)
        taken.append(r is not None)
        return r

    monkeypatch.setattr(incremental, "update", counting)
    rng = random.Random(seed)
    settings = Settings()
    for text in _texts():
        doc = Document(text)
        doc.diagnostics(settings)
        for _ in range(25):
            t = doc.text
            spots = _block_positions(t)
            a = rng.choice(spots) if spots and rng.random() < 0.8 else rng.randint(0, len(t))
            b = min(len(t), a + rng.choice([0, 0, 0, 1, 2, 6]))
            new = rng.choice(SNIPPETS)
            nxt = doc.edited(TextEdit(TextRange(a, b), new))
            got = nxt.diagnostics(settings)
            want = Document(nxt.text).diagnostics(settings)
            assert got == want, (t, a, b, new)
            doc.release()
            doc = nxt
    assert sum(taken) >= 0.4 * len(taken) > 0  # the incremental path did most of the work


def test_findings_move_with_the_edit():
    text = "erDiagram\n    A {\n        int id\n        int id\n    }\n    B {\n        int x\n    }\n    A ||--o{ C : has\n"
    doc = Document(text)
    before = doc.diagnostics()
    assert {d.code for d in before} == {"W101", "W102"}
    # type into B's attribute: W102 (about A) and W101 (after the edit) stay, moved
    at = text.index("int x") + 5
    nxt = doc.edited(TextEdit(TextRange(at, at), "yz"))
    after = nxt.diagnostics()
    assert after == Document(nxt.text).diagnostics()
    w101 = [d for d in after if d.code == "W101"][0]
    assert nxt.text[w101.range.start : w101.range.end] == "C"
    # and a duplicate made by typing is found
    at = nxt.text.index("int xyz") + 4
    third = nxt.edited(TextEdit(TextRange(at, at + 3), "x\n        int x"))
    assert [d.code for d in third.diagnostics()].count("W102") == 2
    assert third.diagnostics() == Document(third.text).diagnostics()
