"""Applying fixes (``erd-lsp --check --fix``), as ruff does.

Each diagnostic offers its fixes in order of preference; ``--fix`` applies the first one
when it is *safe* (it cannot change what the diagram means), ``--unsafe-fixes`` when it
is unsafe too. Which fixes are safe is decided by the rule that makes them:

* ``W900`` unused-suppression: removing a comment or a code in it — **safe** (Mermaid
  deletes comments before reading the diagram).
* ``W101`` undeclared-entity: "replace with the declared name" and "declare with a
  block" — **unsafe**: both change the model (a relationship's endpoint, an entity's
  block), and only a person knows whether the name was a typo.
* ``W102`` duplicate-attribute: removing the repeated attribute — **unsafe**: Mermaid
  draws both columns, so removing one changes the model, and the second one may be the
  one that was meant (a different type or comment).
* ``E002`` conflict-marker: keeping one side of a Git conflict is a decision, not a fix;
  its three alternatives are never applied automatically (:data:`CHOICES`).

Fixes are applied in rounds: in each round the fixes whose edits do not overlap an
earlier one's are applied together, then the document is checked again, until no fix
applies or after :data:`MAX_ROUNDS` rounds. Pure: text in, text out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from erd_lsp.analysis.diagnostics import Diagnostic, Fix
from erd_lsp.text import TextEdit

__all__ = ["CHOICES", "MAX_ROUNDS", "FixResult", "applicable_fix", "apply_edits", "apply_fixes", "fix_round"]

#: Codes whose fixes are alternatives for a person to choose between, never applied by --fix.
CHOICES = frozenset({"E002"})
MAX_ROUNDS = 10


def applicable_fix(d: Diagnostic, unsafe: bool = False) -> Optional[Fix]:
    """The fix ``--fix`` (or ``--fix --unsafe-fixes``) would apply for ``d``, if any."""
    if d.code in CHOICES or not d.fixes:
        return None
    first = d.fixes[0]
    if not first.edits:
        return None
    if first.safe or unsafe:
        return first
    return None


def _overlaps(a: TextEdit, b: TextEdit) -> bool:
    """Two edits conflict when their ranges overlap, or when both insert at one offset
    (their order would be arbitrary)."""
    ra, rb = a.range, b.range
    if ra.start == ra.end and rb.start == rb.end:
        return ra.start == rb.start
    if ra.start == ra.end:
        return rb.start < ra.start < rb.end
    if rb.start == rb.end:
        return ra.start < rb.start < ra.end
    return ra.start < rb.end and rb.start < ra.end


def apply_edits(text: str, edits) -> str:
    """Apply non-overlapping edits (host offsets of ``text``)."""
    out = []
    pos = 0
    for e in sorted(edits, key=lambda e: (e.range.start, e.range.end)):
        out.append(text[pos : e.range.start])
        out.append(e.new_text)
        pos = max(pos, e.range.end)
    out.append(text[pos:])
    return "".join(out)


def fix_round(text: str, diagnostics, unsafe: bool = False) -> tuple[str, list[Diagnostic]]:
    """One round: the text with every applicable, non-conflicting fix applied, and the
    diagnostics whose fix was applied."""
    accepted: list[TextEdit] = []
    fixed: list[Diagnostic] = []
    for d in sorted(diagnostics, key=lambda d: (d.range.start, d.range.end, d.code)):
        fix = applicable_fix(d, unsafe)
        if fix is None:
            continue
        if any(e.range.start < 0 or e.range.end > len(text) or e.range.end < e.range.start for e in fix.edits):
            continue
        if any(_overlaps(e, a) for e in fix.edits for a in accepted):
            continue
        if any(_overlaps(e, f) for i, e in enumerate(fix.edits) for f in fix.edits[i + 1 :]):
            continue
        accepted.extend(fix.edits)
        fixed.append(d)
    if not accepted:
        return text, []
    return apply_edits(text, accepted), fixed


@dataclass
class FixResult:
    """What :func:`apply_fixes` did: the final text and document, how many fixes were
    applied (by code) and the diagnostics that remain."""

    text: str
    document: object
    fixed: Counter = field(default_factory=Counter)
    remaining: list = field(default_factory=list)

    @property
    def applied(self) -> int:
        return sum(self.fixed.values())


def _structure(doc) -> tuple:
    """What fixes must never change in a host document: its diagrams' fences and the
    text outside the diagrams."""
    if doc.kind != "markdown":
        return ()
    index = doc.line_index
    parts = []
    pos = 0
    for b in doc.blocks:
        parts.append(doc.text[pos : b.content_start])
        if b.closed and b.end > b.content_start:
            pos = index.line_start(index.line_of(b.end - 1))
        else:
            pos = len(doc.text)
        parts.append((b.info, b.closed))
    parts.append(doc.text[pos:])
    return tuple(parts)


def _in_containers(doc, d: Diagnostic) -> Diagnostic:
    """``d`` with the line breaks its fixes insert followed by the container prefix
    (``> ``, a list item's indentation) of the line they land on, in Markdown."""
    if doc.kind != "markdown" or not any("\n" in e.new_text or "\r" in e.new_text for f in d.fixes for e in f.edits):
        return d
    index = doc.line_index
    fixes = []
    for f in d.fixes:
        edits = []
        for e in f.edits:
            text = e.new_text
            unit = doc.unit_at(e.range.start)
            if unit is not None and ("\n" in text or "\r" in text):
                at = unit.from_host(e.range.start)
                if at is not None:
                    src = unit.source
                    line_start = max(src.rfind("\n", 0, at), src.rfind("\r", 0, at)) + 1
                    host_line = index.line_start(index.line_of(e.range.start))
                    prefix = doc.text[host_line : unit.to_host_offset(line_start)]
                    if prefix:
                        lines = text.replace("\r\n", "\n").split("\n")
                        nl = "\r\n" if "\r\n" in text else "\n"
                        text = lines[0] + "".join(nl + ((prefix + ln) if ln else prefix.rstrip()) for ln in lines[1:])
            edits.append(TextEdit(e.range, text))
        fixes.append(Fix(f.title, tuple(edits), f.safe))
    return Diagnostic(d.code, d.message, d.range, d.severity, d.related, tuple(fixes), d.tags, d.diagram)


def apply_fixes(doc, settings=None, unsafe: bool = False, max_rounds: int = MAX_ROUNDS) -> FixResult:
    """Apply the fixes of ``doc``'s diagnostics (under ``settings``) until none applies.

    ``doc`` is an :class:`erd_lsp.analysis.Document`; the result's ``document`` is the
    fixed one (the same object when nothing changed). In Markdown, inserted lines get
    the container prefix of the diagram (block quote, list item), and a fix that would
    still change the fences or the text outside the diagrams is not applied."""
    from erd_lsp.analysis import DEFAULT_SETTINGS, Document

    settings = DEFAULT_SETTINGS if settings is None else settings
    fixed: Counter = Counter()
    current = doc
    diagnostics = current.diagnostics(settings)
    seen = {current.text}
    structure = _structure(current)
    rejected: set = set()  # (code, message, range) of fixes that broke the structure
    for _ in range(max_rounds):
        candidates = [
            _in_containers(current, d) for d in diagnostics if (d.code, d.message, d.range) not in rejected
        ]
        new_text, done = fix_round(current.text, candidates, unsafe)
        if done and structure and _structure(Document(new_text, current.kind)) != structure:
            # find the culprits: apply the fixes one at a time
            new_text, kept = current.text, []
            for d in done:
                trial, ok = fix_round(current.text, [d], unsafe)
                if ok and _structure(Document(trial, current.kind)) == structure:
                    kept.append(d)
                else:
                    rejected.add((d.code, d.message, d.range))
            new_text, done = fix_round(current.text, kept, unsafe)
        if not done or new_text == current.text or new_text in seen:
            break
        seen.add(new_text)
        fixed.update(d.code for d in done)
        current = Document(new_text, current.kind, current.path)
        diagnostics = current.diagnostics(settings)
    return FixResult(current.text, current, fixed, diagnostics)
