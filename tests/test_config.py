"""Configuration: ``[tool.erd-lsp]`` / ``erd-lsp.toml`` / ``.erd-lsp.toml``, found upward,
validated strictly, turned into per-file analysis settings."""

from __future__ import annotations

import pytest

from erd_lsp.analysis import Severity
from erd_lsp.analysis.rules import BY_CODE
from erd_lsp.config import (
    DEFAULT_EXCLUDE,
    KEYS,
    Config,
    ConfigError,
    ConfigResolver,
    RuleSelection,
    find_config_file,
    glob_match,
    load_config,
    parse_codes,
    settings_from_mapping,
)

ALL = frozenset(BY_CODE)


def enabled(config: Config, path=None, cli=None) -> set:
    s = config.settings_for(path, cli)
    return {c for c in ALL if s.enabled(c)}


# ---------------------------------------------------------------------------
# keys and values


def test_every_key():
    c = settings_from_mapping(
        {
            "select": ["E", "W101"],
            "extend-select": ["duplicate-attribute"],
            "ignore": ["E002"],
            "per-file-ignores": {"legacy/**": ["W"]},
            "severity": {"W101": "error", "W1": "hint"},
            "exclude": ["generated/"],
            "extend-exclude": ["*.draft.md"],
        },
        "erd-lsp.toml",
        "/proj",
    )
    assert c.rules == RuleSelection(frozenset({"E001", "E002", "W101"}), frozenset({"W102"}), frozenset({"E002"}))
    assert c.per_file_ignores == (("legacy/**", frozenset({"W101", "W102", "W900"})),)
    # the more specific key wins, whatever the order
    assert dict(c.severity) == {"W101": Severity.ERROR, "W102": Severity.HINT}
    assert c.excludes == ("generated/", "*.draft.md")
    assert enabled(c) == {"E001", "W101", "W102"}


def test_empty_mapping_is_the_defaults():
    c = settings_from_mapping({}, "x")
    assert enabled(c) == ALL
    assert c.excludes == DEFAULT_EXCLUDE
    assert c.settings_for("a.md").select is None  # all rules: the cheap, cacheable form


def test_unknown_key_is_an_error_naming_file_key_and_allowed_keys():
    with pytest.raises(ConfigError) as e:
        settings_from_mapping({"selct": ["E"]}, "pyproject.toml [tool.erd-lsp]")
    msg = str(e.value)
    assert msg.startswith("pyproject.toml [tool.erd-lsp]: unknown key `selct`")
    assert "did you mean `select`?" in msg
    assert all(k in msg for k in KEYS)


@pytest.mark.parametrize(
    "mapping, fragment",
    [
        ({"select": "E001"}, "`select` must be a list of strings, got \"E001\""),
        ({"ignore": [1]}, "`ignore` must be a list of strings"),
        ({"select": ["E999"]}, "unknown rule code `E999` in `select` (known codes: E001, E002, W101, W102, W900)"),
        ({"extend-select": ["nope"]}, "unknown rule code `nope` in `extend-select`"),
        ({"per-file-ignores": ["a"]}, "`per-file-ignores` must be a table"),
        ({"per-file-ignores": {"*.md": "W101"}}, '`per-file-ignores."*.md"` must be a list of strings'),
        ({"per-file-ignores": {"*.md": ["X1"]}}, 'unknown rule code `X1` in `per-file-ignores."*.md"`'),
        ({"severity": {"W101": "fatal"}}, '`severity.W101` must be one of "error", "warning", "info", "hint", got "fatal"'),
        ({"severity": {"Z9": "error"}}, "unknown rule code `Z9` in `severity.Z9`"),
        ({"severity": ["W101"]}, "`severity` must be a table"),
        ({"exclude": "build"}, "`exclude` must be a list of strings"),
    ],
)
def test_wrong_values_are_errors(mapping, fragment):
    with pytest.raises(ConfigError) as e:
        settings_from_mapping(mapping, "cfg.toml")
    assert str(e.value).startswith("cfg.toml: ")
    assert fragment in str(e.value)


def test_not_a_table():
    with pytest.raises(ConfigError, match="must be a table"):
        settings_from_mapping(["select"], "opts")


def test_parse_codes_prefixes_names_all():
    assert parse_codes(["e"], "x") == {"E001", "E002"}
    assert parse_codes(["conflict-marker, W10"], "x") == {"E002", "W101", "W102"}
    assert parse_codes(["ALL"], "x") == ALL
    with pytest.raises(ValueError, match="unknown rule code `Q` in --select"):
        parse_codes(["Q"], "--select")


# ---------------------------------------------------------------------------
# rule selection layers


def test_command_line_layer_overrides_the_file():
    c = settings_from_mapping({"select": ["E"], "ignore": ["E002"]}, "x")
    assert enabled(c) == {"E001"}
    assert enabled(c, cli=RuleSelection(select=frozenset({"W102"}))) == {"W102"}
    assert enabled(c, cli=RuleSelection(extend_select=frozenset({"W101"}))) == {"E001", "W101"}
    assert enabled(c, cli=RuleSelection(ignore=frozenset({"E001"}))) == set()


def test_per_file_ignores_are_relative_to_the_config_directory(tmp_path):
    c = settings_from_mapping(
        {"per-file-ignores": {"docs/legacy/**": ["W102"], "*.mmd": ["W101"], "notes.md": ["E"]}}, "x", str(tmp_path)
    )
    assert "W102" not in enabled(c, str(tmp_path / "docs" / "legacy" / "a" / "b.md"))
    assert "W102" in enabled(c, str(tmp_path / "docs" / "b.md"))
    assert "W101" not in enabled(c, str(tmp_path / "deep" / "x.mmd"))
    assert {"E001", "E002"} & enabled(c, str(tmp_path / "sub" / "notes.md")) == set()
    assert enabled(c, str(tmp_path / "other.md")) == ALL


def test_severity_reaches_the_settings():
    c = settings_from_mapping({"severity": {"W102": "error", "W": "info", "unused-suppression": "hint"}}, "x")
    s = c.settings_for("a.md")
    assert s.severity_of("W102", Severity.WARNING) == Severity.ERROR
    assert s.severity_of("W101", Severity.WARNING) == Severity.INFO
    assert s.severity_of("W900", Severity.WARNING) == Severity.HINT


# ---------------------------------------------------------------------------
# globs


@pytest.mark.parametrize(
    "pattern, path, is_dir, expected",
    [
        ("*.md", "a/b/c.md", False, True),
        ("*.md", "a/b/c.mmd", False, False),
        ("build", "x/build", True, True),
        ("build", "x/build/y.md", False, True),  # a name pattern matches any component
        ("build/", "x/build", False, False),  # dir-only
        ("build/", "x/build", True, True),
        ("build/", "x/build/y.md", False, True),
        ("docs/*.md", "docs/a.md", False, True),
        ("docs/*.md", "x/docs/a.md", False, False),  # anchored
        ("/docs", "docs/a/b.md", False, True),
        ("**/gen/*.md", "a/b/gen/x.md", False, True),
        ("**/gen/*.md", "gen/x.md", False, True),
        ("a/**", "a/b/c/d.md", False, True),
        ("[ab]?.md", "x/bc.md", False, True),
        ("[!ab]?.md", "x/bc.md", False, False),
    ],
)
def test_glob_match(pattern, path, is_dir, expected):
    assert glob_match(pattern, path, is_dir) is expected


def test_is_excluded_by_default_and_by_config(tmp_path):
    assert Config().is_excluded(str(tmp_path / "node_modules"), True)
    assert not Config().is_excluded(str(tmp_path / "docs"), True)
    c = settings_from_mapping({"exclude": ["docs/generated"]}, "x", str(tmp_path))
    assert c.is_excluded(str(tmp_path / "docs" / "generated"), True)
    assert not c.is_excluded(str(tmp_path / "node_modules"), True)  # `exclude` replaces the defaults


# ---------------------------------------------------------------------------
# files


def test_pyproject_needs_the_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    found = find_config_file(str(tmp_path))
    assert found is None or not found.startswith(str(tmp_path))  # an ancestor's, if any
    (tmp_path / "pyproject.toml").write_text("[tool.erd-lsp]\nignore = ['W102']\n")
    assert find_config_file(str(tmp_path)) == str(tmp_path / "pyproject.toml")
    c = load_config(str(tmp_path / "pyproject.toml"))
    assert c.rules.ignore == {"W102"} and c.root == str(tmp_path)


def test_file_precedence_in_one_directory(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.erd-lsp]\nignore = ['W101']\n")
    (tmp_path / "erd-lsp.toml").write_text("ignore = ['W102']\n")
    assert find_config_file(str(tmp_path)) == str(tmp_path / "erd-lsp.toml")
    (tmp_path / ".erd-lsp.toml").write_text("ignore = ['E001']\n")
    assert find_config_file(str(tmp_path)) == str(tmp_path / ".erd-lsp.toml")


def test_nearest_config_wins(tmp_path):
    (tmp_path / "erd-lsp.toml").write_text("ignore = ['W101']\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (tmp_path / "a" / "erd-lsp.toml").write_text("ignore = ['W102']\n")
    r = ConfigResolver()
    assert r.for_file(str(sub / "x.md")).rules.ignore == {"W102"}
    assert r.for_file(str(tmp_path / "y.md")).rules.ignore == {"W101"}
    assert r.for_dir(str(sub)) is r.for_dir(str(tmp_path / "a"))  # cached per directory


def test_config_option_and_isolated(tmp_path):
    (tmp_path / "erd-lsp.toml").write_text("ignore = ['W101']\n")
    other = tmp_path / "other.toml"
    other.write_text("ignore = ['E001']\n")
    assert ConfigResolver(str(other)).for_file(str(tmp_path / "x.md")).rules.ignore == {"E001"}
    assert ConfigResolver(isolated=True).for_file(str(tmp_path / "x.md")).rules.ignore == frozenset()
    with pytest.raises(ConfigError, match="cannot read"):
        ConfigResolver(str(tmp_path / "missing.toml"))
    bare = tmp_path / "pyproject.toml"
    bare.write_text("[project]\n")
    with pytest.raises(ConfigError, match=r"has no \[tool.erd-lsp\] table"):
        ConfigResolver(str(bare))


def test_invalid_toml_is_an_error(tmp_path):
    (tmp_path / "erd-lsp.toml").write_text("select = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        ConfigResolver().for_dir(str(tmp_path))


def test_error_names_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "erd-lsp.toml").write_text("colour = 1\n")
    with pytest.raises(ConfigError) as e:
        ConfigResolver().for_dir(str(tmp_path))
    assert str(e.value).startswith("erd-lsp.toml: unknown key `colour`")
