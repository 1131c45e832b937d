"""Rename: the text after the edits, and the model of the renamed diagram.

Every successful rename is checked twice: the edited text is compared with the expected
text, and the edited diagram is parsed again and must model the same diagram as before
with only the name changed.
"""

from __future__ import annotations


import pytest

from erd_lsp.analysis import Document
from erd_lsp.analysis.rename import RenameResult, check_attribute_name, check_entity_name, prepare_rename, rename
from erd_lsp.model import build
from erd_lsp.syntax import parse
from erd_lsp.text import TextRange
from support import DATA, SEEDS, cursor, spans

NAV = DATA / "navigation"


def apply_edits(text: str, result: RenameResult) -> str:
    assert isinstance(result, RenameResult), result
    edits = sorted(result.edits, key=lambda e: e.range.start)
    for a, b in zip(edits, edits[1:]):
        assert a.range.end <= b.range.start, "overlapping edits"
    for e in reversed(edits):
        text = text[: e.range.start] + e.new_text + text[e.range.end :]
    return text


def model_view(source: str, ent: dict | None = None, attr: dict | None = None, browser_trim: bool = False):
    """The parts of the model a rename must keep, with ``ent``/``attr`` renames applied."""
    ent = ent or {}
    attr = attr or {}
    d = build(parse(source, browser_trim=browser_trim))
    E = lambda n: ent.get(n, n)  # noqa: E731
    return {
        "entities": [
            (E(e.name), e.alias, [(a.type, attr.get((e.name, a.name), a.name), a.keys, a.comment) for a in e.attributes], e.classes, e.styles)
            for e in d.entities.values()
        ],
        "relationships": [(E(r.left), E(r.right), r.left_cardinality, r.right_cardinality, r.identifying) for r in d.relationships],
        "subgraphs": [(E(s.id), [E(n) for n in s.nodes]) for s in d.subgraphs],
        "classes": sorted(d.classes),
    }


def check_rename(before: str, new_name: str, after: str, *, ent: dict | None = None, attr: dict | None = None) -> None:
    text, off = cursor(before)
    doc = Document(text, "mermaid", "t.mmd")
    got = apply_edits(text, rename(doc, off, new_name))
    assert got == after
    assert model_view(got) == model_view(text, ent, attr)


def check_refused(before: str, new_name: str, *needles: str) -> None:
    text, off = cursor(before)
    res = rename(Document(text, "mermaid"), off, new_name)
    assert isinstance(res, str), res
    for n in needles:
        assert n in res, res


def check_prepare(fx: str) -> None:
    """``<<...>>`` marks the range prepare_rename answers."""
    marked, ranges = spans(fx)
    text, off = cursor(marked)
    ranges = [(a - 2 if a > off else a, b - 2 if b > off else b) for a, b in ranges]
    r = prepare_rename(Document(text, "mermaid"), off)
    assert isinstance(r, TextRange), r
    assert [(r.start, r.end)] == ranges


# --- prepare ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fx",
    [
        "erDiagram\n  <<CUS$0TOMER>> ||--o{ ORDER : places\n",
        "erDiagram\n  CUSTOMER ||--o{ <<ORDER>>$0 : places\n",
        'erDiagram\n  A ||--o{ "<<Order $0Line>>" : x\n',
        "erDiagram\n  A { int <<i$0d>> }\n",
        'erDiagram\n  A { int id }\n  A ||--o{ B : "<<A$0>>.id=>B.a_id"\n',
        'erDiagram\n  A { int id }\n  A ||--o{ B : "A.<<$0id>>=>B.a_id"\n',
        "erDiagram\n  A\n  style <<A$0>> fill:#f00\n",
        "erDiagram\n  A\n  class B,<<A$0>> vip\n",
        "erDiagram\n  subgraph <<g$0>> [Title]\n    A\n  end\n",
    ],
)
def test_prepare_rename_ranges(fx):
    check_prepare(fx)


@pytest.mark.parametrize(
    "fx, message",
    [
        ("erDiagram\n  A |$0|--o{ B : x\n", "`||` is a cardinality, not a name"),
        ("erDiagram\n  A ||-$0-o{ B : x\n", "`--` is a relationship line, not a name"),
        ("erDiagram\n  A one or more optiona$0lly to zero or one B : x\n", "`optionally to` is a relationship line"),
        ("erDiagram\n  A one or m$0ore to zero or one B : x\n", "`one or more` is a cardinality"),
        ("erDiagram\n  A\n  class$0Def vip fill:#f00\n", "`classDef` is a keyword"),
        ("erDia$0gram\n  A\n", "`erDiagram` is a keyword"),
        ("erDiagram\n  subgraph g\n    A\n  e$0nd\n", "`end` is a keyword"),
        ("erDiagram\n  direction L$0R\n", "`direction` is a keyword"),
        ("erDiagram\n  A ||--o{ B : pla$0ces\n", "label is free text"),
        ('erDiagram\n  A ||--o{ B : "one$0 to many"\n', "label is free text"),
        ("erDiagram\n  %% a comm$0ent\n  A\n", "comment is not a name"),
        ('erDiagram\n  A { int id PK "the i$0d" }\n', "attribute comment is free text"),
        ("erDiagram\n  A { int id P$0K }\n", "`PK` is a key marker"),
        ("erDiagram\n  A { in$0t id }\n", "`int` is an attribute type"),
        ("erDiagram\n  A:::v$0ip\n", "`vip` is a class name"),
        ("erDiagram\n  A\n  class A v$0ip\n", "`vip` is a class name"),
        ("erDiagram\n  classDef v$0ip fill:#f00\n", "`vip` is a class name"),
        ("erDiagram\n  A\n  style A fi$0ll:#f00\n", "style declaration"),
        ('erDiagram\n  A["Cust$0omer"]\n', "alias of `A`"),
        ('erDiagram\n  A["Cust"] { int id }\n  A ||--o{ B : "Cu$0st.id"\n', "through its alias"),
        ("erDiagram\n  accTitle: Or$0ders\n", "accessibility text"),
        ("erDiagram\n  subgraph g [Ti$0tle]\n    A\n  end\n", "subgraph title is free text"),
    ],
)
def test_prepare_rename_refuses(fx, message):
    text, off = cursor(fx)
    r = prepare_rename(Document(text, "mermaid"), off)
    assert isinstance(r, str) and message in r, r
    assert rename(Document(text, "mermaid"), off, "X") == r


@pytest.mark.parametrize("fx", ["erDiagram\n  A  $0  ||--o{ B : x\n", "erDiagram\n  A ||--o{ B :$0 x\n", "erDiagram\n  A {$0 int id }\n", "erDiagram\n  A ||--o{ B $0: x\n", "erDiagram\n$0\n"])
def test_prepare_rename_nothing(fx):
    text, off = cursor(fx)
    assert prepare_rename(Document(text, "mermaid"), off) is None
    assert rename(Document(text, "mermaid"), off, "X") == "there is no name to rename here"


# --- entities ---------------------------------------------------------------------------------------
FULL = """erDiagram
  A["Alias"]:::vip {
    int id PK
  }
  A ||--o{ B : "A.id=>B.a_id"
  B:::vip }|..|| A : A.id
  A
  class A,B vip
  style A fill:#f9f
  classDef vip fill:#fff
  subgraph g [Group]
    A
  end
"""


def test_rename_entity_everywhere():
    check_rename(
        FULL.replace("  A ||", "  A$0 ||"),
        "Order",
        FULL.replace("A", "Order").replace('"Order"', '"Alias"').replace("Orderlias", "Alias"),
        ent={"A": "Order"},
    )


def test_rename_from_any_occurrence_gives_the_same_edits():
    text = FULL
    doc = Document(text, "mermaid")
    results = set()
    for i, ch in enumerate(text):
        if ch == "A" and text[i + 1 : i + 5] != "lias":
            results.add(rename(doc, i, "Z"))
    assert len(results) == 1


def test_rename_to_a_name_that_needs_quotes():
    before = 'erDiagram\n  A { int id }\n  A$0 ||--o{ B : x\n  B }|--|| A : y\n'
    check_rename(before, "Order Line", before.replace("$0", "").replace("A", '"Order Line"'), ent={"A": "Order Line"})
    # given quoted, the same
    check_rename(before, '"Order Line"', before.replace("$0", "").replace("A", '"Order Line"'), ent={"A": "Order Line"})


def test_a_quoted_name_stays_quoted():
    check_rename('erDiagram\n  "A$0" ||--o{ A : x\n', "C", 'erDiagram\n  "C" ||--o{ C : x\n', ent={"A": "C"})


def test_rename_from_quoted_to_bare():
    check_rename(
        'erDiagram\n  "Order$0 Line" { int id }\n  B ||--o{ "Order Line" : x\n',
        "ORDER_LINE",
        'erDiagram\n  "ORDER_LINE" { int id }\n  B ||--o{ "ORDER_LINE" : x\n',
        ent={"Order Line": "ORDER_LINE"},
    )


def test_keywords_are_quoted():
    check_rename("erDiagram\n  A$0 ||--o{ B : x\n", "end", 'erDiagram\n  "end" ||--o{ B : x\n', ent={"A": "end"})
    check_rename("erDiagram\n  A$0 { int id }\n", "one", 'erDiagram\n  "one" { int id }\n', ent={"A": "one"})
    check_rename("erDiagram\n  A$0 { int id }\n", "erDiagram", 'erDiagram\n  "erDiagram" { int id }\n', ent={"A": "erDiagram"})
    # a bare label that would start with a keyword is quoted as a whole
    check_rename(
        "erDiagram\n  A { int id }\n  B ||--o{ A$0 : A.id\n",
        "end",
        'erDiagram\n  "end" { int id }\n  B ||--o{ "end" : "end.id"\n',
        ent={"A": "end"},
    )


def test_refused_where_the_name_must_be_bare():
    check_refused('erDiagram\n  A$0\n  style A fill:#f00\n', "Order Line", "`style` statement on line 3", "no `.`, spaces or quotes")
    check_refused('erDiagram\n  A$0\n  style A fill:#f00\n', "a.b", "`style` statement")
    check_refused('erDiagram\n  A$0\n  class A vip\n', "Order Line", "`class` statement on line 3", "bare names only")
    check_refused('erDiagram\n  A$0\n  class A vip\n', "end", "`class` statement")
    check_refused('erDiagram\n  A$0 { int id }\n  A ||--o{ B : "A.id"\n', "Order Line", "label mention `A.id` on line 3")
    # a dot is fine in a class id and a label
    check_rename(
        'erDiagram\n  A$0 { int id }\n  class A vip\n  A ||--o{ B : "A.id"\n',
        "s.a",
        'erDiagram\n  s.a { int id }\n  class s.a vip\n  s.a ||--o{ B : "s.a.id"\n',
        ent={"A": "s.a"},
    )


@pytest.mark.parametrize(
    "new, message",
    [
        ("", "cannot be empty"),
        ('""', "cannot be empty"),
        ("   ", "only spaces"),
        (" A", "start or end with spaces"),
        ('a"b', 'cannot contain `"`'),
        ("a\nb", "line breaks"),
        ("50%", "cannot contain `%`"),
        ("a\\b", "cannot contain `\\\\`"),
        ("B", "already names an entity"),
        ("g", "already names an entity or subgraph"),
        ("Cust", "already the alias of `C`"),
    ],
)
def test_refused_entity_names(new, message):
    check_refused('erDiagram\n  A$0 ||--o{ B : x\n  C["Cust"]\n  subgraph g\n    C\n  end\n', new, message)
    if new != '""':  # rename unquotes a quoted new name; check_entity_name does not
        assert check_entity_name(new) is None or message in check_entity_name(new)


def test_rename_to_the_same_name_is_no_edit():
    text, off = cursor("erDiagram\n  A$0 ||--o{ B : x\n")
    assert rename(Document(text, "mermaid"), off, "A") == RenameResult(())


def test_refused_when_mermaid_would_read_it_differently():
    # `1` is spelled bare, but `1 one` reads as a cardinality followed by a name
    check_refused("erDiagram\n  B$0 one to one A : x\n", "1", "would change how Mermaid reads the diagram")
    check_rename("erDiagram\n  A ||--o{ B$0 : x\n", "1", "erDiagram\n  A ||--o{ 1 : x\n", ent={"B": "1"})


def test_alias_mentions_are_left_alone():
    check_rename(
        'erDiagram\n  A["Cust"] { int id }\n  A$0 ||--o{ B : "Cust.id, A.id"\n',
        "Customer",
        'erDiagram\n  Customer["Cust"] { int id }\n  Customer ||--o{ B : "Cust.id, Customer.id"\n',
        ent={"A": "Customer"},
    )


def test_rename_subgraph():
    check_rename(
        "erDiagram\n  subgraph g$0 [Group]\n    A\n  end\n  g ||--o{ B : x\n  style g fill:#eee\n",
        "billing",
        "erDiagram\n  subgraph billing [Group]\n    A\n  end\n  billing ||--o{ B : x\n  style billing fill:#eee\n",
        ent={"g": "billing"},
    )


# --- attributes -------------------------------------------------------------------------------------
def test_rename_attribute_in_every_block_and_label():
    before = """erDiagram
  A {
    int id$0 PK
  }
  A {
    string id
  }
  B { int id }
  A ||--o{ B : "A.id=>B.id"
  B ||--o{ A : A.id
"""
    after = """erDiagram
  A {
    int ident PK
  }
  A {
    string ident
  }
  B { int id }
  A ||--o{ B : "A.ident=>B.id"
  B ||--o{ A : A.ident
"""
    check_rename(before, "ident", after, attr={("A", "id"): "ident"})
    # from a label mention
    check_rename(before.replace("id$0 PK", "id PK").replace('"A.id=>', '"A.i$0d=>'), "ident", after, attr={("A", "id"): "ident"})


def test_attribute_names_follow_the_block_word_rule():
    before = 'erDiagram\n  A { int id$0 }\n'
    check_rename(before, "*id_2", "erDiagram\n  A { int *id_2 }\n", attr={("A", "id"): "*id_2"})
    check_rename(before, "größe", "erDiagram\n  A { int größe }\n", attr={("A", "id"): "größe"})
    check_rename(before, "x[1].y(2)", "erDiagram\n  A { int x[1].y(2) }\n", attr={("A", "id"): "x[1].y(2)"})
    for bad, message in [
        ("", "cannot be empty"),
        ("pk", "key marker"),
        ("Fk", "key marker"),
        ("a b", "not an attribute name"),
        ('"id"', "not an attribute name"),
        ("1st", "not an attribute name"),
        ("a{", "not an attribute name"),
        ("pk-x", "not read as one attribute name"),
    ]:
        check_refused(before, bad, message)
        assert message in check_attribute_name(bad)
    check_refused('erDiagram\n  A { int id$0\n  int name }\n', "name", "already has an attribute `name`")
    # a name the label cannot carry
    check_refused('erDiagram\n  A { int id$0 }\n  A ||--o{ B : "A.id"\n', "x(1)", "label mention `A.id` on line 3")


# --- hosts and encodings -----------------------------------------------------------------------------
def test_rename_in_crlf_text():
    before = 'erDiagram\r\n  A$0 {\r\n    int id\r\n  }\r\n  A ||--o{ B : "A.id"\r\n  style A fill:#f00\r\n'
    check_rename(before, "Z", before.replace("$0", "").replace("A", "Z"), ent={"A": "Z"})
    check_rename(before.replace("$0", "").replace("int id", "int i$0d"), "key", before.replace("$0", "").replace("id", "key"), attr={("A", "id"): "key"})


def test_rename_non_bmp_names():
    before = 'erDiagram\n  𝔸$0 { int 𝔦𝔡 }\n  𝔸 ||--o{ 😀 : "𝔸.𝔦𝔡"\n'
    text = before.replace("$0", "")
    check_rename(before, "𝔹𝔹", text.replace("𝔸", "𝔹𝔹"), ent={"𝔸": "𝔹𝔹"})
    check_rename(text.replace('"𝔸.𝔦𝔡"', '"𝔸.𝔦$0𝔡"'), "𝔧", text.replace("𝔦𝔡", "𝔧"), attr={("𝔸", "𝔦𝔡"): "𝔧"})
    check_rename(text.replace("😀", "😀$0"), "🎉", text.replace("😀", "🎉"), ent={"😀": "🎉"})
    check_prepare('erDiagram\n  𝔸 { int 𝔦𝔡 }\n  𝔸 ||--o{ 😀 : "<<𝔸$0>>.𝔦𝔡"\n')


def test_rename_in_a_block_quoted_markdown_diagram():
    text = (NAV / "multi.md").read_text(encoding="utf-8")
    doc = Document(text, "markdown", "multi.md")
    off = text.index(">     ORDER {") + len(">     OR")
    r = prepare_rename(doc, off)
    assert text[r.start : r.end] == "ORDER"
    after = apply_edits(text, rename(doc, off, "PURCHASE"))
    # only the block-quoted diagram changed
    lines_before = text.splitlines()
    lines_after = after.splitlines()
    changed = [b for a, b in zip(lines_before, lines_after) if a != b]
    assert changed == [
        ">     PURCHASE {",
        '>     CUSTOMER ||--o{ PURCHASE : "CUSTOMER.id=>PURCHASE.customer_id"',
    ]
    new_doc = Document(after, "markdown")
    old_units, new_units = Document(text, "markdown").units, new_doc.units
    assert len(new_units) == 3
    assert model_view(new_units[1].source, browser_trim=True) == model_view(old_units[1].source, {"ORDER": "PURCHASE"}, browser_trim=True)
    assert new_units[0].source == old_units[0].source and new_units[2].source == old_units[2].source
    # an attribute from the label, in the block quote
    off = text.index("ORDER.customer_id") + len("ORDER.cust")
    after = apply_edits(text, rename(doc, off, "client_id"))
    changed = [b for a, b in zip(text.splitlines(), after.splitlines()) if a != b]
    assert changed == [">         int client_id FK", '>     CUSTOMER ||--o{ ORDER : "CUSTOMER.id=>ORDER.client_id"']


# --- seeds ------------------------------------------------------------------------------------------------
def seed(prefix: str) -> tuple[str, Document]:
    path = next(p for p in SEEDS if p.name.startswith(prefix))
    text = path.read_text(encoding="utf-8")
    return text, Document(text, "markdown", path.name)


def test_seed_001_rename_entity_and_column():
    text, doc = seed("001")
    off = text.index("    cluster {") + 5
    after = apply_edits(text, rename(doc, off, "k8s_cluster"))
    assert after.count("k8s_cluster.uuid=>") == 5
    assert after.count("k8s_cluster") == 11
    u_old, u_new = doc.units[0], Document(after, "markdown").units[0]
    assert model_view(u_new.source, browser_trim=True) == model_view(u_old.source, {"cluster": "k8s_cluster"}, browser_trim=True)
    # the uuid column of cluster, from a label
    off = text.index('"cluster.uuid=>service.cluster_uuid"') + len('"cluster.uu')
    after = apply_edits(text, rename(doc, off, "cluster_id"))
    assert after.count("cluster.cluster_id=>") == 5
    assert after.count("cluster_token.uuid=>") == 1  # another entity's uuid is untouched
    u_new = Document(after, "markdown").units[0]
    assert model_view(u_new.source, browser_trim=True) == model_view(u_old.source, attr={("cluster", "uuid"): "cluster_id"}, browser_trim=True)


def test_seed_004_rename_stays_in_its_diagram():
    text, doc = seed("004")
    off = text.index("vicidial_xfer_log ||--o{ vicidial_closer_log") + 3
    after = apply_edits(text, rename(doc, off, "xfer_log"))
    assert after.count("xfer_log") == text.count("xfer_log")  # same count: renamed in place
    assert "vicidial_xfer_log" in after  # the flowchart mentions are prose of another diagram type
    new_units = Document(after, "markdown").units
    assert [u.source for u in new_units[:4]] == [u.source for u in doc.units[:4]]
    off = text.index("vicidial_log ||--o{ vicidial_xfer_log") + 3
    res = rename(doc, off, "vicidial_xfer_log")
    assert isinstance(res, str) and "already names" in res


def test_seed_003_rename_with_conflict_markers():
    text, doc = seed("003")
    off = text.index("  run {") + 3
    after = apply_edits(text, rename(doc, off, "runs"))
    assert after.count("  runs ||--o") == 4 and "  runs {" in after and "run_objects {" in after


def _rename_corpus() -> list[str]:
    from erd_lsp.syntax.hosts import find_blocks
    from support import conformance_cases

    out = []
    for f in SEEDS:
        out += [b.text for b in find_blocks(f.read_text(encoding="utf-8"), "markdown") if b.is_er]
    out += [c["text"] for c in conformance_cases() if c["expect"] == "ACCEPT"][:150]
    out += [
        'erDiagram\n  A ||--o{ B : "A.id"\n  A { int id PK }\n  class A vip\n  style B fill:#f00\n  B one to one A : x\n',
        'erDiagram\n  C["Cust"] { string name }\n  C ||--|{ LINE : "C.name and C.x"\n  LINE }|..|| P : ok\n  P { int id }\n  P { int id2 }\n',
    ]
    return out


def test_the_local_verification_agrees_with_modelling_the_whole_diagram(monkeypatch):
    """A rename's verification reads only the statements it touched when it can; on every
    name of a corpus, renamed to names that keep, change or break how Mermaid reads the
    diagram, its verdict is that of parsing and modelling the whole edited diagram."""
    from erd_lsp.analysis import rename as R
    from erd_lsp.syntax import kinds as K

    verdicts = []
    real_local = R._verify_local

    def both(unit, edits, ent_map, attr_map):
        local = real_local(unit, edits, ent_map, attr_map)
        if local is not None:
            whole = R._verify_whole(unit, R.index_of(unit), edits, ent_map, attr_map)
            assert bool(local) == bool(whole), (unit.source, edits, local, whole)
            verdicts.append(bool(local))
        return local

    monkeypatch.setattr(R, "_verify_local", both)
    names = ["Renamed", '"Order Line"', "end", "1", "one", "u", "a.b", "x-y", "B2", "PK", "id2", "*x"]
    for text in _rename_corpus():
        doc = Document(text, "mermaid", "t.mmd")
        if not doc.units:
            continue
        p = doc.units[0].parse
        spots = [s + 1 for k, s, e in p.tokens() if k in (K.UNICODE_TEXT, K.ENTITY_NAME, K.ATTRIBUTE_WORD)]
        for at in spots[:40]:
            for new in names:
                rename(doc, at, new)
    assert verdicts.count(False) > 200 and verdicts.count(True) > 5, (verdicts.count(False), verdicts.count(True))


def test_rename_right_after_an_edit_equals_renaming_a_fresh_document():
    """Right after an edit the rename reads the names summary and the statements it needs
    (not the whole occurrence index): on every name of a corpus, renamed to names that
    keep, collide or break, its answer is a fresh document's."""
    from erd_lsp.analysis import navigation
    from erd_lsp.syntax import kinds as K
    from erd_lsp.text import TextEdit

    names = ["Renamed", '"Order Line"', "end", "1", "one", "a.b", "B2", "PK", "id2", "C", "Cust", "LINE", "name"]
    local_answers = 0
    for text in _rename_corpus():
        doc = Document(text, "mermaid", "t.mmd")
        if not doc.units:
            continue
        doc.diagnostics()
        p = doc.units[0].parse
        spots = [s + 1 for k, s, e in p.tokens() if k in (K.UNICODE_TEXT, K.ENTITY_NAME, K.ATTRIBUTE_WORD)][:30]
        fresh = Document(text, "mermaid", "t.mmd")
        end = len(text)
        for at in spots:
            for new in names:
                # a keystroke and its undo: the same text, a new version without its model
                # or index (each time: a rename the summary cannot answer builds the index)
                d = doc.edited(TextEdit(TextRange(end, end), " ")).edited(TextEdit(TextRange(end, end + 1), ""))
                d.diagnostics()
                got = rename(d, at, new)
                assert got == rename(fresh, at, new), (text, at, new)
                assert prepare_rename(d, at) == prepare_rename(fresh, at)
                local_answers += d.units[0] not in navigation._INDEXES
    assert local_answers > 1000, local_answers
