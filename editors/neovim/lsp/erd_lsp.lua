-- erd-lsp for Neovim 0.11+ (vim.lsp.config). Put this folder on your 'runtimepath'
-- (or copy this file to ~/.config/nvim/lsp/erd_lsp.lua) and call:
--   vim.lsp.enable('erd_lsp')
-- The server is started as `erd-lsp` (pip install erd-lsp); set `cmd` to change that,
-- e.g. vim.lsp.config('erd_lsp', { cmd = { '/path/to/venv/bin/python', '-m', 'erd_lsp' } }).
return {
  cmd = { 'erd-lsp' },
  filetypes = { 'mermaid', 'markdown' },
  root_markers = { 'erd-lsp.toml', '.erd-lsp.toml', 'pyproject.toml', '.git' },
  -- Settings the server reads at start-up (same keys as [tool.erd-lsp]).
  init_options = {},
}
