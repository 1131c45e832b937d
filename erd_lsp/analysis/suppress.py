"""Suppression comments: ``%% erd-lsp: ignore CODE[,CODE]`` and ``ignore-file``.

A suppression is a whole-line Mermaid comment (Mermaid deletes it before parsing, so it
never changes the diagram)::

    %% erd-lsp: ignore W102             silences W102 on the next statement
    %% erd-lsp: ignore W101, W102 -- why  several codes (commas or spaces), and a reason after `--`
    %% erd-lsp: ignore-file E001        silences E001 in the whole diagram

"The next statement" is the next top-level statement after the comment (its whole range,
its attribute block included); inside an attribute block it is the next attribute. Codes
are exact rule codes (any case) or rule names (``duplicate-attribute``).

A suppression that silences nothing is itself reported, as ``W900`` (unused-suppression):
a code with no diagnostic to silence, a code of a rule that is not enabled, an unknown
code, a comment with nothing after it, or a comment that is not a well-formed
suppression. Its fix removes the unused code, or the whole comment line (safe: comments
never change the model).

Everything here is pure: comments are found in the preprocessor's record of removed text
(``parse.pre.removed``, kind ``comment``), which also holds comments that Mermaid's
lexer swallowed into a neighbouring token (after ``end``, inside a newline run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from erd_lsp.analysis.diagnostics import Diagnostic, Fix, Severity
from erd_lsp.syntax import kinds as K
from erd_lsp.syntax.preprocess import removed_where
from erd_lsp.syntax.tree import Node
from erd_lsp.text import TextEdit, TextRange

__all__ = ["CODE", "Suppression", "find_suppressions", "apply_suppressions"]

from erd_lsp.analysis.rules.w900_unused_suppression import CODE, NAME, SEVERITY  # noqa: E402

# `%% erd-lsp: ...` (the `%%` already located); the marker is case-insensitive
_MARKER = re.compile(r"%%[ \t]*erd-lsp[ \t]*:[ \t]*", re.IGNORECASE)
_DIRECTIVE = re.compile(r"(ignore-file|ignore)(?![\w-])", re.IGNORECASE)
_TOKEN = re.compile(r"[^\s,]+")
_REASON = re.compile(r"[ \t]+--(?:[ \t]|$)")


@dataclass(frozen=True)
class Suppression:
    """One suppression comment of a diagram (offsets in the diagram source)."""

    kind: str  # "ignore" | "ignore-file" | "invalid"
    comment: TextRange  # the comment's text, from `%%` to the end of its line
    line: TextRange  # the comment's whole line, line break included
    codes: tuple  # ((code or None when unknown, token text, TextRange), ...)
    target: Optional[TextRange]  # what `ignore` covers; the whole diagram for `ignore-file`
    problem: Optional[str] = None  # why an "invalid" comment is not a suppression


def _rules():
    from erd_lsp.analysis.rules import BY_CODE, BY_NAME

    return BY_CODE, BY_NAME


def _resolve(token: str) -> Optional[str]:
    by_code, by_name = _rules()
    t = token.strip()
    if t.upper() in by_code:
        return t.upper()
    r = by_name.get(t.lower())
    return r.CODE if r is not None else None


def _is_marked(src: str, r) -> bool:
    """Whether removed piece ``r`` is a comment with the ``%% erd-lsp:`` marker."""
    if r.kind != "comment":
        return False
    at = src.find("%%", r.start, r.end)
    return at >= 0 and _MARKER.match(src, at) is not None


def find_suppressions(parse) -> list[Suppression]:
    """Every ``%% erd-lsp:`` comment of a parsed diagram, in source order. Which removed
    comments have the marker is cached with the preprocessed text (and kept across the
    edits that leave comments alone), so a diagram without suppressions pays nothing."""
    pre = getattr(parse, "pre", None)
    if pre is None:
        return []
    marked = removed_where(pre, "erd-lsp-suppression", _is_marked)
    if not marked:
        return []
    src = parse.source
    out = []
    removed = pre.removed
    for i in marked:
        r = removed[i]
        at = src.find("%%", r.start, r.end)
        m = _MARKER.match(src, at)
        end = r.end
        while end > at and src[end - 1] in "\r\n":
            end -= 1
        text_end = end
        while text_end > at and src[text_end - 1] in " \t":
            text_end -= 1
        comment = TextRange(at, text_end)
        nl = src.rfind("\n", 0, at)
        ls = max(nl, src.rfind("\r", nl + 1, at)) + 1
        le = r.end if r.end > end else end
        line = TextRange(ls, le)
        out.append(_parse_comment(parse, src, m.end(), comment, line))
    return out


def _parse_comment(parse, src: str, pos: int, comment: TextRange, line: TextRange) -> Suppression:
    usage = "write `%% erd-lsp: ignore CODE[,CODE]` or `%% erd-lsp: ignore-file CODE[,CODE]`"
    m = _DIRECTIVE.match(src, pos, comment.end)
    if m is None:
        return Suppression("invalid", comment, line, (), None, f"malformed suppression comment: {usage}")
    kind = m.group(1).lower()
    body_start = m.end()
    body_end = comment.end
    rm = _REASON.search(src, body_start, body_end)
    if rm is not None:
        body_end = rm.start()
    codes = []
    for t in _TOKEN.finditer(src, body_start, body_end):
        codes.append((_resolve(t.group()), t.group(), TextRange(t.start(), t.end())))
    if not codes:
        return Suppression("invalid", comment, line, (), None, f"`erd-lsp: {kind}` names no rule code: {usage}")
    if kind == "ignore-file":
        target = TextRange(0, len(src))
    else:
        target = _next_statement(parse, comment.start)
    return Suppression(kind, comment, line, tuple(codes), target)


def _next_statement(parse, offset: int) -> Optional[TextRange]:
    """The statement a comment at ``offset`` precedes: the next attribute inside an
    attribute block, else the next top-level statement."""
    # the items before the one holding ``offset`` end at or before it
    i = parse.item_index_at(offset) if parse.items else 0
    for item, base in zip(parse.items.iter_from(i), parse.starts.iter_from(i)):
        if not isinstance(item, Node):
            continue
        start, end = base + item.start, base + item.end
        if end <= offset:
            continue
        if start <= offset:
            # the comment lies inside this item: in an attribute block?
            block = item.node(K.ATTR_BLOCK)
            if block is not None and base + block.start < offset < base + block.end:
                for a in block.nodes(K.ATTRIBUTE):
                    if base + a.start > offset:
                        return TextRange(base + a.start, base + a.end)
                return None
            continue  # swallowed into a token of this item (`end`, a newline run)
        if item.kind in (K.EOF_ITEM,):
            return None
        return TextRange(start, end)
    return None


def apply_suppressions(unit, diagnostics: list, settings) -> list:
    """The diagnostics of one diagram (host ranges) less the suppressed ones, plus a
    ``W900`` for each suppression (or code in it) that silenced nothing."""
    sups = find_suppressions(unit.parse)
    if not sups:
        return list(diagnostics)
    by_code, _ = _rules()
    to_host = unit.to_host
    targets = [to_host(s.target) if s.target is not None else None for s in sups]
    used: set = set()  # (suppression index, code)

    def silenced(d: Diagnostic) -> bool:
        hit = False
        for i, s in enumerate(sups):
            t = targets[i]
            if t is None:
                continue
            if not any(c == d.code for c, _t, _r in s.codes):
                continue
            if s.kind == "ignore-file" or t.start <= d.range.start < max(t.end, t.start + 1):
                used.add((i, d.code))
                hit = True
        return hit

    kept = [d for d in diagnostics if not silenced(d)]

    if not settings.enabled(CODE):
        return kept
    severity = settings.severity_of(CODE, SEVERITY)
    reports = []
    for i, s in enumerate(sups):
        reports.extend(_unused(unit, s, i, used, settings, severity, by_code))
    # a W900 can itself be silenced by an `ignore-file W900`
    final = []
    for d in reports:
        if not silenced(d):
            final.append(d)
    # suppressions that name W900 and silenced no W900
    for i, s in enumerate(sups):
        if s.kind == "invalid":
            continue
        for code, text, rng in s.codes:
            if code == CODE and (i, CODE) not in used and targets[i] is not None:
                final.append(_report(unit, s, rng, f"`{text}` in this suppression silences nothing: there is no {CODE} to silence", severity, _remove_code_fix(unit, s, rng)))
    return kept + final


def _unused(unit, s: Suppression, i: int, used: set, settings, severity, by_code) -> list:
    if s.kind == "invalid":
        return [_report(unit, s, s.comment, s.problem or "malformed suppression comment", severity, _remove_line_fix(unit, s))]
    where = "the diagram" if s.kind == "ignore-file" else "the next statement"
    if s.target is None:
        msg = f"`erd-lsp: {s.kind}` silences nothing: no statement follows it"
        return [_report(unit, s, s.comment, msg, severity, _remove_line_fix(unit, s))]
    problems = []  # (token range, message)
    for code, text, rng in s.codes:
        if code == CODE:
            continue  # judged after the W900s are known
        if code is None:
            known = ", ".join(sorted(by_code))
            problems.append((rng, f"unknown rule code `{text}` in a suppression comment (known codes: {known})"))
        elif not settings.enabled(code):
            problems.append((rng, f"`{text}` is not enabled, so this suppression has nothing to silence"))
        elif (i, code) not in used:
            problems.append((rng, f"unused suppression: {where} has no {code} diagnostic"))
    if not problems:
        return []
    others = [c for c in s.codes if c[0] != CODE]
    if len(problems) == len(s.codes) and len(problems) == len(others):
        if len(problems) == 1:
            rng, msg = problems[0]
            return [_report(unit, s, rng, msg, severity, _remove_line_fix(unit, s))]
        # every code is unused: one report for the comment, naming them
        names = ", ".join(f"`{t}`" for _c, t, _r in s.codes)
        msg = f"unused suppression: {names} silence nothing on {where}"
        return [_report(unit, s, s.comment, msg, severity, _remove_line_fix(unit, s))]
    return [_report(unit, s, rng, msg, severity, _remove_code_fix(unit, s, rng)) for rng, msg in problems]


def _report(unit, s: Suppression, rng: TextRange, message: str, severity, fix: Fix) -> Diagnostic:
    host = unit.to_host(rng)
    return Diagnostic(CODE, message, host, severity, fixes=(fix,), tags=("unnecessary",), diagram=unit.index)


def _remove_line_fix(unit, s: Suppression) -> Fix:
    """Delete the comment's whole host line (container prefix and line break included)."""
    doc = unit.document
    index = doc.line_index
    start = unit.to_host(TextRange(s.comment.start, s.comment.start)).start
    line = index.line_of(start)
    rng = index.line_range(line, with_eol=True)
    return Fix("Remove the suppression comment", (TextEdit(rng, ""),), safe=True)


def _remove_code_fix(unit, s: Suppression, rng: TextRange) -> Fix:
    """Delete one code of the list with its separator."""
    codes = [r for _c, _t, r in s.codes]
    k = codes.index(rng)
    if len(codes) == 1:
        return _remove_line_fix(unit, s)
    if k + 1 < len(codes):
        cut = TextRange(rng.start, codes[k + 1].start)
    else:
        cut = TextRange(codes[k - 1].end, rng.end)
    return Fix(f"Remove `{unit.source[rng.start:rng.end]}` from the suppression", (TextEdit(unit.to_host(cut), ""),), safe=True)
