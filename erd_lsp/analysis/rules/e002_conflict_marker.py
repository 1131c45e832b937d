"""An unresolved Git merge conflict.

## What it does
Finds Git conflict markers (`<<<<<<<`, `|||||||`, `=======`, `>>>>>>>` at the start of a
line) and reports each conflict region once, naming both sides. The statements on both
sides are still parsed and modelled, so navigation and the other checks keep working
while the conflict is open.

## Why is this bad?
Mermaid reads the markers as text and rejects the whole diagram.

## Example
```mermaid
erDiagram
<<<<<<< HEAD
    run ||--o{ logs : run_id
=======
>>>>>>> main
```
Use instead: keep one side (or both) and delete the three marker lines.
"""

from __future__ import annotations

from erd_lsp.analysis.diagnostics import Diagnostic, Fix, Related, Severity
from erd_lsp.syntax.parser import conflict_regions
from erd_lsp.text import TextEdit, TextRange

CODE = "E002"
NAME = "conflict-marker"
SEVERITY = Severity.ERROR
SCOPE = "syntax"  # reads only the parse


def _line_span(src, s, e):
    """The marker line including its line break."""
    end = e
    if src.startswith("\r\n", end):
        end += 2
    elif end < len(src) and src[end] in "\r\n":
        end += 1
    return s, end


def check(ctx):
    parse = ctx.parse
    src = parse.src
    by_start = {r[0][0]: r for r in conflict_regions(parse) if r[2] is not None}
    for e in parse.errors:
        if e.code != CODE:
            continue
        related = []
        fixes = []
        region = by_start.get(e.start)
        if region is not None:
            (s0, e0), middles, (s1, e1) = region
            sep = next((m for m in middles if src.startswith("=======", m[0])), None)
            base = next((m for m in middles if src.startswith("|||||||", m[0])), None)
            related.append(Related(TextRange(s0, e0), "ours starts here"))
            if sep is not None:
                related.append(Related(TextRange(*sep), "theirs starts here"))
            related.append(Related(TextRange(s1, e1), "the conflict ends here"))
            if sep is not None:
                a0, a1 = _line_span(src, s0, e0)
                b0, b1 = _line_span(src, s1, e1)
                sep0, sep1 = _line_span(src, *sep)
                ours_end = base[0] if base is not None else sep0
                keep_ours = (TextEdit(TextRange(a0, a1), ""), TextEdit(TextRange(ours_end, b1), ""))
                keep_theirs = (TextEdit(TextRange(a0, sep1), ""), TextEdit(TextRange(b0, b1), ""))
                both = [TextEdit(TextRange(a0, a1), "")]
                if base is not None:
                    bs0, _ = _line_span(src, *base)
                    both.append(TextEdit(TextRange(bs0, sep1), ""))
                else:
                    both.append(TextEdit(TextRange(sep0, sep1), ""))
                both.append(TextEdit(TextRange(b0, b1), ""))
                fixes = [
                    Fix("Keep ours (the first side)", keep_ours),
                    Fix("Keep theirs (the second side)", keep_theirs),
                    Fix("Keep both sides", tuple(both)),
                ]
        yield Diagnostic(CODE, e.message, TextRange(e.start, e.end), SEVERITY, tuple(related), tuple(fixes))
