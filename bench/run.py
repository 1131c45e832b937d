#!/usr/bin/env python3
"""erd-lsp benchmark suite: one command, one table, every anchor measured in the same run.

    .venv/bin/python bench/run.py [--quick] [--only a,b,...] [--json out.json] [--keep-tmp]

Measurements (each row: median, p95, p99, the anchor's median, ratio = ours / anchor,
the target and whether it is met):

  a  parse + model of the generated small, medium and large diagrams, in-process
     (``erd_lsp.syntax.parse`` + ``erd_lsp.model.build``, a fresh process per size);
     anchor: Mermaid 12.3.0's ``getDiagramFromText`` on the same text, in one warm Node
     process (bench/mermaid_parse.mjs; start-up excluded)
  b  keystroke -> publishDiagnostics over stdio against the real server
     (``python -m erd_lsp``), on large and on small: 1-char edits inside an attribute
     block, deleting a ``}`` (breaks the syntax) and putting it back, a 200-line paste and
     its undo; anchor: the same round trip against bench/bare_server.py (pygls, publishes
     an empty list: the protocol floor), interleaved sample by sample
  c  completion at a relationship endpoint with 5,000 entities (empty prefix and a
     2-letter prefix); definition, references, hover, rename, formatting on large; definition, hover,
     references, highlights, rename, document symbols, folding ranges and semantic tokens (full,
     and full/delta on the previous answer) right after a keystroke; anchor: the bare
     server answering an empty result to the same request
  d  ``erd-lsp --check`` on a 1,000-file Markdown tree and on one small file, wall time
     with process start; anchor: ``python -c pass``; mmdc / Mermaid-in-Node figures from
     the anchors document as fixed references (not measured here)
  e  server RSS with large open (anchor: the bare server with large open); retained
     memory per 10k lines = (RSS with large open - RSS with small open) / line difference
     (anchor: Mermaid's retained heap per 10k lines, measured in (a) when it ran)
  f  server spawn -> initialize result (anchor: the bare pygls server), interleaved

Inputs are generated deterministically into a temporary directory by
``../shared/tools/perf/gen_erd.py`` (seed 1), the generator the anchors were measured
with. ``--quick`` takes fewer samples (whole run about 3 minutes); rows whose operation is
slow stop at a per-row time budget (never below a minimum sample count), so the table's
notes give the sample count of every row.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as _dt
import json
import math
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from lspclient import LspClient, LspError, LspTimeout, ServerDied, kill_group  # noqa: E402

SHARED = Path(os.environ.get("ERD_BENCH_SHARED", ROOT.parent / "shared"))
GEN = SHARED / "tools" / "perf" / "gen_erd.py"
MERMAID_DIR = ROOT / "tests" / "mermaid"
PY = sys.executable
SIZES = ("small", "medium", "large")
# what gen_erd.py (seed 1) writes; the anchors document lists the same figures
EXPECTED = {"small": (273, 9103), "medium": (6678, 224616), "large": (66124, 2257875)}

# fixed references from ../shared/reference/performance-anchors.md (NOT measured here)
MMDC_SMALL_S = 6.03  # mmdc CI validation of small.mmd, median of 10 runs
NODE_TREE_S = 67.7  # mermaid.parse over the 1,000-file docs tree in one Node process
MMDC_TREE_S = 4.5 * 3600  # mmdc over the tree, extrapolated from a 10-file sample
MERMAID_RETAINED_DOC_MIB = 1.94  # Mermaid ErDB retained heap per 10k lines

MIB = 1024 * 1024


# ---------------------------------------------------------------------------------------
# child processes: every one is started in its own session and ended by us
_CHILDREN: "set[subprocess.Popen]" = set()


@atexit.register
def _reap_children() -> None:
    for p in list(_CHILDREN):
        kill_group(p, grace=1.0)
        _CHILDREN.discard(p)


ABORTING = False


def _on_signal(signum, frame):  # run the finally blocks (fast) and the atexit handlers
    global ABORTING
    ABORTING = True
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_child(cmd: list, timeout: float, cwd: Optional[str] = None, capture: bool = True) -> tuple:
    """Run ``cmd`` to completion: (returncode, stdout, stderr, wall s, child CPU s).
    Kills the whole process group on timeout (raises TimeoutError)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    _CHILDREN.add(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p, grace=1.0)
        p.communicate()
        raise TimeoutError(f"{' '.join(map(str, cmd[:3]))} ... took more than {timeout:g} s (killed)")
    finally:
        kill_group(p, grace=1.0)
        _CHILDREN.discard(p)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return p.returncode, (out or b"").decode("utf-8", "replace"), (err or b"").decode("utf-8", "replace"), wall, cpu


# ---------------------------------------------------------------------------------------
# statistics and the table


def pct(xs: list, p: float) -> Optional[float]:
    """Nearest-rank percentile (p99 of fewer than 100 samples is the maximum)."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def med(xs: list) -> Optional[float]:
    return statistics.median(xs) if xs else None


@dataclass
class Row:
    key: str
    name: str
    unit: str = "s"  # "s" (times, shown as ms/s), "MB", "MiB", "x"
    samples: list = field(default_factory=list)
    value: Optional[float] = None  # single-valued rows
    anchor: str = "–"
    anchor_samples: list = field(default_factory=list)
    anchor_value: Optional[float] = None
    target: str = "–"
    p50_le: Optional[float] = None
    p99_le: Optional[float] = None
    ratio_le: Optional[float] = None
    error: Optional[str] = None
    anchor_error: Optional[str] = None
    notes: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def median(self) -> Optional[float]:
        return self.value if self.value is not None else med(self.samples)

    @property
    def anchor_median(self) -> Optional[float]:
        return self.anchor_value if self.anchor_value is not None else med(self.anchor_samples)

    @property
    def ratio(self) -> Optional[float]:
        a, b = self.median, self.anchor_median
        if a is None or b is None or b <= 0 or self.error:
            return None
        return a / b

    def met(self) -> str:
        if self.p50_le is None and self.p99_le is None and self.ratio_le is None:
            return "–"
        if self.error or self.median is None:
            return "n/a"
        ok = True
        if self.p50_le is not None:
            ok &= self.median <= self.p50_le
        if self.p99_le is not None:
            p99 = pct(self.samples, 99) if self.samples else self.median
            ok &= p99 <= self.p99_le
        if self.ratio_le is not None:
            if self.ratio is None:
                return "n/a (no anchor)"
            ok &= self.ratio <= self.ratio_le
        return "yes" if ok else "**no**"

    def as_json(self) -> dict:
        d = {
            "key": self.key, "name": self.name, "unit": self.unit, "n": len(self.samples) or (1 if self.value is not None else 0),
            "median": self.median, "p95": pct(self.samples, 95), "p99": pct(self.samples, 99),
            "anchor": self.anchor, "anchor_median": self.anchor_median, "anchor_n": len(self.anchor_samples),
            "anchor_p95": pct(self.anchor_samples, 95), "anchor_p99": pct(self.anchor_samples, 99),
            "ratio": self.ratio, "target": self.target, "met": self.met(), "error": self.error,
            "anchor_error": self.anchor_error, "notes": self.notes, "samples": self.samples,
            "anchor_samples": self.anchor_samples,
        }
        d.update(self.extra)
        return d


def fmt(v: Optional[float], unit: str) -> str:
    if v is None:
        return "–"
    if unit == "s":
        ms = v * 1e3
        if ms < 10:
            return f"{ms:.2f} ms"
        if ms < 1000:
            return f"{ms:.1f} ms"
        return f"{v:.2f} s"
    if unit == "MB":
        return f"{v:.1f} MB"
    if unit == "MiB":
        return f"{v:.2f} MiB"
    if unit == "x":
        return fmt_ratio(v)
    return f"{v:g} {unit}"


def fmt_ratio(r: Optional[float]) -> str:
    if r is None:
        return "–"
    if r < 0.01:
        return f"{r:.4f}×"
    if r < 10:
        return f"{r:.3g}×"
    return f"{r:.0f}×"


def table(rows: list) -> str:
    head = "| measurement | median | p95 | p99 | anchor | anchor median | ratio | target | met? |"
    out = [head, "|---|---:|---:|---:|---|---:|---:|---|---|"]
    for r in rows:
        if r.error:
            med_s = f"n/a ({r.error})"
            p95 = p99 = "–"
        else:
            med_s = fmt(r.median, r.unit)
            single = len(r.samples) < 2
            p95 = "–" if single else fmt(pct(r.samples, 95), r.unit)
            p99 = "–" if single else fmt(pct(r.samples, 99), r.unit)
        a_med = f"n/a ({r.anchor_error})" if r.anchor_error else fmt(r.anchor_median, r.unit if r.unit != "x" else "x")
        cells = [r.name, med_s, p95, p99, r.anchor, a_med, fmt_ratio(r.ratio), r.target, r.met()]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# configuration


@dataclass
class Cfg:
    quick: bool
    tmp: Path
    # (a)
    a_runs: dict = field(default_factory=dict)
    a_warmup: dict = field(default_factory=dict)
    m_runs: dict = field(default_factory=dict)
    m_warmup: dict = field(default_factory=dict)
    # (b), (c): samples wanted, per-row time budget, minimum samples
    key_reps: int = 200
    pair_reps: int = 30
    paste_reps: int = 10
    req_reps: int = 200
    req_warmup: int = 5
    budget: float = 60.0
    min_n: int = 5
    # (d), (f)
    tree_runs: int = 5
    small_check_runs: int = 20
    start_runs: int = 15
    # timeouts
    t_open: float = 600.0
    t_edit: float = 120.0
    t_req: float = 120.0
    t_init: float = 60.0

    @classmethod
    def make(cls, quick: bool, tmp: Path) -> "Cfg":
        c = cls(quick=quick, tmp=tmp)
        if quick:
            # (both sides get the same warm-up runs on the same text)
            c.a_runs = {"small": 5, "medium": 2, "large": 1}
            c.a_warmup = {"small": 2, "medium": 1, "large": 0}
            c.m_runs = {"small": 5, "medium": 2, "large": 1}
            c.m_warmup = {"small": 2, "medium": 1, "large": 0}
            c.key_reps, c.pair_reps, c.paste_reps = 20, 5, 3
            c.req_reps, c.req_warmup = 20, 2
            c.budget, c.min_n = 6.0, 2
            c.tree_runs, c.small_check_runs, c.start_runs = 1, 5, 4
        else:
            c.a_runs = {"small": 20, "medium": 7, "large": 3}
            c.a_warmup = {"small": 3, "medium": 1, "large": 1}
            c.m_runs = {"small": 20, "medium": 7, "large": 3}
            c.m_warmup = {"small": 3, "medium": 1, "large": 1}
        return c


# ---------------------------------------------------------------------------------------
# inputs


def generate_inputs(cfg: Cfg, sizes: list, want_tree: bool) -> dict:
    if not GEN.is_file():
        sys.exit(
            f"bench: the input generator {GEN} is missing.\n"
            f"  The benchmark needs the shared perf tools next to the project ({SHARED}); "
            "set ERD_BENCH_SHARED=/path/to/shared to point elsewhere."
        )
    files = {}
    for size in sizes:
        path = cfg.tmp / f"{size}.mmd"
        rc, _, err, _, _ = run_child([PY, str(GEN), "--size", size, "-o", str(path)], timeout=300)
        if rc != 0:
            sys.exit(f"bench: gen_erd.py --size {size} failed: {err.strip()}")
        text = path.read_text(encoding="utf-8")
        lines, nbytes = text.count("\n"), len(text.encode("utf-8"))
        if (lines, nbytes) != EXPECTED[size]:
            log(f"warning: {size}.mmd has {lines} lines / {nbytes} bytes, the anchors were measured on {EXPECTED[size]}")
        files[size] = path
    if want_tree:
        tree = cfg.tmp / "tree"
        rc, _, err, _, _ = run_child([PY, str(GEN), "tree", str(tree), "--files", "1000"], timeout=600)
        if rc != 0:
            sys.exit(f"bench: gen_erd.py tree failed: {err.strip()}")
        files["tree"] = tree
    return files


def nlines(path: Path) -> int:
    with open(path, "rb") as f:
        return f.read().count(b"\n")


# ---------------------------------------------------------------------------------------
# (a) parse + model vs Mermaid


def bench_a(cfg: Cfg, files: dict, state: dict) -> list:
    rows = {}
    for size in SIZES:
        n = nlines(files[size])
        rows[size] = Row(
            key=f"a.{size}",
            name=f"a. parse + model, {size} ({n:,} lines)",
            anchor="Mermaid 12.3.0 `getDiagramFromText`, warm Node",
        )
    # the same, then every attribute record read (decoded): Mermaid's ErDB holds them all
    rows["decoded"] = Row(
        key="a.large.decoded",
        name=f"a. parse + model + every attribute record read, large ({nlines(files['large']):,} lines)",
        anchor="Mermaid 12.3.0 `getDiagramFromText`, warm Node",
    )
    rows["large"].target = "≤ 0.75 s and ≥ 9× faster (ratio ≤ 0.111)"
    rows["large"].p50_le = 0.75
    rows["large"].ratio_le = 1 / 9

    # the anchor: Mermaid in one warm Node process
    node = shutil.which("node")
    if node is None:
        err = "node not found"
    elif not (MERMAID_DIR / "node_modules" / "mermaid" / "package.json").is_file():
        err = "Mermaid not installed: cd tests/mermaid && npm ci"
    else:
        err = None
    if err is None:
        specs = [f"{files[s]}:{cfg.m_runs[s]}:{cfg.m_warmup[s]}" for s in SIZES]
        log("a: Mermaid getDiagramFromText on small, medium, large (one Node process)")
        try:
            rc, out, errtxt, wall, _ = run_child(
                [node, "--expose-gc", "--max-old-space-size=8192", str(HERE / "mermaid_parse.mjs"), "--mermaid-dir", str(MERMAID_DIR), *specs],
                timeout=1800,
            )
            got = {}
            for line in out.splitlines():
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                got[Path(d["file"]).stem] = d
            for s in SIZES:
                d = got.get(s)
                if d is None:
                    rows[s].anchor_error = (errtxt.strip().splitlines() or [f"exit {rc}"])[-1][:120]
                elif "error" in d:
                    rows[s].anchor_error = d["error"][:120]
                else:
                    rows[s].anchor_samples = [x / 1e3 for x in d["samples_ms"]]
                    if s == "large":
                        rows["decoded"].anchor_samples = rows[s].anchor_samples
                    rows[s].extra["anchor_detail"] = {k: v for k, v in d.items() if k not in ("samples_ms",)}
                    rows[s].notes.append(
                        f"Mermaid: n={len(d['samples_ms'])} after {d['warmup']} warm-up, CPU median {d['cpu_median_ms']:.0f} ms, "
                        f"{d['entities']} entities / {d['relationships']} relationships; Node import {d['import_ms']:.0f} ms (excluded)"
                    )
                    if s == "large" and d.get("retained_heap_bytes"):
                        state["mermaid_retained_per10k_mib"] = d["retained_heap_bytes"] / MIB / d["lines"] * 10_000
        except TimeoutError as e:
            err = str(e)
    if err is not None:
        for r in rows.values():
            r.anchor_error = err

    # our side, a fresh process per size
    for size in SIZES:
        r = rows[size]
        log(f"a: erd_lsp parse + model on {size} ({cfg.a_runs[size]} runs)")
        try:
            rc, out, errtxt, _, _ = run_child(
                [PY, str(HERE / "parse_model.py"), str(files[size]), "--runs", str(cfg.a_runs[size]), "--warmup", str(cfg.a_warmup[size])],
                timeout=1800,
                cwd=str(ROOT),
            )
        except TimeoutError as e:
            r.error = str(e)
            continue
        if rc != 0:
            r.error = "crashed: " + ((errtxt.strip().splitlines() or [f"exit {rc}"])[-1])[:120]
            continue
        d = json.loads(out.strip().splitlines()[-1])
        r.samples = [x / 1e3 for x in d["samples_ms"]]
        r.extra["detail"] = d
        mp, mm = med(d["parse_ms"]), med(d["model_ms"])
        lines_s = d["lines"] / (med(r.samples))
        note = (
            f"ours: n={len(r.samples)}, parse {fmt(mp / 1e3, 's')} + model {fmt(mm / 1e3, 's')}, CPU median {fmt(med(d['cpu_ms']) / 1e3, 's')}, "
            f"{d['bytes'] / 1e6 / med(r.samples):.2f} MB/s, {lines_s / 1e3:.0f}k lines/s, {d['errors']} syntax errors"
        )
        r.notes.insert(0, note)
        if r.ratio:
            txt = f"wall: {1 / r.ratio:.1f}× faster than Mermaid" if r.ratio < 1 else f"wall: {r.ratio:.1f}× slower than Mermaid"
            ad = r.extra.get("anchor_detail")
            if ad and ad.get("cpu_median_ms"):
                cr = med(d["cpu_ms"]) / ad["cpu_median_ms"]
                txt += f"; process CPU time (steadier under load): ratio {fmt_ratio(cr)} ({1 / cr:.1f}× faster)" if cr < 1 else f"; process CPU time (steadier under load): ratio {fmt_ratio(cr)} ({cr:.1f}× slower)"
            r.notes.append(txt)
        if size == "large" and d.get("decode_ms"):
            rd = rows["decoded"]
            rd.samples = [(x + y) / 1e3 for x, y in zip(d["samples_ms"], d["decode_ms"])]
            rd.notes.append(
                f"ours: the row above, then reading each entity's attributes ({d['attributes']:,} records; a fast block's are "
                f"decoded from its text when first read): decoding {fmt(med(d['decode_ms']) / 1e3, 's')}"
            )
    if rows["decoded"].samples and rows["decoded"].anchor_samples and rows["decoded"].ratio:
        rows["decoded"].notes.append(f"wall: {1 / rows['decoded'].ratio:.1f}× faster than Mermaid")
    return [rows[s] for s in SIZES] + [rows["decoded"]]


# ---------------------------------------------------------------------------------------
# LSP sessions: (b), (c), (e)

CLIENT_CAPS = {
    "general": {"positionEncodings": ["utf-16"]},
    "workspace": {"applyEdit": True, "workspaceEdit": {"documentChanges": True}, "configuration": False},
    "textDocument": {
        # publishDiagnostics and no "diagnostic" entry: the server must push
        "synchronization": {"dynamicRegistration": False, "didSave": False},
        "publishDiagnostics": {"relatedInformation": True, "versionSupport": True, "tagSupport": {"valueSet": [1, 2]}},
        "completion": {
            # as VS Code announces them: documentation is fetched per item (completionItem/resolve)
            "completionItem": {
                "snippetSupport": True, "documentationFormat": ["markdown", "plaintext"], "labelDetailsSupport": True,
                "resolveSupport": {"properties": ["documentation", "detail", "additionalTextEdits"]},
            },
            "contextSupport": True,
            "completionList": {"itemDefaults": ["commitCharacters", "editRange", "insertTextFormat", "insertTextMode", "data"]},
        },
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "definition": {"linkSupport": False},
        "references": {},
        "rename": {"prepareSupport": True},
        # as VS Code announces it: full documents with deltas, and ranges
        "semanticTokens": {
            "requests": {"full": {"delta": True}, "range": True},
            "tokenTypes": [], "tokenModifiers": [], "formats": ["relative"],
        },
    },
}


def erd_cmd() -> list:
    return [PY, "-m", "erd_lsp"]


def bare_cmd() -> list:
    return [PY, str(HERE / "bare_server.py")]


class Mirror:
    """The client's copy of an open document (line list), kept in step with the server."""

    def __init__(self, uri: str, text: str) -> None:
        self.uri = uri
        self.lines = text.split("\n")
        self.version = 1

    def apply(self, sl: int, sc: int, el: int, ec: int, text: str) -> None:
        new = (self.lines[sl][:sc] + text + self.lines[el][ec:]).split("\n")
        self.lines[sl : el + 1] = new


class Side:
    """One server (ours or the bare anchor) and the documents open in it."""

    def __init__(self, name: str, cmd: list, cfg: Cfg) -> None:
        self.name = name
        self.cfg = cfg
        self.client = LspClient(cmd, cwd=str(ROOT), stderr_path=str(cfg.tmp / f"{name}-{os.getpid()}-{time.monotonic_ns()}.stderr"))
        self.docs: dict = {}
        self.error: Optional[str] = None

    def start(self) -> float:
        self.client.start()
        _, secs = self.client.initialize(CLIENT_CAPS, timeout=self.cfg.t_init)
        return secs

    def open(self, path: Path) -> tuple:
        """didOpen; returns (seconds until its diagnostics, number of diagnostics)."""
        text = path.read_text(encoding="utf-8")
        uri = path.resolve().as_uri()
        m = self.docs[uri] = Mirror(uri, text)
        since = self.client.diag_seq()
        t0 = self.client.notify(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "mermaid", "version": m.version, "text": text}}
        )
        rec = self.client.wait_diagnostics(uri, m.version, since, self.cfg.t_open)
        return rec.t - t0, rec.count

    def change(self, uri: str, sl: int, sc: int, el: int, ec: int, text: str):
        """One incremental didChange; returns (seconds until its diagnostics, DiagRecord)."""
        m = self.docs[uri]
        m.version += 1
        since = self.client.diag_seq()
        t0 = self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": m.version},
                "contentChanges": [{"range": {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}}, "text": text}],
            },
        )
        try:
            rec = self.client.wait_diagnostics(uri, m.version, since, self.cfg.t_edit)
        finally:
            m.apply(sl, sc, el, ec, text)
        return rec.t - t0, rec

    def close(self) -> None:
        self.client.close(graceful=not ABORTING)


def describe(e: BaseException) -> str:
    if isinstance(e, LspError):
        if e.code == -32601:
            return f"error: method not found ({e.message.split(': ')[-1]})"[:140]
        return f"error: {e.message}"[:140]
    if isinstance(e, LspTimeout):
        return f"timeout: {e}"
    if isinstance(e, ServerDied):
        return f"server died: {e}"[:160]
    return f"{type(e).__name__}: {e}"[:140]


def interleave(sides: list, step: Callable, reps: int, cfg: Cfg, label: str) -> tuple:
    """Call ``step(side, k)`` alternately for each side until each side has ``reps``
    samples (or the time budget is spent and each has at least ``cfg.min_n``).
    ``step`` returns a list of (row key, seconds, info). An error response stops that side
    for this measurement only (returned in ``failed``); a timeout or a dead server stops
    the side for good (``side.error``). Returns ({side: {row key: [(seconds, info)]}},
    {side: error text})."""
    got = {s.name: {} for s in sides}
    failed: dict = {}
    t_start = time.monotonic()
    k = 0
    while True:
        live = [s for s in sides if s.error is None and s.name not in failed]
        if not live:
            break
        counts = [min((len(v) for v in got[s.name].values()), default=0) for s in live]
        if min(counts) >= reps:
            break
        if time.monotonic() - t_start > cfg.budget and min(counts) >= cfg.min_n:
            break
        for s in live:
            try:
                for key, secs, info in step(s, k):
                    got[s.name].setdefault(key, []).append((secs, info))
            except LspError as e:
                failed[s.name] = describe(e)
                log(f"{label}: {s.name}: {failed[s.name]}")
            except (LspTimeout, ServerDied, OSError) as e:
                s.error = describe(e)
                log(f"{label}: {s.name}: {s.error}")
        k += 1
    return got, failed


def pick_lines(lines: list, pred: Callable, lo: float = 0.34, hi: float = 0.66) -> list:
    n = len(lines)
    out = [i for i in range(int(n * lo), max(int(n * lo) + 1, int(n * hi))) if i < n and pred(lines[i])]
    if not out:
        out = [i for i in range(n) if pred(lines[i])]
    rng = random.Random(f"bench:{n}")
    rng.shuffle(out)
    return out


def is_attr(line: str) -> bool:
    s = line.strip()
    return line.startswith("        ") and s and not s.startswith(("%%", "}"))


def is_close(line: str) -> bool:
    return line.strip() == "}"


def is_block_start(line: str) -> bool:
    return line.startswith("    ") and not line.startswith("     ") and line.rstrip().endswith("{")


def is_rel(line: str) -> bool:
    return line.startswith("    ") and " : " in line and ("--" in line or ".." in line) and not line.rstrip().endswith("{")


def paste_text(k: int) -> str:
    """200 lines of new entity blocks (unique names) and relationships among them."""
    out = []
    names = [f"PASTED_{k}_{i:02d}" for i in range(18)]
    for n in names:
        out.append(f"    {n} {{")
        out.append("        int id PK")
        for j in range(7):
            out.append(f'        string col_{j} "pasted column {j}"')
        out.append("    }")
    for i in range(20):
        out.append(f"    {names[i % 18]} ||--o{{ {names[(i + 5) % 18]} : pasted_{i}")
    assert len(out) == 200
    return "\n".join(out) + "\n"


def edit_rows(sides: list, uri: str, size: str, cfg: Cfg, target: bool) -> list:
    """(b) on one open document, ours and the anchor interleaved."""
    lines = sides[0].docs[uri].lines
    attrs = pick_lines(lines, is_attr)
    closes = pick_lines(lines, is_close)
    starts = pick_lines(lines, is_block_start)

    def one_char(s: Side, k: int):
        L = attrs[k % len(attrs)]
        col = len(lines[L]) - len(lines[L].lstrip()) + 1  # inside the type word
        t1, r1 = s.change(uri, L, col, L, col, "x")
        t2, r2 = s.change(uri, L, col, L, col + 1, "")
        return [("1char", t1, r1), ("1char", t2, r2)]

    def break_repair(s: Side, k: int):
        L = closes[k % len(closes)]
        col = lines[L].index("}")
        t1, r1 = s.change(uri, L, col, L, col + 1, "")
        t2, r2 = s.change(uri, L, col, L, col, "}")
        return [("break", t1, r1), ("repair", t2, r2)]

    def paste(s: Side, k: int):
        L = starts[k % len(starts)]
        t1, r1 = s.change(uri, L, 0, L, 0, paste_text(k))
        t2, r2 = s.change(uri, L, 0, L + 200, 0, "")
        return [("paste", t1, r1), ("unpaste", t2, r2)]

    n_lines = len(lines) - (1 if lines and lines[-1] == "" else 0)
    spec = [
        (one_char, cfg.key_reps, [("1char", "1-char edit inside a block (insert/delete)")]),
        (break_repair, cfg.pair_reps, [("break", "breaking edit (delete a `}`)"), ("repair", "repair (put the `}` back)")]),
        (paste, cfg.paste_reps, [("paste", "200-line paste of blocks"), ("unpaste", "undo of the paste (delete 200 lines)")]),
    ]
    rows = []
    for fn, reps, keys in spec:
        log(f"b: {size}: {', '.join(k for k, _ in keys)}")
        got, failed = interleave(sides, fn, reps, cfg, f"b.{size}")
        for key, title in keys:
            r = Row(key=f"b.{size}.{key}", name=f"b. keystroke→diagnostics, {size} ({n_lines:,} lines): {title}", anchor="bare pygls server (empty diagnostics)")
            ours = got["erd"].get(key, [])
            base = got["bare"].get(key, [])
            r.samples = [t for t, _ in ours]
            r.anchor_samples = [t for t, _ in base]
            if not r.samples:
                r.error = failed.get("erd") or sides[0].error or "no samples"
            if not r.anchor_samples:
                r.anchor_error = failed.get("bare") or sides[1].error or "no samples"
            if ours:
                counts = [rec.count for _, rec in ours if rec is not None]
                codes = sorted({c for _, rec in ours if rec is not None for c in rec.codes})
                r.notes.append(
                    f"n={len(ours)} (anchor n={len(base)}); diagnostics published: {min(counts)}–{max(counts)}" + (f" ({', '.join(codes)})" if codes else "")
                )
            if target and key in ("1char", "break", "repair"):
                r.target, r.p50_le, r.p99_le = "p50 ≤ 8 ms, p99 ≤ 20 ms", 0.008, 0.020
            rows.append(r)
        if sides[0].error:
            break
    return rows


def request_rows(sides: list, uri: str, cfg: Cfg, n_entities: int) -> list:
    """(c) on large: completion at an endpoint, then definition/references/hover/rename."""
    lines = sides[0].docs[uri].lines
    rels = [i for i in pick_lines(lines, is_rel) if "-" not in lines[i].split()[0]]
    starts = pick_lines(lines, is_block_start)
    L = rels[0]
    ent = lines[L].split()[0]
    pos = {"line": L, "character": 5}
    td = {"uri": uri}
    rows = []

    def req_step(method: str, params: dict):
        def step(s: Side, k: int):
            res, secs = s.client.request(method, params, timeout=cfg.t_req)
            return [(method, secs, res)]

        return step

    def run_requests(key: str, title: str, method: str, params: dict, target: bool = False, summarize=None, step=None) -> Row:
        r = Row(key=key, name=title, anchor="bare pygls server (empty result)")
        failed: dict = {}
        step = step or req_step(method, params)
        for s in sides:  # warm-up: a few requests, at most about a second's worth
            t_warm = time.monotonic()
            for k in range(cfg.req_warmup if s.error is None else 0):
                if time.monotonic() - t_warm > 1.0:
                    break
                try:
                    step(s, k)
                except LspError as e:
                    failed[s.name] = describe(e)
                    break
                except (LspTimeout, ServerDied, OSError) as e:
                    s.error = describe(e)
                    break
        live = [s for s in sides if s.name not in failed]
        got, failed2 = interleave(live, step, cfg.req_reps, cfg, key)
        failed.update(failed2)
        ours = got.get("erd", {}).get(method, [])
        base = got.get("bare", {}).get(method, [])
        r.samples = [t for t, _ in ours]
        r.anchor_samples = [t for t, _ in base]
        if not r.samples:
            r.error = failed.get("erd") or sides[0].error or "no samples"
        if not r.anchor_samples:
            r.anchor_error = failed.get("bare") or sides[1].error or "no samples"
        if ours:
            summary = summarize(ours[-1][1]) if summarize else ""
            r.notes.append(f"n={len(ours)} (anchor n={len(base)})" + (f"; {summary}" if summary else ""))
        if target:
            r.target, r.p50_le = "p50 ≤ 5 ms", 0.005
        rows.append(r)
        return r

    def sum_completion(res) -> str:
        if res is None:
            return "empty result (null)"
        items = res.get("items", []) if isinstance(res, dict) else res
        inc = res.get("isIncomplete") if isinstance(res, dict) else None
        return f"{len(items)} items returned, isIncomplete={inc}"

    def sum_locations(res) -> str:
        if not res:
            return "**empty result**"
        return f"{len(res) if isinstance(res, list) else 1} location(s)"

    def sum_hover(res) -> str:
        if not res:
            return "**empty result**"
        c = res.get("contents")
        v = c.get("value", "") if isinstance(c, dict) else str(c)
        return f"{len(v)} characters of hover text"

    def sum_rename(res) -> str:
        if not res:
            return "**empty result**"
        n = sum(len(v) for v in (res.get("changes") or {}).values())
        n += sum(len(dc.get("edits", [])) for dc in (res.get("documentChanges") or []))
        return f"{n} text edits"

    # completion: type a relationship line whose right endpoint is still to be written
    S = starts[0]
    for s in sides:
        if s.error is None:
            try:
                s.change(uri, S, 0, S, 0, f"    {ent} ||--o{{ \n")
            except (LspError, LspTimeout, ServerDied, OSError) as e:
                s.error = describe(e)
    for prefix, label in (("", "empty prefix"), ("OR", "prefix `OR`")):
        if prefix:
            for s in sides:
                if s.error is None:
                    try:
                        col = len(s.docs[uri].lines[S])
                        s.change(uri, S, col, S, col, prefix)
                    except (LspError, LspTimeout, ServerDied, OSError) as e:
                        s.error = describe(e)
        col = len(lines[S])
        params = {"textDocument": td, "position": {"line": S, "character": col}, "context": {"triggerKind": 1}}

        def retyped(s: Side, k: int, col=col, params=params):
            # what an editor does: the last character is typed (here: taken back and typed
            # again, so the text stays the same), its diagnostics arrive, completion is asked
            last = s.docs[uri].lines[S][col - 1]
            s.change(uri, S, col - 1, S, col, "")
            s.change(uri, S, col - 1, S, col - 1, last)
            res, secs = s.client.request("textDocument/completion", params, timeout=cfg.t_req)
            return [("textDocument/completion", secs, res)]

        log(f"c: completion ({label})")
        run_requests(
            f"c.completion.{prefix or 'empty'}",
            f"c. completion at a relationship endpoint right after a keystroke, {n_entities:,} entities ({label})",
            "textDocument/completion",
            params,
            target=True,
            summarize=sum_completion,
            step=retyped,
        )
        run_requests(
            f"c.completion.{prefix or 'empty'}.again",
            f"c. the same completion asked again (same version), {n_entities:,} entities ({label})",
            "textDocument/completion",
            params,
            summarize=sum_completion,
        )
    for s in sides:  # remove the typed line again
        if s.error is None:
            try:
                s.change(uri, S, 0, S + 1, 0, "")
            except (LspError, LspTimeout, ServerDied, OSError) as e:
                s.error = describe(e)

    pos_params = {"textDocument": td, "position": pos}
    for method, key, summarize, extra in (
        ("textDocument/definition", "definition", sum_locations, {}),
        ("textDocument/references", "references", sum_locations, {"context": {"includeDeclaration": True}}),
        ("textDocument/hover", "hover", sum_hover, {}),
        ("textDocument/rename", "rename", sum_rename, {"newName": f"{ent}_RENAMED"}),
    ):
        log(f"c: {key}")
        run_requests(f"c.{key}", f"c. {key} of `{ent}` on large (line {L + 1})", method, {**pos_params, **extra}, summarize=summarize)
    log("c: formatting")
    run_requests(
        "c.formatting", "c. formatting of large (the whole document)", "textDocument/formatting",
        {"textDocument": td, "options": {"tabSize": 4, "insertSpaces": True}},
        summarize=lambda res: f"{len(res or [])} edit(s)",
    )
    # the same right after a keystroke elsewhere (a character typed into an attribute
    # and taken back): the first request of a new version pays for what it needs built
    A = attrs[0] if (attrs := [i for i in pick_lines(lines, is_attr) if i != L]) else None
    if A is not None:
        acol = len(lines[A]) - len(lines[A].lstrip()) + 1

        def after_keystroke(method: str, params: dict):
            def step(s: Side, k: int):
                s.change(uri, A, acol, A, acol, "x")
                s.change(uri, A, acol, A, acol + 1, "")
                res, secs = s.client.request(method, params, timeout=cfg.t_req)
                return [(method, secs, res)]

            return step

        for method, key, summarize, extra in (
            ("textDocument/definition", "definition", sum_locations, {}),
            ("textDocument/hover", "hover", sum_hover, {}),
            ("textDocument/references", "references", sum_locations, {"context": {"includeDeclaration": True}}),
            ("textDocument/documentHighlight", "highlight", sum_locations, {}),
            ("textDocument/rename", "rename", sum_rename, {"newName": f"{ent}_RENAMED"}),
        ):
            log(f"c: {key} after a keystroke")
            params = {**pos_params, **extra}
            run_requests(
                f"c.{key}.after", f"c. {key} of `{ent}` on large right after a keystroke", method, params,
                summarize=summarize, step=after_keystroke(method, params),
            )

        # semantic tokens as VS Code asks for them after an edit: the whole document, or
        # (the client announces deltas) the edits since the previous answer
        def sum_tokens(res) -> str:
            if not res:
                return "**empty result**"
            if "edits" in res:
                return f"{len(res['edits'])} edit(s), {sum(len(e.get('data') or []) for e in res['edits'])} ints"
            return f"{len(res.get('data', [])) // 5:,} tokens"

        last_id: dict = {}

        def tokens_after(delta: bool):
            def step(s: Side, k: int):
                s.change(uri, A, acol, A, acol, "x")
                s.change(uri, A, acol, A, acol + 1, "")
                if delta and s.name in last_id:
                    method, params = "textDocument/semanticTokens/full/delta", {"textDocument": td, "previousResultId": last_id[s.name]}
                else:
                    method, params = "textDocument/semanticTokens/full", {"textDocument": td}
                res, secs = s.client.request(method, params, timeout=cfg.t_req)
                if isinstance(res, dict) and res.get("resultId") is not None:
                    last_id[s.name] = res["resultId"]
                return [("textDocument/semanticTokens/full", secs, res)]

            return step

        # the outline and the folding ranges, which editors ask for after edits (VS Code
        # for its outline and breadcrumbs): whole-document answers
        def sum_count(res) -> str:
            return f"{len(res or []):,} top-level entries"

        for method, key, label in (
            ("textDocument/documentSymbol", "symbols", "document symbols"),
            ("textDocument/foldingRange", "folding", "folding ranges"),
        ):
            log(f"c: {label} after a keystroke")
            params = {"textDocument": td}
            run_requests(
                f"c.{key}.after", f"c. {label} of large right after a keystroke", method, params,
                summarize=sum_count, step=after_keystroke(method, params),
            )

        # a keystroke while the outline of the version before it is being made (VS Code
        # asks for the outline when typing pauses; typing goes on): its diagnostics
        def keystroke_during_outline(s: Side, k: int):
            s.change(uri, A, acol, A, acol, "x")
            started = s.client.start_request("textDocument/documentSymbol", {"textDocument": td})
            time.sleep(0.1)  # the server is into it (the model alone takes ~50 ms)
            secs, _rec = s.change(uri, A, acol, A, acol + 1, "")
            s.client.finish_request(started, timeout=cfg.t_req)
            return [("keystroke", secs, None)]

        log("c: a keystroke while the outline is made")
        rk = run_requests(
            "c.keystroke.outline", "c. keystroke→diagnostics on large while the outline of the previous version is being made",
            "keystroke", {}, step=keystroke_during_outline,
        )
        rk.anchor = "bare pygls server (empty outline, empty diagnostics)"

        for delta, key, label in ((False, "full", "full"), (True, "delta", "full/delta on the previous answer")):
            log(f"c: semantic tokens ({key}) after a keystroke")
            last_id.clear()
            run_requests(
                f"c.semtok.{key}.after", f"c. semantic tokens ({label}) of large right after a keystroke",
                "textDocument/semanticTokens/full", {"textDocument": td}, summarize=sum_tokens, step=tokens_after(delta),
            )
    return rows


def bench_lsp(cfg: Cfg, files: dict, which: set, state: dict) -> list:
    rows: list = []
    mem: dict = {}
    for size in ("large", "small"):
        if size == "small" and not ({"b", "e"} & which):
            continue
        sides = [Side("erd", erd_cmd(), cfg), Side("bare", bare_cmd(), cfg)]
        try:
            for s in sides:
                try:
                    s.start()
                except Exception as e:  # noqa: BLE001 - reported in the table
                    s.error = describe(e)
                    log(f"{size}: {s.name} did not start: {s.error}")
            path = files[size]
            uri = path.resolve().as_uri()
            for s in sides:
                if s.error:
                    continue
                log(f"{size}: {s.name}: didOpen {path.name}")
                try:
                    secs, count = s.open(path)
                    mem[(s.name, size)] = s.client.rss_kib()
                    mem[(s.name, size, "open_s")] = secs
                    mem[(s.name, size, "diags")] = count
                except (LspTimeout, ServerDied, OSError) as e:
                    s.error = describe(e)
                    log(f"{size}: {s.name}: open failed: {s.error}")
            if size == "large" and "e" in which and sides[0].error is None:
                # what VS Code and Neovim ask for next: a full semantic-tokens answer (it
                # reads every attribute's spans), then VS Code's outline (document symbols,
                # which reads every attribute record: they are decoded when first read)
                try:
                    sides[0].client.request("textDocument/semanticTokens/full", {"textDocument": {"uri": uri}}, timeout=120)
                    mem[("erd", size, "tokens")] = sides[0].client.rss_kib()
                    sides[0].client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}}, timeout=120)
                    mem[("erd", size, "symbols")] = sides[0].client.rss_kib()
                except (LspTimeout, ServerDied, OSError, LspError) as e:
                    log(f"{size}: erd: semantic tokens / document symbols failed: {describe(e)}")
            if size == "large" and "c" in which and sides[0].error is None:
                n_ent = sum(1 for ln in sides[0].docs[uri].lines if is_block_start(ln))
                rows += request_rows(sides, uri, cfg, n_ent)
            elif size == "large" and "c" in which:
                rows.append(Row(key="c.all", name="c. completion, definition, references, hover, rename on large", error=sides[0].error))
            if "b" in which and sides[0].error is None:
                rows += edit_rows(sides, uri, size, cfg, target=(size == "large"))
            elif "b" in which:
                rows.append(Row(key=f"b.{size}", name=f"b. keystroke→diagnostics, {size}", error=sides[0].error))
            for s in sides:
                mem[(s.name, size, "end")] = s.client.rss_kib()
                mem[(s.name, size, "hwm")] = s.client.rss_kib("VmHWM")
            state.setdefault("errors", {})[size] = {s.name: s.error for s in sides}
        finally:
            for s in sides:
                s.close()
    state["mem"] = {"|".join(map(str, k)): v for k, v in mem.items()}

    if "b" in which:  # large/small p50 ratio of the 1-char edit
        by = {r.key: r for r in rows}
        lg, sm = by.get("b.large.1char"), by.get("b.small.1char")
        r = Row(key="b.ratio", name="b. keystroke→diagnostics, large p50 ÷ small p50 (1-char edit)", unit="x", anchor="bare pygls: large ÷ small")
        r.target, r.p50_le = "≤ 2", 2.0
        if lg and sm and lg.samples and sm.samples:
            r.value = lg.median / sm.median
            if lg.anchor_samples and sm.anchor_samples:
                r.anchor_value = lg.anchor_median / sm.anchor_median
        else:
            r.error = "needs both 1-char rows"
        rows.append(r)

    if "e" in which:
        L_large, L_small = nlines(files["large"]), nlines(files["small"])
        r = Row(key="e.rss", name="e. server RSS with large open", unit="MB", anchor="bare pygls server RSS, large open")
        r.target, r.p50_le = "≤ 100 MB", 100.0
        ours, base = mem.get(("erd", "large")), mem.get(("bare", "large"))
        if ours:
            r.value = ours * 1024 / 1e6
            hwm, end = mem.get(("erd", "large", "hwm")), mem.get(("erd", "large", "end"))
            r.notes.append(
                f"after didOpen (diagnostics in {fmt(mem.get(('erd', 'large', 'open_s')), 's')}); RSS at session end {fmt(end * 1024 / 1e6 if end else None, 'MB')}, "
                f"peak (VmHWM) {fmt(hwm * 1024 / 1e6 if hwm else None, 'MB')}"
            )
        else:
            r.error = (state.get("errors", {}).get("large", {}).get("erd")) or "not measured"
        if base:
            r.anchor_value = base * 1024 / 1e6
        else:
            r.anchor_error = "not measured"
        rows.append(r)
        for what, label in (
            ("tokens", "then a full semantic-tokens answer (what VS Code and Neovim ask for on open)"),
            ("symbols", "then the outline (document symbols: every attribute record made)"),
        ):
            r = Row(key=f"e.rss.{what}", name=f"e. server RSS with large open, {label}", unit="MB", anchor="bare pygls server RSS, large open")
            r.target, r.p50_le = "≤ 100 MB", 100.0
            got = mem.get(("erd", "large", what))
            if got:
                r.value = got * 1024 / 1e6
            else:
                r.error = "not measured"
            if base:
                r.anchor_value = base * 1024 / 1e6
            rows.append(r)
        r = Row(key="e.per10k", name="e. retained memory per 10k lines (RSS large − RSS small)", unit="MiB")
        r.target, r.p50_le = "≤ 6 MiB", 6.0
        small = mem.get(("erd", "small"))
        if ours and small:
            r.value = (ours - small) * 1024 / MIB / (L_large - L_small) * 10_000
            r.notes.append(f"RSS with small open {small / 1024:.1f} MiB, with large open {ours / 1024:.1f} MiB; {L_large - L_small:,} lines apart")
        else:
            r.error = "not measured"
        if "mermaid_retained_per10k_mib" in state:
            r.anchor = "Mermaid ErDB retained heap per 10k lines (this run, large)"
            r.anchor_value = state["mermaid_retained_per10k_mib"]
        else:
            r.anchor = f"Mermaid ErDB {MERMAID_RETAINED_DOC_MIB} MiB per 10k lines (anchors doc; not measured here)"
            r.anchor_value = MERMAID_RETAINED_DOC_MIB
        bs = mem.get(("bare", "small"))
        if base and bs:
            r.notes.append(f"bare pygls: {(base - bs) * 1024 / MIB / (L_large - L_small) * 10_000:.2f} MiB per 10k lines (keeps no text)")
        rows.append(r)
    return rows


# ---------------------------------------------------------------------------------------
# (d) --check


def check_cmd() -> list:
    exe = Path(PY).parent / "erd-lsp"
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("erd-lsp")
    return [found] if found else [PY, "-m", "erd_lsp"]


def bench_d(cfg: Cfg, files: dict) -> list:
    cmd = check_cmd()
    tree, small = files["tree"], files["small"]
    n_files = sum(1 for p in tree.rglob("*") if p.is_file())
    r_tree = Row(key="d.tree", name=f"d. `erd-lsp --check` on a {n_files:,}-file Markdown tree (wall, start-up included)", anchor="`python -c pass`")
    r_tree.target, r_tree.p50_le = "≤ 4 s", 4.0
    r_small = Row(key="d.small", name="d. `erd-lsp --check` on one small file (wall, start-up included)", anchor="`python -c pass`")
    r_small.target, r_small.p50_le = "≤ 150 ms", 0.150
    for row, target, runs, warm in ((r_small, small, cfg.small_check_runs, 1), (r_tree, tree, cfg.tree_runs, 0 if cfg.quick else 1)):
        log(f"d: --check {target.name} ({runs} runs, interleaved with python -c pass)")
        cpus, rcs = [], set()
        try:
            for i in range(warm + runs):
                rc, _, err, wall, cpu = run_child([*cmd, "--check", str(target)], timeout=600, capture=False)
                if rc not in (0, 1):
                    raise RuntimeError(f"exit {rc}: {(err.strip().splitlines() or [''])[-1][:100]}")
                _, _, _, wall0, _ = run_child([PY, "-c", "pass"], timeout=60, capture=False)
                if i >= warm:
                    row.samples.append(wall)
                    row.anchor_samples.append(wall0)
                    cpus.append(cpu)
                    rcs.add(rc)
        except (TimeoutError, RuntimeError, OSError) as e:
            if not row.samples:
                row.error = str(e)[:140]
        if row.samples:
            row.notes.append(f"n={len(row.samples)}; CPU (user+sys, all processes) median {fmt(med(cpus), 's')}; exit status {sorted(rcs)}")
    rows = [r_tree, r_small]
    ref = Row(
        key="d.tree.ref",
        name="d. `--check` tree vs Mermaid's parse of the tree in one Node process",
        anchor="Mermaid in Node, 67.7 s (anchors doc; not measured here)",
    )
    ref.samples, ref.anchor_value, ref.error = list(r_tree.samples), NODE_TREE_S, r_tree.error
    ref.notes.append(f"mmdc over the same tree: about 4.5 h extrapolated (anchors doc) → {fmt_ratio(med(r_tree.samples) / MMDC_TREE_S if r_tree.samples else None)}")
    ref2 = Row(key="d.small.ref", name="d. `--check` one small file vs mmdc", anchor="mmdc 12.2.0 + chromium, 6.03 s (anchors doc; not measured here)")
    ref2.samples, ref2.anchor_value, ref2.error = list(r_small.samples), MMDC_SMALL_S, r_small.error
    return rows + [ref, ref2]


# ---------------------------------------------------------------------------------------
# (f) start-up


def bench_f(cfg: Cfg) -> list:
    r = Row(key="f.start", name="f. server spawn → `initialize` result", anchor="bare pygls server")
    r.target, r.ratio_le = "≤ 1.2× bare pygls", 1.2
    log(f"f: spawn → initialize ({cfg.start_runs} runs each, interleaved)")
    for i in range(cfg.start_runs + 1):  # the first pair warms the page cache
        order = [("erd", erd_cmd()), ("bare", bare_cmd())]
        if i % 2:
            order.reverse()
        for name, cmd in order:
            c = LspClient(cmd, cwd=str(ROOT), stderr_path=str(cfg.tmp / f"start-{name}.stderr"))
            try:
                c.start()
                _, secs = c.initialize(CLIENT_CAPS, timeout=cfg.t_init)
                if i > 0:
                    (r.samples if name == "erd" else r.anchor_samples).append(secs)
            except Exception as e:  # noqa: BLE001 - reported in the table
                if name == "erd":
                    r.error = describe(e)
                else:
                    r.anchor_error = describe(e)
            finally:
                c.close(graceful=not ABORTING)
        if r.error or r.anchor_error:
            break
    if r.samples:
        r.notes.append(f"n={len(r.samples)} (anchor n={len(r.anchor_samples)}); `python -m erd_lsp` vs `python bench/bare_server.py`")
    return [r]


# ---------------------------------------------------------------------------------------


def machine_note() -> dict:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    node = shutil.which("node")
    node_v = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else "absent"
    try:
        from importlib.metadata import version

        pygls_v = version("pygls")
    except Exception:  # noqa: BLE001
        pygls_v = "?"
    try:
        mver = json.loads((MERMAID_DIR / "node_modules" / "mermaid" / "package.json").read_text())["version"]
    except (OSError, ValueError):
        mver = "not installed"
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        rev = rev + (" + uncommitted changes" if dirty else "")
    except OSError:
        rev = "?"
    return {
        "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu, "cpus": os.cpu_count(), "memory": mem, "os": platform.platform(terse=True),
        "python": platform.python_version(), "node": node_v, "pygls": pygls_v, "mermaid": mver, "commit": rev,
        "load_before": os.getloadavg(),
    }


def compile_bytecode() -> str:
    """Compile erd_lsp to bytecode first, as ``pip install`` does. An editable install
    under PYTHONDONTWRITEBYTECODE=1 (set on the project machines) would otherwise compile
    every module from source in every process: about 85 ms of each ``--check`` start."""
    r = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "erd_lsp")], capture_output=True, text=True
    )
    return "compiled (compileall)" if r.returncode == 0 else f"compileall failed: {r.stderr.strip()[:200]}"


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description="erd-lsp benchmarks (see the module docstring)")
    ap.add_argument("--quick", action="store_true", help="fewer samples (about 3 minutes)")
    ap.add_argument("--only", default="a,b,c,d,e,f", help="comma-separated subset of a,b,c,d,e,f")
    ap.add_argument("--json", metavar="OUT", help="also write every row, with its samples, as JSON")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the generated inputs and server logs")
    a = ap.parse_args(argv)
    which = {w.strip().lower() for w in a.only.split(",") if w.strip()}
    bad = which - set("abcdef")
    if bad:
        ap.error(f"--only: unknown measurement(s) {', '.join(sorted(bad))} (choose from a,b,c,d,e,f)")
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    need = set(SIZES) if "a" in which else set()
    need |= {"small", "large"} if {"b", "c", "e"} & which else set()
    need |= {"small"} if "d" in which else set()
    if need and not GEN.is_file():
        print(
            f"bench: {GEN} not found.\n  The benchmark generates its inputs with the shared perf tools "
            f"(expected at {SHARED}, i.e. ../shared next to the project); set ERD_BENCH_SHARED to point elsewhere.",
            file=sys.stderr,
        )
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="erd-bench-"))
    cfg = Cfg.make(a.quick, tmp)
    info = machine_note()
    info["bytecode"] = compile_bytecode()
    t0 = time.monotonic()
    rows: list = []
    state: dict = {}
    try:
        log(f"inputs → {tmp}")
        files = generate_inputs(cfg, [s for s in SIZES if s in need], want_tree="d" in which)
        if "a" in which:
            rows += bench_a(cfg, files, state)
        if {"b", "c", "e"} & which:
            rows += bench_lsp(cfg, files, which, state)
        if "d" in which:
            rows += bench_d(cfg, files)
        if "f" in which:
            rows += bench_f(cfg)
    except KeyboardInterrupt:
        print("bench: interrupted; servers and child processes stopped", file=sys.stderr)
        return 130
    finally:
        _reap_children()
        if a.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    info["load_after"] = os.getloadavg()
    info["seconds"] = round(time.monotonic() - t0, 1)
    rows.sort(key=lambda r: r.key[0])

    mode = "quick" if a.quick else "full"
    print(
        f"erd-lsp benchmarks ({mode}), {info['date']}: {info['cpus']} × {info['cpu']}, {info['memory']}, {info['os']}; "
        f"Python {info['python']}, Node {info['node']}, pygls {info['pygls']}, Mermaid {info['mermaid']}; commit {info['commit']}; "
        f"load average {info['load_before'][0]:.1f} → {info['load_after'][0]:.1f}; {info['seconds']:.0f} s; "
        f"erd_lsp bytecode {info['bytecode']}\n"
    )
    print(table(rows))
    print()
    print("Ratio = our median ÷ the anchor's median (lower is better); p95/p99 are nearest-rank over the samples.")
    for r in rows:
        for note in r.notes:
            print(f"- {r.name}: {note}")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"info": info, "mode": mode, "rows": [r.as_json() for r in rows], "state": state}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
