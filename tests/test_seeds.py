"""The seed documents (real schema docs) as fixtures, with their expected diagnostics."""

from __future__ import annotations

from collections import Counter

import pytest

from erd_lsp.analysis import Document
from support import DATA, SEEDS, snapshot

BY_ID = {p.name[:3]: p for p in SEEDS}


def doc(seed: str) -> Document:
    p = BY_ID[seed]
    return Document(p.read_text(encoding="utf-8"), "markdown", p.name)


def shape(d: Document) -> list[tuple]:
    return [
        (u.first_line + 1, len(u.diagram.entities), sum(len(e.attributes) for e in u.diagram.entities.values()), len(u.diagram.relationships))
        for u in d.units
    ]


@pytest.mark.parametrize("path", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_seed_diagnostics_snapshot(path):
    d = Document(path.read_text(encoding="utf-8"), "markdown", path.name)
    lines = []
    for g in d.diagnostics():
        line, col = d.line_index.line_col(g.range.start)
        lines.append(f"{line + 1}:{col + 1}: {g.code} {g.message}")
    snapshot(DATA / "seeds" / (path.stem + ".diagnostics"), "\n".join(lines) + "\n")


def test_000_model_and_duplicates():
    d = doc("000")
    assert shape(d) == [(7, 7, 143, 8)]
    m = d.units[0].diagram
    assert [(n, len(e.attributes)) for n, e in m.entities.items()] == [
        ("channel", 24), ("message", 27), ("contact", 14), ("flow", 20), ("run", 23), ("broadcast", 17), ("flowstart", 18)
    ]
    # written `name type`, so Mermaid records type=id, name=serial4 ...
    a = m.entities["channel"].attributes[0]
    assert (a.type, a.name) == ("id", "serial4")
    codes = Counter(g.code for g in d.diagnostics())
    assert set(codes) == {"W102"} and codes["W102"] > 50
    assert not d.units[0].parse.errors


def test_001_clean():
    d = doc("001")
    assert shape(d) == [(4, 8, 72, 8)]
    assert d.diagnostics() == []
    assert d.units[0].diagram.title == "claiflow entities"


def test_002_has_no_diagram():
    d = doc("002")
    assert d.units == [] and d.diagnostics() == []


def test_003_two_conflicts_and_both_sides_modelled():
    d = doc("003")
    diags = d.diagnostics()
    assert [(d.line_index.line_of(g.range.start) + 1, g.code) for g in diags] == [(80, "E002"), (114, "E002")]
    m = d.units[0].diagram
    # HEAD's `run` entity and relationships, and main's side, are all in the model
    assert "run" in m.entities and m.entities["run"].attributes
    assert len(m.entities) == 10
    assert [(r.left, r.right) for r in m.relationships][:4] == [("run", "context"), ("run", "logs"), ("run", "message_ins"), ("run", "message_res")]
    assert len(m.relationships) == 7


def test_004_five_er_diagrams_flowcharts_ignored():
    d = doc("004")
    assert shape(d) == [(8, 9, 50, 17), (138, 6, 31, 7), (200, 7, 24, 6), (257, 7, 29, 6), (319, 4, 18, 4)]
    assert len(d.ignored_blocks) == 2
    assert d.diagnostics() == []
