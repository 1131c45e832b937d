"""The 294 conformance cases (Mermaid 12.3.0's verdicts and model checks) against our parser."""

from __future__ import annotations

import pytest

from erd_lsp.model import build
from erd_lsp.syntax import parse
from support import conformance_cases, oracle_view, subset_problems

CASES = conformance_cases()


def test_all_cases_present():
    assert len(CASES) == 294
    assert len({c["id"] for c in CASES}) == 294


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case):
    p = parse(case["text"])
    verdict = "REJECT" if p.errors else "ACCEPT"
    assert verdict == case["expect"], [e.message for e in p.errors]
    assert p.text() == case["text"]
    if case["expect"] == "ACCEPT" and case["check"]:
        problems = subset_problems(oracle_view(build(p)), case["check"])
        assert not problems, problems
    if case["expect"] == "REJECT":
        # every error is precise: inside the text and with a plain message
        for e in p.errors:
            assert 0 <= e.start <= e.end <= len(case["text"])
            assert e.message and "Expecting" not in e.message
