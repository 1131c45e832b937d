from erd_lsp.cli import main

raise SystemExit(main())
