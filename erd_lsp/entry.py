"""The `erd-lsp` command's entry point: starts the language server without loading the
CLI (whose imports would slow the server's start-up), and hands everything else to
:func:`erd_lsp.cli.main`."""

from __future__ import annotations

import sys
from typing import Optional, Sequence

_SERVER_FORMS = ([], ["lsp"], ["--stdio"], ["lsp", "--stdio"])


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in _SERVER_FORMS:
        from erd_lsp.server import run_server

        return run_server() or 0
    from erd_lsp.cli import main as cli_main

    return cli_main(args)
