#!/usr/bin/env python3
"""Instructions per parse and per model build, counted by valgrind: a steady figure for A/B.

    .venv/bin/python bench/instructions.py [--size medium] [--runs 3] [--against DIR]

Wall times on the shared machines move by up to 2x from one minute to the next, so a
change of 10% to the parser cannot be seen in them. Instruction counts can: this runs
``valgrind --tool=cachegrind --cache-sim=no`` on a child process that parses (and builds
the model of) the generated diagram ``--runs`` times, and on one that does it zero times
(imports, the input and one warm-up parse and build: the same in both), and prints the
difference per run. ``--against DIR`` counts a second checkout (another worktree, say) the
same way, for a before/after table. Counts are not times (a cache miss costs more than an
add), so a change still has to show in ``bench/run.py``; but two counts of the same
checkout agree to a fraction of a per cent.

Needs valgrind (Debian: ``apt-get install valgrind``) and ``../shared`` (the generator).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ERD_BENCH_SHARED", ROOT.parent / "shared"))

_CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from erd_lsp.model import build
from erd_lsp.syntax import parse
text = open(sys.argv[2], encoding="utf-8", newline="").read()
mode, runs = sys.argv[3], int(sys.argv[4])
build(parse(text))
for _ in range(runs):
    p = parse(text)
    if mode == "model":
        build(p)
    p = None
"""


def count(checkout: Path, path: Path, mode: str, runs: int) -> int:
    """Instructions of one child process."""
    out = subprocess.run(
        [
            "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
            sys.executable, "-c", _CHILD, str(checkout), str(path), mode, str(runs),
        ],
        capture_output=True, text=True, check=True,
    )
    m = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if m is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{out.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def measure(checkout: Path, path: Path, runs: int) -> tuple[float, float]:
    """(instructions per parse, per model build) of a checkout."""
    none = count(checkout, path, "parse", 0)
    parse = count(checkout, path, "parse", runs)
    both = count(checkout, path, "model", runs)
    return (parse - none) / runs, (both - parse) / runs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="medium", choices=("small", "medium", "large"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--against", type=Path, help="another checkout to count the same way")
    a = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    gen = SHARED / "tools" / "perf" / "gen_erd.py"
    if not gen.exists():
        print(f"the generator is missing (expected at {gen}); set ERD_BENCH_SHARED", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{a.size}.mmd"
        subprocess.run([sys.executable, str(gen), "--size", a.size, "-o", str(path)], check=True, capture_output=True)
        rows = [("this checkout", ROOT)] + ([("--against", a.against.resolve())] if a.against else [])
        print(f"| checkout | instructions per parse ({a.size}) | per model build |")
        print("|---|---:|---:|")
        for label, checkout in rows:
            p, m = measure(checkout, path, a.runs)
            print(f"| {label} ({checkout}) | {p / 1e6:.1f} M | {m / 1e6:.1f} M |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
