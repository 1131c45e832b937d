"""An entity has two attributes with the same name.

## What it does
Reports an attribute whose name an earlier attribute of the same entity already uses,
in the same block or in another block of that entity (Mermaid merges repeated blocks).
The diagnostic points at the later attribute and links to the first one; the fix removes
the later line.

## Why is this bad?
Mermaid keeps both and draws the column twice. The second is usually a copy-paste slip,
or a sign that the attributes are written `name type` instead of `type name` (then the
"names" are the column types: `varchar`, `int4`, …).

## Example
```mermaid
erDiagram
    CUSTOMER {
        string name
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

from erd_lsp.analysis.diagnostics import Diagnostic, Fix, Related, Severity
from erd_lsp.model import attribute_names
from erd_lsp.text import TextEdit, TextRange

CODE = "W102"
NAME = "duplicate-attribute"
SEVERITY = Severity.WARNING
SCOPE = "entity"  # its findings about an entity depend only on that entity's statements


def check(ctx):
    src = ctx.parse.src
    for entity in ctx.diagram.entities.values():
        names = attribute_names(entity)
        if len(set(names)) == len(names):
            continue  # (the records of a fast block stay undecoded)
        first: dict[str, object] = {}
        for a in entity.attributes:
            prev = first.get(a.name)
            if prev is None:
                first[a.name] = a
                continue
            line = ctx.line_of(prev.name_range.start) + 1
            yield Diagnostic(
                CODE,
                f"duplicate attribute `{a.name}` in `{entity.name}` (first defined on line {line})",
                a.name_range,
                SEVERITY,
                related=(Related(prev.name_range, f"`{a.name}` first defined here"),),
                fixes=(Fix(f"Remove this `{a.name}`", (TextEdit(_line_of(src, a.range), ""),)),),
                subject=entity.name,
            )


def _line_of(src: str, r: TextRange) -> TextRange:
    """The attribute's whole line when it stands alone on it, else the attribute."""
    ls = src.rfind("\n", 0, r.start) + 1
    le = src.find("\n", r.end)
    le = len(src) if le < 0 else le
    if src[ls : r.start].strip() == "" and src[r.end : le].strip() == "":
        return TextRange(ls, min(le + 1, len(src)))
    return r
