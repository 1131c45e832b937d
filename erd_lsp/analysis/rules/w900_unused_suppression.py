"""A suppression comment that silences nothing.

## What it does
Reports a `%% erd-lsp: ignore CODE[,CODE]` or `%% erd-lsp: ignore-file CODE[,CODE]`
comment, or one code in it, that silences no diagnostic: the next statement (or, for
`ignore-file`, the diagram) has no diagnostic with that code, the rule is not enabled,
the code is unknown, no statement follows the comment, or the comment is not a
well-formed suppression (`%% erd-lsp: ignor W102`, a suppression without codes).

`ignore` covers the next statement, its attribute block included; inside an attribute
block it covers the next attribute. Codes are separated by commas or spaces, and a reason
may follow `--`: `%% erd-lsp: ignore W101 -- created by the ORM`.

This diagnostic is produced by the suppression pass, after the other rules have run
(it needs to know what they reported), so `check` below yields nothing. Its fix removes
the unused code, or the whole comment line, and is safe: Mermaid deletes `%%` comment
lines before it reads the diagram.

## Why is this bad?
A stale suppression hides the next problem that appears on that statement, and a
misspelt one (`W120` for `W102`) silences nothing while looking as if it did.

## Example
```mermaid
erDiagram
    %% erd-lsp: ignore W102
    CUSTOMER {
        string name
    }
```
Use instead:
```mermaid
erDiagram
    CUSTOMER {
        string name
    }
```
"""

from __future__ import annotations

from erd_lsp.analysis.diagnostics import Severity

CODE = "W900"
NAME = "unused-suppression"
SEVERITY = Severity.WARNING
SCOPE = "syntax"  # its findings come from apply_suppressions, after the other rules


def check(ctx):
    """Nothing: see :func:`erd_lsp.analysis.suppress.apply_suppressions`."""
    return ()
