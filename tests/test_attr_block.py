"""A fast block's attributes: recognised by the parse in one match, decoded when read.

The parse recognises a block of plain attribute lines with one pattern (``_BLOCK``) and
keeps an :class:`AttrBlock` that decodes the records from the statement's text when
something first reads them. These tests pin down the three things that design rests on:

* the one-match pattern accepts exactly the blocks the line-at-a-time reading accepts, and
  ends where it ends (a difference would make the fast path inexact);
* an ``AttrBlock`` reads as the tuple of the records the general parser's model has, and
  moves with its statement, decoded or not;
* building the model (and the names summary, the incremental diagnostics of an edit that
  does not touch a block) decodes no block; reading one entity's attributes decodes that
  entity's block only.
"""

from __future__ import annotations

import random
import re

import pytest

from erd_lsp.model import Names, build
from erd_lsp.syntax import fastpath, parse
from erd_lsp.syntax.fastpath import _ATTR, _BLOCK, AttrBlock, FastNode

_END = re.compile(r"[ \t\n]*\}(?=[ \t]*\n)")


def _line_by_line(text: str, pos: int):
    """The reference: attribute lines matched one at a time, then the block's end."""
    while True:
        m = _ATTR.match(text, pos)
        if m is None:
            break
        pos = m.end()
    m = _END.match(text, pos)
    return None if m is None else m.end()


BLOCK = """{
    string id PK
    int amount_5 "system see primary"
    varchar(64) flight_id FK
    text slug PK, FK "display UTC"

    string[] tags
    *int pointer uk
}
"""

PIECES = [
    " ", "\t", "\n", "\n\n", "}", "{", '"', '""', "%", "#", "<", "~", "`", ",", "PK", "pk", "FK", "UK", "PK, FK",
    "PK,", ",FK", "x", "1", "-", "(", ")", "[]", "*", ".", "é", "\r", "\u00a0", "type name", " PK", "\n}",
]


def _mutations(seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        t = BLOCK
        for _k in range(rng.randint(1, 3)):
            j = rng.randint(1, len(t) - 1)
            if rng.random() < 0.6:
                t = t[:j] + rng.choice(PIECES) + t[j:]
            else:
                t = t[:j] + t[j + rng.randint(1, 4) :]
        yield t


@pytest.mark.parametrize("seed", range(3))
def test_block_pattern_accepts_what_line_by_line_reading_accepts(seed):
    accepted = rejected = 0
    for t in [BLOCK, "{\n}\n", "{ }\n", "{}\n", "{\n\n  }  \n", *_mutations(seed, 1500)]:
        want = _line_by_line(t, 1)
        m = _BLOCK.match(t, 1)
        got = None if m is None else m.end()
        assert got == want, repr(t)
        if m is not None:
            # `tail` starts where the last attribute line ends: at 1 for an empty block
            assert (m.start("tail") == 1) == (_ATTR.match(t, 1) is None), repr(t)
            accepted += 1
        else:
            rejected += 1
    assert accepted > 100 and rejected > 100  # both sides are exercised


def _fast_blocks(p):
    return [(it, b) for it, b in zip(p.items, p.starts) if it.__class__ is FastNode and it.fast[2].__class__ is AttrBlock]


DIAGRAM = "erDiagram\n    A {\n        string id PK\n        int n \"count\"\n    }\n    B {\n    }\n    A ||--o{ B : has\n    C {\n        uuid id PK, FK\n    }\n"


def test_attr_block_reads_as_the_general_parsers_tuple():
    fast = build(parse(DIAGRAM))
    old = fastpath.ENABLED
    fastpath.ENABLED = False
    try:
        slow = build(parse(DIAGRAM))
    finally:
        fastpath.ENABLED = old
    for name in ("A", "C"):
        got, want = fast.entities[name].attributes, slow.entities[name].attributes
        assert got.__class__ is AttrBlock and want.__class__ is tuple
        assert want and bool(got) and len(got) == len(want)
        assert list(got) == list(want) and got[0] == want[0] and got[-1] == want[-1] and got[:1] == want[:1]
        assert got == want and want == got and not (got != want)
        assert hash(got) == hash(want) and repr(got) == repr(want)
        assert [a.name_range for a in got] == [a.name_range for a in want]
        assert [DIAGRAM[a.type_range.start : a.type_range.end] for a in got] == [a.type for a in want]
    b = fast.entities["B"]
    assert not b.attributes and len(b.attributes) == 0 and b.attributes == slow.entities["B"].attributes == ()
    assert fast == slow
    assert fast.entities["A"].attributes != fast.entities["C"].attributes


def test_a_block_moves_with_its_statement_decoded_or_not():
    p = parse(DIAGRAM)
    (node, base), *_ = _fast_blocks(p)
    blk = node.fast[2]
    assert blk.moved(blk.base) is blk
    ahead = blk.moved(blk.base + 7)  # not decoded yet: moved without decoding
    assert blk._items is None and ahead._items is None
    assert [a.range.start - 7 for a in ahead] == [a.range.start for a in blk]
    decoded = blk.moved(blk.base + 3)  # blk is decoded now: its records move
    assert decoded._items is not None
    assert decoded == tuple(a.moved(blk.base + 3) for a in blk)
    # what a reparse after an insertion before the statement gives
    p2 = parse(DIAGRAM.replace("erDiagram\n", "erDiagram\n    D\n", 1))
    assert build(p2).entities["A"].attributes == tuple(a.moved(a.base + 6) for a in build(p).entities["A"].attributes)


def test_the_model_and_names_decode_no_block_and_one_entity_decodes_its_own():
    text = "erDiagram\n" + "".join(
        f"    E{i} {{\n        int id PK\n        string name_{i} \"n\"\n    }}\n    E{i} ||--o{{ E{i + 1} : next\n" for i in range(300)
    )
    p = parse(text)
    blocks = [b for _it, b in ((it, it.fast[2]) for it, _ in _fast_blocks(p))]
    assert len(blocks) == 300
    d = build(p)
    Names.of(p)
    assert all(b._items is None for b in blocks)
    assert [a.name for a in d.entities["E7"].attributes] == ["id", "name_7"]
    assert [b._items is not None for b in blocks].count(True) == 1 and blocks[7]._items is not None


def test_names_and_facts_are_read_without_decoding_and_equal_the_records():
    from erd_lsp.model import attribute_facts, attribute_names

    texts = [DIAGRAM]
    for seed in range(3):
        for t in _mutations(seed, 400):
            texts.append("erDiagram\n    X " + t)
    compared = 0
    for text in texts:
        d = build(parse(text))
        for e in d.entities.values():
            got = attribute_names(e)
            facts = attribute_facts(e)
            if e.attributes.__class__ is AttrBlock:
                assert e.attributes._items is None or e.attributes.empty  # names(), facts() decoded nothing
                compared += 1
            assert got == [a.name for a in e.attributes], text
            want = [(a.type, a.name, tuple(a.keys), a.comment) for a in e.attributes]
            assert facts == want == attribute_facts(e), text  # the second from the records
    assert compared > 300


def test_w102_decodes_only_the_blocks_that_repeat_a_name():
    from erd_lsp.analysis import Document

    text = "erDiagram\n" + "".join(f"    E{i} {{\n        int id PK\n        string n{i}\n    }}\n" for i in range(50))
    text += "    DUP {\n        int id\n        int id\n    }\n"
    doc = Document(text, "mermaid")
    (unit,) = doc.units
    blocks = {it.fast[2].entity: it.fast[2] for it, _ in _fast_blocks(unit.parse)}
    found = [d for d in doc.diagnostics() if d.code == "W102"]
    assert [(d.subject, text[d.range.start : d.range.end]) for d in found] == [("DUP", "id")]
    assert [name for name, b in blocks.items() if b._items is not None] == ["DUP"]


def test_spans_equal_the_records_spans_decoded_or_not_and_highlighting_decodes_nothing():
    from erd_lsp.analysis import Document
    from erd_lsp.analysis.structure import semantic_tokens

    compared = 0
    for seed in range(2):
        for t in _mutations(seed, 300):
            p = parse("erDiagram\n    X " + t)
            for _it, b in ((it, it.fast[2]) for it, _ in _fast_blocks(p)):
                lazy = list(b.spans())
                assert b._items is None or b.empty
                records = [(a.at, a.type_end, a.name_at, a.name_end, a.key_spans, a.comment_span) for a in b]
                assert all(a.type_at == 0 for a in b)
                assert lazy == records == list(b.spans())  # the second from the records
                compared += 1
    assert compared > 150
    text = "erDiagram\n" + "".join(f"    E{i} {{\n        int id PK, FK \"c\"\n        string n{i}\n    }}\n" for i in range(40))
    doc = Document(text, "mermaid")
    blocks = [b for _it, b in ((it, it.fast[2]) for it, _ in _fast_blocks(doc.units[0].parse))]
    toks = semantic_tokens(doc)
    assert sum(1 for t in toks if t[2] == "decorator") == 80 and sum(1 for t in toks if t[2] == "comment") == 40
    assert all(b._items is None for b in blocks)
