"""The TextMate grammars (grammar/*.tmLanguage.json), tokenized by VS Code's own engine.

tests/textmate/tokenize.mjs runs vscode-textmate + vscode-oniguruma (pinned in
tests/textmate/package-lock.json) over the fixtures in tests/textmate/fixtures; each
fixture's scopes are compared with its snapshot (``<fixture>.scopes``; UPDATE_SNAPSHOTS=1
rewrites them), and the cases other Mermaid grammars get wrong are asserted explicitly.

Skipped when node or tests/textmate/node_modules is missing, unless ERD_REQUIRE_MERMAID=1
(set by CI and scripts/test.sh): then that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import DATA, snapshot

HARNESS = Path(__file__).resolve().parent / "textmate"
FIXTURES = HARNESS / "fixtures"
TOKENIZE = HARNESS / "tokenize.mjs"
FIXTURE_FILES = sorted([*FIXTURES.glob("*.mmd"), *FIXTURES.glob("*.md")])
SEED_003 = DATA / "seeds" / "003_1a83fdde10ac1a71.txt"

ENTITY = "entity.name.type.entity.mermaid"
KEY = "storage.modifier.key.mermaid"
TYPE = "support.type.attribute.mermaid"
ATTR = "variable.other.attribute.mermaid"


def _unavailable() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH (needed for tests/textmate/tokenize.mjs)"
    for package in ("vscode-textmate", "vscode-oniguruma", "tm-grammars"):
        if not (HARNESS / "node_modules" / package / "package.json").is_file():
            return f"tests/textmate/node_modules/{package} is missing (run `npm ci` in tests/textmate)"
    return None


@pytest.fixture(scope="module", autouse=True)
def _require_textmate():
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("ERD_REQUIRE_MERMAID") == "1":
            pytest.fail(f"ERD_REQUIRE_MERMAID=1 but {reason}", pytrace=False)
        pytest.skip(f"TextMate engine unavailable: {reason}")


def _node(*args: str) -> str:
    proc = subprocess.run(
        ["node", str(TOKENIZE), *args], cwd=str(HARNESS), capture_output=True, text=True, encoding="utf-8", timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def tokens() -> dict[str, list[list[dict]]]:
    """{file name: per line, the tokens {start, end, text, scopes}} for every fixture and seed 003."""
    files = [*FIXTURE_FILES, SEED_003]
    out = json.loads(_node("--json", *map(str, files)))
    return {Path(k).name: v for k, v in out.items()}


def span(lines: list[list[dict]], line: int, needle: str, nth: int = 0) -> list[list[str]]:
    """Scopes of the tokens that make up ``needle`` on 1-based ``line``: the needle must be
    exactly a run of whole tokens (no token straddles its ends)."""
    toks = lines[line - 1]
    text = "".join(t["text"] for t in toks)
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    end = start + len(needle)
    inside = [t for t in toks if t["start"] < end and t["end"] > start]
    assert inside, f"no token for {needle!r} in {text!r}"
    assert inside[0]["start"] == start and inside[-1]["end"] == end, (
        f"{needle!r} is not tokenized on its own in {text!r}: {[(t['text'], t['scopes'][-1]) for t in inside]}"
    )
    return [t["scopes"] for t in inside]


def all_have(scopes: list[list[str]], scope: str) -> bool:
    return all(scope in s for s in scopes)


def none_have(scopes: list[list[str]], prefix: str) -> bool:
    return not any(x.startswith(prefix) for s in scopes for x in s)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.name for p in FIXTURE_FILES])
def test_scopes_snapshot(path: Path):
    snapshot(path.with_name(path.name + ".scopes"), _node(str(path)))


def test_fixtures_exist():
    names = {p.name for p in FIXTURE_FILES}
    assert {"tricky.mmd", "relationships.mmd", "entities.mmd", "not-er.mmd", "fences.md"} <= names


# --- the tricky cases, in tricky.mmd ------------------------------------------------------


def test_several_keys_then_a_comment(tokens):
    t = tokens["tricky.mmd"]  # line 11: `    int id PK, FK "comment"`
    assert all_have(span(t, 11, "int"), TYPE)
    assert all_have(span(t, 11, "id"), ATTR)
    assert all_have(span(t, 11, "PK"), KEY)
    assert all_have(span(t, 11, "FK"), KEY)
    comment = span(t, 11, '"comment"')
    assert all_have(comment, "string.quoted.double.comment.mermaid")
    assert none_have(comment, "storage.modifier.key")
    # no space after the comma, and a comment holding a comma
    assert all_have(span(t, 12, "UK"), KEY) and all_have(span(t, 12, "PK"), KEY)
    assert all_have(span(t, 12, '"login, unique"'), "string.quoted.double.comment.mermaid")


def test_quoted_entity_name_is_one_name(tokens):
    t = tokens["tricky.mmd"]
    for line in (19, 20):  # `"Order Line" ||--o{ ORDER : ...`, `CUSTOMER }|..|{ "Order Line" : places`
        name = span(t, line, '"Order Line"')
        assert all_have(name, ENTITY)
        assert none_have(name, "string.")
    assert all_have(span(t, 19, '"belongs to"'), "string.quoted.double.label.mermaid")
    assert none_have(span(t, 19, '"belongs to"'), "entity.name")
    assert all_have(span(t, 20, "places"), "string.unquoted.label.mermaid")


def test_generic_and_other_types(tokens):
    t = tokens["tricky.mmd"]
    assert all_have(span(t, 13, "type~T~"), TYPE)
    assert all_have(span(t, 13, "generic_one"), ATTR)
    assert all_have(span(t, 14, "Map~string, int~"), TYPE)
    assert all_have(span(t, 14, "counts"), ATTR)
    assert all_have(span(t, 15, "decimal(10,2)"), TYPE)
    assert all_have(span(t, 16, "?"), "keyword.operator.nullable.mermaid")
    assert all_have(span(t, 16, "nickname"), ATTR)
    assert all_have(span(t, 17, "`double precision`"), TYPE)
    assert all_have(span(t, 17, "`geo.accuracy`"), ATTR)


def test_cardinalities_and_lines(tokens):
    t = tokens["tricky.mmd"]
    card = "keyword.operator.cardinality."
    assert all_have(span(t, 19, "||"), card + "only-one.mermaid")
    assert all_have(span(t, 19, "--"), "keyword.operator.relationship.identifying.mermaid")
    assert all_have(span(t, 19, "o{"), card + "zero-or-more.mermaid")
    # a "regex" segment makes VS Code skip the brace: o{ is no bracket, in Markdown fences too
    assert all_have(span(t, 19, "o{"), "meta.cardinality.regex.mermaid")
    assert all_have(span(t, 20, "}|"), card + "one-or-more.mermaid")
    assert all_have(span(t, 20, ".."), "keyword.operator.relationship.non-identifying.mermaid")
    assert all_have(span(t, 20, "|{"), card + "one-or-more.mermaid")
    assert all_have(span(t, 21, "one or more"), card + "one-or-more.mermaid")
    assert all_have(span(t, 21, "to"), "keyword.operator.relationship.identifying.mermaid")
    assert all_have(span(t, 21, "zero or many"), card + "zero-or-more.mermaid")
    assert all_have(span(t, 22, "1"), card + "only-one.mermaid")
    assert all_have(span(t, 22, "only one"), card + "only-one.mermaid")
    assert all_have(span(t, 23, "u"), card + "md-parent.mermaid")
    r = tokens["relationships.mmd"]
    assert all_have(span(r, 5, "o{"), card + "zero-or-more.mermaid")  # `PERSON o{--|| HOUSE`
    assert all_have(span(r, 6, "|o"), card + "zero-or-one.mermaid")
    assert all_have(span(r, 6, "o|"), card + "zero-or-one.mermaid")
    assert all_have(span(r, 7, "}o"), card + "zero-or-more.mermaid")
    assert all_have(span(r, 9, "many(0)"), card + "zero-or-more.mermaid")
    assert all_have(span(r, 9, "optionally to"), "keyword.operator.relationship.non-identifying.mermaid")
    assert all_have(span(r, 10, "1+"), card + "one-or-more.mermaid")
    assert all_have(span(r, 12, "12"), ENTITY) and all_have(span(r, 12, "2.5"), ENTITY)
    assert all_have(span(r, 4, "DELIVERY-ADDRESS"), ENTITY)
    # `places order`: the label is one word; `order` is an entity (as Mermaid reads it)
    assert all_have(span(r, 14, "places"), "string.unquoted.label.mermaid")
    assert all_have(span(r, 14, "order"), ENTITY)


def test_directive_front_matter_and_comments(tokens):
    t = tokens["tricky.mmd"]
    assert all_have(span(t, 1, "---"), "punctuation.definition.front-matter.begin.mermaid")
    assert all_have(span(t, 2, "title"), "meta.embedded.block.frontmatter.mermaid")
    assert all_have(span(t, 2, "title"), "entity.name.tag.yaml")  # VS Code's YAML grammar inside
    assert all_have(span(t, 6, "---"), "punctuation.definition.front-matter.end.mermaid")
    directive = span(t, 7, "%%{init: {\"theme\": \"forest\", 'er': {\"diagramPadding\": 20}}}%%")
    assert all_have(directive, "meta.directive.mermaid")
    assert all_have(span(t, 7, "init"), "keyword.other.directive.mermaid")
    assert all_have(span(t, 8, "erDiagram"), "keyword.control.diagram.mermaid")
    assert all_have(span(t, 9, "%% several keys then a comment"), "comment.line.percentage.mermaid")
    e = tokens["entities.mmd"]
    assert all_have(span(e, 13, "%% inside a block too"), "comment.line.percentage.mermaid")
    assert all_have(span(e, 30, "%% trailing text is not a comment"), "invalid.illegal.trailing-comment.mermaid")


def test_aliases_classes_and_styles(tokens):
    t = tokens["tricky.mmd"]
    assert all_have(span(t, 24, "Person"), "variable.other.alias.mermaid")
    assert all_have(span(t, 24, '"Big order"'), "variable.other.alias.mermaid")
    assert all_have(span(t, 24, "hot"), "entity.other.attribute-name.class.mermaid")
    assert all_have(span(t, 25, "class"), "keyword.other.class.mermaid")
    assert all_have(span(t, 25, "ORDER"), ENTITY)
    assert all_have(span(t, 25, "cold"), "entity.other.attribute-name.class.mermaid")
    assert all_have(span(t, 26, "classDef"), "keyword.other.classdef.mermaid")
    assert all_have(span(t, 26, "stroke-width"), "support.type.property-name.mermaid")
    assert all_have(span(t, 26, "#f96"), "constant.other.color.rgb-value.mermaid")
    assert all_have(span(t, 27, "style"), "keyword.other.style.mermaid")
    assert all_have(span(t, 27, "CUSTOMER"), ENTITY)
    e = tokens["entities.mmd"]
    assert all_have(span(e, 31, "("), "invalid.illegal.character.mermaid")  # a lexical error in Mermaid


def test_entities_blocks_subgraphs(tokens):
    e = tokens["entities.mmd"]
    assert all_have(span(e, 1, "%% a comment before the header"), "comment.line.percentage.mermaid")
    assert all_have(span(e, 3, "CAR"), ENTITY)
    assert all_have(span(e, 8, "*title"), ATTR)
    assert all_have(span(e, 18, '"Café ☕"'), ENTITY)
    assert all_have(span(e, 22, "o"), ENTITY)  # `o { int id }`: the entity o, not a cardinality
    assert all_have(span(e, 23, "Sales"), "entity.name.section.subgraph.mermaid")
    assert all_have(span(e, 23, "Sales and orders"), "string.unquoted.title.mermaid")
    assert all_have(span(e, 26, "end"), "keyword.other.end.mermaid")
    assert all_have(span(e, 28, "        Cars and people"), "string.unquoted.acc-descr.mermaid")
    for line in (32, 34, 36):
        assert "invalid.illegal.conflict-marker.mermaid" in e[line - 1][0]["scopes"]


def test_other_diagram_types_are_left_alone(tokens):
    f = tokens["not-er.mmd"]
    assert all(none_have([t["scopes"] for t in line], "entity.name") for line in f)
    assert all_have(span(f, 2, "%% a comment"), "comment.line.percentage.mermaid")


def test_markdown_fences(tokens):
    m = tokens["fences.md"]
    emb = "meta.embedded.block.mermaid"
    assert all_have(span(m, 5, "mermaid"), "fenced_code.block.language.markdown")
    assert all_have(span(m, 6, "---"), "punctuation.definition.front-matter.begin.mermaid")
    assert all_have(span(m, 9, "erDiagram"), "keyword.control.diagram.mermaid")
    assert all_have(span(m, 10, "CUSTOMER"), ENTITY) and all_have(span(m, 10, "CUSTOMER"), emb)
    assert all_have(span(m, 12, "PK"), KEY) and all_have(span(m, 12, "FK"), KEY)
    assert none_have(span(m, 14, "```"), emb)  # the closing fence ends the diagram
    assert none_have(span(m, 17, 'print("not mermaid")'), "meta.embedded.block.mermaid")
    assert all_have(span(m, 22, "A"), ENTITY)  # in a block quote
    assert all_have(span(m, 29, '"Order Line"'), ENTITY)  # ~~~ fence in a list item
    assert all_have(span(m, 34, "X"), ENTITY)  # ```{mermaid} (MyST)
    assert all_have(span(m, 39, "P"), ENTITY)  # ::: mermaid (Azure DevOps)
    assert none_have(span(m, 42, "After the fences."), "meta.embedded")


def test_seed_003(tokens):
    """The seed the code-server test opens: front matter after a blank line, two conflicts."""
    s = tokens[SEED_003.name]
    assert all_have(span(s, 7, "---"), "punctuation.definition.front-matter.begin.mermaid")
    assert all_have(span(s, 8, "config"), "meta.embedded.block.frontmatter.mermaid")
    assert all_have(span(s, 11, "erDiagram"), "keyword.control.diagram.mermaid")
    for line in (80, 101, 102, 114, 119, 120):
        assert "invalid.illegal.conflict-marker.mermaid" in s[line - 1][0]["scopes"], line
    assert all_have(span(s, 69, "PK"), KEY) and all_have(span(s, 69, "FK"), KEY)
    assert all_have(span(s, 115, "run"), ENTITY) and all_have(span(s, 115, "context"), ENTITY)
    assert all_have(span(s, 115, "o|"), "keyword.operator.cardinality.zero-or-one.mermaid")
    assert none_have(span(s, 125, "```"), "meta.embedded")
