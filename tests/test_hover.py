"""Hover: entities, cardinalities, relationship lines, keys, attributes, keywords, rule
codes in comments; and the rule documentation used for diagnostic code descriptions."""

from __future__ import annotations

import dataclasses
import re

import pytest

from erd_lsp.analysis import Document
from erd_lsp.analysis.hover import Hover, hover, reading, rule_documentation
from erd_lsp.analysis.rules import RULES
from support import DATA, SEEDS, cursor

DIAGRAM = """erDiagram
    %% erd-lsp: ignore W101, Z999
    CUSTOMER["Customer Account"]:::vip {
        string name PK "the | name"
        int address_id FK
        string email UK
    }
    CUSTOMER ||--o{ ORDER : places
    ORDER }|..o| ADDRESS : ""
    ORDER one or more to zero or one ITEM : has
    ORDER only one optionally to many(1) PAYMENT : "paid by"
    subgraph billing [Billing area]
        direction LR
        INVOICE }|..|| ORDER : bills
    end
    classDef vip fill:#f9f,stroke:#333
    class ORDER vip
    style INVOICE fill:#eee
    accTitle: Orders
    accDescr: Who orders what
"""


def at(marker_text: str, kind: str = "mermaid") -> tuple[Document, Hover | None]:
    """Hover at ``$0`` in ``marker_text``."""
    text, off = cursor(marker_text)
    doc = Document(text, kind)
    return doc, hover(doc, off)


def hover_on(needle: str, delta: int = 0, text: str = DIAGRAM, nth: int = 0) -> tuple[str, str]:
    """Hover on the ``nth`` occurrence of ``needle`` (plus ``delta``); (markdown, hovered text)."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    doc = Document(text, "mermaid")
    h = hover(doc, i + delta)
    assert h is not None, needle
    return h.contents_markdown, text[h.range.start : h.range.end]


# --- entities -------------------------------------------------------------------------


def test_entity_hover_on_its_statement():
    md, word = hover_on("CUSTOMER[")
    assert word == "CUSTOMER"
    assert md.startswith("**CUSTOMER** — alias “Customer Account”")
    assert "declared with a block (3 attributes)" in md
    assert "| type | name | keys | comment |" in md
    assert "| string | name | PK | the \\| name |" in md  # pipes escaped inside cells
    assert "| int | address_id | FK |  |" in md
    assert "`CUSTOMER ||--o{ ORDER : places` (identifying, solid line)" in md
    assert "each CUSTOMER places zero or more ORDER" in md
    assert "each ORDER is related to exactly one CUSTOMER" in md
    assert "Classes: `vip`" in md


def test_implicit_entity_hover_everywhere_it_is_named():
    places = [("o{ ORDER", 3, 0), ("ORDER }|", 0, 0), ("class ORDER", 6, 0), ("INVOICE }|", 0, 0), ("style INVOICE", 6, 0)]
    for needle, delta, nth in places:
        md, word = hover_on(needle, delta, nth=nth)
        assert word in ("ORDER", "INVOICE"), needle
        assert "Implicit entity: created by a relationship" in md
    md, _ = hover_on("ORDER }|")
    # its relationships in words, both directions, one per line
    lines = md.splitlines()
    assert "  - each ORDER is related to zero or one ADDRESS" in lines  # empty label: generic verb
    assert "  - each ADDRESS is related to one or more ORDER" in lines
    assert "- `ORDER }|..o| ADDRESS : \"\"` (non-identifying, dashed line)" in lines
    assert "  - each ORDER has zero or one ITEM" in lines
    assert "  - each ORDER paid by one or more PAYMENT" in lines
    assert "  - each PAYMENT is related to exactly one ORDER" in lines
    assert "  - each INVOICE bills exactly one ORDER" in lines
    md, _ = hover_on("style INVOICE", 6)
    assert "Styles: `fill:#eee`" in md


def test_entity_hover_by_alias_and_at_the_end_of_a_word():
    md, word = hover_on('"Customer Account"', 3)
    assert word == '"Customer Account"' and md.startswith("**CUSTOMER**")
    md, word = hover_on("CUSTOMER ||", len("CUSTOMER"))  # cursor just after the name
    assert word == "CUSTOMER"


def test_seed_001_cluster_token():
    (path,) = [p for p in SEEDS if p.name.startswith("001_")]
    text = path.read_bytes().decode("utf-8")
    doc = Document(text, "markdown")
    off = text.index("cluster_token {") + 3
    h = hover(doc, off)
    assert h is not None
    assert text[h.range.start : h.range.end] == "cluster_token"
    md = h.contents_markdown
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith(("| type", "| ---"))]
    assert len(rows) == 10
    assert rows[0] == "| int64 | id | PK |  |"
    assert re.search(r"each cluster_token .* exactly one cluster$", md, re.M)
    assert "each cluster is related to zero or more cluster_token" in md
    # a relationship end of the same entity gives the same hover
    rel = text.index("cluster_token }o--|| cluster")
    assert hover(doc, rel).contents_markdown == md


def test_reading_both_ways():
    doc = Document("erDiagram\n  CUSTOMER ||--o{ ORDER : places\n", "mermaid")
    (rel,) = doc.units[0].diagram.relationships
    assert reading(rel) == ("each CUSTOMER places zero or more ORDER", "each ORDER is related to exactly one CUSTOMER")


# --- relationship parts ---------------------------------------------------------------


def test_cardinality_hover():
    md, word = hover_on("o{ ORDER", 1)
    assert word == "o{"
    assert md.startswith("**zero or more** (`o{`): the entity on this side may appear any number of times, or not at all.")
    assert "It applies to **ORDER**, the right side of `CUSTOMER ||--o{ ORDER`: each CUSTOMER places zero or more ORDER." in md
    md, word = hover_on("||--o{")
    assert word == "||"
    assert md.startswith("**exactly one** (`||`)")
    assert "It applies to **CUSTOMER**, the left side" in md
    assert "each ORDER is related to exactly one CUSTOMER" in md
    md, word = hover_on("one or more to")
    assert word == "one or more" and md.startswith("**one or more** (`one or more`)") and "the left side" in md
    md, word = hover_on("many(1)")
    assert word == "many(1)" and md.startswith("**one or more**") and "PAYMENT" in md
    md, word = hover_on("o| ADDRESS")
    assert md.startswith("**zero or one**")


@pytest.mark.parametrize(
    "needle, delta, word, identifying",
    [("||--o{", 2, "--", True), ("}|..o|", 2, "..", False), ("more to", 5, "to", True), ("optionally to", 0, "optionally to", False)],
)
def test_relationship_line_hover(needle, delta, word, identifying):
    md, got = hover_on(needle, delta)
    assert got == word
    if identifying:
        assert md.startswith("**identifying relationship** (solid line")
    else:
        assert md.startswith("**non-identifying relationship** (dashed line")
    assert "- each " in md  # the relationship read in words


def test_label_hover_reads_the_relationship():
    md, word = hover_on('"paid by"', 2)
    assert word == '"paid by"'
    assert "non-identifying (dashed line)" in md
    assert "each ORDER paid by one or more PAYMENT" in md


# --- attributes and keys --------------------------------------------------------------


@pytest.mark.parametrize("key, words", [("PK", "primary key"), ("FK", "foreign key"), ("UK", "unique key")])
def test_key_hover(key, words):
    md, word = hover_on(f" {key}", 1)
    assert word == key
    assert md.startswith(f"**{key} — {words}**")
    assert "On `CUSTOMER." in md


def test_attribute_name_and_type_hover():
    md, word = hover_on("address_id")
    assert word == "address_id"
    assert md.startswith("**CUSTOMER.address\\_id**") or md.startswith("**CUSTOMER.address_id**")
    assert "- entity: CUSTOMER (“Customer Account”)" in md
    assert "- type: `int`" in md
    assert "- keys: FK (foreign key)" in md
    md2, word = hover_on("int address_id", 1)
    assert word == "int" and md2 == md
    md3, word = hover_on('"the | name"', 1)
    assert "- comment: the \\| name" in md3 and "- keys: PK (primary key)" in md3


# --- keywords, classes, subgraphs -----------------------------------------------------


@pytest.mark.parametrize(
    "needle, delta, word, syntax",
    [
        ("erDiagram", 0, "erDiagram", "`erDiagram`"),
        ("style INVOICE", 1, "style", "`style NAME[,NAME…] fill:#f9f"),
        ("classDef vip", 2, "classDef", "`classDef name[,name…]"),
        ("class ORDER", 0, "class", "`class NAME[,NAME…] className"),
        ("direction LR", 3, "direction LR", "`direction TB`"),
        ("subgraph billing", 0, "subgraph", "`subgraph id [Title words]`"),
        ("end\n", 1, "end", "closes the innermost open `subgraph`"),
        ("accTitle", 0, "accTitle", "`accTitle: Orders and customers`"),
        ("accDescr", 4, "accDescr", "`accDescr { … }`"),
    ],
)
def test_keyword_hover(needle, delta, word, syntax):
    md, got = hover_on(needle, delta)
    assert got == word
    assert syntax in md
    assert "\n\n" not in md  # one paragraph


def test_class_and_subgraph_hover():
    md, word = hover_on(":::vip", 4)
    assert word == "vip"
    assert "Defined by `classDef vip`: `fill:#f9f`, `stroke:#333`." in md
    assert "Used by: CUSTOMER, ORDER." in md
    md, word = hover_on("billing [")
    assert word == "billing"
    assert md.startswith("**subgraph** `billing` — “Billing area”")
    assert "Members: INVOICE, ORDER." in md
    assert "Direction: `LR`" in md


# --- rule codes in comments -----------------------------------------------------------


def test_rule_code_in_a_comment():
    md, word = hover_on("W101", 2)
    assert word == "W101"
    assert md.startswith("**W101 undeclared-entity** (warning)")
    assert "A relationship names an entity that no entity statement declares." in md
    assert "## What it does" in md
    # an unknown code or another word of the comment has no hover
    i = DIAGRAM.index("Z999")
    assert hover(Document(DIAGRAM, "mermaid"), i + 1) is None
    assert hover(Document(DIAGRAM, "mermaid"), DIAGRAM.index("ignore") + 1) is None


def test_rule_code_in_a_markdown_comment_has_a_host_range():
    doc, h = at("Intro\n\n```mermaid\nerDiagram\n  %% erd-lsp: ignore E0$002\n  A {\n  }\n```\n", "markdown")
    assert h is not None
    assert doc.text[h.range.start : h.range.end] == "E002"
    assert h.contents_markdown.startswith("**E002 conflict-marker** (error)")


@pytest.mark.parametrize("rule", RULES, ids=[r.CODE for r in RULES])
def test_rule_documentation(rule):
    md = rule_documentation(rule.CODE)
    assert md is not None
    assert md.startswith(f"**{rule.CODE} {rule.NAME}** ({rule.SEVERITY.label})\n\n")
    assert "## What it does" in md and "## Why is this bad?" in md
    assert "\n    " not in md.split("```")[0]  # dedented
    assert rule_documentation(rule.CODE.lower()) == md
    assert rule_documentation(rule.NAME) == md


def test_rule_documentation_unknown():
    assert rule_documentation("X999") is None
    assert rule_documentation("") is None


# --- nothing to say, and robustness ---------------------------------------------------


def test_no_hover_outside_diagrams_and_on_whitespace():
    doc, h = at("Some $0prose\n\n```mermaid\nerDiagram\n  A ||--o{ B : x\n```\n", "markdown")
    assert h is None
    doc, h = at("Some prose\n\n```mer$0maid\nerDiagram\n```\n", "markdown")
    assert h is None
    doc, h = at("erDiagram\n  A  $0  ||--o{ B : x\n")
    assert h is None


def test_hover_range_in_markdown_is_a_host_range():
    doc, h = at("# T\n\n> ```mermaid\n> erDiagram\n>   A ||--o{ B$0 : x\n> ```\n", "markdown")
    assert h is not None
    assert doc.text[h.range.start : h.range.end] == "B"
    assert h.contents_markdown.startswith("**B**")


def test_hover_is_frozen():
    _doc, h = at("erDiagram\n  A$0 ||--o{ B : x\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.range = None  # type: ignore[misc]


@pytest.mark.parametrize("path", SEEDS + sorted((DATA / "parser").glob("*.mmd")), ids=lambda p: p.stem)
def test_hover_never_raises(path):
    text = path.read_bytes().decode("utf-8")
    doc = Document(text, "markdown" if path.suffix == ".txt" else "mermaid")
    for off in range(0, len(text) + 1):
        h = hover(doc, off)
        if h is not None:
            assert h.contents_markdown
            assert h.range.start <= off <= h.range.end


def test_hover_right_after_edits_equals_the_hover_of_the_built_model(edited_texts):
    """Right after an edit hover reads a model of just the statements it explains
    (hover._Near, from the names summary); what it says must be what the full model
    says, and it must say most of it without building that model."""
    import random
    import re
    import subprocess
    import sys
    from pathlib import Path

    from erd_lsp.analysis import Document
    from erd_lsp.analysis.hover import hover
    from erd_lsp.text import TextEdit, TextRange

    gen = Path(__file__).resolve().parents[2] / "shared" / "tools" / "perf" / "gen_erd.py"
    if not gen.exists():
        pytest.skip("../shared/tools/perf/gen_erd.py is not here")
    text = subprocess.run([sys.executable, str(gen), "-n", "60", "-m", "80"], capture_output=True, text=True, check=True).stdout
    text += "    ORPHAN_A ||--o{ ORPHAN_B : has\n    BROKEN_X ||--o{ \n"
    rng = random.Random(9)
    doc = Document(text)
    doc.diagnostics()
    local = 0
    for _ in range(12):
        words = [m.start() for m in re.finditer(r"[A-Za-z_]\w*", doc.text)]
        at = rng.choice(words)
        nxt = doc.edited(TextEdit(TextRange(at, at), rng.choice(["x", "", "_"])))
        nxt.diagnostics()
        unit = nxt.units[0]
        offs = rng.sample(range(len(nxt.text)), 60)
        got = {off: hover(nxt, off) for off in offs}
        local += "diagram" not in unit.__dict__
        unit.diagram  # now the full model
        for off in offs:
            assert got[off] == hover(nxt, off), (nxt.text[max(0, off - 30) : off + 30], off)
        doc = nxt
    assert local >= 10
