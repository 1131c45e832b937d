"""Analysis: the facade over one host document (a ``.mmd`` file or a Markdown file).

:class:`Document` finds the ER diagrams in the host, parses each one, builds its model
lazily and runs the lint rules. Every range it returns is an offset range in the *host*
text. It does no I/O and never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Optional

from erd_lsp.analysis.diagnostics import Diagnostic, Fix, Related, Severity
from erd_lsp.analysis.rules import BY_CODE, RULES
from erd_lsp.model import Diagram, Names, build, relationship_facts
from erd_lsp.syntax.hosts import Block, edited_mermaid_block, find_blocks, host_kind_for_path
from erd_lsp.syntax.parser import parse as parse_diagram
from erd_lsp.syntax.preprocess import OTHER_DIAGRAM_KEYWORDS
from erd_lsp.syntax.tree import Parse
from erd_lsp.syntax.reparse import reparse
from erd_lsp.text import LineIndex, Rope, TextEdit, TextRange

__all__ = ["Document", "DiagramUnit", "Settings", "Diagnostic", "Severity", "Fix", "Related", "RULES"]


@dataclass(frozen=True)
class Settings:
    """Which rules run and how severe they are."""

    select: Optional[frozenset] = None  # None = all rules
    ignore: frozenset = frozenset()
    severity: tuple = ()  # ((code, Severity), ...)

    def enabled(self, code: str) -> bool:
        if code in self.ignore:
            return False
        return self.select is None or code in self.select

    def severity_of(self, code: str, default: Severity) -> Severity:
        for c, s in self.severity:
            if c == code:
                return s
        return default


DEFAULT_SETTINGS = Settings()


class DiagramUnit:
    """One ER diagram of a document: its block in the host, parse and (lazy) model."""

    def __init__(self, document: "Document", index: int, block: Block, parse: Parse) -> None:
        self.document = document
        self.index = index
        self.block = block
        self.parse = parse

    @cached_property
    def diagram(self) -> Diagram:
        return build(self.parse)

    @property
    def source(self) -> str:
        return self.parse.source

    def names(self) -> Optional[Names]:
        """The names summary the incremental diagnostics keep up to date across edits
        (made once the model has been built, when it reads the cached facts; None for a
        diagram with subgraphs)."""
        d = self.__dict__
        if "_names" not in d and "diagram" in d:
            self._names = Names.of(self.parse, self.memo) if not self.diagram.subgraphs else None
        return d.get("_names")

    @cached_property
    def memo(self) -> dict:
        """What rules derive from the declared names on a full run (W101's suggestions),
        handed to the names summary."""
        names = self.__dict__.get("_names")
        return names.memo if names is not None else {}

    def to_host(self, r: TextRange) -> TextRange:
        m = self.block.map
        if m.is_identity:
            return r
        a = m.to_source_start(r.start)
        b = m.to_source_end(r.end) if r.end > r.start else a
        return TextRange(a, max(a, b))

    def to_host_offset(self, offset: int) -> int:
        m = self.block.map
        return offset if m.is_identity else m.to_source_start(offset)

    def from_host(self, offset: int) -> Optional[int]:
        """The diagram offset of a host offset, or None when it lies outside the diagram."""
        m = self.block.map
        if m.is_identity:
            return offset if 0 <= offset <= len(self.parse.src) else None
        if offset < m.to_source_start(0) or offset > m.to_source_end(len(self.source)):
            return None
        return min(m.to_derived(offset), len(self.source))

    def line_of(self, offset: int) -> int:
        """0-based host line of a diagram offset."""
        return self.document.line_index.line_of(self.to_host_offset(offset))

    @cached_property
    def first_line(self) -> int:
        """0-based host line of the diagram's first line."""
        return self.document.line_index.line_of(self.block.content_start if self.block.info else 0)


class _RuleContext:
    def __init__(self, unit: DiagramUnit, diagram: Optional[Diagram] = None, names=None) -> None:
        self.unit = unit
        self.parse = unit.parse
        self._diagram = diagram
        # for a rule of scope "names" after an edit: the summary, the names to check
        # (None: all), the start of a statement node, the names of its old findings
        self.names, self.subjects, self._bases, self.old_subjects = names if names is not None else (None, None, None, None)

    @property
    def memo(self) -> dict:
        """Where a rule keeps what it derives from the set of declared names."""
        return self.names.memo if self.names is not None else self.unit.memo

    def relationship(self, node) -> tuple:
        """``(start, facts)`` of a relationship statement of the summary."""
        base = self._bases(node)
        return base, relationship_facts(self.parse, node, base)

    @property
    def diagram(self) -> Diagram:
        """The model (built on first use: rules of scope "syntax" never need it)."""
        if self._diagram is None:
            self._diagram = self.unit.diagram
        return self._diagram

    def line_of(self, offset: int) -> int:
        return self.unit.line_of(offset)


class Document:
    """A host document and the ER diagrams in it."""

    def __init__(self, text, kind: str = "mermaid", path: Optional[str] = None) -> None:
        self._text = text  # a str, or (from ``edited``) a Rope
        self.kind = kind
        self.path = path

    @property
    def text(self) -> str:
        """The host text as one ``str``. After an edit it is made on first use (a copy of
        the text): the keystroke path (reparse, diagnostics, positions) reads the rope."""
        t = self._text
        if t.__class__ is not str:
            t = self._text = t.flat()
        return t

    @property
    def rope(self) -> Rope:
        return Rope.of(self._text)

    @classmethod
    def for_path(cls, path: str, text: str) -> "Document":
        return cls(text, host_kind_for_path(path) or "mermaid", path)

    @cached_property
    def line_index(self) -> LineIndex:
        return LineIndex(self.text)

    @cached_property
    def blocks(self) -> list[Block]:
        try:
            return find_blocks(self.text, self.kind)
        except Exception:  # pragma: no cover - find_blocks never raises; belt and braces
            return []

    @cached_property
    def units(self) -> list[DiagramUnit]:
        units = []
        for b in self.blocks:
            if not _is_er_candidate(b, self.kind):
                continue
            p = parse_diagram(b.text, browser_trim=b.browser_trim)
            units.append(DiagramUnit(self, len(units), b, p))
        return units

    def edited(self, edit: TextEdit) -> "Document":
        """The document after ``edit`` (host offsets), reusing what the edit leaves alone:
        a ``.mmd`` diagram is reparsed incrementally; in Markdown only the diagrams whose
        text changed are parsed again."""
        new_text = self.rope.spliced(edit.range.start, edit.range.end, edit.new_text)
        doc = Document(new_text, self.kind, self.path)
        if "line_index" in self.__dict__:
            doc.__dict__["line_index"] = self.line_index.edited(edit, new_text)
        old_units = self.__dict__.get("units")
        if old_units is None:
            return doc
        if self.kind == "mermaid" and len(old_units) == 1 and old_units[0].block.map.is_identity:
            blocks = doc.__dict__["blocks"] = [edited_mermaid_block(old_units[0].block, new_text, edit.range.start)]
            if len(blocks) == 1 and blocks[0].map.is_identity and _is_er_candidate(blocks[0], doc.kind):
                old = old_units[0]
                p = reparse(old.parse, edit, new_text)
                unit = DiagramUnit(doc, 0, blocks[0], p)
                findings = old.__dict__.get("_findings")
                if findings and getattr(p, "window", None) is not None and "\r" not in self._text[edit.range.start : edit.range.end]:
                    from erd_lsp.analysis.incremental import Previous

                    # what the next diagnostics can start from (not the old unit itself:
                    # it would keep the old text and model alive)
                    s, e = edit.range.start, edit.range.end
                    lines = "\n" in edit.new_text or "\n" in self._text[s:e]
                    unit._prev = Previous(findings, old.names(), edit, p.window, old.parse.items, lines)
                doc.__dict__["units"] = [unit]
                return doc
            return doc
        cache = {(u.block.text, u.block.browser_trim): u.parse for u in old_units}
        units = []
        for b in doc.blocks:
            if not _is_er_candidate(b, doc.kind):
                continue
            p = cache.get((b.text, b.browser_trim))
            if p is None:
                p = parse_diagram(b.text, browser_trim=b.browser_trim)
            units.append(DiagramUnit(doc, len(units), b, p))
        doc.__dict__["units"] = units
        return doc

    def release(self) -> None:
        """Drop what this document computed. Its diagrams point back at it, so a document
        and its diagrams form a cycle that only Python's (slow, on a large heap) cyclic
        collector would free; whoever replaces a document (the server, on every edit)
        calls this so it is freed at once."""
        for key in ("units", "_diagnostic_cache", "line_index", "blocks"):
            self.__dict__.pop(key, None)

    def locate(self, offset: int, strict: bool = False) -> Optional[tuple["DiagramUnit", int]]:
        """The diagram under host ``offset`` and the diagram offset there; None outside every
        diagram. ``strict``: also None on host text the diagram does not contain (a ``> ``
        prefix), where the nearest diagram offset would map back elsewhere."""
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= len(self._text):
            return None
        unit = self.unit_at(offset)
        if unit is None:
            return None
        d = unit.from_host(offset)
        if d is None or (strict and unit.to_host_offset(d) != offset):
            return None
        return unit, d

    @property
    def ignored_blocks(self) -> list[Block]:
        """Mermaid blocks of other diagram types (flowchart, sequenceDiagram, ...)."""
        return [b for b in self.blocks if not _is_er_candidate(b, self.kind)]

    def unit_at(self, offset: int) -> Optional[DiagramUnit]:
        """The diagram whose block contains the host ``offset``."""
        for u in self.units:
            b = u.block
            if b.info == "" and self.kind == "mermaid":
                return u
            if b.content_start <= offset <= max(b.end, b.content_start + len(b.body)):
                return u
        return None

    def diagnostics(self, settings: Settings = DEFAULT_SETTINGS) -> list[Diagnostic]:
        cache = self.__dict__.setdefault("_diagnostic_cache", {})
        found = cache.get(settings)
        if found is None:
            found = cache[settings] = self._diagnostics(settings)
        return list(found)

    def _diagnostics(self, settings: Settings) -> list[Diagnostic]:
        from erd_lsp.analysis.suppress import apply_suppressions

        out: list[Diagnostic] = []
        for u in self.units:
            # `%% erd-lsp: ignore ...` comments silence diagnostics; unused ones are W900
            out.extend(apply_suppressions(u, self.unit_diagnostics(u, settings), settings))
        out.sort(key=lambda d: (d.range.start, d.range.end, d.code))
        return out

    def unit_diagnostics(self, unit: DiagramUnit, settings: Settings = DEFAULT_SETTINGS) -> list[Diagnostic]:
        """The rules' findings on one diagram (host ranges, before suppressions): derived
        from the previous version's after an edit that changed only attributes
        (analysis/incremental.py), else every enabled rule run on the model."""
        findings = unit.__dict__.setdefault("_findings", {})
        found = findings.get(settings)
        if found is not None:
            return list(found)
        rules = [r for r in RULES if settings.enabled(r.CODE)]
        prev = unit.__dict__.pop("_prev", None)
        result = None
        if prev is not None:
            from erd_lsp.analysis import incremental

            result = incremental.update(prev, unit, settings, rules, lambda rule, u, d, n, call="check_names": _run_rule(rule, u, settings, d, n, call))
        if result is not None:
            found, unit._names = result
        else:
            found = []
            for rule in rules:
                found.extend(_run_rule(rule, unit, settings, None))
        findings[settings] = found
        return list(found)

    def prepare_for_edits(self) -> None:
        """Compute now what the first edit would otherwise pay for: how far each item's
        parse looked (the reparse needs it) and, once the model exists, the entity index
        of the incremental diagnostics, the line index. The server calls it right after
        opening a file."""
        self.line_index
        for u in self.units:
            u.parse.extents
            u.names()


def _run_rule(rule, unit: DiagramUnit, settings: Settings, diagram: Optional[Diagram], names=None, call="check_names"):
    """One rule's findings on a diagram (on ``diagram`` when given: a partial model; on the
    names summary when ``names`` is given: see :func:`incremental.update`), with the
    configured severity, in host ranges. A rule that raises reports it. (``call="stale"``
    returns what the rule's ``stale`` says instead, every name when it raises.)"""
    sev = settings.severity_of(rule.CODE, rule.SEVERITY)
    if call == "stale":
        ctx = _RuleContext(unit, None, names)
        try:
            return set(rule.stale(ctx))
        except Exception:
            return set(names[0].rels)
    try:
        ctx = _RuleContext(unit, diagram, names)
        found = list(rule.check(ctx) if names is None else rule.check_names(ctx))
    except Exception as e:  # a rule bug must not take the document down
        found = [Diagnostic("E000", f"internal error in rule {rule.CODE}: {e!r}", TextRange(0, 0), Severity.ERROR)]
    out = []
    for d in found:
        if sev != d.severity:
            d = Diagnostic(d.code, d.message, d.range, sev, d.related, d.fixes, d.tags, d.diagram, d.subject)
        out.append(d.with_map(unit.to_host, unit.index))
    return out


def _is_er_candidate(b: Block, kind: str) -> bool:
    """ER diagrams, and blocks that look like a misspelt ER header (``ERDIAGRAM``), which
    get a header error rather than being ignored. Other Mermaid types are ignored; a
    ``.mmd`` file that no diagram type claims is checked (and told what is wrong)."""
    if b.is_er:
        return True
    first = _first_word(b.text)
    if first.lower().startswith("erdiagram"):
        return True
    if kind == "mermaid":
        return bool(first) and first not in OTHER_DIAGRAM_KEYWORDS and not first.startswith(("C4", "%%"))
    return False


def _first_word(text: str) -> str:
    import re

    t = text
    # skip front matter, directives and comment lines roughly; exact detection is the parser's
    m = re.match(r"\s*---[ \t]*\r?\n.*?\r?\n[ \t]*---[ \t]*(?:\r?\n|$)", t, re.S)
    if m:
        t = t[m.end() :]
    t = re.sub(r"%%\{.*?\}%%", "", t, flags=re.S)
    for line in t.splitlines():
        s = line.strip()
        if not s or s.startswith("%%"):
            continue
        return s.split()[0]
    return ""
