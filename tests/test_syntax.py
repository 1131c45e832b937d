"""The parser's contract: lossless, never raises, precise errors, readable trees."""

from __future__ import annotations

import pytest

from erd_lsp.syntax import parse
from erd_lsp.syntax.hosts import find_blocks
from erd_lsp.syntax.tree import dump
from support import DATA, SEEDS, conformance_cases, snapshot

PARSER_FIXTURES = sorted((DATA / "parser").glob("*.mmd"))


def _fixture_texts() -> list[tuple[str, str, bool]]:
    out = [(f"case:{c['id']}", c["text"], False) for c in conformance_cases()]
    for f in PARSER_FIXTURES:
        out.append((f.name, f.read_text(encoding="utf-8"), False))
    for f in SEEDS:
        for i, b in enumerate(find_blocks(f.read_text(encoding="utf-8"), "markdown")):
            if b.is_er:
                out.append((f"{f.stem}#{i}", b.text, True))
    return out


FIXTURES = _fixture_texts()


@pytest.mark.parametrize("name,text,trim", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_lossless(name, text, trim):
    p = parse(text, browser_trim=trim)
    assert p.text() == text
    # tokens tile the source exactly, in order
    pos = 0
    for _k, s, e in p.tokens():
        assert s == pos and e >= s
        pos = e
    assert pos == len(text)
    assert not getattr(p, "internal_error", False)


@pytest.mark.parametrize("name,text,trim", FIXTURES[-40:], ids=[f[0] for f in FIXTURES[-40:]])
def test_every_prefix_parses(name, text, trim):
    """Typing a fixture character by character never makes the parser fail."""
    step = max(1, len(text) // 400)
    for n in range(0, len(text) + 1, step):
        p = parse(text[:n], browser_trim=trim)
        assert p.text() == text[:n]
        assert not getattr(p, "internal_error", False), (n, p.errors)


def test_every_prefix_of_every_case_parses():
    for c in conformance_cases():
        t = c["text"]
        for n in range(len(t) + 1):
            p = parse(t[:n])
            assert p.text() == t[:n]
            assert not getattr(p, "internal_error", False), (c["id"], n)


@pytest.mark.parametrize("path", PARSER_FIXTURES, ids=[p.name for p in PARSER_FIXTURES])
def test_tree_snapshot(path):
    p = parse(path.read_text(encoding="utf-8"))
    snapshot(path.with_suffix(".tree"), dump(p) + "\n")


def test_errors_recover_and_keep_the_rest():
    text = (DATA / "parser" / "recovery.mmd").read_text(encoding="utf-8")
    p = parse(text)
    msgs = [(text[: e.start].count("\n") + 1, e.message) for e in p.errors]
    lines = [line for line, _ in msgs]
    # one error per broken line, nothing else
    assert lines == [2, 4, 8, 9, 11, 12, 13, 14]
    assert "expected `:` and a label after `ORDER`" in msgs[0][1]
    from erd_lsp.model import build

    d = build(p)
    # the statements after every error are still modelled
    assert [(r.left, r.right) for r in d.relationships] == [("ORDER", "LINE-ITEM"), ("SHIPMENT", "ORDER")]
    assert [a.name for a in d.entities["PRODUCT"].attributes] == ["name", "decimal(10,", "sku"]


def test_unclosed_block_costs_one_error():
    text = (DATA / "parser" / "unclosed-block.mmd").read_text(encoding="utf-8")
    p = parse(text)
    assert len(p.errors) == 1
    e = p.errors[0]
    assert text[e.start : e.end] == "{" and "never closed" in e.message
    from erd_lsp.model import build

    d = build(p)
    assert [a.name for a in d.entities["CUSTOMER"].attributes] == ["name", "email"]
    assert [(r.left, r.right) for r in d.relationships] == [("CUSTOMER", "ORDER")]
    assert [a.name for a in d.entities["ORDER"].attributes] == ["id"]


def test_kitchen_sink_is_valid():
    p = parse((DATA / "parser" / "kitchen-sink.mmd").read_text(encoding="utf-8"))
    assert p.errors == []


def test_conflict_regions_one_error_each():
    text = "erDiagram\nA ||--o{ B : x\n<<<<<<< HEAD\nC ||--o{ B : y\n=======\nD ||--o{ B : z\n>>>>>>> feature\nE\n"
    p = parse(text)
    assert [(e.code, text[e.start : e.end].split("\n")[0]) for e in p.errors] == [("E002", "<<<<<<< HEAD")]
    assert "`HEAD`" in p.errors[0].message and "`feature`" in p.errors[0].message
    from erd_lsp.model import build

    assert list(build(p).entities) == ["A", "B", "C", "D", "E"]


@pytest.mark.parametrize(
    "text,needle",
    [
        ("erDiagram\nA ||--o{ B\n", "expected `:` and a label after `B`"),
        ("erDiagram\nA -- B : x\n", "expected a cardinality such as `||` or `}o` before the relationship line `--`"),
        ("erDiagram\nA || B : x\n", "expected a relationship line `--` or `..`"),
        ("erDiagram\nA ||--o{ B : one\n", "expected a label after `:`, found the cardinality `one`"),
        ("erDiagram\nA {\n int pk\n}\n", "`pk`, `fk` and `uk` cannot be names"),
        ("erDiagram\nA {\n int id PK FK\n}\n", "expected `,` between keys"),
        ("erDiagram\nA ||--o{ B : x %% c\n", "a statement"),
        ("erDiagram\nA {\n int id %% c\n}\n", "a `%%` comment must be on a line of its own"),
        ("erDiagram\np[Person Name]\n", "an alias of several words needs quotes"),
        ("erDiagram\nsubgraph My Group\nA\nend\n", "needs quotes"),
        ("ERDIAGRAM\nA\n", "case-sensitive"),
        ("erDiagram\nA\nend\n", "`end` without a `subgraph`"),
        ("erDiagram\nsubgraph g\nA\n", "never closed"),
        ("erDiagram\nstyle A fill:rgb(1,2,3)\n", "unexpected `.`"[:11]),
    ],
)
def test_messages_are_plain(text, needle):
    p = parse(text)
    assert p.errors, text
    assert any(needle in e.message for e in p.errors), [e.message for e in p.errors]


def test_stray_statement_line_inside_a_closed_block_stays_inside():
    """A relationship typed inside a block that is otherwise whole costs one error, and the
    attributes after it stay in the block (no entities made of attribute words)."""
    from erd_lsp.model import build

    text = "erDiagram\nCUSTOMER {\n    string name\n    ORDER ||--o{ \n    int age\n}\nORDER { int id }\n"
    p = parse(text)
    assert [text[: e.start].count("\n") + 1 for e in p.errors] == [4]
    d = build(p)
    assert list(d.entities) == ["CUSTOMER", "ORDER"]
    assert [a.name for a in d.entities["CUSTOMER"].attributes] == ["name", "age"]
