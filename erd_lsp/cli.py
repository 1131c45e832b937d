"""The ``erd-lsp`` command: a CI checker, a JSON exporter and the language server's launcher.

::

    erd-lsp                          start the language server (stdio)
    erd-lsp lsp [--tcp HOST:PORT]    the same, or over TCP
    erd-lsp --check [PATH ...]       check files and directories (``check`` works too)
    erd-lsp export --format json PATH ...
    erd-lsp rule CODE | --all
    erd-lsp --version

This module is a thin front end over :mod:`erd_lsp.analysis`: it finds and reads files,
turns I/O problems into messages and exit codes, and prints what :mod:`erd_lsp.render`
formats. It imports the language-server libraries (pygls, lsprotocol) only in the branch
that starts the server, so that ``--check`` stays light.

Exit codes: 0 no problems, 1 problems reported, 2 usage error or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import NamedTuple, Optional, Sequence

from erd_lsp import __version__
from erd_lsp.analysis import Document, Settings, Severity
from erd_lsp.analysis.rules import BY_CODE, BY_NAME, RULES
from erd_lsp.render import (
    OUTPUT_FORMATS,
    export_file,
    render_diagnostics,
    render_rule,
    render_rule_table,
    render_summary,
)
from erd_lsp.syntax.hosts import host_kind_for_path

__all__ = ["main"]

PROG = "erd-lsp"

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2

#: Suffixes a directory walk picks up (explicit files are read whatever their suffix).
SUFFIXES = (".mmd", ".mermaid", ".md", ".markdown", ".mdx")
#: Directories a walk never enters (besides hidden ones).
SKIP_DIRS = frozenset({"node_modules"})
#: More files than this are checked in worker processes.
PARALLEL_THRESHOLD = 50

STDIN = "-"

# A fence line, for files whose suffix does not say what they are.
_FENCE_LINE = re.compile(r"^[ \t>]*(?:`{3,}|~{3,}|:{3,}[ \t]*\{?mermaid)", re.MULTILINE | re.IGNORECASE)


class UsageError(Exception):
    """Bad command-line input found after argparse (reported like argparse's own)."""


# ---------------------------------------------------------------------------
# files


class Source(NamedTuple):
    """One input: what to print as its name and where to read it (None = stdin)."""

    display: str
    fs_path: Optional[str]


class FileResult(NamedTuple):
    """What checking one file produced (plain data, so it crosses process boundaries)."""

    display: str
    output: str = ""
    errors: int = 0
    warnings: int = 0
    others: int = 0
    diagrams: int = 0
    read_error: Optional[str] = None


def _sort_key(display: str) -> tuple:
    return tuple(os.path.normpath(display).split(os.sep)) if display != STDIN else ("-",)


def _is_hidden(name: str) -> bool:
    return name.startswith(".") and name not in (".", "..")


def collect(paths: Sequence[str]) -> tuple[list[Source], list[FileResult]]:
    """The files to read, sorted by path and deduplicated, and the directory errors met on
    the way (as results carrying a read error)."""
    sources: list[Source] = []
    problems: list[FileResult] = []
    for given in paths:
        if given == STDIN:
            sources.append(Source(STDIN, None))
        elif os.path.isdir(given):
            _walk(given, sources, problems)
        else:
            sources.append(Source(given, given))
    seen = set()
    unique = []
    for s in sorted(sources, key=lambda s: _sort_key(s.display)):
        key = STDIN if s.fs_path is None else os.path.normcase(os.path.abspath(s.fs_path))
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return unique, problems


def _walk(root: str, sources: list[Source], problems: list[FileResult]) -> None:
    def onerror(e: OSError) -> None:
        where = e.filename if isinstance(e.filename, str) else root
        problems.append(FileResult(where, read_error=f"cannot read {where}: {_reason(e)}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d) and d not in SKIP_DIRS)
        for name in sorted(filenames):
            if name.lower().endswith(SUFFIXES):
                fs_path = os.path.join(dirpath, name)
                display = os.path.relpath(fs_path) if root in (".", os.curdir) else fs_path
                sources.append(Source(display, fs_path))


def _reason(e: BaseException) -> str:
    if isinstance(e, UnicodeDecodeError):
        return f"not valid UTF-8 ({e.reason} at byte {e.start})"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__


def read_text(source: Source) -> str:
    """The text of a source, decoded as strict UTF-8 with its line endings kept."""
    if source.fs_path is None:
        stdin = sys.stdin
        if stdin is None or getattr(stdin, "closed", False):
            raise OSError("standard input is not available")
        data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")
    else:
        with open(source.fs_path, "rb") as f:
            data = f.read()
    return data.decode("utf-8", errors="strict")


def kind_for(name: str, text: str, default: Optional[str] = None) -> str:
    """The host kind: by suffix, else ``default``, else Markdown when the text has a fence
    line and Mermaid otherwise."""
    kind = host_kind_for_path(name)
    if kind is not None:
        return kind
    if default is not None:
        return default
    return "markdown" if _FENCE_LINE.search(text) else "mermaid"


class _Job(NamedTuple):
    source: Source
    kind_name: str  # the name whose suffix gives the kind
    default_kind: Optional[str]
    text: Optional[str]  # already read (stdin), else None
    settings: Settings
    output_format: str


def check_one(job: _Job) -> FileResult:
    """Read and check one file. Runs in worker processes too: returns plain data only."""
    display = job.source.display
    try:
        text = job.text if job.text is not None else read_text(job.source)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return FileResult(display, read_error=f"cannot read {display}: {_reason(e)}")
    doc = Document(text, kind_for(job.kind_name, text, job.default_kind), display)
    diagnostics = doc.diagnostics(job.settings)
    errors = sum(1 for d in diagnostics if d.severity == Severity.ERROR)
    warnings = sum(1 for d in diagnostics if d.severity == Severity.WARNING)
    output = render_diagnostics(job.output_format, display, doc, diagnostics) if diagnostics else ""
    return FileResult(display, output, errors, warnings, len(diagnostics) - errors - warnings, len(doc.units))


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run_jobs(jobs: list[_Job]):
    """Results in the order of ``jobs``: in worker processes when there are many files and
    cores, else here. A pool that cannot start falls back to checking here."""
    workers = min(_workers(), len(jobs))
    if len(jobs) > PARALLEL_THRESHOLD and workers > 1:
        try:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=workers) as pool:
                chunk = max(1, len(jobs) // (workers * 4))
                results = list(pool.map(check_one, jobs, chunksize=chunk))
            yield from results
            return
        except (OSError, ImportError, NotImplementedError, RuntimeError):
            pass  # no multiprocessing here (sandbox, missing semaphores...): do it serially
    for job in jobs:
        yield check_one(job)


# ---------------------------------------------------------------------------
# output helpers


def _write(stream, text: str) -> None:
    """Write, replacing characters the stream's encoding cannot represent."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        enc = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(enc, "backslashreplace").decode(enc))


def _error(message: str) -> None:
    _write(sys.stderr, f"{PROG}: error: {message}\n")


def _warning(message: str) -> None:
    _write(sys.stderr, f"{PROG}: warning: {message}\n")


# ---------------------------------------------------------------------------
# argument parsing


def _codes(values: Optional[list[str]], option: str) -> Optional[frozenset]:
    """Rule codes from comma lists. A token selects the codes it is a prefix of (``E``,
    ``E00``, ``E002``; case-insensitive), ``ALL`` selects every rule, and a rule's name
    (``conflict-marker``) works too. A token that matches no rule is a usage error."""
    if values is None:
        return None
    out = set()
    for value in values:
        for token in value.split(","):
            token = token.strip()
            if not token:
                continue
            if token.lower() in BY_NAME:
                out.add(BY_NAME[token.lower()].CODE)
                continue
            t = token.upper()
            matched = list(BY_CODE) if t == "ALL" else [c for c in BY_CODE if c.startswith(t)]
            if not matched:
                known = ", ".join(sorted(BY_CODE))
                raise UsageError(f"unknown rule code `{token}` in {option} (known codes: {known})")
            out.update(matched)
    return frozenset(out)


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help="the name to show for `-` (standard input); its suffix chooses the kind",
    )


def _check_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"{PROG} check",
        description="Check Mermaid ER diagrams in .mmd/.mermaid files and Markdown documents.",
        epilog="Exit status: 0 no problems, 1 problems found, 2 usage error or unreadable input.",
    )
    p.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files, directories (searched for .mmd .mermaid .md .markdown .mdx) or - for stdin; "
        "default: the current directory",
    )
    p.add_argument("--select", action="append", metavar="CODES", help="only these rules (comma list)")
    p.add_argument("--ignore", action="append", metavar="CODES", help="not these rules (comma list)")
    p.add_argument(
        "--output-format", choices=OUTPUT_FORMATS, default="full", help="how to print diagnostics (default: full)"
    )
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found")
    _add_input_options(p)
    return p


def _export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"{PROG} export", description="Print the entities and relationships of the ER diagrams as JSON."
    )
    p.add_argument("--format", choices=("json",), default="json", help="output format (default: json)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, directories or - for stdin")
    _add_input_options(p)
    return p


def _rule_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"{PROG} rule", description="Explain a rule.")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("code", nargs="?", metavar="CODE", help="a rule code (E002) or name (conflict-marker)")
    g.add_argument("--all", action="store_true", help="list every rule")
    return p


def _lsp_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"{PROG} lsp", description="Run the language server (stdio by default).")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.add_argument("--stdio", action="store_true", help="use stdio (the default)")
    return p


_TOP_HELP = f"""\
usage: {PROG} [--version] [-h]
       {PROG} [lsp] [--tcp HOST:PORT]
       {PROG} --check [PATH ...] [options]     (or: {PROG} check ...)
       {PROG} export --format json PATH ...
       {PROG} rule CODE | --all

A language server and CI checker for Mermaid entity-relationship diagrams.

commands:
  (none), lsp   run the language server (stdio, or TCP with --tcp HOST:PORT)
  --check, check
                check files and directories; exit 0 when clean, 1 on problems,
                2 on usage errors or unreadable input
  export        print the diagrams' entities and relationships as JSON
  rule          explain a rule (rule --all lists them)

Run `{PROG} COMMAND --help` for a command's options.
"""

_COMMANDS = ("check", "export", "rule", "lsp")


def _split_command(argv: list[str]) -> tuple[str, list[str]]:
    """The command and its arguments. ``--check`` anywhere before ``--`` means ``check``;
    no arguments, or only server options, mean ``lsp``."""
    if not argv:
        return "lsp", []
    if argv[0] in _COMMANDS:
        return argv[0], argv[1:]
    head = argv[: argv.index("--")] if "--" in argv else argv
    if "--check" in head:
        return "check", argv
    if argv[0] in ("-h", "--help"):
        return "help", []
    if argv[0] in ("-V", "--version"):
        return "version", []
    if argv[0].startswith(("--tcp", "--stdio")):
        return "lsp", argv
    return "unknown", argv


def _parse_tcp(value: str) -> Optional[tuple[str, int]]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


# ---------------------------------------------------------------------------
# commands


def _make_jobs(args, settings: Settings, output_format: str) -> tuple[list[_Job], list[FileResult]]:
    paths = list(args.paths)
    if not paths:
        paths = [STDIN] if args.stdin_filename else ["."]
    sources, problems = collect(paths)
    jobs = []
    for s in sources:
        if s.fs_path is None:
            name = args.stdin_filename
            display = name or STDIN
            text = None
            try:
                text = read_text(s)
            except (OSError, UnicodeDecodeError, ValueError) as e:
                problems.append(FileResult(display, read_error=f"cannot read {display}: {_reason(e)}"))
                continue
            jobs.append(
                _Job(Source(display, None), name or ".mmd", None if name else "mermaid", text, settings, output_format)
            )
        else:
            jobs.append(_Job(s, s.fs_path, None, None, settings, output_format))
    return jobs, problems


def _run_check(argv: list[str]) -> int:
    parser = _check_parser()
    args = parser.parse_args(argv)
    try:
        select = _codes(args.select, "--select")
        ignore = _codes(args.ignore, "--ignore") or frozenset()
    except UsageError as e:
        parser.error(str(e))
    settings = Settings(select=select or None, ignore=ignore)
    jobs, problems = _make_jobs(args, settings, args.output_format)

    results = sorted(problems, key=lambda r: _sort_key(r.display))
    pending = list(results)
    totals = dict(errors=0, warnings=0, others=0, problem_files=0, diagrams=0, files=0, unreadable=0)

    def report(r: FileResult) -> None:
        if r.read_error is not None:
            sys.stdout.flush()
            _error(r.read_error)
            totals["unreadable"] += 1
            return
        totals["files"] += 1
        totals["diagrams"] += r.diagrams
        if r.errors or r.warnings or r.others:
            totals["problem_files"] += 1
            totals["errors"] += r.errors
            totals["warnings"] += r.warnings
            totals["others"] += r.others
            _write(sys.stdout, r.output)

    # directory errors are interleaved with the files in path order
    for r in run_jobs(jobs):
        while pending and _sort_key(pending[0].display) <= _sort_key(r.display):
            report(pending.pop(0))
        report(r)
    for r in pending:
        report(r)

    if not jobs and not totals["unreadable"]:
        _warning("no Mermaid or Markdown files found under the given paths")
    _write(sys.stdout, render_summary(**totals) + "\n")
    sys.stdout.flush()

    if totals["unreadable"]:
        return EXIT_ERROR
    problems_found = totals["errors"] + totals["warnings"] + totals["others"]
    if problems_found and not args.exit_zero:
        return EXIT_PROBLEMS
    return EXIT_OK


def _run_export(argv: list[str]) -> int:
    parser = _export_parser()
    args = parser.parse_args(argv)
    jobs, problems = _make_jobs(args, Settings(), "concise")
    files = []
    failed = [r.read_error for r in problems]
    for job in jobs:
        display = job.source.display
        try:
            text = job.text if job.text is not None else read_text(job.source)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            failed.append(f"cannot read {display}: {_reason(e)}")
            continue
        doc = Document(text, kind_for(job.kind_name, text, job.default_kind), display)
        files.append(export_file(display, doc))
    if failed:
        # all or nothing: a consumer never gets a partial model with exit status 2
        for message in failed:
            _error(message)
        return EXIT_ERROR
    _write(sys.stdout, json.dumps({"files": files}, ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def _run_rule(argv: list[str]) -> int:
    parser = _rule_parser()
    args = parser.parse_args(argv)
    if args.all:
        _write(sys.stdout, render_rule_table(RULES))
        return EXIT_OK
    code = args.code.strip()
    rule = BY_CODE.get(code.upper()) or BY_NAME.get(code.lower())
    if rule is None:
        _error(f"unknown rule `{code}` (known codes: {', '.join(sorted(BY_CODE))})")
        return EXIT_ERROR
    _write(sys.stdout, render_rule(rule))
    return EXIT_OK


def _run_lsp(argv: list[str]) -> int:
    parser = _lsp_parser()
    args = parser.parse_args(argv)
    tcp = None
    if args.tcp is not None:
        tcp = _parse_tcp(args.tcp)
        if tcp is None:
            parser.error(f"--tcp expects HOST:PORT, got `{args.tcp}`")
    try:
        from erd_lsp.server import run_server
    except ImportError as e:
        _error(f"the language server is not available: {e}")
        return EXIT_ERROR
    result = run_server(tcp=tcp)
    return result if isinstance(result, int) else EXIT_OK


def main(argv: Optional[list[str]] = None) -> int:
    """Run the command line; returns the exit status (never raises SystemExit)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command, rest = _split_command(argv)
    try:
        if command == "check":
            return _run_check(rest)
        if command == "export":
            return _run_export(rest)
        if command == "rule":
            return _run_rule(rest)
        if command == "lsp":
            return _run_lsp(rest)
        if command == "help":
            _write(sys.stdout, _TOP_HELP)
            return EXIT_OK
        if command == "version":
            _write(sys.stdout, f"{PROG} {__version__}\n")
            return EXIT_OK
        _write(sys.stderr, _TOP_HELP.split("\n\n", 1)[0] + "\n")
        _error(f"unrecognized arguments: {' '.join(argv)} (did you mean `{PROG} --check {' '.join(argv)}`?)")
        return EXIT_ERROR
    except SystemExit as e:  # argparse: --help (0) and usage errors (2)
        code = e.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_ERROR)
    except BrokenPipeError:
        # `erd-lsp --check | head`: stop quietly, and keep Python from complaining at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130
