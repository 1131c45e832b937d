"""erd-lsp: a language server and CI checker for Mermaid entity-relationship diagrams."""

__version__ = "0.1.0"
