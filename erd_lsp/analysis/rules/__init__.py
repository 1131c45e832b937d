"""The lint rules, one module per rule, registered in :data:`RULES` (the only table).

Each rule module has ``CODE``, ``NAME`` (kebab-case, naming the flagged pattern),
``SEVERITY``, a docstring that is its documentation (hover, ``erd-lsp rule CODE``, the
README's table), and ``check(ctx) -> Iterable[Diagnostic]``, a pure function of the
diagram's parse and model that never raises.

``SCOPE`` says what a rule's findings depend on, which lets an edit inside an attribute
block be checked without rebuilding the model (``analysis/incremental.py``):
``"syntax"``: the parse only (run again after every edit); ``"entity"``: for each entity,
only that entity's own statements (its findings carry the entity as ``subject``; after an
edit the rule runs on a model of just the edited entities); ``"diagram"``: the whole
model but attributes (its findings are kept, moved, after an edit that changes only
attributes); ``"names"``: which names entity statements declare, whether any has a
block, and the relationships naming the finding's ``subject`` (the rule also has
``check_names(ctx)``, its findings about ``ctx.subjects`` read from the names summary
``ctx.names``, and ``stale(ctx)``, the names whose findings change when the declared
names do). A finding's message may name the line of a position only if the finding
carries that position (range, related information or a fix); ``MESSAGE_LINES = False``
says a rule's messages name none, so an edit that adds lines only moves its findings.

A rule that runs after every edit reads the text as ``ctx.parse.src`` (slices, ``find``,
``rfind``, ``startswith``): after an edit of a large diagram it is a rope, and
``ctx.parse.source`` would make a flat copy of the whole text on every keystroke.
"""

from __future__ import annotations

from erd_lsp.analysis.rules import (
    e001_syntax_error,
    e002_conflict_marker,
    w101_undeclared_entity,
    w102_duplicate_attribute,
    w900_unused_suppression,
)

RULES = (
    e001_syntax_error,
    e002_conflict_marker,
    w101_undeclared_entity,
    w102_duplicate_attribute,
    w900_unused_suppression,
)

BY_CODE = {r.CODE: r for r in RULES}
BY_NAME = {r.NAME: r for r in RULES}
