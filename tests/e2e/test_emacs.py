"""Emacs + Eglot, headless: Debian's emacs-nox 28 with elpa-eglot 1.9 (or any Emacs with
Eglot) drives the server through the shipped set-up in editors/emacs/erd-lsp.el.

The checks themselves are in editors/emacs/test/erd-lsp-test.el (one "ok:"/"FAIL:" line
each; exit 0 = all passed, 1 = a failure, 77 = no Eglot). Install on Debian/Ubuntu with
    apt-get install -y --no-install-recommends emacs-nox elpa-eglot
Skipped when Emacs (or Eglot) is missing, unless ERD_REQUIRE_EDITORS=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMACS_DIR = ROOT / "editors" / "emacs"
SEED_003 = ROOT / "tests" / "data" / "seeds" / "003_1a83fdde10ac1a71.txt"
REQUIRE = os.environ.get("ERD_REQUIRE_EDITORS") == "1"
APT = "apt-get install -y --no-install-recommends emacs-nox elpa-eglot"


def _missing(what: str):
    if REQUIRE:
        pytest.fail(f"ERD_REQUIRE_EDITORS=1 but {what} is not installed ({APT})")
    pytest.skip(f"{what} is not installed ({APT})")


def test_emacs_eglot(tmp_path):
    emacs = shutil.which("emacs")
    if emacs is None:
        _missing("emacs")
    shutil.copy(SEED_003, tmp_path / "state.md")
    shutil.copy(EMACS_DIR / "test" / "shop.mmd", tmp_path / "shop.mmd")
    env = dict(
        os.environ,
        ERD_PY=sys.executable,  # the server runs as `sys.executable -m erd_lsp`
        ERD_WORK=str(tmp_path),
        HOME=str(tmp_path),  # keep the user's ~/.emacs.d out of it
    )
    cmd = [
        emacs, "--batch", "-Q",
        "-l", str(EMACS_DIR / "erd-lsp.el"),
        "-l", str(EMACS_DIR / "test" / "erd-lsp-test.el"),
    ]
    try:
        r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"Emacs timed out after 180 s; output so far:\n{e.stdout or ''}\n{e.stderr or ''}")
    out = f"--- stdout (exit {r.returncode}) ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"
    if r.returncode == 77:
        _missing("Eglot (elpa-eglot)")
    failed = [line for line in r.stdout.splitlines() if line.startswith("FAIL")]
    assert r.returncode == 0 and "PASS" in r.stdout and not failed, "\n".join(failed) + "\n\n" + out
