"""Diagnostics after an edit without rebuilding the model.

Most keystrokes change what a few statements say and nothing else. When the reparse's
window (the items it replaced) holds only entity statements, relationship statements,
trivia and error items (before and after the edit), the diagram has no subgraphs, and
every enabled rule declares a scope other than ``"diagram"``:

* the names summary (:class:`erd_lsp.model.Names`: which entity statements declare each
  name, which relationships name it, how many blocks there are) is updated from the
  window alone;
* rules of scope ``"syntax"`` (E001, E002) run again on the new parse (they read only it);
* rules of scope ``"entity"`` (W102) run again on a model of just the entities the window
  declares (before or after), and their old findings about those entities are dropped;
* rules of scope ``"names"`` (W101) run again on the summary for the names the window
  mentions, or for every name when the edit changed which names are declared or whether
  any block exists; their old findings about those names are dropped;
* every other finding is the old one, moved by the edit's length change. When the edit
  adds or removes a line break, a finding at or after it whose message may name a line
  (``MESSAGE_LINES``; W102 names the first definition's) is checked again instead.

A window whose statements say what they said before (an edit inside an attribute
block) changes only attributes: then only the entity rules run again. Anything else
(another statement kind in the window, a finding that touches the replaced text and is
not checked again, a ``\\r`` in the edit) returns None and the caller runs every rule on
the full model. ``tests/test_incremental.py`` checks the result against a full run after
random edits.
"""

from __future__ import annotations

from typing import Optional

from erd_lsp.analysis.diagnostics import Diagnostic
from erd_lsp.model import Names, broken_identity, partial, statement_identity
from erd_lsp.syntax import kinds as K
from erd_lsp.text import TextEdit, TextRange

_NEUTRAL = frozenset({K.ERROR, K.CONFLICT})


class Previous:
    """What a new diagram version keeps of the one it was edited from: its findings per
    settings, its names summary, and where the edit and the reparse window were."""

    __slots__ = ("findings", "index", "edit", "window", "old_items", "lines_changed")

    def __init__(self, findings: dict, index: Optional[Names], edit: TextEdit, window, old_items, lines_changed: bool) -> None:
        self.findings = findings
        self.index = index
        self.edit = edit
        self.window = window
        self.old_items = old_items
        self.lines_changed = lines_changed  # the edit added or removed a line break


class _Bases:
    """The start of a statement of the new parse: known for the window's, found (once,
    for all items) for the others."""

    def __init__(self, parse, window_bases: dict) -> None:
        self.parse = parse
        self.known = window_bases
        self.searched = 0

    def __call__(self, node) -> int:
        b = self.known.get(id(node))
        if b is None:
            p = self.parse
            if self.searched < 8:  # a few: search the items (in C)
                self.searched += 1
                return p.starts[p.items.index(node)]
            self.known.update((id(it), st) for it, st in zip(p.items, p.starts) if it.__class__ is not tuple)
            self.searched = -(1 << 30)
            b = self.known[id(node)]
        return b


def update(prev: Previous, unit, settings, rules, run_rule) -> Optional[tuple[list, Names]]:
    """``(findings, names summary)`` of ``unit`` derived from ``prev``, or None.
    ``run_rule(rule, unit, diagram, names, call="check_names")`` runs one rule: on the
    parse (``diagram`` and ``names`` None), on a partial model, or on the summary
    (``names``: ``(summary, subjects, bases, old subjects)``; ``call``: which of the
    rule's functions, ``check_names`` or ``stale``)."""
    old = prev.findings.get(settings)
    names = prev.index
    if old is None or names is None or prev.window is None:
        return None
    edit = prev.edit
    if "\r" in edit.new_text:
        return None
    parse = unit.parse
    r, new_end, old_end = prev.window
    olds = _statements(prev.old_items[r:old_end], None, None)
    news = _statements(parse.items[r:new_end], parse.starts[r:new_end], parse)
    if olds is None or news is None:
        return None
    same = len(olds) == len(news) and all(o[1] == n[1] for o, n in zip(olds, news))
    scope = {rule.CODE: getattr(rule, "SCOPE", "diagram") for rule in rules}
    # the codes whose messages may name a line (see rules/__init__.py)
    lines_named = {rule.CODE for rule in rules if getattr(rule, "MESSAGE_LINES", True)}
    if not same and "diagram" in scope.values():
        return None
    bases = _Bases(parse, {id(n): b for n, _, b in news})
    new_names = names.edited(olds, news, bases, prev.window, parse.items, parse.src)
    # what is checked again: entities the window declares, names it mentions
    entities = {ident[1] for _, ident, _ in olds + news if ident[0] == K.ENTITY_STMT}
    mentioned: set = set()
    for _, ident, _ in olds + news + _same_line_after(parse, new_end):
        if ident[0] == K.REL_STMT and not broken_identity(ident):
            mentioned.update((ident[1], ident[2]))
    s, e = edit.range.start, edit.range.end
    delta = len(edit.new_text) - (e - s)
    if prev.lines_changed:
        for d in old:
            sc = scope.get(d.code)
            if sc == "entity" and d.subject not in entities and _reaches(d, s):
                entities.add(d.subject)
            elif sc == "names" and d.code in lines_named and _reaches(d, s):
                mentioned.add(d.subject)
    subjects: dict = {}  # names-scope rule code -> the names it checks again (None: all)
    for rule in rules:
        if scope[rule.CODE] != "names":
            continue
        if (names.blocks > 0) != (new_names.blocks > 0):
            subjects[rule.CODE] = None  # every finding appears or goes
        elif new_names.flipped:
            before = {d.subject for d in old if d.code == rule.CODE}
            ctx = (new_names, None, bases, before)
            subjects[rule.CODE] = mentioned | run_rule(rule, unit, None, ctx, "stale")
        else:
            subjects[rule.CODE] = mentioned
    out = []
    for d in old:
        sc = scope.get(d.code)
        if sc == "syntax":
            continue
        if sc == "entity" and d.subject in entities:
            continue
        if sc == "names" and (subjects[d.code] is None or d.subject in subjects[d.code]):
            continue
        if prev.lines_changed and (d.code in lines_named or d.code not in scope) and _reaches(d, s):
            return None  # its message may name a line that moved
        moved = _moved(d, s, e, delta)
        if moved is None:
            return None
        out.append(moved)
    for rule in rules:
        sc = scope[rule.CODE]
        if sc == "syntax":
            out.extend(run_rule(rule, unit, None, None))
        elif sc == "names" and (subjects[rule.CODE] is None or subjects[rule.CODE]):
            out.extend(run_rule(rule, unit, None, (new_names, subjects[rule.CODE], bases, None)))
    per_entity = [rule for rule in rules if scope[rule.CODE] == "entity"]
    if per_entity and entities:
        statements = []
        decl = new_names.decl
        for name in entities:
            for node in decl.get(name, ()):
                statements.append((node, bases(node)))
        if statements:
            statements.sort(key=lambda x: x[1])
            mini = partial(parse, statements)
            for rule in per_entity:
                out.extend(run_rule(rule, unit, mini, None))
    return out, new_names


def _same_line_after(parse, end: int) -> list:
    """The relationship statement right after the window on the line the window ends
    on, if any (as ``_statements`` gives it): the edit changed what precedes it on its
    line (a W101 fix reads that line's indentation)."""
    items = parse.items
    i = end
    while i < len(items) and items[i].__class__ is tuple and items[i][0] == K.WHITESPACE:
        i += 1
    if i < len(items) and items[i].__class__ is not tuple and items[i].kind == K.REL_STMT:
        if end == 0 or items[end - 1].__class__ is not tuple or items[end - 1][0] != K.NEWLINE:
            return _statements(items[i : i + 1], parse.starts[i : i + 1], parse) or []
    return []


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
