"""Completion: one case per context, on inline diagrams with a ``$0`` cursor.

``check(fixture, expected)`` asserts that the labels offered at the cursor contain
``expected`` in that order (a subsequence); ``exact=True`` asserts the whole list.
"""

from __future__ import annotations

import time

import pytest

from erd_lsp.analysis import Document
from erd_lsp.analysis.completion import COMMON_TYPES, CompletionList, complete
from support import SEEDS, cursor

BY_ID = {p.name[:3]: p for p in SEEDS}

SHOP = """erDiagram
    CUSTOMER["Customer"] {
        int id PK
        string name
    }
    ORDER {
        int id PK
        string status
    }
    PRODUCT {
        uuid uuid PK
        string title
    }
    LINE_ITEM
    CUSTOMER ||--o{ ORDER : places
    ORDER ||--|{ LINE_ITEM : contains
    classDef hot fill:#f00
"""


def run(fixture: str, kind: str = "mermaid", **kw) -> tuple[CompletionList, str, int]:
    text, off = cursor(fixture)
    return complete(Document(text, kind), off, **kw), text, off


def labels(fixture: str, kind: str = "mermaid", **kw) -> list[str]:
    return [i.label for i in run(fixture, kind, **kw)[0].items]


def is_subsequence(expected: list, actual: list) -> bool:
    it = iter(actual)
    return all(any(a == e for a in it) for e in expected)


def check(fixture: str, expected: list[str], exact: bool = False, kind: str = "mermaid", **kw) -> None:
    got = labels(fixture, kind, **kw)
    if exact:
        assert got == expected
    else:
        assert is_subsequence(expected, got), f"expected {expected} in order within {got}"


def shop(tail: str) -> str:
    return SHOP + "    " + tail


CASES = [
    # 1. start of a statement
    ("start-empty-line", shop("$0"), ["CUSTOMER", "ORDER", "PRODUCT", "LINE_ITEM", "style", "classDef", "class", "direction", "subgraph", "accTitle:", "accDescr:", "entity block", "relationship"], True),
    ("start-prefix", shop("cu$0"), ["CUSTOMER"], True),
    ("start-prefix-then-substring", shop("st$0"), ["style", "CUSTOMER"], True),  # prefix matches first
    ("start-keyword-prefix", shop("cla$0"), ["classDef", "class"], True),
    ("start-quoted", shop('"Cu$0'), ["CUSTOMER"], True),
    ("start-in-subgraph", shop("subgraph g\n        $0"), ["CUSTOMER", "subgraph", "end", "accTitle:"], False),
    # 2. after an entity name and whitespace
    ("after-entity", shop("CUSTOMER $0"), ["||", "|o", "}o", "}|", "{", "[", ":::"], False),
    ("after-entity-bar", shop("CUSTOMER |$0"), ["||", "|o", "}|"], True),
    ("after-entity-brace", shop("CUSTOMER }$0"), ["}o", "}|"], True),
    ("after-entity-words", shop("CUSTOMER zero or m$0"), ["zero or more"], True),
    ("after-alias", shop('CUSTOMER["C"] $0'), ["{", ":::"], True),
    ("after-entity-class", shop("CUSTOMER:::hot $0"), ["||", "|o", "}o", "}|", "{"], False),
    ("direction", shop("direction $0"), ["TB", "BT", "LR", "RL"], True),
    # 3. after the left cardinality
    ("after-left-card", shop("CUSTOMER ||$0"), ["--", "..", "--o{", "--|{", "--||", "--o|", "..o{", "..|{", "..||", "..o|"], True),
    ("after-left-card-dash", shop("CUSTOMER ||-$0"), ["--", "--o{", "--|{", "--||", "--o|"], True),
    ("after-left-card-word", shop("CUSTOMER one $0"), ["to", "optionally to", "--", ".."], False),
    ("after-left-card-optionally", shop("CUSTOMER one optionally t$0"), ["optionally to"], True),
    # 4. after the line
    ("after-line", shop("CUSTOMER ||--$0"), ["||", "o|", "o{", "|{"], False),
    ("after-line-dots", shop("CUSTOMER ||..$0"), ["||", "o|", "o{", "|{"], False),
    ("after-line-o", shop("CUSTOMER ||--o$0"), ["o|", "o{"], False),
    ("after-line-bar", shop("CUSTOMER ||--|$0"), ["||", "|{"], False),
    ("after-to", shop("CUSTOMER one to $0"), ["one", "zero or more", "||", "o{"], False),
    # 5. after the second cardinality: unrelated entities first, the left entity last
    ("after-right-card", shop("CUSTOMER ||--o{ $0"), ["PRODUCT", "ORDER", "LINE_ITEM", "CUSTOMER"], True),
    ("after-right-card-prefix", shop("CUSTOMER ||--o{ OR$0"), ["ORDER"], True),
    ("after-right-card-quoted", shop('CUSTOMER ||--o{ "OR$0'), ["ORDER"], False),
    # 6. after the right entity
    ("after-right-entity", shop("CUSTOMER ||--o{ ORDER $0"), [":", ":::"], True),
    ("after-right-entity-class", shop("CUSTOMER ||--o{ ORDER:::hot $0"), [":", ":::"], True),
    # 7. class, style, :::
    ("class-ids", shop("class $0"), ["CUSTOMER", "ORDER", "PRODUCT", "LINE_ITEM"], True),
    ("class-ids-comma", shop("class CUSTOMER,$0"), ["CUSTOMER", "ORDER"], False),
    ("class-names", shop("class CUSTOMER $0"), ["hot"], True),
    ("class-names-comma", shop("class CUSTOMER hot,$0"), ["hot"], True),
    ("style-ids", shop("style $0"), ["CUSTOMER", "ORDER", "PRODUCT", "LINE_ITEM"], True),
    ("style-separator", shop("CUSTOMER:::$0"), ["hot"], True),
    ("style-separator-right", shop("CUSTOMER ||--o{ ORDER:::$0"), ["hot"], True),
    # 8. inside a block (ORDER is on the many side of CUSTOMER ||--o{ ORDER)
    ("block-start", shop("ORDER {\n        $0\n    }"), ["int customer_id FK", "string", "int", "uuid", "bigint", "float"], False),
    ("block-type-prefix", shop("ORDER {\n        str$0\n    }"), ["string"], True),
    ("block-after-type", shop("ORDER {\n        int $0\n    }"), ["customer_id FK"], True),
    ("block-after-type-prefix", shop("ORDER {\n        int cu$0\n    }"), ["customer_id FK"], True),
    ("block-after-name", shop("ORDER {\n        int x $0\n    }"), ["PK", "FK", "UK", "PK, FK", '"comment"'], True),
    ("block-after-fk-name", shop("ORDER {\n        int customer_id $0\n    }"), ["FK", "PK", "UK", "PK, FK", '"comment"'], True),
    ("block-key-prefix", shop("ORDER {\n        int x P$0\n    }"), ["PK", "PK, FK"], True),
    ("block-after-comma", shop("ORDER {\n        int x PK,$0\n    }"), ["FK", "UK"], True),
    ("block-after-comma-space", shop("ORDER {\n        int x PK, UK, $0\n    }"), ["FK"], True),
    ("block-after-key", shop("ORDER {\n        int x PK $0\n    }"), ['"comment"'], True),
    ("block-after-comment", shop('ORDER {\n        int x PK "c" $0\n    }'), [], True),
    ("block-unclosed", shop("ORDER {\n        int id PK\n        $0"), ["int customer_id FK", "int"], False),
    ("block-same-line", shop("ORDER { int id $0 }"), ["PK", "FK"], False),
    ("block-pk-uuid", "erDiagram\n  PRODUCT {\n    uuid uuid PK\n  }\n  REVIEW }o--|| PRODUCT : about\n  REVIEW {\n    $0\n  }\n", ["uuid product_uuid FK"], False),
    ("block-prefixed-pk-kept", "erDiagram\n  C {\n    int c_id PK\n  }\n  C ||--o{ D : has\n  D {\n    $0\n  }\n", ["int c_id FK"], False),
    ("block-no-pk-needs-id", "erDiagram\n  C ||--o{ D : has\n  D {\n    int $0\n  }\n", ["c_id FK", "id PK"], True),
    ("block-one-to-one-optional-side", "erDiagram\n  A ||--o| B : x\n  B {\n    $0\n  }\n", ["int a_id FK"], False),
    ("block-one-to-one-not-mandatory-side", "erDiagram\n  A ||--o| B : x\n  A {\n    $0\n  }\n", ["string", *COMMON_TYPES[1:]], True),
    ("block-one-to-one-same-right-side", "erDiagram\n  A ||--|| B : x\n  B {\n    $0\n  }\n", ["int a_id FK"], False),
    ("block-many-to-many-none", "erDiagram\n  A }o--o{ B : x\n  B {\n    $0\n  }\n", ["string", *COMMON_TYPES[1:]], True),
    ("block-label-column", "erDiagram\n  run {\n    INTEGER run_id UK\n  }\n  run ||--o{ logs : run_id\n  logs {\n    $0\n  }\n", ["INTEGER run_id FK", "INTEGER"], False),
    ("block-label-join", 'erDiagram\n  c {\n    int id PK\n    string uuid\n  }\n  t }o--|| c : "c.uuid=>t.c_uuid"\n  t {\n    $0\n  }\n', ["string c_uuid FK"], False),
    ("block-fk-already-there", "erDiagram\n  C ||--o{ D : has\n  D {\n    int c_id FK\n    $0\n  }\n", ["int", "string"], False),
    # 9. relationship labels
    ("label-open-quote", shop('CUSTOMER ||--o{ ORDER : "$0'), ["CUSTOMER", "ORDER", "PRODUCT", "LINE_ITEM"], True),
    ("label-columns", shop('CUSTOMER ||--o{ ORDER : "CUSTOMER.$0'), ["id", "name"], True),
    ("label-columns-prefix", shop('CUSTOMER ||--o{ ORDER : "CUSTOMER.id=>ORDER.st$0'), ["status"], True),
    ("label-columns-alias", shop('CUSTOMER ||--o{ ORDER : "Customer.$0'), ["id", "name"], True),
    ("label-after-arrow", shop('CUSTOMER ||--o{ ORDER : "CUSTOMER.id=>$0'), ["CUSTOMER", "ORDER"], False),
    ("label-after-equals", shop('CUSTOMER ||--o{ ORDER : "CUSTOMER.id=OR$0'), ["ORDER"], False),
    ("label-unquoted-columns", shop("CUSTOMER ||--o{ ORDER : CUSTOMER.$0"), ["id", "name"], True),
    ("label-plain-word", shop('CUSTOMER ||--o{ ORDER : "places $0'), [], True),
    ("label-unknown-entity", shop('CUSTOMER ||--o{ ORDER : "nobody.$0'), [], True),
    # 10. nothing
    ("after-label", shop("CUSTOMER ||--o{ ORDER : places $0"), [], True),
    ("after-colon", shop("CUSTOMER ||--o{ ORDER : $0"), [], True),
    ("comment", shop("%% a comm$0"), [], True),
    ("acc-title", shop("accTitle: the sh$0"), [], True),
    ("acc-descr-block", shop("accDescr {\n      some $0\n    }"), [], True),
    ("front-matter", "---\ntitle: sh$0\n---\nerDiagram\n  A\n", [], True),
    ("header", "erDiagram$0\n  A\n", [], True),
    ("alias-open", shop("CUSTOMER[$0"), [], True),
    ("classdef-name", shop("classDef $0"), [], True),
    ("end-outside-subgraph", shop("end$0"), [], True),
]


@pytest.mark.parametrize("fixture,expected,exact", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_context(fixture, expected, exact):
    check(fixture, expected, exact)


# --- item details ------------------------------------------------------------------------


def item(fixture: str, label: str, kind: str = "mermaid", **kw):
    res, text, off = run(fixture, kind, **kw)
    found = [i for i in res.items if i.label == label]
    assert found, f"{label!r} not offered: {[i.label for i in res.items]}"
    return found[0], text, off


def test_entity_details_and_replace_range():
    it, text, off = item(shop("CU$0STO"), "CUSTOMER")
    assert it.kind == "entity"
    assert it.detail == "alias: Customer · 2 attributes"
    assert text[it.replace.start : it.replace.end] == "CUSTO"  # the partial word and its rest
    assert it.sort_text == "00000"
    it, _, _ = item(shop("$0"), "LINE_ITEM")
    assert it.detail == "no block"
    it, _, _ = item("erDiagram\n  A ||--o{ B : x\n  A {\n    int id\n  }\n  $0\n", "B")
    assert it.detail == "implicit (no block)"
    it, _, _ = item("erDiagram\n  A ||--o{ B : x\n  A {\n    int id\n  }\n  $0\n", "A")
    assert it.detail == "1 attribute"


def test_entity_being_typed_is_not_offered():
    # the partial word itself creates an entity `NEWTHING` in the model: it is left out
    assert labels(shop("NEWTHING$0")) == []
    assert labels(shop("CUSTOMER ||--o{ NEWTHING$0")) == []


def test_quoted_entity_names_are_inserted_quoted():
    fx = "erDiagram\n  \"Order Item\" {\n    int id PK\n  }\n  one_thing\n  $0\n"
    it, _, _ = item(fx, "Order Item")
    assert it.insert_text == '"Order Item"'
    it, _, _ = item(fx, "one_thing")
    assert it.insert_text is None  # the label itself


def test_second_entity_gets_a_space_when_none_was_typed():
    it, _, _ = item(shop("CUSTOMER ||--o{$0"), "PRODUCT")
    assert it.insert_text == " PRODUCT" and it.filter_text is None


def test_snippets_use_the_document_indentation():
    it, _, _ = item(shop("$0"), "entity block")
    assert it.is_snippet and it.kind == "snippet"
    assert it.insert_text == "${1:NAME} {\n    ${2:string} ${3:name}\n}"
    it, _, _ = item(shop("$0"), "relationship")
    assert it.insert_text == '${1:A} ||--o{ ${2:B} : "${3:label}"'
    it, _, _ = item("erDiagram\n  A\n  $0\n", "entity block")
    assert it.insert_text == "${1:NAME} {\n\t${2:string} ${3:name}\n}"  # no block to learn from


def test_label_colon_is_a_snippet():
    it, _, _ = item(shop("CUSTOMER ||--o{ ORDER $0"), ":")
    assert it.is_snippet and it.insert_text == ': "${1:label}"'


def test_cardinality_documentation_in_words():
    it, _, _ = item(shop("CUSTOMER $0"), "}o")
    assert it.kind == "cardinality" and it.detail == "zero or more"
    assert "o{" in it.documentation  # the mirror on the other side
    it, _, _ = item(shop("CUSTOMER ||$0"), "..")
    assert it.detail == "non-identifying (dashed line)"


def test_symbol_replace_range_covers_the_rest_of_the_token():
    it, text, _ = item(shop("CUSTOMER |$0| ORDER"), "||")
    assert text[it.replace.start : it.replace.end] == "||"


def test_fk_whole_attribute_and_name_items():
    it, text, _ = item(shop("ORDER {\n        $0\n    }"), "int customer_id FK")
    assert it.kind == "attribute" and it.insert_text == "int customer_id FK"
    assert it.detail == "FK → CUSTOMER.id (int)"
    it, _, _ = item(shop("ORDER {\n        int $0\n    }"), "customer_id FK")
    assert it.insert_text == "customer_id FK"


def test_types_workspace_first_then_diagram_then_common():
    got = labels(shop("ORDER {\n        $0\n    }"), workspace_types=["money", "string", "money"])
    assert got[:5] == ["int customer_id FK", "money", "string", "int", "uuid"]
    assert got[5:] == [t for t in COMMON_TYPES if t not in ("string", "int", "uuid")]
    it, _, _ = item(shop("ORDER {\n        $0\n    }"), "int")
    assert it.detail == "used 2× in this diagram"


def test_comment_snippet():
    it, _, _ = item(shop("ORDER {\n        int x $0\n    }"), '"comment"')
    assert it.is_snippet and it.insert_text == '"${1:comment}"'


def test_label_column_items():
    it, text, off = item(shop('CUSTOMER ||--o{ ORDER : "CUSTOMER.$0name"'), "id")
    assert it.kind == "column" and it.detail == "int · PK"
    assert text[it.replace.start : it.replace.end] == "name"
    it, _, _ = item(shop('CUSTOMER ||--o{ ORDER : "$0'), "PRODUCT")
    assert it.insert_text == "PRODUCT."


# --- Markdown hosts -------------------------------------------------------------------

MD = """# Shop

Some prose $1here.

- a list item with a diagram:

  ```mermaid
  erDiagram
      CUSTOMER {
          int id PK
      }
      ORDER }o--|| CUSTOMER : places
      ORDER {
          $2
      }
      CUSTOMER ||--o{ OR$3
  ```

```mermaid
flowchart LR
  A --> $4B
```
"""


def md(marker: str) -> str:
    t = MD
    for m in ("$1", "$2", "$3", "$4"):
        if m != marker:
            t = t.replace(m, "")
    return t.replace(marker, "$0")


def test_markdown_host_offsets():
    res, text, off = run(md("$3"), "markdown")
    assert [i.label for i in res.items] == ["ORDER"]
    r = res.items[0].replace
    assert text[r.start : r.end] == "OR" and r.end == off
    check(md("$2"), ["int customer_id FK", "int"], kind="markdown")


def test_markdown_outside_diagrams_is_empty():
    assert labels(md("$1"), "markdown") == []  # prose
    assert labels(md("$4"), "markdown") == []  # a flowchart
    text = md("$1").replace("$0", "")
    fence = text.index("```mermaid")
    assert complete(Document(text, "markdown"), fence + 3).items == ()  # the fence line


# --- seeds ------------------------------------------------------------------------------


def seed_text(n: str) -> str:
    return BY_ID[n].read_text(encoding="utf-8")


def at_line_after(text: str, anchor: str, indent: str) -> int:
    i = text.index(anchor)
    return text.index("\n", i) + 1 + len(indent)


def test_seed_001_cluster_session_has_its_foreign_keys():
    # cluster_session }o--|| cluster : "cluster.uuid=>cluster_session.cluster_uuid" and
    # }o--|| cluster_token : "cluster_token.uuid=>cluster_session.cluster_client_token_uuid":
    # the labels name the columns, and the block has both, so no FK is suggested
    text = seed_text("001")
    off = at_line_after(text, "string cluster_client_token_uuid", "        ")
    got = [i.label for i in complete(Document(text, "markdown"), off).items]
    assert got[:4] == ["string", "Time", "int", "int64"]
    assert not any(" FK" in g for g in got)


def test_seed_001_missing_foreign_keys_are_suggested():
    text = seed_text("001")
    start = text.index("cluster_session {")
    a = text.index("        string cluster_uuid\n", start)
    b = text.index("        string cluster_client_token_uuid\n", start)
    # remove both FK columns from the block; the cursor goes on the emptied line
    t = text[:a] + "        \n" + text[b + len("        string cluster_client_token_uuid\n") :]
    off = a + 8
    res = complete(Document(t, "markdown"), off)
    got = [(i.label, i.detail) for i in res.items]
    assert got[:2] == [
        ("string cluster_uuid FK", "FK → cluster.uuid (string)"),
        ("string cluster_client_token_uuid FK", "FK → cluster_token.uuid (string)"),
    ]


def test_seed_003_label_names_the_column():
    text = seed_text("003")
    t = text.replace("    VARCHAR child_id PK,FK\n", "    \n")
    off = t.index("object_children {") + len("object_children {\n    ")
    got = [i.label for i in complete(Document(t, "markdown"), off).items]
    # objects ||--o| object_children : child_id (objects' PK is VARCHAR object_id)
    assert got[0] == "VARCHAR child_id FK"


def test_seed_001_label_columns():
    text = seed_text("001")
    off = text.index('"cluster.uuid=>cluster_token') + len('"cluster.')
    res = complete(Document(text, "markdown"), off)
    assert [i.label for i in res.items] == ["id", "uuid", "name", "summary", "created", "updated"]
    r = res.items[0].replace
    assert text[r.start : r.end] == "uuid"
    assert all(i.kind == "column" for i in res.items)


@pytest.mark.parametrize("path", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_never_raises_anywhere_in_a_seed(path):
    text = path.read_text(encoding="utf-8")
    doc = Document(text, "markdown")
    for off in range(0, len(text) + 1, 7):
        res = complete(doc, off)
        assert isinstance(res, CompletionList)
        for it in res.items:
            assert 0 <= it.replace.start <= off <= it.replace.end <= len(text)


def test_odd_input():
    doc = Document("erDiagram\n  A\n", "mermaid")
    assert complete(doc, -1).items == ()
    assert complete(doc, 10_000).items == ()
    assert complete(doc, 12, limit=0) == CompletionList((), True)
    assert complete(Document("", "mermaid"), 0).items == ()


# --- limit and speed ------------------------------------------------------------------


def big_diagram(n: int = 5000) -> str:
    lines = ["erDiagram"]
    for i in range(n):
        lines.append(f"    E{i} {{\n        int id PK\n        string name\n    }}")
    for i in range(1, n):
        lines.append(f"    E{i} }}o--|| E{i - 1} : parent")
    return "\n".join(lines) + "\n"


def test_limit_and_incomplete_with_5000_entities():
    # one document (parsing 5,000 entities is the slow part), several cursors
    text = big_diagram().replace("E2500 {\n", "E2500 {\n        \n", 1) + "    E4\n    E4999\n    E1 ||--o{ \n    \n"
    doc = Document(text, "mermaid")
    end = len(text)
    cases = {
        "empty line": (end - 1, 100, True),
        "prefix E4": (text.index("    E4\n") + 6, 100, True),
        "prefix E4999": (text.index("    E4999\n") + 9, 1, False),
        "second entity": (text.index("E1 ||--o{ \n") + 10, 100, True),
        "block": (text.index("E2500 {\n") + 16, None, False),
    }
    for name, (off, count, incomplete) in cases.items():
        res = complete(doc, off)  # the first request builds the model and the index
        assert len(res.items) <= 100
        if count is not None:
            assert len(res.items) == count, name
        assert res.incomplete is incomplete, name
        n = 20
        t = time.perf_counter()
        for _ in range(n):
            complete(doc, off)
        ms = (time.perf_counter() - t) / n * 1000
        print(f"completion, 5000 entities, {name}: {ms:.2f} ms/request")
    assert [i.label for i in complete(doc, cases["block"][0]).items][:2] == ["int e2499_id FK", "int"]
    res = complete(doc, end - 1, limit=10)
    assert len(res.items) == 10 and res.incomplete
    # keywords and snippets are kept; the entities fill the rest of the room
    assert [i.label for i in res.items] == ["E0", "style", "classDef", "class", "direction", "subgraph", "accTitle:", "accDescr:", "entity block", "relationship"]


def test_lazy_documentation_is_the_same_documentation_written_later():
    # a server whose client resolves items leaves the entities' attribute lists unwritten;
    # what full_documentation() writes then is what an eager list carries
    blocks = "".join(f"    E{i:02d} {{\n        int id_{i} PK\n        string name\n    }}\n" for i in range(40))
    text, off = cursor("erDiagram\n" + blocks + "    PLAIN\n    E00 ||--o{ $0\n")
    doc = Document(text)
    eager = complete(doc, off)
    lazy = complete(doc, off, lazy=True)
    assert [i.label for i in eager.items] == [i.label for i in lazy.items]
    assert all(i.lazy_documentation is None for i in eager.items)
    with_docs = [i for i in eager.items if i.documentation]
    assert len(with_docs) >= 39 and "int id_7 PK" in next(i.documentation for i in with_docs if i.label == "E07")
    by_label = {i.label: i for i in lazy.items}
    for i in eager.items:
        other = by_label[i.label]
        assert other.full_documentation() == i.documentation
        if i.label.startswith("E"):
            assert other.documentation is None  # not written until asked for
