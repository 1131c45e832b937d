"""Diagnostics after an edit without rebuilding the model.

A keystroke inside an attribute block changes what one entity statement says about its
attributes and nothing else the rules read. When the reparse's window (the items it
replaced) holds only entity statements whose identity (name, alias, classes, whether
they have a block) is unchanged, relationships that say the same, trivia and error
items:

* rules of scope ``"syntax"`` (E001, E002) run again on the new parse (they read only it);
* rules of scope ``"entity"`` (W102) run again on a model of just the edited entities'
  statements, and their old findings about those entities are dropped;
* every other finding is the old one, moved by the edit's length change (when the
  edit adds or removes a line break, only findings wholly before it are kept: messages
  may name lines, of positions the finding carries in its range, related information
  or fixes).

Anything else (another statement kind in the window, a renamed entity, a finding that
touches the replaced text, a ``\\r`` in the edit) returns None and the caller runs every
rule on the full model. ``tests/test_incremental.py`` checks the result against a full
run after random edits.
"""

from __future__ import annotations

from typing import Optional

from erd_lsp.analysis.diagnostics import Diagnostic
from erd_lsp.model import partial, statement_identity
from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.tree import Node
from erd_lsp.text import TextEdit, TextRange

_NEUTRAL = frozenset({K.ERROR, K.CONFLICT})


def entity_index(parse) -> dict:
    """Entity name -> its entity statements (nodes), in order. The model has been built,
    so every statement's facts are cached."""
    out: dict = {}
    for item in parse.items:
        if item.__class__ is not tuple and item.kind == K.ENTITY_STMT:
            facts = item.facts
            if facts is not None and facts[0]:
                out.setdefault(facts[0][0], []).append(item)
    return out


class Previous:
    """What a new diagram version keeps of the one it was edited from: its findings per
    settings, its entity index, and where the edit and the reparse window were."""

    __slots__ = ("findings", "index", "edit", "window", "old_items", "lines_changed")

    def __init__(self, findings: dict, index: Optional[dict], edit: TextEdit, window, old_items, lines_changed: bool) -> None:
        self.findings = findings
        self.index = index
        self.edit = edit
        self.window = window
        self.old_items = old_items
        self.lines_changed = lines_changed  # the edit added or removed a line break


def update(prev: Previous, unit, settings, rules, run_rule) -> Optional[tuple[list, dict]]:
    """``(findings, entity index)`` of ``unit`` derived from ``prev``, or None."""
    old = prev.findings.get(settings)
    if old is None or prev.index is None or prev.window is None:
        return None
    edit = prev.edit
    if "\r" in edit.new_text:
        return None
    parse = unit.parse
    r, new_end, old_end = prev.window
    old_window = prev.old_items[r:old_end]
    new_window = parse.items[r:new_end]
    new_starts = parse.starts[r:new_end]
    # the statements of both windows must match one for one, names and all
    olds = _statements(old_window, None, None)
    news = _statements(new_window, new_starts, parse)
    if olds is None or news is None or len(olds) != len(news):
        return None
    for (_, oi, _), (_, ni, _) in zip(olds, news):
        if oi != ni:
            return None
    changed = {ident[1] for _, ident, _ in news if ident[0] == K.ENTITY_STMT}
    # the new index: the edited entities' statements, old nodes replaced by new ones
    swap = {id(o): n for (o, ident, _), (n, _, _) in zip(olds, news) if ident[0] == K.ENTITY_STMT}
    index = dict(prev.index)
    for name in changed:
        index[name] = [swap.get(id(node), node) for node in prev.index.get(name, ())]
    s, e = edit.range.start, edit.range.end
    delta = len(edit.new_text) - (e - s)
    syntax = {rule.CODE for rule in rules if getattr(rule, "SCOPE", "diagram") == "syntax"}
    per_entity = [rule for rule in rules if getattr(rule, "SCOPE", "diagram") == "entity"]
    entity_codes = {rule.CODE for rule in per_entity}
    out = []
    for d in old:
        if d.code in syntax or (d.code in entity_codes and d.subject in changed):
            continue
        if prev.lines_changed and _reaches(d, s):
            # its message may name the line of a position after the edit (W102 names the
            # first definition's): only findings wholly before the edit are kept as they are
            return None
        moved = _moved(d, s, e, delta)
        if moved is None:
            return None
        out.append(moved)
    for rule in rules:
        if rule.CODE in syntax:
            out.extend(run_rule(rule, unit, None))
    if per_entity and changed:
        where = {id(n): b for n, _, b in news}
        statements = []
        for name in sorted(changed):
            for node in index[name]:
                base = where.get(id(node))
                if base is None:
                    base = parse.starts[parse.items.index(node)]
                statements.append((node, base))
        statements.sort(key=lambda x: x[1])
        mini = partial(parse, statements)
        for rule in per_entity:
            out.extend(run_rule(rule, unit, mini))
    return out, index


def _statements(items, starts, parse):
    """``(node, identity, start)`` of the entity and relationship statements among
    ``items``; None when another statement kind is among them."""
    out = []
    for i, item in enumerate(items):
        if item.__class__ is tuple:
            continue
        kind = item.kind
        if kind in _NEUTRAL:
            continue
        if kind != K.ENTITY_STMT and kind != K.REL_STMT:
            return None
        base = starts[i] if starts is not None else None
        ident = statement_identity(parse, item, base)
        if ident is None:
            return None
        out.append((item, (kind,) + ident, base))
    return out


def _ranges(d: Diagnostic):
    """Every range a finding carries: its own, its related information's, its fixes'."""
    yield d.range
    for x in d.related:
        yield x.range
    for f in d.fixes:
        for t in f.edits:
            yield t.range


def _reaches(d: Diagnostic, s: int) -> bool:
    """Whether a position of ``d`` is at or after ``s``."""
    return any(r.end >= s for r in _ranges(d))


def _move(p: int, s: int, e: int, delta: int) -> Optional[int]:
    if p < s or (p == s and s < e):
        return p
    if p >= e and p > s:
        return p + delta
    return None  # inside the replaced text, or at an insertion point (before or after it?)


class _InEdit(Exception):
    """A position of a finding lies in the edited text."""


def _moved(d: Diagnostic, s: int, e: int, delta: int) -> Optional[Diagnostic]:
    """``d`` with every position moved by the edit; None if one is in the edited text."""
    if delta == 0 and not any(r.end >= s for r in _ranges(d)):
        return d

    def move(r: TextRange) -> TextRange:
        a = _move(r.start, s, e, delta)
        b = _move(r.end, s, e, delta)
        if a is None or b is None:
            raise _InEdit
        return TextRange(a, b)

    try:
        return d.with_map(move, d.diagram)
    except _InEdit:
        return None
