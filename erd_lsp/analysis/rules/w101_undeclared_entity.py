"""A relationship names an entity that no entity statement declares.

## What it does
Warns when a relationship endpoint is never declared with an entity block (or at least
named in a statement of its own), in a diagram that declares its other entities with
blocks. Mermaid silently creates such an entity, so the usual cause is a typo: the
warning suggests the closest declared name and offers to use it, or to create the block.

A diagram that declares no blocks at all (relationships only) is a legitimate style and
gets no such warning.

## Why is this bad?
`CUSTOMER ||--o{ ORDRE : places` renders an empty box `ORDRE` beside the real `ORDER`,
and nothing tells you.

## Example
```mermaid
erDiagram
    ORDER { int id }
    CUSTOMER ||--o{ ORDRE : places
```
Use instead:
```mermaid
erDiagram
    ORDER { int id }
    CUSTOMER ||--o{ ORDER : places
```
"""

from __future__ import annotations

from erd_lsp.analysis.diagnostics import Diagnostic, Fix, Severity
from erd_lsp.syntax import spell_entity_name
from erd_lsp.text import TextEdit, TextRange

CODE = "W101"
NAME = "undeclared-entity"
SEVERITY = Severity.WARNING
SCOPE = "diagram"  # reads the whole model


def closest(name: str, candidates: list[str]) -> str | None:
    """The declared name ``name`` most likely misspells, if any is close enough: the same
    name in another case, or one within a small edit distance (a quarter of its length,
    at least one edit; transpositions count once)."""
    if not candidates:
        return None
    low = name.lower()
    for c in candidates:
        if c.lower() == low:
            return c
    best = None
    best_d = max(1, len(name) // 4) + 1
    for c in candidates:
        if abs(len(c) - len(name)) >= best_d:
            continue
        d = edit_distance(low, c.lower())
        if d < best_d:
            best, best_d = c, d
    return best


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    prev2 = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def check(ctx):
    d = ctx.diagram
    if not d.declares_blocks:
        return
    declared = [e.name for e in d.entities.values() if not e.implicit]
    subgraph_ids = {s.id for s in d.subgraphs}
    entities = d.entities
    for rel in d.relationships:
        for side, name, is_sub in ((0, rel.left, rel.left_is_subgraph), (1, rel.right, rel.right_is_subgraph)):
            e = entities.get(name)
            if e is None or not e.implicit or is_sub or name in subgraph_ids:
                continue
            rng = rel.right_range if side else rel.left_range
            guess = closest(name, declared)
            fixes = []
            if guess is not None:
                msg = f"`{name}` is not declared with an entity block (Mermaid creates it silently): did you mean `{guess}`?"
                fixes.append(Fix(f"Replace with `{guess}`", (TextEdit(rng, spell_entity_name(guess)),)))
            else:
                msg = f"`{name}` is not declared with an entity block (Mermaid creates it silently)"
            fixes.append(Fix(f"Declare `{name}` with an entity block", (_block_edit(ctx, name),)))
            yield Diagnostic(CODE, msg, TextRange(rng.start, rng.end), SEVERITY, fixes=tuple(fixes))


def _block_edit(ctx, name: str) -> TextEdit:
    """Append ``NAME { }`` at the end of the diagram, indented like its other statements."""
    src = ctx.parse.source
    indent = ""
    for e in ctx.diagram.entities.values():
        if e.blocks:
            b = e.blocks[0]
            line_start = src.rfind("\n", 0, e.definitions[0].start) + 1
            lead = src[line_start : e.definitions[0].start]
            indent = lead if lead.strip() == "" else ""
            break
    end = len(src.rstrip())
    nl = "\r\n" if "\r\n" in src else "\n"
    text = f"{nl}{nl}{indent}{spell_entity_name(name)} {{{nl}{indent}}}"
    return TextEdit(TextRange(end, end), text)
