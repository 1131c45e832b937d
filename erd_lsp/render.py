"""Text and JSON rendering for the command line (``erd-lsp --check``, ``export``, ``rule``).

Pure functions from analysis results to strings or JSON-ready data: no I/O, and no
import of the language-server libraries. Positions are printed 1-based, with columns
counted in characters (code points), as ruff and most compilers do.
"""

from __future__ import annotations

import inspect
import unicodedata
from typing import Iterable, Sequence

from erd_lsp.analysis import Diagnostic, Document, Severity
from erd_lsp.analysis.export import diagram_model
from erd_lsp.text import TextRange

__all__ = [
    "OUTPUT_FORMATS",
    "render_diagnostics",
    "render_full",
    "render_concise",
    "render_summary",
    "render_rule",
    "render_rule_table",
    "export_file",
    "plural",
]

OUTPUT_FORMATS = ("full", "concise")

TAB_WIDTH = 4


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ---------------------------------------------------------------------------
# diagnostics


def _position(document: Document, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a host offset, the column in code points."""
    line, col = document.line_index.line_col(offset)
    return line + 1, col + 1


def _one_line(message: str) -> str:
    """Messages are single lines; should one ever contain a line break, keep it on one."""
    if "\n" in message or "\r" in message:
        return " ".join(part.strip() for part in message.splitlines() if part.strip())
    return message


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 1


def _display(text: str) -> str:
    """A source line as printed: tabs expanded, control characters made visible."""
    out = []
    col = 0
    for ch in text:
        if ch == "\t":
            n = TAB_WIDTH - col % TAB_WIDTH
            out.append(" " * n)
            col += n
            continue
        o = ord(ch)
        if o < 0x20:
            ch = chr(0x2400 + o)  # the Unicode "control pictures"
        elif o == 0x7F:
            ch = "\u2421"
        out.append(ch)
        col += _char_width(ch)
    return "".join(out)


def _width(text: str) -> int:
    """Display width of the start of a line (consistent with :func:`_display`)."""
    col = 0
    for ch in text:
        if ch == "\t":
            col += TAB_WIDTH - col % TAB_WIDTH
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            col += 1
        else:
            col += _char_width(ch)
    return col


def _snippet(document: Document, rng: TextRange, code: str) -> tuple[str, list[str]]:
    """The gutter number and the lines of the source excerpt with carets under ``rng``.

    The carets cover the range on its first line; a range that goes on to later lines is
    underlined to the end of its first line, and an empty range gets one caret.
    """
    index = document.line_index
    line, col = index.line_col(rng.start)
    span = index.line_range(line)
    text = document.text[span.start : span.end]
    start_col = min(col, len(text))
    end_col = min(max(rng.end - span.start, start_col), len(text))
    pad = _width(text[:start_col])
    carets = max(1, _width(text[:end_col]) - pad)
    number = str(line + 1)
    gutter = " " * len(number)
    lines = [
        f"{gutter} |",
        f"{number} | {_display(text)}".rstrip(),
        f"{gutter} | {' ' * pad}{'^' * carets} {code}",
        f"{gutter} |",
    ]
    return gutter, lines


def render_full(path: str, document: Document, diagnostics: Sequence[Diagnostic]) -> str:
    """ruff's "full" format: a header line, the source line with carets, help and related
    lines; a blank line after each diagnostic."""
    out: list[str] = []
    for d in diagnostics:
        line, col = _position(document, d.range.start)
        out.append(f"{path}:{line}:{col}: {d.code} {_one_line(d.message)}")
        gutter, lines = _snippet(document, d.range, d.code)
        out.extend(lines)
        if d.fixes:
            out.append(f"{gutter} = help: {_one_line(d.fixes[0].title)}")
        for r in d.related:
            rl, rc = _position(document, r.range.start)
            out.append(f"{gutter} = related: {path}:{rl}:{rc}: {_one_line(r.message)}")
        out.append("")
    return "".join(s + "\n" for s in out)


def render_concise(path: str, document: Document, diagnostics: Sequence[Diagnostic]) -> str:
    """One line per diagnostic: ``path:line:col: CODE message``."""
    out = []
    for d in diagnostics:
        line, col = _position(document, d.range.start)
        out.append(f"{path}:{line}:{col}: {d.code} {_one_line(d.message)}\n")
    return "".join(out)


def render_diagnostics(fmt: str, path: str, document: Document, diagnostics: Sequence[Diagnostic]) -> str:
    if fmt == "concise":
        return render_concise(path, document, diagnostics)
    return render_full(path, document, diagnostics)


def render_summary(
    *, errors: int, warnings: int, others: int, problem_files: int, diagrams: int, files: int, unreadable: int
) -> str:
    """The last line of ``--check``."""
    problems = errors + warnings + others
    checked = f"checked {plural(diagrams, 'diagram')} in {plural(files, 'file')}"
    if problems:
        counts = f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
        if others:
            counts += f", {others} info/hint"
        text = f"Found {plural(problems, 'problem')} ({counts}) in {plural(problem_files, 'file')}."
        if unreadable:
            text += f" {plural(unreadable, 'file')} could not be read."
        return text
    if unreadable:
        return f"No problems found ({checked}), but {plural(unreadable, 'file')} could not be read."
    return f"All checks passed! ({checked})"


# ---------------------------------------------------------------------------
# rules


def _doc(rule) -> str:
    return inspect.cleandoc(rule.__doc__ or "").strip()


def _summary_line(rule) -> str:
    doc = _doc(rule)
    return doc.splitlines()[0].strip() if doc else ""


def _severity_label(rule) -> str:
    sev = getattr(rule, "SEVERITY", None)
    return sev.label if isinstance(sev, Severity) else str(sev)


def render_rule(rule) -> str:
    """``erd-lsp rule CODE``: name, code, default severity and the documentation."""
    parts = [f"# {rule.NAME} ({rule.CODE})", "", f"Default severity: {_severity_label(rule)}"]
    doc = _doc(rule)
    if doc:
        parts += ["", doc]
    return "\n".join(parts) + "\n"


def render_rule_table(rules: Iterable) -> str:
    """``erd-lsp rule --all``: one row per rule."""
    rows = [("CODE", "NAME", "SEVERITY", "SUMMARY")]
    rows += [(r.CODE, r.NAME, _severity_label(r), _summary_line(r)) for r in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    out = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(3)] + [row[3]]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# export


def export_file(path: str, document: Document) -> dict:
    """``erd-lsp export --format json``: one file's ER diagrams, their syntax errors
    (1-based host positions) and their model."""
    diagrams = []
    for unit in document.units:
        errors = []
        for e in unit.parse.errors:
            r = unit.to_host(TextRange(e.start, e.end))
            line, col = _position(document, r.start)
            errors.append({"line": line, "column": col, "message": e.message})
        diagrams.append({"line": unit.first_line + 1, "errors": errors, **diagram_model(unit.diagram)})
    return {"path": path, "diagrams": diagrams}
