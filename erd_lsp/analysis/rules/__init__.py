"""The lint rules, one module per rule, registered in :data:`RULES` (the only table).

Each rule module has ``CODE``, ``NAME`` (kebab-case, naming the flagged pattern),
``SEVERITY``, a docstring that is its documentation (hover, ``erd-lsp rule CODE``, the
README's table), and ``check(ctx) -> Iterable[Diagnostic]``, a pure function of the
diagram's parse and model that never raises.
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
