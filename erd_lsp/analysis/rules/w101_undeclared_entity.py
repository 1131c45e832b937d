"""A relationship names an entity that no entity statement declares.

## What it does
Warns when a relationship endpoint is never declared with an entity block (or at least
named in a statement of its own), in a diagram that declares its other entities with
blocks. Mermaid silently creates such an entity, so the usual cause is a typo: the
warning suggests the closest declared name and offers to use it, or to create the block
(after the first relationship that names it). The suggestion is a declared name that differs
only in case, else the nearest within a quarter of the name's length in edits (a swap of
two neighbouring characters counts as one); between equally near names, the first in
alphabetical order.

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
# its findings about a name depend on which names are declared, whether any block is,
# and the relationships naming it (analysis/incremental.py keeps them across edits)
SCOPE = "names"
MESSAGE_LINES = False  # its messages name no line: an edit that adds lines only moves them


class Candidates:
    """The declared names a misspelt one is compared with: in alphabetical order, with
    their lower-case forms (made once per set of names)."""

    __slots__ = ("names", "lowered", "by_lower")

    def __init__(self, names) -> None:
        self.names = sorted(names)
        self.lowered = [n.lower() for n in self.names]
        by_lower: dict = {}
        for n, low in zip(self.names, self.lowered):
            by_lower.setdefault(low, n)
        self.by_lower = by_lower


def closest(name: str, candidates) -> str | None:
    """The declared name ``name`` most likely misspells, if any is close enough: the same
    name in another case, or one within a small edit distance (a quarter of its length,
    at least one edit; transpositions count once); ties go to the first in alphabetical
    order. ``candidates``: a :class:`Candidates` or any iterable of names."""
    if not isinstance(candidates, Candidates):
        candidates = Candidates(candidates)
    if not candidates.names:
        return None
    low = name.lower()
    same = candidates.by_lower.get(low)
    if same is not None:
        return same
    limit = max(1, len(name) // 4)
    # the optimal string alignment distance (as edit_distance), in C (imported when a
    # diagram first has a name to suggest for: it costs 20 ms of start-up)
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extractOne

    found = extractOne(low, candidates.lowered, scorer=OSA.distance, score_cutoff=limit)
    return None if found is None else candidates.names[found[2]]


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    from rapidfuzz.distance import OSA

    return OSA.distance(a, b)


def check(ctx):
    d = ctx.diagram
    if not d.declares_blocks:
        return
    subgraph_ids = {s.id for s in d.subgraphs}
    entities = d.entities
    found: dict = {}  # name -> (start of its first relationship, [ranges])
    for rel in d.relationships:
        for side, name, is_sub in ((0, rel.left, rel.left_is_subgraph), (1, rel.right, rel.right_is_subgraph)):
            e = entities.get(name)
            if e is None or not e.implicit or is_sub or name in subgraph_ids:
                continue
            f = found.get(name)
            if f is None:
                f = found[name] = (rel.range, [])
            f[1].append(rel.right_range if side else rel.left_range)
    if not found:
        return
    memo = ctx.memo
    if "candidates" not in memo:
        memo["candidates"] = Candidates(e.name for e in entities.values() if not e.implicit)
    src = ctx.parse.src
    for name, (first, ranges) in found.items():
        yield from findings(src, name, ranges, guess(memo, name), first)


def check_names(ctx):
    """The findings about the names ``ctx.subjects`` (all when None), read from the
    names summary ``ctx.names`` (:class:`erd_lsp.model.Names`) instead of the model:
    what an edit that changes relationships or declarations needs."""
    names = ctx.names
    if not names.blocks:
        return
    decl = names.decl
    subjects = names.undeclared() if ctx.subjects is None else [n for n in ctx.subjects if n not in decl]
    src = ctx.parse.src
    memo = names.memo
    for name in subjects:
        nodes = names.rels.get(name)
        if not nodes:
            continue
        ranges = []
        first = None
        for node in {id(n): n for n in nodes}.values():
            base, facts = ctx.relationship(node)
            rel = facts[7]
            if first is None or base + rel[0] < first.start:
                first = TextRange(base + rel[0], base + rel[1])
            if facts[1] == name:
                ranges.append(TextRange(base + rel[2], base + rel[3]))
            if facts[2] == name:
                ranges.append(TextRange(base + rel[4], base + rel[5]))
        if "candidates" not in memo:
            memo["candidates"] = Candidates(decl)
        yield from findings(src, name, ranges, guess(memo, name), first)


def stale(ctx) -> set:
    """After an edit that changed which names are declared (``ctx.names.flipped``; not
    whether any block is), the names among ``ctx.old_subjects`` (those with findings
    before) whose findings may differ in more than position: those declared or
    undeclared now, and those whose suggestion changed."""
    names = ctx.names
    out = set(names.flipped)
    memo = names.memo
    before = memo.get("previous", ({}, (), ()))[0].get("guesses", {})
    for name in ctx.old_subjects:
        if name in out:
            continue
        if name not in before or guess(memo, name, names.decl) != before[name]:
            out.add(name)
    return out


_MISSING = object()


def guess(memo: dict, name: str, decl=None) -> str | None:
    """:func:`closest` of ``name`` among the declared names, remembered in ``memo`` (a
    names summary's): after names were declared or undeclared, derived from the previous
    suggestion when that one is still declared (the nearest of the old suggestion and the
    newly declared names: ``closest`` is the minimum of (distance, name))."""
    guesses = memo.setdefault("guesses", {})
    g = guesses.get(name, _MISSING)
    if g is not _MISSING:
        return g
    prev = memo.get("previous")
    if prev is not None:
        before, added, removed = prev
        old = before.get("guesses", {}).get(name, _MISSING)
        if old is not _MISSING and old not in removed:
            new = closest(name, added) if added else None
            if old is None or new is None:
                g = old if new is None else new
            else:
                low = name.lower()
                g = min((old, new), key=lambda c: (edit_distance(low, c.lower()), c))
            guesses[name] = g
            return g
    candidates = memo.get("candidates")
    if candidates is None:
        candidates = memo["candidates"] = Candidates(decl if decl is not None else ())
    g = guesses[name] = closest(name, candidates)
    return g


def findings(src: str, name: str, ranges: list, guess: str | None, first: TextRange) -> list:
    """The warnings about the undeclared ``name`` at each of ``ranges``; ``first``: the
    range of the first relationship naming it, after which the fix declares it."""
    declare = Fix(f"Declare `{name}` with an entity block", (_block_edit(src, name, first),))
    if guess is not None:
        msg = f"`{name}` is not declared with an entity block (Mermaid creates it silently): did you mean `{guess}`?"
        spelt = spell_entity_name(guess)
    else:
        msg = f"`{name}` is not declared with an entity block (Mermaid creates it silently)"
    out = []
    for rng in ranges:
        fixes = (Fix(f"Replace with `{guess}`", (TextEdit(rng, spelt),)), declare) if guess is not None else (declare,)
        out.append(Diagnostic(CODE, msg, TextRange(rng.start, rng.end), SEVERITY, fixes=fixes, subject=name))
    return out


def _block_edit(src: str, name: str, rel: TextRange) -> TextEdit:
    """Insert ``NAME { }`` on lines of their own after the relationship statement ``rel``,
    indented as its line is (four spaces when more than blanks precede it, as after a
    header) and ending lines as its line does. (What it reads is the statement's line,
    so that an edit elsewhere only moves it.)"""
    line_start = src.rfind("\n", 0, rel.start) + 1
    line_end = src.find("\n", rel.end)
    nl = "\r\n" if line_end > 0 and src[line_end - 1] == "\r" else "\n"
    lead = src[line_start : rel.start]
    indent = lead if lead.strip(" \t") == "" else "    "
    text = f"{nl}{indent}{spell_entity_name(name)} {{{nl}{indent}}}"
    return TextEdit(TextRange(rel.end, rel.end), text)
