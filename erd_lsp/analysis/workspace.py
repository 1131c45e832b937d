"""A workspace: the documents the navigation features may look into.

:class:`Workspace` is a plain in-memory map from a key (the server uses URIs, the CLI
file paths) to a :class:`~erd_lsp.analysis.Document`. It does no I/O: whoever owns it
(the server, the CLI) reads files and hands their text to :meth:`Workspace.put`, for open
documents and for unopened files of the workspace alike. Documents parse lazily, so
indexing many files costs nothing until a feature looks into them.

Nothing here raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from erd_lsp.analysis import Document
from erd_lsp.syntax.hosts import HOST_KINDS, host_kind_for_path
from erd_lsp.text import TextRange

__all__ = ["Workspace", "Location"]


@dataclass(frozen=True)
class Location:
    """A range (host offsets) in the document stored under ``key``.

    For a document that is not in a workspace the key is its ``path`` (``""`` when it has
    none)."""

    key: str
    range: TextRange


class Workspace:
    """Documents by key. ``put`` replaces; the order of :meth:`documents` is by key."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def put(self, key: str, text: str, kind: Optional[str] = None) -> Document:
        """Store ``text`` under ``key`` and return its :class:`Document` (whose ``path`` is
        ``key``). ``kind`` is ``"mermaid"`` or ``"markdown"``; when omitted or unknown it
        is guessed from the key's suffix (``.md`` etc.), else ``"mermaid"``. Putting the
        same text and kind again keeps the existing document (and its parses)."""
        key = key if isinstance(key, str) else str(key)
        text = text if isinstance(text, str) else ""
        if kind not in HOST_KINDS:
            kind = host_kind_for_path(key) or "mermaid"
        old = self._docs.get(key)
        if old is not None and old.text == text and old.kind == kind:
            return old
        doc = Document(text, kind, key)
        self._docs[key] = doc
        return doc

    def put_document(self, key: str, document: Document) -> Document:
        """Store an existing document (e.g. one the server keeps up to date with
        :meth:`Document.edited`) under ``key``; its ``path`` is set to ``key``."""
        document.path = key
        self._docs[key] = document
        return document

    def remove(self, key: str) -> Optional[Document]:
        """Forget ``key``; return the document it held (None when absent)."""
        return self._docs.pop(key, None)

    def get(self, key: str) -> Optional[Document]:
        return self._docs.get(key)

    def keys(self) -> list[str]:
        return sorted(self._docs)

    def documents(self) -> list[Document]:
        """All documents, sorted by key."""
        return [self._docs[k] for k in sorted(self._docs)]

    def items(self) -> list[tuple[str, Document]]:
        """``(key, document)`` pairs, sorted by key."""
        return [(k, self._docs[k]) for k in sorted(self._docs)]

    def __contains__(self, key: object) -> bool:
        return key in self._docs

    def __len__(self) -> int:
        return len(self._docs)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())
