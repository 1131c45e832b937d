from erd_lsp.entry import main

raise SystemExit(main())
