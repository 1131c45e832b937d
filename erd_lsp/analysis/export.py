"""The model as JSON-ready data (``erd-lsp export --format json``).

The shape is documented in the README; strings are what Mermaid records, ``alias`` and
``comment`` are ``None`` when absent, keys are as written.
"""

from __future__ import annotations

from erd_lsp.model import Diagram, attribute_facts


def model_facts(diagram: Diagram) -> tuple:
    """``(entities, relationships)`` of one diagram as tuples, in Mermaid's order: what
    :func:`diagram_model` writes, in a form that compares cheaply (the formatter compares
    the models before and after)."""
    entities = [(e.name, e.alias, e.implicit, attribute_facts(e)) for e in diagram.entities.values()]
    rels = [(r.left, r.right, r.left_cardinality, r.right_cardinality, r.identifying, r.label) for r in diagram.relationships]
    return entities, rels


def diagram_model(diagram: Diagram) -> dict:
    """Entities and relationships of one diagram."""
    entities, rels = model_facts(diagram)
    return {
        "entities": [
            {
                "name": name,
                "alias": alias,
                "implicit": implicit,
                "attributes": [{"type": t, "name": n, "keys": list(k), "comment": c} for t, n, k, c in attrs],
            }
            for name, alias, implicit, attrs in entities
        ],
        "relationships": [
            {
                "left": left,
                "right": right,
                "leftCardinality": lc,
                "rightCardinality": rc,
                "identifying": identifying,
                "label": label,
            }
            for left, right, lc, rc, identifying, label in rels
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
