"""Navigation: symbol under the cursor, definition, references, highlights, workspace.

Fixtures are inline diagrams with a ``$0`` cursor and ``<<...>>`` around the expected
ranges (rust-analyzer style), plus Markdown documents whose diagrams sit in block quotes,
to prove that every range is a host range.
"""

from __future__ import annotations

import random

import pytest
from pathlib import Path

from erd_lsp.analysis import Document
from erd_lsp.analysis.navigation import definition, highlights, label_mentions, references, symbol_at
from erd_lsp.analysis.rename import prepare_rename, rename
from erd_lsp.analysis.workspace import Location, Workspace
from erd_lsp.text import TextRange
from support import DATA, SEEDS, cursor, spans

NAV = DATA / "navigation"


def fixture(text: str) -> tuple[str, int, list[tuple[int, int]]]:
    """The text without markers, the ``$0`` offset and the ``<<...>>`` ranges."""
    marked, ranges = spans(text)
    clean, off = cursor(marked)
    fixed = [(a - 2 if a > off else a, b - 2 if b > off else b) for a, b in ranges]
    return clean, off, fixed


def mmd(text: str) -> Document:
    return Document(text, "mermaid", "main.mmd")


def check_definition(fx: str, kind: str = "mermaid") -> None:
    text, off, expected = fixture(fx)
    doc = Document(text, kind, "main")
    got = [(loc.range.start, loc.range.end) for loc in definition(None, doc, off)]
    assert got == expected, [text[a:b] for a, b in got]
    assert all(loc.key == "main" for loc in definition(None, doc, off))


def check_references(fx: str, include_declaration: bool = True) -> None:
    text, off, expected = fixture(fx)
    doc = mmd(text)
    got = [(loc.range.start, loc.range.end) for loc in references(None, doc, off, include_declaration)]
    assert got == expected, [text[a:b] for a, b in got]


def check_symbol(fx: str, kind: str | None, name: str | None = None, entity: str | None = None) -> None:
    text, off, expected = fixture(fx)
    sym = symbol_at(mmd(text), off)
    if kind is None:
        assert sym is None, sym
        return
    assert sym is not None
    assert (sym.kind, sym.name, sym.entity) == (kind, name, entity)
    assert [(sym.range.start, sym.range.end)] == expected


def marked(text: str, ranges) -> str:
    return " ".join(text[r.start : r.end] for r in ranges)


# --- symbol_at ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fx, kind, name, entity",
    [
        ("erDiagram\n  <<CUS$0TOMER>> ||--o{ ORDER : places\n", "entity", "CUSTOMER", None),
        ("erDiagram\n  CUSTOMER ||--o{ <<ORDER$0>> : places\n", "entity", "ORDER", None),  # touching the end
        ('erDiagram\n  ORDER ||--o{ <<"DELIVERY $0ADDRESS">> : ships\n', "entity", "DELIVERY ADDRESS", None),
        ("erDiagram\n  <<A$0>>:::vip ||--o{ B : x\n", "entity", "A", None),
        ("erDiagram\n  A:::v$0ip ||--o{ B : x\n", None, None, None),  # a class name
        ("erDiagram\n  A\n  class <<$0A>> vip\n", "entity", "A", None),
        ("erDiagram\n  A\n  class A v$0ip\n", None, None, None),
        ("erDiagram\n  A\n  style <<A$0>> fill:#f00\n", "entity", "A", None),
        ('erDiagram\n  A[<<"Cus$0tomer">>]\n', "entity", "A", None),  # the alias names its entity
        ("erDiagram\n  A {\n    int <<i$0d>> PK\n  }\n", "attribute", "id", "A"),
        ("erDiagram\n  A {\n    <<in$0t>> id PK\n  }\n", "type", "int", "A"),
        ("erDiagram\n  A {\n    int id P$0K\n  }\n", None, None, None),
        ('erDiagram\n  A { int id }\n  A ||--o{ B : "<<A$0>>.id=>B.a_id"\n', "entity", "A", None),
        ('erDiagram\n  A { int id }\n  A ||--o{ B : "A.<<i$0d>>=>B.a_id"\n', "attribute", "id", "A"),
        ('erDiagram\n  A { int id }\n  A ||--o{ B : "A.id=><<B>>$0.a_id"\n', "entity", "B", None),
        ('erDiagram\n  A { int id }\n  A ||--o{ B : "A.id=>B.<<a_$0id>>"\n', "attribute", "a_id", "B"),
        ('erDiagram\n  A ||--o{ B : "pla$0ces"\n', None, None, None),
        ("erDiagram\n  A ||--o{ B : <<A$0>>.id\n", "entity", "A", None),  # a bare label
        ("erDiagram\n  subgraph <<bil$0ling>> [Billing]\n    A\n  end\n", "subgraph", "billing", None),
        ("erDiagram\n  subgraph billing\n    A\n  end\n  <<billing$0>> ||--o{ A : x\n", "subgraph", "billing", None),
        ("erDiagram\n  A |$0|--o{ B : x\n", None, None, None),
        ("erDiagram\n  A ||--o{ B : x\n  %% A$0 comment\n", None, None, None),
        ("erDiag$0ram\n  A\n", None, None, None),
    ],
)
def test_symbol_at(fx, kind, name, entity):
    check_symbol(fx, kind, name, entity)


def test_symbol_at_reports_role_and_unit():
    text, off, _ = fixture("erDiagram\n  A {\n    int id\n  }\n  A$0 ||--o{ B : x\n")
    sym = symbol_at(mmd(text), off)
    assert (sym.role, sym.declaration, sym.unit) == ("relationship", False, 0)
    text, off, _ = fixture("erDiagram\n  A$0 {\n    int id\n  }\n")
    sym = symbol_at(mmd(text), off)
    assert (sym.role, sym.declaration) == ("statement", True)


# --- definition ---------------------------------------------------------------------------------
def test_definition_prefers_statements_with_a_block():
    check_definition(
        """erDiagram
  A
  <<A>> {
    int id
  }
  A$0 ||--o{ B : x
  <<A>> {
    string name
  }
"""
    )


def test_definition_without_block_goes_to_statements():
    check_definition("erDiagram\n  <<A>>\n  <<A>>[\"Alias\"]\n  A$0 ||--o{ B : x\n")


def test_definition_of_an_implicit_entity_is_its_first_mention():
    check_definition("erDiagram\n  A ||--o{ <<B>> : x\n  C ||--o{ B$0 : y\n")


def test_definition_of_a_quoted_name_includes_the_quotes():
    check_definition('erDiagram\n  <<"Order Line">> { int id }\n  A ||--o{ "Order$0 Line" : x\n')


def test_definition_from_class_style_and_alias():
    base = 'erDiagram\n  <<A>>["Alias"] { int id }\n'
    check_definition(base + "  class A$0 vip\n")
    check_definition(base + "  style A$0 fill:#fff\n")
    check_definition('erDiagram\n  <<A>>["Ali$0as"] { int id }\n')


def test_definition_of_an_attribute_is_itself_and_its_namesakes():
    check_definition("erDiagram\n  A {\n    int <<i$0d>> PK\n  }\n  A {\n    string <<id>>\n  }\n  B { int id }\n")


LABEL_FX = """erDiagram
  [cluster] {
    string [uuid]
  }
  token {
    string uuid
    string [cluster_uuid]
  }
  token }o--|| cluster : "[cluster].[uuid]=>token.[cluster_uuid]"
"""


def _label_fx(decl: str, cursor_at: str) -> str:
    """LABEL_FX with ``<<...>>`` around the ``decl`` declaration and ``$0`` in the label."""
    out = LABEL_FX
    for tag in ("cluster", "uuid", "cluster_uuid"):
        head, _, tail = out.partition("[" + tag + "]")
        out = head + ("<<" + tag + ">>" if tag == decl else tag) + tail  # the declaration
        head, _, tail = out.partition("[" + tag + "]")
        out = head + (tag[:3] + "$0" + tag[3:] if tag == cursor_at else tag) + tail  # the mention
    return out


def test_definition_from_a_label_mention():
    check_definition(_label_fx("uuid", "uuid"))  # cluster.uuid -> cluster's uuid
    check_definition(_label_fx("cluster_uuid", "cluster_uuid"))  # token.cluster_uuid -> token's
    check_definition(_label_fx("cluster", "cluster"))  # the entity part goes to the entity


def test_label_mentions_through_an_alias():
    check_definition('erDiagram\n  A["Cust"] {\n    int <<id>>\n  }\n  A ||--o{ B : "Cust.i$0d"\n')
    text, off, _ = fixture('erDiagram\n  A["Cust"] { int id }\n  A ||--o{ B : "Cu$0st.id"\n')
    sym = symbol_at(mmd(text), off)
    assert (sym.kind, sym.name, sym.via_alias) == ("entity", "A", True)


def test_label_mentions_prefer_the_split_naming_an_attribute():
    text = 'erDiagram\n  a { int b }\n  "a.b" { int c }\n  x ||--o{ y : "a.b.c, a.b"\n'
    mentions = [(e.name, c.name) for e, c in label_mentions(mmd(text))]
    assert mentions == [("a.b", "c"), ("a", "b")]


def test_label_pieces_stop_at_separators():
    text = 'erDiagram\n  A { int id }\n  B { int a_id }\n  A ||--o{ B : "A.id->B.a_id, (A.id) A.id. A.id--B.a_id"\n'
    mentions = [(e.name, c.name) for e, c in label_mentions(mmd(text))]
    assert mentions == [("A", "id"), ("B", "a_id"), ("A", "id"), ("A", "id"), ("A", "id"), ("B", "a_id")]


def test_definition_of_a_subgraph():
    check_definition("erDiagram\n  subgraph <<billing>> [Billing]\n    A\n  end\n  style billing$0 fill:#eee\n")


def test_no_definition_for_types_and_text():
    check_definition("erDiagram\n  A {\n    in$0t id\n  }\n")
    check_definition("erDiagram\n  A ||--o{ B : pla$0ces\n")
    check_definition("erDiag$0ram\n")


# --- references ------------------------------------------------------------------------------------
ENTITY_FX = """erDiagram
  <<CUSTOMER>>["Customer"]:::vip {
    int id
  }
  <<CUSTOMER>> ||--o{ ORDER : "<<CUSTOMER>>.id=>ORDER.customer_id"
  ORDER }|..|| <<CUS$0TOMER>> : "Customer.id"
  class <<CUSTOMER>>,ORDER vip
  style <<CUSTOMER>> fill:#f9f
"""


def test_references_of_an_entity():
    # the alias is no occurrence of the name; a mention through the alias refers to it
    text, off, expected = fixture(ENTITY_FX)
    i = text.index('"Customer.id"') + 1
    expected = sorted(expected + [(i, i + len("Customer"))])
    got = [(loc.range.start, loc.range.end) for loc in references(None, mmd(text), off)]
    assert got == expected


def test_references_without_declarations():
    check_references(
        "erDiagram\n  A { int id }\n  <<A>> ||--o{ B : x\n  B }|..|| <<A$0>> : y\n  A\n", include_declaration=False
    )


def test_references_of_an_attribute():
    check_references(
        """erDiagram
  A {
    int <<id>>
  }
  A { string <<id>> }
  B { int id }
  A ||--o{ B : "A.<<id>>=>B.id"
  B ||--o{ A : "B.id, A.<<i$0d>>"
"""
    )


def test_references_of_a_type():
    check_references("erDiagram\n  A { <<int>> id }\n  B {\n    <<in$0t>> id\n    string name\n  }\n")


def test_references_of_a_subgraph():
    check_references(
        "erDiagram\n  subgraph <<g>> [Group]\n    A\n  end\n  <<g>> ||--o{ B : x\n  style <<g$0>> fill:#eee\n"
    )


def test_highlights_mark_declarations_as_writes():
    text, off, _ = fixture(ENTITY_FX)
    hl = highlights(mmd(text), off)
    kinds = [(text[r.start : r.end], k) for r, k in hl]
    assert kinds == [
        ("CUSTOMER", "write"),
        ("CUSTOMER", "read"),
        ("CUSTOMER", "read"),
        ("CUSTOMER", "read"),
        ("Customer", "read"),
        ("CUSTOMER", "read"),
        ("CUSTOMER", "read"),
    ]
    text, off, _ = fixture('erDiagram\n  A { int id }\n  A ||--o{ B : "A.i$0d"\n')
    assert [(text[r.start : r.end], k) for r, k in highlights(mmd(text), off)] == [("id", "write"), ("id", "read")]
    assert highlights(mmd("erDiagram\n  A\n"), 3) == []


# --- Markdown hosts ----------------------------------------------------------------------------------
@pytest.fixture
def multi() -> Document:
    text = (NAV / "multi.md").read_text(encoding="utf-8")
    return Document(text, "markdown", "multi.md")


def _line_of(doc: Document, loc: Location) -> str:
    li = doc.line_index
    return doc.text[li.line_range(li.line_of(loc.range.start)).start : li.line_range(li.line_of(loc.range.start)).end]


def test_markdown_definition_falls_back_to_other_diagrams_in_block_quotes(multi):
    assert len(multi.units) == 3
    off = multi.text.index("CUSTOMER ||--o{ ORDER : places") + 1
    sym = symbol_at(multi, off)
    assert (sym.kind, sym.name, sym.unit) == ("entity", "CUSTOMER", 0)
    locs = definition(None, multi, off)
    assert len(locs) == 1 and locs[0].key == "multi.md"
    assert multi.text[locs[0].range.start : locs[0].range.end] == "CUSTOMER"
    assert _line_of(multi, locs[0]) == ">     CUSTOMER {"
    # LINE_ITEM only has a block in the third diagram
    off = multi.text.index("LINE_ITEM :") + 2
    locs = definition(None, multi, off)
    assert [_line_of(multi, loc) for loc in locs] == ["    LINE_ITEM {"]


def test_markdown_label_mentions_map_to_host_offsets(multi):
    # the label mention inside the block quote
    i = multi.text.index('"CUSTOMER.id=>ORDER.customer_id"')
    off = i + len('"CUSTOMER.id=>ORDER.cust')
    sym = symbol_at(multi, off)
    assert (sym.kind, sym.name, sym.entity, sym.unit) == ("attribute", "customer_id", "ORDER", 1)
    assert multi.text[sym.range.start : sym.range.end] == "customer_id"
    locs = definition(None, multi, off)
    assert [_line_of(multi, loc) for loc in locs] == [">         int customer_id FK"]
    assert [multi.text[loc.range.start : loc.range.end] for loc in locs] == ["customer_id"]
    # and from the overview: ORDER.id has no block there, the quoted diagram has one
    off = multi.text.index('"ORDER.id=>LINE_ITEM') + len('"ORDER.i')
    locs = definition(None, multi, off)
    assert [_line_of(multi, loc) for loc in locs] == [">         int id PK"]


def test_markdown_references_stay_in_the_diagram(multi):
    off = multi.text.index(">     ORDER {") + len(">     OR")
    refs = references(None, multi, off)
    assert {multi.unit_at(loc.range.start).index for loc in refs} == {1}
    assert marked(multi.text, [loc.range for loc in refs]) == "ORDER ORDER ORDER"
    wide = references(None, multi, off, scope="document")
    assert len(wide) == len(refs) + 5
    assert all(multi.text[loc.range.start : loc.range.end] == "ORDER" for loc in wide)


def test_no_symbol_on_block_quote_prefixes_or_prose(multi):
    line = multi.text.index(">     CUSTOMER {")
    assert symbol_at(multi, line) is None
    assert symbol_at(multi, line + 1) is None
    assert symbol_at(multi, multi.text.index("An overview") + 3) is None
    assert prepare_rename(multi, line) is None


# --- workspace ------------------------------------------------------------------------------------------
@pytest.fixture
def workspace() -> Workspace:
    ws = Workspace()
    for p in sorted((NAV / "workspace").iterdir()):
        ws.put(p.name, p.read_text(encoding="utf-8"))
    return ws


def test_workspace_basics():
    ws = Workspace()
    d = ws.put("b.md", "```mermaid\nerDiagram\n  A\n```\n")
    assert d.kind == "markdown" and d.path == "b.md" and len(d.units) == 1
    ws.put("a.mmd", "erDiagram\n  B\n")
    assert ws.get("a.mmd").kind == "mermaid"
    assert ws.put("x", "erDiagram\n", "markdown").kind == "markdown"
    assert ws.put("y.md", "erDiagram\n", "bogus").kind == "markdown"
    assert [doc.path for doc in ws.documents()] == ["a.mmd", "b.md", "x", "y.md"]
    assert ws.put("b.md", d.text) is d  # same text: the parsed document is kept
    d2 = ws.put("b.md", d.text + "\n")
    assert d2 is not d and ws.get("b.md") is d2
    assert ws.remove("b.md") is d2 and ws.get("b.md") is None and ws.remove("b.md") is None
    assert "a.mmd" in ws and len(ws) == 3 and list(ws) == ["a.mmd", "x", "y.md"]


def test_workspace_definition_falls_back_to_other_documents(workspace):
    doc = workspace.get("a_overview.md")
    off = doc.text.index("USER ||") + 1
    locs = definition(workspace, doc, off)
    assert [loc.key for loc in locs] == ["b_users.mmd", "d_more_users.md"]
    for loc in locs:
        other = workspace.get(loc.key)
        assert other.text[loc.range.start : loc.range.end] == "USER"
    # without a workspace: the first mention in the diagram
    assert definition(None, doc, off) == [Location("a_overview.md", TextRange(off - 1, off + 3))]
    # a label mention's column
    off = doc.text.index("COMMENT.post_id") + len("COMMENT.po")
    locs = definition(workspace, doc, off)
    assert [(loc.key, workspace.get(loc.key).text[loc.range.start : loc.range.end]) for loc in locs] == [
        ("c_posts.mmd", "post_id")
    ]


def test_workspace_definition_prefers_the_own_diagram(workspace):
    doc = workspace.get("b_users.mmd")
    off = doc.text.index("USER ||") + 1
    assert [loc.key for loc in definition(workspace, doc, off)] == ["b_users.mmd"]


def test_workspace_scope_references(workspace):
    doc = workspace.get("a_overview.md")
    off = doc.text.index("POST :") + 1
    assert [loc.key for loc in references(workspace, doc, off)] == ["a_overview.md"] * 3
    keys = [loc.key for loc in references(workspace, doc, off, scope="workspace")]
    assert keys == ["a_overview.md"] * 3 + ["b_users.mmd"] + ["c_posts.mmd"] * 3


def test_the_document_itself_is_not_a_fallback(workspace):
    # a stale copy of the document under its own key is skipped
    doc = Document("erDiagram\n  USER ||--o{ POST : x\n", "mermaid", "b_users.mmd")
    locs = definition(workspace, doc, doc.text.index("USER") + 1)
    assert [loc.key for loc in locs] == ["d_more_users.md"]


# --- seeds -------------------------------------------------------------------------------------------------
def seed(prefix: str) -> Document:
    path = next(p for p in SEEDS if p.name.startswith(prefix))
    return Document(path.read_text(encoding="utf-8"), "markdown", path.name)


def test_seed_001_label_mentions():
    doc = seed("001")
    text = doc.text
    i = text.index('"cluster.uuid=>cluster_token.cluster_uuid"') + 1
    # cluster.uuid -> the uuid attribute of cluster
    locs = definition(None, doc, i + len("cluster.u"))
    assert len(locs) == 1
    cluster_block = text.index("    cluster {")
    assert cluster_block < locs[0].range.start < text.index("    cluster_token {")
    assert text[locs[0].range.start : locs[0].range.end] == "uuid"
    # cluster_token.cluster_uuid -> cluster_token's cluster_uuid
    locs = definition(None, doc, i + len("cluster.uuid=>cluster_token.clu"))
    assert text[locs[0].range.start : locs[0].range.end] == "cluster_uuid"
    assert text.index("    cluster_token {") < locs[0].range.start < text.index("cluster_token }o--||")
    # references of cluster: the statement, 5 relationship ends and 5 label mentions
    refs = references(None, doc, cluster_block + len("    clu"))
    assert len(refs) == 11
    assert all(text[r.range.start : r.range.end] == "cluster" for r in refs)
    in_labels = [r for r in refs if text[r.range.start - 1] == '"']
    assert len(in_labels) == 5
    # references of cluster.uuid: the attribute and 5 label mentions
    refs = references(None, doc, locs[0].range.start)  # cluster_token.cluster_uuid
    assert len(refs) == 2
    refs = references(None, doc, i + len("cluster.u"))
    assert len(refs) == 6
    mentions = label_mentions(doc)
    assert ("cluster_token", "uuid") in [(e.name, c.name) for e, c in mentions]


def test_seed_003_conflict_markers():
    doc = seed("003")
    text = doc.text
    off = text.index("run ||--o| context") + 1
    locs = definition(None, doc, off)
    assert len(locs) == 1 and text[locs[0].range.start : locs[0].range.end] == "run"
    assert text[locs[0].range.start :].startswith("run {")
    refs = references(None, doc, off)
    assert len(refs) == 5


def test_seed_004_diagrams_are_separate():
    doc = seed("004")
    text = doc.text
    assert len(doc.units) == 5
    off = text.index("vicidial_xfer_log ||--o{ vicidial_closer_log") + 3
    locs = definition(None, doc, off)
    assert len(locs) == 1 and text[locs[0].range.start :].startswith("vicidial_xfer_log {")
    assert doc.unit_at(locs[0].range.start).index == 4
    # vicidial_log: one declaration per diagram; references stay in the diagram
    off = text.index("vicidial_log ||--o{ vicidial_xfer_log") + 3
    locs = definition(None, doc, off)
    assert [doc.unit_at(loc.range.start).index for loc in locs] == [4]
    assert len(references(None, doc, off)) == 3
    assert len(references(None, doc, off, scope="document")) == 17  # every `vicidial_log` of the 5 ER diagrams
    # the flowcharts are no diagrams of ours
    assert symbol_at(doc, text.index("A[Lead in vicidial_list]") + 1) is None


# --- robustness ------------------------------------------------------------------------------------------------
def _all_texts():
    out = [(p.read_text(encoding="utf-8"), "markdown") for p in SEEDS]
    out += [(p.read_text(encoding="utf-8"), "mermaid") for p in (DATA / "parser").glob("*.mmd")]
    out += [(p.read_text(encoding="utf-8"), "mermaid") for p in (DATA / "rules").glob("*.mmd")]
    out.append(((NAV / "multi.md").read_text(encoding="utf-8"), "markdown"))
    return out


def test_never_raises_anywhere():
    rng = random.Random(7)
    ws = Workspace()
    for i, (text, kind) in enumerate(_all_texts()):
        ws.put(f"doc{i}", text, kind)
    for doc in ws.documents():
        n = len(doc.text)
        offsets = sorted({0, n, -1, n + 5, *(rng.randrange(n + 1) for _ in range(150))})
        for off in offsets:
            symbol_at(doc, off)
            definition(ws, doc, off)
            references(ws, doc, off, scope="workspace")
            highlights(doc, off)
            r = prepare_rename(doc, off)
            assert r is None or isinstance(r, (str, TextRange))
            res = rename(doc, off, "Renamed_1")
            assert isinstance(res, str) or all(e.range.start <= e.range.end for e in res.edits)
    junk = [None, "x", 3.5, True]
    for bad in junk:
        assert symbol_at(bad, 0) is None
        assert definition(bad, bad, 0) == []
        assert references(bad, bad, bad) == []
        assert highlights(bad, bad) == []
        assert prepare_rename(bad, 0) is None
        assert isinstance(rename(bad, 0, "x"), str)


def test_definition_right_after_edits_reads_the_summary_as_the_full_index_does(edited_texts):
    """After an edit the full occurrence index of a diagram is not built for *go to
    definition*: it reads the item under the cursor and the names summary
    (navigation.LocalIndex). Its answers must be the full index's, and it must answer
    most of them itself."""
    import random
    import re

    from erd_lsp.analysis import navigation as nav
    from erd_lsp.analysis.workspace import Workspace
    from erd_lsp.text import TextEdit, TextRange
    from support import SEEDS
    from erd_lsp.syntax.hosts import find_blocks

    texts = []
    for f in SEEDS:
        texts += [b.text for b in find_blocks(f.read_text(encoding="utf-8"), "markdown") if b.is_er]
    gen = Path(__file__).resolve().parents[2] / "shared" / "tools" / "perf" / "gen_erd.py"
    if gen.exists():  # no dotted labels, no class statements: references are local too
        import subprocess
        import sys

        texts.append(subprocess.run([sys.executable, str(gen), "-n", "40", "-m", "60"], capture_output=True, text=True, check=True).stdout + "    A_1 ||--o{ \n")
    rng = random.Random(4)
    local = full = 0
    local_refs = 0
    for text in texts:
        doc = Document(text)
        doc.diagnostics()
        for _ in range(6):
            words = [m.start() for m in re.finditer(r"[A-Za-z_]\w*", doc.text)]
            if not words:
                break
            at = rng.choice(words)
            nxt = doc.edited(TextEdit(TextRange(at, at), rng.choice(["x", "", " "])))
            nxt.diagnostics()
            ws = Workspace()
            ws.put_document("k", nxt)
            offs = rng.sample(range(len(nxt.text)), min(40, len(nxt.text)))
            got = {}
            refs = {}
            for off in offs:  # first, while the full index is not built
                try:
                    got[off] = nav._definition(ws, nxt, off, True)
                    local += 1
                except nav._Unanswered:
                    full += 1
                for incl in (True, False):
                    try:
                        refs[off, incl] = nav._references(ws, nxt, off, incl, "diagram", True)
                        local_refs += 1
                    except nav._Unanswered:
                        pass
                try:
                    refs[off, "hl"] = nav._highlights(nxt, off, True)
                except nav._Unanswered:
                    pass
            assert nxt.units[0] not in nav._INDEXES
            for off in offs:
                want = nav._definition(ws, nxt, off, False)
                assert got.get(off, want) == want, (nxt.text[max(0, off - 30) : off + 30], off)
                assert nav.definition(ws, nxt, off) == want
                for incl in (True, False):
                    want = nav._references(ws, nxt, off, incl, "diagram", False)
                    assert refs.get((off, incl), want) == want, (nxt.text[max(0, off - 30) : off + 30], off)
                want = nav._highlights(nxt, off, False)
                assert refs.get((off, "hl"), want) == want
                assert nav.highlights(nxt, off) == want
            doc = nxt
    assert local > 4 * full > 0 and local_refs > 100
