"""Configuration: ``[tool.erd-lsp]`` in ``pyproject.toml``, or ``erd-lsp.toml`` /
``.erd-lsp.toml``, found upward from each checked file (the nearest one wins).

::

    [tool.erd-lsp]                      # in erd-lsp.toml: the same keys, at the top level
    select = ["E", "W101"]              # only these rules (codes, prefixes, names, "ALL")
    extend-select = ["W102"]            # added to `select` (or to all rules)
    ignore = ["W101"]                   # not these
    per-file-ignores = { "docs/legacy/**" = ["W102"], "*.mmd" = ["W101"] }
    severity = { W101 = "error", W102 = "hint" }
    exclude = ["generated/**"]          # replaces the default excludes
    extend-exclude = ["drafts/"]        # added to them

In one directory ``.erd-lsp.toml`` comes first, then ``erd-lsp.toml``, then
``pyproject.toml`` (which counts only when it has a ``[tool.erd-lsp]`` table). Globs are
relative to the directory of the file that defines them; a glob without ``/`` matches a
file or directory name at any depth, ``**`` matches any number of directories, and a
trailing ``/`` matches directories only.

Validation is strict: an unknown key, a value of the wrong type, an unknown rule code or
severity is a :class:`ConfigError` naming the file, the key and what is allowed (the
command line exits 2), never ignored.

This is a front-end module (it reads files); :func:`settings_from_mapping` is the pure
part, which the language server also uses for its ``initializationOptions``.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Iterable, Optional

from erd_lsp.analysis import Settings, Severity
from erd_lsp.analysis.rules import BY_CODE, BY_NAME

__all__ = [
    "CONFIG_FILES",
    "KEYS",
    "DEFAULT_EXCLUDE",
    "ConfigError",
    "RuleSelection",
    "Config",
    "DEFAULT_CONFIG",
    "parse_codes",
    "settings_from_mapping",
    "load_config",
    "find_config_file",
    "ConfigResolver",
    "glob_regex",
    "glob_match",
]

CONFIG_FILES = (".erd-lsp.toml", "erd-lsp.toml", "pyproject.toml")
TOOL_TABLE = "erd-lsp"
KEYS = ("select", "extend-select", "ignore", "per-file-ignores", "severity", "exclude", "extend-exclude")
#: Paths a directory walk skips unless `exclude` replaces them (hidden directories are
#: skipped too, and `.gitignore`d files).
DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", "site-packages")
SEVERITIES = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "information": Severity.INFO,
    "hint": Severity.HINT,
}


class ConfigError(Exception):
    """A configuration problem, with a message that names the file and the key."""


# ---------------------------------------------------------------------------
# rule codes


def parse_codes(tokens: Iterable[str], where: str) -> frozenset:
    """Rule codes from tokens: a code or a code prefix (``E``, ``E00``, ``E002``; any
    case), ``ALL``, or a rule name (``conflict-marker``). Comma lists are split. A token
    that matches no rule raises :class:`ValueError` naming ``where`` and the known codes."""
    out = set()
    for value in tokens:
        for token in str(value).split(","):
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
                raise ValueError(f"unknown rule code `{token}` in {where} (known codes: {known})")
            out.update(matched)
    return frozenset(out)


@dataclass(frozen=True)
class RuleSelection:
    """One layer of rule selection (a config file, or the command line)."""

    select: Optional[frozenset] = None  # None: keep what the layer below selected
    extend_select: frozenset = frozenset()
    ignore: frozenset = frozenset()

    def apply(self, enabled: set) -> set:
        if self.select is not None:
            enabled = set(self.select)
        enabled |= self.extend_select
        enabled -= self.ignore
        return enabled


# ---------------------------------------------------------------------------
# globs


@functools.lru_cache(maxsize=4096)
def glob_regex(pattern: str) -> tuple[re.Pattern, bool, bool]:
    """``(regex, anchored, dir_only)`` for a glob. Anchored globs (with a ``/`` other
    than a trailing one) match a whole relative path; the others a single name."""
    p = pattern.strip().replace("\\", "/")
    dir_only = p.endswith("/") and len(p) > 1
    p = p.rstrip("/") or p
    if p.startswith("./"):
        p = p[2:]
    anchored = "/" in p
    p = p.lstrip("/")
    out = []
    i = 0
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif p.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = p.find("]", i + 2 if p.startswith(("[!", "[^"), i) else i + 1)
            if j < 0:
                out.append(re.escape(c))
                i += 1
            else:
                body = p[i + 1 : j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    # a directory pattern also matches everything below it
    rx = re.compile("".join(out) + "(?:/.*)?" if anchored else "".join(out), re.DOTALL)
    return rx, anchored, dir_only


def glob_match(pattern: str, rel_path: str, is_dir: bool = False) -> bool:
    """Whether ``rel_path`` (relative, ``/``-separated) matches ``pattern``."""
    rx, anchored, dir_only = _glob(pattern)
    rel = rel_path.replace("\\", "/").strip("/")
    if anchored:
        if dir_only and not is_dir:
            # `docs/` matches files below docs, not a file named docs
            parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
            return bool(parent) and rx.fullmatch(parent) is not None
        return rx.fullmatch(rel) is not None
    parts = rel.split("/")
    for k, part in enumerate(parts):
        last = k == len(parts) - 1
        if dir_only and last and not is_dir:
            continue
        if rx.fullmatch(part) is not None:
            return True
    return False


_glob = glob_regex


def _relative(path: str, root: Optional[str]) -> str:
    """``path`` relative to ``root`` (``/``-separated); the path itself when it is not
    below ``root``."""
    if root is None:
        return os.path.normpath(path).replace(os.sep, "/")
    try:
        rel = os.path.relpath(os.path.abspath(path), root)
    except ValueError:  # another drive on Windows
        return os.path.basename(path)
    if rel == os.curdir:
        return ""
    if rel.startswith(os.pardir):
        return os.path.basename(os.path.abspath(path))
    return rel.replace(os.sep, "/")


# ---------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class Config:
    """One configuration (a file, ``initializationOptions``, or the defaults)."""

    source: str = "defaults"
    root: Optional[str] = None  # the directory globs are relative to
    rules: RuleSelection = RuleSelection()
    per_file_ignores: tuple = ()  # ((glob, frozenset of codes), ...)
    severity: tuple = ()  # ((code, Severity), ...)
    exclude: Optional[tuple] = None  # None: DEFAULT_EXCLUDE
    extend_exclude: tuple = ()

    @property
    def excludes(self) -> tuple:
        return (DEFAULT_EXCLUDE if self.exclude is None else self.exclude) + self.extend_exclude

    def settings_for(self, path: Optional[str] = None, cli: Optional[RuleSelection] = None) -> Settings:
        """The analysis settings for the file at ``path``: this configuration's rule
        selection, then the command line's, then the per-file ignores that match."""
        enabled = set(BY_CODE)
        enabled = self.rules.apply(enabled)
        if cli is not None:
            enabled = cli.apply(enabled)
        if path is not None and self.per_file_ignores:
            rel = _relative(path, self.root)
            for pattern, codes in self.per_file_ignores:
                if glob_match(pattern, rel):
                    enabled -= codes
        select = None if enabled == set(BY_CODE) else frozenset(enabled)
        return Settings(select=select, ignore=frozenset(), severity=self.severity)

    def is_excluded(self, path: str, is_dir: bool = False, extra: tuple = ()) -> bool:
        """Whether a walk skips ``path`` (its config excludes, plus ``extra`` globs
        relative to the current directory)."""
        rel = _relative(path, self.root)
        if any(glob_match(p, rel, is_dir) for p in self.excludes):
            return True
        if extra:
            rel_cwd = _relative(path, os.getcwd())
            return any(glob_match(p, rel_cwd, is_dir) for p in extra)
        return False


DEFAULT_CONFIG = Config()


def _suggest(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _string_list(value, where: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings, got {_show(value)}")
    return list(value)


def _show(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def settings_from_mapping(mapping, source_name: str, root: Optional[str] = None) -> Config:
    """A :class:`Config` from the keys of a ``[tool.erd-lsp]`` table (or an
    ``erd-lsp.toml`` file, or the server's ``initializationOptions``). Pure; raises
    :class:`ConfigError` for anything it does not understand. ``source_name`` is what
    messages call the source (a file name); ``root`` the directory globs are relative to."""
    if not isinstance(mapping, dict):
        raise ConfigError(f"{source_name}: the configuration must be a table, got {_show(mapping)}")
    for key in mapping:
        if key not in KEYS:
            hint = _suggest(str(key), KEYS)
            raise ConfigError(f"{source_name}: unknown key `{key}`{hint}; allowed keys: {', '.join(KEYS)}")

    def codes(key: str) -> Optional[frozenset]:
        if key not in mapping:
            return None
        values = _string_list(mapping[key], f"{source_name}: `{key}`")
        try:
            return parse_codes(values, f"`{key}`")
        except ValueError as e:
            raise ConfigError(f"{source_name}: {e}") from None

    rules = RuleSelection(
        select=codes("select"),
        extend_select=codes("extend-select") or frozenset(),
        ignore=codes("ignore") or frozenset(),
    )

    pfi = []
    if "per-file-ignores" in mapping:
        table = mapping["per-file-ignores"]
        if not isinstance(table, dict):
            raise ConfigError(f"{source_name}: `per-file-ignores` must be a table of glob = [codes], got {_show(table)}")
        for pattern, values in table.items():
            where = f'`per-file-ignores."{pattern}"`'
            lst = _string_list(values, f"{source_name}: {where}")
            try:
                pfi.append((str(pattern), parse_codes(lst, where)))
            except ValueError as e:
                raise ConfigError(f"{source_name}: {e}") from None

    severity: dict = {}  # code -> (specificity, Severity)
    if "severity" in mapping:
        table = mapping["severity"]
        if not isinstance(table, dict):
            raise ConfigError(f'{source_name}: `severity` must be a table of CODE = "error"|"warning"|"info"|"hint", got {_show(table)}')
        for code, value in table.items():
            where = f"`severity.{code}`"
            if not isinstance(value, str) or value.lower() not in SEVERITIES:
                raise ConfigError(f'{source_name}: {where} must be one of "error", "warning", "info", "hint", got {_show(value)}')
            try:
                matched = parse_codes([str(code)], where)
            except ValueError as e:
                raise ConfigError(f"{source_name}: {e}") from None
            # a more specific key wins: a code or name over a prefix, a longer prefix
            # over a shorter one (`{ W = "hint", W101 = "error" }`)
            token = str(code).strip()
            specificity = 99 if token.lower() in BY_NAME else (0 if token.upper() == "ALL" else len(token))
            for c in matched:
                if c not in severity or severity[c][0] <= specificity:
                    severity[c] = (specificity, SEVERITIES[value.lower()])

    def globs(key: str) -> Optional[tuple]:
        if key not in mapping:
            return None
        return tuple(_string_list(mapping[key], f"{source_name}: `{key}`"))

    return Config(
        source=source_name,
        root=root,
        rules=rules,
        per_file_ignores=tuple(pfi),
        severity=tuple((c, severity[c][1]) for c in sorted(severity)),
        exclude=globs("exclude"),
        extend_exclude=globs("extend-exclude") or (),
    )


def _toml():
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    import tomli  # the `tomli` dependency on Python 3.10

    return tomli


def read_table(path: str) -> Optional[dict]:
    """The erd-lsp table of a config file: the whole ``erd-lsp.toml``, or
    ``[tool.erd-lsp]`` of a ``pyproject.toml`` (None when it has none)."""
    toml = _toml()
    try:
        with open(path, "rb") as f:
            data = toml.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read {_display(path)}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"cannot read {_display(path)}: not valid UTF-8 ({e.reason})") from None
    except toml.TOMLDecodeError as e:
        raise ConfigError(f"{_display(path)}: invalid TOML: {e}") from None
    if os.path.basename(path) == "pyproject.toml":
        tool = data.get("tool")
        if not isinstance(tool, dict) or TOOL_TABLE not in tool:
            return None
        return tool[TOOL_TABLE]
    return data


def _display(path: str) -> str:
    """A path as messages show it: relative to the current directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith(os.pardir) else rel


def load_config(path: str) -> Config:
    """The configuration in the file at ``path`` (a ``pyproject.toml`` without
    ``[tool.erd-lsp]`` gives the defaults, rooted at its directory)."""
    root = os.path.dirname(os.path.abspath(path))
    table = read_table(path)
    if table is None:
        return Config(source=path, root=root)
    shown = _display(path)
    name = f"{shown} [tool.{TOOL_TABLE}]" if os.path.basename(path) == "pyproject.toml" else shown
    return settings_from_mapping(table, name, root)


def find_config_file(directory: str) -> Optional[str]:
    """The configuration file that applies in ``directory``: the nearest one upward."""
    d = os.path.abspath(directory)
    while True:
        found = _config_in(d)
        if found is not None:
            return found
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _config_in(d: str) -> Optional[str]:
    for name in CONFIG_FILES:
        p = os.path.join(d, name)
        if os.path.isfile(p):
            if name == "pyproject.toml" and read_table(p) is None:
                continue
            return p
    return None


@dataclass
class ConfigResolver:
    """Finds (and caches) the configuration of each file and directory.

    ``config_file`` (``--config``) makes one file apply everywhere; ``isolated``
    (``--isolated``) ignores every configuration file."""

    config_file: Optional[str] = None
    isolated: bool = False
    _by_dir: dict = field(default_factory=dict)
    _loaded: dict = field(default_factory=dict)
    _fixed: Optional[Config] = None

    def __post_init__(self) -> None:
        if self.config_file is not None and not self.isolated:
            if not os.path.isfile(self.config_file):
                raise ConfigError(f"cannot read {self.config_file}: no such file")
            self._fixed = self._load(self.config_file)
            if self._fixed.source == self.config_file and os.path.basename(self.config_file) == "pyproject.toml" and read_table(self.config_file) is None:
                raise ConfigError(f"{self.config_file} has no [tool.{TOOL_TABLE}] table")

    def _load(self, path: str) -> Config:
        c = self._loaded.get(path)
        if c is None:
            c = self._loaded[path] = load_config(path)
        return c

    def for_dir(self, directory: str) -> Config:
        if self.isolated:
            return DEFAULT_CONFIG
        if self._fixed is not None:
            return self._fixed
        d = os.path.abspath(directory)
        chain = []
        found: Optional[Config] = None
        while True:
            if d in self._by_dir:
                found = self._by_dir[d]
                break
            chain.append(d)
            p = _config_in(d)
            if p is not None:
                found = self._load(p)
                break
            parent = os.path.dirname(d)
            if parent == d:
                found = DEFAULT_CONFIG
                break
            d = parent
        for x in chain:
            self._by_dir[x] = found
        return found

    def for_file(self, path: str) -> Config:
        return self.for_dir(os.path.dirname(os.path.abspath(path)))
