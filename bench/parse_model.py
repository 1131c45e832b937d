"""Benchmark (a), our side: ``erd_lsp.syntax.parse`` + ``erd_lsp.model.build`` in-process.

    python bench/parse_model.py FILE [--runs N] [--warmup K]

Run in a fresh process per file by ``bench/run.py``. Imports and a warm-up on the first
300 lines of the file (imports, regex compilation, first-call costs) are excluded; then K
warm-up runs and N timed runs on the whole text, each timed with ``time.perf_counter``
(wall) and ``time.process_time`` (CPU), with the previous result dropped and a
``gc.collect()`` between runs (outside the timing). After each timed run, reading every
entity's attributes is timed on its own (``decode_ms``: the fast blocks' records are
decoded when first read; not part of ``samples_ms``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=0)
    a = ap.parse_args()

    t0 = time.perf_counter()
    from erd_lsp.model import build
    from erd_lsp.syntax import parse

    import_ms = (time.perf_counter() - t0) * 1e3
    with open(a.file, encoding="utf-8", newline="") as f:
        text = f.read()
    head = "".join(text.splitlines(keepends=True)[:300])
    build(parse(head))

    for _ in range(a.warmup):
        build(parse(text))
    parse_ms, model_ms, total_ms, cpu_ms, decode_ms = [], [], [], [], []
    p = d = None
    for _ in range(a.runs):
        p = d = None
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        p = parse(text)
        t1 = time.perf_counter()
        d = build(p)
        t2 = time.perf_counter()
        c1 = time.process_time()
        # then every entity's attribute records (a fast block's are decoded when first
        # read): what the model holds once a reader has asked for all of it
        attributes = sum(len(e.attributes) for e in d.entities.values())
        t3 = time.perf_counter()
        decode_ms.append((t3 - t2) * 1e3)
        parse_ms.append((t1 - t0) * 1e3)
        model_ms.append((t2 - t1) * 1e3)
        total_ms.append((t2 - t0) * 1e3)
        cpu_ms.append((c1 - c0) * 1e3)
    print(
        json.dumps(
            {
                "file": os.path.basename(a.file),
                "bytes": len(text.encode("utf-8")),
                "lines": text.count("\n"),
                "runs": a.runs,
                "warmup": a.warmup,
                "import_ms": round(import_ms, 1),
                "samples_ms": [round(x, 3) for x in total_ms],
                "parse_ms": [round(x, 3) for x in parse_ms],
                "model_ms": [round(x, 3) for x in model_ms],
                "cpu_ms": [round(x, 3) for x in cpu_ms],
                "decode_ms": [round(x, 3) for x in decode_ms],
                "attributes": attributes if a.runs else None,
                "errors": len(p.errors) if p is not None else None,
                "entities": len(d.entities) if d is not None and hasattr(d, "entities") else None,
                "python": sys.version.split()[0],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
