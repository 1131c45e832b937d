"""Tests for erd_lsp.syntax.hosts: finding Mermaid diagrams in host documents."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from erd_lsp.syntax.hosts import HOST_KINDS, Block, find_blocks, host_kind_for_path
from erd_lsp.text import LineIndex

SEEDS = Path(__file__).parent / "data" / "seeds"


def read_seed(prefix: str) -> str:
    (path,) = SEEDS.glob(prefix + "_*.txt")
    return load(path)


def load(path: Path) -> str:
    # decode the bytes ourselves: keeps the host's line endings exactly as on disk
    return path.read_bytes().decode("utf-8")


def all_seeds() -> list[str]:
    return sorted(p.name for p in SEEDS.glob("*.txt"))


def check_map(host: str, block: Block) -> None:
    """Every character of the block text is the host character its map points at."""
    m = block.map
    assert m.derived_len == len(block.text)
    assert m.source_len == len(host)
    for i, ch in enumerate(block.text):
        s = m.to_source_start(i)
        assert host[s] == ch, (i, ch, s)
        assert m.to_source_end(i + 1) == s + 1
    if block.text:
        assert m.to_source_start(0) >= block.content_start
        assert m.to_source_end(len(block.text)) <= block.end
    else:
        assert block.content_start <= m.to_source_start(0) <= len(host)


def check_shape(host: str, block: Block) -> None:
    """Offsets and line numbers agree with each other and with the host."""
    idx = LineIndex(host)
    assert 0 <= block.start <= block.content_start <= block.end <= len(host)
    assert block.start in idx.line_starts
    assert block.content_start == len(host) or block.content_start in idx.line_starts
    if block.content_start < len(host) or host.endswith(("\n", "\r")):
        assert block.line == idx.line_of(block.content_start)
    check_map(host, block)


def one(host: str) -> Block:
    blocks = find_blocks(host, "markdown")
    assert len(blocks) == 1, blocks
    check_shape(host, blocks[0])
    return blocks[0]


# --------------------------------------------------------------------- host kinds


@pytest.mark.parametrize(
    "path,kind",
    [
        ("schema.mmd", "mermaid"),
        ("docs/db.MERMAID", "mermaid"),
        ("README.md", "markdown"),
        ("C:\\repo\\docs\\Model.Markdown", "markdown"),
        ("site/page.mdx", "markdown"),
        ("notes.txt", None),
        ("Makefile", None),
        ("weird.md/file", None),
        ("archive.md.bak", None),
        ("", None),
    ],
)
def test_host_kind_for_path(path, kind):
    assert host_kind_for_path(path) == kind


def test_host_kinds_constant():
    assert set(HOST_KINDS) == {"mermaid", "markdown"}
    assert host_kind_for_path(None) is None  # type: ignore[arg-type]


# --------------------------------------------------------------------- .mmd hosts


def test_mermaid_host_is_one_identity_block():
    host = "erDiagram\n  A ||--o{ B : has\n"
    (b,) = find_blocks(host, "mermaid")
    assert (b.info, b.start, b.end, b.content_start, b.closed, b.line) == ("", 0, len(host), 0, True, 0)
    assert b.text == host  # the whole file, trailing newline included
    assert b.map.is_identity
    assert b.is_er and not b.browser_trim
    check_map(host, b)


@pytest.mark.parametrize(
    "host,is_er",
    [
        ("erDiagram\n", True),
        ("  \n\n   erDiagram", True),
        ("erDiagramX", True),  # Mermaid's detector has no word boundary
        ("ERDIAGRAM\n", False),
        ("flowchart TD\n  A --> B\n", False),
        ("sequenceDiagram\n", False),
        ("---\ntitle: x\n---\nerDiagram\n", True),
        ("---\r\ntitle: x\r\n---\r\nerDiagram\r\n", True),
        ("%%{init: {'theme': 'dark'}}%%\nerDiagram\n", True),
        ("%% a comment\n  %% another\nerDiagram\n", True),
        ("---\ntitle: x\n---\n%%{init: {}}%%\n%% c\nerDiagram", True),
        ("%% only a comment", False),
        ("\n---\ntitle: x\n---\nerDiagram\n", False),  # not front matter when not first
        ("", False),
    ],
)
def test_mermaid_host_detection(host, is_er):
    (b,) = find_blocks(host, "mermaid")
    assert b.is_er is is_er


# --------------------------------------------------------------------- seeds


def content_lines(host: str, first: int, last: int) -> str:
    """1-based inclusive host lines joined with their line endings, minus the last one."""
    text = "".join(host.splitlines(keepends=True)[first - 1 : last])
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith(("\n", "\r")) else text


def test_seed_000_one_block():
    host = read_seed("000")
    (b,) = find_blocks(host, "markdown")
    check_shape(host, b)
    assert b.line == 6  # fence on 1-based line 6, content from line 7
    assert host.splitlines()[5] == "```mermaid"
    assert b.info == "mermaid" and b.closed and b.is_er and b.browser_trim
    assert b.text == content_lines(host, 7, 188)
    assert b.text.startswith("erDiagram")
    assert b.end == len(host)  # the closing fence is the last line
    # simple top-level fence: the text is a plain slice of the host
    assert host[b.content_start : b.content_start + len(b.text)] == b.text
    assert b.map.runs() == [(0, len(b.text), b.content_start, len(b.text))]


def test_seed_001_front_matter():
    host = read_seed("001")
    b = one(host)
    assert b.line == 3
    assert b.text.startswith("---\ntitle: claiflow entities\n---\nerDiagram")
    assert b.is_er


def test_seed_002_has_no_diagram():
    host = read_seed("002")
    assert "```bash" in host and "```sql" in host
    assert find_blocks(host, "markdown") == []


def test_seed_003_blank_line_then_front_matter():
    host = read_seed("003")
    b = one(host)
    assert b.line == 5
    assert b.text.startswith("\n---\n    config:")
    # a browser trims the block before Mermaid sees it, so the front matter counts ...
    assert b.is_er
    # ... but the same text as a .mmd file is not trimmed: Mermaid finds no front matter
    assert find_blocks(b.text, "mermaid")[0].is_er is False


def test_seed_004_seven_blocks():
    host = read_seed("004")
    blocks = find_blocks(host, "markdown")
    assert len(blocks) == 7
    lines = host.splitlines()
    first_content = [b.line + 1 for b in blocks]  # 1-based
    assert first_content == [8, 110, 125, 138, 200, 257, 319]
    assert [b.is_er for b in blocks] == [True, False, False, True, True, True, True]
    er = [b.line + 1 for b in blocks if b.is_er]
    assert er == [8, 138, 200, 257, 319]
    for b in blocks:
        check_shape(host, b)
        assert b.closed
        assert lines[b.line - 1] == "```mermaid"
        assert lines[b.line].startswith("erDiagram" if b.is_er else "flowchart TD")
        assert host[b.start : b.content_start] == "```mermaid\n"
        assert host[b.end - 4 : b.end] == "```\n"
    assert blocks[1].text.splitlines()[-1].strip() == "I -->|Call Completed| J[Final status updated in vicidial_list]"


@pytest.mark.parametrize("name", all_seeds())
def test_seed_as_mermaid_host(name):
    host = load(SEEDS / name)
    (b,) = find_blocks(host, "mermaid")
    assert b.text == host and not b.is_er  # a Markdown page is no diagram


@pytest.mark.parametrize("name", all_seeds())
def test_never_raises_on_any_prefix(name):
    host = load(SEEDS / name)
    full = len(find_blocks(host, "markdown"))
    for k in range(len(host) + 1):
        prefix = host[:k]
        assert find_blocks(prefix, "mermaid")[0].text == prefix
        blocks = find_blocks(prefix, "markdown")
        assert len(blocks) <= full
        for b in blocks:
            check_runs(prefix, b)


def check_runs(host: str, block: Block) -> None:
    """A cheaper check_map: the runs tile the text and copy host characters exactly."""
    assert 0 <= block.start <= block.content_start <= block.end <= len(host)
    at = 0
    for d, dl, s, sl in block.map.runs():
        assert d == at and dl == sl and host[s : s + sl] == block.text[d : d + dl]
        at += dl
    assert at == len(block.text)


# --------------------------------------------------------------------- fences


def test_backticks_and_host_slices():
    host = "# T\n\n```mermaid\nerDiagram\n  A ||--o{ B : has\n```\n\ntext\n"
    b = one(host)
    assert b.start == host.index("```mermaid")
    assert b.content_start == host.index("erDiagram")
    assert b.end == host.index("\ntext") + 0  # just after the closing fence line ("```\n")
    assert host[b.end - 4 : b.end] == "```\n"
    assert b.text == "erDiagram\n  A ||--o{ B : has"
    assert b.line == 3


def test_several_blocks_and_other_languages_skipped():
    host = (
        "```sql\nselect 1;\n```\n"
        "```mermaid\nerDiagram\n```\n"
        "~~~python\nprint()\n~~~\n"
        "```mermaid\nflowchart LR\n```\n"
    )
    blocks = find_blocks(host, "markdown")
    assert [b.text for b in blocks] == ["erDiagram", "flowchart LR"]
    assert [b.is_er for b in blocks] == [True, False]
    for b in blocks:
        check_shape(host, b)


def test_tilde_fence_not_closed_by_backticks():
    host = "~~~ mermaid\nerDiagram\n```\nA\n~~~~\nafter\n"
    b = one(host)
    assert b.info == "mermaid" and b.closed
    assert b.text == "erDiagram\n```\nA"
    assert host[b.end :] == "after\n"


def test_longer_fence_and_shorter_close():
    host = "````mermaid\nerDiagram\n```\n  A\n`````\nrest"
    b = one(host)
    assert b.text == "erDiagram\n```\n  A"  # ``` is shorter than the opening: content
    assert b.closed
    assert host[b.end :] == "rest"


def test_closing_fence_with_text_is_content():
    host = "```mermaid\nerDiagram\n``` not a close\n```\n"
    assert one(host).text == "erDiagram\n``` not a close"


def test_info_string_with_attributes_and_case():
    b = one('```mermaid title="x"\nerDiagram\n```\n')
    assert b.info == "mermaid" and b.is_er
    b = one("```  Mermaid\nerDiagram\n```\n")
    assert b.info == "Mermaid"
    assert find_blocks("```mermaidjs\nerDiagram\n```\n", "markdown") == []
    # a backtick fence's info string may not contain a backtick: not a fence at all
    assert find_blocks("```mermaid `x`\nerDiagram\n```\n", "markdown") == []


def test_myst_directive():
    b = one("```{mermaid}\nerDiagram\n  A ||--|| B : x\n```\n")
    assert b.info == "{mermaid}" and b.is_er
    b = one(":::{mermaid}\nerDiagram\n:::\n")
    assert b.info == "{mermaid}" and b.text == "erDiagram"


def test_azure_devops_colon_block():
    host = "Intro\n\n::: mermaid\nerDiagram\n    CUSTOMER ||--o{ ORDER : places\n:::\n\nafter\n"
    b = one(host)
    assert b.info == "mermaid" and b.closed and b.is_er
    assert b.text == "erDiagram\n    CUSTOMER ||--o{ ORDER : places"
    assert host[b.end :] == "\nafter\n"
    # other ::: containers hold ordinary Markdown, whose fences count
    host = "::: note\n```mermaid\nerDiagram\n```\n:::\n"
    assert one(host).text == "erDiagram"


def test_unclosed_fence_runs_to_end():
    host = "text\n```mermaid\nerDiagram\n  A {\n    int id\n"
    b = one(host)
    assert not b.closed
    assert b.end == len(host)
    assert b.text == "erDiagram\n  A {\n    int id"
    host2 = "```mermaid\nerDiagram"
    b2 = one(host2)
    assert (b2.closed, b2.text, b2.end) == (False, "erDiagram", len(host2))


def test_empty_block():
    host = "```mermaid\n```\nx"
    b = one(host)
    assert b.text == "" and b.closed and not b.is_er
    assert b.content_start == 11 and b.map.to_source_start(0) == 11
    b = one("```mermaid")  # fence at end of file, nothing else
    assert (b.text, b.closed, b.content_start, b.line) == ("", False, 10, 0)


def test_non_mermaid_fence_hides_mermaid_fence():
    host = "````markdown\n```mermaid\nerDiagram\n```\n````\n"
    assert find_blocks(host, "markdown") == []
    host = "~~~text\n```mermaid\nerDiagram\n```\n~~~\n\n```mermaid\nerDiagram\n```\n"
    b = one(host)
    assert b.line == 7


def test_indented_code_is_not_a_fence():
    host = "para\n\n    ```mermaid\n    erDiagram\n    ```\n"
    assert find_blocks(host, "markdown") == []
    # ... while up to 3 spaces is a fence, and its indentation is removed from content
    host = "   ```mermaid\n     erDiagram\n erDiagram2\nerDiagram3\n   ```\n"
    b = one(host)
    assert b.text == "  erDiagram\nerDiagram2\nerDiagram3"


def test_html_comment_hides_diagram():
    host = "<!--\n```mermaid\nerDiagram\n```\n-->\n\n```mermaid\nerDiagram\n```\n"
    b = one(host)
    assert b.line == 7
    # a blank line after <details> ends the HTML block, so the fence counts
    host = "<details>\n<summary>ER</summary>\n\n```mermaid\nerDiagram\n```\n\n</details>\n"
    assert one(host).text == "erDiagram"


def test_html_pre_block_hides_diagram_until_closed():
    host = "<pre>\n```mermaid\nerDiagram\n```\n</pre>\n```mermaid\nerDiagram\n```\n"
    b = one(host)
    assert b.line == 6


def test_html_tag_line_cannot_interrupt_paragraph():
    # "<custom-el>" continues the paragraph, so the fence after it is a real fence
    host = "text\n<custom-el>\n```mermaid\nerDiagram\n```\n"
    assert one(host).line == 3
    # after a blank line the same tag starts an HTML block, which swallows the fence
    assert find_blocks("text\n\n<custom-el>\n```mermaid\nerDiagram\n```\n", "markdown") == []


# --------------------------------------------------------------------- containers


def test_blockquote_mapping():
    host = "> Note\n>\n> ```mermaid\n> erDiagram\n>     A ||--o{ B : x\n>\n> ```\nafter\n"
    b = one(host)
    assert b.text == "erDiagram\n    A ||--o{ B : x\n"
    assert b.closed and b.is_er
    assert b.start == host.index("> ```")
    assert host[b.end :] == "after\n"
    # the map skips the "> " prefixes
    assert b.map.to_source_start(0) == host.index("erDiagram")
    assert b.map.to_source_start(len("erDiagram\n")) == host.index("    A")


def test_nested_blockquotes():
    host = "> > ```mermaid\n> > erDiagram\n>> A\n> >```\n"
    b = one(host)
    assert b.text == "erDiagram\nA"
    assert b.closed


def test_blockquote_end_closes_fence():
    host = "> ```mermaid\n> erDiagram\nnot quoted\n```\n"
    blocks = find_blocks(host, "markdown")
    b = blocks[0]
    check_shape(host, b)
    assert not b.closed and b.text == "erDiagram"
    assert b.end == host.index("not quoted")
    # the trailing ``` opens a new (unclosed, empty, non-mermaid-info) fence: no block
    assert len(blocks) == 1


def test_lazy_paragraph_then_top_level_fence():
    host = "> quoted\n```mermaid\nerDiagram\n```\n"
    b = one(host)
    assert b.start == host.index("```mermaid") and b.text == "erDiagram" and b.closed


def test_list_item_fence():
    host = "- item\n\n  ```mermaid\n  erDiagram\n    A ||--o{ B : x\n\n  ```\n- next\n"
    b = one(host)
    assert b.text == "erDiagram\n  A ||--o{ B : x\n"
    assert b.closed
    assert host[b.end :] == "- next\n"


def test_fence_on_list_marker_line_and_ordered_items():
    host = "1. ```mermaid\n   erDiagram\n   ```\n10) ```mermaid\n    erDiagram\n    ```\n"
    blocks = find_blocks(host, "markdown")
    assert [b.text for b in blocks] == ["erDiagram", "erDiagram"]
    assert all(b.closed for b in blocks)
    for b in blocks:
        check_shape(host, b)


def test_list_item_ends_fence_when_not_indented():
    host = "- ```mermaid\n  erDiagram\nA\n"
    b = one(host)
    assert not b.closed and b.text == "erDiagram"
    assert b.end == host.index("A\n")


def test_list_indentation_not_indented_code():
    # 4 spaces are 2 columns inside this item: a fence, not indented code
    host = "- x\n\n    ```mermaid\n    erDiagram\n    ```\n"
    b = one(host)
    assert b.text == "erDiagram"


def test_list_in_blockquote_mapping():
    host = "> - item\n>   ```mermaid\n>   erDiagram\n>     A\n>   ```\n"
    b = one(host)
    assert b.text == "erDiagram\n  A"
    assert b.closed


def test_tabs_after_blockquote_marker():
    host = ">\t```mermaid\n>\terDiagram\n>\t```\n"
    b = one(host)
    assert b.text == "erDiagram" and b.closed


def test_partial_tab_is_kept_whole():
    # the item's content column is 2; a tab (4 columns) is only half consumed by it
    host = "- ```mermaid\n\terDiagram\n  ```\n"
    b = one(host)
    assert b.text == "\terDiagram"
    assert b.is_er


def test_empty_list_item_is_closed_by_blank_line():
    # "-" alone then a blank line: the item ends, the fence is at top level
    host = "-\n\n  ```mermaid\n  erDiagram\n ```\n"
    b = one(host)
    assert b.text == "erDiagram" and b.closed  # indentation 2 removed from content
    # without the blank line the fence belongs to the item (content column 2)
    host = "-\n  ```mermaid\n  erDiagram\n  ```\n"
    b = one(host)
    assert b.text == "erDiagram" and b.closed


def test_ordered_item_may_not_interrupt_paragraph_unless_one():
    # "2." continues the paragraph, so its "```" is not a fence opener
    host = "para\n2. ```mermaid\nerDiagram\n```\n"
    blocks = find_blocks(host, "markdown")
    assert blocks == []
    host = "para\n1. ```mermaid\n   erDiagram\n   ```\n"
    assert one(host).text == "erDiagram"


def test_deep_nesting_is_bounded():
    host = "> " * 40 + "```mermaid\n" + "> " * 40 + "erDiagram\n"
    blocks = find_blocks(host, "markdown")
    assert blocks == []  # past the nesting limit the markers are plain text
    host = "> " * 20 + "```mermaid\n" + "> " * 20 + "erDiagram\n" + "> " * 20 + "```\n"
    assert one(host).text == "erDiagram"


def test_adversarial_input_stays_fast():
    hosts = [
        "- " * 20000 + "x\n" + "\n" * 2000,
        ">" * 20000 + "\n" * 2000,
        "<a" + " b=c" * 10000 + " !\n",
        "```mermaid\n" + " " * 50000 + "x\n```\n",
        "```mermaid\n%%{init: " + "a\n" * 5000 + "```\n",
        "```mermaid\n---\n" + "a\n" * 5000 + "```\n",
        "\r" * 20000,
    ]
    for host in hosts:
        t = time.perf_counter()
        find_blocks(host, "markdown")
        assert time.perf_counter() - t < 1.0


# --------------------------------------------------------------------- line endings


def test_crlf_host():
    host = "# T\r\n\r\n```mermaid\r\nerDiagram\r\n  A ||--o{ B : x\r\n```\r\nafter\r\n"
    b = one(host)
    assert b.text == "erDiagram\r\n  A ||--o{ B : x"
    assert b.line == 3
    assert host[b.content_start : b.content_start + len(b.text)] == b.text
    assert host[b.end :] == "after\r\n"
    assert b.is_er


def test_lone_cr_host():
    host = "x\r```mermaid\rerDiagram\r> A\r```\r"
    b = one(host)
    assert b.text == "erDiagram\r> A"
    assert b.line == 2
    assert b.end == len(host)


def test_crlf_in_blockquote():
    host = "> ```mermaid\r\n> erDiagram\r\n> A\r\n> ```\r\n"
    b = one(host)
    assert b.text == "erDiagram\r\nA"


# --------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "body,is_er",
    [
        ("erDiagram", True),
        ("    erDiagram\n      A ||--o{ B : x", True),
        ("%%{init: {'theme':'dark'}}%%\n%% comment\nerDiagram", True),
        ("---\ntitle: t\n---\nerDiagram", True),
        ("  ---\n  title: t\n  ---\n  erDiagram", True),  # dedented first
        ("flowchart TD\n  A --> B", False),
        ("classDiagram", False),
        ("graph LR\n%% erDiagram", False),
    ],
)
def test_markdown_detection(body, is_er):
    b = one("```mermaid\n" + body + "\n```\n")
    assert b.text == body
    assert b.is_er is is_er


# --------------------------------------------------------------------- robustness


def test_bad_input_gives_no_blocks():
    assert find_blocks(None, "markdown") == []  # type: ignore[arg-type]
    assert find_blocks("```mermaid\nerDiagram\n```", "html") == []
    assert find_blocks("```mermaid\nerDiagram\n```", None) == []  # type: ignore[arg-type]
    assert find_blocks("", "markdown") == []


TOKENS = [
    "```", "````", "~~~", ":::", "mermaid", "{mermaid}", " ", "  ", "    ", "\t", ">", "> ", "- ",
    "1. ", "2) ", "*", "#", "<!--", "-->", "<div>", "</div>", "<pre>", "</pre>", "erDiagram",
    "flowchart", "---", "%%", "%%{init: {}}%%", "\n", "\r\n", "\r", "x", "`", "\u00e9", "\U0001f600",
    "=", "_", "<?", "?>", "<![CDATA[", "]]>", "<!X",
]


def test_never_raises_on_random_documents():
    rng = random.Random(20240601)
    for _ in range(3000):
        host = "".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 40)))
        for kind in HOST_KINDS:
            for b in find_blocks(host, kind):
                check_shape(host, b)


def test_linear_and_fast():
    seed = read_seed("004")
    host = (seed + "\n") * 3  # > 1,000 lines, 21 diagrams
    assert host.count("\n") > 1000
    assert len(find_blocks(host, "markdown")) == 21
    best = min(_timed(host) for _ in range(5))
    assert best < 0.010, best


def _timed(host: str) -> float:
    t = time.perf_counter()
    find_blocks(host, "markdown")
    return time.perf_counter() - t


def test_an_edited_mermaid_block_equals_finding_it_again():
    """After an edit, a .mmd block is derived from the previous one without reading the text
    again when the edit comes after the `erDiagram` the detection found: the same Block as
    find_blocks gives, for edits anywhere (before, at and after the header), on texts with
    front matter, directives, comments and CR line endings."""
    import dataclasses
    import random

    from erd_lsp.syntax.hosts import edited_mermaid_block

    texts = [
        "erDiagram\n    A ||--o{ B : has\n",
        "%% c\n%%{init: {}}%%\n  erDiagram\nA\n",
        "---\ntitle: t\n---\nerDiagram\nA {\n int id\n}\n",
        "erDiagram\r\nA\r\n",
        "\r\nerDiagram\nA\n",
        "flowchart\nA-->B\n",
        "erDiagra\nA\n",
        "---\nerDiagram\n",
    ]
    snippets = ["", "x", "\r", "\n", "%%", "---\n", "erDiagram", " ", "%%{", "}%%"]
    rng = random.Random(5)
    derived = 0
    for text in texts:
        block = find_blocks(text, "mermaid")[0]
        for _ in range(150):
            a = rng.randint(0, len(text))
            b = min(len(text), a + rng.choice([0, 0, 1, 3]))
            new_text = text[:a] + rng.choice(snippets) + text[b:]
            got = edited_mermaid_block(block, new_text, a)
            want = find_blocks(new_text, "mermaid")[0]
            assert dataclasses.replace(got, map=None) == dataclasses.replace(want, map=None), (text, a, b, new_text)
            assert got.map.runs() == want.map.runs() and got.map.source_len == want.map.source_len
            derived += block.header_end >= 0 and a >= block.header_end
            text, block = new_text, got
    assert derived > 40
