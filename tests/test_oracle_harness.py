"""The Mermaid harness itself (tests/mermaid/dump.mjs + tests/mermaid_oracle.py) against
tests/data/conformance.json: Mermaid 12.3.0's verdict for all 294 cases, and each case's
`check` (partial model, in the reference oracle's naming) as a subset of dump.mjs's model.

If this passes, dump.mjs reports what Mermaid does, and it can serve as the reference in
the differential tests of erd_lsp's own parser.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

CASES_FILE = Path(__file__).resolve().parent / "data" / "conformance.json"
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
CHECKED = [c for c in CASES if c["check"] is not None]

# Keys that `check` uses but the export shape (hence dump.mjs) does not carry; dropped
# from the check before matching. Mermaid keeps css classes/styles on subgraphs too
# (`class g foo` / `style g ...` where g is a subgraph), the export only per entity.
NOT_IN_EXPORT = {("subgraphs", "classes"), ("subgraphs", "cssStyles")}


@pytest.fixture(scope="module")
def mermaid_results(mermaid_oracle) -> dict[str, dict[str, Any]]:
    started = time.perf_counter()
    results = mermaid_oracle.run([c["text"] for c in CASES])
    elapsed = time.perf_counter() - started
    print(f"\nMermaid oracle: {len(CASES)} conformance cases in {elapsed:.2f} s (one batch)")
    return {c["id"]: r for c, r in zip(CASES, results, strict=True)}


def to_oracle_naming(r: dict[str, Any]) -> dict[str, Any]:
    """dump.mjs's export-shaped model in the naming of mermaid-oracle (used by `check`)."""
    entity_classes = r["entityClasses"]
    entity_styles = r["entityStyles"]
    return {
        "entityOrder": [e["name"] for e in r["entities"]],
        "entities": {
            e["name"]: {
                "alias": e["alias"] or "",
                "attributes": [
                    {
                        "type": a["type"],
                        "name": a["name"],
                        "keys": a["keys"],
                        "comment": a["comment"] or "",
                    }
                    for a in e["attributes"]
                ],
                "cssClasses": ["default", *entity_classes.get(e["name"], [])],
                "cssStyles": entity_styles.get(e["name"], []),
            }
            for e in r["entities"]
        },
        "relationships": [
            {
                "entityA": rel["left"],
                "entityB": rel["right"],
                "cardA": rel["rightCardinality"],
                "cardB": rel["leftCardinality"],
                "cardLeft": rel["leftCardinality"],
                "cardRight": rel["rightCardinality"],
                "identifying": rel["identifying"],
                "relType": "IDENTIFYING" if rel["identifying"] else "NON_IDENTIFYING",
                "label": rel["label"],
            }
            for rel in r["relationships"]
        ],
        "direction": r["direction"],
        "accTitle": r["accTitle"],
        "accDescr": r["accDescr"],
        "classes": r["classes"],
        "subgraphs": r["subgraphs"],
    }


def without_unexported(check: dict[str, Any]) -> dict[str, Any]:
    check = dict(check)
    for top, key in NOT_IN_EXPORT:
        if top in check:
            check[top] = [{k: v for k, v in item.items() if k != key} for item in check[top]]
    return check


def subset_problems(actual: Any, expected: Any, path: str = "") -> list[str]:
    """`expected` as a subset of `actual`: objects by key, arrays element-wise with equal
    length, scalars equal (and of the same JSON type)."""
    where = path or "<root>"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                problems.append(f"{sub}: missing (have {sorted(actual)})")
            else:
                problems.extend(subset_problems(actual[key], value, sub))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected an array, got {actual!r}"]
        if len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {len(actual)}: {actual!r}"]
        problems = []
        for i, (a, e) in enumerate(zip(actual, expected)):
            problems.extend(subset_problems(a, e, f"{path}[{i}]"))
        return problems
    if type(actual) is not type(expected) or actual != expected:
        return [f"{where}: expected {expected!r}, got {actual!r}"]
    return []


def test_subset_matcher() -> None:
    assert subset_problems({"a": [1, {"b": 2, "c": 3}], "d": 4}, {"a": [1, {"b": 2}]}) == []
    assert subset_problems({"a": [1, 2]}, {"a": [1]})  # arrays: same length
    assert subset_problems({"a": True}, {"a": 1})  # no bool/int mixing
    assert subset_problems({"a": None}, {"a": ""})
    assert subset_problems({}, {"a": None})  # a missing key is not null


def test_conformance_file() -> None:
    assert len(CASES) == 294
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert {c["expect"] for c in CASES} == {"ACCEPT", "REJECT"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_verdict(mermaid_results, case) -> None:
    r = mermaid_results[case["id"]]
    verdict = "ACCEPT" if r["ok"] else "REJECT"
    assert verdict == case["expect"], r["error"]
    if r["ok"]:
        assert r["error"] is None and r["diagramType"] == "er"
    else:
        assert isinstance(r["error"], str) and r["error"]


@pytest.mark.parametrize("case", CHECKED, ids=[c["id"] for c in CHECKED])
def test_check(mermaid_results, case) -> None:
    r = mermaid_results[case["id"]]
    assert r["ok"], r["error"]
    assert subset_problems(to_oracle_naming(r), without_unexported(case["check"])) == []


def test_all_verdicts_agree(mermaid_results) -> None:
    agree = sum(
        ("ACCEPT" if mermaid_results[c["id"]]["ok"] else "REJECT") == c["expect"] for c in CASES
    )
    assert agree == len(CASES) == 294


def test_output_shape(mermaid_results) -> None:
    top = {
        "ok", "diagramType", "error", "entities", "relationships", "direction", "accTitle",
        "accDescr", "classes", "entityClasses", "entityStyles", "subgraphs",
    }
    for case_id, r in mermaid_results.items():
        assert set(r) == top, case_id
        for e in r["entities"]:
            assert set(e) == {"name", "alias", "implicit", "attributes"}, case_id
            assert e["implicit"] is None and e["alias"] != ""
            for a in e["attributes"]:
                assert set(a) == {"type", "name", "keys", "comment"}, case_id
                assert a["comment"] != ""
        for rel in r["relationships"]:
            assert set(rel) == {
                "left", "right", "leftCardinality", "rightCardinality", "identifying", "label",
            }, case_id
        for s in r["subgraphs"]:
            assert set(s) == {"id", "title", "nodes", "dir"}, case_id
        for s in (r["entityClasses"], r["entityStyles"]):
            assert all(isinstance(v, list) and v for v in s.values()), case_id
        assert "default" not in [c for cs in r["entityClasses"].values() for c in cs[:1]]


def test_entity_markers_decoded(mermaid_oracle) -> None:
    """#word; / #123; come back in their source spelling, everywhere."""
    (r,) = mermaid_oracle.run(
        [
            'erDiagram\n#amp; ||--o{ B : "a #quot; b"\nB["x #lt; #123;"]\n'
            'B { int id "c #35;" }\nstyle B fill:#f9f\naccTitle: t #gt;\n'
        ]
    )
    assert r["ok"], r["error"]
    assert [e["name"] for e in r["entities"]] == ["#amp;", "B"]
    assert r["entities"][1]["alias"] == "x #lt; #123;"
    assert r["entities"][1]["attributes"][0]["comment"] == "c #35;"
    assert r["relationships"][0]["left"] == "#amp;"
    assert r["relationships"][0]["label"] == "a #quot; b"
    assert r["accTitle"] == "t #gt;"
    text = json.dumps(r, ensure_ascii=False)
    assert not any(ch in text for ch in "\ufb02\u00b6\u00df")


def test_bad_inputs_do_not_stop_the_loop(mermaid_oracle) -> None:
    results = mermaid_oracle.run(
        ["", "graph TD\nA-->B\n", "erDiagram\nA xxx B : has\n", "\ud800", "erDiagram\nA\n"]
    )
    assert [r["ok"] for r in results] == [False, False, False, False, True]
    assert results[1]["diagramType"] == "flowchart-v2"
    assert results[2]["error"].startswith("Parse error on line 2:\nExpecting ")
    assert results[2]["error"].endswith("got 'COLON'")
    assert [e["name"] for e in results[4]["entities"]] == ["A"]
