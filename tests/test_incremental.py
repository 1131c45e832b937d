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


@pytest.fixture
def taken(monkeypatch) -> list:
    """Whether each derivation of diagnostics took the incremental path (True) or fell
    back to a full run (False), in order."""
    out = []
    real = incremental.update

    def counting(*a, **k):
        r = real(*a, **k)
        out.append(r is not None)
        return r

    monkeypatch.setattr(incremental, "update", counting)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_incremental_diagnostics_equal_a_full_run(seed, taken, edited_texts):
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


# -- edits that change relationships and declarations (scope "names", the summary) ------

def _typos(text: str, rng: random.Random, k: int) -> str:
    """``text`` with the right end of ``k`` relationships misspelt (W101 findings)."""
    lines = text.split("\n")
    rels = [i for i, l in enumerate(lines) if re.match(r"^\s+\S+ \S+ [A-Z_0-9]+ : ", l)]
    for i in rng.sample(rels, min(k, len(rels))):
        m = re.match(r"^(\s+\S+ \S+ )([A-Z_0-9]+)( : .*)$", lines[i])
        name = m.group(2)
        lines[i] = m.group(1) + name[:-2] + name[-1] + name[-2] + m.group(3)
    return "\n".join(lines)


def _statement_edits(t: str, rng: random.Random, names: list) -> TextEdit:
    """A random statement-level edit: delete or restore a `}`, add or remove a
    relationship (to a declared name, a misspelt one or a new one), paste or delete a
    block, rename an entity in its statement."""
    lines = t.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    kind = rng.randrange(6)
    if kind == 0:  # break or repair a block
        closes = [i for i, l in enumerate(lines) if l.strip() == "}"]
        if closes:
            i = rng.choice(closes)
            a = starts[i] + lines[i].index("}")
            return TextEdit(TextRange(a, a + 1), "")
        i = rng.randrange(len(lines))
        return TextEdit(TextRange(starts[i], starts[i]), "    }\n")
    if kind == 1:  # a new relationship line
        i = rng.randrange(1, len(lines))
        left = rng.choice(names)
        right = rng.choice(names + [rng.choice(names)[:-1] + "Q", "BRAND_NEW"])
        return TextEdit(TextRange(starts[i], starts[i]), f"    {left} ||--o{{ {right} : r{i}\n")
    if kind == 2:  # delete a relationship line
        rels = [i for i, l in enumerate(lines) if " : " in l and ("--" in l or ".." in l)]
        if rels:
            i = rng.choice(rels)
            return TextEdit(TextRange(starts[i], starts[i + 1]), "")
    if kind == 3:  # paste a block (sometimes of a name a typo is close to)
        i = rng.randrange(1, len(lines))
        name = rng.choice([rng.choice(names) + "S", f"PASTED_{i}", rng.choice(names)])
        return TextEdit(TextRange(starts[i], starts[i]), f"    {name} {{\n        int id PK\n        string id\n    }}\n")
    if kind == 4:  # delete a whole block
        opens = [i for i, l in enumerate(lines) if l.rstrip().endswith("{")]
        if opens:
            i = rng.choice(opens)
            j = next((k for k in range(i, len(lines)) if lines[k].strip() == "}"), i)
            return TextEdit(TextRange(starts[i], starts[j + 1]), "")
    # rename an entity where it is declared
    opens = [i for i, l in enumerate(lines) if l.rstrip().endswith("{")]
    i = rng.choice(opens) if opens else 1
    m = re.match(r"^\s*", lines[i])
    a = starts[i] + m.end()
    return TextEdit(TextRange(a, a + 1), rng.choice(["X", "", "Q_"]))


@pytest.mark.parametrize("seed", range(4))
def test_statement_edits_keep_the_summary_and_equal_a_full_run(seed, taken, edited_texts):
    rng = random.Random(100 + seed)
    settings = Settings()
    texts = _texts()
    for text in texts[-2:] + texts[:2]:
        text = _typos(text, rng, 4)
        doc = Document(text)
        doc.diagnostics(settings)
        names = list(doc.units[0].diagram.entities) or ["A"] if doc.units else ["A"]
        if doc.units and doc.units[0].names() is not None:
            doc.units[0].names().order(doc.units[0].parse)  # the edits keep the mentions from here on
        for _ in range(20):
            nxt = doc.edited(_statement_edits(doc.text, rng, names))
            got = nxt.diagnostics(settings)
            fresh = Document(nxt.text)
            want = fresh.diagnostics(settings)
            assert got == want, nxt.text
            if nxt.units and nxt.units[0].__dict__.get("_names") is not None and fresh.units:
                fresh.units[0].diagram
                assert _summary(nxt.units[0]) == _summary(fresh.units[0])
            doc.release()
            doc = nxt
    # relationship and declaration edits no longer rebuild the model
    assert sum(taken) >= 0.6 * len(taken) > 0


def _summary(unit) -> tuple:
    """A diagram's names summary in positions (nodes differ between parses)."""
    p = unit.parse
    where = {id(it): st for it, st in zip(p.items, p.starts)}
    names = unit.names()
    decl = {n: [where[id(x)] for x in nodes] for n, nodes in names.decl.items()}
    rels = {n: sorted(where[id(x)] for x in nodes) for n, nodes in names.rels.items()}
    order = names.order(unit.parse)  # (makes the mentions when they were not kept)
    broken = {n: sorted(where[id(x)] for x in nodes) for n, nodes in names.broken.items()}
    byid = {id(it): st for it, st in zip(p.items, p.starts)}
    dotted = sorted(byid[i] for i in names.dotted)
    return decl, rels, names.blocks, names.mentions, order, broken, dotted, names.classy


def _large_like() -> str:
    if not GEN.exists():
        pytest.skip("../shared/tools/perf/gen_erd.py is not here")
    return subprocess.run([sys.executable, str(GEN), "-n", "300", "-m", "300"], capture_output=True, text=True, check=True).stdout


def test_breaking_repairing_and_pasting_do_not_rebuild_the_model(monkeypatch, edited_texts):
    """The benchmark's edits (delete a `}` before a relationship line and put it back,
    paste 18 blocks with relationships and take them out), with W101 findings about:
    every one is derived, none runs the rules on a new model."""
    built = []
    from erd_lsp import analysis

    real_build = analysis.build
    monkeypatch.setattr(analysis, "build", lambda p: built.append(1) or real_build(p))
    text = _typos(_large_like(), random.Random(7), 6)
    doc = Document(text)
    before = doc.diagnostics()
    assert sum(d.code == "W101" for d in before) >= 5
    doc.prepare_for_edits()
    built.clear()
    lines = text.split("\n")
    close = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].strip() == "}" and " : " in lines[i + 1])
    at = sum(len(l) + 1 for l in lines[:close]) + lines[close].index("}")
    paste = "".join(f"    PASTED_{i} {{\n        int id PK\n    }}\n    PASTED_{i} ||--o{{ PASTED_{(i + 1) % 18} : p\n" for i in range(18))
    edits = [TextEdit(TextRange(at, at + 1), ""), TextEdit(TextRange(at, at), "}"),
             TextEdit(TextRange(at + 2, at + 2), paste), TextEdit(TextRange(at + 2, at + 2 + len(paste)), "")]
    for e in edits:
        nxt = doc.edited(e)
        got = nxt.diagnostics()
        assert not built, "the model was built"
        assert got == Document(nxt.text).diagnostics()
        built.clear()
        doc = nxt
    assert doc.diagnostics() == before


def _osa(a: str, b: str) -> int:
    """Optimal string alignment distance, the textbook dynamic programme."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def test_closest_is_the_nearest_declared_name_first_in_alphabetical_order():
    from erd_lsp.analysis.rules.w101_undeclared_entity import closest, guess

    rng = random.Random(5)
    for _ in range(400):
        cands = sorted({"".join(rng.choice("abAB_") for _ in range(rng.randint(1, 8))) for _ in range(rng.randint(0, 12))})
        name = "".join(rng.choice("abAB_") for _ in range(rng.randint(1, 8)))
        limit = max(1, len(name) // 4)
        scored = [(_osa(name.lower(), c.lower()), c) for c in cands]
        ok = [x for x in scored if x[0] <= limit]
        assert closest(name, cands) == (min(ok)[1] if ok else None), (name, cands)
        # derived after names were declared: the same as computed afresh
        added = sorted({"".join(rng.choice("abAB_") for _ in range(rng.randint(1, 8))) for _ in range(3)} - set(cands))
        memo = {"previous": ({"guesses": {name: closest(name, cands)}}, frozenset(added), frozenset())}
        assert guess(memo, name) == closest(name, cands + added)


def test_completion_after_edits_reads_the_kept_summary_as_a_fresh_document_would(edited_texts):
    """Entity-name completion right after an edit reads the names summary the edits kept
    (no model is built for it); it must offer what a fresh document offers."""
    from erd_lsp.analysis import completion

    rng = random.Random(11)
    built = []
    for text in _texts()[-2:]:
        doc = Document(_typos(text, rng, 3))
        doc.diagnostics()
        names = list(doc.units[0].diagram.entities)
        for _ in range(25):
            e = _statement_edits(doc.text, rng, names)
            nxt = doc.edited(e)
            nxt.diagnostics()
            # type the start of a relationship after the edit, and complete its ends
            lines = nxt.text.split("\n")
            i = rng.randrange(1, len(lines))
            at = sum(len(l) + 1 for l in lines[:i])
            typed = rng.choice(["    ", f"    {rng.choice(names)} ||--o{{ ", f"    {rng.choice(names)} }}|..|| {rng.choice(names)[:2]}"])
            cur = nxt.edited(TextEdit(TextRange(at, at), typed + "\n"))
            cur.diagnostics()
            off = at + len(typed)
            unit = cur.units[0]
            got = completion.complete(cur, off, [])
            built.append("diagram" in unit.__dict__)
            want = completion.complete(Document(cur.text), off, [])
            assert got == want, (cur.text[at - 40 : off + 5], off)
            doc = nxt
    assert built.count(False) >= 0.5 * len(built)  # (inside blocks completion reads the model)


def test_completing_an_endpoint_while_typing_builds_no_model(edited_texts):
    text = _large_like()
    doc = Document(text)
    doc.diagnostics()
    from erd_lsp.analysis import completion

    names = list(doc.units[0].diagram.entities)
    # at the start of a block's first line (the top level), in the middle of the diagram
    at = text.rindex("\n", 0, text.index(" {\n", len(text) // 2)) + 1
    typed = f"    {names[3]} ||--o{{ "
    for k in range(1, len(typed) + 1):
        doc = doc.edited(TextEdit(TextRange(at + k - 1, at + k - 1), typed[k - 1]))
        doc.diagnostics()
    got = completion.complete(doc, at + len(typed), [])
    assert "diagram" not in doc.units[0].__dict__
    assert got == completion.complete(Document(doc.text), at + len(typed), [])
    assert len(got.items) == 100 and got.incomplete and all(it.kind == "entity" for it in got.items)


def test_layered_map_behaves_as_a_dict_across_versions():
    """model.Layered (the names summary's maps): every version reads as the dict it
    stands for, after random writes and deletions, while earlier versions stay as they
    were."""
    from erd_lsp.model import Layered

    rng = random.Random(3)
    versions = [(Layered({f"k{i}": i for i in range(30)}), {f"k{i}": i for i in range(30)})]
    for step in range(400):
        layered, plain = versions[-1] if rng.random() < 0.8 else rng.choice(versions)
        layered, plain = layered.edit(), dict(plain)
        for _ in range(rng.randint(1, 4)):
            k = f"k{rng.randrange(60)}"
            if rng.random() < 0.6:
                layered[k] = plain[k] = step
            else:
                assert layered.pop(k, None) == plain.pop(k, None)
        versions.append((layered, plain))
        for lay, want in rng.sample(versions, min(5, len(versions))):
            assert dict(lay.items()) == want and len(lay) == len(want) and set(lay) == set(want) == set(lay.keys())
            k = f"k{rng.randrange(60)}"
            assert (k in lay) == (k in want) and lay.get(k) == want.get(k)


@pytest.fixture
def flat_copies(monkeypatch) -> list:
    """One entry per rope that makes its flat text (a copy of the whole text), every text
    edited kept as a rope (as a large one's is)."""
    from erd_lsp.text import Rope

    made = []
    real = Rope.flat

    def counting(self):
        if self._flat is None:
            made.append(len(self))
        return real(self)

    monkeypatch.setattr(Rope, "flat", counting)
    monkeypatch.setattr(Rope, "FLAT_BELOW", 0)
    return made


def test_keystrokes_on_a_large_text_do_not_copy_it(flat_copies):
    """Typing in a document whose edits make ropes (a large one; here every text is
    treated as large): the edit, its diagnostics and their positions read the ropes and
    never make the whole text, but for the flattening a rope of too many pieces does
    (once per some dozens of edits); and the diagnostics are a fresh document's."""
    from erd_lsp.text import Rope

    text = _typos(_large_like(), random.Random(3), 4)
    doc = Document(text)
    doc.diagnostics()
    doc.prepare_for_edits()
    doc.line_index
    rng = random.Random(5)
    spots = _block_positions(text)
    edits = 0
    made = 0
    checks = []
    for _ in range(60):
        at = rng.choice(spots)
        for e in (TextEdit(TextRange(at, at), "x"), TextEdit(TextRange(at, at + 1), "")):
            before = len(flat_copies)
            nxt = doc.edited(e)
            got = nxt.diagnostics()
            for d in got:
                nxt.line_index.position(d.range.start)
                nxt.line_index.position(d.range.end)
            made += len(flat_copies) - before
            edits += 1
            if edits % 20 == 0:
                checks.append((nxt, got))
            doc = nxt
    assert made <= 2 * edits // (Rope.MAX_PIECES // 2) + 2, f"{made} flat copies in {edits} edits"
    for d, got in checks:
        assert got == Document(d.text).diagnostics()


def test_features_right_after_a_keystroke_do_not_copy_the_text(flat_copies):
    """Completion, hover, definition, references and semantic-token deltas right after a
    keystroke read the ropes too (each flat copy of a large text costs about as much as
    the rest of the request)."""
    from erd_lsp.analysis.completion import complete
    from erd_lsp.analysis.hover import hover
    from erd_lsp.analysis.navigation import definition, references
    from erd_lsp.analysis.structure import semantic_tokens_data

    text = _large_like()
    doc = Document(text)
    doc.diagnostics()
    doc.prepare_for_edits()
    doc.line_index
    tokens = semantic_tokens_data(doc)
    at = text.index("\n", text.index("}", len(text) // 2)) + 1
    typed = "    ENTITY_1 ||--o{ "
    for i, ch in enumerate(typed):
        doc = doc.edited(TextEdit(TextRange(at + i, at + i), ch))
        doc.diagnostics()
    name = next(n for n in doc.units[0].names().decl if n != "ENTITY_1")
    where = text.index(name) + 1
    calls = [
        lambda d: complete(d, at + len(typed)),
        lambda d: hover(d, where),
        lambda d: definition(None, d, where),
        lambda d: references(None, d, where, True),
    ]
    for call in calls:
        doc = doc.edited(TextEdit(TextRange(at, at), "x"))
        doc.diagnostics()
        before = len(flat_copies)
        assert call(doc)
        assert len(flat_copies) == before, call
    doc = doc.edited(TextEdit(TextRange(at, at), "x"))
    doc.diagnostics()
    before = len(flat_copies)
    delta = semantic_tokens_data(doc, previous=tokens.state)
    assert delta.edits is not None and len(flat_copies) == before
