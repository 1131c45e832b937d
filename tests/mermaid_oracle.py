"""Drive the real Mermaid parser (tests/mermaid/dump.mjs) from the tests.

One long-lived ``node tests/mermaid/dump.mjs`` process answers any number of
batches: :meth:`MermaidOracle.run` sends every text of a batch (one JSON line
each), then reads one JSON result line per text, in order.

Each result is a dict in the same shape as erd_lsp's diagram export::

    {"ok": bool, "diagramType": "er" | other type | None, "error": str | None,
     "entities": [{"name", "alias", "implicit": None,
                   "attributes": [{"type", "name", "keys", "comment"}]}],
     "relationships": [{"left", "right", "leftCardinality", "rightCardinality",
                        "identifying", "label"}],
     "direction": "TB" | "BT" | "LR" | "RL" | None, "accTitle": str, "accDescr": str,
     "classes": {id: {"styles": [...], "textStyles": [...]}},
     "entityClasses": {name: [class, ...]}, "entityStyles": {name: [style, ...]},
     "subgraphs": [{"id", "title", "nodes", "dir"}]}

See tests/mermaid/dump.mjs for the details of each field.  Tests get an
instance from the session-scoped ``mermaid_oracle`` fixture in conftest.py.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

MERMAID_DIR = Path(__file__).resolve().parent / "mermaid"
DUMP_SCRIPT = MERMAID_DIR / "dump.mjs"
REQUIRE_ENV = "ERD_REQUIRE_MERMAID"
INSTALL_HINT = "run `npm ci` in tests/mermaid"


class MermaidOracleError(RuntimeError):
    """dump.mjs died, hung or answered out of protocol."""


def mermaid_required() -> bool:
    """True when ERD_REQUIRE_MERMAID=1: a missing Mermaid is an error, not a skip."""
    return os.environ.get(REQUIRE_ENV) == "1"


def unavailable_reason() -> str | None:
    """Why the Mermaid oracle cannot run here, or None if it can."""
    if shutil.which("node") is None:
        return "node is not on PATH (needed for the Mermaid oracle, tests/mermaid/dump.mjs)"
    for package in ("mermaid", "jsdom"):
        if not (MERMAID_DIR / "node_modules" / package / "package.json").is_file():
            return f"tests/mermaid/node_modules/{package} is missing ({INSTALL_HINT})"
    return None


class MermaidOracle:
    """A running dump.mjs process; run() calls are serialised by a lock."""

    def __init__(self, node: str | None = None) -> None:
        node = node or shutil.which("node")
        if node is None:
            raise MermaidOracleError("node is not on PATH")
        self._proc = subprocess.Popen(
            [node, str(DUMP_SCRIPT)],
            cwd=str(MERMAID_DIR),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name="mermaid-oracle-stderr", daemon=True
        )
        self._stderr_thread.start()
        self._lock = threading.Lock()
        self._next_id = 0
        # Fail now (with node's stderr) rather than in the first test if the
        # script cannot load Mermaid; this also pays the import cost up front.
        (first,) = self.run(["erDiagram\n"], timeout=120)
        if not first["ok"]:
            raise MermaidOracleError(f"dump.mjs rejected an empty erDiagram: {first['error']}")

    def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            self._stderr_tail.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def _failure(self, what: str) -> MermaidOracleError:
        code = self._proc.poll()
        tail = "\n".join(list(self._stderr_tail)[-40:])
        return MermaidOracleError(
            f"{what} (node exit status: {code}); last stderr lines:\n{tail or '(none)'}"
        )

    def run(self, texts: list[str], timeout: float | None = 600.0) -> list[dict[str, Any]]:
        """Mermaid's verdict and model for each text, in order (one round trip).

        ``timeout`` (seconds) bounds the whole batch; on expiry the node
        process is killed and MermaidOracleError is raised (the oracle is then
        unusable for the rest of the session).
        """
        texts = list(texts)
        if not texts:
            return []
        with self._lock:
            if self._proc.poll() is not None:
                raise self._failure("dump.mjs is not running")
            first_id = self._next_id
            self._next_id += len(texts)
            payload = b"".join(
                json.dumps({"id": first_id + i, "text": t}).encode("ascii") + b"\n"
                for i, t in enumerate(texts)
            )
            # Write from a thread while reading here: node answers as it reads, so
            # writing everything before reading anything could fill both pipes.
            write_error: list[BaseException] = []

            def write() -> None:
                try:
                    assert self._proc.stdin is not None
                    self._proc.stdin.write(payload)
                    self._proc.stdin.flush()
                except BaseException as e:  # reported after reading fails
                    write_error.append(e)

            writer = threading.Thread(target=write, name="mermaid-oracle-stdin", daemon=True)
            timed_out = threading.Event()

            def on_timeout() -> None:
                timed_out.set()
                self._proc.kill()

            timer = threading.Timer(timeout, on_timeout) if timeout else None
            writer.start()
            if timer:
                timer.daemon = True
                timer.start()
            results: list[dict[str, Any]] = []
            try:
                assert self._proc.stdout is not None
                for i in range(len(texts)):
                    line = self._proc.stdout.readline()
                    if not line:
                        why = "dump.mjs closed its output"
                        if timed_out.is_set():
                            why = f"dump.mjs did not answer {len(texts)} texts within {timeout} s"
                        if write_error:
                            why += f"; writing failed: {write_error[0]!r}"
                        raise self._failure(f"{why} after {i} of {len(texts)} results")
                    try:
                        result = json.loads(line)
                    except ValueError:
                        raise self._failure(f"dump.mjs printed a non-JSON line: {line[:200]!r}")
                    if result.get("id") != first_id + i:
                        raise self._failure(
                            f"dump.mjs answered id {result.get('id')!r}, expected {first_id + i}"
                        )
                    del result["id"]
                    results.append(result)
            except BaseException:
                # the result stream is out of step now: stop the process for good
                self._proc.kill()
                raise
            finally:
                if timer:
                    timer.cancel()
            writer.join()
            return results

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        self._stderr_thread.join(timeout=10)
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> MermaidOracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
