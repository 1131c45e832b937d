"""Text that Mermaid cannot parse.

## What it does
Reports every place where the diagram leaves Mermaid 12.3.0's grammar: a missing
cardinality, label or `}`, a keyword used as a name, a `%%` comment after a statement,
a `style` value with characters the style lexer rejects, and so on. Mermaid stops at
the first of these and draws nothing; erd-lsp reports each one with its exact place and
goes on checking the rest of the diagram.

## Why is this bad?
A diagram with a syntax error does not render at all: GitHub, GitLab and `mmdc` show an
error box instead.

## Example
```mermaid
erDiagram
    CUSTOMER ||--o{ ORDER
```
Use instead:
```mermaid
erDiagram
    CUSTOMER ||--o{ ORDER : places
```
"""

from __future__ import annotations

from erd_lsp.analysis.diagnostics import Diagnostic, Severity
from erd_lsp.text import TextRange

CODE = "E001"
NAME = "syntax-error"
SEVERITY = Severity.ERROR
SCOPE = "syntax"  # reads only the parse


def check(ctx):
    for e in ctx.parse.errors:
        if e.code == CODE:
            yield Diagnostic(CODE, e.message, TextRange(e.start, e.end), SEVERITY)
