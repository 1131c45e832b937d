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
    assert all(HEADER.match(line) for line in out.splitlines()[:-1])
    check_snapshot("syntax_error_concise.out", out)


def test_full_and_concise_agree_on_headers(capsys):
    _, full, _ = run(capsys, "--check", SEED_000, SEED_003, SYNTAX_ERROR)
    _, concise, _ = run(capsys, "--check", "--output-format", "concise", SEED_000, SEED_003, SYNTAX_ERROR)
    assert [line for line in full.splitlines() if HEADER.match(line)] == concise.splitlines()[:-1]
    assert full.splitlines()[-1] == concise.splitlines()[-1]


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
    assert [line.split()[0] for line in lines[1:]] == ["E001", "E002", "W101", "W102"]
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
