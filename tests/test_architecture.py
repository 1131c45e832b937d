"""The layering written in the README, enforced: text <- syntax <- model <- analysis <- {server, cli}."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "erd_lsp"

LAYER = {"text": 0, "syntax": 1, "model": 2, "analysis": 3, "render": 4, "cli": 5, "server": 5}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "erd_lsp" or len(parts) < 2:
        return None
    return LAYER.get(parts[1])


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def _module_of(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    return ".".join(rel.parts)


def test_imports_point_down_the_layers():
    bad = []
    for path in PKG.rglob("*.py"):
        mod = _module_of(path)
        me = _layer(mod)
        if me is None:
            continue
        for imp in _imports(path):
            other = _layer(imp)
            if other is not None and other > me and not (mod.startswith("erd_lsp.cli") and imp == "erd_lsp.server"):
                bad.append(f"{mod} imports {imp}")
    assert not bad, bad


def test_only_the_server_imports_pygls_or_lsprotocol():
    bad = []
    for path in PKG.rglob("*.py"):
        mod = _module_of(path)
        if mod == "erd_lsp.server":
            continue
        for imp in _imports(path):
            if imp.split(".")[0] in ("pygls", "lsprotocol"):
                bad.append(f"{mod} imports {imp}")
    assert not bad, bad


def test_core_does_no_io():
    forbidden = {"open", "print", "input"}
    bad = []
    for path in PKG.rglob("*.py"):
        mod = _module_of(path)
        if _layer(mod) is None or _layer(mod) > 3:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in forbidden:
                bad.append(f"{mod}:{node.lineno} calls {node.func.id}()")
        for imp in _imports(path):
            if imp.split(".")[0] in ("os", "subprocess", "socket", "pathlib", "shutil"):
                bad.append(f"{mod} imports {imp}")
    assert not bad, bad


def test_server_start_up_does_not_load_the_analysis():
    """The server answers `initialize` before it imports the analysis (start-up time), and
    its semantic token legend is the analysis's."""
    import subprocess
    import sys

    code = "import sys, erd_lsp.server; print(sorted(m for m in sys.modules if m.startswith('erd_lsp')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "erd_lsp.analysis" not in out and "erd_lsp.syntax" not in out, out

    from erd_lsp import server
    from erd_lsp.analysis import structure

    assert server.TOKEN_TYPES == structure.TOKEN_TYPES
    assert server.TOKEN_MODIFIERS == structure.TOKEN_MODIFIERS
