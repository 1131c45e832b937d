-- For nvim-lspconfig users (also works on Neovim 0.10): register erd-lsp as a custom server.
--   require('erd_lsp_lspconfig')  -- after putting this file on your runtimepath as lua/erd_lsp_lspconfig.lua
local configs = require('lspconfig.configs')
local util = require('lspconfig.util')
if not configs.erd_lsp then
  configs.erd_lsp = {
    default_config = {
      cmd = { 'erd-lsp' },
      filetypes = { 'mermaid', 'markdown' },
      root_dir = util.root_pattern('erd-lsp.toml', '.erd-lsp.toml', 'pyproject.toml', '.git'),
      single_file_support = true,
      init_options = {},
    },
    docs = { description = 'erd-lsp: Mermaid ER diagrams (erDiagram) in .mmd files and Markdown fences.' },
  }
end
require('lspconfig').erd_lsp.setup({})
