"""The parser's fast path gives exactly what the general parser gives.

Every text is parsed twice, with the fast path on and off; the trees (with the fast
statements' children built), restart states, extents, errors and models must be equal.
The corpus is the suite's (seeds, conformance cases, generated diagrams, also with CRLF
line ends) plus random mutations of generated diagrams aimed at the fast path's edges:
keyword prefixes, `-`/`.` in names, digits, quotes, `%`, `direction`, `~`, non-ASCII.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from erd_lsp.model import build
from erd_lsp.syntax import fastpath, parse
from erd_lsp.syntax import lexer
from erd_lsp.syntax.extents import item_extents
from erd_lsp.syntax.hosts import find_blocks
from erd_lsp.syntax.preprocess import _COMMENT, comment_lines
from erd_lsp.syntax.tree import dump
from support import SEEDS, conformance_cases

GEN = Path(__file__).resolve().parents[2] / "shared" / "tools" / "perf" / "gen_erd.py"


def _generated(*args: str) -> str:
    return subprocess.run([sys.executable, str(GEN), *args], capture_output=True, text=True, check=True).stdout


def _corpus() -> list[str]:
    out = []
    for f in SEEDS:
        out += [b.text for b in find_blocks(f.read_text(encoding="utf-8"), "markdown") if b.is_er]
    out += [c["text"] for c in conformance_cases()]
    if GEN.exists():
        out.append(_generated("--size", "small"))
        out.append(_generated("--size", "small", "--inject-errors", "8", "--seed", "3"))
        out.append(_generated("--size", "small", "--basic", "--seed", "4"))
    out += [t.replace("\n", "\r\n") for t in out[:20]]
    return out


def _both(text: str):
    old = fastpath.ENABLED
    try:
        fastpath.ENABLED = True
        fast = parse(text)
        fastpath.ENABLED = False
        slow = parse(text)
    finally:
        fastpath.ENABLED = old
    return fast, slow


def _check(text: str) -> int:
    fast, slow = _both(text)
    n = sum(1 for it in fast.items if isinstance(it, fastpath.FastNode))
    assert not any(isinstance(it, fastpath.FastNode) for it in slow.items)
    assert fast.starts == slow.starts, text
    assert fast.states == slow.states, text
    # extents: the fast statements' formula against the token walk of the general tree
    assert item_extents(fast, 0, len(fast.items)) == item_extents(slow, 0, len(slow.items)), text
    assert fast.errors == slow.errors, text
    assert build(fast) == build(slow), text
    assert dump(fast) == dump(slow), text  # builds every fast statement's children
    return n


def test_fast_path_equals_general_parser_on_the_corpus():
    taken = 0
    for text in _corpus():
        taken += _check(text)
    assert taken > 100  # the corpus does exercise the fast path


@pytest.mark.skipif(not GEN.exists(), reason="needs ../shared/tools/perf/gen_erd.py")
def test_fast_path_takes_every_plain_statement_of_a_generated_diagram():
    text = _generated("--size", "small")
    fast, _ = _both(text)
    statements = [it for it in fast.items if getattr(it, "kind", None) in ("ENTITY_STMT", "REL_STMT")]
    fast_ones = [it for it in statements if isinstance(it, fastpath.FastNode)]
    # all but those right after a comment line are taken
    assert len(fast_ones) >= 0.9 * len(statements) > 0


PROBES = [
    "-", ".", "*", "1", "0", '"', "%", "%%", "#", "<", "~", "`", "é", "\u00a0", "\t", " ", "{", "}", ",", ":",
    ":::", "[", "]", "o", "u", "|o", "o{", "||", "--", "..", ".-", "-.", "to", "one", "many", "end", "style",
    "class", "classDef", "subgraph", "erDiagram", "accTitle", "accDescr", "direction", "direction TB", "PK", "pk",
    "FK", "UK", "?", "\n", "\r\n", "\r", "%% c\n", "%%{init: {}}%%", "only", "zero", "optionally", "PK,", "u|",
]


@pytest.mark.skipif(not GEN.exists(), reason="needs ../shared/tools/perf/gen_erd.py")
@pytest.mark.parametrize("seed", range(4))
def test_fast_path_equals_general_parser_on_mutations(seed):
    rng = random.Random(seed)
    base = _generated("--size", "small", "--seed", str(seed + 10))
    lines = base.split("\n")
    for _ in range(60):
        cur = list(lines)
        for _k in range(rng.randint(1, 4)):
            i = rng.randrange(1, len(cur))
            line = cur[i]
            j = rng.randint(0, len(line))
            if rng.random() < 0.5:
                cur[i] = line[:j] + rng.choice(PROBES) + line[j:]
            else:
                cur[i] = line[:j] + line[j + rng.randint(1, 3) :]
        _check("\n".join(cur))


def test_comment_lines_find_what_the_expression_finds():
    rng = random.Random(7)
    alphabet = ["%%", "%", "\n", " ", "\t", "a", "{", "%%{", "\u00a0", "\r", "\n\n", "%%%"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert comment_lines(text) == [m.span() for m in _COMMENT.finditer(text)], text


def test_negated_ascii_classes_equal_the_unicode_ranges_they_replace():
    """The fast name class and the lexer's attribute word are written without ranges up
    to U+10FFFF (slow to compile); they must accept the same characters."""
    folds = lexer._FOLDS
    high = "\u00c0-\U0010ffff" + folds
    word_old = re.compile(r"[*A-Za-z_" + high + r"][A-Za-z0-9\-_\[\]().," + high + r"*]*", re.I | re.A)
    word_new = re.compile(lexer.ATTR_WORD, re.I | re.A)
    name_old = re.compile(r"[A-Za-z0-9_\-*.\u0080-\U0010ffff]")
    name_new = re.compile("[" + fastpath._NAME_CONT + "]", re.A)
    rng = random.Random(3)
    points = list(range(0, 0x3000)) + [rng.randrange(0x3000, 0x110000) for _ in range(20000)]
    for cp in points:
        ch = chr(cp)
        assert bool(name_old.fullmatch(ch)) == bool(name_new.fullmatch(ch)), hex(cp)
        for w in (ch, "a" + ch, ch + "a"):
            assert bool(word_old.fullmatch(w)) == bool(word_new.fullmatch(w)), hex(cp)


def _same_without_building(compute, seed: str) -> None:
    """``compute(document)`` gives the same with and without the fast path, and builds
    no fast statement's children (that would cost a parse of each, and keep it)."""
    from erd_lsp.analysis import Document

    texts = [t for t in _corpus() if t.lstrip().startswith("erDiagram")][:80]
    if GEN.exists():
        texts.append(_generated("--size", "small", "--seed", seed))
    old = fastpath.ENABLED
    try:
        for text in texts:
            fastpath.ENABLED = True
            doc = Document(text)
            fast = compute(doc)
            assert all(it._kids is None for u in doc.units for it in u.parse.items if isinstance(it, fastpath.FastNode))
            fastpath.ENABLED = False
            assert fast == compute(Document(text)), text
    finally:
        fastpath.ENABLED = old


def test_name_index_reads_fast_statements_without_building_their_children():
    """Navigation's index of every name occurrence."""
    from erd_lsp.analysis.navigation import UnitIndex

    _same_without_building(lambda doc: UnitIndex(doc.units[0]).occurrences, "21")


def test_highlighting_and_folding_read_fast_statements_without_building_them():
    """Semantic tokens and folding ranges."""
    from erd_lsp.analysis.structure import folding_ranges, semantic_tokens

    _same_without_building(lambda doc: (semantic_tokens(doc), folding_ranges(doc)), "22")


def test_find_direction_finds_what_the_case_insensitive_pattern_finds():
    from erd_lsp.syntax.lexer import DIRECTION_WORD, find_direction
    from erd_lsp.text import Rope

    rng = random.Random(5)
    words = ["direction", "DIRECTION", "DiReCtIoN", "directio", "irection", "d\u0130rection", "d\u0131rection", "x", " ", "\n", "é", "😀", "dir", "ection"]
    for _ in range(3000):
        text = "".join(rng.choice(words) for _ in range(rng.randint(0, 8)))
        a = rng.randint(0, len(text))
        b = rng.randint(a, len(text) + 3)
        m = DIRECTION_WORD.search(text, a, b)
        assert find_direction(text, a, b) == (-1 if m is None else m.start()), (text, a, b)
    rope = Rope.of("x" * 70000 + "Direction\n")
    assert find_direction(rope, 100, 70020) == 70000 and find_direction(rope, 70001, 70020) == -1
