"""The formatter (``erd-lsp format``, document and range formatting).

Its two promises are tested on every fixture: it is idempotent, and it never changes the
model (``diagram_model`` + ``diagram_extras`` exported before and after, and, when the
real Mermaid is available, Mermaid's own model of both texts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from erd_lsp.analysis import Document
from erd_lsp.analysis.export import diagram_extras, diagram_model
from erd_lsp.analysis.fixes import apply_edits
from erd_lsp.analysis.format import (
    INDENT,
    format_diagram,
    format_document,
    format_document_report,
    format_range,
    format_source,
)
from erd_lsp.model import build
from erd_lsp.syntax import parse
from erd_lsp.text import TextRange
from support import DATA, SEEDS, conformance_cases, snapshot

REPO = Path(__file__).resolve().parents[1]
FORMAT = DATA / "format"
CASES = conformance_cases()
ACCEPTED = [c for c in CASES if c["expect"] == "ACCEPT"]
REJECTED = [c for c in CASES if c["expect"] == "REJECT"]
MERMAID_FILES = sorted((DATA / "parser").glob("*.mmd")) + sorted((DATA / "rules").glob("*.mmd")) + sorted(FORMAT.glob("*.mmd"))
MARKDOWN_FILES = list(SEEDS) + sorted((REPO / "examples").glob("*.md")) + sorted(FORMAT.glob("*.md"))
MERMAID_FILES += sorted((REPO / "examples").glob("*.mmd"))


def model(text: str, browser_trim: bool = False):
    d = build(parse(text, browser_trim=browser_trim))
    return diagram_model(d), diagram_extras(d), d.title


def _format_file(path: Path) -> tuple[str, str, str]:
    text = path.read_text(encoding="utf-8")
    kind = "mermaid" if path.suffix == ".mmd" else "markdown"
    return text, kind, apply_edits(text, format_document(Document(text, kind, path.name)))


# ---------------------------------------------------------------------------
# the layout


def test_canonical_layout_snapshot():
    src = (FORMAT / "messy.mmd").read_text(encoding="utf-8")
    out = format_diagram(src)
    assert out is not None
    snapshot(FORMAT / "messy.mmd.expected", out)
    assert model(out) == model(src)


def outside_lines(doc: Document) -> list[str]:
    """The lines of a document outside its ER diagrams' fences."""
    index = doc.line_index
    inside = set()
    for u in doc.units:
        b = u.block
        inside.update(range(index.line_of(b.start), index.line_of(max(b.start, b.end - 1)) + 1))
    return [line for i, line in enumerate(doc.text.split("\n")) if i not in inside]


def test_markdown_snapshot_keeps_prose_and_containers():
    text, _kind, out = _format_file(FORMAT / "fenced.md")
    snapshot(FORMAT / "fenced.md.expected", out)
    assert outside_lines(Document(out, "markdown")) == outside_lines(Document(text, "markdown"))
    assert "erDiagram\n  A ||--o{ B\n" in out  # the broken diagram is left alone
    assert "flowchart LR\n  A-->B" in out  # other diagram types too


def test_layout_details():
    src = 'erDiagram\nA{string a\nint bb PK,FK "c"}\nA||--o{B:x\n\n\n\nC\n'
    assert format_diagram(src) == (
        "erDiagram\n"
        "    A {\n"
        "        string a\n"
        '        int    bb PK, FK "c"\n'
        "    }\n"
        "    A ||--o{ B : x\n"
        "\n"
        "    C\n"
    )


def test_comments_stay_in_place_and_blank_lines_collapse():
    src = "erDiagram\n%% one\n  A\n\n\n   %% two\n B\n"
    assert format_diagram(src) == "erDiagram\n    %% one\n    A\n\n    %% two\n    B\n"


def test_labels_names_and_quotes_are_kept_as_written():
    src = 'erDiagram\n  "my entity" |o..o| other : "a label"\n  x }|--|{ y : plain\n'
    out = format_diagram(src)
    assert '"my entity" |o..o| other : "a label"' in out and "x }|--|{ y : plain" in out


def test_subgraphs_are_indented():
    out = format_diagram("erDiagram\nsubgraph a\nsubgraph b\nX\nend\nY\nend\n")
    assert out == "erDiagram\n    subgraph a\n        subgraph b\n            X\n        end\n        Y\n    end\n"


def test_crlf_is_kept():
    out = format_diagram("erDiagram\r\n  A ||--o{ B : x\r\n")
    assert out == "erDiagram\r\n    A ||--o{ B : x\r\n"


def test_syntax_errors_are_refused():
    assert format_diagram("erDiagram\n  A ||--o{ B\n") is None
    r = format_source("erDiagram\n  A ||--o{ B\n  C {\n")
    assert r.text is None and r.error == "the diagram has 2 syntax errors"


@pytest.mark.parametrize("case", REJECTED[:40], ids=[c["id"] for c in REJECTED[:40]])
def test_rejected_cases_are_not_formatted(case):
    assert format_diagram(case["text"]) is None


# ---------------------------------------------------------------------------
# idempotent and model-preserving, on every fixture


@pytest.mark.parametrize("case", ACCEPTED, ids=[c["id"] for c in ACCEPTED])
def test_conformance_case_formats_without_changing_the_model(case):
    text = case["text"]
    out = format_diagram(text)
    assert out is not None, format_source(text).error
    assert model(out) == model(text)
    assert not parse(out).errors
    assert format_diagram(out) == out


@pytest.mark.parametrize("path", MERMAID_FILES, ids=[p.name for p in MERMAID_FILES])
def test_mmd_fixture(path):
    text = path.read_text(encoding="utf-8")
    r = format_source(text)
    if parse(text).errors:
        assert r.text is None
        return
    assert r.text is not None, r.error
    assert model(r.text) == model(text)
    assert format_diagram(r.text) == r.text


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=[p.name for p in MARKDOWN_FILES])
def test_markdown_fixture(path):
    text, kind, out = _format_file(path)
    before = Document(text, kind)
    after = Document(out, kind)
    assert len(after.units) == len(before.units)
    for u0, u1 in zip(before.units, after.units):
        trim = u0.block.browser_trim
        if u0.parse.errors:
            assert u1.source == u0.source  # left alone
            continue
        assert model(u1.source, trim) == model(u0.source, trim)
        assert not u1.parse.errors
    # formatting the result changes nothing
    assert format_document(after) == []
    assert outside_lines(after) == outside_lines(before)


CONTAINERS = [
    ("", "```mermaid\n", "```\n"),
    ("> ", "> ```mermaid\n", "> ```\n"),
    ("   ", "1. ```mermaid\n", "   ```\n"),
    ("  ", "- ~~~mermaid\n", "  ~~~\n"),
    ("> > ", "> > ```mermaid\n", "> > ```\n"),
    ("   ", "   ```{mermaid}\n", "   ```\n"),
]


@pytest.mark.parametrize("prefix, opener, closer", CONTAINERS, ids=[c[1].strip() for c in CONTAINERS])
def test_fenced_in_containers(prefix, opener, closer):
    count = 0
    for case in ACCEPTED[::7]:
        body = "".join(prefix + line + "\n" for line in case["text"].rstrip("\n").split("\n"))
        md = "Before\n\n" + opener + body + closer + "\nAfter\n"
        doc = Document(md, "markdown")
        if len(doc.units) != 1 or doc.units[0].parse.errors:
            continue
        out = apply_edits(md, format_document(doc))
        again = Document(out, "markdown")
        assert len(again.units) == 1, out
        u0, u1 = doc.units[0], again.units[0]
        assert model(u1.source, True) == model(u0.source, True), out
        assert format_document(again) == [], out
        assert out.startswith("Before\n\n" + opener) and out.endswith(closer + "\nAfter\n")
        for line in out.split("\n")[3:-4]:
            assert line.startswith(prefix.rstrip()), out
        count += 1
    assert count > 20


def test_document_report_names_the_broken_diagram():
    text = (FORMAT / "fenced.md").read_text(encoding="utf-8")
    reports = format_document_report(Document(text, "markdown"))
    assert [(r.line + 1, r.error) for r in reports if r.error] == [(36, "the diagram has 1 syntax error")]


def test_front_matter_and_directives_are_kept():
    src = "---\ntitle: T\nconfig:\n  theme: dark\n---\n%%{init: {}}%%\nerDiagram\n A\n"
    out = format_diagram(src)
    assert out == "---\ntitle: T\nconfig:\n  theme: dark\n---\n%%{init: {}}%%\nerDiagram\n    A\n"


def test_statement_with_a_comment_inside_is_kept_as_written():
    # a quoted label spanning lines, with a line Mermaid removes as a comment
    src = 'erDiagram\n  A ||--o{ B : "one\n%% hidden\n  two"\n'
    out = format_diagram(src)
    assert out is not None and model(out) == model(src)
    assert '%% hidden\n  two"' in out


# ---------------------------------------------------------------------------
# range formatting


def test_range_formats_the_touched_statements_only():
    src = "erDiagram\n  A||--o{B:x\n  C  {\n  int x\n  }\n  D||--o{E:y\n"
    doc = Document(src)
    start = src.index("C  {") + 1
    edits = format_range(doc, TextRange(start, start))
    out = apply_edits(src, edits)
    assert out == "erDiagram\n  A||--o{B:x\n    C {\n        int x\n    }\n  D||--o{E:y\n"
    whole = apply_edits(src, format_range(doc, TextRange(0, len(src))))
    assert whole == format_diagram(src)


def test_range_in_markdown():
    md = "x\n\n> ```mermaid\n> erDiagram\n>  A||--o{B:x\n>  C||--o{D:y\n> ```\n"
    doc = Document(md, "markdown")
    a = md.index("C||")
    out = apply_edits(md, format_range(doc, TextRange(a, a + 3)))
    assert out == "x\n\n> ```mermaid\n> erDiagram\n>  A||--o{B:x\n>     C ||--o{ D : y\n> ```\n"


def test_range_outside_diagrams_is_nothing():
    md = "text\n\n```mermaid\nerDiagram\n A\n```\n"
    assert format_range(Document(md, "markdown"), TextRange(0, 2)) == []


# ---------------------------------------------------------------------------
# fuzz, and the real Mermaid


def _mutated() -> list[str]:
    from test_differential import _mutations, _seed_diagrams

    base = [c["text"] for c in CASES] + _seed_diagrams()
    out = []
    for seed in range(4):
        out += [t for t in _mutations(base, 600, 1000 + seed) if not parse(t).errors]
    return out


def test_mutations_format_idempotently_or_are_refused_with_a_reason():
    texts = _mutated()
    assert len(texts) > 200
    refused = 0
    for t in texts:
        r = format_source(t)
        if r.text is None:
            refused += 1
            assert r.error and "internal error" not in r.error, (t, r.error)
            continue
        assert model(r.text) == model(t), t
        assert format_diagram(r.text) == r.text, t
    assert refused <= len(texts) // 50


def _mermaid_view(result: dict) -> dict:
    keys = ("ok", "entities", "relationships", "direction", "accTitle", "accDescr", "classes", "entityClasses", "entityStyles", "subgraphs")
    return {k: result.get(k) for k in keys}


def test_real_mermaid_reads_the_same_model_before_and_after(mermaid_oracle):
    texts = [c["text"] for c in ACCEPTED] + _mutated()
    for path in MERMAID_FILES:
        texts.append(path.read_text(encoding="utf-8"))
    pairs = []
    for t in texts:
        out = format_diagram(t)
        if out is not None and out != t:
            pairs.append((t, out))
    assert len(pairs) > 200
    before = mermaid_oracle.run([a for a, _ in pairs])
    after = mermaid_oracle.run([b for _, b in pairs])
    problems = [
        f"{a!r}\n  ->\n{b!r}\n  before: {_mermaid_view(x)}\n  after:  {_mermaid_view(y)}"
        for (a, b), x, y in zip(pairs, before, after)
        if _mermaid_view(x) != _mermaid_view(y)
    ]
    assert not problems, "\n".join(problems[:5])


def test_indent_is_four_spaces():
    assert INDENT == "    "
    out = format_diagram("erDiagram\n\tA {\n\t\tint x\n\t}\n")
    assert re.search(r"^    A \{\n        int x\n    \}$", out, re.M)


def test_byte_order_mark_is_kept():
    out = format_diagram("\ufefferDiagram\n A\n")
    assert out == "\ufefferDiagram\n    A\n"
    assert format_diagram(out) == out


def _fast_corpus() -> list[str]:
    from erd_lsp.syntax.hosts import find_blocks
    from support import SEEDS, conformance_cases

    out = []
    for f in SEEDS:
        out += [b.text for b in find_blocks(f.read_text(encoding="utf-8"), "markdown") if b.is_er]
    out += [c["text"] for c in conformance_cases()]
    gen = Path(__file__).resolve().parents[2] / "shared" / "tools" / "perf" / "gen_erd.py"
    if gen.exists():
        import subprocess
        import sys

        for args in (["--size", "small"], ["-n", "60", "-m", "60", "--seed", "4"]):
            out.append(subprocess.run([sys.executable, str(gen), *args], capture_output=True, text=True, check=True).stdout)
    # layouts the canonical form changes: spacing around cardinalities, keys, comments
    out.append("erDiagram\n  A  ||--o{   B : has\n  B }|..|| C : \"x y\"\n  B {\n    int id PK\n      string   name   \"the name\"\n    int  fk_a FK,UK\n  }\n  C ||   --   o{ A : \"\"\n")
    return out


def test_fast_statements_format_as_the_general_parsers(monkeypatch):
    """The formatter reads the statements the parser's fast path took from the spans it
    recorded (building their trees cost a parse of each, 6.7 s on the large diagram):
    every diagram of a corpus formats exactly as with the fast path switched off."""
    from erd_lsp.analysis.format import format_parse
    from erd_lsp.syntax import fastpath

    texts = _fast_corpus()
    fast = [format_parse(parse(t)) for t in texts]
    monkeypatch.setattr(fastpath, "ENABLED", False)
    slow = [format_parse(parse(t)) for t in texts]
    assert [(r.text, r.error) for r in fast] == [(r.text, r.error) for r in slow]
    assert sum(r.text is not None and r.text != t for r, t in zip(fast, texts)) > 5  # layouts did change
