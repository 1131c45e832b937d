"""Each rule against its annotated fixture (``%% ^^^ CODE message`` under the offending
text), plus the rule table's invariants."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import erd_lsp.analysis.rules as rules_pkg
from erd_lsp.analysis import Document
from erd_lsp.analysis.rules import BY_CODE, RULES
from support import DATA, read_annotations

FIXTURES = sorted((DATA / "rules").glob("*.mmd"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_rule_fixture(path):
    text, expected = read_annotations(path.read_text(encoding="utf-8"))
    doc = Document(text, "mermaid", str(path))
    actual = []
    for d in doc.diagnostics():
        l1, c1 = doc.line_index.line_col(d.range.start)
        l2, c2 = doc.line_index.line_col(d.range.end)
        actual.append((l1, c1, l2, c2, d.code, d.message))
    assert sorted(actual) == sorted(expected)


def test_every_rule_module_is_registered_once():
    found = {m.name for m in pkgutil.iter_modules(rules_pkg.__path__)}
    registered = {r.__name__.rsplit(".", 1)[1] for r in RULES}
    assert found == registered
    assert len(BY_CODE) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=[r.CODE for r in RULES])
def test_rule_has_documentation_and_fixture(rule):
    assert rule.__doc__ and "## What it does" in rule.__doc__ and "## Why is this bad?" in rule.__doc__
    assert rule.NAME == rule.NAME.lower() and " " not in rule.NAME
    assert (DATA / "rules" / f"{rule.CODE}.mmd").exists()
