"""The ``erd-lsp`` command: a CI checker, a formatter, a JSON exporter and the language
server's launcher.

::

    erd-lsp                          start the language server (stdio)
    erd-lsp lsp [--tcp HOST:PORT]    the same, or over TCP
    erd-lsp --check [PATH ...]       check files and directories (``check`` works too)
    erd-lsp --check --fix [PATH ...] apply the safe fixes (``--unsafe-fixes`` the rest, ``--diff`` shows them)
    erd-lsp format [--check|--diff] [PATH ...]
    erd-lsp export --format json PATH ...
    erd-lsp rule CODE | --all [--format text|markdown|json]
    erd-lsp --version

This module is a thin front end over :mod:`erd_lsp.analysis`: it finds and reads files
(walking directories as ``.gitignore`` and the configuration say), finds each file's
configuration (:mod:`erd_lsp.config`), turns I/O problems into messages and exit codes,
and prints what :mod:`erd_lsp.render` formats. It imports the language-server libraries
(pygls, lsprotocol) only in the branch that starts the server, so that ``--check`` stays
light.

Exit codes (as ruff's): 0 no problems, 1 problems reported (or files that ``format
--check`` would change, or fixes that ``--diff`` shows), 2 usage, configuration or I/O
errors.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from typing import Callable, NamedTuple, Optional, Sequence

from erd_lsp import __version__
from erd_lsp.text import paused_gc
from erd_lsp.analysis import Document, Settings, Severity
from erd_lsp.analysis.fixes import apply_edits, apply_fixes, applicable_fix
from erd_lsp.analysis.rules import BY_CODE, BY_NAME, RULES
from erd_lsp.config import (
    ConfigError,
    ConfigResolver,
    RuleSelection,
    glob_regex,
    parse_codes,
)
from erd_lsp.render import (
    OUTPUT_FORMATS,
    TEXT_FORMATS,
    diagnostic_record,
    export_file,
    plural,
    render_diagnostics,
    render_fix_hint,
    render_json,
    render_junit,
    render_rule,
    render_rule_table,
    render_rule_table_markdown,
    render_rules_json,
    render_sarif,
    render_statistics,
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
    records: tuple = ()  # diagnostic records (json, sarif, junit, --statistics)
    fixed: int = 0  # problems --fix fixed
    fixable: int = 0  # problems --fix would fix (with the given --unsafe-fixes)
    hidden: int = 0  # problems only --unsafe-fixes would fix
    diff: str = ""  # --diff
    fixed_text: Optional[str] = None  # stdin with --fix: the fixed text


def _sort_key(display: str) -> tuple:
    return tuple(os.path.normpath(display).split(os.sep)) if display != STDIN else ("-",)


def _is_hidden(name: str) -> bool:
    return name.startswith(".") and name not in (".", "..")


def _name_matches(patterns: Sequence[str], path: str, is_dir: bool, root: str) -> bool:
    """Whether a glob matches ``path``: globs without ``/`` match its name, the others
    its path relative to ``root``."""
    name = os.path.basename(os.path.normpath(path))
    rel = None
    for p in patterns:
        rx, anchored, dir_only = glob_regex(p)
        if dir_only and not is_dir:
            continue
        if anchored:
            if rel is None:
                r = os.path.relpath(os.path.abspath(path), root)
                rel = "" if r.startswith(os.pardir) else r.replace(os.sep, "/")
            if rel and rx.fullmatch(rel):
                return True
        elif rx.fullmatch(name):
            return True
    return False


class Discovery:
    """Which files a run reads: directories are walked (``.gitignore`` honoured: the
    files Git lists in a work tree, else ``.gitignore`` files read simply), the
    configuration's and ``--exclude`` globs skip paths, ``--include`` globs (or the
    suffixes) choose files. Explicit files are always read, unless ``--force-exclude``
    applies the excludes to them too."""

    def __init__(
        self,
        resolver: Optional[ConfigResolver] = None,
        exclude: Optional[Sequence[str]] = None,
        extend_exclude: Sequence[str] = (),
        include: Optional[Sequence[str]] = None,
        respect_gitignore: bool = True,
        force_exclude: bool = False,
    ) -> None:
        self.resolver = resolver or ConfigResolver(isolated=True)
        self.exclude = tuple(exclude) if exclude is not None else None
        self.extend_exclude = tuple(extend_exclude)
        self.include = tuple(include) if include else None
        self.respect_gitignore = respect_gitignore
        self.force_exclude = force_exclude
        self.cwd = os.getcwd()
        self._dir_cache: dict = {}

    # -- rules ---------------------------------------------------------------------------
    def excluded(self, path: str, is_dir: bool) -> bool:
        """Whether a walk skips ``path`` (the config of its directory, then the command line)."""
        parent = os.path.dirname(os.path.abspath(path))
        cfg = self.resolver.for_dir(parent)
        patterns = (cfg.excludes if self.exclude is None else ()) + (cfg.extend_exclude if self.exclude is not None else ())
        root = cfg.root or self.cwd
        if patterns and _name_matches(patterns, path, is_dir, root):
            return True
        cli = (self.exclude or ()) + self.extend_exclude
        return bool(cli) and _name_matches(cli, path, is_dir, self.cwd)

    def _dir_excluded(self, path: str) -> bool:
        key = os.path.abspath(path)
        r = self._dir_cache.get(key)
        if r is None:
            r = self._dir_cache[key] = self.excluded(path, True)
        return r

    def included(self, path: str) -> bool:
        if self.include is None:
            return path.lower().endswith(SUFFIXES)
        return _name_matches(self.include, path, False, self.cwd)

    def force_excluded(self, path: str) -> bool:
        """``--force-exclude``: an explicit file is skipped when it, or a directory above
        it (below the current directory or its config's root), is excluded."""
        if not self.force_exclude:
            return False
        full = os.path.abspath(path)
        if self.excluded(full, False):
            return True
        cfg = self.resolver.for_file(full)
        stops = {self.cwd, cfg.root or self.cwd}
        d = os.path.dirname(full)
        while d not in stops and os.path.dirname(d) != d:
            if self._dir_excluded(d):
                return True
            d = os.path.dirname(d)
        return False

    # -- walking -------------------------------------------------------------------------
    def collect(self, paths: Sequence[str]) -> tuple[list[Source], list[FileResult]]:
        """The files to read, sorted by path and deduplicated, and the directory errors
        met on the way (as results carrying a read error)."""
        sources: list[Source] = []
        problems: list[FileResult] = []
        for given in paths:
            if given == STDIN:
                sources.append(Source(STDIN, None))
            elif os.path.isdir(given):
                self.walk(given, sources, problems)
            elif not self.force_excluded(given):
                sources.append(Source(given, given))
        seen = set()
        unique = []
        for s in sorted(sources, key=lambda s: _sort_key(s.display)):
            key = STDIN if s.fs_path is None else os.path.normcase(os.path.abspath(s.fs_path))
            if key not in seen:
                seen.add(key)
                unique.append(s)
        return unique, problems

    def _display(self, root: str, fs_path: str) -> str:
        return os.path.relpath(fs_path) if root in (".", os.curdir) else fs_path

    def walk(self, root: str, sources: list[Source], problems: list[FileResult]) -> None:
        listed = _git_files(root) if self.respect_gitignore else None
        if listed is not None:
            self._walk_listed(root, listed, sources)
        else:
            self._walk_tree(root, sources, problems)

    def _walk_listed(self, root: str, listed: list[str], sources: list[Source]) -> None:
        for rel in listed:
            parts = rel.split("/")
            if any(_is_hidden(p) for p in parts[:-1]):
                continue
            fs_path = os.path.join(root, *parts)
            if not self.included(fs_path) or not os.path.isfile(fs_path):
                continue
            d = root
            skip = False
            for p in parts[:-1]:
                d = os.path.join(d, p)
                if self._dir_excluded(d):
                    skip = True
                    break
            if skip or self.excluded(fs_path, False):
                continue
            sources.append(Source(self._display(root, fs_path), fs_path))

    def _walk_tree(self, root: str, sources: list[Source], problems: list[FileResult]) -> None:
        ignore = _GitIgnore(root) if self.respect_gitignore else None

        def onerror(e: OSError) -> None:
            where = e.filename if isinstance(e.filename, str) else root
            problems.append(FileResult(where, read_error=f"cannot read {where}: {_reason(e)}"))

        for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
            if ignore is not None:
                ignore.enter(dirpath)
            keep = []
            for d in sorted(dirnames):
                full = os.path.join(dirpath, d)
                if _is_hidden(d) or self._dir_excluded(full) or (ignore is not None and ignore.ignored(full, True)):
                    continue
                keep.append(d)
            dirnames[:] = keep
            for name in sorted(filenames):
                fs_path = os.path.join(dirpath, name)
                if not self.included(fs_path) or self.excluded(fs_path, False):
                    continue
                if ignore is not None and ignore.ignored(fs_path, False):
                    continue
                sources.append(Source(self._display(root, fs_path), fs_path))


def _git_files(root: str) -> Optional[list[str]]:
    """The files Git would consider under ``root`` (tracked, plus untracked ones not
    ignored), relative to it with ``/``; None when ``root`` is not in a Git work tree
    or Git cannot be run."""
    import subprocess  # only a directory needs it: a single file's check starts without it

    try:
        p = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if p.returncode != 0:
        return None
    out = []
    for raw in p.stdout.split(b"\0"):
        if raw:
            try:
                out.append(os.fsdecode(raw))
            except (UnicodeDecodeError, ValueError):
                continue
    return sorted(set(out))


class _GitIgnore:
    """``.gitignore`` files read simply, for trees Git cannot list: the ones between the
    enclosing repository's root (a directory with ``.git``) and the walk, and those met
    while walking. The last matching pattern decides; ``!`` re-includes."""

    def __init__(self, root: str) -> None:
        self.rules: dict = {}  # directory -> [(regex, anchored, dir_only, negate)]
        top = os.path.abspath(root)
        chain = [top]
        d = top
        while not os.path.exists(os.path.join(d, ".git")):
            parent = os.path.dirname(d)
            if parent == d:
                chain = [top]
                break
            d = parent
            chain.append(d)
        for d in reversed(chain):
            self._read(d)

    def _read(self, d: str) -> None:
        if d in self.rules:
            return
        rules = []
        try:
            with open(os.path.join(d, ".gitignore"), encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        for line in lines:
            line = line.rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            if line.startswith("\\"):
                line = line[1:]
            rx, anchored, dir_only = glob_regex(line)
            rules.append((rx, anchored, dir_only, negate))
        self.rules[d] = rules

    def enter(self, dirpath: str) -> None:
        self._read(os.path.abspath(dirpath))

    def ignored(self, path: str, is_dir: bool) -> bool:
        full = os.path.abspath(path)
        name = os.path.basename(full)
        verdict = False
        for base, rules in self.rules.items():
            if not rules or not (full.startswith(base.rstrip(os.sep) + os.sep)):
                continue
            rel = os.path.relpath(full, base).replace(os.sep, "/")
            for rx, anchored, dir_only, negate in rules:
                if dir_only and not is_dir:
                    continue
                if (rx.fullmatch(rel) if anchored else rx.fullmatch(name)) is not None:
                    verdict = not negate
        return verdict


def collect(paths: Sequence[str], discovery: Optional[Discovery] = None) -> tuple[list[Source], list[FileResult]]:
    """The files to read for ``paths`` (see :class:`Discovery`)."""
    return (discovery or Discovery()).collect(paths)


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


def write_text(path: str, text: str) -> None:
    """Write ``text`` as UTF-8, line endings as they are."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def kind_for(name: str, text: str, default: Optional[str] = None) -> str:
    """The host kind: by suffix, else ``default``, else Markdown when the text has a fence
    line and Mermaid otherwise."""
    kind = host_kind_for_path(name)
    if kind is not None:
        return kind
    if default is not None:
        return default
    return "markdown" if _FENCE_LINE.search(text) else "mermaid"


def unified_diff(old: str, new: str, name: str) -> str:
    """A unified diff of two texts (``\\ No newline at end of file`` where it applies)."""
    lines = []
    for line in difflib.unified_diff(old.splitlines(True), new.splitlines(True), fromfile=name, tofile=name):
        if not line.endswith(("\n", "\r")):
            line += "\n\\ No newline at end of file\n"
        lines.append(line)
    return "".join(lines)


# ---------------------------------------------------------------------------
# checking one file (also in worker processes: plain data in and out)


class _Job(NamedTuple):
    source: Source
    kind_name: str  # the name whose suffix gives the kind
    default_kind: Optional[str]
    text: Optional[str]  # already read (stdin), else None
    settings: Settings
    output_format: str
    fix: str = ""  # "" | "fix" | "diff"
    unsafe: bool = False
    statistics: bool = False


def check_one(job: _Job) -> FileResult:
    """Read, fix (when asked) and check one file."""
    with paused_gc():  # trees are acyclic; documents are released below
        return _check_one(job)


def _check_one(job: _Job) -> FileResult:
    display = job.source.display
    try:
        text = job.text if job.text is not None else read_text(job.source)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return FileResult(display, read_error=f"cannot read {display}: {_reason(e)}")
    doc = Document(text, kind_for(job.kind_name, text, job.default_kind), display)
    fixed = 0
    diff = ""
    fixed_text = None
    if job.fix:
        res = apply_fixes(doc, job.settings, unsafe=job.unsafe)
        fixed = res.applied
        if res.text != text:
            if job.fix == "diff":
                diff = unified_diff(text, res.text, display)
            elif job.source.fs_path is None:
                fixed_text = res.text
            else:
                try:
                    write_text(job.source.fs_path, res.text)
                except OSError as e:
                    return FileResult(display, read_error=f"cannot write {display}: {_reason(e)}")
        elif job.source.fs_path is None and job.fix == "fix":
            fixed_text = text
        doc = res.document
        diagnostics = res.remaining
    else:
        diagnostics = doc.diagnostics(job.settings)
    errors = sum(1 for d in diagnostics if d.severity == Severity.ERROR)
    warnings = sum(1 for d in diagnostics if d.severity == Severity.WARNING)
    fixable = sum(1 for d in diagnostics if applicable_fix(d, job.unsafe) is not None)
    hidden = 0 if job.unsafe else sum(1 for d in diagnostics if applicable_fix(d, True) is not None) - fixable
    records: tuple = ()
    output = ""
    if job.output_format not in TEXT_FORMATS or job.statistics:
        records = tuple(diagnostic_record(display, doc, d, unsafe_fixes=job.unsafe) for d in diagnostics)
    if diagnostics and not job.statistics and job.output_format in TEXT_FORMATS + ("github",):
        output = render_diagnostics(job.output_format, display, doc, diagnostics, unsafe_fixes=job.unsafe)
    n_units = len(doc.units)
    doc.release()
    return FileResult(
        display,
        output,
        errors,
        warnings,
        len(diagnostics) - errors - warnings,
        n_units,
        None,
        records,
        fixed,
        fixable,
        hidden,
        diff,
        fixed_text,
    )


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run_jobs(jobs: list, func: Callable = check_one):
    """Results in the order of ``jobs``: in worker processes when there are many files and
    cores, else here. A pool that cannot start falls back to working here."""
    workers = min(_workers(), len(jobs))
    if len(jobs) > PARALLEL_THRESHOLD and workers > 1:
        try:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=workers) as pool:
                chunk = max(1, len(jobs) // (workers * 4))
                results = list(pool.map(func, jobs, chunksize=chunk))
            yield from results
            return
        except (OSError, ImportError, NotImplementedError, RuntimeError):
            pass  # no multiprocessing here (sandbox, missing semaphores...): do it serially
    for job in jobs:
        yield func(job)


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
    try:
        return parse_codes(values, option)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _globs(values: Optional[list[str]]) -> Optional[list[str]]:
    if values is None:
        return None
    return [g.strip() for v in values for g in v.split(",") if g.strip()]


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help="the name to show for `-` (standard input); its suffix chooses the kind",
    )


def _add_discovery_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("files and configuration")
    g.add_argument("--config", metavar="PATH", help="use this configuration file (erd-lsp.toml or pyproject.toml) for every file")
    g.add_argument("--isolated", action="store_true", help="ignore all configuration files")
    g.add_argument("--exclude", action="append", metavar="GLOBS", help="globs of paths a directory walk skips (replaces `exclude`)")
    g.add_argument("--extend-exclude", action="append", metavar="GLOBS", help="more globs of paths to skip")
    g.add_argument(
        "--include", action="append", metavar="GLOBS", help="globs of the files a directory walk reads (default: *.mmd *.mermaid *.md *.markdown *.mdx)"
    )
    g.add_argument("--force-exclude", action="store_true", help="apply the excludes to files named on the command line too")
    g.add_argument(
        "--no-respect-gitignore", dest="respect_gitignore", action="store_false", help="walk files that .gitignore excludes too"
    )
    _add_input_options(g)


def _check_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"{PROG} check",
        description="Check Mermaid ER diagrams in .mmd/.mermaid files and Markdown documents.",
        epilog="Exit status: 0 no problems, 1 problems found (or fixes --diff shows), 2 usage, configuration or I/O error.",
    )
    p.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files, directories (searched for .mmd .mermaid .md .markdown .mdx) or - for stdin; "
        "default: the current directory",
    )
    g = p.add_argument_group("rules")
    g.add_argument("--select", action="append", metavar="CODES", help="only these rules (comma list; replaces `select`)")
    g.add_argument("--extend-select", action="append", metavar="CODES", help="these rules too")
    g.add_argument("--ignore", action="append", metavar="CODES", help="not these rules (comma list)")
    g = p.add_argument_group("fixes")
    g.add_argument("--fix", action="store_true", help="apply the safe fixes and report what remains")
    g.add_argument("--unsafe-fixes", action="store_true", help="apply (and count) the unsafe fixes too")
    g.add_argument("--diff", action="store_true", help="print the fixes as a unified diff instead of writing them (implies --fix)")
    g = p.add_argument_group("output")
    g.add_argument(
        "--output-format", choices=OUTPUT_FORMATS, default="full", help="how to print diagnostics (default: full)"
    )
    g.add_argument("--statistics", action="store_true", help="count the diagnostics by code instead of listing them")
    g.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found")
    _add_discovery_options(p)
    return p


def _format_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"{PROG} format",
        description="Format the ER diagrams of .mmd/.mermaid files and Markdown documents in place "
        "(4-space indentation, one statement per line, aligned attribute columns).",
        epilog="Exit status: 0 done (or nothing to change), 1 files --check/--diff would change, "
        "2 usage, configuration or I/O error, or a diagram with syntax errors.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files, directories or - for stdin; default: the current directory")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="write nothing; list the files that would change and exit 1 if any")
    mode.add_argument("--diff", action="store_true", help="write nothing; print the changes as a unified diff and exit 1 if any")
    _add_discovery_options(p)
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
    p = argparse.ArgumentParser(prog=f"{PROG} rule", description="Explain a rule, or list them all.")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("code", nargs="?", metavar="CODE", help="a rule code (E002) or name (conflict-marker)")
    g.add_argument("--all", action="store_true", help="list every rule")
    p.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown (the README's rule table, with --all) or json",
    )
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
       {PROG} format [--check | --diff] [PATH ...]
       {PROG} export --format json PATH ...
       {PROG} rule CODE | --all

A language server and CI checker for Mermaid entity-relationship diagrams.

commands:
  (none), lsp   run the language server (stdio, or TCP with --tcp HOST:PORT)
  --check, check
                check files and directories (--fix applies the safe fixes); exit 0
                when clean, 1 on problems, 2 on usage, configuration or I/O errors
  format        format the ER diagrams in place (--check, --diff: write nothing)
  export        print the diagrams' entities and relationships as JSON
  rule          explain a rule (rule --all lists them)

Run `{PROG} COMMAND --help` for a command's options.
"""

_COMMANDS = ("check", "format", "export", "rule", "lsp")


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


class _Input(NamedTuple):
    source: Source
    kind_name: str
    default_kind: Optional[str]
    text: Optional[str]
    config_path: Optional[str]  # the path whose configuration applies (None: the current directory)


def _discovery(args) -> Discovery:
    resolver = ConfigResolver(getattr(args, "config", None), getattr(args, "isolated", False))
    return Discovery(
        resolver,
        exclude=_globs(getattr(args, "exclude", None)),
        extend_exclude=_globs(getattr(args, "extend_exclude", None)) or (),
        include=_globs(getattr(args, "include", None)),
        respect_gitignore=getattr(args, "respect_gitignore", True),
        force_exclude=getattr(args, "force_exclude", False),
    )


def _inputs(args, discovery: Discovery) -> tuple[list[_Input], list[FileResult]]:
    paths = list(args.paths)
    if not paths:
        paths = [STDIN] if args.stdin_filename else ["."]
    sources, problems = discovery.collect(paths)
    inputs = []
    for s in sources:
        if s.fs_path is None:
            name = args.stdin_filename
            display = name or STDIN
            if name and discovery.force_excluded(name):
                continue
            try:
                text = read_text(s)
            except (OSError, UnicodeDecodeError, ValueError) as e:
                problems.append(FileResult(display, read_error=f"cannot read {display}: {_reason(e)}"))
                continue
            inputs.append(_Input(Source(display, None), name or ".mmd", None if name else "mermaid", text, name))
        else:
            inputs.append(_Input(s, s.fs_path, None, None, s.fs_path))
    return inputs, problems


def _settings_for(discovery: Discovery, config_path: Optional[str], cli: RuleSelection) -> Settings:
    if config_path is None:
        cfg = discovery.resolver.for_dir(os.getcwd())
        return cfg.settings_for(None, cli)
    cfg = discovery.resolver.for_file(config_path)
    return cfg.settings_for(config_path, cli)


def _run_check(argv: list[str]) -> int:
    parser = _check_parser()
    args = parser.parse_args(argv)
    try:
        cli_rules = RuleSelection(
            select=_codes(args.select, "--select"),
            extend_select=_codes(args.extend_select, "--extend-select") or frozenset(),
            ignore=_codes(args.ignore, "--ignore") or frozenset(),
        )
    except UsageError as e:
        parser.error(str(e))
    fix = "diff" if args.diff else ("fix" if args.fix else "")
    fmt = args.output_format
    try:
        discovery = _discovery(args)
        inputs, problems = _inputs(args, discovery)
        jobs = [
            _Job(i.source, i.kind_name, i.default_kind, i.text, _settings_for(discovery, i.config_path, cli_rules), fmt, fix, args.unsafe_fixes, args.statistics)
            for i in inputs
        ]
    except ConfigError as e:
        _error(str(e))
        return EXIT_ERROR

    # with --fix on stdin the fixed text goes to stdout and the report to stderr
    stdin_fix = fix == "fix" and any(j.source.fs_path is None for j in jobs)
    report_stream = sys.stderr if stdin_fix or fix == "diff" else sys.stdout
    streaming = fmt in TEXT_FORMATS + ("github",) and not args.statistics and fix != "diff"

    pending = sorted(problems, key=lambda r: _sort_key(r.display))
    totals = dict(errors=0, warnings=0, others=0, problem_files=0, diagrams=0, files=0, unreadable=0)
    fixed = fixable = hidden = 0
    diffs = 0
    records: list = []
    per_file: list = []

    def report(r: FileResult) -> None:
        nonlocal fixed, fixable, hidden, diffs
        if r.read_error is not None:
            sys.stdout.flush()
            _error(r.read_error)
            totals["unreadable"] += 1
            return
        totals["files"] += 1
        totals["diagrams"] += r.diagrams
        fixed += r.fixed
        fixable += r.fixable
        hidden += r.hidden
        if r.diff:
            diffs += 1
            _write(sys.stdout, r.diff)
        if r.fixed_text is not None:
            _write(sys.stdout, r.fixed_text)
        records.extend(r.records)
        per_file.append((r.display, r.records))
        if r.errors or r.warnings or r.others:
            totals["problem_files"] += 1
            totals["errors"] += r.errors
            totals["warnings"] += r.warnings
            totals["others"] += r.others
            if streaming and fix != "diff":
                _write(report_stream, r.output)

    # directory errors are interleaved with the files in path order
    for r in run_jobs(jobs, check_one):
        while pending and _sort_key(pending[0].display) <= _sort_key(r.display):
            report(pending.pop(0))
        report(r)
    for r in pending:
        report(r)

    if not jobs and not totals["unreadable"]:
        _warning("no Mermaid or Markdown files found under the given paths")

    problems_found = totals["errors"] + totals["warnings"] + totals["others"]
    if fix == "diff":
        if fixed:
            _write(sys.stderr, f"Would fix {plural(fixed, 'problem')} in {plural(diffs, 'file')}.\n")
        else:
            _write(sys.stderr, "No fixes to apply.\n")
    elif fmt in TEXT_FORMATS:
        if args.statistics:
            _write(report_stream, render_statistics(records))
        _write(report_stream, render_summary(**totals, fixed=fixed) + "\n")
        hint = render_fix_hint(fixable, hidden, args.unsafe_fixes)
        if hint:
            _write(report_stream, hint + "\n")
    elif fmt == "json":
        _write(report_stream, render_statistics(records, "json") if args.statistics else render_json(records))
    elif fmt == "sarif":
        _write(report_stream, render_sarif(records, RULES))
    elif fmt == "junit":
        _write(report_stream, render_junit(per_file))
    elif fmt == "github" and args.statistics:
        _write(report_stream, render_statistics(records))
    report_stream.flush()
    sys.stdout.flush()

    if totals["unreadable"]:
        return EXIT_ERROR
    if fix == "diff":
        return EXIT_PROBLEMS if diffs else EXIT_OK
    if problems_found and not args.exit_zero:
        return EXIT_PROBLEMS
    return EXIT_OK


# -- format ----------------------------------------------------------------------------


class _FormatJob(NamedTuple):
    source: Source
    kind_name: str
    default_kind: Optional[str]
    text: Optional[str]
    mode: str  # "write" | "check" | "diff"


class FormatFileResult(NamedTuple):
    display: str
    changed: bool = False
    diagrams: int = 0
    errors: tuple = ()  # why diagrams could not be formatted
    read_error: Optional[str] = None
    diff: str = ""
    new_text: Optional[str] = None  # stdin: the formatted text


def format_one(job: _FormatJob) -> FormatFileResult:
    display = job.source.display
    try:
        text = job.text if job.text is not None else read_text(job.source)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return FormatFileResult(display, read_error=f"cannot read {display}: {_reason(e)}")
    doc = Document(text, kind_for(job.kind_name, text, job.default_kind), display)
    from erd_lsp.analysis.format import format_document_report  # only `format` needs it

    reports = format_document_report(doc)
    errors = tuple(f"cannot format {display}:{r.line + 1}: {r.error}" for r in reports if r.error)
    new = apply_edits(text, [r.edit for r in reports if r.edit is not None])
    changed = new != text
    diff = unified_diff(text, new, display) if changed and job.mode == "diff" else ""
    if changed and job.mode == "write" and job.source.fs_path is not None:
        try:
            write_text(job.source.fs_path, new)
        except OSError as e:
            return FormatFileResult(display, read_error=f"cannot write {display}: {_reason(e)}")
    new_text = new if job.source.fs_path is None else None
    return FormatFileResult(display, changed, len(doc.units), errors, None, diff, new_text)


def _run_format(argv: list[str]) -> int:
    parser = _format_parser()
    args = parser.parse_args(argv)
    mode = "check" if args.check else ("diff" if args.diff else "write")
    try:
        discovery = _discovery(args)
        inputs, problems = _inputs(args, discovery)
        for i in inputs:  # the formatter has no settings yet, but a broken config is an error
            if i.config_path is None:
                discovery.resolver.for_dir(os.getcwd())
            else:
                discovery.resolver.for_file(i.config_path)
    except ConfigError as e:
        _error(str(e))
        return EXIT_ERROR
    jobs = [_FormatJob(i.source, i.kind_name, i.default_kind, i.text, mode) for i in inputs]
    failed = 0
    changed = unchanged = 0
    pending = sorted(problems, key=lambda r: _sort_key(r.display))

    def report(r) -> None:
        nonlocal failed, changed, unchanged
        if r.read_error is not None:
            sys.stdout.flush()
            _error(r.read_error)
            failed += 1
            return
        for message in r.errors:
            sys.stdout.flush()
            _error(message)
        if r.errors:
            failed += 1
        if r.changed:
            changed += 1
            if mode == "check":
                _write(sys.stdout, f"Would reformat: {r.display}\n")
            elif mode == "diff":
                _write(sys.stdout, r.diff)
        else:
            unchanged += 1
        if r.new_text is not None and mode == "write":
            _write(sys.stdout, r.new_text)

    for r in run_jobs(jobs, format_one):
        while pending and _sort_key(pending[0].display) <= _sort_key(r.display):
            report(pending.pop(0))
        report(r)
    for r in pending:
        report(r)
    sys.stdout.flush()

    if not jobs and not failed:
        _warning("no Mermaid or Markdown files found under the given paths")
    stdin_only = bool(jobs) and all(j.source.fs_path is None for j in jobs)
    if not (stdin_only and mode == "write"):
        if mode == "write":
            summary = f"{plural(changed, 'file')} reformatted, {plural(unchanged, 'file')} left unchanged"
        else:
            summary = f"{plural(changed, 'file')} would be reformatted, {plural(unchanged, 'file')} already formatted"
        if failed:
            summary += f", {plural(failed, 'file')} with errors"
        _write(sys.stderr if mode == "diff" else sys.stdout, summary + "\n")
    if failed:
        return EXIT_ERROR
    if mode != "write" and changed:
        return EXIT_PROBLEMS
    return EXIT_OK


# -- export, rule, lsp -----------------------------------------------------------------


def _run_export(argv: list[str]) -> int:
    parser = _export_parser()
    args = parser.parse_args(argv)
    inputs, problems = _inputs(args, Discovery())
    files = []
    failed = [r.read_error for r in problems]
    for i in inputs:
        display = i.source.display
        try:
            text = i.text if i.text is not None else read_text(i.source)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            failed.append(f"cannot read {display}: {_reason(e)}")
            continue
        doc = Document(text, kind_for(i.kind_name, text, i.default_kind), display)
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
        if args.format == "markdown":
            _write(sys.stdout, render_rule_table_markdown(RULES))
        elif args.format == "json":
            _write(sys.stdout, render_rules_json(RULES))
        else:
            _write(sys.stdout, render_rule_table(RULES))
        return EXIT_OK
    code = args.code.strip()
    rule = BY_CODE.get(code.upper()) or BY_NAME.get(code.lower())
    if rule is None:
        _error(f"unknown rule `{code}` (known codes: {', '.join(sorted(BY_CODE))})")
        return EXIT_ERROR
    if args.format == "json":
        _write(sys.stdout, json.dumps(json.loads(render_rules_json([rule]))[0], ensure_ascii=False, indent=2) + "\n")
    else:
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
        if command == "format":
            return _run_format(rest)
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
