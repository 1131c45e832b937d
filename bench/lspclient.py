"""A minimal LSP (JSON-RPC 2.0 over stdio) client for the benchmarks.

Standard library only, no pygls/lsprotocol on the client side, so that what the client
costs is small and the same for every server it talks to. One reader thread parses the
server's frames and stamps each message with ``time.perf_counter()`` the moment it is
complete; the caller measures ``arrival - send``.

* ``request(method, params, timeout)`` returns ``(result, seconds)`` or raises
  :class:`LspError` (an error response) / :class:`LspTimeout` / :class:`ServerDied`.
* ``notify(method, params)`` returns the send time.
* ``wait_diagnostics(uri, version, since, timeout)`` waits for the
  ``textDocument/publishDiagnostics`` of that document version (or, when the server
  publishes without a version, the first one after sequence number ``since``) and returns
  the record (arrival time, version, number of diagnostics, codes).
* Requests the server sends to the client (``client/registerCapability``,
  ``workspace/configuration``, ``window/workDoneProgress/create``, ...) are answered with
  ``null`` so that the server never waits on us.
* ``close()`` always ends the process: ``shutdown`` + ``exit``, then SIGTERM, then SIGKILL
  of its process group. Every live client is also closed at interpreter exit.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

__all__ = ["LspClient", "LspError", "LspTimeout", "ServerDied", "DiagRecord", "rss_kib", "kill_group"]


class LspError(Exception):
    """The server answered a request with an error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class LspTimeout(Exception):
    pass


class ServerDied(Exception):
    pass


@dataclass
class DiagRecord:
    seq: int
    t: float
    uri: str
    version: Optional[int]
    count: int
    codes: list = field(default_factory=list)


def rss_kib(pid: int, field_name: str = "VmRSS") -> Optional[int]:
    """A /proc/PID/status memory field in KiB (VmRSS, VmHWM, ...), None if unavailable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def kill_group(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """SIGTERM then SIGKILL the process group of ``proc`` (started with start_new_session)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                proc.send_signal(sig)
            except (ProcessLookupError, OSError):
                pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


_LIVE: "set[LspClient]" = set()


@atexit.register
def _close_all() -> None:
    for c in list(_LIVE):
        c.close(graceful=False)


class LspClient:
    def __init__(self, cmd: list, cwd: Optional[str] = None, env: Optional[dict] = None, stderr_path: Optional[str] = None) -> None:
        self.cmd = list(cmd)
        self.cwd = cwd
        self.env = env
        self.stderr_path = stderr_path
        self.proc: Optional[subprocess.Popen] = None
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        self._cond = threading.Condition()
        self._responses: dict = {}  # id -> (t, message)
        self._diags: dict = {}  # uri -> [DiagRecord]
        self._seq = 0
        self._dead: Optional[str] = None
        self._reader: Optional[threading.Thread] = None
        self._stderr_file = None
        self.t_spawn: Optional[float] = None
        self.server_requests: list = []  # methods the server asked us

    # -- process ------------------------------------------------------------------------
    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def start(self) -> "LspClient":
        self._stderr_file = open(self.stderr_path, "ab") if self.stderr_path else subprocess.DEVNULL
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(
            self.cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            cwd=self.cwd,
            env=self.env,
            bufsize=0,
            start_new_session=True,
        )
        _LIVE.add(self)
        self._reader = threading.Thread(target=self._read_loop, name="lsp-reader", daemon=True)
        self._reader.start()
        return self

    def initialize(self, capabilities: dict, timeout: float = 60.0, **extra: Any) -> tuple:
        """``initialize`` + ``initialized``; returns (result, seconds since spawn)."""
        params = {"processId": os.getpid(), "rootUri": None, "capabilities": capabilities, "workspaceFolders": None}
        params.update(extra)
        rid = self._send_request("initialize", params)
        t, msg = self._wait_response(rid, timeout)
        if "error" in msg:
            raise LspError(msg["error"].get("code", 0), msg["error"].get("message", ""))
        self.notify("initialized", {})
        return msg.get("result"), t - self.t_spawn

    def close(self, graceful: bool = True, timeout: float = 5.0) -> None:
        """End the server; never leaves the process behind."""
        if self.proc is None:
            return
        try:
            if graceful and self.proc.poll() is None and self._dead is None:
                try:
                    self.request("shutdown", None, timeout=timeout)
                except Exception:
                    pass
                try:
                    self.notify("exit", None)
                except Exception:
                    pass
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            kill_group(self.proc)
            for s in (self.proc.stdin, self.proc.stdout):
                try:
                    if s:
                        s.close()
                except OSError:
                    pass
            if self._stderr_file not in (None, subprocess.DEVNULL):
                try:
                    self._stderr_file.close()
                except OSError:
                    pass
            if self._reader is not None:
                self._reader.join(timeout=2.0)
            _LIVE.discard(self)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self._dead is None

    def rss_kib(self, field_name: str = "VmRSS") -> Optional[int]:
        return rss_kib(self.proc.pid, field_name) if self.proc else None

    # -- wire -----------------------------------------------------------------------------
    def _write(self, msg: dict) -> float:
        body = json.dumps(msg, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        data = b"Content-Length: %d\r\n\r\n" % len(body) + body
        if self.proc is None or self.proc.poll() is not None:
            raise ServerDied(f"server is not running (exit code {self.proc.returncode if self.proc else None})")
        with self._write_lock:
            t = time.perf_counter()
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                raise ServerDied(f"cannot write to server: {e}") from e
        return t

    def _read_exact(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            chunk = self.proc.stdout.read(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return bytes(out)

    def _read_loop(self) -> None:
        stdout = self.proc.stdout
        try:
            while True:
                length = None
                while True:
                    line = stdout.readline()
                    if not line:
                        raise EOFError
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length is None:
                    continue
                body = self._read_exact(length)
                t = time.perf_counter()
                try:
                    msg = json.loads(body)
                except ValueError:
                    continue
                self._dispatch(msg, t)
        except (EOFError, OSError, ValueError):
            pass
        finally:
            with self._cond:
                self._dead = self._dead or "server closed its output"
                self._cond.notify_all()

    def _dispatch(self, msg: dict, t: float) -> None:
        method = msg.get("method")
        if method is None:
            with self._cond:
                self._responses[msg.get("id")] = (t, msg)
                self._cond.notify_all()
            return
        if "id" in msg:  # a request from the server: answer null, never block it
            self.server_requests.append(method)
            try:
                self._write({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            except ServerDied:
                pass
            return
        if method == "textDocument/publishDiagnostics":
            p = msg.get("params") or {}
            diags = p.get("diagnostics") or []
            with self._cond:
                self._seq += 1
                rec = DiagRecord(self._seq, t, p.get("uri"), p.get("version"), len(diags), sorted({str(d.get("code")) for d in diags}))
                recs = self._diags.setdefault(rec.uri, [])
                recs.append(rec)
                if len(recs) > 64:
                    del recs[:-32]
                self._cond.notify_all()

    def _send_request(self, method: str, params: Any) -> int:
        rid = next(self._ids)
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self._last_send = self._write(msg)
        return rid

    def _wait_response(self, rid: int, timeout: float) -> tuple:
        deadline = time.monotonic() + timeout
        with self._cond:
            while rid not in self._responses:
                if self._dead is not None:
                    raise ServerDied(self._dead_message())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LspTimeout(f"no response within {timeout:g} s")
                self._cond.wait(left)
            return self._responses.pop(rid)

    def _dead_message(self) -> str:
        rc = self.proc.poll() if self.proc else None
        tail = ""
        if self.stderr_path:
            try:
                with open(self.stderr_path, "rb") as f:
                    f.seek(0, 2)
                    f.seek(max(0, f.tell() - 400))
                    tail = f.read().decode("utf-8", "replace").strip().splitlines()[-1:]
                    tail = f"; stderr: {tail[0]}" if tail else ""
            except OSError:
                pass
        return f"{self._dead} (exit code {rc}){tail}"

    # -- API ------------------------------------------------------------------------------
    def start_request(self, method: str, params: Any) -> tuple:
        """Send a request without waiting: ``(id, send time)`` for :meth:`finish_request`."""
        rid = self._send_request(method, params)
        return rid, self._last_send

    def finish_request(self, started: tuple, timeout: float = 30.0) -> tuple:
        """Wait for the response of a started request: (result, seconds from send)."""
        rid, t0 = started
        t, msg = self._wait_response(rid, timeout)
        if "error" in msg:
            err = msg["error"] or {}
            raise LspError(err.get("code", 0), err.get("message", ""))
        return msg.get("result"), t - t0

    def request(self, method: str, params: Any, timeout: float = 30.0) -> tuple:
        """Send a request, wait for its response: (result, seconds from send to arrival)."""
        rid = self._send_request(method, params)
        t0 = self._last_send
        t, msg = self._wait_response(rid, timeout)
        if "error" in msg:
            err = msg["error"] or {}
            raise LspError(err.get("code", 0), err.get("message", ""))
        return msg.get("result"), t - t0

    def notify(self, method: str, params: Any) -> float:
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        return self._write(msg)

    def diag_seq(self) -> int:
        with self._cond:
            return self._seq

    def wait_diagnostics(self, uri: str, version: Optional[int], since: int, timeout: float) -> DiagRecord:
        """The publishDiagnostics for ``uri`` at ``version`` (or, unversioned, after ``since``)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for rec in self._diags.get(uri, ()):
                    if rec.seq <= since:
                        continue
                    if rec.version == version or rec.version is None:
                        return rec
                if self._dead is not None:
                    raise ServerDied(self._dead_message())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LspTimeout(f"no diagnostics for version {version} within {timeout:g} s")
                self._cond.wait(left)
