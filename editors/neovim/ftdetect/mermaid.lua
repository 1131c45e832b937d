-- .mmd and .mermaid files are Mermaid diagrams.
vim.filetype.add({ extension = { mmd = 'mermaid', mermaid = 'mermaid' } })
