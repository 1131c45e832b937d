"""Rendering for the command line (``erd-lsp --check``, ``format``, ``export``, ``rule``).

Pure functions from analysis results to strings or JSON-ready data: no I/O, and no
import of the language-server libraries. Positions are printed 1-based, with columns
counted in characters (code points), as ruff and most compilers do.

Output formats of ``--check`` (``--output-format``): ``full`` (source line and carets),
``concise`` (one line each), ``json`` (:func:`diagnostic_record`, documented in the
README), ``github`` (workflow commands that become annotations), ``sarif`` (SARIF 2.1.0
with the rule catalogue) and ``junit`` (JUnit XML).
"""

from __future__ import annotations

import inspect
import json
import re
import unicodedata
from collections import Counter
from typing import Iterable, Optional, Sequence
from urllib.parse import quote

from erd_lsp import __version__
from erd_lsp.analysis import Diagnostic, Document, Severity
from erd_lsp.analysis.export import diagram_model
from erd_lsp.analysis.fixes import applicable_fix
from erd_lsp.text import TextRange

__all__ = [
    "OUTPUT_FORMATS",
    "render_diagnostics",
    "render_full",
    "render_concise",
    "render_summary",
    "render_rule",
    "render_rule_table",
    "render_rule_table_markdown",
    "render_rules_json",
    "diagnostic_record",
    "render_json",
    "render_github",
    "render_sarif",
    "sarif_log",
    "render_junit",
    "render_statistics",
    "statistics",
    "render_fix_hint",
    "export_file",
    "plural",
]

OUTPUT_FORMATS = ("full", "concise", "json", "github", "sarif", "junit")
#: formats printed file by file with a summary line; the others are one document
TEXT_FORMATS = ("full", "concise")

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


def _mark(d: Diagnostic, unsafe_fixes: bool) -> str:
    """``[*] `` before the message of a diagnostic that ``--fix`` would fix (as ruff)."""
    return "[*] " if applicable_fix(d, unsafe_fixes) is not None else ""


def render_full(path: str, document: Document, diagnostics: Sequence[Diagnostic], *, unsafe_fixes: bool = False) -> str:
    """ruff's "full" format: a header line, the source line with carets, help and related
    lines; a blank line after each diagnostic."""
    out: list[str] = []
    for d in diagnostics:
        line, col = _position(document, d.range.start)
        out.append(f"{path}:{line}:{col}: {d.code} {_mark(d, unsafe_fixes)}{_one_line(d.message)}")
        gutter, lines = _snippet(document, d.range, d.code)
        out.extend(lines)
        if d.fixes:
            out.append(f"{gutter} = help: {_one_line(d.fixes[0].title)}")
        for r in d.related:
            rl, rc = _position(document, r.range.start)
            out.append(f"{gutter} = related: {path}:{rl}:{rc}: {_one_line(r.message)}")
        out.append("")
    return "".join(s + "\n" for s in out)


def render_concise(path: str, document: Document, diagnostics: Sequence[Diagnostic], *, unsafe_fixes: bool = False) -> str:
    """One line per diagnostic: ``path:line:col: CODE message``."""
    out = []
    for d in diagnostics:
        line, col = _position(document, d.range.start)
        out.append(f"{path}:{line}:{col}: {d.code} {_mark(d, unsafe_fixes)}{_one_line(d.message)}\n")
    return "".join(out)


def render_diagnostics(fmt: str, path: str, document: Document, diagnostics: Sequence[Diagnostic], *, unsafe_fixes: bool = False) -> str:
    """The text of one file's diagnostics in a file-by-file format (full, concise,
    github); the document formats (json, sarif, junit) are built from records."""
    if fmt == "concise":
        return render_concise(path, document, diagnostics, unsafe_fixes=unsafe_fixes)
    if fmt == "github":
        return render_github([diagnostic_record(path, document, d, unsafe_fixes=unsafe_fixes) for d in diagnostics])
    return render_full(path, document, diagnostics, unsafe_fixes=unsafe_fixes)


def render_summary(
    *,
    errors: int,
    warnings: int,
    others: int,
    problem_files: int,
    diagrams: int,
    files: int,
    unreadable: int,
    fixed: int = 0,
) -> str:
    """The last line of ``--check`` (``fixed``: problems ``--fix`` fixed)."""
    text = _summary(errors, warnings, others, problem_files, diagrams, files, unreadable)
    if fixed:
        return f"Fixed {plural(fixed, 'problem')}. {text}"
    return text


def _summary(errors, warnings, others, problem_files, diagrams, files, unreadable) -> str:
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


def render_fix_hint(safe: int, hidden: int, unsafe_fixes: bool = False) -> str:
    """The line after the summary that says what ``--fix`` could do (as ruff's)."""
    if safe and hidden:
        return (
            f"[*] {safe} fixable with the `--fix` option "
            f"({plural(hidden, 'hidden fix')} can be enabled with the `--unsafe-fixes` option)."
        ).replace("hidden fixs", "hidden fixes")
    if safe:
        return f"[*] {safe} fixable with the `--fix` option."
    if hidden:
        return f"No fixes available ({plural(hidden, 'hidden fix')} can be enabled with the `--unsafe-fixes` option).".replace(
            "hidden fixs", "hidden fixes"
        )
    return ""


# ---------------------------------------------------------------------------
# records: one diagnostic as JSON-ready data (json, github, sarif, junit, statistics)


def _loc(document: Document, offset: int) -> dict:
    line, col = _position(document, offset)
    return {"line": line, "column": col}


def diagnostic_record(path: str, document: Document, d: Diagnostic, *, unsafe_fixes: bool = False) -> dict:
    """``--output-format json``: one diagnostic. Positions are 1-based lines and columns
    (code points) in the host file; ``end`` is exclusive. ``fixable``: ``--fix`` (with
    ``--unsafe-fixes`` when it was given) would fix it."""
    from erd_lsp.analysis.rules import BY_CODE

    rule = BY_CODE.get(d.code)
    return {
        "path": path,
        "code": d.code,
        "rule": rule.NAME if rule is not None else None,
        "severity": d.severity.label,
        "message": _one_line(d.message),
        "start": _loc(document, d.range.start),
        "end": _loc(document, d.range.end),
        "diagram": d.diagram,
        "fixable": applicable_fix(d, unsafe_fixes) is not None,
        "fixes": [
            {
                "title": f.title,
                "safe": f.safe,
                "edits": [
                    {"start": _loc(document, e.range.start), "end": _loc(document, e.range.end), "newText": e.new_text}
                    for e in f.edits
                ],
            }
            for f in d.fixes
        ],
        "related": [
            {"start": _loc(document, r.range.start), "end": _loc(document, r.range.end), "message": _one_line(r.message)}
            for r in d.related
        ],
        "tags": list(d.tags),
    }


def render_json(records: Sequence[dict]) -> str:
    """``--output-format json``: an array of :func:`diagnostic_record` objects, sorted
    by path and position."""
    return json.dumps(list(records), ensure_ascii=False, indent=2) + "\n"


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


_GH_LEVEL = {"error": "error", "warning": "warning", "info": "notice", "hint": "notice"}


def render_github(records: Sequence[dict]) -> str:
    """``--output-format github``: GitHub Actions workflow commands, which the runner
    turns into annotations on the pull request's files."""
    out = []
    for r in records:
        s, e = r["start"], r["end"]
        props = ",".join(
            [
                f"title={_gh_escape('erd-lsp (' + r['code'] + ')', True)}",
                f"file={_gh_escape(r['path'], True)}",
                f"line={s['line']}",
                f"col={s['column']}",
                f"endLine={e['line']}",
                f"endColumn={e['column']}",
            ]
        )
        text = f"{r['path']}:{s['line']}:{s['column']}: {r['code']} {r['message']}"
        out.append(f"::{_GH_LEVEL.get(r['severity'], 'warning')} {props}::{_gh_escape(text)}\n")
    return "".join(out)


# -- SARIF -----------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "hint": "note"}


def _artifact_uri(path: str) -> str:
    p = path.replace("\\", "/")
    if re.match(r"^[A-Za-z]:/", p):
        return "file:///" + quote(p)
    if p.startswith("/"):
        return "file://" + quote(p)
    if p.startswith("./"):
        p = p[2:]
    return quote(p)


def _region(start: dict, end: dict) -> dict:
    return {"startLine": start["line"], "startColumn": start["column"], "endLine": end["line"], "endColumn": end["column"]}


def _sarif_rule(rule) -> dict:
    doc = _doc(rule)
    return {
        "id": rule.CODE,
        "name": rule.NAME,
        "shortDescription": {"text": _summary_line(rule)},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": _SARIF_LEVEL.get(_severity_label(rule), "warning")},
        "properties": {"tags": [rule.NAME]},
    }


def sarif_log(records: Sequence[dict], rules: Sequence, *, files: Sequence[str] = ()) -> dict:
    """``--output-format sarif``: a SARIF 2.1.0 log with one run, the rule catalogue in
    ``tool.driver.rules`` and one result per diagnostic (with its fixes)."""
    index = {r.CODE: i for i, r in enumerate(rules)}
    results = []
    for rec in records:
        location = {
            "physicalLocation": {
                "artifactLocation": {"uri": _artifact_uri(rec["path"])},
                "region": _region(rec["start"], rec["end"]),
            }
        }
        result = {
            "ruleId": rec["code"],
            "level": _SARIF_LEVEL.get(rec["severity"], "warning"),
            "message": {"text": rec["message"]},
            "locations": [location],
        }
        if rec["code"] in index:
            result["ruleIndex"] = index[rec["code"]]
        if rec["related"]:
            result["relatedLocations"] = [
                {
                    "id": i,
                    "physicalLocation": {
                        "artifactLocation": {"uri": _artifact_uri(rec["path"])},
                        "region": _region(r["start"], r["end"]),
                    },
                    "message": {"text": r["message"]},
                }
                for i, r in enumerate(rec["related"])
            ]
        fixes = [f for f in rec["fixes"] if f["edits"]]
        if fixes:
            result["fixes"] = [
                {
                    "description": {"text": f["title"]},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": _artifact_uri(rec["path"])},
                            "replacements": [
                                {"deletedRegion": _region(e["start"], e["end"]), "insertedContent": {"text": e["newText"]}}
                                for e in f["edits"]
                            ],
                        }
                    ],
                }
                for f in fixes
            ]
        results.append(result)
    run = {
        "tool": {
            "driver": {
                "name": "erd-lsp",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_sarif_rule(r) for r in rules],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if files:
        run["artifacts"] = [{"location": {"uri": _artifact_uri(f)}} for f in files]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(records: Sequence[dict], rules: Sequence, *, files: Sequence[str] = ()) -> str:
    return json.dumps(sarif_log(records, rules, files=files), ensure_ascii=False, indent=2) + "\n"


# -- JUnit -----------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str, attr: bool = True) -> str:
    text = _XML_INVALID.sub("\ufffd", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attr:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return text


def render_junit(files: Sequence[tuple[str, Sequence[dict]]]) -> str:
    """``--output-format junit``: one ``testsuite`` per checked file, one failing
    ``testcase`` per diagnostic, and one passing test case for a clean file."""
    total = sum(max(1, len(recs)) for _p, recs in files)
    failures = sum(len(recs) for _p, recs in files)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="erd-lsp" tests="{total}" failures="{failures}" errors="0">',
    ]
    for path, recs in files:
        p = _xml(path)
        out.append(f'  <testsuite name="{p}" tests="{max(1, len(recs))}" failures="{len(recs)}" errors="0" skipped="0">')
        if not recs:
            out.append(f'    <testcase name="erd-lsp" classname="{p}" file="{p}"/>')
        for r in recs:
            s = r["start"]
            name = _xml(f"{r['code']} {r['rule'] or ''} at line {s['line']}, column {s['column']}".replace("  ", " "))
            out.append(f'    <testcase name="{name}" classname="{p}" file="{p}" line="{s["line"]}">')
            body = f"{r['path']}:{s['line']}:{s['column']}: {r['code']} {r['message']}"
            out.append(
                f'      <failure message="{_xml(r["message"])}" type="{_xml(r["code"])}">{_xml(body, attr=False)}</failure>'
            )
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


# -- statistics ------------------------------------------------------------------------


def statistics(records: Iterable[dict]) -> list[dict]:
    """``--statistics``: diagnostics counted by code, most frequent first."""
    from erd_lsp.analysis.rules import BY_CODE

    counts: Counter = Counter()
    fixable: Counter = Counter()
    for r in records:
        counts[r["code"]] += 1
        if r["fixable"]:
            fixable[r["code"]] += 1
    rows = []
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = BY_CODE.get(code)
        rows.append({"code": code, "rule": rule.NAME if rule else None, "count": n, "fixable": fixable[code]})
    return rows


def render_statistics(records: Iterable[dict], fmt: str = "full") -> str:
    rows = statistics(records)
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if not rows:
        return ""
    width = max(len(str(r["count"])) for r in rows)
    out = []
    for r in rows:
        mark = "[*]" if r["fixable"] == r["count"] else ("[-]" if r["fixable"] else "   ")
        out.append(f"{str(r['count']).rjust(width)}  {r['code']}  {mark} {r['rule'] or ''}".rstrip())
    return "\n".join(out) + "\n"


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


RULE_TABLE_HEADER = "| code | name | default | what it flags |\n| --- | --- | --- | --- |\n"


def render_rule_table_markdown(rules: Iterable) -> str:
    """``erd-lsp rule --all --format markdown``: the README's rule table, generated from
    the rules' docstrings (the first line of each)."""
    rows = []
    for r in rules:
        summary = _summary_line(r).rstrip(".")
        if not (len(summary) > 1 and summary[1].isupper()):  # keep acronyms (`ER ...`)
            summary = summary[:1].lower() + summary[1:]
        rows.append(f"| {r.CODE} | {r.NAME} | {_severity_label(r)} | {summary.replace('|', chr(92) + '|')} |")
    return RULE_TABLE_HEADER + "\n".join(rows) + "\n"


def render_rules_json(rules: Iterable) -> str:
    """``erd-lsp rule --all --format json``: code, name, default severity, summary and
    documentation of every rule."""
    data = [
        {"code": r.CODE, "name": r.NAME, "severity": _severity_label(r), "summary": _summary_line(r), "documentation": _doc(r)}
        for r in rules
    ]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


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
