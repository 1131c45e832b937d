"""Applying fixes (``--fix``, ``--unsafe-fixes``): which fixes apply, non-overlapping
edits per round, rounds until nothing applies."""

from __future__ import annotations

from erd_lsp.analysis import Diagnostic, Document, Fix, Settings, Severity
from erd_lsp.analysis.fixes import CHOICES, applicable_fix, apply_edits, apply_fixes, fix_round
from erd_lsp.text import TextEdit, TextRange

TYPO = "erDiagram\n    ORDER { int id }\n    CUSTOMER { string name }\n    CUSTOMER ||--o{ ORDRE : places\n"
DUPES = "erDiagram\n    CUSTOMER {\n        string name\n        string name\n        string name\n    }\n"
CONFLICT = "erDiagram\n<<<<<<< HEAD\n    A ||--o{ B : x\n=======\n    A ||--o{ C : x\n>>>>>>> main\n"


def _d(code: str, fixes: tuple, start: int = 0) -> Diagnostic:
    return Diagnostic(code, "m", TextRange(start, start + 1), Severity.WARNING, fixes=fixes)


def test_applicable_fix_follows_safety():
    safe = Fix("safe", (TextEdit(TextRange(0, 1), ""),), safe=True)
    unsafe = Fix("unsafe", (TextEdit(TextRange(0, 1), ""),), safe=False)
    assert applicable_fix(_d("W900", (safe,))) is safe
    assert applicable_fix(_d("W102", (unsafe,))) is None
    assert applicable_fix(_d("W102", (unsafe,)), unsafe=True) is unsafe
    assert applicable_fix(_d("W102", ())) is None
    assert applicable_fix(_d("W102", (Fix("empty", (), safe=True),))) is None
    # the first fix is the rule's preferred one; later ones are alternatives for editors
    assert applicable_fix(_d("W101", (unsafe, safe)), unsafe=False) is None


def test_conflict_fixes_are_choices_never_applied():
    assert "E002" in CHOICES
    doc = Document(CONFLICT)
    (d,) = [d for d in doc.diagnostics() if d.code == "E002"]
    assert len(d.fixes) == 3
    assert applicable_fix(d, unsafe=True) is None
    assert apply_fixes(doc, unsafe=True).text == CONFLICT


def test_existing_rule_fixes_are_unsafe():
    for text in (TYPO, DUPES):
        for d in Document(text).diagnostics():
            assert d.fixes and not any(f.safe for f in d.fixes), d


def test_safe_only_leaves_unsafe_fixes_alone():
    res = apply_fixes(Document(TYPO))
    assert res.text == TYPO and res.applied == 0
    assert [d.code for d in res.remaining] == ["W101"]


def test_unsafe_fixes_replace_the_typo():
    res = apply_fixes(Document(TYPO), unsafe=True)
    assert res.text == TYPO.replace("ORDRE", "ORDER")
    assert res.fixed == {"W101": 1} and res.remaining == []


def test_rounds_until_nothing_applies():
    # two duplicates whose removal edits are independent: both removed in one round;
    # the model is then clean
    res = apply_fixes(Document(DUPES), unsafe=True)
    assert res.text == "erDiagram\n    CUSTOMER {\n        string name\n    }\n"
    assert res.applied == 2 and res.remaining == []


def test_overlapping_edits_wait_for_the_next_round():
    text = "abcdef"
    a = _d("W900", (Fix("a", (TextEdit(TextRange(1, 3), "X"),), safe=True),), 1)
    b = _d("W900", (Fix("b", (TextEdit(TextRange(2, 4), "Y"),), safe=True),), 2)
    c = _d("W900", (Fix("c", (TextEdit(TextRange(4, 5), "Z"),), safe=True),), 4)
    new, done = fix_round(text, [b, a, c])
    assert new == "aXdZf" and [d.message for d in done] == ["m", "m"]
    assert [d.range.start for d in done] == [1, 4]
    # two insertions at one offset conflict too (their order would be arbitrary)
    i1 = _d("W900", (Fix("i", (TextEdit(TextRange(2, 2), "1"),), safe=True),), 2)
    i2 = _d("W900", (Fix("j", (TextEdit(TextRange(2, 2), "2"),), safe=True),), 3)
    assert fix_round(text, [i1, i2])[0] == "ab1cdef"


def test_apply_edits_in_any_order():
    edits = [TextEdit(TextRange(4, 5), "E"), TextEdit(TextRange(0, 1), "A"), TextEdit(TextRange(2, 2), "+")]
    assert apply_edits("abcdef", edits) == "Ab+cdEf"


def test_settings_decide_what_is_fixed():
    text = "erDiagram\n    %% erd-lsp: ignore W101\n    A\n"
    assert apply_fixes(Document(text), Settings(ignore=frozenset({"W900"}))).text == text
    assert apply_fixes(Document(text)).text == "erDiagram\n    A\n"


def test_markdown_fixes_land_in_the_fence():
    md = "Intro\n\n```mermaid\n" + TYPO + "```\n\nOutro\n"
    res = apply_fixes(Document(md, "markdown", "x.md"), unsafe=True)
    assert res.text == md.replace("ORDRE", "ORDER")
    assert res.document.kind == "markdown"


def test_fixing_is_a_fixpoint():
    res = apply_fixes(Document(DUPES), unsafe=True)
    again = apply_fixes(res.document, unsafe=True)
    assert again.text == res.text and again.applied == 0


def test_inserted_lines_keep_the_block_quote():
    md = "> ```mermaid\n> erDiagram\n>     A { int id }\n>     A ||--o{ ZZZ : x\n> ```\n\nafter\n"
    res = apply_fixes(Document(md, "markdown"), unsafe=True)
    # declared after its first use, each inserted line quoted as the diagram is
    assert res.text == "> ```mermaid\n> erDiagram\n>     A { int id }\n>     A ||--o{ ZZZ : x\n>     ZZZ {\n>     }\n> ```\n\nafter\n"
    assert res.fixed == {"W101": 1} and res.remaining == []


def test_inserted_lines_keep_the_list_item():
    md = "- item\n\n  ```mermaid\n  erDiagram\n      A { int id }\n      A ||--o{ ZZZ : x\n  ```\n"
    res = apply_fixes(Document(md, "markdown"), unsafe=True)
    assert res.text == "- item\n\n  ```mermaid\n  erDiagram\n      A { int id }\n      A ||--o{ ZZZ : x\n      ZZZ {\n      }\n  ```\n"


def test_a_fix_that_would_break_the_document_is_not_applied(monkeypatch):
    import erd_lsp.analysis as analysis

    md = "```mermaid\nerDiagram\n    A\n```\n\nafter\n"
    fence = md.index("```\n\nafter")
    real = analysis.Document.diagnostics

    def diagnostics(self, settings=analysis.DEFAULT_SETTINGS):
        found = real(self, settings)
        if "```\n\nafter" in self.text:  # a (buggy) safe fix that deletes the closing fence
            at = self.text.index("```\n\nafter")
            bad = Fix("bad", (TextEdit(TextRange(at, at + 4), ""),), safe=True)
            good = Fix("good", (TextEdit(TextRange(at - 2, at - 1), "B"),), safe=True)
            found = found + [_d("W900", (bad,), at), _d("W900", (good,), at - 2)]
        return found

    monkeypatch.setattr(analysis.Document, "diagnostics", diagnostics)
    res = apply_fixes(Document(md, "markdown"))
    assert res.text[fence:] == md[fence:]  # the fence and the prose survive
    assert "    B\n```" in res.text  # the harmless fix was applied
