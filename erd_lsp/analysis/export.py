"""The model as JSON-ready data (``erd-lsp export --format json``).

The shape is documented in the README; strings are what Mermaid records, ``alias`` and
``comment`` are ``None`` when absent, keys are as written.
"""

from __future__ import annotations

from erd_lsp.model import Diagram


def diagram_model(diagram: Diagram) -> dict:
    """Entities and relationships of one diagram."""
    return {
        "entities": [
            {
                "name": e.name,
                "alias": e.alias,
                "implicit": e.implicit,
                "attributes": [
                    {"type": a.type, "name": a.name, "keys": list(a.keys), "comment": a.comment}
                    for a in e.attributes
                ],
            }
            for e in diagram.entities.values()
        ],
        "relationships": [
            {
                "left": r.left,
                "right": r.right,
                "leftCardinality": r.left_cardinality,
                "rightCardinality": r.right_cardinality,
                "identifying": r.identifying,
                "label": r.label,
            }
            for r in diagram.relationships
        ],
    }


def diagram_extras(diagram: Diagram) -> dict:
    """What else Mermaid records: direction, accessibility text, classes, styles, subgraphs."""
    return {
        "direction": diagram.direction,
        "accTitle": diagram.acc_title,
        "accDescr": diagram.acc_descr,
        "classes": {n: {"styles": list(c.styles), "textStyles": list(c.text_styles)} for n, c in diagram.classes.items()},
        "entityClasses": {e.name: list(e.classes) for e in diagram.entities.values() if e.classes},
        "entityStyles": {e.name: list(e.styles) for e in diagram.entities.values() if e.styles},
        "subgraphs": [{"id": s.id, "title": s.title, "nodes": list(s.nodes), "dir": s.direction} for s in diagram.subgraphs],
    }
