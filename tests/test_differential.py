"""Differential test: our parser against the real Mermaid 12.3.0 (tests/mermaid/dump.mjs).

For every input both must agree on the verdict (accepted or rejected) and, when accepted,
on the whole model: entities in order with aliases and attributes, relationships, classes,
styles, direction, accessibility text and subgraphs. Inputs: the 294 conformance cases,
every ER diagram of the seed documents, generated diagrams (``gen_erd.py``), and a
deterministic corpus of mutations of all of these (random insertions, deletions and
swaps of the tokens that make ER syntax tricky).
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from erd_lsp.analysis.export import diagram_extras, diagram_model
from erd_lsp.model import build
from erd_lsp.syntax import parse
from erd_lsp.syntax.hosts import find_blocks
from support import SEEDS, conformance_cases

GEN = Path(__file__).resolve().parents[2] / "shared" / "tools" / "perf" / "gen_erd.py"

SNIPPETS = [
    "", " ", "\n", '"', "{", "}", "[", "]", ":", ":::", ",", "||", "o{", "}|", "|o", "--", "..", "u", "1", " to ",
    " one or more ", "%%", "%% note\n", "%%{init: {}}%%", "PK", "FK, UK", "`", "~", "?", "direction LR", "end",
    "subgraph g\n", "class A x\n", "style A fill:#f00\n", "classDef c fill:#f00\n", "accTitle: t\n",
    "accDescr { d }\n", "#quot;", '"x y"', "many", "2.5", "erDiagram", "\t", "A", "-", ".", "*", "é", "😀",
]


def _dedent_trim(text: str) -> str:
    """What mermaid.run() does to the text of a page element (and our Markdown hosting)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    indents = [len(l) - len(l.lstrip(" \t")) for l in lines if l.strip()]
    m = min(indents) if indents else 0
    out = [l[min(m, len(l) - len(l.lstrip(" \t"))) :] for l in lines]
    return "\n".join(out).strip()


def _seed_diagrams() -> list[str]:
    out = []
    for f in SEEDS:
        for b in find_blocks(f.read_text(encoding="utf-8"), "markdown"):
            if b.is_er:
                out.append(_dedent_trim(b.text))
    return out


def _generated() -> list[str]:
    if not GEN.exists():
        return []
    out = []
    for args in (["--size", "small"], ["-n", "60", "-m", "90", "--seed", "3"], ["--size", "small", "--inject-errors", "4"], ["--size", "small", "--seed", "11", "--inject-errors", "8"]):
        r = subprocess.run([sys.executable, str(GEN), *args], capture_output=True, text=True, check=True)
        out.append(r.stdout)
    return out


def _mutations(texts: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        t = rng.choice(texts)
        for _ in range(rng.randint(1, 3)):
            n = len(t)
            a = rng.randint(0, n)
            b = min(n, a + rng.choice([0, 0, 1, 2, 4, 10]))
            if rng.random() < 0.8:
                t = t[:a] + rng.choice(SNIPPETS) + t[b:]
            else:
                c = rng.randint(0, n)
                t = t[:a] + t[c : c + rng.randint(1, 12)] + t[b:]
        out.append(t)
    return out


def _ours(text: str) -> dict:
    p = parse(text)
    d = build(p)
    m = {**diagram_model(d), **diagram_extras(d)}
    for e in m["entities"]:
        e["implicit"] = None
    return {"ok": not p.errors, **m, "errors": [e.message for e in p.errors]}


def _compare(texts: list[str], oracle) -> list[str]:
    theirs = oracle.run(texts)
    problems = []
    for text, t in zip(texts, theirs):
        o = _ours(text)
        if t.get("diagramType") not in (None, "er") and not t["ok"]:
            continue  # another diagram type: not ours to judge
        if o["ok"] != t["ok"]:
            problems.append(f"verdict differs (ours {'ACCEPT' if o['ok'] else 'REJECT'}): {text!r}\n  mermaid: {t.get('error')}\n  ours: {o['errors'][:2]}")
            continue
        if t["ok"]:
            for k in ("entities", "relationships", "direction", "accTitle", "accDescr", "classes", "entityClasses", "entityStyles", "subgraphs"):
                if o[k] != t[k]:
                    problems.append(f"{k} differs: {text!r}\n  ours:    {o[k]}\n  mermaid: {t[k]}")
                    break
    return problems


def test_conformance_cases_agree_with_mermaid(mermaid_oracle):
    problems = _compare([c["text"] for c in conformance_cases()], mermaid_oracle)
    assert not problems, "\n".join(problems[:10])


def test_seed_diagrams_agree_with_mermaid(mermaid_oracle):
    texts = _seed_diagrams()
    assert len(texts) == 8  # 000, 001, 003 and the five of 004
    problems = _compare(texts, mermaid_oracle)
    assert not problems, "\n".join(problems[:10])


def test_generated_diagrams_agree_with_mermaid(mermaid_oracle):
    texts = _generated()
    if not texts:
        pytest.skip("../shared/tools/perf/gen_erd.py not found")
    problems = _compare(texts, mermaid_oracle)
    assert not problems, "\n".join(problems[:10])


@pytest.mark.parametrize("seed", range(4))
def test_mutations_agree_with_mermaid(mermaid_oracle, seed):
    base = [c["text"] for c in conformance_cases()] + _seed_diagrams()
    texts = _mutations(base, 500, seed)
    problems = _compare(texts, mermaid_oracle)
    assert not problems, f"{len(problems)} of {len(texts)} differ:\n" + "\n".join(problems[:8])
