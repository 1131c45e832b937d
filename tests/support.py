"""Test helpers: fixtures, annotations and snapshots."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from erd_lsp.model import Diagram

DATA = Path(__file__).resolve().parent / "data"
SEEDS = sorted((DATA / "seeds").glob("*.txt"))


def conformance_cases() -> list[dict]:
    return json.loads((DATA / "conformance.json").read_text(encoding="utf-8"))


def snapshot(path: Path, actual: str) -> None:
    """Compare ``actual`` with the snapshot file; write it when missing or when
    UPDATE_SNAPSHOTS=1."""
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.write_text(actual, encoding="utf-8", newline="")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"snapshot {path.name} differs (UPDATE_SNAPSHOTS=1 to accept)"


def oracle_view(d: Diagram) -> dict:
    """Our model in the naming the conformance cases' ``check`` subsets use."""
    return {
        "entityOrder": list(d.entities),
        "entities": {
            e.name: {
                "alias": e.alias or "",
                "attributes": [
                    {"type": a.type, "name": a.name, "keys": list(a.keys), "comment": a.comment or ""} for a in e.attributes
                ],
                "cssClasses": ["default", *e.classes],
                "cssStyles": list(e.styles),
            }
            for e in d.entities.values()
        },
        "relationships": [
            {
                "entityA": r.left,
                "entityB": r.right,
                "cardA": r.right_cardinality,
                "cardB": r.left_cardinality,
                "cardLeft": r.left_cardinality,
                "cardRight": r.right_cardinality,
                "identifying": r.identifying,
                "relType": "IDENTIFYING" if r.identifying else "NON_IDENTIFYING",
                "label": r.label,
            }
            for r in d.relationships
        ],
        "direction": d.direction,
        "accTitle": d.acc_title,
        "accDescr": d.acc_descr,
        "classes": {n: {"styles": list(c.styles), "textStyles": list(c.text_styles)} for n, c in d.classes.items()},
        "subgraphs": [
            {"id": s.id, "title": s.title, "nodes": list(s.nodes), "dir": s.direction, "classes": list(s.classes), "cssStyles": list(s.styles)}
            for s in d.subgraphs
        ],
    }


def subset_problems(actual, expected, path: str = "") -> list[str]:
    """Objects are matched by key, arrays element-wise with equal length."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        out = []
        for k, v in expected.items():
            out += subset_problems(actual.get(k), v, f"{path}.{k}" if path else k)
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r}"]
        out = []
        for i, (a, e) in enumerate(zip(actual, expected)):
            out += subset_problems(a, e, f"{path}[{i}]")
        return out
    return [] if actual == expected else [f"{path}: expected {expected!r}, got {actual!r}"]


# --- annotated fixtures ---------------------------------------------------------------
# A line `%% ^^^ CODE message` marks the columns of the previous non-annotation line;
# `%% @L:C-L:C CODE message` gives an explicit 1-based range.
_CARET = re.compile(r"^(\s*)%%(\s*)(\^+)\s+([A-Z]\d{3})\s+(.*)$")
_AT = re.compile(r"^\s*%%\s*@(\d+):(\d+)-(\d+):(\d+)\s+([A-Z]\d{3})\s+(.*)$")


def read_annotations(text: str) -> tuple[str, list[tuple[int, int, int, int, str, str]]]:
    """Strip annotation lines; return the clean text and the expected diagnostics as
    ``(line0, col0, end_line0, end_col0, code, message)`` over the clean text."""
    out_lines: list[str] = []
    expected = []
    for line in text.split("\n"):
        m = _CARET.match(line)
        if m and out_lines:
            col = len(m.group(1)) + 2 + len(m.group(2))
            n = len(out_lines) - 1
            expected.append((n, col, n, col + len(m.group(3)), m.group(4), m.group(5).strip()))
            continue
        m = _AT.match(line)
        if m:
            l1, c1, l2, c2 = (int(m.group(i)) for i in range(1, 5))
            expected.append((l1 - 1, c1 - 1, l2 - 1, c2 - 1, m.group(5), m.group(6).strip()))
            continue
        out_lines.append(line)
    return "\n".join(out_lines), expected


def cursor(text: str, marker: str = "$0") -> tuple[str, int]:
    """Remove the cursor marker from ``text``; return the text and the marker's offset."""
    i = text.index(marker)
    return text[:i] + text[i + len(marker) :], i


def spans(text: str, open_: str = "<<", close: str = ">>") -> tuple[str, list[tuple[int, int]]]:
    """Remove ``<<...>>`` markers; return the text and the marked ranges (in order)."""
    out = []
    ranges = []
    i = 0
    while True:
        a = text.find(open_, i)
        if a < 0:
            out.append(text[i:])
            break
        b = text.index(close, a)
        out.append(text[i:a])
        start = sum(len(x) for x in out)
        out.append(text[a + len(open_) : b])
        ranges.append((start, start + (b - a - len(open_))))
        i = b + len(close)
    return "".join(out), ranges
