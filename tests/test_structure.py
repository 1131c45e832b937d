"""Document and workspace symbols, folding ranges, selection ranges and semantic tokens."""

from __future__ import annotations

import dataclasses

import pytest

from erd_lsp.analysis import Document
from erd_lsp.analysis.structure import (
    TOKEN_MODIFIERS,
    TOKEN_TYPES,
    Fold,
    Symbol,
    document_symbols,
    encode_semantic_tokens,
    folding_ranges,
    selection_ranges,
    semantic_tokens,
    workspace_symbols,
)
from erd_lsp.text import TextRange
from support import DATA, SEEDS, cursor, snapshot

STRUCTURE = DATA / "structure"


def seed(prefix: str) -> str:
    (path,) = [p for p in SEEDS if p.name.startswith(prefix + "_")]
    return path.read_bytes().decode("utf-8")


def seed_doc(prefix: str) -> Document:
    return Document(seed(prefix), "markdown")


def walk(symbols):
    for s in symbols:
        yield s
        yield from walk(s.children)


def text_of(doc: Document, r: TextRange) -> str:
    return doc.text[r.start : r.end]


SMALL = """erDiagram
    CUSTOMER["Customer Account"] {
        string name PK "the name"
        int age
    }
    CUSTOMER ||--o{ ORDER : places
    subgraph billing [Billing area]
        INVOICE }|..|| ORDER : bills
        PAYMENT {
            int amount
        }
    end
"""


# --- document symbols -----------------------------------------------------------------


def test_mmd_symbols_are_top_level_and_nest_attributes_and_subgraphs():
    doc = Document(SMALL, "mermaid")
    syms = document_symbols(doc)
    assert [(s.kind, s.name, s.detail) for s in syms] == [
        ("entity", "CUSTOMER", "Customer Account"),
        ("relationship", "CUSTOMER ||--o{ ORDER", "places"),
        ("entity", "ORDER", "implicit"),
        ("subgraph", "billing", "Billing area"),
    ]
    customer = syms[0]
    assert [(a.kind, a.name, a.detail) for a in customer.children] == [
        ("attribute", "name", "string PK"),
        ("attribute", "age", "int"),
    ]
    assert text_of(doc, customer.selection_range) == "CUSTOMER"
    assert text_of(doc, customer.range).startswith('CUSTOMER["Customer Account"] {')
    assert text_of(doc, customer.range).endswith("}")
    assert text_of(doc, customer.children[0].selection_range) == "name"
    billing = syms[3]
    assert text_of(doc, billing.selection_range) == "billing"
    assert text_of(doc, billing.range).startswith("subgraph billing") and text_of(doc, billing.range).endswith("end")
    assert [(s.kind, s.name) for s in billing.children] == [
        ("relationship", "INVOICE }|..|| ORDER"),
        ("entity", "INVOICE"),
        ("entity", "PAYMENT"),
    ]
    rel = syms[1]
    assert text_of(doc, rel.range) == "CUSTOMER ||--o{ ORDER : places"


def test_symbols_and_folds_are_immutable():
    s = document_symbols(Document(SMALL, "mermaid"))[0]
    with pytest.raises(AttributeError):  # a named tuple
        s.name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Fold(0, 1).kind = "x"  # type: ignore[misc]


def test_word_relationships_get_the_symbolic_name():
    doc = Document('erDiagram\n    A one or more optionally to zero or one "B C" : "x y"\n', "mermaid")
    rels = [s for s in document_symbols(doc) if s.kind == "relationship"]
    assert [(r.name, r.detail) for r in rels] == [("A }|..o| B C", "x y")]


def test_seed_004_has_five_diagram_symbols():
    doc = seed_doc("004")
    syms = document_symbols(doc)
    assert [s.kind for s in syms] == ["diagram"] * 5
    counts = [sum(1 for c in walk(s.children) if c.kind == "entity") for s in syms]
    assert counts == [9, 6, 7, 7, 4]
    for s in syms:
        assert s.name.startswith("erDiagram (line ")
        line = int(s.name.split("line ")[1].rstrip(")"))
        assert doc.text.splitlines()[line - 1].strip() == "erDiagram"
        assert text_of(doc, s.selection_range) == "erDiagram"
        assert text_of(doc, s.range).startswith("```mermaid") and text_of(doc, s.range).endswith("```")


def test_front_matter_title_names_the_diagram():
    (d,) = document_symbols(seed_doc("001"))
    assert d.name == "claiflow entities"
    assert d.detail == "8 entities, 7 relationships" or d.detail.startswith("8 entities")


@pytest.mark.parametrize("path", SEEDS, ids=[p.stem for p in SEEDS])
def test_symbol_ranges_contain_their_selection_and_children(path):
    doc = Document(path.read_bytes().decode("utf-8"), "markdown")

    def check(s: Symbol, parent: Symbol | None):
        assert s.range.start <= s.selection_range.start <= s.selection_range.end <= s.range.end, s
        if parent is not None:
            assert parent.range.start <= s.range.start and s.range.end <= parent.range.end, (parent.name, s.name)
        for c in s.children:
            check(c, s)

    for s in document_symbols(doc):
        check(s, None)


# --- workspace symbols ----------------------------------------------------------------


def test_workspace_symbols_fuzzy_with_prefixes_first():
    docs = [("a.mmd", Document(SMALL, "mermaid")), ("seed.md", seed_doc("001"))]
    found = workspace_symbols(docs, "cu")
    names = [s.name for _k, s in found]
    assert names[0] == "CUSTOMER"  # an entity prefix beats attributes and subsequences
    assert all(not s.children for _k, s in found)
    # prefix matches (of the name or of its attribute part) come before the rest
    ranks = ["prefix" if n.lower().startswith("cu") or n.split(".")[-1].lower().startswith("cu") else "other" for n in names]
    assert ranks == sorted(ranks, key=lambda r: r != "prefix")
    assert "cluster_token.cluster_uuid" in names  # attribute part prefix
    assert any(n.startswith("cluster") and not n.split(".")[-1].startswith("cu") for n in names)  # subsequence
    assert "CUSTOMER.name" in names  # the entity part is a prefix too
    key, age = next((k, s) for k, s in workspace_symbols(docs, "customer.age"))
    assert key == "a.mmd" and age.kind == "attribute" and age.detail == "int"
    assert SMALL[age.selection_range.start : age.selection_range.end] == "age"


def test_workspace_symbols_exact_first_and_limit():
    docs = [("seed.md", seed_doc("001"))]
    found = workspace_symbols(docs, "cluster")
    assert found[0][1].name == "cluster"
    assert len(workspace_symbols(docs, "", limit=5)) == 5
    assert workspace_symbols(docs, "zzzzqqq") == []
    assert workspace_symbols([], "x") == []


# --- folding --------------------------------------------------------------------------


def test_seed_003_folds_conflict_regions_and_blocks():
    doc = seed_doc("003")
    folds = folding_ranges(doc)
    got = {(f.start_line, f.end_line, f.kind) for f in folds}
    assert (79, 101, "region") in got
    assert (113, 119, "region") in got
    lines = doc.text.splitlines()
    # every attribute block: from its `{` line to the line before its `}`
    blocks = [f for f in folds if f.kind is None and lines[f.start_line].rstrip().endswith("{")]
    assert len(blocks) == 10
    for f in blocks:
        assert lines[f.end_line + 1].strip() == "}"
    # the diagram (fence) and the front matter
    assert (4, 122, None) in got
    assert (6, 9, None) in got
    assert all(f.end_line > f.start_line for f in folds)


def test_folds_of_an_inline_diagram():
    text = """---
title: x
---
erDiagram
    %% one
    %% two
    %% three
    A {
        int id
    }
    %% alone
    accDescr {
        multi
        line
    }
    accDescr: one line
    subgraph g
        B
    end
    C { }
    D {
        int x }
"""
    doc = Document(text, "mermaid")
    got = [(f.start_line, f.end_line, f.kind) for f in folding_ranges(doc)]
    assert got == [
        (0, 2, None),  # front matter
        (4, 6, "comment"),  # three comment lines; the lone one is not folded
        (7, 8, None),  # block, `}` stays visible
        (11, 13, None),  # accDescr { }
        (16, 17, None),  # subgraph, `end` stays visible
        (20, 21, None),  # `}` at the end of a content line: folded with it
    ]


def test_markdown_diagram_fold_keeps_the_closing_fence_visible():
    text = "# T\n\n```mermaid\nerDiagram\n  A ||--o{ B : x\n```\n"
    assert [(f.start_line, f.end_line) for f in folding_ranges(Document(text, "markdown"))] == [(2, 4)]


# --- selection ranges -----------------------------------------------------------------


def assert_growing(chain):
    for a, b in zip(chain, chain[1:]):
        assert b.start <= a.start and a.end <= b.end and b != a, (a, b)


def test_selection_chain_of_an_attribute_name():
    text, off = cursor(SMALL.replace("string name PK", "string na$0me PK"))
    doc = Document(text, "mermaid")
    (chain,) = selection_ranges(doc, [off])
    got = [text_of(doc, r) for r in chain]
    assert got[0] == "name"
    assert got[1] == 'string name PK "the name"'
    assert got[2].startswith("{") and got[2].endswith("}")
    assert got[3].startswith('CUSTOMER["Customer Account"] {')
    assert got[-1] == text.strip()
    assert_growing(chain)


def test_selection_in_a_subgraph_and_in_markdown():
    text, off = cursor(SMALL.replace("INVOICE }|", "INV$0OICE }|"))
    doc = Document(text, "mermaid")
    (chain,) = selection_ranges(doc, [off])
    got = [text_of(doc, r) for r in chain]
    assert got[:2] == ["INVOICE", "INVOICE }|..|| ORDER : bills"]
    assert got[2].startswith("subgraph billing") and got[2].endswith("end")
    md, off = cursor("Intro\n\n```mermaid\nerDiagram\n  A ||--o{ B$0 : x\n```\n\nOutro\n")
    mdoc = Document(md, "markdown")
    (chain,) = selection_ranges(mdoc, [off])
    assert [text_of(mdoc, r) for r in chain] == [
        "B",
        "A ||--o{ B : x",
        "erDiagram\n  A ||--o{ B : x",
        "```mermaid\nerDiagram\n  A ||--o{ B : x\n```",
    ]
    outside = md.index("Outro")
    assert selection_ranges(mdoc, [outside]) == [[TextRange(outside, outside)]]


@pytest.mark.parametrize("path", SEEDS + [STRUCTURE / "kitchen-sink.mmd"], ids=lambda p: p.stem)
def test_selection_ranges_strictly_grow_everywhere(path):
    text = path.read_bytes().decode("utf-8")
    doc = Document(text, "markdown" if path.suffix == ".txt" else "mermaid")
    offsets = list(range(0, len(text) + 1, 3))
    chains = selection_ranges(doc, offsets)
    assert len(chains) == len(offsets)
    for off, chain in zip(offsets, chains):
        assert chain, off
        assert chain[0].start <= off <= chain[0].end
        assert_growing(chain)


# --- semantic tokens ------------------------------------------------------------------


def render_tokens(doc: Document) -> str:
    out = []
    for start, length, typ, mods in semantic_tokens(doc):
        line, col = doc.line_index.line_col(start)
        m = "+".join(mods)
        out.append(f"{line + 1}:{col + 1} {typ}{'.' + m if m else ''} {doc.text[start:start + length]!r}")
    return "\n".join(out) + "\n"


def test_semantic_tokens_snapshot():
    path = STRUCTURE / "kitchen-sink.mmd"
    doc = Document(path.read_bytes().decode("utf-8"), "mermaid")
    snapshot(STRUCTURE / "kitchen-sink.tokens", render_tokens(doc))


def test_semantic_token_kinds():
    text = """erDiagram
    A["alias"] {
        int id PK "c"
    }
    A ||--o{ B : has
    B }|..|| C : x
"""
    doc = Document(text, "mermaid")
    got = {(doc.text[s : s + n], t, m) for s, n, t, m in semantic_tokens(doc)}
    assert ("A", "class", ("declaration",)) in got
    assert ('"alias"', "string", ()) in got
    assert ("int", "type", ()) in got
    assert ("id", "property", ("declaration",)) in got
    assert ("PK", "decorator", ()) in got
    assert ('"c"', "comment", ()) in got
    assert ("A", "class", ()) in got  # declared entity used in a relationship
    assert ("B", "class", ("implicit",)) in got
    assert ("--", "operator", ("identifying",)) in got
    assert ("..", "operator", ("nonIdentifying",)) in got
    assert ("o{", "operator", ()) in got
    assert ("has", "string", ()) in got
    assert ("erDiagram", "keyword", ()) in got


def test_conflict_markers_are_deprecated_comments():
    doc = seed_doc("003")
    toks = semantic_tokens(doc)
    markers = [(doc.line_index.line_of(s), t, m) for s, n, t, m in toks if doc.text[s:s + n].startswith(("<<<<<<<", "=======", ">>>>>>>"))]
    assert markers == [(i, "comment", ("deprecated",)) for i in (79, 100, 101, 113, 118, 119)]


@pytest.mark.parametrize("path", SEEDS + [STRUCTURE / "kitchen-sink.mmd"], ids=lambda p: p.stem)
def test_semantic_token_invariants(path):
    text = path.read_bytes().decode("utf-8")
    doc = Document(text, "markdown" if path.suffix == ".txt" else "mermaid")
    toks = semantic_tokens(doc)
    last_end = -1
    for s, n, t, m in toks:
        assert n > 0 and s >= last_end
        assert t in TOKEN_TYPES and all(x in TOKEN_MODIFIERS for x in m)
        piece = text[s : s + n]
        assert "\n" not in piece and "\r" not in piece and piece == piece.strip()
        last_end = s + n
    data = encode_semantic_tokens(doc, toks, "utf-16")
    assert len(data) == 5 * len(toks)


def test_markdown_tokens_are_host_offsets():
    md = "Intro\n\n> ```mermaid\n> erDiagram\n>   %% a\n>   %% b\n>   A ||--o{ B : x\n> ```\n"
    doc = Document(md, "markdown")
    got = [(md[s : s + n], t) for s, n, t, _m in semantic_tokens(doc)]
    assert got == [
        ("erDiagram", "keyword"),
        ("%% a", "comment"),
        ("%% b", "comment"),
        ("A", "class"),
        ("||", "operator"),
        ("--", "operator"),
        ("o{", "operator"),
        ("B", "class"),
        ("x", "string"),
    ]
    assert (4, 5, "comment") in {(f.start_line, f.end_line, f.kind) for f in folding_ranges(doc)}


def test_encoding_utf16_and_utf8():
    text = 'erDiagram\n    A["😀 x"]:::vip\n    😀B ||--o{ A : r\n'
    doc = Document(text, "mermaid")
    toks = semantic_tokens(doc)
    assert [(text[s : s + n], t) for s, n, t, _m in toks][1:4] == [
        ("A", "class"),
        ('"😀 x"', "string"),
        ("vip", "enumMember"),
    ]
    u16 = encode_semantic_tokens(doc, toks, "utf-16")
    u8 = encode_semantic_tokens(doc, toks, "utf-8")
    u32 = encode_semantic_tokens(doc, toks, "utf-32")
    rows16 = [u16[i : i + 5] for i in range(0, len(u16), 5)]
    rows8 = [u8[i : i + 5] for i in range(0, len(u8), 5)]
    rows32 = [u32[i : i + 5] for i in range(0, len(u32), 5)]
    t = TOKEN_TYPES.index
    decl = 1 << TOKEN_MODIFIERS.index("declaration")
    # line 1: A, the alias, the class name after it
    assert rows16[1:4] == [[1, 4, 1, t("class"), decl], [0, 2, 6, t("string"), 0], [0, 10, 3, t("enumMember"), 0]]
    assert rows8[1:4] == [[1, 4, 1, t("class"), decl], [0, 2, 8, t("string"), 0], [0, 12, 3, t("enumMember"), 0]]
    assert rows32[1:4] == [[1, 4, 1, t("class"), decl], [0, 2, 5, t("string"), 0], [0, 9, 3, t("enumMember"), 0]]
    # line 2: the entity 😀B, then `||` after it
    implicit = 1 << TOKEN_MODIFIERS.index("implicit")
    assert rows16[4:6] == [[1, 4, 3, t("class"), implicit], [0, 4, 2, t("operator"), 0]]
    assert rows8[4:6] == [[1, 4, 5, t("class"), implicit], [0, 6, 2, t("operator"), 0]]


def test_nothing_raises_on_odd_input():
    for text, kind in [("", "mermaid"), ("", "markdown"), ("erDiagram\n  A {", "mermaid"), ("```mermaid\nerDiagram\n  A ||--", "markdown"), ("\x00\ud800", "mermaid")]:
        doc = Document(text, kind)
        document_symbols(doc)
        folding_ranges(doc)
        semantic_tokens(doc)
        selection_ranges(doc, range(len(text) + 1))
        workspace_symbols([("k", doc)], "a")
