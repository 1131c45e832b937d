"""Diagnostics as plain data: what is wrong, where (offsets), how bad, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from erd_lsp.text import TextEdit, TextRange


class Severity(IntEnum):
    """Ordered as LSP numbers them."""

    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Fix:
    """A titled set of edits. ``safe`` fixes never change what the diagram means."""

    title: str
    edits: tuple[TextEdit, ...]
    safe: bool = False


@dataclass(frozen=True, slots=True)
class Related:
    range: TextRange
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    range: TextRange
    severity: Severity
    related: tuple[Related, ...] = ()
    fixes: tuple[Fix, ...] = ()
    tags: tuple[str, ...] = ()  # "unnecessary", "deprecated"
    diagram: int = 0  # index of the diagram in its document
    subject: str = ""  # the entity a finding of an entity-scoped rule is about

    def with_map(self, f, diagram: int) -> "Diagnostic":
        """The same diagnostic with every range passed through ``f`` (diagram -> host)."""
        return Diagnostic(
            code=self.code,
            message=self.message,
            range=f(self.range),
            severity=self.severity,
            related=tuple(Related(f(r.range), r.message) for r in self.related),
            fixes=tuple(
                Fix(x.title, tuple(TextEdit(f(e.range), e.new_text) for e in x.edits), x.safe) for x in self.fixes
            ),
            tags=self.tags,
            diagram=diagram,
            subject=self.subject,
        )
